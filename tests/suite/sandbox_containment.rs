//! Containment: what sandboxed code must not be able to do, on both backends, with
//! the host checked afterwards. Each case also has a positive control, so a sandbox
//! that merely fails to run anything cannot pass.

use crate::harness;

use std::io::ErrorKind;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use apiforge::sandbox::{Backend, Exec, Limits, WorkspaceSource};
use harness::{empty_workspace, is_root, open, run, small_limits};

on_both_backends!(
    no_network_not_even_host_loopback,
    home_other_projects_and_root_files_are_unreadable,
    writes_outside_the_workspace_fail,
    filling_the_workspace_beyond_its_cap_fails,
    memory_hog_is_stopped_at_the_limit,
    fork_bomb_hits_the_pids_limit,
    infinite_loop_is_killed_at_the_timeout,
    cpu_burner_is_stopped_at_the_cpu_time_limit,
    detached_double_fork_does_not_survive,
    kill_switch_ends_a_run_from_another_task,
    runtime_mounts_are_readable_at_their_host_path_and_read_only,
);

async fn no_network_not_even_host_loopback(backend: Backend) {
    let root = tempfile::tempdir().expect("temp dir");
    let Some(sandbox) = open(backend, root.path()).await else {
        return;
    };
    let listener = TcpListener::bind("127.0.0.1:0").expect("host listener");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port();
    let ws = empty_workspace(&sandbox).await;
    let script = format!(
        r#"
import socket
# Positive control: the sandbox's own loopback works (test suites start servers).
own = socket.socket()
own.bind(("127.0.0.1", 0))
own.listen(1)
socket.create_connection(own.getsockname(), timeout=3).close()
print("own loopback ok")
for host, port in [("127.0.0.1", {port}), ("1.1.1.1", 80), ("example.com", 80)]:
    try:
        socket.create_connection((host, port), timeout=3).close()
        print("CONNECTED", host)
    except OSError as e:
        print("blocked", host, type(e).__name__)
"#
    );
    let exec = Exec::new("/usr/bin/python3")
        .arg("-c")
        .arg(script)
        .limits(small_limits());
    let (outcome, output) = run(&sandbox, &ws, &exec).await;
    assert!(outcome.success(), "{}\n{output}", outcome.summary());
    assert!(!output.contains("CONNECTED"), "{output}");
    assert!(output.contains("own loopback ok"), "{output}");
    for host in ["127.0.0.1", "1.1.1.1", "example.com"] {
        assert!(output.contains(&format!("blocked {host}")), "{output}");
    }
    // The host listener never saw a connection.
    match listener.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        other => panic!("the host listener was reached: {other:?}"),
    }
    ws.remove().await.expect("workspace removed");
}

