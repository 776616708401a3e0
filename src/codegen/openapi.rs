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

mod components;
mod error_response;
mod example;
mod paths;

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::design::{ApiDesign, AuthScheme};

pub use super::text_rules::shortest_match;
pub use paths::path_placeholders;

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
    let paths = paths::paths(design, &mut used);
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
    doc.insert("components".into(), components::components(design, &used));
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
        .any(|a| paths::action_resource(design, a).is_none())
    {
        tags.push(json!({ "name": "actions", "description": "Operations beyond CRUD" }));
    }
    tags.push(json!({ "name": "health", "description": "Liveness of the service" }));
    Value::Array(tags)
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
