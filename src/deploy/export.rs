//! `apiforge export`: a version's files as a project that runs without apiforge, plus
//! (on request) the Docker files to build and run it anywhere.
//!
//! The Docker files follow what apiforge itself tested: the official base images
//! (`python:3.11-slim`, `node:20-slim`, pinned by tag), exactly the packages of
//! apiforge's runtimes (`src/runtimes/`: the Python pin list, the Node `package.json`
//! and its lock), a non-root user, a `HEALTHCHECK` on `GET /health`, the port from
//! `PORT`, the SQLite database on a volume at `/data`, and
//! `restart: unless-stopped` in `compose.yaml`.
//!
//! Everything here is pure (files in, files out) except [`write`] and
//! [`choose_version`]; the command in `src/cli/export.rs` reads the version from the
//! database.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use minijinja::{AutoEscape, Environment, UndefinedBehavior, context};

use crate::codegen::{Framework, GeneratedFiles};
use crate::design::{ApiDesign, AuthScheme};
use crate::runtimes::{node, python};

/// The files `--docker` adds.
pub const DOCKERFILE: &str = "Dockerfile";
pub const COMPOSE_FILE: &str = "compose.yaml";
pub const DOCKERIGNORE: &str = ".dockerignore";
/// Where an Express export keeps the Node runtime's `package.json` and lock.
pub const NODE_RUNTIME_DIR: &str = "docker/node-runtime";
/// The official base images, pinned by tag.
pub const PYTHON_BASE_IMAGE: &str = "python:3.11-slim";
pub const NODE_BASE_IMAGE: &str = "node:20-slim";

const TEMPLATES: [(&str, &str); 4] = [
    (
        "fastapi.Dockerfile",
        include_str!("../../assets/export/fastapi.Dockerfile.j2"),
    ),
    (
        "express.Dockerfile",
        include_str!("../../assets/export/express.Dockerfile.j2"),
    ),
    (
        "compose.yaml",
        include_str!("../../assets/export/compose.yaml.j2"),
    ),
    (
        "dockerignore",
        include_str!("../../assets/export/dockerignore.j2"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{} exists and is not a directory; choose another --out", .0.display())]
    NotADirectory(PathBuf),
    #[error(
        "{} is not empty; export into a new or empty directory, or pass --force to overwrite the files the export writes",
        .0.display()
    )]
    NotEmpty(PathBuf),
    #[error(
        "the version already has its own {0}; export without --docker to keep it, or remove it from the project first"
    )]
    Collision(String),
    #[error("cannot render {template}: {message}")]
    Template { template: String, message: String },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Why a version was the one exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionChoice {
    /// Asked for with `--version N`.
    Requested,
    /// The version live behind the gateway: what users of the API run today.
    Live,
    /// The newest version, when none is live.
    Latest,
}

impl VersionChoice {
    pub fn as_str(self) -> &'static str {
        match self {
            VersionChoice::Requested => "requested",
            VersionChoice::Live => "live",
            VersionChoice::Latest => "latest",
        }
    }
}

/// The version to export: `requested` when given, else the live one, else the latest;
/// `None` when the project has no version at all.
pub async fn choose_version(
    conn: &mut sqlx::PgConnection,
    project: &crate::db::projects::Project,
    requested: Option<i32>,
) -> Result<Option<(i32, VersionChoice)>, sqlx::Error> {
    if let Some(number) = requested {
        return Ok(Some((number, VersionChoice::Requested)));
    }
    if let Some(live) = super::deployment_row::live(conn, project.id).await? {
        return Ok(Some((live.version, VersionChoice::Live)));
    }
    Ok(project
        .latest_version
        .map(|number| (number, VersionChoice::Latest)))
}

/// What the Docker files are made for.
#[derive(Debug, Clone, Copy)]
pub struct DockerTarget<'a> {
    /// The project's slug (lower-case letters, digits, hyphens).
    pub slug: &'a str,
    /// The version number.
    pub number: i32,
    pub framework: Framework,
    pub design: &'a ApiDesign,
}

