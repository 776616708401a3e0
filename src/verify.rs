//! Verification: proving a generated (or hand-edited) project meets its contract.
//!
//! * [`contract`] — contract tests apiforge derives from the project's
//!   `openapi.json` and runs over HTTP against the sandboxed server;
//! * [`native`] — the project's own test suite (pytest / node:test) run inside the
//!   sandbox, parsed per test;
//! * [`report`] — the serde [`Report`] the CLI prints and the engine and TUI store;
//! * [`project`] — `apiforge check`'s whole run: read the project, prepare runtimes
//!   and a sandbox, start the server, run both kinds of tests, build the report.

pub mod contract;
pub mod credentials;
pub mod native;
pub mod project;
pub mod report;

pub use credentials::Credentials;
pub use report::{ContractCheck, NativeResults, NativeTest, Report, TestStatus, Timings, Totals};
