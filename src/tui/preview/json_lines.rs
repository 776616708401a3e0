//! JSON pretty-printed into toned lines: keys, strings and literals told apart. A
//! deliberately small stand-in for syntax highlighting (the editor's syntect layer,
//! `crate::tui::highlight`, can replace it once it is on main).

use serde_json::Value;

use super::scroll_view::{Tone, ToneLine};

/// `value` pretty-printed, one toned line per output line.
pub fn json_lines(value: &Value) -> Vec<ToneLine> {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|e| e.to_string());
    text_lines(&text)
}

/// `text` (a body as received): pretty JSON when it parses, else the raw lines.
pub fn body_lines(text: &str) -> Vec<ToneLine> {
    match serde_json::from_str::<Value>(text) {
        Ok(v) if !text.trim().is_empty() => json_lines(&v),
        _ => text
            .lines()
            .map(|l| vec![(Tone::Text, l.to_owned())])
            .collect(),
    }
}

fn text_lines(text: &str) -> Vec<ToneLine> {
    text.lines().map(tone_line).collect()
}

/// Tones one line of pretty-printed JSON.
fn tone_line(line: &str) -> ToneLine {
    let chars: Vec<char> = line.chars().collect();
    let mut out: ToneLine = Vec::new();
    let mut push = |tone: Tone, s: String| match out.last_mut() {
        Some((t, text)) if *t == tone => text.push_str(&s),
        _ => out.push((tone, s)),
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                // An escaped character (\" included) belongs to the string.
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i = (i + 1).min(chars.len());
            let s: String = chars[start..i].iter().collect();
            let is_key = chars[i..].iter().find(|c| !c.is_whitespace()) == Some(&':');
            push(if is_key { Tone::Accent } else { Tone::Ok }, s);
        } else if c.is_ascii_digit() || c == '-' || c.is_ascii_alphabetic() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || "+-.".contains(chars[i]))
            {
                i += 1;
            }
            push(Tone::Warn, chars[start..i].iter().collect());
        } else {
            push(
                if c.is_whitespace() {
                    Tone::Text
                } else {
                    Tone::Dim
                },
                c.to_string(),
            );
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_strings_and_literals_get_their_tones() {
        let lines = json_lines(&json!({"a \"q\"": "x: y", "n": -1.5e3, "b": [true, null]}));
        assert_eq!(lines[0], vec![(Tone::Dim, "{".to_owned())]);
        assert_eq!(
            lines[1],
            vec![
                (Tone::Text, "  ".to_owned()),
                (Tone::Accent, r#""a \"q\"""#.to_owned()),
                (Tone::Dim, ":".to_owned()),
                (Tone::Text, " ".to_owned()),
                (Tone::Ok, r#""x: y""#.to_owned()),
                (Tone::Dim, ",".to_owned()),
            ]
        );
        assert!(lines[2].contains(&(Tone::Warn, "-1500.0".to_owned())));
        assert!(lines[4].contains(&(Tone::Warn, "true".to_owned())));
    }

    #[test]
    fn bodies_that_are_not_json_stay_as_they_are() {
        assert_eq!(
            body_lines("Internal Server Error\nsecond"),
            vec![
                vec![(Tone::Text, "Internal Server Error".to_owned())],
                vec![(Tone::Text, "second".to_owned())]
            ]
        );
        assert_eq!(body_lines("{\"a\":1}").len(), 3);
        // An unterminated string must not read past the line.
        assert_eq!(tone_line("\"abc\\"), vec![(Tone::Ok, "\"abc\\".to_owned())]);
    }
}
