//! Versions on a real cluster: numbering (also under concurrency), content-addressed
//! storage, read back, restore, diff, test runs, the worker's owner transaction and
//! hand edits carried into an iteration by the three-way merge.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::draft;
use crate::support;

use std::collections::BTreeSet;

use apiforge::codegen::Framework;
use apiforge::db::projects;
use apiforge::sandbox::Backend;
use apiforge::versions::{
    self, ChangeKind, CheckStatus, ConflictKind, FileChange, NewTestRun, Origin, VersionError,
};
use chrono::Utc;
use draft::{Draft, count_all, design, design_with_field, files, project, spec};
use support::TestDb;

#[tokio::test]
async fn numbers_count_up_and_history_reads_back() {
    let tdb = TestDb::new().await;
    let db = tdb.db().await;
    let (user, token) = tdb.user(&db, "a@example.com").await;
    let p = project(&db, &token, user, "Secret Notes").await;
    assert_eq!(p.slug, "secret-notes");
    assert_eq!(p.latest_version, None);

    let f1 = files(&[("app/main.py", "print(1)\n"), ("README.md", "# Notes\n")]);
    let v1 = Draft::generated("notes with a title", design("one_resource"), f1.clone())
        .record(&db, &token, p.id, user)
        .await;
    let f2 = files(&[("app/main.py", "print(2)\n"), ("README.md", "# Notes\n")]);
    let v2 = Draft::generated("add tags", design_with_field("one_resource", "tags"), f2)
        .parent(1)
        .record(&db, &token, p.id, user)
        .await;
    let v3 = Draft::generated("again", design("one_resource"), f1.clone())
        .parent(2)
        .record(&db, &token, p.id, user)
        .await;
    assert_eq!((v1.number, v2.number, v3.number), (1, 2, 3));

    let mut tx = db.begin_as(&token).await.unwrap();
    let history = versions::list(&mut tx, p.id).await.unwrap();
    assert_eq!(
        history
            .iter()
            .map(|v| (v.number, v.parent, v.prompt.as_str()))
            .collect::<Vec<_>>(),
        vec![
            (1, None, "notes with a title"),
            (2, Some(1), "add tags"),
            (3, Some(2), "again")
        ]
    );
    assert!(history.iter().all(|v| v.created_by == user
        && v.origin == Origin::Generate
        && v.check_status == CheckStatus::Untested));

    let got = versions::get(&mut tx, p.id, 2).await.unwrap();
    assert_eq!(got.design, design_with_field("one_resource", "tags"));
    assert_eq!(got.spec, spec(&got.design));
    assert_eq!(got.framework, Framework::Fastapi);
    assert_eq!(
        got.files
            .iter()
            .map(|f| f.path.as_str())
            .collect::<Vec<_>>(),
        ["README.md", "app/main.py"]
    );
    assert_eq!(got.files[1].size, 9);
    assert_eq!(versions::read_contents(&mut tx, p.id, 1).await.unwrap(), f1);
    let one = versions::read_file(&mut tx, p.id, 2, "app/main.py")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((one.content.as_str(), one.generated), ("print(2)\n", true));
    assert_eq!(
        versions::read_file(&mut tx, p.id, 2, "nope.py")
            .await
            .unwrap(),
        None
    );
    let project = projects::get(&mut tx, p.id).await.unwrap().unwrap();
    assert_eq!(project.latest_version, Some(3));
    assert!(project.updated_at >= p.updated_at);
    assert!(matches!(
        versions::get(&mut tx, p.id, 4).await,
        Err(VersionError::VersionNotFound { number: 4, .. })
    ));
}

