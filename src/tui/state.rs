//! The UI's state and its reducer. `update` is the only code that changes state; it
//! does no I/O and returns the effects to perform, so it is tested without a terminal
//! or a database.

use std::time::Duration;

use chrono::{DateTime, Utc};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind};

use super::command_palette::{CommandPalette, PaletteOutcome};
use super::dialog::{Dialog, DialogOutcome};
use super::effect::Effect;
use super::help_overlay::HelpOverlay;
use super::keymap::{Action, Keymap, Scope};
use super::log_pane::{EventOutcome, JobProgress, LogPane};
use super::message::Message;
use super::notice::{Level, Notices};
use super::pane::Pane;
use super::projects_pane::ProjectsPane;
use crate::codegen::Framework;
use crate::provider::ProviderKind;

/// How the database looks from here.
#[derive(Debug, Clone, PartialEq)]
pub enum DbHealth {
    Connecting {
        attempt: u32,
    },
    Up,
    /// Unreachable since the `attempt`-th retry; a reload is scheduled.
    Down {
        error: String,
        attempt: u32,
    },
}

/// Who is signed in, where.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionInfo {
    pub user: String,
    pub database: String,
    pub local_worker: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    Help(HelpOverlay),
    Palette(CommandPalette),
    Dialog(Dialog),
}

/// Settings the UI starts from (the config's defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct Defaults {
    pub framework: Framework,
    pub provider: ProviderKind,
    pub sandbox: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub focus: Pane,
    pub db: DbHealth,
    pub session: Option<SessionInfo>,
    pub defaults: Defaults,
    pub projects: ProjectsPane,
    pub log: LogPane,
    pub notices: Notices,
    pub overlay: Option<Overlay>,
    pub keymap: Keymap,
    /// The time of the last tick: running timers are drawn against it, so a frame
    /// depends on state only.
    pub now: DateTime<Utc>,
    pub spinner: usize,
    /// A reload is scheduled (at most one at a time).
    pub reload_pending: bool,
    /// The project to select once the list has it (just created).
    pub select_after_load: Option<String>,
    pub quit: bool,
}

/// Rows moved by page up/down.
const PAGE: usize = 10;

/// Waits between reconnection attempts: 0.5 s doubling up to 30 s.
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(500u64.saturating_mul(1 << attempt.min(6))).min(Duration::from_secs(30))
}

impl State {
    /// The state at start-up and the effects that get it going.
    pub fn new(defaults: Defaults, keymap: Keymap, now: DateTime<Utc>) -> (Self, Vec<Effect>) {
        let state = Self {
            focus: Pane::Projects,
            db: DbHealth::Connecting { attempt: 0 },
            session: None,
            defaults,
            projects: ProjectsPane::default(),
            log: LogPane::default(),
            notices: Notices::default(),
            overlay: None,
            keymap,
            now,
            spinner: 0,
            reload_pending: false,
            select_after_load: None,
            quit: false,
        };
        let effects = vec![Effect::Connect {
            attempt: 0,
            after: Duration::ZERO,
        }];
        (state, effects)
    }

    /// Whether the loop should tick (something moves on screen).
    pub fn is_busy(&self) -> bool {
        self.log.is_busy() || matches!(self.db, DbHealth::Connecting { .. })
    }

    /// The one way to tell the user something: a notice in the status bar (expiring
    /// on its own) and the same line in the log file.
    pub fn report(&mut self, level: Level, text: impl Into<String>) -> Vec<Effect> {
        let text = text.into();
        let id = self.notices.push(level, text.clone());
        vec![
            Effect::Log { level, text },
            Effect::ExpireNotice {
                id,
                after: level.lifetime(),
            },
        ]
    }

