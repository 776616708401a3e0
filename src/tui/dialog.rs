//! Modal prompt dialogs: a new project (prompt, framework, provider), a follow-up
//! prompt for the selected project — both with the live design preview — and the
//! confirmations before deleting, deploying anyway and undeploying.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use uuid::Uuid;

use super::design_preview::DesignPreview;
use super::text_field::TextField;
use super::theme::Theme;
use crate::codegen::Framework;
use crate::design::ApiDesign;
use crate::provider::ProviderKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewProjectField {
    Prompt,
    Framework,
    Provider,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewProjectDialog {
    pub prompt: TextField,
    pub framework: Framework,
    pub provider: ProviderKind,
    pub field: NewProjectField,
    pub preview: DesignPreview,
}

/// The design a follow-up applies to: the project's latest version.
#[derive(Debug, Clone, PartialEq)]
pub struct IterateBase {
    pub version: i32,
    pub design: Arc<ApiDesign>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Dialog {
    NewProject(NewProjectDialog),
    Iterate {
        project: Uuid,
        slug: String,
        prompt: TextField,
        /// `None` until `Effect::LoadIterateBase` answers.
        base: Option<IterateBase>,
        preview: DesignPreview,
    },
    ConfirmDelete {
        project: Uuid,
        slug: String,
    },
    /// Deploy past the gates (failed checks, breaking changes).
    ConfirmDeployAnyway {
        project: Uuid,
        slug: String,
    },
    ConfirmUndeploy {
        project: Uuid,
        slug: String,
    },
}

/// What a key did to a dialog.
#[derive(Debug, Clone, PartialEq)]
pub enum DialogOutcome {
    Keep,
    Cancel,
    NewProject {
        prompt: String,
        framework: Framework,
        provider: ProviderKind,
        /// The previewed design, when it is the provider's (rules) reading of this
        /// very prompt: the job builds what was shown.
        design: Option<ApiDesign>,
    },
    Iterate {
        project: Uuid,
        slug: String,
        prompt: String,
        /// The previewed design and the version it was made from.
        design: Option<(ApiDesign, i32)>,
    },
    Delete {
        project: Uuid,
        slug: String,
    },
    DeployAnyway {
        project: Uuid,
        slug: String,
    },
    Undeploy {
        project: Uuid,
        slug: String,
    },
}

const PROVIDERS: [ProviderKind; 2] = [ProviderKind::Rules, ProviderKind::Openai];

fn cycle<T: Copy + PartialEq>(all: &[T], current: T, forward: bool) -> T {
    let i = all.iter().position(|x| *x == current).unwrap_or(0);
    let n = all.len();
    all[if forward {
        (i + 1) % n
    } else {
        (i + n - 1) % n
    }]
}

impl Dialog {
    pub fn new_project(framework: Framework, provider: ProviderKind) -> Self {
        Dialog::NewProject(NewProjectDialog {
            prompt: TextField::default(),
            framework,
            provider,
            field: NewProjectField::Prompt,
            preview: DesignPreview::default(),
        })
    }

    pub fn iterate(project: Uuid, slug: String) -> Self {
        Dialog::Iterate {
            project,
            slug,
            prompt: TextField::default(),
            base: None,
            preview: DesignPreview::default(),
        }
    }

    /// The prompt being typed, for the dialogs that have one.
    pub fn prompt(&self) -> Option<&str> {
        match self {
            Dialog::NewProject(d) => Some(&d.prompt.text),
            Dialog::Iterate { prompt, .. } => Some(&prompt.text),
            _ => None,
        }
    }

    pub fn preview(&self) -> Option<&DesignPreview> {
        match self {
            Dialog::NewProject(d) => Some(&d.preview),
            Dialog::Iterate { preview, .. } => Some(preview),
            _ => None,
        }
    }

    pub fn preview_mut(&mut self) -> Option<&mut DesignPreview> {
        match self {
            Dialog::NewProject(d) => Some(&mut d.preview),
            Dialog::Iterate { preview, .. } => Some(preview),
            _ => None,
        }
    }

    /// Puts pasted text into the dialog's text field (the new-project dialog moves to
    /// its prompt); the prompts keep line breaks. False when the dialog has no text
    /// field: a paste never answers a question.
    pub fn paste(&mut self, text: &str) -> bool {
        match self {
            Dialog::NewProject(d) => {
                d.field = NewProjectField::Prompt;
                d.prompt.paste(text, true);
                true
            }
            Dialog::Iterate { prompt, .. } => {
                prompt.paste(text, true);
                true
            }
            Dialog::ConfirmDelete { .. }
            | Dialog::ConfirmDeployAnyway { .. }
            | Dialog::ConfirmUndeploy { .. } => false,
        }
    }

    pub fn handle_key(&mut self, key: &KeyEvent) -> DialogOutcome {
        if key.code == KeyCode::Esc
            || (key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL))
        {
            return DialogOutcome::Cancel;
        }
        match self {
            Dialog::NewProject(d) => {
                match key.code {
                    KeyCode::Enter => {
                        // The preview is the rules provider's reading; another
                        // provider designs in the job.
                        let design = (d.provider == ProviderKind::Rules)
                            .then(|| d.preview.current_design().cloned())
                            .flatten();
                        return DialogOutcome::NewProject {
                            prompt: d.prompt.text.trim().to_owned(),
                            framework: d.framework,
                            provider: d.provider,
                            design,
                        };
                    }
                    KeyCode::Tab | KeyCode::Down => {
                        d.field = match d.field {
                            NewProjectField::Prompt => NewProjectField::Framework,
                            NewProjectField::Framework => NewProjectField::Provider,
                            NewProjectField::Provider => NewProjectField::Prompt,
                        }
                    }
                    KeyCode::BackTab | KeyCode::Up => {
                        d.field = match d.field {
                            NewProjectField::Prompt => NewProjectField::Provider,
                            NewProjectField::Framework => NewProjectField::Prompt,
                            NewProjectField::Provider => NewProjectField::Framework,
                        }
                    }
                    code => match d.field {
                        NewProjectField::Prompt => {
                            d.prompt.handle_key(key);
                        }
                        NewProjectField::Framework => {
                            if matches!(code, KeyCode::Left | KeyCode::Right | KeyCode::Char(' ')) {
                                d.framework =
                                    cycle(&Framework::ALL, d.framework, code != KeyCode::Left);
                            }
                        }
                        NewProjectField::Provider => {
                            if matches!(code, KeyCode::Left | KeyCode::Right | KeyCode::Char(' ')) {
                                d.provider = cycle(&PROVIDERS, d.provider, code != KeyCode::Left);
                            }
                        }
                    },
                }
                DialogOutcome::Keep
            }
            Dialog::Iterate {
                project,
                slug,
                prompt,
                base,
                preview,
            } => {
                if key.code == KeyCode::Enter {
                    let design = base
                        .as_ref()
                        .and_then(|b| preview.current_design().map(|d| (d.clone(), b.version)));
                    return DialogOutcome::Iterate {
                        project: *project,
                        slug: slug.clone(),
                        prompt: prompt.text.trim().to_owned(),
                        design,
                    };
                }
                prompt.handle_key(key);
                DialogOutcome::Keep
            }
            Dialog::ConfirmDelete { project, slug } => match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => DialogOutcome::Delete {
                    project: *project,
                    slug: slug.clone(),
                },
                KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Char('q') => {
                    DialogOutcome::Cancel
                }
                _ => DialogOutcome::Keep,
            },
            Dialog::ConfirmDeployAnyway { project, slug } => match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => DialogOutcome::DeployAnyway {
                    project: *project,
                    slug: slug.clone(),
                },
                KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Char('q') => {
                    DialogOutcome::Cancel
                }
                _ => DialogOutcome::Keep,
            },
            Dialog::ConfirmUndeploy { project, slug } => match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => DialogOutcome::Undeploy {
                    project: *project,
                    slug: slug.clone(),
                },
                KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Char('q') => {
                    DialogOutcome::Cancel
                }
                _ => DialogOutcome::Keep,
            },
        }
    }

    pub fn render(&self, frame: &mut Frame, theme: &Theme) {
        let area = frame.area();
        match self {
            Dialog::NewProject(d) => {
                // The prompt takes as many rows as its lines need, up to about half
                // the screen (the preview needs the rest); a longer one shows the
                // rows around the cursor.
                let width = dialog_width(area);
                let inner = usize::from(width.saturating_sub(2)).max(1);
                let prompt = prompt_lines(
                    &d.prompt,
                    d.field == NewProjectField::Prompt,
                    inner,
                    prompt_room(area),
                    theme,
                );
                let prompt_rows = prompt.len();
                let marker = |field| {
                    if d.field == field {
                        Span::styled("▶ ", theme.key)
                    } else {
                        Span::raw("  ")
                    }
                };
                let choice = |label: &'static str, selected: bool| {
                    if selected {
                        Span::styled(format!("[{label}]"), theme.selected)
                    } else {
                        Span::styled(format!(" {label} "), theme.dim)
                    }
                };
                let mut top = vec![Line::from(vec![
                    marker(NewProjectField::Prompt),
                    Span::styled("Describe the API:", theme.title),
                ])];
                top.extend(prompt);
                top.push(Line::raw(""));
                let mut framework = vec![
                    marker(NewProjectField::Framework),
                    Span::styled("Framework ", theme.title),
                ];
                framework.extend(
                    Framework::ALL
                        .iter()
                        .map(|f| choice(f.as_str(), *f == d.framework)),
                );
                top.push(Line::from(framework));
                let mut provider = vec![
                    marker(NewProjectField::Provider),
                    Span::styled("Provider  ", theme.title),
                ];
                provider.extend(
                    PROVIDERS
                        .iter()
                        .map(|p| choice(p.as_str(), *p == d.provider)),
                );
                if d.provider != ProviderKind::Rules {
                    provider.push(Span::styled("  (preview: the rules reading)", theme.dim));
                }
                top.push(Line::from(provider));
                top.push(Line::raw(""));
                let top_rows = 5 + prompt_rows;
                let hint_line = hint(
                    &[
                        ("Enter", "create"),
                        ("Tab", "next field"),
                        ("←→", "choose"),
                        ("Esc", "cancel"),
                    ],
                    theme,
                );
                draw_with_preview(
                    frame,
                    (width, top_rows),
                    "New project",
                    top,
                    d.preview.lines(theme),
                    hint_line,
                    theme,
                );
            }
            Dialog::Iterate {
                slug,
                prompt,
                base,
                preview,
                ..
            } => {
                let width = dialog_width(area);
                let inner = usize::from(width.saturating_sub(2)).max(1);
                let prompt = prompt_lines(prompt, true, inner, prompt_room(area), theme);
                let prompt_rows = prompt.len();
                let title = match base {
                    Some(b) => format!("What should change in {slug} (v{})?", b.version),
                    None => format!("What should change in {slug}?"),
                };
                let mut top = vec![Line::styled(title, theme.title)];
                top.extend(prompt);
                top.push(Line::raw(""));
                let lines = if base.is_some() {
                    preview.lines(theme)
                } else {
                    vec![Line::styled("loading the current design…", theme.dim)]
                };
                draw_with_preview(
                    frame,
                    (width, 2 + prompt_rows),
                    "Iterate",
                    top,
                    lines,
                    hint(&[("Enter", "iterate"), ("Esc", "cancel")], theme),
                    theme,
                );
            }
            Dialog::ConfirmDelete { slug, .. } => {
                let popup = centered(area, 60, 6);
                let lines = vec![
                    Line::from(vec![
                        Span::styled("Delete ", theme.text),
                        Span::styled(slug.clone(), theme.error),
                        Span::styled(" with all its versions and jobs?", theme.text),
                    ]),
                    Line::styled("This cannot be undone.", theme.warn),
                    Line::raw(""),
                    hint(&[("y", "delete"), ("n/Esc", "keep it")], theme),
                ];
                draw_popup(frame, popup, "Delete project", lines, theme);
            }
            Dialog::ConfirmDeployAnyway { slug, .. } => {
                let popup = centered(area, 64, 7);
                let lines = vec![
                    Line::from(vec![
                        Span::styled("Deploy ", theme.text),
                        Span::styled(slug.clone(), theme.warn),
                        Span::styled("'s latest version anyway?", theme.text),
                    ]),
                    Line::styled(
                        "Even if its checks failed or its design breaks clients of the live version.",
                        theme.warn,
                    ),
                    Line::raw(""),
                    hint(&[("y", "deploy"), ("n/Esc", "cancel")], theme),
                ];
                draw_popup(frame, popup, "Deploy anyway", lines, theme);
            }
            Dialog::ConfirmUndeploy { slug, .. } => {
                let popup = centered(area, 60, 6);
                let lines = vec![
                    Line::from(vec![
                        Span::styled("Stop serving ", theme.text),
                        Span::styled(slug.clone(), theme.warn),
                        Span::styled("?", theme.text),
                    ]),
                    Line::styled("Its URL answers 404 until the next deploy.", theme.dim),
                    Line::raw(""),
                    hint(&[("y", "undeploy"), ("n/Esc", "keep it live")], theme),
                ];
                draw_popup(frame, popup, "Undeploy", lines, theme);
            }
        }
    }
}

