//! What to run inside a sandbox.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{KillSwitch, Limits, SandboxError, WORKSPACE};

/// `PATH` inside every sandbox: system directories only (the host's `PATH` may point
/// into the user's home, which the sandbox does not see).
pub const SANDBOX_PATH: &str = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin";

/// A host directory or file made visible read-only inside the sandbox, e.g. a prepared
/// Python venv at the same path it was built at (venvs hard-code their own path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOnlyMount {
    pub host: PathBuf,
    pub sandbox: PathBuf,
}

/// A command plus everything it gets: arguments, environment, working directory,
/// limits, read-only mounts and a kill switch.
///
/// The environment is an allow list, never the host's: `PATH` ([`SANDBOX_PATH`]),
/// `LANG` (the host's value, else `C.UTF-8`), `HOME=/tmp`, `TMPDIR=/tmp`, then exactly
/// the variables set with [`Exec::env`]. A secret exported on the host (an API key) does
/// not reach the sandbox unless the caller passes it on purpose.
#[derive(Debug, Clone)]
pub struct Exec {
    program: String,
    args: Vec<String>,
    env: BTreeMap<String, String>,
    cwd: String,
    limits: Limits,
    mounts: Vec<ReadOnlyMount>,
    kill_switch: KillSwitch,
}

impl Exec {
    /// `program` is a path inside the sandbox (`/usr/bin/python3`) or a bare name
    /// looked up in [`SANDBOX_PATH`].
    pub fn new(program: impl Into<String>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            env: BTreeMap::new(),
            cwd: WORKSPACE.to_owned(),
            limits: Limits::default(),
            mounts: Vec::new(),
            kill_switch: KillSwitch::new(),
        }
    }

    /// A `/bin/sh -c SCRIPT` command.
    pub fn shell(script: impl Into<String>) -> Self {
        Self::new("/bin/sh").arg("-c").arg(script)
    }

    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Adds a variable to the sandbox's (otherwise scrubbed) environment.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(key.into(), value.into());
        self
    }

    /// Working directory inside the sandbox; relative paths are taken from the
    /// workspace. Default: the workspace.
    pub fn cwd(mut self, dir: impl Into<String>) -> Self {
        let dir = dir.into();
        self.cwd = if dir.starts_with('/') {
            dir
        } else {
            format!("{WORKSPACE}/{dir}")
        };
        self
    }

    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Makes host path `host` visible read-only at `sandbox` (both absolute).
    pub fn mount_ro(mut self, host: impl Into<PathBuf>, sandbox: impl Into<PathBuf>) -> Self {
        self.mounts.push(ReadOnlyMount {
            host: host.into(),
            sandbox: sandbox.into(),
        });
        self
    }

    /// Uses `switch` as this run's kill switch (so the caller can hold it before the
    /// run starts).
    pub fn kill_switch(mut self, switch: KillSwitch) -> Self {
        self.kill_switch = switch;
        self
    }

    pub fn program(&self) -> &str {
        &self.program
    }

    pub fn arguments(&self) -> &[String] {
        &self.args
    }

    pub fn env_vars(&self) -> &BTreeMap<String, String> {
        &self.env
    }

    pub fn working_dir(&self) -> &str {
        &self.cwd
    }

    pub fn resource_limits(&self) -> &Limits {
        &self.limits
    }

    pub fn mounts(&self) -> &[ReadOnlyMount] {
        &self.mounts
    }

    /// A handle that kills this run (clone it freely).
    pub fn killer(&self) -> KillSwitch {
        self.kill_switch.clone()
    }

    /// The environment the sandboxed program sees.
    pub fn sandbox_env(&self) -> BTreeMap<String, String> {
        let lang = std::env::var("LANG")
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "C.UTF-8".to_owned());
        let mut env = BTreeMap::from([
            ("PATH".to_owned(), SANDBOX_PATH.to_owned()),
            ("LANG".to_owned(), lang),
            ("HOME".to_owned(), "/tmp".to_owned()),
            ("TMPDIR".to_owned(), "/tmp".to_owned()),
        ]);
        env.extend(self.env.iter().map(|(k, v)| (k.clone(), v.clone())));
        env
    }

    /// Resolves a bare program name against [`SANDBOX_PATH`] on the host: the sandbox
    /// sees the same system directories, read-only.
    pub(crate) fn resolved_program(&self) -> String {
        if self.program.contains('/') {
            return self.program.clone();
        }
        SANDBOX_PATH
            .split(':')
            .map(|dir| format!("{dir}/{}", self.program))
            .find(|candidate| std::path::Path::new(candidate).is_file())
            .unwrap_or_else(|| self.program.clone())
    }

    pub(crate) fn check_mounts(&self) -> Result<(), SandboxError> {
        for m in &self.mounts {
            if !m.host.is_absolute() {
                return Err(SandboxError::BadMount(m.host.clone()));
            }
            if !m.sandbox.is_absolute() {
                return Err(SandboxError::BadMount(m.sandbox.clone()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_is_an_allow_list_plus_explicit_variables() {
        let env = Exec::new("true").env("APP_MODE", "test").sandbox_env();
        let keys: Vec<&str> = env.keys().map(String::as_str).collect();
        assert_eq!(keys, ["APP_MODE", "HOME", "LANG", "PATH", "TMPDIR"]);
        assert_eq!(env["HOME"], "/tmp");
        assert_eq!(env["PATH"], SANDBOX_PATH);
    }

    #[test]
    fn relative_working_dirs_are_inside_the_workspace() {
        assert_eq!(Exec::new("true").cwd("app").working_dir(), "/workspace/app");
        assert_eq!(Exec::new("true").cwd("/tmp").working_dir(), "/tmp");
    }
}
