//! A cgroup (v1) per sandbox, for the limits rlimits cannot express: total memory
//! with an OOM kill at the limit, and a process count that stops a fork bomb.
//!
//! Joining happens without a race: the thread that is about to fork the sandbox moves
//! itself (its TID, via `tasks`) into the new cgroup first, so the sandbox is born
//! inside it; the thread exits right after, leaving only the sandbox in the cgroup.
//! Needs root and the v1 `memory` and `pids` hierarchies (as on this project's
//! machines); otherwise the caller falls back to rlimits.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::sandbox::Limits;

const V1_ROOT: &str = "/sys/fs/cgroup";
/// hakoniwa's supervising process sits in the pids cgroup next to the sandboxed
/// processes (the spawning thread only while it forks, hence the floor below).
const HELPER_TASKS: u64 = 1;
const MIN_PIDS_MAX: u64 = 3;

#[derive(Debug)]
pub(crate) struct Cgroup {
    memory: PathBuf,
    pids: PathBuf,
    removed: bool,
}

impl Cgroup {
    pub(crate) fn create(name: &str, limits: &Limits) -> Result<Self, String> {
        let memory = child_dir("memory", name)?;
        let pids = child_dir("pids", name)?;
        for dir in [&memory, &pids] {
            fs::create_dir(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let mut group = Self {
            memory,
            pids,
            removed: false,
        };
        let setup = (|| {
            write(&group.memory, "memory.limit_in_bytes", limits.memory_bytes)?;
            // Without swap accounting this file is absent; the limit above is enough then.
            let _ = write(
                &group.memory,
                "memory.memsw.limit_in_bytes",
                limits.memory_bytes,
            );
            write(
                &group.pids,
                "pids.max",
                limits.pids.saturating_add(HELPER_TASKS).max(MIN_PIDS_MAX),
            )
        })();
        if let Err(e) = setup {
            group.remove();
            return Err(e);
        }
        Ok(group)
    }

    /// A closure that moves the thread calling it into this cgroup; everything that
    /// thread forks afterwards is born inside.
    pub(crate) fn joiner(&self) -> impl FnOnce() -> Result<(), String> + Send + 'static {
        let memory = self.memory.clone();
        let pids = self.pids.clone();
        move || {
            let tid = nix::unistd::gettid();
            write(&memory, "tasks", tid)?;
            write(&pids, "tasks", tid)
        }
    }

    /// A closure that moves the calling thread back to apiforge's own cgroups.
    pub(crate) fn leaver(&self) -> impl FnOnce() -> Result<(), String> + Send + 'static {
        let memory = self.memory.parent().map(Path::to_path_buf);
        let pids = self.pids.parent().map(Path::to_path_buf);
        move || {
            let tid = nix::unistd::gettid();
            for dir in [memory, pids].into_iter().flatten() {
                write(&dir, "tasks", tid)?;
            }
            Ok(())
        }
    }

    /// Whether the kernel OOM-killed a process for hitting the memory limit.
    pub(crate) fn oom_killed(&self) -> bool {
        let text = fs::read_to_string(self.memory.join("memory.oom_control")).unwrap_or_default();
        text.lines()
            .filter_map(|l| l.strip_prefix("oom_kill "))
            .any(|n| n.trim().parse::<u64>().is_ok_and(|n| n > 0))
    }

    /// SIGKILLs every process still in the cgroup.
    pub(crate) fn kill_all(&self) {
        let procs = fs::read_to_string(self.pids.join("cgroup.procs")).unwrap_or_default();
        let own = std::process::id();
        for pid in procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
            // A thread of apiforge itself may be inside for an instant while it forks.
            if u32::try_from(pid).is_ok_and(|p| p == own) {
                continue;
            }
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }

    /// Removes the cgroup once its processes are gone (they die with the PID
    /// namespace; the kernel may take a moment to release them).
    pub(crate) fn remove(&mut self) {
        if self.removed {
            return;
        }
        self.removed = true;
        let deadline = Instant::now() + Duration::from_secs(5);
        for dir in [&self.memory, &self.pids] {
            loop {
                match fs::remove_dir(dir) {
                    Ok(()) => break,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
                    Err(e) if Instant::now() >= deadline => {
                        tracing::warn!("cannot remove cgroup {}: {e}", dir.display());
                        break;
                    }
                    Err(_) => {
                        self.kill_all();
                        std::thread::sleep(Duration::from_millis(5));
                    }
                }
            }
        }
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        self.kill_all();
        self.remove();
    }
}

/// Removes sandbox cgroups whose apiforge process is gone (killed before it could
/// clean up). The PID is part of the name, so cgroups of live apiforge processes —
/// possibly just created, not yet joined — are never touched.
pub(crate) fn sweep_stale() {
    for controller in ["memory", "pids"] {
        let Ok(dir) = child_dir(controller, "x") else {
            continue;
        };
        let Some(parent) = dir.parent() else {
            continue;
        };
        let Ok(entries) = fs::read_dir(parent) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(owner) = name
                .to_str()
                .and_then(|n| n.strip_prefix("apiforge-"))
                .and_then(|rest| rest.split_once('-'))
                .and_then(|(pid, _)| pid.parse::<i32>().ok())
            else {
                continue;
            };
            let gone = matches!(
                kill(Pid::from_raw(owner), None),
                Err(nix::errno::Errno::ESRCH)
            );
            if gone {
                // Fails harmlessly (EBUSY) while a leftover process is still inside.
                let _ = fs::remove_dir(entry.path());
            }
        }
    }
}

/// Where sandbox cgroups would be created, or why they cannot be.
pub(crate) fn probe() -> Result<Vec<PathBuf>, String> {
    if !nix::unistd::Uid::effective().is_root() {
        return Err("not root".to_owned());
    }
    let mut parents = Vec::new();
    for controller in ["memory", "pids"] {
        let dir = child_dir(controller, "probe")?;
        let parent = dir
            .parent()
            .map(Path::to_path_buf)
            .ok_or_else(|| format!("no parent for {}", dir.display()))?;
        nix::unistd::access(&parent, nix::unistd::AccessFlags::W_OK)
            .map_err(|e| format!("{} is not writable: {e}", parent.display()))?;
        parents.push(parent);
    }
    Ok(parents)
}

/// `<v1 root>/<controller>/<our own cgroup>/apiforge-<name>`, so sandboxes nest under
/// whatever cgroup apiforge itself was placed in.
fn child_dir(controller: &str, name: &str) -> Result<PathBuf, String> {
    let mount = Path::new(V1_ROOT).join(controller);
    if !mount.join("cgroup.procs").exists() {
        return Err(format!(
            "the cgroup v1 {controller} hierarchy is not mounted at {}",
            mount.display()
        ));
    }
    let own = fs::read_to_string("/proc/self/cgroup")
        .map_err(|e| format!("cannot read /proc/self/cgroup: {e}"))?;
    let path = own
        .lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, ':');
            let _id = parts.next()?;
            let controllers = parts.next()?;
            let path = parts.next()?;
            controllers
                .split(',')
                .any(|c| c == controller)
                .then_some(path)
        })
        .next()
        .ok_or_else(|| format!("this process is in no {controller} cgroup"))?;
    Ok(mount
        .join(path.trim_start_matches('/'))
        .join(format!("apiforge-{name}")))
}

fn write(dir: &Path, file: &str, value: impl std::fmt::Display) -> Result<(), String> {
    let path = dir.join(file);
    fs::write(&path, value.to_string()).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
