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

/// Holds a worker inside `step` of every job: a trigger makes the step's completion
/// wait on an advisory lock the test holds, so the step has begun (its row is
/// `running`) and cannot finish until the test lets go.
struct StepGate {
    rt: tokio::runtime::Runtime,
    conn: sqlx::PgConnection,
}

const GATE_KEY: i64 = 7_270_963;

impl StepGate {
    fn close(home: &ApiforgeHome, step: &str) -> Self {
        use sqlx::Connection;
        let urls = home.json(&["db", "url", "--json"]);
        let owner_url = urls["owner_url"].as_str().unwrap().to_owned();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let conn = rt.block_on(async {
            let mut conn = sqlx::PgConnection::connect(&owner_url).await.unwrap();
            sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(GATE_KEY)
                .execute(&mut conn)
                .await
                .unwrap();
            // `step` is one of the test's own step names.
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "CREATE FUNCTION test_step_gate() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN
                     IF NEW.name = '{step}' AND NEW.state = 'succeeded' THEN
                         PERFORM pg_advisory_xact_lock({GATE_KEY});
                     END IF;
                     RETURN NEW;
                 END $$;
                 CREATE TRIGGER test_step_gate BEFORE UPDATE ON job_steps
                     FOR EACH ROW EXECUTE FUNCTION test_step_gate();"
            )))
            .execute(&mut conn)
            .await
            .unwrap();
            conn
        });
        Self { rt, conn }
    }

    /// Whether a worker is waiting at the gate inside `step` of `job`.
    fn holds(&mut self, job: i64, step: &str) -> bool {
        self.rt.block_on(async {
            let (waiting, state): (i64, Option<String>) = sqlx::query_as(
                "SELECT (SELECT count(*) FROM pg_locks
                         WHERE locktype = 'advisory' AND objid = $1 AND NOT granted),
                        (SELECT state FROM job_steps WHERE job_id = $2 AND name = $3)",
            )
            .bind(GATE_KEY)
            .bind(job)
            .bind(step)
            .fetch_one(&mut self.conn)
            .await
            .unwrap();
            waiting == 1 && state.as_deref() == Some("running")
        })
    }

    /// Lets the held completion and every later one through. (The trigger stays:
    /// dropping it would wait on the held backend's lock on `job_steps`.)
    fn open(mut self) {
        self.rt.block_on(async {
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(GATE_KEY)
                .execute(&mut self.conn)
                .await
                .unwrap();
        });
    }
}

/// kill -9 of the worker inside a step that is allowed one attempt (the rules
/// provider's `design`, `spec`, `code`): the interruption is not a failed attempt, so
/// a second worker runs the step again and the project gets its version.
fn killed_inside_a_single_attempt_step(step: &str) {
    let home = ApiforgeHome::new();
    home.json(&["runtimes", "install", "--json"]);
    let submitted = home.json(&[
        "new",
        "Books with title, author and published year",
        "--name",
        "library",
        "--detach",
        "--json",
    ]);
    let job = submitted["job"].as_i64().unwrap();
    let mut gate = StepGate::close(&home, step);
    let mut first = worker(&home);
    wait_until(
        Duration::from_secs(60),
        &format!("the worker to be inside step {step}"),
        || gate.holds(job, step),
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(first.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    first.wait().unwrap();
    // The dead worker's open transaction ends once its backend is let through the
    // gate and finds the client gone.
    gate.open();

    let mut second = worker(&home);
    let job = job.to_string();
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
    assert_eq!(
        step_state(&detail, step),
        Some(("succeeded".into(), 2)),
        "the interrupted step ran again: {detail}"
    );
    let projects = home.json(&["projects", "--json"]);
    let library = projects
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["slug"] == "library")
        .unwrap();
    assert_eq!(library["status"], "passing", "{projects}");
    assert_eq!(library["latest_version"], 1, "{projects}");
}

#[test]
fn a_worker_killed_inside_design_is_resumed() {
    killed_inside_a_single_attempt_step("design");
}

#[test]
fn a_worker_killed_inside_spec_is_resumed() {
    killed_inside_a_single_attempt_step("spec");
}

#[test]
fn a_worker_killed_inside_code_is_resumed() {
    killed_inside_a_single_attempt_step("code");
}
