//! A long-running program in a sandbox that the host talks to over HTTP.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::execution::{Execution, OutputTail};
use super::http::{HttpClient, HttpError};
use super::{KillSwitch, Line, Outcome, SandboxError};

/// How often [`Server::wait_healthy`] retries `GET /health`.
const HEALTH_POLL: Duration = Duration::from_millis(20);

/// A started server. Dropping it kills the sandbox.
pub struct Server {
    socket: PathBuf,
    kill_switch: KillSwitch,
    tail: OutputTail,
    outcome: Option<oneshot::Receiver<Result<Outcome, SandboxError>>>,
    finished: Option<Result<Outcome, SandboxError>>,
}

#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    #[error(
        "the server did not answer GET /health with 200 within {waited:?} (last attempt: {last_attempt}); its last output:\n{}",
        render(.last_lines)
    )]
    Timeout {
        waited: Duration,
        last_attempt: String,
        last_lines: Vec<Line>,
    },
    #[error("the server stopped before it was healthy: {summary}; its last output:\n{}", render(.last_lines))]
    Exited {
        summary: String,
        last_lines: Vec<Line>,
    },
}

fn render(lines: &[Line]) -> String {
    const SHOWN: usize = 30;
    if lines.is_empty() {
        return "  (no output)".to_owned();
    }
    let start = lines.len().saturating_sub(SHOWN);
    lines[start..]
        .iter()
        .map(|l| format!("  {}", l.text))
        .collect::<Vec<_>>()
        .join("\n")
}

impl Server {
    pub(crate) fn new(
        execution: Execution,
        socket: PathBuf,
        mut on_line: impl FnMut(&Line) + Send + 'static,
    ) -> Self {
        let Execution {
            mut lines,
            tail,
            kill_switch,
            outcome,
        } = execution;
        tokio::spawn(async move {
            while let Some(line) = lines.recv().await {
                on_line(&line);
            }
        });
        Self {
            socket,
            kill_switch,
            tail,
            outcome: Some(outcome),
            finished: None,
        }
    }

    /// Host path of the Unix socket the server listens on.
    pub fn socket_path(&self) -> &Path {
        &self.socket
    }

    /// A client for this server's socket that only talks to a listener running as
    /// the sandbox user (see [`HttpClient::require_peer_uid`]).
    pub fn client(&self) -> HttpClient {
        HttpClient::unix(&self.socket).require_peer_uid(super::workspace::sandbox_uid())
    }

    /// Kills the server from anywhere (clone it into the job engine's cancel path).
    pub fn killer(&self) -> KillSwitch {
        self.kill_switch.clone()
    }

    /// The server's most recent output lines.
    pub fn logs(&self) -> Vec<Line> {
        self.tail.snapshot()
    }

    /// Polls `GET /health` until it answers 200 (returns how long that took), the
    /// server exits, or `timeout` elapses. Errors carry the server's last output.
    pub async fn wait_healthy(&mut self, timeout: Duration) -> Result<Duration, HealthError> {
        let started = Instant::now();
        let client = self.client().with_timeout(timeout);
        loop {
            if let Some(summary) = self.exit_summary() {
                return Err(HealthError::Exited {
                    summary,
                    last_lines: self.logs(),
                });
            }
            let last_attempt = match client.get("/health").await {
                Ok(r) if r.status == 200 => return Ok(started.elapsed()),
                Ok(r) => format!("status {}", r.status),
                Err(HttpError::Connect { source, .. }) => format!("connect: {source}"),
                Err(e) => e.to_string(),
            };
            if started.elapsed() >= timeout {
                return Err(HealthError::Timeout {
                    waited: started.elapsed(),
                    last_attempt,
                    last_lines: self.logs(),
                });
            }
            tokio::time::sleep(HEALTH_POLL).await;
        }
    }

    /// `Some(how it ended)` once the server has exited.
    fn exit_summary(&mut self) -> Option<String> {
        if self.finished.is_none()
            && let Some(rx) = self.outcome.as_mut()
        {
            match rx.try_recv() {
                Ok(result) => {
                    self.finished = Some(result);
                    self.outcome = None;
                }
                Err(oneshot::error::TryRecvError::Empty) => {}
                Err(oneshot::error::TryRecvError::Closed) => {
                    self.finished = Some(Err(SandboxError::Lost));
                    self.outcome = None;
                }
            }
        }
        self.finished.as_ref().map(|r| match r {
            Ok(outcome) => outcome.summary(),
            Err(e) => e.to_string(),
        })
    }

    /// Kills the sandbox and returns how the server ended.
    pub async fn stop(mut self) -> Result<Outcome, SandboxError> {
        self.kill_switch.kill();
        self.wait_inner().await
    }

    /// Waits until the server exits by itself (or hits its wall-clock limit).
    pub async fn wait(mut self) -> Result<Outcome, SandboxError> {
        self.wait_inner().await
    }

    async fn wait_inner(&mut self) -> Result<Outcome, SandboxError> {
        if let Some(result) = self.finished.take() {
            return result;
        }
        match self.outcome.take() {
            Some(rx) => rx.await.unwrap_or(Err(SandboxError::Lost)),
            None => Err(SandboxError::Lost),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill_switch.kill();
    }
}
