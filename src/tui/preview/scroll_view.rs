//! A scrollable block of styled text (test reports, the spec, diffs, response
//! bodies). Lines are kept as semantic [`Tone`]s, not colours, so a theme change
//! restyles them without rebuilding.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::theme::Theme;

/// What a piece of text means; the theme decides how it looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Text,
    Dim,
    Title,
    Accent,
    Ok,
    Warn,
    Error,
    Added,
    Removed,
}

impl Tone {
    pub fn style(self, theme: &Theme) -> Style {
        match self {
            Tone::Text => theme.text,
            Tone::Dim => theme.dim,
            Tone::Title => theme.title,
            Tone::Accent => theme.accent,
            Tone::Ok => theme.ok,
            Tone::Warn => theme.warn,
            Tone::Error => theme.error,
            Tone::Added => theme.added,
            Tone::Removed => theme.removed,
        }
    }
}

/// One line of pieces of text with their tones.
pub type ToneLine = Vec<(Tone, String)>;

/// A line of one tone.
pub fn line(tone: Tone, text: impl Into<String>) -> ToneLine {
    vec![(tone, text.into())]
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScrollView {
    lines: Vec<ToneLine>,
    /// First shown row (after wrapping).
    offset: usize,
    /// Rows and width of the last render, for paging and clamping.
    height: usize,
    width: usize,
}

impl ScrollView {
    pub fn new(lines: Vec<ToneLine>) -> Self {
        Self {
            lines,
            ..Self::default()
        }
    }

    pub fn lines(&self) -> &[ToneLine] {
        &self.lines
    }

    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Scroll keys: j/k and arrows by a row, PageDown/PageUp, Ctrl-d/Ctrl-u and space
    /// by a page, g/G and Home/End to either end. True when the key was one of them.
    pub fn handle_key(&mut self, key: KeyEvent) -> bool {
        let page = self.height.max(1);
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('j') | KeyCode::Down => self.scroll_by(1),
            KeyCode::Char('k') | KeyCode::Up => self.scroll_by(-1),
            KeyCode::Char('d') if ctrl => self.scroll_by(isize_of(page / 2)),
            KeyCode::Char('u') if ctrl => self.scroll_by(-isize_of(page / 2)),
            KeyCode::PageDown | KeyCode::Char(' ') => self.scroll_by(isize_of(page)),
            KeyCode::PageUp => self.scroll_by(-isize_of(page)),
            KeyCode::Char('g') | KeyCode::Home => self.offset = 0,
            KeyCode::Char('G') | KeyCode::End => self.offset = usize::MAX,
            _ => return false,
        }
        self.clamp();
        true
    }

    pub fn scroll_by(&mut self, rows: isize) {
        self.offset = self.offset.saturating_add_signed(rows);
        self.clamp();
    }

    fn clamp(&mut self) {
        // Before the first render the size is unknown; render clamps then.
        if self.width > 0 {
            let rows = self.rows(self.width).len();
            self.offset = self.offset.min(rows.saturating_sub(self.height));
        }
    }

    /// Lines cut into rows of at most `width` characters (long lines wrap).
    fn rows(&self, width: usize) -> Vec<ToneLine> {
        let width = width.max(1);
        let mut rows = Vec::new();
        for l in &self.lines {
            let mut row: ToneLine = Vec::new();
            let mut used = 0;
            for (tone, text) in l {
                let mut piece = String::new();
                for c in text.chars() {
                    if used == width {
                        if !piece.is_empty() {
                            row.push((*tone, std::mem::take(&mut piece)));
                        }
                        rows.push(std::mem::take(&mut row));
                        used = 0;
                    }
                    // Tabs would break the column count; the spec and code use spaces.
                    piece.push(if c == '\t' { ' ' } else { c });
                    used += 1;
                }
                if !piece.is_empty() {
                    row.push((*tone, piece));
                }
            }
            rows.push(row);
        }
        rows
    }

    pub fn render(&mut self, frame: &mut Frame, area: Rect, theme: &Theme) {
        self.width = usize::from(area.width);
        self.height = usize::from(area.height);
        let rows = self.rows(self.width);
        self.offset = self.offset.min(rows.len().saturating_sub(self.height));
        let shown: Vec<Line> = rows
            .into_iter()
            .skip(self.offset)
            .take(self.height)
            .map(|row| {
                Line::from(
                    row.into_iter()
                        .map(|(tone, text)| Span::styled(text, tone.style(theme)))
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        frame.render_widget(Paragraph::new(shown).style(theme.text), area);
    }
}

fn isize_of(n: usize) -> isize {
    isize::try_from(n).unwrap_or(isize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn scrolling_is_clamped_to_the_wrapped_rows() {
        let mut view = ScrollView::new(
            (0..10)
                .map(|i| line(Tone::Text, format!("line {i}")))
                .chain([line(Tone::Text, "x".repeat(25))])
                .collect(),
        );
        let mut terminal = Terminal::new(TestBackend::new(10, 4)).unwrap_or_else(|e| panic!("{e}"));
        terminal
            .draw(|f| view.render(f, f.area(), &Theme::dark()))
            .unwrap_or_else(|e| panic!("{e}"));
        // 10 short lines + one line wrapped into 3 rows = 13 rows, 4 shown.
        assert!(view.handle_key(key(KeyCode::Char('G'))));
        assert_eq!(view.offset(), 9);
        assert!(view.handle_key(key(KeyCode::Char('j'))));
        assert_eq!(view.offset(), 9, "cannot scroll past the end");
        view.handle_key(key(KeyCode::PageUp));
        assert_eq!(view.offset(), 5);
        view.handle_key(key(KeyCode::Char('g')));
        view.handle_key(key(KeyCode::Char('k')));
        assert_eq!(view.offset(), 0);
        view.handle_key(KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL));
        assert_eq!(view.offset(), 2);
        assert!(!view.handle_key(key(KeyCode::Char('x'))));
    }
}
