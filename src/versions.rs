//! Immutable versions of a project: design, spec and files, numbered 1, 2, 3 … per
//! project, with their parent, origin, prompt, author and test runs.
//!
//! Files are stored as content-addressed blobs (SHA-256, per owner), so a file that
//! does not change between versions is stored once; a version only adds
//! `version_files` rows pointing at blobs. Nothing here updates a version after it is
//! recorded except its check status (from test runs) and its git commit; restoring an
//! old version records a new one, so history is never rewritten.
//!
//! Every function takes the caller's connection inside the caller's transaction:
//! either a client transaction ([`Db::begin_as`](crate::db::Db::begin_as)), where
//! row-level security hides other users' rows, or the worker's owner transaction inside
//! a durable step. No session is set in the latter, so nothing here relies on column
//! defaults for the owner: it is taken from the project row.
//!
//! Writers must run inside a transaction: [`record_version`] and [`restore`] lock the
//! project row (`FOR UPDATE`) to number versions, and that lock lasts only as long as
//! the transaction.

pub mod merge;
pub mod test_run;
pub mod version_diff;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::codegen::{Framework, GeneratedFiles};
use crate::db::DbError;
use crate::db::projects;
use crate::design::ApiDesign;

// The design part of a version diff, re-exported for callers of `diff`.
pub use crate::design::{ChangeKind, DesignChange, DesignDiff};
pub use merge::{ConflictKind, FileConflict, MergeOutcome, merge};
pub use test_run::{NewTestRun, TestRun, record_test_run, test_runs};
pub use version_diff::{FileChange, FileDiff, VersionDiff, diff};

#[derive(Debug, thiserror::Error)]
pub enum VersionError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("no project with id {0} is visible to you")]
    ProjectNotFound(Uuid),
    #[error("project {project} has no version {number}; `apiforge versions` lists them")]
    VersionNotFound { project: Uuid, number: i32 },
    #[error("no version with id {0} is visible to you")]
    VersionIdNotFound(Uuid),
    #[error("invalid file path {path:?}: {reason}")]
    BadPath { path: String, reason: &'static str },
    #[error("{path:?} is marked as generated but is not one of the version's files")]
    UnknownGenerated { path: String },
    #[error("file {path:?} is too large to store ({size} bytes; the limit is 2 GiB)")]
    TooLarge { path: String, size: usize },
    #[error(
        "stored {what} cannot be read ({message}); the database was changed outside apiforge or by a newer version of it"
    )]
    Corrupt { what: String, message: String },
}

impl From<sqlx::Error> for VersionError {
    fn from(e: sqlx::Error) -> Self {
        VersionError::Db(DbError::Query(e))
    }
}

/// What made a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// A prompt, from nothing.
    Generate,
    /// A follow-up prompt on the parent's design.
    Iterate,
    /// A hand edit of the parent's files.
    Edit,
    /// A copy of an older version.
    Restore,
    /// An imported OpenAPI document.
    Import,
    /// Pulled from a git remote.
    Sync,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Generate => "generate",
            Origin::Iterate => "iterate",
            Origin::Edit => "edit",
            Origin::Restore => "restore",
            Origin::Import => "import",
            Origin::Sync => "sync",
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Origin {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "generate" => Origin::Generate,
            "iterate" => Origin::Iterate,
            "edit" => Origin::Edit,
            "restore" => Origin::Restore,
            "import" => Origin::Import,
            "sync" => Origin::Sync,
            other => return Err(format!("unknown version origin {other:?}")),
        })
    }
}

/// The outcome of the latest test run of a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Untested,
    Passing,
    Failing,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Untested => "untested",
            CheckStatus::Passing => "passing",
            CheckStatus::Failing => "failing",
        }
    }
}

impl fmt::Display for CheckStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CheckStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "untested" => CheckStatus::Untested,
            "passing" => CheckStatus::Passing,
            "failing" => CheckStatus::Failing,
            other => return Err(format!("unknown check status {other:?}")),
        })
    }
}

