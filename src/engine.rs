//! The durable job engine: Postgres is the queue, so any number of workers on any
//! number of machines share it.
//!
//! Guarantees (the README repeats them for users):
//! * A job is a sequence of named steps. A step's output is stored when it completes;
//!   a retried or resumed job skips completed steps and reuses their outputs.
//! * Workers claim jobs with `FOR UPDATE SKIP LOCKED` and hold a lease renewed by a
//!   heartbeat. A worker that dies loses its lease; another worker claims the job and
//!   resumes after the last completed step.
//! * A step's completion record commits in the same transaction as its database
//!   effects ([`JobContext::step_tx`]), and only while the worker still holds the lease
//!   — so such effects happen exactly once. Steps with outside effects
//!   ([`JobContext::step`]: sandbox runs, pushes) may run again after a crash in the
//!   middle of the step and must be idempotent or guarded.
//! * A job completes exactly once: the final state change is conditional on the lease.
//! * Failed steps are retried with exponential backoff and jitter by requeueing the
//!   job (the next attempt may run on another worker); non-retryable errors fail the
//!   job at once; every step has a maximum number of attempts.
//! * Concurrency: a per-worker limit and a per-user limit that holds across workers
//!   (claims of one user's jobs serialise on an advisory lock and recount).
//! * Cancellation stops a job at the next step boundary and cancels the running
//!   step's token at once (its sandbox is killed); the job ends `cancelled`.
//! * Every job/step start, finish and log line is a `job_events` row plus a NOTIFY that
//!   carries only the event id; subscribers fetch events through row-level security,
//!   so nobody receives another user's events.

pub mod events;
pub mod job;
pub mod job_context;
pub mod queue;
pub mod registry;
pub mod retry_policy;
pub mod stats;
pub mod step_error;
pub mod worker;

pub use events::{EventLevel, EventSubscription, JobEvent};
pub use job::{JobId, JobRecord, JobRequest, JobState, StepRecord};
pub use job_context::{JobContext, StepScope};
pub use registry::{JobHandler, Registry};
pub use retry_policy::RetryPolicy;
pub use step_error::StepError;
pub use worker::{Worker, WorkerOptions};

/// Channel that wakes workers (new job, cancellation).
pub const JOBS_CHANNEL: &str = "apiforge_jobs";
/// Channel announcing new `job_events` rows (payload: the event id only).
pub const EVENTS_CHANNEL: &str = "apiforge_events";
