//! The reverse proxy: `/p/<owner>/<project>/<rest>` on one TCP address goes to the
//! project's live instance as `/<rest>` over the instance's Unix socket.
//!
//! Bodies stream both ways (the request body is handed to hyper as it arrives; the
//! response body is passed on frame by frame), so large uploads and streamed
//! responses work. Every request gets an `X-Request-Id` (the client's own, if sent),
//! on the way in and on the way out. Errors the gateway answers itself are RFC 9457
//! `application/problem+json`, like the generated APIs' own errors.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::header::{HeaderName, HeaderValue};
use http::{StatusCode, Uri};
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use tokio_util::sync::CancellationToken;

use super::DeployError;
use super::route_table::{InFlight, RouteTable};
use super::traffic_stats::TrafficStats;

pub const REQUEST_ID: &str = "x-request-id";
/// Tells the API the prefix it is served under (for links it builds).
const FORWARDED_PREFIX: &str = "x-forwarded-prefix";
/// Headers that belong to one connection, not to the request (RFC 9110 §7.6.1).
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

#[derive(Debug, Default)]
pub struct Gateway {
    pub routes: Arc<RouteTable>,
    pub stats: Arc<TrafficStats>,
}

impl Gateway {
    pub fn new(routes: Arc<RouteTable>, stats: Arc<TrafficStats>) -> Self {
        Self { routes, stats }
    }

    pub fn router(self: Arc<Self>) -> Router {
        Router::new().fallback(proxy).with_state(self)
    }

    /// Binds `addr` (`host:port`; port 0 picks a free one).
    pub async fn bind(addr: &str) -> Result<tokio::net::TcpListener, DeployError> {
        tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| DeployError::Bind {
                addr: addr.to_owned(),
                source,
            })
    }

    /// Serves on `listener` until `shutdown`, then lets open requests finish.
    pub async fn serve(
        self: Arc<Self>,
        listener: tokio::net::TcpListener,
        shutdown: CancellationToken,
    ) -> Result<(), DeployError> {
        axum::serve(listener, self.router())
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await
            .map_err(|e| DeployError::io("the gateway stopped", e))
    }
}

/// `owner/project` and the rest of the path (with the query), from a gateway URI.
pub fn split_route(uri: &Uri) -> Option<(String, String, String)> {
    let path = uri.path().strip_prefix("/p/")?;
    let mut parts = path.splitn(3, '/');
    let owner = parts.next().filter(|s| !s.is_empty())?;
    let project = parts.next().filter(|s| !s.is_empty())?;
    let rest = parts.next().unwrap_or("");
    let mut target = format!("/{rest}");
    if let Some(q) = uri.query() {
        target.push('?');
        target.push_str(q);
    }
    Some((
        format!("{owner}/{project}"),
        format!("/p/{owner}/{project}"),
        target,
    ))
}

fn problem(status: StatusCode, title: &str, detail: String, request_id: &str) -> Response {
    let body = serde_json::json!({
        "type": "about:blank",
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
        "request_id": request_id,
    });
    let mut response = (status, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert(REQUEST_ID, v);
    }
    response
}

