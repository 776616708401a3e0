//! The operations an OpenAPI document offers, with what a person needs to try one:
//! its parameters and an example body taken from the schema.

use serde_json::Value;

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamPlace {
    Path,
    Query,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    pub place: ParamPlace,
    pub required: bool,
    /// What the field starts with: the schema's example for path parameters and
    /// required ones, empty otherwise (an empty query parameter is left out).
    pub initial: String,
    /// The schema's default or example, shown as a hint.
    pub hint: String,
}

/// One method + path of the document.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub method: String,
    pub path: String,
    pub summary: String,
    pub params: Vec<Param>,
    /// `Some(example)` when the operation takes a JSON body (`{}` when the schema
    /// gives no example).
    pub body: Option<Value>,
}

const METHODS: [&str; 7] = ["get", "post", "put", "patch", "delete", "head", "options"];

/// Every operation of `spec`, in document order (paths, then methods in the order
/// above). Anything malformed is skipped rather than refused: the preview shows what
/// it can of a broken document.
pub fn operations(spec: &Value) -> Vec<Operation> {
    let Some(paths) = spec.get("paths").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        let shared: Vec<&Value> = item
            .get("parameters")
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        for method in METHODS {
            let Some(op) = item.get(method) else {
                continue;
            };
            let mut params: Vec<Param> = Vec::new();
            let own = op
                .get("parameters")
                .and_then(Value::as_array)
                .map(|a| a.iter().collect::<Vec<_>>())
                .unwrap_or_default();
            for p in shared.iter().chain(own.iter()) {
                if let Some(param) = param(spec, p) {
                    params.retain(|q: &Param| q.name != param.name || q.place != param.place);
                    params.push(param);
                }
            }
            let body = op
                .get("requestBody")
                .map(|b| resolve(spec, b))
                .and_then(|b| b.pointer("/content/application~1json"))
                .map(|media| {
                    media
                        .get("example")
                        .cloned()
                        .or_else(|| media.get("schema").and_then(|s| example(spec, s)))
                        .unwrap_or_else(|| Value::Object(serde_json::Map::new()))
                });
            out.push(Operation {
                method: method.to_ascii_uppercase(),
                path: path.clone(),
                summary: op
                    .get("summary")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                params,
                body,
            });
        }
    }
    out
}

fn param(spec: &Value, p: &Value) -> Option<Param> {
    let p = resolve(spec, p);
    let place = match p.get("in")?.as_str()? {
        "path" => ParamPlace::Path,
        "query" => ParamPlace::Query,
        _ => return None,
    };
    let required =
        place == ParamPlace::Path || p.get("required").and_then(Value::as_bool).unwrap_or(false);
    let schema = p.get("schema").map(|s| resolve(spec, s));
    let sample = p
        .get("example")
        .cloned()
        .or_else(|| schema.and_then(|s| example(spec, s)))
        .or_else(|| schema.and_then(|s| s.get("default").cloned()));
    let sample = match (sample, schema.and_then(|s| s.get("type")?.as_str())) {
        (Some(v), _) => Some(v),
        (None, Some("integer" | "number")) if place == ParamPlace::Path => Some(Value::from(1)),
        _ => None,
    };
    let text = sample.as_ref().map(scalar_text).unwrap_or_default();
    Some(Param {
        name: p.get("name")?.as_str()?.to_owned(),
        place,
        required,
        initial: if required {
            text.clone()
        } else {
            String::new()
        },
        hint: text,
    })
}

/// How a scalar goes into a URL: strings without quotes, the rest as JSON.
fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The schema's example: `example`, the first of `examples`, else built from the
/// properties' examples for an object schema.
fn example(spec: &Value, schema: &Value) -> Option<Value> {
    example_at_depth(spec, schema, 0)
}

fn example_at_depth(spec: &Value, schema: &Value, depth: usize) -> Option<Value> {
    // A self-referencing schema must not recurse forever.
    if depth > 8 {
        return None;
    }
    let schema = resolve(spec, schema);
    if let Some(e) = schema.get("example") {
        return Some(e.clone());
    }
    if let Some(e) = schema
        .get("examples")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
    {
        return Some(e.clone());
    }
    let props = schema.get("properties")?.as_object()?;
    let mut out = serde_json::Map::new();
    for (name, prop) in props {
        if let Some(e) = example_at_depth(spec, prop, depth + 1) {
            out.insert(name.clone(), e);
        }
    }
    Some(Value::Object(out))
}

/// Follows a local `$ref` (`#/components/...`); anything else is returned as it is.
fn resolve<'a>(spec: &'a Value, v: &'a Value) -> &'a Value {
    let mut current = v;
    // Chains of references are short; the bound only stops a cycle.
    for _ in 0..8 {
        match current
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|pointer| spec.pointer(pointer))
        {
            Some(target) => current = target,
            None => break,
        }
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operations_carry_params_and_body_examples_through_refs() {
        let spec = json!({
            "paths": {
                "/books/{id}": {
                    "parameters": [{"$ref": "#/components/parameters/Id"}],
                    "get": {"summary": "Get a book"},
                    "patch": {
                        "requestBody": {"content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/Patch"}}}}
                    }
                },
                "/books": {
                    "get": {"parameters": [
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 20}},
                        {"name": "x", "in": "header", "schema": {"type": "string"}}
                    ]},
                    "post": {"requestBody": {"content": {"application/json": {
                        "schema": {"type": "object", "properties": {
                            "title": {"type": "string", "examples": ["Dune"]},
                            "pages": {"type": "integer", "example": 412}
                        }}}}}}
                }
            },
            "components": {
                "parameters": {"Id": {"name": "id", "in": "path", "required": true,
                                      "schema": {"type": "integer"}}},
                "schemas": {"Patch": {"type": "object", "examples": [{"title": "Emma"}]}}
            }
        });
        let ops = operations(&spec);
        let names: Vec<String> = ops
            .iter()
            .map(|o| format!("{} {}", o.method, o.path))
            .collect();
        assert_eq!(
            names,
            [
                "GET /books/{id}",
                "PATCH /books/{id}",
                "GET /books",
                "POST /books"
            ]
        );
        assert_eq!(ops[0].summary, "Get a book");
        assert_eq!(ops[0].params[0].initial, "1", "integer path ids start at 1");
        assert_eq!(ops[1].body, Some(json!({"title": "Emma"})));
        assert_eq!(ops[2].params.len(), 1, "header parameters are not offered");
        assert_eq!(ops[2].params[0].initial, "", "optional query starts empty");
        assert_eq!(ops[2].params[0].hint, "20");
        assert_eq!(ops[3].body, Some(json!({"title": "Dune", "pages": 412})));
    }

    #[test]
    fn malformed_documents_give_what_they_can() {
        assert!(operations(&json!({})).is_empty());
        assert!(operations(&json!({"paths": {"/a": 3, "/b": {"get": 1}}})).len() == 1);
        let cyclic = json!({"paths": {"/a": {"post": {"requestBody": {"content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/A"}}}}}}},
            "components": {"schemas": {"A": {"$ref": "#/components/schemas/A"}}}});
        assert_eq!(operations(&cyclic)[0].body, Some(json!({})));
    }
}
