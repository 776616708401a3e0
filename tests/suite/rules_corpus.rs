//! Scores the rules provider on the public prompt sets (../shared/prompts/examples.jsonl
//! and corpus.jsonl, follow-ups applied in order) and prints one figure line per set:
//! resources, fields, enum values, relations and filters found out of those expected,
//! resources invented (in the design but not expected) and prompts that failed.
//!
//! The corpus is split deterministically: its first 56 lines are the development set,
//! the last 24 are held out — their prompts and per-prompt results are never printed,
//! only their aggregate figure, so they stay a fair check of how the reader
//! generalises. `APIFORGE_CORPUS_DETAIL=1` prints each mismatch of the example and
//! development sets.
//!
//! Ratchet: tests/fixtures/rules_corpus_floor.json holds the figures reached so far;
//! the test fails when any count falls below its floor (or invented resources or
//! failures rise above theirs). Raise the floor when the reader improves.

use apiforge::design::{ApiDesign, validate};
use apiforge::provider::rules::RulesProvider;
use serde_json::Value;

const PROMPTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/prompts");
const FLOOR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/rules_corpus_floor.json"
);
/// Corpus lines before this index are the development set; the rest are held out.
const DEV_LINES: usize = 56;

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Found / expected counts for one prompt or one set.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Score {
    prompts: usize,
    resources: (usize, usize),
    fields: (usize, usize),
    enums: (usize, usize),
    relations: (usize, usize),
    filters: (usize, usize),
    invented: usize,
    failed: usize,
}

impl Score {
    fn add(&mut self, o: &Score) {
        let sum = |a: &mut (usize, usize), b: (usize, usize)| {
            a.0 += b.0;
            a.1 += b.1;
        };
        self.prompts += o.prompts;
        sum(&mut self.resources, o.resources);
        sum(&mut self.fields, o.fields);
        sum(&mut self.enums, o.enums);
        sum(&mut self.relations, o.relations);
        sum(&mut self.filters, o.filters);
        self.invented += o.invented;
        self.failed += o.failed;
    }

    fn line(&self, set: &str) -> String {
        let pct = |(a, b): (usize, usize)| {
            if b == 0 {
                100.0
            } else {
                a as f64 * 100.0 / b as f64
            }
        };
        let f = |name: &str, v: (usize, usize)| format!("{name} {}/{} {:.1}%", v.0, v.1, pct(v));
        format!(
            "{set:<12} {} prompts · {} · {} · {} · {} · {} · invented {} · failed {}",
            self.prompts,
            f("resources", self.resources),
            f("fields", self.fields),
            f("enums", self.enums),
            f("relations", self.relations),
            f("filters", self.filters),
            self.invented,
            self.failed
        )
    }
}

/// Scores `design` (or its absence) against one expectation; `notes` gets every
/// mismatch in words.
fn score(design: Option<&ApiDesign>, expected: &Value, notes: &mut Vec<String>) -> Score {
    let mut s = Score {
        prompts: 1,
        failed: usize::from(design.is_none()),
        ..Score::default()
    };
    let resources = expected["resources"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for (name, fields) in &resources {
        let fields = strings(fields);
        s.resources.1 += 1;
        s.fields.1 += fields.len();
        let Some(r) = design.and_then(|d| d.resource(name)) else {
            notes.push(format!("missing resource `{name}`"));
            continue;
        };
        s.resources.0 += 1;
        for f in fields {
            let found = r.field(&f).is_some() || r.relations.iter().any(|rel| rel.field == f);
            if found {
                s.fields.0 += 1;
            } else {
                let has: Vec<&str> = r.fields.iter().map(|f| f.name.as_str()).collect();
                notes.push(format!("`{name}` lacks field `{f}` (has {has:?})"));
            }
        }
    }
    for (path, values) in expected["enums"].as_object().into_iter().flatten() {
        let values = strings(values);
        s.enums.1 += values.len();
        let (res, field) = path.split_once('.').unwrap_or((path, ""));
        let got = design
            .and_then(|d| d.resource(res))
            .and_then(|r| r.field(field))
            .map(|f| f.enum_values.clone())
            .unwrap_or_default();
        for v in values {
            if got.contains(&v) {
                s.enums.0 += 1;
            } else {
                notes.push(format!("enum `{path}` lacks {v:?} (has {got:?})"));
            }
        }
    }
    for pair in expected["relations"].as_array().into_iter().flatten() {
        let p = strings(pair);
        let [child, parent] = p.as_slice() else {
            panic!("malformed relation {pair}");
        };
        s.relations.1 += 1;
        let ok = design
            .and_then(|d| d.resource(child))
            .is_some_and(|r| r.relation_to(parent).is_some());
        if ok {
            s.relations.0 += 1;
        } else {
            notes.push(format!("`{child}` does not belong to `{parent}`"));
        }
    }
    for (res, fields) in expected["filters"].as_object().into_iter().flatten() {
        let fields = strings(fields);
        s.filters.1 += fields.len();
        let list = design
            .and_then(|d| d.resource(res))
            .and_then(|r| r.operations.list.clone())
            .unwrap_or_default();
        for f in fields {
            let fk = format!("{f}_id");
            let ok = [&list.filters, &list.search]
                .iter()
                .any(|v| v.contains(&f) || v.contains(&fk));
            if ok {
                s.filters.0 += 1;
            } else {
                notes.push(format!("`{res}` cannot filter or search by `{f}`"));
            }
        }
    }
    if let Some(d) = design {
        for r in &d.resources {
            if !resources.contains_key(&r.name) {
                s.invented += 1;
                let fields: Vec<&str> = r.fields.iter().map(|f| f.name.as_str()).collect();
                notes.push(format!("invented resource `{}` {fields:?}", r.name));
            }
        }
    }
    s
}

/// Runs one expectation line: the prompt, then its follow-ups in order.
fn run(provider: &RulesProvider, expected: &Value, notes: &mut Vec<String>) -> Score {
    let prompt = expected["prompt"]
        .as_str()
        .expect("every line has a prompt");
    let mut design = match provider.design(prompt) {
        Ok(d) => Some(d),
        Err(e) => {
            notes.push(format!("error: {e}"));
            None
        }
    };
    for followup in strings(&expected["followups"]) {
        let Some(base) = &design else { break };
        match provider.apply(base, &followup) {
            Ok(d) => design = Some(d),
            Err(e) => notes.push(format!("follow-up {followup:?}: {e}")),
        }
    }
    if let Some(d) = &design {
        // Every design the provider returns must be valid; this is not a score.
        validate(d).unwrap_or_else(|e| panic!("invalid design for {prompt:?}: {e}"));
    }
    score(design.as_ref(), expected, notes)
}

fn lines(file: &str) -> Vec<Value> {
    let path = format!("{PROMPTS}/{file}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{path}: {e}")))
        .collect()
}

