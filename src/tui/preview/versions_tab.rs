//! The Versions tab: the project's history; two versions marked → their diff (design
//! changes with breaking ones marked, then file diffs); restore one as a new version.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState, Paragraph};

use super::scroll_view::{ScrollView, Tone, ToneLine, line};
use crate::tui::theme::Theme;
use crate::versions::{CheckStatus, FileChange, VersionDiff, VersionSummary};

/// What the tab asks the preview to do.
#[derive(Debug, Clone, PartialEq)]
pub enum VersionAction {
    Consumed,
    Ignored,
    Diff { from: i32, to: i32 },
    Restore { version: i32 },
}

#[derive(Debug, Clone, PartialEq)]
pub enum VersionsMode {
    List,
    /// `r` was pressed on this version; `y` restores it.
    ConfirmRestore(i32),
    Diff {
        from: i32,
        to: i32,
        /// `None` while loading.
        view: Option<ScrollView>,
    },
}

#[derive(Debug, Clone)]
pub struct VersionsTab {
    /// Newest first.
    versions: Vec<VersionSummary>,
    list: ListState,
    /// Up to two version numbers picked for a diff, in the order picked.
    marked: Vec<i32>,
    mode: VersionsMode,
    note: Option<(Tone, String)>,
}

impl Default for VersionsTab {
    fn default() -> Self {
        Self::new(Vec::new())
    }
}

impl VersionsTab {
    pub fn new(mut versions: Vec<VersionSummary>) -> Self {
        versions.sort_by_key(|v| std::cmp::Reverse(v.number));
        let mut list = ListState::default();
        if !versions.is_empty() {
            list.select(Some(0));
        }
        Self {
            versions,
            list,
            marked: Vec::new(),
            mode: VersionsMode::List,
            note: None,
        }
    }

    pub fn mode(&self) -> &VersionsMode {
        &self.mode
    }

    pub fn marked(&self) -> &[i32] {
        &self.marked
    }

    pub fn note(&self) -> Option<&str> {
        self.note.as_ref().map(|(_, n)| n.as_str())
    }

    pub fn at_top(&self) -> bool {
        self.mode == VersionsMode::List
    }

