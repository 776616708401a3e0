//! The fields of one operation's request: its path and query parameters and its JSON
//! body, each editable, turned into an [`OutgoingRequest`] on send.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui_textarea::{CursorMove, TextArea};

use super::operation::{Operation, ParamPlace};
use super::outgoing_request::OutgoingRequest;
use crate::tui::theme::Theme;

/// Body lines shown at most (the body field scrolls beyond that).
const BODY_ROWS: u16 = 8;

#[derive(Debug, Clone)]
struct Field {
    name: String,
    /// `None` for the body.
    place: Option<ParamPlace>,
    required: bool,
    hint: String,
    text: TextArea<'static>,
}

impl Field {
    fn value(&self) -> String {
        self.text.lines().join("\n")
    }
}

/// What a key did to the form.
#[derive(Debug, Clone, PartialEq)]
pub enum FormKey {
    Consumed,
    Ignored,
}

#[derive(Debug, Clone)]
pub struct RequestForm {
    operation: Operation,
    fields: Vec<Field>,
    focus: usize,
    editing: bool,
}

impl RequestForm {
    pub fn new(operation: Operation) -> Self {
        let mut fields: Vec<Field> = operation
            .params
            .iter()
            .map(|p| Field {
                name: p.name.clone(),
                place: Some(p.place),
                required: p.required,
                hint: p.hint.clone(),
                text: TextArea::new(vec![p.initial.clone()]),
            })
            .collect();
        if let Some(body) = &operation.body {
            let pretty = serde_json::to_string_pretty(body).unwrap_or_default();
            fields.push(Field {
                name: "body".to_owned(),
                place: None,
                required: true,
                hint: String::new(),
                text: TextArea::new(pretty.lines().map(str::to_owned).collect()),
            });
        }
        Self {
            operation,
            fields,
            focus: 0,
            editing: false,
        }
    }

    pub fn operation(&self) -> &Operation {
        &self.operation
    }

    pub fn editing(&self) -> bool {
        self.editing
    }

    pub fn focus(&self) -> usize {
        self.focus
    }

    /// The current value of the field called `name` (`body` for the body).
    pub fn value(&self, name: &str) -> Option<String> {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .map(Field::value)
    }

    /// Keys while the form is shown: j/k/Tab move between fields, Enter or i edits
    /// the focused one; while editing, Esc (and Enter in a one-line field) ends it and
    /// every other key goes to the field.
    pub fn handle_key(&mut self, key: KeyEvent) -> FormKey {
        if self.editing {
            let Some(field) = self.fields.get_mut(self.focus) else {
                self.editing = false;
                return FormKey::Consumed;
            };
            match key.code {
                KeyCode::Esc => self.editing = false,
                KeyCode::Enter if field.place.is_some() => self.editing = false,
                // One-line fields never take a line break (pasted text included).
                KeyCode::Char('m' | 'j')
                    if field.place.is_some() && key.modifiers.contains(KeyModifiers::CONTROL) => {}
                _ => {
                    field.text.input(key);
                }
            }
            return FormKey::Consumed;
        }
        match key.code {
            KeyCode::Char('j') | KeyCode::Down | KeyCode::Tab if !self.fields.is_empty() => {
                self.focus = (self.focus + 1) % self.fields.len();
            }
            KeyCode::Char('k') | KeyCode::Up | KeyCode::BackTab if !self.fields.is_empty() => {
                self.focus = (self.focus + self.fields.len() - 1) % self.fields.len();
            }
            KeyCode::Enter | KeyCode::Char('i') => {
                let Some(field) = self.fields.get_mut(self.focus) else {
                    return FormKey::Ignored;
                };
                // Typing continues the value rather than prefixing it.
                field.text.move_cursor(CursorMove::Bottom);
                field.text.move_cursor(CursorMove::End);
                self.editing = true;
            }
            _ => return FormKey::Ignored,
        }
        FormKey::Consumed
    }

    /// Pasted text into the field being edited, in one edit: the body keeps line
    /// breaks, a parameter (one line) gets its lines joined with a space.
    pub fn paste(&mut self, text: &str) -> bool {
        if !self.editing {
            return false;
        }
        let Some(field) = self.fields.get_mut(self.focus) else {
            return false;
        };
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        if field.place.is_some() {
            let line: Vec<&str> = text
                .split('\n')
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            field.text.insert_str(line.join(" "));
        } else {
            field.text.insert_str(text);
        }
        true
    }

