//! The headless front end: one file per subcommand group. Every command that prints
//! data takes `--json`.

mod account;
mod check;
pub mod context;
mod db;
mod deploy;
mod design;
mod doctor;
mod export;
pub mod follow;
mod jobs;
mod new;
mod runtimes;
mod sandbox;
mod scaffold;
pub mod stdout;
mod templates;
mod versions;
mod worker;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use context::{Context, Failure};

#[derive(Debug, Parser)]
#[command(
    name = "apiforge",
    version,
    about = "Turn a plain-language idea into a tested, deployed REST API",
    long_about = None,
    arg_required_else_help = false
)]
pub struct Cli {
    /// Read settings from this TOML file instead of <config dir>/config.toml.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Mirror log output to stderr.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// What works on this machine, and what to do about what doesn't.
    Doctor(doctor::DoctorArgs),
    /// Manage the embedded Postgres cluster: start, stop, status, url.
    Db(db::DbArgs),
    /// Who you are signed in as, and which database.
    Whoami(account::JsonArgs),
    /// List your projects.
    Projects(account::JsonArgs),
    /// Create a project from a prompt: design, code, tests, sandbox check, version 1.
    New(new::NewArgs),
    /// Change a project with a follow-up prompt: a new version, hand edits merged in.
    Iterate(new::IterateArgs),
    /// Record a directory of hand-edited files as a new version and test it.
    Save(new::SaveArgs),
    /// Check a version of a project again in a sandbox (default: the latest).
    Test(new::TestArgs),
    /// A project's versions.
    Versions(versions::VersionsArgs),
    /// A version's files, or one file's contents.
    Files(versions::FilesArgs),
    /// What changed between two versions: design (breaking changes marked) and files.
    Diff(versions::DiffArgs),
    /// Record a new version equal to an older one (history is never rewritten).
    Restore(versions::RestoreArgs),
    /// Write a version's files into a directory to run without apiforge (--docker: with Docker files).
    Export(export::ExportArgs),
    /// Run pipeline jobs for every user (needs the owner connection) until stopped.
    Worker(worker::WorkerArgs),
    /// Your jobs (queued and running; --all for finished ones too).
    Jobs(jobs::JobsArgs),
    /// One job: its steps with timings and its events.
    Job(jobs::JobArgs),
    /// Counts, success rates and p50/p95 durations per pipeline, framework and step.
    Stats(jobs::StatsArgs),
    /// Cancel a job: a queued one at once, a running one at its next step (its sandbox is killed now).
    Cancel(jobs::JobArgs),
    /// The starter designs (todo, blog, shop, …); give a NAME to print its design.
    Templates(templates::TemplatesArgs),
    /// Run commands in a sandbox (namespaces or Docker) with apiforge's limits.
    Sandbox(sandbox::SandboxArgs),
    /// Design an API from a prompt (or change a design with --base) and print it.
    Design(design::DesignArgs),
    /// Write a complete project (spec, code, tests) from a prompt, design, template or spec.
    Scaffold(scaffold::ScaffoldArgs),
    /// Install or inspect the language runtimes generated projects run on.
    Runtimes(runtimes::RuntimesArgs),
    /// Run a project's own tests and apiforge's contract tests in a sandbox.
    Check(check::CheckArgs),
    /// Open the terminal UI (the same as running apiforge without a command).
    Tui,
    /// Put a version live behind the gateway (zero-downtime swap from the live one).
    Deploy(deploy::DeployArgs),
    /// Put the previously live version back (same zero-downtime swap).
    Rollback(deploy::ProjectArgs),
    /// Stop a project's live instance and free its URL.
    Undeploy(deploy::ProjectArgs),
    /// Your deployments: URL, version, state, instance and request statistics.
    Deployments(deploy::DeploymentsArgs),
    /// The daemon hosting the gateway and live instances: run it, or `status`/`stop`.
    Serve(deploy::ServeArgs),
}

/// Runs a parsed command line and maps the outcome to an exit code: 0 success,
/// 1 the operation failed, 2 a usage or environment problem.
pub fn run(cli: Cli) -> ExitCode {
    let command = cli.command.unwrap_or(Command::Tui);
    // The UI opens on a broken config file too (with the built-in settings) and
    // shows the problem; the headless commands stop on it.
    let mut problems = Vec::new();
    let ctx = match Context::new(cli.config.as_deref(), cli.verbose) {
        Ok(ctx) => ctx,
        Err(failure) if matches!(command, Command::Tui) && failure.code == 2 => {
            match Context::with_defaults(cli.verbose) {
                Ok(ctx) => {
                    problems.push(format!("{} (using the built-in settings)", failure.message));
                    ctx
                }
                Err(_) => return failure.report(),
            }
        }
        Err(failure) => return failure.report(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return Failure::environment(format!("cannot start the async runtime: {e}")).report();
        }
    };
    let outcome = runtime.block_on(async move {
        match command {
            Command::Doctor(args) => doctor::run(&ctx, args).await,
            Command::Db(args) => db::run(&ctx, args).await,
            Command::Whoami(args) => account::whoami(&ctx, args).await,
            Command::Projects(args) => account::projects(&ctx, args).await,
            Command::New(args) => new::new(&ctx, args).await,
            Command::Iterate(args) => new::iterate(&ctx, args).await,
            Command::Save(args) => new::save(&ctx, args).await,
            Command::Test(args) => new::test(&ctx, args).await,
            Command::Versions(args) => versions::list(&ctx, args).await,
            Command::Files(args) => versions::files(&ctx, args).await,
            Command::Diff(args) => versions::diff(&ctx, args).await,
            Command::Restore(args) => versions::restore(&ctx, args).await,
            Command::Export(args) => export::run(&ctx, args).await,
            Command::Worker(args) => worker::run(&ctx, args).await,
            Command::Jobs(args) => jobs::list(&ctx, args).await,
            Command::Job(args) => jobs::show(&ctx, args).await,
            Command::Cancel(args) => jobs::cancel(&ctx, args).await,
            Command::Stats(args) => jobs::stats(&ctx, args).await,
            Command::Templates(args) => templates::run(&ctx, args).await,
            Command::Sandbox(args) => sandbox::run(&ctx, args).await,
            Command::Design(args) => design::run(&ctx, args).await,
            Command::Scaffold(args) => scaffold::run(&ctx, args).await,
            Command::Runtimes(args) => runtimes::run(&ctx, args).await,
            Command::Check(args) => check::run(&ctx, args).await,
            Command::Tui => crate::tui::run(&ctx.config, &ctx.dirs, problems)
                .await
                .map(|()| ExitCode::SUCCESS)
                .map_err(|e| match e {
                    crate::tui::TuiError::NoTerminal | crate::tui::TuiError::Setup(_) => {
                        Failure::environment(e.to_string())
                    }
                    other => Failure::failed(other.to_string()),
                }),
            Command::Deploy(args) => deploy::deploy(&ctx, args).await,
            Command::Rollback(args) => deploy::rollback(&ctx, args).await,
            Command::Undeploy(args) => deploy::undeploy(&ctx, args).await,
            Command::Deployments(args) => deploy::deployments(&ctx, args).await,
            Command::Serve(args) => deploy::serve(&ctx, args).await,
        }
    });
    match outcome {
        Ok(code) => code,
        Err(failure) => failure.report(),
    }
}
