//! Follow-up commands applied to an existing design: "add …", "remove …",
//! "rename … to …", "make … required/unique", "let me filter … by …",
//! "… belong to …". Anything else is read like a fresh prompt and merged.

use super::RulesError;
use super::draft::{Draft, ListKind, ListRequest, is_entity_like, noun_phrase, resource_names};
use super::inflection::looks_plural;
use super::lexicon;
use super::reader::{contains_list_op, read_list_ops, read_sentence, relation_item};
use super::text::{self, split_list, words};
use crate::design::AuthScheme;

/// Verbs that start a command; " and " before one of them separates two commands.
const VERBS: &[&str] = &[
    "add",
    "include",
    "remove",
    "delete",
    "drop",
    "rename",
    "make",
    "mark",
    "let",
    "allow",
    "enable",
    "filter",
    "search",
    "sort",
    "order",
    "paginate",
    "change",
    "set",
    "link",
    "also",
    "then",
    "give",
    "introduce",
    "create",
    "track",
    "support",
    "get",
    "take",
    "require",
    "store",
    "i",
];

/// Splits a follow-up into commands at sentence ends and at " and " / ", " before a
/// command verb.
pub fn commands(sentence: &str) -> Vec<String> {
    let ws: Vec<&str> = sentence.split_whitespace().collect();
    let mut out: Vec<String> = Vec::new();
    let mut cur: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < ws.len() {
        let w = ws[i];
        let next = ws.get(i + 1).map(|n| n.trim_matches(',')).unwrap_or("");
        let joins = matches!(w, "and" | "then" | "also") || w.ends_with(',');
        if joins && VERBS.contains(&next) && !cur.is_empty() {
            if w.ends_with(',') && w != "," {
                cur.push(w.trim_end_matches(','));
            }
            out.push(cur.join(" "));
            cur.clear();
            i += 1;
            continue;
        }
        cur.push(w);
        i += 1;
    }
    if !cur.is_empty() {
        out.push(cur.join(" "));
    }
    out.into_iter()
        .map(|c| c.trim().trim_matches(',').trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect()
}

/// Applies one command; `Ok(false)` when it was not understood.
pub fn apply(draft: &mut Draft, command: &str) -> Result<bool, RulesError> {
    let before = draft.fingerprint();
    let mut ws: Vec<&str> = words(command);
    while let Some(first) = ws.first() {
        if matches!(
            *first,
            "please"
                | "also"
                | "now"
                | "then"
                | "and"
                | "can"
                | "could"
                | "you"
                | "i"
                | "want"
                | "to"
                | "i'd"
                | "like"
                | "let's"
                | "lets"
                | "we"
                | "need"
                | "go"
                | "ahead"
                | "just"
                | "should"
                | "would"
                | "actually"
                | "ok"
                | "okay"
                | "oh"
                | "so"
                | "hmm"
        ) && !(*first == "lets" && ws.get(1) == Some(&"me"))
        {
            ws.remove(0);
        } else {
            break;
        }
    }
    let Some((&verb, rest_ws)) = ws.split_first() else {
        return Ok(false);
    };
    if let Some(done) = replace_instead(draft, &ws.join(" ")) {
        return Ok(done);
    }
    let rest = rest_ws.join(" ");
    let handled = match verb {
        "add" | "include" | "introduce" | "give" | "create" | "track" | "store" | "support" => {
            add(draft, &rest, command)?
        }
        "remove" | "delete" | "drop" => remove(draft, &rest)?,
        "get" if rest.starts_with("rid of ") => remove(draft, &rest["rid of ".len()..])?,
        "take" if rest.starts_with("out ") => remove(draft, &rest["out ".len()..])?,
        "rename" => rename(draft, &rest)?,
        "change" | "set" if rest.contains(" to ") => change(draft, &rest)?,
        "make" | "mark" | "require" => make(
            draft,
            if verb == "require" {
                format!("{rest} required")
            } else {
                rest.clone()
            }
            .as_str(),
        )?,
        "let" | "allow" | "enable" | "filter" | "search" | "sort" | "order" | "paginate"
            if contains_list_op(&ws.join(" ")) =>
        {
            read_list_ops(draft, &ws.join(" "), draft.last_resource.clone());
            true
        }
        "link" | "connect" => {
            let text = rest.replace(" with ", " to ");
            match text.split_once(" to ") {
                Some((a, b)) => {
                    let (Some(a), Some(b)) = (noun_phrase(a), noun_phrase(b)) else {
                        return Ok(false);
                    };
                    draft.relate(&a, &b, true, true);
                    true
                }
                None => false,
            }
        }
        _ => false,
    };
    if handled {
        return Ok(true);
    }
    // "X should be required", "email must be unique".
    let text = ws.join(" ");
    for aux in [
        " should be ",
        " must be ",
        " is ",
        " are ",
        " has to be ",
        " needs to be ",
    ] {
        if let Some((target, mods)) = text.split_once(aux)
            && is_modifier_list(mods)
        {
            return make(draft, &format!("{target} {mods}"));
        }
    }
    if relation_item(draft, &text) {
        return Ok(true);
    }
    read_sentence(draft, &text);
    Ok(draft.fingerprint() != before)
}

/// "wines should have a producer instead of the grape field", "use a due date instead
/// of deadline": the named field goes, the new one takes its place on the same
/// resource. `None` when the command has no "instead of".
fn replace_instead(draft: &mut Draft, text: &str) -> Option<bool> {
    let (new, old) = text.split_once(" instead of ")?;
    let old_ws: Vec<&str> = words(old)
        .into_iter()
        .filter(|w| !matches!(*w, "the" | "a" | "an" | "field" | "column" | "one"))
        .collect();
    let old = old_ws.join(" ");
    let named = draft
        .design
        .resources
        .iter()
        .map(|r| r.name.clone())
        .collect::<Vec<_>>();
    let res = named
        .iter()
        .find(|r| draft.resolve_field(r, &old).is_some())?
        .clone();
    let old_field = draft.resolve_field(&res, &old)?;
    // The new field is what follows the verb: "should have a producer", "add X".
    let new_ws = words(new);
    let start = new_ws
        .iter()
        .position(|w| {
            matches!(
                *w,
                "have" | "has" | "get" | "use" | "add" | "store" | "keep" | "track"
            )
        })
        .map_or(0, |p| p + 1);
    let phrase = new_ws[start..].join(" ");
    if phrase.trim().is_empty() {
        return Some(false);
    }
    draft.remove_field(&res, &old_field);
    Some(draft.add_field_phrase(&res, &phrase))
}

fn is_modifier_list(s: &str) -> bool {
    let ws = words(s);
    !ws.is_empty()
        && ws.iter().all(|w| {
            matches!(
                *w,
                "required"
                    | "optional"
                    | "unique"
                    | "not"
                    | "and"
                    | "mandatory"
                    | "nullable"
                    | "non-unique"
                    | "searchable"
                    | "filterable"
                    | "sortable"
                    | "read-only"
                    | "readonly"
                    | "a"
                    | "an"
                    | "always"
                    | "set"
            ) || lexicon::explicit_type(w).is_some()
        })
}

fn add(draft: &mut Draft, rest: &str, command: &str) -> Result<bool, RulesError> {
    let rest = rest.trim();
    if words(rest).iter().any(|w| {
        matches!(
            *w,
            "filter" | "filters" | "search" | "sorting" | "sort" | "pagination"
        )
    }) {
        read_list_ops(draft, rest, draft.last_resource.clone());
        return Ok(true);
    }
    // "authors as their own resource that books belong to"
    for marker in [
        " as their own ",
        " as its own ",
        " as a separate ",
        " as separate ",
        " as a new ",
        " as new ",
        " as a ",
        " as an ",
        " as ",
    ] {
        if let Some((what, after)) = rest.split_once(marker) {
            let after_ws = words(after);
            if after_ws.iter().any(|w| {
                matches!(
                    *w,
                    "resource"
                        | "resources"
                        | "entity"
                        | "entities"
                        | "table"
                        | "model"
                        | "collection"
                )
            }) {
                let Some(np) = noun_phrase(what) else {
                    return Ok(false);
                };
                let Some(parent) = draft.ensure_resource(&np) else {
                    return Ok(false);
                };
                let clause = after_ws.join(" ");
                for link in [" that ", " which ", " whom "] {
                    if let Some((_, tail)) = format!(" {clause} ").split_once(link) {
                        // "that books belong to": books belong to the new resource.
                        let tail = tail.trim();
                        for verb in [
                            "belong to",
                            "belongs to",
                            "reference",
                            "references",
                            "refer to",
                            "point to",
                        ] {
                            if let Some(child) = tail.strip_suffix(verb)
                                && let Some(c) = noun_phrase(child)
                            {
                                draft.relate(&c, &parent, true, true);
                            }
                        }
                        if let Some((_, with)) = tail.split_once(" with ") {
                            for part in split_list(with, false) {
                                draft.add_field_phrase(&parent, &part);
                            }
                        }
                    }
                }
                if let Some((_, with)) = after.split_once(" with ")
                    && !with.contains("belong")
                {
                    for part in split_list(with, false) {
                        draft.add_field_phrase(&parent, &part);
                    }
                }
                // "…as a separate resource: a tasting note belongs to a wine and has …"
                if let Some((_, clause)) = after.split_once(": ") {
                    read_sentence(draft, clause);
                }
                return Ok(true);
            }
        }
    }
    // "a published year to books": fields, then the resource they go to.
    let padded = format!(" {rest} ");
    for sep in [" to ", " on ", " for ", " in ", " of "] {
        if let Some((fields, target)) = padded.rsplit_once(sep)
            && let Some(res) = draft.resolve(target.trim())
        {
            let fields = fields.trim();
            if fields.is_empty() {
                continue;
            }
            // "reviews (…) for books", "comments to posts": a new resource that
            // belongs to the named one.
            if matches!(sep, " for " | " to " | " on ") {
                let head = fields.split(" with ").next().unwrap_or(fields);
                let head = head.split(['(', ',']).next().unwrap_or(head);
                if let Some(np) = noun_phrase(head)
                    && looks_plural(np.rsplit(' ').next().unwrap_or(&np))
                    && is_entity_like(&np)
                    && !lexicon::FIELD_WORDS.contains(&np.as_str())
                    && draft.resolve(&np).is_none()
                {
                    read_sentence(draft, fields);
                    if let Some(child) = draft.resolve(&np) {
                        draft.relate(&child, &res, true, false);
                    }
                    return Ok(true);
                }
            }
            let mut any = false;
            for part in split_list(fields, false) {
                any |= draft.add_field_phrase(&res, &part);
            }
            draft.last_resource = Some(res);
            return Ok(any);
        }
    }
    // New resources: "comments with body and author", "tags", "a reviews resource".
    let parts = split_list(rest, false);
    let all_resources = parts.iter().all(|p| {
        noun_phrase(
            p.split(" with ")
                .next()
                .unwrap_or(p)
                .split('(')
                .next()
                .unwrap_or(p),
        )
        .is_some_and(|np| is_entity_like(&np) && !lexicon::FIELD_WORDS.contains(&np.as_str()))
    });
    if all_resources || rest.contains(" with ") {
        return Ok(read_sentence(draft, rest));
    }
    // Fields for the resource being talked about, or the only one.
    let target = draft
        .last_resource
        .clone()
        .or_else(|| match draft.design.resources.as_slice() {
            [only] => Some(only.name.clone()),
            _ => None,
        });
    match target {
        Some(res) => {
            let mut any = false;
            for part in parts {
                any |= draft.add_field_phrase(&res, &part);
            }
            Ok(any)
        }
        None => Err(RulesError::Ambiguous(format!(
            "which resource should get {rest:?}? Name it, e.g. \"{} to {}\"",
            command.trim(),
            draft
                .design
                .resources
                .first()
                .map_or("books".to_owned(), |r| r.plural.clone())
        ))),
    }
}

fn strip_noise(s: &str) -> String {
    words(s)
        .into_iter()
        .filter(|w| {
            !matches!(
                *w,
                "the"
                    | "a"
                    | "an"
                    | "field"
                    | "fields"
                    | "column"
                    | "columns"
                    | "attribute"
                    | "property"
                    | "its"
                    | "their"
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Which resource holds a field named by `phrase`; `scope` narrows it.
fn find_field(
    draft: &Draft,
    phrase: &str,
    scope: Option<&str>,
) -> Result<Option<(String, String)>, RulesError> {
    if let Some(res) = scope {
        return Ok(draft
            .resolve_field(res, phrase)
            .map(|f| (res.to_owned(), f)));
    }
    let hits: Vec<(String, String)> = draft
        .design
        .resources
        .iter()
        .filter_map(|r| {
            draft
                .resolve_field(&r.name, phrase)
                .map(|f| (r.name.clone(), f))
        })
        .collect();
    match hits.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one.clone())),
        many => {
            if let Some(last) = &draft.last_resource
                && let Some(hit) = many.iter().find(|(r, _)| r == last)
            {
                return Ok(Some(hit.clone()));
            }
            let names: Vec<&str> = many.iter().map(|(r, _)| r.as_str()).collect();
            Err(RulesError::Ambiguous(format!(
                "`{}` is a field of {}; say which, e.g. \"… {} on {}\"",
                many[0].1,
                names.join(" and "),
                many[0].1,
                draft
                    .design
                    .resource(names[0])
                    .map_or(names[0], |r| r.plural.as_str())
            )))
        }
    }
}

/// "X from|on|in|of Y" → (X, resource Y).
fn scoped(draft: &Draft, s: &str) -> (String, Option<String>) {
    let padded = format!(" {s} ");
    for sep in [" from ", " on ", " in ", " of ", " for "] {
        if let Some((what, res)) = padded.rsplit_once(sep)
            && let Some(r) = draft.resolve(res.trim())
        {
            return (what.trim().to_owned(), Some(r));
        }
    }
    // "books' author", "the book author"
    let ws: Vec<&str> = s.split_whitespace().collect();
    if ws.len() >= 2
        && let Some(r) = draft.resolve(ws[0].trim_end_matches("'s").trim_end_matches('\''))
        && draft.resolve_field(&r, &ws[1..].join(" ")).is_some()
    {
        return (ws[1..].join(" "), Some(r));
    }
    (s.trim().to_owned(), None)
}

fn remove(draft: &mut Draft, rest: &str) -> Result<bool, RulesError> {
    let rest_ws = words(rest);
    if rest_ws.iter().any(|w| {
        matches!(
            *w,
            "auth" | "authentication" | "authorization" | "jwt" | "login"
        )
    }) || (rest_ws.contains(&"api") && rest_ws.contains(&"key"))
    {
        draft.design.auth = AuthScheme::None;
        return Ok(true);
    }
    let is_field = rest_ws.iter().any(|w| {
        matches!(
            *w,
            "field" | "fields" | "column" | "columns" | "attribute" | "property"
        )
    });
    let is_resource = rest_ws
        .iter()
        .any(|w| matches!(*w, "resource" | "resources" | "entity" | "table" | "model"));
    let (what, scope) = scoped(draft, rest);
    let list_kind = ["filter", "search", "sort"]
        .into_iter()
        .find(|k| what.split_whitespace().any(|w| w.starts_with(k)));
    let mut any = false;
    for part in split_list(&strip_noise(&what), false) {
        if let Some(kind) = list_kind {
            let part = part
                .split_whitespace()
                .filter(|w| !w.starts_with(kind) && !matches!(*w, "by" | "on" | "the"))
                .collect::<Vec<_>>()
                .join(" ");
            if let Some((res, field)) = find_field(draft, &part, scope.as_deref())?
                && let Some(r) = draft.design.resource_mut(&res)
                && let Some(list) = &mut r.operations.list
            {
                let v = match kind {
                    "filter" => &mut list.filters,
                    "search" => &mut list.search,
                    _ => &mut list.sort,
                };
                let n = v.len();
                v.retain(|x| *x != field);
                any |= v.len() < n;
            }
            continue;
        }
        if !is_field
            && let Some(res) = draft.resolve(&part)
            && scope.is_none()
        {
            draft.remove_resource(&res);
            any = true;
            continue;
        }
        if is_resource {
            continue;
        }
        if let Some((res, field)) = find_field(draft, &part, scope.as_deref())? {
            any |= draft.remove_field(&res, &field);
        }
    }
    Ok(any)
}

fn rename(draft: &mut Draft, rest: &str) -> Result<bool, RulesError> {
    let Some((from, to)) = rest
        .rsplit_once(" to ")
        .or_else(|| rest.rsplit_once(" as "))
    else {
        return Ok(false);
    };
    let to_name = text::snake(&strip_noise(to));
    if to_name.is_empty() {
        return Ok(false);
    }
    let (what, scope) = scoped(draft, from);
    let what = strip_noise(&what);
    let is_field = words(from)
        .iter()
        .any(|w| matches!(*w, "field" | "column" | "attribute"));
    if !is_field
        && scope.is_none()
        && let Some(res) = draft.resolve(&what)
    {
        let Some((name, plural)) = resource_names(&strip_noise(to)) else {
            return Ok(false);
        };
        rename_resource(draft, &res, &name, &plural);
        return Ok(true);
    }
    let Some((res, field)) = find_field(draft, &what, scope.as_deref())? else {
        return Ok(false);
    };
    let to_name = if crate::design::validate::is_reserved(&to_name) {
        crate::design::validate::suggest_name(&to_name)
    } else {
        to_name
    };
    let Some(r) = draft.design.resource_mut(&res) else {
        return Ok(false);
    };
    if r.field(&to_name).is_some() || r.relations.iter().any(|rel| rel.field == to_name) {
        return Err(RulesError::Ambiguous(format!(
            "`{}` already has a field `{to_name}`; remove it first or pick another name",
            res
        )));
    }
    if let Some(f) = r.field_mut(&field) {
        f.name = to_name.clone();
    } else if let Some(rel) = r.relations.iter_mut().find(|rel| rel.field == field) {
        rel.field = to_name.clone();
    }
    if let Some(list) = &mut r.operations.list {
        for v in [&mut list.filters, &mut list.search, &mut list.sort] {
            for x in v.iter_mut() {
                if *x == field {
                    x.clone_from(&to_name);
                }
            }
        }
    }
    for a in &mut draft.design.actions {
        if a.resource.as_deref() == Some(res.as_str())
            && let crate::design::ActionBehavior::SetField { field: f, .. } = &mut a.behavior
            && *f == field
        {
            f.clone_from(&to_name);
        }
    }
    draft.last_resource = Some(res);
    Ok(true)
}

fn rename_resource(draft: &mut Draft, old: &str, name: &str, plural: &str) {
    let old_fk = format!("{old}_id");
    let new_fk = format!("{name}_id");
    for r in &mut draft.design.resources {
        if r.name == old {
            r.name = name.to_owned();
            r.plural = plural.to_owned();
        }
        for rel in &mut r.relations {
            if rel.target == old {
                rel.target = name.to_owned();
                if rel.field == old_fk {
                    rel.field.clone_from(&new_fk);
                    if let Some(list) = &mut r.operations.list {
                        for v in [&mut list.filters, &mut list.sort] {
                            for x in v.iter_mut() {
                                if *x == old_fk {
                                    x.clone_from(&new_fk);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    for a in &mut draft.design.actions {
        if a.resource.as_deref() == Some(old) {
            a.resource = Some(name.to_owned());
        }
    }
    draft.last_resource = Some(name.to_owned());
}

/// "change price to decimal", "change the type of price to an integer".
fn change(draft: &mut Draft, rest: &str) -> Result<bool, RulesError> {
    let Some((what, to)) = rest.rsplit_once(" to ") else {
        return Ok(false);
    };
    let to_ws = words(to);
    let what = what
        .trim_start_matches("the ")
        .trim_start_matches("type of ")
        .trim_start_matches("the type of ");
    if to_ws.iter().any(|w| lexicon::explicit_type(w).is_some()) {
        return make(draft, &format!("{what} {}", to_ws.join(" ")));
    }
    rename(draft, rest)
}

/// "make email required", "make the isbn on books unique", "make books read-only".
fn make(draft: &mut Draft, rest: &str) -> Result<bool, RulesError> {
    let ws = words(rest);
    let first_mod = ws.iter().position(|w| {
        matches!(
            *w,
            "required"
                | "optional"
                | "unique"
                | "not"
                | "mandatory"
                | "nullable"
                | "non-unique"
                | "searchable"
                | "filterable"
                | "sortable"
                | "read-only"
                | "readonly"
        )
    });
    let type_pos = ws
        .iter()
        .position(|w| {
            lexicon::explicit_type(w).is_some()
                && !matches!(
                    *w,
                    "flag" | "link" | "phone" | "email" | "text" | "date" | "time" | "number"
                )
        })
        .or_else(|| {
            // "make price a decimal", "make notes text"
            ws.iter().enumerate().skip(1).find_map(|(i, w)| {
                (lexicon::explicit_type(w).is_some()
                    && matches!(ws.get(i - 1), Some(&"a") | Some(&"an")))
                .then_some(i)
            })
        });
    let cut = match (first_mod, type_pos) {
        (Some(a), Some(b)) => a.min(b),
        (Some(a), None) => a,
        (None, Some(b)) => b,
        (None, None) => return Ok(false),
    };
    let mut target_ws: Vec<&str> = ws[..cut].to_vec();
    while matches!(
        target_ws.last(),
        Some(&"a") | Some(&"an") | Some(&"be") | Some(&"is") | Some(&"and")
    ) {
        target_ws.pop();
    }
    let mods: Vec<&str> = ws[cut..].to_vec();
    let target = target_ws.join(" ");
    if target.is_empty() {
        return Ok(false);
    }
    if mods.iter().any(|m| matches!(*m, "read-only" | "readonly")) {
        let Some(res) = draft.resolve(&target) else {
            return Ok(false);
        };
        if let Some(r) = draft.design.resource_mut(&res) {
            let ops = &mut r.operations;
            ops.create = false;
            ops.replace = false;
            ops.patch = false;
            ops.delete = false;
        }
        return Ok(true);
    }
    let (what, scope) = scoped(draft, &target);
    let mut any = false;
    for part in split_list(&strip_noise(&what), false) {
        let Some((res, field)) = find_field(draft, &part, scope.as_deref())? else {
            continue;
        };
        for (i, m) in mods.iter().enumerate() {
            let negated = i > 0 && mods[i - 1] == "not";
            let kind = match *m {
                "searchable" => Some(ListKind::Search),
                "filterable" => Some(ListKind::Filter),
                "sortable" => Some(ListKind::Sort),
                _ => None,
            };
            if let Some(kind) = kind {
                draft.request_list(ListRequest {
                    resource: Some(res.clone()),
                    fallback: Some(res.clone()),
                    kind,
                    fields: vec![field.clone()],
                });
                any = true;
                continue;
            }
            let Some(r) = draft.design.resource_mut(&res) else {
                continue;
            };
            if let Some(rel) = r.relations.iter_mut().find(|rel| rel.field == field) {
                match *m {
                    "required" | "mandatory" => {
                        rel.required = !negated;
                        if rel.required && rel.on_delete == crate::design::OnDelete::SetNull {
                            rel.on_delete = crate::design::OnDelete::Restrict;
                        }
                        any = true;
                    }
                    "optional" | "nullable" => {
                        rel.required = false;
                        any = true;
                    }
                    _ => {}
                }
                continue;
            }
            let Some(f) = r.field_mut(&field) else {
                continue;
            };
            match *m {
                "required" | "mandatory" => {
                    f.required = !negated;
                    any = true;
                }
                "optional" | "nullable" => {
                    f.required = false;
                    any = true;
                }
                "unique" => {
                    f.unique = !negated;
                    any = true;
                }
                "non-unique" => {
                    f.unique = false;
                    any = true;
                }
                w => {
                    if let Some(t) = lexicon::explicit_type(w) {
                        if t != f.ty {
                            f.ty = t;
                            if !t.is_numeric() {
                                f.min = None;
                                f.max = None;
                            }
                            if !t.is_textual() {
                                f.min_length = None;
                                f.max_length = None;
                                f.pattern = None;
                            }
                            if t != crate::design::FieldType::Enum {
                                f.enum_values.clear();
                            }
                            if let Some(d) = &f.default
                                && crate::design::validate::check_value(f, d, None).is_err()
                            {
                                f.default = None;
                            }
                        }
                        any = true;
                    }
                }
            }
        }
        draft.last_resource = Some(res);
    }
    Ok(any)
}
