//! Design → OpenAPI 3.1.0 document, following the HTTP contract in [`crate::codegen`].
//!
//! The document is built as a [`serde_json::Value`] whose keys are inserted in a fixed,
//! readable order (`openapi`, `info`, …, `components`; within an operation `tags`,
//! `summary`, `operationId`, `parameters`, `requestBody`, `responses`), so the same
//! design always serialises to the same bytes.
//!
//! Beyond the contract, a few `x-apiforge-*` extensions keep what JSON Schema alone
//! cannot say, so [`spec_import`](crate::codegen::spec_import) can rebuild the design:
//! * `x-apiforge-type` on a property: `text` or `decimal` (which are plain `string` /
//!   `number` in JSON Schema);
//! * `x-apiforge-relation` on a foreign key: `{"target": parent, "on_delete": …}`;
//! * `x-apiforge-unique: true` and `x-apiforge-unit` on a property;
//! * `x-apiforge-search` on the `q` parameter: the searched fields.
//!
//! In `XCreate`, a field is required when the design marks it required and gives no
//! default (the default fills it in otherwise).

mod example;

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::design::{
    Action, ActionBehavior, ActionOutput, ApiDesign, AuthScheme, Field, FieldType, ListOp,
    OnDelete, Resource,
};

pub use example::shortest_match;

pub const OPENAPI_VERSION: &str = "3.1.0";
pub const DIALECT: &str = "https://spec.openapis.org/oas/3.1/dialect/base";
/// The pattern a `time` field's value matches.
pub const TIME_PATTERN: &str = r"^\d{2}:\d{2}(:\d{2})?$";
/// The pattern a `phone` field's value matches.
pub const PHONE_PATTERN: &str = r"^\+?[0-9 ()-]{6,20}$";
pub const EXT_TYPE: &str = "x-apiforge-type";
pub const EXT_RELATION: &str = "x-apiforge-relation";
pub const EXT_UNIQUE: &str = "x-apiforge-unique";
pub const EXT_UNIT: &str = "x-apiforge-unit";
pub const EXT_SEARCH: &str = "x-apiforge-search";

const JSON: &str = "application/json";
const PROBLEM_JSON: &str = "application/problem+json";
const API_KEY_SCHEME: &str = "ApiKeyAuth";
const BEARER_SCHEME: &str = "BearerAuth";

/// The OpenAPI 3.1.0 document for `design`.
pub fn build(design: &ApiDesign) -> Value {
    let mut used = BTreeSet::new();
    let paths = paths(design, &mut used);
    let mut doc = Map::new();
    doc.insert("openapi".into(), OPENAPI_VERSION.into());
    doc.insert("info".into(), info(design));
    doc.insert("jsonSchemaDialect".into(), DIALECT.into());
    doc.insert("servers".into(), json!([{ "url": "/" }]));
    if let Some(name) = security_scheme_name(&design.auth) {
        doc.insert("security".into(), json!([{ name: [] }]));
    }
    doc.insert("tags".into(), tags(design));
    doc.insert("paths".into(), Value::Object(paths));
    doc.insert("components".into(), components(design, &used));
    Value::Object(doc)
}

/// Pretty-printed JSON with a trailing newline.
pub fn to_json(spec: &Value) -> String {
    // A Value with string keys always serialises.
    let mut out = serde_json::to_string_pretty(spec).unwrap_or_default();
    out.push('\n');
    out
}

/// YAML (1.2) with the same content and key order as [`to_json`].
pub fn to_yaml(spec: &Value) -> String {
    // Serialising a JSON value (string keys, finite numbers) to YAML cannot fail.
    let mut out = serde_saphyr::to_string(spec).unwrap_or_default();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// `invoice_line` → `InvoiceLine`.
pub fn pascal_case(snake: &str) -> String {
    snake
        .split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut chars = p.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect::<String>()
            })
        })
        .collect()
}

/// A JSON number, written without a fraction when it has none (`1` rather than `1.0`).
pub(crate) fn number(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 {
        json!(v as i64)
    } else {
        serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
    }
}

