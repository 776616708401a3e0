//! What the editor and preview need to know about the project they show. The
//! projects pane holds `ProjectSummary` rows, tests and the CLI hold `Project`s.

use uuid::Uuid;

use crate::db::projects::{Project, ProjectSummary};

pub trait ShownProject {
    fn id(&self) -> Uuid;
    fn slug(&self) -> &str;
    fn latest_version(&self) -> Option<i32>;
}

impl ShownProject for Project {
    fn id(&self) -> Uuid {
        self.id
    }
    fn slug(&self) -> &str {
        &self.slug
    }
    fn latest_version(&self) -> Option<i32> {
        self.latest_version
    }
}

impl ShownProject for ProjectSummary {
    fn id(&self) -> Uuid {
        self.id
    }
    fn slug(&self) -> &str {
        &self.slug
    }
    fn latest_version(&self) -> Option<i32> {
        self.latest_version
    }
}
