//! A worker process killed with SIGKILL in the middle of the sandbox step: another
//! worker resumes the job, reuses the completed steps and records exactly one version.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::process::{Child, Stdio};
use std::time::Duration;

use serde_json::Value;
use support::{ApiforgeHome, wait_until};

fn worker(home: &ApiforgeHome) -> Child {
    home.command()
        .args(["worker", "--concurrency", "2"])
        .env("APIFORGE_ENGINE_LEASE_SECS", "2")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn step_state(job: &Value, name: &str) -> Option<(String, i64)> {
    job["steps"]
        .as_array()?
        .iter()
        .find(|s| s["name"] == name)
        .map(|s| {
            (
                s["state"].as_str().unwrap_or_default().to_owned(),
                s["attempts"].as_i64().unwrap_or(0),
            )
        })
}

#[test]
fn a_killed_worker_is_resumed_and_the_version_is_recorded_once() {
    let home = ApiforgeHome::new();
    home.json(&["runtimes", "install", "--json"]);
    let submitted = home.json(&[
        "new",
        "Clinic scheduling: doctors (name, specialty), patients (name, date of birth, phone) and visits (scheduled at, reason, status scheduled/completed/cancelled). Visits belong to a doctor and a patient.",
        "--detach",
        "--json",
    ]);
    let job = submitted["job"].to_string();
    let mut first = worker(&home);
    wait_until(Duration::from_secs(60), "the check step to start", || {
        let detail = home.json(&["job", &job, "--json"]);
        step_state(&detail, "check").is_some_and(|(state, _)| state == "running")
    });
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(first.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    first.wait().unwrap();

    let mut second = worker(&home);
    let mut detail = Value::Null;
    wait_until(
        Duration::from_secs(120),
        "the job to finish on the second worker",
        || {
            detail = home.json(&["job", &job, "--json"]);
            detail["job"]["state"] != "queued" && detail["job"]["state"] != "running"
        },
    );
    let _ = second.kill();
    let _ = second.wait();

    assert_eq!(detail["job"]["state"], "succeeded", "{detail}");
    assert_eq!(detail["job"]["output"]["version"], 1, "{detail}");
    // Steps finished before the crash were reused, the interrupted one ran again.
    for step in ["start", "design", "spec", "code"] {
        assert_eq!(
            step_state(&detail, step),
            Some(("succeeded".into(), 1)),
            "{step}: {detail}"
        );
    }
    assert_eq!(
        step_state(&detail, "check"),
        Some(("succeeded".into(), 2)),
        "{detail}"
    );
    assert_eq!(
        step_state(&detail, "version"),
        Some(("succeeded".into(), 1)),
        "{detail}"
    );
    assert_eq!(detail["job"]["attempts"], 2, "claimed twice: {detail}");
    let versions = home.json(&["versions", "clinic-scheduling", "--json"]);
    assert_eq!(
        versions.as_array().unwrap().len(),
        1,
        "exactly one version: {versions}"
    );
    let events: Vec<String> = detail["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{} {} {}", e["kind"], e["step"], e["message"]))
        .collect();
    assert_eq!(versions[0]["check_status"], "passing", "{events:#?}");
}
