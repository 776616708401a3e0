//! An open database plus the signed-in user: what every front end (the headless
//! commands, the TUI) works with.

use crate::auth::SessionToken;
use crate::auth::local_sign_in::Identity;
use crate::config::{Config, Dirs};
use crate::db::{Db, DbError};

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(
        "not signed in to this database: no stored session (a shared server needs a session created by its administrator, or the owner URL)"
    )]
    NoStoredSession,
    #[error("your session has expired or was revoked; sign in again")]
    Expired,
}

/// An open database plus the signed-in user.
#[derive(Debug, Clone)]
pub struct Session {
    pub db: Db,
    pub token: SessionToken,
    pub identity: Identity,
}

impl Session {
    /// Opens the database (starting the embedded cluster if needed, migrating) and
    /// signs in: automatically as the local OS user when this process has the owner
    /// connection (embedded mode), else with the stored token.
    pub async fn open(config: &Config, dirs: &Dirs) -> Result<Self, SessionError> {
        let db = Db::open(config, dirs).await?;
        Self::sign_in(db, config, dirs).await
    }

    /// Signs in on an already open database.
    pub async fn sign_in(db: Db, config: &Config, dirs: &Dirs) -> Result<Self, SessionError> {
        if db.owner().is_ok() {
            let (token, identity) =
                crate::auth::local_sign_in(&db, &dirs.data, config.auth.session_days).await?;
            return Ok(Self {
                db,
                token,
                identity,
            });
        }
        let stored = std::fs::read_to_string(dirs.data.join("session-token"))
            .ok()
            .and_then(|t| SessionToken::parse(&t));
        let Some(token) = stored else {
            return Err(SessionError::NoStoredSession);
        };
        match crate::db::users::whoami(&db, &token).await? {
            Some(identity) => Ok(Self {
                db,
                token,
                identity,
            }),
            None => Err(SessionError::Expired),
        }
    }
}
