//! The Node runtime: the pinned packages every generated Express project needs, installed
//! once into a shared `node_modules` that sandboxes mount read-only (generated code
//! finds it through `NODE_PATH`).
//!
//! Layout under the runtimes cache root:
//!
//! ```text
//! <cache_root>/
//!   node.lock                   held while installing, so two processes never race
//!   node-<hash>/                the finished runtime (never modified after the rename)
//!     package.json              the pinned list (assets/runtimes/package.json)
//!     package-lock.json         the full pinned dependency closure
//!     node_modules/             NODE_PATH points here
//!   node-<hash>.tmp-<pid>/      an install in progress; renamed into place when done
//! ```
//!
//! `<hash>` is derived from the pinned files, so changing the list installs a new
//! runtime beside the old one instead of mutating a directory a sandbox may be using.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The pinned dependency list shared by the runtime and every generated
/// `package.json` (one list, one place).
pub const PACKAGE_JSON: &str = include_str!("../../assets/runtimes/package.json");
/// The full dependency closure of [`PACKAGE_JSON`], so installs are reproducible.
pub const PACKAGE_LOCK_JSON: &str = include_str!("../../assets/runtimes/package-lock.json");

/// A finished, usable Node runtime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeRuntime {
    /// `<cache_root>/node-<hash>`.
    pub root: PathBuf,
    /// The directory to put on `NODE_PATH`.
    pub node_modules: PathBuf,
}

/// What [`status`] found in the cache root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum NodeRuntimeStatus {
    /// The runtime for the current pinned list is installed.
    Installed { runtime: NodeRuntime },
    /// Not installed; [`install`] would create `expected_root`.
    Missing { expected_root: PathBuf },
}

#[derive(Debug, thiserror::Error)]
pub enum NodeRuntimeError {
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "npm was not found next to {} or on PATH; install npm (Debian: apt-get install npm) \
         or set runtimes.node to a Node installation that includes it",
        node.display()
    )]
    NpmMissing { node: PathBuf },
    #[error("cannot run {}: {source}; check that runtimes.node points at a working Node.js", program.display())]
    Spawn {
        program: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "npm could not install the Express runtime (exit {code}); is the registry reachable? \
         Set runtimes.npm_registry to a reachable mirror if not. npm said:\n{output}"
    )]
    Npm { code: String, output: String },
    #[error(
        "the Express runtime install finished but {} is missing expected package {package}",
        root.display()
    )]
    Incomplete { root: PathBuf, package: String },
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> NodeRuntimeError {
    let path = path.to_path_buf();
    move |source| NodeRuntimeError::Io {
        action,
        path,
        source,
    }
}

/// A short content hash of the pinned files: the runtime directory's identity.
pub fn pinned_hash() -> String {
    let mut hasher = Sha256::new();
    hasher.update(PACKAGE_JSON.as_bytes());
    hasher.update([0u8]);
    hasher.update(PACKAGE_LOCK_JSON.as_bytes());
    hex::encode(&hasher.finalize()[..8])
}

