//! Effects: the I/O the reducer asks for, as data. [`EffectRunner::apply`] is the one
//! place that performs them; each runs on its own task and reports back with a
//! [`Message`] on the loop's channel (never by touching UI state).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::design_preview;
use super::editor::{self, EditorRequest, EditorServices};
use super::log_pane::JobSnapshot;
use super::message::{Connected, Message, SessionHandles};
use super::notice::Level;
use super::preview::{self, PreviewRequest, PreviewServices};
use crate::auth::{Session, SessionError};
use crate::codegen::Framework;
use crate::db::DbError;
use crate::db::projects;
use crate::deploy::daemon_launcher;
use crate::deploy::{DEPLOY, DeployInput, DeployTarget, UNDEPLOY, UndeployInput};
use crate::design::ApiDesign;
use crate::engine::queue::{self, CancelOutcome};
use crate::engine::{EventSubscription, JobId, JobRequest, events};
use crate::pipeline::PipelineEnv;
use crate::pipeline::launch::{self, LaunchError};
use crate::provider::ProviderKind;
use crate::sandbox::Backend;

/// How many recent jobs the log pane loads.
const RECENT_JOBS: i64 = 30;

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Open the database and sign in after `after` (0 at start, backoff on retries).
    Connect {
        attempt: u32,
        after: Duration,
    },
    LoadProjects,
    LoadJobs,
    /// Send `Message::Reload` after `after` (the database was unreachable).
    ScheduleReload {
        attempt: u32,
        after: Duration,
    },
    /// Load a job's complete log.
    LoadJobLog(JobId),
    /// Create a project and submit its generate job, as `apiforge new` does; with
    /// the previewed `design` the job builds that instead of reading the prompt again.
    NewProject {
        prompt: String,
        framework: Framework,
        provider: ProviderKind,
        design: Option<ApiDesign>,
    },
    /// Submit an iterate job, as `apiforge iterate` does; `design` (made from
    /// version `made_from`) is the previewed follow-up.
    Iterate {
        project: Uuid,
        prompt: String,
        design: Option<ApiDesign>,
        made_from: Option<i32>,
    },
    /// Send `Message::DesignReadDue` after `after` (the preview's debounce).
    ScheduleDesignRead {
        generation: u64,
        after: Duration,
    },
    /// Read a dialog's prompt with the rules provider on a blocking thread
    /// (`Message::DesignRead` answers).
    ReadDesign {
        generation: u64,
        prompt: String,
        base: Option<Arc<ApiDesign>>,
    },
    /// Load the design of a project's version for the iterate dialog
    /// (`Message::IterateBaseLoaded` answers).
    LoadIterateBase {
        project: Uuid,
        version: i32,
    },
    DeleteProject {
        project: Uuid,
        slug: String,
    },
    CancelJob(JobId),
    /// Submit a deploy job (rollback: back to the previous live version), as
    /// `apiforge deploy`/`rollback` do, starting `apiforge serve` when none runs.
    Deploy {
        project: Uuid,
        slug: String,
        target: DeployTarget,
        force: bool,
    },
    /// Submit an undeploy job, as `apiforge undeploy` does.
    Undeploy {
        project: Uuid,
        slug: String,
    },
    /// Send `Message::NoticeExpired(id)` after `after`.
    ExpireNotice {
        id: u64,
        after: Duration,
    },
    /// Send `Message::DeploymentRefreshDue` after `after` (the visible Deployment tab
    /// reloads on that beat).
    ScheduleDeploymentRefresh {
        after: Duration,
    },
    /// A line in the log file (every notice has one).
    Log {
        level: Level,
        text: String,
    },
    /// Read or save the editor's files (`Message::Editor` answers).
    Editor(EditorRequest),
    /// Load, send, diff, restore or stop for the preview (`Message::Preview` answers).
    Preview(PreviewRequest),
    /// Put text on the terminal's clipboard with an OSC 52 escape (works over SSH).
    Clipboard(String),
}

