//! Checks an [`ApiDesign`] against every rule the generators rely on and reports all
//! problems at once, each with the path of the offending part and a sentence a person
//! can act on.
//!
//! Paths name things by their names where they have one, so they stay readable:
//! `resources.book.fields.price.default`, `resources.book.operations.list.filters`,
//! `actions.cancel_order.path`. A part without a usable name falls back to its index
//! (`resources[2]`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use super::model::{
    Action, ActionBehavior, ActionOutput, ApiDesign, AuthScheme, Field, FieldType, HttpMethod,
    ListOp, OnDelete, Resource, SCHEMA_VERSION,
};

/// Longest accepted name: keeps generated identifiers, table and column names sane.
pub const MAX_NAME_LEN: usize = 60;
/// Largest page size a list operation may offer.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// One problem found in a design.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DesignIssue {
    pub path: String,
    pub message: String,
}

impl fmt::Display for DesignIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every problem found in a design; never empty when returned as an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct DesignErrors {
    pub issues: Vec<DesignIssue>,
}

impl DesignErrors {
    /// One `path: message` line per problem, e.g. to send back to a model for repair.
    pub fn to_lines(&self) -> String {
        self.issues
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl fmt::Display for DesignErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.issues.len();
        write!(
            f,
            "the design has {n} problem{}:",
            if n == 1 { "" } else { "s" }
        )?;
        for issue in &self.issues {
            write!(f, "\n  - {issue}")?;
        }
        Ok(())
    }
}

/// Validates `design`, returning every problem found.
pub fn validate(design: &ApiDesign) -> Result<(), DesignErrors> {
    let mut v = Validator::default();
    v.design(design);
    if v.issues.is_empty() {
        Ok(())
    } else {
        Err(DesignErrors { issues: v.issues })
    }
}

/// Words that cannot be used as names because generated Python or JavaScript code
/// would not compile, or because every resource already has them.
pub fn is_reserved(name: &str) -> bool {
    IMPLICIT.contains(&name) || PYTHON_KEYWORDS.contains(&name) || JS_RESERVED.contains(&name)
}

/// A usable replacement for a reserved or otherwise unusable name.
pub fn suggest_name(name: &str) -> String {
    let known = match name {
        "class" => "category",
        "type" => "kind",
        "default" => "is_default",
        "new" => "is_new",
        "public" => "is_public",
        "private" => "is_private",
        "static" => "is_static",
        "global" => "is_global",
        "from" => "sender",
        "import" => "imported",
        "export" => "exported",
        "return" => "returned",
        "delete" => "deleted",
        "package" => "parcel",
        "case" => "case_file",
        "function" => "purpose",
        "interface" => "interface_name",
        "this" => "self_ref",
        "with" => "companion",
        "yield" => "crop_yield",
        "pass" => "passed",
        "true" | "false" => "flag",
        "none" | "null" => "empty",
        "id" => "external_id",
        "created_at" => "created_on",
        "updated_at" => "updated_on",
        _ => "",
    };
    if known.is_empty() {
        format!("{name}_value")
    } else {
        known.to_owned()
    }
}

/// Whether `name` is snake_case ASCII: lowercase letters and digits in words joined
/// by single underscores, starting with a letter.
pub fn is_snake_case(name: &str) -> bool {
    let bytes = name.as_bytes();
    let Some(first) = bytes.first() else {
        return false;
    };
    if !first.is_ascii_lowercase() || bytes.last() == Some(&b'_') {
        return false;
    }
    let mut prev_underscore = false;
    for &b in bytes {
        match b {
            b'a'..=b'z' | b'0'..=b'9' => prev_underscore = false,
            b'_' if !prev_underscore => prev_underscore = true,
            _ => return false,
        }
    }
    true
}

