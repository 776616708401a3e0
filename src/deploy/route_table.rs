//! Which instance serves which project, switched atomically.
//!
//! A request looks its route up and registers itself with the upstream (an in-flight
//! count) under the same read lock; a swap replaces the entry under the write lock.
//! So once a swap has returned, every request that will ever reach the old upstream
//! is already counted, and draining (waiting for the count to reach zero) cannot miss
//! one that was between lookup and connect.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use uuid::Uuid;

/// Where one deployment's instance listens.
#[derive(Debug)]
pub struct Upstream {
    pub deployment: Uuid,
    pub version: i32,
    pub socket: PathBuf,
    in_flight: AtomicUsize,
    /// Kept-alive connections the gateway reuses.
    pub(crate) idle: super::gateway::IdleConnections,
}

impl Upstream {
    pub fn new(deployment: Uuid, version: i32, socket: PathBuf) -> Self {
        Self {
            deployment,
            version,
            socket,
            in_flight: AtomicUsize::new(0),
            idle: Default::default(),
        }
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// Waits until no request is in flight or `timeout` passes; true when drained.
    pub async fn drained(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut pause = Duration::from_millis(1);
        while self.in_flight() > 0 {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(20));
        }
        true
    }
}

/// A request in flight to an upstream; dropping it (when the response body has been
/// sent or abandoned) ends the request.
#[derive(Debug)]
pub struct InFlight(Arc<Upstream>);

impl InFlight {
    pub fn upstream(&self) -> &Arc<Upstream> {
        &self.0
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Routes by `owner/project`.
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: RwLock<HashMap<String, Arc<Upstream>>>,
}

impl RouteTable {
    /// The route's upstream with this request counted in, or `None` when nothing is
    /// deployed there.
    pub fn enter(&self, route: &str) -> Option<InFlight> {
        let routes = self.routes.read().unwrap_or_else(|e| e.into_inner());
        let upstream = routes.get(route)?.clone();
        upstream.in_flight.fetch_add(1, Ordering::SeqCst);
        Some(InFlight(upstream))
    }

    /// Points `route` at `upstream`; returns what it pointed at before.
    pub fn swap(&self, route: &str, upstream: Arc<Upstream>) -> Option<Arc<Upstream>> {
        let mut routes = self.routes.write().unwrap_or_else(|e| e.into_inner());
        routes.insert(route.to_owned(), upstream)
    }

    /// Frees `route` if it still points at `deployment`; returns the removed upstream.
    pub fn remove(&self, route: &str, deployment: Uuid) -> Option<Arc<Upstream>> {
        let mut routes = self.routes.write().unwrap_or_else(|e| e.into_inner());
        if routes
            .get(route)
            .is_some_and(|u| u.deployment == deployment)
        {
            routes.remove(route)
        } else {
            None
        }
    }

    pub fn get(&self, route: &str) -> Option<Arc<Upstream>> {
        let routes = self.routes.read().unwrap_or_else(|e| e.into_inner());
        routes.get(route).cloned()
    }

    pub fn routes(&self) -> Vec<(String, Arc<Upstream>)> {
        let routes = self.routes.read().unwrap_or_else(|e| e.into_inner());
        routes.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_swap_leaves_requests_in_flight_on_the_old_upstream_until_they_end() {
        let table = RouteTable::default();
        let old = Arc::new(Upstream::new(Uuid::new_v4(), 1, "/a".into()));
        let new = Arc::new(Upstream::new(Uuid::new_v4(), 2, "/b".into()));
        assert!(table.swap("me/shop", old.clone()).is_none());
        let request = table.enter("me/shop").expect("routed");
        let replaced = table.swap("me/shop", new.clone()).expect("had a route");
        assert_eq!(replaced.version, 1);
        assert_eq!(old.in_flight(), 1);
        assert!(!old.drained(Duration::from_millis(5)).await);
        assert_eq!(
            table.enter("me/shop").map(|r| r.upstream().version),
            Some(2)
        );
        drop(request);
        assert!(old.drained(Duration::from_millis(5)).await);
        assert!(table.remove("me/shop", old.deployment).is_none());
        assert!(table.remove("me/shop", new.deployment).is_some());
        assert!(table.enter("me/shop").is_none());
    }
}
