//! Deployments: a version's server as a long-running sandboxed instance, behind a
//! gateway that gives each project a stable URL, `/p/<owner>/<project>/…`.
//!
//! # Shape
//!
//! * [`Instance`](instance::Instance) runs one deployment's server on the existing
//!   sandbox backends ([`crate::sandbox::Sandbox::start`]): health check, periodic
//!   health polls, restart on crash with exponential backoff, the last
//!   `deploy.log_lines` output lines, limits from `[deploy]`. Each instance has its own
//!   sandbox and supervising task, so one crashing never touches another.
//! * [`Supervisor`](supervisor::Supervisor) owns the instances (by deployment id) and
//!   the [`RouteTable`](route_table::RouteTable) the gateway reads.
//! * [`Gateway`](gateway::Gateway) is the reverse proxy (axum in, hyper over the
//!   instance's Unix socket out): methods, headers, bodies and streamed responses pass
//!   through, `X-Request-Id` is added, and [`TrafficStats`](traffic_stats::TrafficStats)
//!   counts requests, status classes and latency per project.
//! * The `deploy` and `undeploy` jobs ([`deploy_job`]) run in the engine like every
//!   pipeline, but only the daemon's own worker claims them: the job needs the
//!   in-memory supervisor of the process that hosts the instances. So the CLI talks to
//!   the daemon **through Postgres**: it submits a job row (NOTIFY wakes the daemon's
//!   worker), the daemon acts, and the CLI follows the job's events like any other job.
//!   Durable, authorised by row-level security, no second protocol for commands.
//! * [`Daemon`](daemon::Daemon) (`apiforge serve`) hosts the gateway, the supervisor
//!   and that worker, plus a small control socket in the data dir (`serve.sock`, mode
//!   0600) for what only lives in its memory: status, live request statistics, stop.
//!   On start it restarts every deployment whose row says `live` (a docker-target one
//!   is adopted when its container still runs and answers).
//! * [`export`] writes a version's files plus Docker files to run anywhere; [`image`]
//!   builds and runs a version as a Docker image (bollard).
//! * A deployment runs on one of two [`Platform`]s (`deploy --target`, stored in
//!   `deployments.target`): a sandbox as above, or Docker:
//!   [`ContainerInstance`](container::ContainerInstance) builds the version's image
//!   and runs it as a container that Docker restarts (restart policy), watched by the
//!   supervisor (health, restart count, log follower). The supervisor holds both kinds
//!   behind one enum, so routes, swaps, drains, rollback and undeploy are the same.
//!   Stopping a deployment removes its container; images are kept (no pruning) so a
//!   rollback starts quickly. Containers outlive the daemon and are adopted by label
//!   when it starts again.
//!
//! Deployments are rows of the `deployments` table: `starting` → `live` → `stopped`
//! (replaced, rolled back or undeployed), or `starting` → `failed`. At most one row
//! per project is `live` (a unique index).

pub mod container;
pub mod control;
pub mod daemon;
pub mod daemon_launcher;
pub mod deploy_job;
pub mod deployment_row;
pub mod deployment_status;
pub mod export;
pub mod gateway;
pub mod image;
pub mod instance;
pub mod route_table;
pub mod supervisor;
pub mod traffic_stats;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::DeployConfig;
use crate::sandbox::Limits;

/// Job kind: start a version's instance, switch the route to it, stop the old one.
pub const DEPLOY: &str = "deploy";
/// Job kind: stop the live instance and free the route.
pub const UNDEPLOY: &str = "undeploy";

/// Which version a deploy job puts live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "number")]
pub enum DeployTarget {
    /// A version number; `None` is the latest.
    Version(Option<i32>),
    /// The version that was live before the current one.
    Rollback,
}

/// Input of a `deploy` job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeployInput {
    pub project: Uuid,
    pub target: DeployTarget,
    /// Deploy even though the version's checks failed (or never ran).
    pub force: bool,
    /// Deploy even though the design has breaking changes against the live version.
    pub allow_breaking: bool,
    /// Where the instance runs; jobs submitted before this existed ran in a sandbox.
    /// A rollback runs where the version it goes back to ran.
    #[serde(default)]
    pub platform: Platform,
}

/// Where a deployment's instance runs (the `deployments.target` column).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    /// A long-running sandbox supervised by the daemon (restart with backoff).
    #[default]
    Sandbox,
    /// A Docker container built from the version's image, restarted by Docker.
    Docker,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Sandbox => "sandbox",
            Platform::Docker => "docker",
        }
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Platform {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sandbox" => Ok(Platform::Sandbox),
            "docker" => Ok(Platform::Docker),
            other => Err(format!(
                "unknown deploy target {other:?}: use sandbox or docker"
            )),
        }
    }
}

