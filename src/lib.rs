//! apiforge: turn a plain-language idea into a tested, deployed REST API.
//!
//! The binary (`src/main.rs`) only parses the command line and dispatches to [`cli`];
//! every service lives here so the TUI, the headless commands and the tests share it.

pub mod auth;
pub mod cli;
pub mod codegen;
pub mod config;
pub mod db;
pub mod deploy;
pub mod design;
pub mod doctor;
pub mod engine;
pub mod pipeline;
pub mod provider;
pub mod runtimes;
pub mod sandbox;
pub mod telemetry;
pub mod templates;
pub mod tui;
pub mod verify;
pub mod versions;
