//! Stand-in for `crate::design::diff` (branch `design`), with the same types and
//! signature, so swapping it is deleting this file and importing
//! `crate::design::{DesignDiff, diff}` in `version_diff.rs`.
//!
//! It compares the designs' JSON structurally — lists of named items (resources,
//! fields, relations, actions) are matched by name — and marks as breaking what
//! certainly breaks an existing client: anything removed, a changed type, path,
//! method or collection name, a field that becomes required, an enum that loses a
//! value. The real `design::diff` knows the model and says more.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::design::ApiDesign;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesignChange {
    pub path: String,
    pub kind: ChangeKind,
    /// A sentence describing the change.
    pub description: String,
    /// Whether a client written for the old design may stop working.
    pub breaking: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesignDiff {
    pub changes: Vec<DesignChange>,
}

impl DesignDiff {
    pub fn is_breaking(&self) -> bool {
        self.changes.iter().any(|c| c.breaking)
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// Compares `old` with `new`.
pub fn diff(old: &ApiDesign, new: &ApiDesign) -> DesignDiff {
    let mut out = DesignDiff::default();
    match (serde_json::to_value(old), serde_json::to_value(new)) {
        (Ok(o), Ok(n)) => walk("", &o, &n, &mut out.changes),
        // Serialising a design cannot fail (plain data), but say so rather than panic.
        _ => out.changes.push(DesignChange {
            path: String::new(),
            kind: ChangeKind::Changed,
            description: "the designs could not be compared".into(),
            breaking: true,
        }),
    }
    out
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn last(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

/// Lists whose items are objects with a `name` are matched by name.
fn named(items: &[Value]) -> Option<Vec<(&str, &Value)>> {
    items
        .iter()
        .map(|v| v.get("name").and_then(Value::as_str).map(|n| (n, v)))
        .collect()
}

fn walk(path: &str, old: &Value, new: &Value, out: &mut Vec<DesignChange>) {
    if old == new {
        return;
    }
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            for (k, ov) in o {
                match n.get(k) {
                    Some(nv) => walk(&join(path, k), ov, nv, out),
                    None => removed(&join(path, k), ov, out),
                }
            }
            for (k, nv) in n {
                if !o.contains_key(k) {
                    added(&join(path, k), nv, out);
                }
            }
        }
        (Value::Array(o), Value::Array(n)) if !o.is_empty() || !n.is_empty() => {
            match (named(o), named(n)) {
                (Some(o), Some(n)) => {
                    for (name, ov) in &o {
                        match n.iter().find(|(m, _)| m == name) {
                            Some((_, nv)) => walk(&join(path, name), ov, nv, out),
                            None => removed(&join(path, name), ov, out),
                        }
                    }
                    for (name, nv) in &n {
                        if !o.iter().any(|(m, _)| m == name) {
                            added(&join(path, name), nv, out);
                        }
                    }
                }
                _ => changed(path, old, new, out),
            }
        }
        _ => changed(path, old, new, out),
    }
}

fn removed(path: &str, _old: &Value, out: &mut Vec<DesignChange>) {
    out.push(DesignChange {
        path: path.to_owned(),
        kind: ChangeKind::Removed,
        description: format!("`{path}` removed"),
        breaking: true,
    });
}

fn added(path: &str, new: &Value, out: &mut Vec<DesignChange>) {
    // A new field that must be sent, with no default, breaks existing create calls.
    let required = new.get("required").and_then(Value::as_bool) == Some(true)
        && new.get("default").is_none_or(Value::is_null);
    out.push(DesignChange {
        path: path.to_owned(),
        kind: ChangeKind::Added,
        description: if required {
            format!("`{path}` added (required)")
        } else {
            format!("`{path}` added")
        },
        breaking: required,
    });
}

fn changed(path: &str, old: &Value, new: &Value, out: &mut Vec<DesignChange>) {
    let breaking = match last(path) {
        "type" | "path" | "method" | "plural" | "field" | "auth" => true,
        "required" => new.as_bool() == Some(true),
        "enum_values" => match (old.as_array(), new.as_array()) {
            (Some(o), Some(n)) => o.iter().any(|v| !n.contains(v)),
            _ => true,
        },
        _ => false,
    };
    out.push(DesignChange {
        path: path.to_owned(),
        kind: ChangeKind::Changed,
        description: format!("`{path}` changed from {old} to {new}"),
        breaking,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::design::{Field, FieldType};

    fn design() -> ApiDesign {
        serde_json::from_value(serde_json::json!({
            "schema_version": 1,
            "title": "Shop",
            "resources": [{
                "name": "item",
                "plural": "items",
                "fields": [
                    {"name": "title", "type": "string", "required": true},
                    {"name": "state", "type": "enum", "enum_values": ["new", "sold"]}
                ]
            }]
        }))
        .expect("a valid design")
    }

    fn change<'a>(d: &'a DesignDiff, path: &str) -> &'a DesignChange {
        d.changes
            .iter()
            .find(|c| c.path == path)
            .unwrap_or_else(|| panic!("no change at {path}: {d:?}"))
    }

    #[test]
    fn equal_designs_have_no_changes() {
        assert!(diff(&design(), &design()).is_empty());
    }

    #[test]
    fn removals_and_narrowing_break_clients_additions_do_not() {
        let old = design();
        let mut new = design();
        new.title = "Shop 2".into();
        new.resources[0].fields.retain(|f| f.name != "title");
        new.resources[0].fields[0].enum_values = vec!["new".into()];
        new.resources[0]
            .fields
            .push(Field::new("note", FieldType::Text));
        let mut price = Field::new("price", FieldType::Number);
        price.required = true;
        new.resources[0].fields.push(price);
        let d = diff(&old, &new);
        assert!(!change(&d, "title").breaking);
        let removed = change(&d, "resources.item.fields.title");
        assert_eq!(
            (removed.kind, removed.breaking),
            (ChangeKind::Removed, true)
        );
        assert!(change(&d, "resources.item.fields.state.enum_values").breaking);
        let note = change(&d, "resources.item.fields.note");
        assert_eq!((note.kind, note.breaking), (ChangeKind::Added, false));
        assert!(change(&d, "resources.item.fields.price").breaking);
        assert!(d.is_breaking());

        // The other way round: widening the enum breaks nothing; the re-added `title`
        // is required without a default, so old create calls now fail.
        let back = diff(&new, &old);
        assert!(!change(&back, "resources.item.fields.state.enum_values").breaking);
        let title = change(&back, "resources.item.fields.title");
        assert_eq!((title.kind, title.breaking), (ChangeKind::Added, true));
    }

    #[test]
    fn a_changed_type_breaks() {
        let old = design();
        let mut new = design();
        new.resources[0].fields[0].ty = FieldType::Integer;
        let d = diff(&old, &new);
        let c = change(&d, "resources.item.fields.title.type");
        assert_eq!((c.kind, c.breaking), (ChangeKind::Changed, true));
    }
}
