//! `spec_check` reports each kind of defect precisely: the kind, the JSON pointer of
//! the place to fix, and a sentence naming what is wrong.

use apiforge::codegen::openapi;
use apiforge::codegen::spec_check::{self, SpecError, SpecErrorKind, SpecErrors};
use apiforge::design::ApiDesign;
use serde_json::{Value, json};

fn valid_spec() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/designs/relation_chain.json"
    );
    let text = std::fs::read_to_string(path).expect("fixture is readable");
    let design: ApiDesign = serde_json::from_str(&text).expect("fixture parses");
    let spec = openapi::build(&design);
    spec_check::check(&spec).expect("the unbroken spec is valid");
    spec
}

fn errors_of(spec: &Value) -> SpecErrors {
    match spec_check::check(spec) {
        Ok(()) => panic!("the broken spec passed the check"),
        Err(errors) => errors,
    }
}

/// The errors other than the ones of `kind`, to show that one defect gives one report.
fn only(errors: &SpecErrors, kind: SpecErrorKind) -> Vec<&SpecError> {
    let others: Vec<&SpecError> = errors.0.iter().filter(|e| e.kind != kind).collect();
    assert!(others.is_empty(), "unexpected extra errors: {others:#?}");
    errors.of_kind(kind).collect()
}

#[test]
fn a_dangling_ref_is_reported_where_it_is() {
    let mut spec = valid_spec();
    spec["paths"]["/orders/{id}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        ["$ref"] = json!("#/components/schemas/Ordr");
    let errors = errors_of(&spec);
    let found = only(&errors, SpecErrorKind::UnresolvedRef);
    assert_eq!(found.len(), 1, "{errors}");
    assert_eq!(
        found[0].pointer,
        "/paths/~1orders~1{id}/get/responses/200/content/application~1json/schema/$ref"
    );
    assert!(
        found[0].message.contains("#/components/schemas/Ordr"),
        "{}",
        found[0].message
    );
}

#[test]
fn an_external_ref_is_reported() {
    let mut spec = valid_spec();
    spec["components"]["schemas"]["Order"]["properties"]["note"] =
        json!({ "$ref": "https://example.com/note.json" });
    let errors = errors_of(&spec);
    let found: Vec<_> = errors.of_kind(SpecErrorKind::UnresolvedRef).collect();
    assert_eq!(found.len(), 1, "{errors}");
    assert_eq!(
        found[0].pointer,
        "/components/schemas/Order/properties/note/$ref"
    );
    assert!(found[0].message.contains("outside this document"));
}

#[test]
fn a_duplicate_operation_id_names_both_operations() {
    let mut spec = valid_spec();
    spec["paths"]["/orders/{id}"]["patch"]["operationId"] = json!("replace_order");
    let errors = errors_of(&spec);
    let found = only(&errors, SpecErrorKind::DuplicateOperationId);
    assert_eq!(found.len(), 1, "{errors}");
    assert_eq!(found[0].pointer, "/paths/~1orders~1{id}/patch/operationId");
    assert!(found[0].message.contains("`replace_order`"));
    assert!(
        found[0].message.contains("PUT /orders/{id}"),
        "{}",
        found[0].message
    );
}

#[test]
fn an_undeclared_path_parameter_is_reported() {
    let mut spec = valid_spec();
    spec["paths"]["/orders/{id}"]["delete"]["parameters"] = json!([]);
    let errors = errors_of(&spec);
    let found = only(&errors, SpecErrorKind::PathParameter);
    assert_eq!(found.len(), 1, "{errors}");
    assert_eq!(found[0].pointer, "/paths/~1orders~1{id}/delete/parameters");
    assert!(found[0].message.contains("`id`"));
    assert!(found[0].message.contains("DELETE /orders/{id}"));
}

#[test]
fn a_path_parameter_declared_at_path_item_level_counts() {
    let mut spec = valid_spec();
    let item = &mut spec["paths"]["/orders/{id}"];
    let param = item["get"]["parameters"][0].clone();
    for method in ["get", "put", "patch", "delete"] {
        item[method]
            .as_object_mut()
            .expect("operation")
            .shift_remove("parameters");
    }
    item.as_object_mut()
        .expect("path item")
        .insert("parameters".into(), json!([param]));
    spec_check::check(&spec).expect("path-level parameters are inherited");
}

#[test]
fn a_declared_parameter_missing_from_the_template_is_reported() {
    let mut spec = valid_spec();
    let params = spec["paths"]["/orders/{id}"]["get"]["parameters"]
        .as_array_mut()
        .expect("parameters");
    params.push(json!({ "name": "order_no", "in": "path", "required": true, "schema": { "type": "string" } }));
    let errors = errors_of(&spec);
    let found = only(&errors, SpecErrorKind::PathParameter);
    assert_eq!(found.len(), 1, "{errors}");
    assert!(found[0].message.contains("`order_no`"));
}

#[test]
fn an_operation_without_an_error_response_is_reported() {
    let mut spec = valid_spec();
    let responses = spec["paths"]["/orders"]["get"]["responses"]
        .as_object_mut()
        .expect("responses");
    responses.retain(|code, _| code.starts_with('2'));
    let errors = errors_of(&spec);
    let found = only(&errors, SpecErrorKind::MissingResponse);
    assert_eq!(found.len(), 1, "{errors}");
    assert_eq!(found[0].pointer, "/paths/~1orders/get/responses");
    assert!(found[0].message.contains("no error (4xx or 5xx)"));
}

#[test]
fn an_operation_without_a_success_response_is_reported() {
    let mut spec = valid_spec();
    let responses = spec["paths"]["/customers/{id}"]["delete"]["responses"]
        .as_object_mut()
        .expect("responses");
    responses.shift_remove("204");
    let errors = errors_of(&spec);
    let found = only(&errors, SpecErrorKind::MissingResponse);
    assert_eq!(found.len(), 1, "{errors}");
    assert!(
        found[0]
            .message
            .contains("DELETE /customers/{id} declares no success")
    );
}

#[test]
fn an_invalid_schema_example_is_reported_at_the_bad_value() {
    let mut spec = valid_spec();
    spec["components"]["schemas"]["OrderItemCreate"]["examples"][0]["quantity"] = json!(0);
    let errors = errors_of(&spec);
    let found = only(&errors, SpecErrorKind::InvalidExample);
    assert_eq!(found.len(), 1, "{errors}");
    assert_eq!(
        found[0].pointer,
        "/components/schemas/OrderItemCreate/examples/0/quantity"
    );
    assert!(found[0].message.contains("minimum"), "{}", found[0].message);
}

#[test]
fn an_example_with_a_bad_format_is_reported() {
    let mut spec = valid_spec();
    spec["components"]["schemas"]["Customer"]["examples"][0]["email"] = json!("not an email");
    let errors = errors_of(&spec);
    let found = only(&errors, SpecErrorKind::InvalidExample);
    assert_eq!(found.len(), 1, "{errors}");
    assert_eq!(
        found[0].pointer,
        "/components/schemas/Customer/examples/0/email"
    );
}

#[test]
fn an_invalid_media_type_example_is_checked_through_refs() {
    let mut spec = valid_spec();
    spec["components"]["responses"]["NotFound"]["content"]["application/problem+json"]["example"]
        ["status"] = json!("404");
    let errors = errors_of(&spec);
    let found = only(&errors, SpecErrorKind::InvalidExample);
    assert_eq!(found.len(), 1, "{errors}");
    assert_eq!(
        found[0].pointer,
        "/components/responses/NotFound/content/application~1problem+json/example/status"
    );
}

#[test]
fn schema_violations_carry_the_instance_pointer() {
    let mut spec = valid_spec();
    spec["paths"]["/orders"]["get"]["parameters"][0]["in"] = json!("body");
    let errors = errors_of(&spec);
    let found: Vec<_> = errors.of_kind(SpecErrorKind::Schema).collect();
    assert!(!found.is_empty(), "{errors}");
    assert!(
        found
            .iter()
            .all(|e| e.pointer.starts_with("/paths/~1orders/get")),
        "{errors}"
    );
}

#[test]
fn a_wrong_openapi_version_and_missing_info_are_schema_errors() {
    let mut spec = valid_spec();
    spec["openapi"] = json!("3.0.3");
    spec.as_object_mut().expect("object").shift_remove("info");
    let errors = errors_of(&spec);
    let found: Vec<_> = errors.of_kind(SpecErrorKind::Schema).collect();
    assert!(found.iter().any(|e| e.pointer == "/openapi"), "{errors}");
    assert!(found.iter().any(|e| e.message.contains("info")), "{errors}");
}

#[test]
fn garbage_is_rejected_without_panicking() {
    for garbage in [
        json!(null),
        json!(42),
        json!("openapi"),
        json!([1, 2]),
        json!({}),
    ] {
        let errors = errors_of(&garbage);
        assert!(!errors.0.is_empty());
    }
}

#[test]
fn errors_display_one_line_each_with_the_pointer() {
    let mut spec = valid_spec();
    spec["paths"]["/orders/{id}"]["patch"]["operationId"] = json!("replace_order");
    spec["paths"]["/orders/{id}"]["delete"]["parameters"] = json!([]);
    let errors = errors_of(&spec);
    let text = errors.to_string();
    assert!(
        text.starts_with("the OpenAPI document has 2 problem(s):"),
        "{text}"
    );
    assert!(text.contains("  /paths/~1orders~1{id}/patch/operationId: operationId"));
    assert!(text.contains("  /paths/~1orders~1{id}/delete/parameters: path parameter"));
}

#[test]
fn a_schema_that_is_not_json_schema_is_reported_inside_it() {
    let mut spec = valid_spec();
    spec["components"]["schemas"]["Order"]["properties"]["note"]["type"] = json!("strin");
    let errors = errors_of(&spec);
    let found = only(&errors, SpecErrorKind::InvalidSchema);
    assert!(!found.is_empty(), "{errors}");
    assert!(
        found.iter().all(|e| e
            .pointer
            .starts_with("/components/schemas/Order/properties/note/type")),
        "{errors}"
    );
}

#[test]
fn a_pattern_that_does_not_compile_is_reported_at_its_schema() {
    let mut spec = valid_spec();
    spec["components"]["schemas"]["Customer"]["properties"]["name"]["pattern"] = json!("([a-z");
    let errors = errors_of(&spec);
    let found = only(&errors, SpecErrorKind::InvalidSchema);
    assert_eq!(found.len(), 1, "{errors}");
    assert_eq!(
        found[0].pointer,
        "/components/schemas/Customer/properties/name/pattern"
    );
    assert!(found[0].message.contains("cannot be compiled"), "{errors}");
}

#[test]
fn a_stray_root_keyword_is_a_schema_error_and_constrains_no_example() {
    let mut spec = valid_spec();
    spec["type"] = json!("string");
    let errors = errors_of(&spec);
    let found = only(&errors, SpecErrorKind::Schema);
    assert!(
        found.iter().any(|e| e.message.contains("'type'")),
        "{errors}"
    );
}
