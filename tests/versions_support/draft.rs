//! Shared pieces of the versions tests: a real design and spec, file sets, and a
//! project created through the client role.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use apiforge::auth::SessionToken;
use apiforge::codegen::{Framework, GeneratedFiles};
use apiforge::db::Db;
use apiforge::db::projects::{self, NamedProject, Project};
use apiforge::design::{ApiDesign, Field, FieldType};
use apiforge::versions::{self, NewVersion, Origin, RecordedVersion, VersionError};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

pub fn design(name: &str) -> ApiDesign {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/designs")
        .join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The fixture design with one more field on its first resource.
pub fn design_with_field(name: &str, field: &str) -> ApiDesign {
    let mut d = design(name);
    d.resources[0]
        .fields
        .push(Field::new(field, FieldType::String));
    d
}

pub fn spec(design: &ApiDesign) -> Value {
    apiforge::codegen::openapi::build(design)
}

pub fn files(entries: &[(&str, &str)]) -> GeneratedFiles {
    entries
        .iter()
        .map(|(p, c)| ((*p).to_owned(), (*c).to_owned()))
        .collect()
}

pub fn all_generated(files: &GeneratedFiles) -> BTreeSet<String> {
    files.keys().cloned().collect()
}

/// A project owned by `user`, created through the client role.
pub async fn project(db: &Db, token: &SessionToken, user: Uuid, name: &str) -> Project {
    let mut tx = db.begin_as(token).await.unwrap();
    let p = projects::create_named(
        &mut tx,
        &NamedProject {
            owner: user,
            name,
            description: "",
            framework: Framework::Fastapi,
            provider: "rules",
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    p
}

pub struct Draft {
    pub parent: Option<i32>,
    pub origin: Origin,
    pub prompt: String,
    pub design: ApiDesign,
    pub files: GeneratedFiles,
    pub generated: BTreeSet<String>,
}

impl Draft {
    pub fn generated(prompt: &str, design: ApiDesign, files: GeneratedFiles) -> Self {
        Self {
            parent: None,
            origin: Origin::Generate,
            prompt: prompt.to_owned(),
            generated: all_generated(&files),
            design,
            files,
        }
    }

    pub fn parent(mut self, n: i32) -> Self {
        self.parent = Some(n);
        self
    }

    pub async fn record_on(
        &self,
        conn: &mut PgConnection,
        project: Uuid,
        by: Uuid,
    ) -> Result<RecordedVersion, VersionError> {
        let spec = spec(&self.design);
        versions::record_version(
            conn,
            &NewVersion {
                project,
                parent: self.parent,
                origin: self.origin,
                prompt: &self.prompt,
                design: &self.design,
                spec: &spec,
                framework: Framework::Fastapi,
                files: &self.files,
                generated: &self.generated,
                created_by: by,
            },
        )
        .await
    }

    /// Records in its own client transaction as the holder of `token`.
    pub async fn record(
        &self,
        db: &Db,
        token: &SessionToken,
        project: Uuid,
        by: Uuid,
    ) -> RecordedVersion {
        let mut tx = db.begin_as(token).await.unwrap();
        let v = self.record_on(&mut tx, project, by).await.unwrap();
        tx.commit().await.unwrap();
        v
    }
}

/// Counts rows of `table` as the owner role (every user's rows).
pub async fn count_all(db: &Db, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
        .fetch_one(db.owner().unwrap())
        .await
        .unwrap()
}
