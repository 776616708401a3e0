//! The `openai` provider against a real HTTP server on 127.0.0.1 that speaks the
//! chat-completions wire protocol (plain JSON and SSE streaming), scripted per test.
//! (The check that the API key never reaches the logs is `tests/openai_logs.rs`, its
//! own binary: it captures tracing output, which other tests' threads disturb.)

use std::time::Duration;

use apiforge::design::ApiDesign;
use apiforge::provider::openai::{Backoff, OpenAiError, OpenAiProvider};
use apiforge::provider::{DesignRequest, ProviderEvent};
use serde_json::json;

use crate::fake_openai::{FakeOpenAi, Step, Usage};
use crate::openai_harness::*;
#[tokio::test]
async fn valid_design_plain_and_streamed() {
    for stream in [false, true] {
        let server = FakeOpenAi::scripted(vec![Step::reply(design_json("Todo API"))]).await;
        let provider = provider(&config(&server.base_url(), stream));
        let (result, events) = design(&provider, "a todo list with tasks", None).await;
        let design = result.unwrap_or_else(|e| panic!("stream={stream}: {e}"));
        assert_eq!(design.title, "Todo API");
        assert_eq!(design.resources[0].name, "task");

        let received = server.received();
        assert_eq!(received.len(), 1);
        let request = &received[0];
        assert_eq!(request.path, "/v1/chat/completions");
        assert_eq!(request.body["model"], "test-model");
        assert_eq!(request.streaming(), stream);
        assert_eq!(request.body["max_tokens"], 4000);
        let format = &request.body["response_format"];
        assert_eq!(format["type"], "json_schema");
        assert_eq!(format["json_schema"]["strict"], false);
        assert!(
            format["json_schema"]["schema"]["properties"]["resources"].is_object(),
            "the ApiDesign schema is sent: {format}"
        );
        assert_eq!(request.messages()[0]["role"], "system");
        assert!(
            request.messages()[0]["content"]
                .as_str()
                .is_some_and(|s| s.contains("snake_case")),
            "the system prompt explains the IR"
        );
        assert!(request.last_message().contains("a todo list with tasks"));
        if stream {
            assert_eq!(request.body["stream_options"]["include_usage"], true);
        }

        let messages = progress(&events);
        assert!(
            messages[0].contains("asking test-model"),
            "first progress line names the model: {messages:?}"
        );
        let streamed: Vec<usize> = events
            .iter()
            .filter_map(|e| match e {
                ProviderEvent::Streamed { chars } => Some(*chars),
                ProviderEvent::Progress { .. } => None,
            })
            .collect();
        if stream {
            let total = design_json("Todo API").chars().count();
            assert!(streamed.len() > 1, "progress while streaming: {streamed:?}");
            assert!(streamed.windows(2).all(|w| w[0] < w[1]), "{streamed:?}");
            assert_eq!(streamed.last().copied(), Some(total));
        } else {
            assert!(streamed.is_empty());
        }
    }
}

#[tokio::test]
async fn invalid_then_valid_sends_the_validation_error_back() {
    for stream in [false, true] {
        let server = FakeOpenAi::scripted(vec![
            Step::reply(empty_design_json("Draft")),
            Step::reply(design_json("Fixed")),
        ])
        .await;
        let provider = provider(&config(&server.base_url(), stream));
        let (result, events) = design(&provider, "tasks", None).await;
        assert_eq!(result.expect("repaired design").title, "Fixed");

        let received = server.received();
        assert_eq!(received.len(), 2, "stream={stream}");
        let repair = &received[1];
        assert!(
            repair
                .last_message()
                .contains("/resources: the design \"Draft\" has no resources"),
            "the repair request carries the validation error: {}",
            repair.last_message()
        );
        let messages = repair.messages();
        let assistant = &messages[messages.len() - 2];
        assert_eq!(assistant["role"], "assistant");
        assert_eq!(assistant["content"], empty_design_json("Draft"));
        assert!(
            progress(&events)
                .iter()
                .any(|m| m.starts_with("repair 1 of 2: /resources: the design")),
            "{events:?}"
        );
    }
}