    pub fn update(&mut self, message: Message) -> Vec<Effect> {
        match message {
            Message::Input(Event::Key(key)) if key.kind != KeyEventKind::Release => {
                self.handle_key(&key)
            }
            Message::Input(Event::Paste(text)) => {
                // A paste types into whatever takes text.
                let mut effects = Vec::new();
                for c in text.chars().filter(|c| !c.is_control()) {
                    effects.extend(self.handle_key(&KeyEvent::from(KeyCode::Char(c))));
                }
                effects
            }
            // Resizes only need a redraw, which follows every message.
            Message::Input(_) => Vec::new(),
            Message::Tick(now) => {
                self.now = now;
                self.spinner = self.spinner.wrapping_add(1);
                Vec::new()
            }
            Message::Connected(c) => {
                let again = matches!(self.db, DbHealth::Connecting { attempt } if attempt > 0);
                self.session = Some(SessionInfo {
                    user: c.user,
                    database: c.database,
                    local_worker: c.local_worker,
                });
                self.db = DbHealth::Up;
                let mut effects = vec![Effect::LoadProjects, Effect::LoadJobs];
                if again {
                    effects.extend(self.report(Level::Info, "connected to the database"));
                }
                effects
            }
            Message::ConnectFailed { attempt, error } => {
                self.db = DbHealth::Connecting {
                    attempt: attempt + 1,
                };
                let wait = backoff(attempt);
                let mut effects = self.report(
                    Level::Error,
                    format!(
                        "cannot open the database: {error} (retrying in {:.1}s)",
                        wait.as_secs_f64()
                    ),
                );
                effects.push(Effect::Connect {
                    attempt: attempt + 1,
                    after: wait,
                });
                effects
            }
            Message::ProjectsLoaded(list) => {
                let mut effects = self.database_answered();
                self.projects.set(list);
                if let Some(slug) = self.select_after_load.take() {
                    if self.projects.projects.iter().any(|p| p.slug == slug) {
                        self.projects.select_slug(&slug);
                    } else {
                        self.select_after_load = Some(slug);
                    }
                }
                effects.shrink_to_fit();
                effects
            }
            Message::JobsLoaded(snapshots) => {
                let effects = self.database_answered();
                self.log.merge(snapshots);
                effects
            }
            Message::JobEvent(event) => {
                let job = event.job_id;
                match self.log.apply_event(&event) {
                    EventOutcome::Updated => Vec::new(),
                    EventOutcome::NewJob => vec![Effect::LoadJobs],
                    EventOutcome::Finished => {
                        let mut effects = vec![Effect::LoadProjects, Effect::LoadJobs];
                        if let Some(row) = self.log.job(job) {
                            let name = format!("job #{job} {}", row.kind);
                            effects.extend(match &row.progress {
                                JobProgress::Failed { error, .. } => {
                                    self.report(Level::Error, format!("{name} failed: {error}"))
                                }
                                JobProgress::Cancelled => {
                                    self.report(Level::Warn, format!("{name} was cancelled"))
                                }
                                _ => self.report(Level::Info, format!("{name} finished")),
                            });
                        }
                        effects
                    }
                }
            }
            Message::FeedInterrupted(error) => {
                self.database_unreachable(format!("live job updates stopped: {error}"))
            }
            Message::JobLogLoaded { job, events } => {
                self.log.set_history(job, &events);
                Vec::new()
            }
            Message::JobSubmitted { job, kind, slug } => {
                self.select_after_load = Some(slug.clone());
                let mut effects = self.report(
                    Level::Info,
                    format!("{kind} job #{job} for {slug} submitted"),
                );
                effects.extend([Effect::LoadProjects, Effect::LoadJobs]);
                effects
            }
            Message::ProjectDeleted { slug } => {
                self.log
                    .jobs
                    .retain(|j| j.project.as_deref() != Some(&slug));
                self.log.select(self.log.selected);
                let mut effects = self.report(Level::Info, format!("deleted {slug}"));
                effects.push(Effect::LoadProjects);
                effects
            }
            Message::CancelAnswered { job, outcome } => {
                self.report(Level::Info, format!("job #{job}: {outcome}"))
            }
            Message::EffectFailed {
                what,
                error,
                unavailable,
            } => {
                if unavailable {
                    self.database_unreachable(format!("cannot {what}: {error}"))
                } else {
                    self.report(Level::Error, format!("cannot {what}: {error}"))
                }
            }
            Message::Reload { attempt } => {
                self.reload_pending = false;
                if let DbHealth::Down { error, .. } = &self.db {
                    self.db = DbHealth::Down {
                        error: error.clone(),
                        attempt,
                    };
                }
                vec![Effect::LoadProjects, Effect::LoadJobs]
            }
            Message::NoticeExpired(id) => {
                self.notices.expire(id);
                Vec::new()
            }
        }
    }