fn words(snake: &str) -> String {
    snake.replace('_', " ")
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn info(design: &ApiDesign) -> Value {
    let mut info = Map::new();
    info.insert("title".into(), design.title.clone().into());
    if !design.description.is_empty() {
        info.insert("description".into(), design.description.clone().into());
    }
    info.insert("version".into(), design.version.clone().into());
    Value::Object(info)
}

fn security_scheme_name(auth: &AuthScheme) -> Option<&'static str> {
    match auth {
        AuthScheme::None => None,
        AuthScheme::ApiKey { .. } => Some(API_KEY_SCHEME),
        AuthScheme::BearerJwt { .. } => Some(BEARER_SCHEME),
    }
}

fn tags(design: &ApiDesign) -> Value {
    let mut tags: Vec<Value> = design
        .resources
        .iter()
        .map(|r| {
            let description = if r.description.is_empty() {
                format!("Manage {}", words(&r.plural))
            } else {
                r.description.clone()
            };
            json!({ "name": r.plural, "description": description })
        })
        .collect();
    if design
        .actions
        .iter()
        .any(|a| action_resource(design, a).is_none())
    {
        tags.push(json!({ "name": "actions", "description": "Operations beyond CRUD" }));
    }
    tags.push(json!({ "name": "health", "description": "Liveness of the service" }));
    Value::Array(tags)
}

/// Reusable error responses under `components/responses`, in the order they are
/// emitted; only those some operation uses are emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum ErrorResponse {
    Unauthorized,
    NotFound,
    Conflict,
    UnprocessableContent,
    InternalError,
    NotImplemented,
}

impl ErrorResponse {
    fn status(self) -> u16 {
        match self {
            ErrorResponse::Unauthorized => 401,
            ErrorResponse::NotFound => 404,
            ErrorResponse::Conflict => 409,
            ErrorResponse::UnprocessableContent => 422,
            ErrorResponse::InternalError => 500,
            ErrorResponse::NotImplemented => 501,
        }
    }

    fn name(self) -> &'static str {
        match self {
            ErrorResponse::Unauthorized => "Unauthorized",
            ErrorResponse::NotFound => "NotFound",
            ErrorResponse::Conflict => "Conflict",
            ErrorResponse::UnprocessableContent => "UnprocessableContent",
            ErrorResponse::InternalError => "InternalError",
            ErrorResponse::NotImplemented => "NotImplemented",
        }
    }

    fn title(self) -> &'static str {
        match self {
            ErrorResponse::Unauthorized => "Unauthorized",
            ErrorResponse::NotFound => "Not Found",
            ErrorResponse::Conflict => "Conflict",
            ErrorResponse::UnprocessableContent => "Unprocessable Content",
            ErrorResponse::InternalError => "Internal Server Error",
            ErrorResponse::NotImplemented => "Not Implemented",
        }
    }

    fn description(self) -> &'static str {
        match self {
            ErrorResponse::Unauthorized => "Credentials are missing or invalid.",
            ErrorResponse::NotFound => "No resource has this id.",
            ErrorResponse::Conflict => {
                "The request conflicts with the current state (a unique value is taken, \
                 children still reference the resource, or a precondition failed)."
            }
            ErrorResponse::UnprocessableContent => {
                "The request body, a query parameter or a path parameter is invalid."
            }
            ErrorResponse::InternalError => "The server failed unexpectedly.",
            ErrorResponse::NotImplemented => "This action has no handler yet.",
        }
    }

    fn example(self) -> Value {
        let mut problem = json!({
            "type": "about:blank",
            "title": self.title(),
            "status": self.status(),
            "detail": match self {
                ErrorResponse::Unauthorized => "Missing or invalid credentials.",
                ErrorResponse::NotFound => "No resource with id 42.",
                ErrorResponse::Conflict => "The value is already taken.",
                ErrorResponse::UnprocessableContent => "The request body is invalid.",
                ErrorResponse::InternalError => "The server failed unexpectedly.",
                ErrorResponse::NotImplemented => "This action is not implemented yet.",
            },
        });
        if self == ErrorResponse::UnprocessableContent {
            problem["errors"] = json!([{ "loc": ["body", "name"], "msg": "Field required" }]);
        }
        problem
    }

    fn component(self) -> Value {
        json!({
            "description": self.description(),
            "content": { PROBLEM_JSON: {
                "schema": schema_ref("Problem"),
                "example": self.example(),
            } },
        })
    }
}

/// Builds one operation's `responses`, recording which error responses it refers to.
struct Responses<'a> {
    map: Map<String, Value>,
    errors: BTreeSet<ErrorResponse>,
    used: &'a mut BTreeSet<ErrorResponse>,
}

