//! The `:` command palette: every action of the keymap, fuzzy-matched on its name
//! and description (nucleo's matcher, as in helix).

use crossterm::event::{KeyCode, KeyEvent};
use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher};
use ratatui::Frame;
use ratatui::text::{Line, Span};

use super::dialog::{centered, draw_popup_with, hint, input_line};
use super::keymap::{Action, Keymap};
use super::text_field::TextField;
use super::theme::Theme;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommandPalette {
    pub input: TextField,
    pub selected: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaletteOutcome {
    Keep,
    Close,
    Run(Action),
}

impl CommandPalette {
    /// The actions matching the input, best first (all of them, in keymap order, for
    /// an empty input).
    pub fn matches(&self, keymap: &Keymap) -> Vec<Action> {
        let haystacks: Vec<(Action, String)> = keymap
            .bindings
            .iter()
            .filter(|b| b.action != Action::CommandPalette)
            .map(|b| (b.action, format!("{} {}", b.action.name(), b.description)))
            .collect();
        let pattern = Pattern::parse(&self.input.text, CaseMatching::Ignore, Normalization::Smart);
        let mut matcher = Matcher::new(Config::DEFAULT);
        let texts: Vec<&str> = haystacks.iter().map(|(_, t)| t.as_str()).collect();
        pattern
            .match_list(texts, &mut matcher)
            .into_iter()
            .filter_map(|(text, _)| haystacks.iter().find(|(_, t)| t == text).map(|(a, _)| *a))
            .collect()
    }

    pub fn handle_key(&mut self, key: &KeyEvent, keymap: &Keymap) -> PaletteOutcome {
        match key.code {
            KeyCode::Esc => PaletteOutcome::Close,
            KeyCode::Enter => match self.matches(keymap).get(self.selected) {
                Some(action) => PaletteOutcome::Run(*action),
                None => PaletteOutcome::Keep,
            },
            KeyCode::Up => {
                self.selected = self.selected.saturating_sub(1);
                PaletteOutcome::Keep
            }
            KeyCode::Down | KeyCode::Tab => {
                let n = self.matches(keymap).len();
                self.selected = (self.selected + 1).min(n.saturating_sub(1));
                PaletteOutcome::Keep
            }
            _ => {
                if self.input.handle_key(key) {
                    self.selected = 0;
                }
                PaletteOutcome::Keep
            }
        }
    }

    pub fn render(&self, frame: &mut Frame, keymap: &Keymap, theme: &Theme) {
        let area = centered(frame.area(), 72, 16);
        let rows = usize::from(area.height.saturating_sub(5));
        let matches = self.matches(keymap);
        let mut lines = vec![input_line(&self.input, true, theme), Line::raw("")];
        let first = self.selected.saturating_sub(rows.saturating_sub(1));
        for (i, action) in matches.iter().enumerate().skip(first).take(rows) {
            let description = keymap
                .binding(*action)
                .map(|b| b.description.clone())
                .unwrap_or_default();
            let style = if i == self.selected {
                theme.selected
            } else {
                theme.text
            };
            lines.push(Line::from(vec![
                Span::styled(format!("{:<16}", action.name()), style.patch(theme.accent)),
                Span::styled(format!("{:<10}", keymap.first_key(*action)), theme.key),
                Span::styled(description, style),
            ]));
        }
        if matches.is_empty() {
            lines.push(Line::styled("no action matches", theme.dim));
        }
        while lines.len() < rows + 2 {
            lines.push(Line::raw(""));
        }
        lines.push(hint(
            &[("Enter", "run"), ("↑↓", "choose"), ("Esc", "close")],
            theme,
        ));
        draw_popup_with(frame, area, "Command", lines, theme, false);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crossterm::event::KeyModifiers;

    #[test]
    fn fuzzy_matches_names_and_descriptions() {
        let keymap = Keymap::defaults();
        let mut p = CommandPalette::default();
        assert_eq!(p.matches(&keymap).len(), Action::ALL.len() - 1);
        for c in "nwprj".chars() {
            p.handle_key(
                &KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE),
                &keymap,
            );
        }
        assert_eq!(p.matches(&keymap).first(), Some(&Action::NewProject));
        assert_eq!(
            p.handle_key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE), &keymap),
            PaletteOutcome::Run(Action::NewProject)
        );
        p.input = TextField::with_text("cancel");
        assert_eq!(p.matches(&keymap).first(), Some(&Action::CancelJob));
        p.input = TextField::with_text("zzzzqq");
        assert!(p.matches(&keymap).is_empty());
        assert_eq!(
            p.handle_key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE), &keymap),
            PaletteOutcome::Keep
        );
    }
}
