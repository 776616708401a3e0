//! The durable job engine on a real cluster: steps memoised, a worker process killed
//! with SIGKILL mid-step and resumed by another, retries with backoff, non-retryable
//! errors, cancellation killing a running child process, per-user and per-worker
//! concurrency, idempotency keys, graceful shutdown, and events scoped by RLS.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use apiforge::auth::SessionToken;
use apiforge::db::Db;
use apiforge::engine::queue::{self, CancelOutcome};
use apiforge::engine::{
    EventSubscription, JobContext, JobRequest, Registry, RetryPolicy, StepError, Worker,
    WorkerOptions,
};
use futures::FutureExt;
use serde_json::{Value, json};
use support::TestDb;
use tokio_util::sync::CancellationToken;

const TIMEOUT: Duration = Duration::from_secs(60);

fn options(id: &str, lease: Duration) -> WorkerOptions {
    WorkerOptions {
        id: id.to_owned(),
        concurrency: 4,
        user_concurrency: 2,
        lease,
        poll: Duration::from_millis(50),
        max_claims: 20,
        shutdown_grace: Duration::from_secs(10),
    }
}

async fn effects_table(db: &Db) {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS test_effects (job_id bigint, step text, attempt int, at timestamptz DEFAULT clock_timestamp(), ended timestamptz, worker text, info text);
         CREATE TABLE IF NOT EXISTS test_versions (job_id bigint PRIMARY KEY, n int NOT NULL);",
    )
    .execute(db.owner().unwrap())
    .await
    .unwrap();
}

async fn effect(ctx_pool: &sqlx::PgPool, job: i64, step: &str, attempt: i32, info: &str) {
    sqlx::query("INSERT INTO test_effects (job_id, step, attempt, info) VALUES ($1, $2, $3, $4)")
        .bind(job)
        .bind(step)
        .bind(attempt)
        .bind(info)
        .execute(ctx_pool)
        .await
        .unwrap();
}

/// Blocks the step on its first attempt when the input names it, so a test can kill
/// or stop the worker in the middle of exactly that step.
async fn maybe_block(
    ctx_input: &Value,
    step: &str,
    scope: &apiforge::engine::StepScope,
) -> Result<(), StepError> {
    if ctx_input["block_at"] == step && scope.attempt == 1 {
        scope.cancel.cancelled().await;
        return Err(StepError::Cancelled);
    }
    Ok(())
}

fn pipeline<'a>(
    ctx: &'a mut JobContext,
) -> futures::future::BoxFuture<'a, Result<Value, StepError>> {
    async move {
        let input: Value = ctx.input()?;
        let job = ctx.job_id();
        let pool = ctx.pool().clone();
        let mut outputs = Vec::new();
        for step in ["a", "b"] {
            let (pool, input) = (pool.clone(), input.clone());
            let out: String = ctx
                .step(step, RetryPolicy::default(), move |scope| async move {
                    effect(&pool, job, step, scope.attempt, "").await;
                    maybe_block(&input, step, &scope).await?;
                    Ok(format!("{step}-out"))
                })
                .await?;
            outputs.push(out);
        }
        let input_c = input.clone();
        let version: i32 = ctx
            .step_tx("c", RetryPolicy::default(), move |tx, scope| {
                async move {
                    let n: i32 = sqlx::query_scalar(
                        "INSERT INTO test_versions (job_id, n) VALUES ($1, 1) RETURNING n",
                    )
                    .bind(job)
                    .fetch_one(&mut *tx)
                    .await?;
                    sqlx::query(
                        "INSERT INTO test_effects (job_id, step, attempt) VALUES ($1, 'c', $2)",
                    )
                    .bind(job)
                    .bind(scope.attempt)
                    .execute(&mut *tx)
                    .await?;
                    maybe_block(&input_c, "c", &scope).await?;
                    Ok(n)
                }
                .boxed()
            })
            .await?;
        let (pool_d, input_d) = (pool.clone(), input.clone());
        let d: String = ctx
            .step("d", RetryPolicy::default(), move |scope| async move {
                effect(&pool_d, job, "d", scope.attempt, "").await;
                maybe_block(&input_d, "d", &scope).await?;
                Ok("d-out".to_owned())
            })
            .await?;
        outputs.push(d);
        Ok(json!({ "outputs": outputs, "version": version }))
    }
    .boxed()
}

