//! `apiforge completions SHELL`: a completion script generated from the same clap
//! definitions the binary parses with, so it never lists a command that is gone.

use std::process::ExitCode;

use clap::{Args, CommandFactory, ValueEnum};
use clap_complete::Shell;

use super::context::Failure;
use super::stdout::out;

/// The shells whose scripts we document and test; clap_complete knows more, but an
/// untested script is a promise we don't keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

impl From<CompletionShell> for Shell {
    fn from(shell: CompletionShell) -> Self {
        match shell {
            CompletionShell::Bash => Shell::Bash,
            CompletionShell::Zsh => Shell::Zsh,
            CompletionShell::Fish => Shell::Fish,
        }
    }
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

/// The completion script for `shell`.
pub fn script(shell: CompletionShell) -> Result<String, Failure> {
    let mut command = super::Cli::command();
    let mut buffer = Vec::new();
    clap_complete::generate(Shell::from(shell), &mut command, "apiforge", &mut buffer);
    String::from_utf8(buffer)
        .map_err(|e| Failure::failed(format!("the completion script is not UTF-8: {e}")))
}

pub fn run(args: &CompletionsArgs) -> Result<ExitCode, Failure> {
    out!("{}", script(args.shell)?);
    Ok(ExitCode::SUCCESS)
}
