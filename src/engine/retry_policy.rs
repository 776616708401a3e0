//! Per-step retry policy: attempts and exponential backoff with jitter.

use std::time::Duration;

use rand::RngExt;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included. Only attempts that end with an error
    /// count: a run cut off by a dead worker or a lost lease is an interruption.
    pub max_attempts: u32,
    /// Interruptions tolerated before the step fails: a step whose runs keep stopping
    /// their worker (out of memory, say) must still end.
    pub max_interruptions: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    pub multiplier: f64,
    /// Fraction of the delay randomised (0.0–1.0), so retries of many jobs spread out.
    pub jitter: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            max_interruptions: 3,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(60),
            multiplier: 2.0,
            jitter: 0.2,
        }
    }
}

impl RetryPolicy {
    /// One attempt only (steps whose failure is never transient).
    pub fn once() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    pub fn attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    pub fn interruptions(mut self, n: u32) -> Self {
        self.max_interruptions = n;
        self
    }

    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// The delay before attempt `failed_attempts + 1`.
    pub fn delay_after(&self, failed_attempts: u32) -> Duration {
        let exp = self
            .multiplier
            .max(1.0)
            .powi(failed_attempts.saturating_sub(1).min(30) as i32);
        let base = (self.initial_backoff.as_secs_f64() * exp).min(self.max_backoff.as_secs_f64());
        let jitter = self.jitter.clamp(0.0, 1.0);
        let factor = if jitter > 0.0 {
            1.0 - jitter + rand::rng().random_range(0.0..=(2.0 * jitter))
        } else {
            1.0
        };
        Duration::from_secs_f64(
            (base * factor).min(self.max_backoff.as_secs_f64() * (1.0 + jitter)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_exponentially_and_is_capped() {
        let p = RetryPolicy {
            jitter: 0.0,
            ..RetryPolicy::default().backoff(Duration::from_millis(100), Duration::from_secs(1))
        };
        assert_eq!(p.delay_after(1), Duration::from_millis(100));
        assert_eq!(p.delay_after(2), Duration::from_millis(200));
        assert_eq!(p.delay_after(3), Duration::from_millis(400));
        assert_eq!(p.delay_after(10), Duration::from_secs(1));
    }

    #[test]
    fn jitter_stays_within_its_band() {
        let p =
            RetryPolicy::default().backoff(Duration::from_millis(1000), Duration::from_secs(10));
        let delays: Vec<Duration> = (0..200).map(|_| p.delay_after(1)).collect();
        assert!(
            delays
                .iter()
                .all(|d| *d >= Duration::from_millis(800) && *d <= Duration::from_millis(1200))
        );
        let distinct: std::collections::BTreeSet<_> = delays.iter().collect();
        assert!(distinct.len() > 50, "jitter should spread delays");
    }
}
