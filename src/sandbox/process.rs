//! The process backend: Linux namespaces through hakoniwa, no daemon.
//!
//! Each run gets new user, mount, PID, network, IPC and UTS namespaces. The root
//! filesystem is an empty read-only directory with, read-only: `/usr` (plus the
//! `/bin`, `/lib*`, `/sbin` links or directories), a handful of `/etc` files a runtime
//! needs (`ld.so.cache`, `alternatives`, Python's and OpenSSL's config, time zone,
//! MIME types) and a generated `passwd`/`group`/`hosts`; a fresh `/dev` and `/proc`;
//! a private tmpfs `/tmp`; the workspace read-write at `/workspace`; the caller's
//! read-only mounts. Nothing else of the host is visible: no `/root`, `/home`,
//! `/var/run`, data dir, database or Docker socket. The network namespace has only its
//! own loopback interface (up, so test suites can start a server and reach it on
//! 127.0.0.1), so nothing outside — not even the host's 127.0.0.1 — is reachable.
//!
//! **Identity.** As root no user namespace is needed (root may create the others), and
//! one is avoided on purpose: hakoniwa can only map root to itself without the
//! `newuidmap` helper, and sandboxed root would then be host root on every file it
//! sees (the pitfall in DESIGN §9). Instead the program drops to uid/gid 65534 right
//! before `execve` ([`LastStep`]): no capabilities, no supplementary groups,
//! `no_new_privs` set, so root-owned files it can see (mode 0600) stay unreadable. As
//! an ordinary user the sandbox has a user namespace mapping the user to itself: the
//! program has exactly the user's rights on what it can see.
//!
//! **Ending.** The sandboxed program is PID 1 of its namespace: when it exits or is
//! killed the kernel kills every process left in the namespace, including ones that
//! double-forked and detached. Kill switch and wall-clock timeout SIGKILL that PID 1.

mod cgroup;

use std::ffi::CString;
use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hakoniwa::{Container, MountOptions, Namespace, Rlimit, Runctl, Stdio};
use nix::sys::signal::{Signal, kill};
use nix::unistd::{Gid, Pid, Uid};
use tokio::sync::oneshot;

use self::cgroup::Cgroup;
use super::execution::{Execution, Interrupt, OutputSink, race};
use super::workspace::{SANDBOX_GID, SANDBOX_UID};
use super::{
    Backend, ETC_ENTRIES, Exec, Outcome, SYSTEM_TOP_DIRS, SandboxError, Stream, WORKSPACE,
    Workspace,
};

/// How long the namespace may take to die after PID 1 was SIGKILLed before the
/// supervising process is killed too.
const KILL_GRACE: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct ProcessSandbox {
    workspace_root: PathBuf,
}

/// How this machine enforces the memory and pids limits: `Ok(description)` for cgroups,
/// `Err(reason)` when apiforge falls back to rlimits (see [`Limits`](super::Limits)).
pub fn cgroup_limits() -> Result<String, String> {
    cgroup::probe().map(|dirs| {
        let dirs: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        format!("cgroup v1 under {}", dirs.join(", "))
    })
}

impl ProcessSandbox {
    /// As root, also removes sandbox cgroups left behind by a killed apiforge.
    pub fn new(workspace_root: PathBuf) -> Self {
        if Uid::effective().is_root() {
            cgroup::sweep_stale();
        }
        Self { workspace_root }
    }

    pub(crate) fn workspace_root(&self) -> &Path {
        &self.workspace_root
    }

