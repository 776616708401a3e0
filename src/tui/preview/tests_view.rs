//! The Tests tab: the latest test run of the version, failures first, each with what
//! was expected, what came back and a curl command that reproduces it.

use crate::verify::{Report, TestStatus};
use crate::versions::TestRun;

use super::outgoing_request::quote;
use super::scroll_view::{ScrollView, Tone, ToneLine, line};

/// The view of a run (`None`: the version was never tested).
pub fn tests_view(run: Option<&TestRun>) -> ScrollView {
    ScrollView::new(run.map_or_else(
        || {
            vec![line(
                Tone::Dim,
                "This version has no test run yet (it is tested when it is saved).",
            )]
        },
        run_lines,
    ))
}

fn run_lines(run: &TestRun) -> Vec<ToneLine> {
    let report: Report = match serde_json::from_value(run.report.clone()) {
        Ok(r) => r,
        Err(e) => {
            return vec![line(
                Tone::Error,
                format!("The stored report cannot be read ({e}); run the tests again."),
            )];
        }
    };
    let t = &report.totals;
    let passed = report.passed();
    let mut out = vec![
        vec![
            (
                if passed { Tone::Ok } else { Tone::Error },
                if passed {
                    "✓ passed".to_owned()
                } else {
                    "✗ failed".to_owned()
                },
            ),
            (
                Tone::Text,
                format!(
                    " · tests {}/{} · contract {}/{}",
                    t.native_passed,
                    t.native_passed + t.native_failed,
                    t.contract_passed,
                    t.contract_passed + t.contract_failed
                ),
            ),
        ],
        line(
            Tone::Dim,
            format!(
                "{} sandbox · finished {} · took {:.1} s",
                run.sandbox,
                run.finished_at.format("%Y-%m-%d %H:%M:%S UTC"),
                report.timings.total.as_secs_f64()
            ),
        ),
    ];
    for error in &report.errors {
        out.push(Vec::new());
        out.push(line(Tone::Error, "✗ the verification stopped:"));
        out.extend(error.lines().map(|l| line(Tone::Error, format!("    {l}"))));
    }
    if let Some(native) = &report.native {
        for test in native
            .tests
            .iter()
            .filter(|t| t.status == TestStatus::Failed)
        {
            out.push(Vec::new());
            out.push(vec![
                (Tone::Error, "✗ test ".to_owned()),
                (Tone::Title, test.name.clone()),
            ]);
            if let Some(message) = &test.message {
                out.extend(
                    message
                        .lines()
                        .map(|l| line(Tone::Text, format!("    {l}"))),
                );
            }
            out.push(vec![
                (Tone::Dim, "    reproduce: ".to_owned()),
                (Tone::Accent, reproduce(&native.runner, &test.name)),
            ]);
        }
        if native.exit_code != Some(0)
            && native.tests.iter().all(|t| t.status != TestStatus::Failed)
        {
            out.push(Vec::new());
            out.push(line(
                Tone::Error,
                format!(
                    "✗ {} exited with {:?}; its last output:",
                    native.runner, native.exit_code
                ),
            ));
            out.extend(
                native
                    .output_tail
                    .iter()
                    .map(|l| line(Tone::Dim, format!("    {l}"))),
            );
        }
    }
    for check in report.contract.iter().filter(|c| !c.passed) {
        out.push(Vec::new());
        out.push(vec![
            (Tone::Error, "✗ contract ".to_owned()),
            (Tone::Title, check.operation.clone()),
            (Tone::Text, format!(": {}", check.name)),
        ]);
        out.push(line(Tone::Text, format!("    request:  {}", check.request)));
        out.push(line(
            Tone::Text,
            format!("    expected: {}", check.expected),
        ));
        out.push(line(Tone::Warn, format!("    got:      {}", check.got)));
        out.push(vec![
            (Tone::Dim, "    reproduce: ".to_owned()),
            (Tone::Accent, check.curl.clone()),
        ]);
    }
    if !report.server_output.is_empty() && !passed {
        out.push(Vec::new());
        out.push(line(Tone::Title, "server output"));
        out.extend(
            report
                .server_output
                .iter()
                .map(|l| line(Tone::Dim, format!("    {l}"))),
        );
    }
    out.push(Vec::new());
    out.push(line(Tone::Title, "passed"));
    if let Some(native) = &report.native {
        out.extend(
            native
                .tests
                .iter()
                .filter(|t| t.status == TestStatus::Passed)
                .map(|t| vec![(Tone::Ok, "✓ ".to_owned()), (Tone::Text, t.name.clone())]),
        );
    }
    out.extend(report.contract.iter().filter(|c| c.passed).map(|c| {
        vec![
            (Tone::Ok, "✓ ".to_owned()),
            (Tone::Text, format!("{}: {}", c.operation, c.name)),
        ]
    }));
    out
}

/// The command that runs just `test` in the project's directory: pytest takes the
/// test's file and name, `node --test` a name pattern; other runners run everything.
fn reproduce(runner: &str, test: &str) -> String {
    if runner.contains("pytest")
        && let Some((module, name)) = test.split_once("::")
    {
        return format!(
            "{runner} {}",
            quote(&format!("{}.py::{name}", module.replace('.', "/")))
        );
    }
    if runner.starts_with("node") {
        let name = test.rsplit(" > ").next().unwrap_or(test);
        return format!(
            "{runner} --test-name-pattern {}",
            quote(&format!("^{}$", regex::escape(name)))
        );
    }
    runner.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproductions_name_the_single_test() {
        assert_eq!(
            reproduce("python -m pytest", "tests.test_books::test_page"),
            "python -m pytest tests/test_books.py::test_page"
        );
        assert_eq!(
            reproduce("node --test", "notes > creates a note (201)"),
            r"node --test --test-name-pattern '^creates a note \(201\)$'"
        );
        assert_eq!(reproduce("make test", "x"), "make test");
    }
}
