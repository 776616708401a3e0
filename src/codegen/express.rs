//! The Express project generator: design → every file of a CommonJS Express project
//! (server, one router per resource, validation, SQLite persistence through sql.js,
//! auth, a `node:test` suite, README) except the spec files and `apiforge.json`.
//!
//! The code needs only the packages pinned in `assets/runtimes/package.json`, so it runs
//! against the shared runtime with `NODE_PATH=<runtime>/node_modules`.

mod field_examples;
mod js_value;
mod project_view;

use minijinja::syntax::SyntaxConfig;
use minijinja::value::Serde;
use minijinja::{AutoEscape, Environment, context};

use crate::codegen::{CodegenError, GeneratedFiles};
use crate::design::ApiDesign;
use project_view::ProjectView;

/// Template name → source, embedded so the binary needs no asset directory.
const TEMPLATES: &[(&str, &str)] = &[
    (
        "package.json",
        include_str!("../../assets/codegen/express/package.json"),
    ),
    (
        "gitignore",
        include_str!("../../assets/codegen/express/gitignore"),
    ),
    (
        "README.md",
        include_str!("../../assets/codegen/express/README.md"),
    ),
    (
        "server.js",
        include_str!("../../assets/codegen/express/server.js"),
    ),
    (
        "src/app.js",
        include_str!("../../assets/codegen/express/src/app.js"),
    ),
    (
        "src/auth.js",
        include_str!("../../assets/codegen/express/src/auth.js"),
    ),
    (
        "src/actions.js",
        include_str!("../../assets/codegen/express/src/actions.js"),
    ),
    (
        "src/database.js",
        include_str!("../../assets/codegen/express/src/database.js"),
    ),
    (
        "src/problem.js",
        include_str!("../../assets/codegen/express/src/problem.js"),
    ),
    (
        "src/repository.js",
        include_str!("../../assets/codegen/express/src/repository.js"),
    ),
    (
        "src/resources.js",
        include_str!("../../assets/codegen/express/src/resources.js"),
    ),
    (
        "src/routes/resource.js",
        include_str!("../../assets/codegen/express/src/routes/resource.js"),
    ),
    (
        "src/validation.js",
        include_str!("../../assets/codegen/express/src/validation.js"),
    ),
    (
        "test/actions.test.js",
        include_str!("../../assets/codegen/express/test/actions.test.js"),
    ),
    (
        "test/auth.test.js",
        include_str!("../../assets/codegen/express/test/auth.test.js"),
    ),
    (
        "test-support/factories.js",
        include_str!("../../assets/codegen/express/test-support/factories.js"),
    ),
    (
        "test/health.test.js",
        include_str!("../../assets/codegen/express/test/health.test.js"),
    ),
    (
        "test-support/helpers.js",
        include_str!("../../assets/codegen/express/test-support/helpers.js"),
    ),
    (
        "test/resource.test.js",
        include_str!("../../assets/codegen/express/test/resource.test.js"),
    ),
];

/// Renders the Express project for `design`. Same design in, byte-identical files out.
pub fn render(design: &ApiDesign) -> Result<GeneratedFiles, CodegenError> {
    let view = ProjectView::new(design)?;
    let env = environment()?;
    let mut files = GeneratedFiles::new();
    let mut emit = |output: String, template: &str, ctx: minijinja::Value| {
        let text = env
            .get_template(template)
            .and_then(|t| t.render(ctx))
            .map_err(|e| CodegenError::Template {
                template: template.to_owned(),
                message: format!("{e:#}"),
            })?;
        // Express code keeps at most one blank line in a row.
        files.insert(output, super::tidy(&text, 1));
        Ok::<(), CodegenError>(())
    };
    let project = minijinja::Value::from(Serde(&view));
    let single = [
        ("package.json", "package.json"),
        (".gitignore", "gitignore"),
        ("README.md", "README.md"),
        ("server.js", "server.js"),
        ("src/app.js", "src/app.js"),
        ("src/database.js", "src/database.js"),
        ("src/problem.js", "src/problem.js"),
        ("src/repository.js", "src/repository.js"),
        ("src/resources.js", "src/resources.js"),
        ("src/validation.js", "src/validation.js"),
        ("test-support/factories.js", "test-support/factories.js"),
        ("test/health.test.js", "test/health.test.js"),
        ("test-support/helpers.js", "test-support/helpers.js"),
    ];
    for (output, template) in single {
        emit(output.to_owned(), template, project.clone())?;
    }
    if view.auth.kind != "none" {
        emit("src/auth.js".to_owned(), "src/auth.js", project.clone())?;
        emit(
            "test/auth.test.js".to_owned(),
            "test/auth.test.js",
            project.clone(),
        )?;
    }
    if !view.actions.is_empty() {
        emit(
            "src/actions.js".to_owned(),
            "src/actions.js",
            project.clone(),
        )?;
    }
    if view.has_action_tests() {
        emit(
            "test/actions.test.js".to_owned(),
            "test/actions.test.js",
            project.clone(),
        )?;
    }
    for resource in &view.resources {
        let ctx = context! { r => minijinja::Value::from(Serde(resource)), ..project.clone() };
        emit(
            format!("src/routes/{}.js", resource.plural),
            "src/routes/resource.js",
            ctx.clone(),
        )?;
        emit(
            format!("test/{}.test.js", resource.plural),
            "test/resource.test.js",
            ctx,
        )?;
    }
    // Handler bodies go in last, after the whitespace clean-up, exactly as written.
    if let Some(actions) = files.get_mut("src/actions.js") {
        for (placeholder, body) in view.custom_bodies() {
            *actions = actions.replace(placeholder, body);
        }
    }
    Ok(files)
}

