//! The starter templates: realistic designs whose specs are valid, and the real
//! `apiforge templates` command that lists and prints them.

use std::process::{Command, Output};

use apiforge::codegen::{openapi, spec_check};
use apiforge::design::{ApiDesign, AuthScheme, FieldType};
use apiforge::templates;
use serde_json::Value;

fn apiforge(args: &[&str]) -> Output {
    let home = tempfile::tempdir().expect("temp dir");
    Command::new(env!("CARGO_BIN_EXE_apiforge"))
        .args(args)
        .env("APIFORGE_HOME", home.path())
        .output()
        .expect("the binary runs")
}

#[test]
fn the_catalog_has_the_promised_templates() {
    let names = templates::names();
    for wanted in ["todo", "blog", "shop", "bookings", "inventory", "notes"] {
        assert!(
            names.contains(&wanted),
            "{wanted} is missing from {names:?}"
        );
    }
    let has = |t: &str, resource: &str| {
        templates::get(t).is_some_and(|t| t.design.resource(resource).is_some())
    };
    assert!(has("blog", "post") && has("blog", "comment"));
    assert!(has("shop", "product") && has("shop", "order") && has("shop", "order_item"));
    assert!(has("inventory", "item") && has("inventory", "supplier"));
    let notes = templates::get("notes").expect("notes");
    assert!(matches!(notes.design.auth, AuthScheme::ApiKey { .. }));
}

/// Every template uses what makes a design realistic: enums, relations, filters,
/// search, bounds — and every reference in it names something that exists.
#[test]
fn every_template_is_rich_and_consistent() {
    for t in templates::all() {
        let d: &ApiDesign = &t.design;
        let fields = || d.resources.iter().flat_map(|r| r.fields.iter());
        assert!(
            fields().any(|f| f.ty == FieldType::Enum),
            "{}: no enum",
            t.name
        );
        assert!(
            fields().any(|f| f.min.is_some() || f.max_length.is_some()),
            "{}: no bounds",
            t.name
        );
        assert!(
            d.resources.iter().any(|r| !r.relations.is_empty()),
            "{}: no relation",
            t.name
        );
        let lists = || {
            d.resources
                .iter()
                .filter_map(|r| r.operations.list.as_ref())
        };
        assert!(
            lists().any(|l| !l.filters.is_empty()),
            "{}: no filter",
            t.name
        );
        assert!(
            lists().any(|l| !l.search.is_empty()),
            "{}: no search",
            t.name
        );
        for r in &d.resources {
            for rel in &r.relations {
                assert!(
                    d.resource(&rel.target).is_some(),
                    "{}: {} → {}",
                    t.name,
                    r.name,
                    rel.target
                );
            }
            let known = |name: &str| {
                r.field(name).is_some() || r.relations.iter().any(|rel| rel.field == name)
            };
            if let Some(list) = &r.operations.list {
                for name in list.filters.iter().chain(&list.search).chain(&list.sort) {
                    assert!(
                        known(name),
                        "{}: {} lists by unknown `{name}`",
                        t.name,
                        r.name
                    );
                }
                for name in &list.search {
                    let textual = r.field(name).is_some_and(|f| f.ty.is_textual());
                    assert!(textual, "{}: search over non-text {name}", t.name);
                }
            }
        }
        for a in &d.actions {
            let r = a.resource.as_deref().and_then(|n| d.resource(n));
            assert!(r.is_some(), "{}: action {} has no resource", t.name, a.name);
        }
        spec_check::check(&openapi::build(d)).unwrap_or_else(|e| panic!("{}: {e}", t.name));
    }
}

#[test]
fn templates_command_lists_them() {
    let out = apiforge(&["templates"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    for t in templates::all() {
        assert!(
            text.contains(t.name) && text.contains(t.description),
            "{text}"
        );
    }
    assert!(text.contains("[auth: api_key]"));
}

#[test]
fn templates_json_is_a_list_of_summaries() {
    let out = apiforge(&["templates", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let list = list.as_array().expect("an array");
    assert_eq!(list.len(), templates::all().len());
    let shop = list.iter().find(|t| t["name"] == "shop").expect("shop");
    assert_eq!(
        shop["resources"],
        serde_json::json!(["category", "product", "customer", "order", "order_item"])
    );
    assert_eq!(shop["auth"], "none");
    assert_eq!(
        shop["actions"],
        serde_json::json!(["cancel_order", "ship_order"])
    );
}

#[test]
fn templates_name_prints_the_design() {
    let out = apiforge(&["templates", "bookings"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let design: ApiDesign = serde_json::from_slice(&out.stdout).expect("a design on stdout");
    assert_eq!(Some(design), templates::get("bookings").map(|t| t.design));
}

#[test]
fn an_unknown_template_is_a_usage_error_naming_the_choices() {
    let out = apiforge(&["templates", "crm"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no template called \"crm\""), "{err}");
    assert!(
        err.contains("todo, blog, shop, bookings, inventory, notes"),
        "{err}"
    );
}
