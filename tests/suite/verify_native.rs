//! Native test suites run inside a real sandbox and come back per test.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use apiforge::codegen::GeneratedFiles;
use apiforge::config::Config;
use apiforge::sandbox::{Backend, Limits, Sandbox, WorkspaceSource};
use apiforge::verify::TestStatus;
use apiforge::verify::native::{self, NativeSuite};

const NODE_TESTS: &str = r#"
const test = require('node:test');
const assert = require('node:assert');
test('adds', () => assert.equal(1 + 1, 2));
test('compares', () => assert.equal(1, 2, 'one is not two'));
test('later', { skip: 'not written yet' }, () => {});
test.describe('notes', () => {
  test.it('reads the helper from NODE_PATH', () => {
    assert.equal(require('helper').answer, 42);
  });
});
"#;

fn limits() -> Limits {
    Limits {
        wall: Duration::from_secs(60),
        ..Limits::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_test_results_are_parsed_per_test() {
    let root = tempfile::tempdir().expect("tempdir");
    // A stand-in for the prepared node_modules: one package the tests require.
    let modules = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(modules.path().join("helper")).expect("mkdir");
    std::fs::write(
        modules.path().join("helper/index.js"),
        "module.exports = { answer: 42 };\n",
    )
    .expect("write helper");
    let sandbox = Sandbox::open(
        Backend::Process,
        &Config::defaults().sandbox,
        root.path().join("ws"),
    )
    .await
    .expect("process sandbox opens");
    let files: GeneratedFiles =
        BTreeMap::from([("test/notes.test.js".to_owned(), NODE_TESTS.to_owned())]);
    let workspace = sandbox
        .prepare(WorkspaceSource::Files(&files), &limits())
        .await
        .expect("workspace");
    let suite = NativeSuite::NodeTest {
        node: PathBuf::from("/usr/bin/node"),
        node_modules: modules.path().to_path_buf(),
    };
    let (results, _) = native::run(&sandbox, &workspace, &suite, limits(), None)
        .await
        .expect("node runs");
    let got: Vec<(&str, TestStatus)> = results
        .tests
        .iter()
        .map(|t| (t.name.as_str(), t.status))
        .collect();
    assert_eq!(
        got,
        [
            ("adds", TestStatus::Passed),
            ("compares", TestStatus::Failed),
            ("later", TestStatus::Skipped),
            (
                "notes > reads the helper from NODE_PATH",
                TestStatus::Passed
            ),
        ],
        "output:\n{}",
        results.output_tail.join("\n")
    );
    assert_eq!(results.exit_code, Some(1));
    let message = results.tests[1].message.as_deref().unwrap_or("");
    assert!(message.contains("one is not two"), "{message}");
    workspace.remove().await.expect("workspace removed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runner_that_cannot_start_reports_no_tests_and_its_output() {
    let root = tempfile::tempdir().expect("tempdir");
    let sandbox = Sandbox::open(
        Backend::Process,
        &Config::defaults().sandbox,
        root.path().join("ws"),
    )
    .await
    .expect("process sandbox opens");
    let workspace = sandbox
        .prepare(WorkspaceSource::Empty, &limits())
        .await
        .expect("workspace");
    let venv = tempfile::tempdir().expect("tempdir");
    let suite = NativeSuite::Pytest {
        python: venv.path().join("bin/python"),
        venv: venv.path().to_path_buf(),
    };
    let outcome = native::run(&sandbox, &workspace, &suite, limits(), None).await;
    match outcome {
        Ok((results, _)) => {
            assert!(results.tests.is_empty());
            assert_ne!(results.exit_code, Some(0));
            assert!(
                results
                    .output_tail
                    .iter()
                    .any(|l| l.contains("wrote no JUnit report")),
                "{:?}",
                results.output_tail
            );
        }
        Err(e) => assert!(e.to_string().contains("could not run"), "{e}"),
    }
    workspace.remove().await.expect("workspace removed");
}
