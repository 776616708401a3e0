//! `apiforge deploy | rollback | undeploy | deployments | serve`.
//!
//! Deploy, rollback and undeploy are jobs that the `apiforge serve` daemon's worker
//! runs (it hosts the instances); in embedded mode the daemon is started on demand in
//! the background. The command submits the job and follows its steps.

use crate::cli::stdout::outln;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::context::{Context, Failure, Session, client_tx, db_failure, print_json};
use super::follow::submit;
use super::new::find_project;
use crate::deploy::control::{ControlClient, DaemonFiles, DaemonStatus};
use crate::deploy::daemon::Daemon;
use crate::deploy::daemon_launcher::{self, LaunchDaemonError};
use crate::deploy::deployment_row::{self, DeploymentRow};
use crate::deploy::deployment_status;
use crate::deploy::traffic_stats::RouteStats;
use crate::deploy::{
    DEPLOY, DeployInput, DeployOutput, DeployTarget, Platform, UNDEPLOY, UndeployInput,
};
use crate::engine::queue;
use crate::engine::{EventSubscription, JobId, JobRequest};

/// How long `serve stop` waits for the daemon to drain and exit.
const DAEMON_STOP_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Args)]
pub struct DeployArgs {
    /// The project's slug (see `apiforge projects`).
    pub project: String,
    /// The version to deploy (default: the latest).
    #[arg(long)]
    pub version: Option<i32>,
    /// Deploy even though the version's checks failed or never ran.
    #[arg(long)]
    pub force: bool,
    /// Deploy even though the design breaks clients of the live version.
    #[arg(long)]
    pub allow_breaking: bool,
    /// Where the instance runs: a sandbox supervised by `apiforge serve`, or a Docker
    /// container built from the version (needs a Docker engine).
    #[arg(long, value_enum, default_value_t = Platform::Sandbox)]
    pub target: Platform,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ProjectArgs {
    /// The project's slug (see `apiforge projects`).
    pub project: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DeploymentsArgs {
    /// Include each instance's last output lines.
    #[arg(long)]
    pub logs: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(subcommand)]
    pub action: Option<ServeAction>,
}

#[derive(Debug, Subcommand)]
pub enum ServeAction {
    /// Start the daemon in the background (log: <data dir>/serve.log) unless it runs.
    Start {
        #[arg(long)]
        json: bool,
    },
    /// Whether the daemon runs, where the gateway listens, its instances.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Stop the daemon: its instances stop, their deployments stay live and restart
    /// with the next `apiforge serve`.
    Stop {
        #[arg(long)]
        json: bool,
    },
}

pub async fn deploy(ctx: &Context, args: DeployArgs) -> Result<ExitCode, Failure> {
    if args.target == Platform::Docker {
        // Before anything is recorded: without an engine nothing may be half-done.
        docker_available(ctx).await?;
    }
    let session = ctx.session().await?;
    let project = find_project(&session, &args.project).await?;
    let input = DeployInput {
        project: project.id,
        target: DeployTarget::Version(args.version),
        force: args.force,
        allow_breaking: args.allow_breaking,
        platform: args.target,
    };
    run_job(ctx, &session, DEPLOY, &input, project.id, args.json).await
}

/// Fails (exit 2) unless the Docker engine `sandbox.docker_host` names answers.
async fn docker_available(ctx: &Context) -> Result<(), Failure> {
    let host = &ctx.config.sandbox.docker_host;
    let shown = if host.is_empty() {
        "the default Docker socket (DOCKER_HOST or /var/run/docker.sock)".to_owned()
    } else {
        host.clone()
    };
    let fix = "start Docker (e.g. `sudo systemctl start docker`), or point sandbox.docker_host (APIFORGE_SANDBOX_DOCKER_HOST) at a running engine, or deploy with --target sandbox";
    let docker = crate::sandbox::docker::connect_engine(host).map_err(|e| {
        Failure::environment(format!(
            "--target docker needs a Docker engine, but {shown} cannot be used ({e}); {fix}"
        ))
    })?;
    docker.ping().await.map_err(|e| {
        Failure::environment(format!(
            "--target docker needs a Docker engine, but none answers at {shown} ({e}); {fix}"
        ))
    })?;
    Ok(())
}

pub async fn rollback(ctx: &Context, args: ProjectArgs) -> Result<ExitCode, Failure> {
    let session = ctx.session().await?;
    let project = find_project(&session, &args.project).await?;
    let input = DeployInput {
        project: project.id,
        target: DeployTarget::Rollback,
        force: false,
        allow_breaking: false,
        // Ignored: a rollback runs where the version it goes back to ran.
        platform: Platform::default(),
    };
    run_job(ctx, &session, DEPLOY, &input, project.id, args.json).await
}

pub async fn undeploy(ctx: &Context, args: ProjectArgs) -> Result<ExitCode, Failure> {
    let session = ctx.session().await?;
    let project = find_project(&session, &args.project).await?;
    let input = UndeployInput {
        project: project.id,
    };
    run_job(ctx, &session, UNDEPLOY, &input, project.id, args.json).await
}

#[derive(Serialize)]
struct JobResult {
    job: JobId,
    state: String,
    error: Option<String>,
    output: Option<DeployOutput>,
    /// The deployment's full URL through the gateway.
    url: Option<String>,
}

async fn run_job<I: Serialize>(
    ctx: &Context,
    session: &Session,
    kind: &str,
    input: &I,
    project: uuid::Uuid,
    json: bool,
) -> Result<ExitCode, Failure> {
    let gateway = match ensure_daemon(ctx).await? {
        Some(status) => status.gateway_addr,
        None => {
            if !json {
                eprintln!(
                    "no apiforge serve daemon answers on this machine; the job waits for the one serving this database"
                );
            }
            ctx.config.deploy.gateway_addr.clone()
        }
    };
    let input = serde_json::to_value(input)
        .map_err(|e| Failure::failed(format!("cannot encode the job input: {e}")))?;
    let submitted = submit(session, &JobRequest::new(kind, input).project(project)).await?;
    let job = submitted.job;
    if !json {
        outln!("{kind} · job {job}");
    }
    let record = follow_job(session, job, json).await?;
    let output: Option<DeployOutput> = record
        .output
        .clone()
        .and_then(|o| serde_json::from_value(o).ok());
    let url = output
        .as_ref()
        .map(|o| format!("http://{gateway}{}", o.route));
    let succeeded = record.state == "succeeded";
    if json {
        print_json(&JobResult {
            job,
            state: record.state.clone(),
            error: record.error.clone(),
            output,
            url,
        })?;
    } else if let (Some(o), Some(url)) = (&output, &url) {
        match o.state.as_str() {
            "live" => outln!("v{} live at {url}", o.version),
            _ => outln!("v{} undeployed; {url} is free", o.version),
        }
    } else {
        eprintln!(
            "{kind} {}: {}",
            record.state,
            record.error.as_deref().unwrap_or("(no error recorded)")
        );
    }
    Ok(if succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Prints steps as they finish (unless `json`) and returns the finished job.
async fn follow_job(
    session: &Session,
    job: JobId,
    json: bool,
) -> Result<crate::engine::JobRecord, Failure> {
    let mut feed = EventSubscription::start(&session.db, &session.token, 0, Some(job))
        .await
        .map_err(db_failure)?;
    while let Some(event) = feed.events.recv().await {
        let Ok(e) = event else { continue };
        if !json {
            let step = e.step.clone().unwrap_or_default();
            match e.kind.as_str() {
                "step_finished" => {
                    let ok = e.data.as_ref().and_then(|d| d["state"].as_str()) == Some("succeeded");
                    let mark = if ok { "✓" } else { "✗" };
                    let detail = if ok {
                        String::new()
                    } else {
                        format!("  {}", e.message)
                    };
                    outln!("{mark} {step}{detail}");
                }
                "log" if !e.message.is_empty() => outln!("  {step}: {}", e.message),
                _ => {}
            }
        }
        if e.kind == "job_finished" {
            break;
        }
    }
    let mut tx = client_tx(session).await?;
    let record = queue::get(&mut tx, job)
        .await
        .map_err(|e| Failure::failed(e.to_string()))?
        .ok_or_else(|| Failure::failed(format!("job {job} disappeared")))?;
    tx.commit()
        .await
        .map_err(|e| Failure::failed(e.to_string()))?;
    Ok(record)
}

/// The running daemon's status, starting it in embedded mode (see
/// [`daemon_launcher::ensure_running`]).
async fn ensure_daemon(ctx: &Context) -> Result<Option<DaemonStatus>, Failure> {
    daemon_launcher::ensure_running(&ctx.config, &ctx.dirs)
        .await
        .map_err(launch_failure)
}

async fn start_in_background(ctx: &Context) -> Result<DaemonStatus, Failure> {
    daemon_launcher::start_in_background(&ctx.dirs)
        .await
        .map_err(launch_failure)
}

fn launch_failure(e: LaunchDaemonError) -> Failure {
    match e {
        LaunchDaemonError::Environment(m) => Failure::environment(m),
        LaunchDaemonError::Failed(m) => Failure::failed(m),
    }
}

#[derive(Serialize)]
struct DeploymentView {
    project: String,
    version: i32,
    state: String,
    url: String,
    route: String,
    deployment: uuid::Uuid,
    /// `sandbox` or `docker`.
    target: String,
    /// The Docker container (docker target, while a daemon hosts it).
    container: Option<String>,
    updated_at: chrono::DateTime<chrono::Utc>,
    /// Why the deployment failed, if it did.
    error: Option<String>,
    /// The instance as the daemon sees it (state, restarts, logs); `None` when no
    /// daemon hosts it.
    instance: Option<serde_json::Value>,
    requests: Option<RequestView>,
}

#[derive(Serialize)]
struct RequestView {
    #[serde(flatten)]
    stats: RouteStats,
    p50_ms: Option<f64>,
    p99_ms: Option<f64>,
}

pub async fn deployments(ctx: &Context, args: DeploymentsArgs) -> Result<ExitCode, Failure> {
    let session = ctx.session().await?;
    let mut tx = client_tx(&session).await?;
    let rows: Vec<DeploymentRow> = deployment_row::latest_per_project(&mut tx)
        .await
        .map_err(|e| Failure::failed(e.to_string()))?;
    tx.commit()
        .await
        .map_err(|e| Failure::failed(e.to_string()))?;
    let status = deployment_status::daemon_status(&ctx.dirs)
        .await
        .map_err(|e| Failure::failed(e.to_string()))?;
    let ms = |d: Option<Duration>| d.map(|d| d.as_secs_f64() * 1000.0);
    let views: Vec<DeploymentView> =
        deployment_status::join(rows, status, &ctx.config.deploy.gateway_addr)
            .into_iter()
            .map(|d| {
                let (p50, p99) = d.latency();
                let mut instance = d.instance;
                let container = instance
                    .as_ref()
                    .and_then(|i| i["container"].as_str())
                    .map(str::to_owned);
                if !args.logs
                    && let Some(o) = instance.as_mut().and_then(|i| i.as_object_mut())
                {
                    o.remove("logs");
                }
                DeploymentView {
                    project: d.row.project,
                    version: d.row.version,
                    url: d.url,
                    error: d.error,
                    instance,
                    container,
                    target: d.row.target,
                    requests: d.traffic.map(|stats| RequestView {
                        p50_ms: ms(p50),
                        p99_ms: ms(p99),
                        stats,
                    }),
                    state: d.row.state,
                    route: d.row.route,
                    deployment: d.row.id,
                    updated_at: d.row.updated_at,
                }
            })
            .collect();
    if args.json {
        print_json(&views)?;
        return Ok(ExitCode::SUCCESS);
    }
    if views.is_empty() {
        outln!("no deployments yet; `apiforge deploy PROJECT` makes one");
    }
    for v in &views {
        let instance = v
            .instance
            .as_ref()
            .and_then(|i| i["state"].as_str())
            .unwrap_or("-");
        let requests = v.requests.as_ref().map_or(String::new(), |r| {
            format!(
                "  {} req · 2xx {} · 4xx {} · 5xx {} · p50 {:.1} ms",
                r.stats.requests,
                r.stats.status_classes[1],
                r.stats.status_classes[3],
                r.stats.status_classes[4],
                r.p50_ms.unwrap_or(0.0)
            )
        });
        outln!(
            "{:<20} v{:<3} {:<8} {:<7} instance {instance:<10} {}{requests}",
            v.project,
            v.version,
            v.state,
            v.target,
            v.url
        );
        if let Some(e) = &v.error {
            outln!("    error: {e}");
        }
        if args.logs
            && let Some(lines) = v.instance.as_ref().and_then(|i| i["logs"].as_array())
        {
            for line in lines {
                outln!("    | {}", line.as_str().unwrap_or(""));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn serve(ctx: &Context, args: ServeArgs) -> Result<ExitCode, Failure> {
    match args.action {
        None => serve_foreground(ctx).await,
        Some(ServeAction::Start { json }) => {
            start_in_background(ctx).await?;
            serve_status(ctx, json).await
        }
        Some(ServeAction::Status { json }) => serve_status(ctx, json).await,
        Some(ServeAction::Stop { json }) => serve_stop(ctx, json).await,
    }
}

async fn serve_foreground(ctx: &Context) -> Result<ExitCode, Failure> {
    let db = ctx.open_db().await?;
    let shutdown = CancellationToken::new();
    let daemon = Daemon::start(&ctx.config, &ctx.dirs, &db, shutdown.clone())
        .await
        .map_err(|e| match e {
            crate::deploy::DeployError::AlreadyRunning(_)
            | crate::deploy::DeployError::Bind { .. } => Failure::usage(e.to_string()),
            other => Failure::failed(other.to_string()),
        })?;
    eprintln!(
        "apiforge serve: gateway on http://{} · control socket {} (Ctrl-C to stop)",
        daemon.gateway_addr,
        daemon.files.socket.display()
    );
    let signal = shutdown.clone();
    tokio::spawn(async move {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!("cannot listen for SIGTERM: {e}");
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
            () = signal.cancelled() => return,
        }
        signal.cancel();
    });
    shutdown.cancelled().await;
    eprintln!("apiforge serve: stopping (draining requests, stopping instances)…");
    daemon.wait().await;
    db.close().await;
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct ServeStatusView {
    running: bool,
    #[serde(flatten)]
    status: Option<DaemonStatus>,
}

async fn serve_status(ctx: &Context, json: bool) -> Result<ExitCode, Failure> {
    let files = DaemonFiles::new(&ctx.dirs);
    let status = ControlClient::new(&files.socket)
        .status()
        .await
        .map_err(|e| Failure::failed(e.to_string()))?;
    let running = status.is_some();
    if json {
        print_json(&ServeStatusView { running, status })?;
    } else if let Some(s) = &status {
        outln!(
            "apiforge serve running · pid {} · gateway http://{} · {} instance(s) · since {}",
            s.pid,
            s.gateway_addr,
            s.instances.len(),
            s.started_at.format("%Y-%m-%d %H:%M:%S UTC")
        );
    } else {
        outln!("apiforge serve is not running");
    }
    Ok(if running {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn serve_stop(ctx: &Context, json: bool) -> Result<ExitCode, Failure> {
    let files = DaemonFiles::new(&ctx.dirs);
    let client = ControlClient::new(&files.socket);
    let pid = match client
        .status()
        .await
        .map_err(|e| Failure::failed(e.to_string()))?
    {
        Some(s) => i32::try_from(s.pid).ok(),
        None => files.recorded_pid().filter(|p| alive(*p)),
    };
    let Some(pid) = pid else {
        if json {
            print_json(&serde_json::json!({ "stopped": false, "running": false }))?;
        } else {
            outln!("apiforge serve is not running");
        }
        return Ok(ExitCode::SUCCESS);
    };
    let asked = client
        .stop()
        .await
        .map_err(|e| Failure::failed(e.to_string()))?;
    if !asked {
        // Not answering on its socket: ask the way a service manager would.
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
    let started = Instant::now();
    let mut pause = Duration::from_millis(10);
    while alive(pid) {
        if started.elapsed() > DAEMON_STOP_TIMEOUT {
            return Err(Failure::failed(format!(
                "apiforge serve (pid {pid}) is still running after {DAEMON_STOP_TIMEOUT:?}; see {}",
                files.log.display()
            )));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(100));
    }
    if json {
        print_json(&serde_json::json!({ "stopped": true, "pid": pid }))?;
    } else {
        outln!("apiforge serve (pid {pid}) stopped");
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether `pid` is a live process (a zombie counts as gone).
fn alive(pid: i32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    match stat.rsplit_once(')') {
        Some((_, rest)) => !rest.trim_start().starts_with('Z'),
        None => false,
    }
}
