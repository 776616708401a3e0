//! Is a spec a valid OpenAPI 3.1 document that keeps its own promises?
//!
//! Structure is checked against the official OpenAPI 3.1 JSON Schema
//! (`assets/schemas/openapi-3.1.json`, the OAI's `schemas/v3.1/schema.json`, id
//! `https://spec.openapis.org/oas/3.1/schema/2022-10-07`, verbatim; © the OpenAPI
//! Initiative, Apache License 2.0), compiled once. Then the
//! semantic rules the schema cannot express: operationIds are unique, every local
//! `$ref` resolves, every path template parameter is declared as a required `in: path`
//! parameter (and no undeclared one is), every operation answers with a 2xx and with a
//! 4xx/5xx, every schema is a valid JSON Schema 2020-12 document (and compiles: its
//! regexes parse), and every example validates against its schema (formats included).
//! Every problem is reported with the JSON pointer of the place to fix.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::LazyLock;

use serde_json::Value;

const OPENAPI_SCHEMA: &str = include_str!("../../assets/schemas/openapi-3.1.json");
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The compiled official schema; immutable once built, so one copy serves every call.
static META: LazyLock<Result<jsonschema::Validator, String>> = LazyLock::new(|| {
    let schema: Value = serde_json::from_str(OPENAPI_SCHEMA)
        .map_err(|e| format!("the bundled OpenAPI 3.1 schema is not JSON: {e}"))?;
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&schema)
        .map_err(|e| format!("the bundled OpenAPI 3.1 schema does not compile: {e}"))
});

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecErrorKind {
    /// Violates the official OpenAPI 3.1 schema.
    Schema,
    DuplicateOperationId,
    UnresolvedRef,
    /// A path template parameter without its `in: path` declaration, or the reverse.
    PathParameter,
    /// An operation without a 2xx, or without a 4xx/5xx, response.
    MissingResponse,
    InvalidExample,
    /// A schema in the document cannot be compiled (e.g. a bad regex).
    InvalidSchema,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    pub kind: SpecErrorKind,
    /// JSON pointer into the document (`""` is the whole document).
    pub pointer: String,
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, "{at}: {}", self.message)
    }
}

/// Every problem found, in document order within each kind of check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SpecErrors(pub Vec<SpecError>);

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "the OpenAPI document has {} problem(s):", self.0.len())?;
        for e in &self.0 {
            writeln!(f, "  {e}")?;
        }
        Ok(())
    }
}

impl SpecErrors {
    pub fn of_kind(&self, kind: SpecErrorKind) -> impl Iterator<Item = &SpecError> {
        self.0.iter().filter(move |e| e.kind == kind)
    }
}

/// Checks `spec`; `Ok` when it is a valid OpenAPI 3.1 document and passes every
/// semantic rule.
pub fn check(spec: &Value) -> Result<(), SpecErrors> {
    let mut errors = Vec::new();
    match &*META {
        // `is_valid` stops at the first failure; collect errors only when there are some.
        Ok(meta) if !meta.is_valid(spec) => {
            for e in meta.iter_errors(spec) {
                errors.push(SpecError {
                    kind: SpecErrorKind::Schema,
                    pointer: e.instance_path().as_str().to_owned(),
                    message: e.to_string(),
                });
            }
        }
        Ok(_) => {}
        Err(message) => errors.push(SpecError {
            kind: SpecErrorKind::Schema,
            pointer: String::new(),
            message: message.clone(),
        }),
    }
    let refs_ok = check_refs(spec, &mut errors);
    check_operations(spec, &mut errors);
    let mut found = Found::default();
    collect_examples(spec, spec, "", Role::Document, &mut found);
    // Examples are only checked against schemas that are sound and fully resolvable.
    if check_schemas(spec, &found.schemas, &mut errors) && refs_ok {
        check_examples(spec, &found.examples, &mut errors);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(SpecErrors(errors))
    }
}

