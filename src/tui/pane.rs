//! The four panes of the screen (DESIGN §7) and the frame each is drawn in.

use ratatui::text::Span;
use ratatui::widgets::Block;

use super::theme::Theme;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Projects,
    Editor,
    Preview,
    Log,
}

impl Pane {
    /// Focus order for Tab.
    pub const ORDER: [Pane; 4] = [Pane::Projects, Pane::Editor, Pane::Preview, Pane::Log];

    pub fn next(self) -> Self {
        let i = Self::ORDER.iter().position(|p| *p == self).unwrap_or(0);
        Self::ORDER[(i + 1) % Self::ORDER.len()]
    }

    pub fn previous(self) -> Self {
        let i = Self::ORDER.iter().position(|p| *p == self).unwrap_or(0);
        Self::ORDER[(i + Self::ORDER.len() - 1) % Self::ORDER.len()]
    }
}

/// A pane's frame: bordered, titled, highlighted when focused.
pub fn pane_block<'a>(title: &str, theme: &Theme, focused: bool) -> Block<'a> {
    Block::bordered()
        .title(Span::styled(format!(" {title} "), theme.title))
        .border_style(if focused {
            theme.border_focused
        } else {
            theme.border
        })
}
