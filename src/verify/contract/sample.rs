//! Request values built from the spec's schemas: valid bodies (from the schema's
//! example, made unique where the spec says a value must be), and the invalid
//! variants the contract says a server must reject with 422.

use serde_json::{Map, Value, json};

use crate::codegen::openapi::{EXT_RELATION, EXT_UNIQUE, shortest_match};

/// The longest string built to break a `maxLength`.
const MAX_SENT_LENGTH: usize = 65_536;

/// A schema's type names (`"type": "string"` or `"type": ["string", "null"]`).
pub(crate) fn types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn main_type(schema: &Value) -> Option<&str> {
    types(schema).into_iter().find(|t| *t != "null")
}

/// The first example the schema gives (`examples[0]`, else `example`, else `default`).
pub(crate) fn example(schema: &Value) -> Option<&Value> {
    schema
        .get("examples")
        .and_then(|e| e.get(0))
        .or_else(|| schema.get("example"))
        .or_else(|| schema.get("default"))
}

/// A valid value for a property schema; `n` makes strings and numbers distinct
/// between calls (0 gives the plain example).
pub(crate) fn value_for(schema: &Value, n: u64) -> Value {
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let real: Vec<&Value> = values.iter().filter(|v| !v.is_null()).collect();
        if real.is_empty() {
            return Value::Null;
        }
        let index = usize::try_from(n).unwrap_or(0) % real.len();
        return real[index].clone();
    }
    let base = example(schema).cloned();
    match main_type(schema) {
        Some("string") => Value::String(string_for(schema, base.as_ref(), n)),
        Some("integer") => {
            let start = base.as_ref().and_then(Value::as_i64).unwrap_or(1);
            json!(number_in_range(schema, start, n))
        }
        Some("number") => match base.as_ref().and_then(Value::as_f64) {
            Some(v) if n == 0 => json!(v),
            _ => json!(number_in_range(schema, 1, n)),
        },
        Some("boolean") => base.unwrap_or(Value::Bool(n.is_multiple_of(2))),
        Some("object") => base.unwrap_or_else(|| json!({ "sample": n })),
        Some("array") => base.unwrap_or_else(|| json!([])),
        _ => base.unwrap_or(Value::Null),
    }
}

fn number_in_range(schema: &Value, start: i64, n: u64) -> i64 {
    let min = schema
        .get("minimum")
        .and_then(Value::as_f64)
        .map(|m| m.ceil() as i64);
    let max = schema
        .get("maximum")
        .and_then(Value::as_f64)
        .map(|m| m.floor() as i64);
    let lo = min.unwrap_or(i64::MIN / 2);
    let hi = max.unwrap_or(i64::MAX / 2);
    let start = start.clamp(lo, hi.max(lo));
    let span = hi.saturating_sub(lo).saturating_add(1).max(1);
    let offset = i64::try_from(n).unwrap_or(0) % span;
    let v = start.saturating_add(offset);
    if v > hi { lo + (v - hi - 1) } else { v }
}

fn string_for(schema: &Value, base: Option<&Value>, n: u64) -> String {
    let base = base.and_then(Value::as_str);
    let format = schema.get("format").and_then(Value::as_str);
    if n == 0
        && let Some(b) = base
    {
        return b.to_owned();
    }
    match format {
        Some("email") => return format!("user{n}@example.com"),
        Some("uuid") => return format!("00000000-0000-4000-8000-{n:012x}"),
        Some("uri") => return format!("https://example.com/item/{n}"),
        Some("date") => return format!("2024-01-{:02}", 1 + n % 28),
        Some("date-time") => return format!("2024-01-{:02}T10:00:00Z", 1 + n % 28),
        _ => {}
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
        return pattern_value(schema, pattern, base, n);
    }
    let min = length(schema, "minLength").unwrap_or(0);
    let max = length(schema, "maxLength").unwrap_or(usize::MAX);
    let mut s = match base {
        Some(b) => format!("{b} {n}"),
        None => format!("value {n}"),
    };
    if s.chars().count() > max {
        s = format!("v{n}");
        if s.chars().count() > max {
            s = s.chars().rev().take(max).collect::<String>();
        }
    }
    while s.chars().count() < min {
        s.push('x');
    }
    s
}