async fn home_other_projects_and_root_files_are_unreadable(backend: Backend) {
    let root = tempfile::tempdir().expect("temp dir");
    let Some(sandbox) = open(backend, root.path()).await else {
        return;
    };
    // A planted home with a private key.
    let home = tempfile::tempdir().expect("temp home");
    let ssh = home.path().join(".ssh");
    std::fs::create_dir(&ssh).expect("mkdir .ssh");
    let key = ssh.join("id_rsa");
    std::fs::write(&key, "PRIVATE KEY MATERIAL").expect("plant key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    // Another project: a second workspace with a secret.
    let other = empty_workspace(&sandbox).await;
    let other_secret = other.dir().join("secret.txt");
    std::fs::write(&other_secret, "OTHER PROJECT SECRET").expect("plant secret");
    // A read-only mount holding a world-readable file and a root-only one.
    let data = tempfile::tempdir().expect("data dir");
    std::fs::set_permissions(data.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::write(data.path().join("public.txt"), "PUBLIC DATA").expect("write");
    let private = data.path().join("private.txt");
    std::fs::write(&private, "ROOT ONLY DATA").expect("write");
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    std::fs::set_permissions(
        data.path().join("public.txt"),
        std::fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");

    let ws = empty_workspace(&sandbox).await;
    let script = format!(
        "cat /data/public.txt; for f in {key} {other} /root/.ssh/id_rsa /data/private.txt; do cat \"$f\" 2>/dev/null && echo \"LEAKED $f\" || echo \"denied $f\"; done",
        key = key.display(),
        other = other_secret.display(),
    );
    let exec = Exec::shell(script)
        .mount_ro(data.path(), "/data")
        .limits(small_limits());
    let (outcome, output) = run(&sandbox, &ws, &exec).await;
    assert!(outcome.success(), "{}\n{output}", outcome.summary());
    assert!(output.contains("PUBLIC DATA"), "positive control: {output}");
    assert!(!output.contains("PRIVATE KEY MATERIAL"), "{output}");
    assert!(!output.contains("OTHER PROJECT SECRET"), "{output}");
    assert!(
        output.contains(&format!("denied {}", key.display())),
        "{output}"
    );
    assert!(
        output.contains(&format!("denied {}", other_secret.display())),
        "{output}"
    );
    assert!(output.contains("denied /root/.ssh/id_rsa"), "{output}");
    if is_root() {
        // Visible, but owned by root with mode 0600: the sandbox is not root.
        assert!(!output.contains("ROOT ONLY DATA"), "{output}");
        assert!(output.contains("denied /data/private.txt"), "{output}");
    } else {
        eprintln!("not root: the 0600 root-owned file case needs root to plant the file");
    }
    ws.remove().await.expect("workspace removed");
    other.remove().await.expect("workspace removed");
}

async fn writes_outside_the_workspace_fail(backend: Backend) {
    let root = tempfile::tempdir().expect("temp dir");
    let Some(sandbox) = open(backend, root.path()).await else {
        return;
    };
    let ws = empty_workspace(&sandbox).await;
    let escape = format!("/tmp/apiforge-escape-{}", uuid::Uuid::new_v4());
    let script = format!(
        "echo inside > /workspace/ok.txt && echo wrote-workspace; \
         echo private > {escape} && echo wrote-private-tmp; \
         for f in /usr/apiforge-escape /etc/apiforge-escape /apiforge-escape; do \
           echo x > \"$f\" 2>/dev/null && echo \"WROTE $f\" || echo \"denied $f\"; done"
    );
    let exec = Exec::shell(script).limits(small_limits());
    let (outcome, output) = run(&sandbox, &ws, &exec).await;
    assert!(outcome.success(), "{}\n{output}", outcome.summary());
    assert!(output.contains("wrote-workspace"), "{output}");
    // The private /tmp is writable by the sandbox user (docker once made it root 0755).
    assert!(output.contains("wrote-private-tmp"), "{output}");
    assert!(!output.contains("WROTE"), "{output}");
    assert_eq!(
        std::fs::read_to_string(ws.dir().join("ok.txt")).expect("workspace file"),
        "inside\n"
    );
    // The sandbox's /tmp is its own: nothing appeared on the host.
    assert!(
        !std::path::Path::new(&escape).exists(),
        "{escape} leaked to the host"
    );
    for f in [
        "/usr/apiforge-escape",
        "/etc/apiforge-escape",
        "/apiforge-escape",
    ] {
        assert!(
            !std::path::Path::new(f).exists(),
            "{f} appeared on the host"
        );
    }
    ws.remove().await.expect("workspace removed");
}

async fn filling_the_workspace_beyond_its_cap_fails(backend: Backend) {
    let root = tempfile::tempdir().expect("temp dir");
    let Some(sandbox) = open(backend, root.path()).await else {
        return;
    };
    let limits = small_limits(); // 16 MiB workspace
    let ws = sandbox
        .prepare(WorkspaceSource::Empty, &limits)
        .await
        .expect("workspace");
    let exec = Exec::shell("dd if=/dev/zero of=/workspace/fill bs=1M count=64").limits(limits);
    let (outcome, output) = run(&sandbox, &ws, &exec).await;
    assert!(
        !outcome.success(),
        "writing 64 MiB into 16 MiB succeeded: {output}"
    );
    let written = std::fs::metadata(ws.dir().join("fill"))
        .map(|m| m.len())
        .unwrap_or(0);
    assert!(written <= limits.workspace_bytes, "{written} bytes written");
    if ws.size_capped() {
        assert!(output.contains("No space left on device"), "{output}");
    } else {
        assert!(output.contains("File size limit exceeded"), "{output}");
    }
    ws.remove().await.expect("workspace removed");
}

async fn memory_hog_is_stopped_at_the_limit(backend: Backend) {
    let root = tempfile::tempdir().expect("temp dir");
    let Some(sandbox) = open(backend, root.path()).await else {
        return;
    };
    let limits = Limits {
        memory_bytes: 64 * 1024 * 1024,
        ..small_limits()
    };
    let ws = empty_workspace(&sandbox).await;
    // Touch every page so the memory is really used; stop at 1 GiB either way.
    let script = "a=[]\nfor i in range(1024):\n    a.append(bytearray(b'x' * (1 << 20)))\nprint('ALLOCATED 1 GiB')";
    let exec = Exec::new("python3").arg("-c").arg(script).limits(limits);
    let (outcome, output) = run(&sandbox, &ws, &exec).await;
    assert!(!output.contains("ALLOCATED"), "{output}");
    assert!(!outcome.success(), "{}", outcome.summary());
    if backend == Backend::Docker || is_root() {
        // A cgroup limit: the kernel kills the process.
        assert!(outcome.out_of_memory, "{}\n{output}", outcome.summary());
        assert_eq!(outcome.signal, Some(9), "{}", outcome.summary());
        assert_eq!(outcome.shell_code(), 137);
    } else {
        assert!(output.contains("MemoryError"), "{output}");
    }
    ws.remove().await.expect("workspace removed");
}

async fn fork_bomb_hits_the_pids_limit(backend: Backend) {
    let root = tempfile::tempdir().expect("temp dir");
    let Some(sandbox) = open(backend, root.path()).await else {
        return;
    };
    let limits = Limits {
        pids: 16,
        ..small_limits()
    };
    let ws = empty_workspace(&sandbox).await;
    // Bounded: at most 500 children, each sleeping; the limit must stop it far sooner.
    let script = r#"
import os, time
n = 0
try:
    for i in range(500):
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
        n += 1
    print("FORKED ALL", n)
except OSError as e:
    print("refused after", n, e.errno)
"#;
    let exec = Exec::new("python3").arg("-c").arg(script).limits(limits);
    let (outcome, output) = run(&sandbox, &ws, &exec).await;
    assert!(outcome.success(), "{}\n{output}", outcome.summary());
    assert!(!output.contains("FORKED ALL"), "{output}");
    let refused_after: u64 = output
        .lines()
        .find_map(|l| l.strip_prefix("refused after "))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no refusal reported: {output}"));
    assert!(
        refused_after < limits.pids,
        "{refused_after} children: {output}"
    );
    // Positive control: forking works at all below the limit.
    assert!(refused_after >= 4, "{output}");
    ws.remove().await.expect("workspace removed");
}

async fn infinite_loop_is_killed_at_the_timeout(backend: Backend) {
    let root = tempfile::tempdir().expect("temp dir");
    let Some(sandbox) = open(backend, root.path()).await else {
        return;
    };
    let limits = Limits {
        wall: Duration::from_secs(1),
        ..small_limits()
    };
    let ws = empty_workspace(&sandbox).await;
    let exec = Exec::shell("echo looping; while :; do :; done").limits(limits);
    let (outcome, output) = run(&sandbox, &ws, &exec).await;
    assert!(output.contains("looping"), "positive control: {output}");
    assert!(outcome.timed_out, "{}", outcome.summary());
    assert_eq!(outcome.shell_code(), 124);
    assert!(outcome.duration >= limits.wall, "{:?}", outcome.duration);
    ws.remove().await.expect("workspace removed");
}

/// Host processes whose command line contains `token`.
fn host_processes_with(token: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().filter(|n| n.parse::<u32>().is_ok()) else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(token) {
            found.push(format!("{pid}: {cmdline}"));
        }
    }
    found
}

async fn detached_double_fork_does_not_survive(backend: Backend) {
    let root = tempfile::tempdir().expect("temp dir");
    let Some(sandbox) = open(backend, root.path()).await else {
        return;
    };
    let ws = empty_workspace(&sandbox).await;
    let token = format!("apiforge-detached-{}", uuid::Uuid::new_v4().simple());
    // The inner loop double-forks (subshell + &), starts a new session and keeps
    // appending to a marker; the outer shell waits until the marker exists, then exits.
    let script = format!(
        "( setsid sh -c 'while :; do echo {token} >> /workspace/marker; sleep 0.05; done' & ) ; \
         while [ ! -s /workspace/marker ]; do sleep 0.01; done; echo detached-running"
    );
    let exec = Exec::shell(script).limits(small_limits());
    let (outcome, output) = run(&sandbox, &ws, &exec).await;
    assert!(outcome.success(), "{}\n{output}", outcome.summary());
    assert!(output.contains("detached-running"), "{output}");
    let marker = std::fs::read_to_string(ws.dir().join("marker")).expect("marker written");
    assert!(marker.contains(&token), "positive control: {marker}");
    let survivors = host_processes_with(&token);
    assert!(survivors.is_empty(), "survived the sandbox: {survivors:?}");
    ws.remove().await.expect("workspace removed");
}

async fn kill_switch_ends_a_run_from_another_task(backend: Backend) {
    let root = tempfile::tempdir().expect("temp dir");
    let Some(sandbox) = open(backend, root.path()).await else {
        return;
    };
    let ws = empty_workspace(&sandbox).await;
    let exec = Exec::shell("echo started; sleep 60").limits(small_limits());
    let killer = exec.killer();
    let mut output = String::new();
    let outcome = sandbox
        .run(&ws, &exec, |line| {
            output.push_str(&line.text);
            if line.text == "started" {
                // From the callback, i.e. while the run is in flight; the switch could
                // equally be pulled from any other task.
                killer.kill();
            }
        })
        .await
        .expect("run");
    assert!(output.contains("started"), "{output}");
    assert!(outcome.killed, "{}", outcome.summary());
    assert_eq!(outcome.signal, Some(9), "{}", outcome.summary());
    assert!(
        outcome.duration < Duration::from_secs(30),
        "{:?}",
        outcome.duration
    );
    ws.remove().await.expect("workspace removed");
}

async fn cpu_burner_is_stopped_at_the_cpu_time_limit(backend: Backend) {
    let root = tempfile::tempdir().expect("temp dir");
    let Some(sandbox) = open(backend, root.path()).await else {
        return;
    };
    let limits = Limits {
        cpu_time: Duration::from_secs(1),
        wall: Duration::from_secs(60),
        ..small_limits()
    };
    let ws = empty_workspace(&sandbox).await;
    let exec = Exec::shell("echo burning; while :; do :; done").limits(limits);
    let (outcome, output) = run(&sandbox, &ws, &exec).await;
    assert!(output.contains("burning"), "positive control: {output}");
    assert!(
        !outcome.timed_out,
        "the wall clock, not the CPU limit, ended it"
    );
    assert!(!outcome.out_of_memory, "{}", outcome.summary());
    // RLIMIT_CPU: SIGXCPU (24) at the soft limit, SIGKILL one second later at the hard
    // limit (a PID 1 — the shell here — ignores SIGXCPU). Docker reports 128+N.
    assert!(
        [128 + 24, 128 + 9].contains(&outcome.shell_code()),
        "{}",
        outcome.summary()
    );
    ws.remove().await.expect("workspace removed");
}

/// How prepared runtimes are mounted: a directory under a private (0700) home, made
/// visible at its own path (venvs hard-code it) without exposing the rest of the home.
async fn runtime_mounts_are_readable_at_their_host_path_and_read_only(backend: Backend) {
    let root = tempfile::tempdir().expect("temp dir");
    let Some(sandbox) = open(backend, root.path()).await else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let runtime = home.path().join("cache/runtimes/python");
    std::fs::create_dir_all(runtime.join("bin")).expect("mkdir");
    for dir in [
        home.path().join("cache"),
        home.path().join("cache/runtimes"),
        runtime.clone(),
        runtime.join("bin"),
    ] {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let tool = runtime.join("bin/tool");
    std::fs::write(&tool, "#!/bin/sh\necho runtime tool ran\n").expect("write");
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::write(home.path().join("secret"), "HOME SECRET").expect("write");

    let ws = empty_workspace(&sandbox).await;
    let script = format!(
        "{tool}; echo x > {runtime}/new 2>/dev/null && echo WROTE-RUNTIME || echo runtime-read-only; cat {home}/secret 2>/dev/null || echo home-hidden",
        tool = tool.display(),
        runtime = runtime.display(),
        home = home.path().display(),
    );
    let exec = Exec::shell(script)
        .mount_ro(&runtime, &runtime)
        .limits(small_limits());
    let (outcome, output) = run(&sandbox, &ws, &exec).await;
    assert!(outcome.success(), "{}\n{output}", outcome.summary());
    assert!(output.contains("runtime tool ran"), "{output}");
    assert!(output.contains("runtime-read-only"), "{output}");
    assert!(output.contains("home-hidden"), "{output}");
    assert!(!runtime.join("new").exists());
    ws.remove().await.expect("workspace removed");
}
