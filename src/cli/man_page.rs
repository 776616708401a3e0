//! `apiforge man [--out DIR]`: roff manual pages generated from the clap definitions.
//! Without `--out` the one page for `apiforge` itself goes to stdout (`apiforge man |
//! man -l -`); with it, `apiforge.1` and one `apiforge-COMMAND.1` per subcommand are
//! written to DIR, ready for a `man1` directory.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, CommandFactory};

use super::context::{Failure, print_json};
use super::stdout::{out, outln};

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write apiforge.1 and one apiforge-COMMAND.1 per subcommand into this directory
    /// (created if missing) instead of printing the main page.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[arg(long, requires = "out")]
    pub json: bool,
}

/// The roff source of the `apiforge(1)` page.
pub fn main_page() -> Result<String, Failure> {
    let mut buffer = Vec::new();
    clap_mangen::Man::new(root())
        .render(&mut buffer)
        .map_err(|e| Failure::failed(format!("cannot render the man page: {e}")))?;
    String::from_utf8(buffer)
        .map_err(|e| Failure::failed(format!("the man page is not UTF-8: {e}")))
}

/// The command tree the pages describe. clap's generated `help` subcommand has no page
/// of its own, so no page lists it; built so that every subcommand knows its full
/// display name (`apiforge-db-start`).
fn root() -> clap::Command {
    let mut root = super::Cli::command().disable_help_subcommand(true);
    root.build();
    root
}

/// Writes `apiforge.1` and a page per subcommand (nested ones too: `apiforge-db-start.1`)
/// into `dir` and returns the file names written, sorted. The walk is clap_mangen's
/// `generate_to`, kept here so we know which files are ours in a directory that holds
/// others.
pub fn write_pages(dir: &Path) -> Result<Vec<String>, Failure> {
    fn write_tree(
        command: clap::Command,
        dir: &Path,
        pages: &mut Vec<String>,
    ) -> std::io::Result<()> {
        for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
            write_tree(sub.clone(), dir, pages)?;
        }
        let path = clap_mangen::Man::new(command).generate_to(dir)?;
        pages.extend(path.file_name().and_then(|n| n.to_str()).map(str::to_owned));
        Ok(())
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::usage(format!("cannot create {}: {e}", dir.display())))?;
    let mut pages = Vec::new();
    write_tree(root(), dir, &mut pages).map_err(|e| {
        Failure::failed(format!(
            "cannot write the man pages into {}: {e}",
            dir.display()
        ))
    })?;
    pages.sort();
    Ok(pages)
}

pub fn run(args: &ManArgs) -> Result<ExitCode, Failure> {
    match &args.out {
        None => out!("{}", main_page()?),
        Some(dir) => {
            let pages = write_pages(dir)?;
            if args.json {
                print_json(&serde_json::json!({ "out": dir, "pages": pages }))?;
            } else {
                outln!("{} man pages in {}", pages.len(), dir.display());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
