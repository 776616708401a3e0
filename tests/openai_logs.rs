//! The API key never reaches errors, events or logs. Its own test binary: it captures
//! the tracing output of the provider with a thread-local subscriber, and in the
//! shared suite other tests' threads registering the same callsites could make an
//! event skip it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/fake_openai.rs"]
mod fake_openai;
#[path = "support/openai_harness.rs"]
mod openai_harness;

use std::io::Write;
use std::sync::{Arc, Mutex};

use apiforge::provider::openai::{OpenAiError, OpenAiProvider};
use fake_openai::{FakeOpenAi, Step};
use openai_harness::{config, design, quick};

/// Collects everything the `fmt` subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_api_key_never_reaches_errors_events_or_logs() {
    const KEY: &str = "sk-apiforge-LEAKCHECK-7f3a9c21e5d8b604";
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // A current-thread test runtime: the server, the client and async-openai's stream
    // task all log on this thread.
    let _guard = tracing::subscriber::set_default(subscriber);

    // The server echoes the key back, as OpenAI's 401 does, in every kind of failure.
    let server = FakeOpenAi::start(|r| {
        let auth = r.header("authorization").unwrap_or_default();
        let key = auth.trim_start_matches("Bearer ").to_owned();
        match r.index {
            0 => Step::error(500, format!("backend hiccup for {key}")),
            _ => Step::error(401, format!("Incorrect API key provided: {key}")),
        }
    })
    .await;
    let provider = quick(
        OpenAiProvider::with_api_key(&config(&server.base_url(), false), Some(KEY.to_owned()))
            .expect("config"),
    );
    let (result, events) = design(&provider, "tasks", None).await;
    let error = result.expect_err("401");
    assert!(
        matches!(error, OpenAiError::Server { status: 401, .. }),
        "{error:?}"
    );

    // The key did go out (so the checks below are not vacuous)...
    assert_eq!(
        server.received()[0].header("authorization").as_deref(),
        Some(format!("Bearer {KEY}").as_str())
    );
    // ...and comes back nowhere.
    let text = format!("{error} {error:?} {events:?} {provider:?}");
    assert!(!text.contains(KEY), "key leaked: {text}");
    assert!(text.contains("[redacted]"), "{text}");
    let logs = String::from_utf8_lossy(&captured.0.lock().expect("lock")).into_owned();
    assert!(
        logs.contains("openai call failed"),
        "the subscriber captured the provider's logs: {logs}"
    );
    assert!(!logs.contains(KEY), "key leaked into logs: {logs}");
}
