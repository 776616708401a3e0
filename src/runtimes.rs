//! Prepared, shared, read-only dependency sets for generated projects.

pub mod node;
