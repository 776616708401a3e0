//! The preview through its public surface: keys, tabs, results, and snapshots of
//! every tab at 80×24 and 120×40 from fixed fixture data.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::{Value, json};
use uuid::Uuid;

use super::*;
use crate::design::ApiDesign;
use crate::versions::{CheckStatus, Origin, TestRun, VersionDiff, version_diff::file_diff};

const PROJECT: Uuid = Uuid::from_u128(0x1234);

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn press(preview: &mut Preview, code: KeyCode) -> Outcome<PreviewRequest> {
    preview.handle_key(key(code))
}

fn chars(preview: &mut Preview, text: &str) {
    for c in text.chars() {
        press(preview, KeyCode::Char(c));
    }
}

fn design() -> ApiDesign {
    serde_json::from_str(include_str!(
        "../../../tests/fixtures/designs/one_resource.json"
    ))
    .unwrap_or_else(|e| panic!("{e}"))
}

fn changed_design() -> ApiDesign {
    let mut v: Value = serde_json::to_value(design()).unwrap_or_else(|e| panic!("{e}"));
    let fields = v["resources"][0]["fields"]
        .as_array_mut()
        .unwrap_or_else(|| panic!("fields"));
    fields.retain(|f| f["name"] != "author");
    fields.push(json!({"name": "pages", "type": "integer"}));
    serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"))
}

fn at(minute: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 14, 9, minute, 0)
        .single()
        .unwrap_or_else(|| panic!("a valid time"))
}

fn summary(number: i32, origin: Origin, prompt: &str, status: CheckStatus) -> VersionSummary {
    VersionSummary {
        id: Uuid::from_u128(u128::try_from(number).unwrap_or(0)),
        number,
        parent: (number > 1).then_some(number - 1),
        origin,
        prompt: prompt.to_owned(),
        check_status: status,
        git_commit: None,
        created_at: at(u32::try_from(number * 7).unwrap_or(0)),
        created_by: Uuid::from_u128(9),
    }
}

fn report() -> Value {
    json!({
        "project": "Bookshelf API",
        "framework": "fastapi",
        "backend": "process",
        "timings": {
            "prepare": {"secs": 0, "nanos": 0}, "startup": {"secs": 1, "nanos": 0},
            "native": {"secs": 2, "nanos": 0}, "contract": {"secs": 1, "nanos": 0},
            "total": {"secs": 4, "nanos": 500000000}
        },
        "native": {
            "runner": "python -m pytest",
            "exit_code": 1,
            "tests": [
                {"name": "tests.test_books::test_create", "status": "passed", "message": null, "duration": null},
                {"name": "tests.test_books::test_page", "status": "failed",
                 "message": "assert 3 == 2\n where 3 = len(items)", "duration": null}
            ],
            "output_tail": []
        },
        "contract": [
            {"operation": "list_books", "name": "list → 200", "request": "GET /books",
             "expected": "200", "got": "200", "passed": true,
             "curl": "curl -sS -i --unix-socket '/ws/app.sock' 'http://localhost/books'"},
            {"operation": "create_book", "name": "title too long → 422",
             "request": "POST /books {\"title\":\"xxxx…\"}", "expected": "422",
             "got": "201", "passed": false,
             "curl": "curl -sS -i -X POST --unix-socket '/ws/app.sock' 'http://localhost/books' -H 'content-type: application/json' --data-raw '{\"title\":\"x\"}'"}
        ],
        "errors": [],
        "server_output": ["INFO: started"],
        "totals": {"native_passed": 1, "native_failed": 1, "native_skipped": 0,
                   "contract_passed": 1, "contract_failed": 1}
    })
}

fn loaded() -> Loaded {
    Loaded {
        project: PROJECT,
        version: 3,
        spec: crate::codegen::openapi::build(&design()),
        latest_run: Some(TestRun {
            id: Uuid::from_u128(77),
            version_id: Uuid::from_u128(3),
            job_id: Some(41),
            sandbox: "process".into(),
            passed: 2,
            failed: 2,
            skipped: 0,
            report: report(),
            started_at: at(20),
            finished_at: at(21),
        }),
        versions: vec![
            summary(1, Origin::Generate, "A bookshelf API", CheckStatus::Passing),
            summary(
                2,
                Origin::Iterate,
                "add pages, drop author",
                CheckStatus::Failing,
            ),
            summary(
                3,
                Origin::Edit,
                "hand edit of main.py",
                CheckStatus::Untested,
            ),
        ],
    }
}

