//! Which content words of a prompt the design does not account for.
//!
//! A word counts as used when one of its forms (singular, plural, a verb form
//! stripped of -ing/-ed) matches a word of a name in the design (resource, field,
//! enum value, unit, relation, list option, action, title), or when it is a grammar
//! word whose meaning the design carries ("unique" with a unique field, "secured"
//! with an auth scheme). Function words and the words every prompt uses ("api",
//! "with", "each") are never reported.

use std::collections::{BTreeSet, HashSet};

use crate::design::{ActionOutput, ApiDesign, AuthScheme, FieldType, OnDelete};
use crate::provider::rules::{plural, singular};

/// Words that carry no design content of their own.
const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "all",
    "also",
    "always",
    "am",
    "an",
    "and",
    "any",
    "api",
    "apis",
    "app",
    "application",
    "are",
    "as",
    "at",
    "backend",
    "basic",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "both",
    "build",
    "but",
    "by",
    "can",
    "could",
    "create",
    "crud",
    "did",
    "do",
    "does",
    "doing",
    "each",
    "either",
    "else",
    "endpoint",
    "endpoints",
    "etc",
    "even",
    "every",
    "everything",
    "few",
    "field",
    "fields",
    "for",
    "from",
    "get",
    "give",
    "go",
    "good",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "him",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "keep",
    "keeps",
    "keeping",
    "kind",
    "kinds",
    "let",
    "lets",
    "like",
    "list",
    "lists",
    "listing",
    "lot",
    "lots",
    "make",
    "manage",
    "manages",
    "managing",
    "many",
    "may",
    "me",
    "might",
    "more",
    "most",
    "much",
    "must",
    "my",
    "need",
    "needs",
    "new",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "one",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "out",
    "over",
    "own",
    "per",
    "please",
    "rest",
    "same",
    "service",
    "she",
    "should",
    "simple",
    "small",
    "so",
    "some",
    "such",
    "support",
    "supports",
    "system",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "then",
    "there",
    "these",
    "they",
    "thing",
    "things",
    "this",
    "those",
    "through",
    "to",
    "too",
    "track",
    "tracks",
    "tracking",
    "under",
    "until",
    "up",
    "us",
    "use",
    "used",
    "user",
    "users",
    "uses",
    "using",
    "very",
    "want",
    "wants",
    "was",
    "way",
    "we",
    "were",
    "what",
    "when",
    "where",
    "whether",
    "which",
    "while",
    "who",
    "whom",
    "whose",
    "why",
    "will",
    "with",
    "within",
    "without",
    "would",
    "you",
    "your",
    "yours",
    "store",
    "stores",
    "storing",
    "stored",
    "hold",
    "holds",
    "record",
    "add",
    "remove",
    "rename",
    "change",
    "delete",
    "drop",
    "make",
    "set",
    "allow",
    "allows",
    "able",
    "contain",
    "contains",
    "include",
    "includes",
    "including",
    "called",
    "named",
    "plus",
    "via",
    "among",
    "everyone",
    "anyone",
    "people",
    "hey",
    "hello",
    "thanks",
    "two",
    "three",
    "four",
    "five",
    "ten",
    "between",
];