/// A version to record.
#[derive(Debug, Clone, Copy)]
pub struct NewVersion<'a> {
    pub project: Uuid,
    /// The number of the version this one was made from, if any.
    pub parent: Option<i32>,
    pub origin: Origin,
    /// The prompt or edit description that made it.
    pub prompt: &'a str,
    pub design: &'a ApiDesign,
    /// The OpenAPI document.
    pub spec: &'a Value,
    pub framework: Framework,
    pub files: &'a GeneratedFiles,
    /// Which of `files` were generated as they are (the others were edited by hand).
    pub generated: &'a BTreeSet<String>,
    /// The user on whose behalf the version is made.
    pub created_by: Uuid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedVersion {
    pub id: Uuid,
    pub number: i32,
}

/// One line of a project's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionSummary {
    pub id: Uuid,
    pub number: i32,
    pub parent: Option<i32>,
    pub origin: Origin,
    pub prompt: String,
    pub check_status: CheckStatus,
    pub git_commit: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: Uuid,
}

/// A version with its design, spec and file list (contents: [`read_files`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Version {
    #[serde(flatten)]
    pub summary: VersionSummary,
    pub project: Uuid,
    pub framework: Framework,
    pub design: ApiDesign,
    pub spec: Value,
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileEntry {
    pub path: String,
    /// Bytes.
    pub size: i64,
    /// SHA-256 of the content, lower-case hex.
    pub sha256: String,
    pub generated: bool,
}

/// A file's content and whether it was generated as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredFile {
    pub content: String,
    pub generated: bool,
}

/// Records a new version of `v.project` and returns its number, one more than the
/// highest so far. The project row is locked for the rest of the transaction, so
/// concurrent calls on one project get distinct, consecutive numbers.
pub async fn record_version(
    conn: &mut PgConnection,
    v: &NewVersion<'_>,
) -> Result<RecordedVersion, VersionError> {
    for path in v.files.keys() {
        check_path(path)?;
    }
    if let Some(path) = v.generated.iter().find(|p| !v.files.contains_key(*p)) {
        return Err(VersionError::UnknownGenerated { path: path.clone() });
    }
    let design = serde_json::to_value(v.design).map_err(|e| VersionError::Corrupt {
        what: "design".into(),
        message: e.to_string(),
    })?;
    let project = projects::lock(conn, v.project)
        .await?
        .ok_or(VersionError::ProjectNotFound(v.project))?;
    let parent_id = match v.parent {
        Some(n) => Some(version_id(conn, v.project, n).await?),
        None => None,
    };
    let number: i32 = sqlx::query_scalar(
        "SELECT coalesce(max(number), 0) + 1 FROM versions WHERE project_id = $1",
    )
    .bind(v.project)
    .fetch_one(&mut *conn)
    .await?;
    store_blobs(conn, project.owner_id, v.files).await?;
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO versions (project_id, owner_id, number, parent_id, origin, prompt,
                               design, spec, framework, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         RETURNING id",
    )
    .bind(v.project)
    .bind(project.owner_id)
    .bind(number)
    .bind(parent_id)
    .bind(v.origin.as_str())
    .bind(v.prompt)
    .bind(&design)
    .bind(v.spec)
    .bind(v.framework.as_str())
    .bind(v.created_by)
    .fetch_one(&mut *conn)
    .await?;
    let mut paths = Vec::with_capacity(v.files.len());
    let mut hashes = Vec::with_capacity(v.files.len());
    let mut generated = Vec::with_capacity(v.files.len());
    for (path, content) in v.files {
        paths.push(path.as_str());
        hashes.push(sha256(content).to_vec());
        generated.push(v.generated.contains(path));
    }
    sqlx::query(
        "INSERT INTO version_files (version_id, owner_id, path, blob_hash, generated)
         SELECT $1, $2, f.path, f.hash, f.generated
         FROM unnest($3::text[], $4::bytea[], $5::boolean[]) AS f(path, hash, generated)",
    )
    .bind(id)
    .bind(project.owner_id)
    .bind(&paths)
    .bind(&hashes)
    .bind(&generated)
    .execute(&mut *conn)
    .await?;
    projects::set_latest_version(conn, v.project, number).await?;
    Ok(RecordedVersion { id, number })
}

