//! The docker backend (bollard): one container per run.
//!
//! No registry is needed. Unless `sandbox.docker_image` names an image, apiforge
//! imports a tiny root filesystem (mount points and a passwd file, see [`rootfs`]) as
//! `apiforge-sandbox:<version>-<hash>` and bind-mounts the host's `/usr`, `/lib*`,
//! `/bin`, `/sbin` and the same few `/etc` files as the process backend, read-only.
//! A configured image is used as-is (only the workspace and the caller's read-only
//! mounts are added).
//!
//! Every container runs with `network_mode: none`, a read-only root filesystem, a
//! tmpfs `/tmp`, `no-new-privileges`, all capabilities dropped, as the unprivileged
//! sandbox user (65534 when apiforge is root, else the calling user), with memory
//! (swap disabled), pids, one CPU and `RLIMIT_CPU`. The workspace is bind-mounted
//! read-write; as root it is a size-capped tmpfs on the host, so the cap holds here
//! too. The kill switch and the wall-clock limit SIGKILL the container; it is always
//! removed afterwards.

mod rootfs;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::models::{ContainerCreateBody, HostConfig, HostConfigLogConfig, ResourcesUlimits};
use bollard::query_parameters::{
    AttachContainerOptionsBuilder, CreateImageOptionsBuilder, KillContainerOptionsBuilder,
    ListContainersOptionsBuilder, RemoveContainerOptionsBuilder,
};
use futures::StreamExt;
use nix::unistd::{Gid, Uid};
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;

use super::execution::{Execution, Interrupt, OutputSink, race};
use super::line::LineSplitter;
use super::workspace::{SANDBOX_GID, SANDBOX_UID};
use super::{
    Backend, ETC_ENTRIES, Exec, Limits, Outcome, SYSTEM_TOP_DIRS, SandboxError, Stream, WORKSPACE,
    Workspace,
};
use crate::config::SandboxConfig;

const IMAGE_REPO: &str = "apiforge-sandbox";
/// Label on every sandbox container, so leftovers can be found (`docker ps -a --filter
/// label=apiforge.sandbox`).
pub const CONTAINER_LABEL: &str = "apiforge.sandbox";
/// Label holding the PID of the apiforge process that owns the container.
const OWNER_LABEL: &str = "apiforge.sandbox.owner-pid";
/// Seconds bollard waits for an API answer.
const API_TIMEOUT_SECS: u64 = 120;

#[derive(Debug, Clone)]
pub struct DockerSandbox {
    docker: Docker,
    image: String,
    host_system: bool,
    workspace_root: PathBuf,
}

/// Connects to the engine named by `host` (`unix://…`, `tcp://…`; empty: `DOCKER_HOST`
/// or the local socket).
pub fn connect_engine(host: &str) -> Result<Docker, SandboxError> {
    let result = if host.is_empty() {
        Docker::connect_with_defaults()
    } else if host.starts_with("unix://") || host.starts_with('/') {
        Docker::connect_with_unix(host, API_TIMEOUT_SECS, bollard::API_DEFAULT_VERSION)
    } else {
        Docker::connect_with_http(host, API_TIMEOUT_SECS, bollard::API_DEFAULT_VERSION)
    };
    result.map_err(|e| SandboxError::DockerUnreachable(e.to_string()))
}

/// The tag of the locally built image for this apiforge version and host layout.
pub fn local_image_tag() -> String {
    let digest = Sha256::digest(rootfs::tarball());
    format!(
        "{IMAGE_REPO}:{}-{}",
        env!("CARGO_PKG_VERSION"),
        &hex::encode(digest)[..12]
    )
}

impl DockerSandbox {
    pub async fn connect(
        config: &SandboxConfig,
        workspace_root: PathBuf,
    ) -> Result<Self, SandboxError> {
        let docker = connect_engine(&config.docker_host)?;
        docker
            .ping()
            .await
            .map_err(|e| SandboxError::DockerUnreachable(e.to_string()))?;
        remove_exited_leftovers(&docker).await;
        let (image, host_system) = if config.docker_image.is_empty() {
            (ensure_local_image(&docker).await?, true)
        } else {
            docker
                .inspect_image(&config.docker_image)
                .await
                .map_err(|e| SandboxError::Docker {
                    action: "image lookup",
                    message: format!(
                        "sandbox.docker_image \"{}\" is not available locally ({e}); pull it first or clear the setting to use a locally built image",
                        config.docker_image
                    ),
                })?;
            (config.docker_image.clone(), false)
        };
        Ok(Self {
            docker,
            image,
            host_system,
            workspace_root,
        })
    }