/// Grammar words that the design carries only when it has the matching feature.
fn feature_words(design: &ApiDesign) -> Vec<&'static str> {
    let fields = || design.resources.iter().flat_map(|r| r.fields.iter());
    let relations = || design.resources.iter().flat_map(|r| r.relations.iter());
    let lists = || {
        design
            .resources
            .iter()
            .filter_map(|r| r.operations.list.as_ref())
    };
    let has_type = |types: &[FieldType]| fields().any(|f| types.contains(&f.ty));
    let mut words: Vec<&'static str> = Vec::new();
    let mut add = |on: bool, ws: &[&'static str]| {
        if on {
            words.extend_from_slice(ws);
        }
    };
    add(fields().any(|f| f.unique), &["unique", "distinct"]);
    add(
        fields().any(|f| f.required) || relations().any(|r| r.required),
        &["required", "mandatory", "must", "needed"],
    );
    add(
        fields().any(|f| !f.required) || relations().any(|r| !r.required),
        &["optional", "optionally", "maybe"],
    );
    add(
        fields().any(|f| f.default.is_some()),
        &["default", "defaults", "initially"],
    );
    add(
        fields().any(|f| f.min.is_some() || f.max.is_some() || f.min_length.is_some()),
        &[
            "min", "max", "minimum", "maximum", "least", "most", "between", "positive", "negative",
            "zero", "range", "greater", "less", "above", "below", "exceed", "non",
        ],
    );
    add(
        fields().any(|f| f.min_length.is_some() || f.max_length.is_some()),
        &[
            "chars",
            "characters",
            "character",
            "long",
            "length",
            "letters",
        ],
    );
    add(
        fields().any(|f| f.pattern.is_some()),
        &["pattern", "format", "regex", "matching", "matches"],
    );
    add(
        has_type(&[FieldType::String, FieldType::Text]),
        &["text", "string", "short", "free", "description"],
    );
    add(
        has_type(&[FieldType::Integer, FieldType::Number, FieldType::Decimal]),
        &[
            "number", "numeric", "integer", "int", "count", "amount", "decimal", "float", "whole",
            "money",
        ],
    );
    add(
        has_type(&[FieldType::Boolean]),
        &[
            "boolean", "bool", "flag", "whether", "yes", "true", "false", "checkbox",
        ],
    );
    add(
        has_type(&[FieldType::Date, FieldType::DateTime]),
        &["date", "day", "when"],
    );
    add(
        has_type(&[FieldType::DateTime, FieldType::Time]),
        &["time", "timestamp", "datetime", "moment"],
    );
    add(has_type(&[FieldType::Email]), &["email", "mail", "address"]);
    add(
        has_type(&[FieldType::Url]),
        &["url", "link", "website", "web"],
    );
    add(has_type(&[FieldType::Phone]), &["phone", "telephone"]);
    add(has_type(&[FieldType::Uuid]), &["uuid", "guid"]);
    add(
        has_type(&[FieldType::Json]),
        &["json", "object", "arbitrary"],
    );
    add(
        has_type(&[FieldType::Enum]),
        &[
            "enum", "status", "one", "either", "choice", "values", "value",
        ],
    );
    add(
        relations().next().is_some(),
        &[
            "belong",
            "belongs",
            "belonging",
            "owned",
            "owns",
            "linked",
            "linking",
            "link",
            "links",
            "related",
            "relation",
            "relationship",
            "reference",
            "references",
            "parent",
            "child",
            "children",
            "many",
            "has",
            "have",
        ],
    );
    add(
        relations().any(|r| r.on_delete == OnDelete::Cascade),
        &["cascade", "cascading", "deleted", "deleting", "removed"],
    );
    add(
        lists().any(|l| !l.filters.is_empty()),
        &[
            "filter",
            "filters",
            "filtered",
            "filtering",
            "filterable",
            "by",
            "exact",
            "match",
        ],
    );
    add(
        lists().any(|l| !l.search.is_empty()),
        &[
            "search",
            "searchable",
            "searching",
            "find",
            "query",
            "text",
            "substring",
        ],
    );
    add(
        lists().any(|l| !l.sort.is_empty()),
        &[
            "sort",
            "sorted",
            "sortable",
            "sorting",
            "order",
            "ordered",
            "ascending",
            "descending",
            "newest",
            "oldest",
        ],
    );
    add(
        lists().next().is_some(),
        &[
            "page",
            "pages",
            "paged",
            "paginate",
            "paginated",
            "pagination",
            "size",
            "limit",
        ],
    );
    add(
        !matches!(design.auth, AuthScheme::None),
        &[
            "auth",
            "authentication",
            "authenticated",
            "authorization",
            "authorisation",
            "secure",
            "secured",
            "security",
            "protect",
            "protected",
            "key",
            "keys",
            "jwt",
            "jwts",
            "token",
            "tokens",
            "bearer",
            "header",
            "login",
            "logged",
            "signed",
            "sign",
            "access",
            "private",
            "locked",
        ],
    );
    add(
        design
            .actions
            .iter()
            .any(|a| a.output == ActionOutput::Empty),
        &["nothing", "empty"],
    );
    words
}

