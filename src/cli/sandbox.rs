//! `apiforge sandbox run DIR [--sandbox process|docker] [--memory-mb N] [--timeout-secs N]
//! [--json] -- CMD…`: one command in a fresh sandbox with the default limits.

use crate::cli::stdout::outln;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};

use super::context::{Context, Failure, print_json};
use crate::sandbox::{self, Backend, Exec, Limits, Line, Sandbox, Stream, WorkspaceSource};

#[derive(Debug, Args)]
pub struct SandboxArgs {
    #[command(subcommand)]
    pub command: SandboxCommand,
}

#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Copy DIR into a fresh workspace and run CMD there; exits with CMD's exit code
    /// (124 on timeout, 128+N when killed by signal N, e.g. 137 at the memory limit).
    Run(RunArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Directory copied into the workspace (seen as /workspace inside).
    pub dir: PathBuf,
    /// Backend; default: sandbox.backend from the config.
    #[arg(long, value_parser = ["process", "docker"])]
    pub sandbox: Option<String>,
    /// Memory limit in MiB; default: sandbox.memory_mb.
    #[arg(long, value_name = "N")]
    pub memory_mb: Option<u64>,
    /// Wall-clock limit in seconds; default: sandbox.wall_secs.
    #[arg(long, value_name = "N")]
    pub timeout_secs: Option<u64>,
    /// Print the outcome as JSON on stdout (the command's output goes to stderr).
    #[arg(long)]
    pub json: bool,
    /// The command and its arguments.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

pub async fn run(ctx: &Context, args: SandboxArgs) -> Result<ExitCode, Failure> {
    match args.command {
        SandboxCommand::Run(run) => run_command(ctx, run).await,
    }
}

async fn run_command(ctx: &Context, args: RunArgs) -> Result<ExitCode, Failure> {
    if !args.dir.is_dir() {
        return Err(Failure::usage(format!(
            "{} is not a directory",
            args.dir.display()
        )));
    }
    let backend_name = args
        .sandbox
        .clone()
        .unwrap_or_else(|| ctx.config.sandbox.backend.clone());
    let backend: Backend = backend_name
        .parse()
        .map_err(|e: sandbox::SandboxError| Failure::usage(e.to_string()))?;
    let mut limits = Limits::from_config(&ctx.config.sandbox);
    if let Some(mb) = args.memory_mb {
        limits.memory_bytes = mb.saturating_mul(1024 * 1024);
    }
    if let Some(secs) = args.timeout_secs {
        limits.wall = Duration::from_secs(secs);
    }
    let Some((program, rest)) = args.command.split_first() else {
        return Err(Failure::usage("give the command to run after --"));
    };
    let sandbox = Sandbox::open(
        backend,
        &ctx.config.sandbox,
        sandbox::default_workspace_root(&ctx.dirs),
    )
    .await
    .map_err(|e| Failure::environment(e.to_string()))?;
    let workspace = sandbox
        .prepare(WorkspaceSource::CopyOf(&args.dir), &limits)
        .await
        .map_err(|e| Failure::failed(e.to_string()))?;
    let exec = Exec::new(program.clone())
        .args(rest.iter().cloned())
        .limits(limits);
    let killer = exec.killer();
    // Ctrl-C ends the sandbox, not just apiforge.
    let interrupt = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            killer.kill();
        }
    });
    let json = args.json;
    let result = sandbox
        .run(&workspace, &exec, |line: &Line| {
            if json || line.stream == Stream::Stderr {
                eprintln!("{}", line.text);
            } else {
                outln!("{}", line.text);
            }
        })
        .await;
    interrupt.abort();
    let removed = workspace.remove().await;
    let outcome = result.map_err(|e| Failure::failed(e.to_string()))?;
    if let Err(e) = removed {
        tracing::warn!("{e}");
    }
    if json {
        print_json(&outcome)?;
    } else if !outcome.success() {
        eprintln!("apiforge: {}", outcome.summary());
    }
    Ok(ExitCode::from(outcome.shell_code()))
}
