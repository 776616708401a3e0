//! Bad configuration is an error that names the file, line and key (or the variable),
//! through the real binary: never a panic, never silently ignored.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use support::apiforge;

fn run_with_config(text: &str) -> (Option<i32>, String) {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("custom.toml");
    std::fs::write(&file, text).unwrap();
    let out = apiforge(home.path())
        .arg("--config")
        .arg(&file)
        .args(["doctor", "--json"])
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn malformed_config_files_name_file_line_and_key() {
    let cases = [
        (
            "[sandbox]\nmemory_mb = \"lots\"\n",
            ":2: sandbox.memory_mb",
            "whole number",
        ),
        (
            "[log]\nlevel = \"info\"\nkeep_days = = 3\n",
            ":3: log.keep_days",
            "",
        ),
        (
            "[sandbox]\nbackend = \"docker\"\nmemroy_mb = 5\n",
            ":3: sandbox.memroy_mb",
            "unknown key",
        ),
        (
            "[provider.openai]\nmax_repairs = true\n",
            ":2: provider.openai.max_repairs",
            "whole number",
        ),
        ("[nonsense]\nx = 1\n", ":1: nonsense", "unknown key"),
    ];
    for (text, location, words) in cases {
        let (code, err) = run_with_config(text);
        assert_eq!(code, Some(2), "{text:?}: {err}");
        assert!(err.contains("custom.toml"), "{text:?}: {err}");
        assert!(
            err.contains(location),
            "{text:?}: expected {location:?} in {err}"
        );
        assert!(err.contains(words), "{text:?}: expected {words:?} in {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn a_missing_explicit_config_file_is_an_error() {
    let home = tempfile::tempdir().unwrap();
    let out = apiforge(home.path())
        .args(["--config", "/nonexistent/apiforge.toml", "doctor"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/apiforge.toml"));
}

#[test]
fn environment_overrides_are_checked_and_applied() {
    let home = tempfile::tempdir().unwrap();
    let out = apiforge(home.path())
        .env("APIFORGE_SANDBOX_MEMORY_MB", "lots")
        .args(["doctor"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("APIFORGE_SANDBOX_MEMORY_MB"), "{err}");

    // A valid override takes effect: point the python check at a missing interpreter.
    let out = apiforge(home.path())
        .env("APIFORGE_RUNTIMES_PYTHON", "/nonexistent/python3")
        .env("APIFORGE_PG_BINDIR", "/nonexistent")
        .args(["doctor", "--json"])
        .output()
        .unwrap();
    let checks: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let python = checks
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "python3")
        .unwrap();
    assert_eq!(python["verdict"], "FAIL");
    assert!(
        python["detail"]
            .as_str()
            .unwrap()
            .contains("/nonexistent/python3")
    );
}

#[test]
fn the_config_file_in_the_config_dir_is_read() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("config")).unwrap();
    std::fs::write(
        home.path().join("config/config.toml"),
        "[runtimes]\nnode = \"/nonexistent/node\"\n",
    )
    .unwrap();
    let out = apiforge(home.path())
        .env("APIFORGE_PG_BINDIR", "/nonexistent")
        .args(["doctor", "--json"])
        .output()
        .unwrap();
    let checks: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let node = checks
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "node")
        .unwrap();
    assert_eq!(node["verdict"], "FAIL", "{node}");
}

#[test]
fn no_arguments_opens_the_ui_which_needs_a_terminal_and_help_lists_commands() {
    let home = tempfile::tempdir().unwrap();
    // Without a command apiforge opens the UI; with no terminal it says so (exit 2).
    let out = apiforge(home.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("needs a terminal") && err.contains("apiforge --help"),
        "{err}"
    );
    let out = apiforge(home.path()).arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Usage: apiforge"), "{text}");
    assert!(text.contains("doctor") && text.contains("tui"), "{text}");
}

#[test]
fn a_workspace_size_the_sandbox_cannot_enforce_is_refused() {
    let too_big = (u64::MAX / (1024 * 1024) + 1).to_string();
    let cases = [
        (
            "[sandbox]\nworkspace_mb = 0\n",
            ":2: sandbox.workspace_mb",
            "at least 1",
        ),
        (
            "[sandbox]\nbackend = \"process\"\n\n[deploy]\nworkspace_mb = 0\n",
            ":5: deploy.workspace_mb",
            "no size limit",
        ),
        (
            &format!("[sandbox]\nworkspace_mb = {too_big}\n"),
            ":2: sandbox.workspace_mb",
            "at most",
        ),
    ];
    for (text, location, words) in cases {
        let (code, err) = run_with_config(text);
        assert_eq!(code, Some(2), "{text:?}: {err}");
        assert!(err.contains("custom.toml"), "{text:?}: {err}");
        assert!(
            err.contains(location),
            "{text:?}: expected {location:?} in {err}"
        );
        assert!(err.contains(words), "{text:?}: expected {words:?} in {err}");
    }
    // The same check holds for the environment override, named by its variable.
    let home = tempfile::tempdir().unwrap();
    let out = apiforge(home.path())
        .env("APIFORGE_SANDBOX_WORKSPACE_MB", "0")
        .args(["doctor"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("APIFORGE_SANDBOX_WORKSPACE_MB"), "{err}");
    assert!(err.contains("at least 1"), "{err}");
    // 1 MiB is a limit the sandbox can enforce.
    let (code, err) = run_with_config("[sandbox]\nworkspace_mb = 1\n");
    assert!(!err.contains("workspace_mb"), "{code:?}: {err}");
}
