//! Prompt text: normalisation to lower-case ASCII, sentences, list items, words and
//! snake_case names. Everything downstream slices only ASCII, so no slice can fall
//! inside a character.

/// Longest prompt accepted; longer input is almost certainly pasted by mistake and
/// would make parsing slow.
pub const MAX_PROMPT_CHARS: usize = 8_000;

/// Lower-cases `prompt` and maps it to ASCII: typographic quotes and dashes become
/// their ASCII forms, other non-ASCII characters become `~` (which no word accepts).
/// Returns the text and how many non-ASCII letters were replaced.
pub fn normalise(prompt: &str) -> (String, usize) {
    let mut out = String::with_capacity(prompt.len());
    let mut foreign = 0;
    for c in prompt.chars() {
        let mapped = match c {
            '\u{2018}' | '\u{2019}' | '\u{02bc}' => '\'',
            '\u{201c}' | '\u{201d}' | '`' => '"',
            '\u{2013}' | '\u{2014}' | '\u{2212}' => '-',
            '\u{2026}' => '.',
            '\u{00a0}' | '\t' => ' ',
            '\r' => '\n',
            c if c.is_ascii() && !c.is_ascii_control() => c.to_ascii_lowercase(),
            '\n' => '\n',
            c => {
                if c.is_alphabetic() {
                    foreign += 1;
                }
                '~'
            }
        };
        out.push(mapped);
    }
    (out, foreign)
}

/// Splits text into sentences at `.`, `!`, `?`, `;` and newlines outside brackets. A
/// `.` only ends a sentence before whitespace or the end, so "1.5" and "e.g" stay.
pub fn sentences(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut depth = 0usize;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'(' | b'[' => depth += 1,
            b')' | b']' => depth = depth.saturating_sub(1),
            b'\n' => {
                depth = 0;
                push_trimmed(&mut out, &text[start..i]);
                start = i + 1;
            }
            b'.' | b'!' | b'?' | b';' if depth == 0 => {
                let next = bytes.get(i + 1).copied();
                if b != b'.' || next.is_none_or(|n| n.is_ascii_whitespace()) {
                    push_trimmed(&mut out, &text[start..i]);
                    start = i + 1;
                }
            }
            _ => {}
        }
    }
    push_trimmed(&mut out, &text[start..]);
    out
}

fn push_trimmed(out: &mut Vec<String>, s: &str) {
    let s = s
        .trim()
        .trim_matches(|c: char| c == ',' || c == ':' || c.is_whitespace());
    if !s.is_empty() {
        out.push(s.to_owned());
    }
}

/// Words that make the rest of an item a relation phrase, whose " and " joins parents
/// ("visits belong to a doctor and a patient") instead of separating items.
const RELATION_MARKERS: &[&str] = &[
    " belong",
    " linking ",
    " links ",
    " connecting ",
    " connects ",
    " joining ",
    " joins ",
    " between ",
    " assigned to ",
    " owned by ",
    " attached to ",
    " linked to ",
    " many ",
    " multiple ",
    " several ",
];

