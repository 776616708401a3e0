//! `Act`: a custom action as the templates print it, and `ActionTest`, the generated
//! test for it.

use serde::Serialize;
use serde_json::Value;

use super::{EnumAlias, Role, TypeUse, base_type, field_line, label, shell_quote_body};
use crate::codegen::CodegenError;
use crate::codegen::fastapi::literal::{Imports, Origin, doc, kwarg, pascal, py, py_str};
use crate::codegen::fastapi::sample;
use crate::design::{
    Action, ActionBehavior, ActionOutput, ApiDesign, Field, FieldType, HttpMethod,
};

#[derive(Debug, Serialize)]
pub struct Act {
    pub name: String,
    pub method: String,
    pub method_upper: String,
    pub path: String,
    pub status: u16,
    pub tag: Option<String>,
    pub params: Vec<String>,
    pub returns: String,
    pub doc: String,
    pub body: Vec<String>,
    pub class: String,
    pub input_lines: Vec<String>,
    pub output_lines: Vec<String>,
    pub example_path: String,
    pub example_json: String,
}

#[derive(Debug, Serialize)]
pub struct ActionTest {
    pub kind: &'static str,
    pub name: String,
    pub method: &'static str,
    pub path: String,
    pub missing_path: String,
    pub any_path: String,
    pub json_arg: String,
    pub resource: String,
    pub plural: String,
    pub field: String,
    pub value: String,
    pub make_args: String,
    pub status: u16,
    pub check_via_get: bool,
    pub repeat_conflicts: bool,
}

pub(super) fn actions_imports(design: &ApiDesign, has_auth: bool) -> String {
    let mut i = Imports::default();
    i.from(Origin::ThirdParty, "fastapi", "APIRouter");
    if has_auth {
        i.from(Origin::ThirdParty, "fastapi", "Depends").from(
            Origin::Local,
            "app.auth",
            "require_auth",
        );
    }
    for a in &design.actions {
        let empty = matches!(a.output, ActionOutput::Empty);
        let custom_uses = |name: &str| match &a.behavior {
            ActionBehavior::Custom {
                fastapi: Some(code),
                ..
            } => code.contains(name),
            _ => false,
        };
        if empty || custom_uses("Response") {
            i.from(Origin::ThirdParty, "fastapi", "Response");
        }
        if path_params(&a.path).iter().any(|p| p == "id") {
            i.from(Origin::Local, "app.db", "ItemId");
        }
        if !a.input.is_empty() || !empty || custom_uses("models.") {
            i.from(Origin::Local, "app", "models");
        }
        match &a.behavior {
            ActionBehavior::SetField { .. } => {
                i.from(Origin::Local, "app", "crud")
                    .from(Origin::Local, "app", "tables")
                    .from(Origin::Local, "app.db", "Db");
            }
            ActionBehavior::Custom {
                fastapi: Some(code),
                ..
            } => {
                // Only what the handler uses, so the module stays lint-clean.
                i.from(Origin::Local, "app.db", "Db");
                for (name, module, import) in [
                    ("crud.", "app", "crud"),
                    ("tables.", "app", "tables"),
                    ("ProblemError", "app.problems", "ProblemError"),
                ] {
                    if code.contains(name) {
                        i.from(Origin::Local, module, import);
                    }
                }
            }
            _ => {
                i.from(Origin::Local, "app.problems", "ProblemError");
            }
        }
    }
    i.render()
}

pub(super) fn path_params(path: &str) -> Vec<String> {
    let mut params = Vec::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        params.push(rest[start + 1..start + end].to_owned());
        rest = &rest[start + end + 1..];
    }
    params
}

pub(super) fn fill_path(path: &str, id: &str) -> String {
    let mut out = path.to_owned();
    for p in path_params(path) {
        let value = if p == "id" { id } else { "sample" };
        out = out.replace(&format!("{{{p}}}"), value);
    }
    out
}

pub(super) fn method_name(m: HttpMethod) -> &'static str {
    match m {
        HttpMethod::Get => "get",
        HttpMethod::Post => "post",
        HttpMethod::Put => "put",
        HttpMethod::Patch => "patch",
        HttpMethod::Delete => "delete",
    }
}

