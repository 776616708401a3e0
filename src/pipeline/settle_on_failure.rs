//! [`SettleOnFailure`]: the one place where a pipeline job that ends without a version
//! gives its project back a truthful status.

use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::Value;

use crate::db::projects;
use crate::engine::{JobContext, JobHandler, StepError};

/// Wraps a pipeline that sets its project `running`: when the job ends without
/// recording a version (an error, a cancellation, a step that gave up), the project
/// must not stay `running` — it gets the status its versions and deployments support.
pub struct SettleOnFailure<H>(pub H);

impl<H: JobHandler> JobHandler for SettleOnFailure<H> {
    fn run<'a>(&'a self, ctx: &'a mut JobContext) -> BoxFuture<'a, Result<Value, StepError>> {
        async move {
            let result = self.0.run(ctx).await;
            if let (Err(e), Some(project)) = (&result, ctx.project_id())
                && ends_the_job(e)
            {
                let settled = async {
                    let mut conn = ctx.pool().acquire().await?;
                    projects::settle_status(&mut conn, project, ctx.job_id()).await
                }
                .await;
                if let Err(e) = settled {
                    tracing::warn!(%project, job = ctx.job_id(), "cannot settle the project's status: {e}");
                }
            }
            result
        }
        .boxed()
    }
}

/// Whether the job stops here for good; otherwise it runs again (later, or on another
/// worker) and the project really is still being worked on.
fn ends_the_job(e: &StepError) -> bool {
    !matches!(
        e,
        StepError::LeaseLost | StepError::Released | StepError::RetryLater { .. }
    )
}
