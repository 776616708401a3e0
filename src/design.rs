//! The API design: the typed intermediate representation between a prompt and the
//! generated project, its validation, and the structural diff between two designs.

pub mod model;

pub use model::*;
