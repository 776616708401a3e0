//! `validate` reports every problem at once, each with a readable path and a sentence.

use apiforge::design::{
    Action, ActionBehavior, ActionOutput, ApiDesign, AuthScheme, Field, FieldType, HttpMethod,
    OnDelete, Relation, Resource, validate,
};
use serde_json::json;

/// A small valid design: authors and books, a cancel-like action.
fn base() -> ApiDesign {
    let mut d = ApiDesign::new("Library API");
    let mut author = Resource::new("author", "authors");
    let mut name = Field::new("name", FieldType::String);
    name.required = true;
    author.fields.push(name);
    let mut book = Resource::new("book", "books");
    book.fields.push(Field::new("title", FieldType::String));
    let mut price = Field::new("price", FieldType::Decimal);
    price.min = Some(0.0);
    book.fields.push(price);
    let mut status = Field::new("status", FieldType::Enum);
    status.enum_values = vec!["draft".into(), "published".into()];
    status.default = Some(json!("draft"));
    book.fields.push(status);
    book.fields.push(Field::new("notes", FieldType::Text));
    book.fields.push(Field::new("meta", FieldType::Json));
    book.relations.push(Relation {
        target: "author".into(),
        field: "author_id".into(),
        required: true,
        on_delete: OnDelete::Restrict,
    });
    if let Some(list) = &mut book.operations.list {
        list.filters = vec!["status".into(), "author_id".into()];
        list.search = vec!["title".into()];
        list.sort = vec!["price".into()];
    }
    d.resources = vec![author, book];
    d.actions.push(Action {
        name: "publish_book".into(),
        method: HttpMethod::Post,
        path: "/books/{id}/publish".into(),
        summary: "Publish a book".into(),
        resource: Some("book".into()),
        input: vec![],
        output: ActionOutput::Resource,
        behavior: ActionBehavior::SetField {
            field: "status".into(),
            value: json!("published"),
            from: vec![json!("draft")],
        },
    });
    d
}

fn book(d: &mut ApiDesign) -> &mut Resource {
    d.resource_mut("book").expect("base has books")
}

fn field<'a>(d: &'a mut ApiDesign, name: &str) -> &'a mut Field {
    book(d).field_mut(name).expect("base book has the field")
}

type Mutation = fn(&mut ApiDesign);