#[tokio::test]
async fn unparsable_output_is_repaired_with_the_serde_error() {
    let server = FakeOpenAi::scripted(vec![
        Step::reply(r#"{"schema_version":1,"title":"X","resources":[],"colour":"red"}"#),
        Step::reply(format!("```json\n{}\n```", design_json("Fenced"))),
    ])
    .await;
    let provider = provider(&config(&server.base_url(), false));
    let (result, _) = design(&provider, "tasks", None).await;
    assert_eq!(result.expect("repaired").title, "Fenced");
    let repair = server.received()[1].last_message();
    assert!(repair.contains("unknown field `colour`"), "{repair}");
}

#[tokio::test]
async fn invalid_forever_stops_after_max_repairs() {
    // A different invalid design each time, so only the repair limit can stop it.
    let server =
        FakeOpenAi::start(|r| Step::reply(empty_design_json(&format!("Try {}", r.index)))).await;
    let provider = provider(&config(&server.base_url(), false));
    let (result, events) = design(&provider, "tasks", None).await;
    let error = result.expect_err("never valid");
    assert!(
        matches!(&error, OpenAiError::InvalidOutput { repairs: 2, errors } if errors.contains("\"Try 2\"")),
        "{error:?}"
    );
    assert_eq!(server.calls(), 3, "one call plus max_repairs repairs");
    let text = error.to_string();
    assert!(text.contains("after 2 repair(s)"), "{text}");
    assert!(text.contains("no resources"), "{text}");
    assert_eq!(
        progress(&events)
            .iter()
            .filter(|m| m.starts_with("repair "))
            .count(),
        2
    );
}

#[tokio::test]
async fn the_same_failure_twice_ends_the_loop_early() {
    let server = FakeOpenAi::scripted(vec![Step::reply(empty_design_json("Same"))]).await;
    let mut config = config(&server.base_url(), false);
    config.max_repairs = 5;
    let provider = provider(&config);
    let (result, _) = design(&provider, "tasks", None).await;
    let error = result.expect_err("loop");
    assert!(
        matches!(&error, OpenAiError::SameFailureTwice { repairs: 1, errors } if errors.contains("no resources")),
        "{error:?}"
    );
    assert_eq!(
        server.calls(),
        2,
        "stops at the first repeat, not after 5 repairs"
    );
    assert!(error.to_string().contains("same mistake twice"), "{error}");
}

#[tokio::test]
async fn rate_limit_then_success_honours_retry_after() {
    let server = FakeOpenAi::scripted(vec![
        Step::Error {
            status: 429,
            message: "Rate limit reached for requests".to_owned(),
            retry_after: Some("0"),
        },
        Step::reply(design_json("After 429")),
    ])
    .await;
    // Without Retry-After the first backoff would be ten minutes (and the bounded
    // wait would fail the test): the server's `Retry-After: 0` must win.
    let provider = OpenAiProvider::with_api_key(&config(&server.base_url(), false), None)
        .expect("local")
        .with_backoff(Backoff {
            base: Duration::from_secs(600),
            cap: Duration::from_secs(600),
        });
    let (result, events) = design(&provider, "tasks", None).await;
    assert_eq!(result.expect("retried").title, "After 429");
    assert_eq!(server.calls(), 2);
    let messages = progress(&events);
    assert!(
        messages
            .iter()
            .any(|m| m.contains("rate limited (429)") && m.contains("retry 1 of 3")),
        "{messages:?}"
    );
}

#[tokio::test]
async fn rate_limited_forever_gives_up_after_max_retries() {
    let server = FakeOpenAi::scripted(vec![Step::error(429, "slow down")]).await;
    let mut config = config(&server.base_url(), false);
    config.max_retries = 2;
    let (result, _) = design(&provider(&config), "tasks", None).await;
    let error = result.expect_err("429 forever");
    assert!(
        matches!(&error, OpenAiError::RateLimited { attempts: 3, detail, .. } if detail == "slow down"),
        "{error:?}"
    );
    assert_eq!(server.calls(), 3);
    assert!(error.to_string().contains("max_retries"), "{error}");
}

#[tokio::test]
async fn server_errors_are_retried_then_reported() {
    let server = FakeOpenAi::scripted(vec![Step::error(500, "upstream model crashed")]).await;
    let mut retrying = config(&server.base_url(), true);
    retrying.max_retries = 2;
    let (result, events) = design(&provider(&retrying), "tasks", None).await;
    let error = result.expect_err("500 forever");
    assert!(
        matches!(&error, OpenAiError::Server { status: 500, attempts: 3, detail, .. } if detail == "upstream model crashed"),
        "{error:?}"
    );
    assert_eq!(server.calls(), 3, "one call plus max_retries retries");
    assert_eq!(
        progress(&events)
            .iter()
            .filter(|m| m.contains("server error (500"))
            .count(),
        2
    );

    let server = FakeOpenAi::scripted(vec![
        Step::error(503, "overloaded"),
        Step::reply(design_json("After 503")),
    ])
    .await;
    let (result, _) = design(&provider(&config(&server.base_url(), true)), "tasks", None).await;
    assert_eq!(result.expect("retried").title, "After 503");
    assert_eq!(server.calls(), 2);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let server = FakeOpenAi::scripted(vec![Step::error(404, "model 'test-model' not found")]).await;
    let (result, _) = design(&provider(&config(&server.base_url(), false)), "tasks", None).await;
    let error = result.expect_err("404");
    assert!(
        matches!(
            &error,
            OpenAiError::Server {
                status: 404,
                attempts: 1,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(server.calls(), 1);
    assert!(
        error.to_string().contains("provider.openai.model"),
        "{error}"
    );
}

#[tokio::test]
async fn a_hung_server_times_out() {
    for step in [
        Step::Hang,
        Step::StallAfter {
            content: "{\"schema_version\": 1, \"title\": \"Half".to_owned(),
        },
    ] {
        let stalls_mid_stream = matches!(step, Step::StallAfter { .. });
        let mut server = FakeOpenAi::scripted(vec![step]).await;
        let provider = provider(&config(&server.base_url(), stalls_mid_stream))
            .with_timeout(Duration::from_millis(300));
        let (result, events) = design(&provider, "tasks", None).await;
        let error = result.expect_err("hang");
        assert!(matches!(error, OpenAiError::Timeout { .. }), "{error:?}");
        assert!(error.to_string().contains("timeout_secs"), "{error}");
        let arrival = server.next_arrival(Duration::from_secs(1)).await;
        assert_eq!(arrival.index, 0);
        assert_eq!(server.calls(), 1, "a timeout is reported, not retried");
        if stalls_mid_stream {
            assert!(
                events
                    .iter()
                    .any(|e| matches!(e, ProviderEvent::Streamed { chars } if *chars > 0)),
                "the partial stream was reported: {events:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_slow_but_steady_stream_is_not_cut_off() {
    // Ten events 100 ms apart take twice the 500 ms timeout in total, but no single
    // silence comes close: the timeout bounds silences, not the whole generation.
    let server = FakeOpenAi::scripted(vec![Step::Paced {
        content: design_json("Slow"),
        pieces: 8,
        gap: Duration::from_millis(100),
    }])
    .await;
    let provider =
        provider(&config(&server.base_url(), true)).with_timeout(Duration::from_millis(500));
    let (result, events) = design(&provider, "tasks", None).await;
    assert_eq!(result.expect("slow stream").title, "Slow");
    assert!(
        events
            .iter()
            .filter(|e| matches!(e, ProviderEvent::Streamed { .. }))
            .count()
            >= 2,
        "{events:?}"
    );
}

#[tokio::test]
async fn follow_up_requests_include_the_base_design() {
    let server = FakeOpenAi::scripted(vec![Step::reply(design_json("Library v2"))]).await;
    let mut base = ApiDesign::new("Library");
    base.resources
        .push(apiforge::design::Resource::new("book", "books"));
    let (result, _) = design(
        &provider(&config(&server.base_url(), false)),
        "add a due date to loans",
        Some(&base),
    )
    .await;
    assert_eq!(result.expect("design").title, "Library v2");
    let request = server.received()[0].last_message();
    assert!(request.contains(&base.to_json_pretty()), "{request}");
    assert!(request.contains("add a due date to loans"), "{request}");
    assert!(request.contains("complete updated design"), "{request}");
}

#[tokio::test]
async fn design_futures_can_be_spawned() {
    // The TUI runs providers on tokio worker threads: the future must be Send.
    fn assert_send<T: Send>(_: &T) {}
    let server = FakeOpenAi::scripted(vec![Step::reply(design_json("Sent"))]).await;
    let provider = provider(&config(&server.base_url(), true));
    let mut count = 0usize;
    let mut on_event = |_: ProviderEvent| count += 1;
    let future = provider.design(
        DesignRequest {
            prompt: "tasks",
            base: None,
        },
        &needs_a_resource,
        &mut on_event,
    );
    assert_send(&future);
    assert_eq!(bounded(future).await.expect("design").title, "Sent");
    assert!(count >= 2, "progress and streamed events arrived");
}

#[tokio::test]
async fn a_refusal_is_reported_as_such() {
    let server = FakeOpenAi::scripted(vec![Step::Raw(json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "test-model",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": null, "refusal": "I can't help with that."},
            "finish_reason": "stop"
        }]
    }))])
    .await;
    let (result, _) = design(&provider(&config(&server.base_url(), false)), "tasks", None).await;
    let error = result.expect_err("refused");
    assert!(
        matches!(&error, OpenAiError::Refused(why) if why == "I can't help with that."),
        "{error:?}"
    );
    assert_eq!(server.calls(), 1, "a refusal is not repaired");
}

#[tokio::test]
async fn an_error_event_mid_stream_is_reported() {
    let server = FakeOpenAi::scripted(vec![Step::RawEvents(vec![
        json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
               "choices": [{"index": 0, "delta": {"content": "{\"ti"}, "finish_reason": null}]}),
        json!({"error": {"message": "the model ran out of memory", "type": "server_error"}}),
    ])])
    .await;
    let (result, _) = design(&provider(&config(&server.base_url(), true)), "tasks", None).await;
    let error = result.expect_err("error event");
    assert!(
        matches!(&error, OpenAiError::BadResponse { detail, .. } if detail.contains("the model ran out of memory")),
        "{error:?}"
    );
}

#[tokio::test]
async fn base_url_with_and_without_trailing_slash() {
    let server = FakeOpenAi::scripted(vec![Step::reply(design_json("Slash"))]).await;
    for base_url in [
        server.base_url(),
        format!("{}/", server.base_url()),
        format!("{}//", server.base_url()),
    ] {
        let (result, _) = design(&provider(&config(&base_url, false)), "tasks", None).await;
        assert_eq!(result.expect(&base_url).title, "Slash");
    }
    let paths: Vec<String> = server.received().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, vec!["/v1/chat/completions"; 3]);
}

