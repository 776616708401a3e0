//! `components`: the schemas of every resource (`X`, `XCreate`, `XPatch`, `XList`),
//! of custom action bodies and results, `Problem` and `Health`; the error responses;
//! the security scheme.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::error_response::ErrorResponse;
use super::example;
use super::{
    API_KEY_SCHEME, BEARER_SCHEME, EXT_RELATION, EXT_TYPE, EXT_UNIQUE, EXT_UNIT, PHONE_PATTERN,
    TIME_PATTERN, number, pascal_case, schema_ref, words,
};
use crate::codegen::MAX_INTEGER;
use crate::design::{
    Action, ActionOutput, ApiDesign, AuthScheme, Field, FieldType, OnDelete, Resource,
};

/// The JSON Schema of one field, following the contract's type table. `nullable` adds
/// `null` to the type (and enum); `with_default` keeps the design's default.
pub(super) fn property_schema(field: &Field, nullable: bool, with_default: bool) -> Value {
    let (ty, format, pattern) = match field.ty {
        FieldType::String | FieldType::Text => ("string", None, None),
        FieldType::Integer => ("integer", Some("int64"), None),
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
        } else if field.ty == FieldType::Integer {
            s.insert("minimum".into(), (-MAX_INTEGER).into());
        }
        if let Some(max) = field.max {
            s.insert("maximum".into(), number(max));
        } else if field.ty == FieldType::Integer {
            s.insert("maximum".into(), MAX_INTEGER.into());
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
        return super::paths::id_schema();
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
        "format": "int64",
        "minimum": 1,
        "maximum": MAX_INTEGER,
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
            "format": "int64",
            "minimum": 1,
            "maximum": MAX_INTEGER,
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

pub(super) fn components(design: &ApiDesign, used: &BTreeSet<ErrorResponse>) -> Value {
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
