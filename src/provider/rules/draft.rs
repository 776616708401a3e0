//! A design under construction: what the reader and the follow-up commands build,
//! plus what can only be settled once the whole prompt is read (relations to nouns
//! named later, list options naming fields, lexicon defaults, inferred filters).

use std::collections::BTreeSet;

use super::field_phrase::{self, FieldPhrase};
use super::inflection::{looks_plural, plural, singular};
use super::lexicon::{self, Guess};
use super::text::{self, words};
use crate::design::{ApiDesign, FieldType, ListOp, OnDelete, Relation, Resource};

/// A list-operation request: filter / search / sort by fields, or page sizes.
#[derive(Debug, Clone)]
pub enum ListKind {
    Filter,
    Search,
    Sort,
    Paginate {
        default: Option<u32>,
        max: Option<u32>,
    },
}

#[derive(Debug, Clone)]
pub struct ListRequest {
    /// The resource as the prompt named it; `None` means the one being talked about.
    pub resource: Option<String>,
    pub fallback: Option<String>,
    pub kind: ListKind,
    pub fields: Vec<String>,
}

/// "child belongs to parent", with nouns as written.
#[derive(Debug, Clone)]
pub struct PendingRelation {
    pub child: String,
    pub parent: String,
    pub required: bool,
    /// Create the parent (from the lexicon) when no resource matches.
    pub create: bool,
}

#[derive(Debug, Clone)]
pub struct Draft {
    pub design: ApiDesign,
    pub last_resource: Option<String>,
    new_resources: Vec<String>,
    /// (resource, field) added by this prompt, for inference.
    new_fields: Vec<(String, String)>,
    /// New fields whose type only came from the fallback: candidates for relations.
    plain_fields: Vec<(String, String)>,
    /// (resource, fk field) relations added by this prompt.
    new_relations: Vec<(String, String)>,
    pending: Vec<PendingRelation>,
    lists: Vec<ListRequest>,
    /// (child, parent) found while turning fields into relations.
    pending_children: Vec<(String, String)>,
    /// (resource noun, verb): "orders can be cancelled".
    actions: Vec<(String, String)>,
}

/// Verbs that move a resource into a state, with the state's usual spellings.
const STATE_VERBS: &[(&str, &[&str])] = &[
    ("cancel", &["cancelled", "canceled"]),
    ("approve", &["approved"]),
    ("reject", &["rejected"]),
    ("archive", &["archived"]),
    ("publish", &["published"]),
    ("unpublish", &["draft", "unpublished"]),
    ("ship", &["shipped"]),
    ("deliver", &["delivered"]),
    ("close", &["closed"]),
    ("reopen", &["open", "reopened"]),
    ("complete", &["completed", "complete", "done"]),
    ("confirm", &["confirmed"]),
    ("pay", &["paid"]),
    ("refund", &["refunded"]),
    ("resolve", &["resolved"]),
    ("submit", &["submitted"]),
    ("accept", &["accepted"]),
    ("decline", &["declined"]),
    ("activate", &["active", "activated"]),
    ("deactivate", &["inactive", "deactivated"]),
    ("return", &["returned"]),
    ("send", &["sent"]),
    ("start", &["started", "in_progress", "active"]),
    ("finish", &["finished", "completed", "done"]),
];

/// The verb whose state is `word` ("cancelled" → "cancel"), or `word` itself when it
/// is such a verb.
pub fn state_verb(word: &str) -> Option<&'static str> {
    STATE_VERBS
        .iter()
        .find(|(verb, states)| *verb == word || states.contains(&word))
        .map(|(verb, _)| *verb)
}

