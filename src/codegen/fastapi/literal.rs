//! Python source fragments: literals, identifiers, docstrings and import blocks.

use std::collections::BTreeSet;

use serde_json::Value;

/// Python keywords and soft keywords that cannot be identifiers.
const KEYWORDS: [&str; 35] = [
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// Python's builtins (3.11, the lower-case ones) and the standard-library types the
/// generated modules import. A class attribute or parameter of one of these names hides
/// it from the annotations after it: `date: date | None = None` assigns None to `date`
/// before its own annotation is evaluated, and the module fails at import.
const PREDEFINED: [&str; 79] = [
    "abs",
    "aiter",
    "all",
    "anext",
    "any",
    "ascii",
    "bin",
    "bool",
    "breakpoint",
    "bytearray",
    "bytes",
    "callable",
    "chr",
    "classmethod",
    "compile",
    "complex",
    "copyright",
    "credits",
    "delattr",
    "dict",
    "dir",
    "divmod",
    "enumerate",
    "eval",
    "exec",
    "exit",
    "filter",
    "float",
    "format",
    "frozenset",
    "getattr",
    "globals",
    "hasattr",
    "hash",
    "help",
    "hex",
    "id",
    "input",
    "int",
    "isinstance",
    "issubclass",
    "iter",
    "len",
    "license",
    "list",
    "locals",
    "map",
    "max",
    "memoryview",
    "min",
    "next",
    "object",
    "oct",
    "open",
    "ord",
    "pow",
    "print",
    "property",
    "quit",
    "range",
    "repr",
    "reversed",
    "round",
    "set",
    "setattr",
    "slice",
    "sorted",
    "staticmethod",
    "str",
    "sum",
    "super",
    "tuple",
    "type",
    "vars",
    "zip",
    "date",
    "datetime",
    "time",
    "decimal",
];

/// Whether `name` already means something in Python (a keyword, a builtin or an imported
/// type), so generated code must not use it as an identifier of its own.
pub fn is_predefined(name: &str) -> bool {
    is_keyword(name) || PREDEFINED.contains(&name)
}

/// Attributes of pydantic's `BaseModel` a field must not shadow.
const MODEL_ATTRIBUTES: [&str; 13] = [
    "json",
    "dict",
    "copy",
    "schema",
    "schema_json",
    "construct",
    "validate",
    "parse_obj",
    "parse_raw",
    "parse_file",
    "from_orm",
    "update_forward_refs",
    "fields",
];

pub fn is_keyword(name: &str) -> bool {
    KEYWORDS.contains(&name)
}

/// The attribute name a model field gets in Python; the JSON name stays `name` (an
/// alias) when they differ.
pub fn field_identifier(name: &str) -> String {
    if is_predefined(name) || MODEL_ATTRIBUTES.contains(&name) || name.starts_with("model_") {
        format!("{name}_")
    } else {
        name.to_owned()
    }
}

/// A Python literal for a JSON value.
pub fn py(value: &Value) -> String {
    match value {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => py_str(s),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(py).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", py_str(k), py(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

/// A double-quoted Python string literal. JSON string escapes are valid Python escapes.
pub fn py_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

/// A string literal that fits in `width` columns after `indent` spaces: one literal
/// when short, else adjacent literals (implicitly concatenated) in parentheses.
pub fn py_str_wrapped(text: &str, indent: usize, width: usize) -> String {
    let single = py_str(text);
    if indent + single.len() + 16 <= width {
        return single;
    }
    let budget = width.saturating_sub(indent + 8).max(20);
    let mut chunks: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split_inclusive(' ') {
        if !current.is_empty() && current.len() + word.len() > budget {
            chunks.push(std::mem::take(&mut current));
        }
        current.push_str(word);
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    let pad = " ".repeat(indent + 4);
    let body: Vec<String> = chunks
        .iter()
        .map(|c| format!("{pad}{}", py_str(c)))
        .collect();
    format!("(\n{}\n{})", body.join("\n"), " ".repeat(indent))
}

/// A regular expression as a raw string when that needs no escaping.
pub fn py_regex(pattern: &str) -> String {
    if !pattern.contains('"') && !pattern.ends_with('\\') && !pattern.contains('\n') {
        format!("r\"{pattern}\"")
    } else {
        py_str(pattern)
    }
}

/// A Python tuple literal of strings, `None` when empty.
pub fn py_tuple(items: &[String]) -> String {
    match items {
        [] => "()".to_owned(),
        [one] => format!("({},)", py_str(one)),
        many => {
            let parts: Vec<String> = many.iter().map(|s| py_str(s)).collect();
            format!("({})", parts.join(", "))
        }
    }
}

/// A Python set literal of strings (`set()` when empty).
pub fn py_set(items: &[String]) -> String {
    if items.is_empty() {
        return "set()".to_owned();
    }
    let parts: Vec<String> = items.iter().map(|s| py_str(s)).collect();
    format!("{{{}}}", parts.join(", "))
}

/// Text safe inside a triple-quoted docstring, on one line.
pub fn doc(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut escaped = one_line
        .replace('\\', "\\\\")
        .replace("\"\"\"", "\\\"\\\"\\\"");
    if escaped.ends_with('"') {
        escaped.push(' ');
    }
    escaped
}

/// `name=value` as a call argument, or `**{"name": value}` when `name` is a keyword.
pub fn kwarg(name: &str, value: &str) -> String {
    if is_keyword(name) {
        format!("**{{{}: {value}}}", py_str(name))
    } else {
        format!("{name}={value}")
    }
}

/// `snake_case` → `PascalCase`.
pub fn pascal(name: &str) -> String {
    name.split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// Import statements in three isort-style groups (standard library, third party,
/// this project), each sorted, separated by blank lines.
#[derive(Debug, Default)]
pub struct Imports {
    stdlib: Group,
    third_party: Group,
    local: Group,
}

#[derive(Debug, Default)]
struct Group {
    plain: BTreeSet<String>,
    from: std::collections::BTreeMap<String, BTreeSet<String>>,
}

impl Group {
    fn render(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.plain.iter().map(|m| format!("import {m}")).collect();
        for (module, names) in &self.from {
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let line = format!("from {module} import {}", names.join(", "));
            if line.len() <= 99 {
                lines.push(line);
            } else {
                let mut block = format!("from {module} import (\n");
                for name in names {
                    block.push_str(&format!("    {name},\n"));
                }
                block.push(')');
                lines.push(block);
            }
        }
        lines
    }

    fn is_empty(&self) -> bool {
        self.plain.is_empty() && self.from.is_empty()
    }
}

pub enum Origin {
    Stdlib,
    ThirdParty,
    Local,
}

impl Imports {
    fn group(&mut self, origin: Origin) -> &mut Group {
        match origin {
            Origin::Stdlib => &mut self.stdlib,
            Origin::ThirdParty => &mut self.third_party,
            Origin::Local => &mut self.local,
        }
    }

    pub fn module(&mut self, origin: Origin, module: &str) -> &mut Self {
        self.group(origin).plain.insert(module.to_owned());
        self
    }

    pub fn from(&mut self, origin: Origin, module: &str, name: &str) -> &mut Self {
        self.group(origin)
            .from
            .entry(module.to_owned())
            .or_default()
            .insert(name.to_owned());
        self
    }

    pub fn render(&self) -> String {
        [&self.stdlib, &self.third_party, &self.local]
            .into_iter()
            .filter(|g| !g.is_empty())
            .map(|g| g.render().join("\n"))
            .collect::<Vec<_>>()
            .join("\n\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_python() {
        let v = serde_json::json!({"a": [true, null, 1.5, "x\"y"]});
        assert_eq!(py(&v), r#"{"a": [True, None, 1.5, "x\"y"]}"#);
        assert_eq!(py_tuple(&["a".to_owned()]), r#"("a",)"#);
        assert_eq!(kwarg("class", "1"), r#"**{"class": 1}"#);
        assert_eq!(pascal("invoice_line"), "InvoiceLine");
        assert_eq!(field_identifier("from"), "from_");
        assert_eq!(doc("a \"\"\" b\""), "a \\\"\\\"\\\" b\" ");
    }

    #[test]
    fn imports_group_and_sort() {
        let mut i = Imports::default();
        i.from(Origin::Local, "app", "crud")
            .from(Origin::Stdlib, "typing", "Literal")
            .from(Origin::Stdlib, "typing", "Annotated")
            .from(Origin::ThirdParty, "fastapi", "APIRouter");
        assert_eq!(
            i.render(),
            "from typing import Annotated, Literal\n\nfrom fastapi import APIRouter\n\nfrom app import crud"
        );
    }
}