/// `invoice_line` → `InvoiceLine`, the component-schema name the spec uses.
pub fn pascal_case(name: &str) -> String {
    name.split('_')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

const IMPLICIT: [&str; 3] = ["id", "created_at", "updated_at"];

const PYTHON_KEYWORDS: [&str; 34] = [
    "false", "true", "and", "as", "assert", "async", "await", "break", "class", "continue", "def",
    "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in",
    "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with",
    "yield",
];

const JS_RESERVED: [&str; 41] = [
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "import",
    "in",
    "instanceof",
    "new",
    "null",
    "return",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "yield",
    "let",
    "static",
    "await",
    "arguments",
];

/// Query parameters every list operation already has.
const LIST_PARAMS: [&str; 4] = ["limit", "offset", "sort", "q"];

#[derive(Default)]
struct Validator {
    issues: Vec<DesignIssue>,
}

/// How a name is used, for messages.
#[derive(Clone, Copy)]
enum NameKind {
    Resource,
    Plural,
    Field,
    Action,
    ForeignKey,
}

impl NameKind {
    fn noun(self) -> &'static str {
        match self {
            NameKind::Resource => "resource name",
            NameKind::Plural => "plural",
            NameKind::Field => "field name",
            NameKind::Action => "action name",
            NameKind::ForeignKey => "foreign-key field",
        }
    }
}

fn label(name: &str, index: usize) -> String {
    if is_snake_case(name) {
        format!(".{name}")
    } else {
        format!("[{index}]")
    }
}