impl<'a> Responses<'a> {
    fn new(used: &'a mut BTreeSet<ErrorResponse>) -> Self {
        Self {
            map: Map::new(),
            errors: BTreeSet::new(),
            used,
        }
    }

    fn success(mut self, status: u16, response: Value) -> Self {
        self.map.insert(status.to_string(), response);
        self
    }

    fn error(mut self, error: ErrorResponse, when: bool) -> Self {
        if when {
            self.errors.insert(error);
        }
        self
    }

    /// Every operation declares at least one error; one that can fail in no specific
    /// way still can fail unexpectedly.
    fn finish(mut self) -> Value {
        if self.errors.is_empty() {
            self.errors.insert(ErrorResponse::InternalError);
        }
        for error in &self.errors {
            self.used.insert(*error);
            self.map.insert(
                error.status().to_string(),
                json!({ "$ref": format!("#/components/responses/{}", error.name()) }),
            );
        }
        Value::Object(self.map)
    }
}

fn operation(
    tag: &str,
    summary: String,
    operation_id: String,
    parameters: Vec<Value>,
    body: Option<Value>,
    responses: Value,
) -> Value {
    let mut op = Map::new();
    op.insert("tags".into(), json!([tag]));
    op.insert("summary".into(), summary.into());
    op.insert("operationId".into(), operation_id.into());
    if !parameters.is_empty() {
        op.insert("parameters".into(), Value::Array(parameters));
    }
    if let Some(body) = body {
        op.insert(
            "requestBody".into(),
            json!({ "required": true, "content": { JSON: { "schema": body } } }),
        );
    }
    op.insert("responses".into(), responses);
    Value::Object(op)
}

fn json_response(description: String, schema: Value) -> Value {
    json!({ "description": description, "content": { JSON: { "schema": schema } } })
}

fn id_parameter(resource: &str) -> Value {
    json!({
        "name": "id",
        "in": "path",
        "required": true,
        "description": format!("The {}'s id.", words(resource)),
        "schema": { "type": "integer" },
    })
}

fn paths(design: &ApiDesign, used: &mut BTreeSet<ErrorResponse>) -> Map<String, Value> {
    let auth = design.auth != AuthScheme::None;
    let mut paths = Map::new();
    let health = operation(
        "health",
        "Check that the service is up".into(),
        "health".into(),
        Vec::new(),
        None,
        Responses::new(used)
            .success(
                200,
                json_response("The service is up.".into(), schema_ref("Health")),
            )
            .finish(),
    );
    let mut health = health;
    if auth {
        health["security"] = json!([]);
    }
    paths.insert("/health".into(), json!({ "get": health }));

    for resource in &design.resources {
        let (collection, item) = resource_paths(design, resource, auth, used);
        if !collection.is_empty() {
            paths.insert(format!("/{}", resource.plural), Value::Object(collection));
        }
        if !item.is_empty() {
            paths.insert(format!("/{}/{{id}}", resource.plural), Value::Object(item));
        }
    }

    for action in &design.actions {
        let method = action.method.as_str().to_ascii_lowercase();
        let op = action_operation(design, action, auth, used);
        match paths
            .entry(action.path.clone())
            .or_insert_with(|| Value::Object(Map::new()))
        {
            Value::Object(item) => {
                item.insert(method, op);
            }
            other => *other = json!({ method: op }),
        }
    }
    paths
}

fn has_unique(resource: &Resource) -> bool {
    resource.fields.iter().any(|f| f.unique)
}

fn has_restricting_children(design: &ApiDesign, resource: &Resource) -> bool {
    design.resources.iter().any(|child| {
        child
            .relations
            .iter()
            .any(|rel| rel.target == resource.name && rel.on_delete == OnDelete::Restrict)
    })
}