#[tokio::test]
async fn concurrent_records_on_one_project_get_distinct_numbers() {
    let tdb = TestDb::new().await;
    let db = tdb.db().await;
    let (user, token) = tdb.user(&db, "a@example.com").await;
    let p = project(&db, &token, user, "Race").await;
    let mut tasks = Vec::new();
    for i in 0..12 {
        let (db, token) = (db.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let f = files(&[
                ("main.py", &format!("print({i})\n")),
                ("same.txt", "same\n"),
            ]);
            Draft::generated(&format!("run {i}"), design("one_resource"), f)
                .record(&db, &token, p.id, user)
                .await
                .number
        }));
    }
    let mut numbers = BTreeSet::new();
    for t in tasks {
        assert!(numbers.insert(t.await.unwrap()), "a number was given twice");
    }
    assert_eq!(numbers, (1..=12).collect());
    // The shared file was stored once although every call raced to store it.
    assert_eq!(count_all(&db, "blobs").await, 13);
    let mut tx = db.begin_as(&token).await.unwrap();
    let latest = projects::get(&mut tx, p.id).await.unwrap().unwrap();
    assert_eq!(latest.latest_version, Some(12));
}

#[tokio::test]
async fn unchanged_files_are_stored_once() {
    let tdb = TestDb::new().await;
    let db = tdb.db().await;
    let (user, token) = tdb.user(&db, "a@example.com").await;
    let p = project(&db, &token, user, "Dedupe").await;
    let mut f: Vec<(String, String)> = (0..5)
        .map(|i| (format!("src/f{i}.py"), format!("# file {i}\n")))
        .collect();
    let as_files = |f: &[(String, String)]| {
        f.iter()
            .map(|(p, c)| (p.clone(), c.clone()))
            .collect::<apiforge::codegen::GeneratedFiles>()
    };
    Draft::generated("v1", design("one_resource"), as_files(&f))
        .record(&db, &token, p.id, user)
        .await;
    f[2].1 = "# changed\n".into();
    Draft::generated("v2", design("one_resource"), as_files(&f))
        .record(&db, &token, p.id, user)
        .await;
    // Same content under two paths is one blob too.
    f.push(("copy.py".into(), "# file 0\n".into()));
    Draft::generated("v3", design("one_resource"), as_files(&f))
        .record(&db, &token, p.id, user)
        .await;
    assert_eq!(count_all(&db, "blobs").await, 6);
    assert_eq!(count_all(&db, "version_files").await, 5 + 5 + 6);
}

#[tokio::test]
async fn restore_records_a_new_version_equal_to_the_old_one() {
    let tdb = TestDb::new().await;
    let db = tdb.db().await;
    let (user, token) = tdb.user(&db, "a@example.com").await;
    let p = project(&db, &token, user, "Restore").await;
    let mut d1 = Draft::generated(
        "first",
        design("one_resource"),
        files(&[("a.py", "a\n"), ("edited.py", "mine\n")]),
    );
    d1.generated.remove("edited.py");
    d1.record(&db, &token, p.id, user).await;
    Draft::generated(
        "second",
        design_with_field("one_resource", "colour"),
        files(&[("a.py", "A\n"), ("b.py", "b\n")]),
    )
    .parent(1)
    .record(&db, &token, p.id, user)
    .await;
    let blobs_before = count_all(&db, "blobs").await;

    let mut tx = db.begin_as(&token).await.unwrap();
    let v3 = versions::restore(&mut tx, p.id, 1, user).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(v3.number, 3);

    let mut tx = db.begin_as(&token).await.unwrap();
    let old = versions::get(&mut tx, p.id, 1).await.unwrap();
    let new = versions::get(&mut tx, p.id, 3).await.unwrap();
    assert_eq!(new.summary.origin, Origin::Restore);
    assert_eq!(new.summary.parent, Some(2));
    assert_eq!(new.design, old.design);
    assert_eq!(new.spec, old.spec);
    assert_eq!(
        new.files, old.files,
        "same paths, hashes and generated flags"
    );
    assert_eq!(
        versions::read_files(&mut tx, p.id, 3).await.unwrap(),
        versions::read_files(&mut tx, p.id, 1).await.unwrap()
    );
    assert!(
        versions::diff(&mut tx, p.id, 1, 3)
            .await
            .unwrap()
            .is_empty()
    );
    // History is untouched: version 2 is still there and unchanged.
    let v2 = versions::get(&mut tx, p.id, 2).await.unwrap();
    assert_eq!(v2.design, design_with_field("one_resource", "colour"));
    drop(tx);
    assert_eq!(count_all(&db, "blobs").await, blobs_before);

    let mut tx = db.begin_as(&token).await.unwrap();
    assert!(matches!(
        versions::restore(&mut tx, p.id, 9, user).await,
        Err(VersionError::VersionNotFound { number: 9, .. })
    ));
}