impl Validator {
    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.issues.push(DesignIssue {
            path: path.into(),
            message: message.into(),
        });
    }

    fn design(&mut self, d: &ApiDesign) {
        if d.schema_version != SCHEMA_VERSION {
            self.push(
                "schema_version",
                format!(
                    "schema_version is {} but this apiforge reads version {SCHEMA_VERSION}; regenerate the design or set schema_version to {SCHEMA_VERSION}",
                    d.schema_version
                ),
            );
        }
        if d.title.trim().is_empty() {
            self.push(
                "title",
                "the title is empty; give the API a name such as \"Bookstore API\"",
            );
        }
        if !is_semver(&d.version) {
            self.push(
                "version",
                format!(
                    "version {:?} is not a semantic version; use MAJOR.MINOR.PATCH such as \"1.0.0\"",
                    d.version
                ),
            );
        }
        if d.resources.is_empty() {
            self.push(
                "resources",
                "the design has no resources; add at least one, e.g. `book` with a `title` field",
            );
        }
        self.auth(&d.auth);

        let mut names: BTreeMap<&str, usize> = BTreeMap::new();
        let mut plurals: BTreeMap<&str, usize> = BTreeMap::new();
        let mut components: BTreeMap<String, String> = BTreeMap::new();
        for (i, r) in d.resources.iter().enumerate() {
            let path = format!("resources{}", label(&r.name, i));
            if let Some(prev) = names.insert(&r.name, i) {
                self.push(
                    format!("{path}.name"),
                    format!(
                        "resource name `{}` is used by resources {prev} and {i}; each resource needs its own name",
                        r.name
                    ),
                );
            }
            if let Some(prev) = plurals.insert(&r.plural, i) {
                self.push(
                    format!("{path}.plural"),
                    format!(
                        "plural `{}` is used by resources {prev} and {i}; two resources cannot share the path /{}",
                        r.plural, r.plural
                    ),
                );
            }
            self.name(&format!("{path}.name"), &r.name, NameKind::Resource);
            self.name(&format!("{path}.plural"), &r.plural, NameKind::Plural);
            if r.plural == "health" {
                self.push(
                    format!("{path}.plural"),
                    "plural `health` would take over the /health endpoint every API has; choose another name such as `health_records`",
                );
            }
            if is_snake_case(&r.name) {
                let base = pascal_case(&r.name);
                for component in [
                    base.clone(),
                    format!("{base}Create"),
                    format!("{base}Patch"),
                    format!("{base}List"),
                ] {
                    if component == "Problem" {
                        self.push(
                            format!("{path}.name"),
                            format!(
                                "resource name `{}` clashes with the `Problem` error schema; choose another name such as `issue_report`",
                                r.name
                            ),
                        );
                    } else if let Some(other) = components.insert(component.clone(), r.name.clone())
                        && other != r.name
                    {
                        self.push(
                            format!("{path}.name"),
                            format!(
                                "resource name `{}` produces the schema name `{component}`, which resource `{other}` also produces; rename one of them",
                                r.name
                            ),
                        );
                    }
                }
            }
            self.resource(&path, r, d);
        }
        self.actions(d);
    }

    fn auth(&mut self, auth: &AuthScheme) {
        let env_var = match auth {
            AuthScheme::None => return,
            AuthScheme::ApiKey { header, env_var } => {
                let valid = !header.is_empty()
                    && header
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                if !valid {
                    self.push(
                        "auth.header",
                        format!(
                            "header name {header:?} is not a valid HTTP header name; use letters, digits and dashes such as \"X-API-Key\""
                        ),
                    );
                }
                env_var
            }
            AuthScheme::BearerJwt { env_var } => env_var,
        };
        let valid = env_var
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_uppercase() || b == b'_')
            && env_var
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        if !valid {
            self.push(
                "auth.env_var",
                format!(
                    "environment variable name {env_var:?} is not valid; use upper-case letters, digits and underscores such as \"API_KEY\""
                ),
            );
        } else if env_var.starts_with("APIFORGE_")
            || ["PATH", "HOME", "USER", "SHELL", "PWD", "LANG", "TERM"].contains(&env_var.as_str())
        {
            self.push(
                "auth.env_var",
                format!(
                    "environment variable {env_var} is already used by the system or by apiforge; use a dedicated name such as \"API_KEY\" or \"JWT_SECRET\""
                ),
            );
        }
    }

    fn name(&mut self, path: &str, name: &str, kind: NameKind) {
        let noun = kind.noun();
        if name.is_empty() {
            self.push(path, format!("the {noun} is empty"));
            return;
        }
        if !is_snake_case(name) {
            let hint = snake_hint(name);
            let hint = if hint.is_empty() || hint == name {
                String::new()
            } else {
                format!(" such as `{hint}`")
            };
            self.push(
                path,
                format!(
                    "{noun} `{}` is not snake_case ASCII; use lowercase letters, digits and single underscores, starting with a letter{hint}",
                    name.escape_debug()
                ),
            );
            return;
        }
        if name.len() > MAX_NAME_LEN {
            self.push(
                path,
                format!(
                    "{noun} `{name}` is {} characters long; keep names at most {MAX_NAME_LEN} characters",
                    name.len()
                ),
            );
        }
        if matches!(kind, NameKind::Field) && IMPLICIT.contains(&name) {
            self.push(
                path,
                format!(
                    "field name `{name}` is reserved: every resource already has `id`, `created_at` and `updated_at`; remove it or use `{}`",
                    suggest_name(name)
                ),
            );
        } else if is_reserved(name) {
            self.push(
                path,
                format!(
                    "{noun} `{name}` is a reserved word in Python or JavaScript; use `{}` instead",
                    suggest_name(name)
                ),
            );
        }
    }

    fn resource(&mut self, path: &str, r: &Resource, d: &ApiDesign) {
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        for (i, f) in r.fields.iter().enumerate() {
            let fpath = format!("{path}.fields{}", label(&f.name, i));
            if !seen.insert(&f.name) {
                self.push(
                    format!("{fpath}.name"),
                    format!(
                        "field `{}` appears more than once in resource `{}`; keep one",
                        f.name, r.name
                    ),
                );
            }
            self.field(&fpath, f);
        }

        let mut fks: BTreeSet<&str> = BTreeSet::new();
        for (i, rel) in r.relations.iter().enumerate() {
            let rpath = format!("{path}.relations{}", label(&rel.field, i));
            if d.resource(&rel.target).is_none() {
                let known: Vec<&str> = d.resources.iter().map(|r| r.name.as_str()).collect();
                self.push(
                    format!("{rpath}.target"),
                    format!(
                        "resource `{}` belongs to `{}`, which does not exist; add that resource or relate to one of: {}",
                        r.name,
                        rel.target,
                        known.join(", ")
                    ),
                );
            }
            self.name(&format!("{rpath}.field"), &rel.field, NameKind::ForeignKey);
            if !fks.insert(&rel.field) {
                self.push(
                    format!("{rpath}.field"),
                    format!(
                        "foreign-key field `{}` is used by two relations of `{}`; give each relation its own field such as `{}_id`",
                        rel.field, r.name, rel.target
                    ),
                );
            }
            if r.field(&rel.field).is_some() {
                self.push(
                    format!("{rpath}.field"),
                    format!(
                        "foreign-key field `{}` collides with the field of the same name; rename the field or the relation's field",
                        rel.field
                    ),
                );
            }
            if rel.on_delete == OnDelete::SetNull && rel.required {
                self.push(
                    format!("{rpath}.on_delete"),
                    format!(
                        "on_delete set_null needs an optional relation, but `{}` is required; make the relation optional or use restrict or cascade",
                        rel.field
                    ),
                );
            }
            if rel.target == r.name && rel.required {
                self.push(
                    format!("{rpath}.required"),
                    format!(
                        "`{}` belongs to itself through `{}`, so the relation must be optional, or the first `{}` could never be created",
                        r.name, rel.field, r.name
                    ),
                );
            }
        }

        if let Some(list) = &r.operations.list {
            self.list(&format!("{path}.operations.list"), list, r);
        }
    }

    fn field(&mut self, path: &str, f: &Field) {
        self.name(&format!("{path}.name"), &f.name, NameKind::Field);
        let name = &f.name;
        if f.ty == FieldType::Enum {
            if f.enum_values.is_empty() {
                self.push(
                    format!("{path}.enum_values"),
                    format!(
                        "field `{name}` is an enum without values; list them, e.g. [\"open\", \"closed\"]"
                    ),
                );
            }
            let mut seen = BTreeSet::new();
            for (i, v) in f.enum_values.iter().enumerate() {
                if v.trim().is_empty() {
                    self.push(
                        format!("{path}.enum_values[{i}]"),
                        format!("field `{name}` has an empty enum value; remove it"),
                    );
                } else if v.trim() != v {
                    self.push(
                        format!("{path}.enum_values[{i}]"),
                        format!(
                            "enum value {v:?} of field `{name}` has surrounding spaces; write {:?}",
                            v.trim()
                        ),
                    );
                }
                if !seen.insert(v.as_str()) {
                    self.push(
                        format!("{path}.enum_values[{i}]"),
                        format!("field `{name}` lists the enum value {v:?} twice; keep one"),
                    );
                }
            }
        } else if !f.enum_values.is_empty() {
            self.push(
                format!("{path}.enum_values"),
                format!(
                    "field `{name}` has enum values but its type is {}; set the type to enum or remove the values",
                    type_name(f.ty)
                ),
            );
        }

        for (which, value) in [("min", f.min), ("max", f.max)] {
            if let Some(v) = value {
                if !f.ty.is_numeric() {
                    self.push(
                        format!("{path}.{which}"),
                        format!(
                            "field `{name}` is {} but has a {which}; numeric bounds apply only to integer, number and decimal fields",
                            type_name(f.ty)
                        ),
                    );
                } else if !v.is_finite() {
                    self.push(
                        format!("{path}.{which}"),
                        format!("field `{name}` has a {which} that is not a finite number"),
                    );
                } else if f.ty == FieldType::Integer && v.fract() != 0.0 {
                    self.push(
                        format!("{path}.{which}"),
                        format!(
                            "field `{name}` is an integer but its {which} {v} is not a whole number"
                        ),
                    );
                }
            }
        }
        if let (Some(min), Some(max)) = (f.min, f.max)
            && min > max
        {
            self.push(
                format!("{path}.min"),
                format!("field `{name}` has min {min} greater than max {max}"),
            );
        }
        let textual = f.ty.is_textual();
        for (which, present) in [
            ("min_length", f.min_length.is_some()),
            ("max_length", f.max_length.is_some()),
            ("pattern", f.pattern.is_some()),
        ] {
            if present && !textual {
                self.push(
                    format!("{path}.{which}"),
                    format!(
                        "field `{name}` is {} but has a {which}; lengths and patterns apply only to string, text, email, url and phone fields",
                        type_name(f.ty)
                    ),
                );
            }
        }
        if let (Some(min), Some(max)) = (f.min_length, f.max_length)
            && min > max
        {
            self.push(
                format!("{path}.min_length"),
                format!("field `{name}` has min_length {min} greater than max_length {max}"),
            );
        }
        if f.max_length == Some(0) {
            self.push(
                format!("{path}.max_length"),
                format!("field `{name}` has max_length 0, so no value could be stored; raise it"),
            );
        }
        let mut compiled = None;
        if let Some(p) = &f.pattern {
            match regex::Regex::new(&format!("^(?:{p})$")) {
                Ok(re) => compiled = Some(re),
                Err(e) => self.push(
                    format!("{path}.pattern"),
                    format!(
                        "field `{name}` has a pattern that does not compile: {}",
                        first_line(&e.to_string())
                    ),
                ),
            }
        }
        if let Some(default) = &f.default
            && let Err(why) = check_value(f, default, compiled.as_ref())
        {
            self.push(
                format!("{path}.default"),
                format!("the default of field `{name}` {why}"),
            );
        }
    }

    fn list(&mut self, path: &str, list: &ListOp, r: &Resource) {
        for (which, size) in [
            ("default_page_size", list.default_page_size),
            ("max_page_size", list.max_page_size),
        ] {
            if !(1..=MAX_PAGE_SIZE).contains(&size) {
                self.push(
                    format!("{path}.{which}"),
                    format!("{which} is {size}; it must be between 1 and {MAX_PAGE_SIZE}"),
                );
            }
        }
        if list.default_page_size > list.max_page_size {
            self.push(
                format!("{path}.default_page_size"),
                format!(
                    "default_page_size {} is larger than max_page_size {}; clients could not ask for the default",
                    list.default_page_size, list.max_page_size
                ),
            );
        }
        let fk = |n: &str| r.relations.iter().any(|rel| rel.field == n);
        let mut seen = BTreeSet::new();
        for (i, name) in list.filters.iter().enumerate() {
            let p = format!("{path}.filters[{i}]");
            if !seen.insert(name) {
                self.push(&p, format!("filter `{name}` is listed twice; keep one"));
            }
            if LIST_PARAMS.contains(&name.as_str()) {
                self.push(
                    &p,
                    format!(
                        "filter `{name}` collides with the list query parameter of the same name (limit, offset, sort and q are taken); rename the field"
                    ),
                );
                continue;
            }
            match r.field(name) {
                Some(f) if f.ty == FieldType::Json => self.push(
                    &p,
                    format!("`{name}` is a json field and cannot be an exact-match filter; remove it from filters"),
                ),
                Some(_) => {}
                None if fk(name) => {}
                None => self.push(
                    &p,
                    format!(
                        "filter `{name}` names no field or foreign key of `{}`; use one of: {}",
                        r.name,
                        field_names(r, true)
                    ),
                ),
            }
        }
        let mut seen = BTreeSet::new();
        for (i, name) in list.search.iter().enumerate() {
            let p = format!("{path}.search[{i}]");
            if !seen.insert(name) {
                self.push(
                    &p,
                    format!("search field `{name}` is listed twice; keep one"),
                );
            }
            match r.field(name) {
                Some(f) if f.ty.is_textual() => {}
                Some(f) => self.push(
                    &p,
                    format!(
                        "search field `{name}` is {}; `?q=` searches text, so use string or text fields, or make `{name}` a filter instead",
                        type_name(f.ty)
                    ),
                ),
                None => self.push(
                    &p,
                    format!(
                        "search field `{name}` names no field of `{}`; use one of: {}",
                        r.name,
                        field_names(r, false)
                    ),
                ),
            }
        }
        let mut seen = BTreeSet::new();
        for (i, name) in list.sort.iter().enumerate() {
            let p = format!("{path}.sort[{i}]");
            if !seen.insert(name) {
                self.push(&p, format!("sort field `{name}` is listed twice; keep one"));
            }
            if name == "id" {
                self.push(&p, "`id` is always sortable; remove it from sort");
                continue;
            }
            match r.field(name) {
                Some(f) if f.ty == FieldType::Json => self.push(
                    &p,
                    format!(
                        "`{name}` is a json field and cannot be sorted by; remove it from sort"
                    ),
                ),
                Some(_) => {}
                None if fk(name) => {}
                None => self.push(
                    &p,
                    format!(
                        "sort field `{name}` names no field or foreign key of `{}`; use one of: {}",
                        r.name,
                        field_names(r, true)
                    ),
                ),
            }
        }
    }

    fn actions(&mut self, d: &ApiDesign) {
        // Routes CRUD already serves: (method, normalised path) → what serves it.
        let mut routes: BTreeMap<(&'static str, String), String> = BTreeMap::new();
        routes.insert(("GET", "/health".into()), "the health check".into());
        let mut operation_ids: BTreeSet<String> = BTreeSet::new();
        for r in &d.resources {
            let ops = &r.operations;
            let coll = format!("/{}", r.plural);
            let item = format!("/{}/{{}}", r.plural);
            let mut add = |on: bool, m: HttpMethod, p: &str, what: &str, op_id: String| {
                if on {
                    routes.insert(
                        (m.as_str(), p.to_owned()),
                        format!("the {what} operation of `{}`", r.name),
                    );
                    operation_ids.insert(op_id);
                }
            };
            add(
                ops.list.is_some(),
                HttpMethod::Get,
                &coll,
                "list",
                format!("list_{}", r.plural),
            );
            add(
                ops.create,
                HttpMethod::Post,
                &coll,
                "create",
                format!("create_{}", r.name),
            );
            add(
                ops.get,
                HttpMethod::Get,
                &item,
                "get",
                format!("get_{}", r.name),
            );
            add(
                ops.replace,
                HttpMethod::Put,
                &item,
                "replace",
                format!("replace_{}", r.name),
            );
            add(
                ops.patch,
                HttpMethod::Patch,
                &item,
                "patch",
                format!("patch_{}", r.name),
            );
            add(
                ops.delete,
                HttpMethod::Delete,
                &item,
                "delete",
                format!("delete_{}", r.name),
            );
        }
        let mut names = BTreeSet::new();
        for (i, a) in d.actions.iter().enumerate() {
            let path = format!("actions{}", label(&a.name, i));
            self.name(&format!("{path}.name"), &a.name, NameKind::Action);
            if !names.insert(a.name.as_str()) {
                self.push(
                    format!("{path}.name"),
                    format!(
                        "action name `{}` is used twice; each action needs its own name",
                        a.name
                    ),
                );
            }
            if operation_ids.contains(&a.name) {
                self.push(
                    format!("{path}.name"),
                    format!(
                        "action name `{}` is already the operationId of a CRUD operation; choose another name",
                        a.name
                    ),
                );
            }
            let resource = match &a.resource {
                Some(rn) => {
                    let r = d.resource(rn);
                    if r.is_none() {
                        self.push(
                            format!("{path}.resource"),
                            format!(
                                "action `{}` belongs to resource `{rn}`, which does not exist",
                                a.name
                            ),
                        );
                    }
                    r
                }
                None => None,
            };
            if let Some(normal) = self.action_path(&path, a) {
                let key = (a.method.as_str(), normal);
                if let Some(owner) = routes.get(&key) {
                    self.push(
                        format!("{path}.path"),
                        format!(
                            "{} {} is already served by {owner}; choose another path or method",
                            a.method.as_str(),
                            a.path
                        ),
                    );
                } else {
                    routes.insert(key, format!("action `{}`", a.name));
                }
            }
            let mut seen = BTreeSet::new();
            for (j, f) in a.input.iter().enumerate() {
                let fpath = format!("{path}.input{}", label(&f.name, j));
                if !seen.insert(&f.name) {
                    self.push(
                        format!("{fpath}.name"),
                        format!("input field `{}` appears twice; keep one", f.name),
                    );
                }
                self.field(&fpath, f);
            }
            if let ActionOutput::Object { fields } = &a.output {
                let mut seen = BTreeSet::new();
                for (j, f) in fields.iter().enumerate() {
                    let fpath = format!("{path}.output.fields{}", label(&f.name, j));
                    if !seen.insert(&f.name) {
                        self.push(
                            format!("{fpath}.name"),
                            format!("output field `{}` appears twice; keep one", f.name),
                        );
                    }
                    self.field(&fpath, f);
                }
            }
            if matches!(a.output, ActionOutput::Resource) && a.resource.is_none() {
                self.push(
                    format!("{path}.output"),
                    format!(
                        "action `{}` returns its resource but names none; set `resource` or return an object or nothing",
                        a.name
                    ),
                );
            }
            self.behavior(&path, a, resource);
        }
    }

    /// Checks an action path and returns it with parameters normalised to `{}`.
    fn action_path(&mut self, path: &str, a: &Action) -> Option<String> {
        let p = &a.path;
        let p_path = format!("{path}.path");
        if !p.starts_with('/') {
            self.push(
                p_path,
                format!("path {p:?} must start with `/`, e.g. \"/orders/{{id}}/cancel\""),
            );
            return None;
        }
        let mut ok = true;
        let mut normal = String::new();
        for seg in p.split('/').skip(1) {
            if seg.is_empty() {
                if p.len() > 1 {
                    self.push(
                        &p_path,
                        format!(
                            "path {p:?} has an empty segment (`//` or a trailing `/`); remove it"
                        ),
                    );
                    ok = false;
                }
                break;
            }
            normal.push('/');
            if seg.starts_with('{') || seg.ends_with('}') {
                if seg != "{id}" {
                    self.push(
                        &p_path,
                        format!(
                            "path {p:?} has the parameter `{seg}`; only `{{id}}` (the id of the action's resource) is supported"
                        ),
                    );
                    ok = false;
                } else if a.resource.is_none() {
                    self.push(
                        &p_path,
                        format!(
                            "path {p:?} uses `{{id}}` but the action names no resource; set `resource` to the resource the id refers to"
                        ),
                    );
                    ok = false;
                }
                normal.push_str("{}");
            } else if seg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
            {
                normal.push_str(seg);
            } else {
                self.push(
                    &p_path,
                    format!("path segment {seg:?} may use only letters, digits, `_`, `-` and `.`"),
                );
                ok = false;
            }
        }
        if normal.is_empty() {
            normal.push('/');
        }
        ok.then_some(normal)
    }

    fn behavior(&mut self, path: &str, a: &Action, resource: Option<&Resource>) {
        match &a.behavior {
            ActionBehavior::SetField { field, value, from } => {
                let bpath = format!("{path}.behavior.field");
                let Some(r) = resource else {
                    if a.resource.is_none() {
                        self.push(
                            bpath,
                            format!(
                                "action `{}` sets field `{field}` but names no resource; set `resource`",
                                a.name
                            ),
                        );
                    }
                    return;
                };
                let Some(f) = r.field(field) else {
                    self.push(
                        bpath,
                        format!(
                            "action `{}` sets field `{field}`, which `{}` does not have; use one of: {}",
                            a.name,
                            r.name,
                            field_names(r, false)
                        ),
                    );
                    return;
                };
                let pattern = f
                    .pattern
                    .as_ref()
                    .and_then(|p| regex::Regex::new(&format!("^(?:{p})$")).ok());
                if let Err(why) = check_value(f, value, pattern.as_ref()) {
                    self.push(
                        format!("{path}.behavior.value"),
                        format!("the value action `{}` sets on `{field}` {why}", a.name),
                    );
                }
                for (i, v) in from.iter().enumerate() {
                    if let Err(why) = check_value(f, v, pattern.as_ref()) {
                        self.push(
                            format!("{path}.behavior.from[{i}]"),
                            format!("the precondition value for `{field}` {why}"),
                        );
                    }
                }
            }
            ActionBehavior::Custom { fastapi, express } => {
                let empty = |b: &Option<String>| b.as_deref().is_none_or(|s| s.trim().is_empty());
                if empty(fastapi) && empty(express) {
                    self.push(
                        format!("{path}.behavior"),
                        format!(
                            "action `{}` is custom but has no handler body; write one for fastapi or express, or use not_implemented",
                            a.name
                        ),
                    );
                }
            }
            ActionBehavior::NotImplemented => {}
        }
    }
}

