//! Prepared language runtimes generated projects run on: a Python venv with the pinned
//! packages (and, from the node module, a Node.js package tree), built once into
//! `<cache dir>/runtimes/<kind>-<hash of the pin list>/` and shared by every project.
//!
//! Installs are atomic: a runtime is built in a temporary directory beside its final
//! place and renamed into it only when complete, so a half-finished install is never
//! used; a lock file (`<root>/.<kind>.lock`, `flock`) keeps two processes from
//! installing the same kind at once. A changed pin list hashes to a new directory.
//!
//! Adding a kind takes a `pub mod <kind>;` providing the same four functions as
//! [`python`] (`dir_name`, `interpreter`, `probe`, `build`), one arm in each `match`
//! below, and the kind in `AVAILABLE` in `src/cli/runtimes.rs`.

pub mod node;
pub mod python;

use std::fmt;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use nix::fcntl::{Flock, FlockArg};
use serde::Serialize;

use crate::config::RuntimesConfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuntimeKind {
    Python,
    Node,
}

impl RuntimeKind {
    pub const ALL: [RuntimeKind; 2] = [RuntimeKind::Python, RuntimeKind::Node];

    pub fn as_str(self) -> &'static str {
        match self {
            RuntimeKind::Python => "python",
            RuntimeKind::Node => "node",
        }
    }
}

impl fmt::Display for RuntimeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RuntimeKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "python" | "fastapi" => Ok(RuntimeKind::Python),
            "node" | "express" => Ok(RuntimeKind::Node),
            other => Err(format!("unknown runtime {other:?}: use python or node")),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(transparent)]
    Node(#[from] node::NodeRuntimeError),
    #[error("cannot run {program}: {source}; check runtimes.{kind} in the config")]
    Interpreter {
        kind: RuntimeKind,
        program: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "no package registry is reachable ({detail}); connect to the network, or set \
         runtimes.{setting} in the config to a reachable mirror"
    )]
    RegistryUnreachable {
        setting: &'static str,
        detail: String,
    },
    #[error("{step} failed: {detail}")]
    Step { step: String, detail: String },
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

impl RuntimeError {
    pub fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// What is known about one kind of runtime on this machine.
#[derive(Debug, Clone, Serialize)]
pub struct RuntimeStatus {
    pub kind: RuntimeKind,
    /// Where the runtime lives (or will live once installed).
    pub dir: PathBuf,
    pub installed: bool,
    /// The interpreter inside the runtime, e.g. `<dir>/bin/python`.
    pub interpreter: PathBuf,
    /// The interpreter's version line, when installed and runnable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// The runtimes under one cache directory, built with one configuration.
#[derive(Debug, Clone)]
pub struct Runtimes {
    root: PathBuf,
    config: RuntimesConfig,
}

impl Runtimes {
    /// Runtimes under `runtimes.dir` when set, else `<cache_dir>/runtimes/`.
    pub fn new(cache_dir: &Path, config: &RuntimesConfig) -> Self {
        let root = if config.dir.as_os_str().is_empty() {
            cache_dir.join("runtimes")
        } else {
            config.dir.clone()
        };
        Self::at(root, config)
    }

