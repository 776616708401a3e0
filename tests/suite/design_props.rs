//! Property tests for `validate` and `diff`: no panic on any design, however broken,
//! and the diff of a design with itself is empty.

use apiforge::design::{
    Action, ActionBehavior, ActionOutput, ApiDesign, AuthScheme, Field, FieldType, HttpMethod,
    ListOp, OnDelete, Operations, Relation, Resource, diff, validate,
};
use proptest::prelude::*;
use serde_json::Value;

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "book", "title", "id", "class", "", "Bad Name", "a__b", "book", "price", "status",
            "limit", "q", "book_id", "health", "problem", "x_list", "x", "é", "1abc",
        ])
        .prop_map(str::to_owned),
        "[a-z_]{0,8}",
        "\\PC{0,6}",
    ]
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "\\PC{0,12}".prop_map(Value::String),
        prop::sample::select(vec![
            "2024-02-30",
            "2024-01-01",
            "12:30",
            "a@b.co",
            "http://x",
            "open"
        ])
        .prop_map(|s| Value::String(s.to_owned())),
        Just(serde_json::json!({"a": 1})),
    ]
}

fn field() -> impl Strategy<Value = Field> {
    (
        name(),
        prop::sample::select(FieldType::ALL.to_vec()),
        any::<(bool, bool)>(),
        prop::option::of(value()),
        prop::collection::vec(prop::sample::select(vec!["a", "b", "", " c", "a"]), 0..4),
        prop::option::of(prop_oneof![any::<f64>(), -10.0..10.0f64]),
        prop::option::of(-10.0..10.0f64),
        prop::option::of(0u32..10),
        prop::option::of(0u32..10),
        prop::option::of(prop::sample::select(vec![
            "[a-z]+",
            "(",
            "\\d{2}",
            "a{1000000}",
        ])),
    )
        .prop_map(
            |(name, ty, (required, unique), default, enums, min, max, minl, maxl, pattern)| {
                let mut f = Field::new(name, ty);
                f.required = required;
                f.unique = unique;
                f.default = default;
                f.enum_values = enums.into_iter().map(str::to_owned).collect();
                f.min = min;
                f.max = max;
                f.min_length = minl;
                f.max_length = maxl;
                f.pattern = pattern.map(str::to_owned);
                f
            },
        )
}

fn resource() -> impl Strategy<Value = Resource> {
    (
        name(),
        name(),
        prop::collection::vec(field(), 0..5),
        prop::collection::vec((name(), name(), any::<bool>(), 0u8..3), 0..3),
        prop::option::of((
            0u32..2000,
            0u32..2000,
            prop::collection::vec(name(), 0..3),
            prop::collection::vec(name(), 0..3),
            prop::collection::vec(name(), 0..3),
        )),
        any::<[bool; 5]>(),
    )
        .prop_map(|(n, p, fields, rels, list, ops)| {
            let mut r = Resource::new(n, p);
            r.fields = fields;
            r.relations = rels
                .into_iter()
                .map(|(target, field, required, od)| Relation {
                    target,
                    field,
                    required,
                    on_delete: [OnDelete::Restrict, OnDelete::Cascade, OnDelete::SetNull]
                        [usize::from(od)],
                })
                .collect();
            r.operations = Operations {
                list: list.map(|(d, m, filters, search, sort)| ListOp {
                    default_page_size: d,
                    max_page_size: m,
                    filters,
                    search,
                    sort,
                }),
                get: ops[0],
                create: ops[1],
                replace: ops[2],
                patch: ops[3],
                delete: ops[4],
            };
            r
        })
}

fn action() -> impl Strategy<Value = Action> {
    (
        name(),
        prop::sample::select(vec![HttpMethod::Get, HttpMethod::Post, HttpMethod::Delete]),
        prop::sample::select(vec![
            "/books/{id}/cancel",
            "books",
            "/books",
            "/x/{other}",
            "//",
            "/",
            "/health",
            "/a b",
        ]),
        prop::option::of(name()),
        prop::collection::vec(field(), 0..2),
        (name(), value()),
        0u8..3,
    )
        .prop_map(
            |(name, method, path, resource, input, (f, v), kind)| Action {
                name,
                method,
                path: path.to_owned(),
                summary: String::new(),
                resource,
                input,
                output: ActionOutput::Resource,
                behavior: match kind {
                    0 => ActionBehavior::SetField {
                        field: f,
                        value: v,
                        from: vec![],
                    },
                    1 => ActionBehavior::Custom {
                        fastapi: None,
                        express: Some(String::new()),
                    },
                    _ => ActionBehavior::NotImplemented,
                },
            },
        )
}

fn design() -> impl Strategy<Value = ApiDesign> {
    (
        0u32..3,
        "\\PC{0,10}",
        prop::collection::vec(resource(), 0..4),
        prop::collection::vec(action(), 0..3),
        prop::sample::select(vec!["API_KEY", "bad var", "APIFORGE_DB", ""]),
    )
        .prop_map(|(schema_version, title, resources, actions, env)| {
            let mut d = ApiDesign::new(title);
            d.schema_version = schema_version;
            d.resources = resources;
            d.actions = actions;
            d.auth = if env.is_empty() {
                AuthScheme::None
            } else {
                AuthScheme::ApiKey {
                    header: "X-API-Key".into(),
                    env_var: env.into(),
                }
            };
            d
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn validate_never_panics_and_reports_readable_issues(d in design()) {
        if let Err(e) = validate(&d) {
            prop_assert!(!e.issues.is_empty());
            for issue in &e.issues {
                prop_assert!(!issue.path.is_empty() && issue.message.len() > 10, "{issue:?}");
            }
        }
    }

    #[test]
    fn diff_never_panics_and_is_empty_against_itself(a in design(), b in design()) {
        let _ = diff(&a, &b);
        prop_assert!(diff(&a, &a).is_empty());
    }
}
