//! The result of verifying a project: what ran where, how long it took, every native
//! test and every contract check. Serialised as JSON by `apiforge check --json` and
//! stored by the job engine; the field names are a stable interface (add fields, do
//! not rename them).

use std::fmt::Write as _;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Everything `apiforge check` found out about one project.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Report {
    /// The project's title (or its directory name).
    pub project: String,
    /// `fastapi` or `express`, when known.
    pub framework: Option<String>,
    /// `process` or `docker`, when a sandbox ran.
    pub backend: Option<String>,
    pub timings: Timings,
    /// The project's own test suite; `None` when it did not run.
    pub native: Option<NativeResults>,
    /// apiforge's contract checks, in the order they ran.
    pub contract: Vec<ContractCheck>,
    /// Problems that stopped part of the verification (the server did not start, the
    /// test runner could not run). Any entry fails the report.
    pub errors: Vec<String>,
    /// The server's last output lines (shown when something failed).
    #[serde(default)]
    pub server_output: Vec<String>,
    pub totals: Totals,
}

/// Wall-clock time of each phase.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Timings {
    /// Installing runtimes and preparing the workspace.
    pub prepare: Duration,
    /// Starting the server until `/health` answered.
    pub startup: Duration,
    pub native: Duration,
    pub contract: Duration,
    pub total: Duration,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NativeResults {
    /// The command that ran, e.g. `python -m pytest`.
    pub runner: String,
    pub exit_code: Option<i32>,
    pub tests: Vec<NativeTest>,
    /// The runner's last output lines (for failures the per-test messages miss).
    pub output_tail: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NativeTest {
    /// `suite::name` (pytest: `tests.test_notes::test_create`).
    pub name: String,
    pub status: TestStatus,
    /// Failure or skip message.
    pub message: Option<String>,
    pub duration: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TestStatus {
    Passed,
    Failed,
    Skipped,
}

/// One request apiforge sent and what it expected back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractCheck {
    /// The spec's operationId (`create_order`).
    pub operation: String,
    /// What the check is about (`missing required field "title" → 422`).
    pub name: String,
    /// `POST /orders {"title":…}`, shortened.
    pub request: String,
    /// What the contract requires.
    pub expected: String,
    /// What came back (status, and every problem found when it failed).
    pub got: String,
    pub passed: bool,
    /// A curl command that sends the same request.
    pub curl: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub native_passed: usize,
    pub native_failed: usize,
    pub native_skipped: usize,
    pub contract_passed: usize,
    pub contract_failed: usize,
}

impl Report {
    /// Recomputes [`Report::totals`] from the results.
    pub fn tally(&mut self) {
        let mut t = Totals::default();
        if let Some(native) = &self.native {
            for test in &native.tests {
                match test.status {
                    TestStatus::Passed => t.native_passed += 1,
                    TestStatus::Failed => t.native_failed += 1,
                    TestStatus::Skipped => t.native_skipped += 1,
                }
            }
        }
        for c in &self.contract {
            if c.passed {
                t.contract_passed += 1;
            } else {
                t.contract_failed += 1;
            }
        }
        self.totals = t;
    }

    /// True when nothing failed and nothing stopped the verification.
    pub fn passed(&self) -> bool {
        let native_ok = self.native.as_ref().is_none_or(|n| {
            n.exit_code == Some(0) && n.tests.iter().all(|t| t.status != TestStatus::Failed)
        });
        self.errors.is_empty() && native_ok && self.contract.iter().all(|c| c.passed)
    }

    /// A readable rendering for the terminal: failures in full, passes counted.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let framework = self.framework.as_deref().unwrap_or("unknown framework");
        let backend = self.backend.as_deref().unwrap_or("no");
        let _ = writeln!(
            out,
            "{} ({framework}, {backend} sandbox)",
            if self.project.is_empty() {
                "project"
            } else {
                &self.project
            }
        );
        for e in &self.errors {
            let _ = writeln!(out, "\nERROR {e}");
        }
        if let Some(native) = &self.native {
            let _ = writeln!(
                out,
                "\nNative tests ({}): {} passed, {} failed, {} skipped",
                native.runner,
                self.totals.native_passed,
                self.totals.native_failed,
                self.totals.native_skipped
            );
            for t in native
                .tests
                .iter()
                .filter(|t| t.status == TestStatus::Failed)
            {
                let _ = writeln!(out, "  FAIL {}", t.name);
                if let Some(m) = &t.message {
                    for line in m.lines().take(12) {
                        let _ = writeln!(out, "       {line}");
                    }
                }
            }
            if native.exit_code != Some(0)
                && native.tests.iter().all(|t| t.status != TestStatus::Failed)
            {
                let _ = writeln!(
                    out,
                    "  the runner exited with {:?}; its last output:",
                    native.exit_code
                );
                for line in &native.output_tail {
                    let _ = writeln!(out, "       {line}");
                }
            }
        }
        let _ = writeln!(
            out,
            "\nContract checks: {} passed, {} failed",
            self.totals.contract_passed, self.totals.contract_failed
        );
        for c in self.contract.iter().filter(|c| !c.passed) {
            let _ = writeln!(out, "  FAIL {}: {}", c.operation, c.name);
            let _ = writeln!(out, "       request:  {}", c.request);
            let _ = writeln!(out, "       expected: {}", c.expected);
            let _ = writeln!(out, "       got:      {}", c.got);
            let _ = writeln!(out, "       reproduce: {}", c.curl);
        }
        if !self.passed() && !self.server_output.is_empty() {
            let _ = writeln!(out, "\nServer output (last lines):");
            for line in &self.server_output {
                let _ = writeln!(out, "  {line}");
            }
        }
        let t = &self.timings;
        let _ = writeln!(
            out,
            "\nTime: {:.2}s (prepare {:.2}s, start {:.2}s, native {:.2}s, contract {:.2}s)",
            t.total.as_secs_f64(),
            t.prepare.as_secs_f64(),
            t.startup.as_secs_f64(),
            t.native.as_secs_f64(),
            t.contract.as_secs_f64()
        );
        let _ = writeln!(out, "{}", if self.passed() { "PASSED" } else { "FAILED" });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(passed: bool) -> ContractCheck {
        ContractCheck {
            operation: "get_note".into(),
            name: "unknown id → 404".into(),
            request: "GET /notes/999999".into(),
            expected: "status 404".into(),
            got: "status 500".into(),
            passed,
            curl: "curl -i 'http://localhost/notes/999999'".into(),
        }
    }

    #[test]
    fn one_failed_check_fails_the_report_and_is_rendered_in_full() {
        let mut report = Report {
            project: "Notes".into(),
            contract: vec![check(true), check(false)],
            ..Report::default()
        };
        report.tally();
        assert_eq!(report.totals.contract_passed, 1);
        assert_eq!(report.totals.contract_failed, 1);
        assert!(!report.passed());
        let text = report.render_text();
        assert!(text.contains("FAIL get_note: unknown id → 404"), "{text}");
        assert!(text.contains("reproduce: curl -i"), "{text}");
        assert!(text.trim_end().ends_with("FAILED"), "{text}");
    }

    #[test]
    fn reports_round_trip_through_json() {
        let mut report = Report {
            project: "Notes".into(),
            native: Some(NativeResults {
                runner: "python -m pytest".into(),
                exit_code: Some(0),
                tests: vec![NativeTest {
                    name: "t::a".into(),
                    status: TestStatus::Skipped,
                    message: Some("why".into()),
                    duration: Some(Duration::from_millis(3)),
                }],
                output_tail: Vec::new(),
            }),
            contract: vec![check(true)],
            ..Report::default()
        };
        report.tally();
        assert!(report.passed());
        let json = serde_json::to_string(&report).unwrap_or_default();
        let back: Report = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back.totals, report.totals);
        assert_eq!(back.contract, report.contract);
    }
}
