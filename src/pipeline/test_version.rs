//! `test`: check a recorded version again and store the new report.

use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::Value;

use super::generate::{project_status, record_report};
use super::{PipelineEnv, PipelineOutput, TestInput, check_step};
use crate::codegen::{Framework, GeneratedFiles};
use crate::db::projects;
use crate::engine::{JobContext, JobHandler, RetryPolicy, StepError};
use crate::verify::Report;
use crate::versions;

pub struct TestVersion(pub Arc<PipelineEnv>);

impl JobHandler for TestVersion {
    fn run<'a>(&'a self, ctx: &'a mut JobContext) -> BoxFuture<'a, Result<Value, StepError>> {
        async move {
            let input: TestInput = ctx.input()?;
            let (project, number) = (input.project, input.version);
            let (files, framework): (GeneratedFiles, Framework) = ctx
                .step_tx("load", RetryPolicy::default(), move |tx, _| {
                    async move {
                        let version = versions::get(tx, project, number)
                            .await
                            .map_err(StepError::fatal)?;
                        let files = versions::read_contents(tx, project, number)
                            .await
                            .map_err(StepError::fatal)?;
                        Ok((files, version.framework))
                    }
                    .boxed()
                })
                .await?;
            let env = &self.0;
            let report: Report = ctx
                .step("check", RetryPolicy::default().attempts(2), |scope| {
                    check_step::run(env, &files, framework, input.sandbox, scope)
                })
                .await?;
            let job = ctx.job_id();
            let output = ctx
                .step_tx("record", RetryPolicy::default(), move |tx, _| {
                    async move {
                        let id = versions::version_id(tx, project, number)
                            .await
                            .map_err(StepError::fatal)?;
                        let status =
                            record_report(tx, id, Some(job), input.sandbox, &report).await?;
                        // Only the latest version's result is the project's status.
                        let latest: Option<i32> =
                            sqlx::query_scalar("SELECT latest_version FROM projects WHERE id = $1")
                                .bind(project)
                                .fetch_one(&mut *tx)
                                .await?;
                        if latest == Some(number) {
                            projects::set_status(tx, project, project_status(status)).await?;
                        }
                        Ok(PipelineOutput {
                            project,
                            version: number,
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
