//! JavaScript literals for generated code: identifier keys unquoted, single-quoted
//! strings, short values on one line, field order as the design gives it.

use serde_json::Value;

/// An ordered JavaScript value (serde_json's map would sort the keys).
#[derive(Debug, Clone, PartialEq)]
pub enum JsValue {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    Str(String),
    Array(Vec<JsValue>),
    Object(Vec<(String, JsValue)>),
}

/// Lines longer than this are broken, one element per line.
const WIDTH: usize = 100;

impl JsValue {
    pub fn str(value: impl Into<String>) -> Self {
        JsValue::Str(value.into())
    }

    pub fn object(entries: impl IntoIterator<Item = (impl Into<String>, JsValue)>) -> Self {
        JsValue::Object(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// The literal, laid out for a line that already has `indent` spaces of indentation
    /// and nothing else before the value.
    pub fn render(&self, indent: usize) -> String {
        self.render_at(indent, indent)
    }

    /// `column` is where the value starts (for the width check); `indent` is the
    /// indentation of the line it starts on (for the lines it breaks into).
    fn render_at(&self, indent: usize, column: usize) -> String {
        let inline = self.inline();
        if column + inline.len() < WIDTH {
            return inline;
        }
        let pad = " ".repeat(indent + 2);
        match self {
            JsValue::Array(items) if !items.is_empty() => {
                let lines: Vec<String> = items
                    .iter()
                    .map(|item| format!("{pad}{},\n", item.render(indent + 2)))
                    .collect();
                format!("[\n{}{}]", lines.concat(), " ".repeat(indent))
            }
            JsValue::Object(entries) if !entries.is_empty() => {
                let lines: Vec<String> = entries
                    .iter()
                    .map(|(key, value)| {
                        let key = key_literal(key);
                        let value = value.render_at(indent + 2, indent + 2 + key.len() + 2);
                        format!("{pad}{key}: {value},\n")
                    })
                    .collect();
                format!("{{\n{}{}}}", lines.concat(), " ".repeat(indent))
            }
            _ => inline,
        }
    }

    fn inline(&self) -> String {
        match self {
            JsValue::Null => "null".to_owned(),
            JsValue::Bool(b) => b.to_string(),
            // 1000.0 reads as 1000 in JavaScript.
            JsValue::Number(n) => match n.as_f64() {
                Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 1e15 => {
                    format!("{}", f as i64)
                }
                _ => n.to_string(),
            },
            JsValue::Str(s) => string_literal(s),
            JsValue::Array(items) => {
                let items: Vec<String> = items.iter().map(JsValue::inline).collect();
                format!("[{}]", items.join(", "))
            }
            JsValue::Object(entries) if entries.is_empty() => "{}".to_owned(),
            JsValue::Object(entries) => {
                let entries: Vec<String> = entries
                    .iter()
                    .map(|(key, value)| format!("{}: {}", key_literal(key), value.inline()))
                    .collect();
                format!("{{ {} }}", entries.join(", "))
            }
        }
    }
}

impl From<&Value> for JsValue {
    fn from(value: &Value) -> Self {
        match value {
            Value::Null => JsValue::Null,
            Value::Bool(b) => JsValue::Bool(*b),
            Value::Number(n) => JsValue::Number(n.clone()),
            Value::String(s) => JsValue::Str(s.clone()),
            Value::Array(items) => JsValue::Array(items.iter().map(JsValue::from).collect()),
            Value::Object(map) => JsValue::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), JsValue::from(v)))
                    .collect(),
            ),
        }
    }
}

impl From<Value> for JsValue {
    fn from(value: Value) -> Self {
        JsValue::from(&value)
    }
}

/// Words that cannot be bare identifiers in strict-mode JavaScript.
const RESERVED: &[&str] = &[
    "arguments",
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "eval",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "implements",
    "import",
    "in",
    "instanceof",
    "interface",
    "let",
    "new",
    "null",
    "package",
    "private",
    "protected",
    "public",
    "return",
    "static",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "yield",
];

pub fn is_reserved(word: &str) -> bool {
    RESERVED.contains(&word)
}

fn is_identifier(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

fn key_literal(key: &str) -> String {
    if is_identifier(key) {
        key.to_owned()
    } else {
        string_literal(key)
    }
}

/// A single-quoted JavaScript string literal.
pub fn string_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // Template literals and line separators are harmless in a quoted string,
            // but control characters and U+2028/9 are clearer escaped.
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// snake_case → camelCase.
pub fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = !out.is_empty();
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn literals_are_idiomatic_and_ordered() {
        let value = JsValue::object([
            ("zeta", JsValue::str("it's")),
            ("alpha", JsValue::from(json!([1, true, null]))),
            ("needs-quotes", JsValue::from(json!({"a": 1.5}))),
        ]);
        assert_eq!(
            value.render(0),
            "{ zeta: 'it\\'s', alpha: [1, true, null], 'needs-quotes': { a: 1.5 } }"
        );
    }

    #[test]
    fn long_literals_break_lines() {
        let long = JsValue::Array(vec![
            JsValue::str("x".repeat(60)),
            JsValue::str("y".repeat(60)),
        ]);
        assert_eq!(
            long.render(2),
            format!(
                "[\n    '{}',\n    '{}',\n  ]",
                "x".repeat(60),
                "y".repeat(60)
            )
        );
    }

    #[test]
    fn case_conversions() {
        assert_eq!(camel_case("invoice_lines"), "invoiceLines");
        assert_eq!(string_literal("a\u{2028}b\u{1}"), "'a\\u{2028}b\\u{1}'");
    }
}