/// `~` and `/` escaped for a JSON pointer segment.
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Resolves a local reference (`#/components/schemas/X`) in `doc`.
pub fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    let fragment = reference.strip_prefix('#')?;
    doc.pointer(&percent_decode(fragment))
}

/// Keys whose values are data, not document structure: a `$ref` inside is not a
/// reference.
fn is_data_key(key: &str) -> bool {
    matches!(key, "example" | "examples" | "default" | "enum" | "const")
}

fn check_refs(doc: &Value, errors: &mut Vec<SpecError>) -> bool {
    let before = errors.len();
    walk_refs(doc, doc, &mut String::new(), false, errors);
    errors.len() == before
}

fn check_one_ref(doc: &Value, reference: &str, pointer: String, errors: &mut Vec<SpecError>) {
    if !reference.starts_with('#') {
        errors.push(SpecError {
            kind: SpecErrorKind::UnresolvedRef,
            pointer,
            message: format!(
                "`{reference}` points outside this document; bundle it in so the spec stands alone"
            ),
        });
    } else if resolve(doc, reference).is_none() {
        errors.push(SpecError {
            kind: SpecErrorKind::UnresolvedRef,
            pointer,
            message: format!("`{reference}` does not resolve to anything in this document"),
        });
    }
}

/// `names_only` is set inside maps whose keys are names (`properties`), where a key
/// such as `default` is a property, not data.
fn walk_refs(
    doc: &Value,
    node: &Value,
    pointer: &mut String,
    names_only: bool,
    errors: &mut Vec<SpecError>,
) {
    match node {
        Value::Object(map) => {
            if !names_only && let Some(Value::String(reference)) = map.get("$ref") {
                check_one_ref(doc, reference, format!("{pointer}/$ref"), errors);
            }
            for (key, value) in map {
                if !names_only && key == "$ref" {
                    continue;
                }
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&escape(key));
                if !names_only && key == "examples" {
                    // A media type's `examples` map holds Example Objects, which may be
                    // references; a schema's `examples` array is plain data.
                    if let Value::Object(examples) = value {
                        for (name, ex) in examples {
                            if let Some(Value::String(reference)) = ex.get("$ref") {
                                let here = format!("{pointer}/{}/$ref", escape(name));
                                check_one_ref(doc, reference, here, errors);
                            }
                        }
                    }
                } else if names_only || !is_data_key(key) {
                    let names =
                        !names_only && matches!(key.as_str(), "properties" | "patternProperties");
                    walk_refs(doc, value, pointer, names, errors);
                }
                pointer.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&i.to_string());
                walk_refs(doc, item, pointer, false, errors);
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}

/// The object itself, or the object its local `$ref` points at.
fn deref<'a>(doc: &'a Value, node: &'a Value) -> &'a Value {
    let mut current = node;
    // Bounded: a chain of references longer than this is a cycle.
    for _ in 0..16 {
        match current.get("$ref").and_then(Value::as_str) {
            Some(r) => match resolve(doc, r) {
                Some(target) => current = target,
                None => return current,
            },
            None => return current,
        }
    }
    current
}

fn operations(doc: &Value) -> Vec<(String, &str, &Value, &Value)> {
    let mut out = Vec::new();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            let Some(item_map) = item.as_object() else {
                continue;
            };
            for method in METHODS {
                if let Some(op) = item_map.get(method) {
                    out.push((path.clone(), method, item, op));
                }
            }
        }
    }
    out
}

fn op_pointer(path: &str, method: &str) -> String {
    format!("/paths/{}/{method}", escape(path))
}