    fn selected_number(&self) -> Option<i32> {
        self.list
            .selected()
            .and_then(|i| self.versions.get(i))
            .map(|v| v.number)
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> VersionAction {
        match &mut self.mode {
            VersionsMode::ConfirmRestore(number) => {
                let number = *number;
                self.mode = VersionsMode::List;
                if matches!(key.code, KeyCode::Char('y') | KeyCode::Char('Y')) {
                    self.note = Some((Tone::Dim, format!("restoring v{number} …")));
                    return VersionAction::Restore { version: number };
                }
                self.note = Some((Tone::Dim, "restore cancelled".to_owned()));
                return VersionAction::Consumed;
            }
            VersionsMode::Diff { view, .. } => {
                if matches!(key.code, KeyCode::Esc | KeyCode::Char('q')) {
                    self.mode = VersionsMode::List;
                    return VersionAction::Consumed;
                }
                let scrolled = view.as_mut().is_some_and(|v| v.handle_key(key));
                return if scrolled {
                    VersionAction::Consumed
                } else {
                    VersionAction::Ignored
                };
            }
            VersionsMode::List => {}
        }
        let n = self.versions.len();
        if n == 0 {
            return VersionAction::Ignored;
        }
        let at = self.list.selected().unwrap_or(0);
        match key.code {
            KeyCode::Char('j') | KeyCode::Down => self.list.select(Some((at + 1).min(n - 1))),
            KeyCode::Char('k') | KeyCode::Up => self.list.select(Some(at.saturating_sub(1))),
            KeyCode::Char('g') | KeyCode::Home => self.list.select(Some(0)),
            KeyCode::Char('G') | KeyCode::End => self.list.select(Some(n - 1)),
            KeyCode::Char(' ') | KeyCode::Char('m') => {
                let Some(number) = self.selected_number() else {
                    return VersionAction::Ignored;
                };
                if let Some(i) = self.marked.iter().position(|m| *m == number) {
                    self.marked.remove(i);
                } else {
                    if self.marked.len() == 2 {
                        self.marked.remove(0);
                    }
                    self.marked.push(number);
                }
            }
            KeyCode::Char('d') | KeyCode::Enter => {
                let Some(selected) = self.selected_number() else {
                    return VersionAction::Ignored;
                };
                // Two marked: between them. One: between it and the selected one.
                // None: the selected version against the one before it.
                let pair = match self.marked.as_slice() {
                    [a, b] => Some((*a, *b)),
                    [a] if *a != selected => Some((*a, selected)),
                    _ => self
                        .versions
                        .iter()
                        .map(|v| v.number)
                        .filter(|n| *n < selected)
                        .max()
                        .map(|before| (before, selected)),
                };
                let Some((a, b)) = pair else {
                    self.note = Some((
                        Tone::Warn,
                        "mark two versions with space to compare them".to_owned(),
                    ));
                    return VersionAction::Consumed;
                };
                let (from, to) = (a.min(b), a.max(b));
                self.mode = VersionsMode::Diff {
                    from,
                    to,
                    view: None,
                };
                return VersionAction::Diff { from, to };
            }
            KeyCode::Char('r') => {
                let Some(number) = self.selected_number() else {
                    return VersionAction::Ignored;
                };
                self.mode = VersionsMode::ConfirmRestore(number);
            }
            _ => return VersionAction::Ignored,
        }
        VersionAction::Consumed
    }

    /// A diff arrived (ignored unless it is the one being shown).
    pub fn diff_loaded(&mut self, result: Result<VersionDiff, String>) {
        let VersionsMode::Diff { from, to, view } = &mut self.mode else {
            return;
        };
        match result {
            Ok(diff) if diff.from == *from && diff.to == *to => {
                *view = Some(ScrollView::new(diff_lines(&diff)));
            }
            Ok(_) => {}
            Err(message) => {
                *view = Some(ScrollView::new(
                    message.lines().map(|l| line(Tone::Error, l)).collect(),
                ));
            }
        }
    }

    pub fn set_note(&mut self, tone: Tone, note: impl Into<String>) {
        self.note = Some((tone, note.into()));
    }

    pub fn render(&mut self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        if let VersionsMode::Diff { from, to, view } = &mut self.mode {
            let [title, body] =
                Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
            frame.render_widget(
                Paragraph::new(Line::from(vec![
                    Span::styled(format!("v{from} → v{to}"), theme.title),
                    Span::styled("  j/k scroll · Esc back", theme.dim),
                ])),
                title,
            );
            match view {
                Some(v) => v.render(frame, body, theme),
                None => frame.render_widget(
                    Paragraph::new(Span::styled("loading the diff …", theme.running)),
                    body,
                ),
            }
            return;
        }
        if self.versions.is_empty() {
            frame.render_widget(
                Paragraph::new(Span::styled("No versions yet.", theme.dim)),
                area,
            );
            return;
        }
        let [list_area, note_area] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(area);
        let items: Vec<ListItem> = self
            .versions
            .iter()
            .map(|v| {
                let (mark, tone) = match v.check_status {
                    CheckStatus::Passing => ("✓", theme.ok),
                    CheckStatus::Failing => ("✗", theme.error),
                    CheckStatus::Untested => ("·", theme.dim),
                };
                let picked = if self.marked.contains(&v.number) {
                    "●"
                } else {
                    " "
                };
                ListItem::new(Line::from(vec![
                    Span::styled(picked, theme.accent),
                    Span::styled(format!("v{:<3} ", v.number), theme.title),
                    Span::styled(format!("{mark} "), tone),
                    Span::styled(
                        format!("{} ", v.created_at.format("%Y-%m-%d %H:%M")),
                        theme.dim,
                    ),
                    Span::styled(format!("{:<9}", v.origin.as_str()), theme.accent),
                    Span::styled(first_line(&v.prompt), theme.text),
                ]))
            })
            .collect();
        let list = List::new(items)
            .highlight_style(if focused { theme.selected } else { theme.text })
            .highlight_symbol("▶");
        frame.render_stateful_widget(list, list_area, &mut self.list);
        let note = match (&self.mode, &self.note) {
            (VersionsMode::ConfirmRestore(n), _) => Span::styled(
                format!("Restore v{n} as a new version? y restore · any other key cancels"),
                theme.warn,
            ),
            (_, Some((tone, text))) => Span::styled(text.clone(), tone.style(theme)),
            _ => Span::styled("space mark · d diff · r restore · [ ] tabs", theme.dim),
        };
        frame.render_widget(Paragraph::new(note), note_area);
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_owned()
}

/// Design changes (breaking ones marked `!`) and then each file's unified diff.
pub fn diff_lines(diff: &VersionDiff) -> Vec<ToneLine> {
    let mut out: Vec<ToneLine> = Vec::new();
    if diff.is_empty() {
        out.push(line(Tone::Dim, "no differences"));
        return out;
    }
    if let Some((a, b)) = diff.framework {
        out.push(line(
            Tone::Warn,
            format!("framework: {} → {}", a.as_str(), b.as_str()),
        ));
    }
    if !diff.design.changes.is_empty() {
        out.push(line(Tone::Title, "design"));
        for c in &diff.design.changes {
            out.push(if c.breaking {
                vec![
                    (Tone::Error, " ! ".to_owned()),
                    (Tone::Text, format!("{}: {}", c.path, c.description)),
                    (Tone::Error, " (breaking)".to_owned()),
                ]
            } else {
                vec![
                    (Tone::Dim, "   ".to_owned()),
                    (Tone::Text, format!("{}: {}", c.path, c.description)),
                ]
            });
        }
        if diff.design.is_breaking() {
            out.push(line(Tone::Dim, " ! = breaking for existing clients"));
        }
    }
    for f in &diff.files {
        out.push(Vec::new());
        let change = match f.change {
            FileChange::Added => "added",
            FileChange::Removed => "removed",
            FileChange::Changed => "changed",
        };
        out.push(vec![
            (Tone::Title, f.path.clone()),
            (Tone::Dim, format!(" {change} ")),
            (Tone::Added, format!("+{}", f.insertions)),
            (Tone::Dim, " ".to_owned()),
            (Tone::Removed, format!("−{}", f.deletions)),
        ]);
        for l in f.unified.lines() {
            let tone = if l.starts_with("+++") || l.starts_with("---") {
                Tone::Dim
            } else if l.starts_with('+') {
                Tone::Added
            } else if l.starts_with('-') {
                Tone::Removed
            } else if l.starts_with("@@") {
                Tone::Accent
            } else {
                Tone::Text
            };
            out.push(line(tone, l));
        }
    }
    out
}
