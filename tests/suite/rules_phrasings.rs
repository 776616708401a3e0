//! The rules provider reads prompts phrased the many ways people phrase them. One test
//! per prompt; each lists what the design must contain (see support/expect.rs).

use crate::expect;

use apiforge::design::validate;
use apiforge::provider::rules::RulesProvider;

fn run(prompt: &str, expectations: &[&str]) {
    let design = RulesProvider::new()
        .design(prompt)
        .unwrap_or_else(|e| panic!("{prompt:?} failed: {e}"));
    if let Err(e) = validate(&design) {
        panic!("{prompt:?} gave an invalid design: {e}");
    }
    let failures = expect::check(&design, expectations);
    assert!(
        failures.is_empty(),
        "{prompt:?}\n{}\n{}",
        failures.join("\n"),
        design.to_json_pretty()
    );
}

macro_rules! cases {
    ($($name:ident: $prompt:expr => [$($e:expr),* $(,)?];)*) => {
        $(
            #[test]
            fn $name() {
                run($prompt, &[$($e),*]);
            }
        )*
    };
}

cases! {
    with_list: "tasks with a title, a description and a due date" =>
        ["res:task=title,description,due_date", "type:task.due_date=date", "type:task.description=text", "required:task.title"];
    has_list: "A recipe has a name, cooking time in minutes and a difficulty (easy, medium, hard)." =>
        ["res:recipe=name,cooking_time_minutes,difficulty", "type:recipe.cooking_time_minutes=integer", "enum:recipe.difficulty=easy,medium,hard", "filter:recipe=difficulty"];
    each_x_has: "Each employee has a name, an email (unique), a salary and a hire date. Each employee belongs to a department." =>
        ["res:employee=name,email,salary,hire_date", "unique:employee.email", "type:employee.salary=decimal", "rel:employee>department=department_id", "res:department"];
    parentheses_lists: "Zoo API: animals (name, species, birth date, weight in kg) and enclosures (name, area in square meters)" =>
        ["res:animal=name,species,birth_date,weight_kg", "res:enclosure=name,area_square_meters", "unit:animal.weight_kg=kg", "type:animal.weight_kg=number", "title:Zoo API"];
    belongs_to_many_parents: "Courses (title, credits), students (name, email) and enrollments (grade A/B/C/D/F). Enrollments belong to a student and a course." =>
        ["rel:enrollment>student", "rel:enrollment>course", "enum:enrollment.grade=a,b,c,d,f", "type:course.credits=integer"];
    for_a: "a parking app: spots with number and level, and tickets with plate number and entered at for a spot" =>
        ["res:spot=number,level", "res:ticket=plate_number,entered_at", "rel:ticket>spot", "type:ticket.entered_at=date_time"];
    linking: "Students, courses, and enrollments linking students and courses" =>
        ["res:student", "res:course", "rel:enrollment>student", "rel:enrollment>course"];
    between_join: "memberships between users and groups, with a role (owner, member)" =>
        ["rel:membership>user", "rel:membership>group", "enum:membership.role=owner,member"];
    unique_optional_required: "users with a unique username, a required email and an optional phone number" =>
        ["unique:user.username", "required:user.email", "optional:user.phone_number", "type:user.phone_number=phone"];
    range_dash: "movies with title and rating (1-10)" =>
        ["range:movie.rating=1..10", "type:movie.rating=integer"];
    range_between: "products with name, discount percent between 0 and 100, and price" =>
        ["range:product.discount_percent=0..100"];
    range_from_to: "reviews with a score from 1 to 5 and a comment" =>
        ["range:review.score=1..5", "res:review=score,comment"];
    enum_slashes: "tickets with title and status open/in progress/closed" =>
        ["enum:ticket.status=open,in_progress,closed", "default:ticket.status=open"];
    enum_commas_or: "accounts with name and tier (free, pro or enterprise)" =>
        ["enum:account.tier=free,pro,enterprise"];
    enum_can_be: "orders with a total and a status which can be pending, shipped or delivered" =>
        ["enum:order.status=pending,shipped,delivered"];
    irregular_plurals: "people with name and age, and children with name and birthday" =>
        ["res:person=name,age", "res:child=name,birthday", "type:child.birthday=date"];
    ies_plurals: "categories with name, and companies with name and website" =>
        ["res:category=name", "res:company=name,website", "type:company.website=url"];
    multi_word_names: "A warehouse system: stock items (sku unique, name, quantity on hand) and purchase orders (order date, expected delivery date)" =>
        ["res:stock_item=sku,name,quantity_on_hand", "res:purchase_order=order_date,expected_delivery_date", "unique:stock_item.sku"];
    types_from_names: "contacts with email, phone, website, birthday, is vip, last contacted at, notes, latitude, longitude" =>
        ["type:contact.email=email", "type:contact.phone=phone", "type:contact.website=url", "type:contact.birthday=date", "type:contact.is_vip=boolean", "type:contact.last_contacted_at=date_time", "type:contact.notes=text", "range:contact.latitude=-90..90", "range:contact.longitude=-180..180"];
    explicit_types: "measurements with value as a decimal, taken at timestamp and tags (json)" =>
        ["type:measurement.value=decimal", "type:measurement.tags=json"];
    bare_entities: "an API for users, posts and comments" =>
        ["res:user=name,email", "res:post=title,body", "res:comment=body", "rel:comment>post", "unique:user.email"];
    bare_entity_single: "comments" =>
        ["res:comment=body", "count:1"];
    api_key_auth: "A notes API secured with an API key: notes with title and body" =>
        ["auth:api_key", "res:note=title,body", "title:Notes API"];
    jwt_auth: "Todo API with JWT auth. Todos with title and done flag" =>
        ["auth:jwt", "res:todo=title,done", "type:todo.done=boolean"];
    logged_in_users: "A forum where only logged-in users can create threads. Threads have a title and body." =>
        ["auth:jwt", "res:thread=title,body"];
    filters_search_sort: "Books with title, author, genre (fiction, poetry) and price. Let me filter books by genre, search by title and author, and sort by price." =>
        ["onlyfilter:book=genre", "search:book=title,author", "sort:book=price"];
    filter_by_parent: "Albums (title, year) and songs (title, duration in seconds). Songs belong to albums. Filter songs by album." =>
        ["onlyfilter:song=album_id", "type:song.duration_seconds=integer"];
    page_size: "Products with name and price. Paginate products with 50 per page." =>
        ["page:product=50..100"];
    inferred_filters: "Issues with title, severity (low, high), resolved flag, reporter email" =>
        ["onlyfilter:issue=severity,resolved", "search:issue=title"];
    garden_assigned: "plots with number; gardeners with name. A plot is assigned to a gardener." =>
        ["rel:plot>gardener"];
    has_many: "Authors have name and bio. An author has many books. Books have a title." =>
        ["rel:book>author", "res:author=name,bio", "res:book=title"];
    colon_fields: "Products: name, price, stock. Categories: name." =>
        ["res:product=name,price,stock", "res:category=name"];
    newline_list: "Pets API\npets with name, species and date of birth\nowners with name and phone\npets belong to owners" =>
        ["res:pet=name,species,date_of_birth", "res:owner=name,phone", "rel:pet>owner"];
    semicolons: "vehicles with plate (unique) and make; drivers with name and license number; trips with distance in km and fare for a vehicle" =>
        ["unique:vehicle.plate", "res:driver=name,license_number", "res:trip=distance_km,fare", "rel:trip>vehicle", "type:trip.fare=decimal"];
    defaults: "tasks with title, priority (low, normal, high) defaulting to normal and points default 1" =>
        ["default:task.priority=normal", "default:task.points=1"];
    max_length: "tweets with text max 280 characters and likes count" =>
        ["len:tweet.text=..280", "type:tweet.likes_count=integer"];
    title_from_app: "I need a simple REST API for a bakery with products (name, price) and orders (status pending/baking/ready)" =>
        ["title:Bakery API", "res:product=name,price", "enum:order.status=pending,baking,ready"];
    reserved_words_renamed: "classes with a name and a default flag" =>
        ["res:school_class=name,is_default"];
    many_resources: "School API: teachers (name, email), classrooms (number, capacity), subjects (name), lessons (starts at, ends at) for a classroom, grades (value between 1 and 6) for a student, students (name, birth date)" =>
        ["res:teacher=name,email", "res:classroom=number,capacity", "res:subject=name", "res:lesson=starts_at,ends_at", "rel:lesson>classroom", "res:student=name,birth_date", "range:grade.value=1..6"];
    owned_by: "cars with make and model, owned by a customer; customers with name" =>
        ["rel:car>customer"];
    optional_relation: "tasks with title. Tasks can belong to a project. Projects have a name." =>
        ["rel:task>project"];
    units_money: "subscriptions with plan (basic, premium) and monthly fee in usd" =>
        ["type:subscription.monthly_fee=decimal", "enum:subscription.plan=basic,premium"];
    json_fields: "webhooks with url, secret and metadata" =>
        ["type:webhook.url=url", "type:webhook.metadata=json"];
    has_many_via_field: "Build me a recipe API. Recipes have a name, prep time in minutes, servings and ingredients. Ingredients have a name and a quantity." =>
        ["res:recipe=name,prep_time_minutes,servings", "nofield:recipe.ingredients", "rel:ingredient>recipe", "type:recipe.prep_time_minutes=integer"];
    app_only_todo: "a todo app" =>
        ["res:todo=title,done", "title:Todo API"];
    app_only_blog: "a simple blog" =>
        ["res:post=title,body", "res:comment=body", "rel:comment>post"];
    colon_title_with_resources: "hotel bookings: rooms with number (unique), type (single/double/suite) and nightly rate; guests with name and email; bookings with check in date, check out date for a room and a guest" =>
        ["title:Hotel Bookings API", "unique:room.number", "enum:room.type=single,double,suite", "res:booking=check_in_date,check_out_date", "type:booking.check_in_date=date", "rel:booking>room", "rel:booking>guest", "count:3"];
    page_sizes: "products with a price and a name. Sort by price. 25 per page, at most 200 per page" =>
        ["page:product=25..200", "sort:product=price"];
    each_has_with_range: "I want an API to manage my book collection. Each book has a title, an author, a genre and a rating from 1 to 5." =>
        ["res:book=title,author,genre,rating", "range:book.rating=1..5"];
    held_at_and_linking: "event management: venues (name, address, capacity), events (title, date, ticket price) held at a venue, attendees (name, email) and tickets linking attendees and events" =>
        ["rel:event>venue", "rel:ticket>attendee", "rel:ticket>event", "type:event.ticket_price=decimal"];
    belong_after_fields: "Create a REST API for a library. It should manage books, authors and members. Members can borrow books; loans have a due date and a returned flag and belong to a book and a member." =>
        ["title:Library API", "res:book", "res:author", "res:member", "res:loan=due_date,returned", "rel:loan>book", "rel:loan>member", "count:4"];
    verb_before_noun: "Fitness tracker: users log workouts (type run/bike/swim, duration in minutes, distance in km, performed at). Only authenticated users can access it." =>
        ["res:workout=type,duration_minutes,distance_km,performed_at", "auth:jwt", "enum:workout.type=run,bike,swim", "count:1"];
    activity_title: "Expense tracking with categories (name unique) and expenses (amount, spent on, description, category). Let me filter expenses by category and sort them by amount." =>
        ["title:Expense Tracking API", "unique:category.name", "rel:expense>category", "onlyfilter:expense=category_id", "sort:expense=amount", "type:expense.spent_on=date"];
    belong_and_have: "Kanban board API: boards have a name; lists belong to boards and have a title and position; cards belong to lists with title, description, due date and labels" =>
        ["res:board=name", "res:list=title,position", "rel:list>board", "res:card=title,description,due_date,labels", "rel:card>list", "count:3"];
    sentences_add_up: "Books have a title. Books also have a price and a `published_on` date. Authors: name, country." =>
        ["res:book=title,price,published_on", "type:book.published_on=date", "res:author=name,country", "count:2"];
    sensible_fields_use_the_lexicon: "a movie database API with movies, actors and reviews, each with sensible fields; reviews belong to movies" =>
        ["title:Movie Database API", "res:movie=title", "res:actor=name", "res:review=rating,body", "rel:review>movie", "nofield:review.sensible_fields"];
    records_as_noun: "Track vehicles (plate, make, model, year) and maintenance records with date, mileage, cost and notes for each vehicle" =>
        ["res:vehicle=plate,make,model,year", "res:maintenance_record=date,mileage,cost,notes", "rel:maintenance_record>vehicle", "type:maintenance_record.mileage=integer"];
    slash_enum_with_default: "users (username unique required, password, role admin/editor/viewer default viewer, is active)" =>
        ["unique:user.username", "required:user.username", "enum:user.role=admin,editor,viewer", "default:user.role=viewer", "type:user.is_active=boolean"];
    uuid_fields: "devices with uuid (unique), name and last seen at" =>
        ["type:device.uuid=uuid", "type:device.last_seen_at=date_time"];
}

#[test]
fn optional_relation_is_optional() {
    let d = RulesProvider::new()
        .design("tasks with title. Tasks can belong to a project. Projects have a name.")
        .expect("designs");
    let rel = d
        .resource("task")
        .and_then(|t| t.relation_to("project"))
        .expect("task belongs to project");
    assert!(!rel.required);
}

#[test]
fn designs_are_deterministic() {
    let p = RulesProvider::new();
    let prompt = "Clinic: doctors (name), patients (name, phone) and visits (at, status booked/done); visits belong to doctors and patients";
    let a = p.design(prompt).expect("designs");
    let b = RulesProvider::new().design(prompt).expect("designs");
    assert_eq!(a.to_json_pretty(), b.to_json_pretty());
}
