//! Valid and invalid example values for a field, used to generate the project's tests.
//! Valid examples are checked here against the field's bounds, lengths and pattern, so a
//! generated test never starts from data the server would rightly reject.

use serde_json::{Number, Value, json};

use crate::codegen::text_rules::TextRules;
use crate::design::{Field, FieldType};

/// The `index`-th valid value of `field`; different indexes give different values where
/// the field's constraints allow, increasing with the index for ordered types.
pub fn valid(field: &Field, index: usize) -> Option<Value> {
    let i = index as i64;
    let value = match field.ty {
        FieldType::Enum => {
            let values = &field.enum_values;
            Value::String(values.get(index % values.len().max(1))?.clone())
        }
        FieldType::Boolean => Value::Bool(index % 2 == 1),
        FieldType::Integer => Value::from(integer(field, i)?),
        FieldType::Number | FieldType::Decimal => Value::Number(number(field, i)?),
        FieldType::Date => Value::String(format!("2024-01-{:02}", 10 + index % 20)),
        FieldType::DateTime => Value::String(format!("2024-01-{:02}T09:30:00Z", 10 + index % 20)),
        FieldType::Time => Value::String(format!("09:{:02}:00", 10 + index % 50)),
        FieldType::Uuid => Value::String(format!("00000000-0000-4000-8000-{:012}", index + 1)),
        FieldType::Json => json!({ "label": format!("sample {}", index + 1), "count": index + 1 }),
        FieldType::String
        | FieldType::Text
        | FieldType::Email
        | FieldType::Url
        | FieldType::Phone => {
            return textual_candidates(field, index)
                .into_iter()
                .map(Value::String)
                .find(|candidate| fits(field, candidate));
        }
    };
    fits(field, &value).then_some(value)
}

/// Integers JavaScript represents exactly (Number.MAX_SAFE_INTEGER).
const SAFE_INTEGER: i64 = (1 << 53) - 1;

fn integer(field: &Field, i: i64) -> Option<i64> {
    let clamp = |m: f64| (m as i64).clamp(-SAFE_INTEGER, SAFE_INTEGER);
    let lo = field.min.map(|m| clamp(m.ceil()));
    let hi = field.max.map(|m| clamp(m.floor()));
    Some(match (lo, hi) {
        (Some(lo), Some(hi)) if hi < lo => return None,
        (Some(lo), Some(hi)) => lo + i % (hi - lo + 1).min(SAMPLE_SPREAD),
        (Some(lo), None) => lo + i,
        (None, Some(hi)) => hi - SAMPLE_SPREAD + i,
        (None, None) => 10 + i,
    })
}

/// How far apart the examples of one field may spread.
const SAMPLE_SPREAD: i64 = 8;

/// Longer length bounds are not worth examples (nor megabyte-sized test files).
const MAX_EXAMPLE_LENGTH: u32 = 10_000;

fn number(field: &Field, i: i64) -> Option<Number> {
    let i = i as f64;
    let value = match (field.min, field.max) {
        (Some(lo), Some(hi)) if hi < lo => return None,
        (Some(lo), Some(hi)) => {
            let step = (hi - lo) / 10.0;
            // Two decimals, like money; floor keeps the value inside the bounds.
            let raw = lo + step * (i % 9.0 + 1.0);
            let rounded = (raw * 100.0).floor() / 100.0;
            if rounded < lo { lo } else { rounded }
        }
        (Some(lo), None) => lo + i + 0.5,
        (None, Some(hi)) => hi - 8.5 + i,
        (None, None) => 10.5 + i,
    };
    Number::from_f64(value)
}

fn textual_candidates(field: &Field, index: usize) -> Vec<String> {
    if field.min_length.is_some_and(|m| m > MAX_EXAMPLE_LENGTH) {
        return Vec::new();
    }
    let n = index + 1;
    let mut guesses = Vec::new();
    if field.ty == FieldType::String || field.ty == FieldType::Text {
        guesses.push(fit_length(
            &field.name.replace('_', " "),
            &n.to_string(),
            field,
        ));
    }
    guesses.push(match field.ty {
        FieldType::Email => format!("user{n}@example.com"),
        FieldType::Url => format!("https://example.com/items/{n}"),
        FieldType::Phone => format!("+1 555 0100 {n}"),
        _ => format!("{} {n}", field.name.replace('_', " ")),
    });
    TextRules::of(field)
        .example(&guesses, index)
        .into_iter()
        .collect()
}

/// `"{word} {suffix}"` cut or padded to the field's length bounds, keeping the suffix
/// so values stay distinct.
fn fit_length(word: &str, suffix: &str, field: &Field) -> String {
    let min = field.min_length.unwrap_or(0) as usize;
    let max = field.max_length.map_or(usize::MAX, |m| m as usize);
    let mut head: String = word.to_owned();
    head.push(' ');
    let room = max.saturating_sub(suffix.chars().count());
    if head.chars().count() > room {
        head = head.chars().take(room).collect();
    }
    while head.chars().count() + suffix.chars().count() < min {
        head.push('x');
    }
    let mut value = head;
    value.push_str(suffix);
    if value.chars().count() > max {
        value = value.chars().take(max).collect();
    }
    value
}

/// Whether `value` respects `field`'s bounds, lengths and pattern.
pub fn fits(field: &Field, value: &Value) -> bool {
    if let Some(n) = value.as_f64()
        && (field.min.is_some_and(|min| n < min) || field.max.is_some_and(|max| n > max))
    {
        return false;
    }
    value
        .as_str()
        .is_none_or(|s| TextRules::of(field).allows(s))
}

