//! Runs the editor's requests against the database: reading a version's files and
//! submitting the `save` job the way `apiforge save` does.

use std::sync::Arc;

use super::{EditorRequest, EditorResult};
use crate::auth::Session;
use crate::db::projects;
use crate::engine::JobRequest;
use crate::pipeline::launch::submit;
use crate::pipeline::{SAVE, SaveInput};
use crate::sandbox::Backend;
use crate::versions;

/// The handles `perform` needs.
#[derive(Clone)]
pub struct EditorServices {
    pub session: Arc<Session>,
    /// Where the save job runs the tests.
    pub sandbox: Backend,
}

/// Runs `request`. Failures come back as `LoadFailed`/`SaveFailed` with a message
/// for the pane, and are logged.
pub async fn perform(request: EditorRequest, services: &EditorServices) -> EditorResult {
    let result = run(request, services).await;
    match &result {
        EditorResult::LoadFailed {
            project,
            version,
            message,
        } => tracing::warn!(%project, version, "cannot load the files: {message}"),
        EditorResult::SaveFailed { message } => tracing::warn!("cannot save: {message}"),
        EditorResult::SaveSubmitted { job, warning } => {
            tracing::info!(job, warning = warning.as_deref(), "save submitted");
        }
        _ => {}
    }
    result
}

async fn run(request: EditorRequest, services: &EditorServices) -> EditorResult {
    match request {
        EditorRequest::Load { project, version } => match load(services, project, version).await {
            Ok(files) => EditorResult::Loaded {
                project,
                version,
                files,
            },
            Err(message) => EditorResult::LoadFailed {
                project,
                version,
                message,
            },
        },
        EditorRequest::Save {
            project,
            parent_version,
            files,
            message,
        } => match save(services, project, parent_version, files, message).await {
            Ok(result) => result,
            Err(message) => EditorResult::SaveFailed { message },
        },
    }
}

async fn load(
    services: &EditorServices,
    project: uuid::Uuid,
    version: i32,
) -> Result<crate::codegen::GeneratedFiles, String> {
    let session = &services.session;
    let mut tx = session
        .db
        .begin_as(&session.token)
        .await
        .map_err(|e| e.to_string())?;
    let files = versions::read_contents(&mut tx, project, version)
        .await
        .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;
    Ok(files)
}

async fn save(
    services: &EditorServices,
    project: uuid::Uuid,
    parent_version: i32,
    files: crate::codegen::GeneratedFiles,
    message: String,
) -> Result<EditorResult, String> {
    let session = &services.session;
    // The save job builds on the project's latest version; say so when that is no
    // longer the one the edits started from.
    let latest = {
        let mut tx = session
            .db
            .begin_as(&session.token)
            .await
            .map_err(|e| e.to_string())?;
        let found = projects::get(&mut tx, project)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the project no longer exists")?;
        tx.commit().await.map_err(|e| e.to_string())?;
        found.latest_version
    };
    let warning = match latest {
        Some(latest) if latest != parent_version => Some(format!(
            "v{latest} was made after v{parent_version}, which you edited; the new version takes your files over v{latest} (v{latest} stays in the history)"
        )),
        _ => None,
    };
    let input = SaveInput {
        project,
        files,
        message,
        sandbox: services.sandbox,
    };
    let input = serde_json::to_value(&input)
        .map_err(|e| format!("cannot encode the save job's input: {e}"))?;
    let submitted = submit(session, &JobRequest::new(SAVE, input).project(project))
        .await
        .map_err(|e| e.to_string())?;
    Ok(EditorResult::SaveSubmitted {
        job: submitted.job,
        warning,
    })
}
