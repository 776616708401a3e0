//! What the reader did not use and what looks misread, computed once beside the
//! design so a front end can warn ("these words were ignored", "this field name looks
//! like a misreading") without parsing the prompt again.

use std::collections::BTreeSet;

use serde::Serialize;

use super::inflection::singular;
use super::text;
use crate::design::ApiDesign;

/// Notes about one reading of a prompt.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DesignNotes {
    /// Content words of the prompt (lower case, in prompt order, each once) that no
    /// resource, field, enum value, list option or the title uses.
    pub ignored_words: Vec<String>,
    /// Fields whose names look like a misreading.
    pub suspicious_fields: Vec<SuspiciousField>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuspiciousField {
    pub resource: String,
    pub field: String,
    pub reason: Suspicion,
}

/// Why a field name looks misread.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Suspicion {
    /// Field names are short noun phrases; more than four words means a clause or a
    /// list was read as one name.
    TooManyWords { words: usize },
    /// An auxiliary, modal, relative word or relation verb inside a name means a
    /// clause was read as a name ("status_that_belong").
    ClauseWord { word: String },
}

impl std::fmt::Display for SuspiciousField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.reason {
            Suspicion::TooManyWords { words } => write!(
                f,
                "field `{}.{}` has {words} words; a field name is usually a short noun phrase",
                self.resource, self.field
            ),
            Suspicion::ClauseWord { word } => write!(
                f,
                "field `{}.{}` contains {word:?}, which belongs to a clause rather than a name",
                self.resource, self.field
            ),
        }
    }
}

/// Closed-class English words: determiners, pronouns, prepositions, conjunctions,
/// auxiliaries and modals, plus request words every prompt uses. They carry
/// structure, not content, so never counting as ignored.
const FUNCTION_WORDS: &[&str] = &[
    "a",
    "an",
    "the",
    "this",
    "that",
    "these",
    "those",
    "each",
    "every",
    "all",
    "any",
    "some",
    "no",
    "both",
    "either",
    "neither",
    "another",
    "other",
    "such",
    "own",
    "my",
    "our",
    "your",
    "his",
    "her",
    "its",
    "their",
    "i",
    "me",
    "we",
    "us",
    "you",
    "he",
    "she",
    "it",
    "they",
    "them",
    "who",
    "whom",
    "whose",
    "which",
    "what",
    "where",
    "when",
    "why",
    "how",
    "whether",
    "of",
    "in",
    "on",
    "at",
    "to",
    "for",
    "with",
    "without",
    "by",
    "from",
    "into",
    "onto",
    "about",
    "as",
    "per",
    "via",
    "between",
    "among",
    "within",
    "under",
    "over",
    "after",
    "before",
    "during",
    "through",
    "up",
    "down",
    "out",
    "off",
    "than",
    "like",
    "and",
    "or",
    "but",
    "nor",
    "so",
    "if",
    "then",
    "also",
    "too",
    "just",
    "only",
    "even",
    "very",
    "really",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "being",
    "am",
    "has",
    "have",
    "had",
    "having",
    "do",
    "does",
    "did",
    "can",
    "could",
    "may",
    "might",
    "must",
    "shall",
    "should",
    "will",
    "would",
    "not",
    "don't",
    "it's",
    "they're",
    "i'm",
    "i'd",
    "i've",
    "we're",
    "let",
    "lets",
    "let's",
    "please",
    "need",
    "needs",
    "want",
    "wants",
    "api",
    "apis",
    "app",
    "backend",
    "service",
    "crud",
    "rest",
    "endpoint",
    "endpoints",
    "build",
    "make",
    "create",
    "design",
    "there",
    "here",
    "oh",
    "hey",
    "hi",
    "thanks",
    "yes",
    "etc",
    "e.g",
    "eg",
    "ok",
    "okay",
    "one",
    "two",
    "many",
    "much",
    "more",
    "most",
    "few",
    "lot",
    "lots",
    "plus",
    "well",
];

/// Words that mark a clause; inside a field name they mean a clause was swallowed.
const CLAUSE_WORDS: &[&str] = &[
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "being",
    "can",
    "could",
    "may",
    "might",
    "must",
    "should",
    "will",
    "would",
    "shall",
    "does",
    "do",
    "did",
    "has",
    "have",
    "had",
    "that",
    "which",
    "who",
    "whom",
    "whose",
    "whether",
    "belong",
    "belongs",
    "belonging",
    "assigned",
    "linked",
    "linking",
    "link",
    "links",
    "contain",
    "contains",
    "owned",
];

