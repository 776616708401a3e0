//! The design step with its review: the design comes from the provider, or was made
//! and reviewed before the job (the TUI's live preview, `new --strict`,
//! `iterate --design`); either way the step records the review as an event, so the
//! CLI and the TUI log show the design and its warnings before the code step.

use serde::{Deserialize, Serialize};

use super::PipelineEnv;
use super::generate::design_step;
use crate::design::{ApiDesign, Review, review, validate};
use crate::engine::{EventLevel, JobEvent, StepError, StepScope};
use crate::provider::ProviderKind;

/// The data of the design step's review event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesignReviewed {
    pub design: ApiDesign,
    pub review: Review,
}

/// The key under which the event's data holds a [`DesignReviewed`].
const DATA_KEY: &str = "design_review";

impl DesignReviewed {
    /// The review a job event carries, if it is the design step's review event.
    pub fn from_event(event: &JobEvent) -> Option<Self> {
        let data = event.data.as_ref()?.get(DATA_KEY)?;
        serde_json::from_value(data.clone()).ok()
    }
}

/// The design of a job: `given` (validated) or the provider's reading of `prompt`;
/// its review is logged either way.
pub(super) async fn reviewed_design_step(
    env: &PipelineEnv,
    kind: ProviderKind,
    prompt: &str,
    base: Option<&ApiDesign>,
    given: Option<&ApiDesign>,
    scope: StepScope,
) -> Result<ApiDesign, StepError> {
    let design = match given {
        Some(design) => {
            validate(design).map_err(|e| {
                StepError::fatal(format!("the design given to the job is invalid: {e}"))
            })?;
            design.clone()
        }
        None => design_step(env, kind, prompt, base, scope.clone()).await?,
    };
    let review = review(prompt, &design, base);
    log_review(&scope, &design, review).await;
    Ok(design)
}

async fn log_review(scope: &StepScope, design: &ApiDesign, review: Review) {
    let fields: usize = design.resources.iter().map(|r| r.fields.len()).sum();
    let relations: usize = design.resources.iter().map(|r| r.relations.len()).sum();
    let n = review.warnings.len();
    let summary = format!(
        "read {} resource{}, {fields} field{}, {relations} relation{} · {}",
        design.resources.len(),
        plural_s(design.resources.len()),
        plural_s(fields),
        plural_s(relations),
        if n == 0 {
            "no warnings".to_owned()
        } else {
            format!("{n} warning{}", plural_s(n))
        }
    );
    let lines = review.lines();
    let reviewed = DesignReviewed {
        design: design.clone(),
        review,
    };
    let data = serde_json::to_value(&reviewed)
        .ok()
        .map(|v| serde_json::json!({ DATA_KEY: v }));
    scope.log_with(EventLevel::Info, &summary, data).await;
    for line in lines {
        scope.log(EventLevel::Warn, &format!("⚠ {line}")).await;
    }
}

fn plural_s(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