fn resource_paths(
    design: &ApiDesign,
    resource: &Resource,
    auth: bool,
    used: &mut BTreeSet<ErrorResponse>,
) -> (Map<String, Value>, Map<String, Value>) {
    let name = &resource.name;
    let plural = &resource.plural;
    let schema = pascal_case(name);
    let ops = &resource.operations;
    let unique = has_unique(resource);
    let mut collection = Map::new();
    let mut item = Map::new();

    if let Some(list) = &ops.list {
        let responses = Responses::new(used)
            .success(
                200,
                json_response(
                    format!("A page of {}.", words(plural)),
                    schema_ref(&format!("{schema}List")),
                ),
            )
            .error(ErrorResponse::Unauthorized, auth)
            .error(ErrorResponse::UnprocessableContent, true)
            .finish();
        collection.insert(
            "get".into(),
            operation(
                plural,
                format!("List {}", words(plural)),
                format!("list_{plural}"),
                list_parameters(resource, list),
                None,
                responses,
            ),
        );
    }
    if ops.create {
        let mut created =
            json_response(format!("The created {}.", words(name)), schema_ref(&schema));
        created["headers"] = json!({ "Location": {
            "description": format!("The new {}'s URL, `/{plural}/{{id}}`.", words(name)),
            "required": true,
            "schema": { "type": "string", "examples": [format!("/{plural}/1")] },
        } });
        let responses = Responses::new(used)
            .success(201, created)
            .error(ErrorResponse::Unauthorized, auth)
            .error(ErrorResponse::Conflict, unique)
            .error(ErrorResponse::UnprocessableContent, true)
            .finish();
        collection.insert(
            "post".into(),
            operation(
                plural,
                format!("Create a {}", words(name)),
                format!("create_{name}"),
                Vec::new(),
                Some(schema_ref(&format!("{schema}Create"))),
                responses,
            ),
        );
    }
    let item_ops: [(bool, &str, &str, &str, Option<String>); 4] = [
        (ops.get, "get", "get", "Get a", None),
        (
            ops.replace,
            "put",
            "replace",
            "Replace a",
            Some(format!("{schema}Create")),
        ),
        (
            ops.patch,
            "patch",
            "patch",
            "Update part of a",
            Some(format!("{schema}Patch")),
        ),
        (ops.delete, "delete", "delete", "Delete a", None),
    ];
    for (enabled, method, verb, summary, body) in item_ops {
        if !enabled {
            continue;
        }
        let writes = body.is_some();
        let responses = if method == "delete" {
            Responses::new(used).success(
                204,
                json!({ "description": format!("The {} was deleted.", words(name)) }),
            )
        } else {
            Responses::new(used).success(
                200,
                json_response(format!("The {}.", words(name)), schema_ref(&schema)),
            )
        };
        let conflict = (writes && unique)
            || (method == "delete" && has_restricting_children(design, resource));
        let responses = responses
            .error(ErrorResponse::Unauthorized, auth)
            .error(ErrorResponse::NotFound, true)
            .error(ErrorResponse::Conflict, conflict)
            .error(ErrorResponse::UnprocessableContent, true)
            .finish();
        item.insert(
            method.into(),
            operation(
                plural,
                format!("{summary} {}", words(name)),
                format!("{verb}_{name}"),
                vec![id_parameter(name)],
                body.map(|b| schema_ref(&b)),
                responses,
            ),
        );
    }
    (collection, item)
}

fn list_parameters(resource: &Resource, list: &ListOp) -> Vec<Value> {
    let max = list.max_page_size.max(1);
    let mut params = vec![
        json!({
            "name": "limit",
            "in": "query",
            "required": false,
            "description": format!("How many {} to return at most.", words(&resource.plural)),
            "schema": {
                "type": "integer",
                "minimum": 1,
                "maximum": max,
                "default": list.default_page_size.clamp(1, max),
            },
        }),
        json!({
            "name": "offset",
            "in": "query",
            "required": false,
            "description": "How many to skip before the first one returned.",
            "schema": { "type": "integer", "minimum": 0, "default": 0 },
        }),
    ];
    let mut sort = vec![Value::from("id"), Value::from("-id")];
    for field in list.sort.iter().filter(|f| f.as_str() != "id") {
        sort.push(field.clone().into());
        sort.push(format!("-{field}").into());
    }
    params.push(json!({
        "name": "sort",
        "in": "query",
        "required": false,
        "description": "Order by this field, descending when prefixed with `-`.",
        "schema": { "type": "string", "enum": sort, "default": "id" },
    }));
    if !list.search.is_empty() {
        params.push(json!({
            "name": "q",
            "in": "query",
            "required": false,
            "description": format!(
                "Case-insensitive substring search over {}.",
                list.search.join(", ")
            ),
            "schema": { "type": "string" },
            EXT_SEARCH: list.search,
        }));
    }
    for filter in &list.filters {
        let schema = if let Some(field) = resource.field(filter) {
            let mut schema = property_schema(field, false, false);
            if let Value::Object(map) = &mut schema {
                for key in ["description", EXT_TYPE, EXT_UNIQUE, EXT_UNIT] {
                    map.shift_remove(key);
                }
            }
            schema
        } else {
            json!({ "type": "integer" })
        };
        params.push(json!({
            "name": filter,
            "in": "query",
            "required": false,
            "description": format!("Only {} whose {} equals this value.", words(&resource.plural), words(filter)),
            "schema": schema,
        }));
    }
    params
}

