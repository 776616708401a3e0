//! `apiforge db start|stop|status|url`: the embedded cluster.

use crate::cli::stdout::outln;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde::Serialize;

use super::context::{Context, Failure, print_json};
use crate::db::local_cluster::{ClusterError, LocalCluster, StartOutcome, StopOutcome};

#[derive(Debug, Args)]
pub struct DbArgs {
    #[command(subcommand)]
    pub action: DbAction,
}

#[derive(Debug, Subcommand)]
pub enum DbAction {
    /// Create (first time) and start the embedded cluster; a no-op when running.
    Start {
        #[arg(long)]
        json: bool,
    },
    /// Stop the embedded cluster (it otherwise keeps running for other apiforge processes).
    Stop {
        #[arg(long)]
        json: bool,
    },
    /// Whether the cluster exists and runs, where, and how to connect.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// The connection URL of the database (psql-compatible).
    Url {
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(ctx: &Context, args: DbArgs) -> Result<ExitCode, Failure> {
    if let Some(url) = ctx.config.database_url() {
        return server_mode(url, &args.action);
    }
    let data_dir = ctx.dirs.data.clone();
    let cluster = blocking(move || LocalCluster::for_data_dir(&data_dir)).await?;
    match args.action {
        DbAction::Start { json } => {
            let c = cluster.clone();
            let outcome = blocking(move || c.ensure_running()).await?;
            if outcome != StartOutcome::AlreadyRunning {
                crate::db::bootstrap(cluster.admin_options(), crate::db::local_cluster::DATABASE)
                    .await
                    .map_err(|e| Failure::failed(e.to_string()))?;
            }
            // Starting also brings the schema up to date, so the database is ready.
            crate::db::Db::open(&ctx.config, &ctx.dirs)
                .await
                .map_err(super::context::db_failure)?
                .close()
                .await;
            if json {
                print_json(&Outcome {
                    outcome,
                    status: cluster.status(),
                })?;
            } else {
                let what = match outcome {
                    StartOutcome::AlreadyRunning => "already running",
                    StartOutcome::Started => "started",
                    StartOutcome::Created => "created and started",
                };
                outln!("database {what}: {}", cluster.dir.display());
            }
        }
        DbAction::Stop { json } => {
            let c = cluster.clone();
            let outcome = blocking(move || c.stop()).await?;
            if json {
                print_json(&Outcome {
                    outcome,
                    status: cluster.status(),
                })?;
            } else {
                match outcome {
                    StopOutcome::Stopped => outln!("database stopped"),
                    StopOutcome::NotRunning => outln!("database was not running"),
                }
            }
        }
        DbAction::Status { json } => {
            let status = cluster.status();
            if json {
                print_json(&status)?;
            } else {
                let state = match (status.initialized, status.running) {
                    (false, _) => "not created yet (created on first use)".to_owned(),
                    (true, false) => "stopped (starts on demand)".to_owned(),
                    (true, true) => format!("running (pid {})", status.pid.unwrap_or_default()),
                };
                outln!("embedded database: {state}");
                outln!("  data dir:  {}", status.data_dir.display());
                outln!(
                    "  binaries:  {} ({})",
                    status.binaries.dir.display(),
                    status.binaries.version
                );
                if let Some(user) = &status.service_user {
                    outln!("  runs as:   {user}");
                }
                outln!("  url:       {}", status.owner_url);
            }
        }
        DbAction::Url { json } => {
            let status = cluster.status();
            if json {
                print_json(&Urls {
                    owner_url: status.owner_url,
                    client_url: status.client_url,
                })?;
            } else {
                outln!("{}", status.owner_url);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct Outcome<T: Serialize> {
    outcome: T,
    status: crate::db::local_cluster::ClusterStatus,
}

#[derive(Serialize)]
struct Urls {
    owner_url: String,
    client_url: String,
}

fn server_mode(url: &str, action: &DbAction) -> Result<ExitCode, Failure> {
    let redacted = crate::db::redact(url);
    match action {
        DbAction::Url { json: true } | DbAction::Status { json: true } => {
            print_json(&serde_json::json!({ "mode": "server", "url": redacted }))?;
            Ok(ExitCode::SUCCESS)
        }
        DbAction::Url { json: false } | DbAction::Status { json: false } => {
            outln!("{redacted}");
            Ok(ExitCode::SUCCESS)
        }
        DbAction::Start { .. } | DbAction::Stop { .. } => Err(Failure::usage(format!(
            "DATABASE_URL points at a server ({redacted}); `apiforge db start|stop` manage only the embedded cluster"
        ))),
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ClusterError> + Send + 'static,
) -> Result<T, Failure> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Failure::failed(format!("internal task failed: {e}")))?
        .map_err(super::context::cluster_failure)
}
