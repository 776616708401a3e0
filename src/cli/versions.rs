//! `apiforge versions`, `files`, `diff`, `restore`: a project's immutable history.

use crate::cli::stdout::{out, outln};
use std::process::ExitCode;

use clap::Args;

use super::context::{Context, Failure, client_tx, print_json};
use super::new::find_project;
use crate::versions;

#[derive(Debug, Args)]
pub struct VersionsArgs {
    pub project: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct FilesArgs {
    pub project: String,
    /// Print this file's contents instead of listing the files.
    pub path: Option<String>,
    /// Default: the latest version.
    #[arg(long)]
    pub version: Option<i32>,
    /// Write every file of the version into this directory (to edit, then `apiforge save`).
    #[arg(long, value_name = "DIR", conflicts_with = "path")]
    pub out: Option<std::path::PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    pub project: String,
    pub a: i32,
    pub b: i32,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    pub project: String,
    /// The version to bring back; a new version equal to it is recorded.
    pub version: i32,
    #[arg(long)]
    pub json: bool,
}

fn failed(e: impl std::fmt::Display) -> Failure {
    Failure::failed(e.to_string())
}

fn version_failure(e: versions::VersionError) -> Failure {
    Failure::usage(e.to_string())
}

pub async fn list(ctx: &Context, args: VersionsArgs) -> Result<ExitCode, Failure> {
    let session = ctx.session().await?;
    let project = find_project(&session, &args.project).await?;
    let mut tx = client_tx(&session).await?;
    let list = versions::list(&mut tx, project.id)
        .await
        .map_err(version_failure)?;
    tx.commit().await.map_err(failed)?;
    if args.json {
        print_json(&list)?;
    } else if list.is_empty() {
        outln!("{} has no versions yet", project.slug);
    } else {
        for v in &list {
            outln!(
                "v{:<4} {:<8} {:<9} {}  {}",
                v.number,
                v.origin.as_str(),
                v.check_status.as_str(),
                v.created_at.format("%Y-%m-%d %H:%M"),
                v.prompt.lines().next().unwrap_or("")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn files(ctx: &Context, args: FilesArgs) -> Result<ExitCode, Failure> {
    let session = ctx.session().await?;
    let project = find_project(&session, &args.project).await?;
    let number = args
        .version
        .or(project.latest_version)
        .ok_or_else(|| Failure::usage(format!("{} has no versions yet", project.slug)))?;
    let mut tx = client_tx(&session).await?;
    if let Some(out) = &args.out {
        let files = versions::read_contents(&mut tx, project.id, number)
            .await
            .map_err(version_failure)?;
        tx.commit().await.map_err(failed)?;
        crate::codegen::project::write_files(out, &files).map_err(failed)?;
        if args.json {
            print_json(
                &serde_json::json!({ "version": number, "out": out, "files": files.len() }),
            )?;
        } else {
            outln!(
                "v{number} of {}: {} files in {}",
                project.slug,
                files.len(),
                out.display()
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    match &args.path {
        Some(path) => {
            let file = versions::read_file(&mut tx, project.id, number, path)
                .await
                .map_err(version_failure)?
                .ok_or_else(|| {
                    Failure::usage(format!(
                        "v{number} of {} has no file {path:?}",
                        project.slug
                    ))
                })?;
            if args.json {
                print_json(&file)?;
            } else {
                out!("{}", file.content);
            }
        }
        None => {
            let version = versions::get(&mut tx, project.id, number)
                .await
                .map_err(version_failure)?;
            if args.json {
                print_json(&version.files)?;
            } else {
                for f in &version.files {
                    outln!(
                        "{:>8}  {}{}",
                        f.size,
                        f.path,
                        if f.generated { "" } else { "  (edited)" }
                    );
                }
            }
        }
    }
    tx.commit().await.map_err(failed)?;
    Ok(ExitCode::SUCCESS)
}

pub async fn diff(ctx: &Context, args: DiffArgs) -> Result<ExitCode, Failure> {
    let session = ctx.session().await?;
    let project = find_project(&session, &args.project).await?;
    let mut tx = client_tx(&session).await?;
    let diff = versions::version_diff::diff(&mut tx, project.id, args.a, args.b)
        .await
        .map_err(version_failure)?;
    tx.commit().await.map_err(failed)?;
    if args.json {
        print_json(&diff)?;
    } else {
        outln!("v{} → v{}", diff.from, diff.to);
        for c in &diff.design.changes {
            outln!(
                "  {} {}: {}",
                if c.breaking { "!" } else { " " },
                c.path,
                c.description
            );
        }
        if diff.design.is_breaking() {
            outln!("  (! = breaking for existing clients)");
        }
        for f in &diff.files {
            outln!("\n{} (+{} −{})", f.path, f.insertions, f.deletions);
            out!("{}", f.unified);
        }
        if diff.is_empty() {
            outln!("  no differences");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn restore(ctx: &Context, args: RestoreArgs) -> Result<ExitCode, Failure> {
    let session = ctx.session().await?;
    let project = find_project(&session, &args.project).await?;
    let mut tx = client_tx(&session).await?;
    let recorded = versions::restore(&mut tx, project.id, args.version, session.identity.id)
        .await
        .map_err(version_failure)?;
    tx.commit().await.map_err(failed)?;
    if args.json {
        print_json(&recorded)?;
    } else {
        outln!("v{} restored as v{}", args.version, recorded.number);
    }
    Ok(ExitCode::SUCCESS)
}
