//! OpenAPI → design: our own specs come back as the designs they were built from; a
//! hand-written 3.0 YAML document imports with warnings for what a design cannot say;
//! garbage gets a clear error and never a panic.

use std::path::PathBuf;

use apiforge::codegen::openapi;
use apiforge::codegen::spec_import::{self, ImportError};
use apiforge::design::{ApiDesign, AuthScheme, FieldType, OnDelete};
use apiforge::templates;
use serde_json::{Value, json};

fn designs() -> Vec<(String, ApiDesign)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/designs");
    let mut out: Vec<(String, ApiDesign)> = std::fs::read_dir(&dir)
        .expect("fixture dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("readable");
            let design = serde_json::from_str(&text).expect("fixture parses");
            (p.display().to_string(), design)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out.extend(
        templates::all()
            .into_iter()
            .map(|t| (format!("template {}", t.name), t.design)),
    );
    out
}

#[test]
fn our_specs_import_back_to_the_same_design() {
    for (name, design) in designs() {
        let spec = openapi::build(&design);
        for (format, text) in [
            ("json", openapi::to_json(&spec)),
            ("yaml", openapi::to_yaml(&spec)),
        ] {
            let imported = spec_import::import(&text)
                .unwrap_or_else(|e| panic!("{name} ({format}) does not import: {e}"));
            let got = &imported.design;
            assert_eq!(got.title, design.title, "{name}");
            assert_eq!(got.description, design.description, "{name}");
            assert_eq!(got.version, design.version, "{name}");
            assert_eq!(got.auth, design.auth, "{name}");
            assert_eq!(got.resources.len(), design.resources.len(), "{name}");
            for (a, b) in got.resources.iter().zip(&design.resources) {
                assert_eq!(a, b, "{name} ({format}): resource {}", b.name);
            }
            assert!(got.actions.is_empty());
            // The only thing left out: custom actions, one warning each.
            assert_eq!(
                imported.warnings.len(),
                design.actions.len(),
                "{name}: {:#?}",
                imported.warnings
            );
            for action in &design.actions {
                assert!(
                    imported
                        .warnings
                        .iter()
                        .any(|w| w.contains(&format!("({})", action.name))
                            && w.contains("not a CRUD operation")),
                    "{name}: no warning about {}: {:#?}",
                    action.name,
                    imported.warnings
                );
            }
        }
    }
}

const PETSTORE_30: &str = r##"
# A hand-written OpenAPI 3.0 document, the way people write them.
openapi: 3.0.3
info:
  title: Petstore
  description: Pets, their owners and visits.
  version: 2.1.0
servers:
  - url: https://petstore.example.com/v1
security:
  - apiKeyAuth: []
paths:
  /owners:
    get:
      operationId: listOwners
      parameters:
        - name: page
          in: query
          schema: { type: integer }
        - name: lastName
          in: query
          schema: { type: string }
      responses:
        '200':
          description: owners
          content:
            application/json:
              schema:
                type: array
                items: { $ref: '#/components/schemas/Owner' }
    post:
      operationId: createOwner
      requestBody:
        required: true
        content:
          application/json:
            schema: { $ref: '#/components/schemas/NewOwner' }
      responses:
        '201':
          description: created
          content:
            application/json:
              schema: { $ref: '#/components/schemas/Owner' }
  /owners/{ownerId}:
    parameters:
      - name: ownerId
        in: path
        required: true
        schema: { type: integer }
    get:
      operationId: getOwner
      responses:
        '200':
          description: owner
          content:
            application/json:
              schema: { $ref: '#/components/schemas/Owner' }
    delete:
      operationId: deleteOwner
      responses:
        '204': { description: deleted }
  /pets:
    get:
      operationId: listPets
      parameters:
        - name: limit
          in: query
          schema: { type: integer, maximum: 50, default: 25 }
        - name: species
          in: query
          schema: { type: string }
        - name: owner_id
          in: query
          schema: { type: integer }
        - name: sort
          in: query
          schema: { type: string, enum: [name, -name, birthDate, -birthDate] }
        - name: q
          in: query
          schema: { type: string }
        - name: X-Trace
          in: header
          schema: { type: string }
      responses:
        '200':
          description: pets
          content:
            application/json:
              schema:
                type: object
                properties:
                  data:
                    type: array
                    items: { $ref: '#/components/schemas/Pet' }
    post:
      operationId: addPet
      requestBody:
        content:
          application/json:
            schema: { $ref: '#/components/schemas/NewPet' }
      responses:
        '201':
          description: created
          content:
            application/json:
              schema: { $ref: '#/components/schemas/Pet' }
  /pets/{petId}:
    get:
      operationId: getPet
      parameters:
        - { name: petId, in: path, required: true, schema: { type: integer } }
      responses:
        '200':
          description: pet
          content:
            application/json:
              schema: { $ref: '#/components/schemas/Pet' }
    put:
      operationId: updatePet
      parameters:
        - { name: petId, in: path, required: true, schema: { type: integer } }
      requestBody:
        content:
          application/json:
            schema: { $ref: '#/components/schemas/NewPet' }
      responses:
        '200':
          description: pet
          content:
            application/json:
              schema: { $ref: '#/components/schemas/Pet' }
  /pets/{petId}/vaccinate:
    post:
      operationId: vaccinatePet
      parameters:
        - { name: petId, in: path, required: true, schema: { type: integer } }
      responses:
        '204': { description: done }
  /stats:
    get:
      operationId: getStats
      security:
        - oauth: [stats]
      responses:
        '200': { description: stats }
