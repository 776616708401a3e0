//! Which job kinds a worker can run.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::future::BoxFuture;

use super::{JobContext, StepError};

/// Runs one kind of job: a sequence of [`JobContext::step`] calls. The returned value
/// becomes the job's output.
pub trait JobHandler: Send + Sync + 'static {
    fn run<'a>(
        &'a self,
        ctx: &'a mut JobContext,
    ) -> BoxFuture<'a, Result<serde_json::Value, StepError>>;
}

impl<F> JobHandler for F
where
    F: for<'a> Fn(&'a mut JobContext) -> BoxFuture<'a, Result<serde_json::Value, StepError>>
        + Send
        + Sync
        + 'static,
{
    fn run<'a>(
        &'a self,
        ctx: &'a mut JobContext,
    ) -> BoxFuture<'a, Result<serde_json::Value, StepError>> {
        self(ctx)
    }
}

#[derive(Clone, Default)]
pub struct Registry {
    handlers: BTreeMap<String, Arc<dyn JobHandler>>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn register(mut self, kind: impl Into<String>, handler: impl JobHandler) -> Self {
        self.handlers.insert(kind.into(), Arc::new(handler));
        self
    }

    pub fn get(&self, kind: &str) -> Option<Arc<dyn JobHandler>> {
        self.handlers.get(kind).cloned()
    }

    /// The kinds this worker claims (others are left for workers that know them).
    pub fn kinds(&self) -> Vec<String> {
        self.handlers.keys().cloned().collect()
    }
}