    pub(crate) async fn launch(
        &self,
        workspace: &Workspace,
        exec: &Exec,
    ) -> Result<Execution, SandboxError> {
        exec.check_mounts()?;
        let as_root = Uid::effective().is_root();
        let limits = *exec.resource_limits();
        // The owner's PID in the name lets a later apiforge remove what a killed one
        // left behind (`cgroup::sweep_stale`).
        let name = format!("{}-{}", std::process::id(), uuid::Uuid::now_v7());
        let cgroup = if as_root {
            match Cgroup::create(&name, &limits) {
                Ok(group) => Some(group),
                Err(e) => {
                    tracing::warn!(
                        "sandbox memory/pids limits fall back to rlimits: {e} (fix: mount the cgroup v1 memory and pids controllers)"
                    );
                    None
                }
            }
        } else {
            None
        };
        let container = container(workspace.dir(), exec, as_root, cgroup.is_some())?;
        let last_step = LastStep::new(exec, as_root)?;
        // SAFETY: the closure runs in hakoniwa's child after fork; it only makes raw
        // system calls (socket, ioctl, setgroups, setresgid, setresuid, prctl, execve,
        // write) on data prepared before the fork, and never touches locks, the heap
        // or the environment.
        #[allow(unsafe_code)]
        let mut command = unsafe { container.command_from_closure(move || last_step.exec()) };
        command.current_dir(exec.working_dir());
        let dev_null = fs::File::open("/dev/null")
            .map_err(|e| SandboxError::io("cannot open /dev/null", e))?;
        command.stdin(Stdio::Fd(dev_null.into()));
        command.stdout(Stdio::piped());
        command.stderr(Stdio::piped());

        let (spawned_tx, spawned_rx) = oneshot::channel();
        let (exited_tx, exited_rx) = oneshot::channel();
        let program = exec.program().to_owned();
        let cgroup_moves = cgroup.as_ref().map(|c| (c.joiner(), c.leaver()));
        // One thread per sandbox, alive as long as the sandbox: hakoniwa's supervising
        // process dies with the *thread* that forked it (PR_SET_PDEATHSIG). The thread
        // is inside the sandbox's cgroup only while it forks.
        std::thread::Builder::new()
            .name("sandbox".to_owned())
            .spawn(move || {
                let spawned = (|| {
                    let (join, leave) = match cgroup_moves {
                        Some((join, leave)) => (Some(join), Some(leave)),
                        None => (None, None),
                    };
                    if let Some(join) = join {
                        join().map_err(|reason| SandboxError::Start {
                            program: program.clone(),
                            reason,
                        })?;
                    }
                    let child = command.spawn();
                    if let Some(leave) = leave {
                        // Staying would only keep this thread counted in pids.current.
                        if let Err(e) = leave() {
                            tracing::warn!("{e}");
                        }
                    }
                    child.map_err(|e| SandboxError::Start {
                        program: program.clone(),
                        reason: e.to_string(),
                    })
                })();
                let mut child = match spawned {
                    Ok(child) => child,
                    Err(e) => {
                        let _ = spawned_tx.send(Err(e));
                        return;
                    }
                };
                let pipes = (child.id(), child.stdout.take(), child.stderr.take());
                if spawned_tx.send(Ok(pipes)).is_err() {
                    // The caller went away before the run was handed over.
                    if let Ok(pid) = i32::try_from(child.id()) {
                        kill_namespace(Pid::from_raw(pid), None);
                    }
                    let _ = child.kill();
                }
                let _ = exited_tx.send(child.wait());
            })
            .map_err(|e| SandboxError::io("cannot start the sandbox thread", e))?;
        let started = Instant::now();
        let (pid, stdout, stderr) = spawned_rx.await.unwrap_or(Err(SandboxError::Lost))?;
        let supervisor_pid = Pid::from_raw(i32::try_from(pid).unwrap_or(i32::MAX));

        let (sink, lines, tail) = OutputSink::new();
        let mut readers = Vec::new();
        if let Some(out) = stdout {
            readers.push(read_lines(out, Stream::Stdout, sink.clone()));
        }
        if let Some(err) = stderr {
            readers.push(read_lines(err, Stream::Stderr, sink.clone()));
        }
        drop(sink);

        let kill_switch = exec.killer();
        let (outcome_tx, outcome_rx) = oneshot::channel();
        let switch = kill_switch.clone();
        let tail_for_outcome = tail.clone();
        tokio::spawn(async move {
            let mut wait = exited_rx;
            let mut interrupt = None;
            let status = match race(&mut wait, &switch, limits.wall).await {
                Ok(status) => status,
                Err(why) => {
                    interrupt = Some(why);
                    kill_namespace(supervisor_pid, cgroup.as_ref());
                    match tokio::time::timeout(KILL_GRACE, &mut wait).await {
                        Ok(status) => status,
                        Err(_) => {
                            let _ = kill(supervisor_pid, Signal::SIGKILL);
                            wait.await
                        }
                    }
                }
            };
            let duration = started.elapsed();
            for reader in readers {
                // Readers end at EOF, which comes once every process holding the pipes
                // is gone — the namespace is dead by now. The bound is insurance only.
                let _ = tokio::time::timeout(KILL_GRACE, reader).await;
            }
            let out_of_memory = cgroup.as_ref().is_some_and(Cgroup::oom_killed);
            if let Some(mut group) = cgroup {
                tokio::task::spawn_blocking(move || group.remove())
                    .await
                    .unwrap_or(());
            }
            let result = match status {
                Ok(Ok(status)) => outcome(
                    &status,
                    interrupt,
                    out_of_memory,
                    duration,
                    tail_for_outcome.snapshot(),
                ),
                Ok(Err(e)) => Err(SandboxError::Start {
                    program: "the sandbox".to_owned(),
                    reason: e.to_string(),
                }),
                Err(_) => Err(SandboxError::Lost),
            };
            let _ = outcome_tx.send(result);
        });
        Ok(Execution {
            lines,
            tail,
            kill_switch,
            outcome: outcome_rx,
        })
    }
}