/// Notes for `design`, read from `prompt` (the text the person wrote).
pub fn notes(prompt: &str, design: &ApiDesign) -> DesignNotes {
    DesignNotes {
        ignored_words: ignored_words(prompt, design),
        suspicious_fields: suspicious_fields(design),
    }
}

/// Every name part the design uses, singular and as written.
fn used_words(design: &ApiDesign) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    let mut add = |name: &str| {
        for part in name.split('_').filter(|p| !p.is_empty()) {
            used.insert(part.to_owned());
            used.insert(singular(part));
        }
    };
    for w in design.title.to_lowercase().split_whitespace() {
        add(w);
    }
    for r in &design.resources {
        add(&r.name);
        add(&r.plural);
        for f in &r.fields {
            add(&f.name);
            f.enum_values.iter().for_each(|v| add(v));
            if let Some(u) = &f.unit {
                u.split_whitespace().for_each(&mut add);
            }
        }
        for rel in &r.relations {
            add(&rel.field);
        }
    }
    for a in &design.actions {
        add(&a.name);
    }
    used
}

fn ignored_words(prompt: &str, design: &ApiDesign) -> Vec<String> {
    let (text, _) = text::normalise(prompt);
    let used = used_words(design);
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for w in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '\'' || c == '-')) {
        let w = w.trim_matches(|c| c == '\'' || c == '-');
        let is_content = w.len() > 1
            && w.bytes().any(|b| b.is_ascii_alphabetic())
            && !w.bytes().all(|b| b.is_ascii_digit())
            && !FUNCTION_WORDS.contains(&w);
        if !is_content || !seen.insert(w.to_owned()) {
            continue;
        }
        let parts: Vec<String> = text::snake(w)
            .split('_')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        let covered = !parts.is_empty()
            && parts
                .iter()
                .all(|p| used.contains(p) || used.contains(&singular(p)));
        if !covered {
            out.push(w.to_owned());
        }
    }
    out
}

fn suspicious_fields(design: &ApiDesign) -> Vec<SuspiciousField> {
    let mut out = Vec::new();
    for r in &design.resources {
        for f in &r.fields {
            let parts: Vec<&str> = f.name.split('_').filter(|p| !p.is_empty()).collect();
            let reason = if parts.len() > 4 {
                Some(Suspicion::TooManyWords { words: parts.len() })
            } else {
                parts
                    .iter()
                    .find(|p| CLAUSE_WORDS.contains(p))
                    .map(|w| Suspicion::ClauseWord {
                        word: (*w).to_owned(),
                    })
            };
            if let Some(reason) = reason {
                out.push(SuspiciousField {
                    resource: r.name.clone(),
                    field: f.name.clone(),
                    reason,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::design::{Field, FieldType, Resource};

    fn design() -> ApiDesign {
        let mut d = ApiDesign::new("Garden API");
        let mut r = Resource::new("plant", "plants");
        r.fields.push(Field::new("common_name", FieldType::String));
        r.fields
            .push(Field::new("height_that_belong_to", FieldType::String));
        r.fields.push(Field::new(
            "watered_on_monday_and_friday",
            FieldType::String,
        ));
        d.resources.push(r);
        d
    }

    #[test]
    fn words_no_part_of_the_design_uses_are_ignored_words() {
        let notes = notes(
            "A garden API: plants with a common name, please, and a 🌱 sprinkler schedule",
            &design(),
        );
        assert_eq!(notes.ignored_words, ["sprinkler", "schedule"]);
    }

    #[test]
    fn long_names_and_clause_words_are_suspicious() {
        let notes = notes("plants", &design());
        let got: Vec<(&str, &Suspicion)> = notes
            .suspicious_fields
            .iter()
            .map(|s| (s.field.as_str(), &s.reason))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "height_that_belong_to",
                    &Suspicion::ClauseWord {
                        word: "that".into()
                    }
                ),
                (
                    "watered_on_monday_and_friday",
                    &Suspicion::TooManyWords { words: 5 }
                ),
            ]
        );
        assert!(notes.suspicious_fields[1].to_string().contains("5 words"));
    }
}