    /// The request the fields describe, or a sentence saying what to fix.
    pub fn request(&self) -> Result<OutgoingRequest, String> {
        let mut path = self.operation.path.clone();
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        let mut has_query = false;
        let mut body = String::new();
        for field in &self.fields {
            let value = field.value();
            match field.place {
                Some(ParamPlace::Path) => {
                    if value.is_empty() {
                        return Err(format!("fill in the path parameter {}", field.name));
                    }
                    path = path.replace(&format!("{{{}}}", field.name), &encode_segment(&value));
                }
                Some(ParamPlace::Query) => {
                    if value.is_empty() {
                        if field.required {
                            return Err(format!(
                                "fill in the required query parameter {}",
                                field.name
                            ));
                        }
                        continue;
                    }
                    query.append_pair(&field.name, &value);
                    has_query = true;
                }
                None => {
                    let parsed: serde_json::Value = serde_json::from_str(&value)
                        .map_err(|e| format!("the body is not valid JSON: {e}"))?;
                    body = parsed.to_string();
                }
            }
        }
        if has_query {
            path.push('?');
            path.push_str(&query.finish());
        }
        let headers = if body.is_empty() {
            Vec::new()
        } else {
            vec![("content-type".to_owned(), "application/json".to_owned())]
        };
        Ok(OutgoingRequest {
            method: self.operation.method.clone(),
            path,
            headers,
            body,
        })
    }

    /// Rows the form wants: a title row, one per parameter, the body box.
    pub fn height(&self) -> u16 {
        let params = u16::try_from(self.operation.params.len()).unwrap_or(u16::MAX);
        let body = self
            .fields
            .iter()
            .find(|f| f.place.is_none())
            .map_or(0, |f| {
                u16::try_from(f.text.lines().len())
                    .unwrap_or(u16::MAX)
                    .min(BODY_ROWS)
                    + 2
            });
        1u16.saturating_add(params).saturating_add(body)
    }

    pub fn render(&mut self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        let op = &self.operation;
        let mut rows = vec![Constraint::Length(1)];
        rows.extend(op.params.iter().map(|_| Constraint::Length(1)));
        rows.push(Constraint::Min(0));
        let areas = Layout::vertical(rows).split(area);
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(format!("{} ", op.method), theme.accent),
                Span::styled(op.path.clone(), theme.title),
                Span::styled(
                    if op.summary.is_empty() {
                        String::new()
                    } else {
                        format!(" · {}", op.summary)
                    },
                    theme.dim,
                ),
            ])),
            areas[0],
        );
        let label_width = self
            .fields
            .iter()
            .filter(|f| f.place.is_some())
            .map(|f| f.name.chars().count() + 9)
            .max()
            .unwrap_or(0);
        let label_width = u16::try_from(label_width).unwrap_or(u16::MAX);
        for (i, field) in self.fields.iter_mut().enumerate() {
            let is_focus = focused && i == self.focus;
            let editing = is_focus && self.editing;
            style_textarea(&mut field.text, theme, editing);
            let Some(place) = field.place else {
                let Some(body_area) = areas.last().copied() else {
                    continue;
                };
                let mut block = Block::default()
                    .borders(Borders::ALL)
                    .border_style(if is_focus {
                        theme.border_focused
                    } else {
                        theme.border
                    })
                    .title(Span::styled(
                        if editing {
                            " body (JSON) · Esc done "
                        } else {
                            " body (JSON) "
                        },
                        theme.title,
                    ));
                if is_focus && !editing {
                    block = block.title_bottom(Span::styled(" Enter edit ", theme.dim));
                }
                let inner = block.inner(body_area);
                frame.render_widget(block, body_area);
                frame.render_widget(&field.text, inner);
                continue;
            };
            let Some(row) = areas.get(i + 1).copied() else {
                continue;
            };
            let [label_area, value_area] =
                Layout::horizontal([Constraint::Length(label_width), Constraint::Min(1)])
                    .areas(row);
            let where_ = match place {
                ParamPlace::Path => "path",
                ParamPlace::Query => "query",
            };
            let marker = if is_focus { "▶ " } else { "  " };
            frame.render_widget(
                Paragraph::new(Line::from(vec![
                    Span::styled(marker, theme.accent),
                    Span::styled(
                        field.name.clone(),
                        if is_focus { theme.selected } else { theme.text },
                    ),
                    Span::styled(format!(" {where_}"), theme.dim),
                ])),
                label_area,
            );
            if editing || !field.value().is_empty() {
                frame.render_widget(&field.text, value_area);
            } else {
                let hint = if field.hint.is_empty() {
                    "(empty)".to_owned()
                } else {
                    format!("(empty; default {})", field.hint)
                };
                frame.render_widget(Paragraph::new(Span::styled(hint, theme.dim)), value_area);
            }
        }
    }
}

