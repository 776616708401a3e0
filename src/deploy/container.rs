//! One docker-target deployment: the version's image run as a container (see
//! [`super::image`]). Docker restarts the server when it exits (restart policy
//! `unless-stopped`); the supervising task here only watches: it polls `GET /health`
//! and the engine's state (restart count, running), restarts the container when it
//! stops answering, and follows its output into the last `deploy.log_lines` lines.
//!
//! The container carries the deployment id as a label, so a daemon that restarts finds
//! it again: a running container that answers `/health` is adopted as it is, anything
//! else is removed and started anew ([`ContainerInstance::start`]).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bollard::query_parameters::{
    ListContainersOptionsBuilder, LogsOptionsBuilder, RestartContainerOptions,
};
use futures::StreamExt;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::image::{Engine, ImageSpec, Instance as Container, RunSpec};
use super::instance::{InstanceState, InstanceStatus};
use super::{DeployError, InstanceSettings, Platform};
use crate::codegen::{Framework, GeneratedFiles};
use crate::verify::project::PreparedRuntime;

/// Label holding the deployment id on a docker-target container.
pub const DEPLOYMENT_LABEL: &str = "apiforge.deployment";
/// Label holding the instances directory of the apiforge home that owns the container:
/// several homes (users, test runs) share one engine, and a daemon only ever sweeps
/// its own.
pub const HOME_LABEL: &str = "apiforge.instances";
/// Failed health polls in a row after which the container is restarted.
const HEALTH_MISSES: u32 = 3;
/// How long the log follower waits before following a stopped container again.
const LOG_RETRY: Duration = Duration::from_millis(500);
/// How often a starting container's engine state is checked between health polls.
const FIRST_HEALTH_SLICE: Duration = Duration::from_millis(500);
/// Output lines kept when the first start fails (for the error message).
const FAILURE_LINES: usize = 20;

/// What to run.
#[derive(Debug, Clone)]
pub struct ContainerSpec {
    pub deployment: Uuid,
    pub version: i32,
    /// `owner` and `project` of the route, for the image tag and labels.
    pub owner: String,
    pub project: String,
    pub framework: Framework,
    pub files: GeneratedFiles,
    pub runtime: PreparedRuntime,
    pub env: BTreeMap<String, String>,
    /// Host directory for the socket and database (`<instances dir>/<deployment>`);
    /// kept across daemon restarts.
    pub instance_dir: PathBuf,
    /// The home's instances directory (the [`HOME_LABEL`] value).
    pub instances_dir: PathBuf,
}

