//! Follow-up prompts applied to an existing design, and prompts the provider must
//! refuse with a clear message.

use crate::expect;

use apiforge::design::validate;
use apiforge::provider::rules::{RulesError, RulesProvider};

const BASE: &str = "Shop API: products (name, price, stock, notes) and orders (status pending/paid/shipped, customer email, total). Orders belong to customers. Customers have a name and an email.";

fn run(steps: &[&str], expectations: &[&str]) {
    let p = RulesProvider::new();
    let mut design = p
        .design(BASE)
        .unwrap_or_else(|e| panic!("base failed: {e}"));
    for step in steps {
        design = p.apply(&design, step).unwrap_or_else(|e| {
            panic!(
                "follow-up {step:?} failed: {e}\n{}",
                design.to_json_pretty()
            )
        });
        if let Err(e) = validate(&design) {
            panic!("{step:?} gave an invalid design: {e}");
        }
    }
    let failures = expect::check(&design, expectations);
    assert!(
        failures.is_empty(),
        "{steps:?}\n{}\n{}",
        failures.join("\n"),
        design.to_json_pretty()
    );
}

macro_rules! cases {
    ($($name:ident: [$($step:expr),* $(,)?] => [$($e:expr),* $(,)?];)*) => {
        $(
            #[test]
            fn $name() {
                run(&[$($step),*], &[$($e),*]);
            }
        )*
    };
}

cases! {
    add_field_to_resource: ["add a published year to products"] =>
        ["res:product=published_year", "type:product.published_year=integer"];
    add_several_fields: ["add a sku (unique) and a weight in kg to products"] =>
        ["unique:product.sku", "res:product=weight_kg"];
    add_field_and_filter: ["add a customer_email to orders and let me filter orders by status"] =>
        ["res:order=customer_email", "onlyfilter:order=status"];
    add_resource_with_fields: ["add reviews with rating (1-5) and body for products"] =>
        ["res:review=rating,body", "rel:review>product", "range:review.rating=1..5"];
    add_bare_resource: ["add categories"] =>
        ["res:category=name"];
    add_resource_as_own: ["add suppliers as their own resource that products belong to"] =>
        ["res:supplier=name", "rel:product>supplier"];
    remove_field: ["remove the notes field"] =>
        ["nofield:product.notes", "res:product=name,price"];
    remove_field_from: ["remove stock from products"] =>
        ["nofield:product.stock"];
    remove_resource: ["remove customers"] =>
        ["nores:customer", "norel:order>customer"];
    rename_field: ["rename notes to description"] =>
        ["res:product=description", "nofield:product.notes"];
    rename_resource: ["rename customers to clients"] =>
        ["res:client", "nores:customer", "rel:order>client=client_id"];
    make_required: ["make the price on products required"] =>
        ["required:product.price"];
    make_unique_and_required: ["make the name of products unique and required"] =>
        ["unique:product.name", "required:product.name"];
    should_be_unique: ["the email of customers should be unique"] =>
        ["unique:customer.email"];
    filter_request: ["let me filter products by stock"] =>
        ["onlyfilter:product=stock"];
    search_request: ["allow searching orders by customer email"] =>
        ["search:order=customer_email"];
    sort_request: ["sort products by price"] =>
        ["sort:product=price"];
    belong_to: ["products belong to categories"] =>
        ["rel:product>category", "res:category=name"];
    change_type: ["change price to an integer"] =>
        ["type:product.price=integer"];
    add_auth: ["secure it with an API key"] =>
        ["auth:api_key"];
    add_jwt: ["only logged-in users can place orders"] =>
        ["auth:jwt"];
    remove_auth: ["secure it with an API key", "remove the api key auth"] =>
        ["auth:none"];
    read_only: ["make products read-only"] =>
        ["readonly:product"];
    chained: ["add a due date to orders", "let me filter orders by customer", "remove the total field from orders"] =>
        ["res:order=due_date", "onlyfilter:order=customer_id", "nofield:order.total"];
}

#[test]
fn library_iteration_from_the_examples() {
    let p = RulesProvider::new();
    let mut d = p.design("Books with title and author").expect("designs");
    for step in [
        "add a published year to books",
        "let me filter books by author",
        "remove the author field and add authors as their own resource that books belong to",
    ] {
        d = p.apply(&d, step).unwrap_or_else(|e| panic!("{step}: {e}"));
    }
    let failures = expect::check(
        &d,
        &[
            "res:book=title,published_year",
            "nofield:book.author",
            "res:author=name",
            "rel:book>author",
            "onlyfilter:book=author_id",
        ],
    );
    assert!(failures.is_empty(), "{failures:?}");
}