fn job_noop(ctx: &mut JobContext) -> futures::future::BoxFuture<'_, Result<Value, StepError>> {
    let input = ctx.input::<Value>();
    async move { input }.boxed()
}

fn job_flaky(ctx: &mut JobContext) -> futures::future::BoxFuture<'_, Result<Value, StepError>> {
    async move {
        let job = ctx.job_id();
        let pool = ctx.pool().clone();
        let policy = RetryPolicy::default()
            .attempts(5)
            .backoff(Duration::from_millis(20), Duration::from_millis(200));
        let n: i32 = ctx
            .step("flaky", policy, move |scope| async move {
                effect(&pool, job, "flaky", scope.attempt, "").await;
                if scope.attempt < 3 {
                    return Err(StepError::retryable(format!(
                        "transient failure {}",
                        scope.attempt
                    )));
                }
                Ok(scope.attempt)
            })
            .await?;
        Ok(json!({ "succeeded_on_attempt": n }))
    }
    .boxed()
}

fn job_always_flaky(
    ctx: &mut JobContext,
) -> futures::future::BoxFuture<'_, Result<Value, StepError>> {
    async move {
        let policy = RetryPolicy::default()
            .attempts(3)
            .backoff(Duration::from_millis(10), Duration::from_millis(50));
        ctx.step("never", policy, |_scope| async {
            Err::<(), _>(StepError::retryable("still broken"))
        })
        .await?;
        Ok(Value::Null)
    }
    .boxed()
}

fn job_fatal(ctx: &mut JobContext) -> futures::future::BoxFuture<'_, Result<Value, StepError>> {
    async move {
        let job = ctx.job_id();
        let pool = ctx.pool().clone();
        ctx.step(
            "validate",
            RetryPolicy::default().attempts(5),
            move |scope| async move {
                effect(&pool, job, "validate", scope.attempt, "").await;
                Err::<(), _>(StepError::fatal("the design has no resources"))
            },
        )
        .await?;
        Ok(Value::Null)
    }
    .boxed()
}

fn job_child_process(
    ctx: &mut JobContext,
) -> futures::future::BoxFuture<'_, Result<Value, StepError>> {
    async move {
        let job = ctx.job_id();
        let pool = ctx.pool().clone();
        ctx.step("sandbox", RetryPolicy::once(), move |scope| async move {
            // Stands in for a sandbox: a real process the step must kill.
            let mut child = tokio::process::Command::new("sleep")
                .arg("300")
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            let pid = child.id().unwrap();
            effect(&pool, job, "sandbox", scope.attempt, &pid.to_string()).await;
            tokio::select! {
                () = scope.cancel.cancelled() => {
                    child.kill().await.unwrap();
                    Err(StepError::Cancelled)
                }
                _ = child.wait() => Ok(()),
            }
        })
        .await?;
        Ok(Value::Null)
    }
    .boxed()
}

fn job_busy(ctx: &mut JobContext) -> futures::future::BoxFuture<'_, Result<Value, StepError>> {
    async move {
        let job = ctx.job_id();
        let pool = ctx.pool().clone();
        let worker: String = sqlx::query_scalar("SELECT lease_owner FROM jobs WHERE id = $1")
            .bind(job)
            .fetch_one(&pool)
            .await
            .unwrap();
        ctx.step("work", RetryPolicy::once(), move |scope| async move {
            effect(&pool, job, "work", scope.attempt, &worker).await;
            // Simulated work long enough for jobs to overlap.
            tokio::time::sleep(Duration::from_millis(150)).await;
            sqlx::query("UPDATE test_effects SET ended = clock_timestamp() WHERE job_id = $1 AND step = 'work'")
                .bind(job)
                .execute(&pool)
                .await
                .unwrap();
            Ok(())
        })
        .await?;
        Ok(Value::Null)
    }
    .boxed()
}

