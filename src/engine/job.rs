//! Jobs and steps as stored, and what a client submits.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub type JobId = i64;

/// A job's lifecycle. `Queued` → `Running` → one of the three final states; a
/// retry or a released job goes back to `Queued`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "succeeded" => JobState::Succeeded,
            "failed" => JobState::Failed,
            "cancelled" => JobState::Cancelled,
            _ => return None,
        })
    }

    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobState::Succeeded | JobState::Failed | JobState::Cancelled
        )
    }
}

/// What a client asks for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobRequest {
    pub kind: String,
    pub input: serde_json::Value,
    pub project_id: Option<Uuid>,
    /// The same key within 24 hours yields the same job.
    pub idempotency_key: Option<String>,
}

impl JobRequest {
    pub fn new(kind: impl Into<String>, input: serde_json::Value) -> Self {
        Self {
            kind: kind.into(),
            input,
            project_id: None,
            idempotency_key: None,
        }
    }

    pub fn project(mut self, project_id: Uuid) -> Self {
        self.project_id = Some(project_id);
        self
    }

    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct JobRecord {
    pub id: JobId,
    pub owner_id: Uuid,
    pub project_id: Option<Uuid>,
    pub kind: String,
    pub state: String,
    pub input: serde_json::Value,
    pub output: Option<serde_json::Value>,
    pub error: Option<String>,
    pub attempts: i32,
    pub cancel_requested: bool,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl JobRecord {
    pub fn state(&self) -> Option<JobState> {
        JobState::parse(&self.state)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct StepRecord {
    pub name: String,
    pub seq: i32,
    pub state: String,
    pub attempts: i32,
    pub output: Option<serde_json::Value>,
    pub error: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}
