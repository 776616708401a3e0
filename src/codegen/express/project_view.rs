//! What the Express templates see: the design resolved into names, JavaScript literals,
//! SQL and test data, so the templates hold no logic beyond loops and conditions.

use std::collections::{BTreeSet, HashSet};

use serde::Serialize;
use serde_json::Value;

use super::field_examples;
use super::js_value::{JsValue, camel_case, is_reserved};
use crate::codegen::CodegenError;
use crate::design::{
    Action, ActionBehavior, ActionOutput, ApiDesign, AuthScheme, Field, FieldType, OnDelete,
    Relation, Resource,
};
use crate::runtimes::node;

/// Sample bodies per resource in the tests: enough for pages, sorts and parents.
const SAMPLE_COUNT: usize = 8;

#[derive(Debug, Serialize)]
pub struct ProjectView {
    pub title: String,
    /// The title made safe for a JavaScript comment.
    pub title_line: String,
    pub description: String,
    pub description_json: String,
    pub version: String,
    /// The version as a JSON string literal (package.json).
    pub version_json: String,
    pub slug: String,
    pub auth: AuthView,
    pub curl_auth: String,
    pub probe: Probe,
    pub dependencies: Vec<Dependency>,
    pub schema: Vec<String>,
    pub resources: Vec<ResourceView>,
    pub actions: Vec<ActionView>,
    /// Paths only custom actions serve, with their methods, for 405 answers.
    pub action_paths: Vec<ActionPath>,
}

