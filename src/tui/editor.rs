//! The editor pane: the file tree of a project's version and the file being edited,
//! highlighted, with search, dirty markers and `Ctrl-S` saving every edited file as
//! a new version (the save job also runs the tests).
//!
//! Plain state and pure key handling; loading and saving are `EditorRequest`s that
//! the app runs with `perform` and feeds back through `apply`.

mod code_view;
mod editor_services;
mod file_buffer;
mod file_tree;

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use uuid::Uuid;

pub use editor_services::{EditorServices, perform};
pub use file_buffer::FileBuffer;
use file_tree::{FileTree, RowKind, TreeRow};

use super::outcome::Outcome;
use super::shown_project::ShownProject;
use super::theme::Theme;
use crate::codegen::GeneratedFiles;
use crate::engine::JobId;
use code_view::CodeView;

/// I/O the editor needs; the app runs it with `perform`.
#[derive(Debug, Clone, PartialEq)]
pub enum EditorRequest {
    /// Read every file of version `version` of `project`.
    Load { project: Uuid, version: i32 },
    /// Submit a `save` job: `files` (every file of the version, edits applied)
    /// become a new version on top of `parent_version`, and are tested.
    Save {
        project: Uuid,
        parent_version: i32,
        files: GeneratedFiles,
        /// What the edit was, for the version's history.
        message: String,
    },
}

/// What came of an `EditorRequest`, or of the save job it started.
#[derive(Debug, Clone, PartialEq)]
pub enum EditorResult {
    Loaded {
        project: Uuid,
        version: i32,
        files: GeneratedFiles,
    },
    LoadFailed {
        project: Uuid,
        version: i32,
        message: String,
    },
    /// The save job is queued. `warning` says when the project moved on since the
    /// version being edited (the save then goes on top of the newer version).
    SaveSubmitted { job: JobId, warning: Option<String> },
    /// Submitting failed, or the save job failed (the app sends this when the job
    /// it watches ends badly). The edits stay.
    SaveFailed { message: String },
    /// The save job recorded `version` (the app sends this when the job it watches
    /// succeeds).
    Saved { job: JobId, version: i32 },
}

/// Who gets the keys.
#[derive(Debug, Clone, PartialEq)]
enum Mode {
    /// j/k move in the tree; the file shows read-only.
    Tree,
    /// Keys go to the text.
    Edit,
    /// Typing a search; `back` is the mode to return to.
    Search { query: String, back: Box<Mode> },
}

#[derive(Debug, Clone, PartialEq)]
enum LoadState {
    Empty,
    Loading,
    Failed(String),
    Ready,
}

/// The save in flight, with the files it saves so the buffers can take them as
/// stored once it succeeds.
#[derive(Debug, Clone, PartialEq)]
enum SaveState {
    Idle,
    Submitting { files: GeneratedFiles },
    Running { job: JobId, files: GeneratedFiles },
}

#[derive(Debug, Clone, PartialEq)]
enum Severity {
    Info,
    Error,
}

/// The project and version the editor shows.
#[derive(Debug, Clone, PartialEq)]
struct Target {
    project: Uuid,
    slug: String,
    version: i32,
}

/// The editor's keys with a line each, for the help overlay (they are the pane's
/// own: while editing, every other key types).
pub const KEYS: &[(&str, &str)] = &[
    ("j / k", "move in the file tree"),
    ("g / G", "first / last file"),
    ("h / l", "collapse / expand a folder"),
    ("Enter / i", "edit the selected file (or open a folder)"),
    ("o", "show the file without editing"),
    ("/  n / N", "find in the file; next / previous match"),
    ("Ctrl-F", "find while editing"),
    ("Esc", "stop editing, back to the tree"),
    (
        "Ctrl-S",
        "save every edited file as a new version and test it",
    ),
    ("r", "retry loading the files"),
];

pub struct Editor {
    target: Option<Target>,
    loading: LoadState,
    /// The version's files as stored.
    stored: GeneratedFiles,
    tree: FileTree,
    /// Files opened so far; edits live here until saved, across file switches.
    buffers: BTreeMap<String, FileBuffer>,
    open: Option<String>,
    mode: Mode,
    last_search: Option<String>,
    save: SaveState,
    notice: Option<(Severity, String)>,
}

impl Default for Editor {
    fn default() -> Self {
        Self::new()
    }
}

fn ctrl(key: &KeyEvent, c: char) -> bool {
    key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char(c)
}

