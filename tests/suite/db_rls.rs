//! Row-level security, tested through the real client role on a real cluster: whatever
//! SQL a client sends, it sees and changes only its own user's rows.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::collections::BTreeSet;

use apiforge::auth::SessionToken;
use apiforge::db::Db;
use sqlx::{AssertSqlSafe, Row};
use support::TestDb;
use uuid::Uuid;

/// Every user-owned table, with an INSERT that names its owner explicitly (`$1`) and
/// refers to the seeded parents of user A (`{p}` project, `{v}` version, `{j}` job).
const TABLES: &[(&str, &str)] = &[
    (
        "projects",
        "INSERT INTO projects (owner_id, slug, name, framework) VALUES ($1, 'evil', 'Evil', 'fastapi')",
    ),
    (
        "blobs",
        "INSERT INTO blobs (owner_id, hash, size, content) VALUES ($1, sha256('evil'::bytea), 4, 'evil'::bytea)",
    ),
    (
        "versions",
        "INSERT INTO versions (owner_id, project_id, number, origin, design, spec, framework) VALUES ($1, '{p}', 99, 'generate', '{}', '{}', 'fastapi')",
    ),
    (
        "version_files",
        "INSERT INTO version_files (owner_id, version_id, path, blob_hash) VALUES ($1, '{v}', 'evil.py', sha256('x'::bytea))",
    ),
    (
        "jobs",
        "INSERT INTO jobs (owner_id, project_id, kind) VALUES ($1, '{p}', 'evil')",
    ),
    (
        "job_steps",
        "INSERT INTO job_steps (owner_id, job_id, name, seq) VALUES ($1, {j}, 'evil', 9)",
    ),
    (
        "job_events",
        "INSERT INTO job_events (owner_id, job_id, kind, message) VALUES ($1, {j}, 'log', 'evil')",
    ),
    (
        "test_runs",
        "INSERT INTO test_runs (owner_id, version_id, sandbox, report, started_at, finished_at) VALUES ($1, '{v}', 'process', '{}', now(), now())",
    ),
    (
        "deployments",
        "INSERT INTO deployments (owner_id, project_id, version_id, state, route) VALUES ($1, '{p}', '{v}', 'stopped', '/evil')",
    ),
    (
        "git_remotes",
        "INSERT INTO git_remotes (owner_id, project_id, name, url) VALUES ($1, '{p}', 'evil', 'file:///evil')",
    ),
];

struct Seeded {
    user: Uuid,
    project: Uuid,
    version: Uuid,
    job: i64,
}

impl Seeded {
    fn fill(&self, sql: &str) -> String {
        sql.replace("{p}", &self.project.to_string())
            .replace("{v}", &self.version.to_string())
            .replace("{j}", &self.job.to_string())
    }
}

/// Creates one row in every user-owned table as the user, through the client role
/// (which also proves an owner can write its own rows, ids defaulting from the session).
async fn seed(db: &Db, user: Uuid, token: &SessionToken) -> Seeded {
    let mut tx = db.begin_as(token).await.unwrap();
    let project: Uuid = sqlx::query_scalar(
        "INSERT INTO projects (slug, name, framework) VALUES ('bakery', 'Bakery', 'fastapi') RETURNING id",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO blobs (hash, size, content) VALUES (sha256('x'::bytea), 1, 'x'::bytea)",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    let version: Uuid = sqlx::query_scalar(
        "INSERT INTO versions (project_id, number, origin, design, spec, framework)
         VALUES ($1, 1, 'generate', '{}', '{}', 'fastapi') RETURNING id",
    )
    .bind(project)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    sqlx::query("INSERT INTO version_files (version_id, path, blob_hash) VALUES ($1, 'main.py', sha256('x'::bytea))")
        .bind(version)
        .execute(&mut *tx)
        .await
        .unwrap();
    let job: i64 = sqlx::query_scalar(
        "INSERT INTO jobs (project_id, kind) VALUES ($1, 'generate') RETURNING id",
    )
    .bind(project)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    for sql in [
        "INSERT INTO job_steps (job_id, name, seq) VALUES ($1, 'design', 0)",
        "INSERT INTO job_events (job_id, kind, message) VALUES ($1, 'log', 'hello')",
    ] {
        sqlx::query(sql).bind(job).execute(&mut *tx).await.unwrap();
    }
    sqlx::query(
        "INSERT INTO test_runs (version_id, job_id, sandbox, report, started_at, finished_at)
         VALUES ($1, $2, 'process', '{}', now(), now())",
    )
    .bind(version)
    .bind(job)
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query("INSERT INTO deployments (project_id, version_id, state, route) VALUES ($1, $2, 'live', '/p/a/bakery/')")
        .bind(project)
        .bind(version)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("INSERT INTO git_remotes (project_id, url) VALUES ($1, 'file:///tmp/bakery.git')")
        .bind(project)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    Seeded {
        user,
        project,
        version,
        job,
    }
}

