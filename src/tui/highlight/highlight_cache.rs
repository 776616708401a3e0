//! Per-line highlighting that survives edits.
//!
//! Each highlighted line keeps its text, the parser state at its start and at its
//! end, and its tokens. After an edit only lines from the first changed one are
//! highlighted again, and only until the state at a line start equals the state the
//! old highlighting had there: from then on the old lines are reused. Lines are
//! highlighted lazily, up to the last one a view asks for, so opening a 10k-line file
//! costs only the lines on screen.

use std::sync::Arc;

use ratatui::style::Style;
use syntect::highlighting::{HighlightIterator, HighlightState, Highlighter};
use syntect::parsing::{ParseState, ScopeStack};

use super::{Language, syntax_theme, to_ratatui};
use crate::tui::theme::Theme;

/// A run of text in one style, from byte `start` to the next token (or line end).
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub start: usize,
    pub style: Style,
}

/// The parser and highlighter state between two lines.
#[derive(Debug, Clone, PartialEq)]
struct LineState {
    parse: ParseState,
    highlight: HighlightState,
}

#[derive(Debug, Clone)]
struct CachedLine {
    text: String,
    // Shared with the neighbouring line's `end`/`start` when they were highlighted
    // one after the other, so keeping both costs no second copy.
    start: Arc<LineState>,
    end: Arc<LineState>,
    tokens: Vec<Token>,
}

pub struct HighlightCache {
    language: Language,
    highlighter: Highlighter<'static>,
    /// One slot per document line. Slots before `valid` are right for the current
    /// text; later ones are left from before an edit and are reused only once the
    /// state at their start matches again.
    lines: Vec<Option<CachedLine>>,
    valid: usize,
    /// The state at the start of line `valid`.
    frontier: Arc<LineState>,
    highlighted: u64,
}

impl HighlightCache {
    pub fn new(language: Language, theme: &Theme) -> Self {
        let highlighter = Highlighter::new(syntax_theme(theme));
        let frontier = Arc::new(LineState {
            parse: ParseState::new(language.syntax()),
            highlight: HighlightState::new(&highlighter, ScopeStack::new()),
        });
        Self {
            language,
            highlighter,
            lines: Vec::new(),
            valid: 0,
            frontier,
            highlighted: 0,
        }
    }

    pub fn language(&self) -> Language {
        self.language
    }

    /// How many lines have been run through syntect so far (tests and benchmarks
    /// use it to see how much an edit cost).
    pub fn lines_highlighted(&self) -> u64 {
        self.highlighted
    }

    /// Takes in the document's current lines: finds the edited region by comparing
    /// with the cached text (so it works for any edit: typing, paste, undo) and
    /// forgets what it changed. Costs one string comparison per line, no parsing.
    pub fn sync(&mut self, lines: &[String]) {
        let old_len = self.lines.len();
        let new_len = lines.len();
        let same = |slot: &Option<CachedLine>, text: &String| {
            slot.as_ref().is_some_and(|cached| cached.text == *text)
        };
        let limit = self.valid.min(new_len);
        let prefix = (0..limit)
            .find(|&i| !same(&self.lines[i], &lines[i]))
            .unwrap_or(limit);
        // Lines never highlighted count as unchanged: nothing of theirs is kept, and
        // a line that did change is caught by `ensure`, which compares text again.
        let unchanged = |slot: &Option<CachedLine>, text: &String| {
            slot.as_ref().is_none_or(|cached| cached.text == *text)
        };
        let room = old_len.min(new_len) - prefix;
        let suffix = (0..room)
            .find(|&k| !unchanged(&self.lines[old_len - 1 - k], &lines[new_len - 1 - k]))
            .unwrap_or(room);
        if prefix == old_len && prefix == new_len {
            return;
        }
        if prefix < self.valid {
            // The first changed line still starts in the state the unchanged lines
            // above it leave.
            if let Some(cached) = &self.lines[prefix] {
                self.frontier = Arc::clone(&cached.start);
            }
            self.valid = prefix;
        }
        let changed = old_len - suffix;
        let replacement = (prefix..new_len - suffix).map(|_| None);
        self.lines.splice(prefix..changed, replacement);
    }

