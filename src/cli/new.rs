//! `apiforge new PROMPT`, `iterate PROJECT (PROMPT | --design FILE)`, `save` and
//! `test`: submit a pipeline job and follow it.

use crate::cli::stdout::outln;
use std::process::ExitCode;

use clap::Args;

use super::context::{Context, Failure, Session, client_tx, db_failure, print_json};
use super::design::{design_with, print_reviewed, read_design, strict_exit};
use super::follow::follow;
use crate::codegen::Framework;
use crate::db::projects;
use crate::design::{ApiDesign, review};
use crate::engine::queue::Submitted;
use crate::pipeline::launch::{self, LaunchError, ProjectName};
use crate::pipeline::{SAVE, SaveInput, TEST, TestInput};
use crate::provider::{DesignRequest, ProviderKind};
use crate::sandbox::Backend;

#[derive(Debug, Args)]
pub struct NewArgs {
    /// What the API should do, in plain English.
    pub prompt: String,
    /// The project's name (default: derived from the prompt). If you have a project
    /// with its slug already, `new` refuses unless --suffix is given.
    #[arg(long)]
    pub name: Option<String>,
    /// When --name is taken, create NAME-2 (NAME-3, …) instead of refusing; a name
    /// derived from the prompt is always suffixed.
    #[arg(long)]
    pub suffix: bool,
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
    /// Design and review first; any warning prints the design and exits 1 before
    /// anything is created.
    #[arg(long)]
    pub strict: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct IterateArgs {
    /// The project's slug (see `apiforge projects`).
    pub project: String,
    /// The change, in plain English ("add a due date to tasks").
    #[arg(required_unless_present = "design", conflicts_with = "design")]
    pub prompt: Option<String>,
    /// Build the new version from this design file (an edited apiforge.json)
    /// instead of a prompt; it is validated first.
    #[arg(long, value_name = "FILE")]
    pub design: Option<std::path::PathBuf>,
    /// rules or openai (default: the provider the project was made with).
    #[arg(long)]
    pub provider: Option<String>,
    #[arg(long)]
    pub sandbox: Option<String>,
    /// Design and review first; any warning prints the design and exits 1 before
    /// the job is submitted.
    #[arg(long)]
    pub strict: bool,
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
    // Under --strict the design is made and reviewed here, so a refusal leaves no
    // project behind; the job then builds exactly this design.
    let design = if args.strict {
        let request = DesignRequest {
            prompt: &args.prompt,
            base: None,
        };
        let design = design_with(ctx, provider, request).await?;
        let review = review(&args.prompt, &design, None);
        if !review.is_empty() {
            print_reviewed(&design, &review, args.json)?;
            return Ok(strict_exit(true, &review));
        }
        Some(design)
    } else {
        None
    };
    let session = ctx.session().await?;
    let request = launch::NewProject {
        prompt: args.prompt.clone(),
        name: match (&args.name, args.suffix) {
            (None, _) => ProjectName::FromPrompt,
            (Some(name), false) => ProjectName::Exact(name.clone()),
            (Some(name), true) => ProjectName::Suffixed(name.clone()),
        },
        framework,
        provider,
        sandbox,
        design,
    };
    let (project, submitted) =
        launch::new_project(&session, &request, args.idempotency_key.as_deref())
            .await
            .map_err(launch_failure)?;
    let announce = format!(
        "project {} · job {} · {framework} · {provider} · {} sandbox",
        project.slug,
        submitted.job,
        sandbox.as_str()
    );
    announce_and_follow(
        ctx,
        &session,
        submitted,
        announce,
        args.detach,
        args.json,
        &project.slug,
    )
    .await
}

pub async fn iterate(ctx: &Context, args: IterateArgs) -> Result<ExitCode, Failure> {
    if args.prompt.as_deref().is_some_and(|p| p.trim().is_empty()) {
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
    // A broken design file is reported before anything else is touched.
    let edited = args.design.as_deref().map(read_design).transpose()?;
    let session = ctx.session().await?;
    let project = find_project(&session, &args.project).await?;
    let Some(latest) = project.latest_version else {
        return Err(Failure::usage(format!(
            "{} has no version yet; wait for its first job or create it with `apiforge new`",
            project.slug
        )));
    };
    let (prompt, design, by_hand) = match (edited, args.prompt.as_deref()) {
        (Some(design), _) => {
            let base = version_design(&session, &project, latest).await?;
            if design == base {
                return Err(Failure::usage(format!(
                    "the design is the same as v{latest}'s: edit it first (`apiforge files {} apiforge.json` prints it)",
                    project.slug
                )));
            }
            let review = review("", &design, Some(&base));
            if args.strict && !review.is_empty() {
                print_reviewed(&design, &review, args.json)?;
                return Ok(strict_exit(true, &review));
            }
            let file = args
                .design
                .as_deref()
                .and_then(|p| p.file_name())
                .map_or_else(|| "apiforge.json".into(), |n| n.to_string_lossy());
            (
                format!("design edited by hand ({file})"),
                Some(design),
                true,
            )
        }
        (None, Some(prompt)) if args.strict => {
            let base = version_design(&session, &project, latest).await?;
            let kind = match provider {
                Some(kind) => kind,
                None => project.provider.parse().map_err(Failure::failed)?,
            };
            let request = DesignRequest {
                prompt,
                base: Some(&base),
            };
            let design = design_with(ctx, kind, request).await?;
            let review = review(prompt, &design, Some(&base));
            if !review.is_empty() {
                print_reviewed(&design, &review, args.json)?;
                return Ok(strict_exit(true, &review));
            }
            (prompt.to_owned(), Some(design), false)
        }
        (None, Some(prompt)) => (prompt.to_owned(), None, false),
        (None, None) => {
            return Err(Failure::usage(
                "say what to change: a PROMPT, or --design FILE with an edited apiforge.json",
            ));
        }
    };
    let followup = launch::Followup {
        prompt: &prompt,
        provider,
        sandbox,
        design,
        made_from: Some(latest),
        by_hand,
    };
    let submitted = launch::iterate(&session, &project, &followup)
        .await
        .map_err(launch_failure)?;
    let announce = format!("iterating {} · job {}", project.slug, submitted.job);
    announce_and_follow(
        ctx,
        &session,
        submitted,
        announce,
        args.detach,
        args.json,
        &project.slug,
    )
    .await
}

/// The design of one of the project's versions.
async fn version_design(
    session: &Session,
    project: &projects::Project,
    number: i32,
) -> Result<ApiDesign, Failure> {
    let mut tx = client_tx(session).await?;
    let version = crate::versions::get(&mut tx, project.id, number)
        .await
        .map_err(|e| Failure::failed(e.to_string()))?;
    tx.commit()
        .await
        .map_err(|e| Failure::failed(e.to_string()))?;
    Ok(version.design)
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
    let submitted = launch::submit_for(&session, &project, SAVE, &input, None)
        .await
        .map_err(launch_failure)?;
    let announce = format!("saving {} · job {}", project.slug, submitted.job);
    announce_and_follow(
        ctx,
        &session,
        submitted,
        announce,
        args.detach,
        args.json,
        &project.slug,
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
    let submitted = launch::submit_for(&session, &project, TEST, &input, None)
        .await
        .map_err(launch_failure)?;
    let announce = format!(
        "checking {} v{version} · job {}",
        project.slug, submitted.job
    );
    announce_and_follow(
        ctx,
        &session,
        submitted,
        announce,
        args.detach,
        args.json,
        &project.slug,
    )
    .await
}

/// Announces a submitted job (one line, unless `json`) and follows it to the end, or
/// returns at once with `detach`.
async fn announce_and_follow(
    ctx: &Context,
    session: &Session,
    submitted: Submitted,
    announce: String,
    detach: bool,
    json: bool,
    slug: &str,
) -> Result<ExitCode, Failure> {
    let job = submitted.job;
    if !json {
        outln!("{announce}");
    }
    if detach {
        if json {
            print_json(&serde_json::json!({ "job": job, "project": slug }))?;
        } else {
            outln!("submitted; follow it with `apiforge job {job}`");
        }
        return Ok(ExitCode::SUCCESS);
    }
    follow(ctx, session, job, json).await
}

/// Invalid requests are usage errors (exit 2), the rest failures.
pub fn launch_failure(e: LaunchError) -> Failure {
    match e {
        LaunchError::NameTaken { existing } => Failure::usage(format!(
            "you have a project named {:?} already ({}, `apiforge versions {}`); pass --suffix to create {}-2 beside it, or pick another --name",
            existing.name, existing.slug, existing.slug, existing.slug
        )),
        LaunchError::NothingToRollBack { .. } => Failure::usage(format!(
            "{e}; nothing was changed (`apiforge deployments` shows what is live)"
        )),
        LaunchError::Db(e @ crate::db::DbError::Invalid(_)) => Failure::usage(e.to_string()),
        LaunchError::Db(e) => db_failure(e),
        LaunchError::Invalid(m) => Failure::usage(m),
        LaunchError::Encode(e) => Failure::failed(e.to_string()),
    }
}

/// The caller's project with this slug.
pub async fn find_project(session: &Session, slug: &str) -> Result<projects::Project, Failure> {
    let mut tx = client_tx(session).await?;
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
