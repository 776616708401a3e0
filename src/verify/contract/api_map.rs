//! What the checker needs to know about an OpenAPI document: its operations (with
//! `$ref`s to shared responses and parameters resolved) and the CRUD resources the
//! contract in [`crate::codegen`] lays out (`/{plural}` and `/{plural}/{id}`).

use serde_json::{Map, Value};

use super::ContractError;
use super::sample;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// One operation of the spec.
#[derive(Debug, Clone)]
pub(crate) struct Operation {
    pub id: String,
    /// Upper case.
    pub method: String,
    /// The path template, e.g. `/orders/{id}`.
    pub path: String,
    /// JSON pointer of the operation object in the spec.
    pub pointer: String,
    pub parameters: Vec<Value>,
    /// JSON pointer of the request body's JSON schema, when there is one.
    pub body_schema: Option<String>,
    /// Whether the spec applies a security requirement to this operation.
    pub secured: bool,
}

/// A resource with the contract's collection and item paths.
#[derive(Debug, Clone)]
pub(crate) struct Resource {
    pub plural: String,
    /// Component name of the representation (`OrderItem`).
    pub schema_name: String,
    pub list: Option<Operation>,
    pub create: Option<Operation>,
    pub get: Option<Operation>,
    pub replace: Option<Operation>,
    pub patch: Option<Operation>,
    pub delete: Option<Operation>,
}

impl Resource {
    /// The `XCreate` schema (from the create or replace operation's body).
    pub(crate) fn create_schema_pointer(&self) -> Option<&str> {
        self.create
            .as_ref()
            .or(self.replace.as_ref())
            .and_then(|o| o.body_schema.as_deref())
    }
}

pub(crate) struct ApiMap {
    pub operations: Vec<Operation>,
    pub resources: Vec<Resource>,
    /// `(header name, value prefix)` of the security scheme: `("X-API-Key", "")` or
    /// `("authorization", "Bearer ")`.
    pub security: Option<SecurityScheme>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SecurityScheme {
    ApiKey { header: String },
    Bearer,
}

/// `~` and `/` escaped for a JSON pointer segment.
pub(crate) fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Follows a `$ref` (local only) to the value it names; other values are returned
/// as they are.
pub(crate) fn resolve<'a>(spec: &'a Value, value: &'a Value) -> &'a Value {
    let mut current = value;
    for _ in 0..16 {
        match current.get("$ref").and_then(Value::as_str) {
            Some(r) if r.starts_with('#') => match spec.pointer(&r[1..]) {
                Some(next) => current = next,
                None => return current,
            },
            _ => return current,
        }
    }
    current
}

/// The pointer a schema stands for: its `$ref` target when it is a bare reference,
/// else `at` itself.
fn schema_pointer(schema: &Value, at: String) -> String {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) if r.starts_with('#') => r[1..].to_owned(),
        _ => at,
    }
}

impl ApiMap {
    pub(crate) fn read(spec: &Value) -> Result<Self, ContractError> {
        let paths = spec
            .get("paths")
            .and_then(Value::as_object)
            .ok_or_else(|| ContractError::Spec("the document has no `paths` object".into()))?;
        let global_security = spec
            .get("security")
            .and_then(Value::as_array)
            .is_some_and(|s| !s.is_empty());
        let mut operations = Vec::new();
        for (path, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            let shared: Vec<Value> = item
                .get("parameters")
                .and_then(Value::as_array)
                .map(|ps| ps.iter().map(|p| resolve(spec, p).clone()).collect())
                .unwrap_or_default();
            for method in METHODS {
                let Some(op) = item.get(method) else {
                    continue;
                };
                let pointer = format!("/paths/{}/{method}", escape(path));
                let id = op.get("operationId").and_then(Value::as_str).map_or_else(
                    || format!("{} {path}", method.to_uppercase()),
                    str::to_owned,
                );
                let mut parameters = shared.clone();
                if let Some(ps) = op.get("parameters").and_then(Value::as_array) {
                    parameters.extend(ps.iter().map(|p| resolve(spec, p).clone()));
                }
                let body_schema = op.get("requestBody").and_then(|b| {
                    let b = resolve(spec, b);
                    let schema = b.get("content")?.get("application/json")?.get("schema")?;
                    let at = format!("{pointer}/requestBody/content/application~1json/schema");
                    Some(schema_pointer(schema, at))
                });
                let secured = match op.get("security").and_then(Value::as_array) {
                    Some(s) => {
                        !s.is_empty()
                            && s.iter()
                                .any(|r| r.as_object().is_some_and(|o| !o.is_empty()))
                    }
                    None => global_security,
                };
                operations.push(Operation {
                    id,
                    method: method.to_uppercase(),
                    path: path.clone(),
                    pointer,
                    parameters,
                    body_schema,
                    secured,
                });
            }
        }
        let resources = resources(spec, &operations);
        Ok(Self {
            operations,
            resources,
            security: security_scheme(spec),
        })
    }

