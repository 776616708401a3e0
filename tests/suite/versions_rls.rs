//! Through the client role, user B sees and touches none of user A's versions, files,
//! blobs or test runs, whichever versions function or SQL B uses.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::draft;
use crate::support;

use apiforge::codegen::Framework;
use apiforge::db::projects::{self, NamedProject};
use apiforge::sandbox::Backend;
use apiforge::versions::{self, NewTestRun, VersionError};
use chrono::Utc;
use draft::{Draft, count_all, design, files, project};
use support::TestDb;

#[tokio::test]
async fn another_user_sees_none_of_a_users_versions() {
    let tdb = TestDb::new().await;
    let db = tdb.db().await;
    let (a, ta) = tdb.user(&db, "a@example.com").await;
    let (b, tb) = tdb.user(&db, "b@example.com").await;
    let p = project(&db, &ta, a, "Private").await;
    let secret = files(&[("secret.py", "TOKEN = 'a-only'\n")]);
    let v1 = Draft::generated("v1", design("one_resource"), secret.clone())
        .record(&db, &ta, p.id, a)
        .await;
    let report = serde_json::json!({"ok": true});
    let mut tx = db.begin_as(&ta).await.unwrap();
    let now = Utc::now();
    versions::record_test_run(
        &mut tx,
        &NewTestRun {
            version: v1.id,
            job: None,
            sandbox: Backend::Process,
            passed: 1,
            failed: 0,
            skipped: 0,
            report: &report,
            started_at: now,
            finished_at: now,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let mut tx = db.begin_as(&tb).await.unwrap();
    assert_eq!(projects::get(&mut tx, p.id).await.unwrap(), None);
    assert_eq!(
        projects::get_by_slug(&mut tx, a, &p.slug).await.unwrap(),
        None
    );
    assert!(versions::list(&mut tx, p.id).await.unwrap().is_empty());
    assert!(matches!(
        versions::get(&mut tx, p.id, 1).await,
        Err(VersionError::VersionNotFound { .. })
    ));
    assert!(matches!(
        versions::read_file(&mut tx, p.id, 1, "secret.py").await,
        Err(VersionError::VersionNotFound { .. })
    ));
    assert!(matches!(
        versions::diff(&mut tx, p.id, 1, 1).await,
        Err(VersionError::VersionNotFound { .. })
    ));
    assert!(
        versions::test_runs(&mut tx, v1.id)
            .await
            .unwrap()
            .is_empty()
    );
    for table in [
        "projects",
        "versions",
        "version_files",
        "blobs",
        "test_runs",
    ] {
        let n: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                .fetch_one(&mut *tx)
                .await
                .unwrap();
        assert_eq!(n, 0, "B sees rows of {table}");
    }
    drop(tx);

    // Nor can B write into A's project or mark A's version.
    let mut tx = db.begin_as(&tb).await.unwrap();
    let intrusion = Draft::generated("evil", design("one_resource"), files(&[("x.py", "x\n")]));
    assert!(matches!(
        intrusion.record_on(&mut tx, p.id, b).await,
        Err(VersionError::ProjectNotFound(_))
    ));
    assert!(matches!(
        versions::restore(&mut tx, p.id, 1, b).await,
        Err(VersionError::ProjectNotFound(_))
    ));
    assert!(matches!(
        versions::record_test_run(
            &mut tx,
            &NewTestRun {
                version: v1.id,
                job: None,
                sandbox: Backend::Process,
                passed: 0,
                failed: 5,
                skipped: 0,
                report: &report,
                started_at: now,
                finished_at: now,
            },
        )
        .await,
        Err(VersionError::VersionIdNotFound(_))
    ));
    assert!(matches!(
        versions::set_git_commit(&mut tx, v1.id, "evil").await,
        Err(VersionError::VersionIdNotFound(_))
    ));
    assert!(
        !projects::set_status(&mut tx, p.id, projects::ProjectStatus::Failing)
            .await
            .unwrap()
    );
    drop(tx);
    // Creating a project in A's name is refused by the database.
    let mut tx = db.begin_as(&tb).await.unwrap();
    let forged = projects::create_named(
        &mut tx,
        &NamedProject {
            owner: a,
            name: "Forged",
            description: "",
            framework: Framework::Fastapi,
            provider: "rules",
        },
    )
    .await;
    assert!(forged.is_err(), "B created a project owned by A");
    drop(tx);

    // B storing the same content gets a blob of its own: deduplication never crosses
    // users, so it reveals nothing about A's files.
    let pb = project(&db, &tb, b, "Mine").await;
    Draft::generated("same", design("one_resource"), secret.clone())
        .record(&db, &tb, pb.id, b)
        .await;
    assert_eq!(count_all(&db, "blobs").await, 2);
    let mut tx = db.begin_as(&tb).await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM blobs")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(n, 1);
    drop(tx);

    // A's data is intact and A still sees all of it.
    let mut tx = db.begin_as(&ta).await.unwrap();
    let mine = versions::get(&mut tx, p.id, 1).await.unwrap();
    assert_eq!(mine.summary.check_status, versions::CheckStatus::Passing);
    assert_eq!(mine.summary.git_commit, None);
    assert_eq!(versions::list(&mut tx, p.id).await.unwrap().len(), 1);
    assert_eq!(
        versions::read_contents(&mut tx, p.id, 1).await.unwrap(),
        secret
    );
    assert_eq!(
        projects::get(&mut tx, p.id).await.unwrap().unwrap().status,
        "new"
    );
}
