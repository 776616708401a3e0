//! The client side of the queue: submit, cancel, inspect. Every function runs in the
//! caller's client transaction, so row-level security scopes it to the caller's jobs.

use serde::Serialize;
use sqlx::PgConnection;

use super::{JOBS_CHANNEL, JobId, JobRecord, JobRequest, StepRecord};

const JOB_COLUMNS: &str = "id, owner_id, project_id, kind, state, input, output, error, attempts, \
                           cancel_requested, created_at, started_at, finished_at";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Submitted {
    pub job: JobId,
    /// True when an earlier job with the same idempotency key was returned instead.
    pub deduplicated: bool,
}

/// The caller's job that still honours `key` (submitted in the last 24 hours), with
/// its project.
pub async fn by_idempotency_key(
    conn: &mut PgConnection,
    key: &str,
) -> Result<Option<(JobId, Option<uuid::Uuid>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, project_id FROM jobs
         WHERE idempotency_key = $1 AND created_at > now() - interval '24 hours'",
    )
    .bind(key)
    .fetch_optional(conn)
    .await
}

/// Submits a job for the caller and wakes the workers (on commit).
pub async fn submit(conn: &mut PgConnection, req: &JobRequest) -> Result<Submitted, sqlx::Error> {
    if let Some(key) = &req.idempotency_key {
        // Keys are honoured for 24 hours; an older job gives its key up.
        let existing: Option<(JobId, bool)> = sqlx::query_as(
            "SELECT id, created_at > now() - interval '24 hours' FROM jobs WHERE idempotency_key = $1",
        )
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
        match existing {
            Some((id, true)) => {
                return Ok(Submitted {
                    job: id,
                    deduplicated: true,
                });
            }
            Some((id, false)) => {
                sqlx::query("UPDATE jobs SET idempotency_key = NULL WHERE id = $1")
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
            }
            None => {}
        }
    }
    let inserted: Option<JobId> = sqlx::query_scalar(
        "INSERT INTO jobs (kind, input, project_id, idempotency_key) VALUES ($1, $2, $3, $4)
         ON CONFLICT (owner_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
         RETURNING id",
    )
    .bind(&req.kind)
    .bind(&req.input)
    .bind(req.project_id)
    .bind(&req.idempotency_key)
    .fetch_optional(&mut *conn)
    .await?;
    let submitted = match inserted {
        Some(id) => Submitted {
            job: id,
            deduplicated: false,
        },
        // A concurrent submit with the same key won the race.
        None => {
            let id: JobId = sqlx::query_scalar("SELECT id FROM jobs WHERE idempotency_key = $1")
                .bind(&req.idempotency_key)
                .fetch_one(&mut *conn)
                .await?;
            Submitted {
                job: id,
                deduplicated: true,
            }
        }
    };
    if !submitted.deduplicated {
        sqlx::query("SELECT pg_notify($1, 'new')")
            .bind(JOBS_CHANNEL)
            .execute(&mut *conn)
            .await?;
    }
    Ok(submitted)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelOutcome {
    /// Was queued: cancelled on the spot.
    Cancelled,
    /// Is running: it stops at the next step boundary; its running step is told now.
    Requested,
    /// Had already finished.
    AlreadyFinished,
    NotFound,
}

pub async fn cancel(conn: &mut PgConnection, job: JobId) -> Result<CancelOutcome, sqlx::Error> {
    let state: Option<String> =
        sqlx::query_scalar("SELECT state FROM jobs WHERE id = $1 FOR UPDATE")
            .bind(job)
            .fetch_optional(&mut *conn)
            .await?;
    let outcome = match state.as_deref() {
        None => CancelOutcome::NotFound,
        Some("queued") => {
            sqlx::query(
                "UPDATE jobs SET state = 'cancelled', cancel_requested = true, finished_at = now(),
                        error = 'cancelled before it started', lease_owner = NULL, lease_expires_at = NULL
                 WHERE id = $1",
            )
            .bind(job)
            .execute(&mut *conn)
            .await?;
            CancelOutcome::Cancelled
        }
        Some("running") => {
            sqlx::query("UPDATE jobs SET cancel_requested = true WHERE id = $1")
                .bind(job)
                .execute(&mut *conn)
                .await?;
            sqlx::query("SELECT pg_notify($1, 'cancel:' || $2::text)")
                .bind(JOBS_CHANNEL)
                .bind(job)
                .execute(&mut *conn)
                .await?;
            CancelOutcome::Requested
        }
        Some(_) => CancelOutcome::AlreadyFinished,
    };
    Ok(outcome)
}

pub async fn get(conn: &mut PgConnection, job: JobId) -> Result<Option<JobRecord>, sqlx::Error> {
    sqlx::query_as::<_, JobRecord>(sqlx::AssertSqlSafe(format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"
    )))
    .bind(job)
    .fetch_optional(conn)
    .await
}

/// The caller's jobs, newest first; unfinished only unless `all`.
pub async fn list(
    conn: &mut PgConnection,
    all: bool,
    limit: i64,
) -> Result<Vec<JobRecord>, sqlx::Error> {
    sqlx::query_as::<_, JobRecord>(sqlx::AssertSqlSafe(format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE $1 OR state IN ('queued', 'running')
         ORDER BY created_at DESC, id DESC LIMIT $2"
    )))
    .bind(all)
    .bind(limit)
    .fetch_all(conn)
    .await
}

pub async fn steps(conn: &mut PgConnection, job: JobId) -> Result<Vec<StepRecord>, sqlx::Error> {
    sqlx::query_as::<_, StepRecord>(
        "SELECT name, seq, state, attempts, output, error, started_at, finished_at
         FROM job_steps WHERE job_id = $1 ORDER BY seq, started_at",
    )
    .bind(job)
    .fetch_all(conn)
    .await
}
