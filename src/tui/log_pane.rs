//! The log pane: a live timeline of the user's jobs, one row per job with its steps,
//! their timings and the outcome; a job expands to its log lines. The rows change only
//! through the reducer (`State::update`), fed with engine events and loaded records.

use std::time::Duration;

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState, Paragraph};

use super::pane::pane_block;
use super::theme::Theme;
use crate::deploy::DeployOutput;
use crate::engine::{JobEvent, JobId, JobRecord, StepRecord};
use crate::pipeline::PipelineOutput;

/// Where a job is. Changed only by [`LogPane::apply_event`] and [`LogPane::merge`].
#[derive(Debug, Clone, PartialEq)]
pub enum JobProgress {
    Queued,
    Running {
        since: DateTime<Utc>,
    },
    Succeeded {
        took: Option<Duration>,
    },
    Failed {
        error: String,
        took: Option<Duration>,
    },
    Cancelled,
}

impl JobProgress {
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            JobProgress::Succeeded { .. } | JobProgress::Failed { .. } | JobProgress::Cancelled
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum StepProgress {
    Running { since: DateTime<Utc> },
    Succeeded { took: Duration },
    Failed { took: Duration, error: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct StepRow {
    pub name: String,
    pub progress: StepProgress,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub at: DateTime<Utc>,
    pub level: String,
    pub step: Option<String>,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct JobRow {
    pub id: JobId,
    pub kind: String,
    /// The project's slug, once known.
    pub project: Option<String>,
    pub progress: JobProgress,
    pub steps: Vec<StepRow>,
    /// "v1 passing · tests 24/24 · contract 31/31", from the job's output.
    pub summary: Option<String>,
    /// The version the job recorded, from its output.
    pub version: Option<i32>,
    pub lines: Vec<LogLine>,
    /// Whether the log lines before this session were loaded.
    pub history_loaded: bool,
    pub expanded: bool,
}

impl JobRow {
    fn new(id: JobId, kind: &str) -> Self {
        Self {
            id,
            kind: kind.to_owned(),
            project: None,
            progress: JobProgress::Queued,
            steps: Vec::new(),
            summary: None,
            version: None,
            lines: Vec::new(),
            history_loaded: false,
            expanded: false,
        }
    }

    /// Passing when the job succeeded and its checks passed.
    pub fn passed(&self) -> bool {
        matches!(self.progress, JobProgress::Succeeded { .. })
            && self
                .summary
                .as_deref()
                .is_some_and(|s| s.contains("passing"))
    }
}

/// A loaded job: its record, steps and project slug.
#[derive(Debug, Clone, PartialEq)]
pub struct JobSnapshot {
    pub record: JobRecord,
    pub steps: Vec<StepRecord>,
    pub project: Option<String>,
}

/// What an event meant for the pane, so the reducer can follow up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventOutcome {
    Updated,
    /// A job this pane had not seen: its record should be loaded.
    NewJob,
    /// The job ended: its output and the project list should be reloaded.
    Finished,
}

/// One row on screen: a job's header, its error, or one of its log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowRef {
    Job(usize),
    Error(usize),
    Line(usize, usize),
}

/// At most this many log lines are kept per job (the database keeps them all).
const MAX_LINES: usize = 5000;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogPane {
    /// Oldest first, like a terminal: new jobs appear at the bottom.
    pub jobs: Vec<JobRow>,
    /// Index into the rows on screen.
    pub selected: usize,
}

impl LogPane {
    pub fn job(&self, id: JobId) -> Option<&JobRow> {
        self.jobs.iter().find(|j| j.id == id)
    }

    fn job_mut(&mut self, id: JobId) -> Option<&mut JobRow> {
        self.jobs.iter_mut().find(|j| j.id == id)
    }

    /// Whether anything is queued or running (the app ticks only then).
    pub fn is_busy(&self) -> bool {
        self.jobs.iter().any(|j| !j.progress.is_final())
    }

    fn rows(&self) -> Vec<RowRef> {
        let mut rows = Vec::new();
        for (i, job) in self.jobs.iter().enumerate() {
            rows.push(RowRef::Job(i));
            if matches!(job.progress, JobProgress::Failed { .. }) {
                rows.push(RowRef::Error(i));
            }
            if job.expanded {
                rows.extend((0..job.lines.len()).map(|l| RowRef::Line(i, l)));
            }
        }
        rows
    }

    pub fn row_count(&self) -> usize {
        self.rows().len()
    }

    /// The job the selected row belongs to.
    pub fn selected_job(&self) -> Option<&JobRow> {
        let index = match self.rows().get(self.selected)? {
            RowRef::Job(i) | RowRef::Error(i) | RowRef::Line(i, _) => *i,
        };
        self.jobs.get(index)
    }

    pub fn select(&mut self, index: usize) {
        self.selected = index.min(self.row_count().saturating_sub(1));
    }

    /// Runs `change` keeping the view pinned to the bottom when it was there.
    fn following(&mut self, change: impl FnOnce(&mut Self)) {
        let at_end = self.selected + 1 >= self.row_count();
        change(self);
        if at_end {
            self.selected = self.row_count().saturating_sub(1);
        } else {
            self.select(self.selected);
        }
    }

    /// Expands or collapses the selected job; returns its id when its earlier log
    /// lines still need loading.
    pub fn toggle_selected(&mut self) -> Option<JobId> {
        let id = self.selected_job()?.id;
        let job_index = self.jobs.iter().position(|j| j.id == id)?;
        let job = &mut self.jobs[job_index];
        job.expanded = !job.expanded;
        let load = job.expanded && !job.history_loaded;
        // Keep the selection on the job's header.
        let header = self
            .rows()
            .iter()
            .position(|r| *r == RowRef::Job(job_index))
            .unwrap_or(0);
        self.selected = header;
        load.then_some(id)
    }

    /// Applies one engine event.
    pub fn apply_event(&mut self, e: &JobEvent) -> EventOutcome {
        let mut outcome = EventOutcome::Updated;
        if self.job(e.job_id).is_none() {
            let kind = if e.kind == "job_started" {
                e.message.as_str()
            } else {
                "job"
            };
            let row = JobRow::new(e.job_id, kind);
            self.following(|pane| pane.jobs.push(row));
            outcome = EventOutcome::NewJob;
        }
        let step = e.step.clone();
        let at = e.at;
        let state = e
            .data
            .as_ref()
            .and_then(|d| d.get("state"))
            .and_then(|s| s.as_str())
            .unwrap_or("")
            .to_owned();
        let message = e.message.clone();
        let level = e.level.clone();
        let kind = e.kind.clone();
        let mut finished = false;
        self.following(|pane| {
            let Some(job) = pane.job_mut(e.job_id) else {
                return;
            };
            match kind.as_str() {
                "job_started" => {
                    if !message.is_empty() {
                        job.kind = message;
                    }
                    job.progress = JobProgress::Running { since: at };
                }
                "step_started" => {
                    let name = step.unwrap_or_default();
                    if !matches!(job.progress, JobProgress::Running { .. }) {
                        job.progress = JobProgress::Running { since: at };
                    }
                    let progress = StepProgress::Running { since: at };
                    match job.steps.iter_mut().find(|s| s.name == name) {
                        Some(s) => s.progress = progress,
                        None => job.steps.push(StepRow { name, progress }),
                    }
                }
                "step_finished" => {
                    let name = step.unwrap_or_default();
                    let since =
                        job.steps
                            .iter()
                            .find(|s| s.name == name)
                            .and_then(|s| match s.progress {
                                StepProgress::Running { since } => Some(since),
                                _ => None,
                            });
                    let took = since
                        .and_then(|s| (at - s).to_std().ok())
                        .unwrap_or_default();
                    let progress = if state == "succeeded" {
                        StepProgress::Succeeded { took }
                    } else {
                        StepProgress::Failed {
                            took,
                            error: message,
                        }
                    };
                    match job.steps.iter_mut().find(|s| s.name == name) {
                        Some(s) => s.progress = progress,
                        None => job.steps.push(StepRow { name, progress }),
                    }
                }
                "job_finished" => {
                    let took = match job.progress {
                        JobProgress::Running { since } => (at - since).to_std().ok(),
                        _ => None,
                    };
                    job.progress = match state.as_str() {
                        "succeeded" => JobProgress::Succeeded { took },
                        "cancelled" => JobProgress::Cancelled,
                        _ => JobProgress::Failed {
                            error: message,
                            took,
                        },
                    };
                    finished = true;
                }
                _ => {
                    if !message.is_empty() {
                        if job.lines.len() >= MAX_LINES {
                            job.lines.remove(0);
                        }
                        job.lines.push(LogLine {
                            at,
                            level,
                            step,
                            text: message,
                        });
                    }
                }
            }
        });
        if finished {
            EventOutcome::Finished
        } else {
            outcome
        }
    }

    /// Merges loaded records: known jobs take the record's state, steps and output
    /// (their log lines stay); unknown ones are added in order of their ids.
    pub fn merge(&mut self, snapshots: Vec<JobSnapshot>) {
        self.following(|pane| {
            for snap in snapshots {
                let id = snap.record.id;
                if pane.job(id).is_none() {
                    pane.jobs.push(JobRow::new(id, &snap.record.kind));
                }
                let Some(job) = pane.job_mut(id) else {
                    continue;
                };
                job.kind = snap.record.kind.clone();
                if snap.project.is_some() {
                    job.project = snap.project;
                }
                let record = &snap.record;
                let took = match (record.started_at, record.finished_at) {
                    (Some(s), Some(f)) => (f - s).to_std().ok(),
                    _ => None,
                };
                job.progress = match record.state.as_str() {
                    "queued" => JobProgress::Queued,
                    "running" => JobProgress::Running {
                        since: record.started_at.unwrap_or(record.created_at),
                    },
                    "succeeded" => JobProgress::Succeeded { took },
                    "cancelled" => JobProgress::Cancelled,
                    _ => JobProgress::Failed {
                        error: record.error.clone().unwrap_or_else(|| "failed".into()),
                        took,
                    },
                };
                let output = record
                    .output
                    .clone()
                    .and_then(|o| serde_json::from_value::<PipelineOutput>(o).ok());
                job.summary = output.as_ref().map(summary);
                job.version = output.map(|o| o.version);
                if job.summary.is_none()
                    && let Some(deployed) = record
                        .output
                        .clone()
                        .and_then(|o| serde_json::from_value::<DeployOutput>(o).ok())
                {
                    job.summary = Some(format!(
                        "v{} {} · {}",
                        deployed.version, deployed.state, deployed.route
                    ));
                }
                if !snap.steps.is_empty() {
                    job.steps = snap
                        .steps
                        .iter()
                        .map(|s| StepRow {
                            name: s.name.clone(),
                            progress: match (s.state.as_str(), s.finished_at) {
                                ("succeeded", Some(f)) => StepProgress::Succeeded {
                                    took: (f - s.started_at).to_std().unwrap_or_default(),
                                },
                                (_, Some(f)) => StepProgress::Failed {
                                    took: (f - s.started_at).to_std().unwrap_or_default(),
                                    error: s.error.clone().unwrap_or_default(),
                                },
                                (_, None) => StepProgress::Running {
                                    since: s.started_at,
                                },
                            },
                        })
                        .collect();
                }
            }
            pane.jobs.sort_by_key(|j| j.id);
        });
    }

    /// The job's full log, loaded from the database, replaces what the feed brought.
    pub fn set_history(&mut self, id: JobId, events: &[JobEvent]) {
        self.following(|pane| {
            if let Some(job) = pane.job_mut(id) {
                job.lines = events
                    .iter()
                    .filter(|e| e.kind == "log" && !e.message.is_empty())
                    .map(|e| LogLine {
                        at: e.at,
                        level: e.level.clone(),
                        step: e.step.clone(),
                        text: e.message.clone(),
                    })
                    .collect();
                let skip = job.lines.len().saturating_sub(MAX_LINES);
                job.lines.drain(..skip);
                job.history_loaded = true;
            }
        });
    }

    pub fn render(
        &self,
        frame: &mut Frame,
        area: Rect,
        theme: &Theme,
        focused: bool,
        now: DateTime<Utc>,
        spinner: usize,
    ) {
        let block = pane_block("Log", theme, focused);
        if self.jobs.is_empty() {
            let hint = Paragraph::new(Line::styled(
                "No jobs yet. Press n to create a project from a prompt.",
                theme.dim,
            ))
            .block(block);
            frame.render_widget(hint, area);
            return;
        }
        let items: Vec<ListItem> = self
            .rows()
            .into_iter()
            .map(|row| match row {
                RowRef::Job(i) => ListItem::new(job_line(&self.jobs[i], theme, now, spinner)),
                RowRef::Error(i) => {
                    let text = match &self.jobs[i].progress {
                        JobProgress::Failed { error, .. } => error.clone(),
                        _ => String::new(),
                    };
                    // The whole message, wrapped: it says what to do.
                    let width = usize::from(area.width.saturating_sub(8)).max(10);
                    let lines: Vec<Line> = wrap(&format!("✗ {text}"), width)
                        .into_iter()
                        .enumerate()
                        .map(|(n, part)| {
                            Line::from(vec![
                                Span::raw(if n == 0 { "    " } else { "      " }),
                                Span::styled(part, theme.error),
                            ])
                        })
                        .collect();
                    ListItem::new(lines)
                }
                RowRef::Line(i, l) => {
                    let line = &self.jobs[i].lines[l];
                    let style = match line.level.as_str() {
                        "error" => theme.error,
                        "warn" => theme.warn,
                        "debug" => theme.dim,
                        _ => theme.text,
                    };
                    let mut spans = vec![Span::raw("    ")];
                    if let Some(step) = &line.step {
                        spans.push(Span::styled(format!("{step}: "), theme.dim));
                    }
                    spans.push(Span::styled(line.text.clone(), style));
                    ListItem::new(Line::from(spans))
                }
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

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

fn job_line<'a>(job: &JobRow, theme: &Theme, now: DateTime<Utc>, spinner: usize) -> Line<'a> {
    let spin = SPINNER[spinner % SPINNER.len()];
    let mut spans = vec![
        Span::styled(if job.expanded { "▾ " } else { "▸ " }, theme.dim),
        Span::styled(format!("#{} ", job.id), theme.accent),
        Span::styled(format!("{} ", job.kind), theme.title),
    ];
    if let Some(project) = &job.project {
        spans.push(Span::styled(format!("{project} "), theme.text));
    }
    spans.push(Span::raw(" "));
    match &job.progress {
        JobProgress::Queued => spans.push(Span::styled("queued", theme.dim)),
        JobProgress::Running { since } => {
            if job.steps.is_empty() {
                spans.push(Span::styled(format!("{spin} starting"), theme.running));
            }
            spans.push(Span::styled(
                format!(" {}", elapsed(*since, now)),
                theme.dim,
            ));
        }
        JobProgress::Succeeded { took } => {
            let style = if job
                .summary
                .as_deref()
                .is_some_and(|s| s.contains("failing"))
            {
                theme.warn
            } else {
                theme.ok
            };
            let summary = job.summary.clone().unwrap_or_else(|| "done".into());
            spans.push(Span::styled(format!("✓ {summary}"), style));
            if let Some(took) = took {
                spans.push(Span::styled(format!("  {}", duration(*took)), theme.dim));
            }
        }
        JobProgress::Failed { took, .. } => {
            spans.push(Span::styled("✗ failed", theme.error));
            if let Some(took) = took {
                spans.push(Span::styled(format!("  {}", duration(*took)), theme.dim));
            }
        }
        JobProgress::Cancelled => spans.push(Span::styled("cancelled", theme.warn)),
    }
    if !job.steps.is_empty() {
        spans.push(Span::styled("  │ ", theme.dim));
    }
    for (n, step) in job.steps.iter().enumerate() {
        if n > 0 {
            spans.push(Span::styled(" · ", theme.dim));
        }
        match &step.progress {
            StepProgress::Running { since } => {
                spans.push(Span::styled(
                    format!("{} {spin} {}", step.name, elapsed(*since, now)),
                    theme.running,
                ));
            }
            StepProgress::Succeeded { took } => {
                spans.push(Span::styled(format!("{} ✓", step.name), theme.ok));
                spans.push(Span::styled(format!(" {}", duration(*took)), theme.dim));
            }
            StepProgress::Failed { took, .. } => {
                spans.push(Span::styled(
                    format!("{} ✗ {}", step.name, duration(*took)),
                    theme.error,
                ));
            }
        }
    }
    Line::from(spans)
}

/// `text` in lines of at most `width` characters, broken at spaces where possible.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word = word.to_owned();
        loop {
            let len = line.chars().count();
            let needed = if len == 0 { 0 } else { 1 } + word.chars().count();
            if len + needed <= width {
                if len > 0 {
                    line.push(' ');
                }
                line.push_str(&word);
                break;
            }
            if len > 0 {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            // A word longer than a line is cut.
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            lines.push(head);
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// The one-line result of a pipeline job.
pub fn summary(o: &PipelineOutput) -> String {
    let t = &o.totals;
    format!(
        "v{} {} · tests {}/{} · contract {}/{}",
        o.version,
        o.check_status,
        t.native_passed,
        t.native_passed + t.native_failed,
        t.contract_passed,
        t.contract_passed + t.contract_failed
    )
}

fn elapsed(since: DateTime<Utc>, now: DateTime<Utc>) -> String {
    duration((now - since).to_std().unwrap_or_default())
}

/// `340ms`, `1.2s`, `2m05s`.
pub fn duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        format!("{}m{:02}s", ms / 60_000, (ms / 1000) % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrapping_keeps_every_character() {
        assert_eq!(wrap("ab cd ef", 5), vec!["ab cd", "ef"]);
        assert_eq!(wrap("abcdefgh", 3), vec!["abc", "def", "gh"]);
        assert_eq!(wrap("", 3), vec![""]);
        assert_eq!(wrap("a  b", 10), vec!["a  b"]);
    }
}
