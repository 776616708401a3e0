//! `apiforge export` through the real binary on an embedded cluster: the exported files
//! are byte-equal to the stored version, the exported project's own test suite passes
//! on the test runtimes outside apiforge, and the Docker files parse and pin what the
//! runtimes pin.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use apiforge::config::Config;
use apiforge::runtimes::{RuntimeKind, Runtimes, node, python};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::{self, ApiforgeHome};

/// Every file under `dir`, by relative path.
fn files_under(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// A Dockerfile as (INSTRUCTION, arguments), continuation lines joined, comments
/// dropped; panics on a line that is not an instruction.
fn dockerfile_instructions(text: &str) -> Vec<(String, String)> {
    const KNOWN: [&str; 18] = [
        "FROM",
        "RUN",
        "CMD",
        "LABEL",
        "EXPOSE",
        "ENV",
        "ADD",
        "COPY",
        "ENTRYPOINT",
        "VOLUME",
        "USER",
        "WORKDIR",
        "ARG",
        "ONBUILD",
        "STOPSIGNAL",
        "HEALTHCHECK",
        "SHELL",
        "MAINTAINER",
    ];
    let mut out = Vec::new();
    let mut pending = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if pending.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        if let Some(head) = trimmed.strip_suffix('\\') {
            pending.push_str(head);
            pending.push(' ');
            continue;
        }
        pending.push_str(trimmed);
        let (word, rest) = pending
            .split_once(' ')
            .expect("an instruction has arguments");
        assert!(
            KNOWN.contains(&word),
            "not a Dockerfile instruction: {pending:?}"
        );
        out.push((
            word.to_owned(),
            rest.split_whitespace().collect::<Vec<_>>().join(" "),
        ));
        pending.clear();
    }
    assert!(pending.is_empty(), "a continuation line ends the file");
    out
}

fn only<'a>(instructions: &'a [(String, String)], word: &str) -> Vec<&'a str> {
    instructions
        .iter()
        .filter(|(w, _)| w == word)
        .map(|(_, a)| a.as_str())
        .collect()
}

/// `pinned` must appear in a `RUN` when `installed_by_run` (Python: the pins are
/// the install command's arguments), else anywhere (Node: the lock file pins them).
fn check_dockerfile(text: &str, base: &str, pinned: &[String], installed_by_run: bool) {
    let instructions = dockerfile_instructions(text);
    assert_eq!(instructions[0], ("FROM".to_owned(), base.to_owned()));
    assert_eq!(only(&instructions, "FROM").len(), 1, "one stage");
    let users = only(&instructions, "USER");
    assert_eq!(users.len(), 1, "{users:?}");
    assert!(
        !matches!(users[0], "root" | "0" | "0:0"),
        "runs as a non-root user: {users:?}"
    );
    let healthcheck = only(&instructions, "HEALTHCHECK");
    assert_eq!(healthcheck.len(), 1);
    assert!(
        healthcheck[0].contains(" CMD ") && healthcheck[0].contains("/health"),
        "{healthcheck:?}"
    );
    assert!(
        only(&instructions, "ENV")
            .iter()
            .any(|e| e.split_whitespace().any(|kv| kv == "PORT=8000")),
        "PORT has a default"
    );
    let cmd = only(&instructions, "CMD");
    assert_eq!(cmd.len(), 1);
    let cmd: Vec<String> = serde_json::from_str(cmd[0]).expect("CMD is in exec form");
    assert!(
        cmd.last().unwrap().contains("0.0.0.0:${PORT}"),
        "listens on $PORT: {cmd:?}"
    );
    let runs = only(&instructions, "RUN").join("\n");
    for pin in pinned {
        assert!(
            if installed_by_run {
                runs.contains(&format!(" {pin}"))
            } else {
                text.contains(pin.as_str())
            },
            "{pin} is not named in the Dockerfile:\n{text}"
        );
    }
}

fn check_compose(text: &str, slug: &str, secret: Option<&str>) {
    let compose: Value = serde_saphyr::from_str(text).expect("compose.yaml is YAML");
    let api = &compose["services"]["api"];
    assert_eq!(api["build"], ".", "{compose}");
    assert_eq!(api["image"], format!("{slug}:v1"));
    assert_eq!(api["restart"], "unless-stopped");
    assert_eq!(api["environment"]["PORT"], "${PORT:-8000}");
    assert_eq!(
        api["ports"][0], "${BIND_ADDRESS:-127.0.0.1}:${PORT:-8000}:${PORT:-8000}",
        "{compose}"
    );
    assert_eq!(api["volumes"][0], "data:/data");
    assert!(compose["volumes"].get("data").is_some(), "{compose}");
    match secret {
        Some(var) => assert!(
            api["environment"][var]
                .as_str()
                .unwrap()
                .starts_with(&format!("${{{var}:?")),
            "{compose}"
        ),
        None => assert_eq!(api["environment"].as_object().unwrap().len(), 1),
    }
}

