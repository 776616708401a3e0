//! The live design preview of the new-project and iterate dialogs: what the rules
//! provider reads from the prompt as the user types, with the review's warnings (and,
//! for a follow-up, the design diff).
//!
//! Typing bumps `generation` and schedules a read after [`DEBOUNCE`]; when the timer
//! fires for the newest generation the read runs off the input path
//! (`Effect::ReadDesign`, a blocking task) and comes back as `Message::DesignRead`. A
//! reading for an older generation is dropped, so what is shown always belongs to
//! the text it says it belongs to — and Enter builds exactly that.

use std::sync::Arc;
use std::time::Duration;

use ratatui::text::{Line, Span};

use super::theme::Theme;
use crate::design::review::tree::{self, LineRole, TreeLine};
use crate::design::{ApiDesign, ChangeKind, DesignDiff, Review, diff, review};
use crate::provider::DesignRequest;
use crate::provider::rules::RulesProvider;

/// How long typing must pause before the prompt is read again.
pub const DEBOUNCE: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DesignPreview {
    /// Bumped on every edit of the prompt.
    pub generation: u64,
    pub reading: Reading,
    /// The text changed since `reading` was made (a read is scheduled).
    pub pending: bool,
}

/// The latest reading shown.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Reading {
    /// Nothing read yet.
    #[default]
    Empty,
    Read(Arc<DesignReading>),
    /// The rules provider could not read the prompt: its message says what to write.
    Unreadable {
        generation: u64,
        error: String,
    },
}

/// A prompt's design, reviewed, with its tree lines (made off the input path, so a
/// frame only copies them).
#[derive(Debug, Clone, PartialEq)]
pub struct DesignReading {
    pub generation: u64,
    pub design: ApiDesign,
    pub review: Review,
    pub lines: Vec<TreeLine>,
    /// Against the base design, for a follow-up.
    pub diff: Option<DesignDiff>,
}

/// What a read produced.
#[derive(Debug, Clone, PartialEq)]
pub enum ReadOutcome {
    Read(Arc<DesignReading>),
    Unreadable(String),
}

/// Reads `prompt` with the rules provider (a follow-up when `base` is given) and
/// reviews it. Pure and synchronous: the effect runner calls it on a blocking thread.
pub fn read(generation: u64, prompt: &str, base: Option<&ApiDesign>) -> ReadOutcome {
    let request = DesignRequest { prompt, base };
    match RulesProvider::new().handle(&request) {
        Ok(design) => {
            let review = review(prompt, &design, base);
            let lines = tree::lines(&design, &review);
            let diff = base.map(|b| diff(b, &design));
            ReadOutcome::Read(Arc::new(DesignReading {
                generation,
                design,
                review,
                lines,
                diff,
            }))
        }
        Err(e) => ReadOutcome::Unreadable(e.to_string()),
    }
}

impl DesignPreview {
    /// The prompt changed: returns the generation to read after the debounce.
    pub fn edited(&mut self) -> u64 {
        self.generation += 1;
        self.pending = true;
        self.generation
    }

    /// A reading arrived; false (and nothing changes) when it is for an older text.
    pub fn arrived(&mut self, generation: u64, outcome: ReadOutcome) -> bool {
        if generation != self.generation {
            return false;
        }
        self.pending = false;
        self.reading = match outcome {
            ReadOutcome::Read(r) => Reading::Read(r),
            ReadOutcome::Unreadable(error) => Reading::Unreadable { generation, error },
        };
        true
    }

    /// The design shown, when it belongs to the current text (Enter builds it).
    pub fn current_design(&self) -> Option<&ApiDesign> {
        match &self.reading {
            Reading::Read(r) if !self.pending && r.generation == self.generation => Some(&r.design),
            _ => None,
        }
    }