/// Checks that `value` is acceptable for `f`; the error completes the sentence
/// "the default of field `x` …".
pub(crate) fn check_value(
    f: &Field,
    value: &Value,
    pattern: Option<&regex::Regex>,
) -> Result<(), String> {
    let ty = type_name(f.ty);
    let wrong = || format!("is {}, which is not a valid {ty} value", short_json(value));
    if value.is_null() {
        return Err("is null; remove the default instead".to_owned());
    }
    match f.ty {
        FieldType::Integer | FieldType::Number | FieldType::Decimal => {
            let Some(n) = value.as_f64() else {
                return Err(wrong());
            };
            if f.ty == FieldType::Integer && !(value.is_i64() || value.is_u64()) {
                return Err(format!(
                    "is {}, which is not a whole number",
                    short_json(value)
                ));
            }
            if let Some(min) = f.min
                && n < min
            {
                return Err(format!("is {n}, below the minimum {min}"));
            }
            if let Some(max) = f.max
                && n > max
            {
                return Err(format!("is {n}, above the maximum {max}"));
            }
            Ok(())
        }
        FieldType::Boolean => value.is_boolean().then_some(()).ok_or_else(wrong),
        FieldType::Json => value
            .is_object()
            .then_some(())
            .ok_or_else(|| format!("is {}, but json fields hold objects", short_json(value))),
        FieldType::Enum => {
            let Some(s) = value.as_str() else {
                return Err(wrong());
            };
            if f.enum_values.iter().any(|v| v == s) {
                Ok(())
            } else {
                Err(format!(
                    "is {s:?}, which is not one of its values ({})",
                    f.enum_values.join(", ")
                ))
            }
        }
        _ => {
            let Some(s) = value.as_str() else {
                return Err(wrong());
            };
            let well_formed = match f.ty {
                FieldType::Date => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok(),
                FieldType::DateTime => chrono::DateTime::parse_from_rfc3339(s).is_ok(),
                FieldType::Time => is_time(s),
                FieldType::Email => is_email(s),
                FieldType::Url => is_url(s),
                FieldType::Phone => is_phone(s),
                FieldType::Uuid => uuid::Uuid::parse_str(s).is_ok(),
                _ => true,
            };
            if !well_formed {
                return Err(wrong());
            }
            let len = u32::try_from(s.chars().count()).unwrap_or(u32::MAX);
            if let Some(min) = f.min_length
                && len < min
            {
                return Err(format!(
                    "is {len} characters long, shorter than min_length {min}"
                ));
            }
            if let Some(max) = f.max_length
                && len > max
            {
                return Err(format!(
                    "is {len} characters long, longer than max_length {max}"
                ));
            }
            if let Some(re) = pattern
                && !re.is_match(s)
            {
                return Err(format!("is {s:?}, which does not match its pattern"));
            }
            Ok(())
        }
    }
}

