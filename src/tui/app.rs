//! The run loop. Terminal input, engine events and effect results all arrive as
//! [`Message`]s on one channel; every queued message is handled before the next frame
//! is drawn (slumber's biased select); a tick runs only while something moves, so an
//! idle UI uses no CPU. The loop takes its input stream and backend as parameters:
//! tests drive the real loop with scripted keys on a `TestBackend`.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use crossterm::event::{Event, KeyEvent, KeyEventKind};
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::buffer::Buffer;
use tokio::sync::mpsc;

use super::burst::{self, BurstPart};
use super::deployment_refresh::DeploymentRefresh;
use super::editor::{Editor, EditorResult};
use super::effect::{Effect, EffectRunner, SessionSource, sandbox_backend};
use super::keymap::Keymap;
use super::log_pane::JobProgress;
use super::message::Message;
use super::notice::Level;
use super::outcome::Outcome;
use super::pane::Pane;
use super::preview::{Preview, PreviewRequest, PreviewResult};
use super::state::{Defaults, State};
use super::theme::Theme;
use crate::codegen::Framework;
use crate::config::{Config, Dirs};
use crate::engine::JobId;
use crate::pipeline::PipelineEnv;
use crate::provider::ProviderKind;
use uuid::Uuid;

/// How often spinners and running timers move.
const TICK: Duration = Duration::from_millis(100);

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("the terminal failed: {0}")]
    Terminal(String),
}

pub struct App {
    state: State,
    /// The two components keep their own state (a text buffer with its highlight
    /// cache, request forms); `handle` routes keys and results to them.
    editor: Editor,
    preview: Preview,
    /// What the components show: the selected project and its latest version.
    shown: Option<(Uuid, Option<i32>)>,
    /// The save job the editor submitted, until it ends.
    pending_save: Option<JobId>,
    /// Quit was asked once with unsaved edits; asking again quits.
    quit_armed: bool,
    /// When the Deployment tab reloads.
    deployment_refresh: DeploymentRefresh,
    theme: Theme,
    runner: EffectRunner,
    tx: mpsc::UnboundedSender<Message>,
    rx: mpsc::UnboundedReceiver<Message>,
    pending: Vec<Effect>,
}

