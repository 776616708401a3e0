//! `apiforge sandbox run` as a user runs it: a real process with a real environment.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_apiforge");

/// Whether `backend` can run here; docker without an engine fails under `CI` and is
/// skipped (loudly) otherwise.
fn available(backend: &str) -> bool {
    if backend != "docker" {
        return true;
    }
    let reachable = Command::new("docker")
        .arg("info")
        .output()
        .is_ok_and(|o| o.status.success());
    if !reachable {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but no Docker engine answers `docker info`"
        );
        eprintln!("SKIP docker backend: no Docker engine answers `docker info`");
    }
    reachable
}

fn apiforge(home: &Path, project: &Path, backend: &str, args: &[&str], cmd: &[&str]) -> Output {
    Command::new(BIN)
        .env("APIFORGE_HOME", home)
        // A secret exported on the host: it must not reach the sandbox.
        .env("OPENAI_API_KEY", "sk-host-secret-0123456789")
        .env("AWS_SECRET_ACCESS_KEY", "host-aws-secret")
        .args(["sandbox", "run"])
        .arg(project)
        .args(["--sandbox", backend])
        .args(args)
        .arg("--")
        .args(cmd)
        .output()
        .expect("apiforge runs")
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("project dir");
    std::fs::write(dir.path().join("hello.txt"), "hello from the project\n").expect("write");
    dir
}

fn each_backend(check: impl Fn(&str)) {
    for backend in ["process", "docker"] {
        if available(backend) {
            check(backend);
        }
    }
}