/// Where the session comes from.
#[derive(Debug, Clone)]
pub enum SessionSource {
    /// Open the configured database and sign in, like the headless commands.
    Configured,
    /// An already open session (tests, benchmarks).
    Given(Session),
}

pub struct EffectRunner {
    tx: UnboundedSender<Message>,
    source: SessionSource,
    env: Arc<PipelineEnv>,
    session: Option<Session>,
    worker: Option<tokio::task::JoinHandle<()>>,
    /// Stops the in-process worker and the event feed on quit.
    stop: CancellationToken,
    editor: Option<EditorServices>,
    /// Holds the preview's on-demand sandbox server, stopped on quit.
    preview: Option<Arc<PreviewServices>>,
    /// Whether `Clipboard` may write escapes to stdout (not under a test backend).
    terminal_clipboard: bool,
}

impl EffectRunner {
    pub fn new(tx: UnboundedSender<Message>, source: SessionSource, env: Arc<PipelineEnv>) -> Self {
        Self {
            tx,
            source,
            env,
            session: None,
            worker: None,
            stop: CancellationToken::new(),
            editor: None,
            preview: None,
            terminal_clipboard: false,
        }
    }

    /// Lets `Clipboard` write to the real terminal (stdout).
    pub fn with_terminal_clipboard(mut self) -> Self {
        self.terminal_clipboard = true;
        self
    }

    /// Takes the handles a `Connected` message carries.
    pub fn attach(&mut self, handles: SessionHandles) {
        let session = handles.session;
        self.editor = Some(EditorServices {
            session: Arc::new(session.clone()),
            sandbox: sandbox_backend(&self.env),
        });
        self.preview = Some(Arc::new(PreviewServices::new(
            session.db.clone(),
            session.token.clone(),
            session.identity.id,
            self.env.config.clone(),
            self.env.dirs.clone(),
        )));
        self.session = Some(session);
        self.worker = handles.worker;
    }

    /// Stops the worker (it releases what it runs) and the feed.
    pub async fn shutdown(&mut self) {
        self.stop.cancel();
        if let Some(preview) = self.preview.take() {
            preview.shutdown().await;
        }
        if let Some(worker) = self.worker.take() {
            // A job in a sandbox step may take a moment to release; do not hang the
            // terminal on it.
            let _ = tokio::time::timeout(Duration::from_secs(10), worker).await;
        }
    }

