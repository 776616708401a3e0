//! A design as a tree of lines — resources, their fields, relations and list
//! options; auth; actions — with the lines a warning points at marked. The CLI prints
//! it, the TUI styles it; neither rebuilds it.

use super::Review;
use crate::design::validate::type_name;
use crate::design::{ApiDesign, AuthScheme, Field, FieldType, OnDelete, Resource};

/// What a line shows, so a front end can style it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineRole {
    Title,
    Auth,
    Resource,
    Field,
    Relation,
    Operations,
    ListOptions,
    Section,
    Action,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeLine {
    /// Tree glyphs ("│  ├─ ").
    pub prefix: String,
    pub label: String,
    pub detail: String,
    pub role: LineRole,
    /// A warning points at this line's field.
    pub warned: bool,
}

/// Width of the label column of field lines.
const LABEL_WIDTH: usize = 20;

impl TreeLine {
    fn new(prefix: impl Into<String>, label: impl Into<String>, role: LineRole) -> Self {
        Self {
            prefix: prefix.into(),
            label: label.into(),
            detail: String::new(),
            role,
            warned: false,
        }
    }

    fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    /// The line as plain text; a warned line ends with "⚠".
    pub fn text(&self) -> String {
        let mut out = format!("{}{}", self.prefix, self.label);
        if !self.detail.is_empty() {
            if matches!(
                self.role,
                LineRole::Field | LineRole::Relation | LineRole::Action
            ) {
                let pad = LABEL_WIDTH.saturating_sub(self.label.chars().count());
                out.push_str(&" ".repeat(pad));
            }
            out.push(' ');
            out.push_str(&self.detail);
        }
        if self.warned {
            out.push_str("  ⚠");
        }
        out
    }
}

/// The design's lines, top to bottom.
pub fn lines(design: &ApiDesign, review: &Review) -> Vec<TreeLine> {
    let mut out = vec![
        TreeLine::new(
            "",
            format!("{} (v{})", design.title, design.version),
            LineRole::Title,
        ),
        TreeLine::new("", "auth:", LineRole::Auth).detail(auth_text(&design.auth)),
    ];
    let n = design.resources.len();
    for (i, r) in design.resources.iter().enumerate() {
        let last = i + 1 == n;
        resource_lines(r, last, review, &mut out);
    }
    if !design.actions.is_empty() {
        out.push(TreeLine::new("", "actions", LineRole::Section));
        let n = design.actions.len();
        for (i, a) in design.actions.iter().enumerate() {
            let glyph = if i + 1 == n { "└─ " } else { "├─ " };
            let mut detail = format!("{} {}", a.method.as_str(), a.path);
            if !a.summary.is_empty() {
                detail.push_str(&format!(" — {}", a.summary));
            }
            out.push(TreeLine::new(glyph, a.name.clone(), LineRole::Action).detail(detail));
        }
    }
    out
}

