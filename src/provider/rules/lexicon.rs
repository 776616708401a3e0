//! What the rules provider knows without being told: sensible fields for common
//! entities, the parents they usually belong to, and field types from field names.

use crate::design::FieldType;

/// A common entity: the fields it gets when a prompt names it without fields (written
/// as field phrases, parsed like a prompt's own), and the resources it usually belongs
/// to when the prompt has them.
pub struct Entity {
    pub name: &'static str,
    pub fields: &'static [&'static str],
    pub parents: &'static [&'static str],
    /// A join entity belongs to every listed parent present, not just the first.
    pub join: bool,
}

const fn e(
    name: &'static str,
    fields: &'static [&'static str],
    parents: &'static [&'static str],
) -> Entity {
    Entity {
        name,
        fields,
        parents,
        join: false,
    }
}

const fn join(
    name: &'static str,
    fields: &'static [&'static str],
    parents: &'static [&'static str],
) -> Entity {
    Entity {
        name,
        fields,
        parents,
        join: true,
    }
}

pub const ENTITIES: &[Entity] = &[
    e("user", &["name", "email (unique, required)"], &[]),
    e("customer", &["name", "email (unique)", "phone"], &[]),
    e("client", &["name", "email", "phone"], &[]),
    e(
        "comment",
        &["body (required)"],
        &[
            "post", "article", "task", "issue", "ticket", "photo", "video", "recipe", "story",
        ],
    ),
    e(
        "post",
        &["title", "body", "published flag"],
        &["author", "user", "blog"],
    ),
    e(
        "article",
        &["title", "body", "published at"],
        &["author", "user"],
    ),
    e("story", &["title", "body"], &["author", "user"]),
    e(
        "product",
        &["name", "description", "price", "stock"],
        &["category", "supplier", "store"],
    ),
    e(
        "order",
        &[
            "status (pending, paid, shipped, delivered, cancelled)",
            "total",
        ],
        &["customer", "user"],
    ),
    join(
        "order_item",
        &["quantity (required)", "unit price"],
        &["order", "product"],
    ),
    join(
        "line_item",
        &["quantity (required)", "unit price"],
        &["order", "invoice", "product"],
    ),
    e("category", &["name (unique)"], &[]),
    e("tag", &["name (unique)"], &[]),
    e(
        "task",
        &["title", "done flag", "due date"],
        &["project", "list"],
    ),
    e(
        "todo",
        &["title", "done flag", "due date"],
        &["list", "project"],
    ),
    e("note", &["title", "body"], &["notebook", "folder"]),
    e(
        "book",
        &["title", "isbn (unique)", "published year"],
        &["author", "publisher"],
    ),
    e("author", &["name", "bio"], &[]),
    e("publisher", &["name", "country"], &[]),
    e(
        "review",
        &["rating (1-5)", "body"],
        &[
            "product",
            "book",
            "movie",
            "restaurant",
            "hotel",
            "place",
            "recipe",
            "course",
        ],
    ),
    e(
        "event",
        &["title", "starts at", "ends at", "location"],
        &["venue", "organizer"],
    ),
    e(
        "booking",
        &[
            "starts at",
            "ends at",
            "status (pending, confirmed, cancelled)",
        ],
        &["room", "customer", "guest", "user"],
    ),
    e(
        "reservation",
        &[
            "starts at",
            "party size",
            "status (pending, confirmed, cancelled)",
        ],
        &["restaurant", "room", "customer", "guest"],
    ),
    e(
        "appointment",
        &["starts at", "notes"],
        &["doctor", "patient", "customer", "client"],
    ),
    e(
        "employee",
        &["name", "email (unique)", "position"],
        &["department", "company"],
    ),
    e("department", &["name (unique)"], &["company"]),
    e("project", &["name", "description"], &["client", "team"]),
    e(
        "message",
        &["body (required)"],
        &["conversation", "channel", "thread", "room", "chat"],
    ),
    e("conversation", &["title"], &[]),
    e("channel", &["name (unique)"], &["team", "workspace"]),
    e(
        "invoice",
        &[
            "number (unique)",
            "issue date",
            "due date",
            "status (draft, sent, paid, overdue)",
            "total amount",
        ],
        &["client", "customer"],
    ),
    e(
        "payment",
        &["amount", "paid at"],
        &["invoice", "order", "customer"],
    ),
    e("supplier", &["name", "email", "phone"], &[]),
    e("item", &["name", "quantity"], &[]),
    e("student", &["name", "email (unique)"], &["school"]),
    e(
        "course",
        &["title", "description"],
        &["teacher", "instructor"],
    ),
    e("teacher", &["name", "email (unique)"], &["school"]),
    e("instructor", &["name", "email (unique)"], &[]),
    join("enrollment", &["enrolled at"], &["student", "course"]),
    join(
        "membership",
        &["joined at"],
        &["user", "member", "group", "team", "club"],
    ),
    e("lesson", &["title", "content"], &["course"]),
    e("room", &["name", "capacity"], &["hotel", "building"]),
    e("hotel", &["name", "address", "rating"], &[]),
    e("guest", &["name", "email", "phone"], &[]),
    e("movie", &["title", "release year", "genre"], &["director"]),
    e("song", &["title", "duration seconds"], &["album", "artist"]),
    e(
        "track",
        &["title", "duration seconds"],
        &["album", "artist", "playlist"],
    ),
    e("album", &["title", "release year"], &["artist"]),
    e("artist", &["name"], &[]),
    e("actor", &["name", "birth date"], &[]),
    e("director", &["name"], &[]),
    e("playlist", &["name"], &["user"]),
    e("photo", &["url (required)", "caption"], &["album", "user"]),
    e("image", &["url (required)", "caption"], &["album", "user"]),
    e("video", &["title", "url"], &["channel"]),
    e(
        "recipe",
        &["title", "instructions", "servings"],
        &["author", "user", "category"],
    ),
    e("ingredient", &["name", "quantity", "unit"], &["recipe"]),
    e("company", &["name", "website"], &[]),
    e("contact", &["name", "email", "phone"], &["company"]),
    e(
        "ticket",
        &[
            "title",
            "description",
            "status (open, in progress, closed)",
            "priority (low, medium, high)",
        ],
        &["project", "customer", "user"],
    ),
    e(
        "issue",
        &["title", "body", "status (open, closed)"],
        &["project", "repository"],
    ),
    e("question", &["title", "body"], &["user"]),
    e("answer", &["body (required)"], &["question"]),
    e(
        "vehicle",
        &["make", "model", "year", "license plate (unique)"],
        &["owner", "customer"],
    ),
    e(
        "car",
        &["make", "model", "year", "license plate (unique)"],
        &["owner", "customer"],
    ),
    e(
        "address",
        &["street", "city", "postal code", "country"],
        &["customer", "user"],
    ),
    e(
        "location",
        &["name", "address", "latitude", "longitude"],
        &[],
    ),
    e("venue", &["name", "address", "capacity"], &[]),
    e("place", &["name", "address", "latitude", "longitude"], &[]),
    e("team", &["name (unique)"], &["league", "organization"]),
    e("player", &["name"], &["team"]),
    e("patient", &["name", "date of birth", "phone"], &[]),
    e("doctor", &["name", "specialty"], &[]),
    e("account", &["name", "balance"], &["user", "customer"]),
    e(
        "transaction",
        &["amount", "occurred at", "description"],
        &["account"],
    ),
    e(
        "subscription",
        &["plan", "status (active, cancelled)", "started at"],
        &["customer", "user"],
    ),
    e("notification", &["message", "read flag"], &["user"]),
    e("document", &["name", "url"], &["folder", "project", "user"]),
    e("folder", &["name"], &[]),
    e("group", &["name (unique)"], &[]),
    e("member", &["name", "email"], &["group", "team", "club"]),
    e("warehouse", &["name", "location"], &[]),
    e(
        "shipment",
        &[
            "tracking number (unique)",
            "shipped at",
            "status (pending, shipped, delivered)",
        ],
        &["order"],
    ),
    e(
        "pet",
        &["name", "species", "birth date"],
        &["owner", "customer"],
    ),
    e("owner", &["name", "email", "phone"], &[]),
    e(
        "expense",
        &["amount", "spent on", "category", "description"],
        &["account", "user"],
    ),
    e("visitor", &["name", "email"], &[]),
    e("restaurant", &["name", "address", "cuisine"], &[]),
    e("store", &["name", "address"], &[]),
    e("organization", &["name (unique)"], &[]),
    e("workspace", &["name (unique)"], &[]),
    e("board", &["name"], &["project", "workspace"]),
    e(
        "card",
        &["title", "description", "position"],
        &["board", "list"],
    ),
    e("list", &["name"], &["board", "user"]),
    e(
        "habit",
        &["name", "frequency (daily, weekly, monthly)"],
        &["user"],
    ),
    e(
        "workout",
        &["name", "performed at", "duration minutes"],
        &["user"],
    ),
    e("exercise", &["name", "sets", "reps"], &["workout"]),
    e(
        "flight",
        &["flight number (unique)", "departs at", "arrives at"],
        &["airline"],
    ),
    e("airline", &["name (unique)"], &[]),
    e("passenger", &["name", "email"], &[]),
    e("driver", &["name", "phone"], &[]),
    e(
        "ride",
        &["pickup location", "dropoff location", "fare"],
        &["driver", "passenger"],
    ),
    e("course_module", &["title", "position"], &["course"]),
];