/// A word and the forms it may take in the other text: plural, singular, and the
/// stem of a verb form ("priced" → "price", "tagging" → "tag").
fn forms(word: &str) -> Vec<String> {
    let mut out = vec![word.to_owned(), singular(word), plural(word)];
    for suffix in ["ing", "ed", "er", "ers"] {
        if let Some(stem) = word.strip_suffix(suffix)
            && stem.len() >= 3
        {
            out.push(stem.to_owned());
            out.push(format!("{stem}e"));
            // "tagging" → "tagg" → "tag"
            let bytes = stem.as_bytes();
            if bytes.len() >= 2 && bytes[bytes.len() - 1] == bytes[bytes.len() - 2] {
                out.push(stem[..stem.len() - 1].to_owned());
            }
        }
    }
    out
}

/// The lowercase ASCII-alphanumeric words of `text`.
fn words_of(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// Every word a design's names are made of, in all their forms.
fn vocabulary(design: &ApiDesign, into: &mut HashSet<String>) {
    let mut names: Vec<&str> = vec![&design.title];
    for r in &design.resources {
        names.push(&r.name);
        names.push(&r.plural);
        for f in &r.fields {
            names.push(&f.name);
            names.extend(f.enum_values.iter().map(String::as_str));
            names.extend(f.unit.as_deref());
        }
        for rel in &r.relations {
            names.push(&rel.target);
            names.push(&rel.field);
        }
        if let Some(list) = &r.operations.list {
            for n in list.filters.iter().chain(&list.search).chain(&list.sort) {
                names.push(n);
            }
        }
    }
    for a in &design.actions {
        names.push(&a.name);
        names.push(&a.path);
        for f in &a.input {
            names.push(&f.name);
            names.extend(f.enum_values.iter().map(String::as_str));
        }
        if let ActionOutput::Object { fields } = &a.output {
            names.extend(fields.iter().map(|f| f.name.as_str()));
        }
    }
    if let AuthScheme::ApiKey { header, .. } = &design.auth {
        names.push(header);
    }
    for name in names {
        for w in words_of(name) {
            into.extend(forms(&w));
        }
    }
    into.extend(feature_words(design).into_iter().map(str::to_owned));
}

/// A word the review never reports: too short, a number, or a stop word.
fn is_content_word(word: &str) -> bool {
    word.chars().count() >= 3
        && !word.chars().all(|c| c.is_ascii_digit())
        && !STOP_WORDS.contains(&word)
}

/// The prompt's content words, in order of first appearance, that neither `design`
/// nor `base` accounts for.
pub(super) fn unused(prompt: &str, design: &ApiDesign, base: Option<&ApiDesign>) -> Vec<String> {
    let mut known = HashSet::new();
    vocabulary(design, &mut known);
    if let Some(base) = base {
        vocabulary(base, &mut known);
    }
    let mut seen = BTreeSet::new();
    words_of(prompt)
        .filter(|w| is_content_word(w))
        .filter(|w| !forms(w).iter().any(|f| known.contains(f)))
        .filter(|w| seen.insert(w.clone()))
        .collect()
}

/// The prompt's content words, in order of first appearance, that the reader says it
/// did not use.
pub(super) fn unused_given(prompt: &str, used: &BTreeSet<String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    words_of(prompt)
        .filter(|w| is_content_word(w) && !used.contains(w))
        .filter(|w| seen.insert(w.clone()))
        .collect()
}

/// Words that qualify a field rather than name another one: "(required)", "(min 0)",
/// "(in euros)", "(integer)".
pub(super) fn is_qualifier(item: &str) -> bool {
    const QUALIFIERS: &[&str] = &[
        "required",
        "optional",
        "unique",
        "min",
        "max",
        "minimum",
        "maximum",
        "at",
        "least",
        "most",
        "in",
        "up",
        "to",
        "default",
        "integer",
        "int",
        "number",
        "decimal",
        "text",
        "string",
        "boolean",
        "date",
        "datetime",
        "time",
        "email",
        "url",
        "phone",
        "uuid",
        "json",
        "enum",
        "positive",
        "non",
        "negative",
        "between",
        "chars",
        "characters",
        "long",
        "e",
        "g",
        "eg",
        "optional",
        "mandatory",
        "defaults",
    ];
    let mut words = words_of(item).peekable();
    if words.peek().is_none() {
        return true;
    }
    words.all(|w| QUALIFIERS.contains(&w.as_str()) || w.parse::<f64>().is_ok())
        || item.trim_start().starts_with("in ")
        || item.trim_start().starts_with("e.g")
}
