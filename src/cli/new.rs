//! `apiforge new PROMPT` and `apiforge test PROJECT`: submit a pipeline job and follow it.

use std::process::ExitCode;

use clap::Args;

use super::context::{Context, Failure, Session, db_failure, print_json};
use super::follow::{follow, submit};
use crate::codegen::Framework;
use crate::db::projects::{self, NamedProject};
use crate::engine::JobRequest;
use crate::pipeline::{
    GENERATE, GenerateInput, ITERATE, IterateInput, SAVE, SaveInput, TEST, TestInput,
};
use crate::provider::ProviderKind;
use crate::sandbox::Backend;

#[derive(Debug, Args)]
pub struct NewArgs {
    /// What the API should do, in plain English.
    pub prompt: String,
    /// The project's name (default: derived from the prompt); its slug must be new.
    #[arg(long)]
    pub name: Option<String>,
    /// fastapi or express (default: codegen.framework).
    #[arg(long)]
    pub framework: Option<String>,
    /// rules or openai (default: provider.default).
    #[arg(long)]
    pub provider: Option<String>,
    /// process or docker (default: sandbox.backend).
    #[arg(long)]
    pub sandbox: Option<String>,
    /// Submit the job and return at once (follow it with `apiforge job JOB`).
    #[arg(long)]
    pub detach: bool,
    /// Submitting the same key again within 24 hours returns the same job.
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct IterateArgs {
    /// The project's slug (see `apiforge projects`).
    pub project: String,
    /// The change, in plain English ("add a due date to tasks").
    pub prompt: String,
    /// rules or openai (default: the provider the project was made with).
    #[arg(long)]
    pub provider: Option<String>,
    #[arg(long)]
    pub sandbox: Option<String>,
    #[arg(long)]
    pub detach: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SaveArgs {
    /// The project's slug.
    pub project: String,
    /// A directory holding the edited project (e.g. from `apiforge files PROJECT --out DIR`).
    pub dir: std::path::PathBuf,
    /// What the edit was.
    #[arg(long, short, default_value = "hand edit")]
    pub message: String,
    #[arg(long)]
    pub sandbox: Option<String>,
    #[arg(long)]
    pub detach: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// The project's slug (see `apiforge projects`).
    pub project: String,
    /// The version to check (default: the latest).
    #[arg(long)]
    pub version: Option<i32>,
    #[arg(long)]
    pub sandbox: Option<String>,
    #[arg(long)]
    pub detach: bool,
    #[arg(long)]
    pub json: bool,
}

pub fn parse_backend(ctx: &Context, given: Option<&str>) -> Result<Backend, Failure> {
    match given.unwrap_or(&ctx.config.sandbox.backend).trim() {
        "process" => Ok(Backend::Process),
        "docker" => Ok(Backend::Docker),
        other => Err(Failure::usage(format!(
            "unknown sandbox {other:?}: use process or docker"
        ))),
    }
}

/// A project name from a prompt: its head, up to the first colon, parenthesis,
/// sentence end or linking word ("a bakery API: …" → "bakery", "Bookstore API with
/// books …" → "Bookstore").
fn name_from_prompt(prompt: &str) -> String {
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

pub async fn new(ctx: &Context, args: NewArgs) -> Result<ExitCode, Failure> {
    if args.prompt.trim().is_empty() {
        return Err(Failure::usage(
            "the prompt is empty: describe the API, e.g. apiforge new \"a todo API with tasks (title, due date, done flag)\"",
        ));
    }
    let framework: Framework = args
        .framework
        .as_deref()
        .unwrap_or(&ctx.config.codegen.framework)
        .parse()
        .map_err(Failure::usage)?;
    let provider: ProviderKind = args
        .provider
        .as_deref()
        .unwrap_or(&ctx.config.provider.default)
        .parse()
        .map_err(Failure::usage)?;
    let sandbox = parse_backend(ctx, args.sandbox.as_deref())?;
    let session = ctx.session().await?;
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| name_from_prompt(&args.prompt));
    let mut tx = session
        .db
        .begin_as(&session.token)
        .await
        .map_err(db_failure)?;
    let project = projects::create_named(
        &mut tx,
        &NamedProject {
            owner: session.identity.id,
            name: &name,
            description: "",
            framework,
            provider: provider.as_str(),
        },
    )
    .await
    .map_err(|e| Failure::usage(e.to_string()))?;
    tx.commit()
        .await
        .map_err(|e| Failure::failed(e.to_string()))?;
    let input = GenerateInput {
        project: project.id,
        prompt: args.prompt.clone(),
        framework,
        provider,
        sandbox,
    };
    pipeline(
        ctx,
        &session,
        &project,
        GENERATE,
        &input,
        args.idempotency_key.as_deref(),
        |job| {
            format!(
                "project {} · job {job} · {framework} · {provider} · {} sandbox",
                project.slug,
                sandbox.as_str()
            )
        },
        args.detach,
        args.json,
    )
    .await
}

pub async fn iterate(ctx: &Context, args: IterateArgs) -> Result<ExitCode, Failure> {
    if args.prompt.trim().is_empty() {
        return Err(Failure::usage(
            "the prompt is empty: say what to change, e.g. \"add a due date to tasks\"",
        ));
    }
    let provider = args
        .provider
        .as_deref()
        .map(str::parse::<ProviderKind>)
        .transpose()
        .map_err(Failure::usage)?;
    let sandbox = parse_backend(ctx, args.sandbox.as_deref())?;
    let session = ctx.session().await?;
    let project = find_project(&session, &args.project).await?;
    if project.latest_version.is_none() {
        return Err(Failure::usage(format!(
            "{} has no version yet; wait for its first job or create it with `apiforge new`",
            project.slug
        )));
    }
    let input = IterateInput {
        project: project.id,
        prompt: args.prompt.clone(),
        provider,
        sandbox,
    };
    pipeline(
        ctx,
        &session,
        &project,
        ITERATE,
        &input,
        None,
        |job| format!("iterating {} · job {job}", project.slug),
        args.detach,
        args.json,
    )
    .await
}

pub async fn save(ctx: &Context, args: SaveArgs) -> Result<ExitCode, Failure> {
    let sandbox = parse_backend(ctx, args.sandbox.as_deref())?;
    let files = crate::codegen::project::read_files(&args.dir)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", args.dir.display())))?;
    if files.is_empty() {
        return Err(Failure::usage(format!(
            "{} holds no project files",
            args.dir.display()
        )));
    }
    let session = ctx.session().await?;
    let project = find_project(&session, &args.project).await?;
    let input = SaveInput {
        project: project.id,
        files,
        message: args.message.clone(),
        sandbox,
    };
    pipeline(
        ctx,
        &session,
        &project,
        SAVE,
        &input,
        None,
        |job| format!("saving {} · job {job}", project.slug),
        args.detach,
        args.json,
    )
    .await
}

pub async fn test(ctx: &Context, args: TestArgs) -> Result<ExitCode, Failure> {
    let sandbox = parse_backend(ctx, args.sandbox.as_deref())?;
    let session = ctx.session().await?;
    let project = find_project(&session, &args.project).await?;
    let version = args
        .version
        .or(project.latest_version)
        .ok_or_else(|| Failure::usage(format!("{} has no versions yet", project.slug)))?;
    let input = TestInput {
        project: project.id,
        version,
        sandbox,
    };
    pipeline(
        ctx,
        &session,
        &project,
        TEST,
        &input,
        None,
        |job| format!("checking {} v{version} · job {job}", project.slug),
        args.detach,
        args.json,
    )
    .await
}

/// Submits a pipeline job for `project`, announces it (one line, unless `json`) and
/// follows it to the end, or returns at once with `detach`.
#[allow(clippy::too_many_arguments)]
async fn pipeline<I: serde::Serialize>(
    ctx: &Context,
    session: &Session,
    project: &projects::Project,
    kind: &str,
    input: &I,
    idempotency_key: Option<&str>,
    announce: impl FnOnce(i64) -> String,
    detach: bool,
    json: bool,
) -> Result<ExitCode, Failure> {
    let input = serde_json::to_value(input).map_err(|e| Failure::failed(e.to_string()))?;
    let mut request = JobRequest::new(kind, input).project(project.id);
    if let Some(key) = idempotency_key {
        request = request.idempotency_key(key);
    }
    let job = submit(session, &request).await?.job;
    if !json {
        println!("{}", announce(job));
    }
    if detach {
        if json {
            print_json(&serde_json::json!({ "job": job, "project": project.slug }))?;
        } else {
            println!("submitted; follow it with `apiforge job {job}`");
        }
        return Ok(ExitCode::SUCCESS);
    }
    follow(ctx, session, job, json).await
}

/// The caller's project with this slug.
pub async fn find_project(session: &Session, slug: &str) -> Result<projects::Project, Failure> {
    let mut tx = session
        .db
        .begin_as(&session.token)
        .await
        .map_err(db_failure)?;
    let project = projects::get_by_slug(&mut tx, session.identity.id, slug)
        .await
        .map_err(db_failure)?;
    tx.commit()
        .await
        .map_err(|e| Failure::failed(e.to_string()))?;
    project.ok_or_else(|| {
        Failure::usage(format!(
            "no project {slug:?} of yours; `apiforge projects` lists them"
        ))
    })
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
