//! `apiforge check`'s whole run on one project directory: read it, copy it into a
//! sandbox workspace, run its own tests, then start its server,
//! wait for `/health` and run the contract tests, then build the [`Report`].

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::contract;
use super::credentials::Credentials;
use super::native::{self, NativeSuite};
use super::report::Report;
use crate::codegen::Framework;
use crate::codegen::project::{DESIGN_FILE, detect_framework};
use crate::design::{ApiDesign, AuthScheme};
use crate::sandbox::{
    Exec, KillSwitch, Limits, Sandbox, SandboxError, WORKSPACE, Workspace, WorkspaceSource,
};

/// The spec file every project carries.
pub const SPEC_FILE: &str = "openapi.json";
/// Where the server keeps its SQLite database during a check (inside the workspace,
/// so `--keep` leaves it for inspection).
const CHECK_DB: &str = "apiforge-check.db";
/// How long one contract request may take before it counts as unanswered (a route
/// that hangs must not stall the whole check).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How many server output lines a report keeps.
const SERVER_TAIL: usize = 30;

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("{0} is not a directory")]
    NotADirectory(PathBuf),
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not valid JSON: {message}")]
    BadJson { path: PathBuf, message: String },
    #[error(
        "{0} has neither openapi.json nor apiforge.json; point `apiforge check` at a project made by `apiforge scaffold`"
    )]
    NoContract(PathBuf),
    #[error("cannot tell the framework of {0}: expected main.py (FastAPI) or server.js (Express)")]
    UnknownFramework(PathBuf),
}

/// A project directory as `apiforge check` sees it.
#[derive(Debug, Clone)]
pub struct Project {
    pub dir: PathBuf,
    pub title: String,
    pub framework: Framework,
    /// The OpenAPI document the contract tests follow.
    pub spec: Value,
    /// The design, when the project carries `apiforge.json`.
    pub design: Option<ApiDesign>,
}

