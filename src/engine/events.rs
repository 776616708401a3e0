//! Job events: rows in `job_events` plus a NOTIFY carrying only the new row's id.
//! Subscribers re-read the rows through the client role, so row-level security
//! decides what they receive.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use sqlx::postgres::PgListener;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{EVENTS_CHANNEL, JobId};
use crate::auth::SessionToken;
use crate::db::{Db, DbError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    JobStarted,
    JobFinished,
    StepStarted,
    StepFinished,
    Log,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::JobStarted => "job_started",
            EventKind::JobFinished => "job_finished",
            EventKind::StepStarted => "step_started",
            EventKind::StepFinished => "step_finished",
            EventKind::Log => "log",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventLevel {
    Debug,
    Info,
    Warn,
    Error,
}

impl EventLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            EventLevel::Debug => "debug",
            EventLevel::Info => "info",
            EventLevel::Warn => "warn",
            EventLevel::Error => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct JobEvent {
    pub id: i64,
    pub job_id: JobId,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub step: Option<String>,
    pub level: String,
    pub message: String,
    pub data: Option<serde_json::Value>,
}

/// What the engine records; written by the worker through the owner role.
pub struct NewEvent<'a> {
    pub job_id: JobId,
    pub owner_id: Uuid,
    pub kind: EventKind,
    pub step: Option<&'a str>,
    pub level: EventLevel,
    pub message: &'a str,
    pub data: Option<serde_json::Value>,
}

/// Inserts an event and announces it, in the caller's transaction (the NOTIFY is
/// delivered when that transaction commits, never for a rolled-back one).
pub async fn emit(conn: &mut PgConnection, e: NewEvent<'_>) -> Result<i64, sqlx::Error> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO job_events (job_id, owner_id, kind, step, level, message, data)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(e.job_id)
    .bind(e.owner_id)
    .bind(e.kind.as_str())
    .bind(e.step)
    .bind(e.level.as_str())
    .bind(e.message)
    .bind(e.data)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(EVENTS_CHANNEL)
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(id)
}

/// Events of the caller's jobs after `after_id` (optionally of one job), oldest first.
pub async fn since(
    conn: &mut PgConnection,
    after_id: i64,
    job: Option<JobId>,
) -> Result<Vec<JobEvent>, sqlx::Error> {
    sqlx::query_as::<_, JobEvent>(
        "SELECT id, job_id, at, kind, step, level, message, data FROM job_events
         WHERE id > $1 AND ($2::bigint IS NULL OR job_id = $2) ORDER BY id LIMIT 10000",
    )
    .bind(after_id)
    .bind(job)
    .fetch_all(conn)
    .await
}

/// A live feed of the caller's job events. Dropping it stops the feed.
pub struct EventSubscription {
    pub events: mpsc::Receiver<Result<JobEvent, String>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for EventSubscription {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl EventSubscription {
    /// Starts listening, then delivers every event after `after_id` (use 0 for all
    /// history, or the last id seen) and each new one as it is announced.
    pub async fn start(
        db: &Db,
        token: &SessionToken,
        after_id: i64,
        job: Option<JobId>,
    ) -> Result<Self, DbError> {
        let mut listener = PgListener::connect_with(db.client()).await?;
        listener.listen(EVENTS_CHANNEL).await?;
        let (tx, rx) = mpsc::channel(1024);
        let db = db.clone();
        let token = token.clone();
        let task = tokio::spawn(async move {
            let mut last = after_id;
            loop {
                // Listening began before this read, so nothing falls in between.
                let fetched = async {
                    let mut t = db.begin_as(&token).await?;
                    let rows = since(&mut t, last, job).await?;
                    t.commit().await?;
                    Ok::<_, DbError>(rows)
                }
                .await;
                match fetched {
                    Ok(rows) => {
                        for row in rows {
                            last = last.max(row.id);
                            if tx.send(Ok(row)).await.is_err() {
                                return;
                            }
                        }
                    }
                    Err(e) => {
                        if tx.send(Err(e.to_string())).await.is_err() {
                            return;
                        }
                    }
                }
                // The payload is the new event's id: skip ids already delivered
                // (bursts are fetched in one go by the first notification).
                loop {
                    match listener.recv().await {
                        Ok(n) if n.payload().parse::<i64>().is_ok_and(|id| id <= last) => continue,
                        Ok(_) => break,
                        Err(e) => {
                            if tx
                                .send(Err(format!("event feed interrupted: {e}")))
                                .await
                                .is_err()
                            {
                                return;
                            }
                            // PgListener reconnects on the next recv; refetch then,
                            // without spinning while the database is down.
                            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                            break;
                        }
                    }
                }
            }
        });
        Ok(Self { events: rx, task })
    }
}
