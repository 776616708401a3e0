//! The product's main flow through the real binary, on an embedded cluster, real
//! runtimes and the process sandbox: `new` → a version whose checks passed, then the
//! history commands and `test`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use serde_json::Value;
use support::ApiforgeHome;

fn new_project(home: &ApiforgeHome, framework: &str, prompt: &str) -> Value {
    let out = home.json(&["new", prompt, "--framework", framework, "--json"]);
    assert_eq!(out["state"], "succeeded", "{out}");
    out
}

#[test]
fn new_makes_a_passing_first_version_and_history_commands_work() {
    let home = ApiforgeHome::new();
    home.json(&["runtimes", "install", "--json"]);
    for (framework, prompt, slug) in [
        (
            "fastapi",
            "Bookstore API with books (title, isbn unique, price, stock) and publishers (name, country). Each book belongs to a publisher. Paginate books and search books by title.",
            "bookstore",
        ),
        (
            "express",
            "A task manager API: tasks with a title, notes, a priority (low, normal, high), a due date and a completed flag. Filter tasks by priority and completed.",
            "task-manager",
        ),
    ] {
        let out = new_project(&home, framework, prompt);
        let output = &out["output"];
        assert_eq!(output["version"], 1, "{out}");
        assert_eq!(output["check_status"], "passing", "{out}");
        let totals = &output["totals"];
        assert!(
            totals["native_passed"].as_u64().unwrap() > 10,
            "the project's own tests ran: {totals}"
        );
        assert_eq!(totals["native_failed"], 0);
        assert!(
            totals["contract_passed"].as_u64().unwrap() > 10,
            "contract tests ran: {totals}"
        );
        assert_eq!(totals["contract_failed"], 0);

        let versions = home.json(&["versions", slug, "--json"]);
        assert_eq!(versions.as_array().unwrap().len(), 1, "{versions}");
        assert_eq!(versions[0]["check_status"], "passing");
        let files = home.json(&["files", slug, "--json"]);
        let paths: Vec<&str> = files
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap())
            .collect();
        let entry = if framework == "fastapi" {
            "main.py"
        } else {
            "server.js"
        };
        assert!(
            paths.contains(&entry) && paths.contains(&"openapi.json"),
            "{paths:?}"
        );
        let design = home.run(&["files", slug, "apiforge.json"]);
        let design: Value = serde_json::from_slice(&design.stdout).unwrap();
        assert!(!design["resources"].as_array().unwrap().is_empty());

        // Restore makes a new version equal to the old one; history is kept.
        let restored = home.json(&["restore", slug, "1", "--json"]);
        assert_eq!(restored["number"], 2);
        let diff = home.json(&["diff", slug, "1", "2", "--json"]);
        assert!(diff["files"].as_array().unwrap().is_empty(), "{diff}");
        assert!(
            diff["design"]["changes"].as_array().unwrap().is_empty(),
            "{diff}"
        );
        assert_eq!(
            home.json(&["versions", slug, "--json"])
                .as_array()
                .unwrap()
                .len(),
            2
        );

        // The restored version is checked again on request.
        let tested = home.json(&["test", slug, "--json"]);
        assert_eq!(tested["output"]["version"], 2, "{tested}");
        assert_eq!(tested["output"]["check_status"], "passing", "{tested}");
    }
    let projects = home.json(&["projects", "--json"]);
    let statuses: Vec<(&str, &str, i64)> = projects
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["slug"].as_str().unwrap(),
                p["status"].as_str().unwrap(),
                p["latest_version"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(
        statuses.contains(&("bookstore", "passing", 2)),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&("task-manager", "passing", 2)),
        "{statuses:?}"
    );
    let jobs = home.json(&["jobs", "--all", "--json"]);
    assert_eq!(
        jobs.as_array().unwrap().len(),
        4,
        "two generate and two test jobs: {jobs}"
    );
}