fn job_two_phase(ctx: &mut JobContext) -> futures::future::BoxFuture<'_, Result<Value, StepError>> {
    async move {
        let job = ctx.job_id();
        let pool = ctx.pool().clone();
        for step in ["first", "second", "third"] {
            let pool = pool.clone();
            ctx.step(step, RetryPolicy::default(), move |scope| async move {
                effect(&pool, job, step, scope.attempt, "").await;
                if step == "second" {
                    // Finishes on its own shortly; a shutdown in between
                    // must let it complete, then release the job.
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
                Ok(())
            })
            .await?;
        }
        Ok(json!("done"))
    }
    .boxed()
}

/// One step, allowed one attempt, that never finishes on its own: only a stopping
/// worker ends its runs.
fn job_stuck(ctx: &mut JobContext) -> futures::future::BoxFuture<'_, Result<Value, StepError>> {
    async move {
        let job = ctx.job_id();
        let pool = ctx.pool().clone();
        ctx.step("stuck", RetryPolicy::once(), move |scope| async move {
            effect(&pool, job, "stuck", scope.attempt, "").await;
            // An event after the effect, for the test to wake on.
            scope
                .log(apiforge::engine::EventLevel::Info, "waiting to be stopped")
                .await;
            scope.cancel.cancelled().await;
            Err::<(), _>(StepError::Cancelled)
        })
        .await?;
        Ok(Value::Null)
    }
    .boxed()
}

fn registry() -> Registry {
    Registry::new()
        .register("stuck", job_stuck)
        .register("noop", job_noop)
        .register("pipeline", pipeline)
        .register("flaky", job_flaky)
        .register("always_flaky", job_always_flaky)
        .register("fatal", job_fatal)
        .register("child_process", job_child_process)
        .register("busy", job_busy)
        .register("two_phase", job_two_phase)
}

struct Fixture {
    t: TestDb,
    db: Db,
    token: SessionToken,
}

async fn fixture() -> Fixture {
    let t = TestDb::new().await;
    let db = t.db().await;
    effects_table(&db).await;
    let (_, token) = t.user(&db, "a@example.com").await;
    Fixture { t, db, token }
}

impl Fixture {
    async fn submit(&self, req: JobRequest) -> i64 {
        submit_as(&self.db, &self.token, req).await
    }

    fn worker(
        &self,
        id: &str,
        opts: Option<WorkerOptions>,
    ) -> (CancellationToken, tokio::task::JoinHandle<()>) {
        let worker = Worker::new(
            self.db.owner().unwrap().clone(),
            registry(),
            opts.unwrap_or_else(|| options(id, Duration::from_secs(5))),
        );
        let stop = CancellationToken::new();
        let s = stop.clone();
        (
            stop,
            tokio::spawn(async move { worker.run(s).await.unwrap() }),
        )
    }

    async fn job(&self, id: i64) -> apiforge::engine::JobRecord {
        let mut tx = self.db.begin_as(&self.token).await.unwrap();
        let job = queue::get(&mut tx, id)
            .await
            .unwrap()
            .expect("job visible to its owner");
        tx.commit().await.unwrap();
        job
    }

    async fn wait_state(&self, id: i64, state: &str) -> apiforge::engine::JobRecord {
        wait_state_as(&self.db, &self.token, id, state).await
    }

    async fn effects(&self, job: i64) -> Vec<(String, i32)> {
        sqlx::query_as("SELECT step, attempt FROM test_effects WHERE job_id = $1 ORDER BY at")
            .bind(job)
            .fetch_all(self.db.owner().unwrap())
            .await
            .unwrap()
    }

    async fn step_attempts(&self, job: i64) -> BTreeMap<String, i32> {
        let mut tx = self.db.begin_as(&self.token).await.unwrap();
        let steps = queue::steps(&mut tx, job).await.unwrap();
        steps.into_iter().map(|s| (s.name, s.attempts)).collect()
    }
}