/// Stores the contents not yet stored for `owner`; contents already there (from any
/// version) are neither sent nor written again.
async fn store_blobs(
    conn: &mut PgConnection,
    owner: Uuid,
    files: &GeneratedFiles,
) -> Result<(), VersionError> {
    let mut by_hash: BTreeMap<[u8; 32], &str> = BTreeMap::new();
    for (path, content) in files {
        if i32::try_from(content.len()).is_err() {
            return Err(VersionError::TooLarge {
                path: path.clone(),
                size: content.len(),
            });
        }
        by_hash.insert(sha256(content), content);
    }
    let hashes: Vec<Vec<u8>> = by_hash.keys().map(|h| h.to_vec()).collect();
    let present: Vec<Vec<u8>> = sqlx::query_scalar(
        "SELECT hash FROM blobs WHERE owner_id = $1 AND hash = ANY($2::bytea[])",
    )
    .bind(owner)
    .bind(&hashes)
    .fetch_all(&mut *conn)
    .await?;
    let present: HashSet<Vec<u8>> = present.into_iter().collect();
    let (missing_hashes, missing_contents): (Vec<Vec<u8>>, Vec<&[u8]>) = by_hash
        .iter()
        .filter(|(h, _)| !present.contains(h.as_slice()))
        .map(|(h, c)| (h.to_vec(), c.as_bytes()))
        .unzip();
    if missing_hashes.is_empty() {
        return Ok(());
    }
    // Another transaction may store the same content meanwhile: the conflict is benign.
    sqlx::query(
        "INSERT INTO blobs (owner_id, hash, size, content)
         SELECT $1, b.hash, octet_length(b.content), b.content
         FROM unnest($2::bytea[], $3::bytea[]) AS b(hash, content)
         ON CONFLICT (owner_id, hash) DO NOTHING",
    )
    .bind(owner)
    .bind(&missing_hashes)
    .bind(&missing_contents)
    .execute(conn)
    .await?;
    Ok(())
}

fn sha256(content: &str) -> [u8; 32] {
    Sha256::digest(content.as_bytes()).into()
}

/// The same rule as the `version_files.path` check, with a reason a person can act on.
fn check_path(path: &str) -> Result<(), VersionError> {
    let bad = |reason| {
        Err(VersionError::BadPath {
            path: path.to_owned(),
            reason,
        })
    };
    if path.is_empty() {
        return bad("a path cannot be empty");
    }
    if path.starts_with('/') {
        return bad("paths are relative to the project (no leading /)");
    }
    if path.split('/').any(|part| part == "..") {
        return bad("paths cannot leave the project (no .. component)");
    }
    if path.contains('\0') {
        return bad("paths cannot contain NUL characters");
    }
    Ok(())
}

/// The id of version `number` of `project`.
pub async fn version_id(
    conn: &mut PgConnection,
    project: Uuid,
    number: i32,
) -> Result<Uuid, VersionError> {
    sqlx::query_scalar("SELECT id FROM versions WHERE project_id = $1 AND number = $2")
        .bind(project)
        .bind(number)
        .fetch_optional(conn)
        .await?
        .ok_or(VersionError::VersionNotFound { project, number })
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: Uuid,
    number: i32,
    parent: Option<i32>,
    origin: String,
    prompt: String,
    check_status: String,
    git_commit: Option<String>,
    created_at: DateTime<Utc>,
    created_by: Uuid,
}

impl SummaryRow {
    fn into_summary(self) -> Result<VersionSummary, VersionError> {
        let corrupt = |message: String| VersionError::Corrupt {
            what: format!("version {}", self.number),
            message,
        };
        Ok(VersionSummary {
            origin: self.origin.parse().map_err(corrupt)?,
            check_status: self.check_status.parse().map_err(corrupt)?,
            id: self.id,
            number: self.number,
            parent: self.parent,
            prompt: self.prompt,
            git_commit: self.git_commit,
            created_at: self.created_at,
            created_by: self.created_by,
        })
    }
}

