//! `Project`: everything the FastAPI templates print, computed from an [`ApiDesign`]
//! so the templates stay simple loops over ready-made Python fragments.

mod act;
mod suite;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::literal::{
    Imports, Origin, doc, field_identifier, is_keyword, is_predefined, pascal, py, py_regex,
    py_set, py_str, py_str_wrapped, py_tuple,
};
use super::sample::{self, SAMPLE_COUNT};
use crate::codegen::CodegenError;
use crate::design::{ActionBehavior, ApiDesign, AuthScheme, Field, FieldType, OnDelete, Resource};
use act::{Act, ActionTest, action, action_tests, actions_imports, actions_test_imports};
pub use suite::Suite;

/// Query parameter names the list endpoint uses itself; filters with these names get a
/// `_filter` suffix in Python and keep their name on the wire.
const LIST_PARAMS: [&str; 6] = ["db", "limit", "offset", "sort", "q", "response"];

#[derive(Debug, Serialize)]
pub struct Project {
    pub title: String,
    pub title_literal: String,
    pub title_toml: String,
    pub description: String,
    pub description_literal: String,
    pub version: String,
    pub version_literal: String,
    pub package_name: String,
    pub auth: Auth,
    pub resources: Vec<Res>,
    pub actions: Vec<Act>,
    pub router_modules: Vec<String>,
    pub routers_import: String,
    pub schema_sql: String,
    pub models_imports: String,
    pub uses_string_constraints: bool,
    pub uses_field: bool,
    /// Constrained string types and enum `Literal`s, ready to print.
    pub aliases_block: String,
    pub uses_email: bool,
    pub uses_text_dates: bool,
    pub uses_url: bool,
    pub uses_phone: bool,
    pub uses_time: bool,
    pub enums: Vec<EnumAlias>,
    pub actions_imports: String,
    pub support_imports: String,
    /// Whether any test factory creates parents (and so needs `tests.support.parent`).
    pub makes_parents: bool,
    pub auth_imports: String,
    pub actions_test_imports: String,
    pub protected: Option<Protected>,
    pub action_tests: Vec<ActionTest>,
    pub has_not_implemented: bool,
    pub curl_auth: String,
    pub pins: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Auth {
    /// `none`, `api_key` or `bearer_jwt`.
    pub kind: &'static str,
    pub header: String,
    pub header_literal: String,
    pub env_var: String,
    pub env_var_literal: String,
}

#[derive(Debug, Serialize)]
pub struct EnumAlias {
    pub name: String,
    pub values: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Res {
    pub name: String,
    pub plural: String,
    pub class: String,
    pub module: String,
    pub table_const: String,
    pub label: String,
    /// The label with its indefinite article: "an author", "a book".
    pub a_label: String,
    pub label_literal: String,
    pub plural_literal: String,
    pub title: String,
    pub description: String,
    pub doc: String,
    pub columns_tuple: String,
    pub booleans_set: String,
    pub json_set: String,
    pub parents_tuple: String,
    pub search_tuple: String,
    pub create_lines: Vec<String>,
    pub patch_lines: Vec<String>,
    pub repr_lines: Vec<String>,
    pub ops: Ops,
    pub list: Option<List>,
    pub router_imports: String,
    pub router_decl: String,
    pub delete_doc: String,
    pub samples_const: String,
    pub samples: Vec<String>,
    pub required_parents: Vec<ParentMaker>,
    pub example_json: String,
    pub patch_example_json: String,
    #[serde(skip)]
    pub tests: Suite,
}

#[derive(Debug, Serialize)]
pub struct Ops {
    pub create: bool,
    pub get: bool,
    pub replace: bool,
    pub patch: bool,
    pub delete: bool,
}

#[derive(Debug, Serialize)]
pub struct List {
    pub default_page_size: u32,
    pub max_page_size: u32,
    pub sort_literal: String,
    pub filters_arg: String,
    pub search: bool,
    pub search_names: Vec<String>,
    pub filters: Vec<Filter>,
}

#[derive(Debug, Serialize)]
pub struct Filter {
    pub param: String,
    pub py_name: String,
    pub column: String,
    pub column_literal: String,
}

#[derive(Debug, Serialize)]
pub struct ParentMaker {
    pub column: String,
    pub target: String,
    pub variant: String,
}

#[derive(Debug, Serialize)]
pub struct Protected {
    pub method: &'static str,
    pub path: String,
    pub json_arg: String,
}

/// Which Python names a model module needs.
#[derive(Debug, Default)]
struct TypeUse {
    string_constraints: bool,
    /// Date or date-time fields in request bodies (typed so numbers are refused).
    text_dates: bool,
    date_time: bool,
    email: bool,
    url: bool,
    phone: bool,
    time: bool,
    date: bool,
    uuid: bool,
    any: bool,
    literal: bool,
}

impl Project {
    pub fn new(design: &ApiDesign, pins: Vec<String>) -> Result<Self, CodegenError> {
        check_required_cycles(design)?;
        let auth = auth(&design.auth);
        let has_auth = auth.kind != "none";
        let mut uses = TypeUse::default();
        let mut enums = Vec::new();
        let mut resources = Vec::new();
        for r in design.resources_parent_first() {
            resources.push(resource(design, r, has_auth, &mut uses, &mut enums)?);
        }
        let mut actions = Vec::new();
        for a in &design.actions {
            actions.push(action(design, a, &mut uses, &mut enums)?);
        }

        let mut router_modules = Vec::new();
        if !actions.is_empty() {
            // Before the resource routers so `/orders/stats` is not taken for an id.
            router_modules.push("actions".to_owned());
        }
        router_modules.extend(resources.iter().map(|r| r.module.clone()));

        let routers_import = {
            let mut i = Imports::default();
            for m in &router_modules {
                i.from(Origin::Local, "app.routers", m);
            }
            i.render()
        };
        let uses_field = resources
            .iter()
            .flat_map(|r| {
                r.create_lines
                    .iter()
                    .chain(&r.patch_lines)
                    .chain(&r.repr_lines)
            })
            .chain(
                actions
                    .iter()
                    .flat_map(|a| a.input_lines.iter().chain(&a.output_lines)),
            )
            .any(|line| line.contains("= Field("));
        let schema_sql = schema_sql(design)?;
        let models_imports = models_imports(&uses);
        let actions_imports = actions_imports(design, has_auth);
        let makes_parents = resources.iter().any(|r| !r.required_parents.is_empty());
        let support_imports = support_imports(design, &auth, makes_parents);
        let protected = protected(design);
        let auth_imports = auth_imports(&auth);
        let action_tests = action_tests(design)?;
        let actions_test_imports = actions_test_imports(&action_tests);
        let curl_auth = match &design.auth {
            AuthScheme::None => String::new(),
            AuthScheme::ApiKey { header, env_var } => format!(" -H \"{header}: ${env_var}\""),
            AuthScheme::BearerJwt { .. } => " -H \"Authorization: Bearer $TOKEN\"".to_owned(),
        };
        let has_not_implemented = design.actions.iter().any(|a| {
            matches!(
                a.behavior,
                ActionBehavior::NotImplemented | ActionBehavior::Custom { fastapi: None, .. }
            )
        });
        let package_name = {
            let slug: String = design
                .title
                .to_ascii_lowercase()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            let slug = slug
                .split('-')
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join("-");
            if slug.is_empty() {
                "api".to_owned()
            } else {
                slug
            }
        };
        Ok(Self {
            title: doc(&design.title),
            title_literal: py_str(&design.title),
            title_toml: py_str(&design.title),
            description: design.description.trim().to_owned(),
            description_literal: py_str_wrapped(design.description.trim(), 4, 92),
            version: design.version.clone(),
            version_literal: py_str(&design.version),
            package_name,
            auth,
            resources,
            actions,
            router_modules,
            routers_import,
            schema_sql,
            models_imports,
            uses_string_constraints: uses.string_constraints,
            uses_field,
            aliases_block: aliases_block(&uses, &enums),
            uses_email: uses.email,
            uses_text_dates: uses.text_dates,
            uses_url: uses.url,
            uses_phone: uses.phone,
            uses_time: uses.time,
            enums,
            actions_imports,
            support_imports,
            makes_parents,
            auth_imports,
            actions_test_imports,
            protected,
            action_tests,
            has_not_implemented,
            curl_auth,
            pins,
        })
    }
}

fn auth(scheme: &AuthScheme) -> Auth {
    let (kind, header, env_var) = match scheme {
        AuthScheme::None => ("none", String::new(), String::new()),
        AuthScheme::ApiKey { header, env_var } => ("api_key", header.clone(), env_var.clone()),
        AuthScheme::BearerJwt { env_var } => {
            ("bearer_jwt", "Authorization".to_owned(), env_var.clone())
        }
    };
    Auth {
        kind,
        header_literal: py_str(&header),
        env_var_literal: py_str(&env_var),
        header,
        env_var,
    }
}

/// Required relations that form a cycle make the first record impossible to create.
fn check_required_cycles(design: &ApiDesign) -> Result<(), CodegenError> {
    for r in &design.resources {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&str> = r
            .relations
            .iter()
            .filter(|rel| rel.required)
            .map(|rel| rel.target.as_str())
            .collect();
        while let Some(name) = stack.pop() {
            if name == r.name {
                return Err(CodegenError::Unsupported(format!(
                    "resource {} requires itself through required relations, so no first \
                     record could be created; make one relation optional",
                    r.name
                )));
            }
            if seen.insert(name)
                && let Some(parent) = design.resource(name)
            {
                stack.extend(
                    parent
                        .relations
                        .iter()
                        .filter(|rel| rel.required)
                        .map(|rel| rel.target.as_str()),
                );
            }
        }
    }
    Ok(())
}

/// Whether `from` can reach `to` by following relations (any, optional included).
fn reaches(design: &ApiDesign, from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from];
    while let Some(name) = stack.pop() {
        if name == to {
            return true;
        }
        if seen.insert(name)
            && let Some(r) = design.resource(name)
        {
            stack.extend(r.relations.iter().map(|rel| rel.target.as_str()));
        }
    }
    false
}

fn with_article(label: &str) -> String {
    let vowel = label.starts_with(['a', 'e', 'i', 'o', 'u']);
    if vowel {
        format!("an {label}")
    } else {
        format!("a {label}")
    }
}

fn label(name: &str) -> String {
    name.replace('_', " ")
}

fn base_type(field: &Field, enum_name: &str, uses: &mut TypeUse) -> String {
    match field.ty {
        FieldType::String | FieldType::Text => "str".to_owned(),
        FieldType::Integer => "int".to_owned(),
        FieldType::Number | FieldType::Decimal => "float".to_owned(),
        FieldType::Boolean => "bool".to_owned(),
        FieldType::Date => {
            uses.date = true;
            uses.text_dates = true;
            uses.string_constraints = true;
            "DateText".to_owned()
        }
        FieldType::DateTime => {
            uses.text_dates = true;
            uses.date_time = true;
            uses.string_constraints = true;
            "DateTimeText".to_owned()
        }
        FieldType::Time => {
            uses.time = true;
            uses.string_constraints = true;
            "Time".to_owned()
        }
        FieldType::Email => {
            uses.email = true;
            uses.string_constraints = true;
            "Email".to_owned()
        }
        FieldType::Url => {
            uses.url = true;
            uses.string_constraints = true;
            "Url".to_owned()
        }
        FieldType::Phone => {
            uses.phone = true;
            uses.string_constraints = true;
            "Phone".to_owned()
        }
        FieldType::Uuid => {
            uses.uuid = true;
            "UUID".to_owned()
        }
        FieldType::Enum => {
            uses.literal = true;
            enum_name.to_owned()
        }
        FieldType::Json => {
            uses.any = true;
            "dict[str, Any]".to_owned()
        }
    }
}

/// The type a response carries: constrained string aliases become plain `str`.
fn plain_type(field: &Field, typed: &str) -> String {
    match field.ty {
        FieldType::Time | FieldType::Email | FieldType::Url | FieldType::Phone => "str".to_owned(),
        FieldType::Date => typed.replace("DateText", "date"),
        FieldType::DateTime => typed.replace("DateTimeText", "datetime"),
        _ => typed.to_owned(),
    }
}

fn number_literal(value: f64, integral: bool) -> String {
    if integral && value.fract() == 0.0 {
        format!("{}", value as i64)
    } else {
        serde_json::Number::from_f64(value)
            .map(|n| n.to_string())
            .unwrap_or_else(|| value.to_string())
    }
}

fn constraints(field: &Field) -> Vec<String> {
    let mut args = Vec::new();
    if field.ty.is_numeric() {
        let integral = field.ty == FieldType::Integer;
        if let Some(min) = field.min {
            args.push(format!("ge={}", number_literal(min, integral)));
        }
        if let Some(max) = field.max {
            args.push(format!("le={}", number_literal(max, integral)));
        }
    }
    if field.ty.is_textual() {
        if let Some(min) = field.min_length {
            args.push(format!("min_length={min}"));
        }
        if let Some(max) = field.max_length {
            args.push(format!("max_length={max}"));
        }
        if let Some(pattern) = &field.pattern {
            args.push(format!("pattern={}", py_regex(pattern)));
        }
    }
    args
}

fn description(field: &Field) -> Option<String> {
    let mut text = field.description.clone().unwrap_or_default();
    if let Some(unit) = &field.unit {
        if text.is_empty() {
            text = format!("In {unit}.");
        } else {
            text = format!("{} (in {unit})", text.trim_end_matches('.'));
        }
    }
    (!text.trim().is_empty()).then(|| py_str(text.trim()))
}

enum Role {
    Create,
    Patch,
    Repr,
}

fn field_line(field: &Field, typed: &str, role: Role) -> String {
    let ident = field_identifier(&field.name);
    let mut args: Vec<String> = Vec::new();
    let ty;
    match role {
        Role::Create => {
            if let Some(default) = &field.default {
                args.push(format!("default={}", py(default)));
                ty = if field.required || !default.is_null() {
                    typed.to_owned()
                } else {
                    format!("{typed} | None")
                };
            } else if field.required {
                ty = typed.to_owned();
            } else {
                args.push("default=None".to_owned());
                ty = format!("{typed} | None");
            }
            args.extend(constraints(field));
        }
        Role::Patch => {
            args.push("default=None".to_owned());
            ty = format!("{typed} | None");
            args.extend(constraints(field));
        }
        Role::Repr => {
            let plain = plain_type(field, typed);
            let never_null = field.required || field.default.as_ref().is_some_and(|d| !d.is_null());
            if never_null {
                ty = plain;
            } else {
                ty = format!("{plain} | None");
                args.push("default=None".to_owned());
            }
        }
    }
    if ident != field.name {
        args.push(format!("alias={}", py_str(&field.name)));
    }
    if !matches!(role, Role::Repr)
        && let Some(d) = description(field)
    {
        args.push(format!("description={d}"));
    }
    match args.as_slice() {
        [] => format!("{ident}: {ty}"),
        [only] if only == "default=None" => format!("{ident}: {ty} = None"),
        _ => format!("{ident}: {ty} = Field({})", args.join(", ")),
    }
}

fn resource(
    design: &ApiDesign,
    r: &Resource,
    has_auth: bool,
    uses: &mut TypeUse,
    enums: &mut Vec<EnumAlias>,
) -> Result<Res, CodegenError> {
    let class = pascal(&r.name);
    let table_const = r.plural.to_ascii_uppercase();
    let mut create_lines = Vec::new();
    let mut patch_lines = Vec::new();
    let mut repr_lines = Vec::new();
    let mut types: BTreeMap<&str, String> = BTreeMap::new();
    for f in &r.fields {
        let enum_name = format!("{class}{}", pascal(&f.name));
        if f.ty == FieldType::Enum {
            if f.enum_values.is_empty() {
                return Err(CodegenError::Unsupported(format!(
                    "enum field {}.{} lists no values",
                    r.name, f.name
                )));
            }
            enums.push(EnumAlias {
                name: enum_name.clone(),
                values: f.enum_values.iter().map(|v| py_str(v)).collect(),
            });
        }
        let typed = base_type(f, &enum_name, uses);
        create_lines.push(field_line(f, &typed, Role::Create));
        patch_lines.push(field_line(f, &typed, Role::Patch));
        repr_lines.push(field_line(f, &typed, Role::Repr));
        types.insert(f.name.as_str(), plain_type(f, &typed));
    }
    for rel in &r.relations {
        let parent = design.resource(&rel.target).ok_or_else(|| {
            CodegenError::Unsupported(format!(
                "{} belongs to {}, which the design does not define",
                r.name, rel.target
            ))
        })?;
        let _ = parent;
        if rel.required {
            create_lines.push(format!("{}: int", rel.field));
            repr_lines.push(format!("{}: int", rel.field));
        } else {
            create_lines.push(format!("{}: int | None = None", rel.field));
            repr_lines.push(format!("{}: int | None = None", rel.field));
        }
        patch_lines.push(format!("{}: int | None = None", rel.field));
        types.insert(rel.field.as_str(), "int".to_owned());
    }

    let columns: Vec<String> = r
        .fields
        .iter()
        .map(|f| f.name.clone())
        .chain(r.relations.iter().map(|rel| rel.field.clone()))
        .collect();
    let of_type = |ty: FieldType| -> Vec<String> {
        r.fields
            .iter()
            .filter(|f| f.ty == ty)
            .map(|f| f.name.clone())
            .collect()
    };
    let booleans = of_type(FieldType::Boolean);
    let json_columns = of_type(FieldType::Json);
    let parents: Vec<String> = r
        .relations
        .iter()
        .filter_map(|rel| {
            design
                .resource(&rel.target)
                .map(|p| format!("({}, {})", py_str(&rel.field), py_str(&p.plural)))
        })
        .collect();
    let parents_tuple = match parents.as_slice() {
        [] => String::new(),
        [one] => format!("({one},)"),
        many => format!("({})", many.join(", ")),
    };
    let known = |name: &str| columns.iter().any(|c| c == name);

    let mut router = Imports::default();
    router
        .from(Origin::ThirdParty, "fastapi", "APIRouter")
        .from(Origin::Local, "app", "crud")
        .from(Origin::Local, "app.db", "Db")
        .from(Origin::Local, "app.models", &class)
        .from(Origin::Local, "app.tables", &table_const);
    if has_auth {
        router.from(Origin::ThirdParty, "fastapi", "Depends").from(
            Origin::Local,
            "app.auth",
            "require_auth",
        );
    }
    let ops = Ops {
        create: r.operations.create,
        get: r.operations.get,
        replace: r.operations.replace,
        patch: r.operations.patch,
        delete: r.operations.delete,
    };
    if ops.create || ops.delete {
        router.from(Origin::ThirdParty, "fastapi", "Response");
    }
    if ops.create || ops.replace {
        router.from(Origin::Local, "app.models", &format!("{class}Create"));
    }
    if ops.patch {
        router.from(Origin::Local, "app.models", &format!("{class}Patch"));
    }

    let mut search_tuple = String::new();
    let list = match &r.operations.list {
        None => None,
        Some(l) => {
            router
                .from(Origin::Stdlib, "typing", "Annotated")
                .from(Origin::Stdlib, "typing", "Literal")
                .from(Origin::ThirdParty, "fastapi", "Query")
                .from(Origin::Local, "app.models", &format!("{class}List"));
            let mut sort_keys = vec![py_str("id"), py_str("-id")];
            for s in &l.sort {
                if !known(s) {
                    return Err(unknown(r, "sort", s));
                }
                if s != "id" {
                    sort_keys.push(py_str(s));
                    sort_keys.push(py_str(&format!("-{s}")));
                }
            }
            for s in &l.search {
                if !known(s) {
                    return Err(unknown(r, "search", s));
                }
            }
            search_tuple = if l.search.is_empty() {
                String::new()
            } else {
                py_tuple(&l.search)
            };
            let mut filters = Vec::new();
            for name in &l.filters {
                let ty = types
                    .get(name.as_str())
                    .ok_or_else(|| unknown(r, "filter", name))?;
                if r.field(name).is_some_and(|f| f.ty == FieldType::Json) {
                    return Err(CodegenError::Unsupported(format!(
                        "{}.{} is a json field and cannot be an exact-match filter",
                        r.name, name
                    )));
                }
                match ty.as_str() {
                    "date" => {
                        router.from(Origin::Stdlib, "datetime", "date");
                    }
                    "datetime" => {
                        router.from(Origin::Stdlib, "datetime", "datetime");
                    }
                    "UUID" => {
                        router.from(Origin::Stdlib, "uuid", "UUID");
                    }
                    "str" | "int" | "float" | "bool" => {}
                    alias => {
                        router.from(Origin::Local, "app.models", alias);
                    }
                }
                let clash = is_predefined(name) || LIST_PARAMS.contains(&name.as_str());
                let py_name = if clash {
                    format!("{name}_filter")
                } else {
                    name.clone()
                };
                let param = if clash {
                    format!(
                        "{py_name}: Annotated[{ty} | None, Query(alias={})] = None",
                        py_str(name)
                    )
                } else {
                    format!("{py_name}: {ty} | None = None")
                };
                filters.push(Filter {
                    param,
                    py_name,
                    column: name.clone(),
                    column_literal: py_str(name),
                });
            }
            let pairs: Vec<String> = filters
                .iter()
                .map(|f| format!("{}: {}", f.column_literal, f.py_name))
                .collect();
            Some(List {
                default_page_size: l.default_page_size,
                max_page_size: l.max_page_size,
                sort_literal: wrapped(
                    "Literal[",
                    &sort_keys,
                    "]",
                    0,
                    format!("{class}Sort = ").len(),
                ),
                filters_arg: wrapped("{", &pairs, "}", 8, "        filters=".len()),
                search: !l.search.is_empty(),
                search_names: l.search.clone(),
                filters,
            })
        }
    };

    let children: Vec<String> = design
        .children_of(&r.name)
        .flat_map(|child| {
            child
                .relations
                .iter()
                .filter(|rel| rel.target == r.name)
                .map(move |rel| match rel.on_delete {
                    OnDelete::Restrict => {
                        format!("refused while {} refer to it", label(&child.plural))
                    }
                    OnDelete::Cascade => {
                        format!("its {} are deleted with it", label(&child.plural))
                    }
                    OnDelete::SetNull => {
                        format!("its {} lose their {}", label(&child.plural), rel.field)
                    }
                })
        })
        .collect();
    let summary = format!("Delete {}.", with_article(&label(&r.name)));
    let delete_doc = if children.is_empty() {
        format!("\"\"\"{summary}\"\"\"")
    } else {
        let mut sentences: Vec<String> = children
            .iter()
            .map(|c| {
                let mut chars = c.chars();
                let first = chars.next().map(|f| f.to_ascii_uppercase().to_string());
                format!("{}{}.", first.unwrap_or_default(), chars.as_str())
            })
            .collect();
        sentences.insert(0, String::new());
        let mut text = format!("\"\"\"{summary}\n");
        for sentence in sentences.iter().skip(1) {
            text.push_str(&format!("\n    {sentence}"));
        }
        text.push_str("\n    \"\"\"");
        text
    };

    // Parents the test factories create: every relation whose target cannot lead back
    // here (so factories never recurse forever).
    let auto_parents: Vec<&crate::design::Relation> = r
        .relations
        .iter()
        .filter(|rel| rel.target != r.name && !reaches(design, &rel.target, &r.name))
        .collect();
    let mut per_target: BTreeMap<&str, usize> = BTreeMap::new();
    let required_parents: Vec<ParentMaker> = auto_parents
        .iter()
        .map(|rel| {
            let k = per_target.entry(rel.target.as_str()).or_insert(0);
            let variant = if *k == 0 {
                "n".to_owned()
            } else {
                format!("(n + {}) % {SAMPLE_COUNT}", 3 * *k)
            };
            *k += 1;
            ParentMaker {
                column: rel.field.clone(),
                target: rel.target.clone(),
                variant,
            }
        })
        .collect();

    let sample_values: Vec<serde_json::Map<String, Value>> = (0..SAMPLE_COUNT)
        .map(|n| {
            r.fields
                .iter()
                .map(|f| Ok((f.name.clone(), sample::require(f, n, &r.name)?)))
                .collect()
        })
        .collect::<Result<_, CodegenError>>()?;
    let samples: Vec<String> = sample_values
        .iter()
        .map(|m| {
            let pairs: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}: {}", py_str(k), py(v)))
                .collect();
            wrapped("{", &pairs, "}", 4, 5)
        })
        .collect();
    let mut example = sample_values.first().cloned().unwrap_or_default();
    for rel in &r.relations {
        example.insert(rel.field.clone(), Value::from(1));
    }
    let example_json = shell_quote_body(&Value::Object(example));
    let patch_example_json = shell_quote_body(&Value::Object(
        r.fields
            .first()
            .map(|f| {
                let mut m = serde_json::Map::new();
                m.extend(sample::valid(f, 1).map(|v| (f.name.clone(), v)));
                m
            })
            .unwrap_or_default(),
    ));