fn project(latest: Option<i32>) -> crate::db::projects::Project {
    crate::db::projects::Project {
        id: PROJECT,
        owner_id: Uuid::from_u128(9),
        slug: "bookshelf".into(),
        name: "Bookshelf".into(),
        description: String::new(),
        framework: "fastapi".into(),
        provider: "rules".into(),
        status: "passing".into(),
        latest_version: latest,
        created_at: at(0),
        updated_at: at(0),
    }
}

/// A preview showing the fixture's v3.
fn ready() -> Preview {
    let mut preview = Preview::new();
    assert_eq!(
        preview.show(&project(Some(3))),
        Some(PreviewRequest::Load {
            project: PROJECT,
            version: 3
        })
    );
    preview.apply(PreviewResult::Loaded(Box::new(loaded())));
    preview
}

fn diff_fixture() -> VersionDiff {
    let old = "def main():\n    return 1\n";
    let new = "def main():\n    return 2\n";
    VersionDiff {
        project: PROJECT,
        from: 1,
        to: 2,
        framework: None,
        design: crate::design::diff(&design(), &changed_design()),
        spec_changed: true,
        files: [
            file_diff("main.py", Some(old), Some(new)),
            file_diff("notes.md", None, Some("new file\n")),
        ]
        .into_iter()
        .flatten()
        .collect(),
    }
}

