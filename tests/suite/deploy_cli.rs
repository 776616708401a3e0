//! Deployments through the real binary: an embedded cluster, the `apiforge serve`
//! daemon started on demand, process-sandboxed instances, real HTTP through the
//! gateway on a free port.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use apiforge::sandbox::http::{HttpClient, HttpError, HttpRequest, HttpResponse};
use serde_json::{Value, json};

use crate::support::{ApiforgeHome, wait_until};

/// An apiforge home whose gateway listens on its own free port; its daemon is stopped
/// when the value is dropped (before the home's cluster).
pub(crate) struct DeployHome {
    pub(crate) gateway: String,
    pub(crate) home: ApiforgeHome,
}

impl DeployHome {
    pub(crate) fn new() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self {
            gateway: format!("127.0.0.1:{port}"),
            home: ApiforgeHome::new(),
        }
    }

    pub(crate) fn run(&self, args: &[&str]) -> std::process::Output {
        self.home
            .command()
            .env("APIFORGE_DEPLOY_GATEWAY_ADDR", &self.gateway)
            .args(args)
            .output()
            .unwrap()
    }

    pub(crate) fn json(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "apiforge {args:?} failed ({:?}): {}{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// The ids of every deploy job (rollbacks are deploy jobs), in any state.
    pub(crate) fn deploy_jobs(&self) -> Vec<Value> {
        self.json(&["jobs", "--all", "--json"])
            .as_array()
            .unwrap()
            .iter()
            .filter(|j| j["kind"] == "deploy")
            .map(|j| j["id"].clone())
            .collect()
    }

    /// Exports `project` into a new temporary directory and returns the `--json` report.
    pub(crate) fn export(&self, project: &str, extra: &[&str]) -> Value {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("export");
        let mut args = vec!["export", project, "--out", out.to_str().unwrap(), "--json"];
        args.extend_from_slice(extra);
        self.json(&args)
    }

    /// Exports `project` with the default version and returns the human summary.
    pub(crate) fn export_text(&self, project: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("export");
        let run = self.run(&["export", project, "--out", out.to_str().unwrap()]);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        String::from_utf8(run.stdout).unwrap()
    }

    /// Runs a command expected to fail and returns its `--json` output.
    pub(crate) fn json_failing(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert_eq!(out.status.code(), Some(1), "apiforge {args:?} should fail");
        serde_json::from_slice(&out.stdout).unwrap()
    }

    pub(crate) fn new_project(&self, framework: &str, name: &str, prompt: &str) {
        let out = self.json(&[
            "new",
            prompt,
            "--name",
            name,
            "--framework",
            framework,
            "--json",
        ]);
        assert_eq!(out["output"]["check_status"], "passing", "{out}");
    }

    /// Deploys and returns the job's output (`route`, `deployment`, `version`, …).
    pub(crate) fn deploy(&self, args: &[&str]) -> Value {
        let mut all = vec!["deploy"];
        all.extend_from_slice(args);
        all.push("--json");
        let out = self.json(&all);
        assert_eq!(out["state"], "succeeded", "{out}");
        assert_eq!(out["output"]["state"], "live", "{out}");
        assert_eq!(
            out["url"],
            format!(
                "http://{}{}",
                self.gateway,
                out["output"]["route"].as_str().unwrap()
            )
        );
        out["output"].clone()
    }

    pub(crate) fn deployment_of(&self, project: &str) -> Value {
        let list = self.json(&["deployments", "--json"]);
        list.as_array()
            .unwrap()
            .iter()
            .find(|d| d["project"] == project)
            .cloned()
            .unwrap_or_else(|| panic!("no deployment of {project}: {list}"))
    }

    pub(crate) fn get(&self, path: &str) -> Result<HttpResponse, HttpError> {
        send(&self.gateway, HttpRequest::get(path))
    }
}

impl Drop for DeployHome {
    fn drop(&mut self) {
        let _ = self.run(&["serve", "stop"]);
    }
}

pub(crate) fn send(addr: &str, request: HttpRequest) -> Result<HttpResponse, HttpError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(
        HttpClient::tcp(addr)
            .with_timeout(Duration::from_secs(20))
            .send(&request),
    )
}

