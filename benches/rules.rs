//! Timing of the rules provider: p50/p99 design time for a 1-, an 8- and a
//! 20-resource prompt and for a 2,000-character prompt (the TUI reads on every
//! keystroke), median and p95 per example prompt, and `validate` on a ten-resource
//! design. Run with `cargo bench --bench rules`; prints the figures.

use std::hint::black_box;
use std::time::{Duration, Instant};

use apiforge::design::validate;
use apiforge::provider::rules::RulesProvider;

const EXAMPLES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/prompts/examples.jsonl"
);

const TEN_RESOURCES: &str = "School API: teachers (name, email unique, hired on), classrooms (number, capacity, building), subjects (name unique, level (basic, advanced)), lessons (starts at, ends at, topic) for a classroom, students (name, birth date, email), grades (value between 1 and 6, note) for a student, parents (name, phone), clubs (name, budget in eur), events (title, starts at, location), rooms (name, floor). Lessons belong to teachers and subjects. Students belong to parents. Events belong to clubs. Filter students by parent, search teachers by name, sort events by starts at.";

const ONE_RESOURCE: &str = "A plant diary API: plants with a common name, latin name, date planted, pot size in cm, whether it needs full sun, and a watering schedule (daily, weekly, monthly). Search plants by common name.";

const EIGHT_RESOURCES: &str = "Community sports club API. Members have a name, email (unique), date of birth, phone and membership type (junior, adult, senior). Coaches have a name, a qualification level and whether they are first-aid certified. Teams for a sport have a name and an age group; each team is coached by a coach. Sports have a name. Training sessions for a team: starts at, duration in minutes, pitch number and notes. Fixtures between two teams with a kick-off time, venue and status (scheduled, played, postponed). Results for a fixture: home goals, away goals, report. Subscriptions belong to a member and have an amount in EUR, paid on and whether they are paid. Filter fixtures by status and sort sessions by starts at.";

const TWENTY_RESOURCES: &str = "City hospital API.
- departments: name, floor, phone extension
- wards: name, bed count; a ward belongs to a department
- beds: bed number, status (free, occupied, cleaning); each bed is in a ward
- doctors: name, specialty, licence number (unique), email
- nurses: name, grade, shift (day, night)
- patients: name, date of birth, nhs number (unique), phone, address
- admissions: admitted at, discharged at, reason; an admission is for a patient and a bed
- appointments: starts at, duration in minutes, status (booked, attended, missed, cancelled); for a patient with a doctor
- prescriptions: dosage, frequency, start date, end date; written by a doctor for a patient
- medications: name, form (tablet, liquid, injection), strength in mg
- allergies: substance, severity (mild, moderate, severe); for a patient
- lab orders: ordered at, priority (routine, urgent); for a patient
- lab results: value, unit, flagged (yes/no); each lab result belongs to a lab order
- invoices: total in GBP, issued on, paid (yes/no); for a patient
- invoice lines: description, quantity, unit price; invoice lines belong to an invoice
- suppliers: name, contact email
- stock items: name, quantity on hand, reorder level; supplied by a supplier
- rooms: number, kind (theatre, consulting, imaging)
- surgeries: scheduled at, procedure, duration in minutes; in a room with a doctor for a patient
- visitors: name, visited at, relationship; visiting a patient
Filter appointments by status, search patients by name, sort admissions by admitted at, paginate invoices.";

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

/// p50 and p99 of `provider.design(prompt)`, with the resource count it found.
fn sized(provider: &RulesProvider, label: &str, prompt: &str, iterations: usize) {
    let resources = match provider.design(prompt) {
        Ok(d) => d.resources.len(),
        Err(e) => {
            eprintln!("the {label} prompt failed: {e}");
            std::process::exit(1);
        }
    };
    for _ in 0..iterations / 10 {
        black_box(provider.design(black_box(prompt)).ok());
    }
    let mut samples: Vec<Duration> = (0..iterations)
        .map(|_| {
            let start = Instant::now();
            black_box(provider.design(black_box(prompt)).ok());
            start.elapsed()
        })
        .collect();
    samples.sort();
    println!(
        "  {label:<28} {:>5} chars {resources:>3} resources  p50 {:>7.3} ms  p99 {:>7.3} ms",
        prompt.chars().count(),
        ms(percentile(&samples, 0.5)),
        ms(percentile(&samples, 0.99))
    );
}

fn main() {
    let provider = RulesProvider::new();
    println!("rules provider, design time by prompt size (1000 runs each):");
    sized(&provider, "1-resource prompt", ONE_RESOURCE, 1000);
    sized(&provider, "8-resource prompt", EIGHT_RESOURCES, 1000);
    sized(&provider, "20-resource prompt", TWENTY_RESOURCES, 1000);
    // The TUI reads on every keystroke, up to a long pasted description.
    let long: String = format!("{TWENTY_RESOURCES}\n{EIGHT_RESOURCES}")
        .chars()
        .take(2000)
        .collect();
    sized(&provider, "2,000-character prompt", &long, 1000);

    let text = std::fs::read_to_string(EXAMPLES).unwrap_or_else(|e| {
        eprintln!("cannot read {EXAMPLES}: {e}");
        std::process::exit(2);
    });
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
