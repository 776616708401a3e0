//! Valid and invalid example values for fields, used by the generated tests and the
//! README examples. Sample `n` differs from sample `m` wherever the type allows, so
//! unique fields stay unique across the first few samples.

use regex_syntax::hir::{Class, Hir, HirKind};
use serde_json::{Value, json};

use crate::design::{Field, FieldType};

/// How many samples each resource gets in the generated tests.
pub const SAMPLE_COUNT: usize = 6;

/// A valid value for `field`, variant `n`.
pub fn valid(field: &Field, n: usize) -> Value {
    let name = field.name.replace('_', " ");
    match field.ty {
        FieldType::String | FieldType::Text => {
            if let Some(pattern) = &field.pattern
                && let Some(text) = matching(pattern, n)
            {
                return Value::String(text);
            }
            Value::String(fit_length(&format!("{name} {n}"), field))
        }
        FieldType::Email => {
            Value::String(format!("{}{n}@example.com", field.name.replace('_', ".")))
        }
        FieldType::Url => Value::String(format!("https://example.com/{}/{n}", field.name)),
        FieldType::Phone => Value::String(format!("+1 555 010 {:04}", 1000 + n)),
        FieldType::Integer => json!(integer(field, n)),
        FieldType::Number | FieldType::Decimal => json!(number(field, n)),
        FieldType::Boolean => Value::Bool(n.is_multiple_of(2)),
        FieldType::Date => Value::String(format!("2024-03-{:02}", 10 + n)),
        FieldType::DateTime => Value::String(format!("2024-03-{:02}T09:30:00Z", 10 + n)),
        FieldType::Time => Value::String(format!("{:02}:30", 8 + n)),
        FieldType::Uuid => Value::String(format!("00000000-0000-4000-8000-{:012}", n + 1)),
        FieldType::Enum => field
            .enum_values
            .get(n % field.enum_values.len().max(1))
            .map(|v| Value::String(v.clone()))
            .unwrap_or(Value::Null),
        FieldType::Json => json!({"label": format!("{name} {n}"), "rank": n}),
    }
}

/// A value of the wrong JSON type for `field`.
pub fn wrong_type(field: &Field) -> Value {
    match field.ty {
        FieldType::Integer | FieldType::Number | FieldType::Decimal => json!("not-a-number"),
        FieldType::Boolean => json!("not-a-boolean"),
        FieldType::Date => json!("not-a-date"),
        FieldType::DateTime => json!("not-a-date-time"),
        FieldType::Uuid => json!("not-a-uuid"),
        FieldType::Json => json!("not-an-object"),
        FieldType::String
        | FieldType::Text
        | FieldType::Email
        | FieldType::Url
        | FieldType::Phone
        | FieldType::Time
        | FieldType::Enum => json!(12345),
    }
}

/// Values of the right JSON type that break one of the field's constraints, each
/// with a short slug naming the broken rule.
pub fn invalid(field: &Field) -> Vec<(&'static str, Value)> {
    let mut cases = Vec::new();
    if field.ty.is_numeric() {
        let integral = field.ty == FieldType::Integer;
        if let Some(min) = field.min {
            cases.push(("below_its_minimum", bound(min, -1.0, integral)));
        }
        if let Some(max) = field.max {
            cases.push(("above_its_maximum", bound(max, 1.0, integral)));
        }
    }
    if field.ty.is_textual() {
        if let Some(max) = field.max_length {
            cases.push(("too_long", Value::String("x".repeat(max as usize + 1))));
        }
        if let Some(min) = field.min_length.filter(|m| *m > 0) {
            cases.push(("too_short", Value::String("x".repeat(min as usize - 1))));
        }
    }
    match field.ty {
        FieldType::Enum => cases.push(("an_unknown_choice", json!("not-a-valid-choice"))),
        FieldType::Email => cases.push(("a_malformed_email", json!("not-an-email"))),
        FieldType::Url => cases.push(("a_malformed_url", json!("not a url"))),
        FieldType::Phone => cases.push(("a_malformed_phone", json!("call me maybe"))),
        FieldType::Time => cases.push(("a_malformed_time", json!("half past nine"))),
        FieldType::Date => cases.push(("an_impossible_date", json!("2024-13-45"))),
        _ => {}
    }
    cases
}

fn bound(limit: f64, step: f64, integral: bool) -> Value {
    if integral {
        let edge = if step < 0.0 {
            limit.ceil()
        } else {
            limit.floor()
        };
        json!(edge as i64 + step as i64)
    } else {
        json!(limit + step)
    }
}

fn integer(field: &Field, n: usize) -> i64 {
    let n = n as i64;
    let lo = field.min.map(|m| m.ceil() as i64);
    let hi = field.max.map(|m| m.floor() as i64);
    match (lo, hi) {
        (Some(lo), Some(hi)) => lo + n % (hi - lo + 1).max(1),
        (Some(lo), None) => lo + n,
        (None, Some(hi)) => hi - n,
        (None, None) => n + 1,
    }
}