/// (what is broken, the mutation, the path reported, a fragment of the message).
const CASES: &[(&str, Mutation, &str, &str)] = &[
    (
        "schema version",
        |d| d.schema_version = 9,
        "schema_version",
        "reads version 1",
    ),
    (
        "empty title",
        |d| d.title = " ".into(),
        "title",
        "title is empty",
    ),
    (
        "bad version",
        |d| d.version = "one".into(),
        "version",
        "semantic version",
    ),
    (
        "not snake case",
        |d| field(d, "notes").name = "Notes".into(),
        "resources.book.fields[3].name",
        "snake_case",
    ),
    (
        "reserved implicit",
        |d| field(d, "notes").name = "created_at".into(),
        "resources.book.fields.created_at.name",
        "every resource already has",
    ),
    (
        "python keyword",
        |d| field(d, "notes").name = "class".into(),
        "resources.book.fields.class.name",
        "use `category` instead",
    ),
    (
        "js reserved",
        |d| field(d, "notes").name = "default".into(),
        "resources.book.fields.default.name",
        "use `is_default` instead",
    ),
    (
        "duplicate field",
        |d| field(d, "notes").name = "title".into(),
        "resources.book.fields.title.name",
        "appears more than once",
    ),
    (
        "duplicate resource",
        |d| d.resources[0].name = "book".into(),
        "resources.book.name",
        "used by resources 0 and 1",
    ),
    (
        "duplicate plural",
        |d| d.resources[0].plural = "books".into(),
        "resources.book.plural",
        "cannot share the path /books",
    ),
    (
        "plural health",
        |d| d.resources[0].plural = "health".into(),
        "resources.author.plural",
        "/health",
    ),
    (
        "schema clash",
        |d| d.resources[0].name = "book_list".into(),
        "resources.book.name",
        "BookList",
    ),
    (
        "enum without values",
        |d| {
            field(d, "status").enum_values.clear();
            field(d, "status").default = None;
        },
        "resources.book.fields.status.enum_values",
        "enum without values",
    ),
    (
        "values without enum",
        |d| field(d, "title").enum_values = vec!["a".into()],
        "resources.book.fields.title.enum_values",
        "set the type to enum",
    ),
    (
        "duplicate enum value",
        |d| field(d, "status").enum_values.push("draft".into()),
        "resources.book.fields.status.enum_values[2]",
        "twice",
    ),
    (
        "empty enum value",
        |d| field(d, "status").enum_values.push(String::new()),
        "resources.book.fields.status.enum_values[2]",
        "empty enum value",
    ),
    (
        "bounds on text",
        |d| field(d, "title").min = Some(1.0),
        "resources.book.fields.title.min",
        "numeric bounds apply only",
    ),
    (
        "length on number",
        |d| field(d, "price").max_length = Some(3),
        "resources.book.fields.price.max_length",
        "lengths and patterns apply only",
    ),
    (
        "min above max",
        |d| {
            field(d, "price").min = Some(10.0);
            field(d, "price").max = Some(5.0);
        },
        "resources.book.fields.price.min",
        "min 10 greater than max 5",
    ),
    (
        "min_length above max_length",
        |d| {
            field(d, "title").min_length = Some(9);
            field(d, "title").max_length = Some(2);
        },
        "resources.book.fields.title.min_length",
        "greater than max_length 2",
    ),
    (
        "bad pattern",
        |d| field(d, "title").pattern = Some("([a-z".into()),
        "resources.book.fields.title.pattern",
        "does not compile",
    ),
    (
        "default wrong type",
        |d| field(d, "price").default = Some(json!("cheap")),
        "resources.book.fields.price.default",
        "not a valid decimal value",
    ),
    (
        "default out of bounds",
        |d| field(d, "price").default = Some(json!(-1)),
        "resources.book.fields.price.default",
        "below the minimum 0",
    ),
    (
        "default not an enum value",
        |d| field(d, "status").default = Some(json!("gone")),
        "resources.book.fields.status.default",
        "not one of its values",
    ),
    (
        "default bad date",
        |d| {
            field(d, "title").ty = FieldType::Date;
            field(d, "title").default = Some(json!("2024-02-30"));
        },
        "resources.book.fields.title.default",
        "not a valid date value",
    ),
    (
        "default too long",
        |d| {
            field(d, "title").max_length = Some(2);
            field(d, "title").default = Some(json!("abc"));
        },
        "resources.book.fields.title.default",
        "longer than max_length 2",
    ),
    (
        "missing relation target",
        |d| book(d).relations[0].target = "writer".into(),
        "resources.book.relations.author_id.target",
        "does not exist",
    ),
    (
        "fk collides with field",
        |d| book(d).relations[0].field = "title".into(),
        "resources.book.relations.title.field",
        "collides",
    ),
    (
        "duplicate fk",
        |d| {
            let r = book(d).relations[0].clone();
            book(d).relations.push(r);
        },
        "resources.book.relations.author_id.field",
        "used by two relations",
    ),
    (
        "set_null on required",
        |d| book(d).relations[0].on_delete = OnDelete::SetNull,
        "resources.book.relations.author_id.on_delete",
        "needs an optional relation",
    ),
    (
        "required self relation",
        |d| {
            book(d).relations.push(Relation {
                target: "book".into(),
                field: "parent_id".into(),
                required: true,
                on_delete: OnDelete::Restrict,
            })
        },
        "resources.book.relations.parent_id.required",
        "belongs to itself",
    ),
    (
        "filter on unknown field",
        |d| {
            book(d)
                .operations
                .list
                .as_mut()
                .expect("list")
                .filters
                .push("genre".into())
        },
        "resources.book.operations.list.filters[2]",
        "names no field",
    ),
    (
        "filter named limit",
        |d| {
            book(d).fields.push(Field::new("limit", FieldType::Integer));
            book(d)
                .operations
                .list
                .as_mut()
                .expect("list")
                .filters
                .push("limit".into());
        },
        "resources.book.operations.list.filters[2]",
        "collides with the list query parameter",
    ),
    (
        "filter on json",
        |d| {
            book(d)
                .operations
                .list
                .as_mut()
                .expect("list")
                .filters
                .push("meta".into())
        },
        "resources.book.operations.list.filters[2]",
        "json field",
    ),
    (
        "search on a number",
        |d| {
            book(d)
                .operations
                .list
                .as_mut()
                .expect("list")
                .search
                .push("price".into())
        },
        "resources.book.operations.list.search[1]",
        "searches text",
    ),
    (
        "search on fk",
        |d| {
            book(d)
                .operations
                .list
                .as_mut()
                .expect("list")
                .search
                .push("author_id".into())
        },
        "resources.book.operations.list.search[1]",
        "names no field",
    ),
    (
        "sort on unknown",
        |d| {
            book(d)
                .operations
                .list
                .as_mut()
                .expect("list")
                .sort
                .push("rank".into())
        },
        "resources.book.operations.list.sort[1]",
        "names no field",
    ),
    (
        "page size zero",
        |d| {
            book(d)
                .operations
                .list
                .as_mut()
                .expect("list")
                .default_page_size = 0
        },
        "resources.book.operations.list.default_page_size",
        "between 1 and 1000",
    ),
    (
        "page size too big",
        |d| {
            book(d)
                .operations
                .list
                .as_mut()
                .expect("list")
                .max_page_size = 5000
        },
        "resources.book.operations.list.max_page_size",
        "between 1 and 1000",
    ),
    (
        "default above max page",
        |d| {
            book(d)
                .operations
                .list
                .as_mut()
                .expect("list")
                .default_page_size = 200
        },
        "resources.book.operations.list.default_page_size",
        "larger than max_page_size",
    ),
    (
        "action bad name",
        |d| d.actions[0].name = "Publish".into(),
        "actions[0].name",
        "snake_case",
    ),
    (
        "action name clashes with crud",
        |d| d.actions[0].name = "create_book".into(),
        "actions.create_book.name",
        "operationId",
    ),
    (
        "action path without slash",
        |d| d.actions[0].path = "books/{id}/publish".into(),
        "actions.publish_book.path",
        "must start with `/`",
    ),
    (
        "action id without resource",
        |d| {
            d.actions[0].resource = None;
            d.actions[0].output = ActionOutput::Empty;
            d.actions[0].behavior = ActionBehavior::NotImplemented;
        },
        "actions.publish_book.path",
        "names no resource",
    ),
    (
        "action other parameter",
        |d| d.actions[0].path = "/books/{slug}/publish".into(),
        "actions.publish_book.path",
        "only `{id}`",
    ),
    (
        "action collides with crud",
        |d| {
            d.actions[0].path = "/books/{id}".into();
            d.actions[0].method = HttpMethod::Delete;
        },
        "actions.publish_book.path",
        "already served by the delete operation of `book`",
    ),
    (
        "action set unknown field",
        |d| {
            d.actions[0].behavior = ActionBehavior::SetField {
                field: "state".into(),
                value: json!("x"),
                from: vec![],
            }
        },
        "actions.publish_book.behavior.field",
        "does not have",
    ),
    (
        "action set invalid value",
        |d| {
            d.actions[0].behavior = ActionBehavior::SetField {
                field: "status".into(),
                value: json!("lost"),
                from: vec![],
            }
        },
        "actions.publish_book.behavior.value",
        "not one of its values",
    ),
    (
        "action unknown resource",
        |d| d.actions[0].resource = Some("shelf".into()),
        "actions.publish_book.resource",
        "does not exist",
    ),
    (
        "duplicate action",
        |d| {
            let a = d.actions[0].clone();
            d.actions.push(a);
        },
        "actions.publish_book.name",
        "used twice",
    ),
    (
        "custom without body",
        |d| {
            d.actions[0].behavior = ActionBehavior::Custom {
                fastapi: None,
                express: Some(" ".into()),
            }
        },
        "actions.publish_book.behavior",
        "no handler body",
    ),
    (
        "bad env var",
        |d| {
            d.auth = AuthScheme::BearerJwt {
                env_var: "jwt secret".into(),
            }
        },
        "auth.env_var",
        "not valid",
    ),
    (
        "taken env var",
        |d| {
            d.auth = AuthScheme::ApiKey {
                header: "X-API-Key".into(),
                env_var: "APIFORGE_DB".into(),
            }
        },
        "auth.env_var",
        "already used",
    ),
    (
        "bad header",
        |d| {
            d.auth = AuthScheme::ApiKey {
                header: "X API Key".into(),
                env_var: "API_KEY".into(),
            }
        },
        "auth.header",
        "not a valid HTTP header name",
    ),
    (
        "no resources",
        |d| {
            d.resources.clear();
            d.actions.clear();
        },
        "resources",
        "no resources",
    ),
];

