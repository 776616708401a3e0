//! The Python runtime: a venv built with the configured system interpreter
//! (`runtimes.python`, default `/usr/bin/python3`, outside $HOME so a sandbox can see
//! it) holding the packages pinned in `assets/runtimes/python-requirements.txt` — the
//! same list every generated `requirements.txt` is rendered from.
//!
//! Layout: `<root>/python-<12 hex of sha256(pin list)>/` with `bin/python` (a symlink
//! to the system interpreter) and `lib/python3.X/site-packages/`. The venv is built
//! under a temporary name and renamed, so its console scripts' shebangs point at the
//! temporary path: always run tools as `<dir>/bin/python -m pytest|uvicorn|pip`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

use super::{RuntimeError, RuntimeKind};
use crate::config::RuntimesConfig;

/// The pinned requirements, one `name==version` per line (plus comments).
pub const REQUIREMENTS: &str = include_str!("../../assets/runtimes/python-requirements.txt");

/// The pins of [`REQUIREMENTS`], without comments and blank lines, in file order.
pub fn pins() -> Vec<&'static str> {
    REQUIREMENTS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// `python-<hash>`: a changed pin list installs into a new directory.
pub fn dir_name() -> String {
    let mut hasher = Sha256::new();
    for pin in pins() {
        hasher.update(pin.as_bytes());
        hasher.update(b"\n");
    }
    let digest = hex::encode(hasher.finalize());
    format!("python-{}", &digest[..12])
}

pub fn interpreter(dir: &Path) -> PathBuf {
    dir.join("bin").join("python")
}

/// The interpreter's version line, when the runtime's python runs.
pub fn probe(dir: &Path) -> Option<String> {
    crate::doctor::version_of(&interpreter(dir), "--version")
}

/// Creates the venv in `dir` and installs the pins into it.
pub fn build(
    config: &RuntimesConfig,
    dir: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<(), RuntimeError> {
    let system = &config.python;
    progress(&format!("creating a venv with {}", system.display()));
    let out = Command::new(system)
        .args(["-m", "venv"])
        .arg(dir)
        .output()
        .map_err(|source| RuntimeError::Interpreter {
            kind: RuntimeKind::Python,
            program: system.clone(),
            source,
        })?;
    if !out.status.success() {
        return Err(RuntimeError::Step {
            step: format!("{} -m venv", system.display()),
            detail: format!(
                "{}; install the venv module (apt-get install python3-venv)",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        });
    }
    let python = interpreter(dir);
    let requirements = dir.join("requirements.txt");
    std::fs::write(&requirements, REQUIREMENTS)
        .map_err(|e| RuntimeError::io("cannot write", &requirements, e))?;
    progress("installing the pinned packages with pip");
    let mut pip = Command::new(&python);
    pip.args([
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "--progress-bar",
        "off",
        "--retries",
        "1",
        "--timeout",
        "20",
        "--only-binary",
        ":all:",
        "-r",
    ])
    .arg(&requirements)
    .env("PIP_CONFIG_FILE", "/dev/null")
    .env_remove("PYTHONPATH")
    .env_remove("PIP_REQUIRE_VIRTUALENV")
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    if !config.pip_index_url.is_empty() {
        pip.args(["--index-url", &config.pip_index_url]);
    }
    let mut child = pip.spawn().map_err(|source| RuntimeError::Interpreter {
        kind: RuntimeKind::Python,
        program: python.clone(),
        source,
    })?;
    // stderr is drained on its own thread so a chatty pip cannot block on a full pipe.
    let stderr = child.stderr.take();
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(stderr) = stderr {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                text.push_str(&line);
                text.push('\n');
            }
        }
        text
    });
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let line = line.trim();
            if line.starts_with("Collecting") || line.starts_with("Successfully") {
                progress(line);
            }
        }
    }
    let status = child
        .wait()
        .map_err(|e| RuntimeError::io("cannot wait for pip in", dir, e))?;
    let stderr = errors.join().unwrap_or_default();
    if !status.success() {
        return Err(pip_failure(&stderr));
    }
    progress("compiled; checking the imports");
    let out = Command::new(&python)
        .args(["-c", "import fastapi, uvicorn, pydantic, pytest, httpx"])
        .output()
        .map_err(|e| RuntimeError::io("cannot run", &python, e))?;
    if !out.status.success() {
        return Err(RuntimeError::Step {
            step: "importing the installed packages".to_owned(),
            detail: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(())
}

fn pip_failure(stderr: &str) -> RuntimeError {
    const OFFLINE: [&str; 6] = [
        "NewConnectionError",
        "Failed to establish a new connection",
        "Temporary failure in name resolution",
        "Network is unreachable",
        "ConnectTimeoutError",
        "No matching distribution found",
    ];
    let tail: Vec<&str> = stderr.lines().rev().take(6).collect();
    let detail = tail.into_iter().rev().collect::<Vec<_>>().join(" | ");
    if OFFLINE.iter().any(|needle| stderr.contains(needle)) {
        RuntimeError::RegistryUnreachable {
            setting: "pip_index_url",
            detail,
        }
    } else {
        RuntimeError::Step {
            step: "pip install".to_owned(),
            detail,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_exact_and_hashed_into_the_dir_name() {
        let pins = pins();
        for must in [
            "fastapi==",
            "uvicorn==",
            "pydantic==",
            "pytest==",
            "httpx==",
        ] {
            assert!(pins.iter().any(|p| p.starts_with(must)), "{must} is pinned");
        }
        assert!(pins.iter().all(|p| p.contains("==")));
        let name = dir_name();
        assert!(name.starts_with("python-") && name.len() == "python-".len() + 12);
    }

    #[test]
    fn offline_pip_output_is_reported_as_unreachable_registry() {
        let err = pip_failure(
            "WARNING: Retrying ... NewConnectionError('...')\nERROR: No matching distribution found for fastapi==0.165.0",
        );
        assert!(matches!(err, RuntimeError::RegistryUnreachable { .. }));
        assert!(err.to_string().contains("pip_index_url"));
    }
}
