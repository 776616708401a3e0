//! Embedded mode: the local OS user is signed in automatically. The raw token lives in
//! `<data dir>/session-token` (mode 0600); the database holds only its hash.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use serde::Serialize;
use uuid::Uuid;

use super::SessionToken;
use crate::db::{Db, DbError};

const TOKEN_FILE: &str = "session-token";

/// Who a session belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Identity {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
}

/// Returns a live session for the local OS user, reusing the stored token while it is
/// valid and creating the user and a new session otherwise.
pub async fn local_sign_in(
    db: &Db,
    data_dir: &Path,
    session_days: u64,
) -> Result<(SessionToken, Identity), DbError> {
    let path = data_dir.join(TOKEN_FILE);
    if let Some(token) = fs::read_to_string(&path)
        .ok()
        .and_then(|t| SessionToken::parse(&t))
        && let Some(identity) = crate::db::users::whoami(db, &token).await?
    {
        return Ok((token, identity));
    }
    let os_user = nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| format!("uid{}", nix::unistd::getuid()));
    let host = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    let email = format!("{os_user}@{host}")
        .to_lowercase()
        .replace(char::is_whitespace, "");
    let token = SessionToken::generate();
    let owner = db.owner()?;
    let mut tx = owner.begin().await?;
    // Several processes may sign the same person in at once; serialise them so the
    // user row is created once (it has two unique keys, email and os_user).
    sqlx::query("SELECT pg_advisory_xact_lock(7270963, hashtext($1))")
        .bind(&os_user)
        .execute(&mut *tx)
        .await?;
    let existing: Option<Uuid> = sqlx::query_scalar("SELECT id FROM users WHERE os_user = $1")
        .bind(&os_user)
        .fetch_optional(&mut *tx)
        .await?;
    let user_id = match existing {
        Some(id) => id,
        None => {
            sqlx::query_scalar(
                "INSERT INTO users (email, display_name, os_user) VALUES ($1, $2, $2)
                 ON CONFLICT (email) DO UPDATE SET os_user = EXCLUDED.os_user
                 RETURNING id",
            )
            .bind(&email)
            .bind(&os_user)
            .fetch_one(&mut *tx)
            .await?
        }
    };
    sqlx::query(
        "INSERT INTO sessions (user_id, token_hash, kind, expires_at)
         VALUES ($1, $2, 'local', now() + make_interval(days => $3))",
    )
    .bind(user_id)
    .bind(token.hash())
    .bind(i32::try_from(session_days.clamp(1, 3650)).unwrap_or(30))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    write_private(&path, token.expose()).map_err(|source| DbError::Io {
        what: format!("cannot store the session token in {}", path.display()),
        source,
    })?;
    let identity = crate::db::users::whoami(db, &token)
        .await?
        .ok_or(DbError::NotSignedIn)?;
    Ok((token, identity))
}

/// Writes `contents` to `path` readable by its owner only, replacing it atomically.
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()?;
    fs::rename(&tmp, path)
}
