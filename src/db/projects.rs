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

/// What a project is doing; the checks of its latest version decide passing/failing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectStatus {
    New,
    Running,
    Passing,
    Failing,
    Deployed,
}

impl ProjectStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectStatus::New => "new",
            ProjectStatus::Running => "running",
            ProjectStatus::Passing => "passing",
            ProjectStatus::Failing => "failing",
            ProjectStatus::Deployed => "deployed",
        }
    }
}

/// A whole project row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Project {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub framework: String,
    pub provider: String,
    pub status: String,
    pub latest_version: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const PROJECT_COLUMNS: &str = "id, owner_id, slug, name, description, framework, provider, \
     status, latest_version, created_at, updated_at";

/// A project to create for `owner` under a slug derived from `name`.
pub struct NamedProject<'a> {
    /// Passed explicitly because the worker's owner transaction has no session; under
    /// the client role row-level security rejects any id but the caller's own.
    pub owner: Uuid,
    pub name: &'a str,
    pub description: &'a str,
    pub framework: crate::codegen::Framework,
    pub provider: &'a str,
}

/// The longest slug the schema accepts.
const SLUG_MAX: usize = 63;

/// A slug for `name`: lower-case ASCII letters and digits, other runs become one `-`,
/// at most 63 characters; `api` when nothing usable is left.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= SLUG_MAX {
            break;
        }
    }
    slug.truncate(SLUG_MAX);
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        "api".to_owned()
    } else {
        slug.to_owned()
    }
}

/// `base` with the suffix `-n`, shortened so the whole stays a valid slug.
fn with_suffix(base: &str, n: u32) -> String {
    let suffix = format!("-{n}");
    let keep = SLUG_MAX.saturating_sub(suffix.len()).min(base.len());
    format!("{}{suffix}", base[..keep].trim_end_matches('-'))
}

/// The trimmed name, or why it cannot be a project's name.
fn valid_name<'a>(p: &NamedProject<'a>) -> Result<&'a str, DbError> {
    let name = p.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(DbError::Invalid(
            "a project name must have 1 to 200 characters".into(),
        ));
    }
    Ok(name)
}

/// Inserts the project under `slug`; `None` when the owner has that slug already.
async fn insert(
    conn: &mut PgConnection,
    p: &NamedProject<'_>,
    name: &str,
    slug: &str,
) -> Result<Option<Project>, DbError> {
    let sql = format!(
        "INSERT INTO projects (owner_id, slug, name, description, framework, provider)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (owner_id, slug) DO NOTHING
         RETURNING {PROJECT_COLUMNS}"
    );
    Ok(sqlx::query_as::<_, Project>(sqlx::AssertSqlSafe(sql))
        .bind(p.owner)
        .bind(slug)
        .bind(name)
        .bind(p.description)
        .bind(p.framework.as_str())
        .bind(p.provider)
        .fetch_optional(&mut *conn)
        .await?)
}

/// Creates a project whose slug is derived from its name and unique among the owner's
/// projects (`bakery-api`, then `bakery-api-2`, …). Safe against concurrent creation:
/// a slug taken meanwhile is skipped, never reused.
pub async fn create_named(
    conn: &mut PgConnection,
    p: &NamedProject<'_>,
) -> Result<Project, DbError> {
    let name = valid_name(p)?;
    let base = slugify(name);
    let taken: Vec<String> = sqlx::query_scalar(
        "SELECT slug FROM projects
         WHERE owner_id = $1 AND (slug = $2 OR slug LIKE $3)",
    )
    .bind(p.owner)
    .bind(&base)
    .bind(format!(
        "{}-%",
        base.replace('_', "\\_").replace('%', "\\%")
    ))
    .fetch_all(&mut *conn)
    .await?;
    let taken: std::collections::HashSet<String> = taken.into_iter().collect();
    // Bounded so a pathological run of conflicts ends with an error, not a loop.
    for n in 1..=1000u32 {
        let slug = if n == 1 {
            base.clone()
        } else {
            with_suffix(&base, n)
        };
        if taken.contains(&slug) {
            continue;
        }
        if let Some(project) = insert(conn, p, name, &slug).await? {
            return Ok(project);
        }
    }
    Err(DbError::Invalid(format!(
        "could not find a free slug for the project name {name:?}; choose another name"
    )))
}

/// What [`create_exact`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExactCreation {
    Created(Project),
    /// The owner's project that holds the name's slug already; nothing was written.
    Taken(Project),
}

