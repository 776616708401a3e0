//! Logging: `tracing` to daily-rotated files in `<data dir>/logs` through a
//! non-blocking writer; optionally mirrored to stderr for headless commands. The TUI
//! never mirrors, so nothing is printed over the screen.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{Builder, Rotation};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::MakeWriterExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Keeps the background log writer alive; logs are flushed when it is dropped, so
/// hold it until the process ends.
#[must_use = "dropping the guard stops log output"]
pub struct LogGuard {
    _file: Option<WorkerGuard>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mirror {
    /// Log files only (the TUI).
    None,
    /// Log files and stderr (`-v` on headless commands).
    Stderr,
}

/// Installs the global subscriber. `level` is the config's filter; `RUST_LOG` wins
/// when set. A log directory that cannot be created degrades to stderr-only (when
/// mirroring) rather than failing the command.
pub fn init(logs_dir: &Path, level: &str, keep_days: usize, mirror: Mirror) -> LogGuard {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"));

    let appender = std::fs::create_dir_all(logs_dir).ok().and_then(|()| {
        Builder::new()
            .rotation(Rotation::DAILY)
            .filename_prefix("apiforge")
            .filename_suffix("log")
            .max_log_files(keep_days.max(1))
            .build(logs_dir)
            .ok()
    });

    let (file_writer, guard) = match appender {
        Some(a) => {
            let (w, g) = tracing_appender::non_blocking(a);
            (Some(w), Some(g))
        }
        None => (None, None),
    };

    let file_layer = file_writer.map(|w| {
        tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_target(true)
            .with_writer(w)
    });
    let stderr_layer = (mirror == Mirror::Stderr).then(|| {
        tracing_subscriber::fmt::layer()
            .with_target(false)
            .with_writer(std::io::stderr.with_max_level(tracing::Level::TRACE))
    });

    // A second init (tests calling into the CLI twice) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(file_layer)
        .with(stderr_layer)
        .try_init();

    LogGuard { _file: guard }
}
