//! Design → OpenAPI 3.1: every design in the catalog and the fixtures yields a spec that
//! passes `spec_check` (official schema + semantic rules), byte-identical on rebuild,
//! with the contract's operations, status codes and security.

use std::path::PathBuf;

use apiforge::codegen::{openapi, spec_check};
use apiforge::design::ApiDesign;
use apiforge::templates;
use serde_json::{Value, json};

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/designs")
}

fn fixture(name: &str) -> ApiDesign {
    let path = fixture_dir().join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).expect("fixture is readable");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every fixture and every template, by name.
fn all_designs() -> Vec<(String, ApiDesign)> {
    let mut designs: Vec<(String, ApiDesign)> = std::fs::read_dir(fixture_dir())
        .expect("fixture dir exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let name = p
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("utf-8 name")
                .to_owned();
            let design = fixture(&name);
            (format!("fixture {name}"), design)
        })
        .collect();
    designs.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(designs.len() >= 10, "fixtures are missing");
    for t in templates::all() {
        designs.push((format!("template {}", t.name), t.design));
    }
    designs
}

#[test]
fn every_design_yields_a_valid_spec() {
    let mut failures = Vec::new();
    for (name, design) in all_designs() {
        let spec = openapi::build(&design);
        if let Err(errors) = spec_check::check(&spec) {
            failures.push(format!("{name}: {errors}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn building_twice_gives_identical_bytes() {
    for (name, design) in all_designs() {
        let a = openapi::build(&design);
        let b = openapi::build(&design.clone());
        assert_eq!(openapi::to_json(&a), openapi::to_json(&b), "{name}");
        assert_eq!(openapi::to_yaml(&a), openapi::to_yaml(&b), "{name}");
    }
}

#[test]
fn json_and_yaml_parse_back_to_the_same_value() {
    for (name, design) in all_designs() {
        let spec = openapi::build(&design);
        let json_text = openapi::to_json(&spec);
        assert!(
            json_text.ends_with("}\n"),
            "{name}: JSON ends with a newline"
        );
        let from_json: Value = serde_json::from_str(&json_text).expect("JSON parses");
        assert_eq!(from_json, spec, "{name}: JSON round trip");
        let yaml_text = openapi::to_yaml(&spec);
        assert!(
            yaml_text.ends_with('\n'),
            "{name}: YAML ends with a newline"
        );
        let from_yaml: Value = serde_saphyr::from_str(&yaml_text)
            .unwrap_or_else(|e| panic!("{name}: YAML does not parse: {e}\n{yaml_text}"));
        assert_eq!(from_yaml, spec, "{name}: YAML round trip");
    }
}

#[test]
fn keys_come_in_a_readable_order() {
    let spec = openapi::build(&fixture("relation_chain"));
    let top: Vec<&str> = spec
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        top,
        [
            "openapi",
            "info",
            "jsonSchemaDialect",
            "servers",
            "tags",
            "paths",
            "components"
        ]
    );
    let props: Vec<&str> = spec["components"]["schemas"]["OrderItem"]["properties"]
        .as_object()
        .expect("properties")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        props,
        [
            "id",
            "product_name",
            "quantity",
            "unit_price",
            "order_id",
            "created_at",
            "updated_at"
        ]
    );
    let json_text = openapi::to_json(&spec);
    let openapi_at = json_text.find("\"openapi\"").expect("openapi key");
    let components_at = json_text.find("\"components\"").expect("components key");
    assert!(openapi_at < components_at);
}

fn operation_ids(spec: &Value) -> Vec<String> {
    let mut ids = Vec::new();
    for item in spec["paths"].as_object().expect("paths").values() {
        for op in item.as_object().expect("path item").values() {
            ids.push(op["operationId"].as_str().expect("operationId").to_owned());
        }
    }
    ids
}

#[test]
fn crud_operations_follow_the_contract() {
    let spec = openapi::build(&fixture("relation_chain"));
    assert_eq!(spec["openapi"], "3.1.0");
    assert_eq!(spec["servers"], json!([{ "url": "/" }]));
    let ids = operation_ids(&spec);
    for expected in [
        "health",
        "list_order_items",
        "create_order_item",
        "get_order_item",
        "replace_order_item",
        "patch_order_item",
        "delete_order_item",
    ] {
        assert!(
            ids.iter().any(|i| i == expected),
            "missing {expected}: {ids:?}"
        );
    }
    let paths = &spec["paths"];
    let create = &paths["/order_items"]["post"];
    assert_eq!(create["tags"], json!(["order_items"]));
    assert!(create["responses"]["201"]["headers"]["Location"].is_object());
    assert_eq!(
        create["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/OrderItemCreate"
    );
    assert_eq!(
        paths["/order_items/{id}"]["patch"]["requestBody"]["content"]["application/json"]["schema"]
            ["$ref"],
        "#/components/schemas/OrderItemPatch"
    );
    let delete = &paths["/order_items/{id}"]["delete"]["responses"];
    assert!(delete["204"].get("content").is_none(), "204 has no body");
    assert!(delete["404"].is_object());
    // Orders have restricting children (order items cascade, but customers restrict orders).
    assert!(paths["/customers/{id}"]["delete"]["responses"]["409"].is_object());
    assert!(
        paths["/orders/{id}"]["delete"]["responses"]
            .get("409")
            .is_none()
    );
    // Unique email → 409 on create; a parent that may not exist → 409 too; neither →
    // no 409.
    assert!(paths["/customers"]["post"]["responses"]["409"].is_object());
    assert!(paths["/order_items"]["post"]["responses"]["409"].is_object());
    let problem =
        &spec["components"]["responses"]["NotFound"]["content"]["application/problem+json"];
    assert_eq!(problem["schema"]["$ref"], "#/components/schemas/Problem");
    // No auth: no security anywhere.
    assert!(spec.get("security").is_none());
    assert!(spec["components"].get("securitySchemes").is_none());
    assert!(paths["/orders"]["get"]["responses"].get("401").is_none());
}

#[test]
fn list_parameters_follow_the_design() {
    let spec = openapi::build(&fixture("every_field_type"));
    let params = spec["paths"]["/specimens"]["get"]["parameters"]
        .as_array()
        .expect("parameters");
    let names: Vec<&str> = params
        .iter()
        .map(|p| p["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        [
            "limit",
            "offset",
            "sort",
            "q",
            "size",
            "active",
            "due_on",
            "external_id"
        ]
    );
    assert_eq!(
        params[0]["schema"],
        json!({ "type": "integer", "minimum": 1, "maximum": 100, "default": 20 })
    );
    assert_eq!(
        params[2]["schema"]["enum"],
        json!([
            "id",
            "-id",
            "label",
            "-label",
            "count",
            "-count",
            "price",
            "-price",
            "happened_at",
            "-happened_at"
        ])
    );
    assert_eq!(
        params[4]["schema"],
        json!({ "type": "string", "enum": ["small", "medium", "large"] })
    );
    assert_eq!(
        params[5]["schema"],
        json!({ "type": "boolean" }),
        "no default on a filter"
    );
    assert_eq!(
        params[7]["schema"],
        json!({ "type": "string", "format": "uuid" })
    );
    // No search fields → no q.
    let spec = openapi::build(&fixture("relation_chain"));
    let params = spec["paths"]["/orders"]["get"]["parameters"]
        .as_array()
        .expect("parameters");
    assert!(params.iter().all(|p| p["name"] != "q"));
    assert!(
        params
            .iter()
            .any(|p| p["name"] == "customer_id" && p["schema"]["type"] == "integer")
    );
}

#[test]
fn field_types_map_to_the_contract_schemas() {
    let spec = openapi::build(&fixture("every_field_type"));
    let props = &spec["components"]["schemas"]["Specimen"]["properties"];
    let expect = [
        (
            "label",
            json!({ "type": "string", "minLength": 1, "maxLength": 80 }),
        ),
        (
            "body",
            json!({ "type": ["string", "null"], "x-apiforge-type": "text" }),
        ),
        (
            "count",
            json!({ "type": ["integer", "null"], "format": "int64", "minimum": 0, "maximum": apiforge::codegen::MAX_INTEGER }),
        ),
        (
            "ratio",
            json!({ "type": ["number", "null"], "minimum": 0, "maximum": 1 }),
        ),
        (
            "price",
            json!({ "type": ["number", "null"], "x-apiforge-type": "decimal", "minimum": 0 }),
        ),
        ("active", json!({ "type": ["boolean", "null"] })),
        (
            "due_on",
            json!({ "type": ["string", "null"], "format": "date" }),
        ),
        (
            "happened_at",
            json!({ "type": ["string", "null"], "format": "date-time" }),
        ),
        (
            "opens_at",
            json!({ "type": ["string", "null"], "pattern": openapi::TIME_PATTERN }),
        ),
        (
            "contact_email",
            json!({ "type": ["string", "null"], "format": "email" }),
        ),
        (
            "homepage",
            json!({ "type": ["string", "null"], "format": "uri" }),
        ),
        (
            "phone",
            json!({ "type": ["string", "null"], "pattern": openapi::PHONE_PATTERN }),
        ),
        (
            "external_id",
            json!({ "type": ["string", "null"], "format": "uuid" }),
        ),
        (
            "size",
            json!({ "type": ["string", "null"], "enum": ["small", "medium", "large", null] }),
        ),
        ("metadata", json!({ "type": ["object", "null"] })),
    ];
    for (name, schema) in expect {
        assert_eq!(props[name], schema, "{name}");
    }
    // Defaults only in the create body.
    let create = &spec["components"]["schemas"]["SpecimenCreate"];
    assert_eq!(create["properties"]["active"]["default"], json!(true));
    assert_eq!(create["required"], json!(["label"]));
    let patch = &spec["components"]["schemas"]["SpecimenPatch"];
    assert!(patch.get("required").is_none());
    assert!(patch["properties"]["active"].get("default").is_none());
    // Representation: every property present, nothing else.
    let repr = &spec["components"]["schemas"]["Specimen"];
    assert_eq!(repr["additionalProperties"], json!(false));
    assert_eq!(
        repr["required"].as_array().map(Vec::len),
        Some(props.as_object().map_or(0, |p| p.len()))
    );
}

#[test]
fn every_component_schema_has_an_example() {
    for (name, design) in all_designs() {
        let spec = openapi::build(&design);
        for (schema_name, schema) in spec["components"]["schemas"].as_object().expect("schemas") {
            let examples = schema["examples"].as_array();
            assert!(
                examples.is_some_and(|e| !e.is_empty()),
                "{name}: {schema_name} has no example"
            );
        }
    }
}

#[test]
fn examples_are_realistic() {
    let spec = openapi::build(&fixture("ten_resources"));
    let employee = &spec["components"]["schemas"]["Employee"]["examples"][0];
    assert_eq!(employee["first_name"], "Ada");
    assert_eq!(employee["email"], "ada@example.com");
    assert_eq!(employee["department_id"], 1);
    let project = &spec["components"]["schemas"]["Project"]["examples"][0];
    assert_eq!(project["status"], "planned", "the default is the example");
    let invoice = &spec["components"]["schemas"]["Invoice"]["examples"][0];
    let number = invoice["number"].as_str().expect("string");
    assert!(
        regex::Regex::new("^INV-[0-9]{4}$")
            .expect("regex")
            .is_match(number),
        "{number}"
    );
    let list = &spec["components"]["schemas"]["InvoiceList"]["examples"][0];
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0], *invoice);
}

#[test]
fn api_key_auth_secures_every_route_but_health() {
    let spec = openapi::build(&fixture("api_key_auth"));
    assert_eq!(spec["security"], json!([{ "ApiKeyAuth": [] }]));
    assert_eq!(
        spec["components"]["securitySchemes"]["ApiKeyAuth"],
        json!({
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": "The key the server reads from $API_KEY.",
        })
    );
    assert_eq!(spec["paths"]["/health"]["get"]["security"], json!([]));
    assert!(
        spec["paths"]["/health"]["get"]["responses"]
            .get("401")
            .is_none()
    );
    for (path, item) in spec["paths"].as_object().expect("paths") {
        if path == "/health" {
            continue;
        }
        for (method, op) in item.as_object().expect("item") {
            assert!(
                op["responses"]["401"].is_object(),
                "{method} {path} lacks 401"
            );
            assert!(
                op.get("security").is_none(),
                "{method} {path} inherits the global security"
            );
        }
    }
}

#[test]
fn jwt_auth_is_a_bearer_scheme() {
    let spec = openapi::build(&fixture("jwt_auth"));
    assert_eq!(spec["security"], json!([{ "BearerAuth": [] }]));
    let scheme = &spec["components"]["securitySchemes"]["BearerAuth"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    assert_eq!(scheme["bearerFormat"], "JWT");
    assert_eq!(spec["paths"]["/health"]["get"]["security"], json!([]));
}

#[test]
fn custom_actions_become_operations() {
    let spec = openapi::build(&fixture("set_field_action"));
    let cancel = &spec["paths"]["/orders/{id}/cancel"]["post"];
    assert_eq!(cancel["operationId"], "cancel_order");
    assert_eq!(cancel["tags"], json!(["orders"]));
    assert_eq!(cancel["parameters"][0]["name"], "id");
    assert_eq!(
        cancel["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Order"
    );
    // `from` given → the precondition can fail with 409; built-in → no 501.
    assert!(cancel["responses"]["409"].is_object());
    assert!(cancel["responses"].get("501").is_none());
    let pay = &spec["paths"]["/orders/{id}/pay"]["post"];
    assert!(pay["responses"].get("409").is_none());
    assert_eq!(
        pay["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/MarkOrderPaidInput"
    );
    let report = &spec["paths"]["/reports/sales"]["get"];
    assert_eq!(report["tags"], json!(["actions"]));
    assert!(
        report["responses"]["501"].is_object(),
        "no handler yet → 501"
    );
    assert_eq!(
        report["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/SalesReportOutput"
    );
}

#[test]
fn ten_resources_have_every_operation() {
    let design = fixture("ten_resources");
    assert_eq!(design.resources.len(), 10);
    let spec = openapi::build(&design);
    // 6 CRUD operations per resource plus /health.
    assert_eq!(operation_ids(&spec).len(), 10 * 6 + 1);
    let schemas = spec["components"]["schemas"].as_object().expect("schemas");
    assert_eq!(schemas.len(), 10 * 4 + 2);
}

/// A small deterministic generator, so a failure names a seed that reproduces it.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn random_field(rng: &mut Rng, i: usize) -> apiforge::design::Field {
    use apiforge::design::{Field, FieldType};
    const NAMES: [&str; 16] = [
        "name",
        "title",
        "price",
        "quantity",
        "email",
        "status",
        "code",
        "notes",
        "rating",
        "starts_at",
        "due_on",
        "website",
        "phone",
        "reference",
        "weight",
        "opens_at",
    ];
    const PATTERNS: [&str; 4] = [
        "^[A-Z]{3}-[0-9]{3}$",
        "^[a-z0-9]+(?:-[a-z0-9]+)*$",
        "^(?:EU|US|UK)[0-9]{2}$",
        "^\\S+$",
    ];
    let ty = FieldType::ALL[rng.below(FieldType::ALL.len() as u64) as usize];
    let name = format!("{}_{i}", NAMES[rng.below(NAMES.len() as u64) as usize]);
    let mut f = Field::new(name, ty);
    f.required = rng.chance(50);
    f.unique = rng.chance(10);
    if ty == FieldType::Enum {
        let n = 1 + rng.below(5);
        f.enum_values = (0..n).map(|k| format!("value_{k}")).collect();
        if rng.chance(40) {
            f.default = Some(serde_json::json!(f.enum_values[0]));
        }
    }
    if ty.is_numeric() && rng.chance(60) {
        let min = rng.below(1000) as f64 - 500.0;
        let span = if ty == FieldType::Integer {
            1 + rng.below(50)
        } else {
            rng.below(50)
        };
        f.min = rng.chance(70).then_some(min);
        f.max = rng
            .chance(70)
            .then_some(min + span as f64 + if ty == FieldType::Integer { 0.0 } else { 0.25 });
    }
    if matches!(ty, FieldType::String | FieldType::Text) {
        if rng.chance(40) {
            let min = rng.below(30) as u32;
            f.min_length = Some(min);
            f.max_length = rng.chance(60).then(|| min + 1 + rng.below(60) as u32);
        }
        if rng.chance(25) {
            f.pattern = Some(PATTERNS[rng.below(PATTERNS.len() as u64) as usize].to_owned());
            f.min_length = None;
            f.max_length = None;
        }
    }
    if ty == FieldType::Boolean && rng.chance(30) {
        f.default = Some(serde_json::json!(rng.chance(50)));
    }
    if rng.chance(15) {
        f.unit = Some("kg".into());
    }
    if rng.chance(20) {
        f.description = Some("What it means: \"quoted\", # hashed, and\na second line".into());
    }
    f
}

fn random_design(seed: u64) -> ApiDesign {
    use apiforge::design::{AuthScheme, OnDelete, Relation, Resource};
    let mut rng = Rng(seed);
    let mut design = ApiDesign::new(format!("Random {seed}"));
    design.auth = match rng.below(3) {
        0 => AuthScheme::None,
        1 => AuthScheme::ApiKey {
            header: "X-Key".into(),
            env_var: "API_KEY".into(),
        },
        _ => AuthScheme::BearerJwt {
            env_var: "JWT_SECRET".into(),
        },
    };
    let count = 1 + rng.below(4) as usize;
    for r in 0..count {
        let mut resource = Resource::new(format!("thing_{r}"), format!("things_{r}"));
        for i in 0..rng.below(9) as usize {
            resource.fields.push(random_field(&mut rng, i));
        }
        if r > 0 && rng.chance(60) {
            let target = format!("thing_{}", rng.below(r as u64));
            let required = rng.chance(50);
            let on_delete = match (required, rng.below(3)) {
                (false, 2) => OnDelete::SetNull,
                (_, 1) => OnDelete::Cascade,
                _ => OnDelete::Restrict,
            };
            resource.relations.push(Relation {
                field: format!("{target}_id"),
                target,
                required,
                on_delete,
            });
        }
        if let Some(list) = resource.operations.list.as_mut() {
            for f in &resource.fields {
                if rng.chance(30) {
                    list.filters.push(f.name.clone());
                }
                if matches!(
                    f.ty,
                    apiforge::design::FieldType::String | apiforge::design::FieldType::Text
                ) && rng.chance(40)
                {
                    list.search.push(f.name.clone());
                }
                if rng.chance(20) {
                    list.sort.push(f.name.clone());
                }
            }
        }
        resource.operations.patch = rng.chance(80);
        resource.operations.delete = rng.chance(80);
        if rng.chance(10) {
            resource.operations.list = None;
        }
        design.resources.push(resource);
    }
    design
}

#[test]
fn random_designs_yield_valid_specs_that_import_back() {
    for seed in 1..=150u64 {
        let design = random_design(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let spec = openapi::build(&design);
        if let Err(errors) = spec_check::check(&spec) {
            panic!("seed {seed}: {errors}\n{}", design.to_json_pretty());
        }
        let yaml = openapi::to_yaml(&spec);
        let back: Value = serde_saphyr::from_str(&yaml).expect("YAML parses");
        assert_eq!(back, spec, "seed {seed}: YAML round trip");
        let imported = apiforge::codegen::spec_import::import(&yaml)
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert_eq!(imported.design.resources, design.resources, "seed {seed}");
        assert_eq!(imported.design.auth, design.auth, "seed {seed}");
        assert!(
            imported.warnings.is_empty(),
            "seed {seed}: {:?}",
            imported.warnings
        );
    }
}