components:
  securitySchemes:
    apiKeyAuth:
      type: apiKey
      in: header
      name: X-Pet-Key
    oauth:
      type: oauth2
      flows:
        implicit:
          authorizationUrl: https://example.com/auth
          scopes: {}
  schemas:
    NewOwner:
      type: object
      required: [firstName, lastName, email]
      properties:
        firstName: { type: string, maxLength: 60 }
        lastName: { type: string, maxLength: 60 }
        email: { type: string, format: email }
        phone: { type: string, nullable: true }
    Owner:
      allOf:
        - $ref: '#/components/schemas/NewOwner'
        - type: object
          required: [id]
          properties:
            id: { type: integer, format: int64 }
    NewPet:
      type: object
      required: [name, species, owner_id]
      properties:
        name: { type: string, minLength: 1 }
        species:
          type: string
          enum: [dog, cat, bird]
          default: dog
        birthDate: { type: string, format: date }
        weight: { type: number, minimum: 0, exclusiveMinimum: true }
        age: { type: integer, minimum: 0, exclusiveMinimum: true, maximum: 40 }
        owner_id: { type: integer }
        tags:
          type: array
          items: { type: string }
        collar:
          type: object
          properties:
            color: { type: string }
        chip:
          oneOf:
            - { type: string }
            - { type: integer }
    Pet:
      allOf:
        - type: object
          required: [id]
          properties:
            id: { type: integer }
            created_at: { type: string, format: date-time }
        - $ref: '#/components/schemas/NewPet'
"##;