/// Input of an `undeploy` job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UndeployInput {
    pub project: Uuid,
}

/// What a deploy or undeploy job returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployOutput {
    pub project: Uuid,
    /// The deployment row now live (deploy) or just stopped (undeploy).
    pub deployment: Uuid,
    pub version: i32,
    /// `live` or `stopped`.
    pub state: String,
    /// Path under the gateway, `/p/<owner>/<project>/`.
    pub route: String,
    /// The version that was live before, if any.
    pub previous_version: Option<i32>,
}

#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error(transparent)]
    Sandbox(#[from] crate::sandbox::SandboxError),
    #[error(transparent)]
    Image(#[from] image::ImageError),
    #[error("cannot prepare the {framework} runtime: {message}")]
    Runtime { framework: String, message: String },
    #[error("{0}")]
    Unhealthy(String),
    #[error(
        "the gateway cannot listen on {addr}: {source} (set deploy.gateway_addr or APIFORGE_DEPLOY_GATEWAY_ADDR)"
    )]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("apiforge serve is already running (pid {0}); `apiforge serve stop` stops it")]
    AlreadyRunning(i32),
    #[error("the deployment daemon needs the database owner connection: {0}")]
    Db(#[from] crate::db::DbError),
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
}

impl DeployError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        DeployError::Io {
            context: context.into(),
            source,
        }
    }
}

/// How instances run, from `[deploy]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstanceSettings {
    pub limits: Limits,
    pub log_lines: usize,
    pub health_timeout: Duration,
    pub health_interval: Duration,
    pub backoff_max: Duration,
    pub drain_timeout: Duration,
}

/// A live instance has no wall-clock limit in practice: it runs until stopped.
const INSTANCE_WALL: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
const MIB: u64 = 1024 * 1024;

impl InstanceSettings {
    pub fn from_config(config: &DeployConfig) -> Self {
        Self {
            limits: Limits {
                memory_bytes: config.memory_mb.saturating_mul(MIB),
                pids: config.pids,
                cpu_time: Duration::from_secs(config.cpu_secs),
                wall: INSTANCE_WALL,
                workspace_bytes: config.workspace_mb.bytes(),
            },
            log_lines: config.log_lines.max(1),
            health_timeout: Duration::from_secs(config.health_timeout_secs.max(1)),
            health_interval: Duration::from_secs(config.health_interval_secs.max(1)),
            backoff_max: Duration::from_secs(config.restart_backoff_max_secs.max(1)),
            drain_timeout: Duration::from_secs(config.drain_timeout_secs),
        }
    }
}

/// The gateway path of a project: `/p/<owner>/<project>/`.
pub fn route_path(owner: &str, project: &str) -> String {
    format!("/p/{owner}/{project}/")
}

/// The owner segment of a route: the OS user (embedded mode) or the e-mail's local
/// part, as a slug.
pub fn owner_segment(os_user: Option<&str>, email: &str) -> String {
    let name = os_user
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| email.split('@').next().unwrap_or(email));
    crate::db::projects::slugify(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deploy_inputs_from_before_the_docker_target_run_in_a_sandbox() {
        let project = Uuid::new_v4();
        let old = serde_json::json!({
            "project": project,
            "target": {"kind": "version", "number": 2},
            "force": false,
            "allow_breaking": false,
        });
        let input: DeployInput = serde_json::from_value(old).expect("an old input parses");
        assert_eq!(input.platform, Platform::Sandbox);
        assert_eq!(input.target, DeployTarget::Version(Some(2)));

        let new = DeployInput {
            platform: Platform::Docker,
            ..input
        };
        let value = serde_json::to_value(&new).expect("encodes");
        assert_eq!(value["platform"], "docker");
        let back: DeployInput = serde_json::from_value(value).expect("decodes");
        assert_eq!(back.platform, Platform::Docker);
    }

    #[test]
    fn platforms_read_and_write_the_target_column_values() {
        for p in [Platform::Sandbox, Platform::Docker] {
            assert_eq!(p.as_str().parse::<Platform>(), Ok(p));
        }
        let err = "kubernetes".parse::<Platform>().expect_err("unknown");
        assert!(err.contains("sandbox or docker"), "{err}");
    }
}
