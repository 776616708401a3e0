//! A small HTTP/1.1 client for the host side: reaches a sandboxed server over its Unix
//! socket (or a deployed one over TCP). One connection per request — the servers
//! under test are local, a connection costs well under a millisecond, and a fresh
//! connection per request means a restarted server never sees a stale one.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};

/// Where the server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpTarget {
    Unix(PathBuf),
    /// `host:port`, e.g. `127.0.0.1:8080`.
    Tcp(String),
}

impl std::fmt::Display for HttpTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpTarget::Unix(p) => write!(f, "unix:{}", p.display()),
            HttpTarget::Tcp(a) => write!(f, "http://{a}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpRequest {
    pub method: String,
    /// Path and query, starting with `/`.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpRequest {
    pub fn new(method: impl Into<String>, path: impl Into<String>) -> Self {
        Self {
            method: method.into(),
            path: path.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn get(path: impl Into<String>) -> Self {
        Self::new("GET", path)
    }

    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets a JSON body and its content type.
    pub fn json(mut self, value: &serde_json::Value) -> Self {
        self.body = value.to_string().into_bytes();
        self.header("content-type", "application/json")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpResponse {
    pub status: u16,
    /// Header names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub elapsed: Duration,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cannot connect to {target}: {source}")]
    Connect {
        target: HttpTarget,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid request {method} {path}: {message}")]
    BadRequest {
        method: String,
        path: String,
        message: String,
    },
    #[error("{method} {path} on {target} failed: {message}")]
    Exchange {
        target: HttpTarget,
        method: String,
        path: String,
        message: String,
    },
    #[error(
        "refusing to talk to {target}: the socket belongs to uid {found}, not the sandbox (uid {expected}); the workspace's socket may have been replaced by a link to a host socket"
    )]
    UnexpectedPeer {
        target: HttpTarget,
        expected: u32,
        found: u32,
    },
    #[error("{method} {path} on {target} got no response within {timeout:?}")]
    Timeout {
        target: HttpTarget,
        method: String,
        path: String,
        timeout: Duration,
    },
}

/// Sends requests to one server.
#[derive(Debug, Clone)]
pub struct HttpClient {
    target: HttpTarget,
    timeout: Duration,
    peer_uid: Option<u32>,
}

impl HttpClient {
    pub fn unix(socket: impl Into<PathBuf>) -> Self {
        Self::new(HttpTarget::Unix(socket.into()))
    }

    pub fn tcp(addr: impl Into<String>) -> Self {
        Self::new(HttpTarget::Tcp(addr.into()))
    }

    pub fn new(target: HttpTarget) -> Self {
        Self {
            target,
            timeout: Duration::from_secs(30),
            peer_uid: None,
        }
    }

    /// Only talk to a Unix socket whose listening process runs as `uid` (checked with
    /// `SO_PEERCRED` after connecting). The workspace is writable by sandboxed code,
    /// which could replace its socket with a symlink to a host socket (Docker's, the
    /// database's); this makes such a link fail instead of turning apiforge into a
    /// confused deputy.
    pub fn require_peer_uid(mut self, uid: u32) -> Self {
        self.peer_uid = Some(uid);
        self
    }

    /// Per-request limit covering connect, send and the whole body. Default 30 s.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn target(&self) -> &HttpTarget {
        &self.target
    }

    pub async fn get(&self, path: &str) -> Result<HttpResponse, HttpError> {
        self.send(&HttpRequest::get(path)).await
    }

    pub async fn send(&self, request: &HttpRequest) -> Result<HttpResponse, HttpError> {
        let started = Instant::now();
        match tokio::time::timeout(self.timeout, self.exchange(request)).await {
            Ok(Ok((status, headers, body))) => Ok(HttpResponse {
                status,
                headers,
                body,
                elapsed: started.elapsed(),
            }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(HttpError::Timeout {
                target: self.target.clone(),
                method: request.method.clone(),
                path: request.path.clone(),
                timeout: self.timeout,
            }),
        }
    }

    async fn exchange(
        &self,
        request: &HttpRequest,
    ) -> Result<(u16, Vec<(String, String)>, Vec<u8>), HttpError> {
        let http_request = self.build(request)?;
        let failed = |message: String| HttpError::Exchange {
            target: self.target.clone(),
            method: request.method.clone(),
            path: request.path.clone(),
            message,
        };
        let response = match &self.target {
            HttpTarget::Unix(path) => {
                let stream = tokio::net::UnixStream::connect(path)
                    .await
                    .map_err(|source| HttpError::Connect {
                        target: self.target.clone(),
                        source,
                    })?;
                if let Some(expected) = self.peer_uid {
                    let found = stream
                        .peer_cred()
                        .map_err(|source| HttpError::Connect {
                            target: self.target.clone(),
                            source,
                        })?
                        .uid();
                    if found != expected {
                        return Err(HttpError::UnexpectedPeer {
                            target: self.target.clone(),
                            expected,
                            found,
                        });
                    }
                }
                send_on(stream, http_request).await.map_err(failed)?
            }
            HttpTarget::Tcp(addr) => {
                let stream = tokio::net::TcpStream::connect(addr.as_str())
                    .await
                    .map_err(|source| HttpError::Connect {
                        target: self.target.clone(),
                        source,
                    })?;
                // Requests are small and latency matters more than packet count.
                let _ = stream.set_nodelay(true);
                send_on(stream, http_request).await.map_err(failed)?
            }
        };
        Ok(response)
    }

    fn build(&self, request: &HttpRequest) -> Result<hyper::Request<Full<Bytes>>, HttpError> {
        let bad = |message: String| HttpError::BadRequest {
            method: request.method.clone(),
            path: request.path.clone(),
            message,
        };
        if !request.path.starts_with('/') {
            return Err(bad("the path must start with /".to_owned()));
        }
        let method = http::Method::from_bytes(request.method.as_bytes())
            .map_err(|e| bad(format!("bad method: {e}")))?;
        let host = match &self.target {
            HttpTarget::Unix(_) => "localhost",
            HttpTarget::Tcp(addr) => addr.as_str(),
        };
        let mut builder = hyper::Request::builder()
            .method(method)
            .uri(request.path.as_str())
            .header(http::header::HOST, host);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        builder
            .body(Full::new(Bytes::from(request.body.clone())))
            .map_err(|e| bad(e.to_string()))
    }
}

async fn send_on<S>(
    stream: S,
    request: hyper::Request<Full<Bytes>>,
) -> Result<(u16, Vec<(String, String)>, Vec<u8>), String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    // The connection task ends when the response is read and `sender` is dropped.
    let driver = tokio::spawn(async move {
        let _ = connection.await;
    });
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes()
        .to_vec();
    drop(sender);
    driver.abort();
    Ok((status, headers, body))
}
