//! Reads the sentences of a prompt that describe resources, fields, relations and list
//! options into a [`Draft`].

use super::draft::{APP_WORDS, Draft, ListKind, ListRequest, is_entity_like, noun_phrase};
use super::inflection::looks_plural;
use super::lexicon;
use super::text::{self, split_list, words};

/// Connectors between a resource and its fields, earliest match wins.
const CONNECTORS: &[&str] = &[
    " with ",
    " has ",
    " have ",
    " having ",
    " containing ",
    " contains ",
    " including ",
    " includes ",
    " consisting of ",
    " storing ",
    " stores ",
    " holding ",
    " holds ",
    " need ",
    " needs ",
    " described by ",
    " defined by ",
    ": ",
    " - ",
];

/// Quantifiers after "has" that make it a has-many relation.
const MANY: &[&str] = &[
    "many ",
    "multiple ",
    "several ",
    "one or more ",
    "zero or more ",
    "a list of ",
    "lots of ",
    "any number of ",
    "a number of ",
    "some ",
    "one ",
];

/// Phrases that make one resource belong to another; the child precedes them.
const BELONGS: &[&str] = &[
    " belongs to ",
    " belong to ",
    " belonging to ",
    " is assigned to ",
    " are assigned to ",
    " assigned to ",
    " is owned by ",
    " are owned by ",
    " owned by ",
    " is linked to ",
    " are linked to ",
    " linked to ",
    " is attached to ",
    " are attached to ",
    " attached to ",
    " is part of ",
    " are part of ",
    " refers to ",
    " refer to ",
    " references ",
    " reference ",
    " is for ",
    " are for ",
    " are made by ",
    " is made by ",
    " made by ",
    " is written by ",
    " are written by ",
    " written by ",
    " is placed by ",
    " are placed by ",
    " placed by ",
    " are created by ",
    " is created by ",
];

/// Phrases that make one resource link several others ("enrollments linking students
/// and courses").
const LINKING: &[&str] = &[
    " link ",
    " linking ",
    " links ",
    " connecting ",
    " connects ",
    " joining ",
    " joins ",
    " between ",
    " that link ",
    " that links ",
];

#[derive(Debug, Clone, PartialEq)]
enum Mode {
    /// Nothing read yet in this sentence.
    Start,
    /// Items are resources ("doctors (…), patients (…) and visits (…)").
    Resources,
    /// Items are fields of this resource.
    Fields(String),
}

/// Reads one sentence. Returns whether it contributed anything.
pub fn read_sentence(draft: &mut Draft, sentence: &str) -> bool {
    let before = draft.fingerprint();
    let s = sentence.trim();
    if starts_with_list_op(s) {
        read_list_ops(draft, s, None);
        return draft.fingerprint() != before;
    }
    if possessive_field(draft, s) || action_sentence(draft, s) {
        return true;
    }
    let mut mode = Mode::Start;
    let items = merge_enum_tails(split_list(s, false));
    let mut i = 0;
    while i < items.len() {
        let item = items[i].as_str();
        // "role (sorting, driving)": words in brackets are values, not requests.
        if contains_list_op(&outside_brackets(item)) {
            let rest = items[i..].join(", ");
            let fallback = match &mode {
                Mode::Fields(r) => Some(r.clone()),
                _ => draft.last_resource.clone(),
            };
            read_list_ops(draft, &rest, fallback);
            break;
        }
        mode = read_item(draft, item, mode);
        i += 1;
    }
    draft.fingerprint() != before
}