/// The project's own tests, run on the shared test runtimes in `dir`, pass.
fn native_tests_pass(framework: &str, dir: &Path) {
    let config = Config::defaults().runtimes;
    let runtimes = Runtimes::at(support::test_runtimes_dir(), &config);
    let output = if framework == "fastapi" {
        let status = runtimes.status(RuntimeKind::Python).unwrap();
        assert!(status.installed);
        Command::new(&status.interpreter)
            .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
            .current_dir(dir)
            .env_remove("APIFORGE_DB")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
            .unwrap()
    } else {
        let node::NodeRuntimeStatus::Installed { runtime } =
            node::status(&support::test_runtimes_dir())
        else {
            panic!("the Node runtime is installed");
        };
        Command::new(&config.node)
            .arg("--test")
            .current_dir(dir)
            .env("NODE_PATH", &runtime.node_modules)
            .env("TMPDIR", dir)
            .output()
            .unwrap()
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the exported {framework} project's tests failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let ran = if framework == "fastapi" {
        stdout.contains(" passed") && !stdout.contains(" failed")
    } else {
        stdout.contains("# fail 0")
            && stdout
                .lines()
                .find_map(|l| l.strip_prefix("# pass "))
                .and_then(|n| n.trim().parse::<u32>().ok())
                .is_some_and(|n| n > 5)
    };
    assert!(ran, "the suite really ran:\n{stdout}");
}

