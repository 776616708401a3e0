//! Cancelling a job while its sandbox runs: the job ends `cancelled` and no sandboxed
//! process is left. (Its own test binary: it looks at every sandboxed process.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use support::{ApiforgeHome, wait_until};

/// Processes running in a sandbox workspace (their working directory is /workspace
/// in their mount namespace).
fn sandboxed_processes() -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/cwd"))
                .is_ok_and(|cwd| cwd.starts_with("/workspace"))
        })
        .collect()
}

#[test]
fn cancelling_during_the_check_kills_the_sandbox() {
    let home = ApiforgeHome::new();
    home.json(&["runtimes", "install", "--json"]);
    let mut worker = home
        .command()
        .args(["worker"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Ten resources: a check long enough to cancel in the middle of.
    let submitted = home.json(&[
        "new",
        "Invoicing: clients (company name, contact email, vat number), invoices (number unique, issue date, due date, status draft/sent/paid/overdue, total amount) and invoice lines (description, quantity, unit price); products (name, price), suppliers (name, email), warehouses (name, city), shipments (tracking number, shipped at), payments (amount, paid at), refunds (amount, reason), notes (body)",
        "--detach",
        "--json",
    ]);
    let job = submitted["job"].to_string();
    wait_until(
        Duration::from_secs(60),
        "sandboxed processes of the check",
        || {
            let detail: Value = home.json(&["job", &job, "--json"]);
            let checking = detail["steps"].as_array().is_some_and(|s| {
                s.iter()
                    .any(|s| s["name"] == "check" && s["state"] == "running")
            });
            checking && !sandboxed_processes().is_empty()
        },
    );
    let cancelled = home.json(&["cancel", &job, "--json"]);
    assert_eq!(cancelled["outcome"], "requested", "{cancelled}");
    let mut detail = Value::Null;
    wait_until(Duration::from_secs(30), "the job to end", || {
        detail = home.json(&["job", &job, "--json"]);
        detail["job"]["state"] != "running"
    });
    assert_eq!(detail["job"]["state"], "cancelled", "{detail}");
    wait_until(
        Duration::from_secs(10),
        "every sandboxed process to be gone",
        || sandboxed_processes().is_empty(),
    );
    let _ = worker.kill();
    let _ = worker.wait();
    let versions = home.json(&["versions", "invoicing", "--json"]);
    assert!(
        versions.as_array().unwrap().is_empty(),
        "a cancelled job records no version: {versions}"
    );
}
