//! Version storage figures. Run: `cargo bench --bench versions`.
//!
//! 100 versions of a 20-file project where each version changes 1–2 files, recorded
//! through the client role (one transaction per version, as a user would):
//! * bytes in the database (blobs + version_files, tables with their TOAST and
//!   indexes, minus the empty tables) against naive copies (the sum of every file of
//!   every version);
//! * time per `record_version` (transaction, session and commit included), and for
//!   reading back, diffing and restoring.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use apiforge::auth::SessionToken;
use apiforge::codegen::{Framework, GeneratedFiles};
use apiforge::db::local_cluster::{
    CLIENT_ROLE, DATABASE, LocalCluster, OWNER_ROLE, PgBinaries, ServiceUser,
};
use apiforge::db::projects::{self, NamedProject};
use apiforge::db::{Db, Location};
use apiforge::versions::{self, NewVersion, Origin};

const FILES: usize = 20;
const VERSIONS: usize = 100;

fn summary(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let pct = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "{name:<50} n={:<4} median {:>8.3} ms   p95 {:>8.3} ms   min {:>8.3} ms",
        samples.len(),
        pct(0.5).as_secs_f64() * 1e3,
        pct(0.95).as_secs_f64() * 1e3,
        samples[0].as_secs_f64() * 1e3
    );
}

/// A deterministic sequence, so every run stores the same bytes.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// Source-like text of about 1–8 KiB: the sizes of generated routers, models, tests.
fn source(rng: &mut Lcg, file: usize, revision: usize) -> String {
    let lines = 30 + (rng.next() % 220) as usize;
    let mut s = format!("# file {file}, revision {revision}\n");
    for i in 0..lines {
        s.push_str(&format!(
            "def handler_{file}_{i}(request, item_id: int) -> dict:  # {}\n",
            rng.next() % 10_000
        ));
    }
    s
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
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
        apiforge::db::bootstrap(cluster.admin_options(), DATABASE)
            .await
            .unwrap();
        let db = Db::connect(
            Some(cluster.options(OWNER_ROLE, DATABASE)),
            cluster.options(CLIENT_ROLE, DATABASE),
            Location::Embedded {
                dir: cluster.dir.clone(),
            },
            4,
            Duration::from_secs(10),
        )
        .await
        .unwrap();
        db.migrate().await.unwrap();
        run(&db).await;
        db.close().await;
    });
    cluster.stop().unwrap();
}

async fn storage_bytes(db: &Db) -> i64 {
    sqlx::query_scalar(
        "SELECT pg_total_relation_size('blobs') + pg_total_relation_size('version_files')",
    )
    .fetch_one(db.owner().unwrap())
    .await
    .unwrap()
}

async fn run(db: &Db) {
    let owner = db.owner().unwrap();
    let token = SessionToken::generate();
    let user: uuid::Uuid =
        sqlx::query_scalar("INSERT INTO users (email) VALUES ('bench@example.com') RETURNING id")
            .fetch_one(owner)
            .await
            .unwrap();
    sqlx::query(
        "INSERT INTO sessions (user_id, token_hash, kind, expires_at)
         VALUES ($1, $2, 'local', now() + interval '1 day')",
    )
    .bind(user)
    .bind(token.hash())
    .execute(owner)
    .await
    .unwrap();
    let mut tx = db.begin_as(&token).await.unwrap();
    let project = projects::create_named(
        &mut tx,
        &NamedProject {
            owner: user,
            name: "Storage bench",
            description: "",
            framework: Framework::Fastapi,
            provider: "rules",
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let empty = storage_bytes(db).await;

    let design_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/designs/ten_resources.json"
    );
    let design: apiforge::design::ApiDesign =
        serde_json::from_str(&std::fs::read_to_string(design_path).unwrap()).unwrap();
    let spec = apiforge::codegen::openapi::build(&design);

    let mut rng = Lcg(42);
    let mut files: GeneratedFiles = (0..FILES)
        .map(|f| (format!("app/module_{f:02}.py"), source(&mut rng, f, 0)))
        .collect();
    let mut naive: u64 = 0;
    let mut records = Vec::with_capacity(VERSIONS);
    for n in 0..VERSIONS {
        if n > 0 {
            let changes = 1 + (rng.next() % 2) as usize;
            for _ in 0..changes {
                let f = (rng.next() % FILES as u64) as usize;
                files.insert(format!("app/module_{f:02}.py"), source(&mut rng, f, n));
            }
        }
        naive += files.values().map(|c| c.len() as u64).sum::<u64>();
        let generated: BTreeSet<String> = files.keys().cloned().collect();
        let prompt = format!("revision {n}");
        let t = Instant::now();
        let mut tx = db.begin_as(&token).await.unwrap();
        let v = versions::record_version(
            &mut tx,
            &NewVersion {
                project: project.id,
                parent: (n > 0).then_some(n as i32),
                origin: if n == 0 {
                    Origin::Generate
                } else {
                    Origin::Iterate
                },
                prompt: &prompt,
                design: &design,
                spec: &spec,
                framework: Framework::Fastapi,
                files: &files,
                generated: &generated,
                created_by: user,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        records.push(t.elapsed());
        assert_eq!(v.number, n as i32 + 1);
    }
    sqlx::query("VACUUM ANALYZE blobs, version_files, versions")
        .execute(owner)
        .await
        .unwrap();
    let stored = storage_bytes(db).await - empty;
    let (blobs, blob_bytes): (i64, i64) =
        sqlx::query_as("SELECT count(*), coalesce(sum(size), 0)::bigint FROM blobs")
            .fetch_one(owner)
            .await
            .unwrap();
    let versions_table: i64 = sqlx::query_scalar("SELECT pg_total_relation_size('versions')")
        .fetch_one(owner)
        .await
        .unwrap();
    println!(
        "{VERSIONS} versions x {FILES} files, 1-2 files changed per version (fixture design: ten_resources)"
    );
    println!(
        "naive copies (sum of all files of all versions)    {:>10} bytes",
        naive
    );
    println!(
        "in the database: blobs + version_files (+indexes)  {:>10} bytes  ({:.1}% of naive, {:.1}x smaller)",
        stored,
        stored as f64 * 100.0 / naive as f64,
        naive as f64 / stored as f64
    );
    println!(
        "  distinct blobs {blobs}, their raw content {blob_bytes} bytes; version_files rows {}",
        VERSIONS * FILES
    );
    println!(
        "versions table (design + spec JSON per version, not deduplicated) {versions_table} bytes"
    );
    summary("record_version (20 files, tx + commit)", records);

    let mut reads = Vec::new();
    let mut diffs = Vec::new();
    for n in 1..=50 {
        let t = Instant::now();
        let mut tx = db.begin_as(&token).await.unwrap();
        let got = versions::read_contents(&mut tx, project.id, n)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        reads.push(t.elapsed());
        assert_eq!(got.len(), FILES);
        let t = Instant::now();
        let mut tx = db.begin_as(&token).await.unwrap();
        let d = versions::diff(&mut tx, project.id, n, n + 1).await.unwrap();
        tx.commit().await.unwrap();
        diffs.push(t.elapsed());
        assert!(!d.files.is_empty());
    }
    summary("read all files of a version", reads);
    summary("diff of consecutive versions", diffs);
    let mut restores = Vec::new();
    for n in 1..=20 {
        let t = Instant::now();
        let mut tx = db.begin_as(&token).await.unwrap();
        versions::restore(&mut tx, project.id, n, user)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        restores.push(t.elapsed());
    }
    summary("restore (new version equal to an old one)", restores);
}
