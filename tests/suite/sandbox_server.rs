//! Long-running servers in a sandbox, reached from the host over the workspace's Unix
//! socket, on both backends.

use crate::harness;

use std::collections::BTreeMap;
use std::time::Duration;

use apiforge::codegen::GeneratedFiles;
use apiforge::sandbox::http::HttpRequest;
use apiforge::sandbox::{Backend, Exec, HealthError, WorkspaceSource};
use harness::{open, small_limits};

on_both_backends!(
    server_answers_health_and_requests_over_the_unix_socket,
    health_wait_reports_a_crashing_server_with_its_output,
    health_wait_times_out_with_the_server_output,
    socket_swapped_for_a_link_to_a_host_socket_is_refused,
    concurrent_runs_stay_separate,
);

/// A dependency-free HTTP server honouring `APIFORGE_LISTEN=unix:/path`: `/health`
/// answers 200, `POST /echo` returns the body and a header it received.
const SERVER: &str = r#"
import http.server, json, os, socketserver, sys

class Handler(http.server.BaseHTTPRequestHandler):
    def address_string(self):
        return "host"

    def reply(self, status, body, extra=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/health":
            self.reply(200, {"status": "ok"})
        else:
            self.reply(404, {"error": "not found"})

    def do_POST(self):
        n = int(self.headers.get("content-length", "0"))
        body = json.loads(self.rfile.read(n) or b"null")
        self.reply(201, {"echo": body, "x_test": self.headers.get("x-test")}, [("x-served-by", "sandbox")])

class Server(socketserver.UnixStreamServer):
    def get_request(self):
        request, _ = super().get_request()
        return request, ("sandbox", 0)

listen = os.environ["APIFORGE_LISTEN"]
assert listen.startswith("unix:"), listen
path = listen[len("unix:"):]
print("listening on", path, flush=True)
Server(path, Handler).serve_forever()
"#;

fn project(main: &str) -> GeneratedFiles {
    BTreeMap::from([("server.py".to_owned(), main.to_owned())])
}

async fn server_answers_health_and_requests_over_the_unix_socket(backend: Backend) {
    let root = tempfile::tempdir().expect("temp dir");
    let Some(sandbox) = open(backend, root.path()).await else {
        return;
    };
    let files = project(SERVER);
    let ws = sandbox
        .prepare(WorkspaceSource::Files(&files), &small_limits())
        .await
        .expect("workspace");
    let exec = Exec::new("python3").arg("server.py").limits(small_limits());
    let mut server = sandbox
        .start(&ws, &exec, |_| {})
        .await
        .expect("server starts");
    server
        .wait_healthy(Duration::from_secs(20))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(server.socket_path(), ws.socket_path());

    let client = server.client();
    let health = client.get("/health").await.expect("GET /health");
    assert_eq!(health.status, 200);
    assert_eq!(health.header("content-type"), Some("application/json"));
    assert_eq!(health.json().expect("json")["status"], "ok");

    let echo = client
        .send(
            &HttpRequest::new("POST", "/echo")
                .header("x-test", "yes")
                .json(&serde_json::json!({"name": "widget", "n": 3})),
        )
        .await
        .expect("POST /echo");
    assert_eq!(echo.status, 201);
    assert_eq!(echo.header("x-served-by"), Some("sandbox"));
    let body = echo.json().expect("json");
    assert_eq!(body["echo"]["name"], "widget");
    assert_eq!(body["x_test"], "yes");
    assert_eq!(client.get("/nope").await.expect("GET").status, 404);
    assert!(
        server
            .logs()
            .iter()
            .any(|l| l.text.contains("listening on")),
        "{:?}",
        server.logs()
    );

    let outcome = server.stop().await.expect("stopped");
    assert!(outcome.killed, "{}", outcome.summary());
    // Stopped means gone: the socket no longer answers.
    assert!(client.get("/health").await.is_err());
    ws.remove().await.expect("workspace removed");
}

async fn health_wait_reports_a_crashing_server_with_its_output(backend: Backend) {
    let root = tempfile::tempdir().expect("temp dir");
    let Some(sandbox) = open(backend, root.path()).await else {
        return;
    };
    let files =
        project("print('booting', flush=True)\nraise SystemExit('config missing: DATABASE_URL')\n");
    let ws = sandbox
        .prepare(WorkspaceSource::Files(&files), &small_limits())
        .await
        .expect("workspace");
    let exec = Exec::new("python3").arg("server.py").limits(small_limits());
    let mut server = sandbox.start(&ws, &exec, |_| {}).await.expect("starts");
    let err = server
        .wait_healthy(Duration::from_secs(20))
        .await
        .expect_err("a crashing server is not healthy");
    assert!(matches!(err, HealthError::Exited { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("config missing: DATABASE_URL"), "{text}");
    assert!(text.contains("exited with code 1"), "{text}");
    let outcome = server.wait().await.expect("outcome");
    assert_eq!(outcome.exit_code, Some(1));
    ws.remove().await.expect("workspace removed");
}

async fn health_wait_times_out_with_the_server_output(backend: Backend) {
    let root = tempfile::tempdir().expect("temp dir");
    let Some(sandbox) = open(backend, root.path()).await else {
        return;
    };
    let files =
        project("import time\nprint('stuck before listening', flush=True)\ntime.sleep(60)\n");
    let ws = sandbox
        .prepare(WorkspaceSource::Files(&files), &small_limits())
        .await
        .expect("workspace");
    let exec = Exec::new("python3").arg("server.py").limits(small_limits());
    let mut server = sandbox.start(&ws, &exec, |_| {}).await.expect("starts");
    // Wait for the line first so the timeout below is about the socket, not start-up.
    let started = std::time::Instant::now();
    while !server
        .logs()
        .iter()
        .any(|l| l.text.contains("stuck before listening"))
    {
        assert!(started.elapsed() < Duration::from_secs(20), "no output");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let err = server
        .wait_healthy(Duration::from_millis(500))
        .await
        .expect_err("never listens");
    assert!(matches!(err, HealthError::Timeout { .. }), "{err}");
    assert!(err.to_string().contains("stuck before listening"), "{err}");
    let killer = server.killer();
    let outcome = server.stop().await.expect("stopped");
    assert!(outcome.killed, "{}", outcome.summary());
    assert!(killer.is_killed());
    ws.remove().await.expect("workspace removed");
}

/// Sandboxed code swaps the workspace socket for a link to a root-owned host socket
/// (think /var/run/docker.sock): the host client must refuse to talk to it.
async fn socket_swapped_for_a_link_to_a_host_socket_is_refused(backend: Backend) {
    if !harness::is_root() {
        eprintln!(
            "SKIP: as an ordinary user the sandbox runs as that user, like the host sockets it could name"
        );
        return;
    }
    let root = tempfile::tempdir().expect("temp dir");
    let Some(sandbox) = open(backend, root.path()).await else {
        return;
    };
    let host = tempfile::tempdir().expect("host dir");
    let host_socket = host.path().join("host.sock");
    let listener = tokio::net::UnixListener::bind(&host_socket).expect("host socket");
    let ws = sandbox
        .prepare(WorkspaceSource::Empty, &small_limits())
        .await
        .expect("workspace");
    let exec = Exec::shell(format!(
        "ln -s {} /workspace/app.sock && echo linked && sleep 30",
        host_socket.display()
    ))
    .limits(small_limits());
    let server = sandbox.start(&ws, &exec, |_| {}).await.expect("starts");
    let started = std::time::Instant::now();
    while !server.logs().iter().any(|l| l.text == "linked") {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{:?}",
            server.logs()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let err = server
        .client()
        .get("/health")
        .await
        .expect_err("must not talk to a host socket");
    assert!(
        matches!(
            err,
            apiforge::sandbox::http::HttpError::UnexpectedPeer { found: 0, .. }
        ),
        "{err}"
    );
    // The host socket got a connection but not a single byte.
    let (mut conn, _) = listener.accept().await.expect("the link was followed");
    let mut buf = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut conn, &mut buf)
        .await
        .expect("read");
    assert!(buf.is_empty(), "{}", String::from_utf8_lossy(&buf));
    server.stop().await.expect("stopped");
    ws.remove().await.expect("workspace removed");
}

/// Several sandboxes at once (the job engine runs five workers): each sees only its
/// own workspace and reports its own outcome.
async fn concurrent_runs_stay_separate(backend: Backend) {
    let root = tempfile::tempdir().expect("temp dir");
    let Some(sandbox) = open(backend, root.path()).await else {
        return;
    };
    let runs = (0..8).map(|i| {
        let sandbox = sandbox.clone();
        async move {
            let files = BTreeMap::from([("id.txt".to_owned(), format!("run-{i}\n"))]);
            let ws = sandbox
                .prepare(WorkspaceSource::Files(&files), &small_limits())
                .await
                .expect("workspace");
            let exec = Exec::shell(format!("cat id.txt; ls /workspace | wc -l; exit {i}"))
                .limits(small_limits());
            let mut output = Vec::new();
            let outcome = sandbox
                .run(&ws, &exec, |line| output.push(line.text.clone()))
                .await
                .expect("run");
            ws.remove().await.expect("workspace removed");
            (i, outcome, output)
        }
    });
    for (i, outcome, output) in futures::future::join_all(runs).await {
        assert_eq!(outcome.exit_code, Some(i), "{}", outcome.summary());
        assert_eq!(output, vec![format!("run-{i}"), "1".to_owned()]);
    }
}
