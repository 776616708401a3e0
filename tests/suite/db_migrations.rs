//! Migrations on a real cluster: apply on an empty database, again as a no-op, and
//! from several connections at once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use apiforge::db::local_cluster::OWNER_ROLE;
use sqlx::{AssertSqlSafe, Connection, PgConnection};

async fn empty_database(name: &str) -> sqlx::postgres::PgConnectOptions {
    let server = support::server();
    let mut admin = PgConnection::connect_with(&server.admin()).await.unwrap();
    sqlx::query(AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    sqlx::query(AssertSqlSafe(format!(
        "CREATE DATABASE {name} OWNER {OWNER_ROLE}"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    server.options(OWNER_ROLE, name)
}

async fn table_count(conn: &mut PgConnection) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_one(conn)
    .await
    .unwrap()
}

#[tokio::test]
async fn migrations_apply_to_an_empty_database_and_again_as_a_no_op() {
    let opts = empty_database(&format!("mig_once_{}", std::process::id())).await;
    let mut conn = PgConnection::connect_with(&opts).await.unwrap();
    assert_eq!(table_count(&mut conn).await, 0);
    apiforge::db::MIGRATOR.run(&mut conn).await.unwrap();
    let tables = table_count(&mut conn).await;
    // users, sessions, login_codes, projects, versions, blobs, version_files, jobs,
    // job_steps, job_events, test_runs, deployments, git_remotes + _sqlx_migrations
    assert_eq!(tables, 14);
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    apiforge::db::MIGRATOR.run(&mut conn).await.unwrap();
    let again: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(applied, again);
    assert_eq!(table_count(&mut conn).await, tables);
}

#[tokio::test]
async fn concurrent_migrations_all_succeed_once() {
    let opts = empty_database(&format!("mig_many_{}", std::process::id())).await;
    let runs = (0..4).map(|_| {
        let opts = opts.clone();
        async move {
            let pool = sqlx::PgPool::connect_with(opts).await.unwrap();
            let result = apiforge::db::MIGRATOR.run(&pool).await;
            pool.close().await;
            result
        }
    });
    // One task, four connections: the migrations really race inside Postgres.
    for r in futures::future::join_all(runs).await {
        r.unwrap();
    }
    let mut conn = PgConnection::connect_with(&opts).await.unwrap();
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        usize::try_from(applied).unwrap(),
        apiforge::db::MIGRATOR.iter().count()
    );
}

#[tokio::test]
async fn a_server_that_ends_the_connection_counts_as_unavailable() {
    // What a client sees while the cluster shuts down: 57P01, "terminating connection
    // due to administrator command". The TUI retries such errors quietly instead of
    // showing them beside the outage notice.
    let t = support::TestDb::new().await;
    let db = t.db().await;
    let mut conn = db.owner().unwrap().acquire().await.unwrap();
    let err = sqlx::query("SELECT pg_terminate_backend(pg_backend_pid())")
        .execute(&mut *conn)
        .await
        .unwrap_err();
    let err = apiforge::db::DbError::Query(err);
    assert!(err.is_unavailable(), "{err:?}");

    // A rejected query is not an outage.
    let err = sqlx::query("SELECT no_such_column FROM projects")
        .execute(db.owner().unwrap())
        .await
        .unwrap_err();
    assert!(!apiforge::db::DbError::Query(err).is_unavailable());
}