#[tokio::test]
async fn diff_shows_design_and_file_changes() {
    let tdb = TestDb::new().await;
    let db = tdb.db().await;
    let (user, token) = tdb.user(&db, "a@example.com").await;
    let p = project(&db, &token, user, "Diff").await;
    Draft::generated(
        "v1",
        design("one_resource"),
        files(&[
            ("same.py", "same\n"),
            ("changed.py", "one\ntwo\nthree\n"),
            ("gone.py", "bye\n"),
        ]),
    )
    .record(&db, &token, p.id, user)
    .await;
    let mut d2 = design_with_field("one_resource", "colour");
    // Removing a field breaks existing clients.
    d2.resources[0].fields.retain(|f| f.name != "author");
    Draft::generated(
        "v2",
        d2,
        files(&[
            ("same.py", "same\n"),
            ("changed.py", "one\nTWO\nthree\n"),
            ("new.py", "hello\n"),
        ]),
    )
    .parent(1)
    .record(&db, &token, p.id, user)
    .await;

    let mut tx = db.begin_as(&token).await.unwrap();
    let d = versions::diff(&mut tx, p.id, 1, 2).await.unwrap();
    assert_eq!((d.from, d.to, d.framework), (1, 2, None));
    assert!(d.spec_changed);
    let colour = d
        .design
        .changes
        .iter()
        .find(|c| c.path == "resources.book.fields.colour")
        .expect("the added field is listed");
    assert_eq!((colour.kind, colour.breaking), (ChangeKind::Added, false));
    let body = d
        .design
        .changes
        .iter()
        .find(|c| c.path == "resources.book.fields.author")
        .expect("the removed field is listed");
    assert_eq!((body.kind, body.breaking), (ChangeKind::Removed, true));
    assert!(d.design.is_breaking());
    assert_eq!(
        d.files
            .iter()
            .map(|f| (f.path.as_str(), f.change))
            .collect::<Vec<_>>(),
        [
            ("changed.py", FileChange::Changed),
            ("gone.py", FileChange::Removed),
            ("new.py", FileChange::Added)
        ]
    );
    assert_eq!(
        d.files[0].unified,
        "--- a/changed.py\n+++ b/changed.py\n@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n"
    );
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json["files"][2]["change"], "added");
    // The reverse diff mirrors it.
    let back = versions::diff(&mut tx, p.id, 2, 1).await.unwrap();
    assert_eq!(back.files[1].change, FileChange::Added);
    assert_eq!(back.files[1].path, "gone.py");
}

#[tokio::test]
async fn test_runs_mark_versions_passing_or_failing() {
    let tdb = TestDb::new().await;
    let db = tdb.db().await;
    let (user, token) = tdb.user(&db, "a@example.com").await;
    let p = project(&db, &token, user, "Runs").await;
    let v = Draft::generated("v1", design("one_resource"), files(&[("a.py", "a\n")]))
        .record(&db, &token, p.id, user)
        .await;
    let report = serde_json::json!({"cases": [{"name": "create", "ok": false}]});
    let mut tx = db.begin_as(&token).await.unwrap();
    let start = Utc::now();
    let run = |passed, failed| NewTestRun {
        version: v.id,
        job: None,
        sandbox: Backend::Process,
        passed,
        failed,
        skipped: 0,
        report: &report,
        started_at: start,
        finished_at: start + chrono::Duration::milliseconds(i64::from(passed) + 1),
    };
    let (first, status) = versions::record_test_run(&mut tx, &run(3, 1))
        .await
        .unwrap();
    assert_eq!(status, CheckStatus::Failing);
    let listed = versions::list(&mut tx, p.id).await.unwrap();
    assert_eq!(listed[0].check_status, CheckStatus::Failing);
    let (second, status) = versions::record_test_run(&mut tx, &run(4, 0))
        .await
        .unwrap();
    assert_eq!(status, CheckStatus::Passing);
    assert_eq!(
        versions::get(&mut tx, p.id, 1)
            .await
            .unwrap()
            .summary
            .check_status,
        CheckStatus::Passing
    );
    let runs = versions::test_runs(&mut tx, v.id).await.unwrap();
    assert_eq!(
        runs.iter()
            .map(|r| (r.id, r.passed, r.failed))
            .collect::<Vec<_>>(),
        [(second, 4, 0), (first, 3, 1)]
    );
    assert_eq!(runs[1].report, report);
    assert_eq!(runs[0].sandbox, "process");
    // Nothing ran: proves nothing, so failing.
    let (_, status) = versions::record_test_run(&mut tx, &run(0, 0))
        .await
        .unwrap();
    assert_eq!(status, CheckStatus::Failing);
    versions::set_git_commit(&mut tx, v.id, "0123abc")
        .await
        .unwrap();
    assert_eq!(
        versions::list(&mut tx, p.id).await.unwrap()[0]
            .git_commit
            .as_deref(),
        Some("0123abc")
    );
}

