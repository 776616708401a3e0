//! The instances a daemon hosts, by deployment, and the route table that points the
//! gateway at them.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use uuid::Uuid;

use super::container::{ContainerInstance, ContainerSpec};
use super::image::Engine;
use super::instance::{Instance, InstanceSpec, InstanceStatus};
use super::route_table::{RouteTable, Upstream};
use super::{DeployError, InstanceSettings, Platform};
use crate::codegen::{Framework, GeneratedFiles};
use crate::config::{Config, Dirs, SandboxConfig};
use crate::runtimes::Runtimes;
use crate::sandbox::{Backend, Sandbox};
use crate::verify::project::prepare_runtime;

/// What to launch for a deployment.
#[derive(Debug, Clone)]
pub struct Launch {
    pub deployment: Uuid,
    pub version: i32,
    pub framework: Framework,
    pub files: GeneratedFiles,
    pub env: BTreeMap<String, String>,
    /// `owner/project`, as in the route.
    pub route: String,
    pub platform: Platform,
}

/// A hosted instance of either kind; the supervisor, gateway and status treat both
/// alike.
#[allow(clippy::large_enum_variant)] // a handful per daemon, never moved in bulk
enum Running {
    Sandbox(Instance),
    Docker(ContainerInstance),
}

impl Running {
    fn status(&self) -> InstanceStatus {
        match self {
            Running::Sandbox(i) => i.status(),
            Running::Docker(c) => c.status(),
        }
    }

    fn socket(&self) -> &std::path::Path {
        match self {
            Running::Sandbox(i) => i.socket(),
            Running::Docker(c) => c.socket(),
        }
    }

    fn logs(&self) -> Vec<String> {
        match self {
            Running::Sandbox(i) => i.logs(),
            Running::Docker(c) => c.logs(),
        }
    }

    /// Stops the instance for good (a docker container is removed).
    async fn stop(&mut self) {
        match self {
            Running::Sandbox(i) => i.stop().await,
            Running::Docker(c) => c.stop().await,
        }
    }

    /// Daemon shutdown: a sandbox dies with the daemon anyway; a container keeps
    /// running for the next daemon to adopt.
    async fn shut_down(&mut self) {
        match self {
            Running::Sandbox(i) => i.stop().await,
            Running::Docker(c) => c.detach().await,
        }
    }
}

/// An instance as `apiforge deployments` and `serve status` show it.
#[derive(Debug, Clone, Serialize)]
pub struct HostedInstance {
    /// `owner/project` when the instance is routed.
    pub route: Option<String>,
    #[serde(flatten)]
    pub status: InstanceStatus,
    pub in_flight: usize,
    pub logs: Vec<String>,
}

pub struct Supervisor {
    sandbox: Sandbox,
    runtimes: Runtimes,
    settings: InstanceSettings,
    routes: Arc<RouteTable>,
    instances: Mutex<HashMap<Uuid, Running>>,
    sandbox_config: SandboxConfig,
    /// Host directories of docker-target instances, one per deployment.
    instances_dir: std::path::PathBuf,
    /// Connected on the first docker-target launch.
    engine: tokio::sync::OnceCell<Engine>,
}

impl Supervisor {
    /// Opens the configured sandbox backend with its own workspace root
    /// (`<cache>/deployments`), so check runs and instances never sweep each other.
    pub async fn open(
        config: &Config,
        dirs: &Dirs,
        routes: Arc<RouteTable>,
    ) -> Result<Self, DeployError> {
        let backend: Backend = config.sandbox.backend.parse()?;
        let sandbox =
            Sandbox::open(backend, &config.sandbox, dirs.cache.join("deployments")).await?;
        Ok(Self {
            sandbox,
            runtimes: Runtimes::new(&dirs.cache, &config.runtimes),
            settings: InstanceSettings::from_config(&config.deploy),
            routes,
            instances: Mutex::new(HashMap::new()),
            sandbox_config: config.sandbox.clone(),
            instances_dir: dirs.data.join("instances"),
            engine: tokio::sync::OnceCell::new(),
        })
    }

    pub fn routes(&self) -> &Arc<RouteTable> {
        &self.routes
    }

