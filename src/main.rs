//! Command-line parsing and dispatch only; everything else lives in the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = apiforge::cli::Cli::parse();
    apiforge::cli::run(cli)
}
