//! Queries about the signed-in user.

use crate::auth::SessionToken;
use crate::auth::local_sign_in::Identity;

use super::{Db, DbError};

/// The user the token belongs to, or `None` when the session is not live. Goes
/// through the client role: the lookup happens inside Postgres.
pub async fn whoami(db: &Db, token: &SessionToken) -> Result<Option<Identity>, DbError> {
    let mut tx = db.begin_as(token).await?;
    let identity = sqlx::query_as::<_, Identity>(
        "SELECT id, email, display_name FROM users WHERE id = (SELECT apiforge_current_user())",
    )
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(identity)
}
