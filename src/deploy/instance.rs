//! One deployment's server, kept running: started in its own sandbox, polled on
//! `GET /health`, restarted with exponential backoff when it crashes or stops
//! answering, its last output lines kept.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{DeployError, InstanceSettings};
use crate::codegen::GeneratedFiles;
use crate::sandbox::{KillSwitch, Sandbox, WORKSPACE, Workspace, WorkspaceSource};
use crate::verify::project::PreparedRuntime;

/// The instance's SQLite database, inside its workspace: it survives restarts of the
/// instance (the workspace is kept), not a new deploy.
const INSTANCE_DB: &str = "app.db";
/// First restart delay; doubled per crash in a row up to `deploy.restart_backoff_max_secs`.
const BACKOFF_START: Duration = Duration::from_millis(500);
/// An instance healthy this long has recovered: its next crash starts the backoff over.
const STABLE_AFTER: Duration = Duration::from_secs(60);
/// Failed health polls in a row after which a live instance is restarted.
const HEALTH_MISSES: u32 = 3;
/// Environment variable carrying the deployment id into the sandbox (lets an operator
/// find an instance's processes).
pub const DEPLOYMENT_ENV: &str = "APIFORGE_DEPLOYMENT";

/// What to run.
#[derive(Debug, Clone)]
pub struct InstanceSpec {
    pub deployment: Uuid,
    pub version: i32,
    pub files: GeneratedFiles,
    pub runtime: PreparedRuntime,
    /// Extra environment (the API's credentials).
    pub env: BTreeMap<String, String>,
}

/// Where an instance is in its life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum InstanceState {
    Starting,
    Healthy {
        since: chrono::DateTime<chrono::Utc>,
    },
    /// Crashed or stopped answering; starts again after the backoff.
    Restarting {
        reason: String,
        retry_in_ms: u64,
    },
    /// The first start never became healthy (the deploy fails with `reason`).
    Failed {
        reason: String,
    },
    Stopped,
}

/// A snapshot for status output.
#[derive(Debug, Clone, Serialize)]
pub struct InstanceStatus {
    pub deployment: Uuid,
    pub version: i32,
    #[serde(flatten)]
    pub state: InstanceState,
    pub restarts: u32,
    pub socket: PathBuf,
    /// `sandbox` or `docker`.
    pub target: super::Platform,
    /// The Docker container's id (docker target only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
}

struct Shared {
    logs: Mutex<VecDeque<String>>,
    log_lines: usize,
    restarts: AtomicU32,
}

impl Shared {
    fn push(&self, line: String) {
        let mut logs = self.logs.lock().unwrap_or_else(|e| e.into_inner());
        while logs.len() >= self.log_lines {
            logs.pop_front();
        }
        logs.push_back(line);
    }
}

