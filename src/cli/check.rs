//! `apiforge check DIR [--sandbox process|docker] [--json] [--keep]`: run a project's
//! own tests and apiforge's contract tests against its server in a sandbox.
//!
//! Exit codes: 0 everything passed, 1 something failed, 2 bad input or a machine
//! that cannot run the check (no runtime, no sandbox).

use crate::cli::stdout::{out, outln};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::context::{Context, Failure, print_json};
use crate::codegen::Framework;
use crate::runtimes::{RuntimeKind, Runtimes};
use crate::sandbox::{self, Backend, Limits, Sandbox};
use crate::verify::project::{self, CheckSettings, PreparedRuntime, Project};

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The project directory (from `apiforge scaffold`).
    pub dir: PathBuf,
    /// Sandbox backend; default: sandbox.backend from the config.
    #[arg(long, value_parser = ["process", "docker"])]
    pub sandbox: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Keep a copy of the workspace after the check and print its path.
    #[arg(long)]
    pub keep: bool,
}

pub async fn run(ctx: &Context, args: CheckArgs) -> Result<ExitCode, Failure> {
    let project = Project::load(&args.dir).map_err(|e| Failure::usage(e.to_string()))?;
    let backend: Backend = args
        .sandbox
        .clone()
        .unwrap_or_else(|| ctx.config.sandbox.backend.clone())
        .parse()
        .map_err(|e: sandbox::SandboxError| Failure::usage(e.to_string()))?;
    let runtime = prepare_runtime(ctx, project.framework).await?;
    let sandbox = Sandbox::open(
        backend,
        &ctx.config.sandbox,
        sandbox::default_workspace_root(&ctx.dirs),
    )
    .await
    .map_err(|e| Failure::environment(e.to_string()))?;
    let settings = CheckSettings::new(Limits::from_config(&ctx.config.sandbox));
    let run = project::check(&sandbox, &project, &runtime, settings)
        .await
        .map_err(|e| Failure::environment(e.to_string()))?;
    let passed = run.report.passed();
    let report = run.report.clone();
    let kept = if args.keep {
        let root = ctx.dirs.cache.join("kept");
        Some(
            run.keep(&root)
                .await
                .map_err(|e| Failure::environment(e.to_string()))?,
        )
    } else {
        run.workspace
            .remove()
            .await
            .map_err(|e| Failure::environment(e.to_string()))?;
        None
    };
    if args.json {
        print_json(&report)?;
        if let Some(path) = &kept {
            eprintln!("workspace kept in {}", path.display());
        }
    } else {
        out!("{}", report.render_text());
        if let Some(path) = &kept {
            outln!("Workspace kept in {}", path.display());
        }
    }
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Installs (on first use) and returns the runtime `framework` needs.
async fn prepare_runtime(ctx: &Context, framework: Framework) -> Result<PreparedRuntime, Failure> {
    let runtimes = Runtimes::new(&ctx.dirs.cache, &ctx.config.runtimes);
    let kind = match framework {
        Framework::Fastapi => RuntimeKind::Python,
        Framework::Express => RuntimeKind::Node,
    };
    // Progress is worth showing only when the first use really installs something.
    let first_use = !runtimes.status(kind).is_ok_and(|s| s.installed);
    if first_use {
        eprintln!("Installing the {kind} runtime (first use)…");
    }
    tokio::task::spawn_blocking(move || {
        project::prepare_runtime(&runtimes, framework, &mut |line| {
            if first_use {
                eprintln!("{kind} runtime: {line}");
            }
        })
    })
    .await
    .map_err(|e| Failure::environment(format!("the runtime installer stopped: {e}")))?
    .map_err(|e| Failure::environment(format!("cannot prepare the {kind} runtime: {e}")))
}
