//! Every example prompt in ../shared/prompts/examples.jsonl (follow-ups included)
//! yields a design containing what the file expects.

use apiforge::design::{ApiDesign, validate};
use apiforge::provider::rules::RulesProvider;
use serde_json::Value;

const EXAMPLES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/prompts/examples.jsonl"
);

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Every difference between `design` and what `example` expects.
fn mismatches(design: &ApiDesign, example: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(resources) = example["resources"].as_object() {
        for (name, fields) in resources {
            let Some(r) = design.resource(name) else {
                out.push(format!("missing resource `{name}`"));
                continue;
            };
            for f in strings(fields) {
                if r.field(&f).is_none() {
                    out.push(format!("resource `{name}` lacks field `{f}`"));
                }
            }
        }
    }
    if let Some(enums) = example["enums"].as_object() {
        for (path, values) in enums {
            let (res, field) = path.split_once('.').unwrap_or((path, ""));
            let got = design
                .resource(res)
                .and_then(|r| r.field(field))
                .map(|f| f.enum_values.clone());
            match got {
                Some(got) => {
                    for v in strings(values) {
                        if !got.contains(&v) {
                            out.push(format!("enum `{path}` lacks value {v:?} (has {got:?})"));
                        }
                    }
                }
                None => out.push(format!("missing enum field `{path}`")),
            }
        }
    }
    if let Some(relations) = example["relations"].as_array() {
        for pair in relations {
            let p = strings(pair);
            let [child, parent] = p.as_slice() else {
                out.push(format!("malformed relation {pair}"));
                continue;
            };
            let ok = design
                .resource(child)
                .is_some_and(|r| r.relation_to(parent).is_some());
            if !ok {
                out.push(format!("`{child}` does not belong to `{parent}`"));
            }
        }
    }
    if let Some(filters) = example["filters"].as_object() {
        for (res, fields) in filters {
            let list = design.resource(res).and_then(|r| r.operations.list.clone());
            let Some(list) = list else {
                out.push(format!("`{res}` has no list operation"));
                continue;
            };
            for f in strings(fields) {
                if !list.filters.contains(&f) && !list.search.contains(&f) {
                    out.push(format!("`{res}` list cannot filter or search by `{f}`"));
                }
            }
        }
    }
    out
}

#[test]
fn every_example_prompt_yields_the_expected_design() {
    let text =
        std::fs::read_to_string(EXAMPLES).unwrap_or_else(|e| panic!("cannot read {EXAMPLES}: {e}"));
    let provider = RulesProvider::new();
    let mut failures = Vec::new();
    let mut count = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let example: Value = serde_json::from_str(line).expect("examples.jsonl holds JSON lines");
        let id = example["id"].as_str().unwrap_or("?").to_owned();
        let prompt = example["prompt"]
            .as_str()
            .expect("every example has a prompt");
        let mut design = match provider.design(prompt) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{id}: {e}"));
                continue;
            }
        };
        for followup in strings(&example["followups"]) {
            match provider.apply(&design, &followup) {
                Ok(d) => design = d,
                Err(e) => failures.push(format!("{id}: follow-up {followup:?}: {e}")),
            }
        }
        if let Err(e) = validate(&design) {
            failures.push(format!("{id}: invalid design: {e}"));
        }
        for m in mismatches(&design, &example) {
            failures.push(format!("{id}: {m}"));
        }
        count += 1;
    }
    assert!(count >= 10, "expected at least 10 examples, read {count}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_mismatch_check_itself_catches_a_wrong_design() {
    // Guards against a checker that accepts everything.
    let provider = RulesProvider::new();
    let design = provider
        .design("Books with title")
        .expect("a simple prompt works");
    let example: Value = serde_json::json!({
        "resources": {"book": ["title", "isbn"], "author": []},
        "enums": {"book.genre": ["a"]},
        "relations": [["book", "author"]],
        "filters": {"book": ["title", "price"]}
    });
    let found = mismatches(&design, &example);
    assert_eq!(found.len(), 5, "{found:#?}");
}