    let tests = suite::suite(
        design,
        r,
        &ops,
        list.as_ref(),
        &sample_values,
        &auto_parents,
    );

    Ok(Res {
        name: r.name.clone(),
        plural: r.plural.clone(),
        module: if is_keyword(&r.plural) {
            format!("{}_", r.plural)
        } else {
            r.plural.clone()
        },
        label: label(&r.name),
        a_label: with_article(&label(&r.name)),
        label_literal: py_str(&label(&r.name)),
        plural_literal: py_str(&r.plural),
        title: {
            let l = label(&r.plural);
            let mut c = l.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        },
        description: r.description.trim().to_owned(),
        doc: if r.description.trim().is_empty() {
            let a_label = with_article(&label(&r.name));
            let mut c = a_label.chars();
            let capital = c
                .next()
                .map(|f| f.to_ascii_uppercase().to_string())
                .unwrap_or_default();
            format!("{capital}{} as the API returns it.", c.as_str())
        } else {
            doc(&r.description)
        },
        columns_tuple: {
            let tuple = py_tuple(&columns);
            if tuple.len() + 12 < 99 {
                tuple
            } else {
                let items: Vec<String> = columns.iter().map(|c| py_str(c)).collect();
                wrapped("(", &items, ")", 4, 99)
            }
        },
        booleans_set: if booleans.is_empty() {
            String::new()
        } else {
            py_set(&booleans)
        },
        json_set: if json_columns.is_empty() {
            String::new()
        } else {
            py_set(&json_columns)
        },
        parents_tuple,
        search_tuple,
        create_lines,
        patch_lines,
        repr_lines,
        ops,
        list,
        router_imports: format!("\n{}", router.render()),
        router_decl: {
            let mut args = vec![
                format!("prefix={}", py_str(&format!("/{}", r.plural))),
                format!("tags=[{}]", py_str(&r.plural)),
            ];
            if has_auth {
                args.push("dependencies=[Depends(require_auth)]".to_owned());
            }
            format!("router = APIRouter{}", wrapped("(", &args, ")", 0, 18))
        },
        delete_doc,
        samples_const: format!("{}_SAMPLES", r.name.to_ascii_uppercase()),
        samples,
        required_parents,
        example_json,
        patch_example_json,
        class,
        table_const,
        tests,
    })
}

