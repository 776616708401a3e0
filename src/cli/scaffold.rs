//! `apiforge scaffold`: design → spec → code → tests, written into a directory. No
//! database and no sandbox.

use crate::cli::stdout::outln;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use super::context::{Context, Failure, print_json};
use super::design::{design_with, read_design};
use crate::codegen::Framework;
use crate::codegen::project::render_project;
use crate::design::ApiDesign;
use crate::provider::{DesignRequest, ProviderKind};

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("source").required(true).args(["prompt", "from_spec", "design", "template"]))]
pub struct ScaffoldArgs {
    /// What the API should do, in plain English.
    pub prompt: Option<String>,
    /// Where to write the project (created if missing; must be empty unless --force).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// fastapi or express (default: codegen.framework from the config).
    #[arg(long, value_name = "NAME")]
    pub framework: Option<String>,
    /// Which provider designs the API from PROMPT (default: provider.default).
    #[arg(long, value_name = "NAME")]
    pub provider: Option<String>,
    /// Start from an existing OpenAPI 3.0/3.1 document (JSON or YAML).
    #[arg(long, value_name = "FILE")]
    pub from_spec: Option<PathBuf>,
    /// Start from a design file (an apiforge.json).
    #[arg(long, value_name = "FILE")]
    pub design: Option<PathBuf>,
    /// Start from a starter design (see `apiforge templates`).
    #[arg(long, value_name = "NAME")]
    pub template: Option<String>,
    /// Write into a non-empty directory, replacing files of the same name.
    #[arg(long)]
    pub force: bool,
    /// Print the files written and any warnings as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Scaffolded {
    out: PathBuf,
    framework: Framework,
    title: String,
    resources: Vec<String>,
    files: Vec<String>,
    warnings: Vec<String>,
}

pub async fn run(ctx: &Context, args: ScaffoldArgs) -> Result<ExitCode, Failure> {
    let framework: Framework = args
        .framework
        .as_deref()
        .unwrap_or(&ctx.config.codegen.framework)
        .parse()
        .map_err(Failure::usage)?;
    check_target(&args.out, args.force)?;
    let (design, warnings) = source_design(ctx, &args).await?;
    let files = render_project(&design, framework).map_err(|e| Failure::usage(e.to_string()))?;
    crate::codegen::project::write_files(&args.out, &files)
        .map_err(|e| Failure::failed(e.to_string()))?;
    let report = Scaffolded {
        out: args.out.clone(),
        framework,
        title: design.title.clone(),
        resources: design.resources.iter().map(|r| r.name.clone()).collect(),
        files: files.keys().cloned().collect(),
        warnings,
    };
    if args.json {
        print_json(&report)?;
    } else {
        for w in &report.warnings {
            eprintln!("warning: {w}");
        }
        outln!(
            "{} ({}) → {} files in {}",
            report.title,
            framework,
            report.files.len(),
            args.out.display()
        );
        outln!("resources: {}", report.resources.join(", "));
        outln!(
            "next: apiforge check {}   (runs its tests in a sandbox)",
            args.out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn source_design(
    ctx: &Context,
    args: &ScaffoldArgs,
) -> Result<(ApiDesign, Vec<String>), Failure> {
    if let Some(path) = &args.design {
        return Ok((read_design(path)?, Vec::new()));
    }
    if let Some(name) = &args.template {
        let template = crate::templates::get(name).ok_or_else(|| {
            Failure::usage(format!(
                "no template {name:?}; choose one of: {}",
                crate::templates::names().join(", ")
            ))
        })?;
        return Ok((template.design, Vec::new()));
    }
    if let Some(path) = &args.from_spec {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
        let imported = crate::codegen::spec_import::import(&text)
            .map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
        crate::design::validate(&imported.design).map_err(|e| {
            Failure::usage(format!(
                "{} imports to a design apiforge cannot generate: {e}",
                path.display()
            ))
        })?;
        return Ok((imported.design, imported.warnings));
    }
    let prompt = args.prompt.as_deref().unwrap_or_default();
    let kind: ProviderKind = args
        .provider
        .as_deref()
        .unwrap_or(&ctx.config.provider.default)
        .parse()
        .map_err(Failure::usage)?;
    let design = design_with(ctx, kind, DesignRequest { prompt, base: None }).await?;
    Ok((design, Vec::new()))
}

fn check_target(out: &Path, force: bool) -> Result<(), Failure> {
    match std::fs::read_dir(out) {
        Ok(mut entries) => {
            if entries.next().is_some() && !force {
                return Err(Failure::usage(format!(
                    "{} is not empty; choose an empty directory or pass --force to overwrite",
                    out.display()
                )));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => Err(Failure::usage(format!(
            "{} exists and is not a directory",
            out.display()
        ))),
        Err(e) => Err(Failure::usage(format!(
            "cannot read {}: {e}",
            out.display()
        ))),
    }
}
