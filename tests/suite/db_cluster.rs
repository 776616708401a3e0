//! The embedded cluster through the real binary and the library: first start, second
//! start, stop, stale pid recovery, concurrent start-ups, missing binaries.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use apiforge::db::local_cluster::{
    LocalCluster, PgBinaries, ServiceUser, StartOutcome, StopOutcome,
};
use support::{apiforge, wait_until};

/// An APIFORGE_HOME whose embedded cluster is stopped when the test ends, pass or fail.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("apiforge-home-")
            .tempdir()
            .unwrap();
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn run(&self, args: &[&str]) -> Output {
        apiforge(self.path()).args(args).output().unwrap()
    }

    fn cluster(&self) -> LocalCluster {
        LocalCluster::with(
            PgBinaries::find().unwrap(),
            &self.path().join("data"),
            ServiceUser::for_current_process().unwrap(),
        )
        .unwrap()
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = apiforge(self.path()).args(["db", "stop"]).output();
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> serde_json::Value {
    assert!(
        o.status.success(),
        "command failed: {}\n{}",
        stdout(o),
        stderr(o)
    );
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(o)))
}

#[test]
fn first_start_second_start_stop_and_status() {
    let home = Home::new();
    let status = json(&home.run(&["db", "status", "--json"]));
    assert_eq!(status["initialized"], false);
    assert_eq!(status["running"], false);

    let first = json(&home.run(&["db", "start", "--json"]));
    assert_eq!(first["outcome"], "created");
    assert_eq!(first["status"]["running"], true);
    let pid = first["status"]["pid"].as_i64().unwrap();

    let second = json(&home.run(&["db", "start", "--json"]));
    assert_eq!(second["outcome"], "already_running");
    assert_eq!(
        second["status"]["pid"].as_i64().unwrap(),
        pid,
        "a second server was started"
    );

    // Only a Unix socket: no TCP listener anywhere.
    let conf = std::fs::read_to_string(home.cluster().dir.join("postgresql.conf")).unwrap();
    assert!(conf.contains("listen_addresses = ''"));
    let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap()
        + &std::fs::read_to_string("/proc/net/tcp6").unwrap_or_default();
    let inodes = socket_inodes(pid);
    assert!(
        !tcp.lines().skip(1).any(|l| l
            .split_whitespace()
            .nth(9)
            .is_some_and(|i| inodes.contains(&i.to_owned()))),
        "postgres has a TCP socket"
    );

    // The URL works with psql-compatible clients: connect through it.
    let url = stdout(&home.run(&["db", "url"])).trim().to_owned();
    assert!(
        url.starts_with("postgresql://apiforge_owner@localhost/apiforge?host="),
        "{url}"
    );
    url.parse::<sqlx::postgres::PgConnectOptions>()
        .expect("the URL parses for sqlx too");
    let psql = Command::new("psql")
        .arg(&url)
        .args(["-Atc", "select current_user"])
        .output();
    if let Ok(out) = psql {
        assert_eq!(stdout(&out).trim(), "apiforge_owner", "{}", stderr(&out));
    }

    let stopped = json(&home.run(&["db", "stop", "--json"]));
    assert_eq!(stopped["outcome"], "stopped");
    assert_eq!(stopped["status"]["running"], false);
    let again = json(&home.run(&["db", "stop", "--json"]));
    assert_eq!(again["outcome"], "not_running");
    let status = json(&home.run(&["db", "status", "--json"]));
    assert_eq!(status["initialized"], true);
    assert_eq!(status["running"], false);
}