/// One response of the loop: its status and whether the body had the marker.
type Seen = Result<(u16, bool), String>;

/// A loop of requests to `path` through the gateway, one after the other, until
/// stopped: every response's status and whether its body contained `marker`.
struct Load {
    stop: Arc<AtomicBool>,
    seen: Arc<std::sync::Mutex<Vec<Seen>>>,
    thread: Option<JoinHandle<()>>,
}

impl Load {
    fn start(gateway: &str, path: &str, marker: &'static str) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (gateway, path) = (gateway.to_owned(), path.to_owned());
        let (s, out) = (stop.clone(), seen.clone());
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let client = HttpClient::tcp(gateway).with_timeout(Duration::from_secs(20));
            while !s.load(Ordering::SeqCst) {
                let r = rt.block_on(client.get(&path));
                let entry = r
                    .map(|r| (r.status, r.text().contains(marker)))
                    .map_err(|e| e.to_string());
                out.lock().unwrap().push(entry);
            }
        });
        Self {
            stop,
            seen,
            thread: Some(thread),
        }
    }

    fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    fn last_has_marker(&self) -> Option<bool> {
        self.seen
            .lock()
            .unwrap()
            .last()
            .and_then(|r| r.as_ref().ok().map(|(_, m)| *m))
    }

    fn finish(mut self) -> Vec<Seen> {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Swaps the live version with `command` while a request loop runs; asserts that no
/// request failed and that responses switched once, from `before` to `!before`.
pub(crate) fn swap_under_load(home: &DeployHome, route: &str, command: &[&str], before: bool) {
    let load = Load::start(&home.gateway, &format!("{route}openapi.json"), "priority");
    wait_until(Duration::from_secs(30), "requests before the swap", || {
        load.count() >= 20
    });
    let out = home.json(command);
    assert_eq!(out["state"], "succeeded", "{out}");
    let settled = load.count() + 20;
    wait_until(Duration::from_secs(30), "requests after the swap", || {
        load.count() >= settled
    });
    assert_eq!(load.last_has_marker(), Some(!before));
    let seen = load.finish();
    let failed: Vec<_> = seen.iter().filter(|r| !matches!(r, Ok((200, _)))).collect();
    assert!(
        failed.is_empty(),
        "{} of {} requests failed: {failed:?}",
        failed.len(),
        seen.len()
    );
    let markers: Vec<bool> = seen.iter().map(|r| r.as_ref().unwrap().1).collect();
    assert_eq!(markers.first(), Some(&before));
    let switches = markers.windows(2).filter(|w| w[0] != w[1]).count();
    assert_eq!(
        switches, 1,
        "responses switched once and stayed switched: {markers:?}"
    );
}

#[test]
fn deploy_serves_through_the_gateway_swaps_and_rolls_back_without_failures_then_undeploys() {
    let home = DeployHome::new();
    home.new_project(
        "fastapi",
        "notes",
        "a notes API: notes with a title and a body",
    );
    let deployed = home.deploy(&["notes"]);
    assert_eq!(deployed["version"], 1);
    assert_eq!(deployed["previous_version"], Value::Null);
    let route = deployed["route"].as_str().unwrap().to_owned();
    // Nothing was live before v1: a rollback says so and queues no job.
    let deploy_jobs = home.deploy_jobs();
    let refused = home.run(&["rollback", "notes", "--json"]);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("notes has no earlier live version to roll back to"),
        "{stderr}"
    );
    assert_eq!(home.deploy_jobs(), deploy_jobs);
    assert_eq!(home.deployment_of("notes")["version"], 1);
    assert!(
        route.starts_with("/p/") && route.ends_with("/notes/"),
        "{route}"
    );

    // Methods, headers and bodies pass through; the gateway adds a request id.
    let created = send(
        &home.gateway,
        HttpRequest::new("POST", format!("{route}notes"))
            .json(&json!({"title": "groceries", "body": "milk"}))
            .header("x-request-id", "trace-123"),
    )
    .unwrap();
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(created.header("x-request-id"), Some("trace-123"));
    let id = created.json().unwrap()["id"].clone();
    let fetched = home.get(&format!("{route}notes/{id}")).unwrap();
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.json().unwrap()["body"], "milk");
    assert!(
        fetched
            .header("x-request-id")
            .is_some_and(|v| !v.is_empty())
    );
    let missing = home.get(&format!("{route}notes/999")).unwrap();
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.header("content-type"),
        Some("application/problem+json")
    );

    let listed = home.deployment_of("notes");
    assert_eq!(listed["state"], "live");
    assert_eq!(listed["version"], 1);
    assert_eq!(listed["instance"]["state"], "healthy", "{listed}");
    assert_eq!(listed["requests"]["requests"], 3, "{listed}");
    assert_eq!(listed["requests"]["status_classes"], json!([0, 2, 0, 1, 0]));

    let v2 = home.json(&["iterate", "notes", "add a priority to notes", "--json"]);
    assert_eq!(v2["output"]["check_status"], "passing", "{v2}");
    // v1 is live and v2 the latest: export takes the live one unless told otherwise.
    let exported = home.export("notes", &[]);
    assert_eq!(
        (exported["version"].clone(), exported["chosen"].clone()),
        (json!(1), json!("live"))
    );
    let exported = home.export("notes", &["--version", "2"]);
    assert_eq!(
        (exported["version"].clone(), exported["chosen"].clone()),
        (json!(2), json!("requested"))
    );
    let human = home.export_text("notes");
    assert!(
        human.starts_with("v1 of notes (the live version; the latest is v2, fastapi)"),
        "{human}"
    );
    swap_under_load(&home, &route, &["deploy", "notes", "--json"], false);
    assert_eq!(home.deployment_of("notes")["version"], 2);
    swap_under_load(&home, &route, &["rollback", "notes", "--json"], true);
    let back = home.deployment_of("notes");
    assert_eq!(
        (back["version"].clone(), back["state"].clone()),
        (json!(1), json!("live"))
    );

    let undeployed = home.json(&["undeploy", "notes", "--json"]);
    assert_eq!(undeployed["output"]["state"], "stopped", "{undeployed}");
    let gone = home.get(&format!("{route}notes")).unwrap();
    assert_eq!(gone.status, 404);
    let problem = gone.json().unwrap();
    assert_eq!(problem["title"], "Not deployed");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("notes has no live deployment"),
        "{problem}"
    );
    assert_eq!(home.deployment_of("notes")["state"], "stopped");
    // Nothing live: the latest version.
    let exported = home.export("notes", &[]);
    assert_eq!(
        (exported["version"].clone(), exported["chosen"].clone()),
        (json!(2), json!("latest"))
    );
    let again = home.json_failing(&["undeploy", "notes", "--json"]);
    assert!(
        again["error"].as_str().unwrap().contains("is not deployed"),
        "{again}"
    );
}

