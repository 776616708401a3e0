//! The FastAPI code generator: an [`ApiDesign`] in, every file of a FastAPI project out
//! (except `openapi.json`, `openapi.yaml` and `apiforge.json`, which the caller adds).
//!
//! The generated project (Python ≥ 3.11, the packages pinned in
//! `assets/runtimes/python-requirements.txt`):
//!
//! * `main.py` — `python main.py` starts uvicorn on `APIFORGE_LISTEN`
//!   (`unix:/abs/path.sock` or `host:port`, default `127.0.0.1:8000`);
//! * `app/` — `main.py` (the FastAPI app, `/health`), `db.py` (SQLite schema, created at
//!   start-up in `APIFORGE_DB`, default `app.db`), `crud.py` (generic persistence),
//!   `tables.py`, `models.py` (pydantic v2), `problems.py` (problem+json),
//!   `auth.py` (when the design has auth), `routers/<plural>.py`, `routers/actions.py`;
//! * `tests/` — a pytest suite (`python -m pytest` in the project directory) using
//!   FastAPI's TestClient against a fresh temporary database per test;
//! * `requirements.txt`, `pyproject.toml`, `README.md`, `.gitignore`.
//!
//! Custom action handlers (`ActionBehavior::Custom { fastapi }`) are pasted verbatim
//! (re-indented) as the body of
//! `def <name>(<path params>, db: Db, body: models.<Name>Input) -> <output>` in
//! `app/routers/actions.py`, where `crud`, `models`, `tables`, `Response` and
//! `ProblemError` are imported; `id` is an `int` path parameter.

mod literal;
mod project;
mod sample;

use std::sync::LazyLock;

use minijinja::value::Serde;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

use super::{CodegenError, GeneratedFiles};
use crate::design::ApiDesign;
use project::{Project, Res, Suite};

/// Every template, by name; embedded so the binary is self-contained.
const TEMPLATES: [(&str, &str); 23] = [
    (
        "main.py",
        include_str!("../../assets/codegen/fastapi/main.py.j2"),
    ),
    (
        "app/__init__.py",
        include_str!("../../assets/codegen/fastapi/app/__init__.py.j2"),
    ),
    (
        "app/main.py",
        include_str!("../../assets/codegen/fastapi/app/main.py.j2"),
    ),
    (
        "app/db.py",
        include_str!("../../assets/codegen/fastapi/app/db.py.j2"),
    ),
    (
        "app/crud.py",
        include_str!("../../assets/codegen/fastapi/app/crud.py.j2"),
    ),
    (
        "app/problems.py",
        include_str!("../../assets/codegen/fastapi/app/problems.py.j2"),
    ),
    (
        "app/auth.py",
        include_str!("../../assets/codegen/fastapi/app/auth.py.j2"),
    ),
    (
        "app/models.py",
        include_str!("../../assets/codegen/fastapi/app/models.py.j2"),
    ),
    (
        "app/tables.py",
        include_str!("../../assets/codegen/fastapi/app/tables.py.j2"),
    ),
    (
        "app/routers/__init__.py",
        include_str!("../../assets/codegen/fastapi/app/routers/__init__.py.j2"),
    ),
    (
        "app/routers/resource.py",
        include_str!("../../assets/codegen/fastapi/app/routers/resource.py.j2"),
    ),
    (
        "app/routers/actions.py",
        include_str!("../../assets/codegen/fastapi/app/routers/actions.py.j2"),
    ),
    (
        "tests/__init__.py",
        include_str!("../../assets/codegen/fastapi/tests/__init__.py.j2"),
    ),
    (
        "tests/conftest.py",
        include_str!("../../assets/codegen/fastapi/tests/conftest.py.j2"),
    ),
    (
        "tests/support.py",
        include_str!("../../assets/codegen/fastapi/tests/support.py.j2"),
    ),
    (
        "tests/test_resource.py",
        include_str!("../../assets/codegen/fastapi/tests/test_resource.py.j2"),
    ),
    (
        "tests/test_health.py",
        include_str!("../../assets/codegen/fastapi/tests/test_health.py.j2"),
    ),
    (
        "tests/test_auth.py",
        include_str!("../../assets/codegen/fastapi/tests/test_auth.py.j2"),
    ),
    (
        "tests/test_actions.py",
        include_str!("../../assets/codegen/fastapi/tests/test_actions.py.j2"),
    ),
    (
        "requirements.txt",
        include_str!("../../assets/codegen/fastapi/requirements.txt.j2"),
    ),
    (
        "pyproject.toml",
        include_str!("../../assets/codegen/fastapi/pyproject.toml.j2"),
    ),
    (
        "README.md",
        include_str!("../../assets/codegen/fastapi/README.md.j2"),
    ),
    (
        ".gitignore",
        include_str!("../../assets/codegen/fastapi/gitignore.j2"),
    ),
];