const SUMMARY_COLUMNS: &str = "v.id, v.number, p.number AS parent, v.origin, v.prompt, \
     v.check_status, v.git_commit, v.created_at, v.created_by";

/// The versions of `project`, oldest first.
pub async fn list(
    conn: &mut PgConnection,
    project: Uuid,
) -> Result<Vec<VersionSummary>, VersionError> {
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS}
         FROM versions v LEFT JOIN versions p ON p.id = v.parent_id
         WHERE v.project_id = $1 ORDER BY v.number"
    );
    sqlx::query_as::<_, SummaryRow>(sqlx::AssertSqlSafe(sql))
        .bind(project)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(SummaryRow::into_summary)
        .collect()
}

#[derive(sqlx::FromRow)]
struct VersionRow {
    #[sqlx(flatten)]
    summary: SummaryRow,
    framework: String,
    design: Value,
    spec: Value,
}

/// Version `number` of `project` with its design, spec and file list.
pub async fn get(
    conn: &mut PgConnection,
    project: Uuid,
    number: i32,
) -> Result<Version, VersionError> {
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS}, v.framework, v.design, v.spec
         FROM versions v LEFT JOIN versions p ON p.id = v.parent_id
         WHERE v.project_id = $1 AND v.number = $2"
    );
    let row = sqlx::query_as::<_, VersionRow>(sqlx::AssertSqlSafe(sql))
        .bind(project)
        .bind(number)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(VersionError::VersionNotFound { project, number })?;
    let corrupt = |message: String| VersionError::Corrupt {
        what: format!("version {number}"),
        message,
    };
    let framework: Framework = row.framework.parse().map_err(corrupt)?;
    let design: ApiDesign =
        serde_json::from_value(row.design).map_err(|e| corrupt(format!("design: {e}")))?;
    let summary = row.summary.into_summary()?;
    let files = file_entries(conn, summary.id).await?;
    Ok(Version {
        summary,
        project,
        framework,
        design,
        spec: row.spec,
        files,
    })
}

async fn file_entries(
    conn: &mut PgConnection,
    version: Uuid,
) -> Result<Vec<FileEntry>, VersionError> {
    let rows: Vec<(String, i32, Vec<u8>, bool)> = sqlx::query_as(
        "SELECT f.path, b.size, f.blob_hash, f.generated
         FROM version_files f
         JOIN blobs b ON b.owner_id = f.owner_id AND b.hash = f.blob_hash
         WHERE f.version_id = $1 ORDER BY f.path",
    )
    .bind(version)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(path, size, hash, generated)| FileEntry {
            path,
            size: i64::from(size),
            sha256: hex::encode(hash),
            generated,
        })
        .collect())
}

/// Every file of version `number` of `project`, by path.
pub async fn read_files(
    conn: &mut PgConnection,
    project: Uuid,
    number: i32,
) -> Result<BTreeMap<String, StoredFile>, VersionError> {
    let id = version_id(conn, project, number).await?;
    let rows: Vec<(String, Vec<u8>, bool)> = sqlx::query_as(
        "SELECT f.path, b.content, f.generated
         FROM version_files f
         JOIN blobs b ON b.owner_id = f.owner_id AND b.hash = f.blob_hash
         WHERE f.version_id = $1",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(path, content, generated)| {
            let content = utf8(&path, content)?;
            Ok((path, StoredFile { content, generated }))
        })
        .collect()
}

/// The contents of version `number` of `project` as plain files.
pub async fn read_contents(
    conn: &mut PgConnection,
    project: Uuid,
    number: i32,
) -> Result<GeneratedFiles, VersionError> {
    Ok(read_files(conn, project, number)
        .await?
        .into_iter()
        .map(|(path, f)| (path, f.content))
        .collect())
}