#[test]
fn a_hand_written_openapi_30_yaml_document_imports() {
    let imported = spec_import::import(PETSTORE_30).expect("imports");
    let design = &imported.design;
    let warnings = imported.warnings.join("\n");
    assert_eq!(design.title, "Petstore");
    assert_eq!(design.version, "2.1.0");
    assert_eq!(
        design.auth,
        AuthScheme::ApiKey {
            header: "X-Pet-Key".into(),
            env_var: "API_KEY".into()
        }
    );
    let names: Vec<(&str, &str)> = design
        .resources
        .iter()
        .map(|r| (r.name.as_str(), r.plural.as_str()))
        .collect();
    assert_eq!(names, [("owner", "owners"), ("pet", "pets")]);

    let owner = &design.resources[0];
    let fields: Vec<(&str, FieldType, bool)> = owner
        .fields
        .iter()
        .map(|f| (f.name.as_str(), f.ty, f.required))
        .collect();
    assert_eq!(
        fields,
        [
            ("first_name", FieldType::String, true),
            ("last_name", FieldType::String, true),
            ("email", FieldType::Email, true),
            ("phone", FieldType::String, false),
        ]
    );
    assert_eq!(
        owner.field("first_name").and_then(|f| f.max_length),
        Some(60)
    );
    let ops = &owner.operations;
    assert!(ops.list.is_some() && ops.create && ops.get && ops.delete);
    assert!(!ops.replace && !ops.patch);
    assert_eq!(
        ops.list.as_ref().map(|l| l.filters.clone()),
        Some(vec!["last_name".to_owned()])
    );

    let pet = &design.resources[1];
    let species = pet.field("species").expect("species");
    assert_eq!(species.ty, FieldType::Enum);
    assert_eq!(species.enum_values, ["dog", "cat", "bird"]);
    assert_eq!(species.default, Some(json!("dog")));
    assert!(species.required);
    assert_eq!(pet.field("birth_date").map(|f| f.ty), Some(FieldType::Date));
    let age = pet.field("age").expect("age");
    assert_eq!(
        (age.min, age.max),
        (Some(1.0), Some(40.0)),
        "exclusive integer bound"
    );
    assert_eq!(pet.field("weight").and_then(|f| f.min), Some(0.0));
    assert_eq!(pet.field("collar").map(|f| f.ty), Some(FieldType::Json));
    assert!(pet.field("tags").is_none() && pet.field("chip").is_none());
    assert!(pet.field("created_at").is_none(), "implicit");
    assert_eq!(pet.relations.len(), 1);
    let relation = &pet.relations[0];
    assert_eq!(
        (
            relation.target.as_str(),
            relation.field.as_str(),
            relation.required,
            relation.on_delete
        ),
        ("owner", "owner_id", true, OnDelete::Restrict)
    );
    let list = pet.operations.list.as_ref().expect("list");
    assert_eq!((list.default_page_size, list.max_page_size), (25, 50));
    assert_eq!(list.filters, ["species", "owner_id"]);
    assert_eq!(list.sort, ["name", "birth_date"]);
    assert_eq!(list.search, ["name"], "q searches the text fields");
    assert!(pet.operations.replace && !pet.operations.patch && !pet.operations.delete);

    for expected in [
        "POST /pets/{petId}/vaccinate (vaccinatePet) is not a CRUD operation",
        "GET /stats (getStats) is not a CRUD operation",
        "query parameter `page` of GET /owners",
        "header parameter `X-Trace` of GET /pets",
        "pet.tags is a list",
        "pet.collar is a nested object",
        "pet.chip uses `oneOf`",
        "pet.weight has an exclusive minimum",
        "`oauth` (oauth2) has no apiforge equivalent",
        "property `birthDate` of pet was renamed `birth_date`",
        "`q` of GET /pets was taken to search every text field: name",
    ] {
        assert!(
            warnings.contains(expected),
            "missing warning {expected:?} in:\n{warnings}"
        );
    }
}

#[test]
fn a_components_only_document_makes_resources_from_schemas() {
    let doc = json!({
        "openapi": "3.1.0",
        "info": { "title": "Models", "version": "1" },
        "components": { "schemas": {
            "Category": { "type": "object", "properties": { "label": { "type": "string" } }, "required": ["label"] },
            "Product": { "type": "object", "properties": {
                "title": { "type": "string" },
                "category_id": { "type": ["integer", "null"] },
            } },
            "ProductList": { "type": "object", "properties": { "items": { "type": "array" } } },
            "Problem": { "type": "object", "properties": { "title": { "type": "string" } } },
        } },
    });
    let imported = spec_import::import(&doc.to_string()).expect("imports");
    let names: Vec<(&str, &str)> = imported
        .design
        .resources
        .iter()
        .map(|r| (r.name.as_str(), r.plural.as_str()))
        .collect();
    assert_eq!(names, [("category", "categories"), ("product", "products")]);
    let product = &imported.design.resources[1];
    assert_eq!(product.relations.len(), 1);
    assert!(!product.relations[0].required);
    assert!(
        imported
            .warnings
            .iter()
            .any(|w| w.contains("no CRUD paths"))
    );
}

#[test]
fn other_auth_kinds_and_bearer_are_told_apart() {
    let doc = |scheme: Value| {
        json!({
            "openapi": "3.1.0",
            "info": { "title": "T", "version": "1" },
            "security": [{ "s": [] }],
            "paths": { "/things": { "get": { "responses": { "200": { "description": "ok",
                "content": { "application/json": { "schema": { "type": "array",
                    "items": { "type": "object", "properties": { "name": { "type": "string" } } } } } } } } } } },
            "components": { "securitySchemes": { "s": scheme } },
        })
        .to_string()
    };
    let bearer =
        spec_import::import(&doc(json!({ "type": "http", "scheme": "Bearer" }))).expect("imports");
    assert!(matches!(bearer.design.auth, AuthScheme::BearerJwt { .. }));
    let basic =
        spec_import::import(&doc(json!({ "type": "http", "scheme": "basic" }))).expect("imports");
    assert_eq!(basic.design.auth, AuthScheme::None);
    assert!(
        basic.warnings.iter().any(|w| w.contains("http basic")),
        "{:?}",
        basic.warnings
    );
    let query = spec_import::import(&doc(
        json!({ "type": "apiKey", "in": "query", "name": "key" }),
    ))
    .expect("imports");
    assert_eq!(query.design.auth, AuthScheme::None);
    assert!(query.warnings.iter().any(|w| w.contains("in the query")));
}

