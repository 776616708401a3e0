//! A version as a Docker image, and that image run as a long-lived instance (the
//! docker target of a deploy).
//!
//! No registry is reachable, so the image cannot start `FROM python:3.11-slim` the
//! way an export's Dockerfile does. It starts from the docker sandbox's base image
//! instead (a locally imported root filesystem, see `src/sandbox/docker.rs`, or the
//! image `sandbox.docker_image` names) and adds only the version's files, under
//! [`APP_DIR`]; the runtime (a venv or a `node_modules`) and, with the local base
//! image, the host's system directories are bind-mounted read-only when it runs,
//! exactly as in a sandbox.
//!
//! An instance runs with restart policy `unless-stopped`, `network_mode: none`, a
//! read-only root filesystem, no capabilities, `no-new-privileges`, as the sandbox
//! user, with the memory, pids and CPU-time limits of a sandbox. It listens on a Unix
//! socket in a host directory bind-mounted at [`INSTANCE_DIR`] (which also holds its
//! SQLite database, so data survives restarts); the gateway reaches it there.
//!
//! ```no_run
//! # async fn demo(config: &apiforge::config::Config, files: &apiforge::codegen::GeneratedFiles,
//! #   runtime: &apiforge::verify::project::PreparedRuntime) -> Result<(), apiforge::deploy::image::ImageError> {
//! use std::time::Duration;
//! use apiforge::codegen::Framework;
//! use apiforge::deploy::image::{Engine, ImageSpec, RunSpec};
//! use apiforge::sandbox::Limits;
//!
//! let engine = Engine::connect(&config.sandbox).await?;
//! let image = engine
//!     .build(&ImageSpec { owner: "ada", project: "bakery", number: 3, framework: Framework::Fastapi, files })
//!     .await?;
//! let instance = engine
//!     .run(&RunSpec::new(&image, runtime, "/var/lib/apiforge/instances/bakery-3".into(), Limits::default()))
//!     .await?;
//! engine.wait_healthy(&instance, Duration::from_secs(30)).await?;
//! let health = instance.client().get("/health").await?; // what the gateway does
//! engine.remove(&instance.container_id).await?;
//! # let _ = health; Ok(()) }
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::models::{
    ContainerCreateBody, HostConfig, HostConfigLogConfig, RestartPolicy, RestartPolicyNameEnum,
};
use bollard::query_parameters::{
    BuildImageOptionsBuilder, CreateContainerOptions, InspectContainerOptions,
    RemoveContainerOptionsBuilder, StartContainerOptions,
};
use futures::StreamExt;
use nix::unistd::Uid;
use serde::Serialize;

use crate::codegen::{Framework, GeneratedFiles};
use crate::sandbox::docker::{
    DockerSandbox, confined_host_config, connect_engine, container_cmd, container_env,
    container_ids, read_only_binds,
};
use crate::sandbox::http::{HttpClient, HttpError};
use crate::sandbox::{Limits, SOCKET_NAME, SandboxError, sandbox_uid};
use crate::verify::project::PreparedRuntime;

/// Where the version's files live inside the image (read-only, owned by root).
pub const APP_DIR: &str = "/app";
/// Where the instance's host directory (socket, database) is mounted.
pub const INSTANCE_DIR: &str = "/workspace";
/// The instance's SQLite database, inside [`INSTANCE_DIR`].
pub const DATABASE_NAME: &str = "app.db";
/// Label on every deploy image and container (`docker ps --filter label=apiforge.deploy`).
pub const DEPLOY_LABEL: &str = "apiforge.deploy";
/// `<owner>/<project>` of the deployed project.
pub const PROJECT_LABEL: &str = "apiforge.project";
/// The deployed version's number.
pub const VERSION_LABEL: &str = "apiforge.version";
/// How often [`Engine::wait_healthy`] retries `GET /health`.
const HEALTH_POLL: Duration = Duration::from_millis(50);

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    #[error("Docker {action} failed: {message}")]
    Docker {
        action: &'static str,
        message: String,
    },
    #[error("the image for {image} could not be built: {message}")]
    Build { image: String, message: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the instance in container {container} did not answer GET /health with 200 within {waited:?} (last attempt: {last_attempt}); `docker logs {container}` shows its output"
    )]
    Unhealthy {
        container: String,
        waited: Duration,
        last_attempt: String,
    },
    #[error(transparent)]
    Http(#[from] HttpError),
}