#[tokio::test]
async fn the_worker_records_for_the_user_without_a_session() {
    let tdb = TestDb::new().await;
    let db = tdb.db().await;
    let (user, token) = tdb.user(&db, "a@example.com").await;
    let p = project(&db, &token, user, "Worker").await;
    let mut tx = db.owner().unwrap().begin().await.unwrap();
    let v = Draft::generated(
        "by the worker",
        design("one_resource"),
        files(&[("a.py", "a\n")]),
    )
    .record_on(&mut tx, p.id, user)
    .await
    .unwrap();
    projects::set_status(&mut tx, p.id, projects::ProjectStatus::Passing)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(v.number, 1);
    let mut tx = db.begin_as(&token).await.unwrap();
    let got = versions::get(&mut tx, p.id, 1).await.unwrap();
    assert_eq!(got.summary.created_by, user);
    assert_eq!(
        versions::read_contents(&mut tx, p.id, 1).await.unwrap(),
        files(&[("a.py", "a\n")])
    );
    let project = projects::get(&mut tx, p.id).await.unwrap().unwrap();
    assert_eq!(project.status, "passing");
}

#[tokio::test]
async fn invalid_versions_are_refused_with_nothing_stored() {
    let tdb = TestDb::new().await;
    let db = tdb.db().await;
    let (user, token) = tdb.user(&db, "a@example.com").await;
    let p = project(&db, &token, user, "Invalid").await;
    let mut tx = db.begin_as(&token).await.unwrap();
    let bad_path = Draft::generated("x", design("one_resource"), files(&[("../x", "a\n")]));
    assert!(matches!(
        bad_path.record_on(&mut tx, p.id, user).await,
        Err(VersionError::BadPath { .. })
    ));
    let mut stray = Draft::generated("x", design("one_resource"), files(&[("a", "a\n")]));
    stray.generated.insert("b".into());
    assert!(matches!(
        stray.record_on(&mut tx, p.id, user).await,
        Err(VersionError::UnknownGenerated { .. })
    ));
    let orphan = Draft::generated("x", design("one_resource"), files(&[("a", "a\n")])).parent(7);
    assert!(matches!(
        orphan.record_on(&mut tx, p.id, user).await,
        Err(VersionError::VersionNotFound { number: 7, .. })
    ));
    let nowhere = Draft::generated("x", design("one_resource"), files(&[("a", "a\n")]));
    assert!(matches!(
        nowhere.record_on(&mut tx, uuid::Uuid::new_v4(), user).await,
        Err(VersionError::ProjectNotFound(_))
    ));
    tx.commit().await.unwrap();
    assert_eq!(count_all(&db, "versions").await, 0);
    assert_eq!(count_all(&db, "blobs").await, 0);
}