fn read_item(draft: &mut Draft, item: &str, mode: Mode) -> Mode {
    if relation_item(draft, item) {
        return match draft.last_resource.clone() {
            Some(r) => Mode::Fields(r),
            None => Mode::Resources,
        };
    }
    // "…, with a role (owner, member)", "each with a number": fields of the resource
    // just named.
    for lead in [
        "with ",
        "each with ",
        "each having ",
        "having ",
        "each has ",
        "each one has ",
        "have ",
        "has ",
        "and have ",
        "and has ",
        "also have ",
        "also has ",
    ] {
        if let Some(rest) = item.strip_prefix(lead)
            && let Some(res) = draft.last_resource.clone()
        {
            for part in merge_enum_tails(split_list(rest, false)) {
                add_field_or_resource(draft, &res, &part);
            }
            return Mode::Fields(res);
        }
    }
    let padded = format!(" {item} ");
    if let Some((head, rest)) = split_connector(&padded) {
        let rest = rest.trim();
        let padded_head = head.clone();
        let mut head = head.trim().to_owned();
        // "campaigns (title, goal) have many reward tiers": the bracket lists the
        // fields of the noun before it.
        // "objects (we call them artefacts) have …": the bracket renames the noun.
        if let Some((_, inner, post)) = paren_item(&head)
            && words(&inner)
                .iter()
                .any(|w| matches!(*w, "call" | "called" | "aka" | "named" | "known"))
            && let Some(name) = words(&inner).last().map(|w| (*w).to_owned())
        {
            head = format!("{name} {post}");
        }
        if let Some((pre, inner, post)) = paren_item(&head)
            && !words(&inner).iter().any(|w| PRONOUNS.contains(w))
            && let Some(np) = noun_phrase(&head_clause(&pre).0)
                .filter(|np| is_entity_like(np))
                .or_else(|| noun_phrase(&pre).filter(|np| is_entity_like(np)))
            && let Some(res) = draft.ensure_resource(&np)
        {
            for part in merge_enum_tails(split_list(&inner, false)) {
                add_field_or_resource(draft, &res, &part);
            }
            // "hives (…) and the inspections I do on each hive: …": the colon's head is
            // the noun after "and".
            head = match post.strip_prefix("and ") {
                Some(next) => next.to_owned(),
                None => format!("{pre} {post}"),
            };
        }
        // "it has a start time", "each has …": the resource just named.
        let hw: Vec<String> = words(&head).into_iter().map(str::to_owned).collect();
        if !hw.is_empty()
            && hw.iter().all(|w| {
                matches!(
                    w.as_str(),
                    "it" | "they"
                        | "each"
                        | "one"
                        | "these"
                        | "those"
                        | "this"
                        | "and"
                        | "also"
                        | "which"
                        | "that"
                        | "then"
                        | "every"
                )
            })
            && let Some(last) = draft.last_resource.clone()
        {
            head = last.replace('_', " ");
        }
        // "questions can have answers (…)": a modal before "have" lists children.
        let modal_have = hw.len() >= 2 && hw.last().is_some_and(|w| MODALS.contains(&w.as_str()));
        if modal_have {
            head = hw[..hw.len() - 1].join(" ");
        }
        // "I'm a landlord with a few buildings": the speaker, not a resource.
        let speaker = words(&head).windows(2).any(|w| {
            matches!(
                (w[0], w[1]),
                ("im" | "i'm" | "we're" | "were" | "am", "a" | "an") | ("i", "am") | ("we", "are")
            )
        });
        if speaker {
            return mode;
        }
        let head = head.as_str();
        let app = is_app_head(head, rest);
        // "CRUD API for vendors with …", "an API for my shop to manage products with …":
        // the plural the API is for is the resource; otherwise the app names no
        // resource and the rest lists them.
        let head = match (app, app_subject(head)) {
            (true, Some(subject)) => subject,
            (true, None) => return read_item(draft, rest, Mode::Resources),
            (false, _) => head.to_owned(),
        };
        // "walks are booked for a dog", "shots for a scene": the subject is the
        // resource, the nouns after its prepositions are its parents.
        let (mut head, mut parents) = head_clause(&head);
        // "group photos into albums with a title": the container is described, the
        // grouped things belong to it.
        let mut grouped = None;
        let spaced = format!(" {} ", words(&padded_head).join(" "));
        if let Some((before, container)) = spaced.split_once(" into ")
            && let Some(c) = noun_phrase(container.trim())
        {
            grouped = noun_phrase(&head_clause(before.trim()).0).or_else(|| noun_phrase(&head));
            head = c;
            parents.clear();
        }
        if let Some(np) = resource_head(draft, &head, &mode) {
            if let Some(g) = &grouped {
                draft.relate(g, &np, false, true);
            }
            // "a publisher has many books"
            let children = MANY
                .iter()
                .find_map(|m| rest.strip_prefix(m))
                .or(modal_have.then_some(rest));
            if let Some(children) = children {
                let Some(parent) = draft.ensure_resource(&np) else {
                    return mode;
                };
                // "many fish with species, nickname": one child and its fields.
                let padded_children = format!(" {children} ");
                let one = split_connector(&padded_children)
                    .is_some_and(|(h, _)| !h.contains(',') && !h.contains(" and "));
                if one {
                    if let Some(child) = many_child(draft, &parent, children) {
                        return Mode::Fields(child);
                    }
                } else {
                    for child in split_list(children, true) {
                        many_child(draft, &parent, &child);
                    }
                }
                draft.last_resource = Some(parent);
                return Mode::Resources;
            }
            let Some(res) = draft.ensure_resource(&np) else {
                return mode;
            };
            for p in &parents {
                draft.relate(&res, p, true, false);
            }
            let rest = rest
                .strip_prefix("fields ")
                .or_else(|| rest.strip_prefix("the fields "))
                .or_else(|| rest.strip_prefix("attributes "))
                .unwrap_or(rest);
            for part in merge_enum_tails(split_list(rest, false)) {
                add_field_or_resource(draft, &res, &part);
            }
            return Mode::Fields(res);
        }
    }
    if let Some((head, inner, after)) = paren_item(item) {
        // "I want to track my hives (…)": when the head is no clause with a noun
        // subject, the noun phrase it ends on.
        // "group monitors into dashboards (name, slug)": the container has the fields.
        let spaced = format!(" {} ", words(&head).join(" "));
        let head = match spaced.split_once(" into ") {
            Some((before, container)) if noun_phrase(container.trim()).is_some() => {
                if let (Some(g), Some(c)) = (
                    noun_phrase(&head_clause(before.trim()).0),
                    noun_phrase(container.trim()),
                ) {
                    draft.relate(&g, &c, false, false);
                }
                container.trim().to_owned()
            }
            _ => head,
        };
        let (clause_subject, clause_parents) = head_clause(&head);
        let (head_subject, head_parents) = match noun_phrase(&clause_subject) {
            Some(_) => (clause_subject, clause_parents),
            None => (head.clone(), Vec::new()),
        };
        let head_np = noun_phrase(&head_subject);
        let head_word = head.split_whitespace().last().unwrap_or("");
        let enum_head = lexicon::ENUM_WORDS.contains(&head_word) || inner_is_modifiers(&inner);
        let fieldy = inner_is_fieldy(&inner);
        let new_resource = match &mode {
            Mode::Fields(_) => {
                !enum_head && fieldy && head_np.as_deref().is_some_and(is_entity_like)
            }
            Mode::Start | Mode::Resources => !enum_head || fieldy,
        };
        if new_resource && head_np.is_some() {
            let (np, mut parents) = (head_subject, head_parents);
            let (_, after_parents) = head_clause(&format!("it {after}"));
            parents.extend(after_parents);
            if let Some(res) = noun_phrase(&np).and_then(|np| draft.ensure_resource(&np)) {
                for part in merge_enum_tails(split_list(&inner, false)) {
                    add_field_or_resource(draft, &res, &part);
                }
                for p in &parents {
                    draft.relate(&res, p, true, false);
                }
                // "backers (name, email) make pledges (amount) to a campaign": the
                // clause after the bracket is read with its subject.
                let verb_after = words(&after).first().is_some_and(|w| {
                    !PREPOSITIONS.contains(w) && !matches!(*w, "and" | "or" | "with")
                });
                if verb_after && after.contains('(') {
                    read_item(draft, &format!("{np} {after}"), Mode::Resources);
                }
                return Mode::Resources;
            }
        }
        let target = match &mode {
            Mode::Fields(r) => Some(r.clone()),
            _ => draft.last_resource.clone(),
        };
        if let Some(res) = target {
            draft.add_field_phrase(&res, item);
            return mode;
        }
        return mode;
    }
    match mode {
        Mode::Fields(res) => {
            add_field_or_resource(draft, &res, item);
            Mode::Fields(res)
        }
        Mode::Start | Mode::Resources => {
            let (subject, parents, app) = match app_subject(item) {
                Some(subject) => (subject, Vec::new(), true),
                None => {
                    let (s, p) = head_clause(item);
                    (s, p, false)
                }
            };
            // "users can access it": a clause that relates nothing declares nothing.
            if !app && parents.is_empty() && words(&subject).len() < words(item).len() {
                return mode;
            }
            // "logged against a deal": a participle clause about the resource just named.
            if !parents.is_empty()
                && !subject.contains(' ')
                && subject.ends_with("ed")
                && let Some(last) = draft.last_resource.clone()
            {
                for p in &parents {
                    draft.relate(&last, p, true, false);
                }
                return Mode::Fields(last);
            }
            // "a session is played in one room": a resource already named, related.
            if !parents.is_empty()
                && let Some(known) = noun_phrase(&subject).and_then(|np| draft.resolve(&np))
            {
                for p in &parents {
                    draft.relate(&known, p, true, false);
                }
                draft.last_resource = Some(known.clone());
                return Mode::Fields(known);
            }
            if let Some(np) = noun_phrase(&subject) {
                let few_words =
                    subject.split_whitespace().count() <= 4 && item.split_whitespace().count() <= 7;
                if few_words && (mode == Mode::Resources || is_entity_like(&np)) {
                    if let Some(res) = draft.ensure_resource(&np) {
                        for p in &parents {
                            draft.relate(&res, p, true, false);
                        }
                        // "aliquots are split off a sample and have …": the clause's
                        // subject is still being described.
                        if !parents.is_empty() {
                            return Mode::Fields(res);
                        }
                    }
                    return Mode::Resources;
                }
            }
            mode
        }
    }
}