#[tokio::test]
async fn missing_or_misplaced_keys_are_explained() {
    let mut config = config("https://api.openai.com/v1", false);
    config.api_key_env = "APIFORGE_TEST_KEY_THAT_IS_NOT_SET".to_owned();
    let error = OpenAiProvider::from_config(&config).expect_err("no key");
    assert!(
        matches!(&error, OpenAiError::NotConfigured { env_var, .. } if env_var == "APIFORGE_TEST_KEY_THAT_IS_NOT_SET"),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("set the environment variable APIFORGE_TEST_KEY_THAT_IS_NOT_SET"),
        "{error}"
    );
    assert!(OpenAiProvider::with_api_key(&config, Some("  ".to_owned())).is_err());

    // People paste the key itself into api_key_env: refuse without echoing it.
    config.api_key_env = "sk-proj-abc123-secret".to_owned();
    let error = OpenAiProvider::from_config(&config).expect_err("key in api_key_env");
    assert!(matches!(error, OpenAiError::InvalidConfig(_)), "{error:?}");
    assert!(
        !error.to_string().contains("sk-proj-abc123-secret"),
        "{error}"
    );

    let mut config = self::config("https://api.openai.com/v1", false);
    let error = OpenAiProvider::with_api_key(&config, Some("sk-with\nnewline".to_owned()))
        .expect_err("unencodable key");
    assert!(!error.to_string().contains("newline"), "{error}");
    config.base_url = "localhost:11434".to_owned();
    let error = OpenAiProvider::with_api_key(&config, None).expect_err("no scheme");
    assert!(error.to_string().contains("base_url"), "{error}");
}