/// One file of version `number` of `project`; `None` when the version has no such path.
pub async fn read_file(
    conn: &mut PgConnection,
    project: Uuid,
    number: i32,
    path: &str,
) -> Result<Option<StoredFile>, VersionError> {
    let id = version_id(conn, project, number).await?;
    let row: Option<(Vec<u8>, bool)> = sqlx::query_as(
        "SELECT b.content, f.generated
         FROM version_files f
         JOIN blobs b ON b.owner_id = f.owner_id AND b.hash = f.blob_hash
         WHERE f.version_id = $1 AND f.path = $2",
    )
    .bind(id)
    .bind(path)
    .fetch_optional(conn)
    .await?;
    row.map(|(content, generated)| {
        Ok(StoredFile {
            content: utf8(path, content)?,
            generated,
        })
    })
    .transpose()
}

fn utf8(path: &str, content: Vec<u8>) -> Result<String, VersionError> {
    String::from_utf8(content).map_err(|e| VersionError::Corrupt {
        what: format!("file {path:?}"),
        message: e.to_string(),
    })
}

/// Records the git commit a version was pushed as.
pub async fn set_git_commit(
    conn: &mut PgConnection,
    version: Uuid,
    commit: &str,
) -> Result<(), VersionError> {
    let done = sqlx::query("UPDATE versions SET git_commit = $2 WHERE id = $1")
        .bind(version)
        .bind(commit)
        .execute(conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(VersionError::VersionIdNotFound(version));
    }
    Ok(())
}

/// The contents of `paths` in the version with id `version` (absent paths are left out).
async fn read_paths(
    conn: &mut PgConnection,
    version: Uuid,
    paths: &[String],
) -> Result<GeneratedFiles, VersionError> {
    let rows: Vec<(String, Vec<u8>)> = sqlx::query_as(
        "SELECT f.path, b.content
         FROM version_files f
         JOIN blobs b ON b.owner_id = f.owner_id AND b.hash = f.blob_hash
         WHERE f.version_id = $1 AND f.path = ANY($2::text[])",
    )
    .bind(version)
    .bind(paths)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(path, content)| {
            let content = utf8(&path, content)?;
            Ok((path, content))
        })
        .collect()
}

/// Records a new version whose design, spec, framework and files (with their generated
/// flags) equal those of version `number`; its parent is the project's latest version.
pub async fn restore(
    conn: &mut PgConnection,
    project: Uuid,
    number: i32,
    created_by: Uuid,
) -> Result<RecordedVersion, VersionError> {
    // Locked first so "latest" cannot move between reading it and recording.
    let locked = projects::lock(conn, project)
        .await?
        .ok_or(VersionError::ProjectNotFound(project))?;
    let old = get(conn, project, number).await?;
    let stored = read_files(conn, project, number).await?;
    let mut files = GeneratedFiles::new();
    let mut generated = BTreeSet::new();
    for (path, f) in stored {
        if f.generated {
            generated.insert(path.clone());
        }
        files.insert(path, f.content);
    }
    let prompt = format!("restore version {number}");
    record_version(
        conn,
        &NewVersion {
            project,
            parent: locked.latest_version,
            origin: Origin::Restore,
            prompt: &prompt,
            design: &old.design,
            spec: &old.spec,
            framework: old.framework,
            files: &files,
            generated: &generated,
            created_by,
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_schema_rule() {
        for ok in ["main.py", "app/models.py", ".gitignore", "a/..b/c", "x..y"] {
            assert!(check_path(ok).is_ok(), "{ok}");
        }
        for bad in ["", "/etc/passwd", "../x", "a/../b", "a/..", "a\0b"] {
            assert!(
                matches!(check_path(bad), Err(VersionError::BadPath { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn enums_round_trip_through_their_names() {
        for o in [
            Origin::Generate,
            Origin::Iterate,
            Origin::Edit,
            Origin::Restore,
            Origin::Import,
            Origin::Sync,
        ] {
            assert_eq!(o.as_str().parse::<Origin>(), Ok(o));
        }
        for s in [
            CheckStatus::Untested,
            CheckStatus::Passing,
            CheckStatus::Failing,
        ] {
            assert_eq!(s.as_str().parse::<CheckStatus>(), Ok(s));
        }
        assert!("bogus".parse::<Origin>().is_err());
    }
}