/// A running instance. Stop it with [`Instance::stop`]; dropping it also stops the
/// sandbox (its supervising task is cancelled) but leaves the workspace to the sweep.
pub struct Instance {
    deployment: Uuid,
    version: i32,
    socket: PathBuf,
    state: watch::Receiver<InstanceState>,
    shared: Arc<Shared>,
    stop: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl Instance {
    /// Starts the instance and waits until it answers `GET /health` (within
    /// `settings.health_timeout`). A first start that fails is an error carrying the
    /// server's last output; later crashes are restarted.
    pub async fn start(
        sandbox: &Sandbox,
        spec: InstanceSpec,
        settings: InstanceSettings,
    ) -> Result<Self, DeployError> {
        let workspace = sandbox
            .prepare(WorkspaceSource::Files(&spec.files), &settings.limits)
            .await?;
        let socket = workspace.socket_path();
        let (tx, mut rx) = watch::channel(InstanceState::Starting);
        let shared = Arc::new(Shared {
            logs: Mutex::new(VecDeque::new()),
            log_lines: settings.log_lines,
            restarts: AtomicU32::new(0),
        });
        let stop = CancellationToken::new();
        let (deployment, version) = (spec.deployment, spec.version);
        let task = tokio::spawn(supervise(
            sandbox.clone(),
            workspace,
            spec,
            settings,
            tx,
            shared.clone(),
            stop.clone(),
        ));
        let mut instance = Self {
            deployment,
            version,
            socket,
            state: rx.clone(),
            shared,
            stop,
            task: Some(task),
        };
        loop {
            let state = rx.borrow_and_update().clone();
            match state {
                InstanceState::Healthy { .. } => return Ok(instance),
                InstanceState::Failed { reason } => {
                    instance.stop().await;
                    return Err(DeployError::Unhealthy(reason));
                }
                _ => {}
            }
            if rx.changed().await.is_err() {
                instance.stop().await;
                return Err(DeployError::Unhealthy(
                    "the instance's supervisor stopped before it was healthy".to_owned(),
                ));
            }
        }
    }

    pub fn deployment(&self) -> Uuid {
        self.deployment
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    pub fn status(&self) -> InstanceStatus {
        InstanceStatus {
            deployment: self.deployment,
            version: self.version,
            state: self.state.borrow().clone(),
            restarts: self.shared.restarts.load(Ordering::SeqCst),
            socket: self.socket.clone(),
            target: super::Platform::Sandbox,
            container: None,
        }
    }

    /// The last output lines (at most `deploy.log_lines`), oldest first.
    pub fn logs(&self) -> Vec<String> {
        let logs = self.shared.logs.lock().unwrap_or_else(|e| e.into_inner());
        logs.iter().cloned().collect()
    }

    /// Resolves when the instance is healthy (again); for callers that wait out a restart.
    pub async fn healthy(&self) {
        let mut rx = self.state.clone();
        let _ = rx
            .wait_for(|s| matches!(s, InstanceState::Healthy { .. }))
            .await;
    }

    /// Kills the server, removes the workspace, and waits for both.
    pub async fn stop(&mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn supervise(
    sandbox: Sandbox,
    workspace: Workspace,
    spec: InstanceSpec,
    settings: InstanceSettings,
    state: watch::Sender<InstanceState>,
    shared: Arc<Shared>,
    stop: CancellationToken,
) {
    let mut ever_healthy = false;
    let mut crashes_in_a_row: u32 = 0;
    loop {
        state.send_replace(InstanceState::Starting);
        let Some(reason) = run_once(
            &sandbox,
            &workspace,
            &spec,
            &settings,
            &state,
            &shared,
            &stop,
            &mut ever_healthy,
            &mut crashes_in_a_row,
        )
        .await
        else {
            break;
        };
        if !ever_healthy {
            state.send_replace(InstanceState::Failed { reason });
            break;
        }
        shared.restarts.fetch_add(1, Ordering::SeqCst);
        crashes_in_a_row = crashes_in_a_row.saturating_add(1);
        let factor = 2u32.saturating_pow(crashes_in_a_row.saturating_sub(1).min(16));
        let backoff = BACKOFF_START
            .saturating_mul(factor)
            .min(settings.backoff_max);
        shared.push(format!(
            "[apiforge] {reason}; restarting in {} ms",
            backoff.as_millis()
        ));
        tracing::warn!(deployment = %spec.deployment, "{reason}; restarting in {backoff:?}");
        state.send_replace(InstanceState::Restarting {
            reason,
            retry_in_ms: u64::try_from(backoff.as_millis()).unwrap_or(u64::MAX),
        });
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = stop.cancelled() => break,
        }
    }
    if !matches!(*state.borrow(), InstanceState::Failed { .. }) {
        state.send_replace(InstanceState::Stopped);
    }
    if let Err(e) = workspace.remove().await {
        tracing::warn!(deployment = %spec.deployment, "cannot remove an instance workspace: {e}");
    }
}

/// Runs the server once: `None` when stopped on request, else why it ended.
#[allow(clippy::too_many_arguments)]
async fn run_once(
    sandbox: &Sandbox,
    workspace: &Workspace,
    spec: &InstanceSpec,
    settings: &InstanceSettings,
    state: &watch::Sender<InstanceState>,
    shared: &Arc<Shared>,
    stop: &CancellationToken,
    ever_healthy: &mut bool,
    crashes_in_a_row: &mut u32,
) -> Option<String> {
    let kill = KillSwitch::new();
    let mut exec = spec
        .runtime
        .server_exec()
        .env("APIFORGE_DB", format!("{WORKSPACE}/{INSTANCE_DB}"))
        .env(DEPLOYMENT_ENV, spec.deployment.to_string())
        .limits(settings.limits)
        .kill_switch(kill.clone());
    for (k, v) in &spec.env {
        exec = exec.env(k, v);
    }
    let sink = shared.clone();
    let mut server = match sandbox
        .start(workspace, &exec, move |line| sink.push(line.text.clone()))
        .await
    {
        Ok(server) => server,
        Err(e) => return Some(format!("the instance could not start: {e}")),
    };
    let health = tokio::select! {
        r = server.wait_healthy(settings.health_timeout) => r,
        () = stop.cancelled() => {
            let _ = server.stop().await;
            return None;
        }
    };
    if let Err(e) = health {
        let _ = server.stop().await;
        return Some(e.to_string());
    }
    *ever_healthy = true;
    let healthy_at = Instant::now();
    state.send_replace(InstanceState::Healthy {
        since: chrono::Utc::now(),
    });
    let client = server
        .client()
        .with_timeout(settings.health_interval.min(Duration::from_secs(10)));
    let wait = server.wait();
    tokio::pin!(wait);
    let mut ticker = tokio::time::interval(settings.health_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    let mut misses = 0;
    let reason = loop {
        tokio::select! {
            outcome = &mut wait => {
                break match outcome {
                    Ok(o) => format!("the instance exited: {}", o.summary()),
                    Err(e) => format!("the instance's sandbox failed: {e}"),
                };
            }
            () = stop.cancelled() => {
                kill.kill();
                let _ = wait.await;
                return None;
            }
            _ = ticker.tick() => {
                match client.get("/health").await {
                    Ok(r) if r.status == 200 => misses = 0,
                    _ => misses += 1,
                }
                if misses >= HEALTH_MISSES {
                    kill.kill();
                    let _ = (&mut wait).await;
                    break format!("the instance failed {HEALTH_MISSES} health checks in a row");
                }
            }
        }
    };
    if healthy_at.elapsed() >= STABLE_AFTER {
        *crashes_in_a_row = 0;
    }
    Some(reason)
}