    /// Runtimes directly under `root` (tests share one root across runs).
    pub fn at(root: PathBuf, config: &RuntimesConfig) -> Self {
        Self {
            root,
            config: config.clone(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory a runtime of `kind` lives in.
    pub fn dir(&self, kind: RuntimeKind) -> Result<PathBuf, RuntimeError> {
        let name = match kind {
            RuntimeKind::Python => python::dir_name(),
            RuntimeKind::Node => format!("node-{}", node::pinned_hash()),
        };
        Ok(self.root.join(name))
    }

    pub fn status(&self, kind: RuntimeKind) -> Result<RuntimeStatus, RuntimeError> {
        let dir = self.dir(kind)?;
        let (interpreter, version) = match kind {
            RuntimeKind::Python => (python::interpreter(&dir), python::probe(&dir)),
            // Node packages run on the configured system node.
            RuntimeKind::Node => (
                self.config.node.clone(),
                crate::doctor::version_of(&self.config.node, "--version"),
            ),
        };
        let installed = match kind {
            RuntimeKind::Python => is_complete(&dir),
            RuntimeKind::Node => matches!(
                node::status(&self.root),
                node::NodeRuntimeStatus::Installed { .. }
            ),
        };
        Ok(RuntimeStatus {
            kind,
            installed,
            dir,
            interpreter,
            version,
        })
    }

    /// Installs the runtime unless it is already there; returns its status. Progress
    /// lines go to `progress`.
    pub fn install(
        &self,
        kind: RuntimeKind,
        progress: &mut dyn FnMut(&str),
    ) -> Result<RuntimeStatus, RuntimeError> {
        if kind == RuntimeKind::Node {
            let registry = Some(self.config.npm_registry.as_str()).filter(|r| !r.is_empty());
            node::install(&self.root, &self.config.node, registry, progress)?;
            return self.status(kind);
        }
        let dir = self.dir(kind)?;
        let config = self.config.clone();
        install_atomically(&self.root, &dir, kind, progress, |tmp, progress| {
            python::build(&config, tmp, progress)
        })?;
        self.status(kind)
    }
}

/// Marker written last into a finished runtime, before it is renamed into place.
const COMPLETE_MARKER: &str = "apiforge-runtime.json";

fn is_complete(dir: &Path) -> bool {
    dir.join(COMPLETE_MARKER).is_file()
}

/// Builds `target` with `build` unless it already exists: under an exclusive lock,
/// into `<target>.tmp-<pid>` beside it, then renamed into place.
pub fn install_atomically(
    root: &Path,
    target: &Path,
    kind: RuntimeKind,
    progress: &mut dyn FnMut(&str),
    build: impl FnOnce(&Path, &mut dyn FnMut(&str)) -> Result<(), RuntimeError>,
) -> Result<(), RuntimeError> {
    fs::create_dir_all(root).map_err(|e| RuntimeError::io("cannot create", root, e))?;
    let lock_path = root.join(format!(".{kind}.lock"));
    let lock_file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| RuntimeError::io("cannot open lock file", &lock_path, e))?;
    if is_complete(target) {
        progress(&format!(
            "{kind} runtime already installed at {}",
            target.display()
        ));
        return Ok(());
    }
    progress(&format!("waiting for the {kind} install lock"));
    let _lock = Flock::lock(lock_file, FlockArg::LockExclusive).map_err(|(_, errno)| {
        RuntimeError::io("cannot lock", &lock_path, std::io::Error::from(errno))
    })?;
    // Another process may have finished the install while this one waited.
    if is_complete(target) {
        progress(&format!(
            "{kind} runtime already installed at {}",
            target.display()
        ));
        return Ok(());
    }
    if target.exists() {
        // Left by a crash between rename and marker (cannot happen with this code, but
        // an older or foreign directory must not block the install).
        fs::remove_dir_all(target).map_err(|e| RuntimeError::io("cannot remove", target, e))?;
    }
    let file_name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| kind.to_string());
    let tmp = root.join(format!("{file_name}.tmp-{}", std::process::id()));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(|e| RuntimeError::io("cannot remove", &tmp, e))?;
    }
    remove_stale_temporaries(root, &file_name);
    let built = build(&tmp, progress).and_then(|()| {
        let marker = serde_json::json!({
            "kind": kind,
            "installed_at": chrono::Utc::now().to_rfc3339(),
        });
        let path = tmp.join(COMPLETE_MARKER);
        fs::write(&path, marker.to_string()).map_err(|e| RuntimeError::io("cannot write", &path, e))
    });
    if let Err(e) = built {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    fs::rename(&tmp, target).map_err(|e| RuntimeError::io("cannot move into place", target, e))?;
    progress(&format!("{kind} runtime installed at {}", target.display()));
    Ok(())
}

/// Temporaries of crashed installs (we hold the lock, so none is in progress).
fn remove_stale_temporaries(root: &Path, file_name: &str) {
    let prefix = format!("{file_name}.tmp-");
    let Ok(entries) = fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_builds_leave_nothing_behind_and_success_is_atomic() {
        let root = tempfile::tempdir().expect("temp dir");
        let target = root.path().join("python-test");
        let failed = install_atomically(
            root.path(),
            &target,
            RuntimeKind::Python,
            &mut |_| {},
            |tmp, _| {
                fs::create_dir_all(tmp).map_err(|e| RuntimeError::io("create", tmp, e))?;
                Err(RuntimeError::Step {
                    step: "test".into(),
                    detail: "boom".into(),
                })
            },
        );
        assert!(failed.is_err());
        assert!(!target.exists());
        let leftovers: Vec<_> = fs::read_dir(root.path())
            .expect("read root")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
            .collect();
        assert!(leftovers.is_empty());

        let mut builds = 0;
        for _ in 0..2 {
            install_atomically(
                root.path(),
                &target,
                RuntimeKind::Python,
                &mut |_| {},
                |tmp, _| {
                    builds += 1;
                    fs::create_dir_all(tmp).map_err(|e| RuntimeError::io("create", tmp, e))
                },
            )
            .expect("install");
        }
        assert_eq!(builds, 1, "a complete runtime is not rebuilt");
        assert!(is_complete(&target));
    }

    #[test]
    fn concurrent_installs_build_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::{Arc, Barrier};

        let root = tempfile::tempdir().expect("temp dir");
        let target = root.path().join("python-race");
        let builds = Arc::new(AtomicUsize::new(0));
        let inside = Arc::new(AtomicUsize::new(0));
        let barrier = Arc::new(Barrier::new(4));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (root, target) = (root.path().to_path_buf(), target.clone());
                let (builds, inside, barrier) = (builds.clone(), inside.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    install_atomically(
                        &root,
                        &target,
                        RuntimeKind::Python,
                        &mut |_| {},
                        |tmp, _| {
                            assert_eq!(
                                inside.fetch_add(1, Ordering::SeqCst),
                                0,
                                "two builds at once"
                            );
                            builds.fetch_add(1, Ordering::SeqCst);
                            fs::create_dir_all(tmp)
                                .map_err(|e| RuntimeError::io("create", tmp, e))?;
                            for i in 0..200 {
                                let file = tmp.join(format!("f{i}"));
                                fs::write(&file, "x")
                                    .map_err(|e| RuntimeError::io("write", &file, e))?;
                            }
                            inside.fetch_sub(1, Ordering::SeqCst);
                            Ok(())
                        },
                    )
                })
            })
            .collect();
        for t in threads {
            t.join().expect("no panic").expect("install");
        }
        assert_eq!(builds.load(Ordering::SeqCst), 1);
        assert!(is_complete(&target));
    }
}
