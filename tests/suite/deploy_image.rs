//! The docker target of a deploy: a version built into an image (bollard, in-memory
//! context, FROM the sandbox's local base image), run as a container with restart
//! policy `unless-stopped` and no network, reached over its Unix socket with real
//! HTTP; killing the server's process makes Docker restart it, data intact.
//!
//! Needs a Docker engine: without one the test prints SKIP, unless `CI` is set (then a
//! missing engine fails it, as in the sandbox tests).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use apiforge::codegen::{Framework, project};
use apiforge::config::Config;
use apiforge::deploy::image::{
    DEPLOY_LABEL, Engine, ImageError, ImageSpec, PROJECT_LABEL, RunSpec, VERSION_LABEL,
};
use apiforge::design::ApiDesign;
use apiforge::runtimes::Runtimes;
use apiforge::sandbox::http::HttpRequest;
use apiforge::sandbox::{Limits, SandboxError};
use apiforge::verify::project::prepare_runtime;
use serde_json::json;

use crate::support;

const START_TIMEOUT: Duration = Duration::from_secs(60);
const SECRET: &str = "deploy-image-secret";

async fn engine() -> Option<Engine> {
    match Engine::connect(&Config::defaults().sandbox).await {
        Ok(engine) => Some(engine),
        Err(e @ ImageError::Sandbox(SandboxError::DockerUnreachable(_))) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but no Docker engine is reachable: {e}"
            );
            eprintln!("SKIP deploy image: {e}");
            None
        }
        Err(e) => panic!("cannot use the Docker engine: {e}"),
    }
}

/// Removes the container and image even when the test fails half-way.
struct Cleanup {
    container: Option<String>,
    image: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(id) = &self.container {
            let _ = std::process::Command::new("docker")
                .args(["rm", "-f", id])
                .output();
        }
        let _ = std::process::Command::new("docker")
            .args(["rmi", "-f", &self.image])
            .output();
    }
}

async fn builds_runs_serves_and_restarts(framework: Framework, fixture: &str) {
    let Some(engine) = engine().await else {
        return;
    };
    let design: ApiDesign = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/designs")
                .join(format!("{fixture}.json")),
        )
        .unwrap(),
    )
    .unwrap();
    let files = project::render_project(&design, framework).unwrap();
    let runtimes = Runtimes::at(support::test_runtimes_dir(), &Config::defaults().runtimes);
    let runtime = tokio::task::spawn_blocking(move || {
        prepare_runtime(&runtimes, framework, &mut |l| eprintln!("runtime: {l}"))
    })
    .await
    .unwrap()
    .expect("the runtime installs (needs a registry the first time)");

    let build_started = Instant::now();
    let project = format!("{}-{}", fixture.replace('_', "-"), std::process::id());
    let built = engine
        .build(&ImageSpec {
            owner: "suite",
            project: &project,
            number: 2,
            framework,
            files: &files,
        })
        .await
        .expect("the image builds");
    let build_took = build_started.elapsed();
    let mut cleanup = Cleanup {
        container: None,
        image: built.tag.clone(),
    };
    assert_eq!(built.tag, format!("apiforge/suite-{project}:v2"));
    let inspected = engine.docker().inspect_image(&built.tag).await.unwrap();
    let config = inspected.config.unwrap();
    let labels = config.labels.unwrap();
    assert_eq!(labels[DEPLOY_LABEL], "1");
    assert_eq!(labels[PROJECT_LABEL], format!("suite/{project}"));
    assert_eq!(labels[VERSION_LABEL], "2");

    let dir = tempfile::tempdir().unwrap();
    let instance_dir = dir.path().join("instance");
    let limits = Limits {
        memory_bytes: 256 * 1024 * 1024,
        pids: 64,
        cpu_time: Duration::from_secs(600),
        wall: Duration::from_secs(600),
        workspace_bytes: 64 * 1024 * 1024,
    };
    let secret = match &design.auth {
        apiforge::design::AuthScheme::ApiKey { header, env_var } => {
            Some((header.clone(), env_var.clone()))
        }
        _ => None,
    };
    let mut spec = RunSpec::new(&built, &runtime, instance_dir.clone(), limits);
    if let Some((_, var)) = &secret {
        spec = spec.env(var, SECRET);
    }
    let instance = engine.run(&spec).await.expect("the container starts");
    cleanup.container = Some(instance.container_id.clone());
    assert_eq!(instance.socket, instance_dir.join("app.sock"));

    let container = engine
        .docker()
        .inspect_container(
            &instance.container_id,
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await
        .unwrap();
    let host = container.host_config.unwrap();
    assert_eq!(host.network_mode.as_deref(), Some("none"));
    assert_eq!(
        host.restart_policy.unwrap().name.unwrap().to_string(),
        "unless-stopped"
    );
    assert_eq!(host.readonly_rootfs, Some(true));
    assert_eq!(host.memory, Some(256 * 1024 * 1024));

    let healthy_after = engine
        .wait_healthy(&instance, START_TIMEOUT)
        .await
        .expect("the instance answers /health");
    let client = instance.client().with_timeout(Duration::from_secs(10));
    let (collection, body) = match fixture {
        "one_resource" => (
            "/books",
            json!({"title": "Dune", "author": "Frank Herbert"}),
        ),
        _ => ("/notes", json!({"title": "remember", "body": "the milk"})),
    };
    let with_auth = |request: HttpRequest| match &secret {
        Some((header, _)) => request.header(header, SECRET),
        None => request,
    };
    if secret.is_some() {
        let refused = client.send(&HttpRequest::get(collection)).await.unwrap();
        assert_eq!(refused.status, 401, "the secret reached the instance");
    }
    let created = client
        .send(&with_auth(HttpRequest::new("POST", collection).json(&body)))
        .await
        .unwrap();
    assert_eq!(created.status, 201, "{}", created.text());
    let id = created.json().unwrap()["id"].as_i64().unwrap();
    let item = format!("{collection}/{id}");
    let fetched = client
        .send(&with_auth(HttpRequest::get(item.as_str())))
        .await
        .unwrap();
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.json().unwrap()["title"], body["title"]);

    // A crash: the server process dies; Docker's restart policy brings it back.
    let before = engine.state(&instance.container_id).await.unwrap();
    assert!(before.running);
    let pid = before.pid.expect("a running container has a PID");
    let killed_at = Instant::now();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        let state = engine.state(&instance.container_id).await.unwrap();
        if state.running && state.restart_count > before.restart_count && state.pid != Some(pid) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Docker did not restart the killed instance: {state:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    engine
        .wait_healthy(&instance, START_TIMEOUT)
        .await
        .expect("the restarted instance answers /health");
    // Figures for the report (`--nocapture`), never assertions.
    eprintln!(
        "figures {framework}: image build {build_took:?}, start to healthy {healthy_after:?}, kill to healthy again {:?}",
        killed_at.elapsed()
    );
    let again = client
        .send(&with_auth(HttpRequest::get(item.as_str())))
        .await
        .unwrap();
    assert_eq!(again.status, 200, "data survives the restart");
    assert_eq!(again.json().unwrap()["title"], body["title"]);

    engine.remove(&instance.container_id).await.unwrap();
    cleanup.container = None;
    engine.remove_image(&built.tag).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fastapi_version_image_serves_and_survives_a_crash() {
    builds_runs_serves_and_restarts(Framework::Fastapi, "one_resource").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_express_version_image_with_a_secret_serves_and_survives_a_crash() {
    builds_runs_serves_and_restarts(Framework::Express, "api_key_auth").await;
}