/// What a bare app description ("a simple blog", "a todo app") manages.
pub const APPS: &[(&str, &[&str])] = &[
    ("blog", &["posts", "comments"]),
    ("todo", &["todos"]),
    ("todos", &["todos"]),
    ("shop", &["products", "customers", "orders"]),
    ("webshop", &["products", "customers", "orders"]),
    ("store", &["products", "customers", "orders"]),
    ("bookstore", &["books", "authors"]),
    ("library", &["books", "authors", "members"]),
    ("forum", &["users", "posts", "comments"]),
    ("crm", &["companies", "contacts"]),
    ("inventory", &["products", "suppliers", "warehouses"]),
    ("notes", &["notes"]),
    ("bakery", &["products", "orders"]),
    ("clinic", &["doctors", "patients", "appointments"]),
    ("guestbook", &["messages"]),
    ("helpdesk", &["tickets", "comments"]),
    ("recipes", &["recipes", "ingredients"]),
    ("restaurant", &["dishes", "reservations"]),
];

pub fn entity(name: &str) -> Option<&'static Entity> {
    ENTITIES.iter().find(|e| e.name == name)
}

/// Words that name a field whose values come from a fixed list, so a parenthesised
/// list after them is an enum rather than a list of fields.
pub const ENUM_WORDS: &[&str] = &[
    "status",
    "state",
    "priority",
    "type",
    "kind",
    "category",
    "level",
    "role",
    "result",
    "gender",
    "size",
    "color",
    "colour",
    "mode",
    "visibility",
    "genre",
    "tier",
    "plan",
    "stage",
    "grade",
    "severity",
    "outcome",
    "condition",
    "frequency",
    "difficulty",
    "format",
    "language",
    "currency",
    "unit",
    "channel",
    "source",
    "method",
    "platform",
    "cuisine",
    "specialty",
    "position",
    "day",
    "weekday",
    "season",
    "shift",
    "phase",
    "rank",
];

