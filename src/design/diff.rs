//! The structural difference between two designs, with every change marked breaking
//! or not from the point of view of an existing client of the old API. Used for version
//! diffs and deploy gates.
//!
//! Paths follow the validation scheme: `resources.book.fields.price`.

use serde::{Deserialize, Serialize};

use super::model::{
    Action, ActionOutput, ApiDesign, AuthScheme, Field, FieldType, ListOp, Relation, Resource,
};
use super::validate::type_name;

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
    /// A sentence describing the change ("field `price` changed from integer to decimal").
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

    pub fn breaking_changes(&self) -> impl Iterator<Item = &DesignChange> {
        self.changes.iter().filter(|c| c.breaking)
    }
}

/// Compares `old` with `new`.
pub fn diff(old: &ApiDesign, new: &ApiDesign) -> DesignDiff {
    let mut d = Differ::default();
    if old.title != new.title {
        d.push(
            "title",
            ChangeKind::Changed,
            format!("title changed from {:?} to {:?}", old.title, new.title),
            false,
        );
    }
    if old.description != new.description {
        d.push(
            "description",
            ChangeKind::Changed,
            "description changed",
            false,
        );
    }
    if old.version != new.version {
        d.push(
            "version",
            ChangeKind::Changed,
            format!(
                "API version changed from {} to {}",
                old.version, new.version
            ),
            false,
        );
    }
    d.auth(&old.auth, &new.auth);
    let (pairs, removed, added) = pair(&old.resources, &new.resources, |r| &r.name);
    for r in removed {
        d.push(
            format!("resources.{}", r.name),
            ChangeKind::Removed,
            format!("resource `{}` (/{}) removed", r.name, r.plural),
            true,
        );
    }
    for (o, n) in pairs {
        d.resource(&format!("resources.{}", o.name), o, n);
    }
    for r in added {
        d.push(
            format!("resources.{}", r.name),
            ChangeKind::Added,
            format!("resource `{}` (/{}) added", r.name, r.plural),
            false,
        );
    }
    let (pairs, removed, added) = pair(&old.actions, &new.actions, |a| &a.name);
    for a in removed {
        d.push(
            format!("actions.{}", a.name),
            ChangeKind::Removed,
            format!(
                "action `{}` ({} {}) removed",
                a.name,
                a.method.as_str(),
                a.path
            ),
            true,
        );
    }
    for (o, n) in pairs {
        d.action(&format!("actions.{}", o.name), o, n);
    }
    for a in added {
        d.push(
            format!("actions.{}", a.name),
            ChangeKind::Added,
            format!(
                "action `{}` ({} {}) added",
                a.name,
                a.method.as_str(),
                a.path
            ),
            false,
        );
    }
    DesignDiff { changes: d.changes }
}

/// Pairs items of `old` and `new` by key: the k-th occurrence of a key in `old` with
/// the k-th in `new`, so even a design with duplicate names diffs cleanly against
/// itself. Returns (pairs, only in old, only in new), each in input order.
fn pair<'a, T>(
    old: &'a [T],
    new: &'a [T],
    key: impl Fn(&T) -> &str,
) -> (Vec<(&'a T, &'a T)>, Vec<&'a T>, Vec<&'a T>) {
    let mut used = vec![false; new.len()];
    let mut pairs = Vec::new();
    let mut removed = Vec::new();
    for o in old {
        let hit = new
            .iter()
            .enumerate()
            .find(|(i, n)| !used[*i] && key(n) == key(o))
            .map(|(i, _)| i);
        match hit {
            Some(i) => {
                used[i] = true;
                pairs.push((o, &new[i]));
            }
            None => removed.push(o),
        }
    }
    let added = new
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(n, _)| n)
        .collect();
    (pairs, removed, added)
}

fn same_f64(a: Option<f64>, b: Option<f64>) -> bool {
    a.map(f64::to_bits) == b.map(f64::to_bits)
}

#[derive(Default)]
struct Differ {
    changes: Vec<DesignChange>,
}

fn auth_label(a: &AuthScheme) -> String {
    match a {
        AuthScheme::None => "no authentication".to_owned(),
        AuthScheme::ApiKey { header, .. } => format!("an API key in the {header} header"),
        AuthScheme::BearerJwt { .. } => "bearer JWT".to_owned(),
    }
}

impl Differ {
    fn push(
        &mut self,
        path: impl Into<String>,
        kind: ChangeKind,
        description: impl Into<String>,
        breaking: bool,
    ) {
        self.changes.push(DesignChange {
            path: path.into(),
            kind,
            description: description.into(),
            breaking,
        });
    }

