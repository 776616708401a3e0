//! Shared test support: one throwaway Postgres cluster per test binary, started from
//! the local binaries in a temp dir, and a fresh migrated database per test cloned from
//! a template. With `APIFORGE_TEST_DATABASE_URL` (a superuser URL) an existing server is
//! used instead.
//!
//! Cleanup does not depend on the test process ending well: a watcher process holds
//! the read end of a pipe whose write end only this process has. When the process
//! exits for any reason (success, panic, abort, kill), the pipe closes and the watcher
//! stops the cluster and deletes its directory.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use apiforge::auth::SessionToken;
use apiforge::db::local_cluster::{
    ADMIN_ROLE, CLIENT_ROLE, LocalCluster, OWNER_ROLE, PgBinaries, ServiceUser,
};
use apiforge::db::{Db, Location};
use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use uuid::Uuid;

const TEMPLATE: &str = "apiforge_template";

/// How to reach the server that hosts test databases.
pub struct TestServer {
    admin: PgConnectOptions,
    /// Options for a role on a database, over the same server.
    base: PgConnectOptions,
    embedded_dir: Option<PathBuf>,
    _watcher: Option<Mutex<(Child, ChildStdin)>>,
}

static SERVER: OnceLock<TestServer> = OnceLock::new();
static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The test binary's server, started on first use.
pub fn server() -> &'static TestServer {
    // Built on its own thread: callers are usually inside a test's runtime, where
    // blocking on another runtime is not allowed.
    SERVER.get_or_init(|| {
        std::thread::spawn(start_server)
            .join()
            .expect("test server start-up")
    })
}

fn start_server() -> TestServer {
    {
        let server = match std::env::var("APIFORGE_TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => external(&url),
            _ => embedded(),
        };
        // Bootstrap roles and build the template in a private runtime: each test has
        // its own runtime, and pools must not outlive theirs.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            apiforge::db::bootstrap(server.admin.clone(), TEMPLATE)
                .await
                .unwrap();
            let owner = server.base.clone().username(OWNER_ROLE).database(TEMPLATE);
            let mut conn = PgConnection::connect_with(&owner).await.unwrap();
            apiforge::db::MIGRATOR.run(&mut conn).await.unwrap();
            conn.close().await.unwrap();
            let mut admin = PgConnection::connect_with(&server.admin).await.unwrap();
            sqlx::query(AssertSqlSafe(format!(
                "ALTER DATABASE {TEMPLATE} WITH IS_TEMPLATE true"
            )))
            .execute(&mut admin)
            .await
            .unwrap();
            admin.close().await.unwrap();
        });
        server
    }
}

fn external(url: &str) -> TestServer {
    let admin: PgConnectOptions = url
        .parse()
        .expect("APIFORGE_TEST_DATABASE_URL is a valid URL");
    // A previous run's template may be stale (other migrations): rebuild it.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut c = PgConnection::connect_with(&admin).await.unwrap();
        let _ = sqlx::query(AssertSqlSafe(format!(
            "ALTER DATABASE {TEMPLATE} WITH IS_TEMPLATE false"
        )))
        .execute(&mut c)
        .await;
        sqlx::query(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)"
        )))
        .execute(&mut c)
        .await
        .unwrap();
    });
    TestServer {
        base: admin.clone(),
        admin,
        embedded_dir: None,
        _watcher: None,
    }
}

fn embedded() -> TestServer {
    let tmp = tempfile::Builder::new()
        .prefix("apiforge-pg-")
        .tempdir()
        .unwrap()
        .keep();
    let binaries = PgBinaries::find().expect("postgres binaries (apt-get install postgresql)");
    let user = ServiceUser::for_current_process().unwrap();
    let cluster = LocalCluster::with(binaries, &tmp, user).unwrap();
    cluster
        .ensure_running()
        .unwrap_or_else(|e| panic!("test cluster: {e}\n{}", cluster.log_tail(30)));
    let pid = cluster.running_pid().expect("running").as_raw();
    // `read` returns at EOF, i.e. when every write end is closed: this process died.
    let script = format!(
        "trap '' INT TERM HUP; read _; kill -INT {pid} 2>/dev/null; \
         while kill -0 {pid} 2>/dev/null; do sleep 0.05; done; rm -rf '{}'",
        tmp.display()
    );
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let base = cluster.options(ADMIN_ROLE, "postgres");
    TestServer {
        admin: cluster.admin_options(),
        base,
        embedded_dir: Some(cluster.dir.clone()),
        _watcher: Some(Mutex::new((child, stdin))),
    }
}

impl TestServer {
    pub fn embedded_dir(&self) -> Option<&Path> {
        self.embedded_dir.as_deref()
    }

    pub fn options(&self, role: &str, database: &str) -> PgConnectOptions {
        self.base.clone().username(role).database(database)
    }

    /// A URL for `role` on `database`, for child processes.
    pub fn url(&self, role: &str, database: &str) -> String {
        match &self.embedded_dir {
            Some(dir) => format!(
                "postgresql://{role}@localhost/{database}?host={}&port={}",
                url_encode(&dir.to_string_lossy()),
                self.base.get_port()
            ),
            None => format!(
                "postgresql://{role}@{}:{}/{database}",
                self.base.get_host(),
                self.base.get_port()
            ),
        }
    }

    pub fn admin(&self) -> PgConnectOptions {
        self.admin.clone()
    }
}