/// Words that are fields in almost any resource; a parenthesised list containing them
/// lists fields rather than enum values.
pub const FIELD_WORDS: &[&str] = &[
    "name",
    "title",
    "email",
    "phone",
    "price",
    "description",
    "date",
    "notes",
    "body",
    "status",
    "address",
    "url",
    "quantity",
    "amount",
    "count",
    "stock",
    "rating",
    "age",
    "country",
    "city",
    "isbn",
    "content",
    "text",
    "summary",
    "bio",
    "year",
    "time",
    "number",
    "code",
    "sku",
    "website",
    "total",
    "cost",
    "type",
    "priority",
    "author",
    "owner",
    "category",
    "specialty",
    "reason",
    "subject",
    "capacity",
    "size",
    "weight",
    "duration",
    "location",
    "comment",
    "message",
    "username",
    "password",
    "score",
    "label",
    "color",
];

/// How confident a type guess from a name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guess {
    /// The name says nothing; plain string.
    Fallback,
    /// The name implies the type (`price`, `due_date`).
    Named,
}

/// Numeric bounds implied by a name (`price` is never negative).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Bounds {
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// The type a field name implies.
pub fn type_for_name(name: &str) -> (FieldType, Guess, Bounds) {
    use FieldType as T;
    let b = Bounds::default();
    let nonneg = Bounds {
        min: Some(0.0),
        max: None,
    };
    let last = name.rsplit('_').next().unwrap_or(name);
    let first = name.split('_').next().unwrap_or(name);
    let named = |t| (t, Guess::Named, b);
    let is = |set: &[&str]| set.contains(&name) || set.contains(&last);

    if matches!(name, "latitude" | "lat") || name.ends_with("_latitude") {
        return (
            T::Number,
            Guess::Named,
            Bounds {
                min: Some(-90.0),
                max: Some(90.0),
            },
        );
    }
    if matches!(name, "longitude" | "lng" | "lon" | "long") || name.ends_with("_longitude") {
        return (
            T::Number,
            Guess::Named,
            Bounds {
                min: Some(-180.0),
                max: Some(180.0),
            },
        );
    }
    if is(&["percent", "percentage"]) {
        return (
            T::Number,
            Guess::Named,
            Bounds {
                min: Some(0.0),
                max: Some(100.0),
            },
        );
    }
    if is(&["email", "mail"]) || name == "e_mail" {
        return named(T::Email);
    }
    if is(&[
        "url",
        "website",
        "homepage",
        "link",
        "avatar",
        "thumbnail",
        "permalink",
    ]) || name == "image"
        || name.ends_with("_image")
        || name == "photo"
    {
        return named(T::Url);
    }
    if is(&["phone", "telephone", "mobile", "fax"])
        || name.ends_with("phone_number")
        || name == "cell"
    {
        return named(T::Phone);
    }
    if is(&["uuid", "guid"]) {
        return named(T::Uuid);
    }
    if first == "is" || first == "has" || first == "can" || last == "flag" {
        return named(T::Boolean);
    }
    if matches!(
        name,
        "active"
            | "enabled"
            | "completed"
            | "complete"
            | "done"
            | "published"
            | "confirmed"
            | "verified"
            | "archived"
            | "available"
            | "visible"
            | "approved"
            | "paid"
            | "featured"
            | "deleted"
            | "hidden"
            | "read"
            | "pinned"
            | "locked"
            | "blocked"
            | "finished"
            | "resolved"
            | "checked"
            | "subscribed"
            | "in_stock"
            | "vegetarian"
            | "vegan"
            | "shipped"
            | "cancelled"
            | "canceled"
            | "starred"
            | "favorite"
            | "favourite"
            | "open"
            | "online"
            | "urgent"
            | "returned"
            | "accepted"
    ) {
        return named(T::Boolean);
    }
    if last == "at" || name == "timestamp" || name.ends_with("_timestamp") || name == "deadline" {
        return named(T::DateTime);
    }
    if last == "time" && name != "time" {
        return named(T::DateTime);
    }
    if name == "time" {
        return named(T::Time);
    }
    if last == "date"
        || last == "on"
        || matches!(
            name,
            "birthday" | "birthdate" | "dob" | "date_of_birth" | "due" | "day"
        )
        || name.starts_with("date_of_")
    {
        return named(T::Date);
    }
    if is(&[
        "price", "cost", "amount", "total", "subtotal", "fee", "salary", "balance", "budget",
        "revenue", "tax", "rate", "wage", "fare", "payment", "deposit", "income", "expense", "tip",
        "charge", "refund",
    ]) {
        return (T::Decimal, Guess::Named, nonneg);
    }
    if is(&[
        "count",
        "quantity",
        "qty",
        "stock",
        "age",
        "capacity",
        "seats",
        "pages",
        "servings",
        "sets",
        "reps",
        "inventory",
        "credits",
        "copies",
        "guests",
        "beds",
        "rooms",
        "floors",
        "mileage",
        "odometer",
    ]) {
        return (T::Integer, Guess::Named, nonneg);
    }
    if is(&[
        "year",
        "number",
        "position",
        "score",
        "points",
        "votes",
        "likes",
        "views",
        "rating",
        "minutes",
        "seconds",
        "hours",
        "days",
        "weeks",
        "months",
        "years",
        "duration",
        "floor",
        "ranking",
        "priority_level",
        "level_number",
        "num",
        "stars",
        "attempts",
        "goals",
    ]) && !(last == "number" && name != "number" && !name.starts_with("number_of"))
    {
        return named(T::Integer);
    }
    if first == "num" || name.starts_with("number_of_") {
        return (T::Integer, Guess::Named, nonneg);
    }
    if is(&[
        "weight",
        "height",
        "width",
        "length",
        "depth",
        "distance",
        "area",
        "volume",
        "temperature",
        "ratio",
        "speed",
        "size",
        "kg",
        "km",
        "meters",
        "grams",
        "miles",
        "altitude",
        "elevation",
        "bmi",
    ]) {
        return named(T::Number);
    }
    if is(&[
        "description",
        "notes",
        "note",
        "body",
        "content",
        "bio",
        "summary",
        "comment",
        "text",
        "message",
        "details",
        "instructions",
        "biography",
        "about",
        "abstract",
        "excerpt",
        "remarks",
        "feedback",
        "answer",
        "question",
        "review",
        "caption",
        "reason",
        "transcript",
        "lyrics",
        "directions",
    ]) && !matches!(name, "reason_code")
    {
        // A short reason is still text: it is free-form.
        return named(T::Text);
    }
    if is(&[
        "metadata",
        "meta",
        "settings",
        "attributes",
        "payload",
        "config",
        "configuration",
        "properties",
        "preferences",
        "extra",
        "json",
    ]) {
        return named(T::Json);
    }
    (T::String, Guess::Fallback, b)
}

