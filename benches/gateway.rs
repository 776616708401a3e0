//! The gateway against nginx, side by side in one run: both proxy the same upstream (a
//! small HTTP server on a Unix socket, running as the sandbox user as instances do),
//! and the same load client drives each in turn over keep-alive connections.
//!
//! `cargo bench --bench gateway` (add `-- --quick` for shorter rounds). Needs nginx
//! (Debian's `nginx-light`). Prints requests/s and p99 per proxy for 1 and 32
//! connections and the gateway/nginx ratios; goals (issue 17): throughput ≥ 0.8× nginx,
//! p99 ≤ 1.2× nginx. Asserts nothing.
//!
//! The upstream, the gateway and nginx each run in their own process, so the load client
//! in this process does not share a runtime with the proxy it measures:
//! `--upstream SOCKET` and `--gateway SOCKET` are this binary's child modes.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use apiforge::deploy::gateway::Gateway;
use apiforge::deploy::route_table::{RouteTable, Upstream};
use apiforge::deploy::traffic_stats::TrafficStats;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio_util::sync::CancellationToken;

const ROUTE: &str = "bench/fast";
const BODY: &[u8] = br#"{"id":1,"title":"a small JSON answer, as an API gives","done":false}"#;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    if let Some(i) = args.iter().position(|a| a == "--upstream") {
        runtime.block_on(upstream(PathBuf::from(&args[i + 1])));
    } else if let Some(i) = args.iter().position(|a| a == "--gateway") {
        runtime.block_on(gateway(PathBuf::from(&args[i + 1])));
    } else {
        let quick = args.iter().any(|a| a == "--quick");
        runtime.block_on(compare(quick));
    }
}

