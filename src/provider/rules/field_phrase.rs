//! One field as a person writes it — "a priority (low, normal, high)", "isbn unique",
//! "size in square meters", "rating between 1 and 5", "a completed flag" — parsed
//! into a [`Field`].

use serde_json::Value;

use super::lexicon::{self, Guess};
use super::text::{self, split_list};
use crate::design::validate::{self, check_value};
use crate::design::{Field, FieldType};

/// A parsed field phrase.
#[derive(Debug, Clone)]
pub struct FieldPhrase {
    pub field: Field,
    /// The type came from an explicit word or enum values, not from the name.
    pub explicit_type: bool,
    /// "…for a bike": the resource holding this field belongs to that noun.
    pub parent: Option<String>,
}

/// Words dropped from field names.
const FILLER: &[&str] = &[
    "a",
    "an",
    "the",
    "their",
    "its",
    "his",
    "her",
    "our",
    "my",
    "your",
    "some",
    "each",
    "field",
    "column",
    "attribute",
    "property",
    "info",
    "also",
    "and",
    "or",
    "plus",
    "with",
    "then",
    "one",
    "any",
    "of_type",
    "own",
    "optionally",
    "just",
    "too",
];

/// Parses `phrase` (lower-case ASCII, see [`text::normalise`]); `None` when nothing
/// usable as a name remains.
pub fn parse(phrase: &str) -> Option<FieldPhrase> {
    let mut p = Parts::default();
    let (phrase, boolean) = clause_field(phrase);
    if boolean {
        p.ty = Some(FieldType::Boolean);
    }
    let phrase = named_values(&phrase, &mut p);
    let phrase = phrase.as_str();
    let mut rest = String::new();
    // Parenthesised groups hold enum values or modifiers.
    let mut depth = 0usize;
    let mut group = String::new();
    for c in phrase.chars() {
        match c {
            '(' | '[' => {
                if depth > 0 {
                    group.push(' ');
                }
                depth += 1;
            }
            ')' | ']' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    p.group(&group);
                    group.clear();
                    rest.push(' ');
                }
            }
            _ if depth > 0 => group.push(c),
            _ => rest.push(c),
        }
    }
    if depth > 0 {
        p.group(&group);
    }
    let mut rest = rest.replace(" / ", "/");
    // "status open/in progress/closed": values run from the first slashed word on.
    if let Some(slash) = rest.find('/') {
        let start = rest[..slash].rfind(' ').map_or(0, |i| i + 1);
        let before_word = rest[..start].split_whitespace().last().unwrap_or("");
        if start > 0 && before_word != "in" && before_word != "per" {
            let values: Vec<String> = rest[start..]
                .split('/')
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .collect();
            // Modifiers after the last value ("… closed unique") stay modifiers.
            let mut values = values;
            let mut tail = String::new();
            if let Some(last) = values.last_mut() {
                let ws: Vec<&str> = last.split_whitespace().collect();
                if ws.len() > 1
                    && matches!(
                        ws[1],
                        "unique"
                            | "optional"
                            | "required"
                            | "default"
                            | "defaults"
                            | "defaulting"
                            | "not"
                            | "mandatory"
                            | "nullable"
                    )
                {
                    tail = ws[1..].join(" ");
                    *last = ws[0].to_owned();
                }
            }
            p.add_values(values);
            rest = format!("{} {tail}", &rest[..start]);
        }
    }
    let mut words: Vec<String> = rest
        .split(|c: char| c.is_whitespace() || c == ':' || c == '=' || c == '"' || c == '`')
        .map(|w| {
            w.trim_matches(|c: char| matches!(c, ',' | '.' | '\'' | '!' | '?'))
                .to_owned()
        })
        .filter(|w| !w.is_empty())
        .collect();
    p.words(&mut words, false);
    p.finish(&words)
}

/// Subject pronouns and determiners that open the clause of a "whether" field.
const SUBJECTS: &[&str] = &[
    "it", "they", "he", "she", "it's", "they're", "he's", "she's", "its", "the", "this", "that",
    "we", "you", "someone", "somebody",
];

/// Forms of "be" and "have" between a subject and its state.
const BE_HAVE: &[&str] = &[
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "has",
    "have",
    "had",
    "currently",
    "already",
    "still",
];