fn action_resource<'a>(design: &'a ApiDesign, action: &Action) -> Option<&'a Resource> {
    action.resource.as_deref().and_then(|r| design.resource(r))
}

/// `{name}` placeholders of a path template, in order.
pub fn path_placeholders(path: &str) -> Vec<&str> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .collect()
}

fn needs_handler(behavior: &ActionBehavior) -> bool {
    match behavior {
        ActionBehavior::NotImplemented => true,
        ActionBehavior::Custom { fastapi, express } => fastapi.is_none() || express.is_none(),
        ActionBehavior::SetField { .. } => false,
    }
}

fn action_operation(
    design: &ApiDesign,
    action: &Action,
    auth: bool,
    used: &mut BTreeSet<ErrorResponse>,
) -> Value {
    let resource = action_resource(design, action);
    let tag = resource.map_or("actions", |r| r.plural.as_str());
    let placeholders = path_placeholders(&action.path);
    let parameters = placeholders
        .iter()
        .map(|p| {
            if *p == "id" {
                id_parameter(resource.map_or("resource", |r| r.name.as_str()))
            } else {
                json!({ "name": p, "in": "path", "required": true, "schema": { "type": "string" } })
            }
        })
        .collect();
    let base = pascal_case(&action.name);
    let body = (!action.input.is_empty()).then(|| schema_ref(&format!("{base}Input")));
    let responses = Responses::new(used);
    let responses = match (&action.output, resource) {
        (ActionOutput::Resource, Some(r)) => responses.success(
            200,
            json_response(
                format!("The updated {}.", words(&r.name)),
                schema_ref(&pascal_case(&r.name)),
            ),
        ),
        (ActionOutput::Object { .. }, _) => responses.success(
            200,
            json_response("The result.".into(), schema_ref(&format!("{base}Output"))),
        ),
        _ => responses.success(204, json!({ "description": "Done." })),
    };
    let precondition =
        matches!(&action.behavior, ActionBehavior::SetField { from, .. } if !from.is_empty());
    let responses = responses
        .error(ErrorResponse::Unauthorized, auth)
        .error(ErrorResponse::NotFound, !placeholders.is_empty())
        .error(ErrorResponse::Conflict, precondition)
        .error(
            ErrorResponse::UnprocessableContent,
            body.is_some() || !placeholders.is_empty(),
        )
        .error(
            ErrorResponse::NotImplemented,
            needs_handler(&action.behavior),
        )
        .finish();
    let summary = if action.summary.is_empty() {
        let w = words(&action.name);
        let mut chars = w.chars();
        chars
            .next()
            .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
    } else {
        action.summary.clone()
    };
    operation(
        tag,
        summary,
        action.name.clone(),
        parameters,
        body,
        responses,
    )
}

