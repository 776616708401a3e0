//! The `deploy` and `undeploy` jobs. Only the daemon's worker claims them (it owns
//! the supervisor they act on); the CLI submits them and follows their events.
//!
//! Deploy: `plan` (checks, breaking-change gate, a `starting` row — exactly once),
//! `start` (the new instance, healthy), `record` (new row live, old row stopped, one
//! transaction), `switch` (the route swaps atomically; the old instance drains and
//! stops). The database is updated before the route so that a daemon that dies in
//! between restarts the right version; `switch` starts the instance again if this
//! daemon is not the one that ran `start`.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use super::deployment_row::{self, DeploymentRow};
use super::supervisor::{Launch, Supervisor};
use super::{
    DEPLOY, DeployInput, DeployOutput, DeployTarget, UNDEPLOY, UndeployInput, owner_segment,
    route_path,
};
use crate::codegen::Framework;
use crate::db::projects;
use crate::design::AuthScheme;
use crate::engine::{EventLevel, JobContext, JobHandler, Registry, RetryPolicy, StepError};
use crate::versions::{self, CheckStatus};

/// The jobs the daemon's worker runs.
pub fn registry(supervisor: Arc<Supervisor>) -> Registry {
    Registry::new()
        .register(DEPLOY, DeployJob(supervisor.clone()))
        .register(UNDEPLOY, UndeployJob(supervisor))
}

