//! Postgres: the embedded cluster or a shared server, migrations, and the two pools.
//!
//! * the **client** pool connects as `apiforge_client` and is used for everything an
//!   interactive user does; each transaction carries the user's session token and
//!   row-level security does the rest ([`Db::begin_as`], [`Db::as_user`]);
//! * the **owner** pool connects as `apiforge_owner` and is used for migrations and by
//!   the daemons (worker, mailer, gateway) that act for every user.

pub mod local_cluster;
pub mod projects;
pub mod users;

use std::path::PathBuf;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Serialize;
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use crate::auth::SessionToken;
use crate::config::{Config, Dirs};
use local_cluster::{
    ADMIN_ROLE, CLIENT_ROLE, ClusterError, DATABASE, LocalCluster, OWNER_ROLE, StartOutcome,
};

pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error("cannot connect to the database ({target}): {source}")]
    Connect { target: String, source: sqlx::Error },
    #[error("database migration failed: {0}")]
    Migrate(#[from] MigrateError),
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
    #[error(
        "this command needs the database owner connection (migrations, daemons); set database.owner_url / APIFORGE_DATABASE_OWNER_URL"
    )]
    NoOwner,
    #[error("not signed in: the session is missing, expired or revoked")]
    NotSignedIn,
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    /// A request the database would refuse, with the sentence to show.
    #[error("{0}")]
    Invalid(String),
    #[error("invalid database URL {url}: {message}")]
    BadUrl { url: String, message: String },
}

impl DbError {
    /// Whether the database is simply not there (down, unreachable) rather than
    /// rejecting what we asked.
    pub fn is_unavailable(&self) -> bool {
        match self {
            DbError::Connect { .. } | DbError::Cluster(_) => true,
            DbError::Query(sqlx::Error::Database(e)) => {
                // The server going away mid-query: connection exceptions (class 08)
                // and operator intervention (57P: admin shutdown, crash, not yet up).
                e.code()
                    .is_some_and(|c| c.starts_with("08") || c.starts_with("57P"))
            }
            DbError::Query(e) => matches!(
                e,
                sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed
            ),
            _ => false,
        }
    }
}

/// Where the data lives, for status lines and `whoami`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Location {
    /// The embedded private cluster in this directory.
    Embedded { dir: PathBuf },
    /// A shared server (URL without its password).
    Server { url: String },
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Embedded { .. } => f.write_str("local"),
            Location::Server { url } => f.write_str(url),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Db {
    client: PgPool,
    owner: Option<PgPool>,
    /// The client connection logs in as another role (e.g. one URL for everything on
    /// a small shared install) and must switch to `apiforge_client` per transaction.
    client_set_role: bool,
    location: Location,
}

impl Db {
    /// Opens the configured database: `database.url` / `DATABASE_URL`, else the
    /// embedded cluster (created and started on demand). Runs pending migrations when
    /// an owner connection is available.
    pub async fn open(config: &Config, dirs: &Dirs) -> Result<Self, DbError> {
        let max = config.database.max_connections.max(1);
        let timeout = config.database.connect_timeout();
        let db = match config.database_url() {
            Some(url) => {
                let client_opts = parse_url(url)?;
                let owner_opts = match config.database.owner_url.trim() {
                    "" => None,
                    owner => Some(parse_url(owner)?),
                };
                Self::connect(
                    owner_opts,
                    client_opts,
                    Location::Server { url: redact(url) },
                    max,
                    timeout,
                )
                .await?
            }
            None => {
                let data_dir = dirs.data.clone();
                let cluster = tokio::task::spawn_blocking(move || {
                    let cluster = LocalCluster::for_data_dir(&data_dir)?;
                    let outcome = cluster.ensure_running()?;
                    Ok::<_, ClusterError>((cluster, outcome))
                })
                .await
                .map_err(|e| DbError::Io {
                    what: "the cluster start-up task failed".into(),
                    source: std::io::Error::other(e.to_string()),
                })??;
                let (cluster, outcome) = cluster;
                if outcome != StartOutcome::AlreadyRunning {
                    bootstrap(cluster.admin_options(), DATABASE).await?;
                }
                Self::connect_embedded(&cluster, max, timeout).await?
            }
        };
        if db.owner.is_some() {
            db.migrate().await?;
        }
        Ok(db)
    }

    async fn connect_embedded(
        cluster: &LocalCluster,
        max: u32,
        timeout: Duration,
    ) -> Result<Self, DbError> {
        let location = Location::Embedded {
            dir: cluster.dir.clone(),
        };
        let first = Self::connect(
            Some(cluster.options(OWNER_ROLE, DATABASE)),
            cluster.options(CLIENT_ROLE, DATABASE),
            location.clone(),
            max,
            timeout,
        )
        .await;
        match first {
            Ok(db) => Ok(db),
            // Started by an earlier process that died before creating the roles or
            // the database: finish the bootstrap and try once more.
            Err(DbError::Connect { .. }) => {
                bootstrap(cluster.admin_options(), DATABASE).await?;
                Self::connect(
                    Some(cluster.options(OWNER_ROLE, DATABASE)),
                    cluster.options(CLIENT_ROLE, DATABASE),
                    location,
                    max,
                    timeout,
                )
                .await
            }
            Err(e) => Err(e),
        }
    }