/// The pinned `dependencies` (name → exact version), in file order.
pub fn pinned_dependencies() -> Vec<(String, String)> {
    let parsed: serde_json::Value = serde_json::from_str(PACKAGE_JSON).unwrap_or_default();
    parsed
        .get("dependencies")
        .and_then(|d| d.as_object())
        .map(|deps| {
            deps.iter()
                .map(|(name, version)| (name.clone(), version.as_str().unwrap_or("").to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// `node-<hash>`: a changed pin list installs into a new directory.
pub fn dir_name() -> String {
    format!("node-{}", pinned_hash())
}

fn runtime_root(cache_root: &Path) -> PathBuf {
    cache_root.join(dir_name())
}

/// The installed pinned packages with their versions ("express 5.2.1, sql.js 1.13.0"),
/// or `None` when `dir` lacks one of them.
pub fn probe(dir: &Path) -> Option<String> {
    let installed: Option<Vec<String>> = pinned_dependencies()
        .into_iter()
        .map(|(name, _)| {
            let manifest = dir.join("node_modules").join(&name).join("package.json");
            let text = fs::read_to_string(manifest).ok()?;
            let parsed: serde_json::Value = serde_json::from_str(&text).ok()?;
            Some(format!("{name} {}", parsed.get("version")?.as_str()?))
        })
        .collect();
    installed.map(|packages| packages.join(", "))
}

fn runtime_at(root: PathBuf) -> NodeRuntime {
    NodeRuntime {
        node_modules: root.join("node_modules"),
        root,
    }
}

/// Whether the runtime for the current pinned list is installed under `cache_root`.
/// Only ever reports a directory that a finished install renamed into place.
pub fn status(cache_root: &Path) -> NodeRuntimeStatus {
    let root = runtime_root(cache_root);
    if root.join("node_modules").is_dir() {
        NodeRuntimeStatus::Installed {
            runtime: runtime_at(root),
        }
    } else {
        NodeRuntimeStatus::Missing {
            expected_root: root,
        }
    }
}

/// The oldest Node major version the generated code supports (`Object.hasOwn`,
/// `server.closeAllConnections`, `node --test`).
pub const MIN_NODE_MAJOR: u32 = 20;

/// The doctor's verdict on Node and the Express runtime under `cache_root`.
pub fn doctor_check(cache_root: &Path, node: &Path) -> crate::doctor::Check {
    use crate::doctor::{Check, version_of};
    const NAME: &str = "express runtime";
    let Some(version) = version_of(node, "--version") else {
        return Check::fail(
            NAME,
            format!("{} does not run", node.display()),
            "install Node.js 20 or newer with npm (Debian: apt-get install nodejs npm) or set \
             runtimes.node",
        );
    };
    let major = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok());
    if major.is_none_or(|m| m < MIN_NODE_MAJOR) {
        return Check::fail(
            NAME,
            format!(
                "{} is Node {version}; generated Express projects need {MIN_NODE_MAJOR}+",
                node.display()
            ),
            "install Node.js 20 or newer and point runtimes.node at it",
        );
    }
    let pinned: Vec<String> = pinned_dependencies()
        .iter()
        .map(|(name, version)| format!("{name} {version}"))
        .collect();
    match status(cache_root) {
        NodeRuntimeStatus::Installed { runtime } => Check::ok(
            NAME,
            format!(
                "Node {version}; {} in {}",
                pinned.join(", "),
                runtime.root.display()
            ),
        ),
        NodeRuntimeStatus::Missing { expected_root } => Check::warn(
            NAME,
            format!(
                "Node {version}; {} not installed yet ({})",
                pinned.join(", "),
                expected_root.display()
            ),
            "run `apiforge runtimes install` once with access to the npm registry",
        ),
    }
}

/// Installs the pinned runtime under `cache_root` unless it is already there, and returns
/// it. Idempotent and safe to call from several processes at once: an exclusive lock
/// serialises installers, the install happens in a temporary directory beside the final
/// one, and only a complete install is renamed into place.
pub fn install(
    cache_root: &Path,
    node: &Path,
    npm_registry: Option<&str>,
    progress: &mut dyn FnMut(&str),
) -> Result<NodeRuntime, NodeRuntimeError> {
    if let NodeRuntimeStatus::Installed { runtime } = status(cache_root) {
        progress("Express runtime already installed");
        return Ok(runtime);
    }
    fs::create_dir_all(cache_root).map_err(io_error("create", cache_root))?;
    let lock_path = cache_root.join("node.lock");
    let lock = File::create(&lock_path).map_err(io_error("create", &lock_path))?;
    progress("waiting for the runtime install lock");
    lock.lock().map_err(io_error("lock", &lock_path))?;
    // Another process may have finished the install while this one waited.
    if let NodeRuntimeStatus::Installed { runtime } = status(cache_root) {
        progress("Express runtime already installed");
        return Ok(runtime);
    }
    let root = runtime_root(cache_root);
    remove_abandoned_installs(cache_root, progress);
    let tmp = cache_root.join(format!(
        "{}.tmp-{}",
        root.file_name().and_then(|n| n.to_str()).unwrap_or("node"),
        std::process::id()
    ));
    let result = build(node, npm_registry, &tmp, progress).and_then(|()| {
        fs::rename(&tmp, &root).map_err(io_error("move the finished runtime to", &root))
    });
    if result.is_err() {
        // A failed install leaves nothing behind that could be mistaken for a runtime.
        let _ = fs::remove_dir_all(&tmp);
    }
    result?;
    progress("Express runtime installed");
    // Dropping the file releases the lock.
    drop(lock);
    Ok(runtime_at(root))
}

/// Temp dirs left by installers that died. Only called while holding the lock, so none
/// of them belongs to a running install.
fn remove_abandoned_installs(cache_root: &Path, progress: &mut dyn FnMut(&str)) {
    let Ok(entries) = fs::read_dir(cache_root) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("node-") && name.contains(".tmp-") {
            progress(&format!("removing abandoned install {name}"));
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// Installs the pinned packages into `dir` (created or emptied first) with `npm ci`.
/// Not atomic by itself: [`install`] runs it in a temp dir and renames the result.
pub fn build(
    node: &Path,
    npm_registry: Option<&str>,
    dir: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<(), NodeRuntimeError> {
    if dir.exists() {
        fs::remove_dir_all(dir).map_err(io_error("remove the stale install", dir))?;
    }
    fs::create_dir_all(dir).map_err(io_error("create", dir))?;
    let manifest = dir.join("package.json");
    fs::write(&manifest, PACKAGE_JSON).map_err(io_error("write", &manifest))?;
    let lockfile = dir.join("package-lock.json");
    fs::write(&lockfile, PACKAGE_LOCK_JSON).map_err(io_error("write", &lockfile))?;

    let npm = find_npm(node)?;
    let names: Vec<String> = pinned_dependencies()
        .iter()
        .map(|(name, version)| format!("{name}@{version}"))
        .collect();
    progress(&format!("npm ci: {}", names.join(", ")));
    let mut command = Command::new(node);
    command
        .arg(&npm)
        .args([
            "ci",
            "--omit=dev",
            "--no-audit",
            "--no-fund",
            "--ignore-scripts",
            "--no-update-notifier",
            // npm's default back-off turns an unreachable registry into a minute-long
            // hang; fail within seconds so the user sees the actionable error.
            "--fetch-retries=2",
            "--fetch-retry-mintimeout=500",
            "--fetch-retry-maxtimeout=2000",
        ])
        .current_dir(dir)
        .stdin(Stdio::null())
        // The runtime must not depend on where npm would put its cache by default
        // ($HOME may be unwritable); keep the download cache beside the runtimes.
        .env(
            "npm_config_cache",
            dir.parent().unwrap_or(dir).join("npm-cache"),
        );
    if let Some(registry) = npm_registry.filter(|r| !r.trim().is_empty()) {
        command.arg(format!("--registry={}", registry.trim()));
    }
    let output = command.output().map_err(|source| NodeRuntimeError::Spawn {
        program: node.to_path_buf(),
        source,
    })?;
    if !output.status.success() {
        let mut text = String::from_utf8_lossy(&output.stderr).into_owned();
        text.push_str(&String::from_utf8_lossy(&output.stdout));
        return Err(NodeRuntimeError::Npm {
            code: output
                .status
                .code()
                .map_or_else(|| "by signal".to_owned(), |c| c.to_string()),
            output: text.trim().to_owned(),
        });
    }
    for (name, _) in pinned_dependencies() {
        if !dir
            .join("node_modules")
            .join(&name)
            .join("package.json")
            .is_file()
        {
            return Err(NodeRuntimeError::Incomplete {
                root: dir.to_path_buf(),
                package: name,
            });
        }
    }
    Ok(())
}

/// npm's CLI script: beside `node` (`/usr/bin/npm`, a symlink to `npm-cli.js`) or on
/// PATH. It is run through the given `node` so the two always match.
fn find_npm(node: &Path) -> Result<PathBuf, NodeRuntimeError> {
    let beside = node.parent().map(|dir| dir.join("npm"));
    let on_path = std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("npm"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    beside
        .into_iter()
        .chain(on_path)
        .find(|candidate| candidate.is_file())
        .map(|candidate| fs::canonicalize(&candidate).unwrap_or(candidate))
        .ok_or_else(|| NodeRuntimeError::NpmMissing {
            node: node.to_path_buf(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_list_is_exact_versions() {
        let deps = pinned_dependencies();
        assert!(deps.iter().any(|(name, _)| name == "express"));
        assert!(deps.iter().any(|(name, _)| name == "sql.js"));
        for (name, version) in deps {
            assert!(
                version.chars().all(|c| c.is_ascii_digit() || c == '.'),
                "{name}@{version} is not pinned to an exact version"
            );
        }
    }

    #[test]
    fn doctor_reports_missing_node_missing_runtime_and_installed_runtime() {
        use crate::doctor::Verdict;
        let dir = tempfile::tempdir().expect("temp dir");
        let no_node = doctor_check(dir.path(), &dir.path().join("no-such-node"));
        assert_eq!(no_node.verdict, Verdict::Fail);
        assert!(no_node.fix.contains("Node.js"), "{}", no_node.fix);
        let node = Path::new("/usr/bin/node");
        if !node.exists() {
            return;
        }
        let missing = doctor_check(dir.path(), node);
        assert_eq!(missing.verdict, Verdict::Warn, "{}", missing.detail);
        assert!(missing.fix.contains("runtimes install"));
        let NodeRuntimeStatus::Missing { expected_root } = status(dir.path()) else {
            panic!("nothing installed");
        };
        fs::create_dir_all(expected_root.join("node_modules")).expect("create");
        let installed = doctor_check(dir.path(), node);
        assert_eq!(installed.verdict, Verdict::Ok, "{}", installed.detail);
        assert!(installed.detail.contains("express"), "{}", installed.detail);
    }

    #[test]
    fn probe_reads_the_installed_versions() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(probe(dir.path()), None);
        for (name, version) in pinned_dependencies() {
            let package = dir.path().join("node_modules").join(&name);
            fs::create_dir_all(&package).expect("create");
            let manifest = serde_json::json!({ "name": name, "version": version });
            fs::write(package.join("package.json"), manifest.to_string()).expect("write");
        }
        let found = probe(dir.path()).expect("all packages present");
        assert!(found.starts_with("express 5."), "{found}");
        assert!(found.contains("sql.js 1."), "{found}");
    }

    #[test]
    fn status_reports_missing_then_installed_dir() {
        let dir = tempfile::tempdir().expect("temp dir");
        let NodeRuntimeStatus::Missing { expected_root } = status(dir.path()) else {
            panic!("an empty cache root has no runtime");
        };
        fs::create_dir_all(expected_root.join("node_modules")).expect("create");
        assert_eq!(
            status(dir.path()),
            NodeRuntimeStatus::Installed {
                runtime: runtime_at(expected_root)
            }
        );
    }

    #[test]
    fn an_install_waits_for_the_lock_and_reuses_what_the_holder_installed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = dir.path().to_path_buf();
        let lock = File::create(cache.join("node.lock")).expect("lock file");
        lock.lock().expect("lock");
        let (tx, rx) = std::sync::mpsc::channel();
        let installer = std::thread::spawn(move || {
            // The registry is unreachable: only reusing the other install can succeed.
            install(
                &cache,
                Path::new("/usr/bin/node"),
                Some("http://127.0.0.1:9/"),
                &mut |line| {
                    let _ = tx.send(line.to_owned());
                },
            )
        });
        let first = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("the installer reports progress");
        assert_eq!(first, "waiting for the runtime install lock");
        // Play the other process: finish an install, then release the lock.
        let NodeRuntimeStatus::Missing { expected_root } = status(dir.path()) else {
            panic!("nothing is installed yet");
        };
        fs::create_dir_all(expected_root.join("node_modules")).expect("create");
        drop(lock);
        let runtime = installer
            .join()
            .expect("the installer thread does not panic")
            .expect("the finished install is reused");
        assert_eq!(runtime.root, expected_root);
        let rest: Vec<String> = rx.try_iter().collect();
        assert_eq!(rest, ["Express runtime already installed"]);
    }

    #[test]
    fn unreachable_registry_fails_cleanly_and_leaves_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        // An install that died half-way must not survive the next attempt.
        let abandoned = dir.path().join(format!("node-{}.tmp-1", pinned_hash()));
        fs::create_dir_all(abandoned.join("node_modules")).expect("create");
        let node = Path::new("/usr/bin/node");
        if !node.exists() {
            return;
        }
        let mut lines = Vec::new();
        // Port 9 on loopback: connection refused at once, no real network involved.
        let err = install(dir.path(), node, Some("http://127.0.0.1:9/"), &mut |line| {
            lines.push(line.to_owned())
        })
        .expect_err("no registry is listening on port 9");
        assert!(err.to_string().contains("registry"), "{err}");
        assert!(matches!(
            status(dir.path()),
            NodeRuntimeStatus::Missing { .. }
        ));
        assert!(
            lines.iter().any(|l| l.starts_with("npm ci: express@")),
            "{lines:?}"
        );
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .expect("read")
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with("node-"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        assert!(!abandoned.exists());
    }
}