fn check_operations(doc: &Value, errors: &mut Vec<SpecError>) {
    let mut seen: BTreeMap<&str, String> = BTreeMap::new();
    for (path, method, item, op) in operations(doc) {
        let here = op_pointer(&path, method);
        let label = format!("{} {path}", method.to_ascii_uppercase());
        if let Some(id) = op.get("operationId").and_then(Value::as_str) {
            if let Some(first) = seen.get(id) {
                errors.push(SpecError {
                    kind: SpecErrorKind::DuplicateOperationId,
                    pointer: format!("{here}/operationId"),
                    message: format!("operationId `{id}` of {label} is already used by {first}"),
                });
            } else {
                seen.insert(id, label.clone());
            }
        }

        // Path parameters: operation-level ones override path-item-level ones.
        let mut declared: Vec<(String, bool)> = Vec::new();
        for source in [item.get("parameters"), op.get("parameters")] {
            for p in source.and_then(Value::as_array).into_iter().flatten() {
                let p = deref(doc, p);
                if p.get("in").and_then(Value::as_str) == Some("path")
                    && let Some(name) = p.get("name").and_then(Value::as_str)
                {
                    let required = p.get("required").and_then(Value::as_bool) == Some(true);
                    declared.retain(|(n, _)| n != name);
                    declared.push((name.to_owned(), required));
                }
            }
        }
        let placeholders = super::openapi::path_placeholders(&path);
        for name in &placeholders {
            match declared.iter().find(|(n, _)| n == name) {
                Some((_, true)) => {}
                Some((_, false)) => errors.push(SpecError {
                    kind: SpecErrorKind::PathParameter,
                    pointer: format!("{here}/parameters"),
                    message: format!(
                        "path parameter `{name}` of {label} must be declared with `required: true`"
                    ),
                }),
                None => errors.push(SpecError {
                    kind: SpecErrorKind::PathParameter,
                    pointer: format!("{here}/parameters"),
                    message: format!(
                        "path parameter `{name}` of {label} is not declared; add {{\"name\": \"{name}\", \"in\": \"path\", \"required\": true, \"schema\": …}}"
                    ),
                }),
            }
        }
        for (name, _) in &declared {
            if !placeholders.contains(&name.as_str()) {
                errors.push(SpecError {
                    kind: SpecErrorKind::PathParameter,
                    pointer: format!("{here}/parameters"),
                    message: format!(
                        "`{name}` is declared `in: path` but {path} has no `{{{name}}}` segment"
                    ),
                });
            }
        }

        let codes: Vec<&String> = op
            .get("responses")
            .and_then(Value::as_object)
            .map(|r| r.keys().collect())
            .unwrap_or_default();
        let has = |first: &[char]| {
            codes
                .iter()
                .any(|c| c.len() == 3 && c.starts_with(|ch: char| first.contains(&ch)))
        };
        if !has(&['2']) {
            errors.push(SpecError {
                kind: SpecErrorKind::MissingResponse,
                pointer: format!("{here}/responses"),
                message: format!("{label} declares no success (2xx) response"),
            });
        }
        if !has(&['4', '5']) {
            errors.push(SpecError {
                kind: SpecErrorKind::MissingResponse,
                pointer: format!("{here}/responses"),
                message: format!("{label} declares no error (4xx or 5xx) response"),
            });
        }
    }
}

/// An example and the schema it must satisfy, both as pointers into the document.
struct ExampleSite {
    example: String,
    schema: String,
}

/// What the walk over the document finds.
#[derive(Default)]
struct Found {
    examples: Vec<ExampleSite>,
    /// Pointers to the schemas the document uses directly (components, parameters,
    /// media types, headers); nested schemas are inside them.
    schemas: Vec<String>,
}

/// Every schema must be a valid JSON Schema 2020-12 document.
fn check_schemas(doc: &Value, schemas: &[String], errors: &mut Vec<SpecError>) -> bool {
    let before = errors.len();
    let meta = jsonschema::draft202012::meta::validator();
    for pointer in schemas {
        let Some(schema) = doc.pointer(pointer) else {
            continue;
        };
        if meta.is_valid(schema) {
            continue;
        }
        for e in meta.iter_errors(schema) {
            errors.push(SpecError {
                kind: SpecErrorKind::InvalidSchema,
                pointer: format!("{pointer}{}", e.instance_path().as_str()),
                message: format!("not a valid JSON Schema: {e}"),
            });
        }
    }
    errors.len() == before
}

