//! Draws the state (DESIGN §7): projects, editor and preview side by side, the log
//! below, the status bar at the bottom, an overlay on top. Reads state only.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use super::pane::{Pane, pane_block};
use super::state::{Overlay, State};
use super::status_bar;
use super::theme::Theme;

/// The areas of the four panes and the status bar for a screen size.
pub struct Areas {
    pub projects: Rect,
    pub editor: Rect,
    pub preview: Rect,
    pub log: Rect,
    pub status: Rect,
}

impl Areas {
    pub fn of(area: Rect) -> Self {
        let log_height = if area.height >= 36 { 12 } else { 8 };
        let [top, log, status] = Layout::vertical([
            Constraint::Min(5),
            Constraint::Length(log_height),
            Constraint::Length(1),
        ])
        .areas(area);
        let projects_width = (area.width * 22 / 100).clamp(20, 34);
        let [projects, editor, preview] = Layout::horizontal([
            Constraint::Length(projects_width),
            Constraint::Fill(3),
            Constraint::Fill(2),
        ])
        .areas(top);
        Self {
            projects,
            editor,
            preview,
            log,
            status,
        }
    }
}

pub fn draw(frame: &mut Frame, state: &State, theme: &Theme) {
    let areas = Areas::of(frame.area());
    state
        .projects
        .render(frame, areas.projects, theme, state.focus == Pane::Projects);
    // The editor and preview components draw here once wired in.
    frame.render_widget(
        pane_block("Editor", theme, state.focus == Pane::Editor),
        areas.editor,
    );
    frame.render_widget(
        pane_block("Preview", theme, state.focus == Pane::Preview),
        areas.preview,
    );
    state.log.render(
        frame,
        areas.log,
        theme,
        state.focus == Pane::Log,
        state.now,
        state.spinner,
    );
    status_bar::render(frame, areas.status, state, theme);
    match &state.overlay {
        Some(Overlay::Help(help)) => help.render(frame, &state.keymap, theme),
        Some(Overlay::Palette(palette)) => palette.render(frame, &state.keymap, theme),
        Some(Overlay::Dialog(dialog)) => dialog.render(frame, theme),
        None => {}
    }
    if frame.area().width < 40 || frame.area().height < 12 {
        frame.render_widget(
            Paragraph::new(Line::styled("apiforge needs at least 40×12", theme.warn)),
            frame.area(),
        );
    }
}
