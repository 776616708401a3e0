//! A worker: claims jobs from the Postgres queue, runs them with a heartbeat-renewed
//! lease, and records how they end.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use sqlx::postgres::PgListener;
use sqlx::{PgConnection, PgPool};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::events::{self, EventKind, EventLevel, NewEvent};
use super::job_context::{ClaimedJob, StopReason};
use super::{JOBS_CHANNEL, JobContext, JobId, Registry, StepError};

#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Unique per worker process; recorded as the lease owner.
    pub id: String,
    /// Jobs this worker runs at once.
    pub concurrency: usize,
    /// Jobs one user may have running at once, across all workers.
    pub user_concurrency: i64,
    /// How long a lease lasts without a heartbeat (renewed every third of it).
    pub lease: Duration,
    /// How often to look for delayed retries and expired leases without a NOTIFY.
    pub poll: Duration,
    /// A job claimed this many times without finishing is failed (its runs keep
    /// killing their workers).
    pub max_claims: i32,
    /// On shutdown, how long running jobs get to reach a step boundary before their
    /// steps are cancelled and the jobs released.
    pub shutdown_grace: Duration,
}

impl WorkerOptions {
    pub fn from_config(config: &crate::config::EngineConfig) -> Self {
        Self {
            id: default_worker_id(),
            concurrency: usize::try_from(config.worker_concurrency.max(1)).unwrap_or(5),
            user_concurrency: i64::from(config.user_concurrency.max(1)),
            lease: Duration::from_secs(config.lease_secs.max(1)),
            poll: Duration::from_millis(500),
            max_claims: 20,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// `host:pid:random`, unique across restarts.
pub fn default_worker_id() -> String {
    let host = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "host".into());
    let nonce = Uuid::new_v4().simple().to_string();
    format!("{host}:{}:{}", std::process::id(), &nonce[..8])
}

pub struct Worker {
    pool: PgPool,
    registry: Registry,
    opts: WorkerOptions,
}

/// A running job's handles, for cancellation from a NOTIFY.
struct Running {
    cancel: CancellationToken,
    reason: Arc<Mutex<Option<StopReason>>>,
}

impl Worker {
    /// `pool` must connect as the owner role: a worker acts for every user.
    pub fn new(pool: PgPool, registry: Registry, opts: WorkerOptions) -> Self {
        Self {
            pool,
            registry,
            opts,
        }
    }

    pub fn id(&self) -> &str {
        &self.opts.id
    }

    /// Runs until `shutdown` is cancelled, then stops claiming, lets running jobs
    /// reach a step boundary (releasing them to other workers), and returns.
    pub async fn run(mut self, shutdown: CancellationToken) -> Result<(), sqlx::Error> {
        // Every running job needs a connection for its step transactions and one for
        // its heartbeat, besides the claims and the listener: a pool shared with
        // other work (or sized for it) could starve them, so the worker sizes its own.
        let connections = u32::try_from(self.opts.concurrency.saturating_mul(2).saturating_add(3))
            .unwrap_or(u32::MAX);
        self.pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(connections)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(self.pool.connect_options().as_ref().clone())
            .await?;
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(JOBS_CHANNEL).await?;
        let draining = CancellationToken::new();
        let mut tasks: JoinSet<JobId> = JoinSet::new();
        let mut running: HashMap<JobId, Running> = HashMap::new();
        let kinds = self.registry.kinds();
        tracing::info!(worker = %self.opts.id, ?kinds, "worker started");

        loop {
            if shutdown.is_cancelled() {
                break;
            }
            let free = self.opts.concurrency.saturating_sub(running.len());
            let mut claimed_all = false;
            if free > 0 {
                match self.claim(&kinds, free).await {
                    Ok(jobs) => {
                        claimed_all = jobs.len() == free;
                        for job in jobs {
                            let id = job.id;
                            let (cancel, reason) =
                                (CancellationToken::new(), Arc::new(Mutex::new(None)));
                            running.insert(
                                id,
                                Running {
                                    cancel: cancel.clone(),
                                    reason: reason.clone(),
                                },
                            );
                            let run = self.run_job(job, cancel, reason, draining.clone());
                            tasks.spawn(async move {
                                run.await;
                                id
                            });
                        }
                    }
                    Err(e) => tracing::warn!(worker = %self.opts.id, "claiming jobs failed: {e}"),
                }
            }
            if claimed_all {
                // There may be more runnable jobs: claim again once a slot frees.
                if let Some(Ok(id)) = tasks.join_next().await {
                    running.remove(&id);
                }
                // Gather every job that finished meanwhile so claims stay batched.
                while let Some(Ok(id)) = tasks.try_join_next() {
                    running.remove(&id);
                }
                continue;
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                    if let Ok(id) = done {
                        running.remove(&id);
                    }
                    while let Some(Ok(id)) = tasks.try_join_next() {
                        running.remove(&id);
                    }
                }
                n = listener.recv() => match n {
                    Ok(n) => {
                        if let Some(id) = n.payload().strip_prefix("cancel:").and_then(|s| s.parse::<JobId>().ok()) {
                            self.on_cancel_notice(id, &running).await;
                        }
                    }
                    Err(e) => {
                        tracing::warn!("job notifications interrupted: {e}");
                        tokio::time::sleep(self.opts.poll).await;
                    }
                },
                () = tokio::time::sleep(self.opts.poll) => {}
            }
        }

        tracing::info!(worker = %self.opts.id, running = running.len(), "worker draining");
        draining.cancel();
        let grace = tokio::time::sleep(self.opts.shutdown_grace);
        tokio::pin!(grace);
        while !tasks.is_empty() {
            tokio::select! {
                Some(done) = tasks.join_next() => {
                    if let Ok(id) = done {
                        running.remove(&id);
                    }
                }
                () = &mut grace => {
                    for r in running.values() {
                        set_reason(&r.reason, StopReason::Shutdown);
                        r.cancel.cancel();
                    }
                    while tasks.join_next().await.is_some() {}
                    break;
                }
            }
        }
        tracing::info!(worker = %self.opts.id, "worker stopped");
        Ok(())
    }

    /// Anyone may NOTIFY; act only on what the database confirms.
    async fn on_cancel_notice(&self, id: JobId, running: &HashMap<JobId, Running>) {
        let Some(r) = running.get(&id) else {
            return;
        };
        let confirmed: Result<Option<bool>, _> = sqlx::query_scalar(
            "SELECT cancel_requested FROM jobs WHERE id = $1 AND lease_owner = $2",
        )
        .bind(id)
        .bind(&self.opts.id)
        .fetch_optional(&self.pool)
        .await;
        if let Ok(Some(true)) = confirmed {
            set_reason(&r.reason, StopReason::CancelRequested);
            r.cancel.cancel();
        }
    }

    /// Claims up to `n` runnable jobs (queued and due, or running with an expired
    /// lease), honouring the per-user limit across all workers.
    async fn claim(&self, kinds: &[String], n: usize) -> Result<Vec<ClaimedJob>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let candidates: Vec<(JobId, Uuid)> = sqlx::query_as(
            "SELECT id, owner_id FROM jobs
             WHERE kind = ANY($1)
               AND ((state = 'queued' AND run_after <= now())
                 OR (state = 'running' AND lease_expires_at < now()))
             ORDER BY run_after, id
             FOR UPDATE SKIP LOCKED
             LIMIT $2",
        )
        .bind(kinds)
        .bind(i64::try_from(n).unwrap_or(i64::MAX))
        .fetch_all(&mut *tx)
        .await?;
        if candidates.is_empty() {
            tx.commit().await?;
            return Ok(Vec::new());
        }
        let mut owners: Vec<Uuid> = candidates.iter().map(|(_, o)| *o).collect();
        owners.sort_unstable();
        owners.dedup();
        let mut chosen: Vec<JobId> = Vec::new();
        for owner in owners {
            // Claims for one user serialise here, so the count below is current.
            sqlx::query("SELECT pg_advisory_xact_lock(7270962, hashtext($1::text))")
                .bind(owner)
                .execute(&mut *tx)
                .await?;
            let mine: Vec<JobId> = candidates
                .iter()
                .filter(|(_, o)| *o == owner)
                .map(|(id, _)| *id)
                .collect();
            let busy: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM jobs
                 WHERE owner_id = $1 AND state = 'running' AND lease_expires_at >= now() AND id <> ALL($2)",
            )
            .bind(owner)
            .bind(&mine)
            .fetch_one(&mut *tx)
            .await?;
            let room = usize::try_from((self.opts.user_concurrency - busy).max(0)).unwrap_or(0);
            chosen.extend(mine.into_iter().take(room));
        }
        let rows: Vec<(JobId, Uuid, Option<Uuid>, String, serde_json::Value, i32)> =
            sqlx::query_as(
                "UPDATE jobs SET state = 'running', lease_owner = $2,
                    lease_expires_at = now() + make_interval(secs => $3),
                    attempts = attempts + 1, started_at = coalesce(started_at, now())
             WHERE id = ANY($1)
             RETURNING id, owner_id, project_id, kind, input, attempts",
            )
            .bind(&chosen)
            .bind(&self.opts.id)
            .bind(self.opts.lease.as_secs_f64())
            .fetch_all(&mut *tx)
            .await?;
        let mut claimed = Vec::new();
        for (id, owner_id, project_id, kind, input, attempts) in rows {
            if attempts > self.opts.max_claims {
                finish(
                    &mut tx,
                    &self.opts.id,
                    id,
                    owner_id,
                    Ending::Failed(format!(
                        "the job was started {} times without finishing; its runs keep stopping their worker",
                        attempts - 1
                    )),
                )
                .await?;
                continue;
            }
            claimed.push(ClaimedJob {
                id,
                owner_id,
                project_id,
                kind,
                input,
                attempts,
            });
        }
        if !claimed.is_empty() {
            // One statement and one NOTIFY for all the start events of this claim.
            let ids: Vec<JobId> = claimed.iter().map(|j| j.id).collect();
            let last: Option<i64> = sqlx::query_scalar(
                "WITH started AS (
                     INSERT INTO job_events (job_id, owner_id, kind, level, message, data)
                     SELECT j.id, j.owner_id, 'job_started', 'info', j.kind,
                            jsonb_build_object('worker', $2::text, 'attempt', j.attempts)
                     FROM jobs j WHERE j.id = ANY($1)
                     RETURNING id)
                 SELECT max(id) FROM started",
            )
            .bind(&ids)
            .bind(&self.opts.id)
            .fetch_one(&mut *tx)
            .await?;
            if let Some(last) = last {
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(super::EVENTS_CHANNEL)
                    .bind(last.to_string())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(claimed)
    }

