//! Job engine figures. Run: `cargo bench --bench engine`.
//!
//! * no-op job throughput with 2 workers on a local cluster
//! * enqueue → step start latency (submit committed → the first step's body runs)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use apiforge::auth::SessionToken;
use apiforge::db::local_cluster::{
    CLIENT_ROLE, DATABASE, LocalCluster, OWNER_ROLE, PgBinaries, ServiceUser,
};
use apiforge::db::{Db, Location};
use apiforge::engine::{
    JobContext, JobHandler, JobRequest, Registry, RetryPolicy, StepError, Worker, WorkerOptions,
    queue,
};
use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

fn options(id: &str, concurrency: usize) -> WorkerOptions {
    WorkerOptions {
        id: id.into(),
        concurrency,
        user_concurrency: 10_000,
        lease: Duration::from_secs(30),
        poll: Duration::from_millis(100),
        max_claims: 20,
        shutdown_grace: Duration::from_secs(5),
    }
}

fn no_steps(_ctx: &mut JobContext) -> BoxFuture<'_, Result<Value, StepError>> {
    async { Ok(Value::Null) }.boxed()
}

fn one_step(ctx: &mut JobContext) -> BoxFuture<'_, Result<Value, StepError>> {
    async move {
        ctx.step("noop", RetryPolicy::once(), |_| async { Ok(()) })
            .await?;
        Ok(Value::Null)
    }
    .boxed()
}

struct Timed(mpsc::UnboundedSender<Instant>);

impl JobHandler for Timed {
    fn run<'a>(&'a self, ctx: &'a mut JobContext) -> BoxFuture<'a, Result<Value, StepError>> {
        let tx = self.0.clone();
        async move {
            ctx.step("first", RetryPolicy::once(), move |_| async move {
                let _ = tx.send(Instant::now());
                Ok(())
            })
            .await?;
            Ok(Value::Null)
        }
        .boxed()
    }
}

async fn throughput(db: &Db, owner: uuid::Uuid, kind: &str, n: i64) -> f64 {
    sqlx::query("INSERT INTO jobs (owner_id, kind) SELECT $1, $2 FROM generate_series(1, $3)")
        .bind(owner)
        .bind(kind)
        .bind(n)
        .execute(db.owner().unwrap())
        .await
        .unwrap();
    let registry = Registry::new()
        .register("none", no_steps)
        .register("one", one_step);
    let stop = CancellationToken::new();
    let start = Instant::now();
    let mut handles = Vec::new();
    for w in 0..2 {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(12)
            .connect_with(db.owner().unwrap().connect_options().as_ref().clone())
            .await
            .unwrap();
        let worker = Worker::new(pool, registry.clone(), options(&format!("bench{w}"), 32));
        let s = stop.clone();
        handles.push(tokio::spawn(async move { worker.run(s).await.unwrap() }));
    }
    loop {
        let left: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM jobs WHERE kind = $1 AND state <> 'succeeded'",
        )
        .bind(kind)
        .fetch_one(db.owner().unwrap())
        .await
        .unwrap();
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = start.elapsed();
    stop.cancel();
    for h in handles {
        h.await.unwrap();
    }
    n as f64 / elapsed.as_secs_f64()
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let root = tempfile::Builder::new()
        .prefix("apiforge-bench-")
        .tempdir()
        .unwrap();
    let cluster = LocalCluster::with(
        PgBinaries::find().unwrap(),
        root.path(),
        ServiceUser::for_current_process().unwrap(),
    )
    .unwrap();
    cluster.ensure_running().unwrap();
    rt.block_on(async {
        apiforge::db::bootstrap(cluster.admin_options(), DATABASE).await.unwrap();
        let db = Db::connect(
            Some(cluster.options(OWNER_ROLE, DATABASE)),
            cluster.options(CLIENT_ROLE, DATABASE),
            Location::Embedded { dir: cluster.dir.clone() },
            8,
            Duration::from_secs(10),
        )
        .await
        .unwrap();
        db.migrate().await.unwrap();
        let token = SessionToken::generate();
        let owner: uuid::Uuid = sqlx::query_scalar("INSERT INTO users (email) VALUES ('bench@example.com') RETURNING id")
            .fetch_one(db.owner().unwrap())
            .await
            .unwrap();
        sqlx::query("INSERT INTO sessions (user_id, token_hash, kind, expires_at) VALUES ($1, $2, 'local', now() + interval '1 day')")
            .bind(owner)
            .bind(token.hash())
            .execute(db.owner().unwrap())
            .await
            .unwrap();

        for (kind, label) in [("none", "no-op job, no steps"), ("one", "no-op job, one durable step")] {
            let rate = throughput(&db, owner, kind, 5000).await;
            println!("throughput, 2 workers x 32 slots, {label:<28} {rate:>8.0} jobs/s (5000 jobs)");
        }

        // Latency: an idle worker, one job at a time.
        let (tx, mut rx) = mpsc::unbounded_channel();
        let registry = Registry::new().register("timed", Timed(tx));
        let worker = Worker::new(db.owner().unwrap().clone(), registry, options("latency", 4));
        let stop = CancellationToken::new();
        let s = stop.clone();
        let handle = tokio::spawn(async move { worker.run(s).await.unwrap() });
        let mut samples = Vec::new();
        let db = Arc::new(db);
        for i in 0..200 {
            let mut t = db.begin_as(&token).await.unwrap();
            queue::submit(&mut t, &JobRequest::new("timed", Value::from(i))).await.unwrap();
            t.commit().await.unwrap();
            let submitted = Instant::now();
            let started = rx.recv().await.unwrap();
            samples.push(started.saturating_duration_since(submitted));
            // Let the job finish so each sample starts from an idle worker.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        samples.sort();
        let at = |p: f64| samples[((samples.len() - 1) as f64 * p) as usize].as_secs_f64() * 1e3;
        println!(
            "enqueue -> step start latency (n=200): median {:.2} ms, p95 {:.2} ms, max {:.2} ms",
            at(0.5),
            at(0.95),
            at(1.0)
        );
        stop.cancel();
        handle.await.unwrap();
    });
    cluster.stop().unwrap();
}
