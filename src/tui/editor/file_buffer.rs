//! One open file: its text being edited, what is stored, and its highlighting.

use crossterm::event::KeyEvent;
use ratatui_textarea::TextArea;

use crate::tui::highlight::{HighlightCache, Language};
use crate::tui::theme::Theme;

pub struct FileBuffer {
    pub(super) textarea: TextArea<'static>,
    /// The stored lines: the version's content, or what the last save recorded.
    baseline: Vec<String>,
    trailing_newline: bool,
    dirty: bool,
    /// Counts edits, so drawing syncs the highlighting only after one.
    revision: u64,
    language: Language,
    /// Built on first draw, for the syntect theme it was drawn with, and synced
    /// with `revision`.
    highlight: Option<(String, u64, HighlightCache)>,
    /// The first line and column on screen.
    pub(super) top: usize,
    pub(super) left: usize,
}

/// `content` as lines, and whether it ended with a newline (kept on save so an
/// untouched file stays byte for byte the same).
fn split(content: &str) -> (Vec<String>, bool) {
    let trailing = content.ends_with('\n');
    let body = content.strip_suffix('\n').unwrap_or(content);
    (body.split('\n').map(str::to_owned).collect(), trailing)
}

impl FileBuffer {
    pub fn new(path: &str, content: &str) -> Self {
        let (lines, trailing_newline) = split(content);
        let mut textarea = TextArea::new(lines.clone());
        textarea.set_tab_length(4);
        Self {
            textarea,
            baseline: lines,
            trailing_newline,
            dirty: false,
            revision: 0,
            language: Language::detect(path),
            highlight: None,
            top: 0,
            left: 0,
        }
    }

    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    pub fn language(&self) -> Language {
        self.language
    }

    pub fn lines(&self) -> &[String] {
        self.textarea.lines()
    }

    /// The text as it would be saved.
    pub fn content(&self) -> String {
        let mut text = self.textarea.lines().join("\n");
        if self.trailing_newline {
            text.push('\n');
        }
        text
    }

    /// Passes a key to the text; true when it changed the text.
    pub fn input(&mut self, key: KeyEvent) -> bool {
        let changed = self.textarea.input(key);
        if changed {
            self.revision += 1;
            self.refresh_dirty();
        }
        changed
    }

    /// `content` is now what is stored (a save recorded it); the buffer stays dirty
    /// only if it was edited since.
    /// Inserts pasted text at the cursor as one edit (one undo step, one dirty check).
    pub fn paste(&mut self, text: &str) -> bool {
        // Terminals send a pasted line break as CR.
        let changed = self
            .textarea
            .insert_str(text.replace("\r\n", "\n").replace('\r', "\n"));
        if changed {
            self.revision += 1;
            self.refresh_dirty();
        }
        changed
    }

    pub fn rebase(&mut self, content: &str) {
        let (lines, trailing) = split(content);
        self.baseline = lines;
        self.trailing_newline = trailing;
        self.refresh_dirty();
    }

    fn refresh_dirty(&mut self) {
        self.dirty = self.textarea.lines() != self.baseline.as_slice();
    }

    /// The highlighting of the current text, valid for lines `..upto`, and the text.
    pub fn highlighted(&mut self, theme: &Theme, upto: usize) -> (&HighlightCache, &[String]) {
        let language = self.language;
        let fresh = || {
            (
                theme.syntax.clone(),
                u64::MAX,
                HighlightCache::new(language, theme),
            )
        };
        if self
            .highlight
            .as_ref()
            .is_none_or(|(syntax, _, _)| *syntax != theme.syntax)
        {
            self.highlight = Some(fresh());
        }
        let lines = self.textarea.lines();
        let (_, synced, cache) = self.highlight.get_or_insert_with(fresh);
        if *synced != self.revision {
            cache.sync(lines);
            *synced = self.revision;
        }
        cache.ensure(lines, upto);
        (cache, lines)
    }

    /// Lines run through syntect so far (for the benchmark and tests).
    pub fn lines_highlighted(&self) -> u64 {
        self.highlight
            .as_ref()
            .map_or(0, |(_, _, cache)| cache.lines_highlighted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyModifiers};

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn content_round_trips_with_and_without_a_final_newline() {
        for text in ["a\nb\n", "a\nb", "", "\n", "x\r\ny\r\n"] {
            let buffer = FileBuffer::new("f.py", text);
            assert_eq!(buffer.content(), text);
            assert!(!buffer.is_dirty());
        }
    }

    #[test]
    fn typing_makes_it_dirty_and_undoing_makes_it_clean() {
        let mut buffer = FileBuffer::new("f.py", "pass\n");
        assert!(buffer.input(key(KeyCode::Char('x'))));
        assert!(buffer.is_dirty());
        assert_eq!(buffer.content(), "xpass\n");
        assert!(buffer.input(key(KeyCode::Backspace)));
        assert!(!buffer.is_dirty());
    }

    #[test]
    fn rebasing_on_saved_content_keeps_later_edits_dirty() {
        let mut buffer = FileBuffer::new("f.py", "a\n");
        buffer.input(key(KeyCode::Char('1')));
        let saved = buffer.content();
        buffer.rebase(&saved);
        assert!(!buffer.is_dirty());
        buffer.input(key(KeyCode::Char('2')));
        buffer.rebase(&saved);
        assert!(buffer.is_dirty());
    }
}
