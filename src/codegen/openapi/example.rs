//! Realistic example values for the spec, derived from a field's name, type, enum and
//! bounds. Deterministic: the same field always gets the same value, and the value
//! always satisfies the field's own constraints (`spec_check` verifies that).

use serde_json::{Map, Value, json};

use super::number;
use crate::codegen::text_rules::TextRules;
use crate::design::{Field, FieldType};

/// The timestamp every example resource was created and updated at.
pub const TIMESTAMP: &str = "2024-05-17T09:30:00Z";

/// An example value for `field` of the resource named `resource`.
pub fn field(field: &Field, resource: &str) -> Value {
    // A default is the most telling example, except for numbers, where it is mostly 0.
    if let Some(default) = &field.default
        && !field.ty.is_numeric()
        && default_fits(field, default)
    {
        return default.clone();
    }
    match field.ty {
        FieldType::Enum => field
            .enum_values
            .first()
            .map_or(Value::Null, |v| Value::String(v.clone())),
        FieldType::Boolean => Value::Bool(!has_token(
            &field.name,
            &[
                "done",
                "completed",
                "archived",
                "deleted",
                "cancelled",
                "private",
            ],
        )),
        FieldType::Integer => {
            let wanted = integer_by_name(&field.name) as f64;
            number(clamp(field, wanted).round())
        }
        FieldType::Number | FieldType::Decimal => number(clamp(field, number_by_name(&field.name))),
        FieldType::Json => json!({ "source": "example" }),
        _ => Value::String(text(field, resource)),
    }
}

fn default_fits(field: &Field, default: &Value) -> bool {
    match (field.ty, default) {
        (FieldType::Enum, Value::String(s)) => field.enum_values.contains(s),
        (FieldType::Boolean, Value::Bool(_)) => true,
        (FieldType::Json, Value::Object(_)) => true,
        (ty, Value::String(s)) if !matches!(ty, FieldType::Enum | FieldType::Json) => {
            text_fits(field, s) && !matches!(ty, FieldType::Date | FieldType::DateTime)
        }
        _ => false,
    }
}

fn clamp(field: &Field, wanted: f64) -> f64 {
    let mut v = wanted;
    if let Some(max) = field.max {
        v = v.min(if field.ty == FieldType::Integer {
            max.floor()
        } else {
            max
        });
    }
    if let Some(min) = field.min {
        v = v.max(if field.ty == FieldType::Integer {
            min.ceil()
        } else {
            min
        });
    }
    v
}

fn tokens(name: &str) -> impl Iterator<Item = &str> {
    name.split('_').filter(|t| !t.is_empty())
}

fn has_token(name: &str, wanted: &[&str]) -> bool {
    tokens(name).any(|t| wanted.contains(&t))
}

fn integer_by_name(name: &str) -> i64 {
    const TABLE: &[(&[&str], i64)] = &[
        (&["quantity", "qty"], 3),
        (&["stock", "inventory"], 25),
        (&["year"], 2024),
        (&["age"], 34),
        (&["rating", "stars", "score"], 4),
        (&["priority", "level"], 2),
        (&["position", "order", "rank", "sort"], 1),
        (&["minutes", "duration"], 45),
        (&["capacity", "seats", "guests", "people"], 4),
        (&["pages"], 320),
        (&["percent", "percentage", "discount"], 15),
        (&["cents", "price", "amount", "cost", "total"], 1999),
        (&["reorder", "threshold", "minimum"], 5),
    ];
    TABLE
        .iter()
        .find(|(words, _)| has_token(name, words))
        .map_or(10, |(_, v)| *v)
}

fn number_by_name(name: &str) -> f64 {
    const TABLE: &[(&[&str], f64)] = &[
        (
            &[
                "price", "cost", "amount", "total", "subtotal", "fee", "balance",
            ],
            19.99,
        ),
        (&["rating", "score"], 4.5),
        (&["latitude", "lat"], 48.8566),
        (&["longitude", "lon", "lng"], 2.3522),
        (&["weight", "kg"], 1.25),
        (&["percent", "percentage", "discount", "rate", "tax"], 15.0),
        (&["height", "width", "length", "depth", "size"], 30.5),
        (&["temperature", "temp"], 21.5),
    ];
    TABLE
        .iter()
        .find(|(words, _)| has_token(name, words))
        .map_or(12.5, |(_, v)| *v)
}

fn words(name: &str) -> String {
    tokens(name).collect::<Vec<_>>().join(" ")
}

/// A string example: a name-based guess first, stretched or cut to the length bounds
/// when it does not fit, else one generated from the field's patterns.
fn text(field: &Field, resource: &str) -> String {
    let guess = text_by_type(field, resource);
    let fitted = fit_length(field, &guess);
    TextRules::of(field)
        .example(&[guess, fitted.clone()], 0)
        .unwrap_or(fitted)
}

fn text_fits(field: &Field, s: &str) -> bool {
    TextRules::of(field).allows(s)
}

fn fit_length(field: &Field, s: &str) -> String {
    let mut out = s.to_owned();
    if let Some(min) = field.min_length {
        let filler = if s.is_empty() { "x" } else { s };
        while (out.chars().count() as u32) < min {
            out.push(' ');
            out.push_str(filler);
        }
    }
    if let Some(max) = field.max_length {
        out = out.chars().take(max as usize).collect();
        let trimmed = out.trim_end();
        if field
            .min_length
            .is_none_or(|m| trimmed.chars().count() as u32 >= m)
        {
            out = trimmed.to_owned();
        }
    }
    out
}