fn render(preview: &mut Preview, width: u16, height: u16) -> String {
    let mut terminal =
        Terminal::new(TestBackend::new(width, height)).unwrap_or_else(|e| panic!("{e}"));
    terminal
        .draw(|f| preview.render(f, f.area(), &crate::tui::theme::Theme::dark(), true))
        .unwrap_or_else(|e| panic!("{e}"));
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            out.push_str(buffer[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

fn snapshot_both(name: &str, preview: &mut Preview) {
    insta::assert_snapshot!(format!("{name}_80x24"), render(preview, 80, 24));
    insta::assert_snapshot!(format!("{name}_120x40"), render(preview, 120, 40));
}

fn post_books_form() -> Preview {
    let mut preview = ready();
    let ops = preview.endpoints().operations().to_vec();
    let post = ops
        .iter()
        .position(|o| o.method == "POST" && o.path == "/books")
        .unwrap_or_else(|| panic!("POST /books in {ops:?}"));
    for _ in 0..post {
        press(&mut preview, KeyCode::Char('j'));
    }
    assert_eq!(press(&mut preview, KeyCode::Enter), Outcome::Consumed);
    preview
}

fn exchange() -> Exchange {
    Exchange {
        request_line: "POST /books".into(),
        target: "sandbox v3".into(),
        status: 201,
        elapsed: Duration::from_millis(12),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("location".into(), "/books/1".into()),
        ],
        body: r#"{"id":1,"title":"The Left Hand of Darkness","author":"Ursula K. Le Guin"}"#.into(),
    }
}

#[test]
fn snapshots_of_every_tab() {
    let mut preview = ready();
    snapshot_both("endpoints_list", &mut preview);
    let mut form = post_books_form();
    match press(&mut form, KeyCode::Char('s')) {
        Outcome::Request(PreviewRequest::Send { .. }) => {}
        other => panic!("{other:?}"),
    }
    form.apply(PreviewResult::Sent {
        project: PROJECT,
        response: Ok(exchange()),
    });
    snapshot_both("endpoints_response", &mut form);
    press(&mut form, KeyCode::Esc);
    snapshot_both("endpoints_list_with_status", &mut form);
    let mut params = ready();
    press(&mut params, KeyCode::Char('j'));
    press(&mut params, KeyCode::Enter);
    press(&mut params, KeyCode::Char('j'));
    press(&mut params, KeyCode::Char('i'));
    chars(&mut params, "10");
    snapshot_both("endpoints_params_editing", &mut params);
    press(&mut preview, KeyCode::Char(']'));
    snapshot_both("tests", &mut preview);
    press(&mut preview, KeyCode::Char(']'));
    snapshot_both("spec", &mut preview);
    press(&mut preview, KeyCode::Char(']'));
    snapshot_both("versions", &mut preview);
    press(&mut preview, KeyCode::Char(' '));
    press(&mut preview, KeyCode::Char('G'));
    press(&mut preview, KeyCode::Char(' '));
    press(&mut preview, KeyCode::Char('r'));
    snapshot_both("versions_marked_confirm", &mut preview);
    press(&mut preview, KeyCode::Char('n'));
    press(&mut preview, KeyCode::Char('d'));
    preview.apply(PreviewResult::Diffed {
        project: PROJECT,
        diff: Ok(VersionDiff {
            from: 1,
            to: 3,
            ..diff_fixture()
        }),
    });
    snapshot_both("versions_diff", &mut preview);
    let mut empty = Preview::new();
    insta::assert_snapshot!("no_project_80x24", render(&mut empty, 80, 24));
}

#[test]
fn tabs_switch_with_brackets_anywhere_and_h_l_at_the_top() {
    let mut preview = ready();
    assert_eq!(preview.tab(), Tab::Endpoints);
    assert_eq!(
        press(&mut preview, KeyCode::Char('[')),
        Outcome::Request(PreviewRequest::LoadDeployment { project: PROJECT }),
        "arriving at the Deployment tab loads it"
    );
    assert_eq!(preview.tab(), Tab::Deployment, "wraps around");
    press(&mut preview, KeyCode::Char(']'));
    press(&mut preview, KeyCode::Char('l'));
    assert_eq!(preview.tab(), Tab::Tests);
    press(&mut preview, KeyCode::Char('h'));
    assert_eq!(preview.tab(), Tab::Endpoints);
    // Inside a request form h/l are not tab keys, but brackets still are.
    press(&mut preview, KeyCode::Enter);
    assert!(!preview.endpoints().at_top());
    assert_eq!(press(&mut preview, KeyCode::Char('l')), Outcome::Ignored);
    assert_eq!(preview.tab(), Tab::Endpoints);
    press(&mut preview, KeyCode::Char(']'));
    assert_eq!(preview.tab(), Tab::Tests);
    // Unknown keys go back to the app.
    assert_eq!(press(&mut preview, KeyCode::Char('x')), Outcome::Ignored);
}

#[test]
fn typing_in_a_field_captures_every_key_until_esc() {
    let mut preview = post_books_form();
    assert!(!preview.captures_input());
    // POST /books has no parameters: the body is the only field.
    press(&mut preview, KeyCode::Enter);
    assert!(preview.captures_input());
    // ], h, s and q are text now.
    for c in "],hsq".chars() {
        assert_eq!(press(&mut preview, KeyCode::Char(c)), Outcome::Consumed);
    }
    assert_eq!(preview.tab(), Tab::Endpoints);
    press(&mut preview, KeyCode::Esc);
    assert!(!preview.captures_input());
    let body = preview
        .endpoints()
        .form()
        .and_then(|f| f.value("body"))
        .unwrap_or_default();
    assert!(body.ends_with("}],hsq"), "{body}");
    // An invalid body is not sent; the note says why.
    assert_eq!(press(&mut preview, KeyCode::Char('s')), Outcome::Consumed);
    assert!(
        preview
            .endpoints()
            .note()
            .is_some_and(|n| n.starts_with("the body is not valid JSON")),
        "{:?}",
        preview.endpoints().note()
    );
}

#[test]
fn send_and_copy_carry_the_prefilled_request_and_the_target() {
    let mut preview = post_books_form();
    let Outcome::Request(PreviewRequest::Send {
        project,
        version,
        target,
        request,
    }) = press(&mut preview, KeyCode::Char('s'))
    else {
        panic!("s sends");
    };
    assert_eq!((project, version, &target), (PROJECT, 3, &Target::Sandbox));
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/books");
    let body: Value = serde_json::from_str(&request.body).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        body["title"].is_string(),
        "prefilled from the example: {body}"
    );
    assert!(matches!(
        preview.endpoints().response(),
        ResponseState::Sending { .. }
    ));
    // t without a deployment stays on the sandbox; with one it switches.
    press(&mut preview, KeyCode::Char('t'));
    assert_eq!(preview.target(), &Target::Sandbox);
    preview.set_deployment(Some("https://books.example.com".into()));
    press(&mut preview, KeyCode::Char('t'));
    let Outcome::Request(PreviewRequest::CopyCurl { target, .. }) =
        press(&mut preview, KeyCode::Char('c'))
    else {
        panic!("c copies");
    };
    assert_eq!(target, Target::Url("https://books.example.com".into()));
    press(&mut preview, KeyCode::Char('t'));
    assert_eq!(preview.target(), &Target::Sandbox, "t toggles back");
    press(&mut preview, KeyCode::Char('t'));
    preview.apply(PreviewResult::Copied {
        project: PROJECT,
        copy: Ok(CurlCopy {
            command: "curl x".into(),
            osc52: osc52("curl x"),
        }),
    });
    assert_eq!(preview.endpoints().note(), Some("copied: curl x"));
    // A failed send shows the error as the response.
    preview.apply(PreviewResult::Sent {
        project: PROJECT,
        response: Err("the v3 server did not come up".into()),
    });
    assert_eq!(
        preview.endpoints().response(),
        &ResponseState::Failed("the v3 server did not come up".into())
    );
    // Esc goes back to the list.
    press(&mut preview, KeyCode::Esc);
    assert!(preview.endpoints().at_top());
}

#[test]
fn versions_diff_and_restore_keys() {
    let mut preview = ready();
    press(&mut preview, KeyCode::Char('['));
    press(&mut preview, KeyCode::Char('['));
    assert_eq!(preview.tab(), Tab::Versions);
    // No marks: the selected (newest, v3) against the one before.
    assert_eq!(
        press(&mut preview, KeyCode::Char('d')),
        Outcome::Request(PreviewRequest::Diff {
            project: PROJECT,
            from: 2,
            to: 3
        })
    );
    // A diff for another pair is ignored; the right one is shown; Esc goes back.
    preview.apply(PreviewResult::Diffed {
        project: PROJECT,
        diff: Ok(diff_fixture()),
    });
    assert!(matches!(
        preview.versions().mode(),
        VersionsMode::Diff { view: None, .. }
    ));
    press(&mut preview, KeyCode::Esc);
    // Mark v3 and v1 (space), diff them in order.
    press(&mut preview, KeyCode::Char(' '));
    press(&mut preview, KeyCode::Char('j'));
    press(&mut preview, KeyCode::Char('j'));
    press(&mut preview, KeyCode::Char('m'));
    assert_eq!(preview.versions().marked(), &[3, 1]);
    assert_eq!(
        press(&mut preview, KeyCode::Enter),
        Outcome::Request(PreviewRequest::Diff {
            project: PROJECT,
            from: 1,
            to: 3
        })
    );
    preview.apply(PreviewResult::Diffed {
        project: PROJECT,
        diff: Err("cannot compare v1 and v3: gone".into()),
    });
    assert!(matches!(
        preview.versions().mode(),
        VersionsMode::Diff { view: Some(_), .. }
    ));
    press(&mut preview, KeyCode::Char('q'));
    // A third mark drops the oldest one.
    press(&mut preview, KeyCode::Char('k'));
    press(&mut preview, KeyCode::Char(' '));
    assert_eq!(preview.versions().marked(), &[1, 2]);
    // Restore asks first; anything but y cancels, and the key does nothing else.
    press(&mut preview, KeyCode::Char('r'));
    assert_eq!(preview.versions().mode(), &VersionsMode::ConfirmRestore(2));
    assert_eq!(press(&mut preview, KeyCode::Char(']')), Outcome::Consumed);
    assert_eq!(preview.tab(), Tab::Versions);
    assert_eq!(preview.versions().note(), Some("restore cancelled"));
    press(&mut preview, KeyCode::Char('r'));
    assert_eq!(
        press(&mut preview, KeyCode::Char('y')),
        Outcome::Request(PreviewRequest::Restore {
            project: PROJECT,
            version: 2
        })
    );
    preview.apply(PreviewResult::Restored {
        project: PROJECT,
        from: 2,
        restored: Ok(crate::versions::RecordedVersion {
            id: Uuid::from_u128(4),
            number: 4,
        }),
    });
    assert_eq!(preview.versions().note(), Some("v2 restored as v4"));
}

#[test]
fn scrolling_tabs_take_scroll_keys() {
    let mut preview = ready();
    press(&mut preview, KeyCode::Char(']'));
    press(&mut preview, KeyCode::Char(']'));
    assert_eq!(preview.tab(), Tab::Spec);
    render(&mut preview, 80, 24);
    assert_eq!(press(&mut preview, KeyCode::Char('j')), Outcome::Consumed);
    assert_eq!(preview.spec_view().offset(), 1);
    press(&mut preview, KeyCode::Char('G'));
    assert!(preview.spec_view().offset() > 20, "the spec is long");
    assert!(!preview.tests_view().lines().is_empty());
}

#[test]
fn show_loads_once_and_stale_results_are_dropped() {
    let mut preview = Preview::new();
    assert_eq!(
        press(&mut preview, KeyCode::Char('j')),
        Outcome::Ignored,
        "nothing shown"
    );
    assert_eq!(preview.show(&project(None)), None);
    assert!(preview.showing().is_none());
    let load = preview.show(&project(Some(2)));
    assert!(load.is_some());
    assert_eq!(preview.show(&project(Some(2))), None, "already loading v2");
    // The v3 data arrives late (for a version no longer asked for): dropped.
    preview.apply(PreviewResult::Loaded(Box::new(loaded())));
    assert!(preview.endpoints().operations().is_empty());
    // A failed load is shown, and showing the project again retries.
    preview.apply(PreviewResult::LoadFailed {
        project: PROJECT,
        version: 2,
        message: "the database did not answer".into(),
    });
    assert!(render(&mut preview, 80, 24).contains("the database did not answer"));
    assert!(preview.show(&project(Some(2))).is_some());
    // A new version after a save reloads, and results for other projects are ignored.
    assert!(preview.show(&project(Some(3))).is_some());
    preview.apply(PreviewResult::Loaded(Box::new(loaded())));
    assert!(!preview.endpoints().operations().is_empty());
    preview.apply(PreviewResult::Sent {
        project: Uuid::from_u128(1),
        response: Ok(exchange()),
    });
    assert_eq!(preview.endpoints().response(), &ResponseState::None);
    // Moving to a project without versions, or to none, stops the server.
    let mut empty = project(None);
    empty.id = Uuid::from_u128(5);
    assert_eq!(preview.show(&empty), Some(PreviewRequest::StopServer));
    assert_eq!(preview.show(&empty), None);
    assert_eq!(preview.clear(), Some(PreviewRequest::StopServer));
    assert!(preview.showing().is_none());
    assert_eq!(preview.clear(), None);
}

#[test]
fn errors_are_reported_for_notices() {
    let failed = PreviewResult::Diffed {
        project: PROJECT,
        diff: Err("cannot compare".into()),
    };
    assert_eq!(failed.error(), Some("cannot compare"));
    assert_eq!(PreviewResult::Loaded(Box::new(loaded())).error(), None);
}

#[test]
fn osc52_wraps_base64_of_the_text() {
    assert_eq!(osc52("curl 'x'"), "\x1b]52;c;Y3VybCAneCc=\x07");
}

#[test]
fn typing_keys_never_panic_on_odd_input() {
    let mut preview = post_books_form();
    press(&mut preview, KeyCode::Enter);
    chars(&mut preview, "ünï\u{1F600}\t");
    for code in [
        KeyCode::Left,
        KeyCode::Right,
        KeyCode::Home,
        KeyCode::End,
        KeyCode::Backspace,
        KeyCode::Delete,
        KeyCode::Enter,
        KeyCode::Esc,
        KeyCode::Esc,
        KeyCode::Esc,
    ] {
        press(&mut preview, code);
    }
    render(&mut preview, 20, 5);
    render(&mut preview, 1, 1);
    assert!(preview.endpoints().at_top());
}

/// A live deployment of v3 with a fixed traffic window (so the sparkline is always the
/// same) and `log_lines` instance log lines.
fn deployed(log_lines: usize) -> DeploymentStatus {
    use crate::deploy::deployment_row::DeploymentRow;
    use crate::deploy::traffic_stats::{BUCKET_BOUNDS_US, RouteStats};
    let per_second: Vec<u64> = (0..60u64).map(|i| (i * 7) % 13 + i / 10).collect();
    let mut latency_buckets = vec![0; BUCKET_BOUNDS_US.len() + 1];
    latency_buckets[1] = 150; // ≤ 0.5 ms
    latency_buckets[2] = 40; // ≤ 1 ms
    latency_buckets[5] = 10; // ≤ 10 ms
    let logs: Vec<String> = (1..=log_lines)
        .map(|i| format!("INFO:     127.0.0.1 - \"GET /books HTTP/1.1\" 200 OK ({i})"))
        .collect();
    DeploymentStatus {
        row: DeploymentRow {
            id: Uuid::from_u128(0xd1),
            project_id: PROJECT,
            project: "bookshelf".into(),
            owner_id: Uuid::from_u128(9),
            version_id: Uuid::from_u128(3),
            version: 3,
            state: "live".into(),
            target: "process".into(),
            route: "/p/alice/bookshelf/".into(),
            instance: Some(json!({"env": {}})),
            created_at: at(30),
            updated_at: at(31),
        },
        url: "http://127.0.0.1:7878/p/alice/bookshelf/".into(),
        error: None,
        instance: Some(json!({
            "route": "alice/bookshelf",
            "deployment": Uuid::from_u128(0xd1).to_string(),
            "version": 3,
            "state": "healthy",
            "since": "2026-03-14T09:31:00Z",
            "restarts": 1,
            "socket": "/tmp/instance.sock",
            "in_flight": 0,
            "logs": logs,
        })),
        traffic: Some(RouteStats {
            requests: 200,
            status_classes: [0, 190, 2, 6, 2],
            unreachable: 0,
            latency_buckets,
            last_second: 1_773_480_660,
            per_second,
        }),
    }
}

fn on_deployment_tab() -> Preview {
    let mut preview = ready();
    press(&mut preview, KeyCode::Char('['));
    assert_eq!(preview.tab(), Tab::Deployment);
    preview
}

#[test]
fn snapshots_of_the_deployment_tab() {
    let mut preview = on_deployment_tab();
    snapshot_both("deployment_loading", &mut preview);
    preview.apply(PreviewResult::DeploymentLoaded {
        project: PROJECT,
        deployment: Ok(Some(Box::new(deployed(40)))),
    });
    snapshot_both("deployment_live", &mut preview);
    // As narrow as the pane is beside the editor: the URL wraps, nothing is cut.
    insta::assert_snapshot!("deployment_live_38x20", render(&mut preview, 38, 20));
    let mut none = on_deployment_tab();
    none.apply(PreviewResult::DeploymentLoaded {
        project: PROJECT,
        deployment: Ok(None),
    });
    snapshot_both("deployment_not_deployed", &mut none);
}

#[test]
fn deployment_results_set_the_endpoints_target_and_stay_on_their_project() {
    let mut preview = on_deployment_tab();
    assert_eq!(preview.deployment_visible(), Some(PROJECT));
    // A result of another project is dropped.
    preview.apply(PreviewResult::DeploymentLoaded {
        project: Uuid::from_u128(0x99),
        deployment: Ok(Some(Box::new(deployed(1)))),
    });
    assert_eq!(preview.deployment_tab().state(), &DeploymentState::Loading);
    preview.apply(PreviewResult::DeploymentLoaded {
        project: PROJECT,
        deployment: Ok(Some(Box::new(deployed(1)))),
    });
    assert_eq!(
        preview.deployment_tab().url(),
        Some("http://127.0.0.1:7878/p/alice/bookshelf/")
    );
    // `t` in the Endpoints tab now sends to the deployment.
    press(&mut preview, KeyCode::Char(']'));
    assert_eq!(preview.tab(), Tab::Endpoints);
    assert_eq!(preview.deployment_visible(), None);
    press(&mut preview, KeyCode::Enter);
    press(&mut preview, KeyCode::Char('t'));
    assert_eq!(
        preview.target(),
        &Target::Url("http://127.0.0.1:7878/p/alice/bookshelf/".into())
    );
    // Undeployed: the target goes back to the sandbox and the tab says so.
    preview.apply(PreviewResult::DeploymentLoaded {
        project: PROJECT,
        deployment: Ok(None),
    });
    assert_eq!(preview.target(), &Target::Sandbox);
    assert_eq!(
        preview.deployment_tab().state(),
        &DeploymentState::NotDeployed
    );
    // A failed reload keeps a shown deployment; with none shown it shows the error.
    preview.apply(PreviewResult::DeploymentLoaded {
        project: PROJECT,
        deployment: Err("the daemon is gone".into()),
    });
    assert_eq!(
        preview.deployment_tab().state(),
        &DeploymentState::Failed("the daemon is gone".into())
    );
    // Another project resets the tab.
    let mut other = project(Some(1));
    other.id = Uuid::from_u128(0x77);
    preview.show(&other);
    assert_eq!(preview.deployment_tab().state(), &DeploymentState::Loading);
}

#[test]
fn deployment_log_scrolls_and_follows_new_lines_until_scrolled_back() {
    let mut preview = on_deployment_tab();
    // Nothing to scroll before the deployment arrived: the keys go to the app.
    assert_eq!(press(&mut preview, KeyCode::Char('j')), Outcome::Ignored);
    preview.apply(PreviewResult::DeploymentLoaded {
        project: PROJECT,
        deployment: Ok(Some(Box::new(deployed(40)))),
    });
    render(&mut preview, 80, 24);
    let bottom = preview.deployment_tab().logs().offset();
    assert!(bottom > 0, "the newest lines are shown first");
    assert_eq!(press(&mut preview, KeyCode::Char('k')), Outcome::Consumed);
    assert_eq!(preview.deployment_tab().logs().offset(), bottom - 1);
    // A reload with more lines keeps a scrolled-back view where it was …
    preview.apply(PreviewResult::DeploymentLoaded {
        project: PROJECT,
        deployment: Ok(Some(Box::new(deployed(45)))),
    });
    render(&mut preview, 80, 24);
    assert_eq!(preview.deployment_tab().logs().offset(), bottom - 1);
    // … and after G it follows the newest line again.
    press(&mut preview, KeyCode::Char('G'));
    preview.apply(PreviewResult::DeploymentLoaded {
        project: PROJECT,
        deployment: Ok(Some(Box::new(deployed(50)))),
    });
    render(&mut preview, 80, 24);
    assert_eq!(preview.deployment_tab().logs().offset(), bottom + 10);
    press(&mut preview, KeyCode::Char('g'));
    assert_eq!(preview.deployment_tab().logs().offset(), 0);
    // Tab keys still switch away.
    assert_eq!(press(&mut preview, KeyCode::Char('l')), Outcome::Consumed);
    assert_eq!(preview.tab(), Tab::Endpoints);
    assert_eq!(
        press(&mut preview, KeyCode::Char('h')),
        Outcome::Request(PreviewRequest::LoadDeployment { project: PROJECT })
    );
}

#[test]
fn a_paste_goes_whole_into_the_field_being_edited() {
    let mut preview = post_books_form();
    assert!(!preview.paste("{}"), "no field is being edited");
    press(&mut preview, KeyCode::Enter);
    assert!(preview.captures_input());
    // The body keeps the paste's lines (CR from the terminal included).
    assert!(preview.paste(",\r\n\"x\": 1"));
    press(&mut preview, KeyCode::Esc);
    let body = preview
        .endpoints()
        .form()
        .and_then(|f| f.value("body"))
        .unwrap_or_default();
    assert!(body.ends_with("},\n\"x\": 1"), "{body}");
}

#[test]
fn a_paste_into_a_parameter_joins_its_lines() {
    let mut preview = ready();
    let ops = preview.endpoints().operations().to_vec();
    let with_param = ops
        .iter()
        .position(|o| !o.params.is_empty())
        .unwrap_or_else(|| panic!("an operation with a parameter in {ops:?}"));
    for _ in 0..with_param {
        press(&mut preview, KeyCode::Char('j'));
    }
    press(&mut preview, KeyCode::Enter);
    // The first field is the first parameter; Enter edits it.
    press(&mut preview, KeyCode::Enter);
    assert!(preview.captures_input());
    let name = ops[with_param].params[0].name.clone();
    let before = preview
        .endpoints()
        .form()
        .and_then(|f| f.value(&name))
        .unwrap_or_default();
    assert!(preview.paste("12\r\n34\n"));
    let value = preview.endpoints().form().and_then(|f| f.value(&name));
    assert_eq!(value, Some(format!("{before}12 34")));
}
