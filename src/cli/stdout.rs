//! The commands' output to people. Every line they print goes through [`write`] (the
//! `out!` / `outln!` macros): when the reader stops early (`apiforge jobs --all |
//! head -1`) and closes the pipe, the rest of the output is dropped quietly and the
//! command ends as it would have, exit 0 — `println!` panicked there ("failed
//! printing to stdout: Broken pipe", exit 101). Any other write error (a full disk
//! under `> file`) ends the process with the error on stderr and exit 1: the output
//! would be incomplete.

use std::io::Write;

/// Writes to stdout; see the module doc for what a failed write does.
pub fn write(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args)
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("error: cannot write the output: {e}");
        std::process::exit(1);
    }
}

/// `print!` through [`write`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::stdout::write(format_args!($($arg)*))
    };
}

/// `println!` through [`write`].
macro_rules! outln {
    () => {
        $crate::cli::stdout::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::stdout::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {out, outln};
