//! Queries on projects, always through the client role: row-level security decides
//! which rows exist for the caller.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use super::DbError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ProjectSummary {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub framework: String,
    pub status: String,
    pub latest_version: Option<i32>,
    pub updated_at: DateTime<Utc>,
}

/// The caller's projects, most recently changed first.
pub async fn list(conn: &mut PgConnection) -> Result<Vec<ProjectSummary>, DbError> {
    Ok(sqlx::query_as::<_, ProjectSummary>(
        "SELECT id, slug, name, framework, status, latest_version, updated_at
         FROM projects ORDER BY updated_at DESC, slug",
    )
    .fetch_all(conn)
    .await?)
}

pub struct NewProject<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub framework: &'a str,
    pub provider: &'a str,
}

/// Creates a project owned by the caller (the owner id comes from the session).
pub async fn create(
    conn: &mut PgConnection,
    p: &NewProject<'_>,
) -> Result<ProjectSummary, DbError> {
    Ok(sqlx::query_as::<_, ProjectSummary>(
        "INSERT INTO projects (slug, name, description, framework, provider)
         VALUES ($1, $2, $3, $4, $5)
         RETURNING id, slug, name, framework, status, latest_version, updated_at",
    )
    .bind(p.slug)
    .bind(p.name)
    .bind(p.description)
    .bind(p.framework)
    .bind(p.provider)
    .fetch_one(conn)
    .await?)
}