pub(super) fn action(
    design: &ApiDesign,
    a: &Action,
    uses: &mut TypeUse,
    enums: &mut Vec<EnumAlias>,
) -> Result<Act, CodegenError> {
    let class = pascal(&a.name);
    let resource = match &a.resource {
        Some(name) => Some(design.resource(name).ok_or_else(|| {
            CodegenError::Unsupported(format!(
                "action {} belongs to {name}, which the design does not define",
                a.name
            ))
        })?),
        None => None,
    };
    let lines_for =
        |fields: &[Field], role: fn() -> Role, uses: &mut TypeUse, enums: &mut Vec<EnumAlias>| {
            fields
                .iter()
                .map(|f| {
                    let enum_name = format!("{class}{}", pascal(&f.name));
                    if f.ty == FieldType::Enum {
                        enums.push(EnumAlias {
                            name: enum_name.clone(),
                            values: f.enum_values.iter().map(|v| py_str(v)).collect(),
                        });
                    }
                    let typed = base_type(f, &enum_name, uses);
                    field_line(f, &typed, role())
                })
                .collect::<Vec<String>>()
        };
    let input_lines = lines_for(&a.input, || Role::Create, uses, enums);
    let output_lines = match &a.output {
        ActionOutput::Object { fields } => lines_for(fields, || Role::Repr, uses, enums),
        _ => Vec::new(),
    };

    let mut params: Vec<String> = path_params(&a.path)
        .into_iter()
        .map(|p| {
            if p == "id" {
                "id: ItemId".to_owned()
            } else {
                format!("{p}: str")
            }
        })
        .collect();
    let custom_body = match &a.behavior {
        ActionBehavior::Custom {
            fastapi: Some(code),
            ..
        } => Some(code.clone()),
        _ => None,
    };
    let uses_db = matches!(a.behavior, ActionBehavior::SetField { .. }) || custom_body.is_some();
    if uses_db {
        params.push("db: Db".to_owned());
    }
    if !input_lines.is_empty() {
        params.push(format!("body: models.{class}Input"));
    }
    let returns = match &a.output {
        ActionOutput::Resource => match resource {
            Some(r) => format!("models.{}", pascal(&r.name)),
            None => {
                return Err(CodegenError::Unsupported(format!(
                    "action {} returns its resource but names none",
                    a.name
                )));
            }
        },
        ActionOutput::Object { .. } => format!("models.{class}Output"),
        ActionOutput::Empty => "Response".to_owned(),
    };
    let body = match &a.behavior {
        ActionBehavior::SetField { field, value, from } => {
            let r = resource.ok_or_else(|| {
                CodegenError::Unsupported(format!(
                    "action {} sets {field} but names no resource",
                    a.name
                ))
            })?;
            if r.field(field).is_none() {
                return Err(CodegenError::Unsupported(format!(
                    "action {} sets {}.{field}, which does not exist",
                    a.name, r.name
                )));
            }
            if !path_params(&a.path).iter().any(|p| p == "id") {
                return Err(CodegenError::Unsupported(format!(
                    "action {} sets a field but its path {} has no {{id}}",
                    a.name, a.path
                )));
            }
            let from_arg = if from.is_empty() {
                String::new()
            } else {
                let items: Vec<String> = from.iter().map(py).collect();
                let tuple = if items.len() == 1 {
                    format!("({},)", items[0])
                } else {
                    format!("({})", items.join(", "))
                };
                format!(", allowed_from={tuple}")
            };
            let args = format!(
                "db, tables.{}, id, {}, {}{from_arg}",
                r.plural.to_ascii_uppercase(),
                py_str(field),
                py(value)
            );
            let one_line = format!("item = crud.set_field({args})");
            let mut lines = if one_line.len() + 4 <= 100 {
                vec![one_line]
            } else {
                vec![
                    "item = crud.set_field(".to_owned(),
                    format!("    {args}"),
                    ")".to_owned(),
                ]
            };
            lines.push(match &a.output {
                ActionOutput::Resource => {
                    format!("return models.{}.model_validate(item)", pascal(&r.name))
                }
                ActionOutput::Object { .. } => {
                    format!("return models.{class}Output.model_validate(item)")
                }
                ActionOutput::Empty => "return Response(status_code=204)".to_owned(),
            });
            lines
        }
        ActionBehavior::Custom {
            fastapi: Some(code),
            ..
        } => dedent(code),
        ActionBehavior::Custom { fastapi: None, .. } | ActionBehavior::NotImplemented => {
            vec![format!(
                "raise ProblemError(501, {})",
                py_str(&format!("{} is not implemented yet", a.name))
            )]
        }
    };
    let example_json = if a.input.is_empty() {
        String::new()
    } else {
        let m: serde_json::Map<String, Value> = a
            .input
            .iter()
            .map(|f| Ok((f.name.clone(), sample::require(f, 0, &a.name)?)))
            .collect::<Result<_, CodegenError>>()?;
        shell_quote_body(&Value::Object(m))
    };
    Ok(Act {
        name: a.name.clone(),
        method: method_name(a.method).to_owned(),
        method_upper: a.method.as_str().to_owned(),
        path: a.path.clone(),
        status: if matches!(a.output, ActionOutput::Empty) {
            204
        } else {
            200
        },
        tag: resource.map(|r| r.plural.clone()),
        params,
        returns,
        doc: if a.summary.trim().is_empty() {
            format!("The {} action.", label(&a.name))
        } else {
            doc(&a.summary)
        },
        body,
        class,
        input_lines,
        output_lines,
        example_path: fill_path(&a.path, "1"),
        example_json,
    })
}