fn error_of(text: &str) -> ImportError {
    match spec_import::import(text) {
        Ok(imported) => panic!("{text:?} imported: {:?}", imported.design),
        Err(e) => e,
    }
}

#[test]
fn garbage_gets_a_clear_error() {
    assert!(matches!(error_of(""), ImportError::Empty));
    assert!(matches!(error_of("  \n\t "), ImportError::Empty));
    let e = error_of("hello");
    assert!(matches!(e, ImportError::NotOpenApi(_)), "{e}");
    assert!(e.to_string().contains("found a plain string"), "{e}");
    let e = error_of("{\"openapi\": \"3.1.0\",");
    assert!(matches!(e, ImportError::Json(_)), "{e}");
    assert!(e.to_string().contains("line 1"), "{e}");
    let e = error_of("swagger: '2.0'\ninfo: {title: x, version: '1'}\npaths: {}\n");
    assert!(matches!(e, ImportError::Swagger(_)), "{e}");
    assert!(e.to_string().contains("swagger2openapi"));
    assert!(
        matches!(error_of("openapi: 4.0.0\ninfo: {}\n"), ImportError::UnsupportedVersion(v) if v == "4.0.0")
    );
    assert!(matches!(
        error_of("info: {title: x}\n"),
        ImportError::NotOpenApi(_)
    ));
    assert!(matches!(error_of("- a\n- b\n"), ImportError::NotOpenApi(_)));
    let e = error_of("openapi: 3.1.0\ninfo: {title: x, version: '1'}\npaths: {}\n");
    assert!(matches!(e, ImportError::NoResources), "{e}");
    let e = error_of("openapi: 3.1.0\n  info: : [\n");
    assert!(matches!(e, ImportError::Yaml(_)), "{e}");
    assert!(!e.to_string().contains('\n'), "one line: {e}");
}

#[test]
fn binary_and_hostile_input_never_panics() {
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for len in [1usize, 7, 64, 1000, 100_000] {
        let bytes: Vec<u8> = (0..len).map(|_| (next() & 0xff) as u8).collect();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            spec_import::import(&text).is_err(),
            "random bytes of length {len}"
        );
    }
    let nested = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    assert!(spec_import::import(&nested).is_err());
    let yaml_nested = format!("openapi: 3.1.0\nx: {}\n", "[".repeat(5000));
    assert!(spec_import::import(&yaml_nested).is_err());
    let bomb = "a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d]\n";
    let _ = spec_import::import(bomb);
    let cyclic = json!({
        "openapi": "3.1.0",
        "info": { "title": "Loop", "version": "1" },
        "paths": { "/nodes/{id}": { "get": { "responses": { "200": { "description": "x",
            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/A" } } } } } } } },
        "components": { "schemas": {
            "A": { "$ref": "#/components/schemas/B" },
            "B": { "allOf": [{ "$ref": "#/components/schemas/A" }] },
        } },
    });
    let imported = spec_import::import(&cyclic.to_string()).expect("a loop is a warning");
    assert!(!imported.warnings.is_empty());
}

/// Removing any single node of a valid spec never makes the import panic.
#[test]
fn every_single_node_deletion_is_survived() {
    let (_, design) = designs()
        .into_iter()
        .find(|(n, _)| n.ends_with("relation_chain.json"))
        .expect("fixture");
    let spec = openapi::build(&design);
    let mut pointers = Vec::new();
    collect_pointers(&spec, String::new(), &mut pointers);
    assert!(pointers.len() > 200);
    for pointer in pointers {
        let mut broken = spec.clone();
        let (parent, key) = pointer.rsplit_once('/').expect("pointer has a parent");
        let key = key.replace("~1", "/").replace("~0", "~");
        match broken.pointer_mut(parent) {
            Some(Value::Object(map)) => {
                map.shift_remove(&key);
            }
            Some(Value::Array(items)) => {
                if let Ok(i) = key.parse::<usize>() {
                    items.remove(i);
                }
            }
            _ => continue,
        }
        let _ = spec_import::import(&broken.to_string());
    }
}

fn collect_pointers(v: &Value, here: String, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let p = format!("{here}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                collect_pointers(child, p, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let p = format!("{here}/{i}");
                out.push(p.clone());
                collect_pointers(child, p, out);
            }
        }
        _ => {}
    }
}
