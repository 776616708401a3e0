//! What a running job sees: its input, and `step`/`step_tx`, which make each named
//! step durable (run once, output stored, reused on resume).

use std::future::Future;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::events::{self, EventKind, EventLevel, NewEvent};
use super::{JobId, RetryPolicy, StepError};

/// Why the job's token was cancelled (set before cancelling it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    CancelRequested,
    LeaseLost,
    Shutdown,
}

#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub id: JobId,
    pub owner_id: Uuid,
    pub project_id: Option<Uuid>,
    pub kind: String,
    pub input: serde_json::Value,
    /// How many times the job has been claimed, this claim included.
    pub attempts: i32,
}

pub struct JobContext {
    pub(super) job: ClaimedJob,
    pub(super) pool: PgPool,
    pub(super) worker_id: String,
    pub(super) lease: Duration,
    pub(super) cancel: CancellationToken,
    pub(super) stop_reason: std::sync::Arc<std::sync::Mutex<Option<StopReason>>>,
    pub(super) draining: CancellationToken,
    next_seq: i32,
}

/// Handed to a step's body: its cancellation token and a way to log lines.
#[derive(Clone)]
pub struct StepScope {
    pub cancel: CancellationToken,
    /// 1 on the first attempt of this step.
    pub attempt: i32,
    logger: StepLogger,
}

#[derive(Clone)]
struct StepLogger {
    pool: PgPool,
    job_id: JobId,
    owner_id: Uuid,
    step: String,
}

impl StepScope {
    /// Records a log line of this step (a `job_events` row, live for subscribers).
    pub async fn log(&self, level: EventLevel, message: &str) {
        self.log_with(level, message, None).await;
    }

    /// A log line carrying structured data for front ends that read it (e.g. the
    /// design step's review); others show the message.
    pub async fn log_with(
        &self,
        level: EventLevel,
        message: &str,
        data: Option<serde_json::Value>,
    ) {
        let l = &self.logger;
        let result = async {
            let mut conn = l.pool.acquire().await?;
            events::emit(
                &mut conn,
                NewEvent {
                    job_id: l.job_id,
                    owner_id: l.owner_id,
                    kind: EventKind::Log,
                    step: Some(&l.step),
                    level,
                    message,
                    data,
                },
            )
            .await
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(job = l.job_id, step = %l.step, "cannot record a log line: {e}");
        }
    }
}

impl JobContext {
    pub(super) fn new(
        job: ClaimedJob,
        pool: PgPool,
        worker_id: String,
        lease: Duration,
        cancel: CancellationToken,
        stop_reason: std::sync::Arc<std::sync::Mutex<Option<StopReason>>>,
        draining: CancellationToken,
    ) -> Self {
        Self {
            job,
            pool,
            worker_id,
            lease,
            cancel,
            stop_reason,
            draining,
            next_seq: 0,
        }
    }

    pub fn job_id(&self) -> JobId {
        self.job.id
    }

    pub fn owner_id(&self) -> Uuid {
        self.job.owner_id
    }

    pub fn project_id(&self) -> Option<Uuid> {
        self.job.project_id
    }

    /// The submitted input, decoded.
    pub fn input<T: DeserializeOwned>(&self) -> Result<T, StepError> {
        serde_json::from_value(self.job.input.clone()).map_err(|e| {
            StepError::Fatal(format!(
                "the job's input is not valid for {}: {e}",
                self.job.kind
            ))
        })
    }

    /// The pool the worker uses (owner role: acts for the job's owner).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// A job-level log line (outside any step).
    pub async fn log(&self, level: EventLevel, message: &str) {
        let scope = self.scope("", 1);
        scope.log(level, message).await;
    }

    fn scope(&self, step: &str, attempt: i32) -> StepScope {
        StepScope {
            cancel: self.cancel.clone(),
            attempt,
            logger: StepLogger {
                pool: self.pool.clone(),
                job_id: self.job.id,
                owner_id: self.job.owner_id,
                step: step.to_owned(),
            },
        }
    }