async fn get_as(db: &Db, token: &SessionToken, id: i64) -> apiforge::engine::JobRecord {
    let mut tx = db.begin_as(token).await.unwrap();
    let job = queue::get(&mut tx, id)
        .await
        .unwrap()
        .expect("job visible to its owner");
    tx.commit().await.unwrap();
    job
}

/// Waits for a job to reach `state`, woken by its events (no polling sleeps).
async fn wait_state_as(
    db: &Db,
    token: &SessionToken,
    id: i64,
    state: &str,
) -> apiforge::engine::JobRecord {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    let mut events = EventSubscription::start(db, token, 0, Some(id))
        .await
        .unwrap();
    loop {
        let job = get_as(db, token, id).await;
        if job.state == state {
            return job;
        }
        assert!(
            !(job.state != "queued" && job.state != "running" && job.state != state),
            "job {id} ended {} ({:?}), expected {state}",
            job.state,
            job.error
        );
        // Every state change comes with an event: wait for the next one.
        match tokio::time::timeout_at(deadline, events.events.recv()).await {
            Ok(Some(_)) => {}
            Ok(None) => panic!("event feed closed"),
            Err(_) => panic!(
                "timed out waiting for job {id} to be {state}; it is {}",
                job.state
            ),
        }
    }
}

async fn submit_as(db: &Db, token: &SessionToken, req: JobRequest) -> i64 {
    let mut tx = db.begin_as(token).await.unwrap();
    let s = queue::submit(&mut tx, &req).await.unwrap();
    tx.commit().await.unwrap();
    s.job
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_job_runs_its_steps_once_and_reports_events() {
    let f = fixture().await;
    let (stop, handle) = f.worker("w1", None);
    let job = f.submit(JobRequest::new("pipeline", json!({}))).await;
    let done = f.wait_state(job, "succeeded").await;
    assert_eq!(
        done.output,
        Some(json!({ "outputs": ["a-out", "b-out", "d-out"], "version": 1 }))
    );
    assert_eq!(
        f.effects(job).await,
        vec![
            ("a".into(), 1),
            ("b".into(), 1),
            ("c".into(), 1),
            ("d".into(), 1)
        ]
    );

    let mut tx = f.db.begin_as(&f.token).await.unwrap();
    let events = apiforge::engine::events::since(&mut tx, 0, Some(job))
        .await
        .unwrap();
    let kinds: Vec<String> = events
        .iter()
        .map(|e| format!("{}:{}", e.kind, e.step.clone().unwrap_or_default()))
        .collect();
    assert_eq!(
        kinds,
        [
            "job_started:",
            "step_started:a",
            "step_finished:a",
            "step_started:b",
            "step_finished:b",
            "step_started:c",
            "step_finished:c",
            "step_started:d",
            "step_finished:d",
            "job_finished:"
        ]
    );
    stop.cancel();
    handle.await.unwrap();
}

/// Entry point of the worker child process (only does something when the parent
/// test sets APIFORGE_ENGINE_CHILD_URL).
#[test]
fn worker_child() {
    let Ok(url) = std::env::var("APIFORGE_ENGINE_CHILD_URL") else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        let worker = Worker::new(pool, registry(), options("child", Duration::from_secs(2)));
        worker.run(CancellationToken::new()).await.unwrap();
    });
}