/// A fast upstream: answers every request with the same small JSON body.
async fn upstream(socket: PathBuf) {
    if nix::unistd::Uid::effective().is_root() {
        let uid = apiforge::sandbox::sandbox_uid();
        nix::unistd::setgid(nix::unistd::Gid::from_raw(uid)).expect("setgid");
        nix::unistd::setuid(nix::unistd::Uid::from_raw(uid)).expect("setuid");
    }
    let listener = tokio::net::UnixListener::bind(&socket).expect("bind the upstream socket");
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(async move {
            let service = hyper::service::service_fn(|_request| async {
                let response = http::Response::builder()
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from_static(BODY)))
                    .expect("response");
                Ok::<_, std::convert::Infallible>(response)
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The gateway with one route to `socket`; prints its port, serves until stdin closes.
async fn gateway(socket: PathBuf) {
    let routes = Arc::new(RouteTable::default());
    routes.swap(
        ROUTE,
        Arc::new(Upstream::new(uuid::Uuid::new_v4(), 1, socket)),
    );
    let gateway = Arc::new(Gateway::new(routes, Arc::new(TrafficStats::default())));
    let listener = Gateway::bind("127.0.0.1:0").await.expect("bind");
    println!("{}", listener.local_addr().expect("addr").port());
    let stop = CancellationToken::new();
    let stopper = stop.clone();
    std::thread::spawn(move || {
        let _ = std::io::stdin().read_line(&mut String::new());
        stopper.cancel();
    });
    gateway.serve(listener, stop).await.expect("gateway serves");
}

struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

async fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ready() {
        assert!(Instant::now() < deadline, "{what} did not come up in 10 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn nginx_config(dir: &Path, port: u16, socket: &Path) -> PathBuf {
    let conf = dir.join("nginx.conf");
    let text = format!(
        "daemon off;
user root;
worker_processes auto;
pid {dir}/nginx.pid;
error_log {dir}/error.log error;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    # nginx closes a client connection after 1,000 requests by default; the gateway
    # does not, and a closed connection would end that client's round early.
    keepalive_requests 10000000;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    upstream api {{ server unix:{socket}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{port};
        location /p/{ROUTE}/ {{
            proxy_pass http://api/;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            proxy_set_header Host $host;
        }}
    }}
}}
",
        dir = dir.display(),
        socket = socket.display(),
    );
    std::fs::write(&conf, text).expect("write nginx.conf");
    conf
}

struct Round {
    requests: u64,
    elapsed: Duration,
    p99: Duration,
    failed: u64,
}

impl Round {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
}

/// `connections` keep-alive connections, each sending requests one after another for
/// `duration`.
async fn load(port: u16, connections: usize, duration: Duration) -> Round {
    let path = format!("/p/{ROUTE}/items/1");
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let path = path.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failed = 0u64;
            let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .expect("connect");
            stream.set_nodelay(true).expect("nodelay");
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream))
                    .await
                    .expect("handshake");
            tokio::spawn(connection);
            let end = Instant::now() + duration;
            while Instant::now() < end {
                let request = http::Request::get(path.as_str())
                    .header("host", "127.0.0.1")
                    .body(http_body_util::Empty::<Bytes>::new())
                    .expect("request");
                let t = Instant::now();
                match sender.send_request(request).await {
                    Ok(response) => {
                        let ok = response.status() == 200;
                        let body = response.into_body().collect().await;
                        if ok && body.is_ok() {
                            latencies.push(t.elapsed());
                        } else {
                            failed += 1;
                        }
                    }
                    Err(_) => {
                        failed += 1;
                        break;
                    }
                }
            }
            (latencies, failed)
        }));
    }
    let mut all = Vec::new();
    let mut failed = 0;
    for task in tasks {
        let (latencies, f) = task.await.expect("load task");
        all.extend(latencies);
        failed += f;
    }
    let elapsed = started.elapsed();
    all.sort();
    let p99 = all
        .get(((all.len() as f64 - 1.0) * 0.99).round() as usize)
        .copied()
        .unwrap_or_default();
    Round {
        requests: all.len() as u64,
        elapsed,
        p99,
        failed,
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

async fn compare(quick: bool) {
    let nginx = Path::new("/usr/sbin/nginx");
    if !nginx.exists() {
        eprintln!("nginx is not installed: apt-get install nginx-light");
        std::process::exit(2);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    // The upstream drops to the sandbox user: it must be able to create its socket.
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .expect("chmod");
    let socket = dir.path().join("upstream.sock");
    let me = std::env::current_exe().expect("current exe");
    let mut children = Children(Vec::new());

    children.0.push(
        Command::new(&me)
            .arg("--upstream")
            .arg(&socket)
            .spawn()
            .expect("start the upstream"),
    );
    wait_for("the upstream", || socket.exists()).await;

    let mut gateway = Command::new(&me)
        .arg("--gateway")
        .arg(&socket)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the gateway");
    let mut line = String::new();
    std::io::BufReader::new(gateway.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the gateway's port");
    let gateway_port: u16 = line.trim().parse().expect("a port");
    children.0.push(gateway);

    let nginx_port = free_port();
    let conf = nginx_config(dir.path(), nginx_port, &socket);
    children.0.push(
        Command::new(nginx)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf)
            .spawn()
            .expect("start nginx"),
    );
    wait_for("nginx", || {
        std::net::TcpStream::connect(("127.0.0.1", nginx_port)).is_ok()
    })
    .await;

    let (rounds, duration) = if quick {
        (3, Duration::from_secs(1))
    } else {
        (5, Duration::from_secs(3))
    };
    println!(
        "gateway vs nginx {} in front of the same upstream (unix socket, {}-byte JSON), {rounds} alternating rounds of {:?}, medians:",
        nginx_version(nginx),
        BODY.len(),
        duration
    );
    for connections in [1usize, 32] {
        // Warm both (connection pools, page cache).
        load(gateway_port, connections, Duration::from_millis(300)).await;
        load(nginx_port, connections, Duration::from_millis(300)).await;
        let (mut g_rps, mut g_p99, mut n_rps, mut n_p99) = (vec![], vec![], vec![], vec![]);
        let mut failed = 0;
        for _ in 0..rounds {
            let g = load(gateway_port, connections, duration).await;
            let n = load(nginx_port, connections, duration).await;
            failed += g.failed + n.failed;
            g_rps.push(g.per_second());
            g_p99.push(g.p99.as_secs_f64() * 1000.0);
            n_rps.push(n.per_second());
            n_p99.push(n.p99.as_secs_f64() * 1000.0);
        }
        let (g_rps, g_p99, n_rps, n_p99) =
            (median(g_rps), median(g_p99), median(n_rps), median(n_p99));
        println!(
            "  {connections:>2} connection(s): gateway {g_rps:>8.0} req/s p99 {g_p99:.3} ms · nginx {n_rps:>8.0} req/s p99 {n_p99:.3} ms · throughput {:.2}× nginx [goal ≥ 0.8] · p99 {:.2}× nginx [goal ≤ 1.2] · failed {failed}",
            g_rps / n_rps,
            g_p99 / n_p99,
        );
    }
    let _ = std::io::stdout().flush();
}

fn nginx_version(nginx: &Path) -> String {
    Command::new(nginx)
        .arg("-v")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stderr).ok())
        .and_then(|s| s.trim().rsplit('/').next().map(str::to_owned))
        .unwrap_or_default()
}