/// `owner/project` from a stored route `/p/owner/project/`.
pub fn route_key(route: &str) -> String {
    route
        .trim_start_matches("/p/")
        .trim_end_matches('/')
        .to_owned()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Plan {
    deployment: Uuid,
    version: i32,
    route: String,
    previous_version: Option<i32>,
}

pub struct DeployJob(pub Arc<Supervisor>);

impl JobHandler for DeployJob {
    fn run<'a>(&'a self, ctx: &'a mut JobContext) -> BoxFuture<'a, Result<Value, StepError>> {
        async move {
            let input: DeployInput = ctx.input()?;
            let owner = ctx.owner_id();
            let project = input.project;
            let plan: Plan = ctx
                .step_tx("plan", RetryPolicy::default(), move |tx, _| {
                    plan(tx, owner, input).boxed()
                })
                .await?;
            let supervisor = self.0.clone();
            let pool = ctx.pool().clone();
            let deployment = plan.deployment;
            let started = ctx
                .step("start", RetryPolicy::once(), |scope| async move {
                    let logger = scope.clone();
                    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
                    let mut forward = move |line: &str| {
                        let _ = tx.send(line.to_owned());
                    };
                    let launching = launch(&supervisor, &pool, deployment, &mut forward);
                    tokio::pin!(launching);
                    // Forward runtime-install progress while the instance starts.
                    let result = loop {
                        tokio::select! {
                            r = &mut launching => break r,
                            Some(line) = rx.recv() => logger.log(EventLevel::Info, &line).await,
                        }
                    };
                    result.map_err(StepError::Fatal)?;
                    scope
                        .log(EventLevel::Info, &format!("v{} is healthy", plan.version))
                        .await;
                    Ok(())
                })
                .await;
            if let Err(e) = started {
                if matches!(e, StepError::Fatal(_) | StepError::Cancelled) {
                    // Directly, not as a step: a cancelled job may start no more steps.
                    let reason = e.to_string();
                    let marked = async {
                        let mut conn = ctx.pool().acquire().await?;
                        deployment_row::fail(&mut conn, deployment, &reason).await
                    }
                    .await;
                    if let Err(db) = marked {
                        tracing::warn!(%deployment, "cannot mark a deployment failed: {db}");
                    }
                }
                return Err(e);
            }
            let _replaced: Option<Uuid> = ctx
                .step_tx("record", RetryPolicy::default(), move |tx, _| {
                    async move { Ok(deployment_row::make_live(tx, project, deployment).await?) }
                        .boxed()
                })
                .await?;
            let supervisor = self.0.clone();
            let pool = ctx.pool().clone();
            let key = route_key(&plan.route);
            ctx.step("switch", RetryPolicy::default(), |scope| async move {
                if !supervisor.is_running(deployment) {
                    launch(&supervisor, &pool, deployment, &mut |_| {})
                        .await
                        .map_err(StepError::Retryable)?;
                }
                let replaced = supervisor
                    .switch(&key, deployment)
                    .await
                    .map_err(StepError::retryable)?;
                if replaced.is_some() {
                    scope
                        .log(
                            EventLevel::Info,
                            "the previous instance drained and stopped",
                        )
                        .await;
                }
                Ok(())
            })
            .await?;
            serde_json::to_value(DeployOutput {
                project,
                deployment,
                version: plan.version,
                state: "live".to_owned(),
                route: plan.route,
                previous_version: plan.previous_version,
            })
            .map_err(StepError::fatal)
        }
        .boxed()
    }
}

async fn plan(
    tx: &mut sqlx::PgConnection,
    owner: Uuid,
    input: DeployInput,
) -> Result<Plan, StepError> {
    let project = projects::get(tx, input.project)
        .await?
        .ok_or_else(|| StepError::Fatal(format!("project {} does not exist", input.project)))?;
    let live = deployment_row::live(tx, project.id).await?;
    let rollback = input.target == DeployTarget::Rollback;
    let mut platform = input.platform;
    let number = match input.target {
        DeployTarget::Version(Some(n)) => n,
        DeployTarget::Version(None) => project.latest_version.ok_or_else(|| {
            StepError::Fatal(format!("{} has no versions to deploy yet", project.slug))
        })?,
        DeployTarget::Rollback => {
            let current = live.as_ref().map(|l| l.version_id);
            let previous = deployment_row::previous(tx, project.id, current)
                .await?
                .ok_or_else(|| {
                    StepError::Fatal(format!(
                        "{} has no earlier live version to roll back to",
                        project.slug
                    ))
                })?;
            // Back to where that version ran.
            platform = previous.target.parse().map_err(StepError::Fatal)?;
            previous.version
        }
    };
    let version = versions::get(tx, project.id, number)
        .await
        .map_err(StepError::fatal)?;
    if let Some(l) = &live
        && l.version == number
    {
        return Err(StepError::Fatal(format!(
            "v{number} of {} is already live at {}",
            project.slug, l.route
        )));
    }
    // A rollback goes back to a version that was live already: no gates.
    if !rollback && !input.force && version.summary.check_status != CheckStatus::Passing {
        return Err(StepError::Fatal(format!(
            "v{number} of {} has {} checks; fix it (`apiforge test {}`) or deploy it anyway with --force",
            project.slug, version.summary.check_status, project.slug
        )));
    }
    if !rollback
        && !input.allow_breaking
        && let Some(l) = &live
    {
        let current = versions::get(tx, project.id, l.version)
            .await
            .map_err(StepError::fatal)?;
        let diff = crate::design::diff::diff(&current.design, &version.design);
        if diff.is_breaking() {
            let changes: Vec<String> = diff
                .breaking_changes()
                .map(|c| format!("  - {}", c.description))
                .collect();
            return Err(StepError::Fatal(format!(
                "v{number} has breaking changes against the live v{} (clients of the live API may stop working):\n{}\ndeploy anyway with --allow-breaking",
                l.version,
                changes.join("\n")
            )));
        }
    }
    let (os_user, email) = deployment_row::owner_names(tx, owner).await?;
    let route = route_path(&owner_segment(os_user.as_deref(), &email), &project.slug);
    // Owner segments come from names, which two users may share: a route is
    // never taken from its owner.
    let taken: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM deployments WHERE route = $1 AND owner_id <> $2
                        AND state IN ('starting', 'live'))",
    )
    .bind(&route)
    .bind(owner)
    .fetch_one(&mut *tx)
    .await?;
    if taken {
        return Err(StepError::Fatal(format!(
            "the URL path {route} is in use by another user's deployment; rename the project (a new slug) to deploy it"
        )));
    }
    let env = credentials_env(&version.design.auth, live.as_ref());
    let instance = serde_json::json!({ "env": env });
    let deployment = deployment_row::insert_starting(
        tx,
        owner,
        project.id,
        version.summary.id,
        &route,
        &instance,
        platform.as_str(),
    )
    .await?;
    Ok(Plan {
        deployment,
        version: number,
        route,
        previous_version: live.map(|l| l.version),
    })
}

