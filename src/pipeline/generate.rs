//! `generate`: prompt → design → spec → code + tests → sandbox check → version.

use std::collections::BTreeSet;
use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::Value;

use super::design_review::reviewed_design_step;
use super::{GenerateInput, PipelineEnv, PipelineOutput, check_step, repair};
use crate::codegen::{GeneratedFiles, openapi, project::render_project, spec_check};
use crate::db::projects::{self, ProjectStatus};
use crate::design::ApiDesign;
use crate::engine::{EventLevel, JobContext, JobHandler, RetryPolicy, StepError};
use crate::provider::{self, DesignRequest, ProviderEvent, ProviderKind};
use crate::verify::Report;
use crate::versions::{self, NewTestRun, NewVersion, Origin};

pub struct Generate(pub Arc<PipelineEnv>);

impl JobHandler for Generate {
    fn run<'a>(&'a self, ctx: &'a mut JobContext) -> BoxFuture<'a, Result<Value, StepError>> {
        async move {
            let input: GenerateInput = ctx.input()?;
            let output = generate(&self.0, ctx, &input).await?;
            serde_json::to_value(output).map_err(StepError::fatal)
        }
        .boxed()
    }
}

async fn generate(
    env: &PipelineEnv,
    ctx: &mut JobContext,
    input: &GenerateInput,
) -> Result<PipelineOutput, StepError> {
    let project = input.project;
    ctx.step_tx("start", RetryPolicy::default(), move |tx, _| {
        async move {
            projects::set_status(tx, project, ProjectStatus::Running).await?;
            Ok(())
        }
        .boxed()
    })
    .await?;

    let design = ctx
        .step("design", design_policy(input.provider), |scope| {
            reviewed_design_step(
                env,
                input.provider,
                &input.prompt,
                None,
                input.design.as_ref(),
                scope,
            )
        })
        .await?;

    let spec = spec_step(ctx, &design).await?;

    let code_design = design.clone();
    let framework = input.framework;
    let files: GeneratedFiles = ctx
        .step("code", RetryPolicy::once(), move |_| async move {
            render_project(&code_design, framework).map_err(StepError::fatal)
        })
        .await?;

    let report: Report = ctx
        .step("check", RetryPolicy::default().attempts(2), |scope| {
            check_step::run(env, &files, framework, input.sandbox, scope)
        })
        .await?;

    let repaired = repair_rounds(env, ctx, input, design, spec, files, report).await?;
    let best = &repaired.best;
    record(
        ctx,
        input,
        (&best.design, &best.spec, &best.code, &best.report),
        repaired.summary,
    )
    .await
}

/// The openai provider's test-failure repair rounds ([`repair::run`]).
async fn repair_rounds(
    env: &PipelineEnv,
    ctx: &mut JobContext,
    input: &GenerateInput,
    design: ApiDesign,
    spec: Value,
    files: GeneratedFiles,
    report: Report,
) -> Result<repair::Repaired<GeneratedFiles>, StepError> {
    let framework = input.framework;
    let request = repair::RepairRequest {
        provider: input.provider,
        prompt: &input.prompt,
        base: None,
        framework,
        sandbox: input.sandbox,
    };
    let first = repair::Attempt {
        design,
        spec,
        code: files,
        report,
    };
    repair::run(env, ctx, &request, first, |d| {
        render_project(d, framework).map_err(StepError::fatal)
    })
    .await
}

/// The OpenAPI document for `design`, checked against OpenAPI 3.1 (a pure step: its
/// output is stored, so a resumed job does not rebuild it).
pub(super) async fn spec_step(
    ctx: &mut JobContext,
    design: &ApiDesign,
) -> Result<Value, StepError> {
    let design = design.clone();
    ctx.step("spec", RetryPolicy::once(), move |_| async move {
        build_spec(&design)
    })
    .await
}

/// The OpenAPI document for `design`, checked against OpenAPI 3.1.
pub(super) fn build_spec(design: &ApiDesign) -> Result<Value, StepError> {
    let spec = openapi::build(design);
    spec_check::check(&spec)
        .map_err(|e| StepError::fatal(format!("the generated OpenAPI document is invalid: {e}")))?;
    Ok(spec)
}

