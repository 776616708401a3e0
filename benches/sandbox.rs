//! Sandbox start → exit of `true`, per backend: median and p95 over repeated runs on
//! one prepared workspace (workspace setup is reported separately).
//!
//! `cargo bench --bench sandbox` (add `-- --quick` for fewer rounds). Goals (issue 4):
//! process ≤ 20 ms median, docker ≤ 500 ms. Prints figures; asserts nothing.

use std::time::{Duration, Instant};

use apiforge::config::Config;
use apiforge::sandbox::{Backend, Exec, Limits, Sandbox, WorkspaceSource};

/// CPU time of this process and its reaped children (utime+stime+cutime+cstime from
/// /proc/self/stat, in clock ticks of 10 ms): a figure the machine's load cannot
/// inflate, unlike wall time.
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    // Fields after the command: state is field 3; utime..cstime are fields 14..17.
    after
        .split_whitespace()
        .skip(11)
        .take(4)
        .filter_map(|f| f.parse::<u64>().ok())
        .sum()
}

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
    let ticks_before = cpu_ticks();
    for _ in 0..rounds {
        let t = Instant::now();
        let outcome = sandbox.run(&ws, &exec, |_| {}).await.expect("run");
        wall.push(t.elapsed());
        assert!(outcome.success(), "{}", outcome.summary());
    }
    let cpu_ms_per_run = (cpu_ticks() - ticks_before) as f64 * 10.0 / rounds as f64;
    ws.remove().await.expect("remove");
    report(&format!("{backend}: run `true` (start→exit)"), wall);
    println!(
        "{:<34} {cpu_ms_per_run:.2} ms CPU per run (apiforge + sandbox processes; load-independent){}",
        format!("{backend}: CPU cost"),
        if backend == Backend::Docker {
            " — excludes dockerd/containerd/runc"
        } else {
            ""
        }
    );
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
