//! Spec generation and validation for a 10-resource design: median and p95 of
//! `openapi::build`, `to_json` + `to_yaml`, and `spec_check::check`.
//!
//! `cargo bench --bench spec` (or `--profile dev` for a quick, pessimistic figure).

use std::hint::black_box;
use std::time::{Duration, Instant};

use apiforge::codegen::{openapi, spec_check};
use apiforge::design::ApiDesign;

const DESIGN: &str = include_str!("../tests/fixtures/designs/ten_resources.json");

/// Time this thread has spent on a CPU (Linux), so a figure taken on a busy machine
/// is not inflated by waiting for one; `None` elsewhere.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

fn report(name: &str, mut times: Vec<Duration>) {
    if times.is_empty() {
        return;
    }
    times.sort_unstable();
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "{name:<18} runs {:>4}  median {:>8.3} ms  p95 {:>8.3} ms  max {:>8.3} ms",
        times.len(),
        at(0.5).as_secs_f64() * 1e3,
        at(0.95).as_secs_f64() * 1e3,
        at(1.0).as_secs_f64() * 1e3,
    );
}

fn measure(name: &str, runs: usize, mut f: impl FnMut()) {
    // Warm-up: the first check compiles the OpenAPI meta-schema.
    for _ in 0..3 {
        f();
    }
    let mut wall = Vec::with_capacity(runs);
    let cpu_start = cpu_time();
    for _ in 0..runs {
        let start = Instant::now();
        f();
        wall.push(start.elapsed());
    }
    let cpu = cpu_start.zip(cpu_time()).map(|(a, b)| b.saturating_sub(a));
    report(name, wall);
    // The kernel updates a running thread's CPU time only at scheduler ticks, so only
    // the mean over all runs is precise.
    if let Some(cpu) = cpu {
        println!(
            "{name:<18} mean CPU time per run {:>8.3} ms",
            cpu.as_secs_f64() * 1e3 / runs as f64
        );
    }
}

fn main() {
    let design: ApiDesign = match serde_json::from_str(DESIGN) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("the benchmark design does not parse: {e}");
            std::process::exit(1);
        }
    };
    let first = Instant::now();
    let spec = openapi::build(&design);
    let valid = spec_check::check(&spec).is_ok();
    println!(
        "first build + check (includes compiling the meta-schema): {:.3} ms; valid: {valid}",
        first.elapsed().as_secs_f64() * 1e3
    );
    println!(
        "spec size: {} bytes JSON, {} resources",
        openapi::to_json(&spec).len(),
        design.resources.len()
    );
    measure("build", 200, || {
        black_box(openapi::build(black_box(&design)));
    });
    measure("to_json + to_yaml", 200, || {
        black_box(openapi::to_json(black_box(&spec)));
        black_box(openapi::to_yaml(black_box(&spec)));
    });
    measure("check", 100, || {
        black_box(spec_check::check(black_box(&spec)).is_ok());
    });
}