    fn run_job(
        &self,
        job: ClaimedJob,
        cancel: CancellationToken,
        reason: Arc<Mutex<Option<StopReason>>>,
        draining: CancellationToken,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let pool = self.pool.clone();
        let worker_id = self.opts.id.clone();
        let lease = self.opts.lease;
        let handler = self.registry.get(&job.kind);
        async move {
            let (id, owner) = (job.id, job.owner_id);
            let heartbeat = tokio::spawn(heartbeat(
                pool.clone(),
                worker_id.clone(),
                id,
                lease,
                cancel.clone(),
                reason.clone(),
            ));
            let result = match handler {
                Some(handler) => {
                    let mut ctx = JobContext::new(
                        job,
                        pool.clone(),
                        worker_id.clone(),
                        lease,
                        cancel,
                        reason,
                        draining,
                    );
                    match AssertUnwindSafe(handler.run(&mut ctx)).catch_unwind().await {
                        Ok(r) => r,
                        Err(panic) => Err(StepError::Fatal(format!(
                            "the job crashed: {}",
                            panic_message(&panic)
                        ))),
                    }
                }
                None => Err(StepError::Fatal(format!(
                    "no handler for job kind {}",
                    job.kind
                ))),
            };
            heartbeat.abort();
            let ending = match result {
                Ok(output) => Ending::Succeeded(output),
                Err(StepError::Cancelled) => Ending::Cancelled,
                Err(StepError::RetryLater { delay, reason }) => Ending::Retry { delay, reason },
                Err(StepError::Released) => Ending::Released,
                Err(StepError::LeaseLost) => return,
                Err(e @ (StepError::Fatal(_) | StepError::Retryable(_))) => {
                    Ending::Failed(e.to_string())
                }
            };
            let recorded = async {
                let mut tx = pool.begin().await?;
                finish(&mut tx, &worker_id, id, owner, ending).await?;
                tx.commit().await
            }
            .await;
            if let Err(e) = recorded {
                // The lease expires and another worker resumes the job.
                tracing::warn!(job = id, "cannot record how the job ended: {e}");
            }
        }
    }
}