    fn auth(&mut self, old: &AuthScheme, new: &AuthScheme) {
        if old == new {
            return;
        }
        match (old, new) {
            (AuthScheme::None, _) => self.push(
                "auth",
                ChangeKind::Added,
                format!(
                    "authentication added: {}; clients must now send credentials",
                    auth_label(new)
                ),
                true,
            ),
            (_, AuthScheme::None) => self.push(
                "auth",
                ChangeKind::Removed,
                format!("authentication removed (was {})", auth_label(old)),
                false,
            ),
            (
                AuthScheme::ApiKey {
                    header: h1,
                    env_var: e1,
                },
                AuthScheme::ApiKey {
                    header: h2,
                    env_var: e2,
                },
            ) => {
                if h1 != h2 {
                    self.push(
                        "auth.header",
                        ChangeKind::Changed,
                        format!("API key header changed from {h1} to {h2}"),
                        true,
                    );
                }
                if e1 != e2 {
                    self.push(
                        "auth.env_var",
                        ChangeKind::Changed,
                        format!("the API key is now read from {e2} instead of {e1}; set it before deploying"),
                        true,
                    );
                }
            }
            (AuthScheme::BearerJwt { env_var: e1 }, AuthScheme::BearerJwt { env_var: e2 }) => {
                self.push(
                    "auth.env_var",
                    ChangeKind::Changed,
                    format!("the JWT secret is now read from {e2} instead of {e1}; existing tokens stop working unless the secret is the same"),
                    true,
                );
                let _ = e1;
            }
            _ => self.push(
                "auth",
                ChangeKind::Changed,
                format!(
                    "authentication changed from {} to {}",
                    auth_label(old),
                    auth_label(new)
                ),
                true,
            ),
        }
    }

    fn resource(&mut self, path: &str, old: &Resource, new: &Resource) {
        if old.plural != new.plural {
            self.push(
                format!("{path}.plural"),
                ChangeKind::Changed,
                format!(
                    "collection path changed from /{} to /{}",
                    old.plural, new.plural
                ),
                true,
            );
        }
        if old.description != new.description {
            self.push(
                format!("{path}.description"),
                ChangeKind::Changed,
                format!("description of `{}` changed", old.name),
                false,
            );
        }
        let (pairs, removed, added) = pair(&old.fields, &new.fields, |f| &f.name);
        for f in removed {
            self.push(
                format!("{path}.fields.{}", f.name),
                ChangeKind::Removed,
                format!("field `{}` removed from `{}`", f.name, old.name),
                true,
            );
        }
        for (o, n) in pairs {
            self.field(&format!("{path}.fields.{}", o.name), o, n, true);
        }
        for f in added {
            let breaking = f.required && f.default.is_none();
            let what = if breaking {
                " as required without a default; existing clients' creates will be rejected"
            } else {
                ""
            };
            self.push(
                format!("{path}.fields.{}", f.name),
                ChangeKind::Added,
                format!(
                    "field `{}` ({}) added to `{}`{what}",
                    f.name,
                    type_name(f.ty),
                    new.name
                ),
                breaking,
            );
        }
        self.relations(path, old, new);
        self.operations(path, old, new);
    }

    fn relations(&mut self, path: &str, old: &Resource, new: &Resource) {
        let (pairs, removed, added) = pair(&old.relations, &new.relations, |r: &Relation| &r.field);
        for r in removed {
            self.push(
                format!("{path}.relations.{}", r.field),
                ChangeKind::Removed,
                format!(
                    "`{}` no longer belongs to `{}` (field `{}` removed)",
                    old.name, r.target, r.field
                ),
                true,
            );
        }
        for (r, n) in pairs {
            let rpath = format!("{path}.relations.{}", r.field);
            if n.target != r.target {
                self.push(
                    format!("{rpath}.target"),
                    ChangeKind::Changed,
                    format!(
                        "`{}` now refers to `{}` instead of `{}`",
                        r.field, n.target, r.target
                    ),
                    true,
                );
            }
            if n.required != r.required {
                self.push(
                    format!("{rpath}.required"),
                    ChangeKind::Changed,
                    format!(
                        "relation `{}` is now {}",
                        r.field,
                        if n.required { "required" } else { "optional" }
                    ),
                    n.required,
                );
            }
            if n.on_delete != r.on_delete {
                self.push(
                    format!("{rpath}.on_delete"),
                    ChangeKind::Changed,
                    format!(
                        "deleting a `{}` now does {:?} instead of {:?} to its `{}` children",
                        r.target, n.on_delete, r.on_delete, old.name
                    )
                    .to_lowercase(),
                    true,
                );
            }
        }
        for r in added {
            self.push(
                format!("{path}.relations.{}", r.field),
                ChangeKind::Added,
                format!(
                    "`{}` now belongs to `{}` through {} field `{}`",
                    new.name,
                    r.target,
                    if r.required {
                        "the required"
                    } else {
                        "the optional"
                    },
                    r.field
                ),
                r.required,
            );
        }
    }