/// Templates rendered once per project, in the order they are written.
const PROJECT_FILES: [&str; 13] = [
    "main.py",
    "app/__init__.py",
    "app/main.py",
    "app/db.py",
    "app/crud.py",
    "app/problems.py",
    "app/models.py",
    "app/tables.py",
    "app/routers/__init__.py",
    "tests/__init__.py",
    "tests/conftest.py",
    "tests/support.py",
    "tests/test_health.py",
];

static ENVIRONMENT: LazyLock<Result<Environment<'static>, String>> = LazyLock::new(|| {
    let mut env = Environment::new();
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
        .map_err(|e| e.to_string())?;
    env.set_syntax(syntax);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .map_err(|e| format!("template {name}: {e:#}"))?;
    }
    Ok(env)
});

/// Renders every file of the FastAPI project for `design`. Same design, same bytes.
pub fn render(design: &ApiDesign) -> Result<GeneratedFiles, CodegenError> {
    let env = ENVIRONMENT
        .as_ref()
        .map_err(|message| CodegenError::Template {
            template: "(loading)".to_owned(),
            message: message.clone(),
        })?;
    let pins = crate::runtimes::python::pins()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let project = Project::new(design, pins)?;
    let mut files = GeneratedFiles::new();

    for name in PROJECT_FILES {
        files.insert(name.to_owned(), render_one(env, name, &project)?);
    }
    files.insert(
        ".gitignore".to_owned(),
        render_one(env, ".gitignore", &project)?,
    );
    files.insert(
        "README.md".to_owned(),
        render_one(env, "README.md", &project)?,
    );
    files.insert(
        "pyproject.toml".to_owned(),
        render_one(env, "pyproject.toml", &project)?,
    );
    files.insert(
        "requirements.txt".to_owned(),
        render_one(env, "requirements.txt", &project)?,
    );
    if project.auth.kind != "none" {
        files.insert(
            "app/auth.py".to_owned(),
            render_one(env, "app/auth.py", &project)?,
        );
        files.insert(
            "tests/test_auth.py".to_owned(),
            render_one(env, "tests/test_auth.py", &project)?,
        );
    }
    if !project.actions.is_empty() {
        files.insert(
            "app/routers/actions.py".to_owned(),
            render_one(env, "app/routers/actions.py", &project)?,
        );
    }
    if !project.action_tests.is_empty() {
        files.insert(
            "tests/test_actions.py".to_owned(),
            render_one(env, "tests/test_actions.py", &project)?,
        );
    }
    for r in &project.resources {
        let scoped = Scoped {
            project: &project,
            r,
            t: &r.tests,
        };
        files.insert(
            format!("app/routers/{}.py", r.module),
            render_one(env, "app/routers/resource.py", &scoped)?,
        );
        files.insert(
            format!("tests/test_{}.py", r.plural),
            render_one(env, "tests/test_resource.py", &scoped)?,
        );
    }
    Ok(files)
}

/// The project context plus the resource a per-resource template is about.
#[derive(Serialize)]
struct Scoped<'a> {
    #[serde(flatten)]
    project: &'a Project,
    r: &'a Res,
    t: &'a Suite,
}

fn render_one<T: Serialize>(
    env: &Environment<'static>,
    name: &str,
    ctx: &T,
) -> Result<String, CodegenError> {
    let fail = |e: minijinja::Error| CodegenError::Template {
        template: name.to_owned(),
        message: format!("{e:#}"),
    };
    let template = env.get_template(name).map_err(fail)?;
    let text = template.render(Serde(ctx)).map_err(fail)?;
    // PEP 8 separates top-level definitions with two blank lines.
    Ok(super::tidy(&text, 2))
}
