//! Checks one response against what the spec documents for its operation and status:
//! the status is documented, the content type matches, the body validates against
//! the response schema (JSON Schema 2020-12, formats checked, `#/components/...`
//! references resolved inside the spec).

use std::collections::HashMap;

use serde_json::{Value, json};

use super::api_map::{Operation, escape, resolve};
use crate::sandbox::http::HttpResponse;

/// Compiled validators, one per schema pointer (compiling is the costly part).
pub(crate) struct ResponseChecker<'a> {
    spec: &'a Value,
    validators: HashMap<String, Result<jsonschema::Validator, String>>,
}

impl<'a> ResponseChecker<'a> {
    pub(crate) fn new(spec: &'a Value) -> Self {
        Self {
            spec,
            validators: HashMap::new(),
        }
    }

    /// Problems with `response` as an answer to `op`; empty when it conforms.
    pub(crate) fn check(&mut self, op: &Operation, response: &HttpResponse) -> Vec<String> {
        let spec = self.spec;
        let status = response.status.to_string();
        let responses = spec.pointer(&format!("{}/responses", op.pointer));
        let (key, documented) = match responses.and_then(|r| r.get(&status)) {
            Some(d) => (status.clone(), d),
            None => match responses.and_then(|r| r.get("default")) {
                Some(d) => ("default".to_owned(), d),
                None => {
                    let known: Vec<&str> = responses
                        .and_then(Value::as_object)
                        .map(|o| o.keys().map(String::as_str).collect())
                        .unwrap_or_default();
                    return vec![format!(
                        "status {} is not documented for {} (documented: {})",
                        response.status,
                        op.id,
                        known.join(", ")
                    )];
                }
            },
        };
        let documented = resolve(spec, documented);
        let Some(content) = documented.get("content").and_then(Value::as_object) else {
            if response.body.is_empty() {
                return Vec::new();
            }
            return vec![format!(
                "status {} must have no body, got {} bytes",
                response.status,
                response.body.len()
            )];
        };
        let got_type = response
            .header("content-type")
            .map(|t| {
                t.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default();
        let Some((media, media_obj)) = content.iter().find(|(m, _)| **m == got_type) else {
            let expected: Vec<&str> = content.keys().map(String::as_str).collect();
            return vec![format!(
                "content type {:?}, expected {}",
                if got_type.is_empty() {
                    "(none)"
                } else {
                    &got_type
                },
                expected.join(" or ")
            )];
        };
        let Some(schema) = media_obj.get("schema") else {
            return Vec::new();
        };
        let body: Value = match serde_json::from_slice(&response.body) {
            Ok(v) => v,
            Err(e) => return vec![format!("the body is not JSON: {e}")],
        };
        let pointer = match schema.get("$ref").and_then(Value::as_str) {
            Some(r) if r.starts_with('#') => r[1..].to_owned(),
            _ => {
                let base = format!("{}/responses/{}", op.pointer, escape(&key));
                // A response given by `$ref` keeps its schema where the ref points.
                let base = spec
                    .pointer(&base)
                    .and_then(|d| d.get("$ref"))
                    .and_then(Value::as_str)
                    .and_then(|r| r.strip_prefix('#'))
                    .map_or(base, str::to_owned);
                format!("{base}/content/{}/schema", escape(media))
            }
        };
        self.validate(&pointer, &body)
    }

    /// Validation errors of `instance` against the schema at `pointer` in the spec.
    pub(crate) fn validate(&mut self, pointer: &str, instance: &Value) -> Vec<String> {
        let spec = self.spec;
        let validator = self
            .validators
            .entry(pointer.to_owned())
            .or_insert_with(|| compile(spec, pointer));
        match validator {
            Ok(v) => v
                .iter_errors(instance)
                .take(5)
                .map(|e| {
                    let at = e.instance_path().as_str().to_owned();
                    let at = if at.is_empty() { "/".to_owned() } else { at };
                    format!("body at {at} violates the schema {pointer}: {e}")
                })
                .collect(),
            Err(e) => vec![e.clone()],
        }
    }
}

/// A validator for the schema at `pointer`: a root that refers to it and carries the
/// spec's `components` (and `paths`, for inline schemas), so `#/components/...`
/// references resolve exactly as in the spec.
fn compile(spec: &Value, pointer: &str) -> Result<jsonschema::Validator, String> {
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": format!("#{pointer}"),
        "components": spec.get("components").cloned().unwrap_or(Value::Null),
        "paths": spec.get("paths").cloned().unwrap_or(Value::Null),
    });
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&root)
        .map_err(|e| format!("the spec's schema {pointer} does not compile: {e}"))
}