    fn operations(&mut self, path: &str, old: &Resource, new: &Resource) {
        let (o, n) = (&old.operations, &new.operations);
        let flags = [
            ("get", o.get, n.get),
            ("create", o.create, n.create),
            ("replace", o.replace, n.replace),
            ("patch", o.patch, n.patch),
            ("delete", o.delete, n.delete),
        ];
        for (name, was, is) in flags {
            if was != is {
                self.push(
                    format!("{path}.operations.{name}"),
                    if is {
                        ChangeKind::Added
                    } else {
                        ChangeKind::Removed
                    },
                    format!(
                        "{name} operation of `{}` {}",
                        old.name,
                        if is { "added" } else { "removed" }
                    ),
                    was,
                );
            }
        }
        let lpath = format!("{path}.operations.list");
        match (&o.list, &n.list) {
            (Some(_), None) => self.push(
                lpath,
                ChangeKind::Removed,
                format!("list operation of `{}` removed", old.name),
                true,
            ),
            (None, Some(_)) => self.push(
                lpath,
                ChangeKind::Added,
                format!("list operation of `{}` added", old.name),
                false,
            ),
            (Some(a), Some(b)) => self.list(&lpath, &old.name, a, b),
            (None, None) => {}
        }
    }

    fn list(&mut self, path: &str, resource: &str, old: &ListOp, new: &ListOp) {
        if new.max_page_size != old.max_page_size {
            let smaller = new.max_page_size < old.max_page_size;
            self.push(
                format!("{path}.max_page_size"),
                ChangeKind::Changed,
                format!(
                    "largest page of `{resource}` changed from {} to {}",
                    old.max_page_size, new.max_page_size
                ),
                smaller,
            );
        }
        if new.default_page_size != old.default_page_size {
            self.push(
                format!("{path}.default_page_size"),
                ChangeKind::Changed,
                format!(
                    "default page size of `{resource}` changed from {} to {}",
                    old.default_page_size, new.default_page_size
                ),
                false,
            );
        }
        for (what, a, b) in [
            ("filters", &old.filters, &new.filters),
            ("search", &old.search, &new.search),
            ("sort", &old.sort, &new.sort),
        ] {
            let noun = match what {
                "filters" => "filter",
                "search" => "search field",
                _ => "sort field",
            };
            for x in a.iter().filter(|x| !b.contains(x)) {
                self.push(
                    format!("{path}.{what}.{x}"),
                    ChangeKind::Removed,
                    format!("{noun} `{x}` removed from listing `{resource}`"),
                    true,
                );
            }
            for x in b.iter().filter(|x| !a.contains(x)) {
                self.push(
                    format!("{path}.{what}.{x}"),
                    ChangeKind::Added,
                    format!("{noun} `{x}` added to listing `{resource}`"),
                    false,
                );
            }
        }
    }

