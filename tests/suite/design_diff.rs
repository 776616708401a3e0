//! `diff` finds each structural change and marks it breaking or not.

use apiforge::design::{
    ApiDesign, AuthScheme, ChangeKind, DesignDiff, Field, FieldType, OnDelete, Relation, diff,
    validate,
};
use apiforge::provider::rules::RulesProvider;
use serde_json::json;

fn base() -> ApiDesign {
    RulesProvider::new()
        .design("Shop API: products (name, price, stock, notes, size (small, medium, large)) and orders (status pending/paid/shipped, total). Orders belong to customers. Customers have a name and an email.")
        .expect("base designs")
}

fn product(d: &mut ApiDesign) -> &mut apiforge::design::Resource {
    d.resource_mut("product").expect("products exist")
}

fn field<'a>(d: &'a mut ApiDesign, name: &str) -> &'a mut Field {
    product(d).field_mut(name).expect("field exists")
}

type Mutation = fn(&mut ApiDesign);

/// (the change, mutation, path expected, kind, breaking).
const CASES: &[(&str, Mutation, &str, ChangeKind, bool)] = &[
    (
        "resource removed",
        |d| d.resources.retain(|r| r.name != "product"),
        "resources.product",
        ChangeKind::Removed,
        true,
    ),
    (
        "resource added",
        |d| {
            d.resources
                .push(apiforge::design::Resource::new("tag", "tags"))
        },
        "resources.tag",
        ChangeKind::Added,
        false,
    ),
    (
        "plural changed",
        |d| product(d).plural = "items".into(),
        "resources.product.plural",
        ChangeKind::Changed,
        true,
    ),
    (
        "field removed",
        |d| product(d).fields.retain(|f| f.name != "notes"),
        "resources.product.fields.notes",
        ChangeKind::Removed,
        true,
    ),
    (
        "optional field added",
        |d| {
            product(d)
                .fields
                .push(Field::new("colour", FieldType::String))
        },
        "resources.product.fields.colour",
        ChangeKind::Added,
        false,
    ),
    (
        "required field added",
        |d| {
            let mut f = Field::new("sku", FieldType::String);
            f.required = true;
            product(d).fields.push(f);
        },
        "resources.product.fields.sku",
        ChangeKind::Added,
        true,
    ),
    (
        "required field with default added",
        |d| {
            let mut f = Field::new("sku", FieldType::String);
            f.required = true;
            f.default = Some(json!("n/a"));
            product(d).fields.push(f);
        },
        "resources.product.fields.sku",
        ChangeKind::Added,
        false,
    ),
    (
        "type changed",
        |d| field(d, "price").ty = FieldType::Integer,
        "resources.product.fields.price.type",
        ChangeKind::Changed,
        true,
    ),
    (
        "string widened to text",
        |d| field(d, "name").ty = FieldType::Text,
        "resources.product.fields.name.type",
        ChangeKind::Changed,
        false,
    ),
    (
        "optional to required",
        |d| field(d, "notes").required = true,
        "resources.product.fields.notes.required",
        ChangeKind::Changed,
        true,
    ),
    (
        "required to optional",
        |d| field(d, "name").required = false,
        "resources.product.fields.name.required",
        ChangeKind::Changed,
        false,
    ),
    (
        "unique added",
        |d| field(d, "name").unique = true,
        "resources.product.fields.name.unique",
        ChangeKind::Changed,
        true,
    ),
    (
        "enum value removed",
        |d| field(d, "size").enum_values.retain(|v| v != "large"),
        "resources.product.fields.size.enum_values",
        ChangeKind::Removed,
        true,
    ),
    (
        "enum value added",
        |d| field(d, "size").enum_values.push("huge".into()),
        "resources.product.fields.size.enum_values",
        ChangeKind::Added,
        false,
    ),
    (
        "min raised",
        |d| field(d, "price").min = Some(1.0),
        "resources.product.fields.price.min",
        ChangeKind::Changed,
        true,
    ),
    (
        "min lowered",
        |d| field(d, "price").min = Some(-1.0),
        "resources.product.fields.price.min",
        ChangeKind::Changed,
        false,
    ),
    (
        "max added",
        |d| field(d, "stock").max = Some(10.0),
        "resources.product.fields.stock.max",
        ChangeKind::Changed,
        true,
    ),
    (
        "max_length lowered",
        |d| field(d, "name").max_length = Some(10),
        "resources.product.fields.name.max_length",
        ChangeKind::Changed,
        true,
    ),
    (
        "pattern added",
        |d| field(d, "name").pattern = Some("[a-z]+".into()),
        "resources.product.fields.name.pattern",
        ChangeKind::Changed,
        true,
    ),
    (
        "relation removed",
        |d| d.resource_mut("order").expect("orders").relations.clear(),
        "resources.order.relations.customer_id",
        ChangeKind::Removed,
        true,
    ),
    (
        "required relation added",
        |d| {
            product(d).relations.push(Relation {
                target: "customer".into(),
                field: "customer_id".into(),
                required: true,
                on_delete: OnDelete::Restrict,
            })
        },
        "resources.product.relations.customer_id",
        ChangeKind::Added,
        true,
    ),
    (
        "optional relation added",
        |d| {
            product(d).relations.push(Relation {
                target: "customer".into(),
                field: "customer_id".into(),
                required: false,
                on_delete: OnDelete::SetNull,
            })
        },
        "resources.product.relations.customer_id",
        ChangeKind::Added,
        false,
    ),
    (
        "on_delete changed",
        |d| d.resource_mut("order").expect("orders").relations[0].on_delete = OnDelete::Cascade,
        "resources.order.relations.customer_id.on_delete",
        ChangeKind::Changed,
        true,
    ),
    (
        "delete removed",
        |d| product(d).operations.delete = false,
        "resources.product.operations.delete",
        ChangeKind::Removed,
        true,
    ),
    (
        "list removed",
        |d| product(d).operations.list = None,
        "resources.product.operations.list",
        ChangeKind::Removed,
        true,
    ),
    (
        "filter removed",
        |d| {
            product(d)
                .operations
                .list
                .as_mut()
                .expect("list")
                .filters
                .clear()
        },
        "resources.product.operations.list.filters.size",
        ChangeKind::Removed,
        true,
    ),
    (
        "filter added",
        |d| {
            product(d)
                .operations
                .list
                .as_mut()
                .expect("list")
                .filters
                .push("stock".into())
        },
        "resources.product.operations.list.filters.stock",
        ChangeKind::Added,
        false,
    ),
    (
        "max page lowered",
        |d| {
            product(d)
                .operations
                .list
                .as_mut()
                .expect("list")
                .max_page_size = 50
        },
        "resources.product.operations.list.max_page_size",
        ChangeKind::Changed,
        true,
    ),
    (
        "auth added",
        |d| {
            d.auth = AuthScheme::BearerJwt {
                env_var: "JWT_SECRET".into(),
            }
        },
        "auth",
        ChangeKind::Added,
        true,
    ),
    (
        "title changed",
        |d| d.title = "Store API".into(),
        "title",
        ChangeKind::Changed,
        false,
    ),
];