/// Whether `pattern` matches somewhere in `value` (as the generated server checks);
/// `None` when the pattern is outside what the `regex` crate understands.
fn pattern_matches(pattern: &str, value: &str) -> Option<bool> {
    regex::Regex::new(pattern).ok().map(|re| re.is_match(value))
}

/// Values the server must reject for `field`, each with a short reason.
pub fn invalid(field: &Field) -> Vec<(Value, String)> {
    let mut cases: Vec<(Value, String)> = Vec::new();
    let wrong_type = match field.ty {
        FieldType::Integer => vec![(json!("ten"), "a string"), (json!(1.5), "a fraction")],
        FieldType::Number | FieldType::Decimal => vec![(json!("ten"), "a string")],
        FieldType::Boolean => vec![(json!("yes"), "a string")],
        FieldType::Json => vec![(json!([1, 2]), "an array")],
        _ => vec![(json!(12345), "a number")],
    };
    cases.extend(
        wrong_type
            .into_iter()
            .map(|(value, why)| (value, format!("{why} instead of {}", type_word(field.ty)))),
    );
    let format_case = match field.ty {
        FieldType::Enum => Some(("not-a-valid-choice", "a value outside the enum")),
        FieldType::Email => Some(("not-an-email", "a malformed email")),
        FieldType::Url => Some(("not a url", "a malformed URL")),
        FieldType::Uuid => Some(("not-a-uuid", "a malformed UUID")),
        FieldType::Date => Some(("2024-13-45", "an impossible date")),
        FieldType::DateTime => Some(("2024-01-01 25:00", "a malformed date-time")),
        FieldType::Time => Some(("25:61", "an impossible time")),
        FieldType::Phone => Some(("call me", "a malformed phone number")),
        _ => None,
    };
    if let Some((value, why)) = format_case {
        cases.push((json!(value), why.to_owned()));
    }
    if field.ty.is_numeric() {
        let whole = field.ty == FieldType::Integer;
        let below = |bound: f64| {
            if whole {
                json!((bound.ceil() as i64).saturating_sub(1))
            } else {
                json!(bound - 1.0)
            }
        };
        let above = |bound: f64| {
            if whole {
                json!((bound.floor() as i64).saturating_add(1))
            } else {
                json!(bound + 1.0)
            }
        };
        if let Some(min) = field.min {
            cases.push((below(min), format!("below the minimum {min}")));
        }
        if let Some(max) = field.max {
            cases.push((above(max), format!("above the maximum {max}")));
        }
    }
    if field.ty.is_textual() {
        if let Some(min) = field
            .min_length
            .filter(|&m| m > 0 && m <= MAX_EXAMPLE_LENGTH)
        {
            cases.push((
                json!("a".repeat(min as usize - 1)),
                format!("shorter than {min} characters"),
            ));
        }
        if let Some(max) = field.max_length.filter(|&m| m < MAX_EXAMPLE_LENGTH) {
            cases.push((
                json!("a".repeat(max as usize + 1)),
                format!("longer than {max} characters"),
            ));
        }
        if let Some(pattern) = &field.pattern {
            let mismatch = ["!", "~ ~", "0", "a"]
                .into_iter()
                .find(|candidate| pattern_matches(pattern, candidate) == Some(false));
            if let Some(candidate) = mismatch {
                cases.push((json!(candidate), format!("not matching {pattern}")));
            }
        }
    }
    cases
}

fn type_word(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Integer => "an integer",
        FieldType::Number | FieldType::Decimal => "a number",
        FieldType::Boolean => "a boolean",
        FieldType::Json => "an object",
        _ => "a string",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(ty: FieldType) -> Field {
        Field::new("label", ty)
    }

    #[test]
    fn valid_examples_respect_constraints_and_differ() {
        let mut code = field(FieldType::String);
        code.min_length = Some(5);
        code.max_length = Some(6);
        code.pattern = Some(r"^[A-Z]{2}\d{3}$".to_owned());
        let mut rating = field(FieldType::Integer);
        rating.min = Some(1.0);
        rating.max = Some(5.0);
        let mut price = field(FieldType::Decimal);
        price.min = Some(0.0);
        price.max = Some(1.0);
        let mut short = field(FieldType::Text);
        short.max_length = Some(3);
        for f in [&code, &rating, &price, &short] {
            let values: Vec<Value> = (0..4).map(|i| valid(f, i).expect("derivable")).collect();
            for v in &values {
                assert!(fits(f, v), "{v} does not fit {f:?}");
            }
            assert_ne!(values[0], values[1], "{f:?}");
        }
    }

    #[test]
    fn every_type_has_a_valid_example() {
        for ty in FieldType::ALL {
            let mut f = field(ty);
            if ty == FieldType::Enum {
                f.enum_values = vec!["a".to_owned(), "b".to_owned()];
            }
            assert!(valid(&f, 0).is_some(), "{ty:?}");
            assert!(!invalid(&f).is_empty(), "{ty:?}");
        }
    }

    #[test]
    fn invalid_examples_break_the_constraints() {
        let mut f = field(FieldType::String);
        f.min_length = Some(2);
        f.max_length = Some(4);
        f.pattern = Some("^[a-z]+$".to_owned());
        for (value, why) in invalid(&f) {
            assert!(
                !fits(&f, &value) || !value.is_string(),
                "{value} ({why}) fits"
            );
        }
    }

    #[test]
    fn impossible_bounds_have_no_example() {
        let mut f = field(FieldType::Integer);
        f.min = Some(5.0);
        f.max = Some(1.0);
        assert_eq!(valid(&f, 0), None);
    }
}
