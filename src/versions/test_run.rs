//! Test runs of a version: each check of a version's files in a sandbox leaves a
//! report, and the latest run decides whether the version is passing or failing.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{CheckStatus, VersionError};
use crate::sandbox::Backend;

/// A finished check of a version.
#[derive(Debug, Clone, Copy)]
pub struct NewTestRun<'a> {
    /// The version's id.
    pub version: Uuid,
    /// The job that ran the check, if any.
    pub job: Option<i64>,
    pub sandbox: Backend,
    pub passed: u32,
    pub failed: u32,
    pub skipped: u32,
    /// The full report (serde JSON), kept as is.
    pub report: &'a Value,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
}

impl NewTestRun<'_> {
    /// A run passes when something was tested and nothing failed: a run in which no
    /// test ran proves nothing, so it counts as failing.
    pub fn status(&self) -> CheckStatus {
        if self.failed == 0 && self.passed > 0 {
            CheckStatus::Passing
        } else {
            CheckStatus::Failing
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct TestRun {
    pub id: Uuid,
    pub version_id: Uuid,
    pub job_id: Option<i64>,
    pub sandbox: String,
    pub passed: i32,
    pub failed: i32,
    pub skipped: i32,
    pub report: Value,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
}

fn count(n: u32) -> Result<i32, VersionError> {
    i32::try_from(n).map_err(|_| VersionError::Corrupt {
        what: "test run".into(),
        message: format!("a count of {n} tests is out of range"),
    })
}

/// Stores the run and sets the version's check status from it (see
/// [`NewTestRun::status`]). Returns the run's id and that status.
pub async fn record_test_run(
    conn: &mut PgConnection,
    run: &NewTestRun<'_>,
) -> Result<(Uuid, CheckStatus), VersionError> {
    let status = run.status();
    // The owner comes from the version row: the worker's transaction has no session.
    let owner: Uuid = sqlx::query_scalar(
        "UPDATE versions SET check_status = $2 WHERE id = $1 RETURNING owner_id",
    )
    .bind(run.version)
    .bind(status.as_str())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(VersionError::VersionIdNotFound(run.version))?;
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO test_runs (version_id, owner_id, job_id, sandbox, passed, failed, skipped,
                                report, started_at, finished_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         RETURNING id",
    )
    .bind(run.version)
    .bind(owner)
    .bind(run.job)
    .bind(run.sandbox.as_str())
    .bind(count(run.passed)?)
    .bind(count(run.failed)?)
    .bind(count(run.skipped)?)
    .bind(run.report)
    .bind(run.started_at)
    .bind(run.finished_at)
    .fetch_one(conn)
    .await?;
    Ok((id, status))
}

/// The runs of a version (by id), latest first.
pub async fn test_runs(
    conn: &mut PgConnection,
    version: Uuid,
) -> Result<Vec<TestRun>, VersionError> {
    Ok(sqlx::query_as::<_, TestRun>(
        "SELECT id, version_id, job_id, sandbox, passed, failed, skipped, report,
                started_at, finished_at
         FROM test_runs WHERE version_id = $1 ORDER BY finished_at DESC, id",
    )
    .bind(version)
    .fetch_all(conn)
    .await?)
}
