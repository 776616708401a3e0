//! Timing of the rules provider over every example prompt (median and p95 per
//! prompt) and of `validate` on a ten-resource design. Run with
//! `cargo bench --bench rules`; prints the figures.

use std::hint::black_box;
use std::time::{Duration, Instant};

use apiforge::design::validate;
use apiforge::provider::rules::RulesProvider;

const EXAMPLES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/prompts/examples.jsonl"
);

const TEN_RESOURCES: &str = "School API: teachers (name, email unique, hired on), classrooms (number, capacity, building), subjects (name unique, level (basic, advanced)), lessons (starts at, ends at, topic) for a classroom, students (name, birth date, email), grades (value between 1 and 6, note) for a student, parents (name, phone), clubs (name, budget in eur), events (title, starts at, location), rooms (name, floor). Lessons belong to teachers and subjects. Students belong to parents. Events belong to clubs. Filter students by parent, search teachers by name, sort events by starts at.";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn time<F: FnMut()>(iterations: usize, mut f: F) -> (Duration, Duration) {
    for _ in 0..iterations / 10 {
        f();
    }
    let mut samples: Vec<Duration> = (0..iterations)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    samples.sort();
    (percentile(&samples, 0.5), percentile(&samples, 0.95))
}

fn main() {
    let text = std::fs::read_to_string(EXAMPLES).unwrap_or_else(|e| {
        eprintln!("cannot read {EXAMPLES}: {e}");
        std::process::exit(2);
    });
    let provider = RulesProvider::new();
    let iterations = 300;
    println!("rules provider, {iterations} runs per prompt (median / p95):");
    let mut worst = Duration::ZERO;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let example: serde_json::Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("skipping a malformed line: {e}");
                continue;
            }
        };
        let id = example["id"].as_str().unwrap_or("?");
        let prompt = example["prompt"].as_str().unwrap_or("");
        let (median, p95) = time(iterations, || {
            black_box(provider.design(black_box(prompt)).ok());
        });
        worst = worst.max(p95);
        println!("  {id:<14} {:>9.3} ms  {:>9.3} ms", ms(median), ms(p95));
        if let Some(followups) = example["followups"].as_array() {
            let Ok(base) = provider.design(prompt) else {
                continue;
            };
            for f in followups.iter().filter_map(|f| f.as_str()) {
                let (median, p95) = time(iterations, || {
                    black_box(provider.apply(&base, black_box(f)).ok());
                });
                worst = worst.max(p95);
                println!(
                    "    follow-up {:<40.40} {:>9.3} ms  {:>9.3} ms",
                    f,
                    ms(median),
                    ms(p95)
                );
            }
        }
    }
    println!("  worst p95: {:.3} ms (goal ≤ 5 ms)", ms(worst));

    let (median, p95) = time(iterations, || {
        black_box(provider.design(black_box(TEN_RESOURCES)).ok());
    });
    println!(
        "rules provider, ten-resource prompt: {:.3} ms median, {:.3} ms p95",
        ms(median),
        ms(p95)
    );

    let design = match provider.design(TEN_RESOURCES) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("the ten-resource prompt failed: {e}");
            std::process::exit(1);
        }
    };
    println!("  ({} resources)", design.resources.len());
    let (median, p95) = time(3000, || {
        black_box(validate(black_box(&design)).ok());
    });
    println!(
        "validate, {}-resource design: {:.1} µs median, {:.1} µs p95",
        design.resources.len(),
        us(median),
        us(p95)
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