/// The last step: the version, its test run and the project's status, in the
/// transaction that completes the step (so they happen exactly once).
async fn record(
    ctx: &mut JobContext,
    input: &GenerateInput,
    (design, spec, files, report): (&ApiDesign, &Value, &GeneratedFiles, &Report),
    repairs: Option<repair::RepairSummary>,
) -> Result<PipelineOutput, StepError> {
    let job = ctx.job_id();
    let owner = ctx.owner_id();
    let input = input.clone();
    let (design, spec, files, report) =
        (design.clone(), spec.clone(), files.clone(), report.clone());
    ctx.step_tx("version", RetryPolicy::default(), move |tx, _| {
        async move {
            let generated: BTreeSet<String> = files.keys().cloned().collect();
            let recorded = versions::record_version(
                tx,
                &NewVersion {
                    project: input.project,
                    parent: None,
                    origin: Origin::Generate,
                    prompt: &input.prompt,
                    design: &design,
                    spec: &spec,
                    framework: input.framework,
                    files: &files,
                    generated: &generated,
                    created_by: owner,
                },
            )
            .await
            .map_err(StepError::fatal)?;
            let status = record_report(tx, recorded.id, Some(job), input.sandbox, &report).await?;
            projects::set_status(tx, input.project, project_status(status)).await?;
            sqlx::query("UPDATE projects SET name = $2, description = $3 WHERE id = $1")
                .bind(input.project)
                .bind(design.title.chars().take(200).collect::<String>())
                .bind(&design.description)
                .execute(&mut *tx)
                .await?;
            Ok(PipelineOutput {
                project: input.project,
                version: recorded.number,
                check_status: status.as_str().to_owned(),
                totals: report.totals,
                conflicts: Vec::new(),
                repairs,
            })
        }
        .boxed()
    })
    .await
}

/// Stores the report as the version's test run and returns the resulting status.
pub(super) async fn record_report(
    tx: &mut sqlx::PgConnection,
    version: uuid::Uuid,
    job: Option<i64>,
    backend: crate::sandbox::Backend,
    report: &Report,
) -> Result<versions::CheckStatus, StepError> {
    let t = &report.totals;
    let json = serde_json::to_value(report).map_err(StepError::fatal)?;
    let finished = chrono::Utc::now();
    let started = finished - chrono::Duration::from_std(report.timings.total).unwrap_or_default();
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    // A suite that could not run (no report, killed, crashed runner) is a failure
    // even when no individual test failed.
    let counted = t.native_failed + t.contract_failed + report.errors.len();
    let failed = if report.passed() {
        counted
    } else {
        counted.max(1)
    };
    let run = NewTestRun {
        version,
        job,
        sandbox: backend,
        passed: count(t.native_passed + t.contract_passed),
        failed: count(failed),
        skipped: count(t.native_skipped),
        report: &json,
        started_at: started,
        finished_at: finished,
    };
    let (_, status) = versions::record_test_run(tx, &run)
        .await
        .map_err(StepError::fatal)?;
    Ok(status)
}

pub(super) fn project_status(status: versions::CheckStatus) -> ProjectStatus {
    match status {
        versions::CheckStatus::Passing => ProjectStatus::Passing,
        _ => ProjectStatus::Failing,
    }
}

/// The rules provider is deterministic (a failure repeats); an LLM call may not be.
fn design_policy(kind: ProviderKind) -> RetryPolicy {
    match kind {
        ProviderKind::Rules => RetryPolicy::once(),
        ProviderKind::Openai => RetryPolicy::default().attempts(3),
    }
}

/// Runs the provider, forwarding its progress lines to the job's log.
pub(super) async fn design_step(
    env: &PipelineEnv,
    kind: ProviderKind,
    prompt: &str,
    base: Option<&ApiDesign>,
    scope: crate::engine::StepScope,
) -> Result<ApiDesign, StepError> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let mut on_event = move |e: ProviderEvent| {
        if let ProviderEvent::Progress { message } = e {
            let _ = tx.send(message);
        }
    };
    let designing = provider::design(
        &env.config.provider,
        kind,
        DesignRequest { prompt, base },
        &mut on_event,
    );
    tokio::pin!(designing);
    let result = loop {
        tokio::select! {
            r = &mut designing => break r,
            Some(line) = rx.recv() => scope.log(EventLevel::Info, &line).await,
        }
    };
    result.map_err(|e| {
        if e.is_usage() {
            StepError::fatal(e)
        } else {
            StepError::retryable(e)
        }
    })
}
