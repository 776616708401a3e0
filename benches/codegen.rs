//! Design → every FastAPI file, for a ten-resource design: median and p95 of the
//! render time. `cargo bench --bench codegen`. Goal: p95 ≤ 20 ms.

use std::path::Path;
use std::time::{Duration, Instant};

use apiforge::codegen::fastapi;
use apiforge::design::ApiDesign;

const WARMUP: usize = 5;
const RUNS: usize = 200;

fn main() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fastapi/ten_resources.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("cannot read {}: {e}", path.display());
            std::process::exit(1);
        }
    };
    let design: ApiDesign = match serde_json::from_str(&text) {
        Ok(design) => design,
        Err(e) => {
            eprintln!("{} is not a design: {e}", path.display());
            std::process::exit(1);
        }
    };
    let mut files = 0;
    let mut bytes = 0;
    for _ in 0..WARMUP {
        match fastapi::render(&design) {
            Ok(out) => {
                files = out.len();
                bytes = out.values().map(String::len).sum::<usize>();
            }
            Err(e) => {
                eprintln!("render failed: {e}");
                std::process::exit(1);
            }
        }
    }
    let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        let out = fastapi::render(&design);
        times.push(start.elapsed());
        std::hint::black_box(out.is_ok());
    }
    times.sort();
    let median = times[RUNS / 2];
    let p95 = times[RUNS * 95 / 100];
    println!(
        "fastapi render, 10 resources ({files} files, {bytes} bytes): median {:.2} ms, p95 {:.2} ms over {RUNS} runs",
        median.as_secs_f64() * 1e3,
        p95.as_secs_f64() * 1e3
    );
}