fn number(field: &Field, n: usize) -> f64 {
    let n = n as f64;
    let value = match (field.min, field.max) {
        (Some(lo), Some(hi)) => lo + (hi - lo) * (n + 1.0) / (SAMPLE_COUNT as f64 + 1.0),
        (Some(lo), None) => lo + n + 0.5,
        (None, Some(hi)) => hi - n - 0.5,
        (None, None) => n + 1.5,
    };
    let rounded = (value * 100.0).round() / 100.0;
    let inside =
        field.min.is_none_or(|lo| rounded >= lo) && field.max.is_none_or(|hi| rounded <= hi);
    if inside { rounded } else { value }
}

/// Trims or pads `text` into the field's length bounds, keeping its end (where the
/// variant number is) so variants stay distinct.
fn fit_length(text: &str, field: &Field) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    if let Some(max) = field.max_length {
        let max = max as usize;
        if chars.len() > max {
            chars.drain(..chars.len() - max);
        }
    }
    if let Some(min) = field.min_length {
        while chars.len() < min as usize {
            chars.insert(0, 'x');
        }
    }
    chars.into_iter().collect()
}

/// A string matching `pattern`, variant `n`, or `None` when the pattern cannot be
/// parsed or the example does not match it.
pub fn matching(pattern: &str, n: usize) -> Option<String> {
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    let mut atoms = Vec::new();
    atomise(&hir, &mut atoms);
    // Count `n` in mixed radix over the classes, last class fastest, so variants differ.
    let mut rest = n;
    let mut picks = vec![0usize; atoms.len()];
    for (i, atom) in atoms.iter().enumerate().rev() {
        if let Atom::Class(pool) = atom
            && !pool.is_empty()
        {
            picks[i] = rest % pool.len();
            rest /= pool.len();
        }
    }
    let text: String = atoms
        .iter()
        .zip(picks)
        .map(|(atom, pick)| match atom {
            Atom::Fixed(s) => s.clone(),
            Atom::Class(pool) => pool.get(pick).map(|c| c.to_string()).unwrap_or_default(),
        })
        .collect();
    let re = regex::Regex::new(pattern).ok()?;
    re.is_match(&text).then_some(text)
}

enum Atom {
    Fixed(String),
    Class(Vec<char>),
}

/// Flattens the shortest non-empty match: one repetition at least, first alternative.
fn atomise(hir: &Hir, atoms: &mut Vec<Atom>) {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(lit) => {
            atoms.push(Atom::Fixed(String::from_utf8_lossy(&lit.0).into_owned()))
        }
        HirKind::Class(class) => atoms.push(Atom::Class(pool(class))),
        HirKind::Repetition(rep) => {
            let count = rep.min.max(1).min(rep.max.unwrap_or(u32::MAX));
            for _ in 0..count {
                atomise(&rep.sub, atoms);
            }
        }
        HirKind::Capture(cap) => atomise(&cap.sub, atoms),
        HirKind::Concat(parts) => parts.iter().for_each(|part| atomise(part, atoms)),
        HirKind::Alternation(branches) => {
            if let Some(first) = branches.first() {
                atomise(first, atoms);
            }
        }
    }
}

/// The characters of a class worth using: printable ASCII when it has any.
fn pool(class: &Class) -> Vec<char> {
    let mut chars: Vec<char> = Vec::new();
    match class {
        Class::Unicode(set) => {
            for range in set.ranges() {
                let (start, end) = (range.start() as u32, range.end() as u32);
                chars.extend((start..=end.min(start + 128)).filter_map(char::from_u32));
            }
        }
        Class::Bytes(set) => {
            for range in set.ranges() {
                chars.extend((range.start()..=range.end()).map(char::from));
            }
        }
    }
    let printable: Vec<char> = chars
        .iter()
        .copied()
        .filter(|c| c.is_ascii_alphanumeric() || c.is_ascii_punctuation())
        .collect();
    if printable.is_empty() {
        chars
    } else {
        printable
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(pattern: &str) -> Field {
        let mut f = Field::new("code", FieldType::String);
        f.pattern = Some(pattern.to_owned());
        f
    }

    #[test]
    fn pattern_samples_match_and_differ() {
        for pattern in [
            "^[A-Z]{3}-\\d{4}$",
            "^SKU-[0-9]+$",
            "^[a-z][a-z0-9_]*$",
            "^(foo|bar)\\d$",
        ] {
            let a = valid(&text(pattern), 0);
            let b = valid(&text(pattern), 1);
            let re = regex::Regex::new(pattern).expect("test pattern");
            let (a, b) = (a.as_str().expect("string"), b.as_str().expect("string"));
            assert!(re.is_match(a), "{pattern} {a}");
            assert!(re.is_match(b), "{pattern} {b}");
            assert_ne!(a, b, "{pattern}");
        }
    }

    #[test]
    fn bounded_samples_stay_in_bounds() {
        let mut f = Field::new("rating", FieldType::Integer);
        f.min = Some(1.0);
        f.max = Some(5.0);
        for n in 0..SAMPLE_COUNT {
            let v = valid(&f, n).as_i64().expect("integer");
            assert!((1..=5).contains(&v));
        }
        let mut s = Field::new("code", FieldType::String);
        s.max_length = Some(3);
        s.min_length = Some(2);
        let v = valid(&s, 4);
        assert_eq!(v.as_str().map(|s| s.chars().count()), Some(3));
        assert_eq!(invalid(&s).len(), 2);
    }
}
