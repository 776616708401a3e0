//! What the `openai` provider tests share: a config for the local fake server, fast
//! backoff, a design call bounded in time.

#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

use apiforge::config::OpenAiConfig;
use apiforge::design::ApiDesign;
use apiforge::provider::openai::{Backoff, OpenAiError, OpenAiProvider};
use apiforge::provider::{DesignRequest, ProviderEvent};
use serde_json::json;

/// Generous bound so a broken test fails instead of hanging the suite.
pub(crate) const TEST_BOUND: Duration = Duration::from_secs(20);

pub(crate) fn config(base_url: &str, stream: bool) -> OpenAiConfig {
    OpenAiConfig {
        base_url: base_url.to_owned(),
        model: "test-model".to_owned(),
        api_key_env: "APIFORGE_TEST_OPENAI_KEY_NOT_SET".to_owned(),
        max_repairs: 2,
        max_tokens: 4000,
        timeout_secs: 10,
        max_retries: 3,
        stream,
    }
}

/// Backoff fast enough for tests; the retry count is what is under test.
pub(crate) fn quick(provider: OpenAiProvider) -> OpenAiProvider {
    provider.with_backoff(Backoff {
        base: Duration::from_millis(1),
        cap: Duration::from_millis(5),
    })
}

pub(crate) fn provider(config: &OpenAiConfig) -> OpenAiProvider {
    quick(OpenAiProvider::with_api_key(config, None).expect("local endpoint needs no key"))
}

pub(crate) fn design_json(title: &str) -> String {
    json!({
        "schema_version": 1,
        "title": title,
        "resources": [{
            "name": "task",
            "plural": "tasks",
            "fields": [
                {"name": "title", "type": "string", "required": true},
                {"name": "done", "type": "boolean"}
            ]
        }]
    })
    .to_string()
}

pub(crate) fn empty_design_json(title: &str) -> String {
    json!({"schema_version": 1, "title": title, "resources": []}).to_string()
}

/// Stands in for `design::validate`: a design needs at least one resource.
pub(crate) fn needs_a_resource(design: &ApiDesign) -> Result<(), String> {
    if design.resources.is_empty() {
        Err(format!(
            "/resources: the design {:?} has no resources; add at least one",
            design.title
        ))
    } else {
        Ok(())
    }
}

pub(crate) async fn bounded<T>(future: impl Future<Output = T>) -> T {
    tokio::time::timeout(TEST_BOUND, future)
        .await
        .expect("the provider should finish well within the test bound")
}

pub(crate) async fn design(
    provider: &OpenAiProvider,
    prompt: &str,
    base: Option<&ApiDesign>,
) -> (Result<ApiDesign, OpenAiError>, Vec<ProviderEvent>) {
    let mut events = Vec::new();
    let result = bounded(provider.design(
        DesignRequest { prompt, base },
        &needs_a_resource,
        &mut |e| events.push(e),
    ))
    .await;
    (result, events)
}

pub(crate) fn progress(events: &[ProviderEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            ProviderEvent::Progress { message } => Some(message.clone()),
            ProviderEvent::Streamed { .. } => None,
        })
        .collect()
}
