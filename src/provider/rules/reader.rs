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
    " described by ",
    " defined by ",
    ": ",
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
    if action_sentence(draft, s) {
        return true;
    }
    let mut mode = Mode::Start;
    let items = merge_enum_tails(split_list(s, false));
    let mut i = 0;
    while i < items.len() {
        let item = items[i].as_str();
        if contains_list_op(item) {
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
        let head = head.trim();
        let rest = rest.trim();
        if is_app_head(head, rest) {
            return read_item(draft, rest, Mode::Resources);
        }
        if let Some(np) = resource_head(draft, head, &mode) {
            // "a publisher has many books"
            if let Some(children) = MANY.iter().find_map(|m| rest.strip_prefix(m)) {
                let Some(parent) = draft.ensure_resource(&np) else {
                    return mode;
                };
                for child in split_list(children, true) {
                    if let Some(c) = noun_phrase(&child) {
                        draft.relate(&c, &parent, true, true);
                    }
                }
                return Mode::Resources;
            }
            let Some(res) = draft.ensure_resource(&np) else {
                return mode;
            };
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
        let head_np = noun_phrase(&head);
        let head_word = head.split_whitespace().last().unwrap_or("");
        let enum_head = lexicon::ENUM_WORDS.contains(&head_word) || inner_is_modifiers(&inner);
        let fieldy = inner_is_fieldy(&inner);
        let new_resource = match &mode {
            Mode::Fields(_) => {
                !enum_head && fieldy && head_np.as_deref().is_some_and(is_entity_like)
            }
            Mode::Start | Mode::Resources => !enum_head || fieldy,
        };
        if new_resource && let Some(np) = head_np {
            let (np, parent) = split_for(&np);
            if let Some(res) = draft.ensure_resource(&np) {
                for part in split_list(&inner, false) {
                    add_field_or_resource(draft, &res, &part);
                }
                if let Some(p) = parent.or_else(|| for_parent(&after)) {
                    draft.relate(&res, &p, true, false);
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
            if let Some(np) = noun_phrase(item) {
                let few_words = item.split_whitespace().count() <= 4;
                if few_words && (mode == Mode::Resources || is_entity_like(&np)) {
                    let (np, parent) = split_for(&np);
                    if let Some(res) = draft.ensure_resource(&np)
                        && let Some(p) = parent
                    {
                        draft.relate(&res, &p, true, false);
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
    let mut best: Option<(usize, &str)> = None;
    for c in CONNECTORS {
        if let Some(pos) = find_outside_brackets(padded, c)
            && best.is_none_or(|(b, _)| pos < b)
        {
            best = Some((pos, c));
        }
    }
    let (pos, c) = best?;
    let head = &padded[..pos];
    let rest = &padded[pos + c.len()..];
    if head.trim().is_empty() || rest.trim().is_empty() {
        return None;
    }
    Some((head.to_owned(), rest.to_owned()))
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
    let ws = words(head);
    if ws.iter().any(|w| APP_WORDS.contains(w))
        && !ws.iter().any(|w| matches!(*w, "where" | "that" | "which"))
    {
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
fn inner_is_fieldy(inner: &str) -> bool {
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

/// "reviews for products" → ("reviews", Some("products")).
fn split_for(np: &str) -> (String, Option<String>) {
    match np.split_once(" for ") {
        Some((a, b)) => (a.to_owned(), Some(b.to_owned())),
        None => (np.to_owned(), None),
    }
}

fn for_parent(after: &str) -> Option<String> {
    let rest = after
        .strip_prefix("for ")
        .or_else(|| after.strip_prefix("of "))?;
    noun_phrase(rest)
}

/// Relation phrases: "each book belongs to a publisher", "visits belong to a doctor
/// and a patient", "enrollments linking students and courses".
pub fn relation_item(draft: &mut Draft, item: &str) -> bool {
    let padded = format!(" {item} ");
    for phrase in BELONGS {
        if let Some(pos) = padded.find(phrase) {
            let child = padded[..pos].trim();
            let parents = padded[pos + phrase.len()..].trim();
            // "... that books belong to": the parent is what came before "that".
            if parents.is_empty() {
                return false;
            }
            let optional = [" can ", " may ", " optionally ", " might "]
                .iter()
                .any(|w| format!(" {child} ").contains(w));
            let child = child
                .trim_end_matches(" can")
                .trim_end_matches(" may")
                .trim_end_matches(" must")
                .trim_end_matches(" should")
                .trim_end_matches(" optionally")
                .trim_end_matches(" always");
            // "…and belong to a book": the resource being described is the child.
            let child_np = match noun_phrase(child) {
                Some(np) => np,
                None if child.split_whitespace().all(|w| {
                    matches!(
                        w,
                        "and" | "also" | "each" | "they" | "it" | "which" | "that"
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
            // "lists belong to boards and have a title": the rest are fields.
            let mut parents = parents.to_owned();
            let mut fields = None;
            for cut in [
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
            for parent in split_list(&parents, true) {
                let parent = parent
                    .trim_start_matches("one ")
                    .trim_start_matches("exactly one ");
                if let Some(p) = noun_phrase(parent) {
                    draft.relate(&child_np, &p, !optional, true);
                }
            }
            if let Some(fields) = fields
                && let Some(res) = draft.ensure_resource(&child_np)
            {
                for part in merge_enum_tails(split_list(&fields, false)) {
                    draft.add_field_phrase(&res, &part);
                }
            }
            return true;
        }
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
            let Some(child_np) = noun_phrase(padded[..pos].trim()) else {
                return false;
            };
            draft.ensure_resource(&child_np);
            let mut any = false;
            for parent in split_list(parents.trim(), true) {
                if let Some(p) = noun_phrase(&parent) {
                    draft.relate(&child_np, &p, true, true);
                    any = true;
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
    for item in items {
        let short = item.split_whitespace().count() <= 3 && !item.contains('(');
        let names_field = words(&item)
            .iter()
            .any(|w| lexicon::FIELD_WORDS.contains(w))
            || lexicon::type_for_name(&text::snake(&item)).1 == lexicon::Guess::Named;
        if open
            && short
            && !names_field
            && let Some(last) = out.last_mut()
        {
            last.push_str(", ");
            last.push_str(&item);
            continue;
        }
        let padded = format!(" {item} ");
        open = [" can be ", " one of ", " either ", " which is ", " values "]
            .iter()
            .any(|m| padded.contains(m));
        out.push(item);
    }
    out
}

/// "orders can be cancelled", "let users approve reviews", "allow publishing posts".
fn action_sentence(draft: &mut Draft, s: &str) -> bool {
    let ws = words(s);
    // "<resources> can|may|should be <state>"
    if let Some(be) = ws.iter().position(|w| *w == "be")
        && be >= 2
        && matches!(ws[be - 1], "can" | "may" | "should" | "could" | "must")
        && let Some(state) = ws.get(be + 1)
        && let Some(verb) = super::draft::state_verb(state)
        && let Some(np) = noun_phrase(&ws[..be - 1].join(" "))
    {
        return draft.request_action(&np, verb);
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