/// The JSON Schema of one field, following the contract's type table. `nullable` adds
/// `null` to the type (and enum); `with_default` keeps the design's default.
fn property_schema(field: &Field, nullable: bool, with_default: bool) -> Value {
    let (ty, format, pattern) = match field.ty {
        FieldType::String | FieldType::Text => ("string", None, None),
        FieldType::Integer => ("integer", None, None),
        FieldType::Number | FieldType::Decimal => ("number", None, None),
        FieldType::Boolean => ("boolean", None, None),
        FieldType::Date => ("string", Some("date"), None),
        FieldType::DateTime => ("string", Some("date-time"), None),
        FieldType::Time => ("string", None, Some(TIME_PATTERN)),
        FieldType::Email => ("string", Some("email"), None),
        FieldType::Url => ("string", Some("uri"), None),
        FieldType::Phone => ("string", None, Some(PHONE_PATTERN)),
        FieldType::Uuid => ("string", Some("uuid"), None),
        FieldType::Enum => ("string", None, None),
        FieldType::Json => ("object", None, None),
    };
    let mut s = Map::new();
    s.insert(
        "type".into(),
        if nullable {
            json!([ty, "null"])
        } else {
            json!(ty)
        },
    );
    if let Some(format) = format {
        s.insert("format".into(), format.into());
    }
    if let Some(description) = &field.description {
        s.insert("description".into(), description.clone().into());
    }
    match field.ty {
        FieldType::Text => {
            s.insert(EXT_TYPE.into(), "text".into());
        }
        FieldType::Decimal => {
            s.insert(EXT_TYPE.into(), "decimal".into());
        }
        _ => {}
    }
    if field.ty == FieldType::Enum {
        let mut values: Vec<Value> = field.enum_values.iter().map(|v| json!(v)).collect();
        if nullable {
            values.push(Value::Null);
        }
        s.insert("enum".into(), Value::Array(values));
    }
    if field.ty.is_numeric() {
        if let Some(min) = field.min {
            s.insert("minimum".into(), number(min));
        }
        if let Some(max) = field.max {
            s.insert("maximum".into(), number(max));
        }
    }
    if ty == "string" {
        if let Some(min) = field.min_length {
            s.insert("minLength".into(), min.into());
        }
        if let Some(max) = field.max_length {
            s.insert("maxLength".into(), max.into());
        }
        match (pattern, &field.pattern) {
            (Some(builtin), Some(own)) => {
                s.insert("pattern".into(), builtin.into());
                s.insert("allOf".into(), json!([{ "pattern": own }]));
            }
            (Some(p), None) => {
                s.insert("pattern".into(), p.into());
            }
            (None, Some(own)) => {
                s.insert("pattern".into(), own.clone().into());
            }
            (None, None) => {}
        }
    }
    if with_default && let Some(default) = &field.default {
        s.insert("default".into(), default.clone());
    }
    if field.unique {
        s.insert(EXT_UNIQUE.into(), true.into());
    }
    if let Some(unit) = &field.unit {
        s.insert(EXT_UNIT.into(), unit.clone().into());
    }
    Value::Object(s)
}

/// The foreign-key property of a relation.
fn foreign_key_schema(design: &ApiDesign, resource: &Resource, field: &str) -> Value {
    let Some(rel) = resource.relations.iter().find(|r| r.field == field) else {
        return json!({ "type": "integer" });
    };
    let on_delete = match rel.on_delete {
        OnDelete::Restrict => "restrict",
        OnDelete::Cascade => "cascade",
        OnDelete::SetNull => "set_null",
    };
    let parent = design
        .resource(&rel.target)
        .map_or_else(|| words(&rel.target), |p| words(&p.name));
    json!({
        "type": if rel.required { json!("integer") } else { json!(["integer", "null"]) },
        "description": format!("The id of the {parent} this {} belongs to.", words(&resource.name)),
        EXT_RELATION: { "target": rel.target, "on_delete": on_delete },
    })
}

fn object_schema(
    description: Option<String>,
    properties: Map<String, Value>,
    required: Vec<String>,
    closed: bool,
    example: Value,
) -> Value {
    let mut s = Map::new();
    s.insert("type".into(), "object".into());
    if let Some(description) = description {
        s.insert("description".into(), description.into());
    }
    s.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        s.insert("required".into(), json!(required));
    }
    if closed {
        s.insert("additionalProperties".into(), false.into());
    }
    s.insert("examples".into(), json!([example]));
    Value::Object(s)
}

