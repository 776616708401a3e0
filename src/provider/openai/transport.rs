//! The HTTP layer under async-openai. async-openai's own executor retries 429/5xx a
//! fixed three times and drops the response headers; we retry ourselves (configurable
//! count, jitter, `Retry-After`), so this layer sends exactly once and turns every
//! non-success answer into a [`StatusError`] that keeps status, `Retry-After` and the
//! server's message.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use async_openai::error::OpenAIError;
use async_openai::middleware::{HttpRequestFactory, ReqwestService};
use reqwest::{Response, StatusCode};
use tower_service::Service;

use super::backoff::parse_retry_after;

/// Longest server message kept in an error (HTML error pages can be huge).
const MAX_MESSAGE_CHARS: usize = 400;

/// A non-success HTTP answer.
#[derive(Debug, Clone, thiserror::Error)]
#[error("HTTP {status}: {message}")]
pub struct StatusError {
    pub status: StatusCode,
    pub retry_after: Option<Duration>,
    /// `error.message` from an OpenAI-style error body, else the start of the body.
    pub message: String,
    /// `error.type` / `error.code` when present (e.g. `insufficient_quota`).
    pub kind: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Transport {
    inner: ReqwestService,
}

impl Transport {
    pub fn new(client: reqwest::Client) -> Self {
        Self {
            inner: ReqwestService::new(client),
        }
    }
}

type ResponseFuture = Pin<Box<dyn Future<Output = Result<Response, OpenAIError>> + Send>>;

impl Service<HttpRequestFactory> for Transport {
    type Response = Response;
    type Error = OpenAIError;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: HttpRequestFactory) -> Self::Future {
        let sent = self.inner.call(request);
        Box::pin(async move {
            let response = sent.await?;
            if response.status().is_success() {
                return Ok(response);
            }
            Err(OpenAIError::Boxed(Box::new(
                StatusError::read(response).await,
            )))
        })
    }
}

impl StatusError {
    async fn read(response: Response) -> Self {
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let body = response.bytes().await.unwrap_or_default();
        let (message, kind) = describe_body(&body);
        Self {
            status,
            retry_after,
            message: if message.is_empty() {
                status.canonical_reason().unwrap_or("no message").to_owned()
            } else {
                message
            },
            kind,
        }
    }
}

/// The readable part of an error body: OpenAI-style `{"error": {"message", "type",
/// "code"}}`, a bare `{"error": "text"}` (Ollama, llama.cpp), or the text itself.
pub fn describe_body(body: &[u8]) -> (String, Option<String>) {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        let error = value.get("error").unwrap_or(&value);
        if let Some(text) = error.as_str() {
            return (shorten(text), None);
        }
        if let Some(text) = error.get("message").and_then(|m| m.as_str()) {
            let kind = error
                .get("type")
                .and_then(|t| t.as_str())
                .or_else(|| error.get("code").and_then(|c| c.as_str()))
                .map(str::to_owned);
            return (shorten(text), kind);
        }
    }
    (shorten(String::from_utf8_lossy(body).trim()), None)
}

pub fn shorten(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_are_described() {
        let (m, k) = describe_body(br#"{"error":{"message":"slow down","type":"rate_limit"}}"#);
        assert_eq!(
            (m.as_str(), k.as_deref()),
            ("slow down", Some("rate_limit"))
        );
        let (m, k) = describe_body(br#"{"error":"model 'x' not found"}"#);
        assert_eq!((m.as_str(), k), ("model 'x' not found", None));
        let (m, _) = describe_body(b"  Bad Gateway \n");
        assert_eq!(m, "Bad Gateway");
        let long = "x".repeat(2000);
        let (m, _) = describe_body(long.as_bytes());
        assert_eq!(m.chars().count(), MAX_MESSAGE_CHARS + 1);
    }
}