#[test]
fn an_unrecognisable_prompt_fails_the_job_with_a_clear_error() {
    let home = ApiforgeHome::new();
    let out = home.run(&["new", "hello there", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["state"], "failed");
    assert!(
        report["error"].as_str().unwrap().contains("for example"),
        "{report}"
    );
    let projects = home.json(&["projects", "--json"]);
    assert_eq!(projects[0]["status"], "failing", "{projects}");
    // An empty prompt is refused before anything is created.
    let empty = home.run(&["new", "  "]);
    assert_eq!(empty.status.code(), Some(2));
    assert_eq!(
        home.json(&["projects", "--json"]).as_array().unwrap().len(),
        1
    );
}

#[test]
fn saved_hand_edits_become_tested_versions_and_show_in_stats() {
    let home = ApiforgeHome::new();
    home.json(&["runtimes", "install", "--json"]);
    new_project(
        &home,
        "fastapi",
        "a guestbook where visitors leave messages with their name",
    );
    let work = home.path().join("work");
    let written = home.json(&[
        "files",
        "guestbook",
        "--out",
        work.to_str().unwrap(),
        "--json",
    ]);
    assert!(written["files"].as_u64().unwrap() > 10, "{written}");

    // A harmless edit: a new version, tested, the file marked as edited.
    let readme = work.join("README.md");
    let text = std::fs::read_to_string(&readme).unwrap();
    std::fs::write(&readme, format!("{text}\nEdited by hand.\n")).unwrap();
    // Run-time artefacts next to the sources are not part of the version.
    std::fs::write(work.join("app.db"), "not a source").unwrap();
    let saved = home.json(&[
        "save",
        "guestbook",
        work.to_str().unwrap(),
        "-m",
        "notes in the README",
        "--json",
    ]);
    assert_eq!(saved["output"]["version"], 2, "{saved}");
    assert_eq!(saved["output"]["check_status"], "passing", "{saved}");
    let files = home.json(&["files", "guestbook", "--json"]);
    let entry = |path: &str| {
        files
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == path)
            .cloned()
    };
    assert_eq!(entry("README.md").unwrap()["generated"], false);
    assert_eq!(entry("main.py").unwrap()["generated"], true);
    assert!(entry("app.db").is_none());

    // A broken edit is recorded too, marked failing, and the command says so.
    let main = work.join("app/main.py");
    let code = std::fs::read_to_string(&main).unwrap();
    std::fs::write(&main, code.replacen("app = ", "app = = ", 1)).unwrap();
    let out = home.run(&["save", "guestbook", work.to_str().unwrap(), "--json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let broken: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(broken["output"]["version"], 3, "{broken}");
    assert_eq!(broken["output"]["check_status"], "failing", "{broken}");
    let versions = home.json(&["versions", "guestbook", "--json"]);
    let statuses: Vec<&str> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["check_status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["passing", "passing", "failing"]);

    let stats = home.json(&["stats", "--since", "1h", "--json"]);
    let group = |list: &str, name: &str| {
        stats[list]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{list} {name}: {stats}"))
    };
    assert_eq!(group("pipelines", "generate")["total"], 1);
    assert_eq!(group("pipelines", "save")["total"], 2);
    assert_eq!(group("frameworks", "fastapi")["total"], 3);
    assert_eq!(group("steps", "check")["total"], 3);
    assert!(group("steps", "check")["p50"].as_f64().unwrap() > 0.0);
    let bad = home.run(&["stats", "--since", "forever"]);
    assert_eq!(bad.status.code(), Some(2));
}

/// Every job of the home's user, finished or not.
fn all_jobs(home: &ApiforgeHome) -> Vec<Value> {
    home.json(&["jobs", "--all", "--json"])
        .as_array()
        .unwrap()
        .clone()
}

fn project_slugs(home: &ApiforgeHome) -> Vec<String> {
    let mut slugs: Vec<String> = home
        .json(&["projects", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["slug"].as_str().unwrap().to_owned())
        .collect();
    slugs.sort();
    slugs
}

#[test]
fn new_refuses_a_taken_name_unless_suffix_is_given() {
    let home = ApiforgeHome::new();
    let prompt = "a bakery API: products with name, price, stock";
    // Detached: the jobs stay queued, so what is counted is what `new` created.
    let first = home.json(&[
        "new",
        prompt,
        "--name",
        "Bakery",
        "--idempotency-key",
        "k1",
        "--detach",
        "--json",
    ]);
    assert_eq!(first["project"], "bakery");
    assert_eq!(all_jobs(&home).len(), 1);
    // A retry with the same key is the same project and job, not a taken name.
    let retried = home.json(&[
        "new",
        prompt,
        "--name",
        "Bakery",
        "--idempotency-key",
        "k1",
        "--detach",
        "--json",
    ]);
    assert_eq!(retried, first);
    assert_eq!(project_slugs(&home), ["bakery"]);
    assert_eq!(all_jobs(&home).len(), 1);

    // The same slug from another spelling of the name is taken too.
    for name in ["Bakery", "bakery!"] {
        let refused = home.run(&["new", prompt, "--name", name, "--detach", "--json"]);
        assert_eq!(refused.status.code(), Some(2), "--name {name}");
        assert!(refused.stdout.is_empty());
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(
            stderr.contains("you have a project named \"Bakery\" already (bakery")
                && stderr.contains("--suffix")
                && stderr.contains("another --name"),
            "{stderr}"
        );
        assert_eq!(project_slugs(&home), ["bakery"], "a row was created");
        assert_eq!(all_jobs(&home).len(), 1, "a job was created");
    }

    let suffixed = home.json(&[
        "new", prompt, "--name", "Bakery", "--suffix", "--detach", "--json",
    ]);
    assert_eq!(suffixed["project"], "bakery-2");
    // A name derived from the prompt is suffixed as before, without --suffix.
    let derived = home.json(&["new", prompt, "--detach", "--json"]);
    assert_eq!(derived["project"], "bakery-3");
    assert_eq!(project_slugs(&home), ["bakery", "bakery-2", "bakery-3"]);
    assert_eq!(all_jobs(&home).len(), 3);
}