/// A fresh, migrated database for one test, dropped when the value is dropped
/// (including on panic).
pub struct TestDb {
    pub name: String,
}

impl TestDb {
    pub async fn new() -> Self {
        let server = server();
        let name = format!(
            "t{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let mut admin = PgConnection::connect_with(&server.admin).await.unwrap();
        let sql = format!("CREATE DATABASE {name} TEMPLATE {TEMPLATE} OWNER {OWNER_ROLE}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match sqlx::query(AssertSqlSafe(sql.clone()))
                .execute(&mut admin)
                .await
            {
                Ok(_) => break,
                // Two tests cloning the template at the same instant: retry.
                Err(e) if is_object_in_use(&e) && Instant::now() < deadline => {
                    tokio::task::yield_now().await;
                }
                Err(e) => panic!("create test database: {e}"),
            }
        }
        sqlx::query(AssertSqlSafe(format!(
            "GRANT CONNECT ON DATABASE {name} TO {CLIENT_ROLE}"
        )))
        .execute(&mut admin)
        .await
        .unwrap();
        admin.close().await.unwrap();
        Self { name }
    }

    pub fn options(&self, role: &str) -> PgConnectOptions {
        server().options(role, &self.name)
    }

    /// Both pools, the way apiforge itself connects.
    pub async fn db(&self) -> Db {
        Db::connect(
            Some(self.options(OWNER_ROLE)),
            self.options(CLIENT_ROLE),
            Location::Server {
                url: self.name.clone(),
            },
            4,
            Duration::from_secs(10),
        )
        .await
        .unwrap()
    }

    /// A user with a live session; returns the user's id and raw token.
    pub async fn user(&self, db: &Db, email: &str) -> (Uuid, SessionToken) {
        let token = SessionToken::generate();
        let id = self
            .user_with_session(db, email, &token, "now() + interval '1 day'", None)
            .await;
        (id, token)
    }

    /// Inserts a user (if new) and a session with the given SQL expiry and revocation.
    pub async fn user_with_session(
        &self,
        db: &Db,
        email: &str,
        token: &SessionToken,
        expires_sql: &str,
        revoked_sql: Option<&str>,
    ) -> Uuid {
        let owner = db.owner().unwrap();
        let id: Uuid = sqlx::query_scalar(
            "INSERT INTO users (email) VALUES ($1)
             ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email RETURNING id",
        )
        .bind(email)
        .fetch_one(owner)
        .await
        .unwrap();
        let sql = format!(
            "INSERT INTO sessions (user_id, token_hash, kind, created_at, expires_at, revoked_at)
             VALUES ($1, $2, 'local', now() - interval '2 days', {expires_sql}, {})",
            revoked_sql.unwrap_or("NULL")
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .bind(token.hash())
            .execute(owner)
            .await
            .unwrap();
        id
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Only an external server needs per-test cleanup; the embedded cluster is
        // removed whole when the test binary exits.
        if server().embedded_dir.is_some() {
            return;
        }
        let name = self.name.clone();
        let admin = server().admin.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut c = PgConnection::connect_with(&admin).await.ok()?;
                sqlx::query(AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut c)
                .await
                .ok()
            })
        })
        .join();
    }
}

fn is_object_in_use(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|c| c == "55006")
}

/// Polls `check` until it returns true or `timeout` passes.
pub fn wait_until(timeout: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    while !check() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        // Back off between polls of an outside condition (process exit, socket).
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// The apiforge binary built for these tests.
pub fn apiforge_bin() -> &'static str {
    env!("CARGO_BIN_EXE_apiforge")
}

/// A command for the apiforge binary with its own APIFORGE_HOME and a clean env.
pub fn apiforge(home: &Path) -> Command {
    let mut cmd = Command::new(apiforge_bin());
    cmd.env("APIFORGE_HOME", home)
        .env_remove("DATABASE_URL")
        .env_remove("APIFORGE_CONFIG")
        .env_remove("RUST_LOG")
        .env_remove("OPENAI_API_KEY");
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("APIFORGE_") && k != "APIFORGE_HOME" {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// Feeds `text` to a child's stdin.
pub fn write_stdin(child: &mut Child, text: &str) {
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An APIFORGE_HOME for tests that run the binary: its embedded cluster is stopped
/// when the value is dropped (pass or fail), and it shares the test runtimes in
/// `target/test-runtimes` so they are installed once per checkout.
pub struct ApiforgeHome {
    dir: tempfile::TempDir,
}

impl ApiforgeHome {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("apiforge-home-")
            .tempdir()
            .unwrap();
        Self { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The binary with this home and the shared runtimes.
    pub fn command(&self) -> Command {
        let mut cmd = apiforge(self.path());
        cmd.env("APIFORGE_RUNTIMES_DIR", test_runtimes_dir());
        cmd
    }

    /// Runs the binary with `args` and returns its output.
    pub fn run(&self, args: &[&str]) -> std::process::Output {
        self.command().args(args).output().unwrap()
    }

    /// Runs the binary and parses its stdout as JSON, failing with its stderr if it
    /// did not succeed.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "apiforge {args:?} failed ({:?}): {}{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "apiforge {args:?}: not JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }
}

impl Drop for ApiforgeHome {
    fn drop(&mut self) {
        let _ = apiforge(self.path()).args(["db", "stop"]).output();
    }
}

/// Where tests keep the prepared runtimes (installed once, reused by every test).
pub fn test_runtimes_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-runtimes")
}