/// A field item that may also start a new resource ("…, and issues with subject").
fn add_field_or_resource(draft: &mut Draft, res: &str, part: &str) {
    // "bedrooms - each unit is in a building": a field, then an aside.
    if let Some((field, aside)) = part.split_once(" - ")
        && !field.contains('(')
        && (words(aside).iter().any(|w| AUXILIARIES.contains(w))
            || BELONGS.iter().any(|b| format!(" {aside} ").contains(b)))
    {
        add_field_or_resource(draft, res, field);
        add_field_or_resource(draft, res, aside);
        return;
    }
    let padded = format!(" {part} ");
    if let Some((head, _)) = split_connector(&padded)
        && let Some(np) = noun_phrase(head.trim())
        && is_entity_like(&np)
        && head.split_whitespace().count() <= 4
        && !lexicon::FIELD_WORDS.contains(&np.as_str())
    {
        read_item(draft, part, Mode::Resources);
        return;
    }
    if relation_item(draft, part) {
        return;
    }
    // "contacts work at a company", "each unit is in a building", "logged against a
    // deal": a clause relating a resource, not a field.
    let (subject, parents) = head_clause(part);
    if !parents.is_empty() {
        let subject_np = noun_phrase(&subject);
        let known = subject_np.as_deref().and_then(|np| draft.resolve(np));
        // "entered at", "posted on" name timestamps and dates, not clauses.
        let timestamp = matches!(words(part).get(1), Some(&"at" | &"on"));
        let participle = !subject.contains(' ') && subject.ends_with("ed") && !timestamp;
        let has_aux = words(part).iter().any(|w| AUXILIARIES.contains(w));
        let child = known
            .or_else(|| participle.then(|| res.to_owned()))
            .or_else(|| {
                subject_np
                    .filter(|np| has_aux && is_entity_like(np))
                    .and_then(|np| draft.ensure_resource(&np))
            });
        if let Some(child) = child {
            for p in &parents {
                draft.relate(&child, p, true, false);
            }
            return;
        }
    }
    draft.add_field_phrase(res, part);
}

fn resource_head(draft: &Draft, head: &str, mode: &Mode) -> Option<String> {
    let np = noun_phrase(head)?;
    let first = head.split_whitespace().next().unwrap_or("");
    let quantified = matches!(first, "each" | "every" | "all");
    let known = draft.resolve(&np).is_some();
    match mode {
        Mode::Fields(_) => (is_entity_like(&np) || quantified || known)
            .then_some(np)
            .filter(|np| !lexicon::FIELD_WORDS.contains(&np.as_str())),
        _ => Some(np),
    }
}

/// `head with rest`: the earliest connector outside brackets.
fn split_connector(padded: &str) -> Option<(String, String)> {
    let mut found: Vec<(usize, &str)> = CONNECTORS
        .iter()
        .filter_map(|c| find_outside_brackets(padded, c).map(|pos| (pos, *c)))
        .collect();
    found.sort();
    found.into_iter().find_map(|(pos, c)| {
        let head = &padded[..pos];
        let rest = &padded[pos + c.len()..];
        if head.trim().is_empty() || rest.trim().is_empty() {
            return None;
        }
        let rest_ws = words(rest);
        let rest_is_clause = rest_ws.iter().take(6).any(|w| AUXILIARIES.contains(w))
            || BELONGS.iter().any(|b| rest.contains(b));
        if matches!(c, " need " | " needs ") {
            // "walkers just need a name": only a plural subject's needs are its fields.
            let subject = head_clause(head).0;
            let plural = words(&subject).last().is_some_and(|w| looks_plural(w));
            let rest_is_app = rest_ws.iter().any(|w| APP_WORDS.contains(w));
            if !plural || rest_is_app {
                return None;
            }
        }
        if c == " - " {
            // A dash joins a list's head to its fields only after a plural ("volunteers
            // - name, email") or an app ("aquarium api - tanks …"), and not before a
            // clause ("bedrooms - each unit is in a building"); elsewhere it is an aside.
            let ws = words(head);
            let last = ws.last().copied().unwrap_or("");
            if !(looks_plural(last) || APP_WORDS.contains(&last)) || rest_is_clause {
                return None;
            }
        }
        Some((head.to_owned(), rest.to_owned()))
    })
}

/// `s` without its bracketed groups.
fn outside_brackets(s: &str) -> String {
    let mut depth = 0usize;
    s.chars()
        .filter(|c| {
            match c {
                '(' | '[' => depth += 1,
                ')' | ']' => {
                    depth = depth.saturating_sub(1);
                    return false;
                }
                _ => {}
            }
            depth == 0
        })
        .collect()
}

fn find_outside_brackets(s: &str, needle: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut depth = 0usize;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'(' | b'[' => depth += 1,
            b')' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth == 0 && s[i..].starts_with(needle) {
            return Some(i);
        }
    }
    None
}

/// "a bakery API", "Bookstore API", "a library" (followed by plural resources).
fn is_app_head(head: &str, rest: &str) -> bool {
    // Only the subject can name the app: "inspections happen on a site" is about
    // inspections, wherever they happen.
    let (subject, _) = head_clause(head);
    let ws = words(&subject);
    // An app word names the app only where its noun phrase ends ("a bakery API",
    // "an API for …"), not as a modifier ("service records", "store items").
    let app_word = ws.iter().enumerate().any(|(i, w)| {
        APP_WORDS.contains(w)
            && ws.get(i + 1).is_none_or(|next| {
                PREPOSITIONS.contains(next)
                    || matches!(
                        *next,
                        "where"
                            | "that"
                            | "which"
                            | "so"
                            | "called"
                            | "named"
                            | "i"
                            | "we"
                            | "my"
                            | "our"
                            | "and"
                            | "-"
                            | "with"
                    )
            })
    });
    if app_word && !ws.iter().any(|w| matches!(*w, "where" | "that" | "which")) {
        return true;
    }
    let last_word = ws.last().copied().unwrap_or("");
    let activity = ws.len() <= 3
        && (last_word.ends_with("ing") || last_word.ends_with("ment"))
        && lexicon::entity(last_word).is_none();
    let single = activity || (ws.len() <= 3 && matches!(ws.first(), Some(&"a") | Some(&"an")));
    let first_rest = split_list(rest, false)
        .into_iter()
        .next()
        .unwrap_or_default();
    let rest_np = noun_phrase(first_rest.split('(').next().unwrap_or(""));
    let last = ws.last().copied().unwrap_or("");
    single
        && !looks_plural(last)
        && lexicon::entity(last).is_none()
        && rest_np
            .is_some_and(|np| is_entity_like(&np) && !lexicon::FIELD_WORDS.contains(&np.as_str()))
}

