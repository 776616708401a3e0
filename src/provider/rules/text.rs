//! Prompt text: normalisation to lower-case ASCII, sentences, list items, words and
//! snake_case names. Everything downstream slices only ASCII, so no slice can fall
//! inside a character.

/// Longest prompt accepted; longer input is almost certainly pasted by mistake and
/// would make parsing slow.
pub const MAX_PROMPT_CHARS: usize = 8_000;

/// Lower-cases `prompt` and maps it to ASCII: typographic quotes and dashes become
/// their ASCII forms; Latin letters with accents lose them (canonical decomposition,
/// so "café" is "cafe" and "Zürich" is "zurich"); currency signs become the currency's
/// code and "°" and "²" keep their unit ("°c" → "degc", "m²" → "m2"); other symbols
/// and emoji separate words like a space, so "cooking 🔥" still reads "cooking"; letters
/// of other scripts become `~` (which no word accepts). Returns the text and how many
/// such foreign letters were replaced.
pub fn normalise(prompt: &str) -> (String, usize) {
    use unicode_normalization::UnicodeNormalization;
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
            '\u{2022}' | '\u{25aa}' | '\u{25cf}' | '\u{2023}' | '\u{2043}' => '-',
            '\u{00d7}' => 'x',
            c => {
                if let Some(s) = spelled_symbol(c) {
                    out.push_str(s);
                    continue;
                }
                // A Latin letter with marks decomposes into the letter and the marks.
                let base: String = c.nfd().filter(char::is_ascii_alphanumeric).collect();
                if !base.is_empty() && c.nfd().skip(1).all(|m| !m.is_alphanumeric()) {
                    out.push_str(&base.to_ascii_lowercase());
                    continue;
                }
                if c.is_alphabetic() {
                    foreign += 1;
                    '~'
                } else {
                    ' '
                }
            }
        };
        out.push(mapped);
    }
    (expand_shorthand(&out), foreign)
}

/// Note-taking shorthand spelled out: "w/" is "with", "w/o" is "without".
fn expand_shorthand(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(pos) = rest.find("w/") {
        let starts_word = rest[..pos]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_ascii_alphanumeric());
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 2..];
        if starts_word
            && after.starts_with('o')
            && !after[1..].starts_with(|c: char| c.is_ascii_alphanumeric())
        {
            out.push_str("without");
            rest = &after[1..];
        } else if starts_word && !after.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            out.push_str("with");
            rest = after;
        } else {
            out.push_str("w/");
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Symbols that are words in a prompt: units and letters without a decomposition.
fn spelled_symbol(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{00a3}' => " gbp ",
        '\u{20ac}' => " eur ",
        '\u{00a5}' => " jpy ",
        '\u{00b0}' => "deg",
        '\u{00b2}' => "2",
        '\u{00b3}' => "3",
        '\u{00b5}' => "u",
        '\u{00df}' => "ss",
        '\u{00e6}' | '\u{00c6}' => "ae",
        '\u{0153}' | '\u{0152}' => "oe",
        '\u{00f8}' | '\u{00d8}' => "o",
        '\u{0142}' | '\u{0141}' => "l",
        '\u{0111}' | '\u{0110}' => "d",
        '\u{00fe}' | '\u{00de}' => "th",
        _ => return None,
    })
}

/// The commonest function words of English and of the Latin-script languages a prompt
/// is most often written in instead. Function words identify a language far better
/// than its letters do once accents are folded away.
const ENGLISH_FUNCTION_WORDS: &[&str] = &[
    "the", "a", "an", "and", "or", "with", "of", "for", "to", "in", "on", "has", "have", "is",
    "are", "each", "by", "from", "that", "which", "my", "our", "i", "we", "it",
];
const FOREIGN_FUNCTION_WORDS: &[&str] = &[
    // French
    "le", "la", "les", "des", "du", "une", "et", "pour", "avec", "est", "sont", "dans",
    // German
    "der", "die", "das", "und", "mit", "fur", "ein", "eine", "ist", "sind", "von",
    // Spanish and Portuguese
    "el", "los", "las", "y", "con", "para", "una", "es", "del", "em", "os", "um", "uma", "e", "com",
    "por", // Italian and Dutch
    "il", "gli", "di", "che", "per", "het", "een", "en", "voor", "met", "zijn",
];

/// Whether normalised text reads as another language: more of its function words
/// belong to another language than to English.
pub fn looks_foreign(text: &str) -> bool {
    let ws = words(text);
    let english = ws
        .iter()
        .filter(|w| ENGLISH_FUNCTION_WORDS.contains(w))
        .count();
    let foreign = ws
        .iter()
        .filter(|w| FOREIGN_FUNCTION_WORDS.contains(w))
        .count();
    foreign >= 2 && foreign > english
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
    // A list marker ("- ", "* ", "+ ", "1) ") opens a line of a list, not a word.
    let s = s
        .strip_prefix(['-', '*', '+'])
        .filter(|rest| rest.starts_with(' '))
        .unwrap_or(s);
    let s = match s.split_once(") ") {
        Some((marker, rest))
            if !marker.is_empty()
                && marker.len() <= 2
                && marker.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            rest
        }
        _ => s,
    };
    let s = s.trim();
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
        &[
            " and ",
            " & ",
            " plus ",
            " + ",
            " as well as ",
            " along with ",
        ]
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

    #[test]
    fn accents_fold_and_symbols_separate() {
        assert_eq!(normalise("Café São Zürich").0, "cafe sao zurich");
        assert_eq!(
            normalise("pots w/ lids, w/o handles, kw/h").0,
            "pots with lids, without handles, kw/h"
        );
        assert_eq!(normalise("mood (sleepy 😴, ok)").0, "mood (sleepy  , ok)");
        assert_eq!(
            normalise("heat °C, area m², fee £").0,
            "heat degc, area m2, fee  gbp "
        );
        assert!(looks_foreign(
            &normalise("Une API pour gérer des livres et des auteurs").0
        ));
        assert!(!looks_foreign(
            &normalise("a café API with menus and the prices in euros").0
        ));
        let (text, foreign) = normalise("книги");
        assert_eq!((text.as_str(), foreign), ("~~~~~", 5));
    }
}
