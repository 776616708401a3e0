//! The run loop. Terminal input, engine events and effect results all arrive as
//! [`Message`]s on one channel; every queued message is handled before the next frame
//! is drawn (slumber's biased select); a tick runs only while something moves, so an
//! idle UI uses no CPU. The loop takes its input stream and backend as parameters:
//! tests drive the real loop with scripted keys on a `TestBackend`.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use crossterm::event::Event;
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::buffer::Buffer;
use tokio::sync::mpsc;

use super::effect::{Effect, EffectRunner, SessionSource, sandbox_backend};
use super::keymap::Keymap;
use super::message::Message;
use super::notice::Level;
use super::state::{Defaults, State};
use super::theme::Theme;
use crate::codegen::Framework;
use crate::config::{Config, Dirs};
use crate::pipeline::PipelineEnv;
use crate::provider::ProviderKind;

/// How often spinners and running timers move.
const TICK: Duration = Duration::from_millis(100);

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("the terminal failed: {0}")]
    Terminal(String),
}

pub struct App {
    state: State,
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

    fn handle(&mut self, mut message: Message) {
        if let Message::Connected(connected) = &mut message
            && let Some(handles) = connected.handles.take()
        {
            self.runner.attach(handles);
        }
        for effect in self.state.update(message) {
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
        let frame = terminal
            .draw(|frame| super::view::draw(frame, state, theme))
            .map_err(|e| AppError::Terminal(e.to_string()))?;
        probe(state, frame.buffer);
        Ok(())
    }
}

async fn forward_input<S>(mut input: S, tx: mpsc::UnboundedSender<Message>)
where
    S: Stream<Item = std::io::Result<Event>> + Unpin,
{
    while let Some(event) = input.next().await {
        let message = match event {
            Ok(event) => Message::Input(event),
            Err(e) => Message::EffectFailed {
                what: "read the terminal".into(),
                error: e.to_string(),
                unavailable: false,
            },
        };
        if tx.send(message).is_err() {
            return;
        }
    }
}