/// Names that carry a resource's identity and so are required unless told otherwise.
pub fn is_key_field(name: &str) -> bool {
    matches!(
        name,
        "name" | "title" | "subject" | "full_name" | "username" | "headline" | "label"
    )
}

/// Text fields worth searching with `?q=`.
pub fn is_search_field(name: &str) -> bool {
    let last = name.rsplit('_').next().unwrap_or(name);
    matches!(
        last,
        "name" | "title" | "subject" | "headline" | "label" | "username"
    )
}

/// Type words a person may write explicitly ("price as decimal", "age (integer)").
pub fn explicit_type(word: &str) -> Option<FieldType> {
    use FieldType as T;
    Some(match word {
        "string" | "str" | "varchar" => T::String,
        "text" | "longtext" => T::Text,
        "integer" | "int" | "whole" => T::Integer,
        "float" | "double" | "real" | "number" | "numeric" => T::Number,
        "decimal" | "money" | "currency" => T::Decimal,
        "boolean" | "bool" | "flag" | "checkbox" => T::Boolean,
        "date" => T::Date,
        "datetime" | "timestamp" | "date_time" => T::DateTime,
        "time" => T::Time,
        "email" => T::Email,
        "url" | "uri" | "link" => T::Url,
        "phone" => T::Phone,
        "uuid" | "guid" => T::Uuid,
        "json" | "object" => T::Json,
        _ => return None,
    })
}

