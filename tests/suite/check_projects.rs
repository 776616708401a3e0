//! `apiforge check` end to end on real generated projects: FastAPI and Express
//! projects from several designs pass on both sandbox backends; bugs planted in the
//! generated code fail with reports naming the operation, the expectation and a
//! curl command; the CLI's exit codes, `--json` and `--keep`.

use crate::harness;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use apiforge::codegen::Framework;
use apiforge::codegen::project::render_project;
use apiforge::config::RuntimesConfig;
use apiforge::design::ApiDesign;
use apiforge::runtimes::{RuntimeKind, Runtimes, node};
use apiforge::sandbox::{Backend, Limits, Sandbox};
use apiforge::templates;
use apiforge::verify::project::{self, CheckSettings, PreparedRuntime, Project};
use apiforge::verify::{Report, TestStatus};

on_both_backends!(generated_projects_pass_check);

fn runtimes_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-runtimes")
}

fn runtimes_config() -> RuntimesConfig {
    RuntimesConfig {
        dir: PathBuf::new(),
        python: PathBuf::from("/usr/bin/python3"),
        node: PathBuf::from("/usr/bin/node"),
        pip_index_url: String::new(),
        npm_registry: String::new(),
    }
}

/// The prepared runtime for `framework`, installed once per test binary (needs the
/// package registries the first time on a machine).
pub(crate) fn runtime(framework: Framework) -> PreparedRuntime {
    static PYTHON: OnceLock<PreparedRuntime> = OnceLock::new();
    static NODE: OnceLock<PreparedRuntime> = OnceLock::new();
    let runtimes = Runtimes::at(runtimes_root(), &runtimes_config());
    match framework {
        Framework::Fastapi => PYTHON
            .get_or_init(|| {
                let status = runtimes
                    .install(RuntimeKind::Python, &mut |l| {
                        eprintln!("python runtime: {l}")
                    })
                    .expect("the Python runtime installs");
                PreparedRuntime::Python {
                    venv: status.dir,
                    python: status.interpreter,
                }
            })
            .clone(),
        Framework::Express => NODE
            .get_or_init(|| {
                let status = runtimes
                    .install(RuntimeKind::Node, &mut |l| eprintln!("node runtime: {l}"))
                    .expect("the Node runtime installs");
                let node::NodeRuntimeStatus::Installed { runtime } = node::status(&runtimes_root())
                else {
                    panic!("the node runtime is missing after installing it");
                };
                PreparedRuntime::Node {
                    node: status.interpreter,
                    node_modules: runtime.node_modules,
                }
            })
            .clone(),
    }
}

pub(crate) fn fixture(name: &str) -> ApiDesign {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/designs")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).expect("fixture is readable");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn template(name: &str) -> ApiDesign {
    templates::all()
        .into_iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no template {name}"))
        .design
}

/// Writes the generated project for `design` into a fresh directory.
pub(crate) fn write_project(design: &ApiDesign, framework: Framework) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = render_project(design, framework).expect("the design renders");
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("files live in a folder")).expect("mkdir");
        std::fs::write(&path, text).expect("write file");
    }
    dir
}

fn limits() -> Limits {
    Limits {
        wall: Duration::from_secs(180),
        ..Limits::default()
    }
}

pub(crate) async fn check_dir(sandbox: &Sandbox, dir: &Path) -> Report {
    let project = Project::load(dir).expect("the project loads");
    let runtime = runtime(project.framework);
    let run = project::check(sandbox, &project, &runtime, CheckSettings::new(limits()))
        .await
        .expect("the check runs");
    let report = run.report;
    run.workspace.remove().await.expect("workspace is removed");
    report
}

async fn generated_projects_pass_check(backend: Backend) {
    let root = tempfile::tempdir().expect("tempdir");
    let Some(sandbox) = harness::open(backend, root.path()).await else {
        return;
    };
    let both = &Framework::ALL[..];
    let designs = [
        ("template todo", template("todo"), both),
        ("template blog", template("blog"), both),
        (
            "relation_chain",
            fixture("relation_chain"),
            &[Framework::Express][..],
        ),
        ("jwt_auth", fixture("jwt_auth"), both),
        ("api_key_auth", fixture("api_key_auth"), both),
        ("every_field_type", fixture("every_field_type"), both),
    ];
    for (name, design, frameworks) in &designs {
        for &framework in *frameworks {
            let dir = write_project(design, framework);
            let report = check_dir(&sandbox, dir.path()).await;
            assert!(
                report.passed(),
                "{name} ({framework}, {backend}) failed:\n{}",
                report.render_text()
            );
            let native = report.native.as_ref().expect("native tests ran");
            assert!(
                native.tests.len() >= 10,
                "{name} ({framework}): only {} native tests",
                native.tests.len()
            );
            assert!(native.tests.iter().all(|t| t.status == TestStatus::Passed));
            assert!(
                report.totals.contract_passed >= 30,
                "{name} ({framework}): only {} contract checks",
                report.totals.contract_passed
            );
        }
    }
}