/// The secret the API's auth scheme reads from its environment: the live
/// deployment's, so clients keep working across versions, else a fresh one.
fn credentials_env(auth: &AuthScheme, live: Option<&DeploymentRow>) -> BTreeMap<String, String> {
    let var = match auth {
        AuthScheme::None => return BTreeMap::new(),
        AuthScheme::ApiKey { env_var, .. } | AuthScheme::BearerJwt { env_var } => env_var,
    };
    let kept = live
        .and_then(|l| l.instance.as_ref())
        .and_then(|i| i.pointer(&format!("/env/{var}")))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let value = kept.unwrap_or_else(|| format!("apiforge-{}", Uuid::new_v4().simple()));
    BTreeMap::from([(var.clone(), value)])
}

/// Reads a deployment's version from the database and starts its instance.
pub async fn launch(
    supervisor: &Supervisor,
    pool: &PgPool,
    deployment: Uuid,
    progress: &mut (dyn FnMut(&str) + Send),
) -> Result<(), String> {
    let (row, framework, files) = async {
        let mut conn = pool.acquire().await.map_err(|e| e.to_string())?;
        let row = deployment_row::get(&mut conn, deployment)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("deployment {deployment} does not exist"))?;
        let framework: String = sqlx::query_scalar("SELECT framework FROM versions WHERE id = $1")
            .bind(row.version_id)
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| e.to_string())?;
        let framework: Framework = framework.parse()?;
        let files = versions::read_contents(&mut conn, row.project_id, row.version)
            .await
            .map_err(|e| e.to_string())?;
        Ok::<_, String>((row, framework, files))
    }
    .await?;
    let env: BTreeMap<String, String> = row
        .instance
        .as_ref()
        .and_then(|i| i.get("env"))
        .and_then(|e| serde_json::from_value(e.clone()).ok())
        .unwrap_or_default();
    supervisor
        .launch(
            Launch {
                deployment,
                version: row.version,
                framework,
                files,
                env,
                route: route_key(&row.route),
                platform: row.target.parse()?,
            },
            progress,
        )
        .await
        .map_err(|e| format!("v{} of {} did not start: {e}", row.version, row.project))
}

pub struct UndeployJob(pub Arc<Supervisor>);

impl JobHandler for UndeployJob {
    fn run<'a>(&'a self, ctx: &'a mut JobContext) -> BoxFuture<'a, Result<Value, StepError>> {
        async move {
            let input: UndeployInput = ctx.input()?;
            let project = input.project;
            let row: DeploymentRow = ctx
                .step_tx("record", RetryPolicy::default(), move |tx, _| {
                    async move {
                        let slug = projects::get(tx, project)
                            .await?
                            .map(|p| p.slug)
                            .ok_or_else(|| {
                                StepError::Fatal(format!("project {project} does not exist"))
                            })?;
                        let live = deployment_row::live(tx, project)
                            .await?
                            .ok_or_else(|| StepError::Fatal(format!("{slug} is not deployed")))?;
                        deployment_row::stop(tx, project, live.id).await?;
                        Ok(live)
                    }
                    .boxed()
                })
                .await?;
            let supervisor = self.0.clone();
            let key = route_key(&row.route);
            let id = row.id;
            ctx.step("stop", RetryPolicy::default(), |_| async move {
                supervisor.undeploy(&key, id).await;
                Ok(())
            })
            .await?;
            serde_json::to_value(DeployOutput {
                project,
                deployment: row.id,
                version: row.version,
                state: "stopped".to_owned(),
                route: row.route,
                previous_version: Some(row.version),
            })
            .map_err(StepError::fatal)
        }
        .boxed()
    }
}