    pub(crate) fn workspace_root(&self) -> &Path {
        &self.workspace_root
    }

    /// The image containers run from.
    pub fn image(&self) -> &str {
        &self.image
    }

    pub(crate) async fn launch(
        &self,
        workspace: &Workspace,
        exec: &Exec,
    ) -> Result<Execution, SandboxError> {
        exec.check_mounts()?;
        let limits = *exec.resource_limits();
        let body = self.container_body(workspace.dir(), exec);
        let docker = self.docker.clone();
        let created = docker
            .create_container(
                None::<bollard::query_parameters::CreateContainerOptions>,
                body,
            )
            .await
            .map_err(|e| docker_error("container create", e))?;
        let id = created.id;
        // From here on the container exists: every failure path must remove it.
        let attached = docker
            .attach_container(
                &id,
                Some(
                    AttachContainerOptionsBuilder::new()
                        .stream(true)
                        .stdout(true)
                        .stderr(true)
                        .build(),
                ),
            )
            .await;
        let attached = match attached {
            Ok(a) => a,
            Err(e) => {
                remove(&docker, &id).await;
                return Err(docker_error("container attach", e));
            }
        };
        let started = Instant::now();
        if let Err(e) = docker
            .start_container(
                &id,
                None::<bollard::query_parameters::StartContainerOptions>,
            )
            .await
        {
            remove(&docker, &id).await;
            return Err(SandboxError::Start {
                program: exec.program().to_owned(),
                reason: e.to_string(),
            });
        }

        let (sink, lines, tail) = OutputSink::new();
        let mut output = attached.output;
        let reader = tokio::spawn(async move {
            let mut out = LineSplitter::default();
            let mut err = LineSplitter::default();
            while let Some(Ok(chunk)) = output.next().await {
                match chunk {
                    LogOutput::StdOut { message } | LogOutput::Console { message } => {
                        for line in out.push(&message) {
                            sink.push(Stream::Stdout, line);
                        }
                    }
                    LogOutput::StdErr { message } => {
                        for line in err.push(&message) {
                            sink.push(Stream::Stderr, line);
                        }
                    }
                    LogOutput::StdIn { .. } => {}
                }
            }
            if let Some(line) = out.finish() {
                sink.push(Stream::Stdout, line);
            }
            if let Some(line) = err.finish() {
                sink.push(Stream::Stderr, line);
            }
        });

        let kill_switch = exec.killer();
        let switch = kill_switch.clone();
        let tail_for_outcome = tail.clone();
        let (outcome_tx, outcome_rx) = oneshot::channel();
        tokio::spawn(async move {
            let mut wait = Box::pin(wait_exit(docker.clone(), id.clone()));
            let mut interrupt = None;
            let waited = match race(&mut wait, &switch, limits.wall).await {
                Ok(code) => code,
                Err(why) => {
                    interrupt = Some(why);
                    let _ = docker
                        .kill_container(
                            &id,
                            Some(KillContainerOptionsBuilder::new().signal("SIGKILL").build()),
                        )
                        .await;
                    wait.await
                }
            };
            let duration = started.elapsed();
            // The attach stream ends when the container's output closes.
            let _ = tokio::time::timeout(Duration::from_secs(5), reader).await;
            let oom = docker
                .inspect_container(
                    &id,
                    None::<bollard::query_parameters::InspectContainerOptions>,
                )
                .await
                .ok()
                .and_then(|i| i.state)
                .and_then(|s| s.oom_killed)
                .unwrap_or(false);
            remove(&docker, &id).await;
            let result = waited.map(|code| {
                let signalled = interrupt.is_some() || oom;
                // Docker reports a signal N as exit code 128+N.
                let (exit_code, signal) = if signalled && code > 128 {
                    (None, Some(i32::try_from(code - 128).unwrap_or(9)))
                } else {
                    (Some(i32::try_from(code).unwrap_or(i32::MAX)), None)
                };
                Outcome {
                    backend: Backend::Docker,
                    exit_code,
                    signal,
                    timed_out: interrupt == Some(Interrupt::TimedOut),
                    killed: interrupt == Some(Interrupt::Killed),
                    out_of_memory: oom,
                    duration,
                    output_tail: tail_for_outcome.snapshot(),
                }
            });
            let _ = outcome_tx.send(result);
        });
        Ok(Execution {
            lines,
            tail,
            kill_switch,
            outcome: outcome_rx,
        })
    }

