//! JUnit XML, as pytest (`--junitxml`) and node:test (`--test-reporter=junit`) write
//! it, read into per-test results.
//!
//! pytest: `<testsuites><testsuite name="pytest"><testcase classname="tests.test_x"
//! name="test_y">` with `<failure>`, `<error>` or `<skipped>` children. node:test:
//! `<testcase>` directly under `<testsuites>` or nested in `<testsuite name="describe
//! block">`, `classname="test"`.

use std::time::Duration;

use quick_xml::events::{BytesStart, Event};

use crate::verify::report::{NativeTest, TestStatus};

#[derive(Debug, thiserror::Error)]
#[error("the test report is not valid JUnit XML: {0}")]
pub struct JunitError(String);

/// The test cases in `xml`, in document order.
pub fn parse(xml: &str) -> Result<Vec<NativeTest>, JunitError> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut suites: Vec<String> = Vec::new();
    let mut tests = Vec::new();
    // The open test case, and whether text belongs to its failure/skip message.
    let mut current: Option<NativeTest> = None;
    let mut in_message = false;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| JunitError(format!("at byte {}: {e}", reader.buffer_position())))?;
        match event {
            Event::Start(tag) if tag_is(&tag, "testsuite") => {
                suites.push(attr(&tag, "name").unwrap_or_default());
            }
            Event::End(tag) if tag.local_name().as_ref() == "testsuite" => {
                suites.pop();
            }
            Event::Start(tag) if tag_is(&tag, "testcase") => {
                current = Some(test_case(&tag, &suites));
            }
            Event::Empty(tag) if tag_is(&tag, "testcase") => {
                tests.push(test_case(&tag, &suites));
            }
            Event::End(tag) if tag.local_name().as_ref() == "testcase" => {
                if let Some(test) = current.take() {
                    tests.push(test);
                }
                in_message = false;
            }
            Event::Start(tag) if is_outcome(&tag) => {
                if let Some(test) = current.as_mut() {
                    record_outcome(test, &tag);
                    append_raw(&mut test.message, "\n");
                    in_message = true;
                }
            }
            Event::Empty(tag) if is_outcome(&tag) => {
                if let Some(test) = current.as_mut() {
                    record_outcome(test, &tag);
                }
            }
            Event::End(tag)
                if ["failure", "error", "skipped"]
                    .iter()
                    .any(|n| tag.local_name().as_ref() == *n) =>
            {
                in_message = false;
            }
            Event::Text(text) if in_message => {
                if let Some(test) = current.as_mut() {
                    append_raw(&mut test.message, &text.xml10_content());
                }
            }
            Event::CData(text) if in_message => {
                if let Some(test) = current.as_mut() {
                    append_raw(&mut test.message, &text.xml10_content());
                }
            }
            Event::GeneralRef(reference) if in_message => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => match reference.xml10_content().as_ref() {
                        "lt" => "<".to_owned(),
                        "gt" => ">".to_owned(),
                        "amp" => "&".to_owned(),
                        "quot" => "\"".to_owned(),
                        "apos" => "'".to_owned(),
                        other => format!("&{other};"),
                    },
                };
                if let Some(test) = current.as_mut() {
                    append_raw(&mut test.message, &resolved);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    for test in &mut tests {
        if let Some(m) = &test.message {
            let trimmed = m.trim().to_owned();
            test.message = (!trimmed.is_empty()).then_some(trimmed);
        }
    }
    Ok(tests)
}

fn is_outcome(tag: &BytesStart<'_>) -> bool {
    tag_is(tag, "failure") || tag_is(tag, "error") || tag_is(tag, "skipped")
}

/// A `<failure>`, `<error>` or `<skipped>` inside a test case.
fn record_outcome(test: &mut NativeTest, tag: &BytesStart<'_>) {
    let skipped = tag_is(tag, "skipped");
    // A failure wins over a skip reported for the same case.
    if !(skipped && test.status == TestStatus::Failed) {
        test.status = if skipped {
            TestStatus::Skipped
        } else {
            TestStatus::Failed
        };
    }
    append(&mut test.message, &attr(tag, "message").unwrap_or_default());
}

fn tag_is(tag: &BytesStart<'_>, name: &str) -> bool {
    tag.local_name().as_ref() == name
}

fn attr(tag: &BytesStart<'_>, name: &str) -> Option<String> {
    tag.try_get_attribute(name).ok().flatten().and_then(|a| {
        a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .ok()
            .map(|v| v.into_owned())
    })
}