fn set_reason(reason: &Mutex<Option<StopReason>>, r: StopReason) {
    if let Ok(mut guard) = reason.lock() {
        guard.get_or_insert(r);
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

/// Renews the lease every third of its length; cancels the job's token when the
/// lease is lost or a cancel is requested.
async fn heartbeat(
    pool: PgPool,
    worker_id: String,
    id: JobId,
    lease: Duration,
    cancel: CancellationToken,
    reason: Arc<Mutex<Option<StopReason>>>,
) {
    let mut tick = tokio::time::interval(lease / 3);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let renewed: Result<Option<bool>, _> = sqlx::query_scalar(
            "UPDATE jobs SET lease_expires_at = now() + make_interval(secs => $3)
             WHERE id = $1 AND lease_owner = $2 AND state = 'running'
             RETURNING cancel_requested",
        )
        .bind(id)
        .bind(&worker_id)
        .bind(lease.as_secs_f64())
        .fetch_optional(&pool)
        .await;
        match renewed {
            Ok(Some(false)) => {}
            Ok(Some(true)) => {
                set_reason(&reason, StopReason::CancelRequested);
                cancel.cancel();
            }
            Ok(None) => {
                set_reason(&reason, StopReason::LeaseLost);
                cancel.cancel();
                return;
            }
            // The database is unreachable: keep trying until the lease runs out.
            Err(e) => tracing::warn!(job = id, "heartbeat failed: {e}"),
        }
    }
}

enum Ending {
    Succeeded(serde_json::Value),
    Failed(String),
    Cancelled,
    Retry { delay: Duration, reason: String },
    Released,
}

/// Records how a job ended, only if `worker_id` still holds it.
async fn finish(
    tx: &mut PgConnection,
    worker_id: &str,
    id: JobId,
    owner: Uuid,
    ending: Ending,
) -> Result<(), sqlx::Error> {
    let (sql, level, message, data): (&str, EventLevel, String, serde_json::Value) = match &ending {
        Ending::Succeeded(_) => (
            "UPDATE jobs SET state = 'succeeded', output = $3, error = NULL, finished_at = now(),
                    lease_owner = NULL, lease_expires_at = NULL
             WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
            EventLevel::Info,
            "succeeded".into(),
            serde_json::json!({ "state": "succeeded" }),
        ),
        Ending::Failed(msg) => (
            "UPDATE jobs SET state = 'failed', error = $4, finished_at = now(),
                    lease_owner = NULL, lease_expires_at = NULL
             WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
            EventLevel::Error,
            msg.clone(),
            serde_json::json!({ "state": "failed" }),
        ),
        Ending::Cancelled => (
            "UPDATE jobs SET state = 'cancelled', error = 'cancelled', finished_at = now(),
                    lease_owner = NULL, lease_expires_at = NULL
             WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
            EventLevel::Warn,
            "cancelled".into(),
            serde_json::json!({ "state": "cancelled" }),
        ),
        Ending::Retry { delay, reason } => (
            "UPDATE jobs SET state = 'queued', run_after = now() + make_interval(secs => $5),
                    error = $4, lease_owner = NULL, lease_expires_at = NULL
             WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
            EventLevel::Warn,
            format!("{reason}; retrying in {:.1}s", delay.as_secs_f64()),
            serde_json::json!({ "state": "retrying", "delay_ms": delay.as_millis() as u64 }),
        ),
        Ending::Released => (
            "UPDATE jobs SET state = 'queued', run_after = now(), attempts = greatest(0, attempts - 1),
                    lease_owner = NULL, lease_expires_at = NULL
             WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
            EventLevel::Info,
            "released by a worker shutting down".into(),
            serde_json::json!({ "state": "released" }),
        ),
    };
    let output = match &ending {
        Ending::Succeeded(v) => Some(v.clone()),
        _ => None,
    };
    let delay = match &ending {
        Ending::Retry { delay, .. } => delay.as_secs_f64(),
        _ => 0.0,
    };
    let updated = sqlx::query(sql)
        .bind(id)
        .bind(worker_id)
        .bind(output)
        .bind(&message)
        .bind(delay)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if updated == 0 {
        return Ok(());
    }
    let kind = match ending {
        Ending::Retry { .. } | Ending::Released => EventKind::Log,
        _ => EventKind::JobFinished,
    };
    events::emit(
        tx,
        NewEvent {
            job_id: id,
            owner_id: owner,
            kind,
            step: None,
            level,
            message: &message,
            data: Some(data),
        },
    )
    .await?;
    if matches!(kind, EventKind::Log) {
        // The job is runnable again (now or later): wake the workers.
        sqlx::query("SELECT pg_notify($1, 'retry')")
            .bind(JOBS_CHANNEL)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}
