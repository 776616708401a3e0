//! Starting pipeline jobs, shared by every front end: `apiforge new` and the TUI's
//! new-project dialog submit exactly the same thing, and both run an in-process
//! worker when no other worker serves the database.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::{GENERATE, GenerateInput, ITERATE, IterateInput, PipelineEnv};
use crate::auth::Session;
use crate::codegen::Framework;
use crate::db::DbError;
use crate::db::projects::{self, ExactCreation, NamedProject, Project};
use crate::deploy::deployment_row;
use crate::deploy::{DEPLOY, DeployInput, DeployTarget};
use crate::design::ApiDesign;
use crate::engine::queue::{self, Submitted};
use crate::engine::{JobRequest, Worker, WorkerOptions};
use crate::provider::ProviderKind;
use crate::sandbox::Backend;

/// The application name worker pools connect with, so clients can see that a worker
/// is serving the database.
pub const WORKER_APPLICATION: &str = "apiforge worker";

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0}")]
    Invalid(String),
    #[error("cannot encode the job input: {0}")]
    Encode(#[from] serde_json::Error),
    /// An exact name ([`ProjectName::Exact`]) whose slug the caller has already; no
    /// project or job was created.
    #[error("you have a project {} (\"{}\") already", .existing.slug, .existing.name)]
    NameTaken { existing: Box<Project> },
    /// A rollback with no earlier live version to go back to; no job was created.
    #[error("{slug} has no earlier live version to roll back to")]
    NothingToRollBack { slug: String },
}

impl From<sqlx::Error> for LaunchError {
    fn from(e: sqlx::Error) -> Self {
        LaunchError::Db(DbError::Query(e))
    }
}

/// What a new project is called, and what happens when its slug is taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectName {
    /// Derived from the prompt ([`name_from_prompt`]), suffixed when taken
    /// (`bakery-2`): nobody chose it, so any free variant will do.
    FromPrompt,
    /// Chosen by the user: a taken slug is refused ([`LaunchError::NameTaken`]), since
    /// a silent `bakery-2` is easy to miss and later commands would address the old
    /// project.
    Exact(String),
    /// Chosen by the user, suffixed when taken.
    Suffixed(String),
}

/// A new project from a prompt.
#[derive(Debug, Clone)]
pub struct NewProject {
    pub prompt: String,
    pub name: ProjectName,
    pub framework: Framework,
    pub provider: ProviderKind,
    pub sandbox: Backend,
    /// The design to build when it was made (and shown) before submitting; `None`
    /// lets the job's design step ask the provider.
    pub design: Option<ApiDesign>,
}

/// Creates the project (see [`ProjectName`] for a taken slug) and submits its
/// `generate` job.
pub async fn new_project(
    session: &Session,
    request: &NewProject,
    idempotency_key: Option<&str>,
) -> Result<(Project, Submitted), LaunchError> {
    if request.prompt.trim().is_empty() {
        return Err(LaunchError::Invalid(
            "the prompt is empty: describe the API, e.g. \"a todo API with tasks (title, due date, done flag)\"".into(),
        ));
    }
    // A blank chosen name falls back to the prompt's, as if none was given.
    let (name, exact) = match &request.name {
        ProjectName::Exact(n) if !n.trim().is_empty() => (n.clone(), true),
        ProjectName::Suffixed(n) if !n.trim().is_empty() => (n.clone(), false),
        _ => (name_from_prompt(&request.prompt), false),
    };
    let named = NamedProject {
        owner: session.identity.id,
        name: &name,
        description: "",
        framework: request.framework,
        provider: request.provider.as_str(),
    };
    let mut tx = session.db.begin_as(&session.token).await?;
    // A retry of a submitted `new` returns its project and job; it must neither meet
    // its own project as a taken name nor leave a second project behind.
    if let Some(key) = idempotency_key
        && let Some((job, Some(project))) = queue::by_idempotency_key(&mut tx, key).await?
        && let Some(project) = projects::get(&mut tx, project).await?
    {
        tx.commit().await?;
        return Ok((
            project,
            Submitted {
                job,
                deduplicated: true,
            },
        ));
    }
    let project = if exact {
        match projects::create_exact(&mut tx, &named).await? {
            ExactCreation::Created(project) => project,
            ExactCreation::Taken(existing) => {
                return Err(LaunchError::NameTaken {
                    existing: Box::new(existing),
                });
            }
        }
    } else {
        projects::create_named(&mut tx, &named).await?
    };
    tx.commit().await?;
    let input = GenerateInput {
        project: project.id,
        prompt: request.prompt.clone(),
        framework: request.framework,
        provider: request.provider,
        sandbox: request.sandbox,
        design: request.design.clone(),
    };
    let submitted = submit_for(session, &project, GENERATE, &input, idempotency_key).await?;
    Ok((project, submitted))
}

/// A follow-up for a project.
#[derive(Debug, Clone)]
pub struct Followup<'a> {
    /// The change in plain English; for a design edited by hand, what the edit was.
    pub prompt: &'a str,
    /// Default: the provider the project was made with.
    pub provider: Option<ProviderKind>,
    pub sandbox: Backend,
    /// The new design when it was made before submitting (from the project's
    /// latest version): an edited `apiforge.json`, or a reviewed preview.
    pub design: Option<ApiDesign>,
    /// The version `design` was made from (default: the latest); the job refuses to
    /// build it on any other.
    pub made_from: Option<i32>,
    /// `design` was edited by hand: `prompt` only names the edit, so the review
    /// does not read its words.
    pub by_hand: bool,
}

