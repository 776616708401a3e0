//! Draws the state (DESIGN §7): projects, editor and preview side by side, the log
//! below, the status bar at the bottom, an overlay on top. Reads state only.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use super::editor::Editor;
use super::pane::Pane;
use super::preview::Preview;
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
    /// On narrow screens the focused one of editor and preview gets the wider column.
    pub fn of(area: Rect, focus: Pane) -> Self {
        let log_height = if area.height >= 36 { 12 } else { 8 };
        let [top, log, status] = Layout::vertical([
            Constraint::Min(5),
            Constraint::Length(log_height),
            Constraint::Length(1),
        ])
        .areas(area);
        let projects_width = (area.width * 22 / 100).clamp(20, 34);
        let (editor_share, preview_share) = if focus == Pane::Preview && area.width < 140 {
            (2, 3)
        } else {
            (3, 2)
        };
        let [projects, editor, preview] = Layout::horizontal([
            Constraint::Length(projects_width),
            Constraint::Fill(editor_share),
            Constraint::Fill(preview_share),
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

pub fn draw(
    frame: &mut Frame,
    state: &State,
    theme: &Theme,
    editor: &mut Editor,
    preview: &mut Preview,
) {
    let areas = Areas::of(frame.area(), state.focus);
    state
        .projects
        .render(frame, areas.projects, theme, state.focus == Pane::Projects);
    editor.render(frame, areas.editor, theme, state.focus == Pane::Editor);
    preview.render(frame, areas.preview, theme, state.focus == Pane::Preview);
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
        frame.render_widget(ratatui::widgets::Clear, frame.area());
        frame.render_widget(
            Paragraph::new(Line::styled("apiforge needs at least 40×12", theme.warn)),
            frame.area(),
        );
    }
}

/// The screen as plain text, one line per row (tests and tools read it).
pub fn buffer_text(buffer: &ratatui::buffer::Buffer) -> String {
    let area = buffer.area;
    let mut out = String::new();
    for y in area.top()..area.bottom() {
        let mut skip = 0usize;
        for x in area.left()..area.right() {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let symbol = buffer[(x, y)].symbol();
            out.push_str(symbol);
            // Wide characters occupy the next cell too.
            skip = unicode_width(symbol).saturating_sub(1);
        }
        out.push('\n');
    }
    out
}

fn unicode_width(s: &str) -> usize {
    ratatui::text::Span::raw(s).width().max(1)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use crossterm::event::{Event, KeyCode, KeyEvent};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use super::*;
    use crate::tui::fixture::{self, event};
    use crate::tui::message::Message;
    use crate::tui::notice::Level;
    use crate::tui::state::DbHealth;

    fn screen(state: &State, width: u16, height: u16) -> String {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        let theme = Theme::dark();
        let frame = terminal
            .draw(|f| draw(f, state, &theme, &mut Editor::new(), &mut Preview::new()))
            .unwrap();
        buffer_text(frame.buffer)
    }

    fn keys(state: &mut State, codes: &[KeyCode]) {
        for code in codes {
            state.update(Message::Input(Event::Key(KeyEvent::from(*code))));
        }
    }

    /// Each named view at 80×24 and 120×40.
    fn check(name: &str, state: &State) {
        for (w, h) in [(80, 24), (120, 40)] {
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen(state, w, h));
        }
    }

    #[test]
    fn main_screen_with_projects_and_jobs() {
        check("main", &fixture::state());
    }

    #[test]
    fn log_pane_focused_with_an_expanded_job() {
        let mut s = fixture::state();
        keys(&mut s, &[KeyCode::Char('4'), KeyCode::Home, KeyCode::Enter]);
        s.update(Message::JobLogLoaded {
            job: 41,
            events: vec![
                event(
                    1,
                    41,
                    0,
                    "log",
                    Some("check"),
                    "runtime: python ready",
                    None,
                ),
                event(
                    2,
                    41,
                    5,
                    "log",
                    Some("check"),
                    "tests 24/24 · contract 31/31",
                    None,
                ),
            ],
        });
        check("log_expanded", &s);
    }

    #[test]
    fn queued_and_cancelled_jobs() {
        use crate::tui::log_pane::JobSnapshot;
        let mut s = fixture::state();
        s.update(Message::JobsLoaded(vec![
            JobSnapshot {
                record: fixture::record(
                    44,
                    "test",
                    "cancelled",
                    Some(fixture::id(1)),
                    None,
                    Some("cancelled"),
                ),
                steps: vec![fixture::step("check", 1, 0, Some(50), "cancelled")],
                project: Some("bakery".into()),
            },
            JobSnapshot {
                record: fixture::record(45, "iterate", "queued", Some(fixture::id(2)), None, None),
                steps: vec![],
                project: Some("library".into()),
            },
        ]));
        check("queued_cancelled", &s);
    }

    #[test]
    fn empty_and_connecting() {
        let (s, _) = State::new(
            fixture::state().defaults,
            crate::tui::keymap::Keymap::defaults(),
            fixture::t(0),
        );
        check("connecting", &s);
    }

    #[test]
    fn projects_filter() {
        let mut s = fixture::state();
        keys(
            &mut s,
            &[KeyCode::Char('/'), KeyCode::Char('b'), KeyCode::Char('a')],
        );
        check("filter", &s);
    }

    #[test]
    fn help_overlay() {
        let mut s = fixture::state();
        keys(&mut s, &[KeyCode::Char('?')]);
        check("help", &s);
    }

    #[test]
    fn command_palette() {
        let mut s = fixture::state();
        keys(
            &mut s,
            &[
                KeyCode::Char(':'),
                KeyCode::Char('c'),
                KeyCode::Char('a'),
                KeyCode::Char('n'),
            ],
        );
        check("palette", &s);
    }

    #[test]
    fn new_project_dialog() {
        let mut s = fixture::state();
        keys(&mut s, &[KeyCode::Char('n')]);
        for c in "a bakery API: products with name, price, stock".chars() {
            keys(&mut s, &[KeyCode::Char(c)]);
        }
        keys(&mut s, &[KeyCode::Tab]);
        check("new_project", &s);
    }

    /// Types `prompt` into the open dialog and lets its preview read it.
    fn typed_and_read(s: &mut State, prompt: &str) {
        for c in prompt.chars() {
            keys(s, &[KeyCode::Char(c)]);
        }
        let Some(crate::tui::state::Overlay::Dialog(d)) = &s.overlay else {
            panic!("no dialog");
        };
        let generation = d.preview().expect("a prompt dialog").generation;
        for effect in s.update(Message::DesignReadDue { generation }) {
            if let crate::tui::effect::Effect::ReadDesign {
                generation,
                prompt,
                base,
            } = effect
            {
                let outcome =
                    crate::tui::design_preview::read(generation, &prompt, base.as_deref());
                s.update(Message::DesignRead {
                    generation,
                    prompt,
                    outcome,
                });
            }
        }
    }

    #[test]
    fn new_project_dialog_with_the_design_preview() {
        let mut s = fixture::state();
        keys(&mut s, &[KeyCode::Char('n')]);
        typed_and_read(
            &mut s,
            "a clinic API: patients with name, email and appointments; appointments with a date and a status (booked)",
        );
        check("new_project_preview", &s);
    }

    #[test]
    fn iterate_dialog_with_the_design_diff() {
        let mut s = fixture::state();
        keys(&mut s, &[KeyCode::Char('g')]);
        let base = match crate::tui::design_preview::read(0, "books with title and author", None) {
            crate::tui::design_preview::ReadOutcome::Read(r) => r.design.clone(),
            other => panic!("{other:?}"),
        };
        s.update(Message::IterateBaseLoaded {
            project: fixture::id(1),
            version: 3,
            design: base,
        });
        typed_and_read(
            &mut s,
            "remove the author field and add a published year to books",
        );
        check("iterate_preview", &s);
    }

    #[test]
    fn a_pasted_prompt_keeps_its_lines_and_a_long_one_shows_the_cursor_rows() {
        let mut s = fixture::state();
        keys(&mut s, &[KeyCode::Char('n')]);
        s.update(Message::Paste(
            "a bakery API: products with name, price, stock\rorders with status (pending, baking, ready) and a pickup time for each customer\r".into(),
        ));
        check("new_project_pasted", &s);
        // Longer than the screen: the rows around the cursor (the end) show.
        let mut s = fixture::state();
        keys(&mut s, &[KeyCode::Char('g')]);
        let lines: Vec<String> = (1..=40).map(|i| format!("line {i}")).collect();
        s.update(Message::Paste(lines.join("\n")));
        check("iterate_long_paste", &s);
    }

    #[test]
    fn iterate_and_delete_dialogs() {
        let mut s = fixture::state();
        keys(
            &mut s,
            &[
                KeyCode::Char('g'),
                KeyCode::Char('a'),
                KeyCode::Char('d'),
                KeyCode::Char('d'),
            ],
        );
        check("iterate", &s);
        let mut s = fixture::state();
        keys(&mut s, &[KeyCode::Char('x')]);
        check("delete", &s);
    }

    #[test]
    fn notices_and_a_dead_database_in_the_status_bar() {
        let mut s = fixture::state();
        s.report(Level::Info, "generate job #44 for bakery submitted");
        check("notice_info", &s);
        let mut s = fixture::state();
        s.update(Message::EffectFailed {
            what: "load your jobs".into(),
            error: "connection refused".into(),
            unavailable: true,
        });
        assert!(matches!(s.db, DbHealth::Down { .. }));
        check("db_down", &s);
    }
}
