//! The sandbox check as a step body: write the files, prepare the runtime, run the
//! project's own tests and the contract tests, return the report. The running sandbox
//! is killed the moment the step's cancellation token fires.

use crate::codegen::{Framework, GeneratedFiles};
use crate::engine::{EventLevel, StepError, StepScope};
use crate::runtimes::Runtimes;
use crate::sandbox::{Backend, Limits, Sandbox};
use crate::verify::Report;
use crate::verify::project::{CheckSettings, Project, check, prepare_runtime};

use super::PipelineEnv;

pub async fn run(
    env: &PipelineEnv,
    files: &GeneratedFiles,
    framework: Framework,
    backend: Backend,
    scope: StepScope,
) -> Result<Report, StepError> {
    let scratch = tempfile::Builder::new()
        .prefix("apiforge-check-")
        .tempdir()
        .map_err(|e| StepError::retryable(format!("cannot create a scratch directory: {e}")))?;
    crate::codegen::project::write_files(scratch.path(), files).map_err(StepError::retryable)?;
    let project = Project::load(scratch.path()).map_err(StepError::fatal)?;

    let runtimes = Runtimes::new(&env.dirs.cache, &env.config.runtimes);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let installing = tokio::task::spawn_blocking(move || {
        prepare_runtime(&runtimes, framework, &mut |line| {
            let _ = tx.send(line.to_owned());
        })
    });
    while let Some(line) = rx.recv().await {
        scope
            .log(EventLevel::Info, &format!("runtime: {line}"))
            .await;
    }
    let runtime = installing
        .await
        .map_err(|e| StepError::retryable(format!("the runtime installer stopped: {e}")))?
        .map_err(|e| {
            StepError::retryable(format!("cannot prepare the {framework} runtime: {e}"))
        })?;

    let sandbox = Sandbox::open(
        backend,
        &env.config.sandbox,
        crate::sandbox::default_workspace_root(&env.dirs),
    )
    .await
    .map_err(|e| {
        StepError::retryable(format!(
            "the {} sandbox is not available: {e}",
            backend.as_str()
        ))
    })?;
    let mut settings = CheckSettings::new(Limits::from_config(&env.config.sandbox));
    // Cancelling the job kills the server and the test runner at once; the check then
    // returns promptly with whatever it had.
    settings.cancel = Some(scope.cancel.clone());
    let checked = check(&sandbox, &project, &runtime, settings).await;
    if scope.cancel.is_cancelled() {
        return Err(StepError::Cancelled);
    }
    let run = checked.map_err(|e| StepError::retryable(format!("the sandbox failed: {e}")))?;
    let report = run.report;
    if let Err(e) = run.workspace.remove().await {
        tracing::warn!("cannot remove a check workspace: {e}");
    }
    let t = &report.totals;
    scope
        .log(
            if report.passed() {
                EventLevel::Info
            } else {
                EventLevel::Warn
            },
            &format!(
                "tests {}/{} · contract {}/{}",
                t.native_passed,
                t.native_passed + t.native_failed,
                t.contract_passed,
                t.contract_passed + t.contract_failed
            ),
        )
        .await;
    Ok(report)
}
