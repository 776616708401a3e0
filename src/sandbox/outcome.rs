//! How a sandboxed run ended.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Backend, Line};

/// The result of a run, for the CLI, the job engine and the TUI alike.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outcome {
    pub backend: Backend,
    /// Exit code when the program exited by itself.
    pub exit_code: Option<i32>,
    /// Signal number when the program was killed by a signal.
    pub signal: Option<i32>,
    /// The wall-clock limit elapsed and apiforge killed the sandbox.
    pub timed_out: bool,
    /// The kill switch was pulled.
    pub killed: bool,
    /// The memory limit was hit and the kernel killed a process for it.
    pub out_of_memory: bool,
    pub duration: Duration,
    /// The last lines of stdout and stderr, interleaved in arrival order.
    pub output_tail: Vec<Line>,
}

impl Outcome {
    /// Exited by itself with code 0.
    pub fn success(&self) -> bool {
        self.exit_code == Some(0) && !self.timed_out && !self.killed
    }

    /// The code a shell would report: 124 on timeout (like `timeout(1)`), 128+N for
    /// signal N (137 for SIGKILL: memory, kill switch), else the exit code.
    pub fn shell_code(&self) -> u8 {
        if self.timed_out {
            return 124;
        }
        if let Some(signal) = self.signal {
            return u8::try_from(128 + signal.clamp(0, 127)).unwrap_or(255);
        }
        if self.killed || self.out_of_memory {
            return 137;
        }
        match self.exit_code {
            Some(code) => u8::try_from(code.clamp(0, 255)).unwrap_or(255),
            None => 1,
        }
    }

    /// One sentence saying how the run ended.
    pub fn summary(&self) -> String {
        let how = if self.timed_out {
            "timed out and was killed".to_owned()
        } else if self.out_of_memory {
            "was killed at its memory limit".to_owned()
        } else if self.killed {
            "was cancelled".to_owned()
        } else if let Some(signal) = self.signal {
            format!("was killed by signal {signal}")
        } else {
            match self.exit_code {
                Some(code) => format!("exited with code {code}"),
                None => "ended without an exit status".to_owned(),
            }
        };
        format!(
            "the command {how} after {:.3}s ({} sandbox)",
            self.duration.as_secs_f64(),
            self.backend
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome() -> Outcome {
        Outcome {
            backend: Backend::Process,
            exit_code: None,
            signal: None,
            timed_out: false,
            killed: false,
            out_of_memory: false,
            duration: Duration::from_millis(5),
            output_tail: Vec::new(),
        }
    }

    #[test]
    fn shell_codes_follow_timeout_and_signal_conventions() {
        let exited = Outcome {
            exit_code: Some(3),
            ..outcome()
        };
        assert_eq!(exited.shell_code(), 3);
        let timed_out = Outcome {
            signal: Some(9),
            timed_out: true,
            ..outcome()
        };
        assert_eq!(timed_out.shell_code(), 124);
        let oom = Outcome {
            signal: Some(9),
            out_of_memory: true,
            ..outcome()
        };
        assert_eq!(oom.shell_code(), 137);
    }
}
