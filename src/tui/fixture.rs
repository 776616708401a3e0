//! Fixed state for reducer and view tests: no clock, no randomness.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, TimeZone, Utc};
use uuid::Uuid;

use super::keymap::Keymap;
use super::log_pane::JobSnapshot;
use super::message::{Connected, Message};
use super::state::{Defaults, State};
use crate::codegen::Framework;
use crate::db::projects::ProjectSummary;
use crate::engine::{JobEvent, JobRecord, StepRecord};
use crate::provider::ProviderKind;

pub fn t(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap() + chrono::Duration::milliseconds(secs)
}

pub fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

pub fn project(
    n: u128,
    slug: &str,
    status: &str,
    version: Option<i32>,
    framework: &str,
) -> ProjectSummary {
    ProjectSummary {
        id: id(n),
        slug: slug.into(),
        name: slug.into(),
        framework: framework.into(),
        status: status.into(),
        latest_version: version,
        updated_at: t(0),
    }
}

pub fn event(
    id: i64,
    job: i64,
    at_ms: i64,
    kind: &str,
    step: Option<&str>,
    message: &str,
    state: Option<&str>,
) -> JobEvent {
    JobEvent {
        id,
        job_id: job,
        at: t(at_ms),
        kind: kind.into(),
        step: step.map(Into::into),
        level: if state == Some("failed") {
            "error".into()
        } else {
            "info".into()
        },
        message: message.into(),
        data: state.map(|s| serde_json::json!({ "state": s })),
    }
}

pub fn record(
    job: i64,
    kind: &str,
    state: &str,
    project: Option<Uuid>,
    output: Option<serde_json::Value>,
    error: Option<&str>,
) -> JobRecord {
    let finished = matches!(state, "succeeded" | "failed" | "cancelled");
    JobRecord {
        id: job,
        owner_id: id(99),
        project_id: project,
        kind: kind.into(),
        state: state.into(),
        input: serde_json::json!({}),
        output,
        error: error.map(Into::into),
        attempts: 1,
        cancel_requested: false,
        created_at: t(0),
        started_at: (state != "queued").then(|| t(0)),
        finished_at: finished.then(|| t(1234)),
    }
}

pub fn step(name: &str, seq: i32, start_ms: i64, end_ms: Option<i64>, state: &str) -> StepRecord {
    StepRecord {
        name: name.into(),
        seq,
        state: state.into(),
        attempts: 1,
        output: None,
        error: (state == "failed").then(|| {
            "the sandbox ran out of memory (limit 512 MB); raise sandbox.memory_mb".into()
        }),
        started_at: t(start_ms),
        finished_at: end_ms.map(t),
    }
}

pub fn output(version: i32, status: &str) -> serde_json::Value {
    serde_json::json!({
        "project": id(1),
        "version": version,
        "check_status": status,
        "totals": {
            "native_passed": 24, "native_failed": if status == "passing" { 0 } else { 2 },
            "native_skipped": 0, "contract_passed": 31, "contract_failed": 0
        }
    })
}

/// A connected state with three projects and three jobs (passed, failed, running).
pub fn state() -> State {
    let defaults = Defaults {
        framework: Framework::Fastapi,
        provider: ProviderKind::Rules,
        sandbox: "process".into(),
    };
    let (mut s, _) = State::new(defaults, Keymap::defaults(), t(0));
    s.update(Message::Connected(Connected {
        user: "alice@devbox".into(),
        database: "local".into(),
        local_worker: true,
        handles: None,
    }));
    s.update(Message::ProjectsLoaded(vec![
        project(1, "bakery", "passing", Some(3), "fastapi"),
        project(2, "library", "failing", Some(1), "express"),
        project(
            3,
            "todo-with-a-rather-long-name",
            "running",
            None,
            "fastapi",
        ),
    ]));
    s.update(Message::JobsLoaded(vec![
        JobSnapshot {
            record: record(
                41,
                "generate",
                "succeeded",
                Some(id(1)),
                Some(output(3, "passing")),
                None,
            ),
            steps: vec![
                step("design", 1, 0, Some(3), "succeeded"),
                step("spec", 2, 3, Some(15), "succeeded"),
                step("check", 3, 15, Some(1200), "succeeded"),
            ],
            project: Some("bakery".into()),
        },
        JobSnapshot {
            record: record(
                42,
                "iterate",
                "failed",
                Some(id(2)),
                None,
                Some(
                    "check: the sandbox ran out of memory (limit 512 MB); raise sandbox.memory_mb",
                ),
            ),
            steps: vec![
                step("design", 1, 0, Some(4), "succeeded"),
                step("check", 2, 4, Some(900), "failed"),
            ],
            project: Some("library".into()),
        },
        JobSnapshot {
            record: record(43, "generate", "running", Some(id(3)), None, None),
            steps: vec![
                step("design", 1, 0, Some(5), "succeeded"),
                step("check", 2, 5, None, "running"),
            ],
            project: Some("todo-with-a-rather-long-name".into()),
        },
    ]));
    s.update(Message::Tick(t(2500)));
    s.spinner = 3;
    s
}