async fn owner_count(db: &Db, table: &str, owner: Uuid) -> i64 {
    sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT count(*) FROM {table} WHERE owner_id = $1"
    )))
    .bind(owner)
    .fetch_one(db.owner().unwrap())
    .await
    .unwrap()
}

fn sqlstate(e: &sqlx::Error) -> String {
    e.as_database_error()
        .and_then(|d| d.code())
        .map(|c| c.into_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_tested_tables_are_exactly_the_user_owned_tables() {
    let t = TestDb::new().await;
    let db = t.db().await;
    let with_owner: BTreeSet<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.columns
         WHERE table_schema = 'public' AND column_name = 'owner_id'",
    )
    .fetch_all(db.owner().unwrap())
    .await
    .unwrap()
    .into_iter()
    .collect();
    let tested: BTreeSet<String> = TABLES.iter().map(|(t, _)| (*t).to_owned()).collect();
    assert_eq!(
        with_owner, tested,
        "a user-owned table is missing from the RLS tests"
    );

    for table in tested.iter().map(String::as_str).chain(["users"]) {
        let row = sqlx::query(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class
             WHERE oid = ('public.' || $1)::regclass",
        )
        .bind(table)
        .fetch_one(db.owner().unwrap())
        .await
        .unwrap();
        assert!(row.get::<bool, _>(0), "{table}: RLS not enabled");
        assert!(row.get::<bool, _>(1), "{table}: RLS not forced");
        let client_commands: Vec<String> = sqlx::query_scalar(
            "SELECT cmd FROM pg_policies WHERE tablename = $1 AND 'apiforge_client' = ANY(roles) ORDER BY cmd",
        )
        .bind(table)
        .fetch_all(db.owner().unwrap())
        .await
        .unwrap();
        let expected: Vec<&str> = if table == "users" {
            vec!["SELECT", "UPDATE"]
        } else {
            vec!["DELETE", "INSERT", "SELECT", "UPDATE"]
        };
        assert_eq!(
            client_commands, expected,
            "{table}: one client policy per command"
        );
    }
}

#[tokio::test]
async fn another_user_cannot_read_change_delete_or_forge_rows() {
    let t = TestDb::new().await;
    let db = t.db().await;
    let (a, token_a) = t.user(&db, "a@example.com").await;
    let (_b, token_b) = t.user(&db, "b@example.com").await;
    let seeded = seed(&db, a, &token_a).await;

    for (table, insert) in TABLES {
        let before = owner_count(&db, table, a).await;
        assert!(before >= 1, "{table}: seed missing");

        let mut tx = db.begin_as(&token_b).await.unwrap();
        let seen: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert_eq!(seen, 0, "{table}: B sees A's rows");
        let updated = sqlx::query(AssertSqlSafe(format!(
            "UPDATE {table} SET owner_id = owner_id"
        )))
        .execute(&mut *tx)
        .await
        .unwrap()
        .rows_affected();
        assert_eq!(updated, 0, "{table}: B updated A's rows");
        let by_id = sqlx::query(AssertSqlSafe(format!(
            "UPDATE {table} SET owner_id = $1 WHERE owner_id = $1"
        )))
        .bind(a)
        .execute(&mut *tx)
        .await
        .unwrap()
        .rows_affected();
        assert_eq!(by_id, 0, "{table}: B updated A's rows by naming A");
        let deleted = sqlx::query(AssertSqlSafe(format!("DELETE FROM {table}")))
            .execute(&mut *tx)
            .await
            .unwrap()
            .rows_affected();
        assert_eq!(deleted, 0, "{table}: B deleted A's rows");
        tx.commit().await.unwrap();

        let mut tx = db.begin_as(&token_b).await.unwrap();
        let forged = sqlx::query(AssertSqlSafe(seeded.fill(insert)))
            .bind(a)
            .execute(&mut *tx)
            .await;
        let err = forged.expect_err(&format!("{table}: B inserted a row owned by A"));
        assert_eq!(
            sqlstate(&err),
            "42501",
            "{table}: expected an RLS violation, got {err}"
        );
        tx.rollback().await.unwrap();

        assert_eq!(
            owner_count(&db, table, a).await,
            before,
            "{table}: A's rows changed"
        );
    }

    // B cannot attach its own rows to A's project either (composite foreign keys).
    let mut tx = db.begin_as(&token_b).await.unwrap();
    let err = sqlx::query(
        "INSERT INTO versions (project_id, number, origin, design, spec, framework)
         VALUES ($1, 7, 'generate', '{}', '{}', 'fastapi')",
    )
    .bind(seeded.project)
    .execute(&mut *tx)
    .await
    .expect_err("B attached a version to A's project");
    assert_eq!(sqlstate(&err), "23503", "{err}");
    tx.rollback().await.unwrap();

    // B sees only itself in users and cannot rename A.
    let mut tx = db.begin_as(&token_b).await.unwrap();
    let emails: Vec<String> = sqlx::query_scalar("SELECT email FROM users")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert_eq!(emails, vec!["b@example.com".to_owned()]);
    let renamed = sqlx::query("UPDATE users SET display_name = 'pwned' WHERE id = $1")
        .bind(a)
        .execute(&mut *tx)
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(renamed, 0);
    tx.commit().await.unwrap();

    // And A still sees all of its own rows.
    let mut tx = db.begin_as(&token_a).await.unwrap();
    for (table, _) in TABLES {
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert_eq!(
            n,
            owner_count(&db, table, seeded.user).await,
            "{table}: A lost sight of its rows"
        );
    }
    tx.commit().await.unwrap();
}

/// Ways of not having a live session.
#[derive(Debug, Clone, Copy)]
enum NoSession {
    Unset,
    Bogus,
    Expired,
    Revoked,
}

async fn check_without_session(kind: NoSession) {
    let t = TestDb::new().await;
    let db = t.db().await;
    let (a, token_a) = t.user(&db, "a@example.com").await;
    let seeded = seed(&db, a, &token_a).await;
    let token = SessionToken::generate();
    match kind {
        NoSession::Unset | NoSession::Bogus => {}
        NoSession::Expired => {
            t.user_with_session(
                &db,
                "a@example.com",
                &token,
                "now() - interval '1 second'",
                None,
            )
            .await;
        }
        NoSession::Revoked => {
            t.user_with_session(
                &db,
                "a@example.com",
                &token,
                "now() + interval '1 day'",
                Some("now()"),
            )
            .await;
        }
    }
    for (table, insert) in TABLES
        .iter()
        .copied()
        .chain([("users", "INSERT INTO users (email) VALUES ('x@y.z')")])
    {
        let mut tx = match kind {
            NoSession::Unset => db.client().begin().await.unwrap(),
            _ => db.begin_as(&token).await.unwrap(),
        };
        let current: Option<Uuid> = sqlx::query_scalar("SELECT apiforge_current_user()")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert_eq!(current, None, "{kind:?}: a user was resolved");
        let seen: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert_eq!(seen, 0, "{kind:?}: {table} is not empty");
        let err = sqlx::query(AssertSqlSafe(seeded.fill(insert)))
            .bind(a)
            .execute(&mut *tx)
            .await
            .expect_err(&format!("{kind:?}: insert into {table} succeeded"));
        assert_eq!(sqlstate(&err), "42501", "{kind:?} {table}: {err}");
        tx.rollback().await.unwrap();
    }
}

#[tokio::test]
async fn no_session_sees_nothing_and_writes_nothing() {
    check_without_session(NoSession::Unset).await;
}

#[tokio::test]
async fn bogus_session_sees_nothing_and_writes_nothing() {
    check_without_session(NoSession::Bogus).await;
}

#[tokio::test]
async fn expired_session_sees_nothing_and_writes_nothing() {
    check_without_session(NoSession::Expired).await;
}

#[tokio::test]
async fn revoked_session_sees_nothing_and_writes_nothing() {
    check_without_session(NoSession::Revoked).await;
}

#[tokio::test]
async fn client_role_cannot_reach_secrets_or_escape_rls() {
    let t = TestDb::new().await;
    let db = t.db().await;
    let (_a, token) = t.user(&db, "a@example.com").await;
    for sql in [
        "SELECT token_hash FROM sessions",
        "SELECT code_hash FROM login_codes",
        "INSERT INTO sessions (user_id, token_hash, kind, expires_at) SELECT id, sha256('x'::bytea), 'local', now() + interval '1 day' FROM users",
        "UPDATE sessions SET expires_at = now() + interval '10 years'",
        "DELETE FROM login_codes",
        "ALTER TABLE projects DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE projects NO FORCE ROW LEVEL SECURITY",
        "DROP POLICY projects_select ON projects",
        "SET LOCAL ROLE apiforge_owner",
        "INSERT INTO users (email) VALUES ('new@example.com')",
        "DELETE FROM users",
    ] {
        let mut tx = db.begin_as(&token).await.unwrap();
        let err = sqlx::query(sql).execute(&mut *tx).await.expect_err(sql);
        assert_eq!(sqlstate(&err), "42501", "{sql}: {err}");
        tx.rollback().await.unwrap();
    }

    // Turning row security off does not reveal rows: Postgres refuses the query.
    let mut tx = db.begin_as(&token).await.unwrap();
    sqlx::query("SET LOCAL row_security = off")
        .execute(&mut *tx)
        .await
        .unwrap();
    let err = sqlx::query("SELECT count(*) FROM projects")
        .execute(&mut *tx)
        .await
        .expect_err("row_security off");
    assert_eq!(sqlstate(&err), "42501", "{err}");
    tx.rollback().await.unwrap();

    // The only SECURITY DEFINER function a client may call is the user lookup, which
    // reveals nothing but the caller's own id.
    let callable: Vec<String> = sqlx::query_scalar(
        "SELECT p.proname::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = 'public' AND p.prosecdef
           AND has_function_privilege('apiforge_client', p.oid, 'EXECUTE')",
    )
    .fetch_all(db.owner().unwrap())
    .await
    .unwrap();
    assert_eq!(callable, vec!["apiforge_current_user".to_owned()]);
    let config: Vec<String> = sqlx::query_scalar(
        "SELECT unnest(proconfig) FROM pg_proc WHERE proname = 'apiforge_current_user'",
    )
    .fetch_all(db.owner().unwrap())
    .await
    .unwrap();
    assert!(
        config.iter().any(|c| c.starts_with("search_path=")),
        "search_path must be pinned: {config:?}"
    );

    // The client role has no way around RLS.
    let attrs = sqlx::query(
        "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'apiforge_client'",
    )
    .fetch_one(db.owner().unwrap())
    .await
    .unwrap();
    assert!(!attrs.get::<bool, _>(0) && !attrs.get::<bool, _>(1));
}

#[tokio::test]
async fn as_user_commits_on_ok_and_rolls_back_on_error() {
    let t = TestDb::new().await;
    let db = t.db().await;
    let (_a, token) = t.user(&db, "a@example.com").await;
    db.as_user(&token, |conn| {
        Box::pin(async move {
            apiforge::db::projects::create(
                conn,
                &apiforge::db::projects::NewProject {
                    slug: "kept",
                    name: "Kept",
                    description: "",
                    framework: "express",
                    provider: "rules",
                },
            )
            .await
        })
    })
    .await
    .unwrap();
    let failed: Result<(), _> = db
        .as_user(&token, |conn| {
            Box::pin(async move {
                sqlx::query("INSERT INTO projects (slug, name, framework) VALUES ('dropped', 'D', 'fastapi')")
                    .execute(&mut *conn)
                    .await?;
                Err(apiforge::db::DbError::NotSignedIn)
            })
        })
        .await;
    assert!(failed.is_err());
    let mut tx = db.begin_as(&token).await.unwrap();
    let slugs: Vec<String> = apiforge::db::projects::list(&mut tx)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.slug)
        .collect();
    assert_eq!(slugs, vec!["kept".to_owned()]);
}