    /// A load succeeded: when the database had been down, say it is back.
    fn database_answered(&mut self) -> Vec<Effect> {
        if matches!(self.db, DbHealth::Down { .. }) {
            self.db = DbHealth::Up;
            return self.report(Level::Info, "the database is reachable again");
        }
        Vec::new()
    }

    /// The database stopped answering: one error notice when it goes down, then
    /// reloads with growing waits until it answers.
    fn database_unreachable(&mut self, error: String) -> Vec<Effect> {
        let (mut effects, attempt) = match &self.db {
            DbHealth::Down { attempt, .. } => (
                vec![Effect::Log {
                    level: Level::Warn,
                    text: error.clone(),
                }],
                attempt + 1,
            ),
            _ => (
                self.report(
                    Level::Error,
                    format!("{error} — retrying until the database is back"),
                ),
                0,
            ),
        };
        self.db = DbHealth::Down { error, attempt };
        if !self.reload_pending {
            self.reload_pending = true;
            effects.push(Effect::ScheduleReload {
                attempt,
                after: backoff(attempt),
            });
        }
        effects
    }

    fn handle_key(&mut self, key: &KeyEvent) -> Vec<Effect> {
        if let Some(overlay) = self.overlay.as_mut() {
            return match overlay {
                Overlay::Help(help) => {
                    match key.code {
                        KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('?') | KeyCode::F(1) => {
                            self.overlay = None
                        }
                        KeyCode::Char('j') | KeyCode::Down => {
                            help.scroll = help.scroll.saturating_add(1)
                        }
                        KeyCode::Char('k') | KeyCode::Up => {
                            help.scroll = help.scroll.saturating_sub(1)
                        }
                        KeyCode::PageDown => help.scroll = help.scroll.saturating_add(10),
                        KeyCode::PageUp => help.scroll = help.scroll.saturating_sub(10),
                        _ => {}
                    }
                    Vec::new()
                }
                Overlay::Palette(palette) => match palette.handle_key(key, &self.keymap) {
                    PaletteOutcome::Keep => Vec::new(),
                    PaletteOutcome::Close => {
                        self.overlay = None;
                        Vec::new()
                    }
                    PaletteOutcome::Run(action) => {
                        self.overlay = None;
                        self.run(action)
                    }
                },
                Overlay::Dialog(dialog) => {
                    let outcome = dialog.handle_key(key);
                    self.dialog_outcome(outcome)
                }
            };
        }
        if self.focus == Pane::Projects && self.projects.filtering {
            match key.code {
                KeyCode::Enter => self.projects.filtering = false,
                KeyCode::Esc => {
                    self.projects.filtering = false;
                    self.projects.filter = Default::default();
                    self.projects.select(0);
                }
                KeyCode::Up => self
                    .projects
                    .select(self.projects.selected.saturating_sub(1)),
                KeyCode::Down => self.projects.select(self.projects.selected + 1),
                _ => {
                    if self.projects.filter.handle_key(key) {
                        self.projects.select(0);
                    }
                }
            }
            return Vec::new();
        }
        // The editor and preview components take keys first while they capture input
        // (`captures_input()`); they are wired in where their panes are drawn.
        let scopes: &[Scope] = match self.focus {
            Pane::Projects => &[Scope::Projects, Scope::List, Scope::Global],
            Pane::Log => &[Scope::Log, Scope::List, Scope::Global],
            Pane::Editor | Pane::Preview => &[Scope::Global],
        };
        match self.keymap.lookup(key, scopes) {
            Some(action) => self.run(action),
            None => Vec::new(),
        }
    }