#[test]
fn each_change_is_found_and_classified() {
    let mut failures = Vec::new();
    for (what, mutate, path, kind, breaking) in CASES {
        let old = base();
        let mut new = old.clone();
        mutate(&mut new);
        let d = diff(&old, &new);
        match d
            .changes
            .iter()
            .find(|c| c.path == *path && c.kind == *kind)
        {
            None => failures.push(format!("{what}: no {kind:?} at {path}: {:#?}", d.changes)),
            Some(c) if c.breaking != *breaking => failures.push(format!(
                "{what}: breaking is {} ({})",
                c.breaking, c.description
            )),
            Some(c) if c.description.len() < 10 => {
                failures.push(format!("{what}: terse description {:?}", c.description))
            }
            Some(_) => {}
        }
        if d.is_breaking() != d.changes.iter().any(|c| c.breaking) {
            failures.push(format!("{what}: is_breaking disagrees with the changes"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn identical_designs_have_no_changes() {
    let d = base();
    assert!(diff(&d, &d.clone()).is_empty());
}

#[test]
fn a_followup_diff_is_serialisable_and_reports_additions_as_safe() {
    let p = RulesProvider::new();
    let old = base();
    let new = p.apply(&old, "add a colour to products").expect("applies");
    validate(&new).expect("valid");
    let d = diff(&old, &new);
    assert!(!d.is_breaking(), "{d:#?}");
    assert!(
        d.changes
            .iter()
            .any(|c| c.path == "resources.product.fields.colour")
    );
    let json = serde_json::to_string(&d).expect("serialises");
    let back: DesignDiff = serde_json::from_str(&json).expect("deserialises");
    assert_eq!(back, d);
    let removed = p.apply(&new, "remove customers").expect("applies");
    let d = diff(&new, &removed);
    assert!(d.is_breaking());
    assert!(d.breaking_changes().any(|c| c.path == "resources.customer"));
}