/// Verbs that introduce a field rather than name it ("have a return date", "records
/// reps"); dropped from the front of a field phrase.
const LEAD_VERBS: &[&str] = &[
    "have", "has", "having", "need", "needs", "store", "stores", "record", "records", "keep",
    "keeps", "track", "tracks", "include", "includes", "get", "gets", "hold", "holds", "contain",
    "contains", "carry", "carries", "show", "shows",
];

/// Prepositions that end the state in a "whether" clause ("friendly with other dogs").
const STATE_END: &[&str] = &[
    "with", "to", "for", "from", "by", "of", "about", "and", "or", "because", "when", "if",
];

/// Reads the clause around a field: "whether they are verified", "can be pinned",
/// "marked as watched", "reusable or not" name a yes/no state (`true` is returned);
/// "have a return date" names the field after its verb. Returns the phrase that is
/// left to read as a name.
fn clause_field(phrase: &str) -> (String, bool) {
    let ws: Vec<&str> = phrase.split_whitespace().collect();
    let mut i = 0;
    while ws
        .get(i)
        .is_some_and(|w| matches!(*w, "and" | "or" | "also" | "plus"))
    {
        i += 1;
    }
    let at = |k: usize| ws.get(k).copied().unwrap_or("");
    let mut boolean = false;
    if matches!(at(i), "whether" | "if") {
        i += 1;
        // The subject: a pronoun, or up to three words before a form of "be".
        if SUBJECTS.contains(&at(i)) {
            i += 1;
        }
        if let Some(be) = (i..(i + 4).min(ws.len())).find(|&k| BE_HAVE.contains(&at(k)))
            && !BE_HAVE.contains(&at(i))
            && at(i) != "on"
        {
            i = be;
        }
        while BE_HAVE.contains(&at(i)) {
            i += 1;
        }
        boolean = true;
    } else if matches!(at(i), "can" | "may" | "could" | "should" | "must" | "might")
        && at(i + 1) == "be"
    {
        i += 2;
        boolean = true;
    }
    if boolean && matches!(at(i), "marked" | "flagged" | "set") && at(i + 1) == "as" {
        i += 2;
    } else if matches!(at(i), "marked" | "flagged") && at(i + 1) == "as" {
        i += 2;
        boolean = true;
    }
    if !boolean && ws.len() > i + 1 && LEAD_VERBS.contains(&at(i)) {
        i += 1;
    }
    let mut rest: Vec<&str> = ws[i.min(ws.len())..].to_vec();
    if boolean {
        // The state ends before a preposition that follows it.
        if let Some(end) = (1..rest.len()).find(|&k| STATE_END.contains(&rest[k])) {
            rest.truncate(end);
        }
    }
    if rest.len() >= 2 && rest[rest.len() - 2..] == ["or", "not"] {
        rest.truncate(rest.len() - 2);
        boolean = true;
    }
    if rest.is_empty() {
        return (phrase.to_owned(), false);
    }
    (rest.join(" "), boolean)
}

