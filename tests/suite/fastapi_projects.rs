//! Generated FastAPI projects, run for real: each fixture design is rendered, its own
//! pytest suite runs on the prepared Python runtime, and its server is started on a
//! Unix socket and sent real requests.
//!
//! The runtime is installed once into `target/test-runtimes/` (the first run downloads
//! the pinned packages from PyPI; later runs reuse it).

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use apiforge::codegen::fastapi;
use apiforge::config::RuntimesConfig;
use apiforge::design::ApiDesign;
use apiforge::runtimes::{RuntimeKind, Runtimes};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const JWT_SECRET: &str = "integration-secret";
const API_KEY: &str = "integration-key";

fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-runtimes");
        let config = RuntimesConfig {
            dir: PathBuf::new(),
            python: PathBuf::from("/usr/bin/python3"),
            node: PathBuf::from("/usr/bin/node"),
            pip_index_url: String::new(),
            npm_registry: String::new(),
        };
        let status = Runtimes::at(root, &config)
            .install(RuntimeKind::Python, &mut |line| {
                eprintln!("runtime: {line}")
            })
            .expect("the Python runtime installs (needs PyPI the first time)");
        assert!(status.installed);
        status.interpreter
    })
}

fn design(name: &str) -> ApiDesign {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fastapi")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).expect("fixture exists");
    serde_json::from_str(&text).expect("fixture is a valid design")
}

fn write_project(design: &ApiDesign) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let files = fastapi::render(design).expect("the design renders");
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("files live in a folder")).expect("mkdir");
        std::fs::write(&path, text).expect("write file");
    }
    dir
}

fn run_generated_tests(dir: &Path) {
    let out = Command::new(python())
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .current_dir(dir)
        .env_remove("APIFORGE_DB")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("pytest runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "generated tests failed in {}:\n{stdout}\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(" passed"), "pytest ran tests: {stdout}");
}

/// HS256 as RFC 7519 describes it, to sign a token the generated API must accept.
fn jwt(secret: &str) -> String {
    use base64_url::encode;
    let header = encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = encode(
        json!({"sub": "rust", "exp": 4_102_444_800u64})
            .to_string()
            .as_bytes(),
    );
    let signing_input = format!("{header}.{payload}");
    format!(
        "{signing_input}.{}",
        encode(&hmac_sha256(secret.as_bytes(), signing_input.as_bytes()))
    )
}

mod base64_url {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    pub fn encode(data: &[u8]) -> String {
        let mut out = String::new();
        for chunk in data.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..=chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            }
        }
        out
    }
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let inner: Vec<u8> = block.iter().map(|b| b ^ 0x36).collect();
    let outer: Vec<u8> = block.iter().map(|b| b ^ 0x5c).collect();
    let inner_hash = Sha256::new()
        .chain_update(&inner)
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(&outer)
        .chain_update(inner_hash)
        .finalize()
        .to_vec()
}

