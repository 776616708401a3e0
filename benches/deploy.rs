//! Deployments: gateway overhead against hitting the instance directly (p50/p99
//! latency, requests/s), deploy time of a warm-runtime FastAPI version (instance
//! start → healthy → route switched, and with the old instance drained and stopped),
//! and failed requests while versions are swapped under load.
//!
//! `cargo bench --bench deploy` (add `-- --quick` for fewer rounds; `-- --docker`
//! runs every instance as a docker-target container instead of a sandbox). Goals (issue 7):
//! ≤ 0.2 ms added p50, deploy ≤ 2 s, 0 failed requests. Uses the blog template on the
//! runtimes in target/test-runtimes (installed on first use) and the process sandbox;
//! the daemon's job queue and database are not involved (their cost is in the engine
//! bench). Prints figures; asserts nothing.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use apiforge::codegen::Framework;
use apiforge::codegen::project::render_project;
use apiforge::config::{Config, Dirs};
use apiforge::deploy::Platform;
use apiforge::deploy::gateway::Gateway;
use apiforge::deploy::route_table::RouteTable;
use apiforge::deploy::supervisor::{Launch, Supervisor};
use apiforge::deploy::traffic_stats::TrafficStats;
use apiforge::sandbox::http::HttpClient;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const ROUTE: &str = "bench/blog";

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let platform = if std::env::args().any(|a| a == "--docker") {
        Platform::Docker
    } else {
        Platform::Sandbox
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run(quick, platform));
}

