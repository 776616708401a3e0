//! The preview's executor: runs each [`PreviewRequest`] against the database, the
//! sandbox or a deployment and answers with a [`PreviewResult`]. Handles are passed
//! in ([`PreviewServices`]); nothing here touches the terminal.

use std::time::Instant;

use serde_json::Value;
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::endpoints_tab::request_line;
use super::exchange::Exchange;
use super::outgoing_request::{CurlEndpoint, OutgoingRequest, Target};
use super::sandbox_host::{REQUEST_TIMEOUT, RunningServer, SandboxHost};
use super::{CurlCopy, Loaded, PreviewRequest, PreviewResult, osc52};
use crate::auth::SessionToken;
use crate::config::{Config, Dirs};
use crate::db::Db;
use crate::deploy::deployment_row;
use crate::deploy::deployment_status::{self, DeploymentStatus};
use crate::runtimes::Runtimes;
use crate::sandbox::http::HttpError;
use crate::sandbox::{Backend, Limits, Sandbox};
use crate::verify::project::prepare_runtime;
use crate::versions;

/// What the executor needs: the database as the signed-in user, settings, and the
/// preview's sandbox server.
pub struct PreviewServices {
    pub db: Db,
    pub token: SessionToken,
    /// The signed-in user (restores are recorded as theirs).
    pub user: Uuid,
    pub config: Config,
    pub dirs: Dirs,
    host: SandboxHost,
    sandbox: OnceCell<Sandbox>,
}

impl PreviewServices {
    pub fn new(db: Db, token: SessionToken, user: Uuid, config: Config, dirs: Dirs) -> Self {
        Self {
            db,
            token,
            user,
            config,
            dirs,
            host: SandboxHost::new(),
            sandbox: OnceCell::new(),
        }
    }

    pub fn host(&self) -> &SandboxHost {
        &self.host
    }

    /// Stops the sandbox server; the app calls this when it quits.
    pub async fn shutdown(&self) {
        self.host.stop().await;
    }

    async fn sandbox(&self) -> Result<&Sandbox, String> {
        self.sandbox
            .get_or_try_init(|| async {
                let name = self.config.sandbox.backend.trim();
                let backend: Backend = name.parse().map_err(|e| format!("sandbox.backend: {e}"))?;
                Sandbox::open(
                    backend,
                    &self.config.sandbox,
                    crate::sandbox::default_workspace_root(&self.dirs),
                )
                .await
                .map_err(|e| format!("the {name} sandbox is not available: {e}"))
            })
            .await
    }

    /// Starts a server for `version` of `project` (reading its files).
    async fn start_server(&self, project: Uuid, version: i32) -> Result<RunningServer, String> {
        let mut tx = self.db.begin_as(&self.token).await.map_err(db_error)?;
        let v = versions::get(&mut tx, project, version)
            .await
            .map_err(|e| format!("cannot read v{version}: {e}"))?;
        let files = versions::read_contents(&mut tx, project, version)
            .await
            .map_err(|e| format!("cannot read the files of v{version}: {e}"))?;
        tx.commit().await.map_err(|e| db_error(e.into()))?;
        let framework = v.framework;
        let runtimes = Runtimes::new(&self.dirs.cache, &self.config.runtimes);
        let runtime = tokio::task::spawn_blocking(move || {
            prepare_runtime(&runtimes, framework, &mut |line| {
                tracing::info!("runtime: {line}");
            })
        })
        .await
        .map_err(|e| format!("the runtime installer stopped: {e}"))?
        .map_err(|e| format!("cannot prepare the {framework} runtime: {e}"))?;
        let sandbox = self.sandbox().await?;
        RunningServer::start(
            sandbox,
            &runtime,
            &files,
            Limits::from_config(&self.config.sandbox),
            project,
            version,
        )
        .await
    }

