//! Generated Express projects, run for real on the host: each design fixture under
//! tests/fixtures/express/ is rendered into a temp dir, its own `node --test` suite must
//! pass against the shared runtime, and `node server.js` must serve real requests over a
//! Unix socket, keeping its data across a crash.
//!
//! The Node runtime is installed once into target/test-runtimes/ (needs the npm
//! registry the first time) and reused by later runs.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::Duration;

use apiforge::codegen::express;
use apiforge::design::{ApiDesign, AuthScheme};
use apiforge::runtimes::node::{self, NodeRuntime};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const NODE: &str = "/usr/bin/node";
const SECRET: &str = "integration-test-secret";
const TEST_SUITE_TIMEOUT: Duration = Duration::from_secs(600);
const START_TIMEOUT: Duration = Duration::from_secs(30);

fn runtime() -> &'static NodeRuntime {
    static RUNTIME: OnceLock<Result<NodeRuntime, String>> = OnceLock::new();
    let result = RUNTIME.get_or_init(|| {
        let cache = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-runtimes");
        node::install(&cache, Path::new(NODE), None, &mut |line| {
            eprintln!("runtime: {line}")
        })
        .map_err(|e| e.to_string())
    });
    match result {
        Ok(runtime) => runtime,
        Err(e) => panic!("cannot prepare the Node runtime: {e}"),
    }
}

fn fixture(name: &str) -> ApiDesign {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/express")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).expect("fixture exists");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn write_project(design: &ApiDesign) -> tempfile::TempDir {
    let files = express::render(design).expect("the fixture renders");
    let dir = tempfile::Builder::new()
        .prefix("express-")
        .tempdir()
        .expect("temp dir");
    for (path, contents) in &files {
        let target = dir.path().join(path);
        std::fs::create_dir_all(target.parent().expect("files live in a dir")).expect("mkdir");
        std::fs::write(&target, contents).expect("write");
    }
    dir
}

fn auth_env(design: &ApiDesign) -> Vec<(String, String)> {
    match &design.auth {
        AuthScheme::None => Vec::new(),
        AuthScheme::ApiKey { env_var, .. } | AuthScheme::BearerJwt { env_var } => {
            vec![(env_var.clone(), SECRET.to_owned())]
        }
    }
}

/// Runs `command` to completion, killing it after `timeout`.
fn run_with_timeout(mut command: Command, timeout: Duration) -> Output {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node starts");
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(timeout) {
        Ok(output) => output.expect("waiting for node"),
        Err(_) => {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
            panic!("node did not finish within {timeout:?}");
        }
    }
}

