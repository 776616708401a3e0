//! `apiforge serve`: one process hosting the gateway, the instances, the worker that
//! runs deploy jobs, and the control socket. On start it restarts every deployment
//! whose row says `live`: sandboxed instances die with the process that supervised
//! them, so re-adopting means starting them again; a docker-target container keeps
//! running without the daemon and is adopted if it answers `/health` (else replaced).

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio_util::sync::CancellationToken;

use super::DeployError;
use super::control::{ControlClient, ControlState, DaemonFiles, router};
use super::deploy_job::{launch, registry, route_key};
use super::deployment_row;
use super::gateway::Gateway;
use super::route_table::RouteTable;
use super::supervisor::Supervisor;
use super::traffic_stats::TrafficStats;
use crate::config::{Config, Dirs};
use crate::db::Db;
use crate::engine::{Worker, WorkerOptions};

/// The application name of the daemon's database connections. Deliberately not the
/// pipeline worker's: a CLI that sees only this daemon must still run its own worker
/// for pipeline jobs, which the daemon does not claim.
pub const SERVE_APPLICATION: &str = "apiforge serve";

/// A daemon that has bound its sockets and is serving.
pub struct Daemon {
    pub gateway_addr: String,
    pub files: DaemonFiles,
    shutdown: CancellationToken,
    done: tokio::task::JoinHandle<()>,
}

impl Daemon {
    /// Binds the gateway and the control socket, writes the pid file, starts serving
    /// and restarting live deployments in the background. Fails if another daemon
    /// serves this data dir.
    pub async fn start(
        config: &Config,
        dirs: &Dirs,
        db: &Db,
        shutdown: CancellationToken,
    ) -> Result<Self, DeployError> {
        let files = DaemonFiles::new(dirs);
        std::fs::create_dir_all(&dirs.data)
            .map_err(|e| DeployError::io(format!("cannot create {}", dirs.data.display()), e))?;
        if let Some(status) = ControlClient::new(&files.socket)
            .status()
            .await
            .ok()
            .flatten()
        {
            return Err(DeployError::AlreadyRunning(
                i32::try_from(status.pid).unwrap_or(i32::MAX),
            ));
        }
        let owner = db.owner()?.clone();
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(4)
            .connect_with(
                owner
                    .connect_options()
                    .as_ref()
                    .clone()
                    .application_name(SERVE_APPLICATION),
            )
            .await?;
        let routes = Arc::new(RouteTable::default());
        let stats = Arc::new(TrafficStats::default());
        let supervisor = Arc::new(Supervisor::open(config, dirs, routes.clone()).await?);

        let listener = Gateway::bind(&config.deploy.gateway_addr).await?;
        let gateway_addr = listener
            .local_addr()
            .map_err(|e| DeployError::io("cannot read the gateway's address", e))?
            .to_string();
        // Nothing answers on the socket (checked above): whatever file is there is stale.
        let _ = std::fs::remove_file(&files.socket);
        let control = tokio::net::UnixListener::bind(&files.socket).map_err(|e| {
            DeployError::io(format!("cannot listen on {}", files.socket.display()), e)
        })?;
        std::fs::set_permissions(&files.socket, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| DeployError::io("cannot restrict the control socket", e))?;
        std::fs::write(&files.pid, format!("{}\n", std::process::id()))
            .map_err(|e| DeployError::io(format!("cannot write {}", files.pid.display()), e))?;

        let adopting = Arc::new(AtomicBool::new(true));
        let control_state = Arc::new(ControlState {
            supervisor: supervisor.clone(),
            stats: stats.clone(),
            gateway_addr: gateway_addr.clone(),
            started_at: chrono::Utc::now(),
            adopting: adopting.clone(),
            shutdown: shutdown.clone(),
        });
        let gateway = Arc::new(Gateway::new(routes, stats));
        let serving = tokio::spawn(gateway.serve(listener, shutdown.clone()));
        let control_stop = shutdown.clone();
        let controlling = tokio::spawn(async move {
            axum::serve(control, router(control_state))
                .with_graceful_shutdown(async move { control_stop.cancelled().await })
                .await
        });
        let worker = Worker::new(
            pool.clone(),
            registry(supervisor.clone()),
            WorkerOptions::from_config(&config.engine),
        );
        let worker_stop = shutdown.clone();
        let working = tokio::spawn(async move { worker.run(worker_stop).await });
        let adopt = tokio::spawn(adopt_live(supervisor.clone(), pool.clone(), adopting));

        let shutdown_for_task = shutdown.clone();
        let files_for_task = files.clone();
        let done = tokio::spawn(async move {
            shutdown_for_task.cancelled().await;
            adopt.abort();
            let _ = adopt.await;
            if let Ok(Err(e)) = working.await {
                tracing::error!("the deploy worker stopped: {e}");
            }
            supervisor.stop_all().await;
            if let Ok(Err(e)) = serving.await {
                tracing::error!("{e}");
            }
            let _ = controlling.await;
            pool.close().await;
            let _ = std::fs::remove_file(&files_for_task.socket);
            if files_for_task.recorded_pid() == i32::try_from(std::process::id()).ok() {
                let _ = std::fs::remove_file(&files_for_task.pid);
            }
        });
        Ok(Self {
            gateway_addr,
            files,
            shutdown,
            done,
        })
    }

    /// Asks the daemon to stop.
    pub fn stop(&self) {
        self.shutdown.cancel();
    }

    /// Resolves once the daemon has stopped everything and removed its files.
    pub async fn wait(self) {
        let _ = self.done.await;
    }
}

/// Removes this home's containers of deployments that are no longer live, then starts
/// (or adopts) and routes every deployment whose row says `live`, all at once (each in
/// its own sandbox or container: one that fails to start does not hold up or affect
/// the others). A deployment that cannot start is marked failed with the reason.
async fn adopt_live(supervisor: Arc<Supervisor>, pool: sqlx::PgPool, adopting: Arc<AtomicBool>) {
    let rows = async {
        let mut conn = pool.acquire().await?;
        deployment_row::all_live(&mut conn).await
    }
    .await;
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) => {
            tracing::error!("cannot list live deployments to restart them: {e}");
            adopting.store(false, Ordering::SeqCst);
            return;
        }
    };
    let live: std::collections::HashSet<uuid::Uuid> = rows.iter().map(|r| r.id).collect();
    supervisor.sweep_containers(&live).await;
    let starts = rows.into_iter().map(|row| {
        let (supervisor, pool) = (supervisor.clone(), pool.clone());
        async move {
            let started = launch(&supervisor, &pool, row.id, &mut |_| {}).await;
            let result = match started {
                Ok(()) => supervisor
                    .switch(&route_key(&row.route), row.id)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            match result {
                Ok(()) => tracing::info!(route = %row.route, version = row.version, "deployment restarted"),
                Err(reason) => {
                    tracing::error!(route = %row.route, "cannot restart a live deployment: {reason}");
                    let marked = async {
                        let mut conn = pool.acquire().await?;
                        deployment_row::fail(&mut conn, row.id, &reason).await
                    }
                    .await;
                    if let Err(e) = marked {
                        tracing::error!("cannot mark the deployment failed: {e}");
                    }
                }
            }
        }
    });
    futures::future::join_all(starts).await;
    adopting.store(false, Ordering::SeqCst);
}
