//! The Python runtime, for real: installs against an unreachable index fail with an
//! actionable error and leave nothing behind; the shared test runtime imports the
//! pinned packages at the pinned versions.

use std::path::{Path, PathBuf};
use std::process::Command;

use apiforge::config::RuntimesConfig;
use apiforge::runtimes::{RuntimeError, RuntimeKind, Runtimes, python};

fn config(index: &str) -> RuntimesConfig {
    RuntimesConfig {
        dir: PathBuf::new(),
        python: PathBuf::from("/usr/bin/python3"),
        node: PathBuf::from("/usr/bin/node"),
        pip_index_url: index.to_owned(),
        npm_registry: String::new(),
    }
}

#[test]
fn an_unreachable_index_is_reported_and_leaves_nothing_behind() {
    let root = tempfile::tempdir().expect("temp dir");
    // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    let runtimes = Runtimes::at(
        root.path().to_path_buf(),
        &config("http://127.0.0.1:9/simple"),
    );
    let mut lines = Vec::new();
    let err = runtimes
        .install(RuntimeKind::Python, &mut |l| lines.push(l.to_owned()))
        .expect_err("no index answers");
    assert!(
        matches!(err, RuntimeError::RegistryUnreachable { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("pip_index_url"), "{err}");
    assert!(!lines.is_empty(), "progress was reported");
    let status = runtimes.status(RuntimeKind::Python).expect("status");
    assert!(!status.installed);
    let left: Vec<_> = std::fs::read_dir(root.path())
        .expect("root exists")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn the_installed_runtime_has_the_pinned_packages() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-runtimes");
    let runtimes = Runtimes::at(root, &config(""));
    let status = runtimes
        .install(RuntimeKind::Python, &mut |_| {})
        .expect("the Python runtime installs (needs PyPI the first time)");
    assert!(status.installed);
    assert!(status.dir.ends_with(python::dir_name()));
    let out = Command::new(&status.interpreter)
        .args([
            "-c",
            "import importlib.metadata as m\nfor d in ('fastapi','uvicorn','pydantic','pytest','httpx'): print(f'{d}=={m.version(d)}')",
        ])
        .output()
        .expect("the runtime's python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let versions = String::from_utf8_lossy(&out.stdout);
    let pins = python::pins();
    for line in versions.lines() {
        assert!(pins.contains(&line.trim()), "{line} is not pinned as such");
    }
    assert_eq!(versions.lines().count(), 5);
}

#[test]
fn the_kind_is_parsed_from_user_input() {
    assert_eq!("Python".parse::<RuntimeKind>(), Ok(RuntimeKind::Python));
    assert_eq!("express".parse::<RuntimeKind>(), Ok(RuntimeKind::Node));
    assert!("ruby".parse::<RuntimeKind>().is_err());
}
