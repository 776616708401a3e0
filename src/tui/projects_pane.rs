//! The projects pane: the signed-in user's projects with their status, latest version
//! and framework; typing after `/` filters them.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState, Paragraph};

use super::pane::pane_block;
use super::text_field::TextField;
use super::theme::Theme;
use crate::db::projects::ProjectSummary;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProjectsPane {
    /// As loaded: most recently changed first.
    pub projects: Vec<ProjectSummary>,
    /// Whether the first load arrived (an empty list then means "no projects").
    pub loaded: bool,
    pub filter: TextField,
    /// True while the filter takes the keys.
    pub filtering: bool,
    /// Index into [`ProjectsPane::visible`].
    pub selected: usize,
}

impl ProjectsPane {
    /// The projects the filter lets through (case-insensitive, slug or name).
    pub fn visible(&self) -> Vec<&ProjectSummary> {
        let needle = self.filter.text.trim().to_lowercase();
        self.projects
            .iter()
            .filter(|p| {
                needle.is_empty()
                    || p.slug.to_lowercase().contains(&needle)
                    || p.name.to_lowercase().contains(&needle)
            })
            .collect()
    }

    pub fn selected_project(&self) -> Option<&ProjectSummary> {
        self.visible().get(self.selected).copied()
    }

    pub fn select(&mut self, index: usize) {
        self.selected = index.min(self.visible().len().saturating_sub(1));
    }

    /// Replaces the list, keeping the selection on the same project when it is still
    /// there.
    pub fn set(&mut self, projects: Vec<ProjectSummary>) {
        let keep = self.selected_project().map(|p| p.id);
        self.projects = projects;
        self.loaded = true;
        let index = keep
            .and_then(|id| self.visible().iter().position(|p| p.id == id))
            .unwrap_or(self.selected);
        self.select(index);
    }

    /// Selects the project with this slug if it is visible.
    pub fn select_slug(&mut self, slug: &str) {
        if let Some(i) = self.visible().iter().position(|p| p.slug == slug) {
            self.selected = i;
        }
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        let title = if self.filtering || !self.filter.text.is_empty() {
            format!("Projects /{}", self.filter.text)
        } else {
            "Projects".to_owned()
        };
        let block = pane_block(&title, theme, focused);
        let visible = self.visible();
        if visible.is_empty() {
            let text = if !self.loaded {
                "loading…"
            } else if self.projects.is_empty() {
                "No projects yet: press n"
            } else {
                "Nothing matches the filter"
            };
            frame.render_widget(
                Paragraph::new(Line::styled(text, theme.dim)).block(block),
                area,
            );
            return;
        }
        let inner_width = usize::from(area.width.saturating_sub(2));
        let items: Vec<ListItem> = visible
            .iter()
            .map(|p| {
                let (mark, style) = match p.status.as_str() {
                    "passing" => ("✓", theme.ok),
                    "failing" => ("✗", theme.error),
                    "running" => ("●", theme.running),
                    "deployed" => ("▲", theme.accent),
                    _ => ("·", theme.dim),
                };
                let version = p
                    .latest_version
                    .map(|v| format!("v{v}"))
                    .unwrap_or_else(|| "—".into());
                // Slug, version and status always; the framework when there is room.
                let fixed = 2 + 1 + version.chars().count() + 1;
                let with_framework = inner_width > fixed + 8 + p.framework.len();
                let room = inner_width
                    .saturating_sub(fixed)
                    .saturating_sub(if with_framework {
                        p.framework.len() + 1
                    } else {
                        0
                    });
                let slug: String = if p.slug.chars().count() > room {
                    let mut s: String = p.slug.chars().take(room.saturating_sub(1)).collect();
                    s.push('…');
                    s
                } else {
                    format!("{:<room$}", p.slug)
                };
                let mut spans = vec![
                    Span::styled(format!("{mark} "), style),
                    Span::styled(slug, theme.text),
                    Span::styled(format!(" {version}"), theme.accent),
                ];
                if with_framework {
                    spans.push(Span::styled(format!(" {}", p.framework), theme.dim));
                }
                ListItem::new(Line::from(spans))
            })
            .collect();
        let list = List::new(items).block(block).highlight_style(if focused {
            theme.selected
        } else {
            Style::default()
        });
        let mut state = ListState::default().with_selected(Some(self.selected));
        frame.render_stateful_widget(list, area, &mut state);
    }
}