/// Splits a list at `,`, " and ", " & ", " plus ", " as well as " outside brackets.
/// In a bracketed group (`in_group`) " or " separates too. " and " inside "between 1
/// and 5" and inside relation phrases does not split.
pub fn split_list(text: &str, in_group: bool) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut items = Vec::new();
    let mut cur = String::new();
    let mut depth = 0usize;
    let mut i = 0;
    let seps: &[&str] = if in_group {
        &[
            " and ",
            " & ",
            " plus ",
            " or ",
            " as well as ",
            " along with ",
        ]
    } else {
        &[" and ", " & ", " plus ", " as well as ", " along with "]
    };
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'(' | b'[' => depth += 1,
            b')' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth == 0 && (b == b',' || b == b';') {
            items.push(std::mem::take(&mut cur));
            i += 1;
            continue;
        }
        if depth == 0 && b == b' ' {
            let rest = &text[i..];
            if let Some(sep) = seps.iter().find(|s| rest.starts_with(**s)) {
                let padded = format!(" {cur} ");
                let in_range = ends_with_between_number(&cur);
                let in_relation = !in_group
                    && *sep != " & "
                    && RELATION_MARKERS.iter().any(|m| {
                        padded.match_indices(m).any(|(pos, _)| {
                            // "between 1 and 5" is a range, not a relation.
                            let after = &padded[pos + m.len()..];
                            !(*m == " between "
                                && after.starts_with(|c: char| {
                                    c.is_ascii_digit() || c == '$' || c == '-'
                                }))
                        })
                    })
                    && !in_range;
                if !in_range && !in_relation {
                    items.push(std::mem::take(&mut cur));
                    i += sep.len();
                    continue;
                }
            }
        }
        cur.push(char::from(b));
        i += 1;
    }
    items.push(cur);
    items
        .into_iter()
        .map(|s| {
            let s = s.trim();
            let s = s
                .strip_prefix("and ")
                .or_else(|| s.strip_prefix("or "))
                .unwrap_or(s);
            s.trim().to_owned()
        })
        .filter(|s| !s.is_empty() && s != "and" && s != "or")
        .collect()
}

fn ends_with_between_number(cur: &str) -> bool {
    let mut words = cur.split_whitespace().rev();
    let last = words.next().unwrap_or("");
    let before = words.next().unwrap_or("");
    matches!(before, "between" | "from") && last.trim_start_matches('$').parse::<f64>().is_ok()
}

/// Words of `text`, trimmed of surrounding punctuation.
pub fn words(text: &str) -> Vec<&str> {
    text.split(|c: char| c.is_whitespace() || c == '"')
        .map(|w| {
            w.trim_matches(|c: char| matches!(c, ',' | '.' | ':' | '!' | '?' | '\'' | '(' | ')'))
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// `"Date of Birth"` → `date_of_birth`; `"e-mail"` → `email`; anything else that is
/// not an ASCII letter or digit separates words. Names never start with a digit.
pub fn snake(text: &str) -> String {
    let text = text.replace("e-mail", "email");
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if c == '\'' {
            // "user's" → "users"; possessives are dropped by callers first.
        } else if c == '~' {
            // A non-ASCII letter makes the word unusable.
            return String::new();
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let trimmed = out.trim_matches('_');
    let trimmed = trimmed.trim_start_matches(|c: char| c.is_ascii_digit() || c == '_');
    trimmed.to_owned()
}

/// Title case for display: "task manager" → "Task Manager"; "api" → "API".
pub fn title_case(words: &[&str]) -> String {
    words
        .iter()
        .map(|w| match *w {
            "api" => "API".to_owned(),
            "rest" => "REST".to_owned(),
            "crm" => "CRM".to_owned(),
            "hr" => "HR".to_owned(),
            w => {
                let mut c = w.chars();
                match c.next() {
                    Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                    None => String::new(),
                }
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_outside_brackets_and_ranges() {
        assert_eq!(
            split_list(
                "a title, notes, a priority (low, normal, high), a due date and a completed flag",
                false
            ),
            [
                "a title",
                "notes",
                "a priority (low, normal, high)",
                "a due date",
                "a completed flag"
            ]
        );
        assert_eq!(
            split_list("rating between 1 and 5 and a comment", false),
            ["rating between 1 and 5", "a comment"]
        );
        assert_eq!(
            split_list("visits belong to a doctor and a patient", false),
            ["visits belong to a doctor and a patient"]
        );
    }

    #[test]
    fn sentences_split() {
        assert_eq!(
            sentences("Books (price 1.5). Each book belongs to a publisher; done"),
            [
                "Books (price 1.5)",
                "Each book belongs to a publisher",
                "done"
            ]
        );
    }

    #[test]
    fn snake_names() {
        assert_eq!(snake("Date of Birth"), "date_of_birth");
        assert_eq!(snake("e-mail"), "email");
        assert_eq!(snake("3d model"), "d_model");
        assert_eq!(snake("caf~"), "");
    }
}
