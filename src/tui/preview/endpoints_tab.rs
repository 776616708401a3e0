//! The Endpoints tab: the spec's operations; one opened as a [`RequestForm`] to send
//! and to copy as curl, with the last response below it.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Paragraph};

use super::exchange::Exchange;
use super::operation::Operation;
use super::outgoing_request::OutgoingRequest;
use super::request_form::{FormKey, RequestForm};
use super::scroll_view::{ScrollView, Tone, line};
use crate::tui::theme::Theme;

/// What the tab asks the preview to do.
#[derive(Debug, Clone, PartialEq)]
pub enum EndpointAction {
    Consumed,
    Ignored,
    Send(OutgoingRequest),
    CopyCurl(OutgoingRequest),
    ToggleTarget,
}

/// Where the last request of the open form stands.
#[derive(Debug, Clone, PartialEq)]
pub enum ResponseState {
    None,
    Sending { request_line: String },
    Received(Exchange),
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct EndpointsTab {
    operations: Vec<Operation>,
    list: ListState,
    /// The last status each operation (by index) answered with, shown in the list.
    statuses: std::collections::BTreeMap<usize, u16>,
    /// The operation the open form belongs to.
    open: usize,
    form: Option<RequestForm>,
    response: ResponseState,
    response_view: ScrollView,
    /// A one-line note under the form (copied, invalid body …).
    note: Option<(Tone, String)>,
}

impl Default for EndpointsTab {
    fn default() -> Self {
        Self::new(Vec::new())
    }
}

impl EndpointsTab {
    pub fn new(operations: Vec<Operation>) -> Self {
        let mut list = ListState::default();
        if !operations.is_empty() {
            list.select(Some(0));
        }
        Self {
            operations,
            list,
            statuses: std::collections::BTreeMap::new(),
            open: 0,
            form: None,
            response: ResponseState::None,
            response_view: ScrollView::default(),
            note: None,
        }
    }

    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    pub fn selected(&self) -> Option<usize> {
        self.list.selected()
    }

    pub fn form(&self) -> Option<&RequestForm> {
        self.form.as_ref()
    }

    pub fn response(&self) -> &ResponseState {
        &self.response
    }

    pub fn note(&self) -> Option<&str> {
        self.note.as_ref().map(|(_, n)| n.as_str())
    }

    /// At the operation list (where h/l switch tabs).
    pub fn at_top(&self) -> bool {
        self.form.is_none()
    }

    pub fn captures_input(&self) -> bool {
        self.form.as_ref().is_some_and(RequestForm::editing)
    }

