//! The terminal front end (DESIGN §7). The only module that names ratatui or
//! crossterm; it drives the same services as the headless commands.
//!
//! Elm-style: [`message::Message`]s from the terminal, the engine and finished
//! effects go to [`state::State::update`], which returns [`effect::Effect`]s that
//! [`effect::EffectRunner`] performs; [`view::draw`] renders the state.

pub mod app;
pub mod burst;
pub mod command_palette;
mod deployment_refresh;
pub mod design_preview;
pub mod dialog;
pub mod editor;
pub mod effect;
#[cfg(test)]
mod fixture;
pub mod help_overlay;
pub mod highlight;
pub mod keymap;
pub mod log_pane;
pub mod message;
pub mod notice;
pub mod outcome;
pub mod pane;
pub mod preview;
pub mod projects_pane;
pub mod shown_project;
pub mod state;
pub mod status_bar;
pub mod text_field;
pub mod theme;
pub mod view;

use std::io::IsTerminal;

use crate::config::{Config, Dirs};

#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    #[error(
        "the apiforge UI needs a terminal, and standard input is not one; run it in a terminal, or use the headless commands (apiforge --help)"
    )]
    NoTerminal,
    #[error("cannot set up the terminal: {0}")]
    Setup(std::io::Error),
    #[error(transparent)]
    App(#[from] app::AppError),
}

/// Opens the UI on this process's terminal and runs it until the user quits. The
/// terminal is restored on every way out: return, error and panic (ratatui's panic
/// hook, with bracketed paste switched off before it).
/// `problems` are shown as error notices at start (a broken config file).
pub async fn run(config: &Config, dirs: &Dirs, problems: Vec<String>) -> Result<(), TuiError> {
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        return Err(TuiError::NoTerminal);
    }
    let mut app =
        app::App::new(config, dirs, effect::SessionSource::Configured).with_terminal_clipboard();
    for problem in problems {
        app.report_at_start(problem);
    }
    let mut session = TerminalSession::start().map_err(TuiError::Setup)?;
    let result = app
        .run(
            &mut session.terminal,
            crossterm::event::EventStream::new(),
            |_, _| {},
        )
        .await;
    drop(session);
    result.map(|_| ()).map_err(TuiError::from)
}

/// The terminal while the UI owns it: raw mode, the alternate screen and bracketed
/// paste (the terminal marks pasted text, so a paste arrives as one
/// [`message::Message::Paste`] instead of keys that would run as commands). Dropping
/// it gives the terminal back; so does a panic.
struct TerminalSession {
    terminal: ratatui::DefaultTerminal,
}

impl TerminalSession {
    fn start() -> std::io::Result<Self> {
        // ratatui's hook (set by try_init) restores raw mode and the screen; this one
        // runs before it and also turns bracketed paste off, or the shell would get
        // every later paste wrapped in markers.
        let terminal = ratatui::try_init()?;
        let ratatui_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            disable_bracketed_paste();
            ratatui_hook(info);
        }));
        let session = Self { terminal };
        crossterm::execute!(std::io::stdout(), crossterm::event::EnableBracketedPaste)?;
        Ok(session)
    }
}

impl Drop for TerminalSession {
    fn drop(&mut self) {
        disable_bracketed_paste();
        ratatui::restore();
    }
}

fn disable_bracketed_paste() {
    // Nothing more can be done on the way out if the terminal refuses.
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableBracketedPaste);
}
