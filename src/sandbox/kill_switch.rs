//! Cancellation that any task can pull, at any time, any number of times.

use std::sync::Arc;

use tokio::sync::watch;

/// Cloneable handle that ends a sandboxed run immediately: `kill()` from the job
/// engine's cancellation path, a signal handler, or a test. Pulling it before the run
/// starts makes the run end as soon as it has started.
#[derive(Debug, Clone)]
pub struct KillSwitch {
    tx: Arc<watch::Sender<bool>>,
}

impl Default for KillSwitch {
    fn default() -> Self {
        Self::new()
    }
}

impl KillSwitch {
    pub fn new() -> Self {
        let (tx, _rx) = watch::channel(false);
        Self { tx: Arc::new(tx) }
    }

    /// Kills every process of the run this switch belongs to.
    pub fn kill(&self) {
        self.tx.send_replace(true);
    }

    pub fn is_killed(&self) -> bool {
        *self.tx.borrow()
    }

    /// Resolves once `kill()` has been called. The switch itself keeps the sender
    /// alive, so this never resolves spuriously.
    pub(crate) async fn killed(&self) {
        let mut rx = self.tx.subscribe();
        // The sender lives in `self`, so `wait_for` cannot see a closed channel.
        let _ = rx.wait_for(|killed| *killed).await;
    }
}
