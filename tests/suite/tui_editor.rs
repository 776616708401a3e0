//! The editor pane against a real database: its requests load a stored version and
//! submit the same `save` job `apiforge save` submits.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::draft;
use crate::support;

use std::sync::Arc;

use apiforge::auth::local_sign_in::Identity;
use apiforge::cli::context::Session;
use apiforge::db::projects;
use apiforge::engine::queue;
use apiforge::pipeline::{SAVE, SaveInput};
use apiforge::sandbox::Backend;
use apiforge::tui::editor::{Editor, EditorRequest, EditorResult, EditorServices, perform};
use apiforge::tui::outcome::Outcome;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use draft::{Draft, design, files, project};
use support::TestDb;

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

struct Fixture {
    _tdb: TestDb,
    services: EditorServices,
    project: projects::Project,
}

async fn fixture() -> Fixture {
    let tdb = TestDb::new().await;
    let db = tdb.db().await;
    let (user, token) = tdb.user(&db, "editor@example.com").await;
    let p = project(&db, &token, user, "Bakery").await;
    let v1 = files(&[("app/main.py", "print(1)\n"), ("README.md", "# Bakery\n")]);
    Draft::generated("a bakery", design("one_resource"), v1)
        .record(&db, &token, p.id, user)
        .await;
    let mut tx = db.begin_as(&token).await.unwrap();
    let project = projects::get(&mut tx, p.id).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    assert_eq!(project.latest_version, Some(1));
    let session = Session {
        db,
        token,
        identity: Identity {
            id: user,
            email: "editor@example.com".into(),
            display_name: "Editor".into(),
        },
    };
    Fixture {
        _tdb: tdb,
        services: EditorServices {
            session: Arc::new(session),
            sandbox: Backend::Process,
        },
        project,
    }
}

async fn queued_save(
    services: &EditorServices,
    job: i64,
) -> (apiforge::engine::JobRecord, SaveInput) {
    let session = &services.session;
    let mut tx = session.db.begin_as(&session.token).await.unwrap();
    let record = queue::get(&mut tx, job)
        .await
        .unwrap()
        .expect("the job exists");
    tx.commit().await.unwrap();
    let input: SaveInput = serde_json::from_value(record.input.clone()).unwrap();
    (record, input)
}

#[tokio::test]
async fn an_edit_made_with_keys_is_submitted_as_a_save_job_of_every_file() {
    let f = fixture().await;
    let mut editor = Editor::new();
    let request = editor.load(&f.project).expect("the project has a version");
    let loaded = perform(request, &f.services).await;
    assert!(
        matches!(&loaded, EditorResult::Loaded { files, .. } if files.len() == 2),
        "{loaded:?}"
    );
    editor.apply(loaded);

    // The tree: app/, app/main.py, README.md.
    for k in [key(KeyCode::Char('j')), key(KeyCode::Enter)] {
        assert_eq!(editor.handle_key(k), Outcome::Consumed);
    }
    assert_eq!(editor.open_file(), Some("app/main.py"));
    for c in "x = 2\n".chars() {
        editor.handle_key(key(KeyCode::Char(c)));
    }
    let Outcome::Request(save) =
        editor.handle_key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL))
    else {
        panic!("Ctrl-S asks for a save");
    };
    assert!(matches!(
        save,
        EditorRequest::Save {
            parent_version: 1,
            ..
        }
    ));
    let submitted = perform(save, &f.services).await;
    let EditorResult::SaveSubmitted { job, warning: None } = submitted else {
        panic!("the save is submitted: {submitted:?}");
    };
    editor.apply(submitted);
    assert!(
        editor.has_unsaved(),
        "unsaved until the job records the version"
    );

    let (record, input) = queued_save(&f.services, job).await;
    assert_eq!(record.kind, SAVE);
    assert_eq!(record.project_id, Some(f.project.id));
    assert_eq!(record.state, "queued");
    assert_eq!(input.project, f.project.id);
    assert_eq!(input.sandbox, Backend::Process);
    assert_eq!(input.message, "edited app/main.py");
    assert_eq!(
        input.files,
        files(&[
            ("app/main.py", "x = 2\nprint(1)\n"),
            ("README.md", "# Bakery\n")
        ])
    );
}

#[tokio::test]
async fn saving_over_a_newer_version_warns_and_missing_versions_fail_to_load() {
    let f = fixture().await;
    let session = &f.services.session;
    Draft::generated(
        "again",
        design("one_resource"),
        files(&[("app/main.py", "print(2)\n")]),
    )
    .parent(1)
    .record(
        &session.db,
        &session.token,
        f.project.id,
        session.identity.id,
    )
    .await;
    let result = perform(
        EditorRequest::Save {
            project: f.project.id,
            parent_version: 1,
            files: files(&[("app/main.py", "print(3)\n")]),
            message: "edited app/main.py".into(),
        },
        &f.services,
    )
    .await;
    let EditorResult::SaveSubmitted {
        warning: Some(warning),
        ..
    } = result
    else {
        panic!("submitted with a warning: {result:?}");
    };
    assert!(warning.contains("v2 was made after v1"), "{warning}");

    let missing = perform(
        EditorRequest::Load {
            project: f.project.id,
            version: 7,
        },
        &f.services,
    )
    .await;
    let EditorResult::LoadFailed {
        version: 7,
        message,
        ..
    } = missing
    else {
        panic!("version 7 does not exist: {missing:?}");
    };
    assert!(!message.is_empty());

    let gone = perform(
        EditorRequest::Save {
            project: uuid::Uuid::from_u128(42),
            parent_version: 1,
            files: files(&[("a.py", "")]),
            message: "x".into(),
        },
        &f.services,
    )
    .await;
    assert_eq!(
        gone,
        EditorResult::SaveFailed {
            message: "the project no longer exists".into()
        }
    );
}
