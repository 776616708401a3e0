//! `save`: hand-edited files become a new version (origin `edit`) and are tested.

use std::collections::BTreeSet;
use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::generate::{project_status, record_report};
use super::{PipelineEnv, PipelineOutput, SaveInput, check_step};
use crate::codegen::project::{DESIGN_FILE, render_project};
use crate::codegen::{Framework, GeneratedFiles};
use crate::db::projects::{self, ProjectStatus};
use crate::design::ApiDesign;
use crate::engine::{JobContext, JobHandler, RetryPolicy, StepError};
use crate::verify::Report;
use crate::versions::{self, NewVersion, Origin};

pub struct Save(pub Arc<PipelineEnv>);

/// The version the edit applies to, and what the new one records.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Edited {
    parent: i32,
    framework: Framework,
    design: ApiDesign,
    spec: Value,
    generated: BTreeSet<String>,
}

impl JobHandler for Save {
    fn run<'a>(&'a self, ctx: &'a mut JobContext) -> BoxFuture<'a, Result<Value, StepError>> {
        async move {
            let input: SaveInput = ctx.input()?;
            let project = input.project;
            let files = input.files.clone();
            let edited: Edited = ctx
                .step_tx("load", RetryPolicy::default(), move |tx, _| {
                    async move {
                        let p = projects::get(tx, project)
                            .await?
                            .ok_or_else(|| StepError::fatal("the project no longer exists"))?;
                        let parent = p.latest_version.ok_or_else(|| {
                            StepError::fatal(format!("{} has no version to edit yet", p.slug))
                        })?;
                        let v = versions::get(tx, project, parent)
                            .await
                            .map_err(StepError::fatal)?;
                        projects::set_status(tx, project, ProjectStatus::Running).await?;
                        describe(&files, parent, v.framework, v.design, v.spec)
                    }
                    .boxed()
                })
                .await?;
            let env = &self.0;
            let report: Report = ctx
                .step("check", RetryPolicy::default().attempts(2), |scope| {
                    check_step::run(env, &input.files, edited.framework, input.sandbox, scope)
                })
                .await?;
            let (job, owner) = (ctx.job_id(), ctx.owner_id());
            let output = ctx
                .step_tx("version", RetryPolicy::default(), move |tx, _| {
                    async move {
                        let recorded = versions::record_version(
                            tx,
                            &NewVersion {
                                project,
                                parent: Some(edited.parent),
                                origin: Origin::Edit,
                                prompt: &input.message,
                                design: &edited.design,
                                spec: &edited.spec,
                                framework: edited.framework,
                                files: &input.files,
                                generated: &edited.generated,
                                created_by: owner,
                            },
                        )
                        .await
                        .map_err(StepError::fatal)?;
                        let status =
                            record_report(tx, recorded.id, Some(job), input.sandbox, &report)
                                .await?;
                        projects::set_status(tx, project, project_status(status)).await?;
                        Ok(PipelineOutput {
                            project,
                            version: recorded.number,
                            check_status: status.as_str().to_owned(),
                            totals: report.totals,
                            conflicts: Vec::new(),
                            repairs: None,
                        })
                    }
                    .boxed()
                })
                .await?;
            serde_json::to_value(output).map_err(StepError::fatal)
        }
        .boxed()
    }
}

/// The design and spec of the edited files (their own `apiforge.json` and
/// `openapi.json` when those still parse and validate, else the parent's), and which
/// files are exactly what that design generates.
fn describe(
    files: &GeneratedFiles,
    parent: i32,
    framework: Framework,
    parent_design: ApiDesign,
    parent_spec: Value,
) -> Result<Edited, StepError> {
    let design = match files
        .get(DESIGN_FILE)
        .map(|t| serde_json::from_str::<ApiDesign>(t))
    {
        Some(Ok(d)) if crate::design::validate(&d).is_ok() => d,
        Some(_) => {
            return Err(StepError::fatal(format!(
                "the edited {DESIGN_FILE} is not a valid design; fix it or restore the previous one"
            )));
        }
        None => parent_design,
    };
    let spec = files
        .get("openapi.json")
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
        .unwrap_or(parent_spec);
    let pristine = render_project(&design, framework).map_err(StepError::fatal)?;
    let generated = files
        .iter()
        .filter(|(path, content)| pristine.get(*path) == Some(*content))
        .map(|(path, _)| path.clone())
        .collect();
    Ok(Edited {
        parent,
        framework,
        design,
        spec,
        generated,
    })
}
