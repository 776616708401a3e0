//! Every fixture design in `tests/fixtures/designs/`, scaffolded for both frameworks
//! and run through the same check as `apiforge check` (process sandbox): the
//! project's own test suite and the contract tests must all pass. One test per
//! design and framework, so a failure names its case; a guard test fails when a
//! fixture is added without a case here.

use std::path::Path;

use apiforge::codegen::Framework;
use apiforge::sandbox::Backend;
use apiforge::verify::TestStatus;

use crate::check_projects::{check_dir, fixture, write_project};
use crate::harness;

/// Scaffolds `design` for `framework`, checks it, and fails with the full report
/// unless the native tests and the contract tests all pass.
async fn passes(design: &str, framework: Framework) {
    let root = tempfile::tempdir().expect("tempdir");
    let sandbox = harness::open(Backend::Process, root.path())
        .await
        .expect("the process backend opens");
    let dir = write_project(&fixture(design), framework);
    let report = check_dir(&sandbox, dir.path()).await;
    let text = report.render_text();
    assert!(report.passed(), "{design} ({framework}) failed:\n{text}");
    let native = report
        .native
        .as_ref()
        .unwrap_or_else(|| panic!("{design} ({framework}): native tests did not run\n{text}"));
    assert!(
        !native.tests.is_empty() && native.tests.iter().all(|t| t.status == TestStatus::Passed),
        "{design} ({framework}): native tests not all passed\n{text}"
    );
    assert!(
        report.totals.contract_passed > 0 && report.totals.contract_failed == 0,
        "{design} ({framework}): contract checks did not pass\n{text}"
    );
}

/// One module per fixture with a test per framework; `CASES` lists them for the guard.
macro_rules! fixture_cases {
    ($($design:ident),+ $(,)?) => {
        const CASES: &[&str] = &[$(stringify!($design)),+];
        $(
            mod $design {
                use apiforge::codegen::Framework;

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn fastapi() {
                    super::passes(stringify!($design), Framework::Fastapi).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn express() {
                    super::passes(stringify!($design), Framework::Express).await;
                }
            }
        )+
    };
}

fixture_cases!(
    api_key_auth,
    constraints,
    diamond_relations,
    enums,
    every_field_type,
    jwt_auth,
    one_resource,
    optional_set_null,
    relation_chain,
    set_field_action,
    shadowing_names,
    ten_resources,
);

#[test]
fn every_fixture_design_has_a_case() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/designs");
    let mut designs: Vec<String> = std::fs::read_dir(&dir)
        .expect("the fixture folder is readable")
        .map(|entry| entry.expect("a readable entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .filter_map(|path| Some(path.file_stem()?.to_str()?.to_owned()))
        .collect();
    designs.sort();
    let mut cases: Vec<&str> = CASES.to_vec();
    cases.sort_unstable();
    assert_eq!(
        designs,
        cases,
        "add every design in {} to fixture_cases!",
        dir.display()
    );
}