    fn dialog_outcome(&mut self, outcome: DialogOutcome) -> Vec<Effect> {
        match outcome {
            DialogOutcome::Keep => Vec::new(),
            DialogOutcome::Cancel => {
                self.overlay = None;
                Vec::new()
            }
            DialogOutcome::NewProject {
                prompt,
                framework,
                provider,
            } => {
                if prompt.is_empty() {
                    return self.report(
                        Level::Warn,
                        "describe the API first, e.g. \"a todo API with tasks (title, due date, done flag)\"",
                    );
                }
                self.overlay = None;
                self.defaults.framework = framework;
                self.defaults.provider = provider;
                let mut effects = self.report(Level::Info, "creating the project…");
                effects.push(Effect::NewProject {
                    prompt,
                    framework,
                    provider,
                });
                effects
            }
            DialogOutcome::Iterate {
                project,
                slug,
                prompt,
            } => {
                if prompt.is_empty() {
                    return self.report(
                        Level::Warn,
                        format!(
                            "say what should change in {slug}, e.g. \"add a due date to tasks\""
                        ),
                    );
                }
                self.overlay = None;
                vec![Effect::Iterate { project, prompt }]
            }
            DialogOutcome::Delete { project, slug } => {
                self.overlay = None;
                vec![Effect::DeleteProject { project, slug }]
            }
        }
    }

    /// Runs an action, from a key or the command palette.
    pub fn run(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Quit => self.quit = true,
            Action::Help => self.overlay = Some(Overlay::Help(HelpOverlay::default())),
            Action::CommandPalette => {
                self.overlay = Some(Overlay::Palette(CommandPalette::default()))
            }
            Action::FocusNext => self.focus = self.focus.next(),
            Action::FocusPrevious => self.focus = self.focus.previous(),
            Action::FocusProjects => self.focus = Pane::Projects,
            Action::FocusEditor => self.focus = Pane::Editor,
            Action::FocusPreview => self.focus = Pane::Preview,
            Action::FocusLog => self.focus = Pane::Log,
            Action::NewProject => {
                self.overlay = Some(Overlay::Dialog(Dialog::new_project(
                    self.defaults.framework,
                    self.defaults.provider,
                )))
            }
            Action::Iterate => {
                let Some(p) = self.projects.selected_project() else {
                    return self.report(Level::Warn, "select a project first (projects pane, 1)");
                };
                if p.latest_version.is_none() {
                    let text = format!(
                        "{} has no version yet; wait for its first job to finish",
                        p.slug
                    );
                    return self.report(Level::Warn, text);
                }
                self.overlay = Some(Overlay::Dialog(Dialog::Iterate {
                    project: p.id,
                    slug: p.slug.clone(),
                    prompt: Default::default(),
                }));
            }
            Action::DismissNotices => self.notices.clear(),
            Action::Up
            | Action::Down
            | Action::Top
            | Action::Bottom
            | Action::PageUp
            | Action::PageDown => self.move_selection(action),
            Action::Filter => {
                self.focus = Pane::Projects;
                self.projects.filtering = true;
            }
            Action::DeleteProject => {
                let Some(p) = self.projects.selected_project() else {
                    return self.report(Level::Warn, "no project selected to delete");
                };
                self.overlay = Some(Overlay::Dialog(Dialog::ConfirmDelete {
                    project: p.id,
                    slug: p.slug.clone(),
                }));
            }
            Action::Refresh => return vec![Effect::LoadProjects, Effect::LoadJobs],
            Action::ToggleJob => {
                if let Some(job) = self.log.toggle_selected() {
                    return vec![Effect::LoadJobLog(job)];
                }
            }
            Action::CancelJob => {
                let Some(job) = self.log.selected_job() else {
                    return self.report(Level::Warn, "no job selected to cancel (log pane, 4)");
                };
                if job.progress.is_final() {
                    let text = format!("job #{} has already finished", job.id);
                    return self.report(Level::Info, text);
                }
                return vec![Effect::CancelJob(job.id)];
            }
        }
        Vec::new()
    }

    fn move_selection(&mut self, action: Action) {
        let (current, count) = match self.focus {
            Pane::Log => (self.log.selected, self.log.row_count()),
            _ => (self.projects.selected, self.projects.visible().len()),
        };
        let last = count.saturating_sub(1);
        let target = match action {
            Action::Up => current.saturating_sub(1),
            Action::Down => (current + 1).min(last),
            Action::Top => 0,
            Action::Bottom => last,
            Action::PageUp => current.saturating_sub(PAGE),
            _ => (current + PAGE).min(last),
        };
        match self.focus {
            Pane::Log => self.log.select(target),
            _ => self.projects.select(target),
        }
    }
}
