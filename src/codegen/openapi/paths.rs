//! The `paths` object: `/health`, the CRUD operations of every resource and the custom
//! actions, with the status codes the HTTP contract promises.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::components::property_schema;
use super::error_response::{ErrorResponse, Responses};
use super::{EXT_SEARCH, EXT_TYPE, EXT_UNIQUE, EXT_UNIT, JSON, pascal_case, schema_ref, words};
use crate::design::{
    Action, ActionBehavior, ActionOutput, ApiDesign, AuthScheme, ListOp, OnDelete, Resource,
};

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
        "schema": id_schema(),
    })
}

/// An id or a foreign key: 1 to [`MAX_INTEGER`](crate::codegen::MAX_INTEGER).
pub(super) fn id_schema() -> Value {
    json!({ "type": "integer", "format": "int64", "minimum": 1, "maximum": crate::codegen::MAX_INTEGER })
}

pub(super) fn paths(design: &ApiDesign, used: &mut BTreeSet<ErrorResponse>) -> Map<String, Value> {
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

/// Whether deleting a `resource` can be refused: a child restricts it, or a child the
/// delete cascades to can itself be refused (SQLite checks the whole cascade).
fn has_restricting_children(design: &ApiDesign, resource: &Resource) -> bool {
    fn refusable<'a>(design: &'a ApiDesign, name: &'a str, seen: &mut Vec<&'a str>) -> bool {
        if seen.contains(&name) {
            return false;
        }
        seen.push(name);
        design.resources.iter().any(|child| {
            child.relations.iter().any(|rel| {
                rel.target == name
                    && match rel.on_delete {
                        OnDelete::Restrict => true,
                        OnDelete::Cascade => refusable(design, &child.name, seen),
                        OnDelete::SetNull => false,
                    }
            })
        })
    }
    refusable(design, &resource.name, &mut Vec::new())
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
    let has_parents = !resource.relations.is_empty();
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
            .error(ErrorResponse::Conflict, unique || has_parents)
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
        let conflict = (writes && (unique || has_parents))
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
            "schema": { "type": "integer", "format": "int64", "minimum": 0, "maximum": crate::codegen::MAX_INTEGER, "default": 0 },
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
            id_schema()
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

pub(super) fn action_resource<'a>(design: &'a ApiDesign, action: &Action) -> Option<&'a Resource> {
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