    fn container_body(&self, workspace: &Path, exec: &Exec) -> ContainerCreateBody {
        let mut binds = read_only_binds(self.host_system, exec);
        binds.push(format!("{}:{WORKSPACE}:rw", workspace.display()));
        let (uid, gid) = container_ids();
        ContainerCreateBody {
            image: Some(self.image.clone()),
            cmd: Some(container_cmd(self.host_system, exec)),
            env: Some(container_env(exec)),
            working_dir: Some(exec.working_dir().to_owned()),
            user: Some(format!("{uid}:{gid}")),
            hostname: Some("sandbox".to_owned()),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            tty: Some(false),
            network_disabled: Some(true),
            labels: Some(HashMap::from([
                (CONTAINER_LABEL.to_owned(), "1".to_owned()),
                (OWNER_LABEL.to_owned(), std::process::id().to_string()),
            ])),
            host_config: Some(HostConfig {
                log_config: Some(HostConfigLogConfig {
                    typ: Some("none".to_owned()),
                    config: None,
                }),
                ..confined_host_config(binds, exec.resource_limits(), (uid, gid))
            }),
            ..Default::default()
        }
    }
}

/// The uid and gid a container runs as: the sandbox user when apiforge runs as root
/// (uid 0 inside would be root on every bind mount), else the caller.
pub(crate) fn container_ids() -> (u32, u32) {
    if Uid::effective().is_root() {
        (SANDBOX_UID, SANDBOX_GID)
    } else {
        (Uid::current().as_raw(), Gid::current().as_raw())
    }
}

/// Read-only binds: the host's system dirs (when the image relies on them) and the
/// exec's mounts (runtimes). The caller adds its one writable bind.
pub(crate) fn read_only_binds(host_system: bool, exec: &Exec) -> Vec<String> {
    let mut binds = Vec::new();
    if host_system {
        binds.push("/usr:/usr:ro".to_owned());
        for top in SYSTEM_TOP_DIRS {
            if std::fs::symlink_metadata(top).is_ok_and(|m| m.is_dir()) {
                binds.push(format!("{top}:{top}:ro"));
            }
        }
        for entry in ETC_ENTRIES {
            if Path::new(entry).exists() {
                binds.push(format!("{entry}:{entry}:ro"));
            }
        }
    }
    for m in exec.mounts() {
        binds.push(format!("{}:{}:ro", m.host.display(), m.sandbox.display()));
    }
    binds
}

/// The command line. A configured image has its own PATH; the host's layout only
/// describes ours.
pub(crate) fn container_cmd(host_system: bool, exec: &Exec) -> Vec<String> {
    let program = if host_system {
        exec.resolved_program()
    } else {
        exec.program().to_owned()
    };
    let mut cmd = vec![program];
    cmd.extend(exec.arguments().iter().cloned());
    cmd
}

/// The scrubbed environment, as `KEY=value`.
pub(crate) fn container_env(exec: &Exec) -> Vec<String> {
    exec.sandbox_env()
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect()
}