#[derive(Debug, Serialize)]
pub struct ActionPath {
    pub express_path: String,
    pub methods: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct AuthView {
    /// `none`, `api_key` or `bearer_jwt`.
    pub kind: &'static str,
    pub header: String,
    pub env_var: String,
}

/// A request the auth tests send, and its status once credentials are valid.
#[derive(Debug, Serialize)]
pub struct Probe {
    pub path: String,
    pub status: u16,
}

#[derive(Debug, Serialize)]
pub struct Dependency {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ops {
    pub list: bool,
    pub get: bool,
    pub create: bool,
    pub replace: bool,
    pub patch: bool,
    pub delete: bool,
}

#[derive(Debug, Serialize)]
pub struct ResourceView {
    pub name: String,
    /// "a book", "an author".
    pub a_name: String,
    pub plural: String,
    pub path: String,
    pub summary: String,
    /// The resource definition's variable name in resources.js.
    pub var: String,
    pub router_fn: String,
    pub repo_var: String,
    pub item_var: String,
    pub ops: Ops,
    /// `const <var> = { ... };`
    pub definition: String,
    /// Whether tests can create records (create offered, required parents creatable).
    pub creatable: bool,
    pub samples: String,
    pub required_parents: Vec<ParentView>,
    pub required: Option<String>,
    pub invalid: Option<String>,
    pub defaults: Option<String>,
    pub unique: Vec<String>,
    pub default_page_size: u32,
    pub max_page_size: u32,
    pub sort: Vec<String>,
    pub filters: Vec<FilterView>,
    pub search: Option<SearchView>,
    pub relation_fields: String,
    pub patch: String,
    pub relations: Vec<RelationView>,
    pub disabled: Vec<DisabledOp>,
    pub curl_body: String,
}

/// An operation the design leaves out: its route must not exist.
#[derive(Debug, Serialize)]
pub struct DisabledOp {
    pub method: &'static str,
    /// As documented (`/things/{id}`).
    pub path: String,
    pub request_path: String,
    pub body: bool,
    /// Another method is served at the path, so the answer is 405 rather than 404.
    pub served: bool,
}

#[derive(Debug, Serialize)]
pub struct ParentView {
    pub field: String,
    pub target: String,
}

#[derive(Debug, Serialize)]
pub struct FilterView {
    pub field: String,
    /// Samples 0 and 1 differ in this field, so filtering must tell them apart.
    pub distinct: bool,
    /// A query value the server must reject (URL-safe), when the type has one.
    pub invalid: Option<String>,
    /// Tests can exercise this filter (not a JSON field; a parent can be created).
    pub testable: bool,
    /// For a foreign key: the parent resource, created explicitly for each record.
    pub parent: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SearchView {
    /// JS string literal: part of sample 0's text, upper-cased.
    pub needle: String,
    pub excludes_second: bool,
}

#[derive(Debug, Serialize)]
pub struct RelationView {
    pub field: String,
    pub target: String,
    pub a_target: String,
    pub target_path: String,
    pub on_delete: &'static str,
    pub testable: bool,
    pub effect: String,
}

#[derive(Debug, Serialize)]
pub struct ActionView {
    pub name: String,
    pub method: &'static str,
    pub method_lower: String,
    pub path: String,
    pub express_path: String,
    pub summary: String,
    /// `set_field`, `custom` or `not_implemented`.
    pub behavior: &'static str,
    pub fn_name: String,
    /// A placeholder line for the handler body; see [`ProjectView::custom_bodies`].
    pub custom_body: String,
    /// The handler body itself, swapped in after rendering so that not even
    /// whitespace clean-up touches it.
    #[serde(skip)]
    pub custom_source: String,
    /// JS array of input field definitions, when the action takes a body.
    pub input: Option<String>,
    pub input_sample: Option<String>,
    pub field: String,
    pub value: String,
    pub from: Option<String>,
    pub output_empty: bool,
    pub resource_var: String,
    pub resource_name: String,
    pub resource_path: String,
    pub resource_get: bool,
    pub testable: bool,
    pub start: Option<String>,
    pub blocked: Option<String>,
    /// JS template-literal path with `${record.id}` for `{id}`.
    pub test_path: String,
    /// The path with every parameter set to 1.
    pub placeholder_path: String,
}

impl ProjectView {
    pub fn new(design: &ApiDesign) -> Result<Self, CodegenError> {
        check_names(design)?;
        let auth = auth_view(&design.auth)?;
        let curl_auth = match &design.auth {
            AuthScheme::None => String::new(),
            AuthScheme::ApiKey { header, env_var } => format!(" -H \"{header}: ${env_var}\""),
            AuthScheme::BearerJwt { .. } => " -H \"Authorization: Bearer $TOKEN\"".to_owned(),
        };
        let creatable = creatable_resources(design);
        let resources = design
            .resources
            .iter()
            .map(|r| resource_view(design, r, &creatable))
            .collect::<Result<Vec<_>, _>>()?;
        let actions = design
            .actions
            .iter()
            .map(|a| action_view(design, a, &creatable))
            .collect::<Result<Vec<_>, _>>()?;
        let probe = resources
            .iter()
            .find(|r| r.ops.list)
            .map(|r| Probe {
                path: r.path.clone(),
                status: 200,
            })
            .or_else(|| {
                resources.iter().find(|r| r.ops.get).map(|r| Probe {
                    path: format!("{}/999999", r.path),
                    status: 404,
                })
            })
            .unwrap_or(Probe {
                path: "/no/such/route".to_owned(),
                status: 404,
            });
        Ok(Self {
            title: design.title.clone(),
            title_line: comment_text(&design.title),
            description: design.description.clone(),
            description_json: serde_json::to_string(&design.description).unwrap_or_default(),
            version: design.version.clone(),
            version_json: serde_json::to_string(&design.version).unwrap_or_default(),
            slug: slug(&design.title),
            auth,
            curl_auth,
            probe,
            dependencies: node::pinned_dependencies()
                .into_iter()
                .map(|(name, version)| Dependency { name, version })
                .collect(),
            schema: design
                .resources_parent_first()
                .into_iter()
                .flat_map(|r| table_sql(design, r))
                .collect(),
            resources,
            action_paths: action_paths(design, &actions),
            actions,
        })
    }

    /// (placeholder, handler body) for every custom handler.
    pub fn custom_bodies(&self) -> impl Iterator<Item = (&str, &str)> {
        self.actions
            .iter()
            .filter(|a| a.behavior == "custom")
            .map(|a| (a.custom_body.as_str(), a.custom_source.as_str()))
    }

