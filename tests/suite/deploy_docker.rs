//! `apiforge deploy --target docker` through the real binary: the daemon builds the
//! version's image and runs it as a container; requests go through the gateway to the
//! container's socket; Docker restarts a killed server; a v2 swap under load drops
//! nothing, and so does a rollback; a restarted daemon adopts the running container; undeploy removes it.
//!
//! Needs a Docker engine: without one the tests that use it print SKIP, unless `CI` is
//! set (then a missing engine fails them, as in `deploy_image`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::time::{Duration, Instant};

use apiforge::config::Config;
use apiforge::deploy::image::{Engine, ImageError};
use apiforge::sandbox::SandboxError;
use apiforge::sandbox::http::HttpRequest;
use serde_json::{Value, json};

use super::deploy_cli::{DeployHome, send, swap_under_load};
use crate::support::wait_until;

fn docker_available() -> bool {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    match rt.block_on(Engine::connect(&Config::defaults().sandbox)) {
        Ok(_) => true,
        Err(e @ ImageError::Sandbox(SandboxError::DockerUnreachable(_))) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but no Docker engine is reachable: {e}"
            );
            eprintln!("SKIP deploy docker: {e}");
            false
        }
        Err(e) => panic!("cannot use the Docker engine: {e}"),
    }
}

fn docker(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Ids of the containers (running or not) labelled with this deployment.
fn containers_of(deployment: &str) -> Vec<String> {
    docker(&[
        "ps",
        "-aq",
        "--no-trunc",
        "--filter",
        &format!("label=apiforge.deployment={deployment}"),
    ])
    .lines()
    .map(str::to_owned)
    .collect()
}

/// Removes the project's containers and images even when the test fails half-way.
/// Declared after the home, so it runs before the daemon is stopped.
struct Cleanup {
    project_label: Option<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let Some(label) = &self.project_label else {
            return;
        };
        let filter = format!("label=apiforge.project={label}");
        for id in docker(&["ps", "-aq", "--filter", &filter]).lines() {
            docker(&["rm", "-f", id]);
        }
        for id in docker(&["images", "-q", "--filter", &filter]).lines() {
            docker(&["rmi", "-f", id]);
        }
    }
}

