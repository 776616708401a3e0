//! apiforge: turn a plain-language idea into a tested, deployed REST API.
//!
//! The binary (`src/main.rs`) only parses the command line and dispatches to [`cli`];
//! every service lives here so the TUI, the headless commands and the tests share it.

pub mod cli;
pub mod codegen;
pub mod config;
pub mod design;
pub mod doctor;
pub mod provider;
pub mod runtimes;
pub mod telemetry;
