//! A TOML grammar for syntect, which ships none. syntect can only read
//! `.sublime-syntax` files with its YAML loader (left out of our build), so the
//! grammar is written as the serialized form of `SyntaxDefinition`.

use serde_json::{Value, json};
use syntect::parsing::SyntaxDefinition;

const KEY: &str = r#"(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')"#;

fn rule(regex: &str, scope: &str) -> Value {
    json!({ "Match": {
        "has_captures": false, "regex": regex, "scope": [scope], "captures": null,
        "operation": "None", "with_prototype": null,
    }})
}

fn captures(regex: &str, scopes: &[(usize, &str)]) -> Value {
    let mapping: Vec<Value> = scopes.iter().map(|(i, s)| json!([i, [s]])).collect();
    json!({ "Match": {
        "has_captures": true, "regex": regex, "scope": [], "captures": mapping,
        "operation": "None", "with_prototype": null,
    }})
}

fn push(regex: &str, scope: &str, context: &str) -> Value {
    json!({ "Match": {
        "has_captures": false, "regex": regex, "scope": [scope], "captures": null,
        "operation": { "Push": [{ "Named": context }] }, "with_prototype": null,
    }})
}

fn pop(regex: &str, scope: &str) -> Value {
    json!({ "Match": {
        "has_captures": false, "regex": regex, "scope": [scope], "captures": null,
        "operation": "Pop", "with_prototype": null,
    }})
}

fn context(meta_scope: &[&str], content_scope: &[&str], prototype: bool, patterns: Value) -> Value {
    json!({
        "meta_scope": meta_scope, "meta_content_scope": content_scope,
        "meta_include_prototype": prototype, "clear_scopes": null, "prototype": null,
        "uses_backrefs": false, "patterns": patterns,
    })
}

/// The TOML grammar; `None` only if syntect changed its serialized form (a test
/// catches that), in which case TOML shows as plain text.
pub fn definition() -> Option<SyntaxDefinition> {
    let key_path = format!(r"{KEY}(?:\s*\.\s*{KEY})*");
    let main = json!([
        rule(r"#.*$", "comment.line.number-sign.toml"),
        captures(
            &format!(r"^\s*(\[\[)\s*({key_path})\s*(\]\])"),
            &[
                (1, "punctuation.definition.table.toml"),
                (2, "entity.name.section.toml"),
                (3, "punctuation.definition.table.toml"),
            ],
        ),
        captures(
            &format!(r"^\s*(\[)\s*({key_path})\s*(\])"),
            &[
                (1, "punctuation.definition.table.toml"),
                (2, "entity.name.section.toml"),
                (3, "punctuation.definition.table.toml"),
            ],
        ),
        captures(
            &format!(r"(?:^|(?<=[{{,]))\s*({key_path})\s*(=)"),
            &[
                (1, "entity.name.tag.toml"),
                (2, "keyword.operator.assignment.toml"),
            ],
        ),
        push(
            r#"""""#,
            "punctuation.definition.string.begin.toml",
            "basic_multiline"
        ),
        push(
            r"'''",
            "punctuation.definition.string.begin.toml",
            "literal_multiline"
        ),
        rule(r#""(?:[^"\\]|\\.)*""#, "string.quoted.double.toml"),
        rule(r"'[^']*'", "string.quoted.single.toml"),
        rule(
            r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?)?\b",
            "constant.numeric.datetime.toml",
        ),
        rule(
            r"\b\d{2}:\d{2}:\d{2}(?:\.\d+)?\b",
            "constant.numeric.datetime.toml"
        ),
        rule(r"\b(?:true|false)\b", "constant.language.boolean.toml"),
        rule(
            r"(?<![\w.])[+-]?(?:0x[0-9A-Fa-f_]+|0o[0-7_]+|0b[01_]+|inf|nan|\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][+-]?\d+)?)\b",
            "constant.numeric.toml",
        ),
    ]);
    let definition = json!({
        "name": "TOML",
        "file_extensions": ["toml"],
        "scope": "source.toml",
        "first_line_match": null,
        "hidden": false,
        "variables": {},
        "contexts": {
            "__start": context(&[], &["source.toml"], false, json!([
                { "Match": {
                    "has_captures": false, "regex": "", "scope": [], "captures": null,
                    "operation": { "Push": [{ "Named": "__main" }] }, "with_prototype": null,
                }}
            ])),
            "__main": context(&[], &[], true, json!([{ "Include": { "Named": "main" } }])),
            "main": context(&[], &[], true, main),
            "basic_multiline": context(&["string.quoted.triple.toml"], &[], true, json!([
                rule(r"\\.", "constant.character.escape.toml"),
                pop(r#"""""#, "punctuation.definition.string.end.toml"),
            ])),
            "literal_multiline": context(&["string.quoted.single.triple.toml"], &[], true, json!([
                pop(r"'''", "punctuation.definition.string.end.toml"),
            ])),
        },
    });
    serde_json::from_value(definition).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_grammar_deserializes() {
        let definition = super::definition().expect("the TOML grammar is well-formed");
        assert_eq!(definition.name, "TOML");
        assert!(definition.contexts.contains_key("__start"));
    }
}
