//! `apiforge doctor`: one check per thing apiforge relies on, each with a verdict and
//! what to do about it.

use std::path::Path;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    Ok,
    Warn,
    Fail,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub verdict: Verdict,
    /// What was found.
    pub detail: String,
    /// What to do about a WARN or FAIL; empty when OK.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub fix: String,
}

impl Check {
    pub fn ok(name: &'static str, detail: impl Into<String>) -> Self {
        Self {
            name,
            verdict: Verdict::Ok,
            detail: detail.into(),
            fix: String::new(),
        }
    }

    pub fn warn(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            name,
            verdict: Verdict::Warn,
            detail: detail.into(),
            fix: fix.into(),
        }
    }

    pub fn fail(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            name,
            verdict: Verdict::Fail,
            detail: detail.into(),
            fix: fix.into(),
        }
    }
}

/// Runs `program --version` and returns its first output line.
pub fn version_of(program: &Path, flag: &str) -> Option<String> {
    let out = std::process::Command::new(program)
        .arg(flag)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = if out.stdout.is_empty() {
        out.stderr
    } else {
        out.stdout
    };
    String::from_utf8_lossy(&text)
        .lines()
        .next()
        .map(|l| l.trim().to_owned())
}

/// Whether this process may create user namespaces (the process sandbox needs them).
pub fn user_namespaces() -> Check {
    const NAME: &str = "user namespaces";
    let max = std::fs::read_to_string("/proc/sys/user/max_user_namespaces")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok());
    let unpriv = std::fs::read_to_string("/proc/sys/kernel/unprivileged_userns_clone")
        .ok()
        .map(|s| s.trim() == "1");
    match (max, unpriv) {
        (Some(0), _) => Check::fail(
            NAME,
            "user.max_user_namespaces is 0",
            "enable them: sysctl -w user.max_user_namespaces=15000, or use --sandbox docker",
        ),
        (_, Some(false)) if !nix::unistd::geteuid().is_root() => Check::fail(
            NAME,
            "kernel.unprivileged_userns_clone is 0",
            "enable them: sysctl -w kernel.unprivileged_userns_clone=1, or use --sandbox docker",
        ),
        (Some(n), _) => Check::ok(NAME, format!("available (max {n})")),
        (None, _) => Check::warn(
            NAME,
            "cannot read /proc/sys/user/max_user_namespaces",
            "the process sandbox needs Linux user namespaces; use --sandbox docker elsewhere",
        ),
    }
}

/// A runtime interpreter the generated projects run on.
pub fn interpreter(name: &'static str, program: &Path, install_hint: &str) -> Check {
    match version_of(program, "--version") {
        Some(v) => Check::ok(name, format!("{} ({v})", program.display())),
        None => Check::fail(
            name,
            format!("{} not found or not runnable", program.display()),
            install_hint,
        ),
    }
}

/// Whether a Docker engine answers on its socket.
pub fn docker_engine(host: &str) -> Check {
    const NAME: &str = "docker engine";
    let socket = host
        .strip_prefix("unix://")
        .map(str::to_owned)
        .unwrap_or_else(|| "/var/run/docker.sock".to_owned());
    if !host.is_empty() && !host.starts_with("unix://") {
        return Check::ok(NAME, format!("configured at {host} (not probed)"));
    }
    match std::os::unix::net::UnixStream::connect(&socket) {
        Ok(_) => Check::ok(NAME, format!("reachable at {socket}")),
        Err(e) => Check::warn(
            NAME,
            format!("not reachable at {socket}: {e}"),
            "optional: install docker.io and start dockerd to use --sandbox docker",
        ),
    }
}