fn check_examples(doc: &Value, sites: &[ExampleSite], errors: &mut Vec<SpecError>) {
    if sites.is_empty() {
        return;
    }
    // One validator for all examples. Its root holds the document's `components`,
    // `paths` and `webhooks` where they are in the document, so the `$ref`s of its
    // schemas resolve; nothing else, so a stray root key that happens to be a JSON
    // Schema keyword constrains nothing. `prefixItems` lines each example up with a copy
    // of the schema it belongs to (copies compile faster than one `$ref` per example).
    let mut schema = serde_json::Map::new();
    schema.insert(
        "$schema".into(),
        "https://json-schema.org/draft/2020-12/schema".into(),
    );
    for part in ["components", "paths", "webhooks"] {
        if let Some(value) = doc.get(part) {
            schema.insert(part.into(), value.clone());
        }
    }
    schema.insert(
        "prefixItems".into(),
        sites
            .iter()
            .map(|s| doc.pointer(&s.schema).cloned().unwrap_or(Value::Bool(true)))
            .collect(),
    );
    let schema = Value::Object(schema);
    let instance: Value = sites
        .iter()
        .map(|s| doc.pointer(&s.example).cloned().unwrap_or(Value::Null))
        .collect();
    let validator = match jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&schema)
    {
        Ok(v) => v,
        Err(e) => {
            // The failing place is inside `prefixItems/N`: the copy of site N's schema.
            let location = e.schema_path().as_str().to_owned();
            let mut parts = location.splitn(4, '/').skip(1);
            let pointer = match (
                parts.next(),
                parts.next().and_then(|i| i.parse::<usize>().ok()),
            ) {
                (Some("prefixItems"), Some(i)) => {
                    let rest = parts.next().map(|r| format!("/{r}")).unwrap_or_default();
                    sites
                        .get(i)
                        .map_or(location.clone(), |site| format!("{}{rest}", site.schema))
                }
                _ => location,
            };
            errors.push(SpecError {
                kind: SpecErrorKind::InvalidSchema,
                pointer,
                message: format!("a schema cannot be compiled, so examples were not checked: {e}"),
            });
            return;
        }
    };
    for e in validator.iter_errors(&instance) {
        let path = e.instance_path().as_str().to_owned();
        let mut parts = path.splitn(3, '/').skip(1);
        let index = parts.next().and_then(|i| i.parse::<usize>().ok());
        let rest = parts.next().map(|r| format!("/{r}")).unwrap_or_default();
        let Some(site) = index.and_then(|i| sites.get(i)) else {
            continue;
        };
        errors.push(SpecError {
            kind: SpecErrorKind::InvalidExample,
            pointer: format!("{}{rest}", site.example),
            message: format!(
                "the example does not match its schema at {}: {e}",
                site.schema
            ),
        });
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Document,
    Schema,
    /// Parameter, header or media type: holds `schema`, `example`, `examples`.
    Carrier,
    Other,
}

fn child(pointer: &str, key: &str) -> String {
    format!("{pointer}/{}", escape(key))
}