impl DockerTarget<'_> {
    /// The tag `compose.yaml` builds: `<slug>:v<N>`.
    pub fn image(&self) -> String {
        format!("{}:v{}", self.slug, self.number)
    }

    /// The environment variable holding the API's secret, when it has auth.
    pub fn secret_env(&self) -> Option<&str> {
        match &self.design.auth {
            AuthScheme::None => None,
            AuthScheme::ApiKey { env_var, .. } | AuthScheme::BearerJwt { env_var } => Some(env_var),
        }
    }
}

static ENVIRONMENT: LazyLock<Result<Environment<'static>, String>> = LazyLock::new(|| {
    let mut env = Environment::new();
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
        .map_err(|e| e.to_string())?;
    env.set_syntax(syntax);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .map_err(|e| format!("template {name}: {e:#}"))?;
    }
    Ok(env)
});

fn render(name: &str, ctx: minijinja::Value) -> Result<String, ExportError> {
    let failed = |message: String| ExportError::Template {
        template: name.to_owned(),
        message,
    };
    let env = ENVIRONMENT.as_ref().map_err(|m| failed(m.clone()))?;
    env.get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| failed(format!("{e:#}")))
}

/// The Docker files for `target`: `Dockerfile`, `compose.yaml`, `.dockerignore`, and
/// for Express the Node runtime's `package.json` and lock under [`NODE_RUNTIME_DIR`].
pub fn docker_files(target: &DockerTarget<'_>) -> Result<GeneratedFiles, ExportError> {
    let image = target.image();
    let apiforge_version = env!("CARGO_PKG_VERSION");
    let mut files = GeneratedFiles::new();
    let dockerfile = match target.framework {
        Framework::Fastapi => render(
            "fastapi.Dockerfile",
            context! {
                slug => target.slug,
                number => target.number,
                image => &image,
                apiforge_version => apiforge_version,
                pins => python::pins(),
            },
        )?,
        Framework::Express => {
            let dependencies = node::pinned_dependencies()
                .iter()
                .map(|(name, version)| format!("{name}@{version}"))
                .collect::<Vec<_>>()
                .join(", ");
            files.insert(
                format!("{NODE_RUNTIME_DIR}/package.json"),
                node::PACKAGE_JSON.to_owned(),
            );
            files.insert(
                format!("{NODE_RUNTIME_DIR}/package-lock.json"),
                node::PACKAGE_LOCK_JSON.to_owned(),
            );
            render(
                "express.Dockerfile",
                context! {
                    slug => target.slug,
                    number => target.number,
                    image => &image,
                    apiforge_version => apiforge_version,
                    dependencies => dependencies,
                    runtime_dir => NODE_RUNTIME_DIR,
                },
            )?
        }
    };
    files.insert(DOCKERFILE.to_owned(), dockerfile);
    files.insert(
        COMPOSE_FILE.to_owned(),
        render(
            "compose.yaml",
            context! {
                slug => target.slug,
                number => target.number,
                image => &image,
                apiforge_version => apiforge_version,
                secret_env => target.secret_env(),
            },
        )?,
    );
    files.insert(
        DOCKERIGNORE.to_owned(),
        render("dockerignore", context! {})?,
    );
    Ok(files)
}

/// The version's files plus `extra` (the Docker files), refusing to replace a file
/// the version has itself.
pub fn combine(
    version_files: GeneratedFiles,
    extra: GeneratedFiles,
) -> Result<GeneratedFiles, ExportError> {
    let mut files = version_files;
    for (path, content) in extra {
        if files.contains_key(&path) {
            return Err(ExportError::Collision(path));
        }
        files.insert(path, content);
    }
    Ok(files)
}

/// Checks that `dir` may receive an export: missing, or an empty directory, or any
/// directory with `force`.
pub fn check_target(dir: &Path, force: bool) -> Result<(), ExportError> {
    match std::fs::metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => {
            Err(std::io::Error::new(e.kind(), format!("cannot read {}: {e}", dir.display())).into())
        }
        Ok(m) if !m.is_dir() => Err(ExportError::NotADirectory(dir.to_path_buf())),
        Ok(_) if force => Ok(()),
        Ok(_) => {
            let mut entries = std::fs::read_dir(dir).map_err(|e| {
                std::io::Error::new(e.kind(), format!("cannot read {}: {e}", dir.display()))
            })?;
            if entries.next().is_some() {
                Err(ExportError::NotEmpty(dir.to_path_buf()))
            } else {
                Ok(())
            }
        }
    }
}

