//! The product's workflows, each a durable job made of engine steps:
//!
//! * `generate` — prompt → design → spec → code + tests → sandbox check → version;
//! * `test` — check a recorded version again (e.g. after a hand edit).
//!
//! A failed check does not fail the job: the version is recorded with its report and
//! marked failing, so the user can see and fix it.

pub mod check_step;
pub mod generate;
pub mod test_version;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::codegen::Framework;
use crate::config::{Config, Dirs};
use crate::engine::Registry;
use crate::provider::ProviderKind;
use crate::sandbox::Backend;

pub const GENERATE: &str = "generate";
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
        .register(GENERATE, generate::Generate(env.clone()))
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
}
