//! Shared by the `sandbox_*` integration tests: open a backend (or say loudly why
//! not), small limits, and run helpers.

#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use apiforge::config::Config;
use apiforge::sandbox::{
    Backend, Exec, Limits, Line, Outcome, Sandbox, SandboxError, Workspace, WorkspaceSource,
};

/// Opens `backend` with workspaces under `root`. The docker backend needs a
/// reachable engine: without one the test fails when `CI` is set (a skipped backend
/// is not a passed backend) and otherwise prints a SKIP line and returns `None`.
pub async fn open(backend: Backend, root: &Path) -> Option<Sandbox> {
    let config = Config::defaults().sandbox;
    match Sandbox::open(backend, &config, root.to_path_buf()).await {
        Ok(sandbox) => Some(sandbox),
        Err(e @ SandboxError::DockerUnreachable(_)) if backend == Backend::Docker => {
            if std::env::var_os("CI").is_some() {
                panic!("CI is set but the docker backend is unavailable: {e}");
            }
            eprintln!("SKIP docker backend: {e}");
            None
        }
        Err(e) => panic!("cannot open the {backend} sandbox: {e}"),
    }
}

/// Small limits so containment cases end fast and cannot hurt the machine.
pub fn small_limits() -> Limits {
    Limits {
        memory_bytes: 128 * 1024 * 1024,
        pids: 32,
        cpu_time: Duration::from_secs(20),
        wall: Duration::from_secs(30),
        workspace_bytes: 16 * 1024 * 1024,
    }
}

pub fn is_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

/// Runs `exec` and returns the outcome and all output as one string.
pub async fn run(sandbox: &Sandbox, workspace: &Workspace, exec: &Exec) -> (Outcome, String) {
    let mut output = String::new();
    let outcome = sandbox
        .run(workspace, exec, |line: &Line| {
            output.push_str(&line.text);
            output.push('\n');
        })
        .await
        .unwrap_or_else(|e| panic!("the sandbox could not run {:?}: {e}", exec.program()));
    (outcome, output)
}

pub async fn empty_workspace(sandbox: &Sandbox) -> Workspace {
    sandbox
        .prepare(WorkspaceSource::Empty, &small_limits())
        .await
        .expect("workspace is created")
}

/// Generates one `#[tokio::test]` per backend for each `async fn case(Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($case:ident),+ $(,)?) => {
        $(
            mod $case {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn process() {
                    super::$case(apiforge::sandbox::Backend::Process).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn docker() {
                    super::$case(apiforge::sandbox::Backend::Docker).await;
                }
            }
        )+
    };
}