fn socket_inodes(pid: i64) -> Vec<String> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| std::fs::read_link(e.path()).ok())
                .filter_map(|l| {
                    let l = l.to_string_lossy().into_owned();
                    l.strip_prefix("socket:[")
                        .and_then(|r| r.strip_suffix(']'))
                        .map(str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_cluster_outlives_the_command_and_is_reused() {
    let home = Home::new();
    let who = json(&home.run(&["whoami", "--json"]));
    assert!(who["user"]["email"].as_str().unwrap().contains('@'));
    let pid = home
        .cluster()
        .running_pid()
        .expect("still running after whoami exited");
    let who_again = json(&home.run(&["whoami", "--json"]));
    assert_eq!(
        who["user"]["id"], who_again["user"]["id"],
        "local sign-in made a second user"
    );
    assert_eq!(home.cluster().running_pid(), Some(pid));

    // The stored token is private to the user.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(home.path().join("data/session-token"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn concurrent_start_ups_share_one_cluster() {
    let fresh = Home::new();
    let spawned: Vec<_> = (0..4)
        .map(|_| {
            apiforge(fresh.path())
                .args(["whoami", "--json"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<Output> = spawned
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for o in &outputs {
        assert!(
            o.status.success(),
            "concurrent start-up failed: {}",
            stderr(o)
        );
    }
    let ids: std::collections::BTreeSet<String> = outputs
        .iter()
        .map(|o| json(o)["user"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        ids.len(),
        1,
        "concurrent sign-ins created several users: {ids:?}"
    );
    assert!(fresh.cluster().running_pid().is_some());
}

/// Processes whose working directory is the cluster's data dir: the postmaster and
/// its children.
fn cluster_processes(dir: &Path) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<i32>().ok())
        .filter(|pid| std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd == dir))
        .collect()
}

#[test]
fn stale_postmaster_pid_after_a_crash_is_recovered() {
    let home = Home::new();
    let cluster = home.cluster();
    assert_eq!(cluster.ensure_running().unwrap(), StartOutcome::Created);
    let pid = cluster.running_pid().unwrap();

    // Crash: SIGKILL the postmaster and wait for its children to notice and go.
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).unwrap();
    let dir: PathBuf = cluster.dir.clone();
    wait_until(
        Duration::from_secs(30),
        "crashed cluster processes to exit",
        || cluster_processes(&dir).is_empty(),
    );
    assert!(
        dir.join("postmaster.pid").exists(),
        "the crash should leave postmaster.pid behind"
    );
    assert!(cluster.running_pid().is_none());

    // Worst case: the recorded pid now belongs to an unrelated live process.
    let mut squatter = Command::new("sleep").arg("60").spawn().unwrap();
    let text = std::fs::read_to_string(dir.join("postmaster.pid")).unwrap();
    let rest: Vec<&str> = text.lines().skip(1).collect();
    std::fs::write(
        dir.join("postmaster.pid"),
        format!("{}\n{}\n", squatter.id(), rest.join("\n")),
    )
    .unwrap();

    let outcome = cluster.ensure_running();
    let _ = squatter.kill();
    let _ = squatter.wait();
    assert_eq!(outcome.unwrap(), StartOutcome::Started);
    let new_pid = cluster.running_pid().expect("running again");
    assert_ne!(new_pid, pid);
    assert_eq!(cluster.stop().unwrap(), StopOutcome::Stopped);
}

#[test]
fn missing_postgres_binaries_give_install_instructions_and_exit_2() {
    let home = Home::new();
    for args in [
        &["db", "start"][..],
        &["whoami"][..],
        &["projects", "--json"][..],
    ] {
        let out = apiforge(home.path())
            .env("APIFORGE_PG_BINDIR", home.path().join("no-such-dir"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("apt-get install postgresql"), "{err}");
        assert!(err.contains("brew install"), "{err}");
        assert!(err.contains("DATABASE_URL"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn doctor_reports_the_database() {
    let home = Home::new();
    let before = json(&home.run(&["doctor", "--json"]));
    let db = before
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "database")
        .unwrap()
        .clone();
    assert_eq!(db["verdict"], "OK");
    assert!(
        db["detail"].as_str().unwrap().contains("starts on demand"),
        "{db}"
    );
    home.run(&["db", "start"]);
    let after = json(&home.run(&["doctor", "--json"]));
    let db = after
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "database")
        .unwrap()
        .clone();
    assert_eq!(db["verdict"], "OK");
    assert!(
        db["detail"]
            .as_str()
            .unwrap()
            .contains("migrations applied"),
        "{db}"
    );
}