    /// The preview's lines: a status line, the warnings, then the tree (new project)
    /// or the changes (follow-up).
    pub fn lines<'a>(&self, theme: &Theme) -> Vec<Line<'a>> {
        let mut out = Vec::new();
        let status = if self.pending { " (reading…)" } else { "" };
        match &self.reading {
            Reading::Empty => {
                out.push(Line::styled(
                    format!("Design preview{status}: type to see what the prompt reads as"),
                    theme.dim,
                ));
            }
            Reading::Unreadable { error, .. } => {
                out.push(Line::styled(format!("Design preview{status}"), theme.title));
                out.push(Line::styled(format!("not understood: {error}"), theme.warn));
            }
            Reading::Read(r) => {
                let n = r.review.warnings.len();
                let counts = match &r.diff {
                    Some(d) => format!(
                        "{} change{}{}",
                        d.changes.len(),
                        if d.changes.len() == 1 { "" } else { "s" },
                        if d.is_breaking() { ", breaking" } else { "" }
                    ),
                    None => format!(
                        "{} resource{}",
                        r.design.resources.len(),
                        if r.design.resources.len() == 1 {
                            ""
                        } else {
                            "s"
                        }
                    ),
                };
                let warned = match n {
                    0 => Span::styled("no warnings", theme.ok),
                    1 => Span::styled("1 warning", theme.warn),
                    n => Span::styled(format!("{n} warnings"), theme.warn),
                };
                out.push(Line::from(vec![
                    Span::styled(format!("Design preview{status}: "), theme.title),
                    Span::styled(format!("{counts} · "), theme.text),
                    warned,
                ]));
                for w in r.review.lines() {
                    out.push(Line::styled(format!("⚠ {w}"), theme.warn));
                }
                match &r.diff {
                    Some(d) if d.is_empty() => {
                        out.push(Line::styled("no change to the design", theme.dim));
                    }
                    Some(d) => {
                        for c in &d.changes {
                            let (mark, style) = match c.kind {
                                ChangeKind::Added => ("+", theme.added),
                                ChangeKind::Removed => ("-", theme.removed),
                                ChangeKind::Changed => ("~", theme.accent),
                            };
                            let mut spans =
                                vec![Span::styled(format!("{mark} {}", c.description), style)];
                            if c.breaking {
                                spans.push(Span::styled("  breaking", theme.error));
                            }
                            out.push(Line::from(spans));
                        }
                    }
                    None => {
                        for l in &r.lines {
                            out.push(tree_line(l, theme));
                        }
                    }
                }
            }
        }
        out
    }
}

fn tree_line<'a>(l: &TreeLine, theme: &Theme) -> Line<'a> {
    let style = if l.warned {
        theme.warn
    } else {
        match l.role {
            LineRole::Title | LineRole::Resource | LineRole::Section => theme.title,
            LineRole::Operations | LineRole::ListOptions | LineRole::Auth => theme.dim,
            LineRole::Field | LineRole::Relation | LineRole::Action => theme.text,
        }
    };
    Line::from(vec![
        Span::styled(l.prefix.clone(), theme.dim),
        Span::styled(l.text()[l.prefix.len()..].to_owned(), style),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_for_an_older_text_is_dropped() {
        let mut p = DesignPreview::default();
        let first = p.edited();
        let second = p.edited();
        let old = read(first, "books with title", None);
        assert!(!p.arrived(first, old), "a stale reading was taken");
        assert_eq!(p.reading, Reading::Empty);
        assert!(p.pending);
        let new = read(second, "books with title and author", None);
        assert!(p.arrived(second, new));
        assert!(!p.pending);
        let design = p.current_design().expect("current");
        assert!(
            design
                .resource("book")
                .and_then(|b| b.field("author"))
                .is_some()
        );
        // Typing again: the shown design no longer matches the text.
        p.edited();
        assert!(p.current_design().is_none());
    }

    #[test]
    fn a_followup_reading_carries_its_diff() {
        let base = match read(1, "books with title and author", None) {
            ReadOutcome::Read(r) => r.design.clone(),
            other => panic!("{other:?}"),
        };
        match read(2, "remove the author field", Some(&base)) {
            ReadOutcome::Read(r) => {
                let d = r.diff.as_ref().expect("a diff");
                assert!(d.is_breaking(), "{d:?}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            read(3, "hello", None),
            ReadOutcome::Unreadable(e) if e.contains("for example")
        ));
    }
}