async fn run(quick: bool, platform: Platform) {
    let (deploys, samples, load_for) = if quick {
        (3, 300, Duration::from_secs(2))
    } else {
        (7, 2000, Duration::from_secs(5))
    };
    let home = tempfile::tempdir().expect("tempdir");
    let dirs = Dirs::under(home.path());
    let mut config = Config::defaults();
    config.runtimes.dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-runtimes");
    let routes = Arc::new(RouteTable::default());
    let supervisor = Supervisor::open(&config, &dirs, routes.clone())
        .await
        .expect("process sandbox");
    let gateway = Arc::new(Gateway::new(routes, Arc::new(TrafficStats::default())));
    let listener = Gateway::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let stop = CancellationToken::new();
    let serving = tokio::spawn(gateway.serve(listener, stop.clone()));

    let design = apiforge::templates::all()
        .into_iter()
        .find(|t| t.name == "blog")
        .expect("the blog template exists")
        .design;
    let files = render_project(&design, Framework::Fastapi).expect("renders");
    let launch = |deployment| Launch {
        deployment,
        version: 1,
        framework: Framework::Fastapi,
        files: files.clone(),
        env: Default::default(),
        route: ROUTE.to_owned(),
        platform,
    };

    // Warm the runtime (first use installs it) and the page cache.
    let first = Uuid::new_v4();
    supervisor
        .launch(launch(first), &mut |l| eprintln!("{l}"))
        .await
        .expect("the first instance starts");
    supervisor.switch(ROUTE, first).await.expect("switch");

    // `switch` swaps the route at once, then waits for the old instance to drain and
    // stop: "live" is launch (start → healthy), "total" includes the retire.
    let (mut live, mut total) = (Vec::new(), Vec::new());
    for _ in 0..deploys {
        let id = Uuid::new_v4();
        let started = Instant::now();
        supervisor
            .launch(launch(id), &mut |_| {})
            .await
            .expect("instance starts");
        live.push(started.elapsed());
        supervisor.switch(ROUTE, id).await.expect("switch");
        total.push(started.elapsed());
    }
    live.sort();
    total.sort();
    println!(
        "deploy ({platform}, warm FastAPI runtime, blog template): healthy + routable p50 {:.0} ms (max {:.0} ms); incl. draining and stopping the old instance p50 {:.0} ms (max {:.0} ms)  [goal ≤ 2000 ms]",
        ms(quantile(&live, 0.5)),
        ms(quantile(&live, 1.0)),
        ms(quantile(&total, 0.5)),
        ms(quantile(&total, 1.0)),
    );

    // Latency, one request at a time, a fresh connection each (as the CLI client does).
    let socket = supervisor
        .routes()
        .get(ROUTE)
        .expect("routed")
        .socket
        .clone();
    let direct = HttpClient::unix(&socket).require_peer_uid(apiforge::sandbox::sandbox_uid());
    let through = HttpClient::tcp(addr.clone());
    let path = format!("/p/{ROUTE}/health");
    for _ in 0..50 {
        let _ = direct.get("/health").await;
        let _ = through.get(&path).await;
    }
    let (mut d, mut g) = (Vec::new(), Vec::new());
    for _ in 0..samples {
        let t = Instant::now();
        let r = direct.get("/health").await.expect("direct");
        assert_eq!(r.status, 200);
        d.push(t.elapsed());
        let t = Instant::now();
        let r = through.get(&path).await.expect("gateway");
        assert_eq!(r.status, 200);
        g.push(t.elapsed());
    }
    d.sort();
    g.sort();
    println!(
        "GET /health direct (unix socket): p50 {:.3} ms p99 {:.3} ms · through the gateway (tcp): p50 {:.3} ms p99 {:.3} ms · added p50 {:.3} ms  [goal ≤ 0.2 ms]",
        ms(quantile(&d, 0.5)),
        ms(quantile(&d, 0.99)),
        ms(quantile(&g, 0.5)),
        ms(quantile(&g, 0.99)),
        ms(quantile(&g, 0.5).saturating_sub(quantile(&d, 0.5))),
    );

    // Throughput with 8 concurrent clients.
    for (name, client, p) in [
        ("direct", direct.clone(), "/health".to_owned()),
        ("gateway", through.clone(), path.clone()),
    ] {
        let (count, failed) = load(client, p, 8, load_for, None).await;
        #[allow(clippy::cast_precision_loss)]
        let rate = count as f64 / load_for.as_secs_f64();
        println!("{name}: {rate:.0} req/s with 8 clients ({failed} failed)");
    }

    // Failed requests while versions swap under load.
    let swapping = Arc::new(AtomicBool::new(true));
    let loader = tokio::spawn(load(
        through.clone(),
        path.clone(),
        8,
        Duration::from_secs(600),
        Some(swapping.clone()),
    ));
    let swaps = if quick { 3 } else { 10 };
    for _ in 0..swaps {
        let id = Uuid::new_v4();
        supervisor
            .launch(launch(id), &mut |_| {})
            .await
            .expect("instance starts");
        supervisor.switch(ROUTE, id).await.expect("switch");
    }
    swapping.store(false, Ordering::SeqCst);
    let (count, failed) = loader.await.expect("load task");
    println!("swaps under load: {swaps} swaps, {count} requests, {failed} failed  [goal 0]");

    // Stopped one by one: `stop_all` would leave docker-target containers running.
    for hosted in supervisor.hosted() {
        supervisor.stop(hosted.status.deployment).await;
    }
    if platform == Platform::Docker {
        // Deploys keep their images (for fast rollbacks); the bench's own is litter.
        let engine = apiforge::deploy::image::Engine::connect(&config.sandbox)
            .await
            .expect("the engine answered all along");
        let tag = apiforge::deploy::image::image_tag("bench", "blog", 1);
        if let Err(e) = engine.remove_image(&tag).await {
            eprintln!("cannot remove {tag}: {e}");
        }
    }
    stop.cancel();
    let _ = serving.await;
}

/// `clients` tasks sending requests back to back for `duration` (or while `running`):
/// (requests, failed).
async fn load(
    client: HttpClient,
    path: String,
    clients: usize,
    duration: Duration,
    running: Option<Arc<AtomicBool>>,
) -> (u64, u64) {
    let (count, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let deadline = Instant::now() + duration;
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (client, path) = (client.clone(), path.clone());
        let (count, failed, running) = (count.clone(), failed.clone(), running.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline
                && running.as_ref().is_none_or(|r| r.load(Ordering::SeqCst))
            {
                match client.get(&path).await {
                    Ok(r) if r.status == 200 => {}
                    _ => {
                        failed.fetch_add(1, Ordering::SeqCst);
                    }
                }
                count.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    (count.load(Ordering::SeqCst), failed.load(Ordering::SeqCst))
}
