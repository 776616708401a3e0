//! A text input with a cursor, for dialogs, the filter and the palette. Keys edit one
//! line; only a paste brings line breaks, and only into a field that keeps them
//! ([`TextField::paste`]).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TextField {
    pub text: String,
    /// The cursor as a char index.
    pub cursor: usize,
}

impl TextField {
    pub fn with_text(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            cursor: text.chars().count(),
        }
    }

    /// Edits the text; false when the key is not an editing key.
    pub fn handle_key(&mut self, key: &KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('u') if ctrl => {
                self.text.clear();
                self.cursor = 0;
            }
            KeyCode::Char('a') if ctrl => self.cursor = 0,
            KeyCode::Char('e') if ctrl => self.cursor = self.len(),
            KeyCode::Char('w') if ctrl => {
                let chars: Vec<char> = self.text.chars().collect();
                let mut start = self.cursor;
                while start > 0 && chars[start - 1] == ' ' {
                    start -= 1;
                }
                while start > 0 && chars[start - 1] != ' ' {
                    start -= 1;
                }
                self.text = chars[..start].iter().chain(&chars[self.cursor..]).collect();
                self.cursor = start;
            }
            KeyCode::Char(_) if ctrl => return false,
            KeyCode::Char(c) => {
                let at = self.byte_at(self.cursor);
                self.text.insert(at, c);
                self.cursor += 1;
            }
            KeyCode::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                let at = self.byte_at(self.cursor);
                self.text.remove(at);
            }
            KeyCode::Backspace => {}
            KeyCode::Delete if self.cursor < self.len() => {
                let at = self.byte_at(self.cursor);
                self.text.remove(at);
            }
            KeyCode::Delete => {}
            KeyCode::Left => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Right => self.cursor = (self.cursor + 1).min(self.len()),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = self.len(),
            _ => return false,
        }
        true
    }

    /// Inserts pasted text at the cursor in one edit (a 10 KB paste is one `insert_str`,
    /// not one rebuild per char). `multiline` keeps line breaks (CRLF and CR become LF);
    /// otherwise the lines are joined with a space. Tabs become spaces and other
    /// control characters are dropped: they would draw as nothing.
    pub fn paste(&mut self, text: &str, multiline: bool) {
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        let clean: String = if multiline {
            text.chars()
                .filter_map(|c| match c {
                    '\n' => Some('\n'),
                    '\t' => Some(' '),
                    c if c.is_control() => None,
                    c => Some(c),
                })
                .collect()
        } else {
            text.split('\n')
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
                .chars()
                .filter_map(|c| match c {
                    '\t' => Some(' '),
                    c if c.is_control() => None,
                    c => Some(c),
                })
                .collect()
        };
        let at = self.byte_at(self.cursor);
        self.text.insert_str(at, &clean);
        self.cursor += clean.chars().count();
    }

    fn len(&self) -> usize {
        self.text.chars().count()
    }

    fn byte_at(&self, index: usize) -> usize {
        self.text
            .char_indices()
            .nth(index)
            .map_or(self.text.len(), |(i, _)| i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(f: &mut TextField, code: KeyCode, modifiers: KeyModifiers) -> bool {
        f.handle_key(&KeyEvent::new(code, modifiers))
    }

    #[test]
    fn edits_at_the_cursor_with_multibyte_text() {
        let mut f = TextField::default();
        for c in "café bar".chars() {
            press(&mut f, KeyCode::Char(c), KeyModifiers::NONE);
        }
        press(&mut f, KeyCode::Left, KeyModifiers::NONE);
        press(&mut f, KeyCode::Backspace, KeyModifiers::NONE);
        assert_eq!(f.text, "café br");
        press(&mut f, KeyCode::Home, KeyModifiers::NONE);
        press(&mut f, KeyCode::Delete, KeyModifiers::NONE);
        assert_eq!(f.text, "afé br");
        press(&mut f, KeyCode::End, KeyModifiers::NONE);
        press(&mut f, KeyCode::Char('w'), KeyModifiers::CONTROL);
        assert_eq!(f.text, "afé ");
        assert!(!press(&mut f, KeyCode::Char('x'), KeyModifiers::CONTROL));
        assert!(!press(&mut f, KeyCode::Enter, KeyModifiers::NONE));
        press(&mut f, KeyCode::Char('u'), KeyModifiers::CONTROL);
        assert_eq!((f.text.as_str(), f.cursor), ("", 0));
        press(&mut f, KeyCode::Backspace, KeyModifiers::NONE);
        press(&mut f, KeyCode::Delete, KeyModifiers::NONE);
        assert_eq!(f.text, "");
    }

    #[test]
    fn a_paste_keeps_or_joins_its_lines_at_the_cursor() {
        let mut f = TextField::with_text("ab");
        f.cursor = 1;
        f.paste("x\r\ny\tz\u{7}\n", true);
        assert_eq!((f.text.as_str(), f.cursor), ("ax\ny z\nb", 7));
        let mut f = TextField::with_text("é");
        f.paste("  one\r\n\ntwo \rthree\n", false);
        assert_eq!((f.text.as_str(), f.cursor), ("éone two three", 14));
    }
}