pub fn type_name(ty: FieldType) -> &'static str {
    match ty {
        FieldType::String => "string",
        FieldType::Text => "text",
        FieldType::Integer => "integer",
        FieldType::Number => "number",
        FieldType::Decimal => "decimal",
        FieldType::Boolean => "boolean",
        FieldType::Date => "date",
        FieldType::DateTime => "date_time",
        FieldType::Time => "time",
        FieldType::Email => "email",
        FieldType::Url => "url",
        FieldType::Phone => "phone",
        FieldType::Uuid => "uuid",
        FieldType::Enum => "enum",
        FieldType::Json => "json",
    }
}

fn field_names(r: &Resource, with_fks: bool) -> String {
    let mut names: Vec<&str> = r.fields.iter().map(|f| f.name.as_str()).collect();
    if with_fks {
        names.extend(r.relations.iter().map(|rel| rel.field.as_str()));
    }
    if names.is_empty() {
        "(it has no fields)".to_owned()
    } else {
        names.join(", ")
    }
}

fn short_json(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 40 {
        let cut: String = s.chars().take(40).collect();
        format!("{cut}…")
    } else {
        s
    }
}

fn first_line(s: &str) -> &str {
    s.lines()
        .map(str::trim)
        .rfind(|l| l.starts_with("error:"))
        .unwrap_or_else(|| s.lines().next().unwrap_or(s))
}

