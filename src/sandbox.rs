//! Running untrusted generated code: a workspace, a command, limits, and nothing else.
//!
//! # Shape
//!
//! [`Sandbox`] is an enum over the two backends — [`process`] (Linux namespaces through
//! hakoniwa; the default, no daemon) and [`docker`] (bollard). An enum rather than a
//! trait object because the set of backends is closed and known here, the operations
//! are `async` (a `dyn` trait would need boxed futures or `async-trait`), and callers
//! (verification, the job engine, deploys) want one concrete, `Clone` value to hold.
//!
//! A run goes:
//! 1. [`Sandbox::prepare`] makes a fresh [`Workspace`] (a host directory, seen as
//!    [`WORKSPACE`] inside) from a [`WorkspaceSource`]: empty, a copy of a directory, or
//!    [`GeneratedFiles`](crate::codegen::GeneratedFiles). The caller may add files
//!    through [`Workspace::dir`] before running anything.
//! 2. [`Sandbox::run`] runs an [`Exec`] to completion, handing each stdout/stderr
//!    [`Line`] to a callback, and returns an [`Outcome`]; or [`Sandbox::start`] starts
//!    a long-running server and returns a [`Server`].
//! 3. The server is told to listen on `APIFORGE_LISTEN=unix:/workspace/app.sock`; the
//!    host reaches it at [`Workspace::socket_path`] through [`Server::client`] (an
//!    [`http::HttpClient`] that refuses a socket not owned by the sandbox user);
//!    [`Server::wait_healthy`] polls `GET /health`.
//! 4. Cancellation: every [`Exec`] carries a cloneable [`KillSwitch`]; `kill()` from any
//!    task ends the whole sandbox at once (every process in it, detached ones too).
//!    Dropping a [`Server`] does the same.
//! 5. [`Workspace::remove`] deletes the workspace (and unmounts its size cap).
//!
//! Every run is given [`Limits`] (memory, pids, CPU time, wall clock, workspace size),
//! a scrubbed environment (see [`Exec`]) and no network. Prepared runtimes (a Python
//! venv, a `node_modules`) are mounted read-only with [`Exec::mount_ro`], at their
//! host path (venvs hard-code it); only that directory becomes visible, not the home
//! it lives in.
//!
//! ```no_run
//! # async fn demo(config: &apiforge::config::Config, files: &apiforge::codegen::GeneratedFiles)
//! # -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use apiforge::sandbox::{Backend, Exec, Limits, Sandbox, WorkspaceSource};
//!
//! let sandbox = Sandbox::open(Backend::Process, &config.sandbox, "/tmp/ws".into()).await?;
//! let limits = Limits::from_config(&config.sandbox);
//! let ws = sandbox.prepare(WorkspaceSource::Files(files), &limits).await?;
//! let venv = "/root/.cache/apiforge/runtimes/python";
//! let exec = Exec::new(format!("{venv}/bin/uvicorn"))
//!     .args(["app.main:app", "--uds", "/workspace/app.sock"])
//!     .mount_ro(venv, venv)
//!     .limits(limits);
//! let mut server = sandbox.start(&ws, &exec, |line| tracing::debug!("{}", line.text)).await?;
//! let cancel = server.killer(); // hand to the job engine: cancel.kill() from any task
//! server.wait_healthy(Duration::from_secs(10)).await?;
//! let health = server.client().get("/health").await?;
//! assert_eq!(health.status, 200);
//! let outcome = server.stop().await?;
//! ws.remove().await?;
//! # let _ = (cancel, outcome); Ok(()) }
//! ```

pub mod docker;
pub mod http;
pub mod process;

mod exec;
mod execution;
mod kill_switch;
mod limits;
mod line;
mod outcome;
mod server;
mod workspace;

use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use exec::{Exec, ReadOnlyMount};
pub use kill_switch::KillSwitch;
pub use limits::Limits;
pub use line::{Line, Stream};
pub use outcome::Outcome;
pub use server::{HealthError, Server};
pub use workspace::{SANDBOX_GID, SANDBOX_UID, Workspace, WorkspaceSource, sandbox_uid};

use crate::config::SandboxConfig;

/// Where the workspace appears inside every sandbox.
pub const WORKSPACE: &str = "/workspace";

/// File name of the server socket inside the workspace; the server is told where to
/// listen through `APIFORGE_LISTEN=unix:/workspace/app.sock`.
pub const SOCKET_NAME: &str = "app.sock";