    pub fn apply(&mut self, effect: Effect) {
        let tx = self.tx.clone();
        match effect {
            Effect::Log { level, text } => match level {
                Level::Info => tracing::info!(target: "apiforge::tui", "{text}"),
                Level::Warn => tracing::warn!(target: "apiforge::tui", "{text}"),
                Level::Error => tracing::error!(target: "apiforge::tui", "{text}"),
            },
            Effect::ExpireNotice { id, after } => {
                tokio::spawn(async move {
                    tokio::time::sleep(after).await;
                    let _ = tx.send(Message::NoticeExpired(id));
                });
            }
            Effect::ScheduleDeploymentRefresh { after } => {
                tokio::spawn(async move {
                    tokio::time::sleep(after).await;
                    let _ = tx.send(Message::DeploymentRefreshDue);
                });
            }
            Effect::ScheduleDesignRead { generation, after } => {
                tokio::spawn(async move {
                    tokio::time::sleep(after).await;
                    let _ = tx.send(Message::DesignReadDue { generation });
                });
            }
            Effect::ReadDesign {
                generation,
                prompt,
                base,
            } => {
                // A few ms of CPU per read: off the loop, so input never waits.
                tokio::task::spawn_blocking(move || {
                    let outcome = design_preview::read(generation, &prompt, base.as_deref());
                    let _ = tx.send(Message::DesignRead {
                        generation,
                        prompt,
                        outcome,
                    });
                });
            }
            Effect::ScheduleReload { attempt, after } => {
                tokio::spawn(async move {
                    tokio::time::sleep(after).await;
                    let _ = tx.send(Message::Reload { attempt });
                });
            }
            Effect::Clipboard(escape) => {
                if self.terminal_clipboard {
                    use std::io::Write;
                    let mut out = std::io::stdout().lock();
                    if let Err(e) = out.write_all(escape.as_bytes()).and_then(|()| out.flush()) {
                        let _ = tx.send(Message::EffectFailed {
                            what: "copy to the clipboard".into(),
                            error: e.to_string(),
                            unavailable: false,
                        });
                    }
                }
            }
            Effect::Editor(request) => match self.editor.clone() {
                Some(services) => {
                    tokio::spawn(async move {
                        let result = editor::perform(request, &services).await;
                        let _ = tx.send(Message::Editor(result));
                    });
                }
                None => not_connected(&tx, "open the files"),
            },
            Effect::Preview(request) => match self.preview.clone() {
                Some(services) => {
                    tokio::spawn(async move {
                        let result = preview::perform(request, &services).await;
                        let _ = tx.send(Message::Preview(result));
                    });
                }
                // Nothing runs before the session exists, so there is nothing to stop.
                None if request == PreviewRequest::StopServer => {}
                None => not_connected(&tx, "run the preview"),
            },
            Effect::Connect { attempt, after } => {
                let source = self.source.clone();
                let env = self.env.clone();
                let stop = self.stop.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(after).await;
                    let message = match connect(source, env, stop, tx.clone()).await {
                        Ok(connected) => Message::Connected(connected),
                        Err(error) => Message::ConnectFailed { attempt, error },
                    };
                    let _ = tx.send(message);
                });
            }
            other => {
                let Some(session) = self.session.clone() else {
                    let _ = tx.send(Message::EffectFailed {
                        what: describe(&other),
                        error:
                            "not connected to the database yet; wait for the status bar to show it"
                                .into(),
                        unavailable: false,
                    });
                    return;
                };
                let env = self.env.clone();
                tokio::spawn(async move {
                    let what = describe(&other);
                    let message = match perform(other, &session, &env).await {
                        Ok(message) => message,
                        Err(e) => Message::EffectFailed {
                            what,
                            unavailable: e.is_unavailable(),
                            error: e.to_string(),
                        },
                    };
                    let _ = tx.send(message);
                });
            }
        }
    }
}

fn not_connected(tx: &UnboundedSender<Message>, what: &str) {
    let _ = tx.send(Message::EffectFailed {
        what: what.into(),
        error: "not connected to the database yet; wait for the status bar to show it".into(),
        unavailable: false,
    });
}

/// What an effect was doing, for its error notice ("cannot {what}: …").
fn describe(effect: &Effect) -> String {
    match effect {
        Effect::Connect { .. } => "connect to the database".into(),
        Effect::LoadProjects => "load your projects".into(),
        Effect::LoadJobs | Effect::ScheduleReload { .. } => "load your jobs".into(),
        Effect::LoadJobLog(job) => format!("load the log of job #{job}"),
        Effect::NewProject { .. } => "create the project".into(),
        Effect::Iterate { .. } => "start the iteration".into(),
        Effect::ScheduleDesignRead { .. } | Effect::ReadDesign { .. } => "read the prompt".into(),
        Effect::LoadIterateBase { version, .. } => format!("load the design of v{version}"),
        Effect::DeleteProject { slug, .. } => format!("delete {slug}"),
        Effect::CancelJob(job) => format!("cancel job #{job}"),
        Effect::Deploy { slug, .. } => format!("deploy {slug}"),
        Effect::Undeploy { slug, .. } => format!("undeploy {slug}"),
        Effect::ExpireNotice { .. } | Effect::Log { .. } => "keep the notices".into(),
        Effect::ScheduleDeploymentRefresh { .. } => "refresh the deployment".into(),
        Effect::Editor(_) => "open the files".into(),
        Effect::Preview(_) => "run the preview".into(),
        Effect::Clipboard(_) => "copy to the clipboard".into(),
    }
}