/// `head (inner) after` for an item with a bracketed group.
fn paren_item(item: &str) -> Option<(String, String, String)> {
    let open = item.find('(')?;
    let mut depth = 0usize;
    let mut close = None;
    for (i, b) in item.bytes().enumerate().skip(open) {
        match b {
            b'(' => depth += 1,
            b')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    close = Some(i);
                    break;
                }
            }
            _ => {}
        }
    }
    let close = close.unwrap_or(item.len());
    let head = item[..open].trim().to_owned();
    let inner = item[open + 1..close].trim().to_owned();
    let after = item.get(close + 1..).unwrap_or("").trim().to_owned();
    if head.is_empty() {
        return None;
    }
    Some((head, inner, after))
}

/// Whether a bracketed group lists fields ("name, date of birth, phone") rather than
/// enum values ("low, normal, high").
pub(super) fn inner_is_fieldy(inner: &str) -> bool {
    split_list(inner, false).iter().any(|part| {
        let ws = words(part);
        ws.iter().any(|w| {
            lexicon::FIELD_WORDS.contains(w)
                || matches!(
                    *w,
                    "unique" | "optional" | "required" | "flag" | "date" | "at"
                )
        }) || ws.len() >= 2 && lexicon::type_for_name(&text::snake(part)).1 == lexicon::Guess::Named
            || part.contains('(')
            || part.contains('/')
    })
}

/// "(unique)", "(optional)", "(1-10)", "(in kg)": modifiers of one field.
fn inner_is_modifiers(inner: &str) -> bool {
    split_list(inner, true).iter().all(|part| {
        let ws = words(part);
        ws.first().is_some_and(|w| {
            matches!(
                *w,
                "unique"
                    | "optional"
                    | "required"
                    | "in"
                    | "max"
                    | "min"
                    | "default"
                    | "between"
                    | "from"
                    | "up"
                    | "at"
                    | "positive"
                    | "nullable"
                    | "mandatory"
                    | "e.g"
                    | "eg"
                    | "integer"
                    | "decimal"
                    | "text"
                    | "boolean"
                    | "json"
                    | "uuid"
            ) || w.bytes().next().is_some_and(|b| b.is_ascii_digit())
        })
    })
}

/// Prepositions that relate a resource to the noun after them ("shots for a scene",
/// "chargers at a site", "messages in a conversation", "bids placed by a bidder on a
/// lot"). Only nouns that turn out to be resources become parents.
const PREPOSITIONS: &[&str] = &[
    "for", "of", "on", "in", "at", "to", "from", "by", "into", "inside", "within", "under", "per",
    "about", "against", "off", "across", "over", "near", "behind", "beside",
];

/// Auxiliaries and modals: after a subject they start its verb group.
const AUXILIARIES: &[&str] = &[
    "is", "are", "was", "were", "be", "been", "get", "gets", "got", "can", "may", "must", "should",
    "will", "would", "could", "might",
];

/// Personal pronouns: after a noun they open a relative clause ("the trips we take").
const PRONOUNS: &[&str] = &[
    "i", "we", "you", "they", "he", "she", "it", "people", "users",
];

/// Modal verbs: after a subject, the verb after them is active ("can post").
const MODALS: &[&str] = &[
    "can", "may", "must", "should", "will", "would", "could", "might",
];

/// Adverbs that sit between a subject and its verb ("walkers just need", "users also
/// have").
const ADVERBS: &[&str] = &[
    "just",
    "only",
    "also",
    "always",
    "usually",
    "simply",
    "then",
    "now",
    "still",
    "really",
    "mainly",
    "mostly",
    "often",
    "sometimes",
    "typically",
    "each",
    "all",
    "both",
    "too",
];

/// Words between a preposition and its noun.
const DETERMINERS: &[&str] = &[
    "a",
    "an",
    "the",
    "one",
    "each",
    "every",
    "some",
    "any",
    "its",
    "their",
    "his",
    "her",
    "my",
    "our",
    "your",
    "two",
    "exactly",
    "single",
    "given",
    "specific",
    "particular",
];