fn native_tests_pass(name: &str) {
    let design = fixture(name);
    let dir = write_project(&design);
    let mut command = Command::new(NODE);
    command
        .arg("--test")
        .current_dir(dir.path())
        .env("NODE_PATH", &runtime().node_modules)
        .env("TMPDIR", dir.path());
    let output = run_with_timeout(command, TEST_SUITE_TIMEOUT);
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let kept = dir.keep();
        panic!(
            "node --test failed for {name} (project kept in {}):\n{stdout}\n{}",
            kept.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    // The suite really ran: node prints its totals.
    let passed = stdout
        .lines()
        .find_map(|l| l.strip_prefix("# pass "))
        .and_then(|n| n.trim().parse::<u32>().ok())
        .expect("node --test prints a pass count");
    assert!(passed >= 5, "only {passed} tests ran for {name}:\n{stdout}");
    assert!(stdout.contains("# fail 0"), "{stdout}");
}

fn every_js_file_parses(name: &str) {
    let design = fixture(name);
    let files = express::render(&design).expect("renders");
    let dir = write_project(&design);
    for path in files.keys().filter(|p| p.ends_with(".js")) {
        let output = Command::new(NODE)
            .arg("--check")
            .arg(dir.path().join(path))
            .output()
            .expect("node runs");
        assert!(
            output.status.success(),
            "{name}: {path} does not parse:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let manifest: Value =
        serde_json::from_str(&files["package.json"]).expect("package.json is JSON");
    assert_eq!(manifest["scripts"]["test"], "node --test");
    for (dep, version) in node::pinned_dependencies() {
        assert_eq!(manifest["dependencies"][&dep], json!(version), "{dep}");
    }
}

fn renders_deterministically(name: &str) {
    let design = fixture(name);
    let first = express::render(&design).expect("renders");
    let second = express::render(&design.clone()).expect("renders");
    assert_eq!(first, second);
    for required in [
        "package.json",
        "server.js",
        "README.md",
        ".gitignore",
        "src/app.js",
        "test-support/helpers.js",
    ] {
        assert!(first.contains_key(required), "{name} lacks {required}");
    }
    for resource in &design.resources {
        assert!(first.contains_key(&format!("src/routes/{}.js", resource.plural)));
        assert!(first.contains_key(&format!("test/{}.test.js", resource.plural)));
    }
}

/// A response read off a Unix socket.
#[derive(Debug)]
struct Response {
    status: u16,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

impl Response {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!("{e}: {}", String::from_utf8_lossy(&self.body));
        })
    }
}

fn request(
    socket: &Path,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: Option<&Value>,
) -> std::io::Result<Response> {
    let mut stream = UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if body.is_some() {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            payload.len()
        ));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(payload.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete HTTP response");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .get("transfer-encoding")
        .is_some_and(|t| t == "chunked")
    {
        body = dechunk(&body);
    }
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&data[..end]).trim(), 16)
            .expect("chunk size");
        if size == 0 {
            break;
        }
        out.extend_from_slice(&data[end + 2..end + 2 + size]);
        data = &data[end + 2 + size + 2..];
    }
    out
}

/// `node server.js` on a Unix socket; killed when dropped.
struct Server {
    child: Child,
}

impl Server {
    fn start(dir: &Path, socket: &Path, env: &[(String, String)]) -> Server {
        let mut child = Command::new(NODE)
            .arg("server.js")
            .current_dir(dir)
            .env("NODE_PATH", &runtime().node_modules)
            .env("APIFORGE_LISTEN", format!("unix:{}", socket.display()))
            .env("APIFORGE_DB", dir.join("data.db"))
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node starts");
        // The server announces itself once listening; wait for that line.
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut server = Server { child };
        loop {
            match rx.recv_timeout(START_TIMEOUT) {
                Ok(line) if line.starts_with("listening on unix:") => break,
                Ok(_) => continue,
                Err(_) => {
                    let status = server.child.try_wait().ok().flatten();
                    panic!("the server did not start listening (exit status: {status:?})");
                }
            }
        }
        server
    }