impl Editor {
    pub fn new() -> Self {
        Self {
            target: None,
            loading: LoadState::Empty,
            stored: GeneratedFiles::new(),
            tree: FileTree::default(),
            buffers: BTreeMap::new(),
            open: None,
            mode: Mode::Tree,
            last_search: None,
            save: SaveState::Idle,
            notice: None,
        }
    }

    /// Shows `project`'s latest version, dropping the current buffers: the app asks
    /// the user first when `has_unsaved()`. `None` when there is nothing to load.
    pub fn load(&mut self, project: &impl ShownProject) -> Option<EditorRequest> {
        *self = Self::new();
        let Some(version) = project.latest_version() else {
            self.notice = Some((
                Severity::Info,
                format!("{} has no version yet", project.slug()),
            ));
            return None;
        };
        self.target = Some(Target {
            project: project.id(),
            slug: project.slug().to_owned(),
            version,
        });
        self.loading = LoadState::Loading;
        Some(EditorRequest::Load {
            project: project.id(),
            version,
        })
    }

    /// The project shown, if any.
    pub fn project(&self) -> Option<Uuid> {
        self.target.as_ref().map(|t| t.project)
    }

    /// The version the buffers are based on.
    pub fn version(&self) -> Option<i32> {
        self.target.as_ref().map(|t| t.version)
    }

    /// True when some file has edits that no version holds yet (a save still running
    /// counts as unsaved until it succeeds).
    pub fn has_unsaved(&self) -> bool {
        self.buffers.values().any(FileBuffer::is_dirty)
    }

    /// The paths of the files with unsaved edits.
    pub fn dirty_files(&self) -> Vec<String> {
        self.buffers
            .iter()
            .filter(|(_, b)| b.is_dirty())
            .map(|(path, _)| path.clone())
            .collect()
    }

    /// The file shown.
    pub fn open_file(&self) -> Option<&str> {
        self.open.as_deref()
    }

    /// The open file's buffer.
    pub fn buffer(&self, path: &str) -> Option<&FileBuffer> {
        self.buffers.get(path)
    }