fn text_by_type(field: &Field, resource: &str) -> String {
    let name = field.name.as_str();
    match field.ty {
        FieldType::Date if has_token(name, &["birth", "birthday", "dob"]) => "1990-04-12".into(),
        FieldType::Date if has_token(name, &["due", "end", "until", "expires"]) => {
            "2024-06-30".into()
        }
        FieldType::Date => "2024-05-17".into(),
        FieldType::DateTime if has_token(name, &["end", "ends", "until", "checkout"]) => {
            "2024-06-01T16:00:00Z".into()
        }
        FieldType::DateTime if has_token(name, &["start", "starts", "begins", "checkin"]) => {
            "2024-06-01T14:00:00Z".into()
        }
        FieldType::DateTime => TIMESTAMP.into(),
        FieldType::Time if has_token(name, &["close", "closes", "end", "ends"]) => "18:00".into(),
        FieldType::Time => "09:30".into(),
        FieldType::Email => "ada@example.com".into(),
        FieldType::Url if has_token(name, &["image", "photo", "avatar", "picture", "logo"]) => {
            "https://example.com/images/1.jpg".into()
        }
        FieldType::Url => "https://example.com/".into(),
        FieldType::Phone => "+1 555-0100".into(),
        FieldType::Uuid => "3fa85f64-5717-4562-b3fc-2c963f66afa6".into(),
        _ => string_by_name(name, resource),
    }
}

fn string_by_name(name: &str, resource: &str) -> String {
    const PEOPLE: &[&str] = &[
        "user", "customer", "author", "member", "guest", "contact", "employee", "person",
        "patient", "student", "owner", "client",
    ];
    const TABLE: &[(&[&str], &str)] = &[
        (&["first"], "Ada"),
        (&["last", "surname"], "Lovelace"),
        (&["email"], "ada@example.com"),
        (&["phone", "mobile"], "+1 555-0100"),
        (&["url", "website", "link"], "https://example.com/"),
        (&["sku"], "SKU-1001"),
        (&["isbn"], "978-0135957059"),
        (&["slug"], "getting-started"),
        (&["code"], "ABC123"),
        (&["city"], "Lisbon"),
        (&["country"], "Portugal"),
        (&["address", "street"], "12 Rua Augusta"),
        (&["zip", "postal", "postcode"], "1100-053"),
        (&["currency"], "EUR"),
        (&["color", "colour"], "blue"),
        (&["status", "state"], "active"),
        (&["username", "handle", "login"], "ada"),
        (&["password", "secret"], "correct-horse-battery"),
        (&["tag", "tags", "label"], "featured"),
        (&["category", "kind", "type"], "General"),
        (&["language", "locale", "lang"], "en"),
        (
            &[
                "company",
                "organisation",
                "organization",
                "supplier",
                "vendor",
            ],
            "Acme Corp",
        ),
        (&["brand"], "Acme"),
        (&["room"], "Room 101"),
        (&["location", "venue", "place", "warehouse"], "Main office"),
        (&["unit"], "pcs"),
        (&["reference", "ref", "number"], "REF-2024-001"),
        (&["author", "owner", "assignee"], "Ada Lovelace"),
        (
            &[
                "description",
                "body",
                "content",
                "text",
                "notes",
                "note",
                "comment",
                "bio",
            ],
            "",
        ),
        (&["summary", "excerpt"], ""),
    ];
    let resource_words = words(resource);
    if has_token(name, &["name", "fullname"]) && !has_token(name, &["first", "last", "user"]) {
        return if PEOPLE.contains(&resource) {
            "Ada Lovelace".into()
        } else {
            format!("Example {resource_words}")
        };
    }
    if has_token(name, &["title", "subject", "headline"]) {
        return match resource {
            "post" | "article" | "story" => "Hello, world".into(),
            "todo" | "task" | "item" => "Buy groceries".into(),
            "book" => "The Pragmatic Programmer".into(),
            "note" => "Meeting notes".into(),
            _ => format!("First {resource_words}"),
        };
    }
    match TABLE.iter().find(|(words, _)| has_token(name, words)) {
        Some((_, "")) => format!("A short {} for this {resource_words}.", words(name)),
        Some((_, value)) => (*value).to_owned(),
        None => format!("Example {}", words(name)),
    }
}

/// An example object with a value for every field in `fields`.
pub fn object<'a>(
    fields: impl IntoIterator<Item = &'a Field>,
    resource: &str,
) -> Map<String, Value> {
    fields
        .into_iter()
        .map(|f| (f.name.clone(), field(f, resource)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_respect_bounds() {
        let mut f = Field::new("quantity", FieldType::Integer);
        f.min = Some(50.0);
        f.max = Some(60.0);
        assert_eq!(field(&f, "order_item"), json!(50));
        let mut s = Field::new("code", FieldType::String);
        s.min_length = Some(8);
        s.max_length = Some(8);
        let v = field(&s, "coupon");
        assert_eq!(v.as_str().map(|s| s.chars().count()), Some(8), "{v}");
        let mut p = Field::new("sku", FieldType::String);
        p.pattern = Some(r"^[A-Z]{2}\d{6}$".into());
        let v = field(&p, "product");
        let re = regex::Regex::new(r"^[A-Z]{2}\d{6}$").expect("valid");
        assert!(re.is_match(v.as_str().unwrap_or_default()), "{v}");
    }
}
