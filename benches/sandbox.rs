//! Sandbox start → exit of `true`, per backend: median and p95 over repeated runs on
//! one prepared workspace (workspace setup is reported separately).
//!
//! `cargo bench --bench sandbox` (add `-- --quick` for fewer rounds). Goals (issue 4):
//! process ≤ 20 ms median, docker ≤ 500 ms. Prints figures; asserts nothing.

use std::time::{Duration, Instant};

use apiforge::config::Config;
use apiforge::sandbox::{Backend, Exec, Limits, Sandbox, WorkspaceSource};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn report(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{label:<34} n={:<4} median {:>8.2} ms   p95 {:>8.2} ms   min {:>8.2} ms",
        samples.len(),
        ms(percentile(&samples, 0.5)),
        ms(percentile(&samples, 0.95)),
        ms(samples[0]),
    );
}

async fn bench(backend: Backend, rounds: usize) {
    let root = tempfile::tempdir().expect("temp dir");
    let config = Config::defaults().sandbox;
    let sandbox = match Sandbox::open(backend, &config, root.path().to_path_buf()).await {
        Ok(s) => s,
        Err(e) => {
            println!("{backend:<10} SKIPPED: {e}");
            return;
        }
    };
    let limits = Limits::default();
    let exec = Exec::new("/bin/true").limits(limits);

    let mut prepare = Vec::new();
    for _ in 0..rounds.min(20) {
        let t = Instant::now();
        let ws = sandbox
            .prepare(WorkspaceSource::Empty, &limits)
            .await
            .expect("workspace");
        prepare.push(t.elapsed());
        ws.remove().await.expect("remove");
    }

    let ws = sandbox
        .prepare(WorkspaceSource::Empty, &limits)
        .await
        .expect("workspace");
    // Warm-up: first docker run may import the image, first process run pays page-ins.
    for _ in 0..3 {
        let outcome = sandbox.run(&ws, &exec, |_| {}).await.expect("run");
        assert!(outcome.success(), "{}", outcome.summary());
    }
    let mut wall = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        let outcome = sandbox.run(&ws, &exec, |_| {}).await.expect("run");
        wall.push(t.elapsed());
        assert!(outcome.success(), "{}", outcome.summary());
    }
    ws.remove().await.expect("remove");
    report(&format!("{backend}: run `true` (start→exit)"), wall);
    report(&format!("{backend}: prepare+remove workspace"), prepare);
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        bench(Backend::Process, if quick { 30 } else { 200 }).await;
        bench(Backend::Docker, if quick { 10 } else { 40 }).await;
    });
}