impl Project {
    /// Reads `dir`: `openapi.json` (else the spec built from `apiforge.json`), the
    /// design if present, and the framework from the files.
    pub fn load(dir: &Path) -> Result<Self, ProjectError> {
        if !dir.is_dir() {
            return Err(ProjectError::NotADirectory(dir.to_path_buf()));
        }
        let design_path = dir.join(DESIGN_FILE);
        let design: Option<ApiDesign> = if design_path.is_file() {
            let text = read(&design_path)?;
            Some(
                serde_json::from_str(&text).map_err(|e| ProjectError::BadJson {
                    path: design_path.clone(),
                    message: e.to_string(),
                })?,
            )
        } else {
            None
        };
        let spec_path = dir.join(SPEC_FILE);
        let spec: Value = if spec_path.is_file() {
            serde_json::from_str(&read(&spec_path)?).map_err(|e| ProjectError::BadJson {
                path: spec_path.clone(),
                message: e.to_string(),
            })?
        } else if let Some(d) = &design {
            crate::codegen::openapi::build(d)
        } else {
            return Err(ProjectError::NoContract(dir.to_path_buf()));
        };
        let framework = detect_framework(dir)
            .ok_or_else(|| ProjectError::UnknownFramework(dir.to_path_buf()))?;
        let title = design
            .as_ref()
            .map(|d| d.title.clone())
            .or_else(|| {
                spec.pointer("/info/title")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| {
                dir.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            });
        Ok(Self {
            dir: dir.to_path_buf(),
            title,
            framework,
            spec,
            design,
        })
    }

    /// Fresh credentials for the project's auth scheme (`None` without auth): the env
    /// var comes from the design, else from the spec's `$NAME` note, else the
    /// contract's default.
    pub fn credentials(&self) -> Option<Credentials> {
        if let Some(design) = &self.design {
            return match &design.auth {
                AuthScheme::None => None,
                AuthScheme::ApiKey { header, env_var } => {
                    Some(Credentials::api_key(header.clone(), env_var.clone()))
                }
                AuthScheme::BearerJwt { env_var, .. } => {
                    Some(Credentials::bearer_jwt(env_var.clone()))
                }
            };
        }
        let name = self
            .spec
            .get("security")?
            .as_array()?
            .iter()
            .filter_map(Value::as_object)
            .flat_map(|o| o.keys())
            .next()?;
        let scheme = self
            .spec
            .pointer(&format!("/components/securitySchemes/{name}"))?;
        let env_var = |default: &str| {
            scheme
                .get("description")
                .and_then(Value::as_str)
                .and_then(|d| {
                    let start = d.find('$')? + 1;
                    let var: String = d[start..]
                        .chars()
                        .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                        .collect();
                    (!var.is_empty()).then_some(var)
                })
                .unwrap_or_else(|| default.to_owned())
        };
        match scheme.get("type").and_then(Value::as_str)? {
            "apiKey" => Some(Credentials::api_key(
                scheme.get("name")?.as_str()?,
                env_var("API_KEY"),
            )),
            "http" => Some(Credentials::bearer_jwt(env_var("JWT_SECRET"))),
            _ => None,
        }
    }
}

fn read(path: &Path) -> Result<String, ProjectError> {
    std::fs::read_to_string(path).map_err(|source| ProjectError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// A prepared runtime the project runs on (mounted read-only into the sandbox).
#[derive(Debug, Clone)]
pub enum PreparedRuntime {
    /// A venv: `python` is `<venv>/bin/python`.
    Python { venv: PathBuf, python: PathBuf },
    /// The system `node` and a prepared `node_modules` (put on `NODE_PATH`).
    Node {
        node: PathBuf,
        node_modules: PathBuf,
    },
}

impl PreparedRuntime {
    /// The command that serves the project (`python main.py` / `node server.js`).
    pub fn server_exec(&self) -> Exec {
        match self {
            PreparedRuntime::Python { venv, python } => Exec::new(python.display().to_string())
                .arg("main.py")
                .env("PYTHONDONTWRITEBYTECODE", "1")
                .mount_ro(venv, venv),
            PreparedRuntime::Node { node, node_modules } => Exec::new(node.display().to_string())
                .arg("server.js")
                .env("NODE_PATH", node_modules.display().to_string())
                .mount_ro(node_modules, node_modules),
        }
    }

    /// The project's own test suite on this runtime.
    pub fn native_suite(&self) -> NativeSuite {
        match self {
            PreparedRuntime::Python { venv, python } => NativeSuite::Pytest {
                python: python.clone(),
                venv: venv.clone(),
            },
            PreparedRuntime::Node { node, node_modules } => NativeSuite::NodeTest {
                node: node.clone(),
                node_modules: node_modules.clone(),
            },
        }
    }
}

/// How a check runs.
#[derive(Debug, Clone)]
pub struct CheckSettings {
    /// Limits for the server and for the test runner (each).
    pub limits: Limits,
    /// How long the server may take to answer `GET /health`.
    pub health_timeout: Duration,
    /// Run the project's own tests (the contract tests always run).
    pub native: bool,
    /// When cancelled, the server and the test runner are killed at once (job
    /// cancellation). Each has its own kill switch: stopping the server after the
    /// contract tests must not stop the test runner.
    pub cancel: Option<tokio_util::sync::CancellationToken>,
}

impl CheckSettings {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            health_timeout: Duration::from_secs(30),
            native: true,
            cancel: None,
        }
    }
}

/// A finished check: the report and the workspace it ran in (remove it, or keep it
/// for inspection).
pub struct CheckRun {
    pub report: Report,
    pub workspace: Workspace,
}

/// Checks `project` in `sandbox` on `runtime`. Problems of the project (a server
/// that does not start, a runner that cannot run) land in the report; only a
/// sandbox that cannot even prepare a workspace is an error.
pub async fn check(
    sandbox: &Sandbox,
    project: &Project,
    runtime: &PreparedRuntime,
    settings: CheckSettings,
) -> Result<CheckRun, SandboxError> {
    let started = Instant::now();
    let mut report = Report {
        project: project.title.clone(),
        framework: Some(project.framework.as_str().to_owned()),
        backend: Some(sandbox.backend().as_str().to_owned()),
        ..Report::default()
    };
    let workspace = sandbox
        .prepare(WorkspaceSource::CopyOf(&project.dir), &settings.limits)
        .await?;
    report.timings.prepare = started.elapsed();
    let (server_kill, native_kill) = (KillSwitch::new(), KillSwitch::new());
    let watcher = settings.cancel.clone().map(|cancel| {
        let (s, n) = (server_kill.clone(), native_kill.clone());
        tokio::spawn(async move {
            cancel.cancelled().await;
            s.kill();
            n.kill();
        })
    });
    // One after the other: each launch hands the workspace to the sandbox user
    // (a walk over every file), which must not race with the other run's temporary
    // files appearing and disappearing.
    if settings.native {
        match native::run(
            sandbox,
            &workspace,
            &runtime.native_suite(),
            settings.limits,
            Some(&native_kill),
        )
        .await
        {
            Ok((results, took)) => {
                report.native = Some(results);
                report.timings.native = took;
            }
            Err(e) => report.errors.push(e.to_string()),
        }
    }
    let cancelled = settings.cancel.as_ref().is_some_and(|c| c.is_cancelled());
    let served = if cancelled {
        report.errors.push("the check was cancelled".to_owned());
        Served::default()
    } else {
        serve_and_check(
            sandbox,
            &workspace,
            project,
            runtime,
            &settings,
            &server_kill,
        )
        .await
    };
    report.timings.startup = served.startup;
    report.timings.contract = served.contract;
    report.contract = served.checks;
    report.errors.extend(served.errors);
    report.server_output = served.server_output;
    report.timings.total = started.elapsed();
    report.tally();
    if let Some(w) = watcher {
        w.abort();
    }
    Ok(CheckRun { report, workspace })
}

#[derive(Default)]
struct Served {
    startup: Duration,
    contract: Duration,
    checks: Vec<crate::verify::ContractCheck>,
    errors: Vec<String>,
    server_output: Vec<String>,
}

async fn serve_and_check(
    sandbox: &Sandbox,
    workspace: &Workspace,
    project: &Project,
    runtime: &PreparedRuntime,
    settings: &CheckSettings,
    kill: &KillSwitch,
) -> Served {
    let mut served = Served {
        startup: Duration::ZERO,
        contract: Duration::ZERO,
        checks: Vec::new(),
        errors: Vec::new(),
        server_output: Vec::new(),
    };
    let credentials = project.credentials();
    let mut exec = runtime
        .server_exec()
        .env("APIFORGE_DB", format!("{WORKSPACE}/{CHECK_DB}"))
        .limits(settings.limits)
        .kill_switch(kill.clone());
    if let Some(c) = &credentials {
        let (var, value) = c.server_env();
        exec = exec.env(var, value);
    }
    let started = Instant::now();
    let mut server = match sandbox.start(workspace, &exec, |_| {}).await {
        Ok(s) => s,
        Err(e) => {
            served
                .errors
                .push(format!("the server could not start: {e}"));
            return served;
        }
    };
    if let Err(e) = server.wait_healthy(settings.health_timeout).await {
        served.errors.push(e.to_string());
        served.startup = started.elapsed();
        let _ = server.stop().await;
        return served;
    }
    served.startup = started.elapsed();
    let contract_started = Instant::now();
    let client = server.client().with_timeout(REQUEST_TIMEOUT);
    match contract::run(&client, &project.spec, credentials.as_ref()).await {
        Ok(checks) => served.checks = checks,
        Err(e) => served.errors.push(e.to_string()),
    }
    served.contract = contract_started.elapsed();
    // A server logs a failed request's traceback after answering it. It answers one
    // more request only once it has moved on, and stopping it drains its pipes: then
    // the tail holds the last request's error.
    let _ = client.get("/health").await;
    let before = server.logs();
    let logs = match server.stop().await {
        Ok(outcome) => outcome.output_tail,
        Err(_) => before,
    };
    let start = logs.len().saturating_sub(SERVER_TAIL);
    served.server_output = logs[start..].iter().map(|l| l.text.clone()).collect();
    served
}

impl CheckRun {
    /// Copies the workspace (the project as the check left it: database, test report)
    /// to a new directory under `root`, removes the sandbox workspace, and returns the
    /// copy's path. A copy rather than the workspace itself because workspaces are
    /// swept by the next apiforge run and may be a size-capped tmpfs.
    pub async fn keep(self, root: &Path) -> Result<PathBuf, SandboxError> {
        let name = format!("check-{}", chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"));
        let target = root.join(name);
        let from = self.workspace.dir().to_path_buf();
        let to = target.clone();
        tokio::task::spawn_blocking(move || copy_tree(&from, &to))
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())))
            .map_err(|e| {
                SandboxError::io(
                    format!("cannot keep the workspace in {}", target.display()),
                    e,
                )
            })?;
        self.workspace.remove().await?;
        Ok(target)
    }
}