/// Leading words that are not part of a noun phrase.
const LEAD_STOP: &[&str] = &[
    "a",
    "an",
    "the",
    "some",
    "any",
    "each",
    "every",
    "its",
    "their",
    "his",
    "her",
    "our",
    "my",
    "your",
    "all",
    "many",
    "multiple",
    "several",
    "various",
    "also",
    "and",
    "or",
    "plus",
    "then",
    "so",
    "track",
    "tracks",
    "tracking",
    "store",
    "stores",
    "manage",
    "manages",
    "managing",
    "keep",
    "keeps",
    "list",
    "lists",
    "have",
    "has",
    "need",
    "needs",
    "want",
    "wants",
    "add",
    "create",
    "creates",
    "include",
    "includes",
    "support",
    "supports",
    "handle",
    "handles",
    "record",
    "records",
    "hold",
    "holds",
    "contain",
    "contains",
    "register",
    "registers",
    "let",
    "lets",
    "allow",
    "allows",
    "with",
    "for",
    "of",
    "about",
    "where",
    "that",
    "which",
    "who",
    "to",
    "in",
    "on",
    "we",
    "i",
    "you",
    "they",
    "can",
    "should",
    "must",
    "will",
    "would",
    "be",
    "is",
    "are",
    "there",
    "just",
    "only",
    "simple",
    "basic",
    "new",
    "own",
    "separate",
    "different",
    "both",
    "as",
    "other",
    "more",
    "one",
    "two",
    "three",
    "called",
    "named",
    "me",
    "us",
    "it",
    "them",
    "please",
    "build",
    "make",
    "design",
    "expose",
    "serve",
    "serves",
    "exposes",
    "provides",
    "provide",
    "offer",
    "offers",
    "leave",
    "leaves",
    "write",
    "writes",
    "post",
    "send",
    "sends",
    "upload",
    "uploads",
    "share",
    "shares",
    "book",
    "rent",
    "rents",
    "sell",
    "sells",
    "buy",
    "buys",
    "place",
    "places",
    "get",
    "gets",
    "like",
    "likes",
    "follow",
    "follows",
    "join",
    "joins",
    "organize",
    "organise",
    "organizes",
    "schedule",
    "schedules",
    "log",
    "logs",
    "submit",
    "submits",
    "set",
    "sets",
    "see",
    "view",
    "browse",
];

/// Verbs that stop a noun phrase when they precede it but may themselves be nouns
/// when they start one ("book", "post", "place", "log", "list", "schedule").
const NOUN_VERBS: &[&str] = &[
    "book", "post", "place", "log", "list", "schedule", "record", "set", "view",
];

/// Words that never name a resource.
const NON_ENTITY: &[&str] = &[
    "api",
    "apis",
    "app",
    "apps",
    "application",
    "service",
    "system",
    "backend",
    "thing",
    "things",
    "stuff",
    "data",
    "info",
    "information",
    "detail",
    "details",
    "field",
    "fields",
    "value",
    "values",
    "it",
    "them",
    "they",
    "this",
    "that",
    "these",
    "those",
    "resource",
    "resources",
    "entity",
    "entities",
    "following",
    "below",
    "above",
    "model",
    "models",
    "endpoint",
    "endpoints",
    "crud",
    "rest",
    "json",
    "way",
    "ones",
    "one",
    "hello",
    "hi",
    "thanks",
    "please",
    "everything",
    "anything",
    "something",
    "nothing",
    "yes",
    "no",
    "server",
    "database",
    "db",
    "each",
    "every",
    "other",
    "others",
    "kind",
    "kinds",
    "number",
    "numbers",
    "name",
    "names",
    "type",
    "types",
    "own",
    "test",
    "tests",
    "example",
    "examples",
    "foo",
    "bar",
    "baz",
    "etc",
    "filter",
    "filters",
    "search",
    "sort",
    "pagination",
    "auth",
    "authentication",
    "key",
    "keys",
    "token",
    "tokens",
    "jwt",
    "some",
    "which",
    "where",
    "what",
    "who",
    "with",
    "and",
    "or",
    "the",
    "a",
    "an",
    "to",
    "of",
    "for",
    "in",
    "on",
    "is",
    "are",
    "be",
    "by",
    "from",
    "manager",
    "tracker",
    "platform",
    "tool",
    "site",
    "website",
    "portal",
    "dashboard",
    "program",
    "software",
    "world",
    "there",
    "here",
    "now",
    "also",
    "just",
    "when",
    "then",
    "than",
    "if",
    "can",
    "should",
    "must",
    "will",
    "would",
    "could",
    "all",
    "any",
    "many",
    "much",
    "more",
    "most",
    "few",
    "new",
    "old",
    "good",
    "bad",
];