#[test]
fn host_secrets_do_not_reach_the_sandbox() {
    each_backend(|backend| {
        let home = tempfile::tempdir().expect("home");
        let proj = project();
        let out = apiforge(home.path(), proj.path(), backend, &[], &["env"]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{backend}: {out:?}");
        assert!(
            stdout.contains("PATH="),
            "positive control ({backend}): {stdout}"
        );
        assert!(!stdout.contains("sk-host-secret"), "{backend}: {stdout}");
        assert!(!stdout.contains("host-aws-secret"), "{backend}: {stdout}");
        assert!(!stdout.contains("APIFORGE_HOME"), "{backend}: {stdout}");
    });
}

#[test]
fn exit_codes_follow_the_command() {
    each_backend(|backend| {
        let home = tempfile::tempdir().expect("home");
        let proj = project();
        let out = apiforge(
            home.path(),
            proj.path(),
            backend,
            &[],
            &["sh", "-c", "cat hello.txt; exit 3"],
        );
        assert_eq!(out.status.code(), Some(3), "{backend}: {out:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "hello from the project\n",
            "{backend}"
        );
        let out = apiforge(
            home.path(),
            proj.path(),
            backend,
            &["--timeout-secs", "1"],
            &["sh", "-c", "while :; do :; done"],
        );
        assert_eq!(out.status.code(), Some(124), "{backend}: {out:?}");
        // The project directory itself is never written: the run used a copy.
        assert_eq!(std::fs::read_dir(proj.path()).expect("ls").count(), 1);
    });
}

#[test]
fn json_prints_the_outcome() {
    each_backend(|backend| {
        let home = tempfile::tempdir().expect("home");
        let proj = project();
        let out = apiforge(
            home.path(),
            proj.path(),
            backend,
            &["--json", "--memory-mb", "64"],
            &["sh", "-c", "echo to-stderr-in-json-mode; exit 0"],
        );
        assert!(out.status.success(), "{backend}: {out:?}");
        let outcome: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("stdout is the JSON outcome");
        assert_eq!(outcome["backend"], backend);
        assert_eq!(outcome["exit_code"], 0);
        assert_eq!(outcome["timed_out"], false);
        assert_eq!(outcome["output_tail"][0]["text"], "to-stderr-in-json-mode");
        assert!(String::from_utf8_lossy(&out.stderr).contains("to-stderr-in-json-mode"));
    });
}

/// The process backend as an ordinary user (no cgroups, rlimits instead): run the
/// CLI as `nobody` through `runuser`. Needs root to switch users, and the binary
/// reachable by `nobody`; otherwise says why it did not run.
#[test]
fn process_backend_works_as_an_ordinary_user() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("SKIP non-root case: already not root, every other test covers it");
        return;
    }
    let world_readable = |p: &Path| {
        p.ancestors().all(|a| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(a).is_ok_and(|m| m.permissions().mode() & 0o005 == 0o005)
        })
    };
    if !world_readable(Path::new(BIN)) || Command::new("runuser").arg("--help").output().is_err() {
        eprintln!("SKIP non-root case: runuser missing or {BIN} not reachable by nobody");
        return;
    }
    let base = tempfile::tempdir().expect("base");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(base.path(), std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let proj = base.path().join("proj");
    std::fs::create_dir(&proj).expect("mkdir");
    std::fs::write(proj.join("hello.txt"), "hi\n").expect("write");
    std::fs::set_permissions(&proj, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::set_permissions(
        proj.join("hello.txt"),
        std::fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    let home = base.path().join("home");
    let run = |extra: &[&str], script: &str| {
        Command::new("runuser")
            .args(["-u", "nobody", "--", "env"])
            .arg(format!("APIFORGE_HOME={}", home.display()))
            .arg("OPENAI_API_KEY=sk-host-secret")
            .arg(BIN)
            .args(["sandbox", "run"])
            .arg(&proj)
            .args(["--sandbox", "process"])
            .args(extra)
            .args(["--", "sh", "-c", script])
            .output()
            .expect("runuser runs")
    };
    let out = run(
        &[],
        "id -u; cat hello.txt; env; echo x > /usr/escape || echo denied",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout.starts_with("65534\nhi\n"), "{stdout}");
    assert!(!stdout.contains("sk-host-secret"), "{stdout}");
    assert!(stdout.contains("denied"), "{stdout}");
    let out = run(&["--timeout-secs", "1"], "while :; do :; done");
    assert_eq!(out.status.code(), Some(124), "{out:?}");
    // Without cgroups the memory limit is RLIMIT_DATA: allocation fails inside.
    let out = run(
        &["--memory-mb", "64"],
        "python3 -c 'b = bytearray(256 * 1024 * 1024)' 2>&1 | tail -1",
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("MemoryError"),
        "{out:?}"
    );
}

/// Host processes whose command line contains `token`.
fn processes_with(token: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let name = entry.file_name();
        if name.to_str().is_none_or(|n| n.parse::<u32>().is_err()) {
            continue;
        }
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        // Only the detached loop: the outer script (which says "started") holds the
        // token too, until it execs.
        if cmdline.contains(token) && !cmdline.contains("started") {
            found.push(cmdline);
        }
    }
    found
}

/// apiforge killed with SIGKILL mid-run (no cleanup code runs at all): the process
/// sandbox still dies with it. (The docker backend cannot promise this — the engine
/// owns the container — which is why it removes exited leftovers when it connects.)
#[test]
fn process_sandbox_dies_with_a_killed_apiforge() {
    use std::io::{BufRead, BufReader};
    use std::time::{Duration, Instant};

    let home = tempfile::tempdir().expect("home");
    let proj = project();
    let token = format!("apiforge-orphan-{}", uuid::Uuid::new_v4().simple());
    let script = format!(
        "( setsid sh -c 'while :; do sleep 1; done # {token}' & ); echo started; exec sleep 120"
    );
    let mut child = Command::new(BIN)
        .env("APIFORGE_HOME", home.path())
        .args(["sandbox", "run"])
        .arg(proj.path())
        .args(["--sandbox", "process", "--", "sh", "-c", &script])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("apiforge starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).expect("read");
    assert_eq!(first.trim(), "started");
    // The detached loop's command line holds the token.
    let deadline = Instant::now() + Duration::from_secs(10);
    while processes_with(&token).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the detached process never showed up"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let apiforge_pid = child.id();
    child.kill().expect("SIGKILL apiforge");
    child.wait().expect("reaped");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = processes_with(&token);
        if left.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "survived apiforge: {left:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
    // The killed apiforge could not remove its workspace (nor, as root, its cgroups);
    // the next one does.
    let workspaces = home.path().join("cache/sandboxes");
    assert_eq!(std::fs::read_dir(&workspaces).expect("ls").count(), 1);
    let cgroups = || cgroups_of(apiforge_pid);
    let had_cgroups = !cgroups().is_empty();
    let out = apiforge(home.path(), proj.path(), "process", &[], &["true"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(std::fs::read_dir(&workspaces).expect("ls").count(), 0);
    if had_cgroups {
        assert_eq!(cgroups(), Vec::<std::path::PathBuf>::new());
    } else {
        eprintln!("no sandbox cgroups here (not root, or no cgroup v1): sweep not checked");
    }
}

/// Sandbox cgroups (v1 memory and pids) created by apiforge process `pid`; the tests
/// sit in the same cgroups as the apiforge they start.
fn cgroups_of(pid: u32) -> Vec<std::path::PathBuf> {
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let mut found = Vec::new();
    for line in own.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        for controller in ["memory", "pids"] {
            if !controllers.split(',').any(|c| c == controller) {
                continue;
            }
            let dir = Path::new("/sys/fs/cgroup")
                .join(controller)
                .join(path.trim_start_matches('/'));
            let prefix = format!("apiforge-{pid}-");
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                if entry.file_name().to_string_lossy().starts_with(&prefix) {
                    found.push(entry.path());
                }
            }
        }
    }
    found
}
