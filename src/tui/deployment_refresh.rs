//! When the Deployment tab reloads: on one 2-second timer while it is visible (the
//! last beat after it is hidden starts no new timer, so an idle UI stays idle), never
//! with two timed loads in flight, and once after each deploy, rollback or undeploy
//! job ends. Pure bookkeeping; the app turns its answers into effects.

use std::collections::HashSet;
use std::time::Duration;

use uuid::Uuid;

use super::effect::Effect;
use super::preview::PreviewRequest;
use crate::deploy::{DEPLOY, UNDEPLOY};
use crate::engine::JobId;

/// How often the visible Deployment tab reloads.
pub const DEPLOYMENT_REFRESH: Duration = Duration::from_secs(2);

#[derive(Debug, Default)]
pub struct DeploymentRefresh {
    /// A `ScheduleDeploymentRefresh` timer runs (at most one does).
    timer: bool,
    /// A timed load runs; a beat skips its load until it answered.
    loading: bool,
    /// Deploy and undeploy jobs seen finished.
    jobs_done: HashSet<JobId>,
}

impl DeploymentRefresh {
    /// The timer to start: one while `visible` (the project the visible tab shows)
    /// and none runs.
    pub fn schedule(&mut self, visible: Option<Uuid>) -> Option<Effect> {
        if self.timer || visible.is_none() {
            return None;
        }
        self.timer = true;
        Some(Effect::ScheduleDeploymentRefresh {
            after: DEPLOYMENT_REFRESH,
        })
    }

    /// The timer ran out: the load to run, if the tab is still visible and the last
    /// timed load answered.
    pub fn beat(&mut self, visible: Option<Uuid>) -> Option<PreviewRequest> {
        self.timer = false;
        let project = visible?;
        if self.loading {
            return None;
        }
        self.loading = true;
        Some(PreviewRequest::LoadDeployment { project })
    }

    /// A deployment load answered.
    pub fn loaded(&mut self) {
        self.loading = false;
    }

    /// Whether a deploy or undeploy job (rollbacks are deploy jobs) ended since the
    /// last call; `jobs` are `(id, kind, ended)`.
    pub fn jobs_ended<'a>(
        &mut self,
        jobs: impl IntoIterator<Item = (JobId, &'a str, bool)>,
    ) -> bool {
        let mut ended = false;
        for (id, kind, is_final) in jobs {
            if is_final && (kind == DEPLOY || kind == UNDEPLOY) && self.jobs_done.insert(id) {
                ended = true;
            }
        }
        ended
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Uuid = Uuid::from_u128(7);

    fn load() -> Option<PreviewRequest> {
        Some(PreviewRequest::LoadDeployment { project: P })
    }

    #[test]
    fn one_timer_beats_while_visible_and_stops_when_hidden() {
        let mut r = DeploymentRefresh::default();
        assert_eq!(r.schedule(None), None, "no timer for a hidden tab");
        assert_eq!(
            r.schedule(Some(P)),
            Some(Effect::ScheduleDeploymentRefresh {
                after: DEPLOYMENT_REFRESH
            })
        );
        assert_eq!(r.schedule(Some(P)), None, "one timer at a time");
        assert_eq!(r.beat(Some(P)), load());
        // A slow daemon: the next beat does not stack a second load.
        assert!(r.schedule(Some(P)).is_some());
        assert_eq!(r.beat(Some(P)), None);
        r.loaded();
        assert!(r.schedule(Some(P)).is_some());
        assert_eq!(r.beat(Some(P)), load());
        r.loaded();
        // Hidden: the beat loads nothing and no timer follows.
        assert!(r.schedule(Some(P)).is_some());
        assert_eq!(r.beat(None), None);
        assert_eq!(r.schedule(None), None);
    }

    #[test]
    fn deploy_and_undeploy_jobs_reload_once_when_they_end() {
        let mut r = DeploymentRefresh::default();
        assert!(!r.jobs_ended([(1, "deploy", false), (2, "generate", true)]));
        assert!(r.jobs_ended([(1, "deploy", true), (2, "generate", true)]));
        assert!(!r.jobs_ended([(1, "deploy", true)]), "seen already");
        assert!(r.jobs_ended([(1, "deploy", true), (3, "undeploy", true)]));
    }
}