#[test]
fn unknown_followup_is_a_clear_error() {
    let p = RulesProvider::new();
    let d = p.design(BASE).expect("designs");
    for text in ["hello there", "???", "the weather is nice"] {
        match p.apply(&d, text) {
            Err(RulesError::FollowupNotUnderstood { .. }) => {}
            other => panic!("{text:?}: expected FollowupNotUnderstood, got {other:?}"),
        }
    }
    let msg = p
        .apply(&d, "hello there")
        .map(|_| ())
        .expect_err("the follow-up is refused")
        .to_string();
    assert!(msg.contains("add a due date"), "{msg}");
}

#[test]
fn ambiguous_field_names_ask_which_resource() {
    let p = RulesProvider::new();
    let d = p.design(BASE).expect("designs");
    let err = p
        .apply(&d, "remove the name field")
        .map(|_| ())
        .expect_err("the follow-up is refused");
    let msg = err.to_string();
    assert!(matches!(err, RulesError::Ambiguous(_)), "{err:?}");
    assert!(msg.contains("product") && msg.contains("customer"), "{msg}");
}

#[test]
fn an_invalid_base_is_refused_with_its_problems() {
    let p = RulesProvider::new();
    let mut d = p.design(BASE).expect("designs");
    d.resources[0].fields[0].name = "Bad Name".into();
    let err = p
        .apply(&d, "add a colour to products")
        .map(|_| ())
        .expect_err("the follow-up is refused");
    assert!(matches!(err, RulesError::InvalidBase(_)), "{err:?}");
    assert!(err.to_string().contains("snake_case"), "{err}");
}

#[test]
fn bad_prompts_get_clear_errors() {
    let p = RulesProvider::new();
    let huge = "books with title. ".repeat(6000);
    let garbage: String = (0u32..3000)
        .map(|i| char::from_u32((i * 7919) % 0x2FFF + 1).unwrap_or('x'))
        .collect();
    let cases: [(&str, &str); 7] = [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("hello", "no resources"),
        (&huge, "characters long"),
        (
            "Une API pour gérer des livres, des auteurs et des éditeurs",
            "English",
        ),
        ("книги с названием и автором, авторы с именем", "English"),
        (&garbage, ""),
    ];
    for (prompt, needle) in cases {
        let err = match p.design(prompt) {
            Ok(d) => panic!(
                "{:?} should fail, got {}",
                &prompt.chars().take(40).collect::<String>(),
                d.to_json_pretty()
            ),
            Err(e) => e.to_string(),
        };
        assert!(err.contains(needle), "{err}");
        if needle != "English" && !needle.is_empty() {
            assert!(
                err.contains("for example"),
                "the error shows an example: {err}"
            );
        }
    }
}

#[test]
fn state_changes_become_actions() {
    use apiforge::design::{ActionBehavior, HttpMethod};
    let p = RulesProvider::new();
    let d = p
        .design("orders with total and status (pending, paid, shipped, cancelled). Orders can be cancelled.")
        .expect("designs");
    let a = d
        .actions
        .iter()
        .find(|a| a.name == "cancel_order")
        .expect("cancel action");
    assert_eq!(
        (a.method, a.path.as_str()),
        (HttpMethod::Post, "/orders/{id}/cancel")
    );
    assert!(
        matches!(&a.behavior, ActionBehavior::SetField { field, value, .. } if field == "status" && value == "cancelled")
    );
    let d = p.apply(&d, "let users ship orders").expect("applies");
    assert!(d.actions.iter().any(|a| a.name == "ship_order"));
    validate(&d).expect("valid");
    // No state for the verb: no action, and the follow-up is not understood.
    assert!(p.apply(&d, "allow archiving orders").is_err());
    let d = p
        .design("posts with title and published flag; posts can be published")
        .expect("designs");
    assert!(
        matches!(&d.actions[0].behavior, ActionBehavior::SetField { field, value, .. } if field == "published" && *value == serde_json::json!(true))
    );
}

/// Words that merely start with "auth" are fields, not authentication: "remove the
/// author field" once switched auth off and left the field in place.
#[test]
fn removing_an_author_field_is_not_about_auth() {
    let p = RulesProvider::new();
    let base = p
        .design("Books with title and author, secured with an API key")
        .expect("the base designs");
    assert!(matches!(
        base.auth,
        apiforge::design::AuthScheme::ApiKey { .. }
    ));
    for followup in [
        "remove the author field",
        "drop author from books",
        "delete the author column",
    ] {
        let next = p
            .apply(&base, followup)
            .unwrap_or_else(|e| panic!("{followup}: {e}"));
        let book = next.resource("book").expect("book");
        assert!(
            book.field("author").is_none(),
            "{followup}: author is still there"
        );
        assert!(book.field("title").is_some());
        assert_eq!(next.auth, base.auth, "{followup}: auth must not change");
    }
    let open = p
        .apply(&base, "remove the api key auth")
        .expect("auth can be removed");
    assert_eq!(open.auth, apiforge::design::AuthScheme::None);
}
