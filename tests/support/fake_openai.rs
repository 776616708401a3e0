//! A scripted OpenAI-compatible chat-completions server on 127.0.0.1:0 for tests.
//!
//! It speaks the real wire protocol: `POST <prefix>/chat/completions` answered with a
//! `chat.completion` JSON object, or — when the request says `"stream": true` — with
//! server-sent `chat.completion.chunk` events, a usage chunk and `data: [DONE]`. Each
//! call is answered by the test's script from what the request contained, and every
//! request is recorded (and announced on a channel) for assertions.

#![allow(dead_code)]

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Response, StatusCode};
use axum::routing::post;
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// What the server received in one call.
#[derive(Debug, Clone)]
pub struct Received {
    /// 0-based call number.
    pub index: usize,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Received {
    pub fn streaming(&self) -> bool {
        self.body["stream"].as_bool() == Some(true)
    }

    pub fn messages(&self) -> &[Value] {
        self.body["messages"].as_array().map_or(&[], Vec::as_slice)
    }

    /// The text of the last message (the request or the latest repair request).
    pub fn last_message(&self) -> String {
        self.messages()
            .last()
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default()
            .to_owned()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

/// Token counts the server reports.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    pub prompt: u32,
    pub completion: u32,
}

/// How the server answers one call.
#[derive(Debug, Clone)]
pub enum Step {
    /// A completion with this content (JSON or SSE, as the request asks).
    Reply {
        content: String,
        usage: Option<Usage>,
        finish_reason: &'static str,
    },
    /// An HTTP error with an OpenAI-style error body.
    Error {
        status: u16,
        message: String,
        retry_after: Option<&'static str>,
    },
    /// This exact `200 application/json` body.
    Raw(Value),
    /// These exact server-sent event `data:` payloads, then `[DONE]`.
    RawEvents(Vec<Value>),
    /// Never answers.
    Hang,
    /// Streams `content` (only for streaming requests), then stalls forever.
    StallAfter { content: String },
    /// Streams `content` in `pieces` events, `gap` apart, like a slow local model.
    Paced {
        content: String,
        pieces: usize,
        gap: Duration,
    },
}

impl Step {
    pub fn reply(content: impl Into<String>) -> Self {
        Step::Reply {
            content: content.into(),
            usage: Some(Usage {
                prompt: 1200,
                completion: 300,
            }),
            finish_reason: "stop",
        }
    }

    pub fn error(status: u16, message: impl Into<String>) -> Self {
        Step::Error {
            status,
            message: message.into(),
            retry_after: None,
        }
    }
}

type Script = dyn Fn(&Received) -> Step + Send + Sync;

struct Shared {
    script: Box<Script>,
    received: Mutex<Vec<Received>>,
    announce: mpsc::UnboundedSender<Received>,
}

/// The running server; stops when dropped.
pub struct FakeOpenAi {
    pub addr: std::net::SocketAddr,
    shared: Arc<Shared>,
    arrivals: mpsc::UnboundedReceiver<Received>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeOpenAi {
    /// Starts a server whose every answer comes from `script`.
    pub async fn start(script: impl Fn(&Received) -> Step + Send + Sync + 'static) -> Self {
        let (announce, arrivals) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            script: Box::new(script),
            received: Mutex::new(Vec::new()),
            announce,
        });
        let app = Router::new()
            .route("/{*path}", post(handle))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("bound address");
        // Real servers stream with TCP_NODELAY; without it Nagle's algorithm holds
        // small SSE events back ~40 ms each.
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("fake server runs");
        });
        Self {
            addr,
            shared,
            arrivals,
            task,
        }
    }

    /// Answers the scripted steps in order; the last one repeats.
    pub async fn scripted(steps: Vec<Step>) -> Self {
        assert!(!steps.is_empty(), "a script needs at least one step");
        Self::start(move |r| steps[r.index.min(steps.len() - 1)].clone()).await
    }

    /// `http://127.0.0.1:<port>/v1`
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().expect("lock").clone()
    }

    pub fn calls(&self) -> usize {
        self.shared.received.lock().expect("lock").len()
    }

    /// Waits (bounded) until the next request arrives.
    pub async fn next_arrival(&mut self, within: Duration) -> Received {
        tokio::time::timeout(within, self.arrivals.recv())
            .await
            .expect("a request should arrive in time")
            .expect("server alive")
    }
}

