//! What a design shows about how its prompt was read: warnings about the parts that
//! look misread, so a person can fix the prompt (or the design) before anything is
//! built.
//!
//! [`review`] works from the prompt text and the design alone. A provider that knows
//! which words it consumed can say so through [`ReaderNotes`]; the unused-word check
//! then trusts that instead of matching words against the design's names.

mod prompt_words;
pub mod tree;

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::model::{ApiDesign, FieldType, Resource};
use crate::provider::rules::singular;

/// Everything [`review`] found; empty when nothing looks misread.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub warnings: Vec<Warning>,
}

/// One thing in a design that looks misread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Warning {
    /// A content word of the prompt that no resource, field, enum value, relation,
    /// list option, auth choice or action came from.
    UnusedWord { word: String },
    /// A field that looks like a resource of its own ("appointments" landing on
    /// patient).
    EntityField {
        resource: String,
        field: String,
        reason: EntityReason,
    },
    /// A field name that reads like part of a sentence rather than a name.
    MisreadName {
        resource: String,
        field: String,
        reason: MisreadReason,
    },
    /// An enum that allows a single value is a constant, usually a misread list.
    SingleValueEnum {
        resource: String,
        field: String,
        value: String,
    },
    /// A belongs-to relation (or an action) pointing at a resource the design lacks.
    MissingRelationTarget { resource: String, target: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum EntityReason {
    /// Another resource has this name (singular or plural).
    IsResource { resource: String },
    /// The prompt gives it a field list of its own: "appointments (date, reason)".
    HasFieldList { fields: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum MisreadReason {
    /// More than [`MAX_NAME_WORDS`] words.
    TooManyWords { words: usize },
    /// A verb or function word ("that", "which", "belongs") inside the name.
    SentenceWord { word: String },
}

/// Longer field names are almost always a phrase read as a name.
pub const MAX_NAME_WORDS: usize = 4;

/// What a provider can tell the review about its reading.
#[derive(Debug, Clone, Default)]
pub struct ReaderNotes {
    /// The prompt's words (lowercase) that the reader consumed; `None` when the
    /// provider does not say, and the review then matches words against the design.
    pub used_words: Option<BTreeSet<String>>,
}

impl Warning {
    /// The machine name of the warning's kind, as in the JSON output.
    pub fn kind(&self) -> &'static str {
        match self {
            Warning::UnusedWord { .. } => "unused_word",
            Warning::EntityField { .. } => "entity_field",
            Warning::MisreadName { .. } => "misread_name",
            Warning::SingleValueEnum { .. } => "single_value_enum",
            Warning::MissingRelationTarget { .. } => "missing_relation_target",
        }
    }

    /// Where in the design it points, in the path style of [`super::validate`];
    /// `None` for a word of the prompt.
    pub fn path(&self) -> Option<String> {
        match self {
            Warning::UnusedWord { .. } => None,
            Warning::EntityField {
                resource, field, ..
            }
            | Warning::MisreadName {
                resource, field, ..
            }
            | Warning::SingleValueEnum {
                resource, field, ..
            } => Some(format!("resources.{resource}.fields.{field}")),
            Warning::MissingRelationTarget { resource, .. } => {
                Some(format!("resources.{resource}.relations"))
            }
        }
    }

    /// The field it points at, as (resource, field).
    pub fn field(&self) -> Option<(&str, &str)> {
        match self {
            Warning::EntityField {
                resource, field, ..
            }
            | Warning::MisreadName {
                resource, field, ..
            }
            | Warning::SingleValueEnum {
                resource, field, ..
            } => Some((resource, field)),
            _ => None,
        }
    }

    /// One line a person can act on.
    pub fn message(&self) -> String {
        match self {
            Warning::UnusedWord { word } => {
                format!("the prompt's word {word:?} is not used anywhere in the design")
            }
            Warning::EntityField {
                resource,
                field,
                reason: EntityReason::IsResource { resource: other },
            } => format!(
                "{field} → field of {resource}, but {other} is a resource: did you mean a relation (\"each {other} belongs to a {resource}\")?"
            ),
            Warning::EntityField {
                resource,
                field,
                reason: EntityReason::HasFieldList { fields },
            } => format!(
                "{field} → field of {resource}, but the prompt gives it fields of its own ({fields}): it looks like a resource; name it as one (\"{field} with {fields}\") in its own sentence"
            ),
            Warning::MisreadName {
                resource,
                field,
                reason: MisreadReason::TooManyWords { words },
            } => format!(
                "{resource}.{field} has {words} words: a phrase of the prompt was probably read as a field name"
            ),
            Warning::MisreadName {
                resource,
                field,
                reason: MisreadReason::SentenceWord { word },
            } => format!(
                "{resource}.{field} contains {word:?}: part of a sentence was probably read as a field name"
            ),
            Warning::SingleValueEnum {
                resource,
                field,
                value,
            } => format!(
                "{resource}.{field} is an enum with the single value {value:?}: list every value, e.g. \"{field} (a, b, c)\""
            ),
            Warning::MissingRelationTarget { resource, target } => {
                format!("{resource} refers to {target}, which is not a resource of the design")
            }
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

/// A warning as the JSON outputs show it: its data plus `path` and `message`.
#[derive(Debug, Serialize)]
pub struct ShownWarning<'a> {
    #[serde(flatten)]
    pub warning: &'a Warning,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub message: String,
}

impl Review {
    pub fn is_empty(&self) -> bool {
        self.warnings.is_empty()
    }

    /// The warnings with their paths and messages, for JSON.
    pub fn shown(&self) -> Vec<ShownWarning<'_>> {
        self.warnings
            .iter()
            .map(|w| ShownWarning {
                warning: w,
                path: w.path(),
                message: w.message(),
            })
            .collect()
    }

    /// Whether a warning points at this field.
    pub fn flags_field(&self, resource: &str, field: &str) -> bool {
        self.warnings
            .iter()
            .any(|w| w.field() == Some((resource, field)))
    }

    /// One line per warning, except that unused words share one line (a long prompt
    /// can leave many).
    pub fn lines(&self) -> Vec<String> {
        let unused: Vec<&str> = self
            .warnings
            .iter()
            .filter_map(|w| match w {
                Warning::UnusedWord { word } => Some(word.as_str()),
                _ => None,
            })
            .collect();
        let mut lines: Vec<String> = self
            .warnings
            .iter()
            .filter(|w| !matches!(w, Warning::UnusedWord { .. }))
            .map(Warning::message)
            .collect();
        if !unused.is_empty() {
            lines.push(format!(
                "words of the prompt not used in the design: {}",
                unused.join(", ")
            ));
        }
        lines
    }
}

/// Reviews `design` as read from `prompt`. For a follow-up, `base` is the design the
/// prompt changed: words naming its parts count as used ("remove the notes field").
pub fn review(prompt: &str, design: &ApiDesign, base: Option<&ApiDesign>) -> Review {
    review_with(prompt, design, base, &ReaderNotes::default())
}

/// [`review`] with what the provider knows about its own reading.
pub fn review_with(
    prompt: &str,
    design: &ApiDesign,
    base: Option<&ApiDesign>,
    notes: &ReaderNotes,
) -> Review {
    let mut warnings = Vec::new();
    let lower = prompt.to_lowercase();
    for r in &design.resources {
        for f in &r.fields {
            if let Some(reason) = entity_reason(design, r, &f.name, f.ty, &lower) {
                warnings.push(Warning::EntityField {
                    resource: r.name.clone(),
                    field: f.name.clone(),
                    reason,
                });
            }
            if let Some(reason) = misread_reason(&f.name) {
                warnings.push(Warning::MisreadName {
                    resource: r.name.clone(),
                    field: f.name.clone(),
                    reason,
                });
            }
            if f.ty == FieldType::Enum
                && let [value] = f.enum_values.as_slice()
            {
                warnings.push(Warning::SingleValueEnum {
                    resource: r.name.clone(),
                    field: f.name.clone(),
                    value: value.clone(),
                });
            }
        }
        let mut missing: BTreeSet<&str> = BTreeSet::new();
        for rel in &r.relations {
            if design.resource(&rel.target).is_none() {
                missing.insert(&rel.target);
            }
        }
        for target in missing {
            warnings.push(Warning::MissingRelationTarget {
                resource: r.name.clone(),
                target: target.to_owned(),
            });
        }
    }
    for a in &design.actions {
        if let Some(target) = &a.resource
            && design.resource(target).is_none()
        {
            warnings.push(Warning::MissingRelationTarget {
                resource: a.name.clone(),
                target: target.clone(),
            });
        }
    }
    let unused = match &notes.used_words {
        Some(used) => prompt_words::unused_given(prompt, used),
        None => prompt_words::unused(prompt, design, base),
    };
    warnings.extend(unused.into_iter().map(|word| Warning::UnusedWord { word }));
    Review { warnings }
}

/// Why a field looks like an entity of its own, if it does.
fn entity_reason(
    design: &ApiDesign,
    owner: &Resource,
    field: &str,
    ty: FieldType,
    lower_prompt: &str,
) -> Option<EntityReason> {
    let one = singular(field);
    if let Some(other) = design
        .resources
        .iter()
        .find(|o| o.name != owner.name && (o.name == one || o.plural == field || o.name == field))
    {
        return Some(EntityReason::IsResource {
            resource: other.name.clone(),
        });
    }
    // An enum's values are a parenthesised list too: "status (open, done)".
    if ty == FieldType::Enum {
        return None;
    }
    let phrase = field.replace('_', " ");
    own_field_list(lower_prompt, &phrase).map(|fields| EntityReason::HasFieldList { fields })
}

/// The field list that follows `phrase` in the prompt ("appointments (date, reason)",
/// "appointments with a date and a reason"), if one does.
fn own_field_list(lower_prompt: &str, phrase: &str) -> Option<String> {
    let mut from = 0;
    while let Some(found) = lower_prompt[from..].find(phrase) {
        let start = from + found;
        let end = start + phrase.len();
        from = end;
        let before_ok = lower_prompt[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let after_ok = lower_prompt[end..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric());
        if !(before_ok && after_ok) {
            continue;
        }
        let rest = lower_prompt[end..].trim_start();
        let list = if let Some(inner) = rest.strip_prefix('(') {
            inner.split(')').next().unwrap_or("")
        } else if let Some(tail) = rest
            .strip_prefix("with ")
            .or_else(|| rest.strip_prefix("having "))
        {
            tail.split(['.', ';', ')', '(']).next().unwrap_or("")
        } else {
            continue;
        };
        let items: Vec<&str> = list
            .split([',', '/'])
            .flat_map(|s| s.split(" and "))
            .map(|s| s.trim().trim_start_matches("a ").trim_start_matches("an "))
            .filter(|s| !s.is_empty())
            .collect();
        // "(in euros)", "(min 0, max 5)", "(required)" qualify the field itself.
        let named = items
            .iter()
            .filter(|item| !prompt_words::is_qualifier(item))
            .count();
        if items.len() >= 2 && named >= 1 {
            return Some(items.join(", "));
        }
    }
    None
}

/// Words that never belong inside a field name: a name holding one is a clause.
const SENTENCE_WORDS: &[&str] = &[
    "that",
    "which",
    "who",
    "whom",
    "whose",
    "where",
    "belong",
    "belongs",
    "belonging",
    "should",
    "must",
    "would",
    "could",
    "can",
    "will",
    "shall",
    "let",
    "lets",
    "allow",
    "allows",
    "want",
    "wants",
    "contain",
    "contains",
    "include",
    "includes",
    "manage",
    "manages",
    "track",
    "tracks",
    "store",
    "stores",
    "having",
    "are",
    "were",
    "was",
    "been",
    "being",
    "the",
    "each",
    "every",
    "them",
    "they",
    "their",
];

/// `is_active`, `has_parking`: conventional boolean prefixes, verbs only elsewhere.
const PREFIX_VERBS: &[&str] = &["is", "has"];

fn misread_reason(name: &str) -> Option<MisreadReason> {
    let words: Vec<&str> = name.split('_').filter(|w| !w.is_empty()).collect();
    if words.len() > MAX_NAME_WORDS {
        return Some(MisreadReason::TooManyWords { words: words.len() });
    }
    words.iter().enumerate().find_map(|(i, w)| {
        (SENTENCE_WORDS.contains(w) || (i > 0 && PREFIX_VERBS.contains(w))).then(|| {
            MisreadReason::SentenceWord {
                word: (*w).to_owned(),
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::design::{Field, Relation, Resource};

    fn design_of(resources: Vec<Resource>) -> ApiDesign {
        let mut d = ApiDesign::new("Test API");
        d.resources = resources;
        d
    }

    fn resource(name: &str, plural: &str, fields: &[(&str, FieldType)]) -> Resource {
        let mut r = Resource::new(name, plural);
        r.fields = fields.iter().map(|(n, t)| Field::new(*n, *t)).collect();
        r
    }

    fn kinds(r: &Review) -> Vec<&'static str> {
        r.warnings.iter().map(Warning::kind).collect()
    }

    #[test]
    fn a_clean_reading_has_no_warnings() {
        let prompt =
            "a bookstore API: books with title, isbn (unique) and price; search books by title";
        let mut book = resource(
            "book",
            "books",
            &[
                ("title", FieldType::String),
                ("isbn", FieldType::String),
                ("price", FieldType::Decimal),
            ],
        );
        book.fields[1].unique = true;
        book.operations.list.as_mut().expect("list").search = vec!["title".into()];
        let mut d = design_of(vec![book]);
        d.title = "Bookstore API".into();
        let r = review(prompt, &d, None);
        assert!(r.is_empty(), "{:?}", r.lines());
    }

    #[test]
    fn words_that_nothing_came_from_are_reported_once_each() {
        let prompt = "books with title and a hardcover flag; books have chapters, chapters";
        let d = design_of(vec![resource(
            "book",
            "books",
            &[
                ("title", FieldType::String),
                ("hardcover", FieldType::Boolean),
            ],
        )]);
        let r = review(prompt, &d, None);
        assert_eq!(
            r.warnings,
            vec![Warning::UnusedWord {
                word: "chapters".into()
            }]
        );
        assert!(r.lines()[0].contains("chapters"), "{:?}", r.lines());
    }

    #[test]
    fn inflected_words_count_as_used() {
        // "categories" ↔ category, "priced" ↔ price, "tagging" ↔ tag.
        let prompt = "products priced in categories, tagging products";
        let d = design_of(vec![
            resource("product", "products", &[("price", FieldType::Decimal)]),
            resource("category", "categories", &[("tag", FieldType::String)]),
        ]);
        let r = review(prompt, &d, None);
        assert!(r.is_empty(), "{:?}", r.lines());
    }

    #[test]
    fn grammar_words_count_only_when_the_design_has_what_they_ask_for() {
        let prompt = "tasks with a unique title; secured with an API key";
        let d = design_of(vec![resource(
            "task",
            "tasks",
            &[("title", FieldType::String)],
        )]);
        let words: Vec<String> = review(prompt, &d, None)
            .warnings
            .into_iter()
            .filter_map(|w| match w {
                Warning::UnusedWord { word } => Some(word),
                _ => None,
            })
            .collect();
        assert_eq!(words, ["unique", "secured", "key"]);

        let mut d = d;
        d.resources[0].fields[0].unique = true;
        d.auth = crate::design::AuthScheme::ApiKey {
            header: "X-API-Key".into(),
            env_var: "API_KEY".into(),
        };
        let r = review(prompt, &d, None);
        assert!(r.is_empty(), "{:?}", r.lines());
    }

    #[test]
    fn a_followup_may_name_parts_of_the_base_design() {
        let base = design_of(vec![resource(
            "task",
            "tasks",
            &[("title", FieldType::String), ("notes", FieldType::Text)],
        )]);
        let after = design_of(vec![resource(
            "task",
            "tasks",
            &[("title", FieldType::String)],
        )]);
        let r = review("remove the notes field from tasks", &after, Some(&base));
        assert!(r.is_empty(), "{:?}", r.lines());
        // Without the base, "notes" came from nowhere.
        let r = review("remove the notes field from tasks", &after, None);
        assert_eq!(kinds(&r), ["unused_word"]);
    }

    #[test]
    fn a_field_named_like_another_resource_is_flagged() {
        let d = design_of(vec![
            resource(
                "patient",
                "patients",
                &[
                    ("name", FieldType::String),
                    ("appointments", FieldType::Text),
                ],
            ),
            resource("appointment", "appointments", &[("date", FieldType::Date)]),
        ]);
        let r = review(
            "patients with name and appointments; appointments with a date",
            &d,
            None,
        );
        assert_eq!(
            r.warnings,
            vec![Warning::EntityField {
                resource: "patient".into(),
                field: "appointments".into(),
                reason: EntityReason::IsResource {
                    resource: "appointment".into()
                },
            }]
        );
        assert!(r.flags_field("patient", "appointments"));
        assert!(
            r.warnings[0]
                .message()
                .contains("appointments → field of patient")
        );
    }

    #[test]
    fn a_field_followed_by_its_own_field_list_is_flagged() {
        let d = design_of(vec![resource(
            "patient",
            "patients",
            &[
                ("name", FieldType::String),
                ("appointments", FieldType::Text),
                ("reason", FieldType::String),
            ],
        )]);
        let r = review("patients with name, appointments (date, reason)", &d, None);
        let entity: Vec<&Warning> = r
            .warnings
            .iter()
            .filter(|w| w.kind() == "entity_field")
            .collect();
        assert_eq!(
            entity,
            [&Warning::EntityField {
                resource: "patient".into(),
                field: "appointments".into(),
                reason: EntityReason::HasFieldList {
                    fields: "date, reason".into()
                },
            }]
        );
    }

    #[test]
    fn qualifiers_in_parentheses_are_not_a_field_list() {
        let d = design_of(vec![resource(
            "product",
            "products",
            &[("price", FieldType::Decimal), ("stock", FieldType::Integer)],
        )]);
        let r = review(
            "products with price (required, min 0) and stock (integer)",
            &d,
            None,
        );
        assert!(!kinds(&r).contains(&"entity_field"), "{:?}", r.lines());
    }

    #[test]
    fn long_or_clause_like_field_names_are_flagged() {
        let d = design_of(vec![resource(
            "book",
            "books",
            &[
                ("date_the_book_was_first_published", FieldType::Date),
                ("author_which_wrote", FieldType::String),
                ("is_available", FieldType::Boolean),
                ("price_is_set", FieldType::Boolean),
                ("date_of_birth", FieldType::Date),
            ],
        )]);
        let r = review("", &d, None);
        assert_eq!(
            r.warnings,
            vec![
                Warning::MisreadName {
                    resource: "book".into(),
                    field: "date_the_book_was_first_published".into(),
                    reason: MisreadReason::TooManyWords { words: 6 },
                },
                Warning::MisreadName {
                    resource: "book".into(),
                    field: "author_which_wrote".into(),
                    reason: MisreadReason::SentenceWord {
                        word: "which".into()
                    },
                },
                Warning::MisreadName {
                    resource: "book".into(),
                    field: "price_is_set".into(),
                    reason: MisreadReason::SentenceWord { word: "is".into() },
                },
            ]
        );
    }

    #[test]
    fn an_enum_with_one_value_is_flagged() {
        let mut order = resource("order", "orders", &[("status", FieldType::Enum)]);
        order.fields[0].enum_values = vec!["pending".into()];
        let r = review(
            "orders with status (pending)",
            &design_of(vec![order]),
            None,
        );
        assert_eq!(
            r.warnings,
            vec![Warning::SingleValueEnum {
                resource: "order".into(),
                field: "status".into(),
                value: "pending".into()
            }]
        );
    }

    #[test]
    fn a_relation_to_a_missing_resource_is_flagged() {
        let mut book = resource("book", "books", &[("title", FieldType::String)]);
        book.relations.push(Relation {
            target: "publisher".into(),
            field: "publisher_id".into(),
            required: true,
            on_delete: crate::design::OnDelete::Restrict,
        });
        let r = review("", &design_of(vec![book]), None);
        assert_eq!(
            r.warnings,
            vec![Warning::MissingRelationTarget {
                resource: "book".into(),
                target: "publisher".into()
            }]
        );
        assert_eq!(
            r.warnings[0].path().as_deref(),
            Some("resources.book.relations")
        );
    }

    #[test]
    fn reader_notes_replace_the_word_matching() {
        let d = design_of(vec![resource(
            "book",
            "books",
            &[("title", FieldType::String)],
        )]);
        let notes = ReaderNotes {
            used_words: Some(["books".to_owned()].into_iter().collect()),
        };
        let r = review_with("books with title", &d, None, &notes);
        assert_eq!(
            r.warnings,
            vec![Warning::UnusedWord {
                word: "title".into()
            }]
        );
    }

    #[test]
    fn warnings_serialise_with_kind_path_and_message() {
        let r = Review {
            warnings: vec![Warning::SingleValueEnum {
                resource: "order".into(),
                field: "status".into(),
                value: "pending".into(),
            }],
        };
        let json = serde_json::to_value(r.shown()).expect("json");
        assert_eq!(json[0]["kind"], "single_value_enum");
        assert_eq!(json[0]["path"], "resources.order.fields.status");
        assert_eq!(json[0]["value"], "pending");
        assert!(
            json[0]["message"]
                .as_str()
                .expect("text")
                .contains("single value")
        );
    }
}