fn resource_schemas(design: &ApiDesign, resource: &Resource, schemas: &mut Map<String, Value>) {
    let name = &resource.name;
    let base = pascal_case(name);
    let fields_example = example::object(&resource.fields, name);
    let fk_names: Vec<&str> = resource
        .relations
        .iter()
        .map(|r| r.field.as_str())
        .collect();

    // Representation.
    let mut props = Map::new();
    props.insert(
        "id".into(),
        json!({
            "type": "integer",
            "minimum": 1,
            "readOnly": true,
            "description": format!("The {}'s id.", words(name)),
        }),
    );
    for f in &resource.fields {
        props.insert(f.name.clone(), property_schema(f, !f.required, false));
    }
    for fk in &fk_names {
        props.insert((*fk).to_owned(), foreign_key_schema(design, resource, fk));
    }
    for stamp in ["created_at", "updated_at"] {
        props.insert(
            stamp.into(),
            json!({ "type": "string", "format": "date-time", "readOnly": true }),
        );
    }
    let required: Vec<String> = props.keys().cloned().collect();
    let mut repr_example = Map::new();
    repr_example.insert("id".into(), 1.into());
    repr_example.extend(fields_example.clone());
    for fk in &fk_names {
        repr_example.insert((*fk).to_owned(), 1.into());
    }
    repr_example.insert("created_at".into(), example::TIMESTAMP.into());
    repr_example.insert("updated_at".into(), example::TIMESTAMP.into());
    // Only the design's own words, so an import gets back exactly what was written.
    let description = (!resource.description.is_empty()).then(|| resource.description.clone());
    let repr_example = Value::Object(repr_example);
    schemas.insert(
        base.clone(),
        object_schema(description, props, required, true, repr_example.clone()),
    );

    // Create (POST and PUT body) and Patch.
    let mut create_props = Map::new();
    let mut patch_props = Map::new();
    let mut create_required = Vec::new();
    for f in &resource.fields {
        create_props.insert(f.name.clone(), property_schema(f, !f.required, true));
        patch_props.insert(f.name.clone(), property_schema(f, !f.required, false));
        if f.required && f.default.is_none() {
            create_required.push(f.name.clone());
        }
    }
    for rel in &resource.relations {
        let schema = foreign_key_schema(design, resource, &rel.field);
        create_props.insert(rel.field.clone(), schema.clone());
        patch_props.insert(rel.field.clone(), schema);
        if rel.required {
            create_required.push(rel.field.clone());
        }
    }
    let mut create_example = fields_example.clone();
    for fk in &fk_names {
        create_example.insert((*fk).to_owned(), 1.into());
    }
    let patch_example: Map<String, Value> = create_example
        .iter()
        .take(1)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    schemas.insert(
        format!("{base}Create"),
        object_schema(
            Some(format!(
                "The fields of a new {} (also the body of PUT).",
                words(name)
            )),
            create_props,
            create_required,
            false,
            Value::Object(create_example),
        ),
    );
    schemas.insert(
        format!("{base}Patch"),
        object_schema(
            Some(format!(
                "The {} fields to change; the others keep their value.",
                words(name)
            )),
            patch_props,
            Vec::new(),
            false,
            Value::Object(patch_example),
        ),
    );

    // List envelope.
    if let Some(list) = &resource.operations.list {
        let list_example = json!({
            "items": [repr_example],
            "total": 1,
            "limit": list.default_page_size.clamp(1, list.max_page_size.max(1)),
            "offset": 0,
        });
        let mut props = Map::new();
        props.insert(
            "items".into(),
            json!({ "type": "array", "items": schema_ref(&base) }),
        );
        props.insert(
            "total".into(),
            json!({ "type": "integer", "minimum": 0, "description": "How many match, over all pages." }),
        );
        props.insert("limit".into(), json!({ "type": "integer", "minimum": 1 }));
        props.insert("offset".into(), json!({ "type": "integer", "minimum": 0 }));
        schemas.insert(
            format!("{base}List"),
            object_schema(
                Some(format!("A page of {}.", words(&resource.plural))),
                props,
                vec![
                    "items".into(),
                    "total".into(),
                    "limit".into(),
                    "offset".into(),
                ],
                true,
                list_example,
            ),
        );
    }
}

fn action_schemas(action: &Action, schemas: &mut Map<String, Value>) {
    let base = pascal_case(&action.name);
    let context = action.resource.as_deref().unwrap_or(&action.name);
    if !action.input.is_empty() {
        let props = action
            .input
            .iter()
            .map(|f| (f.name.clone(), property_schema(f, !f.required, true)))
            .collect();
        let required = action
            .input
            .iter()
            .filter(|f| f.required && f.default.is_none())
            .map(|f| f.name.clone())
            .collect();
        schemas.insert(
            format!("{base}Input"),
            object_schema(
                Some(format!("The body of {}.", action.name)),
                props,
                required,
                false,
                Value::Object(example::object(&action.input, context)),
            ),
        );
    }
    if let ActionOutput::Object { fields } = &action.output {
        let props = fields
            .iter()
            .map(|f| (f.name.clone(), property_schema(f, !f.required, false)))
            .collect();
        let required = fields.iter().map(|f| f.name.clone()).collect();
        schemas.insert(
            format!("{base}Output"),
            object_schema(
                Some(format!("The result of {}.", action.name)),
                props,
                required,
                false,
                Value::Object(example::object(fields, context)),
            ),
        );
    }
}