    /// Makes sure the slot holds a server for `version` of `project`.
    async fn ensure_server(
        &self,
        slot: &mut Option<RunningServer>,
        project: Uuid,
        version: i32,
    ) -> Result<(), String> {
        if slot
            .as_ref()
            .is_some_and(|r| r.project == project && r.version == version)
        {
            return Ok(());
        }
        if let Some(old) = slot.take() {
            old.stop().await;
        }
        *slot = Some(self.start_server(project, version).await?);
        Ok(())
    }
}

fn db_error(e: crate::db::DbError) -> String {
    format!("the database did not answer: {e}")
}

pub async fn perform(request: PreviewRequest, ctx: &PreviewServices) -> PreviewResult {
    match request {
        PreviewRequest::Load { project, version } => {
            ctx.host.stop_unless(project).await;
            match load(ctx, project, version).await {
                Ok(loaded) => PreviewResult::Loaded(Box::new(loaded)),
                Err(message) => PreviewResult::LoadFailed {
                    project,
                    version,
                    message,
                },
            }
        }
        PreviewRequest::Send {
            project,
            version,
            target,
            request,
        } => PreviewResult::Sent {
            project,
            response: send(ctx, project, version, &target, &request).await,
        },
        PreviewRequest::CopyCurl {
            project,
            version,
            target,
            request,
        } => PreviewResult::Copied {
            project,
            copy: curl(ctx, project, version, &target, request)
                .await
                .map(|command| CurlCopy {
                    osc52: osc52(&command),
                    command,
                }),
        },
        PreviewRequest::Diff { project, from, to } => PreviewResult::Diffed {
            project,
            diff: diff(ctx, project, from, to).await,
        },
        PreviewRequest::Restore { project, version } => PreviewResult::Restored {
            project,
            from: version,
            restored: restore(ctx, project, version).await,
        },
        PreviewRequest::LoadDeployment { project } => PreviewResult::DeploymentLoaded {
            project,
            deployment: load_deployment(ctx, project).await.map(|d| d.map(Box::new)),
        },
        PreviewRequest::StopServer => {
            ctx.host.stop().await;
            PreviewResult::Stopped
        }
    }
}

async fn load(ctx: &PreviewServices, project: Uuid, version: i32) -> Result<Loaded, String> {
    let mut tx = ctx.db.begin_as(&ctx.token).await.map_err(db_error)?;
    let v = versions::get(&mut tx, project, version)
        .await
        .map_err(|e| format!("cannot load v{version}: {e}"))?;
    let latest_run = versions::test_runs(&mut tx, v.summary.id)
        .await
        .map_err(|e| format!("cannot load the test runs of v{version}: {e}"))?
        .into_iter()
        .next();
    let history = versions::list(&mut tx, project)
        .await
        .map_err(|e| format!("cannot list the versions: {e}"))?;
    tx.commit().await.map_err(|e| db_error(e.into()))?;
    // Versions always store their spec; one recorded without (an import gone wrong)
    // still previews from its design.
    let spec = if v.spec.get("paths").is_some_and(Value::is_object) {
        v.spec
    } else {
        crate::codegen::openapi::build(&v.design)
    };
    Ok(Loaded {
        project,
        version,
        spec,
        latest_run,
        versions: history,
    })
}

/// The live deployment joined with the daemon's view, as `apiforge deployments` does.
async fn load_deployment(
    ctx: &PreviewServices,
    project: Uuid,
) -> Result<Option<DeploymentStatus>, String> {
    let mut tx = ctx.db.begin_as(&ctx.token).await.map_err(db_error)?;
    let row = deployment_row::live(&mut tx, project)
        .await
        .map_err(|e| format!("cannot read the deployment: {e}"))?;
    tx.commit().await.map_err(|e| db_error(e.into()))?;
    let Some(row) = row else {
        return Ok(None);
    };
    // The daemon is asked only after the transaction ended: it may take a moment.
    let status = deployment_status::daemon_status(&ctx.dirs)
        .await
        .map_err(|e| format!("{e}; restart it: apiforge serve stop, then apiforge serve start"))?;
    Ok(deployment_status::join(vec![row], status, &ctx.config.deploy.gateway_addr).pop())
}

