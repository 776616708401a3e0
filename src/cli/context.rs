//! What every subcommand gets: settings, directories, and a way to fail with a message
//! a person can act on.

use std::path::Path;
use std::process::ExitCode;

use crate::config::{Config, Dirs};
use crate::telemetry::{self, LogGuard, Mirror};

pub struct Context {
    pub config: Config,
    pub dirs: Dirs,
    _log: LogGuard,
}

impl Context {
    pub fn new(config_file: Option<&Path>, verbose: bool) -> Result<Self, Failure> {
        let dirs = Dirs::from_env().map_err(|e| Failure::environment(e.to_string()))?;
        let config = Config::load(config_file, &dirs).map_err(|e| Failure::usage(e.to_string()))?;
        let mirror = if verbose {
            Mirror::Stderr
        } else {
            Mirror::None
        };
        let log = telemetry::init(
            &dirs.logs(),
            &config.log.level,
            config.log.keep_days,
            mirror,
        );
        Ok(Self {
            config,
            dirs,
            _log: log,
        })
    }
}

impl Context {
    /// The built-in settings, for the UI when the config file is broken: it opens
    /// anyway and shows the problem as a notice.
    pub fn with_defaults(verbose: bool) -> Result<Self, Failure> {
        let dirs = Dirs::from_env().map_err(|e| Failure::environment(e.to_string()))?;
        let config = Config::defaults();
        let mirror = if verbose {
            Mirror::Stderr
        } else {
            Mirror::None
        };
        let log = telemetry::init(
            &dirs.logs(),
            &config.log.level,
            config.log.keep_days,
            mirror,
        );
        Ok(Self {
            config,
            dirs,
            _log: log,
        })
    }
}

/// A command that did not succeed: the message is printed to stderr as
/// `error: …` and the process exits with `code`.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    /// The operation ran and failed (exit 1).
    pub fn failed(message: impl Into<String>) -> Self {
        Self {
            code: 1,
            message: message.into(),
        }
    }

    /// Bad arguments or input (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
        }
    }

    /// The machine lacks something (binaries, permissions) (exit 2).
    pub fn environment(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
        }
    }

    pub fn report(self) -> ExitCode {
        tracing::error!(code = self.code, "{}", self.message);
        eprintln!("error: {}", self.message);
        ExitCode::from(self.code)
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::failed(format!("{e:#}"))
    }
}

/// Prints `value` as pretty JSON on stdout (a closed pipe ends it quietly, like every
/// other output: [`super::stdout`]).
pub fn print_json<T: serde::Serialize>(value: &T) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::failed(format!("cannot encode JSON output: {e}")))?;
    super::stdout::outln!("{text}");
    Ok(())
}

pub use crate::auth::Session;

impl Context {
    /// Opens the database (starting the embedded cluster if needed, migrating).
    pub async fn open_db(&self) -> Result<crate::db::Db, Failure> {
        crate::db::Db::open(&self.config, &self.dirs)
            .await
            .map_err(db_failure)
    }

    /// Opens the database and signs in (see [`Session::open`]).
    pub async fn session(&self) -> Result<Session, Failure> {
        let db = self.open_db().await?;
        Session::sign_in(db, &self.config, &self.dirs)
            .await
            .map_err(session_failure)
    }
}

pub fn session_failure(e: crate::auth::SessionError) -> Failure {
    match e {
        crate::auth::SessionError::Db(e) => db_failure(e),
        other => Failure::usage(other.to_string()),
    }
}

/// Missing Postgres binaries are an environment problem (exit 2); the rest failures.
pub fn cluster_failure(e: crate::db::local_cluster::ClusterError) -> Failure {
    match e {
        crate::db::local_cluster::ClusterError::BinariesMissing
        | crate::db::local_cluster::ClusterError::NoServiceUser(_)
        | crate::db::local_cluster::ClusterError::SocketPathTooLong(_) => {
            Failure::environment(e.to_string())
        }
        other => Failure::failed(other.to_string()),
    }
}

/// A client transaction as the signed-in user: row-level security decides what it sees.
pub async fn client_tx(
    session: &Session,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, Failure> {
    session
        .db
        .begin_as(&session.token)
        .await
        .map_err(db_failure)
}

pub fn db_failure(e: crate::db::DbError) -> Failure {
    match e {
        crate::db::DbError::Cluster(c) => cluster_failure(c),
        crate::db::DbError::NoOwner | crate::db::DbError::BadUrl { .. } => {
            Failure::usage(e.to_string())
        }
        other => Failure::failed(other.to_string()),
    }
}
