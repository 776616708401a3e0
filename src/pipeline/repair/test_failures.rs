//! `TestFailures`: what failed in one sandboxed check, as a repair round sends it to
//! the model (trimmed) and as loop detection compares rounds (normalised).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::verify::{Report, TestStatus};

/// Bounds on what reaches the model: enough to find a bug in a handler, never a log
/// dump that eats the token budget (characters; about four make a token).
const MESSAGE_CHARS: usize = 600;
const SERVER_LOG_LINES: usize = 25;
const SERVER_LOG_CHARS: usize = 2_500;
const TOTAL_CHARS: usize = 8_000;
/// The runner's own output when it failed without naming a failed test.
const RUNNER_TAIL_LINES: usize = 15;

/// One failing test (or a problem that stopped the check).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Failure {
    /// `contract · count_notes: custom action with a valid request`.
    test: String,
    message: String,
}

/// The failures of one report and the server's log around them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestFailures {
    failures: Vec<Failure>,
    /// The server's last lines: from the last traceback on when there is one (the
    /// innermost frames and the exception are at its end), access-log lines left out.
    server_log: Vec<String>,
    /// The exception the server raised last (a traceback's last line).
    server_error: Option<String>,
}

impl TestFailures {
    pub fn from_report(report: &Report) -> Self {
        if report.passed() {
            return Self::default();
        }
        let mut failures: Vec<Failure> = report
            .errors
            .iter()
            .map(|e| Failure {
                test: "check".to_owned(),
                message: e.clone(),
            })
            .collect();
        if let Some(native) = &report.native {
            let failed: Vec<_> = native
                .tests
                .iter()
                .filter(|t| t.status == TestStatus::Failed)
                .collect();
            failures.extend(failed.iter().map(|t| Failure {
                test: format!("native · {}", t.name),
                message: t.message.clone().unwrap_or_else(|| "failed".to_owned()),
            }));
            if failed.is_empty() && native.exit_code != Some(0) {
                let start = native.output_tail.len().saturating_sub(RUNNER_TAIL_LINES);
                failures.push(Failure {
                    test: format!("native · {}", native.runner),
                    message: format!(
                        "the test runner exited with {:?}:\n{}",
                        native.exit_code,
                        native.output_tail[start..].join("\n")
                    ),
                });
            }
        }
        failures.extend(
            report
                .contract
                .iter()
                .filter(|c| !c.passed)
                .map(|c| Failure {
                    test: format!("contract · {}: {}", c.operation, c.name),
                    message: format!(
                        "request: {}\nexpected: {}\ngot: {}",
                        c.request, c.expected, c.got
                    ),
                }),
        );
        if failures.is_empty() {
            // `passed()` is false, so something failed that the report does not name.
            failures.push(Failure {
                test: "check".to_owned(),
                message: "the check failed without naming a failing test".to_owned(),
            });
        }
        let (server_log, server_error) = server_log(&report.server_output);
        Self {
            failures,
            server_log,
            server_error,
        }
    }

    /// How many failures: 0 exactly when the report passed.
    pub fn count(&self) -> usize {
        self.failures.len()
    }

    pub fn is_empty(&self) -> bool {
        self.failures.is_empty()
    }

    /// What identifies this set of failures across rounds: test names with their
    /// normalised messages, and the server's exception. Two broken handlers that fail
    /// the same check with different exceptions are different failures.
    pub fn signature(&self) -> BTreeSet<String> {
        let mut signature: BTreeSet<String> = self
            .failures
            .iter()
            .map(|f| format!("{}\n{}", f.test, normalise(&f.message)))
            .collect();
        if let Some(error) = &self.server_error {
            signature.insert(format!("server\n{}", normalise(error)));
        }
        signature
    }