fn snake_hint(name: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
            prev_lower = false;
        }
    }
    let trimmed = out.trim_matches('_');
    let trimmed = trimmed.trim_start_matches(|c: char| c.is_ascii_digit() || c == '_');
    trimmed.to_owned()
}

fn is_semver(v: &str) -> bool {
    let core = v.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

fn is_time(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    let num = |p: &str, max: u32| {
        p.len() == 2
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u32>().is_ok_and(|n| n <= max)
    };
    match parts.as_slice() {
        [h, m] => num(h, 23) && num(m, 59),
        [h, m, sec] => num(h, 23) && num(m, 59) && num(sec, 59),
        _ => false,
    }
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
        && !domain.contains('@')
}

fn is_url(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once("://") else {
        return false;
    };
    scheme
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.')
        && !rest.is_empty()
        && !s.chars().any(char::is_whitespace)
}

/// The contract's phone pattern: `^\+?[0-9 ()-]{6,20}$`.
fn is_phone(s: &str) -> bool {
    let body = s.strip_prefix('+').unwrap_or(s);
    (6..=20).contains(&body.len())
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b' ' | b'(' | b')' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_rules() {
        for ok in ["a", "book", "invoice_line", "x2", "a_1"] {
            assert!(is_snake_case(ok), "{ok}");
        }
        for bad in ["", "Book", "_a", "a_", "a__b", "1a", "a-b", "a b", "é"] {
            assert!(!is_snake_case(bad), "{bad}");
        }
    }

    #[test]
    fn pascal() {
        assert_eq!(pascal_case("invoice_line"), "InvoiceLine");
    }

    #[test]
    fn time_and_phone() {
        assert!(is_time("09:30") && is_time("23:59:59"));
        assert!(!is_time("24:00") && !is_time("9:30"));
        assert!(is_phone("+1 (555) 123-4567") && !is_phone("12"));
    }
}