/// The confinement every apiforge container gets, a check's or a deployment's: no
/// network, a read-only root, no capabilities or privilege gain, memory without swap,
/// pids, one CPU, CPU time, and a private /tmp of the workspace size.
pub(crate) fn confined_host_config(
    binds: Vec<String>,
    limits: &Limits,
    (uid, gid): (u32, u32),
) -> HostConfig {
    let memory = i64::try_from(limits.memory_bytes).unwrap_or(i64::MAX);
    let cpu = i64::try_from(limits.cpu_time.as_secs().max(1)).unwrap_or(i64::MAX);
    HostConfig {
        binds: Some(binds),
        network_mode: Some("none".to_owned()),
        memory: Some(memory),
        memory_swap: Some(memory),
        pids_limit: Some(i64::try_from(limits.pids).unwrap_or(i64::MAX)),
        nano_cpus: Some(1_000_000_000),
        ulimits: Some(vec![ResourcesUlimits {
            name: Some("cpu".to_owned()),
            soft: Some(cpu),
            hard: Some(cpu.saturating_add(1)),
        }]),
        readonly_rootfs: Some(true),
        // Owned by the container's user: some engines ignore `mode=` here and would
        // leave a root-owned 0755 /tmp nobody inside can write to.
        tmpfs: Some(HashMap::from([(
            "/tmp".to_owned(),
            format!(
                "rw,nosuid,nodev,size={},mode=1777,uid={uid},gid={gid}",
                limits.workspace_bytes
            ),
        )])),
        security_opt: Some(vec!["no-new-privileges".to_owned()]),
        cap_drop: Some(vec!["ALL".to_owned()]),
        ..Default::default()
    }
}

/// Builds the local image unless it exists; returns its tag.
async fn ensure_local_image(docker: &Docker) -> Result<String, SandboxError> {
    let tag = local_image_tag();
    if docker.inspect_image(&tag).await.is_ok() {
        return Ok(tag);
    }
    let (repo, version) = tag.split_once(':').unwrap_or((IMAGE_REPO, "latest"));
    let options = CreateImageOptionsBuilder::new()
        .from_src("-")
        .repo(repo)
        .tag(version)
        .build();
    let mut progress = docker.create_image(
        Some(options),
        Some(bollard::body_full(rootfs::tarball().into())),
        None,
    );
    while let Some(step) = progress.next().await {
        step.map_err(|e| docker_error("image import", e))?;
    }
    docker
        .inspect_image(&tag)
        .await
        .map_err(|e| docker_error("image import", e))?;
    Ok(tag)
}

/// Removes sandbox containers that already exited but were never removed (apiforge
/// was killed mid-run). Running ones may belong to another apiforge process: kept.
async fn remove_exited_leftovers(docker: &Docker) {
    let filters = HashMap::from([
        ("label".to_owned(), vec![CONTAINER_LABEL.to_owned()]),
        (
            "status".to_owned(),
            vec!["exited".to_owned(), "created".to_owned()],
        ),
    ]);
    let options = ListContainersOptionsBuilder::new()
        .all(true)
        .filters(&filters)
        .build();
    let Ok(leftovers) = docker.list_containers(Some(options)).await else {
        return;
    };
    for container in leftovers {
        let owner = container
            .labels
            .as_ref()
            .and_then(|l| l.get(OWNER_LABEL))
            .and_then(|pid| pid.parse::<i32>().ok());
        let owner_alive = owner.is_some_and(|pid| {
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
        });
        if let (Some(id), false) = (container.id, owner_alive) {
            remove(docker, &id).await;
        }
    }
}

/// The container's exit code once it has stopped.
async fn wait_exit(docker: Docker, id: String) -> Result<i64, SandboxError> {
    let mut stream =
        docker.wait_container(&id, None::<bollard::query_parameters::WaitContainerOptions>);
    match stream.next().await {
        Some(Ok(response)) => Ok(response.status_code),
        // bollard reports a non-zero exit as an error carrying the code.
        Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => Ok(code),
        Some(Err(e)) => Err(docker_error("container wait", e)),
        None => Err(SandboxError::Lost),
    }
}

async fn remove(docker: &Docker, id: &str) {
    let options = RemoveContainerOptionsBuilder::new()
        .force(true)
        .v(true)
        .build();
    if let Err(e) = docker.remove_container(id, Some(options)).await {
        tracing::warn!("cannot remove sandbox container {id}: {e}");
    }
}

fn docker_error(action: &'static str, e: bollard::errors::Error) -> SandboxError {
    SandboxError::Docker {
        action,
        message: e.to_string(),
    }
}