fn test_case(tag: &BytesStart<'_>, suites: &[String]) -> NativeTest {
    let name = attr(tag, "name").unwrap_or_default();
    let classname = attr(tag, "classname").unwrap_or_default();
    // node:test names cases by their describe blocks; pytest by module (classname).
    let full = if classname.is_empty() || classname == "test" {
        let mut path: Vec<String> = suites
            .iter()
            .filter(|s| !s.is_empty() && *s != "pytest")
            .cloned()
            .collect();
        path.push(name);
        path.join(" > ")
    } else {
        format!("{classname}::{name}")
    };
    let duration = attr(tag, "time")
        .and_then(|t| t.parse::<f64>().ok())
        .filter(|t| t.is_finite() && *t >= 0.0)
        .map(Duration::from_secs_f64);
    NativeTest {
        name: full,
        status: TestStatus::Passed,
        message: None,
        duration,
    }
}

fn append(message: &mut Option<String>, text: &str) {
    if text.is_empty() {
        return;
    }
    match message {
        Some(m) => {
            m.push('\n');
            m.push_str(text);
        }
        None => *message = Some(text.to_owned()),
    }
}

fn append_raw(message: &mut Option<String>, text: &str) {
    match message {
        Some(m) => m.push_str(text),
        None => *message = Some(text.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PYTEST: &str = r#"<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="0" failures="1" skipped="1" tests="3" time="0.5"><testcase classname="tests.test_notes" name="test_create" time="0.010" /><testcase classname="tests.test_notes" name="test_get" time="0.020"><failure message="assert 404 == 200">def test_get():
&gt;       assert r.status_code == 200
E       assert 404 == 200</failure></testcase><testcase classname="tests.test_notes" name="test_later" time="0.000"><skipped type="pytest.skip" message="not yet">tests/test_notes.py:9: not yet</skipped></testcase></testsuite></testsuites>"#;

    const NODE: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<testsuites>
	<testcase name="adds" time="0.000741" classname="test"/>
	<testcase name="fails" time="0.000647" classname="test" failure="1 == 2">
		<failure type="testCodeFailure" message="1 == 2">
AssertionError: 1 == 2 at TestContext.&lt;anonymous&gt;
		</failure>
	</testcase>
	<testcase name="skipped" time="0.000074" classname="test">
		<skipped type="skipped" message="not now"/>
	</testcase>
	<testsuite name="group" time="0.008605" tests="1" failures="0" skipped="0">
		<testcase name="inner" time="0.000149" classname="test"/>
	</testsuite>
	<!-- tests 4 -->
</testsuites>"#;

    #[test]
    fn pytest_reports_give_each_case_its_status_and_message() {
        let tests = parse(PYTEST).unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<&str> = tests.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "tests.test_notes::test_create",
                "tests.test_notes::test_get",
                "tests.test_notes::test_later"
            ]
        );
        let status: Vec<TestStatus> = tests.iter().map(|t| t.status).collect();
        assert_eq!(
            status,
            [TestStatus::Passed, TestStatus::Failed, TestStatus::Skipped]
        );
        let failure = tests[1].message.as_deref().unwrap_or("");
        assert!(failure.starts_with("assert 404 == 200\n"), "{failure}");
        assert!(
            failure.contains(">       assert r.status_code == 200"),
            "{failure}"
        );
        assert_eq!(tests[1].duration, Some(Duration::from_millis(20)));
        assert!(
            tests[2]
                .message
                .as_deref()
                .unwrap_or("")
                .starts_with("not yet")
        );
    }

    #[test]
    fn node_reports_name_nested_cases_by_their_suite() {
        let tests = parse(NODE).unwrap_or_else(|e| panic!("{e}"));
        let got: Vec<(&str, TestStatus)> =
            tests.iter().map(|t| (t.name.as_str(), t.status)).collect();
        assert_eq!(
            got,
            [
                ("adds", TestStatus::Passed),
                ("fails", TestStatus::Failed),
                ("skipped", TestStatus::Skipped),
                ("group > inner", TestStatus::Passed),
            ]
        );
        let failure = tests[1].message.as_deref().unwrap_or("");
        assert!(failure.contains("TestContext.<anonymous>"), "{failure}");
    }

    #[test]
    fn broken_xml_is_an_error_not_a_panic() {
        assert!(parse("<testsuites><testcase name='x'></testsuite>").is_err());
    }
}