fn resource_lines(r: &Resource, last: bool, review: &Review, out: &mut Vec<TreeLine>) {
    let (glyph, inner) = if last {
        ("└─ ", "   ")
    } else {
        ("├─ ", "│  ")
    };
    out.push(TreeLine::new(
        glyph,
        format!("{} (/{})", r.name, r.plural),
        LineRole::Resource,
    ));
    let mut children: Vec<TreeLine> = Vec::new();
    for f in &r.fields {
        let mut line = TreeLine::new("", f.name.clone(), LineRole::Field).detail(describe_field(f));
        line.warned = review.flags_field(&r.name, &f.name);
        children.push(line);
    }
    for rel in &r.relations {
        children.push(
            TreeLine::new("", rel.field.clone(), LineRole::Relation).detail(format!(
                "-> {} ({}, on delete {})",
                rel.target,
                if rel.required { "required" } else { "optional" },
                match rel.on_delete {
                    OnDelete::Restrict => "restrict",
                    OnDelete::Cascade => "cascade",
                    OnDelete::SetNull => "set null",
                }
            )),
        );
    }
    let ops = &r.operations;
    let names: Vec<&str> = [
        (ops.list.is_some(), "list"),
        (ops.get, "get"),
        (ops.create, "create"),
        (ops.replace, "replace"),
        (ops.patch, "patch"),
        (ops.delete, "delete"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    children.push(TreeLine::new("", "operations:", LineRole::Operations).detail(names.join(", ")));
    if let Some(list) = &ops.list {
        let mut parts = vec![format!(
            "pages of {} (at most {})",
            list.default_page_size, list.max_page_size
        )];
        for (label, v) in [
            ("filters", &list.filters),
            ("search", &list.search),
            ("sort", &list.sort),
        ] {
            if !v.is_empty() {
                parts.push(format!("{label}: {}", v.join(", ")));
            }
        }
        children.push(TreeLine::new("", "list:", LineRole::ListOptions).detail(parts.join(" · ")));
    }
    let n = children.len();
    for (i, mut child) in children.into_iter().enumerate() {
        child.prefix = format!("{inner}{}", if i + 1 == n { "└─ " } else { "├─ " });
        out.push(child);
    }
}

pub fn auth_text(auth: &AuthScheme) -> String {
    match auth {
        AuthScheme::None => "none".to_owned(),
        AuthScheme::ApiKey { header, env_var } => {
            format!("API key in header {header} (secret from ${env_var})")
        }
        AuthScheme::BearerJwt { env_var } => format!("bearer JWT, HS256 (secret from ${env_var})"),
    }
}

/// A field's type (with its format and enum values) and constraints.
pub fn describe_field(f: &Field) -> String {
    let mut parts = vec![type_name(f.ty).to_owned()];
    if f.ty == FieldType::Enum {
        parts[0] = format!("enum ({})", f.enum_values.join(", "));
    }
    if f.required {
        parts.push("required".into());
    }
    if f.unique {
        parts.push("unique".into());
    }
    match (f.min, f.max) {
        (Some(a), Some(b)) => parts.push(format!("{a}..={b}")),
        (Some(a), None) => parts.push(format!(">= {a}")),
        (None, Some(b)) => parts.push(format!("<= {b}")),
        (None, None) => {}
    }
    match (f.min_length, f.max_length) {
        (Some(a), Some(b)) => parts.push(format!("{a}..={b} chars")),
        (Some(a), None) => parts.push(format!("at least {a} chars")),
        (None, Some(b)) => parts.push(format!("at most {b} chars")),
        (None, None) => {}
    }
    if let Some(p) = &f.pattern {
        parts.push(format!("pattern {p}"));
    }
    if let Some(u) = &f.unit {
        parts.push(format!("in {u}"));
    }
    if let Some(d) = &f.default {
        parts.push(format!("default {d}"));
    }
    parts.join(", ")
}

/// The tree and then the warnings, as `apiforge design` (and `new`, `iterate`) print
/// them.
pub fn text(design: &ApiDesign, review: &Review) -> String {
    let mut out = String::new();
    for line in lines(design, review) {
        out.push_str(&line.text());
        out.push('\n');
    }
    out.push_str(&warnings_text(review));
    out
}

/// "no warnings", or a count and one line per warning (unused words share one).
pub fn warnings_text(review: &Review) -> String {
    if review.is_empty() {
        return "no warnings\n".to_owned();
    }
    let n = review.warnings.len();
    let mut out = format!("{n} warning{}:\n", if n == 1 { "" } else { "s" });
    for line in review.lines() {
        out.push_str(&format!("  ⚠ {line}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::design::review::Warning;
    use crate::design::{Relation, Resource};

    #[test]
    fn the_tree_shows_every_part_and_marks_warned_fields() {
        let mut d = ApiDesign::new("Clinic API");
        let mut patient = Resource::new("patient", "patients");
        let mut name = Field::new("name", FieldType::String);
        name.required = true;
        name.max_length = Some(80);
        let mut status = Field::new("status", FieldType::Enum);
        status.enum_values = vec!["active".into(), "archived".into()];
        patient.fields = vec![name, status, Field::new("appointments", FieldType::Text)];
        patient.operations.list.as_mut().expect("list").filters = vec!["status".into()];
        let mut visit = Resource::new("visit", "visits");
        visit.fields = vec![Field::new("at", FieldType::DateTime)];
        visit.relations.push(Relation {
            target: "patient".into(),
            field: "patient_id".into(),
            required: true,
            on_delete: OnDelete::Cascade,
        });
        visit.operations.replace = false;
        d.resources = vec![patient, visit];
        d.auth = AuthScheme::BearerJwt {
            env_var: "JWT_SECRET".into(),
        };
        let review = Review {
            warnings: vec![
                Warning::SingleValueEnum {
                    resource: "patient".into(),
                    field: "appointments".into(),
                    value: "x".into(),
                },
                Warning::UnusedWord {
                    word: "doctors".into(),
                },
                Warning::UnusedWord {
                    word: "rooms".into(),
                },
            ],
        };
        let expected = "\
Clinic API (v1.0.0)
auth: bearer JWT, HS256 (secret from $JWT_SECRET)
├─ patient (/patients)
│  ├─ name                 string, required, at most 80 chars
│  ├─ status               enum (active, archived)
│  ├─ appointments         text  ⚠
│  ├─ operations: list, get, create, replace, patch, delete
│  └─ list: pages of 20 (at most 100) · filters: status
└─ visit (/visits)
   ├─ at                   date_time
   ├─ patient_id           -> patient (required, on delete cascade)
   ├─ operations: list, get, create, patch, delete
   └─ list: pages of 20 (at most 100)
3 warnings:
  ⚠ patient.appointments is an enum with the single value \"x\": list every value, e.g. \"appointments (a, b, c)\"
  ⚠ words of the prompt not used in the design: doctors, rooms
";
        assert_eq!(text(&d, &review), expected);
    }

    #[test]
    fn no_warnings_is_said() {
        let mut d = ApiDesign::new("T");
        d.resources.push(Resource::new("tag", "tags"));
        assert!(text(&d, &Review::default()).ends_with("no warnings\n"));
    }
}