    /// `in_request`: the field is sent by clients (resource fields and action input),
    /// so tightening it breaks them; output fields break when they widen instead, which
    /// type changes already cover.
    fn field(&mut self, path: &str, old: &Field, new: &Field, in_request: bool) {
        let name = &old.name;
        if old.ty != new.ty {
            let widening = old.ty == FieldType::String && new.ty == FieldType::Text;
            self.push(
                format!("{path}.type"),
                ChangeKind::Changed,
                format!(
                    "field `{name}` changed from {} to {}",
                    type_name(old.ty),
                    type_name(new.ty)
                ),
                !widening,
            );
        }
        if old.required != new.required {
            self.push(
                format!("{path}.required"),
                ChangeKind::Changed,
                format!(
                    "field `{name}` is now {}",
                    if new.required { "required" } else { "optional" }
                ),
                new.required && in_request && new.default.is_none(),
            );
        }
        if old.unique != new.unique {
            self.push(
                format!("{path}.unique"),
                ChangeKind::Changed,
                format!(
                    "field `{name}` is {} unique",
                    if new.unique { "now" } else { "no longer" }
                ),
                new.unique,
            );
        }
        if old.default != new.default {
            let lost = old.default.is_some() && new.default.is_none() && new.required;
            self.push(
                format!("{path}.default"),
                ChangeKind::Changed,
                match &new.default {
                    Some(v) => format!("default of `{name}` is now {v}"),
                    None => format!("default of `{name}` removed"),
                },
                lost,
            );
        }
        let removed: Vec<&String> = old
            .enum_values
            .iter()
            .filter(|v| !new.enum_values.contains(v))
            .collect();
        let added: Vec<&String> = new
            .enum_values
            .iter()
            .filter(|v| !old.enum_values.contains(v))
            .collect();
        if old.ty == FieldType::Enum && new.ty == FieldType::Enum {
            if !removed.is_empty() {
                self.push(
                    format!("{path}.enum_values"),
                    ChangeKind::Removed,
                    format!("`{name}` no longer accepts {}", quote_list(&removed)),
                    true,
                );
            }
            if !added.is_empty() {
                self.push(
                    format!("{path}.enum_values"),
                    ChangeKind::Added,
                    format!("`{name}` now also accepts {}", quote_list(&added)),
                    false,
                );
            }
        }
        let tighter_lower = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(a), Some(b)) => b > a,
        };
        let tighter_upper = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(a), Some(b)) => b < a,
        };
        let len = |v: Option<u32>| v.map(f64::from);
        for (what, changed, tighter) in [
            (
                "min",
                !same_f64(old.min, new.min),
                tighter_lower(old.min, new.min),
            ),
            (
                "max",
                !same_f64(old.max, new.max),
                tighter_upper(old.max, new.max),
            ),
            (
                "min_length",
                old.min_length != new.min_length,
                tighter_lower(len(old.min_length), len(new.min_length)),
            ),
            (
                "max_length",
                old.max_length != new.max_length,
                tighter_upper(len(old.max_length), len(new.max_length)),
            ),
            ("pattern", old.pattern != new.pattern, new.pattern.is_some()),
        ] {
            if changed {
                let value = match what {
                    "min" => fmt_opt(new.min),
                    "max" => fmt_opt(new.max),
                    "min_length" => fmt_opt(len(new.min_length)),
                    "max_length" => fmt_opt(len(new.max_length)),
                    _ => new.pattern.clone().unwrap_or_else(|| "none".to_owned()),
                };
                self.push(
                    format!("{path}.{what}"),
                    ChangeKind::Changed,
                    format!(
                        "{what} of `{name}` is now {value}{}",
                        if tighter { " (tighter)" } else { "" }
                    ),
                    tighter && in_request,
                );
            }
        }
        if old.unit != new.unit || old.description != new.description {
            self.push(
                path.to_owned(),
                ChangeKind::Changed,
                format!("description or unit of `{name}` changed"),
                false,
            );
        }
    }

    fn action(&mut self, path: &str, old: &Action, new: &Action) {
        if old.method != new.method || old.path != new.path {
            self.push(
                format!("{path}.path"),
                ChangeKind::Changed,
                format!(
                    "action `{}` moved from {} {} to {} {}",
                    old.name,
                    old.method.as_str(),
                    old.path,
                    new.method.as_str(),
                    new.path
                ),
                true,
            );
        }
        if old.resource != new.resource {
            self.push(
                format!("{path}.resource"),
                ChangeKind::Changed,
                format!("action `{}` now belongs to a different resource", old.name),
                true,
            );
        }
        if old.summary != new.summary {
            self.push(
                format!("{path}.summary"),
                ChangeKind::Changed,
                format!("summary of action `{}` changed", old.name),
                false,
            );
        }
        let (pairs, removed, added) = pair(&old.input, &new.input, |f| &f.name);
        for f in removed {
            self.push(
                format!("{path}.input.{}", f.name),
                ChangeKind::Removed,
                format!("input `{}` of action `{}` removed", f.name, old.name),
                true,
            );
        }
        for f in added {
            self.push(
                format!("{path}.input.{}", f.name),
                ChangeKind::Added,
                format!("input `{}` added to action `{}`", f.name, old.name),
                f.required && f.default.is_none(),
            );
        }
        for (f, n) in pairs {
            self.field(&format!("{path}.input.{}", f.name), f, n, true);
        }
        if old.output != new.output {
            let breaking = match (&old.output, &new.output) {
                (ActionOutput::Object { fields: a }, ActionOutput::Object { fields: b }) => {
                    // Responses may grow; a field that disappears or changes type breaks
                    // readers.
                    a.iter().any(|f| {
                        b.iter()
                            .find(|n| n.name == f.name)
                            .is_none_or(|n| n.ty != f.ty)
                    })
                }
                _ => true,
            };
            self.push(
                format!("{path}.output"),
                ChangeKind::Changed,
                format!("what action `{}` returns changed", old.name),
                breaking,
            );
        }
        if old.behavior != new.behavior {
            self.push(
                format!("{path}.behavior"),
                ChangeKind::Changed,
                format!("behaviour of action `{}` changed", old.name),
                false,
            );
        }
    }
}

fn quote_list(values: &[&String]) -> String {
    values
        .iter()
        .map(|v| format!("{v:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or_else(|| "none".to_owned(), |v| v.to_string())
}