async fn connect(
    source: SessionSource,
    env: Arc<PipelineEnv>,
    stop: CancellationToken,
    tx: UnboundedSender<Message>,
) -> Result<Connected, String> {
    let session = match source {
        SessionSource::Configured => {
            Session::open(&env.config, &env.dirs)
                .await
                .map_err(|e| match e {
                    SessionError::Db(e) => e.to_string(),
                    other => other.to_string(),
                })?
        }
        SessionSource::Given(session) => session,
    };
    let latest: i64 = async {
        let mut t = session.db.begin_as(&session.token).await?;
        let id: i64 = sqlx::query_scalar("SELECT coalesce(max(id), 0) FROM job_events")
            .fetch_one(&mut *t)
            .await?;
        t.commit().await?;
        Ok::<_, DbError>(id)
    }
    .await
    .map_err(|e| e.to_string())?;
    let mut feed = EventSubscription::start(&session.db, &session.token, latest, None)
        .await
        .map_err(|e| e.to_string())?;
    let worker = launch::local_worker(&session, env, stop.clone())
        .await
        .map_err(|e| e.to_string())?;
    let feed_stop = stop.clone();
    tokio::spawn(async move {
        loop {
            let next = tokio::select! {
                () = feed_stop.cancelled() => return,
                next = feed.events.recv() => next,
            };
            let message = match next {
                Some(Ok(event)) => Message::JobEvent(event),
                Some(Err(e)) => Message::FeedInterrupted(e),
                None => return,
            };
            if tx.send(message).is_err() {
                return;
            }
        }
    });
    Ok(Connected {
        user: session.identity.email.clone(),
        database: session.db.location().to_string(),
        local_worker: worker.is_some(),
        handles: Some(SessionHandles { session, worker }),
    })
}

#[derive(Debug, thiserror::Error)]
enum EffectError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Launch(#[from] LaunchError),
    #[error("{0}")]
    Gone(String),
}

impl From<sqlx::Error> for EffectError {
    fn from(e: sqlx::Error) -> Self {
        EffectError::Db(DbError::Query(e))
    }
}

impl EffectError {
    fn is_unavailable(&self) -> bool {
        match self {
            EffectError::Db(e) | EffectError::Launch(LaunchError::Db(e)) => e.is_unavailable(),
            _ => false,
        }
    }
}