/// `open item, item close` on one line when it fits in 99 columns after `prefix_len`
/// characters, else one item per line indented by `indent + 4`.
fn wrapped(open: &str, items: &[String], close: &str, indent: usize, prefix_len: usize) -> String {
    let one_line = format!("{open}{}{close}", items.join(", "));
    if prefix_len + one_line.len() < 99 {
        return one_line;
    }
    let pad = " ".repeat(indent + 4);
    let body: String = items.iter().map(|i| format!("{pad}{i},\n")).collect();
    format!("{open}\n{body}{}{close}", " ".repeat(indent))
}

fn unknown(r: &Resource, what: &str, name: &str) -> CodegenError {
    CodegenError::Unsupported(format!(
        "{} lists {name:?} as a {what} field, but it has no such field or foreign key",
        r.name
    ))
}

fn shell_quote_body(value: &Value) -> String {
    serde_json::to_string(value)
        .unwrap_or_default()
        .replace('\'', "'\\''")
}

fn schema_sql(design: &ApiDesign) -> Result<String, CodegenError> {
    let mut sql = String::new();
    for r in design.resources_parent_first() {
        let mut lines = vec!["    id INTEGER PRIMARY KEY AUTOINCREMENT".to_owned()];
        for f in &r.fields {
            let ty = match f.ty {
                FieldType::Integer | FieldType::Boolean => "INTEGER",
                FieldType::Number | FieldType::Decimal => "REAL",
                _ => "TEXT",
            };
            let mut line = format!("    \"{}\" {ty}", f.name);
            if f.required {
                line.push_str(" NOT NULL");
            }
            if f.unique {
                line.push_str(" UNIQUE");
            }
            lines.push(line);
        }
        for rel in &r.relations {
            let parent = design.resource(&rel.target).ok_or_else(|| {
                CodegenError::Unsupported(format!(
                    "{} belongs to {}, which the design does not define",
                    r.name, rel.target
                ))
            })?;
            let action = match rel.on_delete {
                OnDelete::Restrict => "RESTRICT",
                OnDelete::Cascade => "CASCADE",
                OnDelete::SetNull if rel.required => {
                    return Err(CodegenError::Unsupported(format!(
                        "{}.{} is required, so deleting its {} cannot set it to null; \
                         make the relation optional or use restrict or cascade",
                        r.name, rel.field, rel.target
                    )));
                }
                OnDelete::SetNull => "SET NULL",
            };
            let not_null = if rel.required { " NOT NULL" } else { "" };
            lines.push(format!(
                "    \"{}\" INTEGER{not_null} REFERENCES \"{}\" (id) ON DELETE {action}",
                rel.field, parent.plural
            ));
        }
        lines.push("    created_at TEXT NOT NULL".to_owned());
        lines.push("    updated_at TEXT NOT NULL".to_owned());
        sql.push_str(&format!(
            "CREATE TABLE IF NOT EXISTS \"{}\" (\n{}\n);\n",
            r.plural,
            lines.join(",\n")
        ));
        for rel in &r.relations {
            sql.push_str(&format!(
                "CREATE INDEX IF NOT EXISTS \"{}_{}\" ON \"{}\" (\"{}\");\n",
                r.plural, rel.field, r.plural, rel.field
            ));
        }
    }
    Ok(sql)
}