    pub fn has_action_tests(&self) -> bool {
        self.actions
            .iter()
            .any(|a| (a.behavior == "set_field" && a.testable) || a.behavior == "not_implemented")
    }
}

/// "a book", "an author" (by spelling, which is right often enough for test names).
fn with_article(name: &str) -> String {
    let words = name.replace('_', " ");
    let article = if words.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {words}")
}

/// One line that cannot end a JavaScript comment early.
fn comment_text(text: &str) -> String {
    text.replace(['\r', '\n', '\u{2028}', '\u{2029}'], " ")
        .replace("*/", "* /")
}

fn unsupported(message: String) -> CodegenError {
    CodegenError::Unsupported(message)
}

fn is_snake_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Names end up in JavaScript identifiers, SQL and paths: refuse anything else than
/// what the IR promises (snake_case ASCII) instead of generating broken code.
fn check_names(design: &ApiDesign) -> Result<(), CodegenError> {
    if design.resources.is_empty() {
        return Err(unsupported("the design has no resources".to_owned()));
    }
    let mut seen = BTreeSet::new();
    for r in &design.resources {
        for name in [&r.name, &r.plural] {
            // Singular and plural may coincide ("sheep"), but not across resources.
            if !seen.insert(camel_case(name)) && r.name != r.plural {
                return Err(unsupported(format!(
                    "two resources are both called {name:?}"
                )));
            }
        }
        let mut fields = BTreeSet::new();
        for name in r
            .fields
            .iter()
            .map(|f| &f.name)
            .chain(r.relations.iter().map(|rel| &rel.field))
        {
            if !fields.insert(name) {
                return Err(unsupported(format!(
                    "{} has two fields called {name:?}",
                    r.name
                )));
            }
        }
    }
    let mut actions = BTreeSet::new();
    for a in &design.actions {
        if !is_snake_identifier(&a.name) || !actions.insert(&a.name) {
            return Err(unsupported(format!(
                "action name {:?} must be a unique snake_case name",
                a.name
            )));
        }
    }
    for r in &design.resources {
        for name in [&r.name, &r.plural] {
            if !is_snake_identifier(name) {
                return Err(unsupported(format!(
                    "resource name {name:?} must be snake_case ASCII"
                )));
            }
        }
        let names = r
            .fields
            .iter()
            .map(|f| &f.name)
            .chain(r.relations.iter().map(|rel| &rel.field));
        for name in names {
            if !is_snake_identifier(name)
                || ["id", "created_at", "updated_at"].contains(&name.as_str())
            {
                return Err(unsupported(format!(
                    "field {}.{name} must be a snake_case name other than id, created_at, updated_at",
                    r.name
                )));
            }
        }
        for rel in &r.relations {
            if design.resource(&rel.target).is_none() {
                return Err(unsupported(format!(
                    "{}.{} refers to unknown resource {:?}",
                    r.name, rel.field, rel.target
                )));
            }
        }
        for f in &r.fields {
            if f.ty == FieldType::Enum && f.enum_values.is_empty() {
                return Err(unsupported(format!(
                    "enum field {}.{} has no values",
                    r.name, f.name
                )));
            }
        }
    }
    Ok(())
}

fn auth_view(auth: &AuthScheme) -> Result<AuthView, CodegenError> {
    let env_ok = |v: &str| {
        let mut chars = v.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let (kind, header, env_var) = match auth {
        AuthScheme::None => ("none", String::new(), String::new()),
        AuthScheme::ApiKey { header, env_var } => ("api_key", header.clone(), env_var.clone()),
        AuthScheme::BearerJwt { env_var } => ("bearer_jwt", String::new(), env_var.clone()),
    };
    if kind != "none" && !env_ok(&env_var) {
        return Err(unsupported(format!(
            "auth env var {env_var:?} must be a plain name like API_KEY"
        )));
    }
    if kind == "api_key"
        && (header.is_empty()
            || !header
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-'))
    {
        return Err(unsupported(format!(
            "API key header {header:?} must be a header name like X-API-Key"
        )));
    }
    Ok(AuthView {
        kind,
        header,
        env_var,
    })
}

/// npm package name: lower-case, URL-safe.
fn slug(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    if out.is_empty() {
        "api".to_owned()
    } else {
        out.chars().take(100).collect()
    }
}

/// Resources tests can create: create is offered and every required parent is
/// creatable too (a cycle of required relations can never be satisfied).
fn creatable_resources(design: &ApiDesign) -> BTreeSet<String> {
    let mut creatable = BTreeSet::new();
    loop {
        let before = creatable.len();
        for r in &design.resources {
            if r.operations.create
                && r.relations
                    .iter()
                    .filter(|rel| rel.required)
                    .all(|rel| creatable.contains(&rel.target))
            {
                creatable.insert(r.name.clone());
            }
        }
        if creatable.len() == before {
            return creatable;
        }
    }
}

fn identifier(base: String, taken: &[&str], suffix: &str) -> String {
    if is_reserved(&base) || taken.contains(&base.as_str()) {
        format!("{base}{suffix}")
    } else {
        base
    }
}

/// Identifiers a route module already uses.
const ROUTE_NAMES: &[&str] = &[
    "express",
    "resource",
    "router",
    "db",
    "req",
    "res",
    "id",
    "parseId",
    "parseListQuery",
    "validateBody",
    "Repository",
];

fn type_name(ty: FieldType) -> String {
    serde_json::to_value(ty)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn number(n: f64) -> JsValue {
    if n.fract() == 0.0 && n.abs() < 9e15 {
        JsValue::Number((n as i64).into())
    } else {
        serde_json::Number::from_f64(n).map_or(JsValue::Null, JsValue::Number)
    }
}

fn field_definition(field: &Field) -> JsValue {
    let mut entries = vec![
        ("name".to_owned(), JsValue::str(&field.name)),
        ("type".to_owned(), JsValue::str(type_name(field.ty))),
        ("required".to_owned(), JsValue::Bool(field.required)),
    ];
    let mut add = |key: &str, value: JsValue| entries.push((key.to_owned(), value));
    if let Some(default) = &field.default {
        add("default", JsValue::from(default));
    }
    if !field.enum_values.is_empty() {
        add(
            "enum",
            JsValue::Array(field.enum_values.iter().map(JsValue::str).collect()),
        );
    }
    if let Some(min) = field.min {
        add("min", number(min));
    }
    if let Some(max) = field.max {
        add("max", number(max));
    }
    if let Some(min) = field.min_length {
        add("minLength", JsValue::Number(min.into()));
    }
    if let Some(max) = field.max_length {
        add("maxLength", JsValue::Number(max.into()));
    }
    if let Some(pattern) = &field.pattern {
        add("pattern", JsValue::str(pattern));
    }
    JsValue::Object(entries)
}

fn relation_field(design: &ApiDesign, rel: &Relation) -> JsValue {
    let plural = design
        .resource(&rel.target)
        .map(|t| t.plural.clone())
        .unwrap_or_default();
    JsValue::object([
        ("name", JsValue::str(&rel.field)),
        ("type", JsValue::str("integer")),
        ("required", JsValue::Bool(rel.required)),
        ("min", JsValue::Number(1.into())),
        ("references", JsValue::str(plural)),
    ])
}

fn on_delete_name(on_delete: OnDelete) -> &'static str {
    match on_delete {
        OnDelete::Restrict => "restrict",
        OnDelete::Cascade => "cascade",
        OnDelete::SetNull => "set_null",
    }
}

fn definition(design: &ApiDesign, r: &Resource, var: &str) -> String {
    let list = r.operations.list.clone().unwrap_or_default();
    let fields: Vec<JsValue> = r
        .fields
        .iter()
        .map(field_definition)
        .chain(r.relations.iter().map(|rel| relation_field(design, rel)))
        .collect();
    let relations: Vec<JsValue> = r
        .relations
        .iter()
        .map(|rel| {
            JsValue::object([
                ("field", JsValue::str(&rel.field)),
                ("target", JsValue::str(&rel.target)),
                (
                    "targetPlural",
                    JsValue::str(
                        design
                            .resource(&rel.target)
                            .map(|t| t.plural.clone())
                            .unwrap_or_default(),
                    ),
                ),
                ("required", JsValue::Bool(rel.required)),
                ("onDelete", JsValue::str(on_delete_name(rel.on_delete))),
            ])
        })
        .collect();
    let strings = |items: &[String]| JsValue::Array(items.iter().map(JsValue::str).collect());
    let sort: Vec<String> = list.sort.iter().filter(|s| *s != "id").cloned().collect();
    let value = JsValue::object([
        ("name", JsValue::str(&r.name)),
        ("plural", JsValue::str(&r.plural)),
        ("fields", JsValue::Array(fields)),
        ("relations", JsValue::Array(relations)),
        (
            "list",
            JsValue::object([
                (
                    "defaultPageSize",
                    JsValue::Number(list.default_page_size.into()),
                ),
                ("maxPageSize", JsValue::Number(list.max_page_size.into())),
                ("filters", strings(&list.filters)),
                ("search", strings(&list.search)),
                ("sort", strings(&sort)),
            ]),
        ),
    ]);
    format!("const {var} = {};", value.render(0))
}

fn column_type(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Integer | FieldType::Boolean => "INTEGER",
        FieldType::Number | FieldType::Decimal => "REAL",
        _ => "TEXT",
    }
}

fn table_sql(design: &ApiDesign, r: &Resource) -> Vec<String> {
    let mut columns = vec!["\"id\" INTEGER PRIMARY KEY AUTOINCREMENT".to_owned()];
    for f in &r.fields {
        let mut column = format!("\"{}\" {}", f.name, column_type(f.ty));
        if f.required {
            column.push_str(" NOT NULL");
        }
        if f.unique {
            column.push_str(" UNIQUE");
        }
        columns.push(column);
    }
    for rel in &r.relations {
        let target = design
            .resource(&rel.target)
            .map(|t| t.plural.as_str())
            .unwrap_or_default();
        let action = match rel.on_delete {
            OnDelete::Restrict => "RESTRICT",
            OnDelete::Cascade => "CASCADE",
            OnDelete::SetNull => "SET NULL",
        };
        columns.push(format!(
            "\"{}\" INTEGER{} REFERENCES \"{target}\" (\"id\") ON DELETE {action}",
            rel.field,
            if rel.required { " NOT NULL" } else { "" }
        ));
    }
    columns.push("\"created_at\" TEXT NOT NULL".to_owned());
    columns.push("\"updated_at\" TEXT NOT NULL".to_owned());
    let mut statements = vec![format!(
        "CREATE TABLE IF NOT EXISTS \"{}\" (\n    {}\n  )",
        r.plural,
        columns.join(",\n    ")
    )];
    for rel in &r.relations {
        statements.push(format!(
            "CREATE INDEX IF NOT EXISTS \"{0}_{1}\" ON \"{0}\" (\"{1}\")",
            r.plural, rel.field
        ));
    }
    statements
}

/// `SAMPLE_COUNT` valid bodies (foreign keys left out), or why none can be derived.
fn samples(r: &Resource) -> Result<Vec<Vec<(String, Value)>>, CodegenError> {
    (0..SAMPLE_COUNT)
        .map(|i| {
            r.fields
                .iter()
                .map(|f| {
                    field_examples::valid(f, i)
                        .map(|v| (f.name.clone(), v))
                        .ok_or_else(|| {
                            unsupported(format!(
                                "cannot derive a valid example for {}.{} (type {}, its bounds, \
                                 lengths or pattern admit no value apiforge can construct); \
                                 simplify the constraint",
                                r.name,
                                f.name,
                                type_name(f.ty)
                            ))
                        })
                })
                .collect()
        })
        .collect()
}

fn js_sample(sample: &[(String, Value)]) -> JsValue {
    JsValue::Object(
        sample
            .iter()
            .map(|(k, v)| (k.clone(), JsValue::from(v)))
            .collect(),
    )
}

fn sample_value<'a>(sample: &'a [(String, Value)], field: &str) -> Option<&'a Value> {
    sample.iter().find(|(k, _)| k == field).map(|(_, v)| v)
}

fn resource_view(
    design: &ApiDesign,
    r: &Resource,
    creatable: &BTreeSet<String>,
) -> Result<ResourceView, CodegenError> {
    let camel = camel_case(&r.plural);
    let var = identifier(camel.clone(), &[], "Resource");
    let repo_var = identifier(camel.clone(), ROUTE_NAMES, "Repository");
    let mut item_var = identifier(camel_case(&r.name), ROUTE_NAMES, "Item");
    if item_var == repo_var {
        item_var = "created".to_owned();
    }
    let ops = Ops {
        list: r.operations.list.is_some(),
        get: r.operations.get,
        create: r.operations.create,
        replace: r.operations.replace,
        patch: r.operations.patch,
        delete: r.operations.delete,
    };
    let list = r.operations.list.clone().unwrap_or_default();
    let samples = samples(r)?;
    let sample0 = &samples[0];
    let sample1 = &samples[1];

    let required: Vec<JsValue> = r
        .fields
        .iter()
        .filter(|f| f.required)
        .map(|f| JsValue::str(&f.name))
        .chain(
            r.relations
                .iter()
                .filter(|rel| rel.required)
                .map(|rel| JsValue::str(&rel.field)),
        )
        .collect();
    let mut invalid: Vec<JsValue> = Vec::new();
    for f in &r.fields {
        for (value, why) in field_examples::invalid(f) {
            invalid.push(JsValue::Array(vec![
                JsValue::str(&f.name),
                JsValue::from(value),
                JsValue::str(why),
            ]));
        }
        if f.required {
            invalid.push(JsValue::Array(vec![
                JsValue::str(&f.name),
                JsValue::Null,
                JsValue::str("null for a required field"),
            ]));
        }
    }
    for rel in &r.relations {
        invalid.push(JsValue::Array(vec![
            JsValue::str(&rel.field),
            JsValue::str("ten"),
            JsValue::str("a string instead of an integer id"),
        ]));
    }
    let defaults: Vec<JsValue> = r
        .fields
        .iter()
        .filter(|f| !f.required)
        .filter_map(|f| {
            f.default
                .as_ref()
                .map(|d| JsValue::Array(vec![JsValue::str(&f.name), JsValue::from(d)]))
        })
        .collect();
    let nonempty = |items: Vec<JsValue>, indent: usize| {
        (!items.is_empty()).then(|| JsValue::Array(items).render(indent))
    };

    let field_type = |name: &str| -> Option<FieldType> {
        r.field(name).map(|f| f.ty).or_else(|| {
            r.relations
                .iter()
                .any(|rel| rel.field == name)
                .then_some(FieldType::Integer)
        })
    };
    let filters = list
        .filters
        .iter()
        .filter_map(|name| {
            let ty = field_type(name)?;
            let relation = r.relations.iter().find(|rel| &rel.field == name);
            let is_relation = relation.is_some();
            let distinct =
                is_relation || sample_value(sample0, name) != sample_value(sample1, name);
            let invalid = match ty {
                FieldType::Integer | FieldType::Number | FieldType::Decimal => Some("ten"),
                FieldType::Boolean => Some("maybe"),
                FieldType::Enum => Some("not-a-valid-choice"),
                FieldType::Uuid => Some("not-a-uuid"),
                FieldType::Date => Some("2024-13-45"),
                _ => None,
            };
            Some(FilterView {
                field: name.clone(),
                distinct,
                invalid: invalid.map(str::to_owned),
                testable: ty != FieldType::Json
                    && relation.is_none_or(|rel| creatable.contains(&rel.target)),
                parent: relation.map(|rel| rel.target.clone()),
            })
        })
        .filter(|f| f.testable)
        .collect();
    let sort = list
        .sort
        .iter()
        .filter(|name| *name != "id" && field_type(name).is_some_and(|t| t != FieldType::Json))
        .cloned()
        .collect();
    let search = search_view(&list.search, sample0, sample1);

    let relation_fields = JsValue::Array(
        r.relations
            .iter()
            .map(|rel| JsValue::str(&rel.field))
            .collect(),
    )
    .render(4);
    let patch = r
        .fields
        .iter()
        .find_map(|f| {
            let next = sample_value(sample1, &f.name)?;
            (Some(next) != sample_value(sample0, &f.name))
                .then(|| JsValue::object([(f.name.clone(), JsValue::from(next))]))
        })
        .unwrap_or(JsValue::Object(Vec::new()))
        .render(4);
    let is_creatable = creatable.contains(&r.name);
    let relations = r
        .relations
        .iter()
        .filter_map(|rel| {
            let target = design.resource(&rel.target)?;
            let on_delete = on_delete_name(rel.on_delete);
            let testable = creatable.contains(&target.name)
                && is_creatable
                && target.operations.delete
                && r.operations.get
                && (rel.on_delete != OnDelete::Restrict || r.operations.delete)
                // A required parent of the same type would be created by the factory too.
                && target.name != r.name;
            let effect = match rel.on_delete {
                OnDelete::Restrict => format!("that still has {} is refused", r.plural),
                OnDelete::Cascade => format!("deletes its {}", r.plural),
                OnDelete::SetNull => format!("clears {} on its {}", rel.field, r.plural),
            };
            Some(RelationView {
                field: rel.field.clone(),
                target: target.name.clone(),
                a_target: with_article(&target.name),
                target_path: format!("/{}", target.plural),
                on_delete,
                testable,
                effect,
            })
        })
        .collect();
    let mut curl: serde_json::Map<String, Value> = sample0.iter().cloned().collect();
    for rel in r.relations.iter().filter(|rel| rel.required) {
        curl.insert(rel.field.clone(), Value::from(1));
    }
    let curl_body = serde_json::to_string(&Value::Object(curl))
        .unwrap_or_default()
        .replace('\'', "'\\''");

    Ok(ResourceView {
        name: r.name.clone(),
        a_name: with_article(&r.name),
        plural: r.plural.clone(),
        path: format!("/{}", r.plural),
        summary: if r.description.is_empty() {
            format!("the {} collection", r.plural)
        } else {
            comment_text(&r.description)
        },
        definition: definition(design, r, &var),
        var,
        router_fn: format!("{camel}Router"),
        repo_var,
        item_var,
        ops,
        creatable: is_creatable,
        samples: JsValue::Array(samples.iter().map(|s| js_sample(s)).collect()).render(2),
        required_parents: r
            .relations
            .iter()
            .filter(|rel| rel.required)
            .map(|rel| ParentView {
                field: rel.field.clone(),
                target: rel.target.clone(),
            })
            .collect(),
        required: nonempty(required, 0),
        invalid: nonempty(invalid, 0),
        defaults: nonempty(defaults, 0),
        unique: r
            .fields
            .iter()
            .filter(|f| f.unique)
            .map(|f| f.name.clone())
            .collect(),
        default_page_size: list.default_page_size,
        max_page_size: list.max_page_size,
        sort,
        filters,
        search,
        relation_fields,
        patch,
        relations,
        disabled: disabled_ops(r, design),
        curl_body,
    })
}

/// Paths served by custom actions alone (not a resource's collection or item path, whose
/// router answers 405 itself), each with every method the actions give it.
fn action_paths(design: &ApiDesign, actions: &[ActionView]) -> Vec<ActionPath> {
    let resource_paths: HashSet<String> = design
        .resources
        .iter()
        .flat_map(|r| [format!("/{}", r.plural), format!("/{}/{{id}}", r.plural)])
        .collect();
    let mut paths: Vec<ActionPath> = Vec::new();
    for a in actions.iter().filter(|a| !resource_paths.contains(&a.path)) {
        match paths.iter_mut().find(|p| p.express_path == a.express_path) {
            Some(p) => p.methods.push(a.method),
            None => paths.push(ActionPath {
                express_path: a.express_path.clone(),
                methods: vec![a.method],
            }),
        }
    }
    paths
}

fn disabled_ops(r: &Resource, design: &ApiDesign) -> Vec<DisabledOp> {
    let collection = format!("/{}", r.plural);
    let item = format!("{collection}/{{id}}");
    let ops = &r.operations;
    let candidates = [
        (ops.list.is_none(), "GET", &collection, false),
        (!ops.create, "POST", &collection, true),
        (!ops.get, "GET", &item, false),
        (!ops.replace, "PUT", &item, true),
        (!ops.patch, "PATCH", &item, true),
        (!ops.delete, "DELETE", &item, false),
    ];
    candidates
        .into_iter()
        .filter(|(disabled, ..)| *disabled)
        // A custom action may legitimately claim the same method and path.
        .filter(|(_, method, path, _)| {
            !design
                .actions
                .iter()
                .any(|a| a.method.as_str() == *method && a.path == **path)
        })
        .map(|(_, method, path, body)| DisabledOp {
            method,
            served: if *path == collection {
                ops.list.is_some() || ops.create
            } else {
                ops.get || ops.replace || ops.patch || ops.delete
            },
            path: path.clone(),
            request_path: path.replace("{id}", "1"),
            body,
        })
        .collect()
}

fn search_view(
    fields: &[String],
    sample0: &[(String, Value)],
    sample1: &[(String, Value)],
) -> Option<SearchView> {
    if fields.is_empty() {
        return None;
    }
    let text = fields
        .iter()
        .find_map(|name| sample_value(sample0, name)?.as_str())?;
    let others: Vec<String> = fields
        .iter()
        .filter_map(|name| sample_value(sample1, name)?.as_str().map(str::to_lowercase))
        .collect();
    let chars: Vec<char> = text.chars().collect();
    // The shortest piece of sample 0 (3+ characters) that sample 1 lacks, so the search
    // must tell the two apart; the middle of the text when every piece is shared.
    let distinct = (3..=chars.len()).find_map(|len| {
        (0..=chars.len() - len)
            .map(|start| chars[start..start + len].iter().collect::<String>())
            .find(|piece| !others.iter().any(|o| o.contains(&piece.to_lowercase())))
    });
    let excludes_second = distinct.is_some();
    let needle = distinct
        .unwrap_or_else(|| {
            let start = chars.len().saturating_sub(3) / 2;
            chars[start..(start + 3).min(chars.len())].iter().collect()
        })
        .to_uppercase();
    Some(SearchView {
        needle: JsValue::str(needle).render(0),
        excludes_second,
    })
}

fn action_view(
    design: &ApiDesign,
    a: &Action,
    creatable: &BTreeSet<String>,
) -> Result<ActionView, CodegenError> {
    if !a.path.starts_with('/')
        || !a
            .path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./{}".contains(c))
    {
        return Err(unsupported(format!(
            "action {} has path {:?}; use an absolute path of letters, digits, - _ . / and {{param}}",
            a.name, a.path
        )));
    }
    let mut params = Vec::new();
    let mut express_path = String::new();
    let mut test_path = String::new();
    let mut placeholder_path = String::new();
    let mut rest = a.path.as_str();
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').map(|c| c + open).ok_or_else(|| {
            unsupported(format!(
                "action {} path {:?} has an unclosed {{",
                a.name, a.path
            ))
        })?;
        let param = &rest[open + 1..close];
        if !is_snake_identifier(param) {
            return Err(unsupported(format!(
                "action {} path parameter {param:?} must be snake_case",
                a.name
            )));
        }
        express_path.push_str(&rest[..open]);
        express_path.push(':');
        express_path.push_str(param);
        test_path.push_str(&rest[..open]);
        test_path.push_str(if param == "id" { "${record.id}" } else { "1" });
        placeholder_path.push_str(&rest[..open]);
        placeholder_path.push('1');
        params.push(param.to_owned());
        rest = &rest[close + 1..];
    }
    express_path.push_str(rest);
    test_path.push_str(rest);
    placeholder_path.push_str(rest);
    if express_path.contains('}') {
        return Err(unsupported(format!(
            "action {} path {:?} has a stray }}",
            a.name, a.path
        )));
    }

    let resource = a.resource.as_deref().and_then(|name| design.resource(name));
    let input = (!a.input.is_empty())
        .then(|| JsValue::Array(a.input.iter().map(field_definition).collect()).render(4));
    let input_sample = if a.input.is_empty() {
        None
    } else {
        a.input
            .iter()
            .map(|f| field_examples::valid(f, 0).map(|v| (f.name.clone(), JsValue::from(v))))
            .collect::<Option<Vec<_>>>()
            .map(|entries| JsValue::Object(entries).render(4))
    };
    let fn_name = identifier(
        camel_case(&a.name),
        &["actionsRouter", "resources", "express"],
        "Action",
    );
    let mut view = ActionView {
        name: a.name.clone(),
        method: a.method.as_str(),
        method_lower: a.method.as_str().to_ascii_lowercase(),
        path: a.path.clone(),
        express_path,
        summary: comment_text(&a.summary),
        behavior: "not_implemented",
        fn_name,
        custom_body: String::new(),
        custom_source: String::new(),
        input,
        input_sample: input_sample.clone(),
        field: String::new(),
        value: String::new(),
        from: None,
        output_empty: matches!(a.output, ActionOutput::Empty),
        resource_var: String::new(),
        resource_name: String::new(),
        resource_path: String::new(),
        resource_get: false,
        testable: false,
        start: None,
        blocked: None,
        test_path,
        placeholder_path,
    };
    match &a.behavior {
        ActionBehavior::NotImplemented => {}
        ActionBehavior::Custom { express, .. } => {
            if let Some(body) = express.as_ref().filter(|b| !b.trim().is_empty()) {
                view.behavior = "custom";
                view.custom_body = format!("/*@apiforge-handler:{}@*/", a.name);
                view.custom_source = body.clone();
            }
        }
        ActionBehavior::SetField { field, value, from } => {
            let r = resource.ok_or_else(|| {
                unsupported(format!(
                    "action {} sets a field but names no existing resource",
                    a.name
                ))
            })?;
            let f = r.field(field).ok_or_else(|| {
                unsupported(format!(
                    "action {} sets {}.{field}, which does not exist",
                    a.name, r.name
                ))
            })?;
            if !params.iter().any(|p| p == "id") {
                return Err(unsupported(format!(
                    "action {} sets a field, so its path needs {{id}}",
                    a.name
                )));
            }
            let allowed = |v: &Value| from.is_empty() || from.contains(v);
            let blocked = (!from.is_empty())
                .then(|| {
                    std::iter::once(value.clone())
                        .chain(f.enum_values.iter().map(|e| Value::String(e.clone())))
                        .find(|v| !allowed(v) && field_examples::fits(f, v))
                })
                .flatten();
            view.behavior = "set_field";
            view.field = field.clone();
            view.value = JsValue::from(value).render(4);
            view.from = (!from.is_empty())
                .then(|| JsValue::Array(from.iter().map(JsValue::from).collect()).render(4));
            view.resource_var = r.plural.clone();
            view.resource_name = r.name.clone();
            view.resource_path = format!("/{}", r.plural);
            view.resource_get = r.operations.get;
            view.testable = creatable.contains(&r.name)
                && params.iter().all(|p| p == "id")
                && (a.input.is_empty() || input_sample.is_some());
            view.start = from.first().map(|v| JsValue::from(v).render(4));
            view.blocked = blocked.map(|v| JsValue::from(&v).render(4));
        }
    }
    Ok(view)
}
