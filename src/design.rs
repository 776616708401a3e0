//! The API design: the typed intermediate representation between a prompt and the
//! generated project, its validation, and the structural diff between two designs.

pub mod diff;
pub mod model;
pub mod review;
pub mod validate;

pub use diff::{ChangeKind, DesignChange, DesignDiff, diff};
pub use model::*;
pub use review::{Review, Warning, review};
pub use validate::{DesignErrors, DesignIssue, validate};
