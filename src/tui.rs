//! The terminal front end (DESIGN §7). The only module that names ratatui or
//! crossterm; it drives the same services as the headless commands.

pub mod editor;
pub mod highlight;
pub mod outcome;
pub mod preview;
pub mod theme;