async fn perform(
    effect: Effect,
    session: &Session,
    env: &PipelineEnv,
) -> Result<Message, EffectError> {
    let db = &session.db;
    let token = &session.token;
    Ok(match effect {
        Effect::LoadProjects => {
            let mut t = db.begin_as(token).await?;
            let list = projects::list(&mut t).await?;
            t.commit().await?;
            Message::ProjectsLoaded(list)
        }
        Effect::LoadJobs => {
            let mut t = db.begin_as(token).await?;
            let jobs = queue::list(&mut t, true, RECENT_JOBS).await?;
            let slugs: std::collections::HashMap<Uuid, String> = projects::list(&mut t)
                .await?
                .into_iter()
                .map(|p| (p.id, p.slug))
                .collect();
            let mut snapshots = Vec::with_capacity(jobs.len());
            for record in jobs {
                let steps = queue::steps(&mut t, record.id).await?;
                let project = record.project_id.and_then(|id| slugs.get(&id).cloned());
                snapshots.push(JobSnapshot {
                    record,
                    steps,
                    project,
                });
            }
            t.commit().await?;
            Message::JobsLoaded(snapshots)
        }
        Effect::LoadJobLog(job) => {
            let mut t = db.begin_as(token).await?;
            let events = events::since(&mut t, 0, Some(job)).await?;
            t.commit().await?;
            Message::JobLogLoaded { job, events }
        }
        Effect::NewProject {
            prompt,
            framework,
            provider,
            design,
        } => {
            let request = launch::NewProject {
                prompt,
                name: launch::ProjectName::FromPrompt,
                framework,
                provider,
                sandbox: sandbox_backend(env),
                design,
            };
            let (project, submitted) = launch::new_project(session, &request, None).await?;
            Message::JobSubmitted {
                job: submitted.job,
                kind: crate::pipeline::GENERATE.into(),
                slug: project.slug,
            }
        }
        Effect::LoadIterateBase { project, version } => {
            let mut t = db.begin_as(token).await?;
            let found = crate::versions::get(&mut t, project, version)
                .await
                .map_err(|e| EffectError::Gone(e.to_string()))?;
            t.commit().await?;
            Message::IterateBaseLoaded {
                project,
                version,
                design: found.design,
            }
        }
        Effect::Iterate {
            project,
            prompt,
            design,
            made_from,
        } => {
            let mut t = db.begin_as(token).await?;
            let found = projects::get(&mut t, project).await?;
            t.commit().await?;
            let project = found.ok_or_else(|| {
                EffectError::Gone("the project no longer exists (deleted elsewhere?)".into())
            })?;
            let followup = launch::Followup {
                prompt: &prompt,
                provider: None,
                sandbox: sandbox_backend(env),
                design,
                made_from,
                by_hand: false,
            };
            let submitted = launch::iterate(session, &project, &followup).await?;
            Message::JobSubmitted {
                job: submitted.job,
                kind: crate::pipeline::ITERATE.into(),
                slug: project.slug,
            }
        }
        Effect::DeleteProject { project, slug } => {
            let mut t = db.begin_as(token).await?;
            let deleted = projects::delete(&mut t, project).await?;
            t.commit().await?;
            if !deleted {
                return Err(EffectError::Gone(format!("{slug} was already deleted")));
            }
            Message::ProjectDeleted { slug }
        }
        Effect::Deploy {
            project,
            slug,
            target,
            force,
        } => {
            let input = DeployInput {
                project,
                target,
                force,
                allow_breaking: force,
                platform: crate::deploy::Platform::Sandbox,
            };
            ensure_daemon(env).await?;
            let job = launch::submit_deploy(session, &input).await?.job;
            Message::JobSubmitted {
                job,
                kind: DEPLOY.into(),
                slug,
            }
        }
        Effect::Undeploy { project, slug } => {
            let input = UndeployInput { project };
            ensure_daemon(env).await?;
            let input = serde_json::to_value(&input)
                .map_err(|e| EffectError::Gone(format!("cannot encode the job input: {e}")))?;
            let request = JobRequest::new(UNDEPLOY, input).project(project);
            let job = launch::submit(session, &request).await?.job;
            Message::JobSubmitted {
                job,
                kind: UNDEPLOY.into(),
                slug,
            }
        }
        Effect::CancelJob(job) => {
            let mut t = db.begin_as(token).await?;
            let outcome = queue::cancel(&mut t, job).await?;
            t.commit().await?;
            let outcome = match outcome {
                CancelOutcome::Cancelled => "cancelled before it started",
                CancelOutcome::Requested => "cancelling: it stops at its next step",
                CancelOutcome::AlreadyFinished => "already finished",
                CancelOutcome::NotFound => "not found",
            };
            Message::CancelAnswered {
                job,
                outcome: outcome.into(),
            }
        }
        Effect::Connect { .. }
        | Effect::ScheduleReload { .. }
        | Effect::ExpireNotice { .. }
        | Effect::ScheduleDeploymentRefresh { .. }
        | Effect::ScheduleDesignRead { .. }
        | Effect::ReadDesign { .. }
        | Effect::Log { .. }
        | Effect::Editor(_)
        | Effect::Preview(_)
        | Effect::Clipboard(_) => {
            return Err(EffectError::Gone(
                "internal: a timer effect reached the database runner".into(),
            ));
        }
    })
}

/// Deploy jobs run in the `apiforge serve` daemon (it hosts the instances): it is
/// started in embedded mode before one is queued.
async fn ensure_daemon(env: &PipelineEnv) -> Result<(), EffectError> {
    daemon_launcher::ensure_running(&env.config, &env.dirs)
        .await
        .map(drop)
        .map_err(|e| EffectError::Gone(format!("cannot start apiforge serve: {e}")))
}

/// The configured sandbox backend (config validation rejects other values, so the
/// fallback is the default).
pub fn sandbox_backend(env: &PipelineEnv) -> Backend {
    env.config
        .sandbox
        .backend
        .parse()
        .unwrap_or(Backend::Process)
}
