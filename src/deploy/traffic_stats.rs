//! Per-project request statistics the gateway keeps in memory: counts, status classes
//! and a latency histogram (for `apiforge deployments` and the TUI's sparkline).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Upper bounds of the latency buckets, in microseconds; a last bucket takes the rest.
pub const BUCKET_BOUNDS_US: [u64; 14] = [
    250, 500, 1_000, 2_000, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000,
    2_500_000, 10_000_000,
];

/// One project's traffic since the daemon started.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteStats {
    pub requests: u64,
    /// Responses by status class: 1xx, 2xx, 3xx, 4xx, 5xx.
    pub status_classes: [u64; 5],
    /// Requests the gateway answered itself with 502 (instance unreachable).
    pub unreachable: u64,
    /// Time to the response head, bucketed by [`BUCKET_BOUNDS_US`] (+1 overflow bucket).
    pub latency_buckets: Vec<u64>,
    /// Requests per second over the last 60 seconds, oldest first.
    pub per_second: Vec<u64>,
    /// Unix second of the newest `per_second` slot.
    #[serde(default)]
    pub last_second: u64,
}

impl RouteStats {
    fn record(&mut self, status: u16, latency: Duration, now_secs: u64) {
        self.requests += 1;
        if let Some(slot) = usize::from(status / 100)
            .checked_sub(1)
            .and_then(|i| self.status_classes.get_mut(i))
        {
            *slot += 1;
        }
        if self.latency_buckets.len() != BUCKET_BOUNDS_US.len() + 1 {
            self.latency_buckets = vec![0; BUCKET_BOUNDS_US.len() + 1];
        }
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        let bucket = BUCKET_BOUNDS_US
            .iter()
            .position(|b| us <= *b)
            .unwrap_or(BUCKET_BOUNDS_US.len());
        self.latency_buckets[bucket] += 1;
        self.tick(now_secs);
        if let Some(last) = self.per_second.last_mut() {
            *last += 1;
        }
    }

    /// Moves the per-second window forward to `now_secs`.
    fn tick(&mut self, now_secs: u64) {
        const WINDOW: usize = 60;
        if self.per_second.is_empty() {
            self.per_second = vec![0; WINDOW];
            self.last_second = now_secs;
        }
        let gap = now_secs.saturating_sub(self.last_second);
        let shift = usize::try_from(gap).unwrap_or(WINDOW).min(WINDOW);
        if shift > 0 {
            self.per_second.drain(..shift);
            self.per_second.extend(std::iter::repeat_n(0, shift));
            self.last_second = now_secs;
        }
    }

    /// The latency below which `quantile` (0–1) of the requests fell, as the upper bound
    /// of its bucket; `None` without requests.
    pub fn latency_quantile(&self, quantile: f64) -> Option<Duration> {
        let total: u64 = self.latency_buckets.iter().sum();
        if total == 0 {
            return None;
        }
        // Rounding up: the p99 of 100 requests is the 99th one.
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let rank = ((total as f64) * quantile.clamp(0.0, 1.0)).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, count) in self.latency_buckets.iter().enumerate() {
            seen += count;
            if seen >= rank {
                let bound = BUCKET_BOUNDS_US.get(i).copied().unwrap_or(u64::MAX);
                return Some(Duration::from_micros(bound));
            }
        }
        None
    }
}

/// Statistics of every route, keyed by `owner/project`. A mutex rather than atomics
/// per field: a request takes it once, briefly, after its response head arrived.
#[derive(Debug, Default)]
pub struct TrafficStats {
    routes: Mutex<HashMap<String, RouteStats>>,
}

impl TrafficStats {
    pub fn record(&self, route: &str, status: u16, latency: Duration) {
        let now = unix_secs();
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        routes
            .entry(route.to_owned())
            .or_default()
            .record(status, latency, now);
    }

    pub fn record_unreachable(&self, route: &str, latency: Duration) {
        let now = unix_secs();
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let stats = routes.entry(route.to_owned()).or_default();
        stats.unreachable += 1;
        stats.record(502, latency, now);
    }

    /// A copy of every route's statistics, windows moved to now.
    pub fn snapshot(&self) -> HashMap<String, RouteStats> {
        let now = unix_secs();
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        for stats in routes.values_mut() {
            stats.tick(now);
        }
        routes.clone()
    }
}

fn unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_classes_buckets_and_quantiles() {
        let mut s = RouteStats::default();
        for _ in 0..98 {
            s.record(200, Duration::from_micros(300), 100);
        }
        s.record(404, Duration::from_millis(3), 100);
        s.record(503, Duration::from_secs(20), 101);
        assert_eq!(s.requests, 100);
        assert_eq!(s.status_classes, [0, 98, 0, 1, 1]);
        assert_eq!(s.latency_quantile(0.5), Some(Duration::from_micros(500)));
        assert_eq!(s.latency_quantile(0.99), Some(Duration::from_micros(5_000)));
        assert_eq!(s.per_second[58..], [99, 1]);
        s.tick(400);
        assert!(s.per_second.iter().all(|n| *n == 0));
    }
}
