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
use axum::serve::{Listener, ListenerExt};
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
        axum::serve(without_nagle(listener), self.router())
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await
            .map_err(|e| DeployError::io("the gateway stopped", e))
    }
}

/// Sets TCP_NODELAY on every accepted connection. With Nagle on, a response that leaves
/// in two writes (body, then the chunk terminator) waits for the client's delayed ACK:
/// 40 ms per response on a keep-alive connection.
fn without_nagle(
    listener: tokio::net::TcpListener,
) -> impl Listener<Io = tokio::net::TcpStream, Addr = std::net::SocketAddr> {
    listener.tap_io(|stream| {
        if let Err(e) = stream.set_nodelay(true) {
            tracing::warn!(error = %e, "the gateway could not set TCP_NODELAY");
        }
    })
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
    // A kept-alive connection first. If it turns out closed before the request was
    // written, hyper hands the request back and a fresh connection takes it.
    let mut pending = Some(request);
    let mut pooled = None;
    if let Some(mut sender) = entered.upstream().idle.take()
        && let Some(req) = pending.take()
    {
        match sender.try_send_request(req).await {
            Ok(response) => pooled = Some((response, sender)),
            Err(mut e) => match e.take_message() {
                Some(unsent) => pending = Some(unsent),
                None => {
                    gateway.stats.record_unreachable(&route, started.elapsed());
                    return problem(
                        StatusCode::BAD_GATEWAY,
                        "Instance failed",
                        format!(
                            "the instance of {route} (v{}) did not answer: {}",
                            entered.upstream().version,
                            e.into_error()
                        ),
                        &request_id,
                    );
                }
            },
        }
    }
    let (response, sender) = match (pooled, pending) {
        (Some(done), _) => done,
        (None, None) => {
            return problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Gateway error",
                "the request was lost between connections".to_owned(),
                &request_id,
            );
        }
        (None, Some(request)) => match fresh(&gateway, &route, &mut entered, request).await {
            Ok(done) => done,
            Err((title, detail)) => {
                gateway.stats.record_unreachable(&route, started.elapsed());
                return problem(StatusCode::BAD_GATEWAY, title, detail, &request_id);
            }
        },
    };
    let latency = started.elapsed();
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
    // response body has been passed on or abandoned; then the connection goes back to
    // the idle pool if it can take another request.
    let release = Release {
        sender: Some(sender),
        entered,
    };
    let body = body.map_frame(move |frame| {
        let _until_done = &release;
        frame
    });
    Response::from_parts(parts, Body::new(body))
}

type Sender = hyper::client::conn::http1::SendRequest<Body>;

/// Opens a new connection to the route's upstream and sends `request` on it. When
/// connecting fails and the route has meanwhile been switched (the old instance just
/// stopped), nothing has been sent yet, so the current upstream gets one try: safe for
/// any method. Errors are (title, detail) of the 502.
async fn fresh(
    gateway: &Gateway,
    route: &str,
    entered: &mut InFlight,
    request: Request,
) -> Result<(http::Response<hyper::body::Incoming>, Sender), (&'static str, String)> {
    let stream = match connect(entered).await {
        Ok(s) => s,
        Err(first) => {
            let retried = match gateway.routes.enter(route) {
                Some(again) if again.upstream().deployment != entered.upstream().deployment => {
                    *entered = again;
                    connect(entered).await
                }
                _ => Err(first),
            };
            retried.map_err(|e| {
                (
                    "Instance unavailable",
                    format!(
                        "the instance of {route} (v{}) is not answering ({e}); it may be restarting — `apiforge deployments` shows its state and logs",
                        entered.upstream().version
                    ),
                )
            })?
        }
    };
    let version = entered.upstream().version;
    let failed = |e: hyper::Error| {
        (
            "Instance failed",
            format!("the instance of {route} (v{version}) did not answer: {e}"),
        )
    };
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(failed)?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let response = sender.send_request(request).await.map_err(failed)?;
    Ok((response, sender))
}

/// Idle keep-alive connections to one upstream. Reusing them spares a connect and the
/// server's per-connection set-up on every request.
#[derive(Default)]
pub struct IdleConnections {
    idle: std::sync::Mutex<Vec<(Instant, Sender)>>,
}

/// Idle connections older than this are dropped rather than reused: well under the
/// servers' own keep-alive timeouts (uvicorn and Node close after 5 s), so a server
/// never closes one just as a request is written to it.
const IDLE_FOR: Duration = Duration::from_secs(2);
const MAX_IDLE: usize = 64;

impl IdleConnections {
    fn take(&self) -> Option<Sender> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some((since, sender)) = idle.pop() {
            if since.elapsed() < IDLE_FOR && sender.is_ready() {
                return Some(sender);
            }
        }
        None
    }

    fn put(&self, sender: Sender) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        idle.retain(|(since, _)| since.elapsed() < IDLE_FOR);
        if idle.len() < MAX_IDLE {
            idle.push((Instant::now(), sender));
        }
    }
}

impl std::fmt::Debug for IdleConnections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.idle.lock().map(|i| i.len()).unwrap_or(0);
        write!(f, "IdleConnections({n})")
    }
}

/// Held by a response body: ends the request when dropped and returns its connection
/// to the pool once the connection can take another request (never, if the body was
/// abandoned half way: hyper then closes it).
struct Release {
    sender: Option<Sender>,
    entered: InFlight,
}

impl Drop for Release {
    fn drop(&mut self) {
        let (Some(mut sender), Ok(runtime)) =
            (self.sender.take(), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        let upstream = self.entered.upstream().clone();
        runtime.spawn(async move {
            if let Ok(Ok(())) = tokio::time::timeout(IDLE_FOR, sender.ready()).await {
                upstream.idle.put(sender);
            }
        });
    }
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

    #[tokio::test]
    async fn accepted_connections_have_nagle_off() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut listener = without_nagle(listener);
        let client = tokio::spawn(tokio::net::TcpStream::connect(addr));
        let (stream, _) = listener.accept().await;
        assert!(stream.nodelay().expect("nodelay"), "TCP_NODELAY is off");
        client.await.expect("join").expect("connect");
    }

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
