//! Deployments as rows of the `deployments` table. The daemon's worker writes them
//! with the owner role (acting for the job's owner, who is passed explicitly); clients
//! read their own through row-level security.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

/// One deployment with its project's slug and version number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct DeploymentRow {
    pub id: Uuid,
    pub project_id: Uuid,
    pub project: String,
    pub owner_id: Uuid,
    pub version_id: Uuid,
    pub version: i32,
    /// `starting`, `live`, `draining`, `stopped` or `failed`.
    pub state: String,
    pub target: String,
    /// `/p/<owner>/<project>/`.
    pub route: String,
    /// What the instance needs besides the version's files: `{"env": {…}}` (the
    /// API's credentials, kept across versions), and `{"error": …}` when it failed.
    pub instance: Option<Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const SELECT: &str = "SELECT d.id, d.project_id, p.slug AS project, d.owner_id, d.version_id,
        v.number AS version, d.state, d.target, d.route, d.instance, d.created_at, d.updated_at
    FROM deployments d
    JOIN projects p ON p.id = d.project_id
    JOIN versions v ON v.id = d.version_id";

/// The project's live deployment.
pub async fn live(
    conn: &mut PgConnection,
    project: Uuid,
) -> Result<Option<DeploymentRow>, sqlx::Error> {
    sqlx::query_as::<_, DeploymentRow>(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE d.project_id = $1 AND d.state = 'live'"
    )))
    .bind(project)
    .fetch_optional(conn)
    .await
}

/// The deployment that was live before the current one: the most recently stopped
/// one of another version (only rows that were live ever reach `stopped`).
pub async fn previous(
    conn: &mut PgConnection,
    project: Uuid,
    current_version: Option<Uuid>,
) -> Result<Option<DeploymentRow>, sqlx::Error> {
    sqlx::query_as::<_, DeploymentRow>(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE d.project_id = $1 AND d.state = 'stopped'
           AND d.version_id IS DISTINCT FROM $2
         ORDER BY d.updated_at DESC LIMIT 1"
    )))
    .bind(project)
    .bind(current_version)
    .fetch_optional(conn)
    .await
}

pub async fn get(conn: &mut PgConnection, id: Uuid) -> Result<Option<DeploymentRow>, sqlx::Error> {
    sqlx::query_as::<_, DeploymentRow>(sqlx::AssertSqlSafe(format!("{SELECT} WHERE d.id = $1")))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Every live deployment the connection may see (the daemon: all of them).
pub async fn all_live(conn: &mut PgConnection) -> Result<Vec<DeploymentRow>, sqlx::Error> {
    sqlx::query_as::<_, DeploymentRow>(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE d.state = 'live' ORDER BY d.route"
    )))
    .fetch_all(conn)
    .await
}

/// Per project, its live deployment, else its most recent one.
pub async fn latest_per_project(
    conn: &mut PgConnection,
) -> Result<Vec<DeploymentRow>, sqlx::Error> {
    let distinct = SELECT.replacen("SELECT", "SELECT DISTINCT ON (d.project_id)", 1);
    sqlx::query_as::<_, DeploymentRow>(sqlx::AssertSqlSafe(format!(
        "SELECT * FROM ({distinct}
             ORDER BY d.project_id, (d.state = 'live') DESC, d.updated_at DESC) latest
         ORDER BY route"
    )))
    .fetch_all(conn)
    .await
}

/// Records a new `starting` deployment for `owner`.
pub async fn insert_starting(
    conn: &mut PgConnection,
    owner: Uuid,
    project: Uuid,
    version_id: Uuid,
    route: &str,
    instance: &Value,
    target: &str,
) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO deployments (owner_id, project_id, version_id, state, route, instance, target)
         VALUES ($1, $2, $3, 'starting', $4, $5, $6) RETURNING id",
    )
    .bind(owner)
    .bind(project)
    .bind(version_id)
    .bind(route)
    .bind(instance)
    .bind(target)
    .fetch_one(conn)
    .await
}

/// Marks `id` failed with the reason (kept in `instance.error`).
pub async fn fail(conn: &mut PgConnection, id: Uuid, reason: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE deployments SET state = 'failed', updated_at = now(),
             instance = coalesce(instance, '{}'::jsonb) || jsonb_build_object('error', $2::text)
         WHERE id = $1",
    )
    .bind(id)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(())
}

/// Makes `id` the project's live deployment; the one it replaces becomes `stopped`.
/// Returns the replaced deployment.
pub async fn make_live(
    conn: &mut PgConnection,
    project: Uuid,
    id: Uuid,
) -> Result<Option<Uuid>, sqlx::Error> {
    // The old row first: the unique index allows one live row per project.
    let replaced: Option<Uuid> = sqlx::query_scalar(
        "UPDATE deployments SET state = 'stopped', updated_at = now()
         WHERE project_id = $1 AND state = 'live' AND id <> $2 RETURNING id",
    )
    .bind(project)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    sqlx::query("UPDATE deployments SET state = 'live', updated_at = now() WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE projects SET status = 'deployed', updated_at = now() WHERE id = $1")
        .bind(project)
        .execute(&mut *conn)
        .await?;
    Ok(replaced)
}

/// Stops `id` and gives the project back the status of its latest version's checks.
pub async fn stop(conn: &mut PgConnection, project: Uuid, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE deployments SET state = 'stopped', updated_at = now() WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "UPDATE projects p SET updated_at = now(), status = CASE v.check_status
             WHEN 'passing' THEN 'passing' WHEN 'failing' THEN 'failing' ELSE 'new' END
         FROM versions v
         WHERE p.id = $1 AND v.project_id = p.id AND v.number = p.latest_version",
    )
    .bind(project)
    .execute(conn)
    .await?;
    Ok(())
}

/// The route owner segment's source: the user's OS name or e-mail.
pub async fn owner_names(
    conn: &mut PgConnection,
    owner: Uuid,
) -> Result<(Option<String>, String), sqlx::Error> {
    sqlx::query_as("SELECT os_user, email FROM users WHERE id = $1")
        .bind(owner)
        .fetch_one(conn)
        .await
}