/// Finds every example in the document and the schema it illustrates.
fn collect_examples(doc: &Value, node: &Value, pointer: &str, role: Role, out: &mut Found) {
    let Value::Object(map) = node else {
        if let Value::Array(items) = node {
            for (i, item) in items.iter().enumerate() {
                collect_examples(doc, item, &format!("{pointer}/{i}"), role, out);
            }
        }
        return;
    };
    match role {
        Role::Schema => {
            if let Some(Value::Array(examples)) = map.get("examples") {
                for i in 0..examples.len() {
                    out.examples.push(ExampleSite {
                        example: format!("{pointer}/examples/{i}"),
                        schema: pointer.to_owned(),
                    });
                }
            }
            if map.contains_key("example") {
                out.examples.push(ExampleSite {
                    example: format!("{pointer}/example"),
                    schema: pointer.to_owned(),
                });
            }
            for (key, value) in map {
                match key.as_str() {
                    "properties" | "patternProperties" | "$defs" | "dependentSchemas" => {
                        if let Value::Object(children) = value {
                            for (name, schema) in children {
                                let p = child(&child(pointer, key), name);
                                collect_examples(doc, schema, &p, Role::Schema, out);
                            }
                        }
                    }
                    "items"
                    | "additionalProperties"
                    | "not"
                    | "if"
                    | "then"
                    | "else"
                    | "contains"
                    | "propertyNames"
                    | "unevaluatedItems"
                    | "unevaluatedProperties"
                    | "prefixItems"
                    | "allOf"
                    | "anyOf"
                    | "oneOf" => {
                        collect_examples(doc, value, &child(pointer, key), Role::Schema, out);
                    }
                    _ => {}
                }
            }
        }
        Role::Carrier => {
            if map.contains_key("schema") {
                let schema = child(pointer, "schema");
                if map.contains_key("example") {
                    out.examples.push(ExampleSite {
                        example: child(pointer, "example"),
                        schema: schema.clone(),
                    });
                }
                if let Some(Value::Object(examples)) = map.get("examples") {
                    for (name, ex) in examples {
                        let ex_pointer = child(&child(pointer, "examples"), name);
                        let (target, target_pointer) = match ex.get("$ref").and_then(Value::as_str)
                        {
                            Some(r) => (resolve(doc, r), r.trim_start_matches('#').to_owned()),
                            None => (Some(ex), ex_pointer),
                        };
                        if target.is_some_and(|t| t.get("value").is_some()) {
                            out.examples.push(ExampleSite {
                                example: format!("{target_pointer}/value"),
                                schema: schema.clone(),
                            });
                        }
                    }
                }
                out.schemas.push(schema.clone());
                collect_examples(doc, &map["schema"], &schema, Role::Schema, out);
            }
            if let Some(Value::Object(content)) = map.get("content") {
                for (media, carrier) in content {
                    let p = child(&child(pointer, "content"), media);
                    collect_examples(doc, carrier, &p, Role::Carrier, out);
                }
            }
            if let Some(Value::Object(headers)) = map.get("headers") {
                for (name, header) in headers {
                    let p = child(&child(pointer, "headers"), name);
                    collect_examples(doc, header, &p, Role::Carrier, out);
                }
            }
        }
        Role::Document | Role::Other => {
            for (key, value) in map {
                if is_data_key(key) {
                    continue;
                }
                let p = child(pointer, key);
                let in_components = pointer == "/components";
                let next = match key.as_str() {
                    "schemas" if in_components => {
                        if let Value::Object(schemas) = value {
                            for (name, schema) in schemas {
                                out.schemas.push(child(&p, name));
                                collect_examples(doc, schema, &child(&p, name), Role::Schema, out);
                            }
                        }
                        continue;
                    }
                    "parameters" | "headers" | "responses" | "requestBodies" if in_components => {
                        if let Value::Object(items) = value {
                            for (name, item) in items {
                                collect_examples(doc, item, &child(&p, name), Role::Carrier, out);
                            }
                        }
                        continue;
                    }
                    "parameters" => {
                        if let Value::Array(items) = value {
                            for (i, item) in items.iter().enumerate() {
                                collect_examples(
                                    doc,
                                    item,
                                    &format!("{p}/{i}"),
                                    Role::Carrier,
                                    out,
                                );
                            }
                        }
                        continue;
                    }
                    "requestBody" => Role::Carrier,
                    "responses" => {
                        if let Value::Object(items) = value {
                            for (status, response) in items {
                                collect_examples(
                                    doc,
                                    response,
                                    &child(&p, status),
                                    Role::Carrier,
                                    out,
                                );
                            }
                        }
                        continue;
                    }
                    _ => Role::Other,
                };
                collect_examples(doc, value, &p, next, out);
            }
        }
    }
}
