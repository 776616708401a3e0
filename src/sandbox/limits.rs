//! What one sandboxed run may use.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::SandboxConfig;

const MIB: u64 = 1024 * 1024;

/// Per-run resource limits. Defaults come from `[sandbox]` in the config.
///
/// How each is enforced:
/// * `memory` — process backend as root: a cgroup v1 memory limit (the kernel OOM-kills
///   at the limit, reported as [`Outcome::out_of_memory`](super::Outcome)); as an
///   ordinary user: `RLIMIT_DATA` (allocations beyond it fail). Docker: `--memory` with
///   swap disabled.
/// * `pids` — root: cgroup `pids.max`; ordinary user: `RLIMIT_NPROC` on top of the
///   processes the user already runs. Docker: `--pids-limit`.
/// * `cpu_time` — `RLIMIT_CPU` per process (SIGXCPU, then SIGKILL), both backends.
/// * `wall` — apiforge kills the whole sandbox when it elapses.
/// * `workspace_bytes` — root: the workspace is a tmpfs of that size (writes beyond it
///   fail with ENOSPC); ordinary user: `RLIMIT_FSIZE` caps each file at that size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub memory_bytes: u64,
    pub pids: u64,
    pub cpu_time: Duration,
    pub wall: Duration,
    pub workspace_bytes: u64,
}

impl Limits {
    pub fn from_config(config: &SandboxConfig) -> Self {
        Self {
            memory_bytes: config.memory_mb.saturating_mul(MIB),
            pids: config.pids,
            cpu_time: Duration::from_secs(config.cpu_secs),
            wall: Duration::from_secs(config.wall_secs),
            workspace_bytes: config.workspace_mb.bytes(),
        }
    }
}

impl Default for Limits {
    /// The shipped defaults (assets/default_config.toml).
    fn default() -> Self {
        Self::from_config(&crate::config::Config::defaults().sandbox)
    }
}