    /// Pasted text into the form field being edited.
    pub fn paste(&mut self, text: &str) -> bool {
        self.form.as_mut().is_some_and(|form| form.paste(text))
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> EndpointAction {
        let Some(form) = self.form.as_mut() else {
            return self.list_key(key);
        };
        if form.editing() {
            form.handle_key(key);
            return EndpointAction::Consumed;
        }
        match key.code {
            KeyCode::Esc | KeyCode::Char('q') => {
                self.form = None;
                self.note = None;
                return EndpointAction::Consumed;
            }
            KeyCode::Char('s') => {
                return match form.request() {
                    Ok(request) => {
                        self.note = None;
                        self.response = ResponseState::Sending {
                            request_line: request_line(&request),
                        };
                        EndpointAction::Send(request)
                    }
                    Err(problem) => {
                        self.note = Some((Tone::Error, problem));
                        EndpointAction::Consumed
                    }
                };
            }
            KeyCode::Char('c') => {
                return match form.request() {
                    Ok(request) => EndpointAction::CopyCurl(request),
                    Err(problem) => {
                        self.note = Some((Tone::Error, problem));
                        EndpointAction::Consumed
                    }
                };
            }
            KeyCode::Char('t') => return EndpointAction::ToggleTarget,
            KeyCode::Char('J') | KeyCode::PageDown => {
                self.response_view.scroll_by(3);
                return EndpointAction::Consumed;
            }
            KeyCode::Char('K') | KeyCode::PageUp => {
                self.response_view.scroll_by(-3);
                return EndpointAction::Consumed;
            }
            _ => {}
        }
        match form.handle_key(key) {
            FormKey::Consumed => EndpointAction::Consumed,
            FormKey::Ignored => EndpointAction::Ignored,
        }
    }

    fn list_key(&mut self, key: KeyEvent) -> EndpointAction {
        let n = self.operations.len();
        if n == 0 {
            return EndpointAction::Ignored;
        }
        let at = self.list.selected().unwrap_or(0);
        match key.code {
            KeyCode::Char('j') | KeyCode::Down => self.list.select(Some((at + 1).min(n - 1))),
            KeyCode::Char('k') | KeyCode::Up => self.list.select(Some(at.saturating_sub(1))),
            KeyCode::Char('g') | KeyCode::Home => self.list.select(Some(0)),
            KeyCode::Char('G') | KeyCode::End => self.list.select(Some(n - 1)),
            KeyCode::Enter => {
                let Some(op) = self.operations.get(at) else {
                    return EndpointAction::Ignored;
                };
                self.form = Some(RequestForm::new(op.clone()));
                self.open = at;
                self.response = ResponseState::None;
                self.response_view = ScrollView::default();
                self.note = None;
            }
            _ => return EndpointAction::Ignored,
        }
        EndpointAction::Consumed
    }

    /// A response (or why there is none) for the open form.
    pub fn received(&mut self, result: Result<Exchange, String>) {
        self.response = match result {
            Ok(exchange) => {
                if self.form.is_some() {
                    self.statuses.insert(self.open, exchange.status);
                }
                self.response_view = ScrollView::new(exchange.lines());
                ResponseState::Received(exchange)
            }
            Err(message) => {
                self.response_view =
                    ScrollView::new(message.lines().map(|l| line(Tone::Error, l)).collect());
                ResponseState::Failed(message)
            }
        };
    }

    pub fn set_note(&mut self, tone: Tone, note: impl Into<String>) {
        self.note = Some((tone, note.into()));
    }

    pub fn render(
        &mut self,
        frame: &mut Frame,
        area: Rect,
        theme: &Theme,
        focused: bool,
        target: &str,
    ) {
        let Some(form) = self.form.as_mut() else {
            let path_width = self
                .operations
                .iter()
                .map(|op| op.path.chars().count())
                .max()
                .unwrap_or(0);
            let items: Vec<ListItem> = self
                .operations
                .iter()
                .enumerate()
                .map(|(i, op)| {
                    let status = match self.statuses.get(&i) {
                        Some(s @ 200..=299) => Span::styled(format!("▶ {s} "), theme.ok),
                        Some(s) => Span::styled(format!("▶ {s} "), theme.error),
                        // A column only once something was sent, so summaries line up.
                        None if self.statuses.is_empty() => Span::raw(""),
                        None => Span::raw("      "),
                    };
                    ListItem::new(Line::from(vec![
                        Span::styled(format!("{:<7}", op.method), theme.accent),
                        Span::styled(format!("{:<path_width$} ", op.path), theme.text),
                        status,
                        Span::styled(format!(" {}", op.summary), theme.dim),
                    ]))
                })
                .collect();
            if items.is_empty() {
                frame.render_widget(
                    Paragraph::new(Span::styled("The spec has no operations.", theme.dim)),
                    area,
                );
                return;
            }
            let [list_area, help_area] =
                Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(area);
            let list = List::new(items)
                .highlight_style(if focused { theme.selected } else { theme.text })
                .highlight_symbol("▶ ");
            frame.render_stateful_widget(list, list_area, &mut self.list);
            frame.render_widget(
                Paragraph::new(Span::styled("Enter open · j/k move · [ ] tabs", theme.dim)),
                help_area,
            );
            return;
        };
        let form_height = form.height().min(area.height.saturating_sub(4).max(1));
        let [form_area, note_area, response_area] = Layout::vertical([
            Constraint::Length(form_height),
            Constraint::Length(1),
            Constraint::Min(1),
        ])
        .areas(area);
        form.render(frame, form_area, theme, focused);
        let note = match &self.note {
            Some((tone, text)) => Span::styled(text.clone(), tone.style(theme)),
            None => Span::styled(
                if form.editing() {
                    "typing · Esc done".to_owned()
                } else {
                    format!("s send · c copy curl · t target: {target} · Esc back")
                },
                theme.dim,
            ),
        };
        frame.render_widget(Paragraph::new(note), note_area);
        let block = Block::default()
            .borders(Borders::TOP)
            .border_style(theme.border)
            .title(Span::styled(" response ", theme.title));
        let inner = block.inner(response_area);
        frame.render_widget(block, response_area);
        match &self.response {
            ResponseState::None => frame.render_widget(
                Paragraph::new(Span::styled("Nothing sent yet.", theme.dim)),
                inner,
            ),
            ResponseState::Sending { request_line } => frame.render_widget(
                Paragraph::new(Span::styled(
                    format!("sending {request_line} …"),
                    theme.running,
                )),
                inner,
            ),
            ResponseState::Received(_) | ResponseState::Failed(_) => {
                self.response_view.render(frame, inner, theme);
            }
        }
    }
}

/// `POST /books?limit=2`.
pub fn request_line(request: &OutgoingRequest) -> String {
    format!("{} {}", request.method, request.path)
}
