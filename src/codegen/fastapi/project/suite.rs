//! `Suite`: what the generated pytest module of one resource checks, derived from the
//! resource's fields, relations and operations.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use super::{List, Ops, wrapped};
use crate::codegen::fastapi::literal::{kwarg, py, py_set, py_str};
use crate::codegen::fastapi::sample;
use crate::design::{ApiDesign, FieldType, OnDelete, Relation, Resource};

#[derive(Debug, Default, Serialize)]
pub struct Suite {
    pub imports: Vec<String>,
    pub defaults: Vec<NamedValue>,
    pub missing_required: Option<String>,
    pub wrong_type: Option<Case>,
    pub invalid_values: Vec<Case>,
    pub unique: Option<Unique>,
    pub relations: Vec<RelationTest>,
    pub sort_fields: Vec<String>,
    pub filters: Vec<String>,
    pub search: Option<Search>,
    pub replace_args: String,
    pub patch: Option<Case>,
    pub on_delete: Vec<OnDeleteTest>,
}

#[derive(Debug, Serialize)]
pub struct NamedValue {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Serialize)]
pub struct Case {
    pub slug: String,
    pub name_literal: String,
    pub value: String,
    pub arg: String,
}

#[derive(Debug, Serialize)]
pub struct Unique {
    pub name: String,
    pub arg: String,
}

#[derive(Debug, Serialize)]
pub struct RelationTest {
    pub column: String,
    pub target: String,
}

#[derive(Debug, Serialize)]
pub struct Search {
    pub q: String,
}

#[derive(Debug, Serialize)]
pub struct OnDeleteTest {
    pub column: String,
    pub target: String,
    pub mode: &'static str,
    pub verb: &'static str,
    pub parent_plural: String,
}

pub(super) fn suite(
    design: &ApiDesign,
    r: &Resource,
    ops: &Ops,
    list: Option<&List>,
    samples: &[serde_json::Map<String, Value>],
    auto_parents: &[&Relation],
) -> Suite {
    let mut t = Suite::default();
    let mut names: BTreeSet<String> = BTreeSet::new();
    let body_fn = format!("{}_body", r.name);
    let make_fn = format!("make_{}", r.name);
    let first = samples.first().cloned().unwrap_or_default();
    let auto_columns: Vec<String> = auto_parents.iter().map(|rel| rel.field.clone()).collect();
    // Columns whose test values are never null: every field, and auto-created parents.
    let filled = |name: &str| r.field(name).is_some() || auto_columns.iter().any(|c| c == name);

    if ops.create {
        names.insert(body_fn.clone());
        names.insert("assert_problem".to_owned());
        t.defaults = r
            .fields
            .iter()
            .filter(|f| f.ty != FieldType::DateTime)
            .filter_map(|f| {
                f.default.as_ref().map(|d| NamedValue {
                    name: f.name.clone(),
                    // `is` for booleans and None: `== True` is a lint error.
                    value: match d {
                        Value::Bool(_) | Value::Null => format!("is {}", py(d)),
                        _ => format!("== {}", py(d)),
                    },
                })
            })
            .collect();
        let missing: Vec<String> = r
            .fields
            .iter()
            .filter(|f| f.required && f.default.is_none())
            .map(|f| f.name.clone())
            .chain(
                r.relations
                    .iter()
                    .filter(|rel| rel.required)
                    .map(|rel| rel.field.clone()),
            )
            .collect();
        if !missing.is_empty() {
            t.missing_required = Some(py_set(&missing));
            names.insert("error_fields".to_owned());
        }
        if let Some(f) = r.fields.first() {
            let value = py(&sample::wrong_type(f));
            t.wrong_type = Some(Case {
                slug: "wrong_type".to_owned(),
                name_literal: py_str(&f.name),
                arg: kwarg(&f.name, &value),
                value,
            });
            names.insert("error_fields".to_owned());
        }
        for f in &r.fields {
            for (slug, v) in sample::invalid(f) {
                let value = match v.as_str() {
                    Some(text) if text.len() > 8 && text.chars().all(|c| c == 'x') => {
                        format!("\"x\" * {}", text.len())
                    }
                    _ => py(&v),
                };
                t.invalid_values.push(Case {
                    slug: format!("{}_{slug}", f.name),
                    name_literal: py_str(&f.name),
                    arg: kwarg(&f.name, &value),
                    value,
                });
                names.insert("error_fields".to_owned());
            }
        }
        if let Some(f) = r.fields.iter().find(|f| f.unique) {
            t.unique = Some(Unique {
                name: f.name.clone(),
                arg: kwarg(&f.name, &format!("existing[{}]", py_str(&f.name))),
            });
            names.insert(make_fn.clone());
        }
        for rel in &r.relations {
            t.relations.push(RelationTest {
                column: rel.field.clone(),
                target: rel.target.clone(),
            });
            names.insert("error_fields".to_owned());
        }
    }
    if ops.get {
        names.insert(make_fn.clone());
        names.insert("assert_problem".to_owned());
    }
    if let Some(l) = list {
        names.insert(make_fn.clone());
        names.insert("assert_problem".to_owned());
        let sortable =
            |name: &str| filled(name) && r.field(name).is_none_or(|f| f.ty != FieldType::Json);
        if let Some(listing) = &r.operations.list {
            t.sort_fields = listing
                .sort
                .iter()
                .filter(|s| s.as_str() != "id" && sortable(s))
                .cloned()
                .collect();
            t.filters = listing
                .filters
                .iter()
                .filter(|f| filled(f))
                .cloned()
                .collect();
            t.search = listing.search.iter().find_map(|s| {
                let text = first.get(s)?.as_str()?;
                let q: String = text.chars().take(4).collect::<String>().to_uppercase();
                (!q.trim().is_empty()).then(|| Search { q: py_str(&q) })
            });
        }
        let _ = l;
    }
    if ops.replace {
        names.insert(make_fn.clone());
        names.insert(body_fn.clone());
        names.insert("assert_problem".to_owned());
        let mut args = vec!["client".to_owned(), "1".to_owned()];
        args.extend(
            auto_columns
                .iter()
                .map(|c| format!("{c}=created[{}]", py_str(c))),
        );
        t.replace_args = wrapped("(", &args, ")", 4, 4 + body_fn.len() + 7);
    }
    if ops.patch {
        names.insert(make_fn.clone());
        names.insert("assert_problem".to_owned());
        t.patch = r.fields.first().and_then(|f| {
            let v = samples.get(1)?.get(&f.name)?;
            Some(Case {
                slug: String::new(),
                name_literal: py_str(&f.name),
                value: py(v),
                arg: String::new(),
            })
        });
    }
    if ops.delete {
        names.insert(make_fn.clone());
        names.insert("assert_problem".to_owned());
    }
    if ops.get {
        for rel in &r.relations {
            let Some(parent) = design.resource(&rel.target) else {
                continue;
            };
            if rel.target == r.name || !parent.operations.delete {
                continue;
            }
            let (mode, verb) = match rel.on_delete {
                OnDelete::Restrict => ("restrict", "is_blocked_by"),
                OnDelete::Cascade => ("cascade", "deletes"),
                OnDelete::SetNull if !rel.required => ("set_null", "unlinks"),
                OnDelete::SetNull => continue,
            };
            t.on_delete.push(OnDeleteTest {
                column: rel.field.clone(),
                target: rel.target.clone(),
                mode,
                verb,
                parent_plural: parent.plural.clone(),
            });
            names.insert(make_fn.clone());
            names.insert(format!("make_{}", rel.target));
            names.insert("assert_problem".to_owned());
        }
    }
    t.imports = names.into_iter().collect();
    t
}