/// Kills the server started from the Dockerfile's CMD when the test ends.
struct Served(std::process::Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs the Dockerfile's `CMD` and `HEALTHCHECK` commands on the host runtimes in
/// `dir`, with `PORT` set as a container would: the server must come up on that port
/// and the health check must pass against it.
fn docker_commands_work(framework: &str, dir: &Path, dockerfile: &str) {
    let instructions = dockerfile_instructions(dockerfile);
    let cmd: Vec<String> = serde_json::from_str(only(&instructions, "CMD")[0]).unwrap();
    let healthcheck = only(&instructions, "HEALTHCHECK")[0]
        .split_once(" CMD ")
        .unwrap()
        .1
        .to_owned();
    let config = Config::defaults().runtimes;
    let runtimes = Runtimes::at(support::test_runtimes_dir(), &config);
    let mut path = String::from("/usr/local/bin:/usr/bin:/bin");
    let mut extra = Vec::new();
    if framework == "fastapi" {
        let venv = runtimes.dir(RuntimeKind::Python).unwrap();
        path = format!("{}:{path}", venv.join("bin").display());
    } else {
        let node::NodeRuntimeStatus::Installed { runtime } =
            node::status(&support::test_runtimes_dir())
        else {
            panic!("the Node runtime is installed");
        };
        extra.push(("NODE_PATH", runtime.node_modules.display().to_string()));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let data = tempfile::tempdir().unwrap();
    let env = |command: &mut Command| {
        command
            .current_dir(dir)
            .env_clear()
            .env("PATH", &path)
            .env("PORT", &port)
            .env("APIFORGE_DB", data.path().join("app.db"))
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("API_KEY", "export-test-secret")
            .envs(extra.iter().map(|(k, v)| (*k, v.as_str())));
    };
    let mut server = Command::new(&cmd[0]);
    server
        .args(&cmd[1..])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    env(&mut server);
    let _served = Served(server.spawn().unwrap());
    let mut last = String::new();
    support::wait_until(
        std::time::Duration::from_secs(30),
        "the Dockerfile's HEALTHCHECK passes against its CMD",
        || {
            let mut check = Command::new("/bin/sh");
            check.arg("-c").arg(&healthcheck);
            env(&mut check);
            let out = check.output().unwrap();
            last = String::from_utf8_lossy(&out.stderr).into_owned();
            out.status.success()
        },
    );
    // The server really listens on $PORT.
    let mut stream = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    std::io::Write::write_all(
        &mut stream,
        b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut reply = String::new();
    std::io::Read::read_to_string(&mut stream, &mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}{last}");
}

fn export_is_complete_and_runs(framework: &str, prompt: &str, slug: &str, has_secret: bool) {
    let home = ApiforgeHome::new();
    home.json(&["runtimes", "install", "--json"]);
    let made = home.json(&["new", prompt, "--framework", framework, "--json"]);
    assert_eq!(made["state"], "succeeded", "{made}");

    // Byte-equal to the version: the stored SHA-256 of every file, and nothing else.
    let stored = home.json(&["files", slug, "--json"]);
    let stored: BTreeMap<String, String> = stored
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_owned(),
                f["sha256"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let plain = tempfile::tempdir().unwrap();
    let out = plain.path().join("export");
    let report = home.json(&["export", slug, "--out", out.to_str().unwrap(), "--json"]);
    assert_eq!(report["version"], 1);
    assert_eq!(report["docker"], false);
    let written = files_under(&out);
    let hashes: BTreeMap<String, String> = written
        .iter()
        .map(|(p, bytes)| (p.clone(), hex::encode(Sha256::digest(bytes))))
        .collect();
    assert_eq!(hashes, stored);

    // Again into the same directory: refused without --force, done with it.
    let again = home.run(&["export", slug, "--out", out.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("is not empty"));
    home.json(&[
        "export",
        slug,
        "--out",
        out.to_str().unwrap(),
        "--force",
        "--json",
    ]);
    assert_eq!(files_under(&out), written);
    // A version that does not exist.
    let fresh = plain.path().join("v9");
    let none = home.run(&[
        "export",
        slug,
        "--out",
        fresh.to_str().unwrap(),
        "--version",
        "9",
    ]);
    assert_eq!(none.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&none.stderr).contains("has no version 9"),
        "{}",
        String::from_utf8_lossy(&none.stderr)
    );
    assert!(!fresh.exists(), "nothing is written for a failed export");

    // With --docker: the same files plus the Docker ones.
    let docker = tempfile::tempdir().unwrap();
    let report = home.json(&[
        "export",
        slug,
        "--out",
        docker.path().to_str().unwrap(),
        "--version",
        "1",
        "--docker",
        "--json",
    ]);
    assert_eq!(report["docker"], true);
    let mut written = files_under(docker.path());
    let dockerfile = String::from_utf8(written.remove("Dockerfile").unwrap()).unwrap();
    let compose = String::from_utf8(written.remove("compose.yaml").unwrap()).unwrap();
    let ignore = String::from_utf8(written.remove(".dockerignore").unwrap()).unwrap();
    let design: Value = serde_json::from_slice(&written["apiforge.json"]).unwrap();
    let secret = design["auth"]["env_var"].as_str();
    assert_eq!(secret.is_some(), has_secret, "{design}");
    if framework == "fastapi" {
        let pins: Vec<String> = python::pins().iter().map(|p| (*p).to_owned()).collect();
        assert!(pins.iter().any(|p| p.starts_with("fastapi==")));
        check_dockerfile(&dockerfile, "python:3.11-slim", &pins, true);
    } else {
        let lock = written
            .remove("docker/node-runtime/package-lock.json")
            .unwrap();
        let manifest = written.remove("docker/node-runtime/package.json").unwrap();
        assert_eq!(lock, node::PACKAGE_LOCK_JSON.as_bytes());
        assert_eq!(manifest, node::PACKAGE_JSON.as_bytes());
        let pins: Vec<String> = node::pinned_dependencies()
            .iter()
            .map(|(name, version)| format!("{name}@{version}"))
            .collect();
        assert!(pins.iter().any(|p| p.starts_with("express@")));
        check_dockerfile(&dockerfile, "node:20-slim", &pins, false);
        assert!(dockerfile.contains("npm ci --omit=dev"), "{dockerfile}");
    }
    check_compose(&compose, slug, secret);
    for never in [".git", "*.db", "*.sock", ".env", "node_modules"] {
        assert!(ignore.lines().any(|l| l == never), "{never}: {ignore}");
    }
    let rest: BTreeMap<String, String> = written
        .iter()
        .map(|(p, bytes)| (p.clone(), hex::encode(Sha256::digest(bytes))))
        .collect();
    assert_eq!(rest, stored, "the version's files are all there, unchanged");

    // Complete: the project's own suite passes outside apiforge, next to the Docker files.
    native_tests_pass(framework, docker.path());
    docker_commands_work(framework, docker.path(), &dockerfile);
}

#[test]
fn an_exported_fastapi_project_is_the_version_and_runs_its_tests() {
    export_is_complete_and_runs(
        "fastapi",
        "Pet shop API with pets (name, species, price) protected by an API key. Search pets by name.",
        "pet-shop",
        true,
    );
}

#[test]
fn an_exported_express_project_is_the_version_and_runs_its_tests() {
    export_is_complete_and_runs(
        "express",
        "A library API: books with a title, an author and a published date; members with a name and an email.",
        "library",
        false,
    );
}

#[test]
fn export_refuses_what_it_cannot_do_with_clear_errors() {
    let home = ApiforgeHome::new();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();

    // Unknown project: exit 2, a message naming it and where to look.
    let missing = home.run(&["export", "nope", "--out", out]);
    assert_eq!(missing.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("no project \"nope\"") && stderr.contains("apiforge projects"),
        "{stderr}"
    );

    // A non-empty directory is refused before anything is read, and left alone.
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let refused = home.run(&["export", "nope", "--out", out]);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("is not empty") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(
        files_under(dir.path()).keys().collect::<Vec<_>>(),
        ["notes.txt"]
    );

    // A file where the directory should be.
    let file = dir.path().join("notes.txt");
    let refused = home.run(&["export", "nope", "--out", file.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is not a directory"));
}