/// Host PIDs of processes whose environment carries this deployment id.
fn instance_pids(deployment: &str) -> Vec<i32> {
    let needle = format!("APIFORGE_DEPLOYMENT={deployment}");
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .map(|env| env.split(|b| *b == 0).any(|v| v == needle.as_bytes()))
                .unwrap_or(false)
        })
        .collect()
}

#[test]
fn a_killed_instance_restarts_and_a_restarted_daemon_brings_deployments_back() {
    let home = DeployHome::new();
    home.new_project(
        "express",
        "library",
        "a library API: books with a title and an author",
    );
    let deployed = home.deploy(&["library"]);
    let route = deployed["route"].as_str().unwrap().to_owned();
    let deployment = deployed["deployment"].as_str().unwrap().to_owned();
    let books = format!("{route}books");
    assert_eq!(home.get(&books).unwrap().status, 200);

    // A neighbour, to show that one instance's crash leaves the others alone.
    home.new_project(
        "fastapi",
        "notes",
        "a notes API: notes with a title and a body",
    );
    let neighbour = home.deploy(&["notes"]);
    let notes = format!("{}notes", neighbour["route"].as_str().unwrap());
    let neighbour_load = Load::start(&home.gateway, &notes, "items");

    let pids = instance_pids(&deployment);
    assert!(!pids.is_empty(), "the instance's processes are visible");
    for pid in &pids {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(*pid),
            nix::sys::signal::Signal::SIGKILL,
        )
        .unwrap();
    }
    wait_until(
        Duration::from_secs(60),
        "the instance to be restarted",
        || {
            let d = home.deployment_of("library");
            d["instance"]["restarts"] == 1 && d["instance"]["state"] == "healthy"
        },
    );
    let neighbour_seen = neighbour_load.finish();
    assert!(neighbour_seen.len() > 1);
    assert!(
        neighbour_seen.iter().all(|r| matches!(r, Ok((200, true)))),
        "the neighbour kept serving: {neighbour_seen:?}"
    );
    assert_eq!(home.deployment_of("notes")["instance"]["restarts"], 0);
    assert_eq!(home.get(&books).unwrap().status, 200);
    let logs = home.json(&["deployments", "--logs", "--json"]);
    assert!(
        logs.to_string().contains("killed by signal 9"),
        "the crash is in the instance's log: {logs}"
    );

    let stopped = home.json(&["serve", "stop", "--json"]);
    assert_eq!(stopped["stopped"], true);
    assert!(
        matches!(home.get(&books), Err(HttpError::Connect { .. })),
        "the gateway is down with its daemon"
    );
    assert!(
        instance_pids(&deployment).is_empty(),
        "instances stop with the daemon"
    );
    assert!(!Path::new(&home.home.path().join("data/serve.pid")).exists());

    let started = home.json(&["serve", "start", "--json"]);
    assert_eq!(started["running"], true);
    wait_until(
        Duration::from_secs(60),
        "the deployment to be live again",
        || home.get(&books).is_ok_and(|r| r.status == 200),
    );
    let again = home.deployment_of("library");
    assert_eq!(
        again["deployment"],
        deployment.as_str(),
        "the same deployment, no new deploy"
    );
    assert_eq!(again["state"], "live");
    wait_until(
        Duration::from_secs(60),
        "the neighbour to be live again",
        || home.get(&notes).is_ok_and(|r| r.status == 200),
    );
}

