//! `apiforge check` of a generated 3-resource FastAPI project (the blog template) on
//! warm runtimes, end to end (load, workspace, pytest, server start, contract tests,
//! clean-up), and contract-test throughput against that project's running server.
//!
//! `cargo bench --bench verify` (add `-- --quick` for fewer rounds). Goal (issue 4):
//! check ≤ 5 s. Installs the runtimes into target/test-runtimes on first use. Prints
//! figures; asserts nothing.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use apiforge::codegen::Framework;
use apiforge::codegen::project::render_project;
use apiforge::config::{Config, RuntimesConfig};
use apiforge::runtimes::{RuntimeKind, Runtimes};
use apiforge::sandbox::{Backend, Exec, Limits, Sandbox, WorkspaceSource};
use apiforge::verify::contract;
use apiforge::verify::project::{self, CheckSettings, PreparedRuntime, Project};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let rounds = if quick { 3 } else { 7 };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run(rounds));
}

async fn run(rounds: usize) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-runtimes");
    let config = RuntimesConfig {
        dir: PathBuf::new(),
        python: PathBuf::from("/usr/bin/python3"),
        node: PathBuf::from("/usr/bin/node"),
        pip_index_url: String::new(),
        npm_registry: String::new(),
    };
    let status = Runtimes::at(root, &config)
        .install(RuntimeKind::Python, &mut |l| {
            eprintln!("python runtime: {l}")
        })
        .expect("the Python runtime installs");
    let prepared = PreparedRuntime::Python {
        venv: status.dir,
        python: status.interpreter,
    };
    let design = apiforge::templates::all()
        .into_iter()
        .find(|t| t.name == "blog")
        .expect("the blog template exists")
        .design;
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in render_project(&design, Framework::Fastapi).expect("renders") {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    let ws_root = tempfile::tempdir().expect("tempdir");
    let sandbox = Sandbox::open(
        Backend::Process,
        &Config::defaults().sandbox,
        ws_root.path().to_path_buf(),
    )
    .await
    .expect("process sandbox");
    let limits = Limits {
        wall: Duration::from_secs(120),
        ..Limits::default()
    };

    let mut totals = Vec::new();
    let mut phases = Vec::new();
    for _ in 0..rounds {
        let started = Instant::now();
        let project = Project::load(dir.path()).expect("loads");
        let run = project::check(&sandbox, &project, &prepared, CheckSettings::new(limits))
            .await
            .expect("check runs");
        assert!(run.report.passed(), "{}", run.report.render_text());
        let t = run.report.timings;
        run.workspace.remove().await.expect("removed");
        totals.push(started.elapsed());
        phases.push(t);
    }
    let pick =
        |f: fn(&apiforge::verify::Timings) -> Duration| median(phases.iter().map(f).collect());
    println!(
        "check, blog (3 resources, FastAPI), process sandbox: n={rounds} median {:.2} s (native {:.2} s, server start {:.2} s, contract {:.2} s); goal <= 5 s",
        median(totals).as_secs_f64(),
        pick(|t| t.native).as_secs_f64(),
        pick(|t| t.startup).as_secs_f64(),
        pick(|t| t.contract).as_secs_f64(),
    );

    // Throughput: the contract suite against one running server, repeatedly.
    let project = Project::load(dir.path()).expect("loads");
    let workspace = sandbox
        .prepare(WorkspaceSource::CopyOf(dir.path()), &limits)
        .await
        .expect("workspace");
    let credentials = project.credentials();
    let mut exec: Exec = prepared
        .server_exec()
        .env("APIFORGE_DB", "/workspace/bench.db")
        .limits(limits);
    if let Some(c) = &credentials {
        let (var, value) = c.server_env();
        exec = exec.env(var, value);
    }
    let mut server = sandbox
        .start(&workspace, &exec, |_| {})
        .await
        .expect("server starts");
    server
        .wait_healthy(Duration::from_secs(30))
        .await
        .expect("healthy");
    let client = server.client();
    let mut requests = 0usize;
    let started = Instant::now();
    for _ in 0..rounds {
        let checks = contract::run(&client, &project.spec, credentials.as_ref())
            .await
            .expect("contract runs");
        requests += checks.len();
    }
    let elapsed = started.elapsed();
    println!(
        "contract tests against the blog server: {requests} requests in {:.2} s = {:.0} requests/s",
        elapsed.as_secs_f64(),
        requests as f64 / elapsed.as_secs_f64()
    );
    let _ = server.stop().await;
    workspace.remove().await.expect("removed");
}