fn docker_error(action: &'static str) -> impl FnOnce(bollard::errors::Error) -> ImageError {
    move |e| ImageError::Docker {
        action,
        message: e.to_string(),
    }
}

/// The version to put in an image.
#[derive(Debug, Clone, Copy)]
pub struct ImageSpec<'a> {
    /// The owner's handle, as in the gateway's `/p/<owner>/<project>/`.
    pub owner: &'a str,
    /// The project's slug.
    pub project: &'a str,
    pub number: i32,
    pub framework: Framework,
    /// The version's files (`versions::read_contents`).
    pub files: &'a GeneratedFiles,
}

/// A built image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuiltImage {
    /// `apiforge/<owner>-<project>:v<N>`.
    pub tag: String,
    /// The engine's image id (`sha256:…`).
    pub id: String,
    pub framework: Framework,
    pub labels: BTreeMap<String, String>,
}

/// How to run an image.
#[derive(Debug, Clone)]
pub struct RunSpec<'a> {
    pub image: &'a BuiltImage,
    /// The runtime the version runs on (mounted read-only at its host path).
    pub runtime: &'a PreparedRuntime,
    /// Host directory for the socket and the database; created (and handed to the
    /// sandbox user) when missing. Keep it across restarts of the same deployment.
    pub instance_dir: PathBuf,
    /// Memory, pids and CPU time are enforced as in a sandbox and `workspace_bytes`
    /// caps the private `/tmp`; `wall` does not apply to an instance. `cpu_time` is
    /// per process (`RLIMIT_CPU`): an instance that uses it up is killed and
    /// restarted, so give deployments a generous one.
    pub limits: Limits,
    /// Extra environment, e.g. the API's secret (`API_KEY`, `JWT_SECRET`).
    pub env: BTreeMap<String, String>,
    /// Extra container labels (the deployment id, to find the container again).
    pub labels: BTreeMap<String, String>,
}

impl<'a> RunSpec<'a> {
    pub fn new(
        image: &'a BuiltImage,
        runtime: &'a PreparedRuntime,
        instance_dir: PathBuf,
        limits: Limits,
    ) -> Self {
        Self {
            image,
            runtime,
            instance_dir,
            limits,
            env: BTreeMap::new(),
            labels: BTreeMap::new(),
        }
    }

    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(key.into(), value.into());
        self
    }
}

/// A running instance: what the gateway needs to reach it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Instance {
    pub container_id: String,
    pub image: String,
    /// The Unix socket the server listens on (host path).
    pub socket: PathBuf,
    /// The host directory mounted at [`INSTANCE_DIR`].
    pub instance_dir: PathBuf,
}

impl Instance {
    /// A client for the instance's socket that only talks to a listener running as the
    /// sandbox user.
    pub fn client(&self) -> HttpClient {
        HttpClient::unix(&self.socket).require_peer_uid(sandbox_uid())
    }
}

/// What the engine says about an instance's container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstanceState {
    pub running: bool,
    /// Restarts by the restart policy since the container was created.
    pub restart_count: i64,
    /// Host PID of the server process while running.
    pub pid: Option<i32>,
    pub exit_code: Option<i64>,
}

/// The Docker engine plus the base image instances are built from.
#[derive(Debug, Clone)]
pub struct Engine {
    docker: Docker,
    base_image: String,
    /// The base is the local root filesystem: the host's system directories are
    /// bind-mounted, as in the docker sandbox.
    host_system: bool,
}

/// `apiforge/<owner>-<project>:v<N>`, with characters Docker does not allow in a
/// repository name replaced by `-`.
pub fn image_tag(owner: &str, project: &str, number: i32) -> String {
    let clean = |s: &str| {
        let mapped: String = s
            .chars()
            .map(|c| {
                let c = c.to_ascii_lowercase();
                if c.is_ascii_alphanumeric() { c } else { '-' }
            })
            .collect();
        mapped.trim_matches('-').to_owned()
    };
    format!("apiforge/{}-{}:v{number}", clean(owner), clean(project))
}