    pub fn settings(&self) -> &InstanceSettings {
        &self.settings
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Running>> {
        self.instances.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn is_running(&self, deployment: Uuid) -> bool {
        self.lock().contains_key(&deployment)
    }

    /// Starts the deployment's instance and waits until it is healthy; does nothing
    /// when it already runs (a resumed job repeats this step).
    pub async fn launch(
        &self,
        launch: Launch,
        progress: &mut (dyn FnMut(&str) + Send),
    ) -> Result<(), DeployError> {
        if self.is_running(launch.deployment) {
            return Ok(());
        }
        let runtimes = self.runtimes.clone();
        let framework = launch.framework;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        let installing = tokio::task::spawn_blocking(move || {
            prepare_runtime(&runtimes, framework, &mut |line| {
                let _ = tx.send(line.to_owned());
            })
        });
        while let Some(line) = rx.recv().await {
            progress(&format!("runtime: {line}"));
        }
        let runtime = installing
            .await
            .map_err(|e| DeployError::Runtime {
                framework: framework.to_string(),
                message: e.to_string(),
            })?
            .map_err(|e| DeployError::Runtime {
                framework: framework.to_string(),
                message: e.to_string(),
            })?;
        let instance = match launch.platform {
            Platform::Sandbox => {
                let spec = InstanceSpec {
                    deployment: launch.deployment,
                    version: launch.version,
                    files: launch.files,
                    runtime,
                    env: launch.env,
                };
                Running::Sandbox(Instance::start(&self.sandbox, spec, self.settings).await?)
            }
            Platform::Docker => {
                let engine = self
                    .engine
                    .get_or_try_init(|| Engine::connect(&self.sandbox_config))
                    .await?;
                let (owner, project) = launch
                    .route
                    .split_once('/')
                    .unwrap_or(("apiforge", launch.route.as_str()));
                let spec = ContainerSpec {
                    deployment: launch.deployment,
                    version: launch.version,
                    owner: owner.to_owned(),
                    project: project.to_owned(),
                    framework,
                    files: launch.files,
                    runtime,
                    env: launch.env,
                    instance_dir: self.instances_dir.join(launch.deployment.to_string()),
                    instances_dir: self.instances_dir.clone(),
                };
                Running::Docker(ContainerInstance::start(engine, spec, self.settings).await?)
            }
        };
        let duplicate = self.lock().insert(launch.deployment, instance);
        if let Some(mut other) = duplicate {
            // Two launches of one deployment raced; keep the newer.
            other.stop().await;
        }
        Ok(())
    }

    /// Points `route` at the deployment's (running) instance, then lets the instance it
    /// replaces finish its requests (up to `deploy.drain_timeout_secs`) and stops it.
    /// Returns the replaced deployment.
    pub async fn switch(&self, route: &str, deployment: Uuid) -> Result<Option<Uuid>, DeployError> {
        let upstream = {
            let instances = self.lock();
            let instance = instances.get(&deployment).ok_or_else(|| {
                DeployError::Unhealthy(format!(
                    "deployment {deployment} has no running instance to switch to"
                ))
            })?;
            Arc::new(Upstream::new(
                deployment,
                instance.status().version,
                instance.socket().to_path_buf(),
            ))
        };
        let old = self.routes.swap(route, upstream);
        let Some(old) = old.filter(|o| o.deployment != deployment) else {
            return Ok(None);
        };
        self.retire(&old).await;
        Ok(Some(old.deployment))
    }

    /// Frees `route` (if it points at `deployment`), drains and stops the instance.
    pub async fn undeploy(&self, route: &str, deployment: Uuid) {
        match self.routes.remove(route, deployment) {
            Some(old) => self.retire(&old).await,
            None => self.stop(deployment).await,
        }
    }

    async fn retire(&self, old: &Upstream) {
        if !old.drained(self.settings.drain_timeout).await {
            tracing::warn!(
                deployment = %old.deployment,
                "{} requests still in flight after the drain timeout; stopping the instance anyway",
                old.in_flight()
            );
        }
        self.stop(old.deployment).await;
    }

    /// Stops a deployment's instance (not its route).
    pub async fn stop(&self, deployment: Uuid) {
        let instance = self.lock().remove(&deployment);
        if let Some(mut instance) = instance {
            instance.stop().await;
        }
    }

    /// Removes this home's docker-target containers whose deployment is not in `live`
    /// (see [`super::container::sweep`]).
    pub async fn sweep_containers(&self, live: &std::collections::HashSet<Uuid>) -> usize {
        super::container::sweep(&self.sandbox_config, &self.instances_dir, live).await
    }

    /// Stops every sandboxed instance and lets go of every container, which keeps
    /// running for the next daemon to adopt (daemon shutdown); routes are left as they
    /// are.
    pub async fn stop_all(&self) {
        let all: Vec<Running> = self.lock().drain().map(|(_, i)| i).collect();
        for mut instance in all {
            instance.shut_down().await;
        }
    }

    /// Every hosted instance with its route, in-flight count and last output lines.
    pub fn hosted(&self) -> Vec<HostedInstance> {
        let routed: HashMap<Uuid, (String, usize)> = self
            .routes
            .routes()
            .into_iter()
            .map(|(route, u)| (u.deployment, (route, u.in_flight())))
            .collect();
        let instances = self.lock();
        let mut hosted: Vec<HostedInstance> = instances
            .values()
            .map(|i| {
                let status = i.status();
                let (route, in_flight) = routed
                    .get(&status.deployment)
                    .cloned()
                    .map_or((None, 0), |(r, n)| (Some(r), n));
                HostedInstance {
                    route,
                    status,
                    in_flight,
                    logs: i.logs(),
                }
            })
            .collect();
        hosted.sort_by(|a, b| a.route.cmp(&b.route));
        hosted
    }
}