#[test]
fn failing_checks_need_force_breaking_changes_need_allow_breaking_and_a_crashing_version_is_refused()
 {
    let home = DeployHome::new();
    home.new_project(
        "fastapi",
        "notes",
        "a notes API: notes with a title and a body",
    );
    home.deploy(&["notes"]);

    let v2 = home.json(&["iterate", "notes", "remove body from notes", "--json"]);
    assert_eq!(v2["output"]["version"], 2);
    let refused = home.json_failing(&["deploy", "notes", "--json"]);
    let error = refused["error"].as_str().unwrap();
    assert!(
        error.contains("breaking") && error.contains("--allow-breaking"),
        "{error}"
    );
    assert!(
        error.contains("`body`"),
        "names the breaking change: {error}"
    );
    assert_eq!(home.deployment_of("notes")["version"], 1, "v1 stays live");
    home.deploy(&["notes", "--allow-breaking"]);

    // A hand edit whose own test fails makes a failing v3.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("notes");
    home.json(&["files", "notes", "--out", out.to_str().unwrap(), "--json"]);
    std::fs::write(
        out.join("tests/test_broken.py"),
        "def test_broken():\n    assert 1 + 1 == 3\n",
    )
    .unwrap();
    let saved = home.run(&["save", "notes", out.to_str().unwrap(), "--json"]);
    let saved: Value = serde_json::from_slice(&saved.stdout).unwrap();
    assert_eq!(saved["output"]["check_status"], "failing", "{saved}");
    let refused = home.json_failing(&["deploy", "notes", "--json"]);
    let error = refused["error"].as_str().unwrap();
    assert!(
        error.contains("failing checks") && error.contains("--force"),
        "{error}"
    );
    assert_eq!(home.deployment_of("notes")["version"], 2);
    let forced = home.deploy(&["notes", "--force"]);
    assert_eq!(forced["version"], 3);
    assert_eq!(forced["previous_version"], 2);
    let served = home
        .get(&format!("{}notes", forced["route"].as_str().unwrap()))
        .unwrap();
    assert_eq!(served.status, 200);

    // A version whose server crashes at start is refused even with --force: the
    // deploy fails with the server's output and the live version keeps serving.
    std::fs::write(
        out.join("main.py"),
        "raise SystemExit('the config is missing DATABASE_HOST')\n",
    )
    .unwrap();
    let saved = home.run(&["save", "notes", out.to_str().unwrap(), "--json"]);
    let saved: Value = serde_json::from_slice(&saved.stdout).unwrap();
    assert_eq!(saved["output"]["version"], 4, "{saved}");
    let crashed = home.json_failing(&["deploy", "notes", "--force", "--json"]);
    let error = crashed["error"].as_str().unwrap();
    assert!(error.contains("DATABASE_HOST"), "{error}");
    let listed = home.json(&["deployments", "--json"]);
    assert_eq!(listed[0]["version"], 3, "{listed}");
    assert_eq!(listed[0]["state"], "live");
    let still = home
        .get(&format!("{}notes", forced["route"].as_str().unwrap()))
        .unwrap();
    assert_eq!(still.status, 200);
}