    /// SIGTERM, then the exit code (the server closes connections and exits).
    fn terminate(&mut self) -> Option<i32> {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(nix::sys::wait::waitpid(pid, None));
        });
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("signal");
        match rx
            .recv_timeout(START_TIMEOUT)
            .expect("the server exits after SIGTERM")
        {
            Ok(nix::sys::wait::WaitStatus::Exited(_, code)) => Some(code),
            _ => None,
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `host:port` listening (port 0: the OS picks one, the server prints it), and a
/// clear refusal of a malformed APIFORGE_LISTEN.
#[test]
fn server_listens_on_tcp_and_refuses_bad_listen_values() {
    let design = fixture("one_resource");
    let dir = write_project(&design);
    let mut child = Command::new(NODE)
        .arg("server.js")
        .current_dir(dir.path())
        .env("NODE_PATH", &runtime().node_modules)
        .env("APIFORGE_LISTEN", "127.0.0.1:0")
        .env("APIFORGE_DB", dir.path().join("tcp.db"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node starts");
    let stdout = child.stdout.take().expect("piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(START_TIMEOUT)
        .expect("the server announces itself");
    let port: u16 = line
        .trim()
        .strip_prefix("listening on 127.0.0.1:")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected announcement {line:?}"));
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let _ = child.kill();
    let _ = child.wait();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with(r#"{"status":"ok"}"#), "{response}");

    for bad in ["localhost", "unix:", "127.0.0.1:99999"] {
        let mut command = Command::new(NODE);
        command
            .arg("server.js")
            .current_dir(dir.path())
            .env("NODE_PATH", &runtime().node_modules)
            .env("APIFORGE_LISTEN", bad)
            .env("APIFORGE_DB", dir.path().join("bad.db"));
        let output = run_with_timeout(command, START_TIMEOUT);
        assert_eq!(output.status.code(), Some(1), "{bad}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("APIFORGE_LISTEN"), "{bad}: {stderr}");
    }
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

fn jwt(secret: &str, exp: u64) -> String {
    let header = base64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = base64url(json!({"sub": "tester", "exp": exp}).to_string().as_bytes());
    let signature = base64url(&hmac_sha256(
        secret.as_bytes(),
        format!("{header}.{claims}").as_bytes(),
    ));
    format!("{header}.{claims}.{signature}")
}

fn credentials(design: &ApiDesign) -> Vec<(String, String)> {
    match &design.auth {
        AuthScheme::None => Vec::new(),
        AuthScheme::ApiKey { header, .. } => vec![(header.clone(), SECRET.to_owned())],
        AuthScheme::BearerJwt { .. } => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("after 1970")
                .as_secs();
            vec![(
                "Authorization".to_owned(),
                format!("Bearer {}", jwt(SECRET, now + 600)),
            )]
        }
    }
}

fn assert_problem(response: &Response, status: u16) {
    assert_eq!(
        response.status,
        status,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    assert_eq!(
        response.headers.get("content-type").map(String::as_str),
        Some("application/problem+json")
    );
    let body = response.json();
    assert_eq!(body["status"], json!(status));
    assert!(
        body["title"].is_string() && body["detail"].is_string(),
        "{body}"
    );
}

fn server_serves_requests(name: &str) {
    let design = fixture(name);
    let dir = write_project(&design);
    let socket = dir.path().join("s.sock");
    let env = auth_env(&design);
    let auth = credentials(&design);
    let mut server = Server::start(dir.path(), &socket, &env);

    let health = request(&socket, "GET", "/health", &[], None).expect("health");
    assert_eq!(health.status, 200);
    assert_eq!(health.json(), json!({"status": "ok"}));
    assert_problem(
        &request(&socket, "GET", "/no/such/route", &auth, None).expect("request"),
        404,
    );
    if !auth.is_empty() {
        let path = format!("/{}", design.resources[0].plural);
        assert_problem(
            &request(&socket, "GET", &path, &[], None).expect("request"),
            401,
        );
    }

    // A resource the server can create without parents.
    let resource = design
        .resources
        .iter()
        .find(|r| r.operations.create && r.relations.iter().all(|rel| !rel.required))
        .expect("every fixture has a root resource");
    let collection = format!("/{}", resource.plural);
    let body = Value::Object(express::example_body(&design, &resource.name, 0).expect("example"));
    let created = request(&socket, "POST", &collection, &auth, Some(&body)).expect("create");
    assert_eq!(
        created.status,
        201,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    let item = created.json();
    let id = item["id"].as_i64().expect("integer id");
    assert_eq!(
        created.headers.get("location"),
        Some(&format!("{collection}/{id}"))
    );
    for (field, value) in body.as_object().expect("object") {
        // JSON numbers compare by value: 1000.0 sent may come back as 1000.
        match (item[field].as_f64(), value.as_f64()) {
            (Some(got), Some(sent)) => assert_eq!(got, sent, "{field}"),
            _ => assert_eq!(&item[field], value, "{field}"),
        }
    }
    if resource.operations.list.is_some() {
        let list = request(&socket, "GET", &collection, &auth, None).expect("list");
        assert_eq!(list.status, 200);
        let list = list.json();
        assert_eq!(list["total"], json!(1));
        assert_eq!(list["items"][0]["id"], json!(id));
    }
    if resource.operations.get {
        assert_problem(
            &request(&socket, "GET", &format!("{collection}/999999"), &auth, None).expect("get"),
            404,
        );
    }
    let malformed = UnixStream::connect(&socket).and_then(|mut s| {
        let raw = format!(
            "POST {collection} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 5\r\n{}\r\n{{\"a\":",
            auth.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect::<String>()
        );
        s.write_all(raw.as_bytes())?;
        let mut out = String::new();
        s.read_to_string(&mut out)?;
        Ok(out)
    });
    let malformed = malformed.expect("malformed request");
    assert!(malformed.starts_with("HTTP/1.1 422"), "{malformed}");
    assert!(
        malformed.contains("application/problem+json"),
        "{malformed}"
    );

    // Every change is on disk at once: a crash loses nothing, and the stale socket the
    // crash leaves behind does not stop the next start.
    server.kill();
    assert!(socket.exists(), "a killed server leaves its socket behind");
    let mut server = Server::start(dir.path(), &socket, &env);
    if resource.operations.get {
        let again = request(&socket, "GET", &format!("{collection}/{id}"), &auth, None)
            .expect("get after restart");
        assert_eq!(again.status, 200);
        assert_eq!(again.json(), item);
    }
    assert_eq!(server.terminate(), Some(0), "SIGTERM is a clean shutdown");
    assert!(!socket.exists(), "a clean shutdown removes its socket");
}

macro_rules! fixture_tests {
    ($($name:ident),* $(,)?) => {
        const FIXTURES: &[&str] = &[$(stringify!($name)),*];

        $(
            mod $name {
                #[test]
                fn native_test_suite_passes() {
                    super::native_tests_pass(stringify!($name));
                }

                #[test]
                fn server_serves_real_requests() {
                    super::server_serves_requests(stringify!($name));
                }

                #[test]
                fn every_js_file_parses() {
                    super::every_js_file_parses(stringify!($name));
                }

                #[test]
                fn renders_deterministically() {
                    super::renders_deterministically(stringify!($name));
                }
            }
        )*
    };
}

fixture_tests!(
    one_resource,
    ten_resources,
    relation_chain,
    optional_set_null,
    cascade,
    every_field_type,
    enums,
    constraints,
    api_key_auth,
    jwt_auth,
    set_field_action,
    limited_operations,
);

#[test]
fn every_fixture_is_listed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/express");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixtures dir")
        .filter_map(Result::ok)
        .filter_map(|e| Some(e.path().file_stem()?.to_str()?.to_owned()))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = FIXTURES.iter().map(|s| (*s).to_owned()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "list every fixture in fixture_tests!");
}

#[test]
fn jwt_helper_matches_rfc_4231() {
    // RFC 4231 test case 2 keeps the hand-written HMAC honest.
    let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
    assert_eq!(
        hex::encode(mac),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    assert_eq!(base64url(b"hello"), "aGVsbG8");
}

#[test]
#[ignore = "writes a project to $DUMP_DIR for inspection"]
fn dump() {
    let name = std::env::var("DUMP_FIXTURE").expect("DUMP_FIXTURE");
    let out = PathBuf::from(std::env::var("DUMP_DIR").expect("DUMP_DIR"));
    for (path, contents) in express::render(&fixture(&name)).expect("renders") {
        let target = out.join(path);
        std::fs::create_dir_all(target.parent().expect("dir")).expect("mkdir");
        std::fs::write(target, contents).expect("write");
    }
}

/// A measurement, not a check: `cargo test --test express_projects render_timing --
/// --ignored --nocapture` prints how long rendering the ten-resource design takes.
#[test]
#[ignore = "prints a timing figure"]
fn render_timing() {
    let design = fixture("ten_resources");
    let runs = 50;
    let start = std::time::Instant::now();
    for _ in 0..runs {
        let files = express::render(&design).expect("renders");
        std::hint::black_box(files);
    }
    let per_render = start.elapsed() / runs;
    println!("ten_resources: {per_render:?} per render ({runs} runs)");
}