/// Replaces `from` with `to` in `file` of the project, failing when `from` is absent
/// (so a generator change cannot silently un-plant the bug).
fn plant(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).expect("file to plant in exists");
    assert!(text.contains(from), "{file} no longer contains {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).expect("write");
}

async fn planted(framework: Framework, file: &str, from: &str, to: &str) -> Report {
    let root = tempfile::tempdir().expect("tempdir");
    let sandbox = harness::open(Backend::Process, root.path())
        .await
        .expect("process backend opens");
    let dir = write_project(&template("todo"), framework);
    plant(dir.path(), file, from, to);
    check_dir(&sandbox, dir.path()).await
}

/// The operations of the failed contract checks.
fn failed_operations(report: &Report) -> Vec<String> {
    let mut ops: Vec<String> = report
        .contract
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.operation.clone())
        .collect();
    ops.dedup();
    ops
}

const FASTAPI_TASKS: &str = "app/routers/tasks.py";
const EXPRESS_TASKS: &str = "src/routes/tasks.js";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fastapi_wrong_status_code_fails_precisely() {
    let report = planted(
        Framework::Fastapi,
        FASTAPI_TASKS,
        r#"@router.post("", status_code=201"#,
        r#"@router.post("", status_code=200"#,
    )
    .await;
    assert!(!report.passed());
    assert_eq!(
        failed_operations(&report),
        ["create_task"],
        "{}",
        report.render_text()
    );
    let check = report
        .contract
        .iter()
        .find(|c| !c.passed && c.name == "create with a valid body → 201")
        .unwrap_or_else(|| panic!("{}", report.render_text()));
    assert!(
        check.got.contains("status 200 instead of 201"),
        "{}",
        check.got
    );
    assert!(
        check.curl.contains("-X POST --unix-socket"),
        "{}",
        check.curl
    );
    assert!(
        check.curl.contains("'http://localhost/tasks'"),
        "{}",
        check.curl
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fastapi_missing_field_and_crash_fail_precisely() {
    let report = planted(
        Framework::Fastapi,
        FASTAPI_TASKS,
        "    return Task.model_validate(crud.get(db, TASKS, id))",
        "    item = dict(crud.get(db, TASKS, id))\n    item.pop(\"title\")\n    return Response(content=__import__(\"json\").dumps(item, default=str), media_type=\"application/json\")",
    )
    .await;
    assert_eq!(
        failed_operations(&report),
        ["get_task"],
        "{}",
        report.render_text()
    );
    assert!(
        report
            .contract
            .iter()
            .filter(|c| !c.passed)
            .all(|c| c.got.contains("\"title\" is a required property")),
        "{}",
        report.render_text()
    );
    let report = planted(
        Framework::Fastapi,
        FASTAPI_TASKS,
        "    crud.delete(db, TASKS, id)",
        "    raise RuntimeError(\"planted crash\")",
    )
    .await;
    let text = report.render_text();
    let delete = report
        .contract
        .iter()
        .find(|c| c.operation == "delete_task" && c.name == "delete → 204")
        .unwrap_or_else(|| panic!("{text}"));
    assert!(!delete.passed, "{text}");
    assert!(delete.got.contains("status 500 instead of 204"), "{text}");
    for op in failed_operations(&report) {
        assert!(
            op == "delete_task" || op == "get_task",
            "{op} failed:\n{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn express_schema_violation_and_wrong_status_fail_precisely() {
    let report = planted(
        Framework::Express,
        EXPRESS_TASKS,
        "    res.json(tasks.list(parseListQuery(resource, req.query)));",
        "    const page = tasks.list(parseListQuery(resource, req.query));\n    res.json({ ...page, total: String(page.total) });",
    )
    .await;
    assert_eq!(
        failed_operations(&report),
        ["list_tasks"],
        "{}",
        report.render_text()
    );
    assert!(
        report.contract.iter().filter(|c| !c.passed).all(|c| c
            .got
            .contains("body at /total violates the schema /components/schemas/TaskList")),
        "{}",
        report.render_text()
    );
    let report = planted(
        Framework::Express,
        EXPRESS_TASKS,
        "res.status(201).location(`/tasks/${task.id}`)",
        "res.status(200).location(`/tasks/${task.id}`)",
    )
    .await;
    assert_eq!(
        failed_operations(&report),
        ["create_task"],
        "{}",
        report.render_text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn express_missing_field_fails_precisely() {
    let report = planted(
        Framework::Express,
        EXPRESS_TASKS,
        "    res.json(tasks.get(parseId(req.params.id)));",
        "    const { title, ...rest } = tasks.get(parseId(req.params.id));\n    res.json(rest);",
    )
    .await;
    assert_eq!(
        failed_operations(&report),
        ["get_task"],
        "{}",
        report.render_text()
    );
}

#[test]
fn cli_exit_codes_json_and_keep() {
    let home = tempfile::tempdir().expect("tempdir");
    // Share the runtimes the other tests install instead of installing again.
    let cache = home.path().join("cache");
    std::fs::create_dir_all(&cache).expect("mkdir");
    let _ = runtime(Framework::Fastapi);
    std::os::unix::fs::symlink(runtimes_root(), cache.join("runtimes")).expect("link runtimes");
    let bin = env!("CARGO_BIN_EXE_apiforge");
    let run = |args: &[&str]| {
        std::process::Command::new(bin)
            .args(args)
            .env("APIFORGE_HOME", home.path())
            .output()
            .expect("apiforge runs")
    };
    // Bad input: not a project.
    let empty = tempfile::tempdir().expect("tempdir");
    let out = run(&["check", &empty.path().display().to_string()]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("neither openapi.json nor apiforge.json")
    );

    let dir = write_project(&template("todo"), Framework::Fastapi);
    let path = dir.path().display().to_string();
    let out = run(&["check", &path, "--json", "--keep"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report: Report = serde_json::from_slice(&out.stdout).expect("stdout is a JSON report");
    assert!(report.passed());
    assert_eq!(report.framework.as_deref(), Some("fastapi"));
    let kept = stderr
        .lines()
        .find_map(|l| l.strip_prefix("workspace kept in "))
        .unwrap_or_else(|| panic!("no kept path in: {stderr}"));
    assert!(Path::new(kept).join("main.py").is_file(), "{kept}");
    assert!(
        Path::new(kept).join(".apiforge-native.xml").is_file(),
        "{kept}"
    );

    plant(
        dir.path(),
        FASTAPI_TASKS,
        r#"@router.post("", status_code=201"#,
        r#"@router.post("", status_code=200"#,
    );
    let out = run(&["check", &path]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL create_task: create with a valid body → 201"),
        "{stdout}"
    );
    assert!(
        stdout.contains("reproduce: curl -sS -i -X POST --unix-socket"),
        "{stdout}"
    );
    assert!(stdout.trim_end().ends_with("FAILED"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_gets_healthy_is_reported_with_its_last_output() {
    let root = tempfile::tempdir().expect("tempdir");
    let sandbox = harness::open(Backend::Process, root.path())
        .await
        .expect("process backend opens");
    let dir = write_project(&template("todo"), Framework::Fastapi);
    std::fs::write(
        dir.path().join("main.py"),
        "import time\nprint('warming the cache forever', flush=True)\ntime.sleep(600)\n",
    )
    .expect("write main.py");
    let project = Project::load(dir.path()).expect("the project loads");
    let settings = CheckSettings {
        health_timeout: Duration::from_secs(2),
        native: false,
        ..CheckSettings::new(limits())
    };
    let run = project::check(&sandbox, &project, &runtime(Framework::Fastapi), settings)
        .await
        .expect("the check runs");
    let report = run.report;
    run.workspace.remove().await.expect("workspace is removed");
    assert!(!report.passed());
    assert!(report.contract.is_empty());
    let error = report.errors.first().map(String::as_str).unwrap_or("");
    assert!(error.contains("did not answer GET /health"), "{error}");
    assert!(error.contains("warming the cache forever"), "{error}");
    assert!(
        report
            .render_text()
            .contains("ERROR the server did not answer")
    );
}
