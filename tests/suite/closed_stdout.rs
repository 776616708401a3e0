//! A reader that stops early (`apiforge jobs --all | head -1`) closes the pipe under a
//! command's output: the command ends quietly with exit 0, never with a "Broken pipe"
//! panic (exit 101). The real binary, its stdout a pipe whose read end is closed
//! before it writes, so its first write fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Stdio;

use crate::support::ApiforgeHome;

#[test]
fn a_closed_stdout_ends_every_listing_quietly_with_exit_0() {
    let home = ApiforgeHome::new();
    // The first command sets the embedded database up; later ones only list.
    assert!(home.run(&["projects"]).status.success());
    for args in [
        &["jobs", "--all"][..],
        &["deployments", "--logs"],
        &["projects"],
        &["whoami"],
        &["jobs", "--all", "--json"],
        &["templates"],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = home
            .command()
            .args(args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "apiforge {args:?}: {stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
            "apiforge {args:?}: {stderr}"
        );
    }
}