/// Rows a prompt may take in a dialog: about half the screen, the rest is the
/// preview's.
fn prompt_room(area: Rect) -> usize {
    (usize::from(area.height).saturating_sub(10) / 2).max(1)
}

/// Prompt dialogs grow with the screen, up to a readable width.
fn dialog_width(area: Rect) -> u16 {
    area.width.saturating_sub(4).clamp(20, 100)
}

/// A prompt dialog: `top` (wrapped), the preview below it (cut at the bottom when
/// it does not fit), and the key hint on the last row.
fn draw_with_preview(
    frame: &mut Frame,
    (width, top_rows): (u16, usize),
    title: &str,
    top: Vec<Line>,
    preview: Vec<Line>,
    hint_line: Line,
    theme: &Theme,
) {
    let area = frame.area();
    let inner_width = usize::from(width.saturating_sub(2)).max(1);
    let preview_rows: usize = preview
        .iter()
        .map(|l| l.width().div_ceil(inner_width).max(1))
        .sum();
    let wanted = top_rows + preview_rows + 4;
    let height = u16::try_from(wanted)
        .unwrap_or(u16::MAX)
        .min(area.height.saturating_sub(2).max(8));
    let popup = centered(area, width, height);
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .title(Span::styled(format!(" {title} "), theme.title))
        .border_style(theme.border_focused);
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let top_height = u16::try_from(top_rows).unwrap_or(u16::MAX);
    let [top_area, preview_area, _, hint_area] = Layout::vertical([
        Constraint::Length(top_height),
        Constraint::Min(0),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(top).wrap(Wrap { trim: false }), top_area);
    // Long lines (warnings) wrap; what does not fit is counted, not silently cut.
    let rows = usize::from(preview_area.height);
    let width = usize::from(preview_area.width).max(1);
    let rows_of = |l: &Line| l.width().div_ceil(width).max(1);
    let total: usize = preview.iter().map(rows_of).sum();
    let shown: Vec<Line> = if total > rows && rows > 0 {
        let mut used = 0;
        let mut kept = Vec::new();
        let n = preview.len();
        for line in preview {
            let r = rows_of(&line);
            if used + r > rows - 1 {
                break;
            }
            used += r;
            kept.push(line);
        }
        let more = n - kept.len();
        kept.push(Line::styled(format!("… {more} more lines"), theme.dim));
        kept
    } else {
        preview
    };
    frame.render_widget(
        Paragraph::new(shown).wrap(Wrap { trim: false }),
        preview_area,
    );
    frame.render_widget(Paragraph::new(hint_line), hint_area);
}

/// The text with a block cursor when the field is active.
pub fn input_line<'a>(field: &TextField, active: bool, theme: &Theme) -> Line<'a> {
    let chars: Vec<char> = field.text.chars().collect();
    row_line("> ", &chars, Some(field.cursor), active, theme)
}

/// A prompt field as rows of at most `width` cells: each of its lines (a paste keeps
/// them) cut into pieces that fit, at most `max_rows` of them, the cursor's row among
/// them. Cut by hand rather than by the paragraph's wrap so the rows are known before
/// drawing: the popup's height and the visible window depend on them.
pub fn prompt_lines<'a>(
    field: &TextField,
    active: bool,
    width: usize,
    max_rows: usize,
    theme: &Theme,
) -> Vec<Line<'a>> {
    let chars: Vec<char> = field.text.chars().collect();
    let cursor = field.cursor.min(chars.len());
    // Room for the "> " prefix and the cursor cell at a row's end.
    let room = width.saturating_sub(3).max(1);
    let mut rows: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    for line in field.text.split('\n') {
        let end = start + line.chars().count();
        let mut from = start;
        loop {
            let to = (from + room).min(end);
            rows.push((from, to));
            from = to;
            if from >= end {
                break;
            }
        }
        start = end + 1;
    }
    let cursor_row = rows.iter().rposition(|(s, _)| *s <= cursor).unwrap_or(0);
    let shown = max_rows.max(1).min(rows.len());
    let first = cursor_row.saturating_sub(shown - 1).min(rows.len() - shown);
    rows[first..first + shown]
        .iter()
        .enumerate()
        .map(|(i, &(s, e))| {
            let prefix = if first + i == 0 { "> " } else { "  " };
            // The cursor belongs to this row when it sits in it or just after its
            // last char (the end of a line, or of the text).
            let here = (first + i == cursor_row).then_some(cursor - s);
            row_line(prefix, &chars[s..e], here, active, theme)
        })
        .collect()
}

