//! The project's own test suite, run inside the sandbox with the prepared runtime
//! mounted read-only, and read back per test from the JUnit XML file the runner
//! writes into the workspace.

pub mod junit;

use std::path::PathBuf;
use std::time::Duration;

use crate::sandbox::{Exec, Limits, Line, Sandbox, SandboxError, WORKSPACE, Workspace};
use crate::verify::report::NativeResults;

/// Where the runner writes its JUnit XML, relative to the workspace.
pub const REPORT_FILE: &str = ".apiforge-native.xml";
/// The runner's temporary directory, inside the workspace (so it counts against the
/// workspace cap and works where the sandbox's own `/tmp` is not writable).
pub const TMP_DIR: &str = ".apiforge-tmp";
/// How many output lines the results keep for failures the XML does not explain.
const TAIL_LINES: usize = 40;

/// Which runner, and the runtime it needs.
#[derive(Debug, Clone)]
pub enum NativeSuite {
    /// `python -m pytest` with the interpreter of a prepared venv (`venv` is mounted
    /// read-only at its own path).
    Pytest { python: PathBuf, venv: PathBuf },
    /// `node --test` with `NODE_PATH` pointing at a prepared `node_modules` (mounted
    /// read-only at its own path).
    NodeTest {
        node: PathBuf,
        node_modules: PathBuf,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum NativeError {
    #[error("the native test suite could not run: {0}")]
    Sandbox(#[from] SandboxError),
}

impl NativeSuite {
    /// The command line shown in reports.
    pub fn runner(&self) -> String {
        match self {
            NativeSuite::Pytest { .. } => "python -m pytest".to_owned(),
            NativeSuite::NodeTest { .. } => "node --test".to_owned(),
        }
    }

    /// The sandboxed command, writing JUnit XML to [`REPORT_FILE`].
    pub fn exec(&self, limits: Limits) -> Exec {
        let report = format!("{WORKSPACE}/{REPORT_FILE}");
        match self {
            NativeSuite::Pytest { python, venv } => Exec::new(python.display().to_string())
                .args([
                    "-m".to_owned(),
                    "pytest".to_owned(),
                    "-q".to_owned(),
                    "-p".to_owned(),
                    "no:cacheprovider".to_owned(),
                    format!("--junitxml={report}"),
                ])
                .env("PYTHONDONTWRITEBYTECODE", "1")
                .mount_ro(venv, venv)
                .limits(limits),
            NativeSuite::NodeTest { node, node_modules } => Exec::new(node.display().to_string())
                .args([
                    "--test".to_owned(),
                    "--test-reporter=junit".to_owned(),
                    format!("--test-reporter-destination={report}"),
                    "--test-reporter=spec".to_owned(),
                    "--test-reporter-destination=stdout".to_owned(),
                ])
                .env("NODE_PATH", node_modules.display().to_string())
                .mount_ro(node_modules, node_modules)
                .limits(limits),
        }
    }
}

/// Runs `suite` in `workspace` and parses its results. A runner that ends without a
/// readable report still gives results: no tests, its exit code and output tail.
pub async fn run(
    sandbox: &Sandbox,
    workspace: &Workspace,
    suite: &NativeSuite,
    limits: Limits,
    kill: Option<&crate::sandbox::KillSwitch>,
) -> Result<(NativeResults, Duration), NativeError> {
    let started = std::time::Instant::now();
    let tmp = workspace.dir().join(TMP_DIR);
    tokio::fs::create_dir_all(&tmp)
        .await
        .map_err(|e| SandboxError::io(format!("cannot create {}", tmp.display()), e))?;
    let mut tail: Vec<String> = Vec::new();
    let mut exec = suite
        .exec(limits)
        .env("TMPDIR", format!("{WORKSPACE}/{TMP_DIR}"));
    if let Some(kill) = kill {
        exec = exec.kill_switch(kill.clone());
    }
    let outcome = sandbox
        .run(workspace, &exec, |line: &Line| {
            tail.push(line.text.clone());
            if tail.len() > TAIL_LINES {
                tail.remove(0);
            }
        })
        .await?;
    let path = workspace.dir().join(REPORT_FILE);
    let mut tests = Vec::new();
    match tokio::fs::read_to_string(&path).await {
        Ok(xml) => match junit::parse(&xml) {
            Ok(parsed) => tests = parsed,
            Err(e) => tail.push(format!("apiforge: {e}")),
        },
        Err(e) => tail.push(format!(
            "apiforge: the runner wrote no JUnit report ({}: {e})",
            path.display()
        )),
    }
    let exit_code = if outcome.timed_out || outcome.killed || outcome.out_of_memory {
        tail.push(format!("apiforge: {}", outcome.summary()));
        None
    } else {
        outcome.exit_code
    };
    Ok((
        NativeResults {
            runner: suite.runner(),
            exit_code,
            tests,
            output_tail: tail,
        },
        started.elapsed(),
    ))
}