/// The build context: a Dockerfile that copies `app/` onto the base image, and the
/// files under `app/`. Deterministic (fixed owners, modes and mtimes).
fn build_context(base_image: &str, files: &GeneratedFiles) -> Result<Vec<u8>, ImageError> {
    let io = |context: &str| {
        let context = context.to_owned();
        move |source| ImageError::Io { context, source }
    };
    let dockerfile = format!("FROM {base_image}\nCOPY app/ {APP_DIR}/\n");
    let mut dirs = BTreeSet::from(["app".to_owned()]);
    for path in files.keys() {
        let mut parent = Path::new(path).parent();
        while let Some(p) = parent.filter(|p| !p.as_os_str().is_empty()) {
            dirs.insert(format!("app/{}", p.display()));
            parent = p.parent();
        }
    }
    let mut tar = tar::Builder::new(Vec::new());
    let mut append = |path: &str, mode: u32, kind: tar::EntryType, data: &[u8]| {
        let mut header = tar::Header::new_ustar();
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        header.set_size(data.len() as u64);
        tar.append_data(&mut header, path, data)
            .map_err(io(&format!("cannot add {path} to the build context")))
    };
    append(
        "Dockerfile",
        0o644,
        tar::EntryType::Regular,
        dockerfile.as_bytes(),
    )?;
    for dir in &dirs {
        append(dir, 0o755, tar::EntryType::Directory, &[])?;
    }
    for (path, content) in files {
        append(
            &format!("app/{path}"),
            0o644,
            tar::EntryType::Regular,
            content.as_bytes(),
        )?;
    }
    tar.into_inner()
        .map_err(io("cannot finish the build context"))
}

impl Engine {
    /// Connects to the engine `sandbox.docker_host` names and makes sure the sandbox's
    /// base image exists (importing the local one when `sandbox.docker_image` is empty).
    pub async fn connect(config: &crate::config::SandboxConfig) -> Result<Self, ImageError> {
        // The sandbox is opened only for its base image: it never prepares a workspace
        // here, so its workspace root is irrelevant.
        let sandbox = DockerSandbox::connect(config, PathBuf::new()).await?;
        Ok(Self {
            docker: connect_engine(&config.docker_host)?,
            base_image: sandbox.image().to_owned(),
            host_system: config.docker_image.is_empty(),
        })
    }

    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    /// The image every instance image starts from.
    pub fn base_image(&self) -> &str {
        &self.base_image
    }

    /// Builds `apiforge/<owner>-<project>:v<N>` holding the version's files, labelled
    /// with the project and version. Building the same version again replaces the tag.
    pub async fn build(&self, spec: &ImageSpec<'_>) -> Result<BuiltImage, ImageError> {
        let tag = image_tag(spec.owner, spec.project, spec.number);
        let labels = BTreeMap::from([
            (DEPLOY_LABEL.to_owned(), "1".to_owned()),
            (
                PROJECT_LABEL.to_owned(),
                format!("{}/{}", spec.owner, spec.project),
            ),
            (VERSION_LABEL.to_owned(), spec.number.to_string()),
            (
                "apiforge.framework".to_owned(),
                spec.framework.as_str().to_owned(),
            ),
        ]);
        let context = build_context(&self.base_image, spec.files)?;
        let options = BuildImageOptionsBuilder::new()
            .dockerfile("Dockerfile")
            .t(&tag)
            .rm(true)
            .forcerm(true)
            .labels(&labels.iter().collect::<HashMap<_, _>>())
            .build();
        let mut progress =
            self.docker
                .build_image(options, None, Some(bollard::body_full(context.into())));
        let failed = |message: String| ImageError::Build {
            image: tag.clone(),
            message,
        };
        while let Some(step) = progress.next().await {
            let info = step.map_err(|e| failed(e.to_string()))?;
            if let Some(detail) = info.error_detail {
                return Err(failed(detail.message.unwrap_or_default()));
            }
            if let Some(line) = info
                .stream
                .as_deref()
                .map(str::trim)
                .filter(|l| !l.is_empty())
            {
                tracing::debug!(image = %tag, "{line}");
            }
        }
        let inspected = self
            .docker
            .inspect_image(&tag)
            .await
            .map_err(docker_error("image inspect"))?;
        Ok(BuiltImage {
            id: inspected.id.unwrap_or_default(),
            tag,
            framework: spec.framework,
            labels,
        })
    }