/// Top-level system directories besides `/usr`: each is recreated as the same symlink
/// (merged-/usr systems) or bind-mounted read-only.
pub(crate) const SYSTEM_TOP_DIRS: &[&str] =
    &["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];

/// `/etc` entries a Python or Node runtime reads; each is mounted read-only when the
/// host has it. Deliberately not all of `/etc` (shadow, ssh keys, credentials).
pub(crate) const ETC_ENTRIES: &[&str] = &[
    "/etc/ld.so.cache",
    "/etc/alternatives",
    "/etc/localtime",
    "/etc/mime.types",
    "/etc/ssl/openssl.cnf",
    "/etc/python3",
    "/etc/python3.11",
    "/etc/python3.12",
    "/etc/python3.13",
];

/// Which isolation technique runs the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Process,
    Docker,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Process => "process",
            Backend::Docker => "docker",
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Backend {
    type Err = SandboxError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "process" => Ok(Backend::Process),
            "docker" => Ok(Backend::Docker),
            other => Err(SandboxError::UnknownBackend(other.to_owned())),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("unknown sandbox backend \"{0}\": use \"process\" or \"docker\"")]
    UnknownBackend(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the sandbox could not start {program}: {reason} (`apiforge doctor` checks what the sandbox needs)"
    )]
    Start { program: String, reason: String },
    #[error("workspace file {path:?} is not a relative path inside the workspace")]
    BadWorkspacePath { path: String },
    #[error("read-only mount {0:?} must be an absolute path")]
    BadMount(PathBuf),
    #[error(
        "the Docker engine is not reachable ({0}); start dockerd (see .ci/docker.sh) or use --sandbox process"
    )]
    DockerUnreachable(String),
    #[error("Docker {action} failed: {message}")]
    Docker {
        action: &'static str,
        message: String,
    },
    #[error("the sandbox supervisor stopped before reporting an outcome")]
    Lost,
}

impl SandboxError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        SandboxError::Io {
            context: context.into(),
            source,
        }
    }
}

/// Root directory under which workspaces are created when the caller has no better
/// place: `<cache dir>/sandboxes`.
pub fn default_workspace_root(dirs: &crate::config::Dirs) -> PathBuf {
    dirs.cache.join("sandboxes")
}

/// A sandbox backend, ready to prepare workspaces and run commands. Cheap to clone.
#[derive(Clone)]
pub enum Sandbox {
    Process(process::ProcessSandbox),
    Docker(docker::DockerSandbox),
}

impl Sandbox {
    /// Opens `backend`, placing workspaces under `workspace_root` (and removing any
    /// there that a killed apiforge left behind). For docker this connects to the engine and
    /// makes sure the sandbox image exists (building it locally when none is configured).
    pub async fn open(
        backend: Backend,
        config: &SandboxConfig,
        workspace_root: PathBuf,
    ) -> Result<Self, SandboxError> {
        let root = workspace_root.clone();
        let swept = tokio::task::spawn_blocking(move || Workspace::sweep_stale(&root))
            .await
            .unwrap_or(0);
        if swept > 0 {
            tracing::info!("removed {swept} workspaces left behind by a killed apiforge");
        }
        match backend {
            Backend::Process => Ok(Sandbox::Process(process::ProcessSandbox::new(
                workspace_root,
            ))),
            Backend::Docker => Ok(Sandbox::Docker(
                docker::DockerSandbox::connect(config, workspace_root).await?,
            )),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Sandbox::Process(_) => Backend::Process,
            Sandbox::Docker(_) => Backend::Docker,
        }
    }

    fn workspace_root(&self) -> &std::path::Path {
        match self {
            Sandbox::Process(p) => p.workspace_root(),
            Sandbox::Docker(d) => d.workspace_root(),
        }
    }

    /// Makes a fresh workspace holding `source`, capped at `limits.workspace_bytes`
    /// (when running as root: a size-limited tmpfs; see [`Workspace`]).
    pub async fn prepare(
        &self,
        source: WorkspaceSource<'_>,
        limits: &Limits,
    ) -> Result<Workspace, SandboxError> {
        Workspace::create(self.workspace_root(), source, limits.workspace_bytes).await
    }

    /// Runs `exec` to completion (or until its wall-clock limit or its kill switch),
    /// handing every output line to `on_line` as it arrives.
    pub async fn run(
        &self,
        workspace: &Workspace,
        exec: &Exec,
        mut on_line: impl FnMut(&Line) + Send,
    ) -> Result<Outcome, SandboxError> {
        let mut execution = self.launch(workspace, exec).await?;
        while let Some(line) = execution.lines.recv().await {
            on_line(&line);
        }
        execution.outcome().await
    }

    /// Starts `exec` as a long-running server; its output lines go to `on_line` (and
    /// to [`Server::logs`]). `APIFORGE_LISTEN` is set to the
    /// workspace socket unless `exec` sets it. The server keeps running until
    /// [`Server::stop`], its kill switch, its wall-clock limit, or the `Server` is
    /// dropped.
    pub async fn start(
        &self,
        workspace: &Workspace,
        exec: &Exec,
        on_line: impl FnMut(&Line) + Send + 'static,
    ) -> Result<Server, SandboxError> {
        let mut exec = exec.clone();
        if !exec.env_vars().contains_key("APIFORGE_LISTEN") {
            exec = exec.env("APIFORGE_LISTEN", format!("unix:{WORKSPACE}/{SOCKET_NAME}"));
        }
        let execution = self.launch(workspace, &exec).await?;
        Ok(Server::new(execution, workspace.socket_path(), on_line))
    }

    async fn launch(
        &self,
        workspace: &Workspace,
        exec: &Exec,
    ) -> Result<execution::Execution, SandboxError> {
        workspace.hand_over().await?;
        match self {
            Sandbox::Process(p) => p.launch(workspace, exec).await,
            Sandbox::Docker(d) => d.launch(workspace, exec).await,
        }
    }
}