/// A string matching `pattern` within the schema's lengths, distinct for each `n`
/// where the pattern allows it: the shortest match long enough for the lengths, with
/// its tail replaced by `n` in digits or letters when the pattern still matches.
fn pattern_value(schema: &Value, pattern: &str, base: Option<&str>, n: u64) -> String {
    let Ok(re) = regex::Regex::new(pattern) else {
        return base.unwrap_or_default().to_owned();
    };
    let ok = |s: &str| re.is_match(s) && fits(schema, s);
    let Some(plain) = (0..64).find_map(|extra| shortest_match(pattern, extra).filter(|s| ok(s)))
    else {
        return base.unwrap_or_default().to_owned();
    };
    let letters = |alphabet: &[u8]| {
        let mut v = n;
        let mut out = Vec::new();
        loop {
            let radix = alphabet.len() as u64;
            out.push(alphabet[usize::try_from(v % radix).unwrap_or(0)]);
            v /= radix;
            if v == 0 {
                break;
            }
        }
        out.reverse();
        String::from_utf8(out).unwrap_or_default()
    };
    let tails = [
        n.to_string(),
        letters(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
        letters(b"abcdefghijklmnopqrstuvwxyz"),
    ];
    for source in [Some(plain.clone()), base.map(str::to_owned)]
        .into_iter()
        .flatten()
    {
        let chars: Vec<char> = source.chars().collect();
        for tail in &tails {
            let tail_len = tail.chars().count();
            // Replace the end, or append when the string is too short to hold the tail.
            let keep = chars.len().saturating_sub(tail_len);
            let candidates = [
                chars[..keep].iter().collect::<String>() + tail,
                source.clone() + tail,
            ];
            if let Some(found) = candidates.into_iter().find(|c| ok(c)) {
                return found;
            }
        }
    }
    plain
}

fn length(schema: &Value, key: &str) -> Option<usize> {
    schema
        .get(key)
        .and_then(Value::as_u64)
        .and_then(|v| usize::try_from(v).ok())
}

fn fits(schema: &Value, s: &str) -> bool {
    let len = s.chars().count();
    length(schema, "minLength").is_none_or(|m| len >= m)
        && length(schema, "maxLength").is_none_or(|m| len <= m)
}

/// The parent a foreign-key property points at: its `x-apiforge-relation` target, else
/// the name before `_id`.
pub(crate) fn relation_target(name: &str, schema: &Value) -> Option<String> {
    if let Some(target) = schema
        .get(EXT_RELATION)
        .and_then(|r| r.get("target"))
        .and_then(Value::as_str)
    {
        return Some(target.to_owned());
    }
    name.strip_suffix("_id")
        .filter(|s| !s.is_empty() && main_type(schema) == Some("integer"))
        .map(str::to_owned)
}

pub(crate) fn is_unique(schema: &Value) -> bool {
    schema.get(EXT_UNIQUE).and_then(Value::as_bool) == Some(true)
}

/// A valid body for an object schema: the schema's example with every property the
/// example lacks filled in, unique properties made distinct by `n`, and foreign keys
/// left for the caller to set.
pub(crate) fn body_for(schema: &Value, n: u64) -> Map<String, Value> {
    let example = example(schema).and_then(Value::as_object);
    let mut body = Map::new();
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return example.cloned().unwrap_or_default();
    };
    for (name, prop) in props {
        if prop.get("readOnly").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let value = match example.and_then(|e| e.get(name)) {
            Some(v) if !is_unique(prop) => v.clone(),
            _ => value_for(prop, if is_unique(prop) { n + 1 } else { 0 }),
        };
        body.insert(name.clone(), value);
    }
    body
}