#[test]
fn the_base_design_is_valid() {
    if let Err(e) = validate(&base()) {
        panic!("{e}");
    }
}

#[test]
fn each_kind_of_problem_is_reported_with_its_path() {
    let mut failures = Vec::new();
    for (what, mutate, path, fragment) in CASES {
        let mut d = base();
        mutate(&mut d);
        match validate(&d) {
            Ok(()) => failures.push(format!("{what}: accepted")),
            Err(e) => {
                if !e
                    .issues
                    .iter()
                    .any(|i| i.path == *path && i.message.contains(fragment))
                {
                    failures.push(format!("{what}: expected {path}: …{fragment}…, got\n{e}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_problem_is_reported_at_once() {
    let mut d = base();
    field(&mut d, "price").min = Some(10.0);
    field(&mut d, "price").max = Some(5.0);
    field(&mut d, "title").pattern = Some("(".into());
    book(&mut d).relations[0].target = "writer".into();
    d.actions[0].path = "nope".into();
    d.auth = AuthScheme::BearerJwt {
        env_var: "x".into(),
    };
    let e = validate(&d).expect_err("five problems");
    assert_eq!(e.issues.len(), 5, "{e}");
    let text = e.to_string();
    assert!(text.starts_with("the design has 5 problems:"), "{text}");
    assert_eq!(
        text.lines().filter(|l| l.starts_with("  - ")).count(),
        5,
        "{text}"
    );
    assert!(
        text.contains("field `price` has min 10 greater than max 5"),
        "{text}"
    );
}

#[test]
fn a_json_design_with_every_kind_of_error_is_readable() {
    let text = r#"{
        "schema_version": 2, "title": "", "version": "x",
        "auth": {"kind": "api_key", "header": "bad header", "env_var": "lower"},
        "resources": [
            {"name": "Book", "plural": "books", "fields": [
                {"name": "id", "type": "string"},
                {"name": "price", "type": "integer", "min": 5, "max": 1, "default": "x"},
                {"name": "state", "type": "enum"}],
             "relations": [{"target": "nobody", "field": "nobody_id", "on_delete": "set_null"}],
             "operations": {"list": {"default_page_size": 0, "filters": ["q"], "search": ["price"]}}}
        ],
        "actions": [{"name": "go", "method": "GET", "path": "go"}]
    }"#;
    let d: ApiDesign = serde_json::from_str(text).expect("the shape is right, the content wrong");
    let e = validate(&d).expect_err("many problems");
    assert!(e.issues.len() >= 14, "{e}");
    let shown = e.to_string();
    for issue in &e.issues {
        assert!(shown.contains(&format!("  - {}: {}", issue.path, issue.message)));
    }
    for path in [
        "schema_version",
        "title",
        "version",
        "auth.header",
        "auth.env_var",
        "resources[0].name",
        "resources[0].fields.id.name",
        "resources[0].fields.price.min",
        "resources[0].fields.price.default",
        "resources[0].relations.nobody_id.target",
        "resources[0].operations.list.filters[0]",
        "resources[0].operations.list.search[0]",
        "actions.go.path",
    ] {
        assert!(
            e.issues.iter().any(|i| i.path == path),
            "no issue at {path}:\n{e}"
        );
    }
}