/// Translates hakoniwa's status into an [`Outcome`].
fn outcome(
    status: &hakoniwa::ExitStatus,
    interrupt: Option<Interrupt>,
    out_of_memory: bool,
    duration: Duration,
    output_tail: Vec<super::Line>,
) -> Result<Outcome, SandboxError> {
    let (exit_code, signal) = match status.exit_code {
        Some(code) => (Some(code), None),
        None if status.code > 128 && status.reason.contains("received signal") => {
            (None, Some(status.code - 128))
        }
        // hakoniwa's own supervisor was SIGKILLed (the grace period ran out).
        None if interrupt.is_some() || status.reason.contains("SIGKILL") => (None, Some(9)),
        None => {
            return Err(SandboxError::Start {
                program: "the sandbox".to_owned(),
                reason: status.reason.clone(),
            });
        }
    };
    Ok(Outcome {
        backend: Backend::Process,
        exit_code,
        signal,
        timed_out: interrupt == Some(Interrupt::TimedOut),
        killed: interrupt == Some(Interrupt::Killed),
        out_of_memory,
        duration,
        output_tail,
    })
}

fn read_lines(
    pipe: std::io::PipeReader,
    stream: Stream,
    sink: OutputSink,
) -> tokio::task::JoinHandle<()> {
    tokio::task::spawn_blocking(move || {
        let mut reader = BufReader::new(pipe);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if buf.last() == Some(&b'\n') {
                        buf.pop();
                    }
                    sink.push(stream, super::line::decode(std::mem::take(&mut buf)));
                }
            }
        }
    })
}

/// SIGKILLs the namespace's PID 1 (the supervising process's child), which takes the
/// whole namespace down, and anything left in the cgroup.
fn kill_namespace(supervisor: Pid, cgroup: Option<&Cgroup>) {
    for pid in children_of(supervisor) {
        let _ = kill(pid, Signal::SIGKILL);
    }
    if let Some(group) = cgroup {
        group.kill_all();
    }
}

