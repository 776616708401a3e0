//! `apiforge export PROJECT --out DIR [--docker]`: a version's files as a standalone
//! project, optionally with the Docker files to run it anywhere.

use crate::cli::stdout::outln;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::context::{Context, Failure, client_tx, print_json};
use super::new::find_project;
use crate::deploy::export::{self, DockerTarget, ExportError};
use crate::versions;

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The project's slug (see `apiforge projects`).
    pub project: String,
    /// The directory to write into: new or empty (or any with --force).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Default: the latest version.
    #[arg(long)]
    pub version: Option<i32>,
    /// Add a Dockerfile, compose.yaml and .dockerignore to build and run it anywhere.
    #[arg(long)]
    pub docker: bool,
    /// Write into a non-empty directory, overwriting the files the export writes.
    #[arg(long)]
    pub force: bool,
    #[arg(long)]
    pub json: bool,
}

fn export_failure(e: ExportError) -> Failure {
    match e {
        ExportError::NotADirectory(_) | ExportError::NotEmpty(_) | ExportError::Collision(_) => {
            Failure::usage(e.to_string())
        }
        ExportError::Template { .. } | ExportError::Io(_) => Failure::failed(e.to_string()),
    }
}

pub async fn run(ctx: &Context, args: ExportArgs) -> Result<ExitCode, Failure> {
    // Refused before anything is read, so a wrong --out costs nothing.
    export::check_target(&args.out, args.force).map_err(export_failure)?;
    let session = ctx.session().await?;
    let project = find_project(&session, &args.project).await?;
    let number = args
        .version
        .or(project.latest_version)
        .ok_or_else(|| Failure::usage(format!("{} has no versions yet", project.slug)))?;
    let mut tx = client_tx(&session).await?;
    let version = versions::get(&mut tx, project.id, number)
        .await
        .map_err(|e| Failure::usage(e.to_string()))?;
    let files = versions::read_contents(&mut tx, project.id, number)
        .await
        .map_err(|e| Failure::usage(e.to_string()))?;
    tx.commit()
        .await
        .map_err(|e| Failure::failed(e.to_string()))?;
    let version_files = files.len();
    let files = if args.docker {
        let extra = export::docker_files(&DockerTarget {
            slug: &project.slug,
            number,
            framework: version.framework,
            design: &version.design,
        })
        .map_err(export_failure)?;
        export::combine(files, extra).map_err(export_failure)?
    } else {
        files
    };
    export::write(&args.out, &files, args.force).map_err(export_failure)?;
    if args.json {
        print_json(&serde_json::json!({
            "project": project.slug,
            "version": number,
            "framework": version.framework,
            "out": args.out,
            "docker": args.docker,
            "files": files.keys().collect::<Vec<_>>(),
        }))?;
    } else {
        outln!(
            "v{number} of {} ({}): {version_files} files in {}",
            project.slug,
            version.framework,
            args.out.display()
        );
        if args.docker {
            outln!(
                "with {}, {} and {}; run it with:\n  cd {} && docker compose up --build -d",
                export::DOCKERFILE,
                export::COMPOSE_FILE,
                export::DOCKERIGNORE,
                args.out.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