    /// Creates and starts a container running the image's server; returns at once
    /// (see [`Engine::wait_healthy`]).
    pub async fn run(&self, spec: &RunSpec<'_>) -> Result<Instance, ImageError> {
        let dir = spec.instance_dir.clone();
        tokio::task::spawn_blocking(move || prepare_instance_dir(&dir))
            .await
            .map_err(|e| ImageError::Io {
                context: "cannot prepare the instance directory".to_owned(),
                source: std::io::Error::other(e.to_string()),
            })??;
        let body = self.container_body(spec);
        let created = self
            .docker
            .create_container(None::<CreateContainerOptions>, body)
            .await
            .map_err(docker_error("container create"))?;
        if let Err(e) = self
            .docker
            .start_container(&created.id, None::<StartContainerOptions>)
            .await
        {
            let _ = self.remove(&created.id).await;
            return Err(docker_error("container start")(e));
        }
        Ok(Instance {
            container_id: created.id,
            image: spec.image.tag.clone(),
            socket: spec.instance_dir.join(SOCKET_NAME),
            instance_dir: spec.instance_dir.clone(),
        })
    }

    fn container_body(&self, spec: &RunSpec<'_>) -> ContainerCreateBody {
        let mut exec = spec
            .runtime
            .server_exec()
            .env(
                "APIFORGE_LISTEN",
                format!("unix:{INSTANCE_DIR}/{SOCKET_NAME}"),
            )
            .env("APIFORGE_DB", format!("{INSTANCE_DIR}/{DATABASE_NAME}"))
            .cwd(APP_DIR)
            .limits(spec.limits);
        for (k, v) in &spec.env {
            exec = exec.env(k, v);
        }
        let mut binds = read_only_binds(self.host_system, &exec);
        binds.push(format!("{}:{INSTANCE_DIR}:rw", spec.instance_dir.display()));
        let (uid, gid) = container_ids();
        let mut labels: HashMap<String, String> = spec
            .image
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        labels.insert("apiforge.image".to_owned(), spec.image.tag.clone());
        labels.extend(spec.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
        ContainerCreateBody {
            image: Some(spec.image.tag.clone()),
            cmd: Some(container_cmd(self.host_system, &exec)),
            env: Some(container_env(&exec)),
            working_dir: Some(APP_DIR.to_owned()),
            user: Some(format!("{uid}:{gid}")),
            hostname: Some("instance".to_owned()),
            network_disabled: Some(true),
            labels: Some(labels),
            host_config: Some(HostConfig {
                restart_policy: Some(RestartPolicy {
                    name: Some(RestartPolicyNameEnum::UNLESS_STOPPED),
                    maximum_retry_count: None,
                }),
                // Unlike a sandbox run, an instance's output is kept (and rotated) so
                // `docker logs` and the deploy log view can show it.
                log_config: Some(HostConfigLogConfig {
                    typ: Some("json-file".to_owned()),
                    config: Some(HashMap::from([
                        ("max-size".to_owned(), "1m".to_owned()),
                        ("max-file".to_owned(), "2".to_owned()),
                    ])),
                }),
                ..confined_host_config(binds, &spec.limits, (uid, gid))
            }),
            ..Default::default()
        }
    }

    /// The container's state as the engine reports it.
    pub async fn state(&self, container_id: &str) -> Result<InstanceState, ImageError> {
        let inspected = self
            .docker
            .inspect_container(container_id, None::<InspectContainerOptions>)
            .await
            .map_err(docker_error("container inspect"))?;
        let state = inspected.state.unwrap_or_default();
        let running = state.running.unwrap_or(false);
        Ok(InstanceState {
            running,
            restart_count: inspected.restart_count.unwrap_or(0),
            pid: state
                .pid
                .filter(|p| running && *p > 0)
                .and_then(|p| i32::try_from(p).ok()),
            exit_code: state.exit_code,
        })
    }

    /// Polls `GET /health` on the instance's socket until it answers 200 (returns how
    /// long that took) or `timeout` elapses.
    pub async fn wait_healthy(
        &self,
        instance: &Instance,
        timeout: Duration,
    ) -> Result<Duration, ImageError> {
        let started = Instant::now();
        let client = instance.client().with_timeout(timeout);
        loop {
            let last_attempt = match client.get("/health").await {
                Ok(r) if r.status == 200 => return Ok(started.elapsed()),
                Ok(r) => format!("status {}", r.status),
                Err(e) => e.to_string(),
            };
            if started.elapsed() >= timeout {
                return Err(ImageError::Unhealthy {
                    container: instance.container_id.clone(),
                    waited: started.elapsed(),
                    last_attempt,
                });
            }
            tokio::time::sleep(HEALTH_POLL).await;
        }
    }

    /// Stops and removes the container (its restart policy ends with it). The
    /// instance directory is left to the caller.
    pub async fn remove(&self, container_id: &str) -> Result<(), ImageError> {
        let options = RemoveContainerOptionsBuilder::new().force(true).build();
        self.docker
            .remove_container(container_id, Some(options))
            .await
            .map_err(docker_error("container remove"))
    }

    /// Removes an image built by [`Engine::build`] (fails while a container uses it).
    pub async fn remove_image(&self, tag: &str) -> Result<(), ImageError> {
        self.docker
            .remove_image(
                tag,
                None::<bollard::query_parameters::RemoveImageOptions>,
                None,
            )
            .await
            .map(|_| ())
            .map_err(docker_error("image remove"))
    }
}

/// Creates the instance directory, owned by the instance's user (it writes its socket
/// and database there) and closed to everyone else.
fn prepare_instance_dir(dir: &Path) -> Result<(), ImageError> {
    use std::os::unix::fs::PermissionsExt;
    let io = |what: &str| {
        let context = format!("cannot {what} {}", dir.display());
        move |source| ImageError::Io { context, source }
    };
    std::fs::create_dir_all(dir).map_err(io("create"))?;
    let (uid, gid) = container_ids();
    if Uid::effective().is_root() {
        std::os::unix::fs::chown(dir, Some(uid), Some(gid)).map_err(io("hand over"))?;
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(io("restrict"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_follow_docker_naming_rules() {
        assert_eq!(image_tag("ada", "bakery", 3), "apiforge/ada-bakery:v3");
        assert_eq!(
            image_tag("Ada Lovelace", "pet_shop!", 12),
            "apiforge/ada-lovelace-pet-shop:v12"
        );
    }

    #[test]
    fn the_build_context_holds_a_dockerfile_and_the_files_under_app() {
        let files = GeneratedFiles::from([
            ("main.py".to_owned(), "print('hi')\n".to_owned()),
            ("app/routers/items.py".to_owned(), "x = 1\n".to_owned()),
        ]);
        let context = build_context("base:1", &files).expect("context");
        let mut archive = tar::Archive::new(context.as_slice());
        let mut entries = BTreeMap::new();
        for entry in archive.entries().expect("entries") {
            let mut entry = entry.expect("entry");
            let path = entry.path().expect("path").display().to_string();
            let mut text = String::new();
            std::io::Read::read_to_string(&mut entry, &mut text).expect("read");
            entries.insert(path, (entry.header().mode().expect("mode"), text));
        }
        assert_eq!(entries["Dockerfile"].1, "FROM base:1\nCOPY app/ /app/\n");
        assert_eq!(entries["app/main.py"], (0o644, "print('hi')\n".to_owned()));
        assert_eq!(entries["app/app/routers/items.py"].1, "x = 1\n");
        assert_eq!(entries["app/app/routers"].0, 0o755);
        assert_eq!(build_context("base:1", &files).expect("again"), context);
    }
}
