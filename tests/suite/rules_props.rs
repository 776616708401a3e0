//! Property tests: the rules provider and `validate` never panic, whatever the input,
//! and every design the provider returns validates.

use apiforge::design::{ApiDesign, validate};
use apiforge::provider::rules::RulesProvider;
use proptest::prelude::*;

/// Words prompts are made of, so generated prompts reach deep into the parser.
const VOCAB: &[&str] = &[
    "books",
    "book",
    "with",
    "has",
    "have",
    "a",
    "an",
    "the",
    "title",
    "author",
    "price",
    "(",
    ")",
    ",",
    ".",
    ";",
    ":",
    "and",
    "or",
    "belong",
    "belongs",
    "to",
    "each",
    "status",
    "open/closed",
    "low",
    "high",
    "1-5",
    "between",
    "0",
    "100",
    "filter",
    "search",
    "sort",
    "by",
    "per",
    "page",
    "50",
    "unique",
    "optional",
    "required",
    "in",
    "kg",
    "for",
    "linking",
    "between",
    "users",
    "comments",
    "posts",
    "api",
    "key",
    "jwt",
    "secured",
    "logged-in",
    "add",
    "remove",
    "rename",
    "make",
    "let",
    "me",
    "field",
    "resource",
    "as",
    "their",
    "own",
    "that",
    "id",
    "class",
    "default",
    "flag",
    "is",
    "active",
    "date",
    "at",
    "many",
    "people",
    "categories",
    "status",
    "which",
    "can",
    "be",
    "one",
    "of",
    "/",
    "-",
    "e-mail",
    "é",
    "\n",
    "orders",
    "items",
    "invoice",
    "lines",
    "created_at",
    "limit",
    "q",
    "json",
    "as",
    "decimal",
    "max",
    "200",
    "chars",
    "from",
    "up",
    "read-only",
    "public",
    "no",
    "auth",
    "x",
    "y",
    "z",
];

fn prompt_from_vocab() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(VOCAB), 0..60).prop_map(|ws| ws.join(" "))
}

fn base() -> ApiDesign {
    RulesProvider::new()
        .design("Shop: products (name, price, notes), orders (status pending/paid, total) and customers (name, email). Orders belong to customers.")
        .expect("the base prompt designs")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn design_never_panics_on_any_text(prompt in "\\PC{0,400}") {
        if let Ok(d) = RulesProvider::new().design(&prompt) {
            prop_assert!(validate(&d).is_ok(), "{}", d.to_json_pretty());
        }
    }

    #[test]
    fn design_never_panics_on_prompt_like_text(prompt in prompt_from_vocab()) {
        if let Ok(d) = RulesProvider::new().design(&prompt) {
            prop_assert!(validate(&d).is_ok(), "{prompt:?}\n{}", validate(&d).err().map(|e| e.to_string()).unwrap_or_default());
        }
    }

    #[test]
    fn apply_never_panics_and_results_validate(followup in prompt_from_vocab()) {
        let b = base();
        if let Ok(d) = RulesProvider::new().apply(&b, &followup) {
            prop_assert!(validate(&d).is_ok(), "{followup:?}\n{}", validate(&d).err().map(|e| e.to_string()).unwrap_or_default());
        }
    }

    #[test]
    fn apply_never_panics_on_any_text(followup in "\\PC{0,200}") {
        let b = base();
        if let Ok(d) = RulesProvider::new().apply(&b, &followup) {
            prop_assert!(validate(&d).is_ok());
        }
    }
}