    fn stop_error(&self) -> StepError {
        match self.stop_reason.lock().map(|r| *r).unwrap_or(None) {
            Some(StopReason::LeaseLost) => StepError::LeaseLost,
            Some(StopReason::Shutdown) => StepError::Released,
            Some(StopReason::CancelRequested) | None => StepError::Cancelled,
        }
    }

    /// A durable step whose body has outside effects (sandbox runs, network): its
    /// output is stored when it succeeds and reused on resume. After a crash in the
    /// middle of the body it runs again, so the body must be idempotent or guarded.
    pub async fn step<T, F, Fut>(
        &mut self,
        name: &str,
        policy: RetryPolicy,
        body: F,
    ) -> Result<T, StepError>
    where
        T: Serialize + DeserializeOwned + Send,
        F: FnOnce(StepScope) -> Fut + Send,
        Fut: Future<Output = Result<T, StepError>> + Send,
    {
        let attempt = match self.begin(name, policy).await? {
            Begin::Done(output) => return decode(name, output),
            Begin::Run(attempt) => attempt,
        };
        let scope = self.scope(name, attempt);
        let outcome = tokio::select! {
            biased;
            () = self.cancel.cancelled() => Err(self.stop_error()),
            r = body(scope) => r,
        };
        match outcome {
            Ok(value) => {
                let json = serde_json::to_value(&value).map_err(|e| {
                    StepError::Fatal(format!("step {name}: output cannot be stored: {e}"))
                })?;
                let mut tx = self.pool.begin().await?;
                self.hold_lease(&mut tx).await?;
                self.complete(&mut tx, name, &json).await?;
                tx.commit().await?;
                Ok(value)
            }
            Err(e) => Err(self.fail(name, attempt, policy, e).await),
        }
    }

