//! The contract checker against a real server in a real sandbox: a reference server
//! (tests/fixtures/verify/contract_server.py, driven by the same openapi.json) passes
//! every check for many designs; the same server with one planted bug fails with a
//! report naming the operation, the expectation and a curl command.

use crate::harness;

use std::path::PathBuf;
use std::time::Duration;

use apiforge::codegen::{GeneratedFiles, openapi};
use apiforge::design::ApiDesign;
use apiforge::sandbox::{Backend, Exec, Limits, Sandbox, Server, Workspace, WorkspaceSource};
use apiforge::templates;
use apiforge::verify::{ContractCheck, Credentials, contract};
use serde_json::Value;

on_both_backends!(reference_server_passes_every_check_for_every_design);

const SERVER: &str = include_str!("../fixtures/verify/contract_server.py");

fn design(name: &str) -> ApiDesign {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/designs")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).expect("fixture is readable");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn limits() -> Limits {
    Limits {
        wall: Duration::from_secs(120),
        ..harness::small_limits()
    }
}

/// The credentials the checker would choose for `spec`'s security scheme.
fn credentials_for(spec: &Value) -> Option<Credentials> {
    let schemes = spec.pointer("/components/securitySchemes")?.as_object()?;
    let (_, scheme) = schemes.iter().next()?;
    match scheme.get("type")?.as_str()? {
        "apiKey" => Some(Credentials::api_key(
            scheme.get("name")?.as_str()?,
            "API_KEY",
        )),
        _ => Some(Credentials::bearer_jwt("JWT_SECRET")),
    }
}

struct Running {
    server: Server,
    workspace: Workspace,
}

async fn start(
    sandbox: &Sandbox,
    spec: &Value,
    credentials: Option<&Credentials>,
    bug: Option<&str>,
) -> Running {
    let files = GeneratedFiles::from([
        ("openapi.json".to_owned(), openapi::to_json(spec)),
        ("server.py".to_owned(), SERVER.to_owned()),
    ]);
    let workspace = sandbox
        .prepare(WorkspaceSource::Files(&files), &limits())
        .await
        .expect("workspace is created");
    let mut exec = Exec::new("python3")
        .args(["server.py", "openapi.json"])
        .limits(limits());
    if let Some(creds) = credentials {
        let (var, value) = creds.server_env();
        exec = exec.env(var, value);
    }
    if let Some(bug) = bug {
        exec = exec.env("APIFORGE_BUG", bug);
    }
    let mut server = sandbox
        .start(&workspace, &exec, |_| {})
        .await
        .expect("server starts");
    server
        .wait_healthy(Duration::from_secs(20))
        .await
        .expect("server becomes healthy");
    Running { server, workspace }
}

async fn check(sandbox: &Sandbox, design: &ApiDesign, bug: Option<&str>) -> Vec<ContractCheck> {
    let spec = openapi::build(design);
    let credentials = credentials_for(&spec);
    let running = start(sandbox, &spec, credentials.as_ref(), bug).await;
    let checks = contract::run(&running.server.client(), &spec, credentials.as_ref())
        .await
        .expect("the spec drives contract tests");
    let _ = running.server.stop().await;
    running
        .workspace
        .remove()
        .await
        .expect("workspace is removed");
    checks
}

fn failures(checks: &[ContractCheck]) -> Vec<&ContractCheck> {
    checks.iter().filter(|c| !c.passed).collect()
}

