//! The product's workflows, each a durable job made of engine steps:
//!
//! * `generate` — prompt → design → spec → code + tests → sandbox check → version;
//! * `iterate` — a follow-up prompt → a new version, hand edits merged in;
//! * `save` — hand-edited files → a new version, tested;
//! * `test` — check a recorded version again.
//!
//! A job that sets its project `running` and ends without a version hands the project
//! back through [`settle_on_failure::SettleOnFailure`].
//!
//! A failed check does not fail the job: the version is recorded with its report and
//! marked failing, so the user can see and fix it.

pub mod check_step;
pub mod design_review;
pub mod generate;
pub mod iterate;
pub mod launch;
pub mod repair;
pub mod save;
pub mod settle_on_failure;
pub mod test_version;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::codegen::Framework;
use crate::config::{Config, Dirs};
use crate::design::ApiDesign;
use crate::engine::Registry;
use crate::provider::ProviderKind;
use crate::sandbox::Backend;
use settle_on_failure::SettleOnFailure;

pub const GENERATE: &str = "generate";
pub const ITERATE: &str = "iterate";
pub const SAVE: &str = "save";
pub const TEST: &str = "test";

/// What the pipelines need from the machine they run on.
#[derive(Debug, Clone)]
pub struct PipelineEnv {
    pub config: Config,
    pub dirs: Dirs,
}

/// Every pipeline, for a worker.
pub fn registry(env: Arc<PipelineEnv>) -> Registry {
    Registry::new()
        .register(GENERATE, SettleOnFailure(generate::Generate(env.clone())))
        .register(ITERATE, SettleOnFailure(iterate::Iterate(env.clone())))
        .register(SAVE, SettleOnFailure(save::Save(env.clone())))
        .register(TEST, test_version::TestVersion(env))
}

/// Input of a `generate` job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GenerateInput {
    pub project: Uuid,
    pub prompt: String,
    pub framework: Framework,
    pub provider: ProviderKind,
    pub sandbox: Backend,
    /// The design to build, already made and reviewed before the job (the TUI's
    /// preview, `new --strict`); the provider is then not asked again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub design: Option<ApiDesign>,
}

/// Input of an `iterate` job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IterateInput {
    pub project: Uuid,
    pub prompt: String,
    /// Default: the provider the project was made with.
    pub provider: Option<ProviderKind>,
    pub sandbox: Backend,
    /// The new design, made before the job (`iterate --design FILE`, the TUI's
    /// preview, `iterate --strict`) instead of by the provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub design: Option<ApiDesign>,
    /// The version `design` was made from: the job refuses when the project has
    /// moved on since, rather than drop the newer version's changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<i32>,
    /// `design` was edited by hand and `prompt` only names the edit.
    #[serde(default)]
    pub by_hand: bool,
}

/// Input of a `save` job: the complete file set of the new version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SaveInput {
    pub project: Uuid,
    pub files: crate::codegen::GeneratedFiles,
    /// What the edit was ("fix the price rounding").
    pub message: String,
    pub sandbox: Backend,
}

/// Input of a `test` job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TestInput {
    pub project: Uuid,
    pub version: i32,
    pub sandbox: Backend,
}

/// What a pipeline job returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineOutput {
    pub project: Uuid,
    pub version: i32,
    /// `passing` or `failing`.
    pub check_status: String,
    pub totals: crate::verify::Totals,
    /// Files whose hand edits conflicted with regenerated code (iterate only); they
    /// hold conflict markers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
    /// How the openai provider's test-failure repair rounds went, when they were
    /// considered (a failing first design with model-written handlers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repairs: Option<repair::RepairSummary>,
}
