//! Valid and invalid example values for fields, used by the generated tests and the
//! README examples. Sample `n` differs from sample `m` wherever the type allows, so
//! unique fields stay unique across the first few samples.

use serde_json::{Value, json};

use crate::codegen::CodegenError;
use crate::codegen::text_rules::TextRules;
use crate::design::{Field, FieldType};

/// How many samples each resource gets in the generated tests.
pub const SAMPLE_COUNT: usize = 6;

/// A valid value for `field`, variant `n`, or `None` when its constraints admit no
/// value apiforge can construct.
pub fn valid(field: &Field, n: usize) -> Option<Value> {
    let name = field.name.replace('_', " ");
    // Free text may be cut or padded to its lengths; a formatted value (an email, a URL)
    // would no longer be one, so it falls back to the patterns instead.
    let text = |guess: String| {
        let mut guesses = vec![guess];
        if !field.ty.is_textual() || matches!(field.ty, FieldType::String | FieldType::Text) {
            guesses.push(fit_length(&guesses[0], field));
        }
        TextRules::of(field).example(&guesses, n).map(Value::String)
    };
    Some(match field.ty {
        FieldType::String | FieldType::Text => return text(format!("{name} {n}")),
        FieldType::Email => {
            return text(format!("{}{n}@example.com", field.name.replace('_', ".")));
        }
        FieldType::Url => return text(format!("https://example.com/{}/{n}", field.name)),
        FieldType::Phone => return text(format!("+1 555 010 {:04}", 1000 + n)),
        FieldType::Time => return text(format!("{:02}:30", 8 + n)),
        FieldType::Integer => json!(integer(field, n)),
        FieldType::Number | FieldType::Decimal => json!(number(field, n)),
        FieldType::Boolean => Value::Bool(n.is_multiple_of(2)),
        FieldType::Date => Value::String(format!("2024-03-{:02}", 10 + n)),
        FieldType::DateTime => Value::String(format!("2024-03-{:02}T09:30:00Z", 10 + n)),
        FieldType::Uuid => Value::String(format!("00000000-0000-4000-8000-{:012}", n + 1)),
        FieldType::Enum => Value::String(
            field
                .enum_values
                .get(n % field.enum_values.len().max(1))?
                .clone(),
        ),
        FieldType::Json => json!({"label": format!("{name} {n}"), "rank": n}),
    })
}

/// [`valid`], or an error naming `owner.field` and what to change.
pub fn require(field: &Field, n: usize, owner: &str) -> Result<Value, CodegenError> {
    valid(field, n).ok_or_else(|| {
        CodegenError::Unsupported(format!(
            "cannot derive a valid example for {owner}.{} (its bounds, lengths or pattern \
             admit no value apiforge can construct); simplify the constraint",
            field.name
        ))
    })
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

/// The longest text [`fit_length`] pads to.
const MAX_PADDED_LENGTH: usize = 10_000;

/// Trims or pads `text` into the field's length bounds, keeping its end (where the
/// variant number is) so variants stay distinct.
fn fit_length(text: &str, field: &Field) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    if let Some(max) = field.max_length {
        let max = max as usize;
        if chars.len() > max {
            chars.drain(..chars.len() - max);
            // A cut can leave a leading blank (" 0" from "region 0"): drop it.
            let blanks = chars.iter().take_while(|c| c.is_whitespace()).count();
            chars.drain(..blanks);
        }
    }
    if let Some(min) = field.min_length {
        // Past the longest example worth making, leave the text short: no example fits.
        let missing = (min as usize)
            .min(MAX_PADDED_LENGTH)
            .saturating_sub(chars.len());
        chars.splice(0..0, std::iter::repeat_n('x', missing));
    }
    chars.into_iter().collect()
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
            let a = valid(&text(pattern), 0).expect("derivable");
            let b = valid(&text(pattern), 1).expect("derivable");
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
            let v = valid(&f, n).and_then(|v| v.as_i64()).expect("integer");
            assert!((1..=5).contains(&v));
        }
        let mut s = Field::new("code", FieldType::String);
        s.max_length = Some(3);
        s.min_length = Some(2);
        let v = valid(&s, 4).expect("derivable");
        assert_eq!(v.as_str().map(|s| s.chars().count()), Some(3));
        assert_eq!(invalid(&s).len(), 2);
    }

    #[test]
    fn constraints_that_admit_nothing_are_refused_with_a_reason() {
        let mut f = Field::new("code", FieldType::String);
        f.pattern = Some("^[A-Z]{3}$".into());
        f.min_length = Some(6);
        let error = require(&f, 0, "coupon").expect_err("no value fits");
        assert!(error.to_string().contains("coupon.code"), "{error}");
        let mut phone = Field::new("office_phone", FieldType::Phone);
        phone.pattern = Some(r"^\+44".into());
        for n in 0..SAMPLE_COUNT {
            let v = require(&phone, n, "coupon").expect("derivable");
            assert!(v.as_str().is_some_and(|s| s.starts_with("+44")), "{v}");
        }
    }
}