async fn proxy(State(gateway): State<Arc<Gateway>>, mut request: Request) -> Response {
    let started = Instant::now();
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 200)
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let Some((route, prefix, target)) = split_route(request.uri()) else {
        return problem(
            StatusCode::NOT_FOUND,
            "No such route",
            format!(
                "the gateway serves deployed projects at /p/<owner>/<project>/…; {} is not such a path",
                request.uri().path()
            ),
            &request_id,
        );
    };
    let Some(mut entered) = gateway.routes.enter(&route) else {
        return problem(
            StatusCode::NOT_FOUND,
            "Not deployed",
            format!(
                "project {route} has no live deployment; deploy it with `apiforge deploy {}`",
                route.rsplit('/').next().unwrap_or(&route)
            ),
            &request_id,
        );
    };
    let stream = match connect(&entered).await {
        Ok(s) => s,
        Err(first) => {
            // The route may have been switched between lookup and connect (the old
            // instance just stopped): nothing has been sent yet, so trying the current
            // upstream once is safe for any method.
            let retried = match gateway.routes.enter(&route) {
                Some(again) if again.upstream().deployment != entered.upstream().deployment => {
                    entered = again;
                    connect(&entered).await
                }
                _ => Err(first),
            };
            match retried {
                Ok(s) => s,
                Err(e) => {
                    gateway.stats.record_unreachable(&route, started.elapsed());
                    return problem(
                        StatusCode::BAD_GATEWAY,
                        "Instance unavailable",
                        format!(
                            "the instance of {route} (v{}) is not answering ({e}); it may be restarting — `apiforge deployments` shows its state and logs",
                            entered.upstream().version
                        ),
                        &request_id,
                    );
                }
            }
        }
    };
    let uri: Uri = match target.parse() {
        Ok(u) => u,
        Err(e) => {
            return problem(
                StatusCode::BAD_REQUEST,
                "Bad path",
                format!("cannot forward {target}: {e}"),
                &request_id,
            );
        }
    };
    *request.uri_mut() = uri;
    let headers = request.headers_mut();
    for name in HOP_BY_HOP {
        headers.remove(*name);
    }
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        headers.insert(REQUEST_ID, v);
    }
    if let Ok(v) = HeaderValue::from_str(&prefix) {
        headers.insert(HeaderName::from_static(FORWARDED_PREFIX), v);
    }
    let version = entered.upstream().version;
    let forwarded = async {
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())
    }
    .await;
    let latency = started.elapsed();
    let response = match forwarded {
        Ok(r) => r,
        Err(e) => {
            gateway.stats.record_unreachable(&route, latency);
            return problem(
                StatusCode::BAD_GATEWAY,
                "Instance failed",
                format!("the instance of {route} (v{version}) did not answer: {e}"),
                &request_id,
            );
        }
    };
    gateway
        .stats
        .record(&route, response.status().as_u16(), latency);
    let (mut parts, body) = response.into_parts();
    for name in HOP_BY_HOP {
        parts.headers.remove(*name);
    }
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        parts.headers.insert(REQUEST_ID, v);
    }
    // The request counts as in flight (the old instance is not stopped) until its
    // response body has been passed on or abandoned.
    let body = body.map_frame(move |frame| {
        let _still_in_flight = &entered;
        frame
    });
    Response::from_parts(parts, Body::new(body))
}

/// How long connecting to an instance's socket may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

async fn connect(entered: &InFlight) -> Result<tokio::net::UnixStream, String> {
    let socket = &entered.upstream().socket;
    let stream = tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::UnixStream::connect(socket))
        .await
        .map_err(|_| format!("connecting timed out after {CONNECT_TIMEOUT:?}"))?
        .map_err(|e| format!("connect: {e}"))?;
    // The workspace is writable by the sandboxed code, which could replace its socket
    // with a link to a host socket: only talk to a listener running as the sandbox user.
    let uid = stream
        .peer_cred()
        .map_err(|e| format!("peer credentials: {e}"))?
        .uid();
    let expected = crate::sandbox::sandbox_uid();
    if uid != expected {
        return Err(format!(
            "refusing a socket owned by uid {uid} (the sandbox runs as uid {expected})"
        ));
    }
    Ok(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_split_into_project_and_forwarded_path() {
        let uri: Uri = "/p/ann/shop/items/3?x=1".parse().expect("uri");
        assert_eq!(
            split_route(&uri),
            Some((
                "ann/shop".to_owned(),
                "/p/ann/shop".to_owned(),
                "/items/3?x=1".to_owned()
            ))
        );
        let bare: Uri = "/p/ann/shop".parse().expect("uri");
        assert_eq!(split_route(&bare).map(|r| r.2), Some("/".to_owned()));
        for bad in ["/", "/p/", "/p/ann", "/p//shop/", "/q/ann/shop/"] {
            let uri: Uri = bad.parse().expect("uri");
            assert_eq!(split_route(&uri), None, "{bad}");
        }
    }
}
