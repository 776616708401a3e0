//! `apiforge worker`: run pipeline jobs until SIGINT/SIGTERM (then finish or release
//! the running steps).

use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use tokio_util::sync::CancellationToken;

use super::context::{Context, Failure, db_failure};
use super::follow::WORKER_APPLICATION;
use crate::engine::{Worker, WorkerOptions};
use crate::pipeline::PipelineEnv;

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Jobs run at once (default: engine.worker_concurrency).
    #[arg(long)]
    pub concurrency: Option<usize>,
}

pub async fn run(ctx: &Context, args: WorkerArgs) -> Result<ExitCode, Failure> {
    let db = ctx.open_db().await?;
    let owner = db.owner().map_err(db_failure)?;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(ctx.config.database.max_connections.max(4))
        .connect_with(
            owner
                .connect_options()
                .as_ref()
                .clone()
                .application_name(WORKER_APPLICATION),
        )
        .await
        .map_err(|e| Failure::failed(format!("cannot connect the worker: {e}")))?;
    let mut options = WorkerOptions::from_config(&ctx.config.engine);
    if let Some(n) = args.concurrency {
        options.concurrency = n.max(1);
    }
    let env = Arc::new(PipelineEnv {
        config: ctx.config.clone(),
        dirs: ctx.dirs.clone(),
    });
    let worker = Worker::new(pool, crate::pipeline::registry(env), options);
    eprintln!(
        "worker {} serving {} (Ctrl-C to stop)",
        worker.id(),
        db.location()
    );
    let stop = CancellationToken::new();
    let signal = stop.clone();
    tokio::spawn(async move {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!("cannot listen for SIGTERM: {e}");
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        eprintln!("stopping: finishing or releasing running steps…");
        signal.cancel();
    });
    worker
        .run(stop)
        .await
        .map_err(|e| Failure::failed(format!("the worker stopped: {e}")))?;
    Ok(ExitCode::SUCCESS)
}
