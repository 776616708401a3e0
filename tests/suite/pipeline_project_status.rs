//! A follow-up job (`iterate`, `save`) sets its project `running`; when the job fails
//! the project must not stay `running`, it gets back the status of its latest version.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use serde_json::Value;
use support::ApiforgeHome;

fn project_status(home: &ApiforgeHome, slug: &str) -> Value {
    let projects = home.json(&["projects", "--json"]);
    projects
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["slug"] == slug)
        .cloned()
        .unwrap_or_else(|| panic!("no project {slug}: {projects}"))
}

/// A project with one passing version.
fn library() -> ApiforgeHome {
    let home = ApiforgeHome::new();
    home.json(&["runtimes", "install", "--json"]);
    let first = home.json(&[
        "new",
        "Books with title and author",
        "--name",
        "library",
        "--json",
    ]);
    assert_eq!(first["state"], "succeeded", "{first}");
    assert_eq!(project_status(&home, "library")["status"], "passing");
    home
}

/// The job ended `failed`, and the project is back to its latest version's status.
fn assert_settled(home: &ApiforgeHome, out: &std::process::Output) {
    let job: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(job["state"], "failed", "{job}");
    let project = project_status(home, "library");
    assert_eq!(project["status"], "passing", "{project}");
    assert_eq!(
        project["latest_version"], 1,
        "no version was added: {project}"
    );
}

#[test]
fn an_iterate_whose_follow_up_cannot_be_read_leaves_the_project_not_running() {
    let home = library();
    let out = home.run(&["iterate", "library", "zxqv plorb wuggle", "--json"]);
    assert_settled(&home, &out);
}

#[test]
fn a_failing_save_leaves_the_project_not_running() {
    let home = library();
    let dir = tempfile::tempdir().unwrap();
    let edited = dir.path().join("library");
    let export = home.run(&["export", "library", "--out", edited.to_str().unwrap()]);
    assert!(export.status.success(), "{export:?}");
    // The edited contract is no longer JSON: the check cannot load the project.
    std::fs::write(edited.join("openapi.json"), "{ not json").unwrap();
    let out = home.run(&["save", "library", edited.to_str().unwrap(), "--json"]);
    assert_settled(&home, &out);
}