struct Shared {
    logs: Mutex<VecDeque<String>>,
    log_lines: usize,
    /// Restarts apiforge asked for (unanswered health checks); Docker's own restarts
    /// come from the engine's restart count.
    forced_restarts: AtomicU32,
    engine_restarts: AtomicU32,
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

/// A running docker-target instance.
pub struct ContainerInstance {
    deployment: Uuid,
    version: i32,
    engine: Engine,
    container: Container,
    state: watch::Receiver<InstanceState>,
    shared: Arc<Shared>,
    stop: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl ContainerInstance {
    /// Adopts the deployment's running container if it answers `/health`, else builds
    /// the image (Docker's build cache makes a rebuild of a known version quick), runs
    /// a new container and waits until it is healthy. A container that never gets
    /// healthy is removed and the error carries its last output lines.
    pub async fn start(
        engine: &Engine,
        spec: ContainerSpec,
        settings: InstanceSettings,
    ) -> Result<Self, DeployError> {
        let (adopted, stale) = find_existing(engine, spec.deployment, &spec.instance_dir).await?;
        let mut container = None;
        if let Some(existing) = adopted {
            match engine
                .wait_healthy(&existing, settings.health_timeout)
                .await
            {
                Ok(_) => {
                    tracing::info!(deployment = %spec.deployment, container = %existing.container_id, "adopted a running container");
                    container = Some(existing);
                }
                Err(e) => {
                    tracing::warn!(deployment = %spec.deployment, "not adopting container {}: {e}", existing.container_id);
                    remove_quietly(engine, &existing.container_id).await;
                }
            }
        }
        for id in stale {
            remove_quietly(engine, &id).await;
        }
        let container = match container {
            Some(c) => c,
            None => run_new(engine, &spec, &settings).await?,
        };
        let shared = Arc::new(Shared {
            logs: Mutex::new(VecDeque::new()),
            log_lines: settings.log_lines,
            forced_restarts: AtomicU32::new(0),
            engine_restarts: AtomicU32::new(0),
        });
        let (tx, rx) = watch::channel(InstanceState::Healthy {
            since: chrono::Utc::now(),
        });
        let stop = CancellationToken::new();
        let tasks = vec![
            tokio::spawn(follow_logs(
                engine.clone(),
                container.container_id.clone(),
                shared.clone(),
                stop.clone(),
            )),
            tokio::spawn(watch_health(
                engine.clone(),
                container.clone(),
                settings,
                tx,
                shared.clone(),
                stop.clone(),
            )),
        ];
        Ok(Self {
            deployment: spec.deployment,
            version: spec.version,
            engine: engine.clone(),
            container,
            state: rx,
            shared,
            stop,
            tasks,
        })
    }

    pub fn socket(&self) -> &Path {
        &self.container.socket
    }

    pub fn container_id(&self) -> &str {
        &self.container.container_id
    }

    pub fn status(&self) -> InstanceStatus {
        InstanceStatus {
            deployment: self.deployment,
            version: self.version,
            state: self.state.borrow().clone(),
            restarts: self
                .shared
                .engine_restarts
                .load(Ordering::SeqCst)
                .saturating_add(self.shared.forced_restarts.load(Ordering::SeqCst)),
            socket: self.container.socket.clone(),
            target: Platform::Docker,
            container: Some(self.container.container_id.clone()),
        }
    }

    /// The last output lines (at most `deploy.log_lines`), oldest first.
    pub fn logs(&self) -> Vec<String> {
        let logs = self.shared.logs.lock().unwrap_or_else(|e| e.into_inner());
        logs.iter().cloned().collect()
    }

    /// Stops watching but leaves the container running (daemon shutdown: the next
    /// daemon adopts it).
    pub async fn detach(&mut self) {
        self.stop.cancel();
        for task in self.tasks.drain(..) {
            let _ = task.await;
        }
    }

    /// Removes the container (its restart policy ends with it) and the instance
    /// directory. The image stays, so a rollback to this version starts quickly.
    pub async fn stop(&mut self) {
        self.detach().await;
        remove_quietly(&self.engine, &self.container.container_id).await;
        let dir = self.container.instance_dir.clone();
        let removed = tokio::task::spawn_blocking(move || std::fs::remove_dir_all(&dir)).await;
        if let Ok(Err(e)) = removed
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(deployment = %self.deployment, "cannot remove {}: {e}", self.container.instance_dir.display());
        }
    }
}

impl Drop for ContainerInstance {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Removes this home's containers (and their instance directories) whose deployment
/// is not in `keep`: left over when a daemon died between recording a swap and
/// removing the old container. Returns how many were removed; an unreachable engine
/// means there is nothing to sweep.
pub async fn sweep(
    sandbox: &crate::config::SandboxConfig,
    instances_dir: &Path,
    keep: &std::collections::HashSet<Uuid>,
) -> usize {
    let Ok(docker) = crate::sandbox::docker::connect_engine(&sandbox.docker_host) else {
        return 0;
    };
    let filters = HashMap::from([(
        "label".to_owned(),
        vec![format!("{HOME_LABEL}={}", instances_dir.display())],
    )]);
    let options = ListContainersOptionsBuilder::new()
        .all(true)
        .filters(&filters)
        .build();
    let found = match docker.list_containers(Some(options)).await {
        Ok(found) => found,
        Err(e) => {
            tracing::debug!("no Docker engine to sweep deployment containers on: {e}");
            return 0;
        }
    };
    let mut removed = 0;
    for c in found {
        let deployment = c
            .labels
            .as_ref()
            .and_then(|l| l.get(DEPLOYMENT_LABEL))
            .and_then(|d| d.parse::<Uuid>().ok());
        let (Some(id), Some(deployment)) = (c.id, deployment) else {
            continue;
        };
        if keep.contains(&deployment) {
            continue;
        }
        let options = bollard::query_parameters::RemoveContainerOptionsBuilder::new()
            .force(true)
            .build();
        match docker.remove_container(&id, Some(options)).await {
            Ok(()) => {
                removed += 1;
                tracing::info!(%deployment, container = %id, "removed the container of a deployment that is no longer live");
                let dir = instances_dir.join(deployment.to_string());
                let _ = tokio::task::spawn_blocking(move || std::fs::remove_dir_all(dir)).await;
            }
            Err(e) => {
                tracing::warn!(container = %id, "cannot remove a stale deployment container: {e}")
            }
        }
    }
    removed
}

async fn remove_quietly(engine: &Engine, id: &str) {
    if let Err(e) = engine.remove(id).await {
        tracing::warn!(container = %id, "cannot remove a deployment container: {e}");
    }
}

/// The deployment's containers: the running one to try adopting, and the rest (to
/// remove).
async fn find_existing(
    engine: &Engine,
    deployment: Uuid,
    instance_dir: &Path,
) -> Result<(Option<Container>, Vec<String>), DeployError> {
    let filters = HashMap::from([(
        "label".to_owned(),
        vec![format!("{DEPLOYMENT_LABEL}={deployment}")],
    )]);
    let options = ListContainersOptionsBuilder::new()
        .all(true)
        .filters(&filters)
        .build();
    let found = engine
        .docker()
        .list_containers(Some(options))
        .await
        .map_err(|e| {
            DeployError::Unhealthy(format!("cannot list the Docker engine's containers: {e}"))
        })?;
    let mut adopted = None;
    let mut stale = Vec::new();
    for c in found {
        let Some(id) = c.id else { continue };
        let running = c
            .state
            .is_some_and(|s| s.to_string().eq_ignore_ascii_case("running"));
        if running && adopted.is_none() {
            adopted = Some(Container {
                container_id: id,
                image: c.image.unwrap_or_default(),
                socket: instance_dir.join(crate::sandbox::SOCKET_NAME),
                instance_dir: instance_dir.to_path_buf(),
            });
        } else {
            stale.push(id);
        }
    }
    Ok((adopted, stale))
}

async fn run_new(
    engine: &Engine,
    spec: &ContainerSpec,
    settings: &InstanceSettings,
) -> Result<Container, DeployError> {
    let image = engine
        .build(&ImageSpec {
            owner: &spec.owner,
            project: &spec.project,
            number: spec.version,
            framework: spec.framework,
            files: &spec.files,
        })
        .await?;
    let mut run = RunSpec::new(
        &image,
        &spec.runtime,
        spec.instance_dir.clone(),
        settings.limits,
    )
    .label(DEPLOYMENT_LABEL, spec.deployment.to_string())
    .label(HOME_LABEL, spec.instances_dir.display().to_string());
    for (k, v) in &spec.env {
        run = run.env(k, v);
    }
    run = run.env(super::instance::DEPLOYMENT_ENV, spec.deployment.to_string());
    let container = engine.run(&run).await?;
    if let Err(reason) = first_health(engine, &container, settings.health_timeout).await {
        let output = tail(engine, &container.container_id, FAILURE_LINES).await;
        remove_quietly(engine, &container.container_id).await;
        let output = if output.is_empty() {
            String::new()
        } else {
            format!("\nits last output:\n{}", output.join("\n"))
        };
        return Err(DeployError::Unhealthy(format!("{reason}{output}")));
    }
    Ok(container)
}

/// Waits for the new container's first healthy answer. A server that exits before
/// that fails the deploy at once instead of crash-looping (Docker would restart it)
/// until the timeout.
async fn first_health(
    engine: &Engine,
    container: &Container,
    timeout: Duration,
) -> Result<(), String> {
    let started = std::time::Instant::now();
    loop {
        let slice = timeout
            .saturating_sub(started.elapsed())
            .min(FIRST_HEALTH_SLICE);
        let attempt = engine.wait_healthy(container, slice).await;
        if attempt.is_ok() {
            return Ok(());
        }
        let state = engine
            .state(&container.container_id)
            .await
            .map_err(|e| e.to_string())?;
        if !state.running || state.restart_count > 0 {
            return Err(format!(
                "the server in container {} exited{} before it answered GET /health",
                container.container_id,
                state
                    .exit_code
                    .filter(|c| *c != 0)
                    .map_or(String::new(), |c| format!(" with code {c}"))
            ));
        }
        if let Err(e) = attempt
            && started.elapsed() >= timeout
        {
            return Err(e.to_string());
        }
    }
}

/// The container's last `lines` output lines.
async fn tail(engine: &Engine, id: &str, lines: usize) -> Vec<String> {
    let options = LogsOptionsBuilder::new()
        .stdout(true)
        .stderr(true)
        .tail(&lines.to_string())
        .build();
    let mut stream = engine.docker().logs(id, Some(options));
    let mut out = Vec::new();
    while let Some(Ok(chunk)) = stream.next().await {
        out.extend(
            String::from_utf8_lossy(&chunk.into_bytes())
                .lines()
                .map(str::to_owned),
        );
    }
    out
}

/// Follows the container's output across its restarts (a follow ends when the
/// container stops; it is reopened from the last line seen, by timestamp).
async fn follow_logs(engine: Engine, id: String, shared: Arc<Shared>, stop: CancellationToken) {
    let mut last: Option<chrono::DateTime<chrono::FixedOffset>> = None;
    loop {
        let since = last.map_or(0, |t| i32::try_from(t.timestamp()).unwrap_or(0));
        let options = LogsOptionsBuilder::new()
            .follow(true)
            .stdout(true)
            .stderr(true)
            .timestamps(true)
            .since(since)
            .tail(&shared.log_lines.to_string())
            .build();
        let mut stream = engine.docker().logs(&id, Some(options));
        loop {
            let chunk = tokio::select! {
                c = stream.next() => c,
                () = stop.cancelled() => return,
            };
            let Some(Ok(chunk)) = chunk else { break };
            for line in String::from_utf8_lossy(&chunk.into_bytes()).lines() {
                let (stamp, text) = line.split_once(' ').unwrap_or((line, ""));
                match chrono::DateTime::parse_from_rfc3339(stamp) {
                    Ok(t) if last.is_some_and(|l| t <= l) => continue,
                    Ok(t) => last = Some(t),
                    Err(_) => {}
                }
                shared.push(text.to_owned());
            }
        }
        tokio::select! {
            () = tokio::time::sleep(LOG_RETRY) => {}
            () = stop.cancelled() => return,
        }
    }
}

/// Polls the engine's state and `GET /health` every `deploy.health_interval_secs`.
async fn watch_health(
    engine: Engine,
    container: Container,
    settings: InstanceSettings,
    state: watch::Sender<InstanceState>,
    shared: Arc<Shared>,
    stop: CancellationToken,
) {
    let client = container
        .client()
        .with_timeout(settings.health_interval.min(Duration::from_secs(10)));
    let mut ticker = tokio::time::interval(settings.health_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut misses = 0;
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            () = stop.cancelled() => return,
        }
        let engine_state = match engine.state(&container.container_id).await {
            Ok(s) => s,
            Err(e) => {
                state.send_replace(InstanceState::Failed {
                    reason: format!("the container is gone or the engine does not answer: {e}"),
                });
                continue;
            }
        };
        shared.engine_restarts.store(
            u32::try_from(engine_state.restart_count).unwrap_or(u32::MAX),
            Ordering::SeqCst,
        );
        if !engine_state.running {
            misses = 0;
            state.send_replace(InstanceState::Restarting {
                reason: format!(
                    "the server exited{}; Docker restarts it",
                    engine_state
                        .exit_code
                        .map_or(String::new(), |c| format!(" with code {c}"))
                ),
                retry_in_ms: 0,
            });
            continue;
        }
        match client.get("/health").await {
            Ok(r) if r.status == 200 => {
                misses = 0;
                if !matches!(*state.borrow(), InstanceState::Healthy { .. }) {
                    state.send_replace(InstanceState::Healthy {
                        since: chrono::Utc::now(),
                    });
                }
            }
            _ => misses += 1,
        }
        if misses >= HEALTH_MISSES {
            misses = 0;
            let reason = format!("the instance failed {HEALTH_MISSES} health checks in a row");
            tracing::warn!(container = %container.container_id, "{reason}; restarting the container");
            shared.push(format!("[apiforge] {reason}; restarting the container"));
            shared.forced_restarts.fetch_add(1, Ordering::SeqCst);
            state.send_replace(InstanceState::Restarting {
                reason,
                retry_in_ms: 0,
            });
            if let Err(e) = engine
                .docker()
                .restart_container(&container.container_id, None::<RestartContainerOptions>)
                .await
            {
                tracing::warn!(container = %container.container_id, "cannot restart the container: {e}");
            }
        }
    }
}
