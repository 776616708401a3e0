//! How long to wait before retrying a failed call.

use std::time::Duration;

/// Exponential backoff with jitter. The jitter spreads out clients that were rate
/// limited together so they do not all come back at the same instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Wait before the first retry (before jitter).
    pub base: Duration,
    /// No computed wait (and no server-requested `Retry-After`) exceeds this.
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// The wait before retry number `retry` (0-based): `base · 2^retry`, capped, then
    /// scaled by a random factor in [0.5, 1.0]. A server's `Retry-After` wins (capped).
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(self.cap);
        }
        let exponential = self
            .base
            .saturating_mul(2_u32.saturating_pow(retry.min(16)))
            .min(self.cap);
        exponential.mul_f64(rand::random_range(0.5..=1.0))
    }
}

/// Parses a `Retry-After` value: delay-seconds (integer or, as some servers send,
/// fractional). HTTP dates are not used by chat-completion servers and are ignored.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_within_jitter_and_cap() {
        let b = Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
        };
        for retry in 0..8 {
            let full = Duration::from_millis(100 * 2_u64.pow(retry)).min(b.cap);
            for _ in 0..20 {
                let d = b.delay(retry, None);
                assert!(
                    d <= full && d >= full / 2,
                    "retry {retry}: {d:?} vs {full:?}"
                );
            }
        }
    }

    #[test]
    fn retry_after_wins_but_is_capped() {
        let b = Backoff::default();
        assert_eq!(b.delay(3, Some(Duration::ZERO)), Duration::ZERO);
        assert_eq!(
            b.delay(0, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(b.delay(0, Some(Duration::from_secs(3600))), b.cap);
    }

    #[test]
    fn retry_after_values() {
        assert_eq!(parse_retry_after("0"), Some(Duration::ZERO));
        assert_eq!(parse_retry_after(" 2 "), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("NaN"), None);
    }
}