/// Words that make a head an app description ("a bakery API", "a todo app").
pub const APP_WORDS: &[&str] = &[
    "api",
    "app",
    "application",
    "service",
    "backend",
    "system",
    "platform",
    "tool",
    "tracker",
    "manager",
    "site",
    "website",
    "server",
    "database",
    "shop",
    "marketplace",
    "crm",
    "cms",
    "portal",
    "dashboard",
    "program",
    "software",
    "catalog",
    "catalogue",
    "directory",
    "registry",
    "planner",
    "scheduler",
    "journal",
    "guestbook",
    "blog",
    "store",
    "library",
    "clinic",
    "bookstore",
    "webshop",
    "microservice",
    "endpoint",
    "endpoints",
];

/// A noun phrase that can name a resource: up to three words; the last one a noun.
/// `head` is lower-case text such as "a guestbook where visitors leave messages".
pub fn noun_phrase(head: &str) -> Option<String> {
    let mut head = head.to_owned();
    for cut in [
        " where ", " that ", " which ", " who ", " whose ", " so ", " to ",
    ] {
        if let Some((_, after)) = head.rsplit_once(cut)
            && !after.trim().is_empty()
        {
            head = after.to_owned();
        }
    }
    let all = words(&head);
    let mut ws: Vec<&str> = all.clone();
    while let Some(first) = ws.first() {
        if LEAD_STOP.contains(first)
            && !(ws.len() == 1 && NOUN_VERBS.contains(&singular(first).as_str()))
        {
            ws.remove(0);
        } else {
            break;
        }
    }
    while let Some(last) = ws.last() {
        if ws.len() == 1 && matches!(*last, "table" | "tables") {
            // "tables" alone is a restaurant's tables; "users table" is a table of users.
            break;
        }
        if matches!(
            *last,
            "resource"
                | "resources"
                | "entity"
                | "entities"
                | "table"
                | "tables"
                | "collection"
                | "collections"
                | "objects"
                | "too"
                | "also"
                | "as"
                | "well"
        ) {
            ws.pop();
        } else {
            break;
        }
    }
    if ws.is_empty() {
        return None;
    }
    // Earlier words join the noun only when they read as modifiers: no verbs, no
    // plurals ("users log workouts" names workouts).
    // A plural modifies a plural head only in fixed compounds ("sales reps", "sports
    // teams"): two words, both plural, nothing else.
    let plural_compound =
        ws.len() == 2 && ws.iter().all(|w| looks_plural(w)) && !LEAD_STOP.contains(&ws[0]);
    let modifiers_only = plural_compound
        || ws.split_last().is_some_and(|(_, lead)| {
            // Inside a compound a noun-verb is a noun ("punch list items", "log entries").
            lead.iter().enumerate().all(|(i, w)| {
                (!LEAD_STOP.contains(w) || (i > 0 && NOUN_VERBS.contains(w))) && !looks_plural(w)
            })
        });
    let ws: Vec<&str> = if ws.len() <= 3 && modifiers_only {
        ws
    } else {
        ws.last().map(|w| vec![*w]).unwrap_or_default()
    };
    let valid = ws.iter().all(|w| {
        w.len() >= 2
            && w.len() <= 30
            && w.bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'-' || b == b'_')
            && w.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
    });
    let last = ws.last()?;
    if !valid
        || NON_ENTITY.contains(last)
        || ws.iter().any(|w| {
            NON_ENTITY.contains(w)
                && matches!(
                    *w,
                    "api" | "app" | "and" | "or" | "the" | "with" | "of" | "by" | "for" | "to"
                )
        })
    {
        return None;
    }
    Some(ws.join(" "))
}

/// `("invoice lines")` → `("invoice_line", "invoice_lines")`.
pub fn resource_names(np: &str) -> Option<(String, String)> {
    let ws: Vec<&str> = np.split_whitespace().collect();
    let (last, lead) = ws.split_last()?;
    let one = singular(&last.replace('-', "_"));
    let lead = lead.join("_");
    let join = |w: &str| {
        if lead.is_empty() {
            text::snake(w)
        } else {
            text::snake(&format!("{lead}_{w}"))
        }
    };
    let name = join(&one);
    let plural_name = join(&plural(&one));
    if name.is_empty() || plural_name.is_empty() {
        return None;
    }
    if crate::design::validate::is_reserved(&name)
        || crate::design::validate::is_reserved(&plural_name)
    {
        // Reserved words cannot name tables and classes; keep the word recognisable.
        return Some(if name == "class" {
            ("school_class".to_owned(), "school_classes".to_owned())
        } else {
            (format!("{name}_item"), format!("{name}_items"))
        });
    }
    Some((name, plural_name))
}