/// "time of day: day or night", "status - booked, done or cancelled", "a route type
/// that can be either loop or out and back": a name, then its values after a colon,
/// a dash or "either". Returns the phrase left to read (the name and its modifiers).
fn named_values(phrase: &str, p: &mut Parts) -> String {
    let (name, values) = if let Some((name, values)) = phrase
        .split_once(": ")
        .or_else(|| phrase.split_once(" - "))
        .filter(|(name, _)| !name.contains('('))
    {
        (name.to_owned(), values)
    } else if let Some((pos, marker)) = [" either ", " one of ", " can be "]
        .iter()
        .find_map(|m| phrase.find(m).map(|p| (p, *m)))
    {
        let mut name = phrase[..pos].to_owned();
        loop {
            let trimmed = [" can be", " that", " which", " is", " be", " can", " -"]
                .iter()
                .find_map(|t| name.strip_suffix(t).map(str::to_owned));
            match trimmed {
                Some(t) => name = t,
                None => break,
            }
        }
        (name, &phrase[pos + marker.len()..])
    } else {
        return phrase.to_owned();
    };
    let values = values
        .trim()
        .trim_start_matches("one of ")
        .trim_start_matches("either ");
    let items: Vec<String> = values
        .split([',', '/', '|'])
        .flat_map(|v| v.split(" or "))
        .map(|v| v.trim().trim_start_matches("or ").trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect();
    let short = items.iter().all(|v| v.split_whitespace().count() <= 3);
    if items.len() < 2 || !short || name.trim().is_empty() {
        return phrase.to_owned();
    }
    p.add_values(items);
    name
}

#[derive(Default)]
struct Parts {
    ty: Option<FieldType>,
    enum_values: Vec<String>,
    required: Option<bool>,
    unique: bool,
    min: Option<f64>,
    max: Option<f64>,
    min_length: Option<u32>,
    max_length: Option<u32>,
    unit: Option<String>,
    default: Option<String>,
    parent: Option<String>,
    positive: bool,
}

fn number(w: &str) -> Option<f64> {
    let w = w
        .trim_start_matches('$')
        .trim_end_matches('%')
        .replace(',', "");
    let n: f64 = w.parse().ok()?;
    n.is_finite().then_some(n)
}

fn is_length_unit(w: &str) -> bool {
    matches!(
        w,
        "chars" | "characters" | "character" | "char" | "letters" | "symbols"
    )
}

fn is_unit_word(w: &str) -> bool {
    w.len() <= 20
        && w.bytes().all(|b| b.is_ascii_alphabetic())
        && !matches!(
            w,
            "a" | "an"
                | "the"
                | "which"
                | "that"
                | "for"
                | "and"
                | "or"
                | "with"
                | "unique"
                | "optional"
                | "required"
                | "default"
                | "between"
                | "from"
                | "order"
                | "total"
                | "stock"
        )
}

impl Parts {
    /// A parenthesised group: modifiers ("unique", "1-10", "in kg", "decimal",
    /// "default 3") or enum values ("low, normal, high").
    fn group(&mut self, inner: &str) {
        // "(kg)", "(in minutes)", "(°C)": the field's unit, not an enum value.
        let ws: Vec<&str> = inner.split_whitespace().collect();
        let unit = match ws.as_slice() {
            [u] | ["in", u] => Some(*u),
            _ => None,
        };
        if let Some(u) = unit.filter(|u| lexicon::unit_kind(u).is_some()) {
            self.unit = Some(u.to_owned());
            return;
        }
        let mut values = Vec::new();
        for item in split_list(inner, true) {
            let mut words: Vec<String> = item.split_whitespace().map(str::to_owned).collect();
            let before = words.len();
            self.words(&mut words, true);
            if words.len() == before && !words.is_empty() {
                values.push(words.join(" "));
            } else if !words.is_empty() && words.len() < before {
                // "default normal" style leftovers are not values; ignore them.
            }
        }
        self.add_values(values);
    }

    fn add_values(&mut self, values: Vec<String>) {
        for v in values {
            for v in v.split(['/', '|']) {
                let v = text::snake(
                    v.trim()
                        .trim_start_matches("or ")
                        .trim_start_matches("and "),
                );
                if !v.is_empty() && !self.enum_values.contains(&v) {
                    self.enum_values.push(v);
                }
            }
        }
    }

    /// Consumes modifier words from `words`, leaving the name (and, outside groups,
    /// enum values written with slashes).
    fn words(&mut self, words: &mut Vec<String>, in_group: bool) {
        let mut out: Vec<String> = Vec::with_capacity(words.len());
        let mut i = 0;
        let w = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
        while i < words.len() {
            let cur = w(i);
            let next = w(i + 1);
            // Ranges.
            if (cur == "between" || cur == "from")
                && let (Some(a), Some(b)) = (number(next), number(w(i + 3)))
                && matches!(w(i + 2), "and" | "to" | "-")
            {
                self.range(a, b, w(i + 4));
                i += 4 + usize::from(is_length_unit(w(i + 4)));
                continue;
            }
            if let Some((a, b)) = cur.split_once('-').or_else(|| cur.split_once(".."))
                && let (Some(a), Some(b)) = (number(a), number(b))
            {
                self.range(a, b, next);
                i += 1 + usize::from(is_length_unit(next));
                continue;
            }
            if let Some(a) = number(cur)
                && next == "to"
                && let Some(b) = number(w(i + 2))
            {
                self.range(a, b, w(i + 3));
                i += 3 + usize::from(is_length_unit(w(i + 3)));
                continue;
            }
            let lower = matches!(cur, "min" | "minimum" | ">=" | "over" | "above")
                || (cur == "at" && next == "least");
            let upper = matches!(cur, "max" | "maximum" | "<=" | "under" | "below")
                || (cur == "at" && next == "most")
                || (cur == "up" && next == "to")
                || (cur == "no" && next == "more" && w(i + 2) == "than")
                || (cur == "less" && next == "than");
            if lower || upper {
                let skip = if cur == "at" || cur == "up" || cur == "less" {
                    2
                } else if cur == "no" {
                    3
                } else {
                    1
                };
                if let Some(n) = number(w(i + skip)) {
                    let unit = w(i + skip + 1);
                    let len = is_length_unit(unit) || matches!(unit, "long" | "length");
                    if len {
                        let n = n.max(0.0) as u32;
                        if lower {
                            self.min_length = Some(n);
                        } else {
                            self.max_length = Some(n);
                        }
                    } else if lower {
                        self.min = Some(n);
                    } else {
                        self.max = Some(n);
                    }
                    i += skip + 1 + usize::from(len);
                    continue;
                }
            }
            // "a rating out of 100": the largest value.
            if cur == "out"
                && next == "of"
                && let Some(n) = number(w(i + 2))
            {
                self.max = Some(n);
                if self.min.is_none() {
                    self.min = Some(0.0);
                }
                i += 3;
                continue;
            }
            // A bare number followed by a length unit: "200 characters".
            if let Some(n) = number(cur)
                && is_length_unit(next)
            {
                self.max_length = Some(n.max(0.0) as u32);
                i += 2;
                continue;
            }
            match cur {
                "unique" | "distinct" => {
                    self.unique = true;
                    i += 1;
                    continue;
                }
                "optional" | "nullable" | "optionally" => {
                    self.required = Some(false);
                    i += 1;
                    continue;
                }
                "required" | "mandatory" | "compulsory" => {
                    self.required = Some(true);
                    i += 1;
                    continue;
                }
                "not" if matches!(next, "null" | "empty" | "blank") => {
                    self.required = Some(true);
                    i += 2;
                    continue;
                }
                "positive" => {
                    self.positive = true;
                    i += 1;
                    continue;
                }
                "non-negative" | "nonnegative" => {
                    self.min = Some(0.0);
                    i += 1;
                    continue;
                }
                "default" | "defaults" | "defaulting"
                    if out.iter().any(|w| !FILLER.contains(&w.as_str())) || in_group =>
                {
                    let mut j = i + 1;
                    if matches!(w(j), "to" | "is" | "of" | "value") {
                        j += 1;
                    }
                    if !w(j).is_empty() {
                        self.default = Some(w(j).trim_matches('\'').to_owned());
                        i = j + 1;
                        continue;
                    }
                    i += 1;
                    continue;
                }
                "as" if matches!(next, "a" | "an") || lexicon::explicit_type(next).is_some() => {
                    let j = if matches!(next, "a" | "an") {
                        i + 2
                    } else {
                        i + 1
                    };
                    if let Some(t) = lexicon::explicit_type(w(j)) {
                        self.ty = Some(t);
                        i = j + 1;
                        continue;
                    }
                }
                "in" if (i > 0 || out.is_empty())
                    && !matches!(next, "date" | "time" | "at" | "the" | "a" | "an" | "use")
                    && !matches!(
                        out.last().map(String::as_str),
                        Some(
                            "check"
                                | "log"
                                | "sign"
                                | "plug"
                                | "built"
                                | "walk"
                                | "drop"
                                | "opt"
                                | "logged"
                                | "checked"
                                | "signed"
                        )
                    ) =>
                {
                    // "in kg", "in square meters": a unit, up to three words.
                    let mut j = i + 1;
                    let mut unit = Vec::new();
                    while j < words.len() && unit.len() < 3 && is_unit_word(w(j)) {
                        unit.push(w(j).to_owned());
                        j += 1;
                    }
                    // "in progress", "in stock" are states, not units.
                    let state = unit.len() == 1
                        && matches!(
                            unit[0].as_str(),
                            "progress" | "stock" | "transit" | "review"
                        );
                    if !unit.is_empty() && !state {
                        self.unit = Some(unit.join(" "));
                        i = j;
                        continue;
                    }
                }
                "for"
                    if matches!(next, "a" | "an" | "each" | "every" | "the" | "one")
                        && i + 2 < words.len() =>
                {
                    let noun = words[i + 2..].join(" ");
                    if i > 0 && noun.split_whitespace().count() <= 3 {
                        self.parent = Some(noun);
                        i = words.len();
                        continue;
                    }
                }
                "which" | "that" | "either"
                    if matches!(next, "can" | "is" | "are" | "one") || cur == "either" =>
                {
                    // "status which can be open, closed": the rest are values.
                    let start = words[i..]
                        .iter()
                        .position(|x| x == "be" || x == "of" || x == "either")
                        .map_or(i + 1, |p| i + p + 1);
                    let values: Vec<String> = words[start.min(words.len())..]
                        .iter()
                        .filter(|x| !matches!(x.as_str(), "or" | "and"))
                        .cloned()
                        .collect();
                    self.add_values(values);
                    i = words.len();
                    continue;
                }
                "one" if next == "of" => {
                    let values: Vec<String> = words[(i + 2).min(words.len())..]
                        .iter()
                        .filter(|x| !matches!(x.as_str(), "or" | "and"))
                        .cloned()
                        .collect();
                    self.add_values(values);
                    i = words.len();
                    continue;
                }
                "flag" | "boolean" | "bool" | "checkbox" | "toggle" => {
                    self.ty = Some(FieldType::Boolean);
                    i += 1;
                    continue;
                }
                _ => {}
            }
            if cur.contains('/') && cur.split('/').filter(|s| !s.is_empty()).count() >= 2 {
                self.add_values(vec![cur.to_owned()]);
                i += 1;
                continue;
            }
            if cur == "%" {
                self.unit = Some("percent".to_owned());
                i += 1;
                continue;
            }
            out.push(cur.to_owned());
            i += 1;
        }
        // A trailing unambiguous type word: "age integer", "paid_at timestamp".
        if out.len() >= 2
            && let Some(last) = out.last()
            && matches!(
                last.as_str(),
                "integer"
                    | "int"
                    | "boolean"
                    | "bool"
                    | "decimal"
                    | "float"
                    | "datetime"
                    | "timestamp"
                    | "uuid"
                    | "json"
                    | "string"
                    | "varchar"
            )
            && let Some(t) = lexicon::explicit_type(last)
        {
            self.ty = Some(t);
            out.pop();
        }
        // Inside a group, a lone type word ("(integer)") is a type.
        if out.len() == 1
            && let Some(t) = lexicon::explicit_type(&out[0])
            && !matches!(out[0].as_str(), "link" | "flag" | "phone" | "email")
            && words.len() == 1
            && in_group
            && self.ty.is_none()
        {
            self.ty = Some(t);
            out.clear();
        }
        *words = out;
    }

    fn range(&mut self, a: f64, b: f64, unit: &str) {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        if is_length_unit(unit) {
            self.min_length = Some(lo.max(0.0) as u32);
            self.max_length = Some(hi.max(0.0) as u32);
        } else {
            self.min = Some(lo);
            self.max = Some(hi);
        }
    }

    fn finish(mut self, words: &[String]) -> Option<FieldPhrase> {
        let name_words: Vec<&str> = words
            .iter()
            .map(String::as_str)
            .filter(|w| !FILLER.contains(w))
            .collect();
        // Drop possessive leftovers ("book's title" → "title").
        let mut name_words: Vec<String> = name_words
            .iter()
            .map(|w| w.trim_end_matches("'s").to_owned())
            .collect();
        // "cost £", "temperature °C", "size m²": a unit symbol after the name is the
        // unit, not part of the name.
        let symbol_unit = name_words.last().is_some_and(|w| {
            matches!(w.as_str(), "m2" | "m3")
                || matches!(
                    lexicon::unit_kind(w),
                    Some(lexicon::UnitKind::Currency | lexicon::UnitKind::Temperature)
                )
        });
        if name_words.len() >= 2 && symbol_unit {
            self.unit = name_words.pop();
        }
        let mut name = text::snake(&name_words.join(" "));
        if name.is_empty()
            || name == "fields"
            || name.ends_with("_fields")
            || name.ends_with("_attributes")
        {
            // "each with sensible fields": no field named; the lexicon fills in.
            return None;
        }
        // "a `published_on` date": the name already says it is a date.
        for suffix in ["_date", "_timestamp", "_datetime"] {
            if let Some(stem) = name.strip_suffix(suffix)
                && (stem.ends_with("_on") || stem.ends_with("_at"))
            {
                name = stem.to_owned();
            }
        }
        // The type comes from the name as written ("price" in "price in eur").
        let (named_ty, guess, bounds) = lexicon::type_for_name(&name);
        if name.len() > validate::MAX_NAME_LEN {
            return None;
        }
        if let Some(unit) = &self.unit
            && unit != "percent"
            && !matches!(
                lexicon::unit_kind(unit.rsplit(' ').next().unwrap_or(unit)),
                Some(lexicon::UnitKind::Currency | lexicon::UnitKind::Temperature)
            )
            && !matches!(unit.as_str(), "m2" | "m3")
        {
            let suffix = text::snake(unit);
            if !suffix.is_empty() && !name.ends_with(&suffix) {
                name = format!("{name}_{suffix}");
            }
        }
        if matches!(name.as_str(), "id" | "created_at" | "updated_at") {
            return None;
        }
        if validate::is_reserved(&name) {
            name = validate::suggest_name(&name);
        }
        // "(yes/no)", "y/n", "true/false": a boolean written as its two values.
        let yes_no = self.enum_values.len() == 2
            && self
                .enum_values
                .iter()
                .all(|v| matches!(v.as_str(), "yes" | "no" | "y" | "n" | "true" | "false"));
        if yes_no {
            self.enum_values.clear();
            self.ty = Some(FieldType::Boolean);
        }
        let mut explicit_type = self.ty.is_some();
        let mut ty = if !self.enum_values.is_empty() && self.ty.is_none() {
            explicit_type = true;
            FieldType::Enum
        } else if let Some(t) = self.ty {
            t
        } else if let Some(unit) = &self.unit
            && (guess == Guess::Fallback || !named_ty.is_numeric())
        {
            if unit == "percent" {
                FieldType::Number
            } else {
                lexicon::type_for_unit(unit)
            }
        } else {
            named_ty
        };
        if ty != FieldType::Enum {
            self.enum_values.clear();
        }
        let numeric_bounds = self.min.is_some() || self.max.is_some() || self.positive;
        if numeric_bounds && !ty.is_numeric() && !explicit_type {
            ty = if [self.min, self.max]
                .iter()
                .flatten()
                .any(|n| n.fract() != 0.0)
            {
                FieldType::Number
            } else {
                FieldType::Integer
            };
        }
        if (self.min_length.is_some() || self.max_length.is_some())
            && !ty.is_textual()
            && !explicit_type
        {
            ty = FieldType::String;
        }
        if ty == FieldType::Integer
            && [self.min, self.max]
                .iter()
                .flatten()
                .any(|n| n.fract() != 0.0)
        {
            ty = FieldType::Number;
        }
        let mut field = Field::new(name.clone(), ty);
        field.unique = self.unique;
        field.required = self.required.unwrap_or_else(|| {
            lexicon::is_key_field(&name) || (ty == FieldType::Email && self.unique)
        });
        field.enum_values = self.enum_values;
        if ty.is_numeric() {
            field.min = self.min.or(bounds.min).or(if self.positive {
                Some(if ty == FieldType::Integer { 1.0 } else { 0.0 })
            } else {
                None
            });
            field.max = self
                .max
                .or(if self.min.is_some() { None } else { bounds.max });
            if let (Some(lo), Some(hi)) = (field.min, field.max)
                && lo > hi
            {
                field.max = None;
            }
        }
        if ty.is_textual() {
            field.min_length = self.min_length;
            field.max_length = self.max_length.filter(|m| *m > 0);
            if let (Some(lo), Some(hi)) = (field.min_length, field.max_length)
                && lo > hi
            {
                field.min_length = None;
            }
        }
        field.unit = self.unit;
        if ty == FieldType::Boolean && self.default.is_none() {
            field.default = Some(Value::Bool(false));
        }
        if ty == FieldType::Enum
            && matches!(name.as_str(), "status" | "state")
            && let Some(first) = field.enum_values.first()
        {
            field.default = Some(Value::String(first.clone()));
        }
        if let Some(raw) = &self.default
            && let Some(v) = default_value(&field, raw)
        {
            field.default = Some(v);
        }
        Some(FieldPhrase {
            field,
            explicit_type,
            parent: self.parent,
        })
    }
}

/// Reads a default written in a prompt as a value of the field's type; `None` when it
/// does not fit.
pub fn default_value(field: &Field, raw: &str) -> Option<Value> {
    let raw = raw.trim_matches(|c| c == '"' || c == '\'');
    let v = match field.ty {
        FieldType::Integer => Value::from(raw.parse::<i64>().ok()?),
        FieldType::Number | FieldType::Decimal => {
            let n = number(raw)?;
            serde_json::Number::from_f64(n).map(Value::Number)?
        }
        FieldType::Boolean => Value::Bool(match raw {
            "true" | "yes" | "on" | "1" => true,
            "false" | "no" | "off" | "0" => false,
            _ => return None,
        }),
        FieldType::Enum => Value::String(text::snake(raw)),
        FieldType::Json => return None,
        _ => Value::String(raw.to_owned()),
    };
    check_value(field, &v, None).ok().map(|()| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> Field {
        parse(s)
            .map(|p| p.field)
            .unwrap_or_else(|| panic!("no field from {s:?}"))
    }

    #[test]
    fn phrases() {
        let p = f("a priority (low, normal, high)");
        assert_eq!((p.name.as_str(), p.ty), ("priority", FieldType::Enum));
        assert_eq!(p.enum_values, ["low", "normal", "high"]);
        let p = f("status scheduled/completed/cancelled");
        assert_eq!(p.enum_values, ["scheduled", "completed", "cancelled"]);
        assert_eq!(p.default, Some(Value::String("scheduled".into())));
        let p = f("isbn unique");
        assert!(p.unique && p.name == "isbn");
        let p = f("size in square meters");
        assert_eq!(p.name, "size_square_meters");
        assert_eq!(p.unit.as_deref(), Some("square meters"));
        assert_eq!(p.ty, FieldType::Number);
        let p = f("a completed flag");
        assert_eq!((p.name.as_str(), p.ty), ("completed", FieldType::Boolean));
        let p = f("rating between 1 and 5");
        assert_eq!(
            (p.min, p.max, p.ty),
            (Some(1.0), Some(5.0), FieldType::Integer)
        );
        let p = f("title (required, max 200 chars)");
        assert!(p.required);
        assert_eq!(p.max_length, Some(200));
        let p = f("weight in kg");
        assert_eq!(p.name, "weight_kg");
        for (phrase, name) in [
            ("whether they are verified", "verified"),
            ("and whether it's dog friendly", "dog_friendly"),
            ("whether they're kind with other cats", "kind"),
            ("whether it is on sale", "on_sale"),
            ("can be pinned", "pinned"),
            ("marked as watched", "watched"),
            ("refundable or not", "refundable"),
            ("paid (yes/no)", "paid"),
            ("shipped y/n", "shipped"),
        ] {
            let p = f(phrase);
            assert_eq!(
                (p.name.as_str(), p.ty),
                (name, FieldType::Boolean),
                "{phrase}"
            );
        }
        let p = f("time of day: day or night");
        assert_eq!((p.name.as_str(), p.enum_values.len()), ("time_of_day", 2));
        let p = f("a route type that can be either loop or out and back");
        assert_eq!(p.name, "route_type");
        assert_eq!(p.enum_values, ["loop", "out_and_back"]);
        let p = f("a status - booked, completed, no-show or cancelled");
        assert_eq!(
            p.enum_values,
            ["booked", "completed", "no_show", "cancelled"]
        );
        let p = f("a score out of 10");
        assert_eq!((p.name.as_str(), p.max), ("score", Some(10.0)));
        let p = f("have a return date");
        assert_eq!((p.name.as_str(), p.ty), ("return_date", FieldType::Date));
        let p = f("weight (kg)");
        assert_eq!((p.name.as_str(), p.ty), ("weight_kg", FieldType::Number));
        let p = f("fee in eur");
        assert_eq!((p.name.as_str(), p.ty), ("fee", FieldType::Decimal));
        let p = f("surcharge gbp");
        assert_eq!(
            (p.name.as_str(), p.unit.as_deref()),
            ("surcharge", Some("gbp"))
        );
        let p = f("oven heat (degc)");
        assert_eq!(p.name, "oven_heat");
        assert!(p.enum_values.is_empty());
        let p = f("email (unique)");
        assert!(p.unique && p.required && p.ty == FieldType::Email);
        let p = f("quantity (default 1)");
        assert_eq!(p.default, Some(Value::from(1)));
        let p = f("age (integer)");
        assert_eq!(p.ty, FieldType::Integer);
        let rental = parse("total cost for a bike").expect("parses");
        assert_eq!(rental.field.name, "total_cost");
        assert_eq!(rental.parent.as_deref(), Some("bike"));
        let p = f("status (open, in progress, done)");
        assert_eq!(p.enum_values, ["open", "in_progress", "done"]);
        let p = f("role which can be admin, editor or viewer");
        assert_eq!(p.enum_values, ["admin", "editor", "viewer"]);
    }
}