/// Splits a clause head into its subject and the nouns its prepositions lead to:
/// "walks are booked for a dog" → ("walks", ["dog"]); "each unit is in a building" →
/// ("each unit", ["building"]); "inspections happen on a site" → ("inspections",
/// ["site"]); "bids placed by a bidder on a lot" → ("bids", ["bidder", "lot"]).
/// A head without such a structure comes back whole with no parents.
pub fn head_clause(head: &str) -> (String, Vec<String>) {
    let ws = words(head);
    let subject_end = (1..ws.len()).find(|&i| {
        let (prev, w) = (ws[i - 1], ws[i]);
        PREPOSITIONS.contains(&w)
            || AUXILIARIES.contains(&w)
            || ADVERBS.contains(&w)
            // "a mission uses a rocket": a verb in -s between a noun and a determiner.
            || (w.ends_with('s')
                && !w.ends_with("ss")
                && !looks_plural(prev)
                && !DETERMINERS.contains(&prev)
                && ws.get(i + 1).is_some_and(|n| DETERMINERS.contains(n)))
            // A plural noun ends its phrase ("inspections happen", "clients sign up"):
            // plurals rarely modify the noun after them.
            || (looks_plural(prev)
                && !looks_plural(w)
                && !prev.ends_with("ss")
                && !matches!(prev, "sales" | "news" | "series" | "species" | "goods" | "sports" | "its" | "this" | "is" | "was" | "has" | "does" | "less" | "plus" | "us")
                && !DETERMINERS.contains(&prev)
                && !DETERMINERS.contains(&w)
                && !w.starts_with(|c: char| c.is_ascii_digit()))
    });
    let Some(end) = subject_end else {
        return (head.trim().to_owned(), Vec::new());
    };
    let mut subject = ws[..end].join(" ");
    let mut parents = Vec::new();
    let mut i = end;
    while i < ws.len() && ADVERBS.contains(&ws[i]) {
        i += 1;
    }
    // "anyone can post trail reports for a trail", "bidders place bids on lots": an
    // active verb with an object; the object is what the rest describes, the subject
    // (when it is a resource) its parent.
    let relative = i < ws.len() && PRONOUNS.contains(&ws[i]);
    let verb = if relative {
        // "the inspections I do on each hive": a relative clause; the subject stays.
        None
    } else if i < ws.len() && MODALS.contains(&ws[i]) {
        (!matches!(ws.get(i + 1), Some(&"be" | &"have" | &"has" | &"also")) && i + 1 < ws.len())
            .then_some(i + 1)
    } else if i < ws.len() && !PREPOSITIONS.contains(&ws[i]) && !AUXILIARIES.contains(&ws[i]) {
        Some(i)
    } else {
        None
    };
    if let Some(v) = verb {
        let mut j = v + 1;
        // Phrasal particles: "sign up", "log in".
        while j < ws.len() && matches!(ws[j], "up" | "in" | "out" | "off" | "down") && j == v + 1 {
            j += 1;
        }
        while j < ws.len() && DETERMINERS.contains(&ws[j]) {
            j += 1;
        }
        let start = j;
        while j < ws.len()
            && !PREPOSITIONS.contains(&ws[j])
            && !AUXILIARIES.contains(&ws[j])
            && !matches!(
                ws[j],
                "and" | "or" | "with" | "that" | "which" | "who" | "too"
            )
        {
            j += 1;
        }
        let plural_object = j > start && looks_plural(ws[j - 1]);
        if j > start && j - start <= 3 && plural_object {
            let object = ws[start..j].join(" ");
            if let Some(np) = noun_phrase(&subject) {
                parents.push(np);
            }
            subject = object;
            i = j;
        } else if j > start
            && j - start <= 3
            && ws[v].ends_with('s')
            && !ws[v].ends_with("ss")
            && !words(&subject).last().is_some_and(|w| looks_plural(w))
            && !PRONOUNS.contains(&ws[start])
            && !matches!(ws[start], "them" | "it" | "everything" | "anything")
        {
            // "a mission uses a rocket": the one thing it uses is a parent.
            parents.push(ws[start..j].join(" "));
            i = j;
        }
    }
    while i < ws.len() {
        if PREPOSITIONS.contains(&ws[i]) {
            let mut j = i + 1;
            while j < ws.len() && DETERMINERS.contains(&ws[j]) {
                j += 1;
            }
            let start = j;
            while j < ws.len()
                && !PREPOSITIONS.contains(&ws[j])
                && !AUXILIARIES.contains(&ws[j])
                && !matches!(ws[j], "and" | "or" | "with" | "that" | "which" | "who")
            {
                j += 1;
            }
            if j > start && j - start <= 3 {
                // Raw words when the noun phrase is refused ("a site"): only a resource
                // of that name becomes a parent.
                let raw = ws[start..j].join(" ");
                parents.push(noun_phrase(&raw).unwrap_or(raw));
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    (subject, parents)
}

/// The resource an app description is for: "crud api for vendors" → "vendors", "an
/// api for my bakery to manage products" → "products", "a backend where clients sign
/// up" → "clients"; `None` when it names only the app or a singular business.
fn app_subject(head: &str) -> Option<String> {
    let ws = words(head);
    let pivot = ws.iter().rposition(|w| {
        matches!(
            *w,
            "for"
                | "manage"
                | "managing"
                | "track"
                | "tracking"
                | "where"
                | "store"
                | "storing"
                | "handle"
                | "handling"
                | "of"
                | "organise"
                | "organize"
                | "list"
                | "listing"
        )
    })?;
    let tail = ws[pivot + 1..].join(" ");
    let (subject, _) = head_clause(&tail);
    let np = noun_phrase(&subject)?;
    let last = np.rsplit(' ').next().unwrap_or(&np);
    (looks_plural(last) && !APP_WORDS.contains(&last)).then_some(subject)
}

/// One child of "X has many …": "dogs (name, breed)", "fish with species, nickname",
/// or a bare noun.
/// Returns the child when its fields follow ("fish with species, …"), so the items
/// after it are its fields too.
fn many_child(draft: &mut Draft, parent: &str, child: &str) -> Option<String> {
    if let Some((head, inner, _)) = paren_item(child) {
        if let Some(c) = noun_phrase(&head).and_then(|np| draft.ensure_resource(&np)) {
            for part in merge_enum_tails(split_list(&inner, false)) {
                add_field_or_resource(draft, &c, &part);
            }
            draft.relate(&c, parent, true, false);
        }
        return None;
    }
    let padded = format!(" {child} ");
    if let Some((head, rest)) = split_connector(&padded)
        && let Some(c) = noun_phrase(head.trim()).and_then(|np| draft.ensure_resource(&np))
    {
        for part in merge_enum_tails(split_list(rest.trim(), false)) {
            add_field_or_resource(draft, &c, &part);
        }
        draft.relate(&c, parent, true, false);
        return Some(c);
    }
    if let Some(c) = noun_phrase(child) {
        // "folders can contain subfolders": a sub-thing is the thing itself.
        if let Some(base) = c.strip_prefix("sub")
            && draft.resolve(base).as_deref() == Some(parent)
        {
            draft.relate(parent, parent, false, false);
            return None;
        }
        let plural = c.rsplit(' ').next().is_some_and(looks_plural);
        draft.relate(&c, parent, true, plural || draft.resolve(&c).is_some());
    }
    None
}

/// Relation phrases: "each book belongs to a publisher", "visits belong to a doctor
/// and a patient", "enrollments linking students and courses".
pub fn relation_item(draft: &mut Draft, item: &str) -> bool {
    let padded = format!(" {item} ");
    // The earliest relation phrase governs: "an appointment is for a client and is
    // assigned to a stylist" relates through "is for" first.
    let earliest = BELONGS
        .iter()
        .filter_map(|p| padded.find(p).map(|pos| (pos, usize::MAX - p.len(), *p)))
        .min()
        .map(|(_, _, p)| p);
    if let Some(phrase) = earliest
        && let Some(pos) = padded.find(phrase)
    {
        let child = padded[..pos].trim();
        let parents = padded[pos + phrase.len()..].trim();
        // "... that books belong to": the parent is what came before "that".
        if parents.is_empty() {
            return false;
        }
        let optional = [" can ", " may ", " optionally ", " might "]
            .iter()
            .any(|w| format!(" {child} ").contains(w));
        // "checklist items (name, quantity) belong to a checklist": the bracket
        // lists the child's fields.
        let (child, group) = match paren_item(child) {
            Some((head, inner, _)) => (head, Some(inner)),
            None => (child.to_owned(), None),
        };
        let child = child
            .trim_end_matches(" can")
            .trim_end_matches(" may")
            .trim_end_matches(" must")
            .trim_end_matches(" should")
            .trim_end_matches(" optionally")
            .trim_end_matches(" always")
            .trim_end_matches(" is")
            .trim_end_matches(" are");
        // "…and belong to a book": the resource being described is the child.
        let child_np = match noun_phrase(child) {
            Some(np) => np,
            None if child.split_whitespace().all(|w| {
                matches!(
                    w,
                    "and"
                        | "also"
                        | "each"
                        | "they"
                        | "it"
                        | "which"
                        | "that"
                        | "is"
                        | "are"
                        | "can"
                        | "must"
                        | "should"
                        | "will"
                        | "be"
                        | "then"
                )
            }) =>
            {
                match draft.last_resource.clone() {
                    Some(r) => r.replace('_', " "),
                    None => return false,
                }
            }
            None => return false,
        };
        // "work orders assigned to a technician (title, priority)": a bracket after
        // the parent lists the child's fields.
        let (parents, group) = match (group, paren_item(parents)) {
            (None, Some((p, inner, _)))
                if p.split_whitespace().count() <= 4 && !p.contains(" and ") =>
            {
                (p, Some(inner))
            }
            (group, _) => (parents.to_owned(), group),
        };
        // "… and is assigned to a stylist": a second relation of the same child.
        let (parents, chained) = match BELONGS
            .iter()
            .filter_map(|b| {
                let cut = format!(" and{b}");
                format!(" {parents} ").find(&cut).map(|p| (p, cut))
            })
            .min()
        {
            Some((p, _)) => {
                let padded_parents = format!(" {parents} ");
                let rest = padded_parents[p + " and".len()..].to_owned();
                (padded_parents[..p].trim().to_owned(), Some(rest))
            }
            None => (parents, None),
        };
        if let Some(rest) = chained {
            relation_item(draft, &format!("{child_np}{rest}"));
        }
        // "lists belong to boards and have a title": the rest are fields.
        let mut parents = parents;
        let mut fields = None;
        for cut in [
            ": ",
            " and records ",
            " and stores ",
            " and tracks ",
            " and holds ",
            " and keeps ",
            " and includes ",
            " and needs ",
            " and have ",
            " and has ",
            " and contain ",
            " with ",
            " having ",
            " and are ",
            " and is ",
        ] {
            if let Some((p, f)) = format!(" {parents} ").split_once(cut) {
                fields = Some(f.trim().to_owned());
                parents = p.trim().to_owned();
                break;
            }
        }
        // "sponsors and teams belong to a hackathon": each child relates.
        let siblings: Vec<String> = split_list(child, true)
            .iter()
            .skip(1)
            .filter_map(|c| noun_phrase(c))
            .collect();
        let first_child = split_list(child, true)
            .first()
            .and_then(|c| noun_phrase(c))
            .filter(|_| !siblings.is_empty());
        for parent in split_list(&parents, true) {
            let parent = parent
                .trim_start_matches("one ")
                .trim_start_matches("exactly one ");
            if let Some(p) = noun_phrase(parent) {
                draft.relate(&child_np, &p, !optional, true);
                for c in first_child.iter().chain(&siblings) {
                    draft.relate(c, &p, !optional, true);
                }
            }
        }
        // What follows ("it has a start time") is about the child.
        draft.ensure_resource(&child_np);
        if let Some(fields) = fields
            && let Some(res) = draft.ensure_resource(&child_np)
        {
            for part in merge_enum_tails(split_list(&fields, false)) {
                draft.add_field_phrase(&res, &part);
            }
        }
        if let Some(group) = group
            && let Some(res) = draft.ensure_resource(&child_np)
        {
            for part in merge_enum_tails(split_list(&group, false)) {
                draft.add_field_phrase(&res, &part);
            }
        }
        return true;
    }
    for phrase in LINKING {
        if let Some(pos) = padded.find(phrase) {
            let parents = &padded[pos + phrase.len()..];
            if parents
                .trim_start()
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_digit())
            {
                return false;
            }
            let Some(child_np) = noun_phrase(head_clause(padded[..pos].trim()).0.as_str()) else {
                return false;
            };
            let Some(child) = draft.ensure_resource(&child_np) else {
                return false;
            };
            // "scores link a judge to a project", "matches between two teams with a
            // kick-off time": the parents, then the child's fields.
            let (parents, fields) = match find_outside_brackets(parents, " with ") {
                Some(w) => (&parents[..w], Some(&parents[w + " with ".len()..])),
                None => (parents, None),
            };
            let mut any = false;
            for part in split_list(parents.trim(), true) {
                for parent in part.split(" to ") {
                    let parent = parent
                        .trim_start_matches("two ")
                        .trim_start_matches("both ");
                    if let Some(p) = noun_phrase(parent) {
                        draft.relate(&child, &p, true, true);
                        any = true;
                    }
                }
            }
            if let Some(fields) = fields {
                for part in merge_enum_tails(split_list(fields.trim(), false)) {
                    draft.add_field_phrase(&child, &part);
                }
            }
            return any;
        }
    }
    false
}

fn op_kind(ws: &[&str], i: usize) -> Option<&'static str> {
    let w = ws.get(i)?;
    let next = ws.get(i + 1).copied().unwrap_or("");
    let after = ws.get(i + 2).copied().unwrap_or("");
    Some(match *w {
        "filter" | "filters" | "filtered" | "filterable" | "filtering" => "filter",
        "search" | "searchable" | "searched" | "searching" => "search",
        "find" | "lookup" if ws[i..].contains(&"by") => "search",
        "sort" | "sorted" | "sortable" | "sorting" => "sort",
        "order" | "ordered" if next == "by" || after == "by" && next != "has" => "sort",
        "paginate" | "paginated" | "pagination" | "paging" => "page",
        "page" | "pages" if i > 0 || matches!(next, "size" | "sizes") => "page",
        "per" if next == "page" => "page",
        _ => return None,
    })
}

pub fn contains_list_op(item: &str) -> bool {
    let ws = words(item);
    (0..ws.len()).any(|i| op_kind(&ws, i).is_some())
}

fn starts_with_list_op(s: &str) -> bool {
    let ws = words(s);
    let lead = ws
        .iter()
        .position(|w| {
            !matches!(
                *w,
                "let"
                    | "me"
                    | "us"
                    | "users"
                    | "clients"
                    | "allow"
                    | "allowing"
                    | "i"
                    | "want"
                    | "to"
                    | "be"
                    | "able"
                    | "also"
                    | "and"
                    | "please"
                    | "it"
                    | "should"
                    | "can"
                    | "must"
                    | "we"
                    | "need"
                    | "support"
                    | "enable"
                    | "add"
                    | "make"
                    | "lists"
                    | "list"
                    | "results"
                    | "you"
                    | "people"
                    | "provide"
            )
        })
        .unwrap_or(ws.len());
    op_kind(&ws, lead).is_some()
}

/// Reads "filter tasks by priority and completed", "search books by title",
/// "paginate books, 50 per page", "tasks should be sortable by due date".
pub fn read_list_ops(draft: &mut Draft, s: &str, fallback: Option<String>) {
    let ws = words(s);
    let ops: Vec<(usize, &str)> = (0..ws.len())
        .filter_map(|i| op_kind(&ws, i).map(|k| (i, k)))
        .collect();
    let Some(&(first_op, _)) = ops.first() else {
        return;
    };
    let subject = noun_phrase(&ws[..first_op].join(" ")).filter(|np| draft.resolve(np).is_some());
    let mut last_resource = subject;
    for (n, &(start, kind)) in ops.iter().enumerate() {
        let end = ops.get(n + 1).map_or(ws.len(), |(e, _)| *e);
        // "sort by" right after "filter and": share nothing, each reads its own words.
        let seg = &ws[start + 1..end.max(start + 1)];
        let seg: Vec<&str> = seg.to_vec();
        if kind == "page" {
            let (mut default, mut max) = (None, None);
            // Numbers after the keyword ("paginate, 50 per page") and before it ("50
            // per page"); one preceded by "max"/"at most" is the largest page.
            for part in [&seg[..], &ws[..start]] {
                for (j, w) in part.iter().enumerate() {
                    let Ok(num) = w.parse::<u32>() else { continue };
                    let prev = j.checked_sub(1).and_then(|k| part.get(k)).copied();
                    if matches!(prev, Some("max" | "maximum" | "most" | "to" | "than")) {
                        max = Some(num);
                    } else {
                        default = Some(num);
                    }
                }
            }
            let resource = seg
                .iter()
                .take_while(|w| {
                    w.parse::<u32>().is_err()
                        && !matches!(**w, "with" | "at" | "to" | "by" | "of" | "per")
                })
                .copied()
                .collect::<Vec<_>>()
                .join(" ");
            let resource = noun_phrase(&resource)
                .filter(|np| draft.resolve(np).is_some())
                .or_else(|| last_resource.clone());
            draft.request_list(ListRequest {
                resource: resource.clone(),
                fallback: fallback.clone(),
                kind: ListKind::Paginate { default, max },
                fields: Vec::new(),
            });
            if resource.is_some() {
                last_resource = resource;
            }
            continue;
        }
        let by = seg
            .iter()
            .position(|w| matches!(*w, "by" | "on" | "using" | "over" | "across" | "via"));
        let (res_words, field_words) = match by {
            Some(b) => (&seg[..b], &seg[b + 1..]),
            None => (&seg[..], &seg[seg.len()..]),
        };
        let res_text: Vec<&str> = res_words
            .iter()
            .copied()
            .filter(|w| {
                !matches!(
                    *w,
                    "for"
                        | "the"
                        | "through"
                        | "in"
                        | "results"
                        | "list"
                        | "of"
                        | "them"
                        | "it"
                        | "and"
                        | "me"
                        | "to"
                        | "be"
                        | "can"
                        | "should"
                )
            })
            .collect();
        let resource = noun_phrase(&res_text.join(" "))
            .filter(|np| draft.resolve(np).is_some())
            .or_else(|| last_resource.clone());
        if resource.is_some() {
            last_resource = resource.clone();
        }
        // "sort products by price, 50 per page": the number starts another request.
        let mut field_words: Vec<&str> = field_words
            .iter()
            .copied()
            .take_while(|w| w.parse::<f64>().is_err())
            .collect();
        while matches!(
            field_words.last(),
            Some(&"and") | Some(&"or") | Some(&"then") | Some(&"also") | Some(&"with")
        ) {
            field_words.pop();
        }
        let fields: Vec<String> = split_list(&field_words.join(" "), true)
            .into_iter()
            .map(|f| {
                f.trim_end_matches(" too")
                    .trim_end_matches(" as well")
                    .trim_start_matches("their ")
                    .trim_start_matches("its ")
                    .trim_start_matches("the ")
                    .to_owned()
            })
            .filter(|f| !f.is_empty())
            .collect();
        let kind = match kind {
            "filter" => ListKind::Filter,
            "search" => ListKind::Search,
            _ => ListKind::Sort,
        };
        if matches!(kind, ListKind::Search) && fields.is_empty() {
            // "make books searchable": search every name-like field.
            continue;
        }
        draft.request_list(ListRequest {
            resource,
            fallback: fallback.clone(),
            kind,
            fields,
        });
    }
}

/// Joins "status which can be pending", "shipped", "or delivered" back into one item:
/// after "can be", "one of" or "either", short items that name no field are values.
fn merge_enum_tails(items: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    let mut open = false;
    // After "status - booked", "time of day: day", "one of", "either", the short items
    // that follow are values even when a value is also a field word ("completed").
    let mut strong = false;
    for item in items {
        let short = item.split_whitespace().count() <= 4 && !item.contains('(');
        let names_field = words(&item)
            .iter()
            .any(|w| lexicon::FIELD_WORDS.contains(w))
            || lexicon::type_for_name(&text::snake(&item)).1 == lexicon::Guess::Named;
        // ", one of least concern, …": values without a name belong to the item before.
        let nameless = [
            "one of ",
            "either ",
            "can be ",
            "which can be ",
            "that can be ",
        ]
        .iter()
        .any(|m| item.starts_with(m));
        if nameless && let Some(last) = out.last_mut() {
            last.push(' ');
            last.push_str(&item);
            open = true;
            strong = true;
            continue;
        }
        let field_like =
            names_field && item.split_whitespace().count() >= 2 && !item.contains(" or ");
        if open
            && short
            && (!names_field || (strong && !field_like))
            && let Some(last) = out.last_mut()
        {
            last.push_str(", ");
            last.push_str(&item);
            continue;
        }
        let padded = format!(" {item} ");
        // A dash or colon after a plural heads a resource's fields ("shifts - date"),
        // after a singular a field's values ("status - booked").
        let singular_before = |sep: &str| {
            padded
                .split_once(sep)
                .is_some_and(|(before, _)| words(before).last().is_some_and(|w| !looks_plural(w)))
        };
        let value_list = singular_before(" - ") || singular_before(": ");
        strong = value_list || [" one of ", " either "].iter().any(|m| padded.contains(m));
        open = strong
            || [" can be ", " which is ", " values "]
                .iter()
                .any(|m| padded.contains(m));
        out.push(item);
    }
    out
}

/// "a snippet's visibility can be either public or private": a field of the owner.
fn possessive_field(draft: &mut Draft, s: &str) -> bool {
    let ws: Vec<&str> = s.split_whitespace().collect();
    let Some(i) = ws.iter().take(4).position(|w| w.ends_with("'s")) else {
        return false;
    };
    let owner = ws[..=i].join(" ");
    let owner = owner.trim_end_matches("'s");
    let Some(res) = noun_phrase(owner).and_then(|np| draft.resolve(&np)) else {
        return false;
    };
    let rest = ws[i + 1..].join(" ");
    !rest.is_empty() && draft.add_field_phrase(&res, &rest)
}

/// "orders can be cancelled", "let users approve reviews", "allow publishing posts".
fn action_sentence(draft: &mut Draft, s: &str) -> bool {
    // A bracket after the verb explains it ("(keep edited and deleted flags)").
    let ws = words(s.split('(').next().unwrap_or(s));
    // "<resources> can|may|should be [marked as] <state> [and <state>]": an action
    // when a state field has that value, otherwise a yes/no field of that name.
    if let Some(be) = ws.iter().position(|w| *w == "be")
        && be >= 2
        && matches!(ws[be - 1], "can" | "may" | "should" | "could" | "must")
        && let Some(np) = noun_phrase(&ws[..be - 1].join(" "))
    {
        let mut k = be + 1;
        if matches!(ws.get(k), Some(&"marked" | &"flagged" | &"set"))
            && ws.get(k + 1) == Some(&"as")
        {
            k += 2;
        }
        let states: Vec<&str> = ws[k.min(ws.len())..]
            .iter()
            .copied()
            .filter(|w| !matches!(*w, "and" | "or"))
            .collect();
        let single = states.len() == 1
            || states
                .iter()
                .all(|w| w.ends_with("ed") || w.ends_with("en"));
        if let (Some(&first), true) = (states.first(), single) {
            if states.len() == 1
                && let Some(verb) = super::draft::state_verb(first)
                && draft.request_action(&np, verb)
            {
                return true;
            }
            if let Some(res) = draft.resolve(&np) {
                for state in states.iter().take(3) {
                    draft.add_field_phrase(&res, &format!("{state} flag"));
                }
                return true;
            }
        }
    }
    // "let users cancel orders", "allow cancelling orders", "users can cancel orders"
    let lead = ws.iter().position(|w| {
        super::draft::state_verb(w).is_some()
            || w.strip_suffix("ing").is_some_and(|v| {
                super::draft::state_verb(v).is_some()
                    || super::draft::state_verb(&format!("{v}e")).is_some()
                    || super::draft::state_verb(&v[..v.len().saturating_sub(1)]).is_some()
            })
    });
    let Some(i) = lead else { return false };
    let before_ok = ws[..i].iter().all(|w| {
        matches!(
            *w,
            "let"
                | "me"
                | "users"
                | "people"
                | "admins"
                | "customers"
                | "allow"
                | "allowing"
                | "can"
                | "to"
                | "should"
                | "be"
                | "able"
                | "also"
                | "and"
                | "i"
                | "want"
                | "it"
                | "support"
                | "we"
                | "need"
                | "clients"
        )
    });
    if i == 0 && ws.len() < 2 || !before_ok {
        return false;
    }
    let w = ws[i];
    let verb = super::draft::state_verb(w).or_else(|| {
        let v = w.strip_suffix("ing")?;
        super::draft::state_verb(v)
            .or_else(|| super::draft::state_verb(&format!("{v}e")))
            .or_else(|| super::draft::state_verb(&v[..v.len().saturating_sub(1)]))
    });
    let (Some(verb), Some(np)) = (verb, noun_phrase(&ws[i + 1..].join(" "))) else {
        return false;
    };
    if draft.resolve(&np).is_none() {
        return false;
    }
    draft.request_action(&np, verb)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::design::ApiDesign;

    fn clause(head: &str) -> (String, Vec<String>) {
        head_clause(head)
    }

    #[test]
    fn a_clause_head_splits_into_subject_and_parents() {
        let cases: &[(&str, &str, &[&str])] = &[
            ("parcels are delivered to a depot", "parcels", &["depot"]),
            ("lessons for a course", "lessons", &["course"]),
            ("each seat is in a theatre", "each seat", &["theatre"]),
            ("readings happen at a station", "readings", &["station"]),
            (
                "bids placed by a bidder on a lot",
                "bids",
                &["bidder", "lot"],
            ),
            ("the trips we take to a country", "the trips", &["country"]),
            (
                "anyone can file complaints about a landlord",
                "complaints",
                &["anyone", "landlord"],
            ),
            ("a garden", "a garden", &[]),
            ("sales reps", "sales reps", &[]),
        ];
        for (head, subject, parents) in cases {
            let (s, p) = clause(head);
            let p: Vec<&str> = p.iter().map(String::as_str).collect();
            assert_eq!((s.as_str(), p.as_slice()), (*subject, *parents), "{head}");
        }
    }

    #[test]
    fn an_app_head_hands_over_the_plural_it_is_for() {
        assert_eq!(
            app_subject("a rest api for invoices").as_deref(),
            Some("invoices")
        );
        assert_eq!(
            app_subject("a backend for my gym to manage members").as_deref(),
            Some("members")
        );
        assert_eq!(app_subject("an api for my gym"), None);
    }

    #[test]
    fn connectors_join_heads_to_fields_only_where_english_does() {
        let split = |s: &str| {
            split_connector(&format!(" {s} "))
                .map(|(h, r)| (h.trim().to_owned(), r.trim().to_owned()))
        };
        assert_eq!(
            split("pets need a name and an owner"),
            Some(("pets".into(), "a name and an owner".into()))
        );
        // A singular subject's needs are not a field list; the next connector counts.
        assert_eq!(
            split("my shop needs an api with products"),
            Some(("my shop needs an api".into(), "products".into()))
        );
        assert_eq!(
            split("drivers - name, licence"),
            Some(("drivers".into(), "name, licence".into()))
        );
        assert_eq!(split("rooms - each room is in a house"), None);
        assert_eq!(split("a colour - red or blue"), None);
    }

    fn read(prompt: &str) -> ApiDesign {
        let mut draft = Draft::new(ApiDesign::new("Test API"));
        for s in text::sentences(&text::normalise(prompt).0) {
            read_sentence(&mut draft, &s);
        }
        draft.finish()
    }

    #[test]
    fn clauses_introduce_resources_with_their_parents() {
        let d = read(
            "Depots have a name. Parcels are delivered to a depot with a weight in kg and a tracking code.",
        );
        let parcel = d.resource("parcel").expect("parcel");
        assert!(parcel.field("weight_kg").is_some() && parcel.field("tracking_code").is_some());
        assert!(parcel.relation_to("depot").is_some());
        let d = read("Shelves have a label; you can group jars into shelves with a position.");
        assert!(
            d.resource("shelf")
                .is_some_and(|s| s.field("position").is_some())
        );
        assert!(
            d.resource("jar")
                .is_some_and(|j| j.relation_to("shelf").is_some())
        );
    }

    #[test]
    fn yes_no_states_in_sentences_become_flags() {
        let d = read("Letters have a subject. Letters can be marked as posted.");
        let posted = d
            .resource("letter")
            .and_then(|l| l.field("posted"))
            .expect("posted");
        assert_eq!(posted.ty, crate::design::FieldType::Boolean);
    }
}