/// A value of the wrong JSON type for a property, one that no lenient parser turns
/// into the right type.
pub(crate) fn wrong_type(schema: &Value) -> Option<Value> {
    match main_type(schema)? {
        "string" => Some(json!(12345)),
        "integer" | "number" => Some(json!("not a number")),
        "boolean" => Some(json!("not a boolean")),
        "object" => Some(json!("not an object")),
        "array" => Some(json!("not an array")),
        _ => None,
    }
}

/// A value of the right type outside the property's range, and what it violates.
pub(crate) fn out_of_range(schema: &Value) -> Option<(Value, String)> {
    if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
        let v = if main_type(schema) == Some("integer") {
            json!((min as i64).saturating_sub(1))
        } else {
            json!(min - 1.0)
        };
        return Some((v, format!("below minimum {min}")));
    }
    if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
        let v = if main_type(schema) == Some("integer") {
            json!((max as i64).saturating_add(1))
        } else {
            json!(max + 1.0)
        };
        return Some((v, format!("above maximum {max}")));
    }
    // A string one past a huge maxLength is not worth sending (or allocating).
    if let Some(max) = length(schema, "maxLength").filter(|m| *m <= MAX_SENT_LENGTH) {
        return Some((json!("x".repeat(max + 1)), format!("longer than {max}")));
    }
    if let Some(min) = length(schema, "minLength").filter(|m| *m > 0) {
        return Some((json!("x".repeat(min - 1)), format!("shorter than {min}")));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_strings_differ_and_respect_lengths() {
        let schema =
            json!({"type": "string", "minLength": 3, "maxLength": 6, "examples": ["abcdef"]});
        let a = value_for(&schema, 1);
        let b = value_for(&schema, 2);
        assert_ne!(a, b);
        for v in [a, b] {
            let len = v.as_str().map(|s| s.chars().count()).unwrap_or(0);
            assert!((3..=6).contains(&len), "{v}");
        }
    }

    #[test]
    fn pattern_values_match_and_differ() {
        let schema =
            json!({"type": "string", "pattern": "^[A-Z0-9]+$", "minLength": 6, "maxLength": 12});
        let values: Vec<Value> = (1..40).map(|n| value_for(&schema, n)).collect();
        let re = regex::Regex::new("^[A-Z0-9]{6,12}$").unwrap_or_else(|e| panic!("{e}"));
        for v in &values {
            assert!(re.is_match(v.as_str().unwrap_or("")), "{v}");
        }
        let distinct: std::collections::BTreeSet<String> =
            values.iter().map(Value::to_string).collect();
        assert_eq!(distinct.len(), values.len());
    }

    #[test]
    fn numbers_stay_in_range() {
        let schema = json!({"type": "integer", "minimum": 1, "maximum": 3});
        for n in 0..10 {
            let v = value_for(&schema, n).as_i64().unwrap_or(0);
            assert!((1..=3).contains(&v), "{v}");
        }
    }

    #[test]
    fn out_of_range_values_break_the_bound() {
        let schema = json!({"type": ["integer", "null"], "minimum": 0});
        assert_eq!(out_of_range(&schema).map(|v| v.0), Some(json!(-1)));
        let schema = json!({"type": "string", "maxLength": 2});
        assert_eq!(out_of_range(&schema).map(|v| v.0), Some(json!("xxx")));
        let schema = json!({"type": "integer", "minimum": -9.3e18});
        assert_eq!(out_of_range(&schema).map(|v| v.0), Some(json!(i64::MIN)));
        let schema = json!({"type": "string", "maxLength": 4_000_000_000_u64});
        assert_eq!(out_of_range(&schema), None);
    }

    #[test]
    fn foreign_keys_name_their_parent() {
        let with_ext = json!({"type": "integer", "x-apiforge-relation": {"target": "customer"}});
        assert_eq!(
            relation_target("buyer_id", &with_ext).as_deref(),
            Some("customer")
        );
        let plain = json!({"type": "integer"});
        assert_eq!(
            relation_target("order_id", &plain).as_deref(),
            Some("order")
        );
        assert_eq!(relation_target("name", &plain), None);
    }
}