fn problem_schema() -> Value {
    json!({
        "type": "object",
        "description": "An RFC 9457 problem detail.",
        "properties": {
            "type": { "type": "string", "description": "A URI naming the problem type; `about:blank` when none is more specific." },
            "title": { "type": "string" },
            "status": { "type": "integer", "minimum": 100, "maximum": 599 },
            "detail": { "type": "string" },
            "errors": {
                "type": "array",
                "description": "What failed validation, one entry per problem.",
                "items": {
                    "type": "object",
                    "properties": {
                        "loc": { "type": "array", "items": { "type": "string" } },
                        "msg": { "type": "string" },
                    },
                    "required": ["loc", "msg"],
                },
            },
        },
        "required": ["type", "title", "status", "detail"],
        "examples": [ErrorResponse::NotFound.example()],
    })
}

fn components(design: &ApiDesign, used: &BTreeSet<ErrorResponse>) -> Value {
    let mut schemas = Map::new();
    for resource in &design.resources {
        resource_schemas(design, resource, &mut schemas);
    }
    for action in &design.actions {
        action_schemas(action, &mut schemas);
    }
    schemas.insert("Problem".into(), problem_schema());
    schemas.insert(
        "Health".into(),
        json!({
            "type": "object",
            "properties": { "status": { "type": "string", "enum": ["ok"] } },
            "required": ["status"],
            "examples": [{ "status": "ok" }],
        }),
    );
    let responses: Map<String, Value> = used
        .iter()
        .map(|e| (e.name().to_owned(), e.component()))
        .collect();
    let mut components = Map::new();
    components.insert("schemas".into(), Value::Object(schemas));
    components.insert("responses".into(), Value::Object(responses));
    match &design.auth {
        AuthScheme::None => {}
        AuthScheme::ApiKey { header, env_var } => {
            components.insert(
                "securitySchemes".into(),
                json!({ API_KEY_SCHEME: {
                    "type": "apiKey",
                    "in": "header",
                    "name": header,
                    "description": format!("The key the server reads from ${env_var}."),
                } }),
            );
        }
        AuthScheme::BearerJwt { env_var } => {
            components.insert(
                "securitySchemes".into(),
                json!({ BEARER_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": format!("An HS256 JWT signed with the secret in ${env_var}."),
                } }),
            );
        }
    }
    Value::Object(components)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::design::{Field, FieldType, Resource};

    /// Strings YAML would read as something else unless quoted survive the round trip.
    #[test]
    fn yaml_keeps_ambiguous_strings_as_strings() {
        let tricky = [
            "yes", "no", "on", "off", "null", "~", "1.0", "true", "0x10", "-", "*", "&a", "!tag",
            "@x", "`x", "'q'", "\"dq\"", "a: b", "#c", " lead", "trail ", "1e3", ".inf", "",
        ];
        let mut design = ApiDesign::new("Café: ☕ \"API\" # 1\nsecond line");
        design.version = "1.10".into();
        let mut resource = Resource::new("answer", "answers");
        let mut field = Field::new("value", FieldType::Enum);
        field.enum_values = tricky.iter().map(|s| (*s).to_owned()).collect();
        field.description = Some("key: value # not a comment".into());
        resource.fields.push(field);
        design.resources.push(resource);
        let spec = build(&design);
        let yaml = to_yaml(&spec);
        let back: Value = serde_saphyr::from_str(&yaml).expect("YAML parses");
        assert_eq!(back, spec, "{yaml}");
        assert_eq!(back["info"]["version"], "1.10");
    }

    #[test]
    fn pascal_case_joins_words() {
        assert_eq!(pascal_case("invoice_line"), "InvoiceLine");
        assert_eq!(pascal_case("order"), "Order");
        assert_eq!(pascal_case("thing_0"), "Thing0");
    }

    #[test]
    fn numbers_without_fraction_are_integers() {
        assert_eq!(number(1.0), json!(1));
        assert_eq!(number(-3.0), json!(-3));
        assert_eq!(number(0.25), json!(0.25));
    }
}