fn style_textarea(text: &mut TextArea<'static>, theme: &Theme, editing: bool) {
    text.set_style(theme.text);
    text.set_cursor_line_style(Style::default());
    text.set_cursor_style(if editing { theme.selected } else { theme.text });
}

/// Percent-encodes a path segment: everything but RFC 3986's unreserved characters.
fn encode_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::preview::operation::Param;
    use serde_json::json;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn type_text(form: &mut RequestForm, text: &str) {
        for c in text.chars() {
            assert_eq!(form.handle_key(key(KeyCode::Char(c))), FormKey::Consumed);
        }
    }

    fn op() -> Operation {
        Operation {
            method: "PUT".into(),
            path: "/shelves/{shelf}/books/{id}".into(),
            summary: String::new(),
            params: vec![
                Param {
                    name: "shelf".into(),
                    place: ParamPlace::Path,
                    required: true,
                    initial: "a b/c".into(),
                    hint: String::new(),
                },
                Param {
                    name: "id".into(),
                    place: ParamPlace::Path,
                    required: true,
                    initial: "1".into(),
                    hint: String::new(),
                },
                Param {
                    name: "q".into(),
                    place: ParamPlace::Query,
                    required: false,
                    initial: String::new(),
                    hint: String::new(),
                },
            ],
            body: Some(json!({"title": "Dune"})),
        }
    }

    #[test]
    fn prefilled_fields_make_an_encoded_request() {
        let form = RequestForm::new(op());
        let request = form.request().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(request.method, "PUT");
        assert_eq!(request.path, "/shelves/a%20b%2Fc/books/1");
        assert_eq!(request.body, r#"{"title":"Dune"}"#);
        assert_eq!(
            request.headers,
            [("content-type".to_owned(), "application/json".to_owned())]
        );
    }

    #[test]
    fn editing_params_and_body_changes_the_request() {
        let mut form = RequestForm::new(op());
        // To the id field, clear it, type 42.
        form.handle_key(key(KeyCode::Char('j')));
        form.handle_key(key(KeyCode::Enter));
        assert!(form.editing());
        form.handle_key(key(KeyCode::Backspace));
        type_text(&mut form, "42");
        form.handle_key(key(KeyCode::Enter));
        assert!(!form.editing(), "Enter ends a one-line field");
        // The query: j/k typed while editing are text, not movement.
        form.handle_key(key(KeyCode::Char('j')));
        form.handle_key(key(KeyCode::Char('i')));
        type_text(&mut form, "jk & é");
        form.handle_key(key(KeyCode::Esc));
        assert_eq!(form.value("q").as_deref(), Some("jk & é"));
        // The body: Enter is a line break there; Esc ends editing.
        form.handle_key(key(KeyCode::Tab));
        assert_eq!(form.focus(), 3);
        form.handle_key(key(KeyCode::Enter));
        type_text(&mut form, "[1,");
        form.handle_key(key(KeyCode::Enter));
        type_text(&mut form, "2]");
        form.handle_key(key(KeyCode::Esc));
        // Editing starts at the end, so the text went after the old body.
        let body = form.value("body").unwrap_or_default();
        assert!(body.ends_with("}[1,\n2]"), "{body}");
        let problem = form.request().err().unwrap_or_default();
        assert!(
            problem.starts_with("the body is not valid JSON: trailing characters at line 3"),
            "{problem}"
        );
        // Replace the body entirely with valid JSON.
        form.handle_key(key(KeyCode::Enter));
        for _ in 0..50 {
            form.handle_key(key(KeyCode::Backspace));
            form.handle_key(key(KeyCode::Delete));
        }
        type_text(&mut form, "{\"title\": \"O'Brien\"}");
        form.handle_key(key(KeyCode::Esc));
        let request = form.request().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(request.path, "/shelves/a%20b%2Fc/books/42?q=jk+%26+%C3%A9");
        assert_eq!(request.body, r#"{"title":"O'Brien"}"#);
        // Wrapping focus.
        form.handle_key(key(KeyCode::Char('j')));
        assert_eq!(form.focus(), 0);
        form.handle_key(key(KeyCode::Char('k')));
        assert_eq!(form.focus(), 3);
        assert_eq!(form.handle_key(key(KeyCode::Char('s'))), FormKey::Ignored);
    }

    #[test]
    fn empty_path_parameters_are_refused_with_the_name() {
        let mut form = RequestForm::new(op());
        form.handle_key(key(KeyCode::Enter));
        for _ in 0..10 {
            form.handle_key(key(KeyCode::Backspace));
        }
        form.handle_key(key(KeyCode::Esc));
        assert_eq!(
            form.request(),
            Err("fill in the path parameter shelf".into())
        );
    }
}