/// Processes whose parent is `parent`, from `/proc/<pid>/stat` (this kernel has no
/// `/proc/<pid>/task/<tid>/children`).
fn children_of(parent: Pid) -> Vec<Pid> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // The command name may contain spaces and parentheses: fields after the
            // last ')' are "state ppid ...".
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<i32>().ok())
                == Some(parent.as_raw())
        })
        .map(Pid::from_raw)
        .collect()
}

/// Number of processes the current user runs (for `RLIMIT_NPROC`, which counts them all).
fn processes_of_current_user() -> u64 {
    let uid = Uid::current().as_raw();
    let Ok(entries) = fs::read_dir("/proc") else {
        return 0;
    };
    let count = entries
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.parse::<u32>().is_ok())
        })
        .filter(|e| e.metadata().is_ok_and(|m| m.uid() == uid))
        .count();
    u64::try_from(count).unwrap_or(u64::MAX)
}

fn container(
    workspace: &Path,
    exec: &Exec,
    as_root: bool,
    has_cgroup: bool,
) -> Result<Container, SandboxError> {
    let limits = exec.resource_limits();
    let mut c = Container::empty();
    c.unshare(Namespace::Mount)
        .unshare(Namespace::Pid)
        .unshare(Namespace::Network)
        .unshare(Namespace::Ipc)
        .unshare(Namespace::Uts)
        .procfsmount("/proc")
        .hostname("sandbox")
        .runctl(Runctl::MountFallback);
    if !as_root {
        // An ordinary user needs a user namespace to create the others; mapping the
        // user to itself gives the program exactly the user's own rights.
        c.unshare(Namespace::User)
            .uidmap(Uid::current().as_raw())
            .gidmap(Gid::current().as_raw());
    }

    c.bindmount_ro("/usr", "/usr");
    for top in SYSTEM_TOP_DIRS {
        let path = Path::new(top);
        match fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => {
                if let Ok(target) = fs::read_link(path) {
                    c.symlink(&target.to_string_lossy(), top);
                }
            }
            Ok(m) if m.is_dir() => {
                c.bindmount_ro(top, top);
            }
            _ => {}
        }
    }
    for entry in ETC_ENTRIES {
        if Path::new(entry).exists() {
            c.bindmount_ro(entry, entry);
        }
    }
    c.devfsmount("/dev");
    c.mount(
        "tmpfs",
        "/tmp",
        "tmpfs",
        MountOptions::NOSUID | MountOptions::NODEV,
        Some(format!("size={},mode=1777", limits.workspace_bytes)),
    );
    c.bindmount_rw(&workspace.to_string_lossy(), WORKSPACE);
    for m in exec.mounts() {
        c.bindmount_ro(&m.host.to_string_lossy(), &m.sandbox.to_string_lossy());
    }

    let (uid, gid) = if as_root {
        (SANDBOX_UID, SANDBOX_GID)
    } else {
        (Uid::current().as_raw(), Gid::current().as_raw())
    };
    c.file(
        "/etc/passwd",
        &format!("sandbox:x:{uid}:{gid}:apiforge sandbox:/tmp:/bin/sh\n"),
    );
    c.file("/etc/group", &format!("sandbox:x:{gid}:\n"));
    c.file("/etc/hosts", "127.0.0.1 localhost sandbox\n::1 localhost\n");
    c.file(
        "/etc/nsswitch.conf",
        "passwd: files\ngroup: files\nhosts: files\n",
    );

    let cpu = limits.cpu_time.as_secs().max(1);
    c.setrlimit(Rlimit::Cpu, cpu, cpu.saturating_add(1));
    if !has_cgroup {
        c.setrlimit(Rlimit::Data, limits.memory_bytes, limits.memory_bytes);
        let nproc = if as_root {
            // The sandbox user's processes elsewhere on the host count too.
            limits.pids
        } else {
            processes_of_current_user().saturating_add(limits.pids)
        };
        c.setrlimit(Rlimit::Nproc, nproc, nproc);
    }
    if !as_root {
        c.setrlimit(
            Rlimit::Fsize,
            limits.workspace_bytes,
            limits.workspace_bytes,
        );
    }
    Ok(c)
}