/// Whether `np` reads like a resource even without fields: a plural or a known entity.
pub fn is_entity_like(np: &str) -> bool {
    let last = np.rsplit(' ').next().unwrap_or(np);
    looks_plural(last) || lexicon::entity(&singular(last)).is_some()
}

impl Draft {
    pub fn new(design: ApiDesign) -> Self {
        Self {
            design,
            last_resource: None,
            new_resources: Vec::new(),
            new_fields: Vec::new(),
            plain_fields: Vec::new(),
            new_relations: Vec::new(),
            pending: Vec::new(),
            lists: Vec::new(),
            pending_children: Vec::new(),
            actions: Vec::new(),
        }
    }

    /// A cheap fingerprint of everything a command may change, to tell whether it did.
    pub fn fingerprint(&self) -> (String, usize) {
        (
            self.design.to_json_pretty(),
            self.pending.len()
                + self.lists.len()
                + self.actions.len()
                + self.pending_children.len(),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.design.resources.is_empty()
    }

    /// The resource a noun phrase names, if any: "books", "a book", "lines" (for
    /// `invoice_line`), "invoice lines".
    pub fn resolve(&self, noun: &str) -> Option<String> {
        let np = noun_phrase(noun).unwrap_or_else(|| noun.trim().to_owned());
        let (name, plural_name) = resource_names(&np)?;
        let rs = &self.design.resources;
        if let Some(r) = rs
            .iter()
            .find(|r| r.name == name || r.plural == plural_name || r.plural == name)
        {
            return Some(r.name.clone());
        }
        let suffix = format!("_{name}");
        let mut hits = rs.iter().filter(|r| r.name.ends_with(&suffix));
        if let (Some(r), None) = (hits.next(), hits.next()) {
            return Some(r.name.clone());
        }
        let last = np.rsplit(' ').next().unwrap_or(&np);
        if last != np {
            return self.resolve(last);
        }
        None
    }

    /// The resource `np` names, created when it does not exist yet.
    pub fn ensure_resource(&mut self, np: &str) -> Option<String> {
        let name = match self.resolve(np) {
            Some(name) => name,
            None => {
                let (name, plural_name) = resource_names(np)?;
                if name.len() > crate::design::validate::MAX_NAME_LEN
                    || self
                        .design
                        .resources
                        .iter()
                        .any(|r| r.plural == plural_name)
                {
                    return None;
                }
                self.design
                    .resources
                    .push(Resource::new(name.clone(), plural_name));
                self.new_resources.push(name.clone());
                name
            }
        };
        self.last_resource = Some(name.clone());
        Some(name)
    }

    pub fn add_field(&mut self, resource: &str, phrase: FieldPhrase) {
        let FieldPhrase {
            field,
            explicit_type,
            parent,
            ..
        } = phrase;
        let Some(r) = self.design.resource_mut(resource) else {
            return;
        };
        if r.relations.iter().any(|rel| rel.field == field.name) {
            return;
        }
        let name = field.name.clone();
        let plain = !explicit_type
            && field.ty == FieldType::String
            && lexicon::type_for_name(&name).1 == Guess::Fallback;
        match r.field_mut(&name) {
            Some(existing) => *existing = field,
            None => r.fields.push(field),
        }
        let key = (resource.to_owned(), name);
        if !self.new_fields.contains(&key) {
            self.new_fields.push(key.clone());
        }
        if plain && !self.plain_fields.contains(&key) {
            self.plain_fields.push(key);
        }
        if let Some(parent) = parent {
            self.pending.push(PendingRelation {
                child: resource.to_owned(),
                parent,
                required: true,
                create: false,
            });
        }
    }

    /// Parses `phrase` as a field of `resource` and adds it.
    pub fn add_field_phrase(&mut self, resource: &str, phrase: &str) -> bool {
        match field_phrase::parse(phrase) {
            Some(p) => {
                self.add_field(resource, p);
                true
            }
            None => false,
        }
    }

    pub fn relate(&mut self, child: &str, parent: &str, required: bool, create: bool) {
        self.pending.push(PendingRelation {
            child: child.to_owned(),
            parent: parent.to_owned(),
            required,
            create,
        });
    }

    /// Records "orders can be cancelled"; `false` when the resource is known and has no
    /// state the verb leads to, so the sentence was not understood.
    pub fn request_action(&mut self, resource: &str, verb: &str) -> bool {
        if let Some(r) = self
            .resolve(resource)
            .and_then(|n| self.design.resource(&n))
            && let Some((_, states)) = STATE_VERBS.iter().find(|(v, _)| *v == verb)
        {
            let reachable = r.fields.iter().any(|f| {
                states.iter().any(|s| {
                    f.enum_values.iter().any(|v| v == s)
                        || (f.ty == FieldType::Boolean && f.name == *s)
                })
            });
            if !reachable {
                return false;
            }
        }
        self.actions.push((resource.to_owned(), verb.to_owned()));
        true
    }

    pub fn request_list(&mut self, request: ListRequest) {
        self.lists.push(request);
    }

    pub fn remove_resource(&mut self, name: &str) {
        self.design.resources.retain(|r| r.name != name);
        for r in &mut self.design.resources {
            let gone: Vec<String> = r
                .relations
                .iter()
                .filter(|rel| rel.target == name)
                .map(|rel| rel.field.clone())
                .collect();
            r.relations.retain(|rel| rel.target != name);
            if let Some(list) = &mut r.operations.list {
                for f in &gone {
                    list.filters.retain(|x| x != f);
                    list.sort.retain(|x| x != f);
                }
            }
        }
        self.design
            .actions
            .retain(|a| a.resource.as_deref() != Some(name));
        if self.last_resource.as_deref() == Some(name) {
            self.last_resource = None;
        }
    }

    pub fn remove_field(&mut self, resource: &str, field: &str) -> bool {
        let Some(r) = self.design.resource_mut(resource) else {
            return false;
        };
        let before = r.fields.len() + r.relations.len();
        r.fields.retain(|f| f.name != field);
        r.relations.retain(|rel| rel.field != field);
        if let Some(list) = &mut r.operations.list {
            list.filters.retain(|x| x != field);
            list.search.retain(|x| x != field);
            list.sort.retain(|x| x != field);
        }
        let removed = r.fields.len() + r.relations.len() < before;
        if removed {
            self.design.actions.retain(|a| {
                !(a.resource.as_deref() == Some(resource)
                    && matches!(&a.behavior, crate::design::ActionBehavior::SetField { field: f, .. } if f == field))
            });
        }
        removed
    }

    /// The field (or foreign key) of `resource` that `phrase` names.
    pub fn resolve_field(&self, resource: &str, phrase: &str) -> Option<String> {
        let r = self.design.resource(resource)?;
        let cleaned: Vec<&str> = words(phrase)
            .into_iter()
            .filter(|w| {
                !matches!(
                    *w,
                    "the"
                        | "a"
                        | "an"
                        | "their"
                        | "its"
                        | "field"
                        | "fields"
                        | "column"
                        | "value"
                        | "them"
                )
            })
            .collect();
        let name = text::snake(&cleaned.join(" "));
        if name.is_empty() {
            return None;
        }
        let has = |n: &str| r.field(n).is_some() || r.relations.iter().any(|rel| rel.field == n);
        if has(&name) {
            return Some(name);
        }
        let one = singular(&name);
        if has(&one) {
            return Some(one);
        }
        // A parent's name filters by its foreign key.
        if let Some(target) = self.resolve(&cleaned.join(" "))
            && let Some(rel) = r.relations.iter().find(|rel| rel.target == target)
        {
            return Some(rel.field.clone());
        }
        if let Some(rel) = r
            .relations
            .iter()
            .find(|rel| rel.field == format!("{one}_id"))
        {
            return Some(rel.field.clone());
        }
        if let Some(p) = self.pending.iter().find(|p| {
            self.resolve(&p.child).as_deref() == Some(resource) && {
                let pn = resource_names(&noun_phrase(&p.parent).unwrap_or_default()).map(|n| n.0);
                pn.as_deref() == Some(one.as_str())
            }
        }) {
            return Some(format!(
                "{}_id",
                resource_names(&noun_phrase(&p.parent).unwrap_or_default())?.0
            ));
        }
        let all: Vec<&str> = r
            .fields
            .iter()
            .map(|f| f.name.as_str())
            .chain(r.relations.iter().map(|rel| rel.field.as_str()))
            .collect();
        let suffix = format!("_{one}");
        let prefix = format!("{one}_");
        let hits: Vec<&&str> = all
            .iter()
            .filter(|n| n.ends_with(&suffix) || n.starts_with(&prefix))
            .collect();
        if let [only] = hits.as_slice() {
            return Some((**only).to_owned());
        }
        None
    }

    /// Settles everything that needed the whole prompt and returns the design.
    pub fn finish(mut self) -> ApiDesign {
        // Nouns named only in relations become resources before anything resolves.
        let pending = std::mem::take(&mut self.pending);
        let mut relations = Vec::new();
        for p in &pending {
            let child = if p.create {
                noun_phrase(&p.child).and_then(|np| self.ensure_resource(&np))
            } else {
                self.resolve(&p.child)
            };
            let parent = match self.resolve(&p.parent) {
                Some(parent) => Some(parent),
                None if p.create => noun_phrase(&p.parent)
                    .filter(|np| is_entity_like(np))
                    .and_then(|np| self.ensure_resource(&np)),
                None => None,
            };
            if let (Some(c), Some(pa)) = (child, parent) {
                relations.push((c, pa, p.required));
            }
        }
        self.lexicon_fields();
        self.fields_naming_resources();
        for (child, parent, required) in relations {
            self.add_relation(&child, &parent, None, required);
        }
        for (child, parent) in std::mem::take(&mut self.pending_children) {
            let has = self
                .design
                .resource(&child)
                .is_some_and(|c| c.relation_to(&parent).is_some());
            if !has {
                self.add_relation(&child, &parent, None, true);
            }
        }
        self.implicit_parents();
        self.apply_actions();
        self.apply_lists();
        self.infer_lists();
        self.design
    }

    fn lexicon_fields(&mut self) {
        for name in self.new_resources.clone() {
            let Some(r) = self.design.resource(&name) else {
                continue;
            };
            if !r.fields.is_empty() {
                continue;
            }
            let Some(entity) = lexicon::entity(&name)
                .or_else(|| lexicon::entity(name.rsplit('_').next().unwrap_or(&name)))
            else {
                continue;
            };
            for phrase in entity.fields {
                self.add_field_phrase(&name, phrase);
            }
        }
    }

    /// "games with white player and black player" where `player` is a resource: those
    /// fields are relations.
    fn fields_naming_resources(&mut self) {
        for (res, field) in std::mem::take(&mut self.plain_fields) {
            let target = self
                .design
                .resources
                .iter()
                .map(|r| r.name.clone())
                .filter(|n| *n != res)
                .find(|n| field == *n || field.ends_with(&format!("_{n}")))
                // "minimum pledge", "total orders": a quantity of the thing, not a link.
                .filter(|_| {
                    ![
                        "min_",
                        "max_",
                        "minimum_",
                        "maximum_",
                        "total_",
                        "average_",
                        "avg_",
                        "number_of_",
                        "count_",
                    ]
                    .iter()
                    .any(|q| field.starts_with(q))
                });
            let Some(target) = target else {
                // "recipes have … ingredients" where ingredients are a resource: the
                // children belong to this resource; the field goes.
                let child = self
                    .design
                    .resources
                    .iter()
                    .find(|r| r.plural == field && r.name != res)
                    .map(|r| r.name.clone());
                if let Some(child) = child {
                    if let Some(r) = self.design.resource_mut(&res) {
                        r.fields.retain(|f| f.name != field);
                    }
                    self.pending_children.push((child, res.clone()));
                }
                continue;
            };
            let Some(r) = self.design.resource_mut(&res) else {
                continue;
            };
            let Some(pos) = r.fields.iter().position(|f| f.name == field) else {
                continue;
            };
            r.fields.remove(pos);
            // A field naming a parent is that parent, required like a "belongs to".
            self.add_relation(&res, &target, Some(format!("{field}_id")), true);
        }
    }

    fn add_relation(&mut self, child: &str, parent: &str, field: Option<String>, required: bool) {
        let parent_points_back = self.design.resource(parent).is_some_and(|p| {
            p.relations
                .iter()
                .any(|rel| rel.target == child && rel.required)
        });
        let Some(r) = self.design.resource_mut(child) else {
            return;
        };
        let field = field.unwrap_or_else(|| format!("{parent}_id"));
        if r.relations.iter().any(|rel| rel.field == field)
            || (r.relations.iter().any(|rel| rel.target == parent)
                && field == format!("{parent}_id"))
        {
            return;
        }
        // A plain field of the same name would collide; the relation replaces it.
        r.fields.retain(|f| f.name != field && f.name != parent);
        if let Some(list) = &mut r.operations.list {
            list.filters.retain(|x| x != parent);
            list.search.retain(|x| x != parent);
            list.sort.retain(|x| x != parent);
        }
        let self_ref = child == parent;
        let optional = self_ref || parent_points_back || !required;
        let on_delete = if optional {
            OnDelete::SetNull
        } else if child.starts_with(&format!("{parent}_")) {
            // Invoice lines, order items: parts of their parent go with it.
            OnDelete::Cascade
        } else {
            OnDelete::Restrict
        };
        r.relations.push(Relation {
            target: parent.to_owned(),
            field: field.clone(),
            required: !optional,
            on_delete,
        });
        self.new_relations.push((child.to_owned(), field));
    }

    fn implicit_parents(&mut self) {
        for name in self.new_resources.clone() {
            let Some(r) = self.design.resource(&name) else {
                continue;
            };
            if !r.relations.is_empty() {
                continue;
            }
            let Some(entity) = lexicon::entity(&name) else {
                continue;
            };
            let present: Vec<&str> = entity
                .parents
                .iter()
                .copied()
                .filter(|p| *p != name && self.design.resource(p).is_some())
                .collect();
            let chosen: Vec<&str> = if entity.join {
                present
            } else {
                present.into_iter().take(1).collect()
            };
            for parent in chosen {
                self.add_relation(&name, parent, None, true);
            }
        }
    }

    /// "orders can be cancelled" → `POST /orders/{id}/cancel` setting the state field,
    /// when the resource has a state that verb leads to.
    fn apply_actions(&mut self) {
        use crate::design::{Action, ActionBehavior, ActionOutput, HttpMethod};
        use serde_json::Value;
        for (noun, verb) in std::mem::take(&mut self.actions) {
            let Some(res) = self.resolve(&noun) else {
                continue;
            };
            let Some(r) = self.design.resource(&res) else {
                continue;
            };
            let Some((_, states)) = STATE_VERBS.iter().find(|(v, _)| *v == verb) else {
                continue;
            };
            let set = r.fields.iter().find_map(|f| match f.ty {
                FieldType::Enum => states
                    .iter()
                    .find(|s| f.enum_values.iter().any(|v| v == *s))
                    .map(|s| (f.name.clone(), Value::String((*s).to_owned()))),
                FieldType::Boolean if states.contains(&f.name.as_str()) => {
                    Some((f.name.clone(), Value::Bool(true)))
                }
                _ => None,
            });
            let Some((field, value)) = set else { continue };
            let name = format!("{verb}_{res}");
            let path = format!("/{}/{{id}}/{verb}", r.plural);
            if self
                .design
                .actions
                .iter()
                .any(|a| a.name == name || a.path == path)
            {
                continue;
            }
            let summary = format!(
                "{} a {}",
                crate::provider::rules::capitalise(&verb),
                res.replace('_', " ")
            );
            self.design.actions.push(Action {
                name,
                method: HttpMethod::Post,
                path,
                summary,
                resource: Some(res.clone()),
                input: Vec::new(),
                output: ActionOutput::Resource,
                behavior: ActionBehavior::SetField {
                    field,
                    value,
                    from: Vec::new(),
                },
            });
        }
    }

    fn target(&self, req: &ListRequest) -> Option<String> {
        req.resource
            .as_deref()
            .and_then(|n| self.resolve(n))
            .or_else(|| req.fallback.clone())
            .or_else(|| self.last_resource.clone())
            .or_else(|| match self.design.resources.as_slice() {
                [only] => Some(only.name.clone()),
                _ => None,
            })
    }

    fn apply_lists(&mut self) {
        for req in std::mem::take(&mut self.lists) {
            let Some(res) = self.target(&req) else {
                continue;
            };
            let resolved: Vec<String> = req
                .fields
                .iter()
                .filter_map(|f| self.resolve_field(&res, f))
                .collect();
            let Some(r) = self.design.resource_mut(&res) else {
                continue;
            };
            let textual: BTreeSet<String> = r
                .fields
                .iter()
                .filter(|f| f.ty.is_textual())
                .map(|f| f.name.clone())
                .collect();
            let json: BTreeSet<String> = r
                .fields
                .iter()
                .filter(|f| f.ty == FieldType::Json)
                .map(|f| f.name.clone())
                .collect();
            let list = r.operations.list.get_or_insert_with(ListOp::default);
            let push = |v: &mut Vec<String>, f: &String| {
                if !v.contains(f) {
                    v.push(f.clone());
                }
            };
            match req.kind {
                ListKind::Filter => {
                    for f in &resolved {
                        if !json.contains(f)
                            && !matches!(f.as_str(), "limit" | "offset" | "sort" | "q")
                        {
                            push(&mut list.filters, f);
                        }
                    }
                }
                ListKind::Search => {
                    for f in &resolved {
                        if textual.contains(f) {
                            push(&mut list.search, f);
                        } else if !json.contains(f)
                            && !matches!(f.as_str(), "limit" | "offset" | "sort" | "q")
                        {
                            push(&mut list.filters, f);
                        }
                    }
                }
                ListKind::Sort => {
                    for f in &resolved {
                        if !json.contains(f) {
                            push(&mut list.sort, f);
                        }
                    }
                }
                ListKind::Paginate { default, max } => {
                    let cap = crate::design::validate::MAX_PAGE_SIZE;
                    if let Some(m) = max {
                        list.max_page_size = m.clamp(1, cap);
                    }
                    if let Some(d) = default {
                        list.default_page_size = d.clamp(1, cap);
                        if list.max_page_size < list.default_page_size {
                            list.max_page_size = list.default_page_size.max(100).min(cap);
                        }
                    }
                    if list.default_page_size > list.max_page_size {
                        list.default_page_size = list.max_page_size;
                    }
                }
            }
        }
    }

    /// Filters for enum, boolean and foreign-key fields; search and sort for name-like
    /// text; sort for dates — only for what this prompt added, so a follow-up never
    /// undoes a person's choice.
    fn infer_lists(&mut self) {
        for (res, field) in std::mem::take(&mut self.new_fields) {
            let Some(r) = self.design.resource_mut(&res) else {
                continue;
            };
            let Some(f) = r.field(&field) else { continue };
            let (ty, name) = (f.ty, f.name.clone());
            let Some(list) = &mut r.operations.list else {
                continue;
            };
            let add = |v: &mut Vec<String>| {
                if !v.contains(&name) {
                    v.push(name.clone());
                }
            };
            if matches!(ty, FieldType::Enum | FieldType::Boolean)
                && !matches!(name.as_str(), "limit" | "offset" | "sort" | "q")
            {
                add(&mut list.filters);
            }
            if ty.is_textual() && lexicon::is_search_field(&name) {
                add(&mut list.search);
                add(&mut list.sort);
            }
            if matches!(ty, FieldType::Date | FieldType::DateTime) {
                add(&mut list.sort);
            }
        }
        for (res, fk) in std::mem::take(&mut self.new_relations) {
            if let Some(r) = self.design.resource_mut(&res)
                && r.relations.iter().any(|rel| rel.field == fk)
                && let Some(list) = &mut r.operations.list
                && !list.filters.contains(&fk)
            {
                list.filters.push(fk);
            }
        }
    }
}