impl Drop for FakeOpenAi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response<Body> {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let received = {
        let mut all = shared.received.lock().expect("lock");
        let r = Received {
            index: all.len(),
            path: uri.path().to_owned(),
            headers,
            body,
        };
        all.push(r.clone());
        r
    };
    let _ = shared.announce.send(received.clone());
    if !received.path.ends_with("/chat/completions") {
        return json_response(
            404,
            json!({"error": {"message": format!("no route {}", received.path), "type": "invalid_request_error"}}),
        );
    }
    let model = received.body["model"].as_str().unwrap_or("fake").to_owned();
    match (shared.script)(&received) {
        Step::Reply {
            content,
            usage,
            finish_reason,
        } => {
            if received.streaming() {
                sse_response(&model, &content, usage, finish_reason, false)
            } else {
                json_response(200, completion(&model, &content, usage, finish_reason))
            }
        }
        Step::Error {
            status,
            message,
            retry_after,
        } => {
            let mut response = json_response(
                status,
                json!({"error": {"message": message, "type": "server_error", "code": null}}),
            );
            if let Some(value) = retry_after {
                response
                    .headers_mut()
                    .insert("retry-after", value.parse().expect("valid header value"));
            }
            response
        }
        Step::Raw(body) => json_response(200, body),
        Step::RawEvents(events) => {
            let mut text: String = events.iter().map(|e| format!("data: {e}\n\n")).collect();
            text.push_str("data: [DONE]\n\n");
            Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "text/event-stream")
                .body(Body::from(text))
                .expect("valid response")
        }
        Step::Hang => {
            std::future::pending::<()>().await;
            json_response(500, json!({}))
        }
        Step::StallAfter { content } => sse_response(&model, &content, None, "stop", true),
        Step::Paced {
            content,
            pieces,
            gap,
        } => paced_response(&model, &content, pieces, gap),
    }
}

fn json_response(status: u16, body: Value) -> Response<Body> {
    Response::builder()
        .status(StatusCode::from_u16(status).expect("valid status"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("valid response")
}

fn usage_json(usage: Usage) -> Value {
    json!({
        "prompt_tokens": usage.prompt,
        "completion_tokens": usage.completion,
        "total_tokens": usage.prompt + usage.completion,
    })
}

fn completion(model: &str, content: &str, usage: Option<Usage>, finish: &str) -> Value {
    let mut body = json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "finish_reason": finish,
        }],
    });
    if let Some(usage) = usage {
        body["usage"] = usage_json(usage);
    }
    body
}

fn chunk(model: &str, delta: Value, finish: Option<&str>) -> String {
    let chunk = json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    });
    format!("data: {chunk}\n\n")
}

/// Splits `content` into small deltas the way models stream tokens.
fn sse_response(
    model: &str,
    content: &str,
    usage: Option<Usage>,
    finish: &str,
    stall: bool,
) -> Response<Body> {
    let mut events = vec![chunk(
        model,
        json!({"role": "assistant", "content": ""}),
        None,
    )];
    let chars: Vec<char> = content.chars().collect();
    for piece in chars.chunks(7) {
        let text: String = piece.iter().collect();
        events.push(chunk(model, json!({"content": text}), None));
    }
    if !stall {
        events.push(chunk(model, json!({}), Some(finish)));
        if let Some(usage) = usage {
            let usage_chunk = json!({
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": 1_700_000_000,
                "model": model,
                "choices": [],
                "usage": usage_json(usage),
            });
            events.push(format!("data: {usage_chunk}\n\n"));
        }
        events.push("data: [DONE]\n\n".to_owned());
    }
    let head = futures::stream::iter(events.into_iter().map(Ok::<_, Infallible>));
    let body = if stall {
        Body::from_stream(head.chain(futures::stream::pending()))
    } else {
        Body::from_stream(head)
    };
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(body)
        .expect("valid response")
}

fn paced_response(model: &str, content: &str, pieces: usize, gap: Duration) -> Response<Body> {
    let chars: Vec<char> = content.chars().collect();
    let size = chars.len().div_ceil(pieces.max(1)).max(1);
    let mut events: Vec<String> = chars
        .chunks(size)
        .map(|piece| {
            chunk(
                model,
                json!({"content": piece.iter().collect::<String>()}),
                None,
            )
        })
        .collect();
    events.push(chunk(model, json!({}), Some("stop")));
    events.push("data: [DONE]\n\n".to_owned());
    // The pause models token generation time; nothing waits on it.
    let stream = futures::stream::iter(events).then(move |event| async move {
        tokio::time::sleep(gap).await;
        Ok::<_, Infallible>(event)
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(stream))
        .expect("valid response")
}