/// How a unit of measure shapes a field: measures name themselves ("weight in kg" is
/// `weight_kg`, so the number's scale is in its name); money and temperature are the
/// quantity itself ("price in EUR" is `price`, "temperature °C" is `temperature`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitKind {
    Measure,
    Currency,
    Temperature,
}

/// The kind of unit `word` names, for units written as words, abbreviations or (after
/// [`super::text::normalise`]) symbols. Single letters are left out: in prose "s",
/// "l" or "m" are far more often something else.
pub fn unit_kind(word: &str) -> Option<UnitKind> {
    use UnitKind::*;
    Some(match word {
        "usd" | "eur" | "gbp" | "jpy" | "chf" | "cad" | "aud" | "nzd" | "sek" | "nok" | "dkk"
        | "inr" | "cny" | "dollars" | "dollar" | "euros" | "euro" | "$" => Currency,
        "degc" | "degf" | "deg" | "celsius" | "fahrenheit" | "kelvin" | "degrees" => Temperature,
        "mm" | "cm" | "km" | "metres" | "meters" | "metre" | "meter" | "millimetres"
        | "millimeters" | "centimetres" | "centimeters" | "kilometres" | "kilometers"
        | "inches" | "inch" | "ft" | "feet" | "miles" | "mi" | "yards" | "mg" | "kg" | "kgs"
        | "grams" | "gram" | "kilograms" | "kilos" | "lb" | "lbs" | "oz" | "ounces" | "tonnes"
        | "tons" | "ml" | "cl" | "dl" | "litres" | "liters" | "litre" | "liter" | "gallons"
        | "cc" | "ms" | "milliseconds" | "secs" | "seconds" | "mins" | "minutes" | "hrs"
        | "hours" | "days" | "weeks" | "months" | "kw" | "kwh" | "wh" | "mw" | "mwh" | "watts"
        | "volts" | "amps" | "kb" | "mb" | "gb" | "tb" | "bytes" | "bits" | "m2" | "m3" | "sqm"
        | "sqft" | "hectares" | "ha" | "acres" | "kcal" | "calories" | "bpm" | "rpm" | "mph"
        | "kmh" | "kph" | "knots" | "percent" | "pct" => Measure,
        _ => return None,
    })
}