#[tokio::test]
async fn slugs_are_unique_per_owner() {
    let tdb = TestDb::new().await;
    let db = tdb.db().await;
    let (a, ta) = tdb.user(&db, "a@example.com").await;
    let (b, tb) = tdb.user(&db, "b@example.com").await;
    let first = project(&db, &ta, a, "Bakery API").await;
    let second = project(&db, &ta, a, "Bakery  API!").await;
    let third = project(&db, &ta, a, "bakery api").await;
    let others = project(&db, &tb, b, "Bakery API").await;
    assert_eq!(
        [first.slug, second.slug, third.slug, others.slug],
        ["bakery-api", "bakery-api-2", "bakery-api-3", "bakery-api"]
    );
    let mut tx = db.begin_as(&ta).await.unwrap();
    let found = projects::get_by_slug(&mut tx, a, "bakery-api-2")
        .await
        .unwrap();
    assert_eq!(found.map(|p| p.name), Some("Bakery  API!".to_owned()));
}

/// An iteration regenerates the files while the parent holds a hand edit: the edit is
/// carried over by the three-way merge, and a clashing edit is reported, not lost.
#[tokio::test]
async fn hand_edits_survive_an_iteration() {
    let tdb = TestDb::new().await;
    let db = tdb.db().await;
    let (user, token) = tdb.user(&db, "a@example.com").await;
    let p = project(&db, &token, user, "Merge").await;
    let generated_v1 = files(&[
        (
            "app/main.py",
            "import app\n\ndef main():\n    run()\n\n\ndef helper():\n    pass\n",
        ),
        (
            "app/models.py",
            "class Note:\n    title: str\n\n\nclass Tag:\n    name: str\n",
        ),
        ("notes.md", "generated notes\n"),
    ]);
    Draft::generated("notes", design("one_resource"), generated_v1.clone())
        .record(&db, &token, p.id, user)
        .await;
    // The user edits main.py's helper and models.py, and deletes notes.md.
    let mut edited = generated_v1.clone();
    edited.insert(
        "app/main.py".into(),
        "import app\n\ndef main():\n    run()\n\n\ndef helper():\n    return 42\n".into(),
    );
    edited.insert(
        "app/models.py".into(),
        "class Note:\n    title: str  # mine\n\n\nclass Tag:\n    name: str\n".into(),
    );
    edited.remove("notes.md");
    let mut edit = Draft::generated("hand edit", design("one_resource"), edited);
    edit.origin = Origin::Edit;
    edit.generated = BTreeSet::new();
    edit.parent(1).record(&db, &token, p.id, user).await;

    // Regeneration changes main() (not the helper), another class of models.py, notes.md.
    let theirs = files(&[
        (
            "app/main.py",
            "import app\n\ndef main():\n    run(debug=True)\n\n\ndef helper():\n    pass\n",
        ),
        (
            "app/models.py",
            "class Note:\n    title: str\n\n\nclass Tag:\n    name: str\n    colour: str\n",
        ),
        ("notes.md", "regenerated notes\n"),
        ("app/colour.py", "COLOURS = []\n"),
    ]);
    let mut tx = db.begin_as(&token).await.unwrap();
    let base = versions::read_contents(&mut tx, p.id, 1).await.unwrap();
    let ours = versions::read_contents(&mut tx, p.id, 2).await.unwrap();
    let merged = versions::merge(&base, &ours, &theirs);
    assert_eq!(
        merged.files["app/main.py"],
        "import app\n\ndef main():\n    run(debug=True)\n\n\ndef helper():\n    return 42\n"
    );
    assert_eq!(merged.files["app/colour.py"], "COLOURS = []\n");
    let kinds: Vec<_> = merged
        .conflicts
        .iter()
        .map(|c| (c.path.as_str(), c.kind))
        .collect();
    assert_eq!(
        kinds,
        [("notes.md", ConflictKind::DeletedByUs)],
        "models.py: edits to different classes do not overlap"
    );
    assert_eq!(
        merged.files["app/models.py"],
        "class Note:\n    title: str  # mine\n\n\nclass Tag:\n    name: str\n    colour: str\n"
    );
    assert!(merged.files["notes.md"].contains("<<<<<<< ours (deleted)\n"));

    let generated = merged.generated(&theirs);
    let mut iteration = Draft::generated(
        "add a colour",
        design_with_field("one_resource", "colour"),
        merged.files.clone(),
    );
    iteration.origin = Origin::Iterate;
    iteration.generated = generated;
    let v3 = iteration
        .parent(2)
        .record_on(&mut tx, p.id, user)
        .await
        .unwrap();
    assert_eq!(v3.number, 3);
    let stored = versions::read_files(&mut tx, p.id, 3).await.unwrap();
    assert!(!stored["app/main.py"].generated, "carries a hand edit");
    assert!(stored["app/colour.py"].generated);
    assert_eq!(stored["app/main.py"].content, merged.files["app/main.py"]);

    // A second edit clashing with regeneration on the same line is a conflict.
    let clash = files(&[
        (
            "app/main.py",
            "import app\n\ndef main():\n    run(verbose=True)\n\n\ndef helper():\n    pass\n",
        ),
        (
            "app/models.py",
            "class Note:\n    title: str\n\n\nclass Tag:\n    name: str\n",
        ),
        ("notes.md", "generated notes\n"),
    ]);
    let m = versions::merge(&base, &clash, &theirs);
    assert_eq!(m.conflicting_paths().collect::<Vec<_>>(), ["app/main.py"]);
    assert_eq!(m.conflicts[0].kind, ConflictKind::BothChanged);
    assert!(m.files["app/main.py"].contains(
        "<<<<<<< ours\n    run(verbose=True)\n||||||| original\n    run()\n=======\n    run(debug=True)\n>>>>>>> theirs\n"
    ));
}