/// Submits an `iterate` job: a follow-up for a project that has a version.
pub async fn iterate(
    session: &Session,
    project: &Project,
    followup: &Followup<'_>,
) -> Result<Submitted, LaunchError> {
    if followup.prompt.trim().is_empty() {
        return Err(LaunchError::Invalid(
            "the prompt is empty: say what to change, e.g. \"add a due date to tasks\"".into(),
        ));
    }
    let Some(latest) = project.latest_version else {
        return Err(LaunchError::Invalid(format!(
            "{} has no version yet; wait for its first job to finish",
            project.slug
        )));
    };
    let input = IterateInput {
        project: project.id,
        prompt: followup.prompt.to_owned(),
        provider: followup.provider,
        sandbox: followup.sandbox,
        parent: followup
            .design
            .as_ref()
            .map(|_| followup.made_from.unwrap_or(latest)),
        design: followup.design.clone(),
        by_hand: followup.by_hand,
    };
    submit_for(session, project, ITERATE, &input, None).await
}

/// Submits a pipeline job of `kind` for `project`.
pub async fn submit_for<I: serde::Serialize>(
    session: &Session,
    project: &Project,
    kind: &str,
    input: &I,
    idempotency_key: Option<&str>,
) -> Result<Submitted, LaunchError> {
    let mut request = JobRequest::new(kind, serde_json::to_value(input)?).project(project.id);
    if let Some(key) = idempotency_key {
        request = request.idempotency_key(key);
    }
    submit(session, &request).await
}

/// Submits a `deploy` job (a version, or a rollback) for the signed-in user. A
/// rollback with no earlier live version is refused here, in the transaction that
/// would queue it, so no job is recorded for it ([`LaunchError::NothingToRollBack`]);
/// the job's own plan still checks again when it runs.
pub async fn submit_deploy(
    session: &Session,
    input: &DeployInput,
) -> Result<Submitted, LaunchError> {
    let request = JobRequest::new(DEPLOY, serde_json::to_value(input)?).project(input.project);
    let mut tx = session.db.begin_as(&session.token).await?;
    if input.target == DeployTarget::Rollback {
        let project = projects::get(&mut tx, input.project)
            .await?
            .ok_or_else(|| LaunchError::Invalid("the project no longer exists".into()))?;
        let live = deployment_row::live(&mut tx, project.id).await?;
        let current = live.map(|l| l.version_id);
        if deployment_row::previous(&mut tx, project.id, current)
            .await?
            .is_none()
        {
            return Err(LaunchError::NothingToRollBack { slug: project.slug });
        }
    }
    let submitted = queue::submit(&mut tx, &request).await?;
    tx.commit().await?;
    Ok(submitted)
}

/// Submits a job for the signed-in user.
pub async fn submit(session: &Session, request: &JobRequest) -> Result<Submitted, LaunchError> {
    let mut tx = session.db.begin_as(&session.token).await?;
    let submitted = queue::submit(&mut tx, request).await?;
    tx.commit().await?;
    Ok(submitted)
}

/// Starts a worker inside this process when this process may (it has the owner
/// connection) and no worker is serving the database already. It runs until `stop`.
pub async fn local_worker(
    session: &Session,
    env: Arc<PipelineEnv>,
    stop: CancellationToken,
) -> Result<Option<tokio::task::JoinHandle<()>>, LaunchError> {
    let Ok(owner) = session.db.owner() else {
        return Ok(None);
    };
    let serving: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()",
    )
    .bind(WORKER_APPLICATION)
    .fetch_one(owner)
    .await?;
    if serving > 0 {
        return Ok(None);
    }
    let options = WorkerOptions::from_config(&env.config.engine);
    let worker = Worker::new(owner.clone(), super::registry(env), options);
    Ok(Some(tokio::spawn(async move {
        if let Err(e) = worker.run(stop).await {
            tracing::error!("the in-process worker stopped: {e}");
        }
    })))
}

/// A project name from a prompt: its head, up to the first colon, parenthesis,
/// sentence end or linking word ("a bakery API: …" → "bakery", "Bookstore API with
/// books …" → "Bookstore").
pub fn name_from_prompt(prompt: &str) -> String {
    let head = prompt
        .split([':', '.', ';', '(', ',', '\n'])
        .next()
        .unwrap_or(prompt);
    let words: Vec<&str> = head
        .split_whitespace()
        .take_while(|w| {
            !matches!(
                w.to_ascii_lowercase().as_str(),
                "with" | "for" | "where" | "that" | "which" | "having" | "to"
            )
        })
        .filter(|w| !matches!(w.to_ascii_lowercase().as_str(), "a" | "an" | "the" | "api"))
        .take(4)
        .collect();
    if words.is_empty() {
        "api".to_owned()
    } else {
        words.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::name_from_prompt;

    #[test]
    fn names_come_from_the_head_of_the_prompt() {
        assert_eq!(
            name_from_prompt("a bakery API: products with name"),
            "bakery"
        );
        assert_eq!(
            name_from_prompt("Bike rental service: bikes"),
            "Bike rental service"
        );
        assert_eq!(
            name_from_prompt("Bookstore API with books (title)"),
            "Bookstore"
        );
        assert_eq!(name_from_prompt("books with title and author"), "books");
        assert_eq!(name_from_prompt("   "), "api");
    }
}