async fn crash_in_the_middle_of(step: &str) {
    let f = fixture().await;
    let url = support::server().url(apiforge::db::local_cluster::OWNER_ROLE, &f.t.name);
    let job = f
        .submit(JobRequest::new("pipeline", json!({ "block_at": step })))
        .await;
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "engine::worker_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("APIFORGE_ENGINE_CHILD_URL", &url)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the child is inside the step's body.
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let attempts = f.step_attempts(job).await;
        let running: Option<String> =
            sqlx::query_scalar("SELECT state FROM job_steps WHERE job_id = $1 AND name = $2")
                .bind(job)
                .bind(step)
                .fetch_optional(f.db.owner().unwrap())
                .await
                .unwrap();
        // Inside the body: its first attempt recorded its effect (a database step's
        // effect is in its open transaction, invisible until it commits).
        let body_entered = step == "c" || f.effects(job).await.contains(&(step.to_owned(), 1));
        if attempts.get(step) == Some(&1) && running.as_deref() == Some("running") && body_entered {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the child never reached step {step}"
        );
        let mut events = EventSubscription::start(&f.db, &f.token, 0, Some(job))
            .await
            .unwrap();
        let _ = tokio::time::timeout(Duration::from_millis(200), events.events.recv()).await;
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    child.wait().unwrap();

    // A second worker takes over once the dead worker's lease (2 s) expires.
    let (stop, handle) = f.worker("rescuer", None);
    let done = f.wait_state(job, "succeeded").await;
    stop.cancel();
    handle.await.unwrap();

    assert_eq!(
        done.output,
        Some(json!({ "outputs": ["a-out", "b-out", "d-out"], "version": 1 }))
    );
    let versions: i64 = sqlx::query_scalar("SELECT count(*) FROM test_versions WHERE job_id = $1")
        .bind(job)
        .fetch_one(f.db.owner().unwrap())
        .await
        .unwrap();
    assert_eq!(versions, 1, "the database effect must happen exactly once");

    // Steps before the crash ran once and were reused; the interrupted step ran again
    // (a database step's first attempt rolled back with the dead connection).
    let effects = f.effects(job).await;
    let expected: Vec<(String, i32)> = match step {
        "a" => vec![("a", 1), ("a", 2), ("b", 1), ("c", 1), ("d", 1)],
        "b" => vec![("a", 1), ("b", 1), ("b", 2), ("c", 1), ("d", 1)],
        "c" => vec![("a", 1), ("b", 1), ("c", 2), ("d", 1)],
        _ => vec![("a", 1), ("b", 1), ("c", 1), ("d", 1), ("d", 2)],
    }
    .into_iter()
    .map(|(s, n)| (s.to_owned(), n))
    .collect();
    assert_eq!(effects, expected, "killed in step {step}");
    let attempts = f.step_attempts(job).await;
    for (name, n) in &attempts {
        assert_eq!(
            *n,
            if name == step { 2 } else { 1 },
            "attempts of step {name} after a crash in {step}: {attempts:?}"
        );
    }
    let claims: i32 = f.job(job).await.attempts;
    assert_eq!(claims, 2, "claimed by the child, then by the rescuer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn worker_killed_in_step_a_is_resumed() {
    crash_in_the_middle_of("a").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn worker_killed_in_step_b_is_resumed() {
    crash_in_the_middle_of("b").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn worker_killed_in_a_database_step_is_resumed() {
    crash_in_the_middle_of("c").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn worker_killed_in_the_last_step_is_resumed() {
    crash_in_the_middle_of("d").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failing_steps_are_retried_with_backoff() {
    let f = fixture().await;
    let (stop, handle) = f.worker("w1", None);
    let job = f.submit(JobRequest::new("flaky", json!({}))).await;
    let done = f.wait_state(job, "succeeded").await;
    assert_eq!(done.output, Some(json!({ "succeeded_on_attempt": 3 })));
    assert_eq!(
        f.effects(job).await,
        vec![
            ("flaky".into(), 1),
            ("flaky".into(), 2),
            ("flaky".into(), 3)
        ]
    );
    assert_eq!(f.step_attempts(job).await.get("flaky"), Some(&3));

    // Each retry waited its backoff (20 ms, then 40 ms, ±20% jitter) before running.
    let times: Vec<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT at FROM test_effects WHERE job_id = $1 ORDER BY at")
            .bind(job)
            .fetch_all(f.db.owner().unwrap())
            .await
            .unwrap();
    let gaps: Vec<i64> = times
        .windows(2)
        .map(|w| (w[1] - w[0]).num_milliseconds())
        .collect();
    assert!(gaps[0] >= 16, "first retry came after {gaps:?} ms");
    assert!(gaps[1] >= 32, "second retry came after {gaps:?} ms");
    let mut tx = f.db.begin_as(&f.token).await.unwrap();
    let retries = apiforge::engine::events::since(&mut tx, 0, Some(job))
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.message.contains("retrying in"))
        .count();
    assert_eq!(retries, 2);
    stop.cancel();
    handle.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retries_stop_at_the_step_limit() {
    let f = fixture().await;
    let (stop, handle) = f.worker("w1", None);
    let job = f.submit(JobRequest::new("always_flaky", json!({}))).await;
    let done = f.wait_state(job, "failed").await;
    let error = done.error.unwrap();
    assert!(
        error.contains("failed 3 time(s)") && error.contains("still broken"),
        "{error}"
    );
    assert_eq!(f.step_attempts(job).await.get("never"), Some(&3));
    stop.cancel();
    handle.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn non_retryable_errors_fail_the_job_at_once() {
    let f = fixture().await;
    let (stop, handle) = f.worker("w1", None);
    let job = f.submit(JobRequest::new("fatal", json!({}))).await;
    let done = f.wait_state(job, "failed").await;
    assert!(done.error.unwrap().contains("the design has no resources"));
    assert_eq!(f.effects(job).await, vec![("validate".into(), 1)]);
    stop.cancel();
    handle.await.unwrap();
}

fn alive(pid: i32) -> bool {
    // A zombie is dead for our purposes; /proc/<pid>/stat shows state Z.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancelling_a_running_job_kills_its_process() {
    let f = fixture().await;
    let (stop, handle) = f.worker("w1", None);
    let job = f.submit(JobRequest::new("child_process", json!({}))).await;
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    let pid: i32 = loop {
        let info: Option<String> = sqlx::query_scalar(
            "SELECT info FROM test_effects WHERE job_id = $1 AND step = 'sandbox'",
        )
        .bind(job)
        .fetch_optional(f.db.owner().unwrap())
        .await
        .unwrap();
        if let Some(pid) = info {
            break pid.parse().unwrap();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the step never started its process"
        );
        tokio::task::yield_now().await;
    };
    assert!(alive(pid));
    let mut tx = f.db.begin_as(&f.token).await.unwrap();
    assert_eq!(
        queue::cancel(&mut tx, job).await.unwrap(),
        CancelOutcome::Requested
    );
    tx.commit().await.unwrap();
    let done = f.wait_state(job, "cancelled").await;
    assert_eq!(done.state, "cancelled");
    support::wait_until(Duration::from_secs(10), "the step's process to die", || {
        !alive(pid)
    });
    stop.cancel();
    handle.await.unwrap();
}

#[tokio::test]
async fn cancelling_a_queued_job_ends_it_at_once() {
    let f = fixture().await;
    let job = f.submit(JobRequest::new("noop", json!({}))).await;
    let mut tx = f.db.begin_as(&f.token).await.unwrap();
    assert_eq!(
        queue::cancel(&mut tx, job).await.unwrap(),
        CancelOutcome::Cancelled
    );
    assert_eq!(
        queue::cancel(&mut tx, job).await.unwrap(),
        CancelOutcome::AlreadyFinished
    );
    assert_eq!(
        queue::cancel(&mut tx, 999_999).await.unwrap(),
        CancelOutcome::NotFound
    );
    tx.commit().await.unwrap();
    assert_eq!(f.job(job).await.state, "cancelled");
}

#[tokio::test]
async fn the_same_idempotency_key_yields_the_same_job() {
    let f = fixture().await;
    let req = JobRequest::new("noop", json!({ "n": 1 })).idempotency_key("new:bakery:1");
    let mut tx = f.db.begin_as(&f.token).await.unwrap();
    let first = queue::submit(&mut tx, &req).await.unwrap();
    let second = queue::submit(&mut tx, &req).await.unwrap();
    tx.commit().await.unwrap();
    assert!(!first.deduplicated);
    assert!(second.deduplicated);
    assert_eq!(first.job, second.job);

    // After 24 hours the key is free again.
    sqlx::query("UPDATE jobs SET created_at = now() - interval '25 hours' WHERE id = $1")
        .bind(first.job)
        .execute(f.db.owner().unwrap())
        .await
        .unwrap();
    let mut tx = f.db.begin_as(&f.token).await.unwrap();
    let later = queue::submit(&mut tx, &req).await.unwrap();
    tx.commit().await.unwrap();
    assert!(!later.deduplicated);
    assert_ne!(later.job, first.job);

    // Another user's identical key is theirs alone.
    let (_, token_b) = f.t.user(&f.db, "b@example.com").await;
    let mut tx = f.db.begin_as(&token_b).await.unwrap();
    let theirs = queue::submit(&mut tx, &req).await.unwrap();
    tx.commit().await.unwrap();
    assert!(!theirs.deduplicated);
}

/// owner, worker, start, end of one job's work.
type WorkInterval = (
    String,
    String,
    chrono::DateTime<chrono::Utc>,
    chrono::DateTime<chrono::Utc>,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrency_limits_hold_across_two_workers() {
    let f = fixture().await;
    let (_, token_b) = f.t.user(&f.db, "b@example.com").await;
    let mut jobs = Vec::new();
    for _ in 0..8 {
        jobs.push(f.submit(JobRequest::new("busy", json!({}))).await);
        jobs.push(submit_as(&f.db, &token_b, JobRequest::new("busy", json!({}))).await);
    }
    let per_worker = |id: &str| WorkerOptions {
        concurrency: 3,
        user_concurrency: 2,
        ..options(id, Duration::from_secs(5))
    };
    let (stop1, h1) = f.worker("w1", Some(per_worker("w1")));
    let (stop2, h2) = f.worker("w2", Some(per_worker("w2")));
    for (i, job) in jobs.iter().enumerate() {
        let token = if i % 2 == 0 { &f.token } else { &token_b };
        wait_state_as(&f.db, token, *job, "succeeded").await;
    }
    stop1.cancel();
    stop2.cancel();
    h1.await.unwrap();
    h2.await.unwrap();

    // From the recorded work intervals: the most jobs running at once per user and per worker.
    let rows: Vec<WorkInterval> = sqlx::query_as(
        "SELECT j.owner_id::text, e.info, e.at, e.ended FROM test_effects e JOIN jobs j ON j.id = e.job_id WHERE e.step = 'work'",
    )
    .fetch_all(f.db.owner().unwrap())
    .await
    .unwrap();
    assert_eq!(rows.len(), 16, "every job worked exactly once");
    let peak = |key: &dyn Fn(&WorkInterval) -> String| {
        let mut peaks: BTreeMap<String, usize> = BTreeMap::new();
        for r in &rows {
            let overlapping = rows
                .iter()
                .filter(|o| key(o) == key(r) && o.2 <= r.2 && o.3 > r.2)
                .count();
            let e = peaks.entry(key(r)).or_default();
            *e = (*e).max(overlapping);
        }
        peaks
    };
    let per_user = peak(&|r| r.0.clone());
    let per_worker = peak(&|r| r.1.clone());
    assert!(
        per_user.values().all(|n| *n <= 2),
        "per-user limit broken: {per_user:?}"
    );
    assert!(
        per_worker.values().all(|n| *n <= 3),
        "per-worker limit broken: {per_worker:?}"
    );
    assert!(
        per_user.values().any(|n| *n == 2),
        "jobs never ran in parallel: {per_user:?}"
    );
    assert_eq!(
        per_worker.len(),
        2,
        "both workers took jobs: {per_worker:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shutdown_finishes_the_step_and_releases_the_job() {
    let f = fixture().await;
    let (stop, handle) = f.worker("leaving", None);
    let job = f.submit(JobRequest::new("two_phase", json!({}))).await;
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        if f.effects(job).await.iter().any(|(s, _)| s == "second") {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline);
        tokio::task::yield_now().await;
    }
    stop.cancel();
    handle.await.unwrap();
    let released = f.job(job).await;
    assert_eq!(
        released.state, "queued",
        "the job should be released, not failed"
    );
    assert_eq!(f.step_attempts(job).await.get("second"), Some(&1));

    let (stop, handle) = f.worker("arriving", None);
    f.wait_state(job, "succeeded").await;
    stop.cancel();
    handle.await.unwrap();
    assert_eq!(
        f.effects(job).await,
        vec![
            ("first".into(), 1),
            ("second".into(), 1),
            ("third".into(), 1)
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nobody_sees_another_users_jobs_or_events() {
    let f = fixture().await;
    let (_, token_b) = f.t.user(&f.db, "b@example.com").await;
    let mut feed_b = EventSubscription::start(&f.db, &token_b, 0, None)
        .await
        .unwrap();
    let mut feed_a = EventSubscription::start(&f.db, &f.token, 0, None)
        .await
        .unwrap();
    let (stop, handle) = f.worker("w1", None);
    let job = f.submit(JobRequest::new("pipeline", json!({}))).await;
    f.wait_state(job, "succeeded").await;
    // A receives its events live, in order.
    let mut kinds = Vec::new();
    while kinds.last().map(String::as_str) != Some("job_finished") {
        let e = tokio::time::timeout(TIMEOUT, feed_a.events.recv())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(e.job_id, job);
        kinds.push(e.kind);
    }
    assert_eq!(kinds.first().map(String::as_str), Some("job_started"));
    stop.cancel();
    handle.await.unwrap();

    // B got nothing: send B an event of its own and check it is the first B receives.
    let own = submit_as(&f.db, &token_b, JobRequest::new("noop", json!({}))).await;
    let (stop, handle) = f.worker("w2", None);
    let first = tokio::time::timeout(TIMEOUT, feed_b.events.recv())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(first.job_id, own, "B received an event of A's job");
    stop.cancel();
    handle.await.unwrap();

    let mut tx = f.db.begin_as(&token_b).await.unwrap();
    assert!(queue::get(&mut tx, job).await.unwrap().is_none());
    assert!(queue::steps(&mut tx, job).await.unwrap().is_empty());
    assert!(
        apiforge::engine::events::since(&mut tx, 0, Some(job))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        queue::cancel(&mut tx, job).await.unwrap(),
        CancelOutcome::NotFound
    );
    let listed = queue::list(&mut tx, true, 100).await.unwrap();
    assert_eq!(listed.iter().map(|j| j.id).collect::<Vec<_>>(), vec![own]);
}

/// Each worker shutdown interrupts the step (a run without an outcome, not a failed
/// attempt): a step allowed one attempt is resumed after each, until it has been
/// interrupted more often than its policy tolerates (3 by default); then it fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_step_interrupted_too_often_fails_the_job() {
    let f = fixture().await;
    let job = f.submit(JobRequest::new("stuck", json!({}))).await;
    for run in 1..=4 {
        let opts = WorkerOptions {
            shutdown_grace: Duration::ZERO,
            ..options(&format!("w{run}"), Duration::from_secs(5))
        };
        let (stop, handle) = f.worker("", Some(opts));
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        let mut events = EventSubscription::start(&f.db, &f.token, 0, Some(job))
            .await
            .unwrap();
        while !f.effects(job).await.contains(&("stuck".to_owned(), run)) {
            assert!(
                tokio::time::timeout_at(deadline, events.events.recv())
                    .await
                    .is_ok(),
                "run {run} of the step never started"
            );
        }
        stop.cancel();
        handle.await.unwrap();
        let state = f.job(job).await.state;
        assert_eq!(state, "queued", "released after run {run}, not failed");
    }
    // The next claim finds the fourth interruption and gives up without a fifth run.
    let (stop, handle) = f.worker("w5", None);
    let failed = f.wait_state(job, "failed").await;
    stop.cancel();
    handle.await.unwrap();
    let error = failed.error.unwrap_or_default();
    assert!(error.contains("interrupted 4 time(s)"), "{error}");
    assert_eq!(f.effects(job).await.len(), 4, "no fifth run");
}