#[tokio::test]
async fn an_unreachable_server_is_retried_then_reported() {
    // A port that was just free: nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let mut config = config(&format!("http://{addr}/v1"), false);
    config.max_retries = 1;
    let (result, events) = design(&provider(&config), "tasks", None).await;
    let error = result.expect_err("nothing listens");
    assert!(
        matches!(&error, OpenAiError::Unreachable { attempts: 2, .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("provider.openai.base_url"),
        "{error}"
    );
    assert!(
        progress(&events)
            .iter()
            .any(|m| m.contains("connection failed")),
        "{events:?}"
    );
}

#[tokio::test]
async fn servers_rejecting_response_format_get_plain_json_requests() {
    let server = FakeOpenAi::start(|r| {
        if r.body.get("response_format").is_some() {
            Step::error(
                400,
                "Unrecognized request argument supplied: response_format",
            )
        } else {
            Step::reply(format!("Sure!\n```json\n{}\n```", design_json("Plain")))
        }
    })
    .await;
    let (result, events) =
        design(&provider(&config(&server.base_url(), false)), "tasks", None).await;
    assert_eq!(result.expect("fallback").title, "Plain");
    let received = server.received();
    assert_eq!(received.len(), 2);
    assert!(received[1].body.get("response_format").is_none());
    assert!(
        progress(&events)
            .iter()
            .any(|m| m.contains("does not support response_format")),
        "{events:?}"
    );
}

#[tokio::test]
async fn the_token_budget_stops_repairs() {
    let server = FakeOpenAi::start(|r| Step::Reply {
        content: empty_design_json(&format!("Costly {}", r.index)),
        usage: Some(Usage {
            prompt: 20_000,
            completion: 10_000,
        }),
        finish_reason: "stop",
    })
    .await;
    let provider = provider(&config(&server.base_url(), true)).with_token_budget(50_000);
    let (result, _) = design(&provider, "tasks", None).await;
    let error = result.expect_err("over budget");
    assert!(
        matches!(
            &error,
            OpenAiError::TokenBudget {
                used: 30_000,
                budget: 50_000,
                next_repair: 1,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        server.calls(),
        1,
        "the repair that would exceed the budget is not sent"
    );
    assert!(error.to_string().contains("max_tokens"), "{error}");

    // The default budget follows the config: max_tokens × (max_repairs + 1) × 2.
    let default = self::provider(&config(&server.base_url(), true));
    assert_eq!(default.token_budget(), 4000 * 3 * 2);
}

#[tokio::test]
async fn a_reply_cut_off_at_max_tokens_is_reported() {
    for stream in [false, true] {
        let server = FakeOpenAi::scripted(vec![Step::Reply {
            content: "{\"schema_version\": 1, \"title\": \"Lo".to_owned(),
            usage: None,
            finish_reason: "length",
        }])
        .await;
        let (result, _) = design(
            &provider(&config(&server.base_url(), stream)),
            "tasks",
            None,
        )
        .await;
        let error = result.expect_err("truncated");
        assert!(
            matches!(error, OpenAiError::Truncated { max_tokens: 4000 }),
            "stream={stream}: {error:?}"
        );
        assert_eq!(server.calls(), 1);
    }
}

/// A design whose custom action `count_notes` runs `handler` (FastAPI); the contract
/// tests call it once with a valid request.
fn notes_design(handler: &str) -> String {
    json!({
        "schema_version": 1,
        "title": "Notes API",
        "resources": [{
            "name": "note",
            "plural": "notes",
            "fields": [{"name": "title", "type": "string", "required": true}]
        }],
        "actions": [{
            "name": "count_notes",
            "method": "GET",
            "path": "/notes/count",
            "resource": "note",
            "output": {"kind": "object", "fields": [{"name": "total", "type": "integer", "required": true}]},
            "behavior": {"kind": "custom", "fastapi": handler}
        }]
    })
    .to_string()
}

const DIVIDES_BY_ZERO: &str = "return models.CountNotesOutput(total=1 // 0)";
const RAISES_KEY_ERROR: &str = "raise KeyError(\"total\")";
const COUNTS: &str = "(total,) = db.execute(\"SELECT COUNT(*) FROM notes\").fetchone()\n\
                      return models.CountNotesOutput(total=total)";
const REPAIR_KEY_VAR: &str = "APIFORGE_REPAIR_TEST_KEY";
const REPAIR_KEY: &str = "sk-repair-test-0123456789abcdef";

/// Runs `args` (a pipeline command with `--json`) against the model at `base`; returns
/// its output and `apiforge job <id> --json` (steps, log).
fn run_with_model(
    home: &crate::support::ApiforgeHome,
    base: &str,
    max_repairs: u32,
    args: &[String],
) -> (serde_json::Value, serde_json::Value) {
    let out = home
        .command()
        .env("APIFORGE_PROVIDER_OPENAI_BASE_URL", base)
        .env("APIFORGE_PROVIDER_OPENAI_MODEL", "test-model")
        .env("APIFORGE_PROVIDER_OPENAI_STREAM", "false")
        .env("APIFORGE_PROVIDER_OPENAI_MAX_TOKENS", "4000")
        .env(
            "APIFORGE_PROVIDER_OPENAI_MAX_REPAIRS",
            max_repairs.to_string(),
        )
        .env("APIFORGE_PROVIDER_OPENAI_API_KEY_ENV", REPAIR_KEY_VAR)
        .env(REPAIR_KEY_VAR, REPAIR_KEY)
        .args(args)
        .output()
        .expect("apiforge runs");
    // A failing version exits non-zero with its JSON on stdout all the same.
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: not JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let job = json["job"].to_string();
    let detail = home.json(&["job", &job, "--json"]);
    (json, detail)
}

/// One scripted model and what the job must end with.
struct RepairCase {
    slug: &'static str,
    /// The model's answers in order (the last repeats).
    answers: Vec<Step>,
    max_repairs: u32,
    calls: usize,
    check_status: &'static str,
    rounds: Option<u64>,
    best_round: u64,
    stop: Option<serde_json::Value>,
    /// A line the job log must contain.
    log: &'static str,
}

/// Test-failure repair through the real pipeline: `apiforge new --provider openai`
/// (embedded cluster, in-process worker, process sandbox, real runtimes) against the
/// scripted local chat-completions server.
#[tokio::test(flavor = "multi_thread")]
async fn failing_handlers_are_repaired_within_rounds_budget_and_loop_detection() {
    let costly = Step::Reply {
        content: notes_design(RAISES_KEY_ERROR),
        usage: Some(Usage {
            prompt: 20_000,
            completion: 10_000,
        }),
        finish_reason: "stop",
    };
    let cases = [
        RepairCase {
            slug: "fixed",
            answers: vec![
                Step::reply(notes_design(DIVIDES_BY_ZERO)),
                Step::reply(notes_design(COUNTS)),
            ],
            max_repairs: 2,
            calls: 2,
            check_status: "passing",
            rounds: Some(1),
            best_round: 1,
            stop: Some(json!({"reason": "passed"})),
            log: "repair round 1/2: 1 failure(s) → asking test-model for a fix",
        },
        RepairCase {
            slug: "looping",
            answers: vec![Step::reply(notes_design(DIVIDES_BY_ZERO))],
            max_repairs: 3,
            calls: 2,
            check_status: "failing",
            rounds: Some(1),
            best_round: 0,
            stop: Some(json!({"reason": "same_failures", "round": 1, "earlier": 0})),
            log: "loop detected: round 1 failed exactly like the first design",
        },
        RepairCase {
            slug: "costly",
            answers: vec![Step::reply(notes_design(DIVIDES_BY_ZERO)), costly],
            max_repairs: 2,
            calls: 2,
            check_status: "failing",
            rounds: Some(1),
            best_round: 0,
            // max_tokens 4000 × (2 + 1) × 2; round 1 alone reported 30 000.
            stop: Some(json!({"reason": "token_budget", "used": 30_000, "budget": 24_000})),
            log: "repair stopped: the token budget is spent (30000 of 24000",
        },
        RepairCase {
            slug: "unrepaired",
            answers: vec![Step::reply(notes_design(DIVIDES_BY_ZERO))],
            max_repairs: 0,
            calls: 1,
            check_status: "failing",
            rounds: Some(0),
            best_round: 0,
            stop: Some(json!({"reason": "max_repairs", "max_repairs": 0})),
            log: "not repaired: provider.openai.max_repairs is 0",
        },
    ];
    let home = std::sync::Arc::new(crate::support::ApiforgeHome::new());
    let h = home.clone();
    tokio::task::spawn_blocking(move || h.json(&["runtimes", "install", "--json"]))
        .await
        .expect("runtimes install ran");
    for case in cases {
        let server = FakeOpenAi::scripted(case.answers).await;
        let (base, h, slug, max_repairs) =
            (server.base_url(), home.clone(), case.slug, case.max_repairs);
        let args: Vec<String> = ["new", "notes with a title", "--provider", "openai"]
            .into_iter()
            .chain(["--framework", "fastapi", "--name", slug, "--json"])
            .map(str::to_owned)
            .collect();
        let (out, detail) =
            tokio::task::spawn_blocking(move || run_with_model(&h, &base, max_repairs, &args))
                .await
                .expect("apiforge new ran");
        let slug = case.slug;
        assert_eq!(out["state"], "succeeded", "{slug}: {out}");
        let output = &out["output"];
        assert_eq!(output["version"], 1, "{slug}: {out}");
        assert_eq!(output["check_status"], case.check_status, "{slug}: {out}");
        assert_eq!(server.calls(), case.calls, "{slug}: model calls");
        let repairs = &output["repairs"];
        assert_eq!(repairs["rounds"].as_u64(), case.rounds, "{slug}: {out}");
        assert_eq!(repairs["best_round"], case.best_round, "{slug}: {out}");
        assert_eq!(Some(&repairs["stop"]), case.stop.as_ref(), "{slug}: {out}");

        let steps: Vec<&str> = detail["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .filter_map(|s| s["name"].as_str())
            .collect();
        let rounds = case.rounds.unwrap_or(0);
        for round in 1..=3 {
            let ran = steps.contains(&format!("repair {round}").as_str());
            assert_eq!(ran, round <= rounds, "{slug}: round {round} in {steps:?}");
        }
        let log: Vec<&str> = detail["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter_map(|e| e["message"].as_str())
            .collect();
        assert!(
            log.iter().any(|l| l.contains(case.log)),
            "{slug}: the job log should say {:?}: {log:#?}",
            case.log
        );
        assert!(
            log.iter().all(|l| !l.contains(REPAIR_KEY)),
            "{slug}: the key reached the job log"
        );

        let received = server.received();
        for request in &received {
            assert_eq!(
                request.header("authorization").as_deref(),
                Some(format!("Bearer {REPAIR_KEY}").as_str()),
                "{slug}: the key is sent in the header"
            );
            assert!(
                !request.body.to_string().contains(REPAIR_KEY),
                "{slug}: the key is never in a request body"
            );
        }
        if let Some(repair) = received.get(1) {
            let text = repair.last_message();
            for expected in [
                "failed its sandboxed tests",
                "contract · count_notes: custom action with a valid request",
                "ZeroDivisionError",
            ] {
                assert!(text.contains(expected), "{slug}: {expected:?} in {text}");
            }
            assert!(
                !text.contains("HTTP/1.1"),
                "{slug}: access logs are trimmed: {text}"
            );
            assert!(text.len() < 10_000, "{slug}: {} bytes", text.len());
            let messages = repair.messages();
            let answer = messages[messages.len() - 2]["content"]
                .as_str()
                .expect("the earlier answer is text");
            assert!(
                answer.contains("1 // 0"),
                "{slug}: the failing design is the model's earlier answer: {answer}"
            );
        }
    }

    // iterate: the follow-up's design breaks the handler that v1 had working; round 1
    // repairs it. The repair request still carries the current design and the
    // follow-up, and the version records the repaired design.
    let server = FakeOpenAi::scripted(vec![
        Step::reply(notes_design(DIVIDES_BY_ZERO)),
        Step::reply(notes_design(COUNTS)),
    ])
    .await;
    let (base, h) = (server.base_url(), home.clone());
    let args: Vec<String> = [
        "iterate",
        "fixed",
        "count notes with integer division",
        "--json",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    let (out, detail) = tokio::task::spawn_blocking(move || run_with_model(&h, &base, 2, &args))
        .await
        .expect("apiforge iterate ran");
    let output = &out["output"];
    assert_eq!(output["version"], 2, "{out}");
    assert_eq!(output["check_status"], "passing", "{out}");
    assert_eq!(output["repairs"]["rounds"], 1, "{out}");
    assert_eq!(output["repairs"]["stop"]["reason"], "passed", "{out}");
    assert!(
        detail["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .any(|s| s["name"] == "check 1"),
        "{detail}"
    );
    let received = server.received();
    assert_eq!(received.len(), 2);
    let request = received[1].messages()[1]["content"]
        .as_str()
        .expect("the request is text")
        .to_owned();
    assert!(request.contains("This is the current design"), "{request}");
    assert!(
        request.contains("count notes with integer division"),
        "{request}"
    );
    assert!(received[1].last_message().contains("ZeroDivisionError"));
    let h = home.clone();
    let recorded = tokio::task::spawn_blocking(move || h.run(&["files", "fixed", "apiforge.json"]))
        .await
        .expect("apiforge files ran");
    let recorded = String::from_utf8_lossy(&recorded.stdout);
    assert!(
        recorded.contains("SELECT COUNT(*) FROM notes"),
        "{recorded}"
    );
}

/// A worker killed in the middle of `check 1` (after the paid `repair 1` call):
/// another worker resumes the job, reuses `repair 1` — the model is not asked again —
/// reruns `check 1` and records the repaired version once.
#[tokio::test(flavor = "multi_thread")]
async fn a_resumed_job_does_not_pay_for_a_finished_repair_round_again() {
    let server = FakeOpenAi::scripted(vec![
        Step::reply(notes_design(DIVIDES_BY_ZERO)),
        Step::reply(notes_design(COUNTS)),
    ])
    .await;
    let base = server.base_url();
    let detail = tokio::task::spawn_blocking(move || {
        let home = crate::support::ApiforgeHome::new();
        home.json(&["runtimes", "install", "--json"]);
        let with_model = |args: &[&str]| {
            let mut command = home.command();
            command
                .env("APIFORGE_PROVIDER_OPENAI_BASE_URL", &base)
                .env("APIFORGE_PROVIDER_OPENAI_MODEL", "test-model")
                .env("APIFORGE_PROVIDER_OPENAI_STREAM", "false")
                .env("APIFORGE_ENGINE_LEASE_SECS", "2")
                .args(args);
            command
        };
        let submitted = with_model(&["new", "notes", "--provider", "openai"])
            .args(["--name", "resumed", "--detach", "--json"])
            .output()
            .expect("apiforge new runs");
        let submitted: serde_json::Value =
            serde_json::from_slice(&submitted.stdout).expect("submitted job as JSON");
        let job = submitted["job"].to_string();
        let step_state = |detail: &serde_json::Value, name: &str| {
            detail["steps"].as_array().and_then(|steps| {
                steps.iter().find(|s| s["name"] == name).map(|s| {
                    (
                        s["state"].as_str().unwrap_or_default().to_owned(),
                        s["attempts"].as_i64().unwrap_or(0),
                    )
                })
            })
        };
        let spawn_worker = || {
            with_model(&["worker", "--concurrency", "1"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("worker starts")
        };
        let mut first = spawn_worker();
        crate::support::wait_until(Duration::from_secs(90), "check 1 to start", || {
            let detail = home.json(&["job", &job, "--json"]);
            step_state(&detail, "check 1").is_some_and(|(state, _)| state == "running")
        });
        let pid = i32::try_from(first.id()).expect("pid fits");
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        )
        .expect("kill the worker");
        first.wait().expect("the killed worker is reaped");

        let mut second = spawn_worker();
        let mut detail = serde_json::Value::Null;
        crate::support::wait_until(Duration::from_secs(120), "the job to finish", || {
            detail = home.json(&["job", &job, "--json"]);
            detail["job"]["state"] != "queued" && detail["job"]["state"] != "running"
        });
        let _ = second.kill();
        let _ = second.wait();
        for (step, attempts) in [
            ("design", 1),
            ("repair 1", 1),
            ("check 1", 2),
            ("version", 1),
        ] {
            assert_eq!(
                step_state(&detail, step),
                Some(("succeeded".to_owned(), attempts)),
                "{step}: {detail}"
            );
        }
        detail
    })
    .await
    .expect("the scenario ran");
    assert_eq!(detail["job"]["state"], "succeeded", "{detail}");
    assert_eq!(
        detail["job"]["output"]["check_status"], "passing",
        "{detail}"
    );
    assert_eq!(detail["job"]["output"]["repairs"]["rounds"], 1, "{detail}");
    assert_eq!(
        server.calls(),
        2,
        "the first design and one repair: the resumed job did not ask again"
    );
}
