//! Everything that can happen to the UI. Each variant says who sends it and what it
//! leads to; [`super::state::State::update`] is the only place that handles them.

use chrono::{DateTime, Utc};
use crossterm::event::Event;

use super::design_preview::ReadOutcome;
use super::editor::EditorResult;
use super::log_pane::JobSnapshot;
use super::preview::PreviewResult;
use crate::auth::Session;
use crate::db::projects::ProjectSummary;
use crate::engine::{JobEvent, JobId};

#[derive(Debug)]
pub enum Message {
    /// One terminal event (a key, a resize, a mouse event) that arrived on its own —
    /// sent by the input task. Keys go to the open overlay, else the focused pane, else
    /// the keymap.
    Input(Event),
    /// A bracketed paste (the terminal marked it as pasted) — sent by the input task.
    /// The whole text goes into the focused text field (a dialog's prompt keeps its
    /// line breaks, one-line fields join the lines); it never reaches the keymap.
    Paste(String),
    /// Several terminal events read in one go: the one the input task waited for and
    /// every event already queued behind it — what a paste looks like on a terminal
    /// that does not bracket pastes. The app routes it: a burst that starts while
    /// something takes text (a dialog, the filter, the palette, an editing component)
    /// belongs to it — its text arrives as one paste, so an Enter in it is a line
    /// break and never submits — and what follows once that closes is dropped. A burst
    /// on the keymap runs key by key only when it is one key repeated (a held key) or
    /// at most three keys; anything longer is dropped with a notice. Never sent with
    /// fewer than two key events (pastes count as keys).
    Burst(Vec<Event>),
    /// Sent every 100 ms by the loop, only while a job runs: moves spinners and
    /// running timers.
    Tick(DateTime<Utc>),
    /// The `Connect` effect opened the database and signed in: the status bar shows
    /// who and where; projects and jobs load. The loop hands `handles` to the effect
    /// runner before the reducer sees the message.
    Connected(Connected),
    /// The `Connect` effect failed: an error notice, and a retry with backoff.
    ConnectFailed { attempt: u32, error: String },
    /// `LoadProjects` finished.
    ProjectsLoaded(Vec<ProjectSummary>),
    /// `LoadJobs` finished: recent jobs with their steps.
    JobsLoaded(Vec<JobSnapshot>),
    /// The engine's event feed delivered an event of one of the user's jobs.
    JobEvent(JobEvent),
    /// The event feed lost the database; it reconnects by itself. A warning, and a
    /// reload with backoff so nothing missed stays stale.
    FeedInterrupted(String),
    /// `LoadJobLog` finished: a job's complete log.
    JobLogLoaded { job: JobId, events: Vec<JobEvent> },
    /// `NewProject` or `Iterate` submitted a job.
    JobSubmitted {
        job: JobId,
        kind: String,
        slug: String,
    },
    /// `DeleteProject` finished.
    ProjectDeleted { slug: String },
    /// `CancelJob` finished; `outcome` says what the engine did.
    CancelAnswered { job: JobId, outcome: String },
    /// An effect failed. `unavailable` when the database is not reachable (the UI
    /// then retries with backoff until it is back).
    EffectFailed {
        what: String,
        error: String,
        unavailable: bool,
    },
    /// The `Reload` effect's wait is over: load projects and jobs again.
    Reload { attempt: u32 },
    /// The `ExpireNotice` effect's timer ran out.
    NoticeExpired(u64),
    /// An `Effect::Editor` request finished; the app feeds it to the editor (and
    /// remembers a submitted save job to tell the editor how it ended).
    Editor(EditorResult),
    /// An `Effect::Preview` request finished; the app feeds it to the preview (a
    /// restore also reloads the projects, a copied curl goes to the clipboard).
    Preview(PreviewResult),
    /// The `ScheduleDesignRead` timer ran out: the open dialog's prompt is read
    /// (`Effect::ReadDesign`) unless it was edited again since (debounce).
    DesignReadDue { generation: u64 },
    /// `Effect::ReadDesign` finished: the dialog's preview shows it, unless the
    /// prompt changed since (a stale reading is dropped).
    DesignRead {
        generation: u64,
        /// The text read: a dialog opened again restarts its generations.
        prompt: String,
        outcome: ReadOutcome,
    },
    /// `Effect::LoadIterateBase` finished: the iterate dialog previews follow-ups
    /// against this design.
    IterateBaseLoaded {
        project: uuid::Uuid,
        version: i32,
        design: crate::design::ApiDesign,
    },
    /// The `ScheduleDeploymentRefresh` timer ran out: the app reloads the Deployment
    /// tab if it is still visible (the reducer has nothing to do with it).
    DeploymentRefreshDue,
}

/// The result of connecting.
#[derive(Debug)]
pub struct Connected {
    /// "alice@devbox".
    pub user: String,
    /// "local" or the server URL without password.
    pub database: String,
    /// Whether this process runs the jobs (no other worker serves the database).
    pub local_worker: bool,
    /// Taken by the loop for the effect runner; `None` in reducer tests.
    pub handles: Option<SessionHandles>,
}

/// What the effect runner needs to do I/O for the signed-in user.
#[derive(Debug)]
pub struct SessionHandles {
    pub session: Session,
    pub worker: Option<tokio::task::JoinHandle<()>>,
}
