//! The daemon's control socket (`<data>/serve.sock`, mode 0600): what only lives in
//! its memory — instance states, restarts, logs, live request statistics — and a way
//! to stop it. Commands that change deployments go through the job queue instead.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::supervisor::{HostedInstance, Supervisor};
use super::traffic_stats::{RouteStats, TrafficStats};
use crate::config::Dirs;
use crate::sandbox::http::{HttpClient, HttpError, HttpRequest};

/// Where a daemon keeps its pid, socket and log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonFiles {
    pub pid: PathBuf,
    pub socket: PathBuf,
    pub log: PathBuf,
}

impl DaemonFiles {
    pub fn new(dirs: &Dirs) -> Self {
        Self {
            pid: dirs.data.join("serve.pid"),
            socket: dirs.data.join("serve.sock"),
            log: dirs.data.join("serve.log"),
        }
    }

    /// The pid in the pid file, if the file exists and parses.
    pub fn recorded_pid(&self) -> Option<i32> {
        std::fs::read_to_string(&self.pid).ok()?.trim().parse().ok()
    }
}

/// What `GET /status` answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DaemonStatus {
    pub pid: u32,
    /// The address the gateway is bound to (`host:port`).
    pub gateway_addr: String,
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// True while deployments that were live are being restarted after a start.
    pub adopting: bool,
    pub instances: Vec<HostedInstanceView>,
    /// Request statistics by `owner/project`.
    pub traffic: HashMap<String, RouteStats>,
}

/// [`HostedInstance`] as serialised (the client does not need the instance's types).
pub type HostedInstanceView = serde_json::Value;

pub(crate) struct ControlState {
    pub(crate) supervisor: Arc<Supervisor>,
    pub(crate) stats: Arc<TrafficStats>,
    pub(crate) gateway_addr: String,
    pub(crate) started_at: chrono::DateTime<chrono::Utc>,
    pub(crate) adopting: Arc<std::sync::atomic::AtomicBool>,
    pub(crate) shutdown: CancellationToken,
}

pub(crate) fn router(state: Arc<ControlState>) -> Router {
    Router::new()
        .route("/status", get(status))
        .route("/stop", post(stop))
        .with_state(state)
}

async fn status(State(state): State<Arc<ControlState>>) -> axum::Json<DaemonStatus> {
    let instances: Vec<HostedInstance> = state.supervisor.hosted();
    axum::Json(DaemonStatus {
        pid: std::process::id(),
        gateway_addr: state.gateway_addr.clone(),
        started_at: state.started_at,
        adopting: state.adopting.load(std::sync::atomic::Ordering::SeqCst),
        instances: instances
            .iter()
            .filter_map(|i| serde_json::to_value(i).ok())
            .collect(),
        traffic: state.stats.snapshot(),
    })
}

async fn stop(State(state): State<Arc<ControlState>>) -> http::StatusCode {
    state.shutdown.cancel();
    http::StatusCode::ACCEPTED
}

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("the apiforge serve daemon answered {path} with {status}: {body}")]
    Status {
        path: String,
        status: u16,
        body: String,
    },
    #[error("the apiforge serve daemon sent an unreadable answer: {0}")]
    Decode(String),
    #[error(transparent)]
    Http(#[from] HttpError),
}

/// Talks to a running daemon over its socket. Only a socket owned by this user is
/// trusted (the data dir is this user's).
pub struct ControlClient {
    http: HttpClient,
}

impl ControlClient {
    pub fn new(socket: &Path) -> Self {
        Self {
            http: HttpClient::unix(socket)
                .require_peer_uid(nix::unistd::Uid::effective().as_raw())
                .with_timeout(Duration::from_secs(10)),
        }
    }

    /// The daemon's status; `Ok(None)` when nothing listens on the socket.
    pub async fn status(&self) -> Result<Option<DaemonStatus>, ControlError> {
        let response = match self.http.get("/status").await {
            Ok(r) => r,
            Err(HttpError::Connect { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if response.status != 200 {
            return Err(ControlError::Status {
                path: "/status".to_owned(),
                status: response.status,
                body: response.text(),
            });
        }
        serde_json::from_slice(&response.body)
            .map(Some)
            .map_err(|e| ControlError::Decode(e.to_string()))
    }

    /// Asks the daemon to stop (it drains and exits on its own time).
    pub async fn stop(&self) -> Result<bool, ControlError> {
        match self.http.send(&HttpRequest::new("POST", "/stop")).await {
            Ok(r) if r.status == 202 => Ok(true),
            Ok(r) => Err(ControlError::Status {
                path: "/stop".to_owned(),
                status: r.status,
                body: r.text(),
            }),
            Err(HttpError::Connect { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

/// `apiforge doctor`'s view of deployments: the daemon, else whether the gateway's
/// address is free for it.
pub async fn doctor_check(dirs: &Dirs, gateway_addr: &str) -> crate::doctor::Check {
    use crate::doctor::Check;
    const NAME: &str = "deploy gateway";
    match ControlClient::new(&DaemonFiles::new(dirs).socket)
        .status()
        .await
    {
        Ok(Some(s)) => Check::ok(
            NAME,
            format!(
                "apiforge serve (pid {}) serves http://{} with {} instance(s)",
                s.pid,
                s.gateway_addr,
                s.instances.len()
            ),
        ),
        Ok(None) => match tokio::net::TcpListener::bind(gateway_addr).await {
            Ok(_) => Check::ok(
                NAME,
                format!(
                    "apiforge serve is not running; {gateway_addr} is free (the first deploy starts it)"
                ),
            ),
            Err(e) => Check::warn(
                NAME,
                format!("cannot listen on {gateway_addr}: {e}"),
                "set deploy.gateway_addr (or APIFORGE_DEPLOY_GATEWAY_ADDR) to a free host:port",
            ),
        },
        Err(e) => Check::warn(
            NAME,
            format!("apiforge serve does not answer properly: {e}"),
            "restart it: apiforge serve stop, then apiforge serve start",
        ),
    }
}