impl App {
    /// Builds the app from the settings. A broken keymap or theme falls back to the
    /// defaults with an error notice: the UI still opens.
    pub fn new(config: &Config, dirs: &Dirs, source: SessionSource) -> Self {
        let mut problems = Vec::new();
        let keymap = Keymap::load(&dirs.config).unwrap_or_else(|e| {
            problems.push(format!("{e} (using the default keys)"));
            Keymap::defaults()
        });
        let theme = Theme::load(&config.tui.theme, &dirs.config).unwrap_or_else(|e| {
            problems.push(format!("{e} (using the dark theme)"));
            Theme::dark()
        });
        let env = Arc::new(PipelineEnv {
            config: config.clone(),
            dirs: dirs.clone(),
        });
        let defaults = Defaults {
            framework: config
                .codegen
                .framework
                .parse()
                .unwrap_or(Framework::Fastapi),
            provider: config
                .provider
                .default
                .parse()
                .unwrap_or(ProviderKind::Rules),
            sandbox: sandbox_backend(&env).as_str().to_owned(),
        };
        let (mut state, mut pending) = State::new(defaults, keymap, Utc::now());
        for problem in problems {
            pending.extend(state.report(Level::Error, problem));
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let runner = EffectRunner::new(tx.clone(), source, env);
        Self {
            state,
            editor: Editor::new(),
            preview: Preview::new(),
            shown: None,
            pending_save: None,
            quit_armed: false,
            deployment_refresh: DeploymentRefresh::default(),
            theme,
            runner,
            tx,
            rx,
            pending,
        }
    }

    /// An error notice shown as soon as the UI opens.
    pub fn report_at_start(&mut self, problem: String) {
        let effects = self.state.report(Level::Error, problem);
        self.pending.extend(effects);
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// Runs until the user quits; returns the final state. `probe` sees the state
    /// and the screen after every frame (tests and benchmarks watch through it).
    pub async fn run<B, S>(
        mut self,
        terminal: &mut Terminal<B>,
        input: S,
        mut probe: impl FnMut(&State, &Buffer),
    ) -> Result<State, AppError>
    where
        B: Backend,
        S: Stream<Item = std::io::Result<Event>> + Send + Unpin + 'static,
    {
        let input_task = tokio::spawn(forward_input(input, self.tx.clone()));
        for effect in std::mem::take(&mut self.pending) {
            self.runner.apply(effect);
        }
        let result = self.run_loop(terminal, &mut probe).await;
        input_task.abort();
        self.runner.shutdown().await;
        result.map(|()| self.state)
    }

    async fn run_loop<B: Backend>(
        &mut self,
        terminal: &mut Terminal<B>,
        probe: &mut impl FnMut(&State, &Buffer),
    ) -> Result<(), AppError> {
        let mut ticker = tokio::time::interval(TICK);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        self.draw(terminal, probe)?;
        loop {
            let busy = self.state.is_busy();
            let message = tokio::select! {
                biased;
                message = self.rx.recv() => match message {
                    Some(m) => m,
                    None => return Ok(()),
                },
                _ = ticker.tick(), if busy => Message::Tick(Utc::now()),
            };
            self.handle(message);
            while let Ok(message) = self.rx.try_recv() {
                self.handle(message);
            }
            if self.state.quit {
                return Ok(());
            }
            self.draw(terminal, probe)?;
        }
    }

    /// Lets the clipboard effect write OSC 52 to the real terminal.
    pub fn with_terminal_clipboard(mut self) -> Self {
        self.runner = self.runner.with_terminal_clipboard();
        self
    }

    fn handle(&mut self, mut message: Message) {
        if let Message::Connected(connected) = &mut message
            && let Some(handles) = connected.handles.take()
        {
            self.runner.attach(handles);
        }
        let effects = match message {
            Message::Burst(events) => return self.burst(events),
            Message::Paste(text) if self.capturing_component().is_some() => {
                self.component_paste(&text);
                Vec::new()
            }
            Message::Input(Event::Key(key)) if self.component_takes(&key) => {
                match self.component_key(key) {
                    Some(effects) => effects,
                    None => self.state.update(message),
                }
            }
            Message::Editor(result) => {
                if let EditorResult::SaveSubmitted { job, .. } = &result {
                    self.pending_save = Some(*job);
                }
                self.editor.apply(result.clone());
                self.state.update(Message::Editor(result))
            }
            Message::Preview(result) => {
                let mut effects = Vec::new();
                match &result {
                    PreviewResult::DeploymentLoaded { .. } => self.deployment_refresh.loaded(),
                    // The Endpoints tab needs the deployment's URL to send there (`t`).
                    PreviewResult::Loaded(loaded) => {
                        effects.push(Effect::Preview(PreviewRequest::LoadDeployment {
                            project: loaded.project,
                        }));
                    }
                    _ => {}
                }
                self.preview.apply(result.clone());
                effects.extend(self.state.update(Message::Preview(result)));
                effects
            }
            Message::DeploymentRefreshDue => self
                .deployment_refresh
                .beat(self.preview.deployment_visible())
                .map(Effect::Preview)
                .into_iter()
                .collect(),
            other => self.state.update(other),
        };
        self.settle(effects);
    }

    /// Performs a message's effects and keeps the components in step with the state.
    fn settle(&mut self, effects: Vec<Effect>) {
        for effect in effects {
            self.runner.apply(effect);
        }
        self.guard_quit();
        self.follow_save();
        self.follow_selection();
        self.follow_deploy_jobs();
        self.keep_deployment_fresh();
    }

    /// Reloads the shown project's deployment when a deploy, rollback or undeploy job
    /// ends (the log pane sees every job of the user).
    fn follow_deploy_jobs(&mut self) {
        let jobs = self
            .state
            .log
            .jobs
            .iter()
            .map(|j| (j.id, j.kind.as_str(), j.progress.is_final()));
        if self.deployment_refresh.jobs_ended(jobs)
            && let Some(project) = self.preview.project()
        {
            self.runner
                .apply(Effect::Preview(PreviewRequest::LoadDeployment { project }));
        }
    }

    /// While the Deployment tab is visible one timer beats every 2 s; when it is
    /// hidden the last beat finds nothing to do and no new timer starts (idle CPU ≈ 0).
    fn keep_deployment_fresh(&mut self) {
        if let Some(timer) = self
            .deployment_refresh
            .schedule(self.preview.deployment_visible())
        {
            self.runner.apply(timer);
        }
    }

    /// Routes a burst ([`Message::Burst`]). While nothing takes text, a held key or a
    /// few keys run one at a time until one of them opens something that does (the
    /// state decides; a longer burst is dropped with a notice). From then on the burst
    /// belongs to what takes text: the state's overlay or filter, or the editing
    /// component, whose text arrives as one paste and whose other keys as keys;
    /// once it stops taking text the rest is dropped, so no key of a paste reaches the
    /// keymap after a dialog or a field closes.
    fn burst(&mut self, events: Vec<Event>) {
        let mut events = events.into_iter();
        if self.state.key_owner().is_none() && self.capturing_component().is_none() {
            let rest: Vec<Event> = events.collect();
            if !burst::runs_on_keymap(&rest) {
                let effects = self.state.update(Message::Burst(rest));
                return self.settle(effects);
            }
            events = rest.into_iter();
            while self.state.key_owner().is_none() && self.capturing_component().is_none() {
                let Some(event) = events.next() else {
                    return;
                };
                self.handle(Message::Input(event));
            }
        }
        let rest: Vec<Event> = events.collect();
        if rest.is_empty() {
            return;
        }
        let Some(component) = self.capturing_component() else {
            let effects = self.state.update(Message::Burst(rest));
            return self.settle(effects);
        };
        let mut parts = burst::parts(rest).into_iter();
        for part in parts.by_ref() {
            match part {
                BurstPart::Text(text) => self.component_paste(&text),
                BurstPart::Event(event) => self.handle(Message::Input(event)),
            }
            if self.capturing_component() != Some(component) || self.state.key_owner().is_some() {
                break;
            }
        }
        let dropped = burst::keys_in(parts);
        if dropped > 0 {
            let effects = self.state.report(
                Level::Warn,
                format!(
                    "ignored {dropped} keys that arrived together with the one that ended editing"
                ),
            );
            self.settle(effects);
        }
    }

    /// The component that takes text now (the editor editing a file or typing a
    /// search, the preview editing a request field), when no overlay or filter is
    /// over it.
    fn capturing_component(&self) -> Option<Pane> {
        if self.state.key_owner().is_some() {
            return None;
        }
        match self.state.focus {
            Pane::Editor if self.editor.captures_input() => Some(Pane::Editor),
            Pane::Preview if self.preview.captures_input() => Some(Pane::Preview),
            _ => None,
        }
    }

    /// Pasted text into the component that takes text.
    fn component_paste(&mut self, text: &str) {
        match self.capturing_component() {
            Some(Pane::Editor) => {
                self.editor.paste(text);
            }
            Some(Pane::Preview) => {
                self.preview.paste(text);
            }
            _ => {
                let effects = self.state.update(Message::Paste(text.to_owned()));
                self.settle(effects);
            }
        }
    }

    /// Whether a key goes to the focused component first: no overlay or filter is
    /// open, and the editor or preview has the focus.
    fn component_takes(&self, key: &KeyEvent) -> bool {
        key.kind != KeyEventKind::Release
            && self.state.overlay.is_none()
            && !self.state.projects.filtering
            && matches!(self.state.focus, Pane::Editor | Pane::Preview)
    }

    /// Offers a key to the focused component: `None` when it ignored the key (the
    /// keymap handles it), else the effect its request needs, if any.
    fn component_key(&mut self, key: KeyEvent) -> Option<Vec<Effect>> {
        let outcome = match self.state.focus {
            Pane::Editor => match self.editor.handle_key(key) {
                Outcome::Request(r) => Outcome::Request(Effect::Editor(r)),
                Outcome::Consumed => Outcome::Consumed,
                Outcome::Ignored => Outcome::Ignored,
            },
            _ => match self.preview.handle_key(key) {
                Outcome::Request(r) => Outcome::Request(Effect::Preview(r)),
                Outcome::Consumed => Outcome::Consumed,
                Outcome::Ignored => Outcome::Ignored,
            },
        };
        match outcome {
            Outcome::Ignored => None,
            Outcome::Consumed => Some(Vec::new()),
            Outcome::Request(effect) => Some(vec![effect]),
        }
    }

    /// Unsaved edits are never lost by quitting: the first quit only warns.
    fn guard_quit(&mut self) {
        if !self.state.quit || !self.editor.has_unsaved() || self.quit_armed {
            return;
        }
        self.state.quit = false;
        self.quit_armed = true;
        let files = self.editor.dirty_files().join(", ");
        let effects = self.state.report(
            Level::Warn,
            format!("unsaved edits in {files}: Ctrl-S in the editor saves them; quit again to discard them"),
        );
        for effect in effects {
            self.runner.apply(effect);
        }
    }

    /// Tells the editor how its save job ended, once the log pane knows.
    fn follow_save(&mut self) {
        let Some(job) = self.pending_save else {
            return;
        };
        let Some(row) = self.state.log.job(job) else {
            return;
        };
        let result = match (&row.progress, row.version) {
            (JobProgress::Succeeded { .. }, Some(version)) => EditorResult::Saved { job, version },
            (JobProgress::Failed { error, .. }, _) => EditorResult::SaveFailed {
                message: error.clone(),
            },
            (JobProgress::Cancelled, _) => EditorResult::SaveFailed {
                message: format!("the save job #{job} was cancelled; your edits are still here"),
            },
            _ => return,
        };
        self.pending_save = None;
        self.quit_armed = false;
        self.editor.apply(result.clone());
        for effect in self.state.update(Message::Editor(result)) {
            self.runner.apply(effect);
        }
    }

    /// Shows the selected project in the editor and preview when it (or its latest
    /// version) changed. Unsaved edits keep the editor on their project.
    fn follow_selection(&mut self) {
        let selected = self
            .state
            .projects
            .selected_project()
            .map(|p| (p.id, p.latest_version));
        if selected == self.shown {
            return;
        }
        self.shown = selected;
        let mut effects = Vec::new();
        match self.state.projects.selected_project() {
            Some(project) => {
                effects.extend(self.preview.show(project).map(Effect::Preview));
                let same = self.editor.project() == Some(project.id)
                    && self.editor.version() == project.latest_version;
                if !same {
                    if self.editor.has_unsaved() {
                        if self.editor.project() != Some(project.id) {
                            let files = self.editor.dirty_files().join(", ");
                            effects.extend(self.state.report(
                                Level::Warn,
                                format!("the editor keeps your unsaved edits ({files}); save them with Ctrl-S to edit {}", project.slug),
                            ));
                        }
                    } else {
                        effects.extend(self.editor.load(project).map(Effect::Editor));
                    }
                }
            }
            None => effects.extend(self.preview.clear().map(Effect::Preview)),
        }
        for effect in effects {
            self.runner.apply(effect);
        }
    }

    fn draw<B: Backend>(
        &mut self,
        terminal: &mut Terminal<B>,
        probe: &mut impl FnMut(&State, &Buffer),
    ) -> Result<(), AppError> {
        let state = &self.state;
        let theme = &self.theme;
        let (editor, preview) = (&mut self.editor, &mut self.preview);
        let frame = terminal
            .draw(|frame| super::view::draw(frame, state, theme, editor, preview))
            .map_err(|e| AppError::Terminal(e.to_string()))?;
        probe(state, frame.buffer);
        Ok(())
    }
}

/// The most events one burst holds; a longer run of queued events goes on as the
/// next burst (memory stays bounded whatever the terminal sends).
const MAX_BURST: usize = 1 << 16;

/// Reads the terminal in bursts: it waits for an event, then takes every event that
/// is ready without waiting (what crossterm has already read from the tty), and
/// sends them as one message — a 10 KB paste is one message, so one frame. A lone
/// event goes as `Input` (or `Paste`), several as `Burst`.
async fn forward_input<S>(mut input: S, tx: mpsc::UnboundedSender<Message>)
where
    S: Stream<Item = std::io::Result<Event>> + Unpin,
{
    loop {
        let (read, ended) = std::future::poll_fn(|cx| poll_burst(&mut input, cx)).await;
        let mut events = Vec::new();
        let mut messages = Vec::new();
        for item in read {
            match item {
                Ok(event) => events.push(event),
                Err(e) => messages.push(Message::EffectFailed {
                    what: "read the terminal".into(),
                    error: e.to_string(),
                    unavailable: false,
                }),
            }
        }
        let pastes = events
            .iter()
            .filter(|e| matches!(e, Event::Paste(_)))
            .count();
        if burst::key_count(&events) + pastes >= 2 {
            messages.push(Message::Burst(events));
        } else {
            messages.extend(events.into_iter().map(|event| match event {
                Event::Paste(text) => Message::Paste(text),
                other => Message::Input(other),
            }));
        }
        for message in messages {
            if tx.send(message).is_err() {
                return;
            }
        }
        if ended {
            return;
        }
    }
}

/// One event (waiting for it) and all that are ready behind it; `true` when the
/// stream ended. Polling with the task's own context keeps its wake-up registered
/// when the stream runs dry.
fn poll_burst<S>(
    input: &mut S,
    cx: &mut std::task::Context<'_>,
) -> std::task::Poll<(Vec<std::io::Result<Event>>, bool)>
where
    S: Stream<Item = std::io::Result<Event>> + Unpin,
{
    use std::task::Poll;
    let mut read = Vec::new();
    loop {
        match input.poll_next_unpin(cx) {
            Poll::Ready(Some(item)) => {
                read.push(item);
                if read.len() >= MAX_BURST {
                    return Poll::Ready((read, false));
                }
            }
            Poll::Ready(None) => return Poll::Ready((read, true)),
            Poll::Pending if read.is_empty() => return Poll::Pending,
            Poll::Pending => return Poll::Ready((read, false)),
        }
    }
}