    /// The failures as the model reads them, trimmed per message, per server log and in
    /// total.
    pub fn render(&self) -> String {
        let mut out = format!("{} failing test(s):\n", self.failures.len());
        let log = self.render_server_log();
        let room = TOTAL_CHARS.saturating_sub(log.len());
        for (n, failure) in self.failures.iter().enumerate() {
            let mut entry = format!("\n{}. {}\n", n + 1, failure.test);
            for line in trim(&failure.message, MESSAGE_CHARS).lines() {
                let _ = writeln!(entry, "   {line}");
            }
            if out.len() + entry.len() > room {
                let _ = writeln!(
                    out,
                    "\n… and {} more failing test(s), left out for length",
                    self.failures.len() - n
                );
                break;
            }
            out.push_str(&entry);
        }
        out.push_str(&log);
        out
    }

    fn render_server_log(&self) -> String {
        if self.server_log.is_empty() {
            return String::new();
        }
        let text = self.server_log.join("\n");
        let text = if text.len() > SERVER_LOG_CHARS {
            // The end holds the exception; keep it and drop outer frames.
            let cut = text.len() - SERVER_LOG_CHARS;
            let cut = (cut..text.len())
                .find(|i| text.is_char_boundary(*i))
                .unwrap_or(text.len());
            format!("…\n{}", &text[cut..])
        } else {
            text
        };
        format!("\nThe server's log (last lines):\n{text}\n")
    }
}

fn server_log(output: &[String]) -> (Vec<String>, Option<String>) {
    let from = output
        .iter()
        .rposition(|l| l.contains("Traceback (most recent call last)"))
        .unwrap_or(0);
    let lines = without_library_frames(output[from..].iter().filter(|l| !is_access_log(l)));
    let start = lines.len().saturating_sub(SERVER_LOG_LINES);
    let lines = lines[start..].to_vec();
    // A long traceback's head may be cut off the server's tail, its last line is not.
    let error = lines.iter().rev().find_map(|l| exception_line(l));
    (lines, error)
}

/// `ZeroDivisionError: division by zero`, `KeyError: 'total'`, `TypeError: x is not a
/// function` (also inside an exception group's `| ` frame): the error a server raised.
fn exception_line(line: &str) -> Option<String> {
    let text = line.trim_start().trim_start_matches(['|', '+', ' ']);
    let name = text.split(':').next().unwrap_or("").trim_end();
    let is_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        && (name.ends_with("Error") || name.ends_with("Exception"));
    is_name.then(|| text.trim_end().to_owned())
}

/// Leaves out a traceback's frames in installed packages (site-packages, the Python
/// standard library, node_modules, node internals) and caret lines: the model can only
/// change the project's code, and those frames are most of a framework's traceback.
fn without_library_frames<'a>(lines: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut skipped = 0usize;
    // Indented lines before any frame header belong to a frame the tail cut in half.
    let mut in_library_frame = true;
    let note = |skipped: &mut usize, out: &mut Vec<String>| {
        if *skipped > 0 {
            out.push(format!("  … {skipped} library frame(s) left out"));
            *skipped = 0;
        }
    };
    for line in lines {
        let text = line.trim_start();
        let library = [
            "site-packages",
            "/lib/python",
            "node_modules",
            "node:internal",
        ]
        .iter()
        .any(|place| text.contains(place));
        if text.starts_with("File \"") || text.starts_with("at ") {
            in_library_frame = library;
            if in_library_frame {
                skipped += 1;
                continue;
            }
            note(&mut skipped, &mut out);
        } else if in_library_frame && line.starts_with(' ') {
            // The library frame's source line.
            continue;
        } else {
            in_library_frame = false;
            note(&mut skipped, &mut out);
        }
        if !text.is_empty() && text.chars().all(|c| matches!(c, '^' | '~')) {
            continue;
        }
        out.push(line.clone());
    }
    note(&mut skipped, &mut out);
    out
}

/// uvicorn's `INFO: 127.0.0.1:0 - "GET /notes HTTP/1.1" 200 OK`: the contract checks
/// already say which requests were sent.
fn is_access_log(line: &str) -> bool {
    line.contains(" HTTP/1.") && line.contains("\" ")
}

/// Cuts `text` to about `max` characters on a character boundary, saying so.
fn trim(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.len() <= max {
        return text.to_owned();
    }
    let cut = (0..=max)
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    format!(
        "{} … ({} more characters)",
        &text[..cut],
        text[cut..].chars().count()
    )
}

