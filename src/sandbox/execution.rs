//! A sandboxed program in flight, as both backends hand it to the common code.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::{KillSwitch, Line, Outcome, SandboxError, Stream};

/// Lines kept for [`Outcome::output_tail`] and health-check errors.
const TAIL_LINES: usize = 200;
/// Longer lines are cut so one runaway line cannot hold megabytes.
const MAX_LINE_BYTES: usize = 4096;

pub(crate) struct Execution {
    pub(crate) lines: mpsc::UnboundedReceiver<Line>,
    pub(crate) tail: OutputTail,
    pub(crate) kill_switch: KillSwitch,
    pub(crate) outcome: oneshot::Receiver<Result<Outcome, SandboxError>>,
}

impl Execution {
    pub(crate) async fn outcome(self) -> Result<Outcome, SandboxError> {
        self.outcome.await.unwrap_or(Err(SandboxError::Lost))
    }
}

/// The last lines of output, shared between the reader and whoever reports on the
/// run. A mutex rather than a channel: readers append, reporters take a snapshot,
/// nobody waits on it.
#[derive(Clone, Default)]
pub(crate) struct OutputTail {
    lines: Arc<Mutex<VecDeque<Line>>>,
}

impl OutputTail {
    fn push(&self, line: Line) {
        // A poisoned lock only means a reader panicked mid-push; the data is still usable.
        let mut lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        if lines.len() == TAIL_LINES {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    pub(crate) fn snapshot(&self) -> Vec<Line> {
        let lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        lines.iter().cloned().collect()
    }
}

/// Where readers put output: the live channel and the tail.
#[derive(Clone)]
pub(crate) struct OutputSink {
    tx: mpsc::UnboundedSender<Line>,
    tail: OutputTail,
}

impl OutputSink {
    pub(crate) fn new() -> (Self, mpsc::UnboundedReceiver<Line>, OutputTail) {
        let (tx, rx) = mpsc::unbounded_channel();
        let tail = OutputTail::default();
        (
            Self {
                tx,
                tail: tail.clone(),
            },
            rx,
            tail,
        )
    }

    pub(crate) fn push(&self, stream: Stream, mut text: String) {
        if text.len() > MAX_LINE_BYTES {
            let mut cut = MAX_LINE_BYTES;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push_str(" [line truncated]");
        }
        let line = Line { stream, text };
        self.tail.push(line.clone());
        // Nobody listening any more is fine: the tail still has the line.
        let _ = self.tx.send(line);
    }
}

/// Why waiting for a program stopped before it exited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interrupt {
    TimedOut,
    Killed,
}

/// Waits for `exit`, the wall-clock limit or the kill switch, whichever comes first.
/// On an interrupt the caller kills the sandbox and then awaits `exit` again.
pub(crate) async fn race<F: Future + Unpin>(
    exit: &mut F,
    switch: &KillSwitch,
    wall: Duration,
) -> Result<F::Output, Interrupt> {
    tokio::select! {
        biased;
        _ = switch.killed() => Err(Interrupt::Killed),
        out = exit => Ok(out),
        _ = tokio::time::sleep(wall) => Err(Interrupt::TimedOut),
    }
}
