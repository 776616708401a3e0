//! Starting `apiforge serve` on demand: in embedded mode the first deploy (from the
//! CLI or the TUI) starts the daemon in the background, in its own process group so
//! it outlives the terminal that started it.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::time::{Duration, Instant};

use super::control::{ControlClient, DaemonFiles, DaemonStatus};
use crate::config::{Config, Dirs};

/// How long a daemon started on demand may take to answer on its control socket.
const DAEMON_START_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum LaunchDaemonError {
    /// This machine cannot start it (no binary, no data dir): exit code 2 in the CLI.
    #[error("{0}")]
    Environment(String),
    /// It was started but did not come up.
    #[error("{0}")]
    Failed(String),
}

/// The running daemon's status; in embedded mode a daemon is started in the
/// background first when none runs. With a shared database the daemon is a service
/// somewhere else: `None` when it is not reachable here (the job still reaches it
/// through the queue).
pub async fn ensure_running(
    config: &Config,
    dirs: &Dirs,
) -> Result<Option<DaemonStatus>, LaunchDaemonError> {
    let files = DaemonFiles::new(dirs);
    let client = ControlClient::new(&files.socket);
    let status = client
        .status()
        .await
        .map_err(|e| LaunchDaemonError::Failed(e.to_string()))?;
    if status.is_some() || config.database_url().is_some() {
        return Ok(status);
    }
    start_in_background(dirs).await.map(Some)
}

/// Starts `apiforge serve` as a background process and waits until it answers.
pub async fn start_in_background(dirs: &Dirs) -> Result<DaemonStatus, LaunchDaemonError> {
    let files = DaemonFiles::new(dirs);
    let client = ControlClient::new(&files.socket);
    let failed = |e: super::control::ControlError| LaunchDaemonError::Failed(e.to_string());
    if let Some(status) = client.status().await.map_err(failed)? {
        return Ok(status);
    }
    let environment = |what: String| {
        move |e: std::io::Error| LaunchDaemonError::Environment(format!("{what}: {e}"))
    };
    let exe =
        std::env::current_exe().map_err(environment("cannot find the apiforge binary".into()))?;
    std::fs::create_dir_all(&dirs.data).map_err(environment(format!(
        "cannot create {}",
        dirs.data.display()
    )))?;
    let open_log = format!("cannot open {}", files.log.display());
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&files.log)
        .map_err(environment(open_log.clone()))?;
    let log_err = log.try_clone().map_err(environment(open_log))?;
    // Its own process group: a Ctrl-C in this terminal must not stop the daemon.
    let mut child = std::process::Command::new(exe)
        .arg("serve")
        .stdin(std::process::Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .process_group(0)
        .spawn()
        .map_err(environment("cannot start apiforge serve".into()))?;
    let started = Instant::now();
    let mut pause = Duration::from_millis(10);
    loop {
        if let Some(status) = client.status().await.map_err(failed)? {
            return Ok(status);
        }
        if let Ok(Some(exit)) = child.try_wait() {
            return Err(LaunchDaemonError::Failed(format!(
                "apiforge serve stopped before it was ready ({exit}); its log {}:\n{}",
                files.log.display(),
                log_tail(&files.log, 20)
            )));
        }
        if started.elapsed() > DAEMON_START_TIMEOUT {
            return Err(LaunchDaemonError::Failed(format!(
                "apiforge serve did not answer within {DAEMON_START_TIMEOUT:?}; see {}",
                files.log.display()
            )));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
