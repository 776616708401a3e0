//! `apiforge runtimes install [--only python|node] [--json]` and
//! `apiforge runtimes status [--json]`: the prepared language runtimes generated
//! projects run on.

use crate::cli::stdout::outln;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::context::{Context, Failure, print_json};
use crate::runtimes::{RuntimeError, RuntimeKind, RuntimeStatus, Runtimes};

#[derive(Debug, Args)]
pub struct RuntimesArgs {
    #[command(subcommand)]
    pub command: RuntimesCommand,
}

#[derive(Debug, Subcommand)]
pub enum RuntimesCommand {
    /// Build the runtimes into the cache dir (skips those already installed).
    Install {
        /// Install only this runtime: python or node.
        #[arg(long, value_name = "KIND")]
        only: Option<RuntimeKind>,
        /// Print the resulting status as JSON (progress goes to stderr).
        #[arg(long)]
        json: bool,
    },
    /// Show where each runtime lives and whether it is installed.
    Status {
        /// Print the status as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(ctx: &Context, args: RuntimesArgs) -> Result<ExitCode, Failure> {
    let runtimes = Runtimes::new(&ctx.dirs.cache, &ctx.config.runtimes);
    match args.command {
        RuntimesCommand::Install { only, json } => {
            let kinds: Vec<RuntimeKind> = match only {
                Some(kind) => vec![kind],
                None => RuntimeKind::ALL.to_vec(),
            };
            let mut statuses = Vec::new();
            for kind in kinds {
                let runtimes = runtimes.clone();
                // pip runs for a minute or more; keep it off the async workers.
                let status = tokio::task::spawn_blocking(move || {
                    runtimes.install(kind, &mut |line| eprintln!("{kind}: {line}"))
                })
                .await
                .map_err(|e| Failure::failed(format!("the install task failed: {e}")))?
                .map_err(install_failure)?;
                statuses.push(status);
            }
            report(&statuses, json)
        }
        RuntimesCommand::Status { json } => {
            let statuses = RuntimeKind::ALL
                .iter()
                .map(|kind| runtimes.status(*kind))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| Failure::failed(e.to_string()))?;
            report(&statuses, json)
        }
    }
}

fn install_failure(e: RuntimeError) -> Failure {
    match e {
        RuntimeError::Interpreter { .. }
        | RuntimeError::Node(crate::runtimes::node::NodeRuntimeError::NpmMissing { .. })
        | RuntimeError::RegistryUnreachable { .. } => Failure::environment(e.to_string()),
        other => Failure::failed(other.to_string()),
    }
}

fn report(statuses: &[RuntimeStatus], json: bool) -> Result<ExitCode, Failure> {
    if json {
        print_json(&statuses)?;
    } else {
        for s in statuses {
            let state = if s.installed {
                "installed"
            } else {
                "not installed"
            };
            let version = s.version.as_deref().unwrap_or("");
            outln!(
                "{:<7} {:<14} {} {version}",
                s.kind.as_str(),
                state,
                s.dir.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