/// Creates a project under exactly the slug of its name, or returns the owner's
/// project that has it. One insert decides, so two concurrent creations of the same
/// name cannot both succeed.
pub async fn create_exact(
    conn: &mut PgConnection,
    p: &NamedProject<'_>,
) -> Result<ExactCreation, DbError> {
    let name = valid_name(p)?;
    let slug = slugify(name);
    if let Some(project) = insert(conn, p, name, &slug).await? {
        return Ok(ExactCreation::Created(project));
    }
    get_by_slug(conn, p.owner, &slug)
        .await?
        .map(ExactCreation::Taken)
        .ok_or_else(|| {
            DbError::Invalid(format!(
                "the project {slug} was deleted while this one was being created; try again"
            ))
        })
}

/// The project `id` (if the caller may see it).
pub async fn get(conn: &mut PgConnection, id: Uuid) -> Result<Option<Project>, DbError> {
    let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE id = $1");
    Ok(sqlx::query_as::<_, Project>(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// The owner's project with this slug.
pub async fn get_by_slug(
    conn: &mut PgConnection,
    owner: Uuid,
    slug: &str,
) -> Result<Option<Project>, DbError> {
    let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE owner_id = $1 AND slug = $2");
    Ok(sqlx::query_as::<_, Project>(sqlx::AssertSqlSafe(sql))
        .bind(owner)
        .bind(slug)
        .fetch_optional(conn)
        .await?)
}

/// Locks the project row until the transaction ends (serialises version numbering)
/// and returns it.
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> Result<Option<Project>, DbError> {
    let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE id = $1 FOR UPDATE");
    Ok(sqlx::query_as::<_, Project>(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// Sets the project's status; false when no such project is visible.
pub async fn set_status(
    conn: &mut PgConnection,
    id: Uuid,
    status: ProjectStatus,
) -> Result<bool, DbError> {
    let done = sqlx::query("UPDATE projects SET status = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(status.as_str())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives a project left `running` by job `job` (which ended without recording a
/// version) the status its state supports: `deployed` while a deployment is live, else
/// its latest version's check result, else `failing` (nothing was ever built). A
/// project another job is still running for stays `running`.
pub async fn settle_status(conn: &mut PgConnection, id: Uuid, job: i64) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE projects p SET updated_at = now(), status = CASE
             WHEN EXISTS (SELECT 1 FROM deployments d WHERE d.project_id = p.id AND d.state = 'live')
                 THEN 'deployed'
             WHEN p.latest_version IS NULL THEN 'failing'
             ELSE coalesce((SELECT CASE v.check_status WHEN 'passing' THEN 'passing'
                                    WHEN 'failing' THEN 'failing' ELSE 'new' END
                            FROM versions v
                            WHERE v.project_id = p.id AND v.number = p.latest_version), 'failing')
             END
         WHERE p.id = $1 AND p.status = 'running'
           AND NOT EXISTS (SELECT 1 FROM jobs j
                           WHERE j.project_id = p.id AND j.id <> $2 AND j.state = 'running')",
    )
    .bind(id)
    .bind(job)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records `number` as the project's latest version.
pub async fn set_latest_version(
    conn: &mut PgConnection,
    id: Uuid,
    number: i32,
) -> Result<bool, DbError> {
    let done =
        sqlx::query("UPDATE projects SET latest_version = $2, updated_at = now() WHERE id = $1")
            .bind(id)
            .bind(number)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes the caller's project with its versions, jobs and history; false when no
/// such project is visible.
pub async fn delete(conn: &mut PgConnection, id: Uuid) -> Result<bool, DbError> {
    let done = sqlx::query("DELETE FROM projects WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_valid_and_readable() {
        assert_eq!(slugify("Bakery API"), "bakery-api");
        assert_eq!(slugify("  --Hello, World!!  "), "hello-world");
        assert_eq!(slugify("Café crème"), "caf-cr-me");
        assert_eq!(slugify("!!!"), "api");
        assert_eq!(slugify(&"a".repeat(100)).len(), 63);
        let re = regex::Regex::new("^[a-z0-9][a-z0-9-]{0,62}$").expect("valid regex");
        for name in ["x", "Bakery API", &"ab-".repeat(40), "日本語", "9 lives"] {
            let s = slugify(name);
            assert!(re.is_match(&s), "{name:?} -> {s:?}");
            for n in [2, 10, 999] {
                let t = with_suffix(&s, n);
                assert!(re.is_match(&t), "{s:?} + {n} -> {t:?}");
                assert!(t.ends_with(&format!("-{n}")));
            }
        }
    }
}
