//! A response the preview received, as the Endpoints tab shows it.

use std::time::Duration;

use super::json_lines::body_lines;
use super::scroll_view::{Tone, ToneLine, line};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// `POST /books` — what was sent.
    pub request_line: String,
    /// `sandbox v3` or the deployment URL.
    pub target: String,
    pub status: u16,
    pub elapsed: Duration,
    /// Names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Exchange {
    /// Status and time, headers, then the body (pretty when it is JSON).
    pub fn lines(&self) -> Vec<ToneLine> {
        let tone = match self.status {
            200..=299 => Tone::Ok,
            300..=399 | 0..=199 => Tone::Warn,
            _ => Tone::Error,
        };
        let mut out = vec![vec![
            (tone, format!("{} {}", self.status, reason(self.status))),
            (
                Tone::Dim,
                format!(
                    " · {} ms · {} → {}",
                    self.elapsed.as_millis(),
                    self.request_line,
                    self.target
                ),
            ),
        ]];
        for (name, value) in &self.headers {
            out.push(vec![
                (Tone::Accent, format!("{name}: ")),
                (Tone::Dim, value.clone()),
            ]);
        }
        out.push(Vec::new());
        if self.body.is_empty() {
            out.push(line(Tone::Dim, "(no body)"));
        } else {
            out.extend(body_lines(&self.body));
        }
        out
    }
}

fn reason(status: u16) -> &'static str {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}
