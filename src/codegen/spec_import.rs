//! An existing OpenAPI 3.0 or 3.1 document (JSON or YAML) → a design
//! (`apiforge scaffold --from-spec FILE`).
//!
//! Resources come from CRUD path pairs (`/pets` + `/pets/{petId}`), named after the
//! schema their operations return; when a document has no such paths, from its
//! component object schemas. Fields, types, formats, bounds, enums and defaults come
//! from those schemas; belongs-to relations from integer `*_id` properties naming
//! another resource (or `x-apiforge-relation`); list filters, search and sort from the
//! list operation's query parameters. What a design cannot say (operations beyond
//! CRUD, nested objects, arrays, `oneOf`, other auth kinds…) becomes a warning, never
//! a failure. A spec written by [`openapi::build`](super::openapi::build) comes back
//! as the design it was built from, except for its custom actions.

mod naming;

use std::collections::BTreeSet;

use serde_json::{Map, Value};

pub use naming::snake_case;
use naming::{plural, singular};

use super::openapi::{
    EXT_RELATION, EXT_SEARCH, EXT_TYPE, EXT_UNIQUE, EXT_UNIT, PHONE_PATTERN, TIME_PATTERN,
    pascal_case,
};
use super::spec_check::resolve;
use crate::design::{
    ApiDesign, AuthScheme, Field, FieldType, ListOp, OnDelete, Operations, Relation, Resource,
    SCHEMA_VERSION,
};

#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    pub design: ApiDesign,
    /// What the document says that the design cannot, one sentence each.
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the input is empty; give an OpenAPI 3.0 or 3.1 document in JSON or YAML")]
    Empty,
    #[error(
        "the input is not valid JSON: {0}; give an OpenAPI 3.0 or 3.1 document in JSON or YAML"
    )]
    Json(String),
    #[error(
        "the input is neither JSON nor YAML: {0}; give an OpenAPI 3.0 or 3.1 document in JSON or YAML"
    )]
    Yaml(String),
    #[error("the input is not an OpenAPI document: {0}")]
    NotOpenApi(String),
    #[error(
        "Swagger {0} documents cannot be imported; convert it to OpenAPI 3 first (for example with `npx swagger2openapi`) and import the result"
    )]
    Swagger(String),
    #[error("OpenAPI {0} cannot be imported; only versions 3.0.x and 3.1.x can")]
    UnsupportedVersion(String),
    #[error(
        "the document describes no resources: it has no CRUD paths (`/things`, `/things/{{id}}`) and no object schemas under components/schemas"
    )]
    NoResources,
}

const MAX_REF_DEPTH: usize = 32;
const IMPLICIT: [&str; 3] = ["id", "created_at", "updated_at"];

/// Parses `text` (JSON or YAML) and turns the OpenAPI document into a design.
pub fn import(text: &str) -> Result<Imported, ImportError> {
    let doc = parse(text)?;
    let Some(root) = doc.as_object() else {
        return Err(ImportError::NotOpenApi(format!(
            "expected a mapping with an `openapi` field at the top, found {}",
            kind_of(&doc)
        )));
    };
    if let Some(swagger) = root.get("swagger") {
        return Err(ImportError::Swagger(scalar_text(swagger)));
    }
    let version = match root.get("openapi") {
        Some(v) => scalar_text(v),
        None => {
            return Err(ImportError::NotOpenApi(
                "it has no `openapi` field naming its version (e.g. `openapi: 3.1.0`)".into(),
            ));
        }
    };
    if !(version.starts_with("3.0") || version.starts_with("3.1")) {
        return Err(ImportError::UnsupportedVersion(version));
    }
    let mut importer = Importer {
        doc: &doc,
        warnings: Vec::new(),
    };
    let design = importer.design()?;
    Ok(Imported {
        design,
        warnings: importer.warnings,
    })
}

fn parse(text: &str) -> Result<Value, ImportError> {
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    if trimmed.is_empty() {
        return Err(ImportError::Empty);
    }
    if trimmed.starts_with('{') {
        return serde_json::from_str(trimmed).map_err(|e| ImportError::Json(e.to_string()));
    }
    if trimmed.contains('\0') {
        return Err(ImportError::Yaml(
            "it contains NUL bytes, so it is binary data, not text".into(),
        ));
    }
    serde_saphyr::from_str::<Value>(trimmed).map_err(|e| {
        // Keep the first line: the parser's snippet rendering is for terminals.
        let message = e.to_string();
        ImportError::Yaml(message.lines().next().unwrap_or_default().to_owned())
    })
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing (null)",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a plain string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// An object schema with `$ref`s and `allOf` resolved into one property list.
#[derive(Debug, Default, Clone)]
struct ObjectSchema {
    /// The component name when the schema was a `$ref` to one.
    name: Option<String>,
    description: Option<String>,
    properties: Vec<(String, Value)>,
    required: BTreeSet<String>,
}

impl ObjectSchema {
    fn property(&self, name: &str) -> Option<&Value> {
        self.properties
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }
}

/// One CRUD collection found in `paths`.
#[derive(Debug, Default)]
struct Collection<'a> {
    plural_path: String,
    collection: Option<&'a Map<String, Value>>,
    item: Option<&'a Map<String, Value>>,
    item_path: Option<String>,
}