/// Scores a set; per-prompt notes are printed only when `detail` is set.
fn score_set(provider: &RulesProvider, set: &[Value], detail: bool) -> Score {
    let mut total = Score::default();
    for expected in set {
        let mut notes = Vec::new();
        let s = run(provider, expected, &mut notes);
        if detail && !notes.is_empty() {
            let id = expected["id"].as_str().unwrap_or("?");
            println!("--- {id}");
            for n in &notes {
                println!("    {n}");
            }
        }
        total.add(&s);
    }
    total
}

/// Fails when a figure of `got` is worse than its floor; names each one.
fn below_floor(set: &str, got: &Score, floor: &Value) -> Vec<String> {
    let f = &floor[set];
    let mut out = Vec::new();
    for (name, found) in [
        ("resources", got.resources.0),
        ("fields", got.fields.0),
        ("enums", got.enums.0),
        ("relations", got.relations.0),
        ("filters", got.filters.0),
    ] {
        let min = f[name]
            .as_u64()
            .unwrap_or_else(|| panic!("floor lacks {set}.{name}"));
        if (found as u64) < min {
            out.push(format!("{set}: {name} found {found}, floor {min}"));
        }
    }
    for (name, count) in [("invented", got.invented), ("failed", got.failed)] {
        let max = f[name]
            .as_u64()
            .unwrap_or_else(|| panic!("floor lacks {set}.{name}"));
        if count as u64 > max {
            out.push(format!("{set}: {name} {count}, ceiling {max}"));
        }
    }
    out
}

#[test]
fn the_public_prompt_sets_score_at_least_their_floor() {
    let provider = RulesProvider::new();
    let detail = std::env::var_os("APIFORGE_CORPUS_DETAIL").is_some();
    let examples = lines("examples.jsonl");
    let corpus = lines("corpus.jsonl");
    assert!(
        corpus.len() > DEV_LINES,
        "corpus.jsonl has {} lines",
        corpus.len()
    );
    let (dev, held) = corpus.split_at(DEV_LINES);
    let ex = score_set(&provider, &examples, detail);
    let dv = score_set(&provider, dev, detail);
    // Never print per-prompt detail for the held-out set.
    let ho = score_set(&provider, held, false);
    let mut whole = dv;
    whole.add(&ho);
    println!("{}", ex.line("examples"));
    println!("{}", dv.line("corpus-dev"));
    println!("{}", ho.line("corpus-held"));
    println!("{}", whole.line("corpus"));
    let floor: Value = serde_json::from_str(
        &std::fs::read_to_string(FLOOR).unwrap_or_else(|e| panic!("cannot read {FLOOR}: {e}")),
    )
    .expect("the floor file is JSON");
    let mut failures = Vec::new();
    for (set, s) in [("examples", &ex), ("corpus_dev", &dv), ("corpus_held", &ho)] {
        failures.extend(below_floor(set, s, &floor));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_scorer_counts_what_a_design_lacks_and_invents() {
    // Guards against a scorer that accepts everything.
    let design = RulesProvider::new()
        .design("Books with title. Shelves with label.")
        .expect("a simple prompt works");
    let expected = serde_json::json!({
        "resources": {"book": ["title", "isbn"], "author": ["name"]},
        "enums": {"book.genre": ["a", "b"]},
        "relations": [["book", "author"]],
        "filters": {"book": ["isbn"]}
    });
    let mut notes = Vec::new();
    let s = score(Some(&design), &expected, &mut notes);
    assert_eq!(s.resources, (1, 2), "{notes:#?}");
    assert_eq!(s.fields, (1, 3), "{notes:#?}");
    assert_eq!(s.enums, (0, 2), "{notes:#?}");
    assert_eq!(s.relations, (0, 1), "{notes:#?}");
    assert_eq!(s.filters, (0, 1), "{notes:#?}");
    assert_eq!(s.invented, 1, "{notes:#?}");
    assert_eq!(s.failed, 0);
    let none = score(None, &expected, &mut notes);
    assert_eq!(
        (none.failed, none.resources, none.fields),
        (1, (0, 2), (0, 3))
    );
}
