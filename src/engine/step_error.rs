//! How a step (and so a job) can end other than successfully.

use std::time::Duration;

#[derive(Debug, Clone, thiserror::Error)]
pub enum StepError {
    /// Worth trying again (a flaky sandbox, a 503 from the LLM).
    #[error("{0}")]
    Retryable(String),
    /// Trying again cannot help (invalid design, bad input); fails the job now.
    #[error("{0}")]
    Fatal(String),
    /// The user cancelled the job.
    #[error("cancelled")]
    Cancelled,
    /// The engine's own signals, raised by [`JobContext`](super::JobContext) and
    /// handled by the worker; handlers just propagate them with `?`.
    #[error("retry in {delay:?}: {reason}")]
    RetryLater { delay: Duration, reason: String },
    #[error("this worker lost its lease on the job")]
    LeaseLost,
    #[error("the worker is shutting down; the job is released to another worker")]
    Released,
}

impl StepError {
    pub fn retryable(e: impl std::fmt::Display) -> Self {
        StepError::Retryable(e.to_string())
    }

    pub fn fatal(e: impl std::fmt::Display) -> Self {
        StepError::Fatal(e.to_string())
    }
}

impl From<sqlx::Error> for StepError {
    fn from(e: sqlx::Error) -> Self {
        // A database hiccup is transient from the job's point of view.
        StepError::Retryable(format!("database error: {e}"))
    }
}

impl From<crate::db::DbError> for StepError {
    fn from(e: crate::db::DbError) -> Self {
        StepError::Retryable(e.to_string())
    }
}