fn render(checks: &[&ContractCheck]) -> String {
    checks
        .iter()
        .map(|c| {
            format!(
                "{}: {}\n  request: {}\n  expected: {}\n  got: {}\n  curl: {}",
                c.operation, c.name, c.request, c.expected, c.got, c.curl
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

async fn reference_server_passes_every_check_for_every_design(backend: Backend) {
    let root = tempfile::tempdir().expect("tempdir");
    let Some(sandbox) = harness::open(backend, root.path()).await else {
        return;
    };
    let mut designs: Vec<(String, ApiDesign)> = [
        "one_resource",
        "relation_chain",
        "api_key_auth",
        "jwt_auth",
        "every_field_type",
        "constraints",
        "enums",
        "optional_set_null",
        "set_field_action",
    ]
    .iter()
    .map(|n| ((*n).to_owned(), design(n)))
    .collect();
    designs.extend(
        templates::all()
            .into_iter()
            .map(|t| (t.name.to_owned(), t.design)),
    );
    for (name, design) in designs {
        let checks = check(&sandbox, &design, None).await;
        let failed = failures(&checks);
        assert!(
            failed.is_empty(),
            "{name}: {} of {} checks failed:\n{}",
            failed.len(),
            checks.len(),
            render(&failed)
        );
        assert!(
            checks.len() >= 20,
            "{name}: only {} checks ran",
            checks.len()
        );
    }
}

async fn process_sandbox(root: &std::path::Path) -> Sandbox {
    harness::open(Backend::Process, root)
        .await
        .expect("the process backend always opens")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checks_cover_crud_validation_lists_and_run_in_a_fixed_order() {
    let root = tempfile::tempdir().expect("tempdir");
    let sandbox = process_sandbox(root.path()).await;
    let design = design("relation_chain");
    let first = check(&sandbox, &design, None).await;
    let names: Vec<String> = first
        .iter()
        .map(|c| format!("{}: {}", c.operation, c.name))
        .collect();
    for expected in [
        "create_customer: create with a valid body → 201",
        "get_customer: get the created one → 200",
        "list_customers: list contains the created one",
        "replace_customer: replace → 200",
        "patch_customer: patch one field → 200",
        "delete_customer: delete → 204",
        "get_customer: get after delete → 404",
        "create_customer: malformed JSON → 422",
        "create_customer: duplicate unique \"email\" → 409",
        "create_order: missing required field \"customer_id\" → 422",
        "create_order: \"customer_id\" names no existing parent → 409",
        "create_order_item: \"quantity\" below minimum 1 → 422",
        "get_order: unknown id → 404",
        "list_orders: limit=0 → 422",
        "list_orders: sort=-id",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "no check {expected:?} among:\n{}",
            names.join("\n")
        );
    }
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("list_orders: filter customer_id=")),
        "the customer_id filter is not exercised:\n{}",
        names.join("\n")
    );
    // The order's customer is created first.
    let order = names
        .iter()
        .position(|n| n == "create_order: create with a valid body → 201")
        .expect("orders are created");
    assert!(
        names[..order]
            .iter()
            .any(|n| n == "create_customer: create (as a parent)")
    );
    let second = check(&sandbox, &design, None).await;
    let again: Vec<String> = second
        .iter()
        .map(|c| format!("{} {}", c.operation, c.request))
        .collect();
    let once: Vec<String> = first
        .iter()
        .map(|c| format!("{} {}", c.operation, c.request))
        .collect();
    assert_eq!(once, again, "two runs send different requests");
}

async fn failed_for_bug(bug: &str) -> (Vec<ContractCheck>, String) {
    let root = tempfile::tempdir().expect("tempdir");
    let sandbox = process_sandbox(root.path()).await;
    let checks = check(&sandbox, &design("one_resource"), Some(bug)).await;
    let failed: Vec<ContractCheck> = failures(&checks).into_iter().cloned().collect();
    let text = render(&failed.iter().collect::<Vec<_>>());
    (failed, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_status_code_is_reported_with_operation_expectation_and_curl() {
    let (failed, text) = failed_for_bug("wrong_status").await;
    let first = failed.first().unwrap_or_else(|| panic!("nothing failed"));
    assert_eq!(first.operation, "create_book", "{text}");
    assert!(first.expected.starts_with("status 201"), "{text}");
    assert!(first.got.contains("status 200 instead of 201"), "{text}");
    assert!(
        first
            .curl
            .starts_with("curl -sS -i -X POST --unix-socket '")
            && first.curl.contains("app.sock' 'http://localhost/books'")
            && first.curl.contains("--data-raw '{"),
        "{text}"
    );
    // Only creates fail: the rest of the API is right.
    assert!(
        failed.iter().all(|c| c.operation == "create_book"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_field_is_reported_against_the_schema() {
    let (failed, text) = failed_for_bug("missing_field").await;
    assert!(!failed.is_empty(), "nothing failed");
    assert!(failed.iter().all(|c| c.operation == "get_book"), "{text}");
    assert!(
        failed
            .iter()
            .all(|c| c.got.contains("\"updated_at\" is a required property")),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_violating_response_names_the_bad_value() {
    let (failed, text) = failed_for_bug("bad_schema").await;
    assert!(!failed.is_empty(), "nothing failed");
    assert!(failed.iter().all(|c| c.operation == "list_books"), "{text}");
    assert!(
        failed.iter().all(|c| c
            .got
            .contains("body at /total violates the schema /components/schemas/BookList")),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashing_route_is_reported_without_stopping_the_run() {
    let (failed, text) = failed_for_bug("crash").await;
    assert!(!failed.is_empty(), "nothing failed");
    // Deletes get no answer, so the book is still there afterwards.
    for c in &failed {
        match c.operation.as_str() {
            "delete_book" => assert!(c.got.starts_with("no response"), "{text}"),
            "get_book" => assert!(c.got.contains("status 200 instead of 404"), "{text}"),
            other => panic!("{other} should not fail:\n{text}"),
        }
    }
    assert!(
        failed
            .iter()
            .any(|c| c.curl.contains("-X DELETE --unix-socket")),
        "{text}"
    );
}