struct Importer<'a> {
    doc: &'a Value,
    warnings: Vec<String>,
}

/// A resource before its fields: its operations and the schemas that describe it.
struct Skeleton<'a> {
    resource: Resource,
    /// What the API returns for one of them.
    repr: Option<ObjectSchema>,
    /// The body of POST (or PUT).
    create: Option<ObjectSchema>,
    /// The list operation's parameters, path-item level first.
    list_params: Vec<&'a Value>,
}

/// A field as read from a schema, before relations are told apart.
struct RawField {
    field: Field,
    nullable: bool,
    relation: Option<(String, OnDelete)>,
}

impl<'a> Importer<'a> {
    fn warn(&mut self, message: String) {
        if !self.warnings.contains(&message) {
            self.warnings.push(message);
        }
    }

    /// Follows `$ref`s; the component name of the last one, and the target.
    fn deref<'s>(&mut self, node: &'s Value) -> (Option<String>, &'s Value)
    where
        'a: 's,
    {
        let mut current = node;
        let mut name = None;
        for _ in 0..MAX_REF_DEPTH {
            let Some(reference) = current.get("$ref").and_then(Value::as_str) else {
                return (name, current);
            };
            match resolve(self.doc, reference) {
                Some(target) if reference.starts_with('#') => {
                    name = reference.rsplit('/').next().map(str::to_owned);
                    current = target;
                }
                _ => {
                    self.warn(format!(
                        "`{reference}` cannot be resolved inside the document; what it describes was left out"
                    ));
                    return (name, &Value::Null);
                }
            }
        }
        self.warn("a chain of `$ref`s loops; what it describes was left out".into());
        (name, &Value::Null)
    }

    fn object_schema(&mut self, node: &'a Value, depth: usize) -> ObjectSchema {
        let (name, schema) = self.deref(node);
        let mut out = ObjectSchema {
            name,
            ..ObjectSchema::default()
        };
        if depth > MAX_REF_DEPTH {
            let label = out.name.clone().unwrap_or_else(|| "a schema".into());
            self.warn(format!(
                "{label} includes itself (through `allOf`); the repeated part was left out"
            ));
            return out;
        }
        out.description = schema
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
            for part in parts {
                let merged = self.object_schema(part, depth + 1);
                for (k, v) in merged.properties {
                    out.properties.retain(|(n, _)| *n != k);
                    out.properties.push((k, v));
                }
                out.required.extend(merged.required);
            }
        }
        for key in ["oneOf", "anyOf"] {
            if schema.get(key).is_some() {
                let label = out.name.clone().unwrap_or_else(|| "an object".into());
                self.warn(format!(
                    "{label} uses `{key}`; only its common properties were imported"
                ));
            }
        }
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (k, v) in props {
                out.properties.retain(|(n, _)| n != k);
                out.properties.push((k.clone(), v.clone()));
            }
        }
        if let Some(required) = schema.get("required").and_then(Value::as_array) {
            out.required
                .extend(required.iter().filter_map(Value::as_str).map(str::to_owned));
        }
        out
    }

    fn design(&mut self) -> Result<ApiDesign, ImportError> {
        let doc = self.doc;
        let info = doc.get("info");
        let text = |key: &str| {
            info.and_then(|i| i.get(key))
                .map(scalar_text)
                .unwrap_or_default()
        };
        let mut design = ApiDesign::new(text("title"));
        if design.title.is_empty() {
            design.title = "Imported API".into();
        }
        design.description = text("description");
        let version = text("version");
        if !version.is_empty() {
            design.version = version;
        }
        design.schema_version = SCHEMA_VERSION;
        design.auth = self.auth();

        let collections = self.collections();
        let mut skeletons: Vec<Skeleton<'a>> = Vec::new();
        for c in &collections {
            let skeleton = self.skeleton(c);
            let resource = &skeleton.resource;
            if skeletons.iter().any(|s| s.resource.name == resource.name) {
                self.warn(format!(
                    "two collections serve the resource `{}`; {} was left out",
                    resource.name, c.plural_path
                ));
                continue;
            }
            skeletons.push(skeleton);
        }
        if skeletons.is_empty() {
            self.skeletons_from_components(&mut skeletons);
        }
        if skeletons.is_empty() {
            return Err(ImportError::NoResources);
        }
        let names: Vec<String> = skeletons.iter().map(|s| s.resource.name.clone()).collect();
        for skeleton in skeletons {
            let Skeleton {
                mut resource,
                repr,
                create,
                list_params: params,
            } = skeleton;
            self.fields(&mut resource, repr.as_ref(), create.as_ref(), &names);
            if let Some(list) = resource.operations.list.take() {
                resource.operations.list = Some(self.list_op(&resource, list, &params));
            }
            design.resources.push(resource);
        }
        Ok(design)
    }

    fn auth(&mut self) -> AuthScheme {
        let doc = self.doc;
        let schemes = doc
            .pointer("/components/securitySchemes")
            .and_then(Value::as_object);
        let mut used: Vec<String> = Vec::new();
        let mut collect = |security: Option<&Value>| {
            for requirement in security.and_then(Value::as_array).into_iter().flatten() {
                for name in requirement.as_object().into_iter().flat_map(|m| m.keys()) {
                    if !used.contains(name) {
                        used.push(name.clone());
                    }
                }
            }
        };
        collect(doc.get("security"));
        let global = doc
            .get("security")
            .and_then(Value::as_array)
            .is_some_and(|s| !s.is_empty());
        let mut per_operation = false;
        for (_, _, op) in operations(doc) {
            if op
                .get("security")
                .and_then(Value::as_array)
                .is_some_and(|s| !s.is_empty())
            {
                per_operation = true;
                collect(op.get("security"));
            }
        }
        if used.is_empty() {
            return AuthScheme::None;
        }
        if !global && per_operation {
            self.warn(
                "only some operations require credentials; the imported API requires them on every route but /health".into(),
            );
        }
        let mut chosen = None;
        for name in &used {
            let scheme = schemes.and_then(|s| s.get(name));
            let scheme = scheme.map(|s| self.deref(s).1);
            let ty = scheme.and_then(|s| s.get("type")).and_then(Value::as_str);
            let auth = match ty {
                Some("apiKey") => {
                    let location = scheme.and_then(|s| s.get("in")).and_then(Value::as_str);
                    let header = scheme.and_then(|s| s.get("name")).and_then(Value::as_str);
                    match (location, header) {
                        (Some("header"), Some(header)) => Some(AuthScheme::ApiKey {
                            header: header.to_owned(),
                            env_var: "API_KEY".into(),
                        }),
                        _ => {
                            self.warn(format!(
                                "security scheme `{name}` sends its API key in the {}; apiforge APIs read it from a header",
                                location.unwrap_or("query")
                            ));
                            None
                        }
                    }
                }
                Some("http")
                    if scheme
                        .and_then(|s| s.get("scheme"))
                        .and_then(Value::as_str)
                        .is_some_and(|s| s.eq_ignore_ascii_case("bearer")) =>
                {
                    Some(AuthScheme::BearerJwt {
                        env_var: "JWT_SECRET".into(),
                    })
                }
                Some(other) => {
                    let other = if other == "http" { "http basic" } else { other };
                    self.warn(format!(
                        "security scheme `{name}` ({other}) has no apiforge equivalent (API key in a header, or bearer JWT)"
                    ));
                    None
                }
                None => {
                    self.warn(format!(
                        "security scheme `{name}` is used but not defined under components/securitySchemes"
                    ));
                    None
                }
            };
            if let Some(auth) = auth {
                if chosen.is_none() {
                    chosen = Some(auth);
                } else {
                    self.warn(format!(
                        "security scheme `{name}` was left out: an apiforge API has one auth scheme"
                    ));
                }
            }
        }
        chosen.unwrap_or_default()
    }

    /// Collection and item paths paired up, in document order; every other operation
    /// is reported as left out.
    fn collections(&mut self) -> Vec<Collection<'a>> {
        let mut out: Vec<Collection<'a>> = Vec::new();
        let Some(paths) = self.doc.get("paths").and_then(Value::as_object) else {
            return out;
        };
        let mut leftover = Vec::new();
        for (path, item) in paths {
            let Some(item_map) = item.as_object() else {
                continue;
            };
            if path == "/health" {
                continue;
            }
            let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
            let literal = |s: &&str| !s.is_empty() && !s.starts_with('{');
            let (key, is_item) = match segments.split_last() {
                Some((last, prefix))
                    if last.starts_with('{')
                        && !prefix.is_empty()
                        && prefix.iter().all(literal) =>
                {
                    (format!("/{}", prefix.join("/")), true)
                }
                Some(_) if segments.iter().all(literal) => (path.clone(), false),
                _ => {
                    leftover.push((path.clone(), item_map));
                    continue;
                }
            };
            let entry = match out.iter_mut().position(|c| c.plural_path == key) {
                Some(i) => &mut out[i],
                None => {
                    out.push(Collection {
                        plural_path: key,
                        ..Collection::default()
                    });
                    let last = out.len() - 1;
                    &mut out[last]
                }
            };
            if is_item {
                entry.item = Some(item_map);
                entry.item_path = Some(path.clone());
            } else {
                entry.collection = Some(item_map);
            }
        }
        // A literal path alone is a collection only when it creates or lists things.
        let (kept, dropped): (Vec<Collection<'a>>, Vec<Collection<'a>>) =
            out.into_iter().partition(|c| {
                c.item.is_some()
                    || c.collection.is_some_and(|m| {
                        m.contains_key("post") || self.returns_a_list(m.get("get"))
                    })
            });
        for c in &dropped {
            if let Some(map) = c.collection {
                leftover.push((c.plural_path.clone(), map));
            }
        }
        for c in &kept {
            let item_path = c.item_path.clone().unwrap_or_default();
            for (methods, map, path) in [
                (&["get", "post"][..], c.collection, &c.plural_path),
                (&["get", "put", "patch", "delete"][..], c.item, &item_path),
            ] {
                if let Some(map) = map {
                    leftover_methods(map, methods, path, &mut self.warnings);
                }
            }
        }
        for (path, map) in leftover {
            leftover_methods(map, &[], &path, &mut self.warnings);
        }
        kept
    }

    /// Whether an operation answers 200 with an array, or an object holding one.
    fn returns_a_list(&mut self, op: Option<&'a Value>) -> bool {
        let Some(schema) = self.response_schema(op, &["200"]) else {
            return false;
        };
        let (_, schema) = self.deref(schema);
        if schema.get("type").and_then(Value::as_str) == Some("array") {
            return true;
        }
        let Some(props) = schema.get("properties").and_then(Value::as_object) else {
            return false;
        };
        ["items", "data", "results"].iter().any(|k| {
            props
                .get(*k)
                .map(|p| self.deref(p).1)
                .and_then(|p| p.get("type"))
                .and_then(Value::as_str)
                == Some("array")
        })
    }

    fn response_schema(&mut self, op: Option<&'a Value>, statuses: &[&str]) -> Option<&'a Value> {
        let responses = op?.get("responses")?;
        for status in statuses {
            let Some(response) = responses.get(*status) else {
                continue;
            };
            let (_, response) = self.deref(response);
            if let Some(schema) = json_schema_of(response) {
                return Some(schema);
            }
        }
        None
    }

    fn body_schema(&mut self, op: Option<&'a Value>) -> Option<&'a Value> {
        let body = op?.get("requestBody")?;
        let (_, body) = self.deref(body);
        json_schema_of(body)
    }

    fn skeleton(&mut self, c: &Collection<'a>) -> Skeleton<'a> {
        let get_op =
            |m: Option<&'a Map<String, Value>>, method: &str| m.and_then(|m| m.get(method));
        let list = get_op(c.collection, "get");
        let create = get_op(c.collection, "post");
        let get = get_op(c.item, "get");
        let replace = get_op(c.item, "put");
        let patch = get_op(c.item, "patch");
        let delete = get_op(c.item, "delete");

        let segments: Vec<&str> = c.plural_path.trim_matches('/').split('/').collect();
        if segments.len() > 1 {
            self.warn(format!(
                "the prefix of {} was dropped: apiforge serves every collection at /{{plural}}",
                c.plural_path
            ));
        }
        let plural_name = snake_case(segments.last().copied().unwrap_or_default());

        // The representation: what the item GET, the create or the list returns.
        let mut repr_node = self
            .response_schema(get, &["200"])
            .or_else(|| self.response_schema(create, &["201", "200"]))
            .or_else(|| self.response_schema(replace, &["200"]))
            .or_else(|| self.response_schema(patch, &["200"]));
        if repr_node.is_none()
            && let Some(list_schema) = self.response_schema(list, &["200"])
        {
            let (_, list_schema) = self.deref(list_schema);
            repr_node = list_schema.get("items").or_else(|| {
                let envelope = list_schema.get("properties")?;
                ["items", "data", "results"]
                    .iter()
                    .find_map(|k| envelope.get(*k))
                    .and_then(|a| a.get("items"))
            });
        }
        let repr = repr_node.map(|n| self.object_schema(n, 0));
        let create_schema = self
            .body_schema(create)
            .or_else(|| self.body_schema(replace))
            .map(|n| self.object_schema(n, 0));

        // PascalCase loses word breaks before digits (`thing_0` → `Thing0`); an
        // operationId such as `get_thing_0` keeps them, so it wins when it agrees.
        let component = repr.as_ref().and_then(|r| r.name.clone());
        let from_ids = [get, create, replace, patch, delete]
            .into_iter()
            .flatten()
            .filter_map(|op| op.get("operationId").and_then(Value::as_str))
            .filter_map(|id| {
                ["get_", "create_", "replace_", "patch_", "delete_"]
                    .iter()
                    .find_map(|prefix| id.strip_prefix(prefix))
            })
            .find(|candidate| {
                snake_case(candidate) == *candidate
                    && component
                        .as_deref()
                        .is_none_or(|c| pascal_case(candidate) == c)
            })
            .map(str::to_owned);
        let name = from_ids
            .or_else(|| component.as_deref().map(snake_case))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| singular(&plural_name));
        let mut resource = Resource::new(name, plural_name);
        resource.description = repr
            .as_ref()
            .and_then(|r| r.description.clone())
            .unwrap_or_default();
        resource.operations = Operations {
            list: list.map(|_| ListOp::default()),
            get: get.is_some(),
            create: create.is_some(),
            replace: replace.is_some(),
            patch: patch.is_some(),
            delete: delete.is_some(),
        };
        let mut params: Vec<&'a Value> = Vec::new();
        if let Some(list) = list {
            let path_level = c.collection.and_then(|m| m.get("parameters"));
            for source in [path_level, list.get("parameters")] {
                params.extend(source.and_then(Value::as_array).into_iter().flatten());
            }
        }
        Skeleton {
            resource,
            repr,
            create: create_schema,
            list_params: params,
        }
    }

    fn skeletons_from_components(&mut self, skeletons: &mut Vec<Skeleton<'a>>) {
        const NOT_ENTITIES: [&str; 12] = [
            "Create", "Patch", "Update", "List", "Input", "Output", "Request", "Response", "Error",
            "Problem", "Health", "Page",
        ];
        let Some(schemas) = self
            .doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
        else {
            return;
        };
        for (component, schema) in schemas {
            if NOT_ENTITIES.iter().any(|s| component.ends_with(s)) {
                continue;
            }
            let (_, target) = self.deref(schema);
            if target.get("properties").is_none() && target.get("allOf").is_none() {
                continue;
            }
            let name = snake_case(component);
            if name.is_empty() || skeletons.iter().any(|s| s.resource.name == name) {
                continue;
            }
            let mut repr = self.object_schema(schema, 0);
            repr.name = Some(component.clone());
            let mut resource = Resource::new(name.clone(), plural(&name));
            resource.description = repr.description.clone().unwrap_or_default();
            skeletons.push(Skeleton {
                resource,
                repr: Some(repr),
                create: None,
                list_params: Vec::new(),
            });
        }
        if !skeletons.is_empty() {
            self.warn(
                "the document has no CRUD paths; every object schema under components/schemas became a resource with every operation".into(),
            );
        }
    }

    fn fields(
        &mut self,
        resource: &mut Resource,
        repr: Option<&ObjectSchema>,
        create: Option<&ObjectSchema>,
        resources: &[String],
    ) {
        let empty = ObjectSchema::default();
        let primary = repr.or(create).unwrap_or(&empty);
        if repr.is_none() && create.is_none() {
            self.warn(format!(
                "no schema describes {}; the resource has no fields",
                resource.plural
            ));
        }
        let mut names: Vec<&String> = primary.properties.iter().map(|(n, _)| n).collect();
        if let Some(create) = create {
            for (n, _) in &create.properties {
                if !names.contains(&n) {
                    names.push(n);
                }
            }
        }
        for original in names {
            let name = snake_case(original);
            if IMPLICIT.contains(&name.as_str()) {
                continue;
            }
            if name.is_empty() {
                self.warn(format!(
                    "property `{original}` of {} has no usable name; left out",
                    resource.name
                ));
                continue;
            }
            if name != *original {
                self.warn(format!(
                    "property `{original}` of {} was renamed `{name}` (names are snake_case)",
                    resource.name
                ));
            }
            if resource.field(&name).is_some() || resource.relations.iter().any(|r| r.field == name)
            {
                self.warn(format!(
                    "property `{original}` of {} repeats `{name}`; left out",
                    resource.name
                ));
                continue;
            }
            let in_create = create.and_then(|c| c.property(original));
            let in_repr = repr.and_then(|r| r.property(original));
            // Constraints and defaults are stated on input schemas, if anywhere.
            let Some(source) = in_create.or(in_repr) else {
                continue;
            };
            let label = format!("{}.{name}", resource.name);
            let Some(mut raw) = self.raw_field(&name, source, &label) else {
                continue;
            };
            let repr_nullable = match in_repr {
                Some(p) => self.raw_field(&name, p, &label).is_none_or(|r| r.nullable),
                None => raw.nullable,
            };
            let required = match create {
                Some(c) => {
                    c.required.contains(original)
                        || (raw.field.default.is_some()
                            && !repr_nullable
                            && repr.is_some_and(|r| r.required.contains(original)))
                }
                None => primary.required.contains(original) && !raw.nullable,
            };
            raw.field.required = required;
            if raw.field.required && raw.nullable && create.is_some() {
                // Required but nullable: keep required; null is refused by the design.
                self.warn(format!(
                    "{label} is required but may be null; it was imported as required"
                ));
            }

            // Relations: an explicit one, or an integer `<resource>_id`.
            let target = raw.relation.clone().or_else(|| {
                let stem = name.strip_suffix("_id")?;
                (raw.field.ty == FieldType::Integer && resources.iter().any(|r| r == stem))
                    .then(|| (stem.to_owned(), OnDelete::Restrict))
            });
            match target {
                Some((target, on_delete)) if resources.contains(&target) => {
                    resource.relations.push(Relation {
                        target,
                        field: name,
                        required: raw.field.required,
                        on_delete,
                    });
                }
                Some((target, _)) => {
                    self.warn(format!(
                        "{label} refers to `{target}`, which is not an imported resource; kept as a plain integer"
                    ));
                    resource.fields.push(raw.field);
                }
                None => resource.fields.push(raw.field),
            }
        }
    }

    /// A field from a property schema; `None` (with a warning) when it has no
    /// equivalent.
    fn raw_field<'s>(&mut self, name: &str, schema: &'s Value, label: &str) -> Option<RawField>
    where
        'a: 's,
    {
        let (ref_name, mut schema) = self.deref(schema);
        let mut nullable = schema.get("nullable").and_then(Value::as_bool) == Some(true);
        let mut extra_patterns: Vec<String> = Vec::new();
        // `anyOf: [{…}, {type: null}]` is how 3.1 documents often spell "nullable".
        for key in ["anyOf", "oneOf"] {
            if let Some(variants) = schema.get(key).and_then(Value::as_array) {
                let (nulls, others): (Vec<&Value>, Vec<&Value>) = variants
                    .iter()
                    .partition(|v| v.get("type").and_then(Value::as_str) == Some("null"));
                match others.as_slice() {
                    [only] => {
                        nullable |= !nulls.is_empty();
                        schema = self.deref(only).1;
                    }
                    _ => {
                        self.warn(format!(
                            "{label} uses `{key}` with several alternatives; left out"
                        ));
                        return None;
                    }
                }
            }
        }
        if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
            for part in parts {
                if let Some(p) = part.get("pattern").and_then(Value::as_str) {
                    extra_patterns.push(p.to_owned());
                }
            }
            if schema.get("type").is_none()
                && let [only] = parts.as_slice()
            {
                schema = self.deref(only).1;
            }
        }
        let types: Vec<&str> = match schema.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        nullable |= types.contains(&"null");
        let base = types.iter().copied().find(|t| *t != "null");
        let format = schema.get("format").and_then(Value::as_str);
        let pattern = schema.get("pattern").and_then(Value::as_str);
        let enum_values: Vec<&Value> = schema
            .get("enum")
            .and_then(Value::as_array)
            .map(|v| v.iter().filter(|x| !x.is_null()).collect())
            .unwrap_or_default();
        let hinted = schema.get(EXT_TYPE).and_then(Value::as_str);
        let has_properties = schema.get("properties").is_some();

        let ty = match (base, format, hinted) {
            (_, _, Some("text")) => FieldType::Text,
            (_, _, Some("decimal")) => FieldType::Decimal,
            (Some("integer"), _, _) => FieldType::Integer,
            (Some("number"), Some("decimal"), _) => FieldType::Decimal,
            (Some("number"), _, _) => FieldType::Number,
            (Some("boolean"), _, _) => FieldType::Boolean,
            (Some("string"), _, _) if !enum_values.is_empty() => {
                if enum_values.iter().all(|v| v.is_string()) {
                    FieldType::Enum
                } else {
                    FieldType::String
                }
            }
            (Some("string"), Some("date"), _) => FieldType::Date,
            (Some("string"), Some("date-time"), _) => FieldType::DateTime,
            (Some("string"), Some("email" | "idn-email"), _) => FieldType::Email,
            (Some("string"), Some("uri" | "url" | "iri"), _) => FieldType::Url,
            (Some("string"), Some("uuid"), _) => FieldType::Uuid,
            (Some("string"), Some("time"), _) => FieldType::Time,
            (Some("string"), _, _) if pattern == Some(TIME_PATTERN) => FieldType::Time,
            (Some("string"), _, _) if pattern == Some(PHONE_PATTERN) => FieldType::Phone,
            (Some("string"), _, _) => FieldType::String,
            (Some("object"), _, _) | (None, _, _) if has_properties || ref_name.is_some() => {
                self.warn(format!(
                    "{label} is a nested object; it was imported as a free-form json field"
                ));
                FieldType::Json
            }
            (Some("object"), _, _) => FieldType::Json,
            (Some("array"), _, _) => {
                self.warn(format!(
                    "{label} is a list; designs have no list fields, so it was left out"
                ));
                return None;
            }
            (None, _, _)
                if !enum_values.is_empty() && enum_values.iter().all(|v| v.is_string()) =>
            {
                FieldType::Enum
            }
            (other, _, _) => {
                self.warn(format!(
                    "{label} has no type apiforge understands ({}); left out",
                    other.unwrap_or("none given")
                ));
                return None;
            }
        };
        if !enum_values.is_empty() && ty != FieldType::Enum {
            self.warn(format!(
                "{label} has non-string enum values; the enum was dropped"
            ));
        }

        let mut field = Field::new(name, ty);
        field.description = schema
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if ty == FieldType::Enum {
            field.enum_values = enum_values
                .iter()
                .filter_map(|v| v.as_str())
                .map(str::to_owned)
                .collect();
        }
        let num = |key: &str| schema.get(key).and_then(Value::as_f64);
        if ty.is_numeric() {
            // An integer's bound at the contract's own range (±2^53 − 1) is not the
            // design's: it is what every integer gets.
            let contract = crate::codegen::MAX_INTEGER as f64;
            let own = |bound: Option<f64>| {
                bound.filter(|b| ty != FieldType::Integer || b.abs() != contract)
            };
            field.min = own(num("minimum"));
            field.max = own(num("maximum"));
            // 3.1 exclusive bounds are numbers; 3.0 ones are booleans on minimum/maximum.
            let exclusive = |key: &str, bound: Option<f64>| match schema.get(key) {
                Some(Value::Number(n)) => n.as_f64(),
                Some(Value::Bool(true)) => bound,
                _ => None,
            };
            if let Some(v) = exclusive("exclusiveMinimum", field.min) {
                if ty == FieldType::Integer {
                    field.min = Some(v.floor() + 1.0);
                } else {
                    field.min = Some(v);
                    self.warn(format!(
                        "{label} has an exclusive minimum; it was imported as inclusive"
                    ));
                }
            }
            if let Some(v) = exclusive("exclusiveMaximum", field.max) {
                if ty == FieldType::Integer {
                    field.max = Some(v.ceil() - 1.0);
                } else {
                    field.max = Some(v);
                    self.warn(format!(
                        "{label} has an exclusive maximum; it was imported as inclusive"
                    ));
                }
            }
        }
        let length = |key: &str| {
            schema
                .get(key)
                .and_then(Value::as_u64)
                .and_then(|v| u32::try_from(v).ok())
        };
        field.min_length = length("minLength");
        field.max_length = length("maxLength");
        let builtin = match ty {
            FieldType::Time => Some(TIME_PATTERN),
            FieldType::Phone => Some(PHONE_PATTERN),
            _ => None,
        };
        field.pattern = pattern
            .filter(|p| Some(*p) != builtin)
            .map(str::to_owned)
            .or_else(|| extra_patterns.first().cloned());
        if extra_patterns.len() > 1 {
            self.warn(format!(
                "{label} has several patterns; only the first was kept"
            ));
        }
        field.default = schema.get("default").cloned().filter(|d| !d.is_null());
        field.unique = schema.get(EXT_UNIQUE).and_then(Value::as_bool) == Some(true);
        field.unit = schema
            .get(EXT_UNIT)
            .and_then(Value::as_str)
            .map(str::to_owned);
        let relation = schema.get(EXT_RELATION).and_then(|r| {
            let target = r.get("target")?.as_str()?.to_owned();
            let on_delete = match r.get("on_delete").and_then(Value::as_str) {
                Some("cascade") => OnDelete::Cascade,
                Some("set_null") => OnDelete::SetNull,
                _ => OnDelete::Restrict,
            };
            Some((target, on_delete))
        });
        Some(RawField {
            field,
            nullable,
            relation,
        })
    }

    fn list_op(&mut self, resource: &Resource, mut list: ListOp, params: &[&'a Value]) -> ListOp {
        let label = format!("GET /{}", resource.plural);
        let textual: Vec<String> = resource
            .fields
            .iter()
            .filter(|f| matches!(f.ty, FieldType::String | FieldType::Text))
            .map(|f| f.name.clone())
            .collect();
        for param in params {
            let (_, param) = self.deref(param);
            let Some(original) = param.get("name").and_then(Value::as_str) else {
                continue;
            };
            let location = param.get("in").and_then(Value::as_str).unwrap_or("query");
            if location != "query" {
                if location != "path" {
                    self.warn(format!(
                        "{location} parameter `{original}` of {label} has no equivalent; left out"
                    ));
                }
                continue;
            }
            let schema = param.get("schema").map(|s| self.deref(s).1);
            let name = snake_case(original);
            match name.as_str() {
                "limit" => {
                    let get = |key: &str| {
                        schema
                            .and_then(|s| s.get(key))
                            .and_then(Value::as_u64)
                            .and_then(|v| u32::try_from(v).ok())
                    };
                    if let Some(max) = get("maximum") {
                        list.max_page_size = max;
                    }
                    if let Some(default) = get("default") {
                        list.default_page_size = default;
                    }
                }
                "offset" => {}
                "sort" | "order_by" | "sort_by" => {
                    let values = schema
                        .and_then(|s| s.get("enum"))
                        .and_then(Value::as_array);
                    match values {
                        Some(values) => {
                            for v in values.iter().filter_map(Value::as_str) {
                                let field = v.trim_start_matches(['-', '+']);
                                let field = snake_case(field);
                                if field != "id" && !field.is_empty() && !list.sort.contains(&field) {
                                    list.sort.push(field);
                                }
                            }
                        }
                        None => self.warn(format!(
                            "`{original}` of {label} does not list the fields it sorts by (an enum); sorting is by id only"
                        )),
                    }
                }
                "q" | "search" | "query" => {
                    let declared: Option<Vec<String>> = param
                        .get(EXT_SEARCH)
                        .and_then(Value::as_array)
                        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect());
                    match declared {
                        Some(fields) => list.search = fields,
                        None if !textual.is_empty() => {
                            self.warn(format!(
                                "`{original}` of {label} was taken to search every text field: {}",
                                textual.join(", ")
                            ));
                            list.search = textual.clone();
                        }
                        None => self.warn(format!(
                            "`{original}` of {label} searches, but {} has no text field to search",
                            resource.plural
                        )),
                    }
                }
                _ if resource.field(&name).is_some()
                    || resource.relations.iter().any(|r| r.field == name) =>
                {
                    if !list.filters.contains(&name) {
                        list.filters.push(name);
                    }
                }
                _ => self.warn(format!(
                    "query parameter `{original}` of {label} matches no field (apiforge lists page with limit/offset and filter by field); left out"
                )),
            }
        }
        list.default_page_size = list.default_page_size.min(list.max_page_size.max(1));
        list
    }
}

fn json_schema_of(holder: &Value) -> Option<&Value> {
    let content = holder.get("content")?.as_object()?;
    content
        .get("application/json")
        .or_else(|| {
            content
                .iter()
                .find(|(media, _)| media.contains("json"))
                .map(|(_, v)| v)
        })?
        .get("schema")
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn operations(doc: &Value) -> Vec<(&str, &str, &Value)> {
    let mut out = Vec::new();
    for (path, item) in doc
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.push((path.as_str(), method, op));
            }
        }
    }
    out
}

fn leftover_methods(
    map: &Map<String, Value>,
    crud: &[&str],
    path: &str,
    warnings: &mut Vec<String>,
) {
    for method in ["get", "put", "post", "delete", "patch"] {
        if crud.contains(&method) {
            continue;
        }
        if let Some(op) = map.get(method) {
            let id = op
                .get("operationId")
                .and_then(Value::as_str)
                .map(|id| format!(" ({id})"))
                .unwrap_or_default();
            let message = format!(
                "{} {path}{id} is not a CRUD operation on a collection or an item; it was left out (add it as a custom action)",
                method.to_ascii_uppercase()
            );
            if !warnings.contains(&message) {
                warnings.push(message);
            }
        }
    }
}
