//! `iterate`: a follow-up prompt on the latest version's design → a new version. Hand
//! edits of the parent are carried over by a three-way merge whose base is the code the
//! parent's design generates (the code those edits started from); conflicts are
//! recorded with markers and reported, never silently overwritten.

use std::collections::BTreeSet;
use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::design_review::reviewed_design_step;
use super::generate::{project_status, record_report, spec_step};
use super::{IterateInput, PipelineEnv, PipelineOutput, check_step, repair};
use crate::codegen::{Framework, GeneratedFiles, project::render_project};
use crate::db::projects::{self, ProjectStatus};
use crate::design::ApiDesign;
use crate::engine::{EventLevel, JobContext, JobHandler, RetryPolicy, StepError};
use crate::provider::ProviderKind;
use crate::verify::Report;
use crate::versions::{self, NewVersion, Origin, merge};

pub struct Iterate(pub Arc<PipelineEnv>);

/// What the iteration starts from.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Parent {
    number: i32,
    design: ApiDesign,
    framework: Framework,
    provider: ProviderKind,
    files: GeneratedFiles,
}

/// The merged files and the paths that conflicted.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Merged {
    files: GeneratedFiles,
    generated: BTreeSet<String>,
    conflicts: Vec<String>,
}

impl repair::Code for Merged {
    fn files(&self) -> &GeneratedFiles {
        &self.files
    }
}

/// The code `design` generates with the parent's hand edits (`ours`) merged in; `base`
/// is the code the parent's design generates (what those edits started from).
fn merge_code(
    design: &ApiDesign,
    base: &GeneratedFiles,
    ours: &GeneratedFiles,
    framework: Framework,
) -> Result<Merged, StepError> {
    let theirs = render_project(design, framework).map_err(StepError::fatal)?;
    let outcome = merge::merge(base, ours, &theirs);
    Ok(Merged {
        generated: outcome.generated(&theirs),
        conflicts: outcome.conflicting_paths().map(str::to_owned).collect(),
        files: outcome.files,
    })
}

impl JobHandler for Iterate {
    fn run<'a>(&'a self, ctx: &'a mut JobContext) -> BoxFuture<'a, Result<Value, StepError>> {
        async move {
            let input: IterateInput = ctx.input()?;
            let output = iterate(&self.0, ctx, &input).await?;
            serde_json::to_value(output).map_err(StepError::fatal)
        }
        .boxed()
    }
}

async fn iterate(
    env: &PipelineEnv,
    ctx: &mut JobContext,
    input: &IterateInput,
) -> Result<PipelineOutput, StepError> {
    let project = input.project;
    let expected_parent = input.parent;
    let parent: Parent = ctx
        .step_tx("load", RetryPolicy::default(), move |tx, _| {
            async move {
                let p = projects::get(tx, project)
                    .await?
                    .ok_or_else(|| StepError::fatal("the project no longer exists"))?;
                let number = p.latest_version.ok_or_else(|| {
                    StepError::fatal(format!("{} has no version to iterate on yet", p.slug))
                })?;
                check_parent(expected_parent, number, &p.slug)?;
                let provider: ProviderKind = p.provider.parse().map_err(StepError::fatal)?;
                let version = versions::get(tx, project, number)
                    .await
                    .map_err(StepError::fatal)?;
                let files = versions::read_contents(tx, project, number)
                    .await
                    .map_err(StepError::fatal)?;
                projects::set_status(tx, project, ProjectStatus::Running).await?;
                Ok(Parent {
                    number,
                    design: version.design,
                    framework: version.framework,
                    provider,
                    files,
                })
            }
            .boxed()
        })
        .await?;

    let provider = input.provider.unwrap_or(parent.provider);
    let design = ctx
        .step(
            "design",
            RetryPolicy::default().attempts(if provider == ProviderKind::Rules {
                1
            } else {
                3
            }),
            |scope| {
                reviewed_design_step(
                    env,
                    provider,
                    // A hand-edited design came from no prompt: review only its shape.
                    if input.by_hand { "" } else { &input.prompt },
                    Some(&parent.design),
                    input.design.as_ref(),
                    scope,
                )
            },
        )
        .await?;

    let spec = spec_step(ctx, &design).await?;

    let (framework, base_design, new_design) =
        (parent.framework, parent.design.clone(), design.clone());
    let ours = parent.files.clone();
    let merged: Merged = ctx
        .step("code", RetryPolicy::once(), move |scope| async move {
            let base = render_project(&base_design, framework).map_err(StepError::fatal)?;
            let outcome = merge_code(&new_design, &base, &ours, framework)?;
            let conflicts = outcome.conflicts.clone();
            let carried = ours
                .iter()
                .filter(|(p, c)| base.get(*p) != Some(*c))
                .count();
            if carried > 0 {
                scope
                    .log(
                        EventLevel::Info,
                        &format!("carried {carried} hand-edited file(s) over"),
                    )
                    .await;
            }
            if !conflicts.is_empty() {
                scope
                    .log(
                        EventLevel::Warn,
                        &format!(
                            "hand edits conflict with the regenerated code in: {}",
                            conflicts.join(", ")
                        ),
                    )
                    .await;
            }
            Ok(outcome)
        })
        .await?;

    let report: Report = ctx
        .step("check", RetryPolicy::default().attempts(2), |scope| {
            check_step::run(env, &merged.files, framework, input.sandbox, scope)
        })
        .await?;

    let request = repair::RepairRequest {
        provider,
        prompt: &input.prompt,
        base: Some(&parent.design),
        framework,
        sandbox: input.sandbox,
    };
    let first = repair::Attempt {
        design,
        spec,
        code: merged,
        report,
    };
    // Rendering the parent's design again per round costs milliseconds; rounds are few.
    let repaired = repair::run(env, ctx, &request, first, |d| {
        let base = render_project(&parent.design, framework).map_err(StepError::fatal)?;
        merge_code(d, &base, &parent.files, framework)
    })
    .await?;
    let repairs = repaired.summary;
    let repair::Attempt {
        design,
        spec,
        code: merged,
        report,
    } = repaired.best;

    let job = ctx.job_id();
    let owner = ctx.owner_id();
    let input = input.clone();
    let parent_number = parent.number;
    ctx.step_tx("version", RetryPolicy::default(), move |tx, _| {
        async move {
            let recorded = versions::record_version(
                tx,
                &NewVersion {
                    project: input.project,
                    parent: Some(parent_number),
                    origin: Origin::Iterate,
                    prompt: &input.prompt,
                    design: &design,
                    spec: &spec,
                    framework,
                    files: &merged.files,
                    generated: &merged.generated,
                    created_by: owner,
                },
            )
            .await
            .map_err(StepError::fatal)?;
            let status = record_report(tx, recorded.id, Some(job), input.sandbox, &report).await?;
            projects::set_status(tx, input.project, project_status(status)).await?;
            Ok(PipelineOutput {
                project: input.project,
                version: recorded.number,
                check_status: status.as_str().to_owned(),
                totals: report.totals,
                conflicts: merged.conflicts,
                repairs,
            })
        }
        .boxed()
    })
    .await
}

/// A design made from version `expected` is only built on that version: a newer one
/// would lose its changes.
fn check_parent(expected: Option<i32>, latest: i32, slug: &str) -> Result<(), StepError> {
    match expected {
        Some(made_from) if made_from != latest => Err(StepError::fatal(format!(
            "the design was made from v{made_from} of {slug}, but its latest version is now v{latest}; start again from v{latest}"
        ))),
        _ => Ok(()),
    }
}