/// The last step inside a sandbox, between hakoniwa's set-up and the program: bring
/// the loopback interface up, drop to the sandbox user (when apiforge is root), exec.
/// Everything is prepared before the fork; [`LastStep::exec`] runs in the forked
/// child and only makes system calls.
struct LastStep {
    program: CString,
    argv: Vec<CString>,
    envp: Vec<CString>,
    drop_to: Option<(Uid, Gid)>,
    exec_failed: Vec<u8>,
}

impl LastStep {
    fn new(exec: &Exec, as_root: bool) -> Result<Self, SandboxError> {
        let nul = |what: &str| SandboxError::Start {
            program: exec.program().to_owned(),
            reason: format!("the {what} contains a NUL byte"),
        };
        let resolved = exec.resolved_program();
        let program = CString::new(resolved.clone()).map_err(|_| nul("program path"))?;
        let mut argv = vec![program.clone()];
        for arg in exec.arguments() {
            argv.push(CString::new(arg.as_str()).map_err(|_| nul("argument list"))?);
        }
        let mut envp = Vec::new();
        for (k, v) in exec.sandbox_env() {
            envp.push(CString::new(format!("{k}={v}")).map_err(|_| nul("environment"))?);
        }
        Ok(Self {
            program,
            argv,
            envp,
            drop_to: as_root.then(|| (Uid::from_raw(SANDBOX_UID), Gid::from_raw(SANDBOX_GID))),
            exec_failed: format!("apiforge sandbox: cannot execute {resolved}\n").into_bytes(),
        })
    }

    /// Returns only on failure: 126 when privileges could not be dropped (the program
    /// never runs with root's rights), 127 when the program cannot be executed.
    fn exec(&self) -> i32 {
        // Without it the program cannot even reach itself; with it, 127.0.0.1 is the
        // namespace's own and nothing outside is reachable (like Docker's
        // `network_mode: none`). A failure leaves the network fully down: still safe.
        let _ = loopback_up();
        if let Some((uid, gid)) = self.drop_to {
            // Group first: once the uid is dropped the process may no longer change it.
            let dropped = nix::unistd::setgroups(&[])
                .and_then(|()| nix::unistd::setresgid(gid, gid, gid))
                .and_then(|()| nix::unistd::setresuid(uid, uid, uid));
            if dropped.is_err() {
                return 126;
            }
        }
        // A uid change clears the parent-death signal hakoniwa set; re-arm it so the
        // namespace dies with its supervising process even if apiforge itself is
        // killed before it can clean up.
        if nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).is_err() {
            return 126;
        }
        let _ = nix::unistd::execve(&self.program, &self.argv, &self.envp);
        let _ = nix::unistd::write(std::io::stderr(), &self.exec_failed);
        127
    }
}

/// Sets `IFF_UP` on `lo` in the current (fresh, empty) network namespace.
#[allow(unsafe_code)]
fn loopback_up() -> bool {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    // SAFETY: socket(2) with constant arguments; the result is checked before use.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return false;
    }
    // SAFETY: `raw` is a valid descriptor that nothing else owns; OwnedFd closes it once.
    let socket = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: ifreq is plain data (byte arrays and a union of integers and arrays), for
    // which all-zero bytes are a valid value.
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    request.ifr_name[0] = b'l' as libc::c_char;
    request.ifr_name[1] = b'o' as libc::c_char;
    request.ifr_ifru.ifru_flags = (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
    // SAFETY: SIOCSIFFLAGS reads one ifreq through the pointer, which stays valid for
    // the whole call; the descriptor is open.
    let rc = unsafe { libc::ioctl(socket.as_raw_fd(), libc::SIOCSIFFLAGS, &request) };
    rc == 0
}
