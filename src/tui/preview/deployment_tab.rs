//! The Deployment tab: the shown project's live deployment as `apiforge deployments`
//! sees it (URL through the gateway, version, instance state and restarts, requests by
//! status class, p50/p99 latency, a request-rate sparkline over the daemon's 60-second
//! window) and the instance's last log lines, scrollable. The app reloads it every
//! 2 s while it is visible and after a deploy, rollback or undeploy job ends.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline, Wrap};

use super::scroll_view::{ScrollView, Tone, ToneLine, line};
use crate::deploy::deployment_status::DeploymentStatus;
use crate::tui::theme::Theme;

/// What the tab knows about the project's deployment.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum DeploymentState {
    /// Not loaded yet.
    #[default]
    Loading,
    NotDeployed,
    Live(Box<DeploymentStatus>),
    /// The last load failed; the message says why.
    Failed(String),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeploymentTab {
    state: DeploymentState,
    logs: ScrollView,
    /// The log view sticks to its newest line until the user scrolls up.
    scrolled_back: bool,
}

impl DeploymentTab {
    pub fn state(&self) -> &DeploymentState {
        &self.state
    }

    pub fn logs(&self) -> &ScrollView {
        &self.logs
    }

    /// The live deployment's URL, if there is one.
    pub fn url(&self) -> Option<&str> {
        match &self.state {
            DeploymentState::Live(d) => Some(&d.url),
            _ => None,
        }
    }

    /// Takes a load's result. The log view keeps its place across reloads.
    pub fn loaded(&mut self, result: Result<Option<DeploymentStatus>, String>) {
        match result {
            Ok(Some(status)) => {
                let lines: Vec<_> = status
                    .instance_summary()
                    .map(|i| i.logs)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|l| line(Tone::Text, l))
                    .collect();
                let offset = self.logs.offset();
                self.logs = ScrollView::new(lines);
                if self.scrolled_back {
                    self.logs
                        .scroll_by(isize::try_from(offset).unwrap_or(isize::MAX));
                } else {
                    self.logs.scroll_by(isize::MAX);
                }
                self.state = DeploymentState::Live(Box::new(status));
            }
            Ok(None) => {
                self.logs = ScrollView::default();
                self.scrolled_back = false;
                self.state = DeploymentState::NotDeployed;
            }
            // A failed refresh keeps what was shown only if nothing was: the notice
            // says what went wrong either way.
            Err(message) => {
                if !matches!(self.state, DeploymentState::Live(_)) {
                    self.state = DeploymentState::Failed(message);
                }
            }
        }
    }

    /// Scroll keys move the log lines; true when the key was one of them.
    pub fn handle_key(&mut self, key: KeyEvent) -> bool {
        if !matches!(self.state, DeploymentState::Live(_)) {
            return false;
        }
        if !self.logs.handle_key(key) {
            return false;
        }
        self.scrolled_back = !matches!(key.code, KeyCode::Char('G') | KeyCode::End);
        true
    }

    pub fn render(&mut self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let status = match &self.state {
            DeploymentState::Loading => {
                return message(frame, area, theme.running, "loading the deployment …");
            }
            DeploymentState::NotDeployed => {
                return message(
                    frame,
                    area,
                    theme.dim,
                    "Not deployed. Press d in the projects pane to deploy the latest version.",
                );
            }
            DeploymentState::Failed(m) => return message(frame, area, theme.error, m),
            DeploymentState::Live(status) => status,
        };
        let head_lines = head_lines(status);
        let [head, spark_title, spark, logs_title, logs] = Layout::vertical([
            Constraint::Length(rows(&head_lines, area.width)),
            Constraint::Length(1),
            Constraint::Length(3),
            Constraint::Length(1),
            Constraint::Min(0),
        ])
        .areas(area);
        ScrollView::new(head_lines).render(frame, head, theme);
        let window: &[u64] = status
            .traffic
            .as_ref()
            .map_or(&[], |t| t.per_second.as_slice());
        // The newest seconds are on the right; a narrow pane shows fewer of them.
        let shown = &window[window.len().saturating_sub(usize::from(spark.width))..];
        let peak = shown.iter().copied().max().unwrap_or(0);
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(format!("requests/s, last {} s", shown.len()), theme.dim),
                Span::styled(format!(" · peak {peak}"), theme.dim),
            ])),
            spark_title,
        );
        frame.render_widget(
            Sparkline::default()
                .data(shown)
                .max(peak.max(1))
                .style(theme.accent),
            spark,
        );
        let count = self.logs.lines().len();
        frame.render_widget(
            Paragraph::new(Span::styled(
                if count == 0 {
                    "instance log: no lines yet".to_owned()
                } else {
                    format!("instance log · last {count} lines")
                },
                theme.title,
            )),
            logs_title,
        );
        self.logs.render(frame, logs, theme);
    }
}