struct Server {
    child: Child,
    socket: PathBuf,
    auth: Option<(String, String)>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Server {
    fn start(dir: &Path, design: &ApiDesign) -> Server {
        let socket = dir.join("s.sock");
        let mut cmd = Command::new(python());
        cmd.arg("main.py")
            .current_dir(dir)
            .env("APIFORGE_LISTEN", format!("unix:{}", socket.display()))
            .env("APIFORGE_DB", dir.join("server.db"))
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let auth = match &design.auth {
            apiforge::design::AuthScheme::None => None,
            apiforge::design::AuthScheme::ApiKey { header, env_var } => {
                cmd.env(env_var, API_KEY);
                Some((header.clone(), API_KEY.to_owned()))
            }
            apiforge::design::AuthScheme::BearerJwt { env_var } => {
                cmd.env(env_var, JWT_SECRET);
                Some((
                    "Authorization".to_owned(),
                    format!("Bearer {}", jwt(JWT_SECRET)),
                ))
            }
        };
        let child = cmd.spawn().expect("the server starts");
        let mut server = Server {
            child,
            socket,
            auth,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(reply) = server.try_request("GET", "/health", None) {
                assert_eq!(reply.status, 200);
                assert_eq!(reply.body, json!({"status": "ok"}));
                break;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("the server exited before answering: {status}");
            }
            assert!(Instant::now() < deadline, "no /health answer within 30 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn request(&self, method: &str, path: &str, body: Option<&Value>) -> Reply {
        self.try_request(method, path, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    fn try_request(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> std::io::Result<Reply> {
        let mut stream = UnixStream::connect(&self.socket)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let payload = body.map(Value::to_string).unwrap_or_default();
        let mut request =
            format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
        if let Some((name, value)) = &self.auth {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        if body.is_some() {
            request.push_str("Content-Type: application/json\r\n");
        }
        request.push_str(&format!(
            "Content-Length: {}\r\n\r\n{payload}",
            payload.len()
        ));
        stream.write_all(request.as_bytes())?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        let text = String::from_utf8_lossy(&raw);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("no status line in {text:?}")))?;
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect();
        let body = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(body).unwrap_or(Value::String(body.to_owned()))
        };
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}

/// Renders `fixture`, runs its pytest suite, then serves it and creates, lists and
/// misses a record of `plural` over the Unix socket. Returns the running server (and
/// the project directory it needs) for further requests.
fn check_fixture(fixture: &str, plural: &str, body: Value) -> (Server, tempfile::TempDir) {
    let design = design(fixture);
    let dir = write_project(&design);
    run_generated_tests(dir.path());

    let server = Server::start(dir.path(), &design);
    let created = server.request("POST", &format!("/{plural}"), Some(&body));
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.body["id"].as_i64().expect("integer id");
    assert_eq!(
        created.header("location"),
        Some(format!("/{plural}/{id}").as_str())
    );
    for (name, value) in body.as_object().expect("object body") {
        assert_eq!(&created.body[name], value, "{name}");
    }

    let listed = server.request("GET", &format!("/{plural}?limit=5"), None);
    assert_eq!(listed.status, 200);
    assert_eq!(listed.body["total"], json!(1));
    assert_eq!(listed.body["limit"], json!(5));
    assert_eq!(listed.body["items"][0]["id"], json!(id));

    let missing = server.request("GET", &format!("/{plural}/999999"), None);
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(missing.body["status"], json!(404));

    let invalid = server.request(
        "POST",
        &format!("/{plural}"),
        Some(&json!({"nonsense": []})),
    );
    assert_eq!(invalid.status, 422);
    assert!(
        invalid.body["errors"]
            .as_array()
            .is_some_and(|e| !e.is_empty())
    );
    (server, dir)
}

#[test]
fn one_resource() {
    check_fixture(
        "notes",
        "notes",
        json!({"title": "Buy milk", "body": "2 litres"}),
    );
}

#[test]
fn relations_enums_bounds_actions_and_api_key_auth() {
    check_fixture(
        "library",
        "authors",
        json!({"name": "Ada", "email": "ada@example.com"}),
    );
}

#[test]
fn every_field_type_and_jwt_auth() {
    let _running = check_fixture(
        "every_type",
        "specimens",
        json!({
            "label": "AB-123", "cost": 9.5, "active": true, "kind": "plant",
            "found_on": "2024-05-01", "seen_at": "2024-05-01T10:00:00Z", "opens": "09:00",
            "contact": "x@example.com", "homepage": "https://example.com",
            "tracking": "12345678-1234-4234-8234-123456789abc", "extra": {"a": [1, 2]},
            "from": "the sea"
        }),
    );
}

#[test]
fn ten_resources() {
    check_fixture(
        "ten_resources",
        "customers",
        json!({"name": "Acme", "code": "C-1", "amount": 12.5, "due": "2025-01-31"}),
    );
}

#[test]
fn self_relations_missing_operations_and_custom_handlers() {
    let (server, _dir) = check_fixture("edge_cases", "categories", json!({"name": "Root"}));
    // The custom handler body from the design runs as written.
    let count = server.request("GET", "/categories/count", None);
    assert_eq!(count.status, 200, "{:?}", count.body);
    assert_eq!(count.body, json!({"total": 1}));
    let ping = server.request("POST", "/ping", None);
    assert_eq!(ping.status, 501);
    assert_eq!(
        ping.header("content-type"),
        Some("application/problem+json")
    );
}

#[test]
fn rendering_is_deterministic() {
    for fixture in [
        "notes",
        "library",
        "every_type",
        "ten_resources",
        "edge_cases",
    ] {
        let design = design(fixture);
        let first = fastapi::render(&design).expect("renders");
        let second = fastapi::render(&design).expect("renders");
        assert_eq!(first, second, "{fixture}");
    }
}

#[test]
fn every_field_type_compiles_as_python() {
    let dir = write_project(&design("every_type"));
    let files: Vec<String> = fastapi::render(&design("every_type"))
        .expect("renders")
        .into_keys()
        .filter(|name| name.ends_with(".py"))
        .collect();
    let out = Command::new("/usr/bin/python3")
        .args(["-m", "py_compile"])
        .args(&files)
        .current_dir(dir.path())
        .env("PYTHONPYCACHEPREFIX", dir.path().join(".pycache"))
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn inconsistent_designs_are_refused_with_a_reason() {
    let mut d = design("library");
    if let Some(book) = d.resource_mut("book") {
        book.relations[0].target = "publisher".to_owned();
    }
    let err = fastapi::render(&d).expect_err("unknown relation target");
    assert!(err.to_string().contains("publisher"), "{err}");
}
