//! A deployment as its row and the hosting daemon see it together: the URL through the
//! gateway, the instance's state, restarts and logs, and the route's live traffic.
//! `apiforge deployments` and the TUI's Deployment tab both show this.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;

use super::control::{ControlClient, ControlError, DaemonFiles, DaemonStatus};
use super::deploy_job::route_key;
use super::deployment_row::DeploymentRow;
use super::traffic_stats::RouteStats;
use crate::config::Dirs;

/// One deployment joined with what the daemon knows about it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentStatus {
    pub row: DeploymentRow,
    /// `http://<gateway><route>`.
    pub url: String,
    /// Why the deployment failed, if it did.
    pub error: Option<String>,
    /// The instance as the daemon serialises it (state, restarts, logs); `None` when
    /// no daemon hosts it.
    pub instance: Option<Value>,
    /// The route's requests since the daemon started; `None` before the first one.
    pub traffic: Option<RouteStats>,
}

/// The instance fields a viewer needs, read from [`DeploymentStatus::instance`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InstanceSummary {
    /// `starting`, `healthy`, `restarting`, `failed` or `stopped`.
    pub state: String,
    /// Why it is restarting or failed.
    pub reason: Option<String>,
    pub restarts: u32,
    /// The last output lines, oldest first.
    pub logs: Vec<String>,
}

impl DeploymentStatus {
    pub fn instance_summary(&self) -> Option<InstanceSummary> {
        let i = self.instance.as_ref()?;
        Some(InstanceSummary {
            state: i["state"].as_str().unwrap_or("unknown").to_owned(),
            reason: i["reason"].as_str().map(str::to_owned),
            restarts: i["restarts"]
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0),
            logs: i["logs"]
                .as_array()
                .map(|lines| {
                    lines
                        .iter()
                        .filter_map(|l| l.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
        })
    }

    /// The p50 and p99 latency of the route's requests.
    pub fn latency(&self) -> (Option<Duration>, Option<Duration>) {
        self.traffic.as_ref().map_or((None, None), |s| {
            (s.latency_quantile(0.5), s.latency_quantile(0.99))
        })
    }
}

/// The status of the daemon in `dirs`; `Ok(None)` when none runs.
pub async fn daemon_status(dirs: &Dirs) -> Result<Option<DaemonStatus>, ControlError> {
    ControlClient::new(&DaemonFiles::new(dirs).socket)
        .status()
        .await
}

/// Joins `rows` with the daemon's view; without a daemon the URLs use
/// `configured_gateway` (where the next daemon will listen).
pub fn join(
    rows: Vec<DeploymentRow>,
    status: Option<DaemonStatus>,
    configured_gateway: &str,
) -> Vec<DeploymentStatus> {
    let gateway = status
        .as_ref()
        .map_or(configured_gateway.to_owned(), |s| s.gateway_addr.clone());
    let mut instances: HashMap<String, Value> = HashMap::new();
    let mut traffic: HashMap<String, RouteStats> = HashMap::new();
    if let Some(s) = status {
        for i in s.instances {
            if let Some(id) = i["deployment"].as_str() {
                instances.insert(id.to_owned(), i.clone());
            }
        }
        traffic = s.traffic;
    }
    rows.into_iter()
        .map(|row| DeploymentStatus {
            url: format!("http://{gateway}{}", row.route),
            error: row
                .instance
                .as_ref()
                .and_then(|i| i["error"].as_str())
                .map(str::to_owned),
            instance: instances.remove(&row.id.to_string()),
            traffic: traffic.get(&route_key(&row.route)).cloned(),
            row,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;
    use uuid::Uuid;

    use super::*;

    fn row(n: u128, route: &str, instance: Option<Value>) -> DeploymentRow {
        let at = chrono::Utc
            .with_ymd_and_hms(2026, 3, 14, 9, 0, 0)
            .single()
            .unwrap_or_else(|| panic!("a valid time"));
        DeploymentRow {
            id: Uuid::from_u128(n),
            project_id: Uuid::from_u128(n + 100),
            project: format!("p{n}"),
            owner_id: Uuid::from_u128(9),
            version_id: Uuid::from_u128(n + 200),
            version: 2,
            state: "live".into(),
            target: "process".into(),
            route: route.into(),
            instance,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn rows_meet_their_instance_and_traffic_and_the_daemons_gateway() {
        let rows = vec![
            row(1, "/p/alice/notes/", None),
            row(
                2,
                "/p/alice/shop/",
                Some(json!({"error": "never became healthy"})),
            ),
        ];
        let traffic = RouteStats {
            requests: 3,
            status_classes: [0, 2, 0, 1, 0],
            latency_buckets: vec![3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            ..RouteStats::default()
        };
        let status = DaemonStatus {
            pid: 1,
            gateway_addr: "127.0.0.1:9999".into(),
            started_at: chrono::Utc::now(),
            adopting: false,
            instances: vec![json!({
                "deployment": Uuid::from_u128(1).to_string(),
                "state": "restarting",
                "reason": "exited with 1",
                "restarts": 2,
                "logs": ["a", "b"],
            })],
            traffic: [("alice/notes".to_owned(), traffic.clone())].into(),
        };
        let joined = join(rows.clone(), Some(status), "127.0.0.1:7878");
        assert_eq!(joined[0].url, "http://127.0.0.1:9999/p/alice/notes/");
        assert_eq!(joined[0].traffic, Some(traffic));
        assert_eq!(
            joined[0].instance_summary(),
            Some(InstanceSummary {
                state: "restarting".into(),
                reason: Some("exited with 1".into()),
                restarts: 2,
                logs: vec!["a".into(), "b".into()],
            })
        );
        assert_eq!(
            joined[0].latency(),
            (
                Some(Duration::from_micros(250)),
                Some(Duration::from_micros(250))
            )
        );
        assert_eq!(joined[1].instance, None);
        assert_eq!(joined[1].traffic, None);
        assert_eq!(joined[1].error.as_deref(), Some("never became healthy"));
        // Without a daemon the URL names where the next one will listen.
        let alone = join(rows, None, "127.0.0.1:7878");
        assert_eq!(alone[0].url, "http://127.0.0.1:7878/p/alice/notes/");
        assert_eq!(alone[0].instance_summary(), None);
        assert_eq!(alone[0].latency(), (None, None));
    }
}