fn message(frame: &mut Frame, area: Rect, style: ratatui::style::Style, text: &str) {
    frame.render_widget(
        Paragraph::new(Span::styled(text.to_owned(), style)).wrap(Wrap { trim: false }),
        area,
    );
}

/// The summary above the sparkline: state and version, the URL on its own line (it
/// is long), the instance, the request counts and the latency.
fn head_lines(status: &DeploymentStatus) -> Vec<ToneLine> {
    let mut lines = vec![
        vec![
            (Tone::Ok, status.row.state.clone()),
            (Tone::Title, format!(" v{}", status.row.version)),
        ],
        line(Tone::Accent, status.url.clone()),
    ];
    lines.push(match status.instance_summary() {
        Some(i) => {
            let tone = match i.state.as_str() {
                "healthy" => Tone::Ok,
                "starting" | "restarting" => Tone::Warn,
                _ => Tone::Error,
            };
            let mut l = vec![
                (Tone::Dim, "instance ".to_owned()),
                (tone, i.state),
                (Tone::Text, format!(" · restarts {}", i.restarts)),
            ];
            if let Some(reason) = i.reason {
                l.push((Tone::Warn, format!(" · {reason}")));
            }
            l
        }
        None => line(
            Tone::Warn,
            "instance not hosted: apiforge serve is not running (it restarts live deployments when it starts)",
        ),
    });
    match &status.traffic {
        Some(t) => {
            let [c1, c2, c3, c4, c5] = t.status_classes;
            let mut l = vec![(Tone::Text, format!("{} req", t.requests))];
            // Informational responses are rare enough to show only when they happen.
            if c1 > 0 {
                l.push((Tone::Dim, format!(" · 1xx {c1}")));
            }
            let warn = |n: u64, tone| if n > 0 { tone } else { Tone::Text };
            l.extend([
                (Tone::Dim, " · 2xx ".to_owned()),
                (Tone::Ok, c2.to_string()),
                (Tone::Dim, format!(" · 3xx {c3}")),
                (Tone::Dim, " · 4xx ".to_owned()),
                (warn(c4, Tone::Warn), c4.to_string()),
                (Tone::Dim, " · 5xx ".to_owned()),
                (warn(c5, Tone::Error), c5.to_string()),
            ]);
            lines.push(l);
            let (p50, p99) = status.latency();
            lines.push(line(
                Tone::Text,
                format!("latency p50 {} · p99 {}", ms(p50), ms(p99)),
            ));
        }
        None => lines.push(line(Tone::Dim, "no requests yet")),
    }
    lines
}

/// Rows `lines` take at `width` columns, wrapped by character as [`ScrollView`] does.
fn rows(lines: &[ToneLine], width: u16) -> u16 {
    let width = usize::from(width.max(1));
    let n: usize = lines
        .iter()
        .map(|l| {
            let chars: usize = l.iter().map(|(_, t)| t.chars().count()).sum();
            chars.div_ceil(width).max(1)
        })
        .sum();
    u16::try_from(n).unwrap_or(u16::MAX)
}

/// A latency bucket bound as milliseconds ("≤0.5 ms": the histogram only knows bounds).
fn ms(d: Option<Duration>) -> String {
    match d {
        Some(d) if d.as_secs() >= 10_000 => "> 10 s".to_owned(),
        Some(d) => format!("≤{} ms", trim_ms(d.as_secs_f64() * 1000.0)),
        None => "-".to_owned(),
    }
}

fn trim_ms(ms: f64) -> String {
    let s = format!("{ms:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}