/// Runs `true` in the process sandbox for real and says how its limits are enforced.
pub async fn process_sandbox(workspace_root: std::path::PathBuf) -> Check {
    use crate::sandbox::{Exec, Limits, Sandbox, WorkspaceSource, process};
    const NAME: &str = "process sandbox";
    let sandbox = Sandbox::Process(process::ProcessSandbox::new(workspace_root));
    let limits = Limits::default();
    let probe = async {
        let ws = sandbox.prepare(WorkspaceSource::Empty, &limits).await?;
        let outcome = sandbox.run(&ws, &Exec::new("/bin/true"), |_| {}).await;
        ws.remove().await?;
        outcome
    };
    match probe.await {
        Ok(outcome) if outcome.success() => {
            let took = outcome.duration.as_secs_f64() * 1000.0;
            match process::cgroup_limits() {
                Ok(how) => Check::ok(
                    NAME,
                    format!("works ({took:.1} ms); memory/pids limits: {how}"),
                ),
                Err(why) => Check::warn(
                    NAME,
                    format!(
                        "works ({took:.1} ms); memory/pids limits fall back to rlimits ({why})"
                    ),
                    "run as root with the cgroup v1 memory and pids controllers mounted for exact limits, or use --sandbox docker",
                ),
            }
        }
        Ok(outcome) => Check::fail(
            NAME,
            format!("`true` did not succeed: {}", outcome.summary()),
            "check `apiforge -v sandbox run . -- true` and the user namespaces check above",
        ),
        Err(e) => Check::fail(
            NAME,
            e.to_string(),
            "the process sandbox needs namespaces (see the user namespaces check); or use --sandbox docker",
        ),
    }
}

/// Whether the docker backend's image is ready (a configured one present locally, or
/// the locally built one already imported).
pub async fn docker_sandbox_image(config: &crate::config::SandboxConfig) -> Check {
    use crate::sandbox::docker;
    const NAME: &str = "docker sandbox";
    let Ok(engine) = docker::connect_engine(&config.docker_host) else {
        return Check::warn(
            NAME,
            "no Docker client connection",
            "see the docker engine check",
        );
    };
    if engine.ping().await.is_err() {
        return Check::warn(
            NAME,
            "Docker engine not reachable; the docker backend is unavailable",
            "optional: install docker.io and start dockerd (.ci/docker.sh does both)",
        );
    }
    if config.docker_image.is_empty() {
        let tag = docker::local_image_tag();
        if engine.inspect_image(&tag).await.is_ok() {
            Check::ok(NAME, format!("image {tag} ready"))
        } else {
            Check::ok(
                NAME,
                format!("image {tag} will be built locally on first use (no registry needed)"),
            )
        }
    } else if engine.inspect_image(&config.docker_image).await.is_ok() {
        Check::ok(
            NAME,
            format!("configured image {} present", config.docker_image),
        )
    } else {
        Check::fail(
            NAME,
            format!(
                "configured image {} is not present locally",
                config.docker_image
            ),
            format!(
                "docker pull {} (or clear sandbox.docker_image to use a locally built image)",
                config.docker_image
            ),
        )
    }
}

/// Whether the prepared Python runtime for the current pin list is installed.
pub fn python_runtime(cache_dir: &Path, config: &crate::config::RuntimesConfig) -> Check {
    const NAME: &str = "python runtime";
    let runtimes = crate::runtimes::Runtimes::new(cache_dir, config);
    match runtimes.status(crate::runtimes::RuntimeKind::Python) {
        Ok(s) if s.installed && s.version.is_some() => Check::ok(
            NAME,
            format!("{} ({})", s.dir.display(), s.version.unwrap_or_default()),
        ),
        Ok(s) if s.installed => Check::fail(
            NAME,
            format!(
                "{} is installed but its python does not run",
                s.dir.display()
            ),
            format!(
                "remove {} and run: apiforge runtimes install --only python",
                s.dir.display()
            ),
        ),
        Ok(s) => Check::warn(
            NAME,
            format!("not installed (would live in {})", s.dir.display()),
            "apiforge runtimes install --only python",
        ),
        Err(e) => Check::fail(
            NAME,
            e.to_string(),
            "apiforge runtimes install --only python",
        ),
    }
}