    /// Highlights lines until line `upto` (exclusive) is known. `lines` must be what
    /// was last given to `sync`.
    pub fn ensure(&mut self, lines: &[String], upto: usize) {
        let upto = upto.min(lines.len()).min(self.lines.len());
        let mut scratch = String::new();
        while self.valid < upto {
            let row = self.valid;
            let reusable = self.lines[row].as_ref().is_some_and(|cached| {
                cached.text == lines[row]
                    && (Arc::ptr_eq(&cached.start, &self.frontier) || cached.start == self.frontier)
            });
            if reusable {
                if let Some(cached) = &mut self.lines[row] {
                    cached.start = Arc::clone(&self.frontier);
                    self.frontier = Arc::clone(&cached.end);
                }
            } else {
                let line = self.highlight_line(&lines[row], &mut scratch);
                self.frontier = Arc::clone(&line.end);
                self.lines[row] = Some(line);
            }
            self.valid += 1;
        }
    }

    fn highlight_line(&mut self, text: &str, scratch: &mut String) -> CachedLine {
        self.highlighted += 1;
        let start = Arc::clone(&self.frontier);
        let mut state = (*start).clone();
        // The grammars are the "newlines" variants: they expect each line's `\n`.
        scratch.clear();
        scratch.push_str(text);
        scratch.push('\n');
        let mut tokens: Vec<Token> = Vec::new();
        match state.parse.parse_line(scratch, self.language.set()) {
            Ok(ops) => {
                let mut offset = 0;
                let pieces =
                    HighlightIterator::new(&mut state.highlight, &ops, scratch, &self.highlighter);
                for (style, piece) in pieces {
                    let style = to_ratatui(style);
                    if offset < text.len() && tokens.last().is_none_or(|t| t.style != style) {
                        tokens.push(Token {
                            start: offset,
                            style,
                        });
                    }
                    offset += piece.len();
                }
            }
            Err(e) => {
                // A grammar that fails on a line leaves it plain; the state carries on
                // so the lines below are still highlighted.
                tracing::debug!(error = %e, "syntax highlighting failed on a line");
            }
        }
        if tokens.is_empty() {
            tokens.push(Token {
                start: 0,
                style: to_ratatui(self.highlighter.get_default()),
            });
        }
        CachedLine {
            text: text.to_owned(),
            start,
            end: Arc::new(state),
            tokens,
        }
    }

