//! `apiforge completions` and `apiforge man` through the real binary: the scripts
//! parse in their shell and name every command the parser knows; the pages render
//! with the system's `man` (or, without one, have the roff structure it needs).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

use clap::CommandFactory;

use crate::support::apiforge;

/// Every visible subcommand of `apiforge` (clap's `help` aside).
fn subcommands() -> Vec<String> {
    let names: Vec<String> = apiforge::cli::Cli::command()
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .map(|c| c.get_name().to_owned())
        .collect();
    // The list comes from the parser; make sure it is the real one, not empty.
    for known in ["new", "deploy", "rollback", "export", "completions", "man"] {
        assert!(
            names.iter().any(|n| n == known),
            "{known} missing: {names:?}"
        );
    }
    names
}

/// A config file that does not parse: generating completions or pages must not need
/// settings (packagers run them at build time).
fn broken_config(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("broken.toml");
    std::fs::write(&path, "[sandbox\nbackend = ").unwrap();
    path
}

fn run(home: &Path, args: &[&str]) -> Output {
    let config = broken_config(home);
    let out = apiforge(home)
        .arg("--config")
        .arg(&config)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "apiforge {args:?} failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn the_bash_script_parses_and_completes_every_subcommand() {
    let home = tempfile::tempdir().unwrap();
    let script = String::from_utf8(run(home.path(), &["completions", "bash"]).stdout).unwrap();
    let path = home.path().join("apiforge.bash");
    std::fs::write(&path, &script).unwrap();
    let check = Command::new("bash").arg("-n").arg(&path).output().unwrap();
    assert!(
        check.status.success(),
        "bash -n rejects the script: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    // The words bash offers after `apiforge `: the script's top-level `opts=` line.
    let top = script
        .lines()
        .find(|l| l.trim_start().starts_with("opts=") && l.contains(" new "))
        .expect("a top-level opts line");
    let words: Vec<&str> = top
        .trim_start()
        .trim_start_matches("opts=\"")
        .trim_end_matches('"')
        .split_whitespace()
        .collect();
    for name in subcommands() {
        assert!(words.contains(&name.as_str()), "{name} not offered: {top}");
    }
}

#[test]
fn zsh_and_fish_scripts_name_every_subcommand() {
    let home = tempfile::tempdir().unwrap();
    for shell in ["zsh", "fish"] {
        let script = String::from_utf8(run(home.path(), &["completions", shell]).stdout).unwrap();
        for name in subcommands() {
            let offered = match shell {
                // `'deploy:Put a version live…'` in the _apiforge_commands list.
                "zsh" => format!("'{name}:"),
                // `-a "deploy" -d 'Put a version live…'`.
                _ => format!("-a \"{name}\""),
            };
            assert!(script.contains(&offered), "{shell}: {name} not offered");
        }
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let home = tempfile::tempdir().unwrap();
    let out = apiforge(home.path())
        .args(["completions", "powershell"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bash, zsh, fish"), "{stderr}");
    assert!(out.stdout.is_empty());
}

/// Whether the machine has a `man` that renders local files.
fn man_available() -> bool {
    Command::new("man")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The page as `man -l` renders it (plain text: stdout is not a terminal), failing on
/// any warning groff prints; without `man`, the roff source checked for the structure
/// man needs.
fn rendered(page: &Path) -> String {
    if man_available() {
        let out = Command::new("man")
            .arg("-l")
            .arg(page)
            .env("MANWIDTH", "200")
            .env("MAN_KEEP_FORMATTING", "0")
            .output()
            .unwrap();
        assert!(out.status.success(), "man -l {}", page.display());
        assert!(
            out.stderr.is_empty(),
            "man -l {}: {}",
            page.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    } else {
        let roff = std::fs::read_to_string(page).unwrap();
        assert!(roff.contains("\n.TH "), "{}: no .TH", page.display());
        for section in ["NAME", "SYNOPSIS"] {
            assert!(
                roff.contains(&format!("\n.SH {section}")),
                "{}: no {section}",
                page.display()
            );
        }
        roff.replace("\\-", "-")
    }
}

#[test]
fn the_man_page_renders_and_lists_every_subcommand() {
    let home = tempfile::tempdir().unwrap();
    let roff = run(home.path(), &["man"]).stdout;
    let page = home.path().join("apiforge.1");
    std::fs::write(&page, roff).unwrap();
    let text = rendered(&page);
    assert!(text.contains("NAME"), "{text}");
    for name in subcommands() {
        assert!(
            text.contains(&format!("apiforge-{name}(1)")),
            "{name} missing from the SUBCOMMANDS of:\n{text}"
        );
    }
    assert!(
        !text.contains("apiforge-help(1)"),
        "help has no page: {text}"
    );
}

#[test]
fn man_out_writes_one_rendering_page_per_command() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("man1");
    let out = run(
        home.path(),
        &["man", "--out", dir.to_str().unwrap(), "--json"],
    );
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    on_disk.sort();
    let reported: Vec<String> = answer["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(reported, on_disk);
    let mut expected = vec!["apiforge.1".to_owned()];
    expected.extend(subcommands().iter().map(|n| format!("apiforge-{n}.1")));
    // Nested commands get their own pages too.
    expected.extend(["start", "stop", "status", "url"].map(|a| format!("apiforge-db-{a}.1")));
    for page in &expected {
        assert!(on_disk.contains(page), "{page} not written: {on_disk:?}");
    }
    for page in &on_disk {
        let text = rendered(&dir.join(page));
        let title = page.trim_end_matches(".1");
        assert!(
            text.contains(&format!("{title} - ")),
            "{page} has no NAME line:\n{text}"
        );
    }
}
