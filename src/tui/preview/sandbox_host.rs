//! The project's sandbox server for the preview: started on the first request for a
//! version, kept running for the requests after it, replaced when another version is
//! asked for, stopped when the project changes or the app quits.

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::Mutex;
use uuid::Uuid;

use crate::codegen::GeneratedFiles;
use crate::sandbox::http::HttpClient;
use crate::sandbox::{Limits, Sandbox, Server, WORKSPACE, Workspace, WorkspaceSource};
use crate::verify::credentials::Credentials;
use crate::verify::project::{PreparedRuntime, Project};

/// How long the server may take to answer `GET /health`.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(30);
/// The wall-clock limit of a preview server. It serves a person trying requests for
/// as long as the project stays selected, so the per-check limit from the config
/// (minutes) would kill it mid-session; the app stops it when the project changes.
const PREVIEW_WALL: Duration = Duration::from_secs(12 * 60 * 60);
/// How long one preview request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A running server for one version of one project.
pub struct RunningServer {
    pub project: Uuid,
    pub version: i32,
    server: Server,
    workspace: Option<Workspace>,
    credentials: Option<Credentials>,
}

impl RunningServer {
    /// Writes `files` into a fresh workspace and serves them on `runtime`, with fresh
    /// credentials when the API has auth; returns once `/health` answers.
    pub async fn start(
        sandbox: &Sandbox,
        runtime: &PreparedRuntime,
        files: &GeneratedFiles,
        limits: Limits,
        project: Uuid,
        version: i32,
    ) -> Result<Self, String> {
        let limits = Limits {
            wall: PREVIEW_WALL,
            ..limits
        };
        let workspace = sandbox
            .prepare(WorkspaceSource::Files(files), &limits)
            .await
            .map_err(|e| format!("cannot prepare a sandbox workspace for v{version}: {e}"))?;
        let credentials = match Project::load(workspace.dir()) {
            Ok(p) => p.credentials(),
            Err(e) => {
                let _ = workspace.remove().await;
                return Err(format!("v{version} cannot be served: {e}"));
            }
        };
        let mut exec = runtime
            .server_exec()
            // The database is named after the project so a leftover process can be
            // traced to it.
            .env("APIFORGE_DB", format!("{WORKSPACE}/preview-{project}.db"))
            .limits(limits);
        if let Some(c) = &credentials {
            let (var, value) = c.server_env();
            exec = exec.env(var, value);
        }
        let mut server = match sandbox
            .start(&workspace, &exec, |line| {
                tracing::debug!(target: "preview_server", "{}", line.text);
            })
            .await
        {
            Ok(s) => s,
            Err(e) => {
                let _ = workspace.remove().await;
                return Err(format!("the v{version} server could not start: {e}"));
            }
        };
        if let Err(e) = server.wait_healthy(HEALTH_TIMEOUT).await {
            let _ = server.stop().await;
            let _ = workspace.remove().await;
            return Err(format!("the v{version} server did not come up: {e}"));
        }
        Ok(Self {
            project,
            version,
            server,
            workspace: Some(workspace),
            credentials,
        })
    }

    pub fn socket_path(&self) -> PathBuf {
        self.server.socket_path().to_path_buf()
    }

    pub fn client(&self) -> HttpClient {
        self.server.client().with_timeout(REQUEST_TIMEOUT)
    }

    /// The header an authorised request carries, when the API has auth.
    pub fn auth_header(&self) -> Option<(String, String)> {
        self.credentials.as_ref().map(Credentials::header)
    }

    /// Kills the server and removes its workspace.
    pub async fn stop(mut self) {
        if let Err(e) = self.server.stop().await {
            tracing::debug!("preview server for v{}: {e}", self.version);
        }
        if let Some(ws) = self.workspace.take()
            && let Err(e) = ws.remove().await
        {
            tracing::warn!("cannot remove the preview workspace: {e}");
        }
    }
}

/// Holds at most one running server (the selected project's).
#[derive(Default)]
pub struct SandboxHost {
    running: Mutex<Option<RunningServer>>,
}

impl SandboxHost {
    pub fn new() -> Self {
        Self::default()
    }

    /// The slot, locked: requests to the server hold it so it is not replaced under
    /// them.
    pub(crate) async fn slot(&self) -> tokio::sync::MutexGuard<'_, Option<RunningServer>> {
        self.running.lock().await
    }

    /// `(project, version, socket)` of the running server.
    pub async fn current(&self) -> Option<(Uuid, i32, PathBuf)> {
        self.running
            .lock()
            .await
            .as_ref()
            .map(|r| (r.project, r.version, r.socket_path()))
    }

    /// Stops the running server, if any.
    pub async fn stop(&self) {
        let running = self.running.lock().await.take();
        if let Some(r) = running {
            r.stop().await;
        }
    }

    /// Stops the running server unless it serves `project`.
    pub async fn stop_unless(&self, project: Uuid) {
        let mut slot = self.running.lock().await;
        if slot.as_ref().is_some_and(|r| r.project != project)
            && let Some(r) = slot.take()
        {
            r.stop().await;
        }
    }
}