/// One row of a field: `cursor` is the char index within `chars`, when it is here.
fn row_line<'a>(
    prefix: &'static str,
    chars: &[char],
    cursor: Option<usize>,
    active: bool,
    theme: &Theme,
) -> Line<'a> {
    let Some(cursor) = cursor else {
        return Line::from(vec![
            Span::styled(prefix, theme.accent),
            Span::styled(chars.iter().collect::<String>(), theme.text),
        ]);
    };
    let before: String = chars[..cursor.min(chars.len())].iter().collect();
    let at: String = chars
        .get(cursor)
        .map(|c| c.to_string())
        .unwrap_or(" ".into());
    let after: String = chars
        .get(cursor + 1..)
        .map(|r| r.iter().collect())
        .unwrap_or_default();
    let mut spans = vec![
        Span::styled(prefix, theme.accent),
        Span::styled(before, theme.text),
    ];
    if active {
        spans.push(Span::styled(at, theme.selected));
    } else if at != " " {
        spans.push(Span::styled(at, theme.text));
    }
    spans.push(Span::styled(after, theme.text));
    Line::from(spans)
}

pub fn hint<'a>(pairs: &[(&str, &str)], theme: &Theme) -> Line<'a> {
    let mut spans = Vec::new();
    for (i, (key, what)) in pairs.iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw("  "));
        }
        spans.push(Span::styled((*key).to_owned(), theme.key));
        spans.push(Span::styled(format!(" {what}"), theme.dim));
    }
    Line::from(spans)
}

/// A rectangle of at most `width`×`height` in the middle of `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [row] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [cell] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(row);
    cell
}

pub fn draw_popup(frame: &mut Frame, area: Rect, title: &str, lines: Vec<Line>, theme: &Theme) {
    draw_popup_with(frame, area, title, lines, theme, true);
}

/// A popup whose lines are cut at the border instead of wrapping (lists).
pub fn draw_popup_with(
    frame: &mut Frame,
    area: Rect,
    title: &str,
    lines: Vec<Line>,
    theme: &Theme,
    wrap: bool,
) {
    frame.render_widget(Clear, area);
    let block = Block::bordered()
        .title(Span::styled(format!(" {title} "), theme.title))
        .border_style(theme.border_focused);
    let paragraph = Paragraph::new(lines).block(block);
    let paragraph = if wrap {
        paragraph.wrap(Wrap { trim: false })
    } else {
        paragraph
    };
    frame.render_widget(paragraph, area);
}
