//! Database figures for the foundation issue. Run: `cargo bench --bench db`.
//!
//! * first-time cluster creation (initdb + start + bootstrap + migrations)
//! * `db start` of an initialised, stopped cluster (the library call and the binary)
//! * start-up migration check when already migrated
//! * one RLS-filtered projects listing with 10,000 projects across 100 users

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::time::{Duration, Instant};

use apiforge::auth::SessionToken;
use apiforge::db::local_cluster::{
    CLIENT_ROLE, DATABASE, LocalCluster, OWNER_ROLE, PgBinaries, ServiceUser,
};
use apiforge::db::{Db, Location};

fn summary(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let pct = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "{name:<58} n={:<4} median {:>9.3} ms   p95 {:>9.3} ms   min {:>9.3} ms",
        samples.len(),
        pct(0.5).as_secs_f64() * 1e3,
        pct(0.95).as_secs_f64() * 1e3,
        samples[0].as_secs_f64() * 1e3
    );
}

fn cluster_in(dir: &std::path::Path) -> LocalCluster {
    LocalCluster::with(
        PgBinaries::find().unwrap(),
        dir,
        ServiceUser::for_current_process().unwrap(),
    )
    .unwrap()
}

async fn open(cluster: &LocalCluster) -> Db {
    apiforge::db::bootstrap(cluster.admin_options(), DATABASE)
        .await
        .unwrap();
    let db = Db::connect(
        Some(cluster.options(OWNER_ROLE, DATABASE)),
        cluster.options(CLIENT_ROLE, DATABASE),
        Location::Embedded {
            dir: cluster.dir.clone(),
        },
        8,
        Duration::from_secs(10),
    )
    .await
    .unwrap();
    db.migrate().await.unwrap();
    db
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let root = tempfile::Builder::new()
        .prefix("apiforge-bench-")
        .tempdir()
        .unwrap();

    // First-time init, end to end (what a brand-new user waits for).
    let mut inits = Vec::new();
    for i in 0..3 {
        let dir = root.path().join(format!("init{i}"));
        let t = Instant::now();
        let c = cluster_in(&dir);
        c.ensure_running().unwrap();
        rt.block_on(async { open(&c).await.close().await });
        inits.push(t.elapsed());
        c.stop().unwrap();
    }
    summary("first-time init (initdb+start+bootstrap+migrate)", inits);

    let dir = root.path().join("main");
    let cluster = cluster_in(&dir);
    cluster.ensure_running().unwrap();
    rt.block_on(async { open(&cluster).await.close().await });

    // Start of an initialised, stopped cluster.
    let mut starts = Vec::new();
    for _ in 0..5 {
        cluster.stop().unwrap();
        let t = Instant::now();
        cluster.ensure_running().unwrap();
        starts.push(t.elapsed());
    }
    summary("db start, initialised cluster (library)", starts);

    let home = root.path().join("home");
    let bin = env!("CARGO_BIN_EXE_apiforge");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(bin)
            .env("APIFORGE_HOME", &home)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&["db", "start"]);
    let mut bin_starts = Vec::new();
    for _ in 0..5 {
        run(&["db", "stop"]);
        let t = Instant::now();
        run(&["db", "start"]);
        bin_starts.push(t.elapsed());
    }
    summary(
        "`apiforge db start`, initialised cluster (process)",
        bin_starts,
    );
    let mut noop = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        run(&["db", "start"]);
        noop.push(t.elapsed());
    }
    summary("`apiforge db start`, already running (process)", noop);
    run(&["db", "stop"]);

    rt.block_on(async {
        let db = open(&cluster).await;
        let mut checks = Vec::new();
        for _ in 0..50 {
            let t = Instant::now();
            db.migrate().await.unwrap();
            checks.push(t.elapsed());
        }
        summary("migration check, already migrated", checks);

        // 100 users x 100 projects.
        let owner = db.owner().unwrap();
        let mut tokens = Vec::new();
        for u in 0..100 {
            let token = SessionToken::generate();
            let id: uuid::Uuid = sqlx::query_scalar("INSERT INTO users (email) VALUES ($1) RETURNING id")
                .bind(format!("user{u}@example.com"))
                .fetch_one(owner)
                .await
                .unwrap();
            sqlx::query("INSERT INTO sessions (user_id, token_hash, kind, expires_at) VALUES ($1, $2, 'local', now() + interval '1 day')")
                .bind(id)
                .bind(token.hash())
                .execute(owner)
                .await
                .unwrap();
            sqlx::query(
                "INSERT INTO projects (owner_id, slug, name, framework, updated_at)
                 SELECT $1, 'p' || g, 'Project ' || g, 'fastapi', now() - g * interval '1 minute'
                 FROM generate_series(1, 100) g",
            )
            .bind(id)
            .execute(owner)
            .await
            .unwrap();
            tokens.push(token);
        }
        sqlx::query("ANALYZE").execute(owner).await.unwrap();
        let total: i64 = sqlx::query_scalar("SELECT count(*) FROM projects").fetch_one(owner).await.unwrap();
        assert_eq!(total, 10_000);

        let mut lists = Vec::new();
        for i in 0..300 {
            let token = &tokens[i % tokens.len()];
            let t = Instant::now();
            let mut tx = db.begin_as(token).await.unwrap();
            let rows = apiforge::db::projects::list(&mut tx).await.unwrap();
            tx.commit().await.unwrap();
            lists.push(t.elapsed());
            assert_eq!(rows.len(), 100);
        }
        summary("RLS projects listing (100 of 10,000 rows), incl. tx+session", lists);

        let mut tx = db.begin_as(&tokens[0]).await.unwrap();
        let plan: Vec<String> = sqlx::query_scalar(
            "EXPLAIN ANALYZE SELECT id, slug, name, framework, status, latest_version, updated_at
             FROM projects ORDER BY updated_at DESC, slug",
        )
        .fetch_all(&mut *tx)
        .await
        .unwrap();
        tx.rollback().await.unwrap();
        println!("plan of the listing as one user:\n  {}", plan.join("\n  "));
        db.close().await;
    });
    cluster.stop().unwrap();
}