    /// Connects both pools from explicit options (tests and benchmarks use this).
    pub async fn connect(
        owner: Option<PgConnectOptions>,
        client: PgConnectOptions,
        location: Location,
        max_connections: u32,
        timeout: Duration,
    ) -> Result<Self, DbError> {
        let target = location.to_string();
        let pool = |opts: PgConnectOptions| {
            let target = target.clone();
            async move {
                PgPoolOptions::new()
                    .max_connections(max_connections)
                    .acquire_timeout(timeout)
                    .connect_with(opts)
                    .await
                    .map_err(|source| DbError::Connect { target, source })
            }
        };
        let owner = match owner {
            Some(opts) => Some(pool(opts).await?),
            None => None,
        };
        let client = pool(client).await?;
        let login: String = sqlx::query_scalar("SELECT current_user::text")
            .fetch_one(&client)
            .await?;
        Ok(Self {
            client,
            owner,
            client_set_role: login != CLIENT_ROLE,
            location,
        })
    }

    /// Applies pending migrations (under Postgres advisory lock, so concurrent
    /// start-ups are safe; a no-op when up to date).
    pub async fn migrate(&self) -> Result<(), DbError> {
        let owner = self.owner()?;
        MIGRATOR.run(owner).await?;
        Ok(())
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The owner pool, for migrations and daemons only.
    pub fn owner(&self) -> Result<&PgPool, DbError> {
        self.owner.as_ref().ok_or(DbError::NoOwner)
    }

    /// The raw client pool: without a session set, row-level security shows nothing.
    pub fn client(&self) -> &PgPool {
        &self.client
    }

    /// Starts a client transaction acting as the holder of `token`.
    pub async fn begin_as(
        &self,
        token: &SessionToken,
    ) -> Result<Transaction<'static, Postgres>, DbError> {
        let mut tx = self.client.begin().await?;
        if self.client_set_role {
            sqlx::query("SET LOCAL ROLE apiforge_client")
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("SELECT set_config('apiforge.session', $1, true)")
            .bind(token.expose())
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }

    /// Runs `work` in one client transaction acting as the holder of `token`;
    /// commits when it returns `Ok`, rolls back otherwise.
    pub async fn as_user<T, F>(&self, token: &SessionToken, work: F) -> Result<T, DbError>
    where
        F: for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<T, DbError>>,
    {
        let mut tx = self.begin_as(token).await?;
        let value = work(&mut tx).await?;
        tx.commit().await?;
        Ok(value)
    }

    pub async fn close(&self) {
        self.client.close().await;
        if let Some(owner) = &self.owner {
            owner.close().await;
        }
    }
}

impl LocalCluster {
    /// Connection options for `role` on `database` over the cluster's socket.
    pub fn options(&self, role: &str, database: &str) -> PgConnectOptions {
        PgConnectOptions::new_without_pgpass()
            .socket(self.socket_dir())
            .port(self.port())
            .username(role)
            .database(database)
            .application_name("apiforge")
    }

    pub fn admin_options(&self) -> PgConnectOptions {
        self.options(ADMIN_ROLE, "postgres")
    }
}

/// Creates the two login roles and the database if missing (as the cluster's
/// superuser). Idempotent; used for the embedded cluster and test clusters.
pub async fn bootstrap(admin: PgConnectOptions, database: &str) -> Result<(), DbError> {
    use sqlx::{AssertSqlSafe, Connection};
    // Identifiers cannot be bound as parameters; accept only plain names.
    if database.is_empty()
        || !database
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(DbError::BadUrl {
            url: database.to_owned(),
            message: "database names may contain only a-z, 0-9 and _".into(),
        });
    }
    let mut conn = PgConnection::connect_with(&admin)
        .await
        .map_err(|source| DbError::Connect {
            target: "embedded cluster (bootstrap)".into(),
            source,
        })?;
    // Several processes may bootstrap at once (catalog updates such as GRANT would
    // then fail with "tuple concurrently updated"); serialise them. Everyone connects
    // to the same `postgres` database, so the advisory lock is shared.
    sqlx::query("SELECT pg_advisory_lock(7270961)")
        .execute(&mut conn)
        .await?;
    for (role, attrs) in [
        (
            OWNER_ROLE,
            "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS",
        ),
        (
            CLIENT_ROLE,
            "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOINHERIT",
        ),
    ] {
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = $1)")
                .bind(role)
                .fetch_one(&mut conn)
                .await?;
        if !exists {
            let sql = format!("CREATE ROLE {role} {attrs}");
            if let Err(e) = sqlx::query(AssertSqlSafe(sql)).execute(&mut conn).await
                && !is_duplicate(&e)
            {
                return Err(e.into());
            }
        }
    }
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)")
            .bind(database)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        let sql = format!("CREATE DATABASE \"{database}\" OWNER {OWNER_ROLE} ENCODING 'UTF8'");
        if let Err(e) = sqlx::query(AssertSqlSafe(sql)).execute(&mut conn).await
            && !is_duplicate(&e)
        {
            return Err(e.into());
        }
        sqlx::query(AssertSqlSafe(format!(
            "REVOKE ALL ON DATABASE \"{database}\" FROM PUBLIC"
        )))
        .execute(&mut conn)
        .await?;
        sqlx::query(AssertSqlSafe(format!(
            "GRANT CONNECT ON DATABASE \"{database}\" TO {OWNER_ROLE}, {CLIENT_ROLE}"
        )))
        .execute(&mut conn)
        .await?;
    }
    conn.close().await?;
    Ok(())
}

fn is_duplicate(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        // duplicate_object, duplicate_database, unique_violation (catalog race)
        .is_some_and(|c| matches!(c.as_ref(), "42710" | "42P04" | "23505"))
}

fn parse_url(url: &str) -> Result<PgConnectOptions, DbError> {
    url.parse::<PgConnectOptions>()
        .map(|o| o.application_name("apiforge"))
        .map_err(|e| DbError::BadUrl {
            url: redact(url),
            message: e.to_string(),
        })
}

/// The URL with any password replaced, for display.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "<unparseable URL>".to_owned(),
    }
}
