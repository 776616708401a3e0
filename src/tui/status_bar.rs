//! The bottom line: who, which database, sandbox backend, provider, the current
//! notice, and the two keys everyone needs.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::keymap::Action;
use super::notice::Level;
use super::state::{DbHealth, State};
use super::theme::Theme;

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let width = usize::from(area.width);
    let user = state
        .session
        .as_ref()
        .map_or_else(|| "…".to_owned(), |s| s.user.clone());
    let (db, db_style) = match (&state.db, &state.session) {
        (DbHealth::Up, Some(s)) => (s.database.clone(), theme.status_bar),
        (DbHealth::Up, None) => ("up".to_owned(), theme.status_bar),
        (DbHealth::Connecting { .. }, _) => ("connecting…".to_owned(), theme.status_bar),
        (DbHealth::Down { .. }, _) => ("down".to_owned(), theme.status_bar.patch(theme.error)),
    };
    let short = vec![
        Span::styled(format!(" {user} · db: "), theme.status_bar),
        Span::styled(db, db_style),
    ];
    let rest = format!(
        " · sandbox: {} · provider: {}",
        state.defaults.sandbox, state.defaults.provider
    );
    let hints = vec![
        Span::styled(
            format!(" {} ", state.keymap.first_key(Action::Help)),
            theme.status_bar.patch(theme.key),
        ),
        Span::styled("help  ", theme.status_bar),
        Span::styled(
            format!("{} ", state.keymap.first_key(Action::CommandPalette)),
            theme.status_bar.patch(theme.key),
        ),
        Span::styled("cmd ", theme.status_bar),
    ];
    let len = |spans: &[Span]| {
        spans
            .iter()
            .map(|s| s.content.chars().count())
            .sum::<usize>()
    };
    let mut left = short.clone();
    let notice = state.notices.headline();
    let room_with_rest = width.saturating_sub(len(&short) + rest.chars().count() + len(&hints));
    let notice_room = match notice {
        Some(n) if room_with_rest < n.text.chars().count() + 3 => {
            width.saturating_sub(len(&short) + len(&hints))
        }
        _ => {
            left.push(Span::styled(rest, theme.status_bar));
            room_with_rest
        }
    };
    let mut middle = Vec::new();
    if let Some(n) = notice {
        let style = match n.level {
            Level::Info => theme.status_bar.patch(theme.ok),
            Level::Warn => theme.status_bar.patch(theme.warn),
            Level::Error => theme.status_bar.patch(theme.error),
        };
        let text: String = n.text.chars().take(notice_room.saturating_sub(3)).collect();
        let text = if text.chars().count() < n.text.chars().count() && !text.is_empty() {
            let mut t: String = text
                .chars()
                .take(text.chars().count().saturating_sub(1))
                .collect();
            t.push('…');
            t
        } else {
            text
        };
        middle.push(Span::styled(" │ ", theme.status_bar));
        middle.push(Span::styled(text, style));
    }
    let used = len(&left) + len(&middle) + len(&hints);
    let mut spans = left;
    spans.extend(middle);
    spans.push(Span::styled(
        " ".repeat(width.saturating_sub(used)),
        theme.status_bar,
    ));
    spans.extend(hints);
    frame.render_widget(
        Paragraph::new(Line::from(spans)).style(theme.status_bar),
        area,
    );
}