/// Removes the indentation every non-blank line shares, and trailing blank lines.
pub(super) fn dedent(code: &str) -> Vec<String> {
    let lines: Vec<&str> = code.lines().collect();
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out: Vec<String> = lines
        .iter()
        .map(|l| {
            if l.trim().is_empty() {
                String::new()
            } else {
                l[indent..].trim_end().to_owned()
            }
        })
        .collect();
    while out.last().is_some_and(String::is_empty) {
        out.pop();
    }
    while out.first().is_some_and(String::is_empty) {
        out.remove(0);
    }
    if out.is_empty() {
        out.push("pass".to_owned());
    }
    out
}

pub(super) fn action_tests(design: &ApiDesign) -> Result<Vec<ActionTest>, CodegenError> {
    let mut tests = Vec::new();
    for a in &design.actions {
        let json_arg = if a.input.is_empty() {
            String::new()
        } else {
            let m: serde_json::Map<String, Value> = a
                .input
                .iter()
                .map(|f| Ok((f.name.clone(), sample::require(f, 0, &a.name)?)))
                .collect::<Result<_, CodegenError>>()?;
            format!(", json={}", py(&Value::Object(m)))
        };
        let method = a.method.as_str();
        let base = ActionTest {
            kind: "not_implemented",
            name: a.name.clone(),
            method,
            path: String::new(),
            missing_path: fill_path(&a.path, "999999"),
            any_path: fill_path(&a.path, "1"),
            json_arg,
            resource: String::new(),
            plural: String::new(),
            field: String::new(),
            value: String::new(),
            make_args: String::new(),
            status: 501,
            check_via_get: false,
            repeat_conflicts: false,
        };
        match &a.behavior {
            ActionBehavior::NotImplemented | ActionBehavior::Custom { fastapi: None, .. } => {
                tests.push(base);
            }
            ActionBehavior::Custom {
                fastapi: Some(_), ..
            } => {}
            ActionBehavior::SetField { field, value, from } => {
                let Some(r) = a.resource.as_deref().and_then(|n| design.resource(n)) else {
                    continue;
                };
                let check_via_get = r.operations.get;
                let output_has_field = match &a.output {
                    ActionOutput::Resource => true,
                    ActionOutput::Object { fields } => fields.iter().any(|f| &f.name == field),
                    ActionOutput::Empty => false,
                };
                if !check_via_get && !output_has_field {
                    continue;
                }
                let make_args = match from.first() {
                    Some(start) => format!(", {}", kwarg(field, &py(start))),
                    None => String::new(),
                };
                let mut path = a.path.clone();
                for p in path_params(&a.path) {
                    let value = if p == "id" {
                        "{record['id']}"
                    } else {
                        "sample"
                    };
                    path = path.replace(&format!("{{{p}}}"), value);
                }
                tests.push(ActionTest {
                    kind: "set_field",
                    path,
                    resource: r.name.clone(),
                    plural: r.plural.clone(),
                    field: field.clone(),
                    value: py(value),
                    make_args,
                    status: if matches!(a.output, ActionOutput::Empty) {
                        204
                    } else {
                        200
                    },
                    check_via_get,
                    repeat_conflicts: !from.is_empty() && !from.contains(value),
                    ..base
                });
            }
        }
    }
    Ok(tests)
}

pub(super) fn actions_test_imports(tests: &[ActionTest]) -> String {
    let mut i = Imports::default();
    i.from(Origin::ThirdParty, "fastapi.testclient", "TestClient")
        .from(Origin::Local, "tests.support", "assert_problem");
    for t in tests {
        if t.kind == "set_field" {
            i.from(
                Origin::Local,
                "tests.support",
                &format!("make_{}", t.resource),
            );
        }
    }
    i.render()
}