    /// The tokens of line `row`, or none when it is not highlighted yet.
    pub fn tokens(&self, row: usize) -> &[Token] {
        match self.lines.get(row) {
            Some(Some(line)) if row < self.valid => &line.tokens,
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn python(lines: usize) -> Vec<String> {
        let block = [
            "class Item:",
            "    \"\"\"A thing we sell.\"\"\"",
            "    def price(self, count: int) -> float:",
            "        total = count * 1.5  # rounded later",
            "        return round(total, 2)",
            "",
        ];
        (0..lines)
            .map(|i| block[i % block.len()].to_owned())
            .collect()
    }

    fn full(lines: &[String]) -> HighlightCache {
        let mut cache = HighlightCache::new(Language::detect("main.py"), &Theme::dark());
        cache.sync(lines);
        cache.ensure(lines, lines.len());
        cache
    }

    fn assert_same_tokens(a: &HighlightCache, b: &HighlightCache, len: usize) {
        for row in 0..len {
            assert_eq!(a.tokens(row), b.tokens(row), "line {row}");
        }
    }

    #[test]
    fn opening_highlights_only_the_lines_asked_for() {
        let lines = python(10_000);
        let mut cache = HighlightCache::new(Language::detect("main.py"), &Theme::dark());
        cache.sync(&lines);
        cache.ensure(&lines, 40);
        assert_eq!(cache.lines_highlighted(), 40);
        assert!(!cache.tokens(39).is_empty());
        assert!(cache.tokens(40).is_empty());
    }

    #[test]
    fn an_edit_at_line_5000_rehighlights_a_bounded_number_of_lines() {
        let mut lines = python(10_000);
        let mut cache = full(&lines);
        assert_eq!(cache.lines_highlighted(), 10_000);
        lines[5000].insert_str(0, "x = 1  ");
        cache.sync(&lines);
        cache.ensure(&lines, lines.len());
        let redone = cache.lines_highlighted() - 10_000;
        assert!(redone <= 2, "re-highlighted {redone} lines");
        assert_same_tokens(&cache, &full(&lines), lines.len());
    }

    #[test]
    fn inserting_and_deleting_lines_reuses_the_shifted_lines() {
        let mut lines = python(10_000);
        let mut cache = full(&lines);
        lines.insert(5000, "answer = 42".to_owned());
        cache.sync(&lines);
        cache.ensure(&lines, lines.len());
        assert!(cache.lines_highlighted() - 10_000 <= 2);
        assert_same_tokens(&cache, &full(&lines), lines.len());

        let before = cache.lines_highlighted();
        lines.remove(3000);
        lines.remove(3000);
        cache.sync(&lines);
        cache.ensure(&lines, lines.len());
        assert!(cache.lines_highlighted() - before <= 2);
        assert_same_tokens(&cache, &full(&lines), lines.len());
    }

    #[test]
    fn opening_a_string_rehighlights_until_it_closes_and_matches_a_fresh_highlight() {
        let mut lines = python(600);
        let mut cache = full(&lines);
        // An unterminated triple quote turns the following lines into string text.
        lines[100] = "    doc = \"\"\"".to_owned();
        cache.sync(&lines);
        cache.ensure(&lines, lines.len());
        assert!(cache.lines_highlighted() - 600 > 2);
        assert_same_tokens(&cache, &full(&lines), lines.len());
        // Closing it again converges back to the old highlighting.
        lines[100] = "    doc = 1".to_owned();
        let before = cache.lines_highlighted();
        cache.sync(&lines);
        cache.ensure(&lines, lines.len());
        assert!(cache.lines_highlighted() > before);
        assert_same_tokens(&cache, &full(&lines), lines.len());
    }

    #[test]
    fn several_edits_before_highlighting_again_still_match() {
        let mut lines = python(2000);
        let mut cache = full(&lines);
        lines[1500].push_str(" # one");
        cache.sync(&lines);
        lines.remove(700);
        cache.sync(&lines);
        lines.insert(100, "\"\"\"".to_owned());
        cache.sync(&lines);
        lines.insert(1200, "\"\"\"".to_owned());
        cache.sync(&lines);
        cache.ensure(&lines, lines.len());
        assert_same_tokens(&cache, &full(&lines), lines.len());
    }

    #[test]
    fn typing_on_screen_reuses_the_lines_below_it_when_only_the_screen_is_highlighted() {
        let mut lines = python(10_000);
        let mut cache = HighlightCache::new(Language::detect("main.py"), &Theme::dark());
        cache.sync(&lines);
        cache.ensure(&lines, 40);
        for c in "total = 1".chars() {
            lines[20].push(c);
            cache.sync(&lines);
            cache.ensure(&lines, 40);
        }
        lines.insert(21, String::new());
        cache.sync(&lines);
        cache.ensure(&lines, 40);
        assert!(
            cache.lines_highlighted() <= 40 + 9 + 1,
            "{}",
            cache.lines_highlighted()
        );
        let mut fresh = HighlightCache::new(Language::detect("main.py"), &Theme::dark());
        fresh.sync(&lines);
        fresh.ensure(&lines, 40);
        assert_same_tokens(&cache, &fresh, 40);
    }

    #[test]
    fn an_edit_below_the_highlighted_part_is_caught_when_it_comes_into_view() {
        let mut lines = python(1000);
        let mut cache = HighlightCache::new(Language::detect("main.py"), &Theme::dark());
        cache.sync(&lines);
        cache.ensure(&lines, 40);
        lines.remove(500);
        lines[30] = "s = \"\"\"".to_owned();
        cache.sync(&lines);
        cache.ensure(&lines, lines.len());
        assert_same_tokens(&cache, &full(&lines), lines.len());
    }

    #[test]
    fn edits_below_the_highlighted_part_cost_nothing_now() {
        let mut lines = python(10_000);
        let mut cache = HighlightCache::new(Language::detect("main.py"), &Theme::dark());
        cache.sync(&lines);
        cache.ensure(&lines, 40);
        lines[9000].push('x');
        cache.sync(&lines);
        cache.ensure(&lines, 40);
        assert_eq!(cache.lines_highlighted(), 40);
    }
}