fn aliases_block(uses: &TypeUse, enums: &[EnumAlias]) -> String {
    let mut constrained = Vec::new();
    for (used, name, pattern) in [
        (uses.email, "Email", r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
        (uses.url, "Url", r"^[A-Za-z][A-Za-z0-9+.-]*://\S+$"),
        (uses.phone, "Phone", r"^\+?[0-9 ()-]{6,20}$"),
        (uses.time, "Time", r"^\d{2}:\d{2}(:\d{2})?$"),
    ] {
        if used {
            constrained.push(format!(
                "{name} = Annotated[str, StringConstraints(pattern={})]",
                py_regex(pattern)
            ));
        }
    }
    if uses.text_dates {
        // pydantic's lax mode would read a JSON number as a Unix timestamp; the
        // contract says dates are strings.
        let mut block = String::from(
            "def _not_a_number(value: object) -> object:\n    \"\"\"Dates arrive as ISO 8601 strings, never as numbers.\"\"\"\n    if isinstance(value, int | float):\n        raise ValueError(\"must be a string in ISO 8601 format\")\n    return value\n\n",
        );
        if uses.date {
            block.push_str("\nDateText = Annotated[date, BeforeValidator(_not_a_number)]");
        }
        if uses.date_time {
            block.push_str("\nDateTimeText = Annotated[datetime, BeforeValidator(_not_a_number)]");
        }
        constrained.insert(0, block);
    }
    let literals: Vec<String> = enums
        .iter()
        .map(|e| {
            let literal = wrapped("Literal[", &e.values, "]", 0, e.name.len() + 3);
            format!("{} = {literal}", e.name)
        })
        .collect();
    [constrained.join("\n"), literals.join("\n")]
        .into_iter()
        .filter(|block| !block.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn models_imports(uses: &TypeUse) -> String {
    let mut i = Imports::default();
    i.from(Origin::Stdlib, "datetime", "datetime");
    if uses.date {
        i.from(Origin::Stdlib, "datetime", "date");
    }
    if uses.string_constraints {
        i.from(Origin::Stdlib, "typing", "Annotated");
    }
    if uses.any {
        i.from(Origin::Stdlib, "typing", "Any");
    }
    if uses.literal {
        i.from(Origin::Stdlib, "typing", "Literal");
    }
    if uses.uuid {
        i.from(Origin::Stdlib, "uuid", "UUID");
    }
    format!("\n{}", i.render())
}

fn support_imports(design: &ApiDesign, auth: &Auth, makes_parents: bool) -> String {
    let mut i = Imports::default();
    i.from(Origin::Stdlib, "typing", "Any")
        .from(Origin::ThirdParty, "fastapi.testclient", "TestClient")
        .from(Origin::ThirdParty, "httpx", "Response");
    if makes_parents {
        i.from(Origin::Stdlib, "collections.abc", "Callable").from(
            Origin::Stdlib,
            "weakref",
            "WeakKeyDictionary",
        );
    }
    if auth.kind == "bearer_jwt" {
        for m in ["base64", "hashlib", "hmac", "json", "time"] {
            i.module(Origin::Stdlib, m);
        }
    }
    for r in &design.resources {
        if !r.operations.create {
            i.from(Origin::Stdlib, "contextlib", "closing")
                .from(Origin::Local, "app", "crud")
                .from(Origin::Local, "app.db", "connect")
                .from(
                    Origin::Local,
                    "app.models",
                    &format!("{}Create", pascal(&r.name)),
                )
                .from(Origin::Local, "app.tables", &r.plural.to_ascii_uppercase());
        }
    }
    format!("\n{}", i.render())
}

fn protected(design: &ApiDesign) -> Option<Protected> {
    if matches!(design.auth, AuthScheme::None) {
        return None;
    }
    if let Some(r) = design
        .resources
        .iter()
        .find(|r| r.operations.list.is_some())
    {
        return Some(Protected {
            method: "get",
            path: format!("/{}", r.plural),
            json_arg: String::new(),
        });
    }
    // Without a list route, any resource route shows auth runs first: it answers 401
    // instead of 404 for an unknown id.
    design.resources.first().map(|r| Protected {
        method: "get",
        path: format!("/{}/999999", r.plural),
        json_arg: String::new(),
    })
}

fn auth_imports(auth: &Auth) -> String {
    let mut i = Imports::default();
    i.from(Origin::ThirdParty, "fastapi.testclient", "TestClient")
        .from(Origin::Local, "tests.support", "assert_problem");
    if auth.kind == "bearer_jwt" {
        i.module(Origin::Stdlib, "time")
            .from(Origin::Local, "tests.support", "make_token");
    }
    i.render()
}