    pub fn captures_input(&self) -> bool {
        matches!(self.mode, Mode::Edit | Mode::Search { .. })
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Outcome<EditorRequest> {
        if key.kind == KeyEventKind::Release {
            return Outcome::Ignored;
        }
        if ctrl(&key, 's') && !matches!(self.mode, Mode::Search { .. }) {
            return self.request_save();
        }
        match self.mode.clone() {
            Mode::Search { query, back } => self.search_key(key, query, *back),
            Mode::Edit => self.edit_key(key),
            Mode::Tree => self.tree_key(key),
        }
    }

    fn tree_key(&mut self, key: KeyEvent) -> Outcome<EditorRequest> {
        if let (LoadState::Failed(_), Some(target), KeyCode::Char('r')) =
            (&self.loading, &self.target, key.code)
        {
            let request = EditorRequest::Load {
                project: target.project,
                version: target.version,
            };
            self.loading = LoadState::Loading;
            return Outcome::Request(request);
        }
        if self.loading != LoadState::Ready {
            return Outcome::Ignored;
        }
        if key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
        {
            return Outcome::Ignored;
        }
        match key.code {
            KeyCode::Char('j') | KeyCode::Down => self.tree.move_by(1),
            KeyCode::Char('k') | KeyCode::Up => self.tree.move_by(-1),
            KeyCode::Char('g') | KeyCode::Home => self.tree.select_first(),
            KeyCode::Char('G') | KeyCode::End => self.tree.select_last(),
            KeyCode::PageDown => self.tree.move_by(10),
            KeyCode::PageUp => self.tree.move_by(-10),
            KeyCode::Char('h') | KeyCode::Left => self.tree.collapse(),
            KeyCode::Char('l') | KeyCode::Right => self.tree.expand(),
            KeyCode::Enter | KeyCode::Char('i') => {
                let Some(row) = self.tree.selected().cloned() else {
                    return Outcome::Ignored;
                };
                match row.kind {
                    RowKind::Dir { .. } => {
                        self.tree.toggle();
                    }
                    RowKind::File => {
                        self.open_path(&row.path);
                        self.mode = Mode::Edit;
                    }
                }
            }
            KeyCode::Char('o') => match self.tree.selected().cloned() {
                Some(TreeRow {
                    path,
                    kind: RowKind::File,
                    ..
                }) => self.open_path(&path),
                _ => return Outcome::Ignored,
            },
            KeyCode::Char('/') if self.open.is_some() => {
                self.mode = Mode::Search {
                    query: String::new(),
                    back: Box::new(Mode::Tree),
                };
            }
            KeyCode::Char('n') if self.open.is_some() => self.find_next(true),
            KeyCode::Char('N') if self.open.is_some() => self.find_next(false),
            _ => return Outcome::Ignored,
        }
        Outcome::Consumed
    }

    fn edit_key(&mut self, key: KeyEvent) -> Outcome<EditorRequest> {
        // The app's own escapes (quit, which asks first when edits are unsaved).
        if ctrl(&key, 'c') || ctrl(&key, 'q') {
            return Outcome::Ignored;
        }
        if key.code == KeyCode::Esc {
            self.mode = Mode::Tree;
            return Outcome::Consumed;
        }
        if ctrl(&key, 'f') {
            self.mode = Mode::Search {
                query: self.last_search.clone().unwrap_or_default(),
                back: Box::new(Mode::Edit),
            };
            return Outcome::Consumed;
        }
        let Some(buffer) = self.open.as_ref().and_then(|p| self.buffers.get_mut(p)) else {
            self.mode = Mode::Tree;
            return Outcome::Ignored;
        };
        buffer.input(key);
        self.notice = None;
        Outcome::Consumed
    }

    /// Pasted text while the editor takes text: into the open file at the cursor in
    /// one edit, or joined into one line in the search. False when it takes no text
    /// (the tree).
    pub fn paste(&mut self, text: &str) -> bool {
        match &mut self.mode {
            Mode::Search { query, .. } => {
                let line: Vec<&str> = text
                    .split(['\r', '\n'])
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect();
                query.push_str(&line.join(" "));
                true
            }
            Mode::Edit => {
                let Some(buffer) = self.open.as_ref().and_then(|p| self.buffers.get_mut(p)) else {
                    return false;
                };
                buffer.paste(text);
                self.notice = None;
                true
            }
            Mode::Tree => false,
        }
    }

    fn search_key(
        &mut self,
        key: KeyEvent,
        mut query: String,
        back: Mode,
    ) -> Outcome<EditorRequest> {
        match key.code {
            KeyCode::Esc => self.mode = back,
            KeyCode::Enter => {
                self.mode = back;
                if !query.is_empty() {
                    self.last_search = Some(query);
                    self.find_next(true);
                }
            }
            KeyCode::Backspace => {
                query.pop();
                self.mode = Mode::Search {
                    query,
                    back: Box::new(back),
                };
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                query.push(c);
                self.mode = Mode::Search {
                    query,
                    back: Box::new(back),
                };
            }
            _ => {}
        }
        Outcome::Consumed
    }

    /// Moves the open file's cursor to the next (or previous) match of the last
    /// search, literally matched.
    fn find_next(&mut self, forward: bool) {
        let Some(query) = self.last_search.clone() else {
            self.notice = Some((Severity::Info, "no search yet: press / to search".into()));
            return;
        };
        let Some(buffer) = self.open.as_ref().and_then(|p| self.buffers.get_mut(p)) else {
            return;
        };
        let pattern = regex::escape(&query);
        if buffer.textarea.search_pattern().map(regex::Regex::as_str) != Some(pattern.as_str())
            && let Err(e) = buffer.textarea.set_search_pattern(&pattern)
        {
            self.notice = Some((Severity::Error, format!("cannot search for {query:?}: {e}")));
            return;
        }
        let found = if forward {
            buffer.textarea.search_forward(false)
        } else {
            buffer.textarea.search_back(false)
        };
        self.notice = (!found).then(|| (Severity::Info, format!("no match for {query:?}")));
    }

    fn open_path(&mut self, path: &str) {
        let Some(content) = self.stored.get(path) else {
            return;
        };
        self.buffers
            .entry(path.to_owned())
            .or_insert_with(|| FileBuffer::new(path, content));
        self.open = Some(path.to_owned());
        self.tree.select_path(path);
        self.notice = None;
    }

    /// Every file of the version with the edits applied.
    fn current_files(&self) -> GeneratedFiles {
        let mut files = self.stored.clone();
        for (path, buffer) in &self.buffers {
            if buffer.is_dirty() {
                files.insert(path.clone(), buffer.content());
            }
        }
        files
    }

    fn request_save(&mut self) -> Outcome<EditorRequest> {
        let Some(target) = self.target.clone() else {
            return Outcome::Ignored;
        };
        if self.save != SaveState::Idle {
            self.notice = Some((
                Severity::Info,
                "a save is already running; wait for it to finish".into(),
            ));
            return Outcome::Consumed;
        }
        let dirty = self.dirty_files();
        if dirty.is_empty() {
            self.notice = Some((Severity::Info, "nothing to save".into()));
            return Outcome::Consumed;
        }
        let files = self.current_files();
        self.save = SaveState::Submitting {
            files: files.clone(),
        };
        self.notice = Some((Severity::Info, "saving…".into()));
        Outcome::Request(EditorRequest::Save {
            project: target.project,
            parent_version: target.version,
            files,
            message: format!("edited {}", dirty.join(", ")),
        })
    }

    pub fn apply(&mut self, result: EditorResult) {
        match result {
            EditorResult::Loaded {
                project,
                version,
                files,
            } => {
                if self.target.as_ref().map(|t| (t.project, t.version)) != Some((project, version))
                {
                    return;
                }
                self.tree = FileTree::new(files.keys());
                self.stored = files;
                self.buffers.clear();
                self.open = None;
                self.loading = LoadState::Ready;
            }
            EditorResult::LoadFailed {
                project,
                version,
                message,
            } => {
                if self.target.as_ref().map(|t| (t.project, t.version)) == Some((project, version))
                {
                    self.loading = LoadState::Failed(message);
                }
            }
            EditorResult::SaveSubmitted { job, warning } => {
                if let SaveState::Submitting { files } =
                    std::mem::replace(&mut self.save, SaveState::Idle)
                {
                    self.save = SaveState::Running { job, files };
                    let text = match warning {
                        Some(w) => (Severity::Error, format!("saving as job {job}: {w}")),
                        None => (Severity::Info, format!("saving and testing… job {job}")),
                    };
                    self.notice = Some(text);
                }
            }
            EditorResult::SaveFailed { message } => {
                self.save = SaveState::Idle;
                self.notice = Some((
                    Severity::Error,
                    format!("save failed, your edits are kept: {message}"),
                ));
            }
            EditorResult::Saved { job, version } => {
                let SaveState::Running { job: running, .. } = &self.save else {
                    return;
                };
                if *running != job {
                    return;
                }
                if let SaveState::Running { files, .. } =
                    std::mem::replace(&mut self.save, SaveState::Idle)
                {
                    for (path, buffer) in &mut self.buffers {
                        if let Some(saved) = files.get(path) {
                            buffer.rebase(saved);
                        }
                    }
                    self.stored = files;
                    if let Some(target) = &mut self.target {
                        target.version = version;
                    }
                    self.notice = Some((Severity::Info, format!("saved as v{version}")));
                }
            }
        }
    }

    pub fn render(&mut self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        let border = if focused {
            theme.border_focused
        } else {
            theme.border
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(border)
            .title(self.title(theme));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if inner.height == 0 || inner.width == 0 {
            return;
        }
        let [body, status] =
            Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(inner);
        match &self.loading {
            LoadState::Empty => {
                let text = match &self.notice {
                    Some((_, message)) => message.clone(),
                    None => "Select a project to see its files.".to_owned(),
                };
                frame.render_widget(Paragraph::new(text).style(theme.dim), body);
                return;
            }
            LoadState::Loading => {
                frame.render_widget(Paragraph::new("Loading files…").style(theme.dim), body);
                return;
            }
            LoadState::Failed(message) => {
                frame.render_widget(
                    Paragraph::new(format!("Cannot load the files: {message} (r: try again)"))
                        .style(theme.error)
                        .wrap(ratatui::widgets::Wrap { trim: false }),
                    body,
                );
                return;
            }
            LoadState::Ready => {}
        }
        let tree_width = (body.width / 4).clamp(16, 28).min(body.width / 2);
        let [tree_area, code_area] =
            Layout::horizontal([Constraint::Length(tree_width), Constraint::Min(0)]).areas(body);
        self.render_tree(frame, tree_area, theme, focused);
        let editing = focused
            && (self.mode == Mode::Edit
                || matches!(&self.mode, Mode::Search { back, .. } if **back == Mode::Edit));
        match self.open.as_ref().and_then(|p| self.buffers.get_mut(p)) {
            Some(buffer) => {
                let view = CodeView {
                    theme,
                    cursor: editing,
                };
                if let Some(position) = view.render(buffer, code_area, frame.buffer_mut()) {
                    // The terminal's own cursor too: it blinks, and screen readers
                    // and terminal multiplexers follow it.
                    frame.set_cursor_position(position);
                }
            }
            None => frame.render_widget(
                Paragraph::new("Enter or i: edit the selected file · o: view it").style(theme.dim),
                code_area,
            ),
        }
        frame.render_widget(
            Paragraph::new(self.status_line(theme, status.width)),
            status,
        );
    }

    fn title(&self, theme: &Theme) -> Line<'static> {
        let mut spans = vec![Span::styled(" Editor", theme.title)];
        if let Some(target) = &self.target {
            spans.push(Span::styled(
                format!(" · {} v{}", target.slug, target.version),
                theme.title,
            ));
        }
        if let Some(path) = &self.open {
            spans.push(Span::styled(format!(" · {path}"), theme.title));
            if self.buffers.get(path).is_some_and(FileBuffer::is_dirty) {
                spans.push(Span::styled(" ●", theme.warn));
            }
        }
        let dirty = self.buffers.values().filter(|b| b.is_dirty()).count();
        if dirty > 0 {
            spans.push(Span::styled(format!(" · {dirty} unsaved"), theme.warn));
        }
        spans.push(Span::raw(" "));
        Line::from(spans)
    }

    fn render_tree(&mut self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        let height = usize::from(area.height);
        let top = self.tree.scroll_for(height);
        let selected = self.tree.selected_index();
        let tree_focused = focused && self.mode == Mode::Tree;
        let width = usize::from(area.width).saturating_sub(1);
        let lines: Vec<Line<'_>> = self
            .tree
            .rows()
            .iter()
            .enumerate()
            .skip(top)
            .take(height)
            .map(|(i, row)| {
                let indent = "  ".repeat(row.depth);
                let (icon, name) = match row.kind {
                    RowKind::Dir { collapsed: true } => ("▸ ", format!("{}/", row.name)),
                    RowKind::Dir { collapsed: false } => ("▾ ", format!("{}/", row.name)),
                    RowKind::File => ("  ", row.name.clone()),
                };
                let dirty = match row.kind {
                    RowKind::File => self
                        .buffers
                        .get(&row.path)
                        .is_some_and(FileBuffer::is_dirty),
                    RowKind::Dir { .. } => {
                        let prefix = format!("{}/", row.path);
                        self.buffers
                            .iter()
                            .any(|(p, b)| p.starts_with(&prefix) && b.is_dirty())
                    }
                };
                let mut style = if self.open.as_deref() == Some(row.path.as_str()) {
                    theme.accent
                } else {
                    theme.text
                };
                if i == selected {
                    style = style.patch(if tree_focused {
                        theme.selected
                    } else {
                        theme.dim
                    });
                }
                let mut label = format!("{indent}{icon}{name}");
                let room = width.saturating_sub(if dirty { 2 } else { 0 });
                if label.chars().count() > room {
                    label = label
                        .chars()
                        .take(room.saturating_sub(1))
                        .collect::<String>()
                        + "…";
                }
                let mut spans = vec![Span::styled(label, style)];
                if dirty {
                    spans.push(Span::styled(" ●", theme.warn));
                }
                Line::from(spans)
            })
            .collect();
        let block = Block::default()
            .borders(Borders::RIGHT)
            .border_style(theme.border);
        frame.render_widget(Paragraph::new(lines).block(block), area);
    }

    fn status_line(&self, theme: &Theme, width: u16) -> Line<'static> {
        if let Mode::Search { query, .. } = &self.mode {
            return Line::from(vec![
                Span::styled("/", theme.key),
                Span::styled(query.clone(), theme.text),
                Span::styled("▏", theme.accent),
                Span::styled("  Enter find · Esc cancel", theme.dim),
            ]);
        }
        let left = match (&self.notice, &self.mode) {
            (Some((Severity::Error, message)), _) => Span::styled(message.clone(), theme.error),
            (Some((Severity::Info, message)), _) => Span::styled(message.clone(), theme.accent),
            (None, Mode::Edit) => Span::styled(
                "EDIT · Esc done · Ctrl-S save · Ctrl-F find".to_owned(),
                theme.dim,
            ),
            (None, _) => Span::styled(
                "Enter edit · / find · n/N next · Ctrl-S save".to_owned(),
                theme.dim,
            ),
        };
        let right = match self.open.as_ref().and_then(|p| self.buffers.get(p)) {
            Some(buffer) => {
                let ratatui_textarea::DataCursor(row, col) = buffer.textarea.cursor();
                format!("{}:{} {}", row + 1, col + 1, buffer.language().name())
            }
            None => String::new(),
        };
        let used = left.width() + right.chars().count();
        let gap = usize::from(width).saturating_sub(used).max(1);
        Line::from(vec![
            left,
            Span::raw(" ".repeat(gap)),
            Span::styled(right, Style::default().patch(theme.dim)),
        ])
    }
}

#[cfg(test)]
mod tests;
