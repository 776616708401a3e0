//! The `?` overlay: every binding, grouped by where it applies, generated from the
//! keymap so it can never disagree with it.

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::dialog::centered;
use super::keymap::{KeyChord, Keymap, Scope};
use super::theme::Theme;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HelpOverlay {
    pub scroll: u16,
}

impl HelpOverlay {
    pub fn lines<'a>(keymap: &Keymap, theme: &Theme) -> Vec<Line<'a>> {
        let mut lines = Vec::new();
        for scope in [Scope::Global, Scope::List, Scope::Projects, Scope::Log] {
            let bindings: Vec<_> = keymap
                .bindings
                .iter()
                .filter(|b| b.scope == scope)
                .collect();
            if bindings.is_empty() {
                continue;
            }
            if !lines.is_empty() {
                lines.push(Line::raw(""));
            }
            lines.push(Line::styled(scope.title(), theme.title));
            for b in bindings {
                let keys = b
                    .keys
                    .iter()
                    .map(KeyChord::label)
                    .collect::<Vec<_>>()
                    .join(" ");
                lines.push(Line::from(vec![
                    Span::styled(format!("  {keys:<16}"), theme.key),
                    Span::styled(b.description.clone(), theme.text),
                ]));
            }
        }
        // The panes' own keys, from their tables (not remappable: while a field or a
        // file is edited, every key types).
        for (title, keys) in [
            ("Editor pane", super::editor::KEYS),
            ("Preview pane", super::preview::KEYS),
        ] {
            lines.push(Line::raw(""));
            lines.push(Line::styled(title, theme.title));
            for (key, description) in keys {
                lines.push(Line::from(vec![
                    Span::styled(format!("  {key:<16}"), theme.key),
                    Span::styled(*description, theme.text),
                ]));
            }
        }
        lines
    }

    pub fn max_scroll(keymap: &Keymap, height: u16) -> u16 {
        let n = u16::try_from(Self::lines(keymap, &Theme::dark()).len()).unwrap_or(u16::MAX);
        n.saturating_sub(height.saturating_sub(2))
    }

    pub fn render(&self, frame: &mut Frame, keymap: &Keymap, theme: &Theme) {
        let area = centered(frame.area(), 96, 40);
        frame.render_widget(Clear, area);
        let block = Block::bordered()
            .title(Span::styled(" Keys ", theme.title))
            .title_bottom(Line::from(vec![
                Span::styled(" j/k ", theme.key),
                Span::styled("scroll  ", theme.dim),
                Span::styled("Esc ", theme.key),
                Span::styled("close ", theme.dim),
            ]))
            .border_style(theme.border_focused);
        let max = Self::max_scroll(keymap, area.height);
        frame.render_widget(
            Paragraph::new(Self::lines(keymap, theme))
                .block(block)
                .scroll((self.scroll.min(max), 0)),
            area,
        );
    }
}