/// Reads from `stream` until the bytes read so far contain `needle`.
fn read_until(stream: &mut std::net::TcpStream, seen: &mut Vec<u8>, needle: &str) {
    use std::io::Read;
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(seen).contains(needle) {
        let n = stream.read(&mut buf).unwrap();
        assert!(
            n > 0,
            "connection closed before {needle:?}: {}",
            String::from_utf8_lossy(seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
}

#[test]
fn responses_stream_through_the_gateway_as_the_instance_produces_them() {
    use std::io::Write;
    let home = DeployHome::new();
    home.new_project(
        "fastapi",
        "notes",
        "a notes API: notes with a title and a body",
    );
    // A hand-written route that sends one line, then waits for a file to appear in
    // its workspace before sending the last: the first line can only reach the client
    // before the file exists if the gateway passes the body on as it comes.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("notes");
    home.json(&["files", "notes", "--out", out.to_str().unwrap(), "--json"]);
    let main = out.join("app/main.py");
    let mut code = std::fs::read_to_string(&main).unwrap();
    code.push_str(
        r#"

import asyncio as _asyncio
import os as _os

from fastapi.responses import StreamingResponse as _StreamingResponse


@app.get("/stream", include_in_schema=False)
async def _stream():
    async def chunks():
        yield "first\n"
        while not _os.path.exists("/workspace/go"):
            await _asyncio.sleep(0.01)
        yield "last\n"

    return _StreamingResponse(chunks(), media_type="text/plain")
"#,
    );
    std::fs::write(&main, code).unwrap();
    home.run(&["save", "notes", out.to_str().unwrap(), "--json"]);
    let deployed = home.deploy(&["notes", "--force"]);
    let route = deployed["route"].as_str().unwrap();
    let socket = home.deployment_of("notes")["instance"]["socket"]
        .as_str()
        .unwrap()
        .to_owned();
    let workspace = Path::new(&socket).parent().unwrap().to_path_buf();

    let mut stream = std::net::TcpStream::connect(&home.gateway).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    write!(
        stream,
        "GET {route}stream HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        home.gateway
    )
    .unwrap();
    let mut seen = Vec::new();
    read_until(&mut stream, &mut seen, "first\n");
    let head = String::from_utf8_lossy(&seen).to_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("x-request-id: "), "{head}");
    assert!(!head.contains("last"), "{head}");
    std::fs::write(workspace.join("go"), "").unwrap();
    read_until(&mut stream, &mut seen, "last\n");
}

#[test]
fn a_rollback_with_nothing_live_before_is_refused_without_a_job() {
    let home = DeployHome::new();
    // No version, no deployment: the refusal needs neither runtimes nor a pipeline.
    home.json(&[
        "new",
        "a notes API: notes with a title",
        "--name",
        "notes",
        "--detach",
        "--json",
    ]);
    let before = home.deploy_jobs();
    assert!(before.is_empty());
    let refused = home.run(&["rollback", "notes"]);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("notes has no earlier live version to roll back to")
            && stderr.contains("apiforge deployments"),
        "{stderr}"
    );
    assert!(home.deploy_jobs().is_empty());
}