/// Writes `files` into `dir` (see [`check_target`]); each file is written through a
/// temporary name and renamed, as `apiforge files --out` does.
pub fn write(dir: &Path, files: &GeneratedFiles, force: bool) -> Result<(), ExportError> {
    check_target(dir, force)?;
    crate::codegen::project::write_files(dir, files)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn design(auth: AuthScheme) -> ApiDesign {
        let mut design: ApiDesign = serde_json::from_str(include_str!(
            "../../tests/fixtures/designs/one_resource.json"
        ))
        .expect("a valid design");
        design.auth = auth;
        design
    }

    #[test]
    fn fastapi_dockerfile_pins_the_runtime_packages_and_base_image() {
        let design = design(AuthScheme::None);
        let target = DockerTarget {
            slug: "bakery",
            number: 3,
            framework: Framework::Fastapi,
            design: &design,
        };
        let files = docker_files(&target).expect("renders");
        let keys: Vec<&str> = files.keys().map(String::as_str).collect();
        assert_eq!(keys, [DOCKERIGNORE, DOCKERFILE, COMPOSE_FILE]);
        let dockerfile = &files[DOCKERFILE];
        assert!(dockerfile.contains(&format!("FROM {PYTHON_BASE_IMAGE}\n")));
        for pin in python::pins() {
            assert!(
                dockerfile.contains(&format!("        {pin}")),
                "{pin} missing"
            );
        }
        // Continuation lines end in a backslash except the last pin's.
        let last = python::pins().last().copied().expect("pins");
        assert!(
            dockerfile.contains(&format!("        {last}\n\n")),
            "{dockerfile}"
        );
        assert!(!files[COMPOSE_FILE].contains("API_KEY"));
    }

    #[test]
    fn express_export_carries_the_runtime_lock_and_compose_requires_the_secret() {
        let design = design(AuthScheme::ApiKey {
            header: "X-API-Key".into(),
            env_var: "BAKERY_KEY".into(),
        });
        let target = DockerTarget {
            slug: "bakery",
            number: 1,
            framework: Framework::Express,
            design: &design,
        };
        let files = docker_files(&target).expect("renders");
        assert_eq!(
            files[&format!("{NODE_RUNTIME_DIR}/package-lock.json")],
            node::PACKAGE_LOCK_JSON
        );
        assert!(files[DOCKERFILE].contains(&format!("FROM {NODE_BASE_IMAGE}\n")));
        assert!(
            files[COMPOSE_FILE].contains(
                "BAKERY_KEY: \"${BAKERY_KEY:?set BAKERY_KEY to the secret the API checks}\""
            ),
            "{}",
            files[COMPOSE_FILE]
        );
    }

    #[test]
    fn a_version_file_is_never_replaced() {
        let version = GeneratedFiles::from([("Dockerfile".to_owned(), "mine".to_owned())]);
        let extra = GeneratedFiles::from([("Dockerfile".to_owned(), "ours".to_owned())]);
        assert!(matches!(
            combine(version, extra),
            Err(ExportError::Collision(p)) if p == "Dockerfile"
        ));
    }

    #[test]
    fn non_empty_directories_need_force() {
        let dir = tempfile::tempdir().expect("temp dir");
        check_target(&dir.path().join("new"), false).expect("a missing dir is fine");
        check_target(dir.path(), false).expect("an empty dir is fine");
        std::fs::write(dir.path().join("keep.txt"), "x").expect("write");
        assert!(matches!(
            check_target(dir.path(), false),
            Err(ExportError::NotEmpty(_))
        ));
        check_target(dir.path(), true).expect("--force");
        assert!(matches!(
            check_target(&dir.path().join("keep.txt"), true),
            Err(ExportError::NotADirectory(_))
        ));
    }
}