/// Copies regular files, directories and symlinks (as links); skips sockets and other
/// special files.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let dest = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &dest)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, &dest)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &dest)?;
        }
    }
    Ok(())
}

/// Installs (on first use; a blocking call — run it off the async workers) and returns
/// the runtime a `framework` project runs on.
pub fn prepare_runtime(
    runtimes: &crate::runtimes::Runtimes,
    framework: Framework,
    progress: &mut dyn FnMut(&str),
) -> Result<PreparedRuntime, crate::runtimes::RuntimeError> {
    use crate::runtimes::{RuntimeKind, node};
    let kind = match framework {
        Framework::Fastapi => RuntimeKind::Python,
        Framework::Express => RuntimeKind::Node,
    };
    let status = runtimes.install(kind, progress)?;
    match kind {
        RuntimeKind::Python => Ok(PreparedRuntime::Python {
            venv: status.dir,
            python: status.interpreter,
        }),
        RuntimeKind::Node => match node::status(runtimes.root()) {
            node::NodeRuntimeStatus::Installed { runtime } => Ok(PreparedRuntime::Node {
                node: status.interpreter,
                node_modules: runtime.node_modules,
            }),
            node::NodeRuntimeStatus::Missing { expected_root } => {
                Err(crate::runtimes::RuntimeError::Step {
                    step: "the Express runtime install".into(),
                    detail: format!("{} is missing after installing it", expected_root.display()),
                })
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn a_directory_without_a_contract_or_framework_is_bad_input() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            Project::load(dir.path()),
            Err(ProjectError::NoContract(_))
        ));
        write(
            dir.path(),
            SPEC_FILE,
            r#"{"openapi": "3.1.0", "paths": {}}"#,
        );
        assert!(matches!(
            Project::load(dir.path()),
            Err(ProjectError::UnknownFramework(_))
        ));
        write(dir.path(), SPEC_FILE, "{not json");
        write(dir.path(), "server.js", "");
        assert!(matches!(
            Project::load(dir.path()),
            Err(ProjectError::BadJson { .. })
        ));
    }

    #[test]
    fn credentials_follow_the_spec_when_there_is_no_design() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        write(dir.path(), "main.py", "");
        write(
            dir.path(),
            SPEC_FILE,
            r#"{"info": {"title": "Keys"}, "paths": {}, "security": [{"K": []}],
                "components": {"securitySchemes": {"K": {"type": "apiKey", "in": "header",
                "name": "X-Token", "description": "The key the server reads from $SHOP_KEY."}}}}"#,
        );
        let project = Project::load(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(project.framework, Framework::Fastapi);
        assert_eq!(project.title, "Keys");
        match project.credentials() {
            Some(Credentials::ApiKey {
                header, env_var, ..
            }) => {
                assert_eq!(header, "X-Token");
                assert_eq!(env_var, "SHOP_KEY");
            }
            other => panic!("{other:?}"),
        }
    }
}
