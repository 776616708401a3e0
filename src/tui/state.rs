//! The UI's state and its reducer. `update` is the only code that changes state; it
//! does no I/O and returns the effects to perform, so it is tested without a terminal
//! or a database.

use std::time::Duration;

use chrono::{DateTime, Utc};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind};

use super::burst::{self, BurstPart};
use super::command_palette::{CommandPalette, PaletteOutcome};
use super::design_preview::{DEBOUNCE, DesignPreview};
use super::dialog::{Dialog, DialogOutcome, IterateBase};
use super::editor::EditorResult;
use super::effect::Effect;
use super::help_overlay::HelpOverlay;
use super::keymap::{Action, Keymap, Scope};
use super::log_pane::{EventOutcome, JobProgress, LogPane};
use super::message::Message;
use super::notice::{Level, Notices};
use super::pane::Pane;
use super::preview::PreviewResult;
use super::projects_pane::ProjectsPane;
use crate::codegen::Framework;
use crate::deploy::DeployTarget;
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

/// Who takes keys before the keymap ([`State::key_owner`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOwner {
    Help,
    Palette,
    Dialog,
    Filter,
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
    /// The notice that says the database is down, taken back when it returns.
    pub outage_notice: Option<u64>,
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
            outage_notice: None,
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
            Message::Input(Event::Paste(text)) | Message::Paste(text) => self.paste(&text),
            Message::Burst(events) => self.burst(events),
            // Resizes only need a redraw, which follows every message.
            Message::Input(_) => Vec::new(),
            Message::DesignReadDue { generation } => self.read_design_if_current(generation),
            Message::DesignRead {
                generation,
                prompt,
                outcome,
            } => {
                // A reading for text typed over since (or of a closed dialog) is
                // dropped.
                if let Some(Overlay::Dialog(dialog)) = self.overlay.as_mut()
                    && dialog.prompt() == Some(prompt.as_str())
                    && let Some(preview) = dialog.preview_mut()
                {
                    preview.arrived(generation, outcome);
                }
                Vec::new()
            }
            Message::IterateBaseLoaded {
                project: loaded,
                version,
                design,
            } => {
                let Some(Overlay::Dialog(dialog)) = self.overlay.as_mut() else {
                    return Vec::new();
                };
                let Dialog::Iterate {
                    project,
                    base,
                    preview,
                    prompt,
                    ..
                } = dialog
                else {
                    return Vec::new();
                };
                if *project != loaded {
                    return Vec::new();
                }
                *base = Some(IterateBase {
                    version,
                    design: std::sync::Arc::new(design),
                });
                // Text typed while the base loaded is read against it now.
                if prompt.text.trim().is_empty() {
                    Vec::new()
                } else {
                    vec![Effect::ScheduleDesignRead {
                        generation: preview.edited(),
                        after: Duration::ZERO,
                    }]
                }
            }
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
                                    // The deploy gates speak CLI flags; here the way past
                                    // them is D (which asks first).
                                    let gated = row.kind == crate::deploy::DEPLOY
                                        && (error.contains("--force")
                                            || error.contains("--allow-breaking"));
                                    let hint = if gated {
                                        " — press D in the projects pane to deploy it anyway (asks first)"
                                    } else {
                                        ""
                                    };
                                    self.report(Level::Error, format!("{name} failed: {error}{hint}"))
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
            Message::Editor(result) => self.editor_result(result),
            Message::Preview(result) => self.preview_result(result),
            // The app handles the beat itself; the state has nothing to show for it.
            Message::DeploymentRefreshDue => Vec::new(),
        }
    }

    /// The notices an editor result deserves (the editor itself shows its state).
    fn editor_result(&mut self, result: EditorResult) -> Vec<Effect> {
        match result {
            EditorResult::Loaded { .. } => Vec::new(),
            EditorResult::LoadFailed { message, .. } => {
                self.report(Level::Error, format!("cannot open the files: {message}"))
            }
            EditorResult::SaveSubmitted { job, warning } => {
                let mut effects = self.report(
                    Level::Info,
                    format!("saving as a new version and testing it (job #{job})…"),
                );
                if let Some(warning) = warning {
                    effects.extend(self.report(Level::Warn, warning));
                }
                effects
            }
            EditorResult::SaveFailed { message } => {
                self.report(Level::Error, format!("cannot save: {message}"))
            }
            EditorResult::Saved { version, .. } => {
                self.report(Level::Info, format!("saved as v{version}"))
            }
        }
    }

    /// Notices for a preview result; a copied curl goes to the clipboard, a restore
    /// reloads the projects (the restored version is the new latest).
    fn preview_result(&mut self, result: PreviewResult) -> Vec<Effect> {
        // The Deployment tab reloads every 2 s: a lasting failure is one notice, not one
        // per reload.
        if let PreviewResult::DeploymentLoaded {
            deployment: Err(error),
            ..
        } = &result
            && self.notices.headline().is_some_and(|n| n.text == *error)
        {
            return Vec::new();
        }
        if let Some(error) = result.error() {
            return self.report(Level::Error, error.to_owned());
        }
        match result {
            PreviewResult::Copied { copy: Ok(copy), .. } => {
                let mut effects = vec![Effect::Clipboard(copy.osc52)];
                effects.extend(
                    self.report(Level::Info, "curl command copied to the clipboard (OSC 52)"),
                );
                effects
            }
            PreviewResult::Restored {
                from,
                restored: Ok(version),
                ..
            } => {
                let mut effects = self.report(
                    Level::Info,
                    format!("v{from} restored as v{}", version.number),
                );
                effects.push(Effect::LoadProjects);
                effects
            }
            _ => Vec::new(),
        }
    }

    /// A load succeeded: when the database had been down, say it is back.
    fn database_answered(&mut self) -> Vec<Effect> {
        if matches!(self.db, DbHealth::Down { .. }) {
            self.db = DbHealth::Up;
            if let Some(id) = self.outage_notice.take() {
                self.notices.expire(id);
            }
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
            _ => {
                let effects = self.report(
                    Level::Error,
                    format!("{error} — retrying until the database is back"),
                );
                self.outage_notice = self.notices.items.last().map(|n| n.id);
                (effects, 0)
            }
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

    /// Who takes keys before the keymap, if anyone.
    pub fn key_owner(&self) -> Option<KeyOwner> {
        match &self.overlay {
            Some(Overlay::Help(_)) => Some(KeyOwner::Help),
            Some(Overlay::Palette(_)) => Some(KeyOwner::Palette),
            Some(Overlay::Dialog(_)) => Some(KeyOwner::Dialog),
            None if self.focus == Pane::Projects && self.projects.filtering => {
                Some(KeyOwner::Filter)
            }
            None => None,
        }
    }

    /// Pasted text goes whole into the text field that has the focus and never
    /// becomes keys: where nothing takes text it is dropped with a notice.
    fn paste(&mut self, text: &str) -> Vec<Effect> {
        if self.key_owner() == Some(KeyOwner::Filter) {
            self.projects.filter.paste(text, false);
            self.projects.select(0);
            return Vec::new();
        }
        let mut preview = Vec::new();
        let ignored = match self.overlay.as_mut() {
            Some(Overlay::Dialog(dialog)) => {
                let before = dialog.prompt().map(str::to_owned);
                let took = dialog.paste(text);
                preview = schedule_preview(dialog, before.as_deref());
                (!took).then_some((
                    Level::Warn,
                    "the paste was ignored: this question takes y or n, pressed on their own",
                ))
            }
            Some(Overlay::Palette(palette)) => {
                palette.input.paste(text, false);
                palette.selected = 0;
                None
            }
            Some(Overlay::Help(_)) => {
                Some((Level::Info, "the paste was ignored: the help takes no text"))
            }
            None => Some((
                Level::Info,
                "the paste was ignored: nothing here takes text (n opens a new project, g a follow-up prompt)",
            )),
        };
        match ignored {
            Some((level, why)) => self.report(level, why),
            None => preview,
        }
    }

    /// Events read in one go ([`Message::Burst`]). While an overlay or the filter
    /// has the keys, the burst is theirs: its text arrives as one paste (so an Enter
    /// in it is a line break, never a submit) and the other keys as keys; once the
    /// owner closes, the rest is dropped. On the keymap only a repeated key runs.
    fn burst(&mut self, events: Vec<Event>) -> Vec<Effect> {
        let mut effects = Vec::new();
        let mut events = events.into_iter();
        if self.key_owner().is_none() {
            let rest: Vec<Event> = events.collect();
            if !burst::runs_on_keymap(&rest) {
                return self.report(
                    Level::Warn,
                    format!(
                        "ignored {} keys that arrived at once (a paste?): open a dialog (n, g) to paste a prompt",
                        burst::key_count(&rest)
                    ),
                );
            }
            events = rest.into_iter();
            // Key by key until one opens something that takes text: the rest is its.
            while self.key_owner().is_none() {
                let Some(event) = events.next() else {
                    return effects;
                };
                effects.extend(self.update(Message::Input(event)));
            }
        }
        effects.extend(self.owned_burst(events.collect()));
        effects
    }

    /// The part of a burst that arrived while an overlay or the filter has the keys.
    fn owned_burst(&mut self, events: Vec<Event>) -> Vec<Effect> {
        let mut effects = Vec::new();
        let owner = self.key_owner();
        // The help takes no text: a held j/k scrolls it.
        if owner == Some(KeyOwner::Help) && burst::is_repeat(&events) {
            for event in events {
                effects.extend(self.update(Message::Input(event)));
            }
            return effects;
        }
        let mut parts = burst::parts(events).into_iter();
        for part in parts.by_ref() {
            match part {
                BurstPart::Text(text) => effects.extend(self.paste(&text)),
                BurstPart::Event(event) => effects.extend(self.update(Message::Input(event))),
            }
            if self.key_owner() != owner {
                break;
            }
        }
        let dropped = burst::keys_in(parts);
        if dropped > 0 {
            effects.extend(self.report(
                Level::Warn,
                format!("ignored {dropped} keys that arrived together with the one that closed it"),
            ));
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
                    let before = dialog.prompt().map(str::to_owned);
                    let outcome = dialog.handle_key(key);
                    let mut effects = schedule_preview(dialog, before.as_deref());
                    effects.extend(self.dialog_outcome(outcome));
                    effects
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

    /// The debounce ran out: read the prompt unless it was edited again since.
    fn read_design_if_current(&mut self, generation: u64) -> Vec<Effect> {
        let Some(Overlay::Dialog(dialog)) = self.overlay.as_ref() else {
            return Vec::new();
        };
        let (Some(prompt), Some(preview)) = (dialog.prompt(), dialog.preview()) else {
            return Vec::new();
        };
        if preview.generation != generation {
            return Vec::new();
        }
        let base = match dialog {
            Dialog::Iterate { base: Some(b), .. } => Some(b.design.clone()),
            // Nothing to apply a follow-up to yet; the base's arrival reads again.
            Dialog::Iterate { base: None, .. } => return Vec::new(),
            _ => None,
        };
        vec![Effect::ReadDesign {
            generation,
            prompt: prompt.to_owned(),
            base,
        }]
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
                design,
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
                    design,
                });
                effects
            }
            DialogOutcome::Iterate {
                project,
                slug,
                prompt,
                design,
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
                let (design, made_from) = match design {
                    Some((design, version)) => (Some(design), Some(version)),
                    None => (None, None),
                };
                vec![Effect::Iterate {
                    project,
                    prompt,
                    design,
                    made_from,
                }]
            }
            DialogOutcome::Delete { project, slug } => {
                self.overlay = None;
                vec![Effect::DeleteProject { project, slug }]
            }
            DialogOutcome::DeployAnyway { project, slug } => {
                self.overlay = None;
                let mut effects = self.report(Level::Info, format!("deploying {slug} anyway…"));
                effects.push(Effect::Deploy {
                    project,
                    slug,
                    target: DeployTarget::Version(None),
                    force: true,
                });
                effects
            }
            DialogOutcome::Undeploy { project, slug } => {
                self.overlay = None;
                vec![Effect::Undeploy { project, slug }]
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
                let load = p.latest_version.map(|version| Effect::LoadIterateBase {
                    project: p.id,
                    version,
                });
                self.overlay = Some(Overlay::Dialog(Dialog::iterate(p.id, p.slug.clone())));
                return load.into_iter().collect();
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
            Action::Deploy | Action::Rollback => {
                let Some(p) = self.projects.selected_project() else {
                    return self.report(
                        Level::Warn,
                        "select a project to deploy first (projects pane, 1)",
                    );
                };
                if p.latest_version.is_none() {
                    let text = format!("{} has no version to deploy yet", p.slug);
                    return self.report(Level::Warn, text);
                }
                let (project, slug) = (p.id, p.slug.clone());
                let (target, what) = if action == Action::Deploy {
                    (DeployTarget::Version(None), "deploying")
                } else {
                    (DeployTarget::Rollback, "rolling back")
                };
                let mut effects = self.report(Level::Info, format!("{what} {slug}…"));
                effects.push(Effect::Deploy {
                    project,
                    slug,
                    target,
                    force: false,
                });
                return effects;
            }
            Action::DeployAnyway | Action::Undeploy => {
                let Some(p) = self.projects.selected_project() else {
                    return self.report(Level::Warn, "select a project first (projects pane, 1)");
                };
                let (project, slug) = (p.id, p.slug.clone());
                self.overlay = Some(Overlay::Dialog(if action == Action::Undeploy {
                    Dialog::ConfirmUndeploy { project, slug }
                } else {
                    Dialog::ConfirmDeployAnyway { project, slug }
                }));
            }
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

/// After a key in a dialog: when it changed the prompt, the preview waits for the
/// typing to pause ([`DEBOUNCE`]) before reading it; an emptied prompt shows nothing.
fn schedule_preview(dialog: &mut Dialog, before: Option<&str>) -> Vec<Effect> {
    if dialog.prompt() == before {
        return Vec::new();
    }
    let empty = dialog.prompt().is_none_or(|p| p.trim().is_empty());
    let Some(preview) = dialog.preview_mut() else {
        return Vec::new();
    };
    let generation = preview.edited();
    if empty {
        *preview = DesignPreview {
            generation,
            ..DesignPreview::default()
        };
        return Vec::new();
    }
    vec![Effect::ScheduleDesignRead {
        generation,
        after: DEBOUNCE,
    }]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use crossterm::event::{KeyModifiers, MouseEvent, MouseEventKind};

    use super::*;
    use crate::tui::fixture::{self, event, t};
    use crate::tui::message::Connected;
    use crate::tui::text_field::TextField;

    fn key(s: &mut State, code: KeyCode) -> Vec<Effect> {
        s.update(Message::Input(Event::Key(KeyEvent::from(code))))
    }

    fn typed(s: &mut State, text: &str) {
        for c in text.chars() {
            key(s, KeyCode::Char(c));
        }
    }

    fn has_notice(s: &State, level: Level, part: &str) -> bool {
        s.notices
            .items
            .iter()
            .any(|n| n.level == level && n.text.contains(part))
    }

    #[test]
    fn editor_results_become_notices() {
        let mut s = fixture::state();
        let project = uuid::Uuid::nil();
        let effects = s.update(Message::Editor(EditorResult::LoadFailed {
            project,
            version: 2,
            message: "the database is down".into(),
        }));
        assert!(has_notice(
            &s,
            Level::Error,
            "cannot open the files: the database is down"
        ));
        assert!(effects.iter().any(|e| matches!(
            e,
            Effect::Log {
                level: Level::Error,
                ..
            }
        )));

        s.update(Message::Editor(EditorResult::SaveSubmitted {
            job: 7,
            warning: Some("v3 was made after v2".into()),
        }));
        assert!(has_notice(&s, Level::Info, "job #7"));
        assert!(has_notice(&s, Level::Warn, "v3 was made after v2"));

        s.update(Message::Editor(EditorResult::SaveFailed {
            message: "checks crashed".into(),
        }));
        assert!(has_notice(&s, Level::Error, "cannot save: checks crashed"));

        s.update(Message::Editor(EditorResult::Saved { job: 7, version: 4 }));
        assert!(has_notice(&s, Level::Info, "saved as v4"));
        let before = s.notices.items.len();
        s.update(Message::Editor(EditorResult::Loaded {
            project,
            version: 4,
            files: Default::default(),
        }));
        assert_eq!(s.notices.items.len(), before, "a load needs no notice");
    }

    #[test]
    fn preview_results_copy_restore_and_report_errors() {
        let mut s = fixture::state();
        let project = uuid::Uuid::nil();
        let effects = s.update(Message::Preview(PreviewResult::Copied {
            project,
            copy: Ok(crate::tui::preview::CurlCopy {
                command: "curl -sS http://x/books".into(),
                osc52: "\x1b]52;c;Y3VybA==\x07".into(),
            }),
        }));
        assert!(effects.contains(&Effect::Clipboard("\x1b]52;c;Y3VybA==\x07".into())));
        assert!(has_notice(&s, Level::Info, "copied"));

        let effects = s.update(Message::Preview(PreviewResult::Restored {
            project,
            from: 1,
            restored: Ok(crate::versions::RecordedVersion {
                id: uuid::Uuid::nil(),
                number: 5,
            }),
        }));
        assert!(effects.contains(&Effect::LoadProjects));
        assert!(has_notice(&s, Level::Info, "v1 restored as v5"));

        let effects = s.update(Message::Preview(PreviewResult::Sent {
            project,
            response: Err("the server did not start: port in use".into()),
        }));
        assert!(has_notice(&s, Level::Error, "the server did not start"));
        assert!(!effects.contains(&Effect::LoadProjects));
    }

    #[test]
    fn start_connects_and_connected_loads() {
        let (mut s, effects) = State::new(fixture::state().defaults, Keymap::defaults(), t(0));
        assert_eq!(
            effects,
            vec![Effect::Connect {
                attempt: 0,
                after: Duration::ZERO
            }]
        );
        assert!(s.is_busy());
        let effects = s.update(Message::Connected(Connected {
            user: "a@b".into(),
            database: "local".into(),
            local_worker: false,
            handles: None,
        }));
        assert_eq!(effects, vec![Effect::LoadProjects, Effect::LoadJobs]);
        assert_eq!(s.db, DbHealth::Up);
        assert_eq!(s.session.as_ref().unwrap().user, "a@b");
        assert!(!s.is_busy());
    }

    #[test]
    fn a_failed_connect_is_reported_and_retried_with_backoff() {
        let (mut s, _) = State::new(fixture::state().defaults, Keymap::defaults(), t(0));
        let effects = s.update(Message::ConnectFailed {
            attempt: 2,
            error: "no postgres".into(),
        });
        assert!(has_notice(
            &s,
            Level::Error,
            "cannot open the database: no postgres"
        ));
        assert!(effects.contains(&Effect::Connect {
            attempt: 3,
            after: backoff(2)
        }));
        assert!(effects.iter().any(|e| matches!(
            e,
            Effect::Log {
                level: Level::Error,
                ..
            }
        )));
        assert!(
            effects
                .iter()
                .any(|e| matches!(e, Effect::ExpireNotice { .. }))
        );
        assert_eq!(backoff(0), Duration::from_millis(500));
        assert_eq!(backoff(20), Duration::from_secs(30));
        // The next success says so.
        let effects = s.update(Message::Connected(Connected {
            user: "a@b".into(),
            database: "local".into(),
            local_worker: false,
            handles: None,
        }));
        assert!(effects.contains(&Effect::LoadJobs));
        assert!(has_notice(&s, Level::Info, "connected"));
    }

    #[test]
    fn projects_load_keeps_the_selection_and_selects_a_new_project() {
        let mut s = fixture::state();
        key(&mut s, KeyCode::Char('j'));
        assert_eq!(s.projects.selected_project().unwrap().slug, "library");
        let mut list = s.projects.projects.clone();
        list.insert(0, fixture::project(9, "zoo", "new", None, "express"));
        s.update(Message::ProjectsLoaded(list.clone()));
        assert_eq!(s.projects.selected_project().unwrap().slug, "library");
        s.update(Message::JobSubmitted {
            job: 50,
            kind: "generate".into(),
            slug: "newbie".into(),
        });
        list.insert(0, fixture::project(10, "newbie", "new", None, "express"));
        s.update(Message::ProjectsLoaded(list));
        assert_eq!(s.projects.selected_project().unwrap().slug, "newbie");
    }

    #[test]
    fn jobs_load_and_events_drive_the_timeline() {
        let mut s = fixture::state();
        assert_eq!(s.log.jobs.len(), 3);
        assert!(s.log.job(41).unwrap().passed());
        assert!(s.is_busy(), "job 43 runs");
        // Events of a job the pane has not seen add a row and load its record.
        let effects = s.update(Message::JobEvent(event(
            100,
            44,
            0,
            "job_started",
            None,
            "test",
            None,
        )));
        assert_eq!(effects, vec![Effect::LoadJobs]);
        assert_eq!(s.log.job(44).unwrap().kind, "test");
        assert!(matches!(
            s.log.job(44).unwrap().progress,
            JobProgress::Running { .. }
        ));
        let effects = s.update(Message::JobEvent(event(
            101,
            44,
            10,
            "step_started",
            Some("check"),
            "",
            None,
        )));
        assert!(effects.is_empty());
        s.update(Message::JobEvent(event(
            102,
            44,
            20,
            "log",
            Some("check"),
            "tests 3/3",
            None,
        )));
        s.update(Message::JobEvent(event(
            103,
            44,
            1510,
            "step_finished",
            Some("check"),
            "succeeded",
            Some("succeeded"),
        )));
        let job = s.log.job(44).unwrap();
        assert_eq!(job.lines.len(), 1);
        assert_eq!(
            job.steps[0].progress,
            crate::tui::log_pane::StepProgress::Succeeded {
                took: Duration::from_millis(1500)
            }
        );
        let effects = s.update(Message::JobEvent(event(
            104,
            44,
            1600,
            "job_finished",
            None,
            "succeeded",
            Some("succeeded"),
        )));
        assert!(effects.contains(&Effect::LoadProjects) && effects.contains(&Effect::LoadJobs));
        assert!(has_notice(&s, Level::Info, "job #44 test finished"));
        // A failure is an error notice with the engine's message.
        s.update(Message::JobEvent(event(
            105,
            43,
            3000,
            "job_finished",
            None,
            "check: no runtime; run apiforge runtimes install",
            Some("failed"),
        )));
        assert!(has_notice(
            &s,
            Level::Error,
            "job #43 generate failed: check: no runtime; run apiforge runtimes install"
        ));
        assert!(!has_notice(&s, Level::Error, "press D"));
        // A deploy stopped by a gate says how to pass it here.
        s.update(Message::JobEvent(event(
            106,
            50,
            3100,
            "job_started",
            None,
            "deploy",
            None,
        )));
        s.update(Message::JobEvent(event(
            107,
            50,
            3200,
            "job_finished",
            None,
            "v2 has breaking changes against the live v1; deploy anyway with --allow-breaking",
            Some("failed"),
        )));
        assert!(has_notice(&s, Level::Error, "press D in the projects pane"));
        assert!(!s.is_busy());
    }

    #[test]
    fn ticks_move_time_and_spinners() {
        let mut s = fixture::state();
        let before = s.spinner;
        assert!(s.update(Message::Tick(t(9000))).is_empty());
        assert_eq!(s.now, t(9000));
        assert_eq!(s.spinner, before + 1);
    }

    #[test]
    fn a_lost_feed_or_database_retries_until_it_answers() {
        let mut s = fixture::state();
        let effects = s.update(Message::FeedInterrupted("connection reset".into()));
        assert!(matches!(s.db, DbHealth::Down { attempt: 0, .. }));
        assert!(has_notice(
            &s,
            Level::Error,
            "live job updates stopped: connection reset"
        ));
        assert!(effects.contains(&Effect::ScheduleReload {
            attempt: 0,
            after: backoff(0)
        }));
        // More failures while down: logged, no second reload, no notice flood.
        let notices = s.notices.items.len();
        let effects = s.update(Message::EffectFailed {
            what: "load your jobs".into(),
            error: "pool timed out".into(),
            unavailable: true,
        });
        assert!(
            !effects
                .iter()
                .any(|e| matches!(e, Effect::ScheduleReload { .. }))
        );
        assert_eq!(s.notices.items.len(), notices);
        let effects = s.update(Message::Reload { attempt: 1 });
        assert_eq!(effects, vec![Effect::LoadProjects, Effect::LoadJobs]);
        let effects = s.update(Message::EffectFailed {
            what: "load your projects".into(),
            error: "pool timed out".into(),
            unavailable: true,
        });
        assert!(effects.contains(&Effect::ScheduleReload {
            attempt: 2,
            after: backoff(2)
        }));
        s.update(Message::Reload { attempt: 2 });
        s.update(Message::ProjectsLoaded(vec![]));
        assert_eq!(s.db, DbHealth::Up);
        assert!(has_notice(&s, Level::Info, "reachable again"));
        assert!(
            !has_notice(&s, Level::Error, "live job updates stopped"),
            "the outage notice is taken back"
        );
    }

    #[test]
    fn other_failures_are_error_notices() {
        let mut s = fixture::state();
        let effects = s.update(Message::EffectFailed {
            what: "delete bakery".into(),
            error: "permission denied".into(),
            unavailable: false,
        });
        assert_eq!(s.db, DbHealth::Up);
        assert!(has_notice(
            &s,
            Level::Error,
            "cannot delete bakery: permission denied"
        ));
        assert!(effects.iter().any(|e| matches!(e, Effect::Log { level: Level::Error, text } if text.contains("permission denied"))));
    }

    #[test]
    fn job_logs_load_when_a_job_expands() {
        let mut s = fixture::state();
        key(&mut s, KeyCode::Char('4'));
        key(&mut s, KeyCode::Home);
        assert_eq!(key(&mut s, KeyCode::Enter), vec![Effect::LoadJobLog(41)]);
        s.update(Message::JobLogLoaded {
            job: 41,
            events: vec![
                event(1, 41, 0, "log", Some("check"), "tests 24/24", None),
                event(
                    2,
                    41,
                    1,
                    "step_finished",
                    Some("check"),
                    "succeeded",
                    Some("succeeded"),
                ),
            ],
        });
        let job = s.log.job(41).unwrap();
        assert!(job.expanded && job.history_loaded);
        assert_eq!(job.lines.len(), 1);
        // Collapsing and expanding again needs no reload.
        assert!(key(&mut s, KeyCode::Enter).is_empty());
        assert!(key(&mut s, KeyCode::Enter).is_empty());
    }

    #[test]
    fn deploy_rollback_and_undeploy_submit_jobs_the_forced_ones_after_asking() {
        let mut s = fixture::state();
        let deploy = |force, target| Effect::Deploy {
            project: fixture::id(1),
            slug: "bakery".into(),
            target,
            force,
        };
        let effects = key(&mut s, KeyCode::Char('d'));
        assert!(effects.contains(&deploy(false, DeployTarget::Version(None))));
        assert!(has_notice(&s, Level::Info, "deploying bakery"));
        let effects = key(&mut s, KeyCode::Char('r'));
        assert!(effects.contains(&deploy(false, DeployTarget::Rollback)));

        // Past the gates only after a yes.
        assert!(key(&mut s, KeyCode::Char('D')).is_empty());
        assert!(matches!(
            s.overlay,
            Some(Overlay::Dialog(Dialog::ConfirmDeployAnyway { .. }))
        ));
        assert!(key(&mut s, KeyCode::Char('n')).is_empty());
        assert!(s.overlay.is_none());
        key(&mut s, KeyCode::Char('D'));
        let effects = key(&mut s, KeyCode::Char('y'));
        assert!(effects.contains(&deploy(true, DeployTarget::Version(None))));

        key(&mut s, KeyCode::Char('U'));
        assert_eq!(
            key(&mut s, KeyCode::Char('y')),
            vec![Effect::Undeploy {
                project: fixture::id(1),
                slug: "bakery".into()
            }]
        );

        // A project without a version has nothing to deploy.
        s.projects.select(2);
        let effects = key(&mut s, KeyCode::Char('d'));
        assert!(!effects.iter().any(|e| matches!(e, Effect::Deploy { .. })));
        assert!(has_notice(&s, Level::Warn, "no version to deploy"));
    }

    #[test]
    fn deleting_asks_first_and_removes_the_project_jobs() {
        let mut s = fixture::state();
        key(&mut s, KeyCode::Char('x'));
        assert!(matches!(
            s.overlay,
            Some(Overlay::Dialog(Dialog::ConfirmDelete { .. }))
        ));
        assert!(key(&mut s, KeyCode::Char('z')).is_empty());
        assert_eq!(
            key(&mut s, KeyCode::Char('y')),
            vec![Effect::DeleteProject {
                project: fixture::id(1),
                slug: "bakery".into()
            }]
        );
        assert!(s.overlay.is_none());
        let effects = s.update(Message::ProjectDeleted {
            slug: "bakery".into(),
        });
        assert!(effects.contains(&Effect::LoadProjects));
        assert!(s.log.job(41).is_none());
        assert!(has_notice(&s, Level::Info, "deleted bakery"));
        // Esc keeps it.
        key(&mut s, KeyCode::Char('x'));
        assert!(key(&mut s, KeyCode::Esc).is_empty());
        assert!(s.overlay.is_none());
    }

    #[test]
    fn cancel_goes_to_the_selected_running_job() {
        let mut s = fixture::state();
        key(&mut s, KeyCode::Char('4'));
        key(&mut s, KeyCode::End);
        assert_eq!(key(&mut s, KeyCode::Char('c')), vec![Effect::CancelJob(43)]);
        key(&mut s, KeyCode::Home);
        key(&mut s, KeyCode::Char('c'));
        assert!(has_notice(&s, Level::Info, "job #41 has already finished"));
        s.update(Message::CancelAnswered {
            job: 43,
            outcome: "cancelling: it stops at its next step".into(),
        });
        assert!(has_notice(&s, Level::Info, "job #43: cancelling"));
    }

    #[test]
    fn notices_expire_and_dismiss() {
        let mut s = fixture::state();
        let effects = s.report(Level::Warn, "careful");
        let Some(Effect::ExpireNotice { id, after }) = effects.get(1).cloned() else {
            panic!("{effects:?}");
        };
        assert_eq!(after, Level::Warn.lifetime());
        s.update(Message::NoticeExpired(id));
        assert!(!has_notice(&s, Level::Warn, "careful"));
        s.report(Level::Info, "x");
        key(&mut s, KeyCode::Esc);
        assert!(s.notices.items.is_empty());
    }

    #[test]
    fn the_new_project_dialog_submits_prompt_framework_and_provider() {
        let mut s = fixture::state();
        key(&mut s, KeyCode::Char('n'));
        // Keys type into the dialog, not the keymap (q does not quit).
        typed(&mut s, "a quiz API");
        assert!(!s.quit);
        key(&mut s, KeyCode::Tab);
        key(&mut s, KeyCode::Right);
        key(&mut s, KeyCode::Tab);
        key(&mut s, KeyCode::Right);
        let effects = key(&mut s, KeyCode::Enter);
        assert!(effects.contains(&Effect::NewProject {
            prompt: "a quiz API".into(),
            framework: Framework::Express,
            provider: ProviderKind::Openai,
            design: None,
        }));
        assert!(s.overlay.is_none());
        // An empty prompt keeps the dialog open with a hint.
        key(&mut s, KeyCode::Char('n'));
        assert!(
            !key(&mut s, KeyCode::Enter)
                .iter()
                .any(|e| matches!(e, Effect::NewProject { .. }))
        );
        assert!(s.overlay.is_some());
        assert!(has_notice(&s, Level::Warn, "describe the API first"));
    }

    #[test]
    fn iterate_needs_a_project_with_a_version() {
        let mut s = fixture::state();
        key(&mut s, KeyCode::Char('g'));
        typed(&mut s, "add a price");
        assert_eq!(
            key(&mut s, KeyCode::Enter),
            vec![Effect::Iterate {
                project: fixture::id(1),
                prompt: "add a price".into(),
                design: None,
                made_from: None,
            }]
        );
        key(&mut s, KeyCode::End);
        key(&mut s, KeyCode::Char('g'));
        assert!(s.overlay.is_none());
        assert!(has_notice(&s, Level::Warn, "has no version yet"));
    }

    #[test]
    fn filter_palette_help_focus_and_quit() {
        let mut s = fixture::state();
        key(&mut s, KeyCode::Char('/'));
        typed(&mut s, "lib");
        assert_eq!(s.projects.visible().len(), 1);
        assert!(!s.quit, "q-free text typed into the filter");
        key(&mut s, KeyCode::Enter);
        assert_eq!(s.projects.selected_project().unwrap().slug, "library");
        key(&mut s, KeyCode::Char('/'));
        key(&mut s, KeyCode::Esc);
        assert_eq!(s.projects.visible().len(), 3);

        key(&mut s, KeyCode::Char(':'));
        typed(&mut s, "focus log");
        key(&mut s, KeyCode::Enter);
        assert_eq!(s.focus, Pane::Log);
        key(&mut s, KeyCode::Tab);
        assert_eq!(s.focus, Pane::Projects);
        s.update(Message::Input(Event::Key(KeyEvent::new(
            KeyCode::BackTab,
            KeyModifiers::SHIFT,
        ))));
        assert_eq!(s.focus, Pane::Log);
        key(&mut s, KeyCode::Char('2'));
        assert_eq!(s.focus, Pane::Editor);

        key(&mut s, KeyCode::Char('?'));
        assert!(matches!(s.overlay, Some(Overlay::Help(_))));
        key(&mut s, KeyCode::Char('j'));
        assert!(matches!(
            s.overlay,
            Some(Overlay::Help(HelpOverlay { scroll: 1 }))
        ));
        key(&mut s, KeyCode::Esc);
        assert!(s.overlay.is_none());

        // Mouse and resize events only redraw.
        assert!(s.update(Message::Input(Event::Resize(80, 24))).is_empty());
        assert!(
            s.update(Message::Input(Event::Mouse(MouseEvent {
                kind: MouseEventKind::Moved,
                column: 0,
                row: 0,
                modifiers: KeyModifiers::NONE
            })))
            .is_empty()
        );
        key(&mut s, KeyCode::Char('q'));
        assert!(s.quit);
    }

    fn preview(s: &State) -> &crate::tui::design_preview::DesignPreview {
        match &s.overlay {
            Some(Overlay::Dialog(d)) => d.preview().expect("a prompt dialog"),
            other => panic!("no dialog: {other:?}"),
        }
    }

    /// Answers the reducer's read request the way the effect runner does.
    fn answer(s: &mut State, effects: &[Effect]) {
        for e in effects {
            if let Effect::ReadDesign {
                generation,
                prompt,
                base,
            } = e
            {
                let outcome =
                    crate::tui::design_preview::read(*generation, prompt, base.as_deref());
                s.update(Message::DesignRead {
                    generation: *generation,
                    prompt: prompt.clone(),
                    outcome,
                });
            }
        }
    }

    #[test]
    fn the_preview_reads_when_typing_pauses_and_drops_stale_readings() {
        use crate::tui::design_preview::{DEBOUNCE, Reading};
        let mut s = fixture::state();
        key(&mut s, KeyCode::Char('n'));
        assert_eq!(
            key(&mut s, KeyCode::Char('b')),
            vec![Effect::ScheduleDesignRead {
                generation: 1,
                after: DEBOUNCE
            }]
        );
        typed(&mut s, "ooks with title");
        let latest = preview(&s).generation;
        assert_eq!(latest, 16);
        // The first keystroke's timer: typing went on since, so nothing is read.
        assert!(
            s.update(Message::DesignReadDue { generation: 1 })
                .is_empty()
        );
        let read = s.update(Message::DesignReadDue { generation: latest });
        assert_eq!(
            read,
            vec![Effect::ReadDesign {
                generation: latest,
                prompt: "books with title".into(),
                base: None
            }]
        );
        // A slow reading of an older text arrives late: dropped.
        s.update(Message::DesignRead {
            generation: 3,
            prompt: "boo".into(),
            outcome: crate::tui::design_preview::read(3, "boo", None),
        });
        // One for the current generation but another text (a dialog opened before).
        s.update(Message::DesignRead {
            generation: latest,
            prompt: "tags with label".into(),
            outcome: crate::tui::design_preview::read(latest, "tags with label", None),
        });
        assert_eq!(preview(&s).reading, Reading::Empty);
        assert!(preview(&s).pending);
        answer(&mut s, &read);
        let shown = preview(&s).current_design().expect("shown").clone();
        assert!(shown.resource("book").is_some());

        // Enter builds what is shown.
        let effects = key(&mut s, KeyCode::Enter);
        assert!(
            effects.contains(&Effect::NewProject {
                prompt: "books with title".into(),
                framework: Framework::Fastapi,
                provider: ProviderKind::Rules,
                design: Some(shown),
            }),
            "{effects:?}"
        );
    }

    #[test]
    fn typing_after_the_reading_builds_from_the_prompt_not_the_old_preview() {
        let mut s = fixture::state();
        key(&mut s, KeyCode::Char('n'));
        typed(&mut s, "books with title");
        let g = preview(&s).generation;
        let read = s.update(Message::DesignReadDue { generation: g });
        answer(&mut s, &read);
        typed(&mut s, " and author");
        let effects = key(&mut s, KeyCode::Enter);
        assert!(
            effects.iter().any(|e| matches!(
                e,
                Effect::NewProject { design: None, prompt, .. } if prompt == "books with title and author"
            )),
            "{effects:?}"
        );
    }

    #[test]
    fn the_iterate_preview_reads_against_the_latest_design() {
        let mut s = fixture::state();
        let opened = key(&mut s, KeyCode::Char('g'));
        let Some(Effect::LoadIterateBase { project, version }) = opened.first().cloned() else {
            panic!("{opened:?}");
        };
        typed(&mut s, "add a year to books");
        // No base yet: the timer finds nothing to read against.
        let g = preview(&s).generation;
        assert!(
            s.update(Message::DesignReadDue { generation: g })
                .is_empty()
        );
        let base = match crate::tui::design_preview::read(0, "books with title", None) {
            crate::tui::design_preview::ReadOutcome::Read(r) => r.design.clone(),
            other => panic!("{other:?}"),
        };
        let again = s.update(Message::IterateBaseLoaded {
            project,
            version,
            design: base,
        });
        let Some(Effect::ScheduleDesignRead { generation, .. }) = again.first().cloned() else {
            panic!("{again:?}");
        };
        let read = s.update(Message::DesignReadDue { generation });
        assert!(
            matches!(&read[..], [Effect::ReadDesign { base: Some(_), .. }]),
            "{read:?}"
        );
        answer(&mut s, &read);
        let shown = preview(&s).current_design().expect("shown").clone();
        assert!(
            shown
                .resource("book")
                .and_then(|b| b.field("year"))
                .is_some(),
            "{shown:?}"
        );
        assert_eq!(
            key(&mut s, KeyCode::Enter),
            vec![Effect::Iterate {
                project,
                prompt: "add a year to books".into(),
                design: Some(shown),
                made_from: Some(version),
            }]
        );
    }

    fn paste(s: &mut State, text: &str) -> Vec<Effect> {
        s.update(Message::Paste(text.into()))
    }

    fn burst(s: &mut State, events: Vec<Event>) -> Vec<Effect> {
        s.update(Message::Burst(events))
    }

    /// The keys a terminal that does not bracket pastes sends for `text`.
    fn keys_of(text: &str) -> Vec<Event> {
        text.chars()
            .map(|c| {
                Event::Key(KeyEvent::from(match c {
                    '\n' => KeyCode::Enter,
                    c => KeyCode::Char(c),
                }))
            })
            .collect()
    }

    /// Effects that would act: anything but notices and their log lines, and the
    /// design preview's timer (it only reads the prompt again).
    fn actions(effects: &[Effect]) -> Vec<&Effect> {
        effects
            .iter()
            .filter(|e| {
                !matches!(
                    e,
                    Effect::Log { .. }
                        | Effect::ExpireNotice { .. }
                        | Effect::ScheduleDesignRead { .. }
                )
            })
            .collect()
    }

    fn new_project_prompt(s: &State) -> &TextField {
        let Some(Overlay::Dialog(Dialog::NewProject(d))) = &s.overlay else {
            panic!("the new project dialog is closed: {:?}", s.overlay);
        };
        &d.prompt
    }

    const PROMPT: &str = "a shop API: products with name and price\r\nreviews for a product (rating, text)\rdeploy? no. quit? no.\n";

    #[test]
    fn a_paste_goes_whole_into_the_new_project_prompt_keeping_its_lines() {
        let mut s = fixture::state();
        key(&mut s, KeyCode::Char('n'));
        typed(&mut s, "x");
        // Even from another field of the dialog: the prompt is its only text field.
        key(&mut s, KeyCode::Tab);
        let effects = paste(&mut s, PROMPT);
        assert!(actions(&effects).is_empty(), "{effects:?}");
        let prompt = new_project_prompt(&s);
        assert_eq!(
            prompt.text,
            "xa shop API: products with name and price\nreviews for a product (rating, text)\ndeploy? no. quit? no.\n"
        );
        assert_eq!(prompt.cursor, prompt.text.chars().count());
        let Some(Overlay::Dialog(Dialog::NewProject(d))) = &s.overlay else {
            unreachable!()
        };
        assert_eq!(d.field, crate::tui::dialog::NewProjectField::Prompt);
        assert!(!s.quit);
        // Enter pressed on its own submits the whole prompt, trimmed.
        let effects = key(&mut s, KeyCode::Enter);
        assert!(
            effects
                .iter()
                .any(|e| matches!(e, Effect::NewProject { prompt, .. }
            if prompt.ends_with("reviews for a product (rating, text)\ndeploy? no. quit? no.")))
        );
    }

    #[test]
    fn a_paste_goes_into_the_iterate_prompt_the_palette_and_the_filter() {
        let mut s = fixture::state();
        key(&mut s, KeyCode::Char('g'));
        assert!(actions(&paste(&mut s, "add a price\rremove the stock\r")).is_empty());
        let Some(Overlay::Dialog(Dialog::Iterate { prompt, .. })) = &s.overlay else {
            panic!("{:?}", s.overlay);
        };
        assert_eq!(prompt.text, "add a price\nremove the stock\n");
        key(&mut s, KeyCode::Esc);

        // One-line fields join the lines.
        key(&mut s, KeyCode::Char(':'));
        paste(&mut s, "focus\r\nlog\n");
        let Some(Overlay::Palette(palette)) = &s.overlay else {
            panic!("{:?}", s.overlay);
        };
        assert_eq!(palette.input.text, "focus log");
        key(&mut s, KeyCode::Enter);
        assert_eq!(s.focus, Pane::Log);

        key(&mut s, KeyCode::Char('1'));
        key(&mut s, KeyCode::Char('/'));
        paste(&mut s, "lib\n");
        assert_eq!(s.projects.filter.text, "lib");
        assert_eq!(s.projects.visible().len(), 1);
    }

    #[test]
    fn a_paste_never_answers_a_question_or_runs_keys() {
        let mut s = fixture::state();
        key(&mut s, KeyCode::Char('x'));
        let effects = paste(&mut s, "y");
        assert!(actions(&effects).is_empty(), "{effects:?}");
        assert!(matches!(
            s.overlay,
            Some(Overlay::Dialog(Dialog::ConfirmDelete { .. }))
        ));
        assert!(has_notice(&s, Level::Warn, "the paste was ignored"));
        key(&mut s, KeyCode::Esc);

        // With no dialog open the letters are not keys: no deploy (d), rollback (r),
        // dialog (n, g, x) or quit (q).
        let effects = paste(&mut s, "n r d x q g D U\n");
        assert!(actions(&effects).is_empty(), "{effects:?}");
        assert!(s.overlay.is_none() && !s.quit);
        assert!(has_notice(&s, Level::Info, "nothing here takes text"));
        key(&mut s, KeyCode::Char('?'));
        assert!(actions(&paste(&mut s, "q")).is_empty());
        assert!(matches!(s.overlay, Some(Overlay::Help(_))));
    }

    #[test]
    fn a_burst_in_a_dialog_is_pasted_text_whose_enters_never_submit() {
        let mut s = fixture::state();
        key(&mut s, KeyCode::Char('n'));
        let effects = burst(&mut s, keys_of("a shop API\nr d x\nq g n\n"));
        assert!(actions(&effects).is_empty(), "{effects:?}");
        assert_eq!(new_project_prompt(&s).text, "a shop API\nr d x\nq g n\n");

        // Esc inside a burst closes the dialog and the keys after it are dropped.
        let mut events = keys_of("more");
        events.push(Event::Key(KeyEvent::from(KeyCode::Esc)));
        events.extend(keys_of("rdq\nn"));
        let effects = burst(&mut s, events);
        assert!(actions(&effects).is_empty(), "{effects:?}");
        assert!(s.overlay.is_none() && !s.quit);
        assert!(has_notice(&s, Level::Warn, "ignored 5 keys"));

        // A confirmation takes no burst either.
        key(&mut s, KeyCode::Char('x'));
        assert!(actions(&burst(&mut s, keys_of("yy"))).is_empty());
        assert!(s.overlay.is_some());
    }

    #[test]
    fn a_burst_on_the_keymap_runs_only_when_a_person_could_have_typed_it() {
        let mut s = fixture::state();
        // A paste: dropped whole, nothing runs.
        let effects = burst(&mut s, keys_of("rollback and deploy\n"));
        assert!(actions(&effects).is_empty(), "{effects:?}");
        assert!(s.overlay.is_none() && !s.quit);
        assert!(has_notice(
            &s,
            Level::Warn,
            "ignored 20 keys that arrived at once"
        ));
        // A held key runs every time.
        burst(&mut s, keys_of("jj"));
        assert_eq!(s.projects.selected, 2);
        burst(&mut s, keys_of("kkkkk"));
        assert_eq!(s.projects.selected, 0);
        // A few keys pressed quickly run; once one opens a dialog, the rest is its text.
        let effects = burst(&mut s, keys_of("nq\n"));
        assert!(actions(&effects).is_empty(), "{effects:?}");
        assert_eq!(new_project_prompt(&s).text, "q\n");
        assert!(!s.quit);
    }
}
