//! Who is using apiforge: session tokens, local sign-in for the embedded mode.
//! (Magic-link sign-in on a shared server builds on the same tables.)

pub mod local_sign_in;
pub mod session;
pub mod session_token;

pub use local_sign_in::local_sign_in;
pub use session::{Session, SessionError};
pub use session_token::SessionToken;