/// The type a unit of measure implies when the name implies none.
pub fn type_for_unit(unit: &str) -> FieldType {
    let last = unit.rsplit(' ').next().unwrap_or(unit);
    match last {
        "usd" | "eur" | "gbp" | "dollars" | "euros" | "dollar" | "euro" | "chf" | "jpy" | "yen" => {
            FieldType::Decimal
        }
        "cents" | "seconds" | "minutes" | "hours" | "days" | "weeks" | "months" | "years"
        | "pages" | "people" | "persons" | "items" | "points" => FieldType::Integer,
        _ => FieldType::Number,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_imply_types() {
        use FieldType as T;
        for (name, ty) in [
            ("email", T::Email),
            ("contact_email", T::Email),
            ("price", T::Decimal),
            ("hourly_rate", T::Decimal),
            ("total_cost", T::Decimal),
            ("stock", T::Integer),
            ("due_date", T::Date),
            ("date_of_birth", T::Date),
            ("sent_at", T::DateTime),
            ("start_time", T::DateTime),
            ("is_active", T::Boolean),
            ("completed", T::Boolean),
            ("serial_number", T::String),
            ("vat_number", T::String),
            ("number", T::Integer),
            ("published_year", T::Integer),
            ("phone", T::Phone),
            ("website", T::Url),
            ("notes", T::Text),
            ("latitude", T::Number),
            ("title", T::String),
        ] {
            assert_eq!(type_for_name(name).0, ty, "{name}");
        }
    }

    #[test]
    fn lexicon_names_are_snake_case() {
        for e in ENTITIES {
            assert!(crate::design::validate::is_snake_case(e.name), "{}", e.name);
        }
    }
}