fn environment() -> Result<Environment<'static>, CodegenError> {
    let mut env = Environment::new();
    let syntax = SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
        .map_err(|e| template_error("syntax", &e))?;
    env.set_syntax(syntax);
    // Values are pre-rendered as JavaScript/JSON where needed; nothing is HTML.
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .map_err(|e| template_error(name, &e))?;
    }
    Ok(env)
}

fn template_error(template: &str, error: &minijinja::Error) -> CodegenError {
    CodegenError::Template {
        template: template.to_owned(),
        message: format!("{error:#}"),
    }
}

/// A valid example request body for creating `resource` (foreign keys left out): the
/// `index`-th of the samples the generated tests use. `None` for an unknown resource or
/// a field no example can be derived for.
pub fn example_body(
    design: &ApiDesign,
    resource: &str,
    index: usize,
) -> Option<serde_json::Map<String, serde_json::Value>> {
    design
        .resource(resource)?
        .fields
        .iter()
        .map(|f| field_examples::valid(f, index).map(|v| (f.name.clone(), v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::design::{
        Action, ActionBehavior, ActionOutput, Field, FieldType, HttpMethod, Resource,
    };

    fn shop() -> ApiDesign {
        let mut design = ApiDesign::new("Shop */ API\nv2");
        let mut product = Resource::new("product", "products");
        let mut name = Field::new("name", FieldType::String);
        name.required = true;
        product.fields.push(name);
        product.description = "Things we sell\u{2028}and more".to_owned();
        design.resources.push(product);
        design
    }

    #[test]
    fn same_design_same_bytes() {
        let design = shop();
        assert_eq!(
            render(&design).expect("renders"),
            render(&design).expect("renders")
        );
    }

    #[test]
    fn free_text_cannot_break_out_of_comments() {
        let files = render(&shop()).expect("renders");
        let app = &files["src/app.js"];
        assert!(
            app.contains("Builds the Shop * / API v2 application."),
            "{app}"
        );
        assert!(files["src/routes/products.js"].contains("// /products: Things we sell and more"));
    }

    #[test]
    fn auth_files_only_when_the_design_has_auth() {
        let design = shop();
        assert!(
            !render(&design)
                .expect("renders")
                .contains_key("src/auth.js")
        );
        let mut secured = design;
        secured.auth = crate::design::AuthScheme::ApiKey {
            header: "X-Key".to_owned(),
            env_var: "SHOP_KEY".to_owned(),
        };
        let files = render(&secured).expect("renders");
        assert!(files["src/auth.js"].contains("const HEADER = 'X-Key';"));
        assert!(files["test-support/helpers.js"].contains("SHOP_KEY: TEST_SECRET"));
    }

    #[test]
    fn unsafe_names_are_refused_not_rendered() {
        type Breakage = Box<dyn Fn(&mut ApiDesign)>;
        let cases: Vec<Breakage> = vec![
            Box::new(|d| d.resources[0].plural = "pro'ducts".to_owned()),
            Box::new(|d| d.resources[0].fields[0].name = "na-me".to_owned()),
            Box::new(|d| d.resources[0].fields[0].name = "id".to_owned()),
            Box::new(|d| {
                d.auth = crate::design::AuthScheme::BearerJwt {
                    env_var: "JWT SECRET".to_owned(),
                }
            }),
            Box::new(|d| d.resources.clear()),
            Box::new(|d| {
                d.actions.push(Action {
                    name: "go".to_owned(),
                    method: HttpMethod::Post,
                    path: "/products/{id}/go'".to_owned(),
                    summary: String::new(),
                    resource: Some("product".to_owned()),
                    input: Vec::new(),
                    output: ActionOutput::Resource,
                    behavior: ActionBehavior::NotImplemented,
                })
            }),
            Box::new(|d| {
                let f = &mut d.resources[0].fields[0];
                f.ty = FieldType::Integer;
                f.min = Some(5.0);
                f.max = Some(1.0);
            }),
        ];
        for (i, break_it) in cases.iter().enumerate() {
            let mut design = shop();
            break_it(&mut design);
            let err = render(&design).expect_err("an unsafe design must be refused");
            assert!(
                matches!(err, CodegenError::Unsupported(_)),
                "case {i}: {err}"
            );
        }
    }

    #[test]
    fn set_field_needs_an_existing_field() {
        let mut design = shop();
        design.actions.push(Action {
            name: "archive".to_owned(),
            method: HttpMethod::Post,
            path: "/products/{id}/archive".to_owned(),
            summary: String::new(),
            resource: Some("product".to_owned()),
            input: Vec::new(),
            output: ActionOutput::Resource,
            behavior: ActionBehavior::SetField {
                field: "archived".to_owned(),
                value: serde_json::json!(true),
                from: Vec::new(),
            },
        });
        let err = render(&design).expect_err("unknown field");
        assert!(err.to_string().contains("product.archived"), "{err}");
    }

    #[test]
    fn custom_handler_bodies_are_inserted_verbatim() {
        let mut design = shop();
        let body = "  const note = `two\n\n\nblank lines   `;  \n\n\n  return { note };";
        design.actions.push(Action {
            name: "note".to_owned(),
            method: HttpMethod::Get,
            path: "/note".to_owned(),
            summary: String::new(),
            resource: None,
            input: Vec::new(),
            output: ActionOutput::Empty,
            behavior: ActionBehavior::Custom {
                fastapi: None,
                express: Some(body.to_owned()),
            },
        });
        let files = render(&design).expect("renders");
        let expected = format!("{{ req, res, input, db, repositories }}) {{\n{body}\n}}");
        assert!(
            files["src/actions.js"].contains(&expected),
            "{}",
            files["src/actions.js"]
        );
    }

    /// Random designs, sensible and absurd: rendering answers Ok or a clear error and
    /// never panics.
    #[test]
    fn random_designs_never_panic() {
        use crate::design::{OnDelete, Relation};
        use rand::{RngExt, SeedableRng};

        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let names = [
            "item", "order", "a_b", "x", "class", "new", "bad name", "", "ü", "id",
        ];
        let patterns = [
            "^[a-z]+$", "(", "^\\d{3}$", "[^x]*", "(?=a)", "a{2,1}", "^(x|y)$",
        ];
        let numbers = [0.0, -1.0, 1.5, 1e300, -1e300, f64::MAX, 9.0e15];
        let mut rendered = 0;
        for _ in 0..300 {
            let mut design = ApiDesign::new("Fuzz");
            for r in 0..rng.random_range(0..4usize) {
                let name = names[rng.random_range(0..names.len())];
                let mut resource = Resource::new(format!("{name}{r}"), format!("{name}{r}s"));
                for f in 0..rng.random_range(0..5usize) {
                    let ty = FieldType::ALL[rng.random_range(0..FieldType::ALL.len())];
                    let fname = names[rng.random_range(0..names.len())];
                    let mut field = Field::new(format!("{fname}_{f}"), ty);
                    field.required = rng.random_bool(0.5);
                    field.unique = rng.random_bool(0.2);
                    if ty == FieldType::Enum && rng.random_bool(0.9) {
                        field.enum_values = vec!["a".to_owned(), "it's".to_owned()];
                    }
                    if rng.random_bool(0.3) {
                        field.min = Some(numbers[rng.random_range(0..numbers.len())]);
                    }
                    if rng.random_bool(0.3) {
                        field.max = Some(numbers[rng.random_range(0..numbers.len())]);
                    }
                    if rng.random_bool(0.3) {
                        field.min_length = Some([0, 1, 5, u32::MAX][rng.random_range(0..4usize)]);
                    }
                    if rng.random_bool(0.3) {
                        field.max_length = Some([0, 2, 300, u32::MAX][rng.random_range(0..4usize)]);
                    }
                    if rng.random_bool(0.3) {
                        field.pattern =
                            Some(patterns[rng.random_range(0..patterns.len())].to_owned());
                    }
                    if rng.random_bool(0.2) {
                        field.default = Some(serde_json::json!("x'`${y}"));
                    }
                    resource.fields.push(field);
                }
                if r > 0 && rng.random_bool(0.6) {
                    let target = design.resources[0].name.clone();
                    resource.relations.push(Relation {
                        field: format!("{target}_id"),
                        target,
                        required: rng.random_bool(0.5),
                        on_delete: [OnDelete::Restrict, OnDelete::Cascade, OnDelete::SetNull]
                            [rng.random_range(0..3usize)],
                    });
                }
                if rng.random_bool(0.3) {
                    resource.operations.create = false;
                }
                design.resources.push(resource);
            }
            if let Ok(files) = render(&design) {
                assert!(files.contains_key("server.js"));
                rendered += 1;
            }
        }
        // The seed is fixed; this keeps the success path in the mix.
        eprintln!("{rendered} of 300 random designs rendered");
        assert!(rendered >= 20, "only {rendered} random designs rendered");
    }

    #[test]
    fn example_bodies_fit_the_fields() {
        let body = example_body(&shop(), "product", 0).expect("derivable");
        assert_eq!(body["name"], serde_json::json!("name 1"));
        assert!(example_body(&shop(), "nothing", 0).is_none());
    }
}