    /// The resource whose representation is `PascalCase(name)`.
    pub(crate) fn resource_named(&self, name: &str) -> Option<usize> {
        let pascal = pascal_case(name);
        self.resources.iter().position(|r| r.schema_name == pascal)
    }
}

fn security_scheme(spec: &Value) -> Option<SecurityScheme> {
    let schemes = spec
        .get("components")?
        .get("securitySchemes")?
        .as_object()?;
    let name = spec
        .get("security")?
        .as_array()?
        .iter()
        .filter_map(Value::as_object)
        .flat_map(Map::keys)
        .next()?;
    let scheme = schemes.get(name)?;
    match scheme.get("type").and_then(Value::as_str)? {
        "apiKey" if scheme.get("in").and_then(Value::as_str) == Some("header") => {
            Some(SecurityScheme::ApiKey {
                header: scheme.get("name")?.as_str()?.to_owned(),
            })
        }
        "http"
            if scheme
                .get("scheme")
                .and_then(Value::as_str)
                .is_some_and(|s| s.eq_ignore_ascii_case("bearer")) =>
        {
            Some(SecurityScheme::Bearer)
        }
        _ => None,
    }
}

pub(crate) fn pascal_case(name: &str) -> String {
    name.split(['_', '-', ' '])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map_or_else(String::new, |c| {
                c.to_uppercase().chain(chars).collect::<String>()
            })
        })
        .collect()
}

fn resources(spec: &Value, operations: &[Operation]) -> Vec<Resource> {
    let mut out: Vec<Resource> = Vec::new();
    for op in operations {
        let segments: Vec<&str> = op.path.trim_start_matches('/').split('/').collect();
        let (plural, item) = match segments.as_slice() {
            [p] if !p.starts_with('{') && *p != "health" && !p.is_empty() => (*p, false),
            [p, "{id}"] if !p.starts_with('{') => (*p, true),
            _ => continue,
        };
        let index = match out.iter().position(|r| r.plural == plural) {
            Some(i) => i,
            None => {
                out.push(Resource {
                    plural: plural.to_owned(),
                    schema_name: String::new(),
                    list: None,
                    create: None,
                    get: None,
                    replace: None,
                    patch: None,
                    delete: None,
                });
                out.len() - 1
            }
        };
        let r = &mut out[index];
        let slot = match (op.method.as_str(), item) {
            ("GET", false) => &mut r.list,
            ("POST", false) => &mut r.create,
            ("GET", true) => &mut r.get,
            ("PUT", true) => &mut r.replace,
            ("PATCH", true) => &mut r.patch,
            ("DELETE", true) => &mut r.delete,
            _ => continue,
        };
        *slot = Some(op.clone());
    }
    for r in &mut out {
        r.schema_name = representation_name(spec, r).unwrap_or_default();
    }
    out.retain(|r| !r.schema_name.is_empty());
    out
}

/// The component name of a resource's representation: the schema of its create (201)
/// or get (200) response.
fn representation_name(spec: &Value, r: &Resource) -> Option<String> {
    let candidates = [(&r.create, "201"), (&r.get, "200")];
    for (op, status) in candidates {
        let Some(op) = op else { continue };
        let response = spec.pointer(&format!("{}/responses/{status}", op.pointer))?;
        let response = resolve(spec, response);
        if let Some(name) = response
            .pointer("/content/application~1json/schema/$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
        {
            return Some(name.to_owned());
        }
    }
    // Without create/get, the list envelope `XList` names it.
    let op = r.list.as_ref()?;
    let response = resolve(
        spec,
        spec.pointer(&format!("{}/responses/200", op.pointer))?,
    );
    response
        .pointer("/content/application~1json/schema/$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
        .and_then(|n| n.strip_suffix("List"))
        .map(str::to_owned)
}

/// Foreign keys of a create schema: `(property, parent resource name)`.
pub(crate) fn foreign_keys(create_schema: &Value) -> Vec<(String, String, bool)> {
    let required: Vec<&str> = create_schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    create_schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .iter()
                .filter_map(|(name, prop)| {
                    sample::relation_target(name, prop)
                        .map(|target| (name.clone(), target, required.contains(&name.as_str())))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pascal_case_matches_the_component_names() {
        assert_eq!(pascal_case("order_item"), "OrderItem");
        assert_eq!(pascal_case("note"), "Note");
    }
}