/// The same through real generated projects: a hand edit of a generated FastAPI file
/// survives regenerating the project for a changed design, with the base regenerated
/// from the parent's design (codegen is deterministic).
#[tokio::test]
async fn hand_edits_of_a_generated_project_survive_regeneration() {
    use apiforge::codegen::project::render_project;
    let tdb = TestDb::new().await;
    let db = tdb.db().await;
    let (user, token) = tdb.user(&db, "a@example.com").await;
    let p = project(&db, &token, user, "Generated").await;
    let d1 = design("one_resource");
    let generated = render_project(&d1, Framework::Fastapi).unwrap();
    Draft::generated("books", d1.clone(), generated.clone())
        .record(&db, &token, p.id, user)
        .await;
    let mut edited = generated.clone();
    let models = edited.get_mut("app/models.py").expect("a models module");
    models.insert_str(0, "# Reviewed by hand.\n");
    let mut edit = Draft::generated("hand edit", d1.clone(), edited);
    edit.origin = Origin::Edit;
    edit.generated.remove("app/models.py");
    edit.parent(1).record(&db, &token, p.id, user).await;

    let d2 = design_with_field("one_resource", "colour");
    let theirs = render_project(&d2, Framework::Fastapi).unwrap();
    assert_ne!(theirs["app/models.py"], generated["app/models.py"]);
    let base = render_project(&d1, Framework::Fastapi).unwrap();
    let mut tx = db.begin_as(&token).await.unwrap();
    let ours = versions::read_contents(&mut tx, p.id, 2).await.unwrap();
    let merged = versions::merge(&base, &ours, &theirs);
    assert!(merged.is_clean(), "{:?}", merged.conflicts);
    let models = &merged.files["app/models.py"];
    assert!(models.starts_with("# Reviewed by hand.\n"));
    assert!(models.contains("colour"), "{models}");
    let generated_paths = merged.generated(&theirs);
    assert_eq!(
        theirs
            .keys()
            .filter(|p| !generated_paths.contains(*p))
            .collect::<Vec<_>>(),
        ["app/models.py"]
    );
    let mut iteration = Draft::generated("add a colour", d2, merged.files.clone());
    iteration.origin = Origin::Iterate;
    iteration.generated = generated_paths;
    iteration
        .parent(2)
        .record_on(&mut tx, p.id, user)
        .await
        .unwrap();
    let d = versions::diff(&mut tx, p.id, 2, 3).await.unwrap();
    assert!(
        d.design
            .changes
            .iter()
            .any(|c| c.path == "resources.book.fields.colour")
    );
    assert!(d.files.iter().any(|f| f.path == "app/models.py"));
    assert!(
        !d.files
            .iter()
            .any(|f| f.unified.contains("-# Reviewed by hand."))
    );
}