    /// A durable step whose effects are database writes: the body runs inside the
    /// transaction that records the step's completion, while the lease is verified,
    /// so its effects happen exactly once.
    pub async fn step_tx<T, F>(
        &mut self,
        name: &str,
        policy: RetryPolicy,
        body: F,
    ) -> Result<T, StepError>
    where
        T: Serialize + DeserializeOwned + Send,
        F: for<'c> FnOnce(&'c mut PgConnection, StepScope) -> BoxFuture<'c, Result<T, StepError>>
            + Send,
    {
        let attempt = match self.begin(name, policy).await? {
            Begin::Done(output) => return decode(name, output),
            Begin::Run(attempt) => attempt,
        };
        let scope = self.scope(name, attempt);
        let mut tx = self.pool.begin().await?;
        self.hold_lease(&mut tx).await?;
        match body(&mut tx, scope).await {
            Ok(value) => {
                let json = serde_json::to_value(&value).map_err(|e| {
                    StepError::Fatal(format!("step {name}: output cannot be stored: {e}"))
                })?;
                self.complete(&mut tx, name, &json).await?;
                tx.commit().await?;
                Ok(value)
            }
            Err(e) => {
                let _ = tx.rollback().await;
                Err(self.fail(name, attempt, policy, e).await)
            }
        }
    }

    /// The step boundary: stop if asked to, reuse a completed step, else record the
    /// attempt.
    async fn begin(&mut self, name: &str, policy: RetryPolicy) -> Result<Begin, StepError> {
        let seq = self.next_seq;
        self.next_seq += 1;
        if self.cancel.is_cancelled() {
            return Err(self.stop_error());
        }
        if self.draining.is_cancelled() {
            return Err(StepError::Released);
        }
        let mut tx = self.pool.begin().await?;
        let cancel_requested = self.hold_lease(&mut tx).await?;
        if cancel_requested {
            return Err(StepError::Cancelled);
        }
        let existing: Option<StoredStep> = sqlx::query_as(
            "SELECT state, attempts, interruptions, output, error
                 FROM job_steps WHERE job_id = $1 AND name = $2",
        )
        .bind(self.job.id)
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        let attempt = match existing {
            Some(StoredStep {
                state: StepState::Succeeded,
                output,
                ..
            }) => {
                tx.commit().await?;
                return Ok(Begin::Done(output.unwrap_or(serde_json::Value::Null)));
            }
            Some(StoredStep {
                state,
                attempts,
                interruptions,
                error,
                ..
            }) => {
                // Still `running`: the run that started it never reported back (its
                // worker died or lost the lease). That is an interruption, not a
                // failed attempt, so even a step allowed one attempt resumes.
                let interruptions = interruptions + i32::from(state == StepState::Running);
                let failed = attempts - interruptions;
                let give_up = if u32::try_from(interruptions).unwrap_or(u32::MAX)
                    > policy.max_interruptions
                {
                    Some(format!(
                        "step {name} was interrupted {interruptions} time(s) without finishing \
                         (its worker stopped or lost the job each time); giving up"
                    ))
                } else if u32::try_from(failed).unwrap_or(u32::MAX) >= policy.max_attempts {
                    let why = error.unwrap_or_else(|| "no error was recorded".to_owned());
                    Some(format!(
                        "step {name} failed {failed} time(s), the most allowed: {why}"
                    ))
                } else {
                    None
                };
                if let Some(message) = give_up {
                    sqlx::query(
                        "UPDATE job_steps SET state = 'failed', interruptions = $3, error = $4,
                                finished_at = clock_timestamp()
                         WHERE job_id = $1 AND name = $2",
                    )
                    .bind(self.job.id)
                    .bind(name)
                    .bind(interruptions)
                    .bind(&message)
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    return Err(StepError::Fatal(message));
                }
                sqlx::query(
                    "UPDATE job_steps SET state = 'running', attempts = attempts + 1,
                            interruptions = $3, error = NULL, started_at = now(), finished_at = NULL
                     WHERE job_id = $1 AND name = $2",
                )
                .bind(self.job.id)
                .bind(name)
                .bind(interruptions)
                .execute(&mut *tx)
                .await?;
                attempts + 1
            }
            None => {
                sqlx::query(
                    "INSERT INTO job_steps (job_id, owner_id, name, seq, state, attempts)
                     VALUES ($1, $2, $3, $4, 'running', 1)",
                )
                .bind(self.job.id)
                .bind(self.job.owner_id)
                .bind(name)
                .bind(seq)
                .execute(&mut *tx)
                .await?;
                1
            }
        };
        events::emit(
            &mut tx,
            NewEvent {
                job_id: self.job.id,
                owner_id: self.job.owner_id,
                kind: EventKind::StepStarted,
                step: Some(name),
                level: EventLevel::Info,
                message: "",
                data: Some(serde_json::json!({ "attempt": attempt })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Begin::Run(attempt))
    }

    /// Locks the job row and checks this worker still holds it (renewing the lease).
    /// Returns whether cancellation was requested.
    async fn hold_lease(&self, tx: &mut PgConnection) -> Result<bool, StepError> {
        let row: Option<bool> = sqlx::query_scalar(
            "UPDATE jobs SET lease_expires_at = now() + make_interval(secs => $3)
             WHERE id = $1 AND lease_owner = $2 AND state = 'running'
             RETURNING cancel_requested",
        )
        .bind(self.job.id)
        .bind(&self.worker_id)
        .bind(self.lease.as_secs_f64())
        .fetch_optional(&mut *tx)
        .await?;
        row.ok_or(StepError::LeaseLost)
    }

    async fn complete(
        &self,
        tx: &mut PgConnection,
        name: &str,
        output: &serde_json::Value,
    ) -> Result<(), StepError> {
        let ms: Option<f64> = sqlx::query_scalar(
            "UPDATE job_steps SET state = 'succeeded', output = $3, finished_at = clock_timestamp()
             WHERE job_id = $1 AND name = $2
             RETURNING extract(epoch FROM (finished_at - started_at))::float8 * 1000",
        )
        .bind(self.job.id)
        .bind(name)
        .bind(output)
        .fetch_optional(&mut *tx)
        .await?;
        events::emit(
            tx,
            NewEvent {
                job_id: self.job.id,
                owner_id: self.job.owner_id,
                kind: EventKind::StepFinished,
                step: Some(name),
                level: EventLevel::Info,
                message: "succeeded",
                data: Some(serde_json::json!({ "state": "succeeded", "ms": ms })),
            },
        )
        .await?;
        Ok(())
    }

    /// Records a failed attempt and turns the error into what the worker acts on.
    async fn fail(
        &self,
        name: &str,
        attempt: i32,
        policy: RetryPolicy,
        err: StepError,
    ) -> StepError {
        let (state, decided) = match err {
            StepError::Retryable(msg)
                if u32::try_from(attempt).unwrap_or(u32::MAX) < policy.max_attempts =>
            {
                let delay = policy.delay_after(u32::try_from(attempt).unwrap_or(1));
                (
                    "failed",
                    StepError::RetryLater {
                        delay,
                        reason: format!("step {name}: {msg}"),
                    },
                )
            }
            StepError::Retryable(msg) => (
                "failed",
                StepError::Fatal(format!(
                    "step {name} failed {attempt} time(s), the most allowed: {msg}"
                )),
            ),
            StepError::Fatal(msg) => ("failed", StepError::Fatal(format!("step {name}: {msg}"))),
            StepError::Cancelled => ("cancelled", StepError::Cancelled),
            StepError::Released => ("interrupted", StepError::Released),
            other => ("failed", other),
        };
        if matches!(decided, StepError::LeaseLost) {
            // Another worker owns the job now; leave its records alone.
            return decided;
        }
        let message = decided.to_string();
        let recorded = async {
            let mut tx = self.pool.begin().await?;
            // A cancelled run does not count as an attempt; a released one (the worker
            // shut down) is an interruption.
            let refund = i32::from(matches!(decided, StepError::Cancelled));
            let interrupted = i32::from(matches!(decided, StepError::Released));
            sqlx::query(
                "UPDATE job_steps SET state = $3, error = $4, finished_at = clock_timestamp(),
                        attempts = greatest(1, attempts - $5), interruptions = interruptions + $6
                 WHERE job_id = $1 AND name = $2",
            )
            .bind(self.job.id)
            .bind(name)
            .bind(state)
            .bind(&message)
            .bind(refund)
            .bind(interrupted)
            .execute(&mut *tx)
            .await?;
            events::emit(
                &mut tx,
                NewEvent {
                    job_id: self.job.id,
                    owner_id: self.job.owner_id,
                    kind: EventKind::StepFinished,
                    step: Some(name),
                    level: if state == "cancelled" || state == "interrupted" {
                        EventLevel::Warn
                    } else {
                        EventLevel::Error
                    },
                    message: &message,
                    data: Some(serde_json::json!({ "state": state, "attempt": attempt })),
                },
            )
            .await?;
            tx.commit().await
        }
        .await;
        if let Err(e) = recorded {
            tracing::warn!(
                job = self.job.id,
                step = name,
                "cannot record the step failure: {e}"
            );
        }
        decided
    }
}

/// A `job_steps.state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
enum StepState {
    Running,
    Succeeded,
    Failed,
    Cancelled,
    /// The run ended without an outcome from the step (the worker shut down).
    Interrupted,
}

/// What `begin` reads of a step recorded by an earlier run of the job.
#[derive(sqlx::FromRow)]
struct StoredStep {
    state: StepState,
    attempts: i32,
    interruptions: i32,
    output: Option<serde_json::Value>,
    error: Option<String>,
}

enum Begin {
    Done(serde_json::Value),
    Run(i32),
}

fn decode<T: DeserializeOwned>(name: &str, output: serde_json::Value) -> Result<T, StepError> {
    serde_json::from_value(output).map_err(|e| {
        StepError::Fatal(format!(
            "step {name}: the stored output no longer fits its type: {e}"
        ))
    })
}