async fn send(
    ctx: &PreviewServices,
    project: Uuid,
    version: i32,
    target: &Target,
    request: &OutgoingRequest,
) -> Result<Exchange, String> {
    if let Target::Url(base) = target {
        return send_to_url(base, request).await;
    }
    let mut slot = ctx.host.slot().await;
    ctx.ensure_server(&mut slot, project, version).await?;
    // A server that died (its CPU limit, a crash) is started again once.
    for attempt in 0..2 {
        let Some(running) = slot.as_ref() else {
            break;
        };
        let mut outgoing = request.clone();
        if let Some((name, value)) = running.auth_header() {
            outgoing = outgoing.with_header(name, value);
        }
        match running.client().send(&outgoing.to_http()).await {
            Ok(response) => {
                return Ok(Exchange {
                    request_line: request_line(request),
                    target: format!("sandbox v{version}"),
                    status: response.status,
                    elapsed: response.elapsed,
                    headers: response.headers.clone(),
                    body: response.text(),
                });
            }
            Err(HttpError::Connect { .. }) if attempt == 0 => {
                if let Some(dead) = slot.take() {
                    dead.stop().await;
                }
                ctx.ensure_server(&mut slot, project, version).await?;
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    Err(format!("the v{version} server stopped answering"))
}

async fn send_to_url(base: &str, request: &OutgoingRequest) -> Result<Exchange, String> {
    let url = format!("{}{}", base.trim_end_matches('/'), request.path);
    let method = reqwest::Method::from_bytes(request.method.as_bytes())
        .map_err(|e| format!("{} is not an HTTP method: {e}", request.method))?;
    // https deployments: reqwest is built with rustls and no default crypto provider.
    crate::provider::openai::install_crypto_provider();
    let client = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
    let mut builder = client.request(method, &url);
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    if !request.body.is_empty() {
        builder = builder.body(request.body.clone());
    }
    let started = Instant::now();
    let response = builder
        .send()
        .await
        .map_err(|e| format!("{} {url} failed: {e}", request.method))?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = response
        .text()
        .await
        .map_err(|e| format!("reading the response of {url} failed: {e}"))?;
    Ok(Exchange {
        request_line: request_line(request),
        target: base.to_owned(),
        status,
        elapsed: started.elapsed(),
        headers,
        body,
    })
}

async fn curl(
    ctx: &PreviewServices,
    project: Uuid,
    version: i32,
    target: &Target,
    request: OutgoingRequest,
) -> Result<String, String> {
    if let Target::Url(base) = target {
        return Ok(request.curl(&CurlEndpoint::Url(base)));
    }
    let mut slot = ctx.host.slot().await;
    ctx.ensure_server(&mut slot, project, version).await?;
    let running = slot
        .as_ref()
        .ok_or_else(|| format!("the v{version} server is not running"))?;
    let request = match running.auth_header() {
        Some((name, value)) => request.with_header(name, value),
        None => request,
    };
    Ok(request.curl(&CurlEndpoint::Socket(&running.socket_path())))
}

async fn diff(
    ctx: &PreviewServices,
    project: Uuid,
    from: i32,
    to: i32,
) -> Result<versions::VersionDiff, String> {
    let mut tx = ctx.db.begin_as(&ctx.token).await.map_err(db_error)?;
    let diff = versions::diff(&mut tx, project, from, to)
        .await
        .map_err(|e| format!("cannot compare v{from} and v{to}: {e}"))?;
    tx.commit().await.map_err(|e| db_error(e.into()))?;
    Ok(diff)
}

async fn restore(
    ctx: &PreviewServices,
    project: Uuid,
    version: i32,
) -> Result<versions::RecordedVersion, String> {
    let mut tx = ctx.db.begin_as(&ctx.token).await.map_err(db_error)?;
    let recorded = versions::restore(&mut tx, project, version, ctx.user)
        .await
        .map_err(|e| format!("cannot restore v{version}: {e}"))?;
    tx.commit().await.map_err(|e| db_error(e.into()))?;
    Ok(recorded)
}