#[test]
fn docker_target_serves_restarts_swaps_without_failures_is_adopted_and_undeploys() {
    if !docker_available() {
        return;
    }
    let home = DeployHome::new();
    let mut cleanup = Cleanup {
        project_label: None,
    };
    let name = format!("dnotes-{}", std::process::id());
    home.new_project(
        "fastapi",
        &name,
        "a notes API: notes with a title and a body",
    );
    let started = Instant::now();
    let deployed = home.deploy(&[&name, "--target", "docker"]);
    eprintln!(
        "deploy --target docker (v1, cold image, daemon start included): {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let route = deployed["route"].as_str().unwrap().to_owned();
    cleanup.project_label = Some(
        route
            .trim_start_matches("/p/")
            .trim_end_matches('/')
            .to_owned(),
    );
    let deployment = deployed["deployment"].as_str().unwrap().to_owned();

    let listed = home.deployment_of(&name);
    assert_eq!(listed["target"], "docker", "{listed}");
    assert_eq!(listed["instance"]["target"], "docker", "{listed}");
    assert_eq!(listed["instance"]["state"], "healthy", "{listed}");
    let container = listed["container"].as_str().unwrap().to_owned();
    assert_eq!(listed["instance"]["container"], container.as_str());
    assert_eq!(containers_of(&deployment), vec![container.clone()]);
    assert_eq!(
        docker(&["inspect", "-f", "{{.State.Running}}", &container]),
        "true"
    );

    // A real request through the gateway, answered by the container.
    let created = send(
        &home.gateway,
        HttpRequest::new("POST", format!("{route}notes"))
            .json(&json!({"title": "groceries", "body": "milk"})),
    )
    .unwrap();
    assert_eq!(created.status, 201, "{}", created.text());
    let id = created.json().unwrap()["id"].clone();
    let note = format!("{route}notes/{id}");
    assert_eq!(home.get(&note).unwrap().json().unwrap()["body"], "milk");

    // The container's output is followed into the deployment's log lines.
    let logs =
        || home.json(&["deployments", "--logs", "--json"])[0]["instance"]["logs"].to_string();
    wait_until(
        Duration::from_secs(30),
        "the request in the container's output",
        || logs().contains("POST /notes HTTP/1.1\\\" 201"),
    );

    // Kill the server inside the container: Docker's restart policy brings it back,
    // the supervisor sees the restart, and the data (in the instance dir) survives.
    let pid: i32 = docker(&["inspect", "-f", "{{.State.Pid}}", &container])
        .parse()
        .unwrap();
    assert!(pid > 0);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    wait_until(
        Duration::from_secs(60),
        "Docker to restart the server",
        || {
            let d = home.deployment_of(&name);
            d["instance"]["restarts"] == 1 && d["instance"]["state"] == "healthy"
        },
    );
    wait_until(Duration::from_secs(30), "requests to succeed again", || {
        home.get(&note).is_ok_and(|r| r.status == 200)
    });
    // The follower picks the output up again after the restart.
    wait_until(
        Duration::from_secs(30),
        "the restarted server's output",
        || logs().matches("Started server process").count() == 2,
    );
    assert_eq!(home.get(&note).unwrap().json().unwrap()["body"], "milk");
    assert_eq!(
        docker(&["inspect", "-f", "{{.RestartCount}}", &container]),
        "1"
    );

    // v2 as a container under a request loop: nothing fails, the old container goes.
    let v2 = home.json(&["iterate", &name, "add a priority to notes", "--json"]);
    assert_eq!(v2["output"]["check_status"], "passing", "{v2}");
    let swap_started = Instant::now();
    swap_under_load(
        &home,
        &route,
        &["deploy", &name, "--target", "docker", "--json"],
        false,
    );
    eprintln!(
        "deploy --target docker (v2, under load, drain included): {:.2} s",
        swap_started.elapsed().as_secs_f64()
    );
    let live = home.deployment_of(&name);
    assert_eq!(live["version"], 2);
    assert_eq!(live["target"], "docker");
    assert!(
        containers_of(&deployment).is_empty(),
        "v1's container is removed"
    );
    let v2_deployment = live["deployment"].as_str().unwrap().to_owned();
    assert_eq!(containers_of(&v2_deployment).len(), 1);

    // Rollback goes back to v1 where v1 ran: a container again (its image was kept).
    swap_under_load(&home, &route, &["rollback", &name, "--json"], true);
    let back = home.deployment_of(&name);
    assert_eq!(
        (back["version"].clone(), back["target"].clone()),
        (json!(1), json!("docker"))
    );
    assert!(
        containers_of(&v2_deployment).is_empty(),
        "v2's container is removed"
    );
    let live_deployment = back["deployment"].as_str().unwrap().to_owned();
    let live_container = back["container"].as_str().unwrap().to_owned();

    // A version whose server exits at start fails the deploy at once with its output
    // (not after Docker restarts it for the whole health timeout), its container is
    // removed, and the live version keeps serving.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("notes");
    home.json(&["files", &name, "--out", out.to_str().unwrap(), "--json"]);
    std::fs::write(
        out.join("main.py"),
        "raise SystemExit('the config is missing DATABASE_HOST')\n",
    )
    .unwrap();
    let saved = home.run(&["save", &name, out.to_str().unwrap(), "--json"]);
    let saved: Value = serde_json::from_slice(&saved.stdout).unwrap();
    assert_eq!(saved["output"]["version"], 3, "{saved}");
    let crashed = home.json_failing(&["deploy", &name, "--force", "--target", "docker", "--json"]);
    let error = crashed["error"].as_str().unwrap();
    assert!(
        error.contains("exited") && error.contains("DATABASE_HOST"),
        "{error}"
    );
    let project_filter = format!(
        "label=apiforge.project={}",
        cleanup.project_label.as_deref().unwrap()
    );
    assert_eq!(
        docker(&["ps", "-aq", "--no-trunc", "--filter", &project_filter]),
        live_container,
        "only the live container is left"
    );
    assert_eq!(home.deployment_of(&name)["version"], 1);
    assert_eq!(home.get(&format!("{route}notes")).unwrap().status, 200);

    // The daemon stops, the container keeps running; the next daemon adopts it.
    let stopped = home.json(&["serve", "stop", "--json"]);
    assert_eq!(stopped["stopped"], true);
    assert_eq!(
        docker(&["inspect", "-f", "{{.State.Running}}", &live_container]),
        "true",
        "the container outlives the daemon"
    );
    // A container of this home whose deployment is no longer live (as a daemon that
    // died mid-swap leaves behind) is swept when the daemon starts.
    let home_label = docker(&[
        "inspect",
        "-f",
        "{{index .Config.Labels \"apiforge.instances\"}}",
        &live_container,
    ]);
    assert!(!home_label.is_empty());
    let image = docker(&["inspect", "-f", "{{.Config.Image}}", &live_container]);
    let stray = docker(&[
        "create",
        "--label",
        &format!("apiforge.instances={home_label}"),
        "--label",
        &format!("apiforge.deployment={}", uuid::Uuid::new_v4()),
        "--label",
        &format!(
            "apiforge.project={}",
            cleanup.project_label.as_deref().unwrap()
        ),
        &image,
        "true",
    ]);
    assert!(!stray.is_empty(), "docker create made a container");
    home.json(&["serve", "start", "--json"]);
    wait_until(
        Duration::from_secs(60),
        "the deployment to be routed again",
        || {
            home.get(&format!("{route}notes"))
                .is_ok_and(|r| r.status == 200)
        },
    );
    let adopted = home.deployment_of(&name);
    assert_eq!(adopted["deployment"], live_deployment.as_str());
    assert_eq!(
        adopted["container"],
        live_container.as_str(),
        "adopted, not replaced"
    );
    assert_eq!(
        containers_of(&live_deployment),
        vec![live_container.clone()]
    );
    assert_eq!(
        docker(&[
            "ps",
            "-aq",
            "--no-trunc",
            "--filter",
            &format!("id={stray}")
        ]),
        "",
        "the stray container was swept"
    );

    let undeployed = home.json(&["undeploy", &name, "--json"]);
    assert_eq!(undeployed["output"]["state"], "stopped", "{undeployed}");
    assert!(
        containers_of(&live_deployment).is_empty(),
        "the container is gone"
    );
    let gone = home.get(&format!("{route}notes")).unwrap();
    assert_eq!(gone.status, 404);
    assert_eq!(gone.json().unwrap()["title"], "Not deployed");
    let images = docker(&["images", "-q", "--filter", &project_filter]);
    assert_eq!(images.lines().count(), 3, "every version's image is kept");
}

#[test]
fn docker_target_without_an_engine_fails_with_a_fix_and_records_nothing() {
    let home = DeployHome::new();
    home.new_project(
        "fastapi",
        "notes",
        "a notes API: notes with a title and a body",
    );
    let out = home
        .home
        .command()
        .env("APIFORGE_DEPLOY_GATEWAY_ADDR", &home.gateway)
        .env(
            "APIFORGE_SANDBOX_DOCKER_HOST",
            "unix:///nonexistent/docker.sock",
        )
        .args(["deploy", "notes", "--target", "docker", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--target docker needs a Docker engine")
            && stderr.contains("unix:///nonexistent/docker.sock")
            && stderr.contains("sandbox.docker_host"),
        "{stderr}"
    );
    let listed: Value = home.json(&["deployments", "--json"]);
    assert_eq!(listed, json!([]), "no deployment was recorded");
    let jobs = home.json(&["jobs", "--all", "--json"]);
    assert!(
        !jobs.to_string().contains("\"deploy\""),
        "no deploy job was submitted: {jobs}"
    );
}