/// Whitespace collapsed; hex addresses, long numbers (ids, ports, timestamps) and
/// random-looking names (temporary directories) replaced, so two runs of the same
/// failure compare equal. Short numbers such as status codes stay.
fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut token = String::new();
    let flush = |token: &mut String, out: &mut String| {
        if token.is_empty() {
            return;
        }
        let digits = token.chars().filter(char::is_ascii_digit).count();
        let letters = token.chars().filter(char::is_ascii_alphabetic).count();
        let replaced = if token.starts_with("0x") && token.len() > 2 {
            "0x_"
        } else if digits >= 4 && letters == 0 {
            "#"
        } else if token.len() >= 6 && digits > 0 && letters > 0 {
            "~"
        } else {
            token.as_str()
        };
        out.push_str(replaced);
        token.clear();
    };
    let mut space = false;
    for c in text.trim().chars() {
        if c.is_ascii_alphanumeric() {
            if space {
                out.push(' ');
                space = false;
            }
            token.push(c);
        } else {
            flush(&mut token, &mut out);
            if c.is_whitespace() {
                space = true;
            } else {
                if space {
                    out.push(' ');
                    space = false;
                }
                out.push(c);
            }
        }
    }
    flush(&mut token, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{ContractCheck, NativeResults, NativeTest};

    fn contract(operation: &str, got: &str) -> ContractCheck {
        ContractCheck {
            operation: operation.to_owned(),
            name: "custom action with a valid request".to_owned(),
            request: "GET /notes/count".to_owned(),
            expected: "status 200".to_owned(),
            got: got.to_owned(),
            passed: false,
            curl: "curl --unix-socket /tmp/apiforge-ws-x1y2z3/s.sock http://localhost/notes/count"
                .to_owned(),
        }
    }

    fn report(checks: Vec<ContractCheck>, server_output: &[&str]) -> Report {
        let mut report = Report {
            contract: checks,
            server_output: server_output.iter().map(|s| (*s).to_owned()).collect(),
            ..Report::default()
        };
        report.tally();
        report
    }

    const TRACEBACK: [&str; 13] = [
        "INFO:     Started server process [4242]",
        "INFO:     127.0.0.1:0 - \"GET /notes/count HTTP/1.1\" 500 Internal Server Error",
        "ERROR:    Exception in ASGI application",
        "Traceback (most recent call last):",
        "  File \"/rt/lib/python3.11/site-packages/fastapi/routing.py\", line 383, in run",
        "    return await run_in_threadpool(",
        "           ^^^^^^^^^^^^^^^^^^^^^^^^",
        "  File \"/ws/app/routers/actions.py\", line 21, in count_notes",
        "    return models.CountNotesOutput(total=1 // 0)",
        "                                         ~~^^~~",
        "ZeroDivisionError: integer division or modulo by zero",
        "INFO:     127.0.0.1:0 - \"GET /health HTTP/1.1\" 200 OK",
        "INFO:     Shutting down",
    ];

    #[test]
    fn a_passing_report_has_no_failures() {
        let mut passing = report(vec![], &TRACEBACK);
        passing.contract.push(ContractCheck {
            passed: true,
            ..contract("count_notes", "status 200")
        });
        let failures = TestFailures::from_report(&passing);
        assert!(failures.is_empty());
        assert_eq!(failures.count(), 0);
        assert!(failures.signature().is_empty());
    }

    #[test]
    fn failures_carry_names_messages_and_the_traceback_without_access_logs() {
        let failures = TestFailures::from_report(&report(
            vec![contract("count_notes", "status 500 (text/plain)")],
            &TRACEBACK,
        ));
        assert_eq!(failures.count(), 1);
        let text = failures.render();
        assert!(
            text.contains("1. contract · count_notes: custom action with a valid request"),
            "{text}"
        );
        assert!(text.contains("got: status 500 (text/plain)"), "{text}");
        assert!(
            text.contains("Traceback (most recent call last):"),
            "{text}"
        );
        let expected = "Traceback (most recent call last):\n  … 1 library frame(s) left out\n  \
                        File \"/ws/app/routers/actions.py\", line 21, in count_notes\n    \
                        return models.CountNotesOutput(total=1 // 0)\n\
                        ZeroDivisionError: integer division or modulo by zero\n";
        assert!(
            text.contains(expected),
            "only the project's frames and the error: {text}"
        );
        assert!(
            !text.contains("HTTP/1.1"),
            "access logs are left out: {text}"
        );
        assert!(
            !text.contains("Started server"),
            "lines before the traceback: {text}"
        );
        assert!(
            !text.contains("unix-socket"),
            "curl commands are not sent: {text}"
        );
    }

    #[test]
    fn everything_is_bounded() {
        let long = "x".repeat(5_000);
        let checks: Vec<ContractCheck> = (0..200)
            .map(|n| contract(&format!("op_{n}"), &long))
            .collect();
        let mut output: Vec<String> = vec!["Traceback (most recent call last):".to_owned()];
        output.extend(
            (0..500).map(|n| format!("  File \"f{n}.py\", line {n}, in g{}", "é".repeat(40))),
        );
        output.push("RuntimeError: deep".to_owned());
        let mut r = report(checks, &[]);
        r.server_output = output;
        let text = TestFailures::from_report(&r).render();
        assert!(text.len() <= TOTAL_CHARS + 200, "{}", text.len());
        assert!(
            text.contains("more failing test(s), left out for length"),
            "{text}"
        );
        assert!(
            text.contains("more characters)"),
            "messages are cut: {text}"
        );
        assert!(text.trim_end().ends_with("RuntimeError: deep"), "{text}");

        let native = Report {
            native: Some(NativeResults {
                runner: "python -m pytest".to_owned(),
                exit_code: Some(1),
                tests: vec![NativeTest {
                    name: "tests.test_notes::test_create".to_owned(),
                    status: TestStatus::Failed,
                    message: Some("assert 500 == 201".to_owned()),
                    duration: None,
                }],
                output_tail: Vec::new(),
            }),
            ..Report::default()
        };
        let text = TestFailures::from_report(&native).render();
        assert!(
            text.contains("native · tests.test_notes::test_create\n   assert 500 == 201"),
            "{text}"
        );
    }

    #[test]
    fn exceptions_are_found_without_the_traceback_head() {
        let cut = &TRACEBACK[8..];
        let failures = TestFailures::from_report(&report(vec![contract("c", "status 500")], cut));
        assert_eq!(
            failures.server_log[0], "ZeroDivisionError: integer division or modulo by zero",
            "half a frame at the tail's start is left out: {:?}",
            failures.server_log
        );
        assert_eq!(
            failures.server_error.as_deref(),
            Some("ZeroDivisionError: integer division or modulo by zero")
        );
        assert_eq!(
            exception_line("  | TypeError: notes.map is not a function").as_deref(),
            Some("TypeError: notes.map is not a function")
        );
        assert_eq!(
            exception_line("INFO:     Application startup complete."),
            None
        );
        assert_eq!(
            exception_line("    return models.CountNotesOutput(total=1 // 0)"),
            None
        );
    }

    #[test]
    fn signatures_ignore_noise_but_not_the_exception() {
        let a = TestFailures::from_report(&report(
            vec![contract(
                "count_notes",
                "status 500 after 1234 ms at 0x7f3a9c",
            )],
            &TRACEBACK,
        ));
        let same = TestFailures::from_report(&report(
            vec![contract(
                "count_notes",
                "status   500 after 98765 ms at 0x55aa01",
            )],
            &TRACEBACK,
        ));
        assert_eq!(a.signature(), same.signature());
        let other_status =
            TestFailures::from_report(&report(vec![contract("count_notes", "status 422")], &[]));
        assert_ne!(a.signature(), other_status.signature());
        let mut other_exception = TRACEBACK;
        other_exception[10] = "KeyError: 'total'";
        let b = TestFailures::from_report(&report(
            vec![contract(
                "count_notes",
                "status 500 after 1234 ms at 0x7f3a9c",
            )],
            &other_exception,
        ));
        assert_ne!(a.signature(), b.signature());
    }
}
