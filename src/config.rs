//! Settings: compiled-in defaults (`assets/default_config.toml`), then the config
//! file, then `APIFORGE_<SECTION>_<KEY>` environment variables. Directories come from
//! `directories`, or all live under `APIFORGE_HOME` when it is set.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub const DEFAULT_CONFIG_TOML: &str = include_str!("../assets/default_config.toml");

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {key}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        /// Dotted key (`sandbox.memory_mb`), or `(syntax)` when no key applies.
        key: String,
        message: String,
    },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
    #[error(
        "cannot determine a home directory for apiforge's files; set APIFORGE_HOME to a writable folder"
    )]
    NoHome,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub database: DatabaseConfig,
    pub log: LogConfig,
    pub provider: ProviderConfig,
    pub codegen: CodegenConfig,
    pub sandbox: SandboxConfig,
    pub runtimes: RuntimesConfig,
    pub engine: EngineConfig,
    pub deploy: DeployConfig,
    pub auth: AuthConfig,
    pub tui: TuiConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    pub url: String,
    pub owner_url: String,
    pub max_connections: u32,
    pub connect_timeout_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub level: String,
    pub keep_days: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    pub default: String,
    pub openai: OpenAiConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenAiConfig {
    pub base_url: String,
    pub model: String,
    pub api_key_env: String,
    pub max_repairs: u32,
    pub max_tokens: u32,
    pub timeout_secs: u64,
    pub max_retries: u32,
    pub stream: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodegenConfig {
    pub framework: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxConfig {
    pub backend: String,
    pub memory_mb: u64,
    pub pids: u64,
    pub cpu_secs: u64,
    pub wall_secs: u64,
    pub workspace_mb: WorkspaceMb,
    pub docker_image: String,
    pub docker_host: String,
}

/// The size of a sandbox's or instance's writable workspace, in MiB. Checked when the
/// config is read: 0 would make the tmpfs unlimited (`size=0`), and a size whose byte
/// count does not fit 64 bits would saturate to "unlimited" as a file-size rlimit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u64", into = "u64")]
pub struct WorkspaceMb(u64);

impl WorkspaceMb {
    pub fn bytes(self) -> u64 {
        // Cannot overflow: `try_from` refused sizes whose byte count does not fit.
        self.0.saturating_mul(MIB)
    }
}

const MIB: u64 = 1024 * 1024;

impl TryFrom<u64> for WorkspaceMb {
    type Error = String;

    fn try_from(mb: u64) -> Result<Self, String> {
        match mb {
            0 => Err(
                "must be at least 1: a workspace of 0 MiB would have no size limit at all"
                    .to_owned(),
            ),
            mb if mb.checked_mul(MIB).is_none() => Err(format!(
                "{mb} MiB is more than a sandbox can limit a workspace to (at most {} MiB)",
                u64::MAX / MIB
            )),
            mb => Ok(Self(mb)),
        }
    }
}

impl From<WorkspaceMb> for u64 {
    fn from(mb: WorkspaceMb) -> u64 {
        mb.0
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimesConfig {
    pub dir: PathBuf,
    pub python: PathBuf,
    pub node: PathBuf,
    pub pip_index_url: String,
    pub npm_registry: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    pub worker_concurrency: u32,
    pub user_concurrency: u32,
    pub lease_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployConfig {
    pub gateway_addr: String,
    pub log_lines: usize,
    pub memory_mb: u64,
    pub pids: u64,
    pub cpu_secs: u64,
    pub workspace_mb: WorkspaceMb,
    pub health_timeout_secs: u64,
    pub health_interval_secs: u64,
    pub restart_backoff_max_secs: u64,
    pub drain_timeout_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    pub mail_from: String,
    pub smtp_url: String,
    pub code_ttl_minutes: u64,
    pub session_days: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TuiConfig {
    pub theme: String,
}

impl DatabaseConfig {
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout_secs)
    }
}

/// Where apiforge keeps its files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dirs {
    pub config: PathBuf,
    pub data: PathBuf,
    pub cache: PathBuf,
}

impl Dirs {
    /// `APIFORGE_HOME` (all three under one folder) or the platform's directories.
    pub fn from_env() -> Result<Self, ConfigError> {
        match std::env::var_os("APIFORGE_HOME") {
            Some(home) if !home.is_empty() => Ok(Self::under(Path::new(&home))),
            _ => {
                let dirs = directories::ProjectDirs::from("dev", "apiforge", "apiforge")
                    .ok_or(ConfigError::NoHome)?;
                Ok(Self {
                    config: dirs.config_dir().to_path_buf(),
                    data: dirs.data_dir().to_path_buf(),
                    cache: dirs.cache_dir().to_path_buf(),
                })
            }
        }
    }

    pub fn under(home: &Path) -> Self {
        Self {
            config: home.join("config"),
            data: home.join("data"),
            cache: home.join("cache"),
        }
    }

    pub fn config_file(&self) -> PathBuf {
        self.config.join("config.toml")
    }

    pub fn logs(&self) -> PathBuf {
        self.data.join("logs")
    }
}

impl Config {
    /// The compiled-in defaults.
    pub fn defaults() -> Self {
        // The defaults are part of the binary and covered by a test.
        parse_toml(DEFAULT_CONFIG_TOML, Path::new("<built-in defaults>"))
            .expect("built-in default config is valid")
    }

    /// Defaults, then `file` (if given, it must exist; else the default config file if
    /// it exists), then environment overrides.
    pub fn load(file: Option<&Path>, dirs: &Dirs) -> Result<Self, ConfigError> {
        let explicit = file
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("APIFORGE_CONFIG").map(PathBuf::from));
        let mut merged: toml::Table = toml::from_str(DEFAULT_CONFIG_TOML)
            .map_err(|e| parse_error(&e, DEFAULT_CONFIG_TOML, Path::new("<built-in>")))?;
        let path = match explicit {
            Some(p) => Some(p),
            None => Some(dirs.config_file()).filter(|p| p.exists()),
        };
        let mut user_file: Option<(PathBuf, String)> = None;
        if let Some(path) = path {
            let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            let user: toml::Table =
                toml::from_str(&text).map_err(|e| parse_error(&e, &text, &path))?;
            check_shape(&user, &merged, "").map_err(|(key, message)| ConfigError::Parse {
                line: line_of_key(&text, &key),
                path: path.clone(),
                key,
                message,
            })?;
            merge(&mut merged, user);
            user_file = Some((path, text));
        }
        apply_env(&mut merged)?;
        let text = toml::to_string(&merged).map_err(|e| ConfigError::Env {
            var: "APIFORGE_*".into(),
            message: e.to_string(),
        })?;
        toml::from_str(&text).map_err(|e| {
            let err = parse_error(&e, &text, Path::new("<merged>"));
            let ConfigError::Parse { key, message, .. } = err else {
                return err;
            };
            // Name whichever source set the bad value: the user's file or the env.
            match &user_file {
                Some((path, text)) if key_in_text(text, &key) => ConfigError::Parse {
                    line: line_of_key(text, &key),
                    path: path.clone(),
                    key,
                    message,
                },
                _ => ConfigError::Env {
                    var: format!("APIFORGE_{}", key.replace('.', "_").to_uppercase()),
                    message,
                },
            }
        })
    }

    /// The database URL to use, or `None` for the embedded cluster.
    pub fn database_url(&self) -> Option<&str> {
        Some(self.database.url.as_str()).filter(|u| !u.trim().is_empty())
    }
}

/// Every key of the user's file must exist in the defaults with a value of the same
/// kind; returns the dotted key and a sentence for the first that does not.
fn check_shape(
    user: &toml::Table,
    defaults: &toml::Table,
    prefix: &str,
) -> Result<(), (String, String)> {
    for (key, value) in user {
        let dotted = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let Some(default) = defaults.get(key) else {
            let mut known: Vec<&str> = defaults.keys().map(String::as_str).collect();
            known.sort_unstable();
            return Err((
                dotted,
                format!("unknown key; expected one of: {}", known.join(", ")),
            ));
        };
        match (default, value) {
            (toml::Value::Table(d), toml::Value::Table(u)) => check_shape(u, d, &dotted)?,
            (d, u) if d.type_str() == u.type_str() => {}
            (d, u) => {
                return Err((
                    dotted,
                    format!("expected {}, found {}", kind_name(d), kind_name(u)),
                ));
            }
        }
    }
    Ok(())
}

fn kind_name(v: &toml::Value) -> &'static str {
    match v {
        toml::Value::String(_) => "a string",
        toml::Value::Integer(_) => "a whole number",
        toml::Value::Float(_) => "a number",
        toml::Value::Boolean(_) => "true or false",
        toml::Value::Datetime(_) => "a date",
        toml::Value::Array(_) => "a list",
        toml::Value::Table(_) => "a section",
    }
}

/// The 1-based line where `dotted` (`section.key`) is assigned or its section opens.
fn line_of_key(text: &str, dotted: &str) -> usize {
    let (section, key) = match dotted.rsplit_once('.') {
        Some((s, k)) => (s, k),
        None => ("", dotted),
    };
    let mut current = String::new();
    let mut section_line = None;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            current = t.trim_matches(|c| c == '[' || c == ']').trim().to_owned();
            if current == dotted {
                return i + 1;
            }
            if current == section && section_line.is_none() {
                section_line = Some(i + 1);
            }
            continue;
        }
        if current == section
            && let Some((k, _)) = t.split_once('=')
            && k.trim().trim_matches('"') == key
        {
            return i + 1;
        }
    }
    section_line.unwrap_or(1)
}

fn key_in_text(text: &str, dotted: &str) -> bool {
    let key = dotted.rsplit_once('.').map_or(dotted, |(_, k)| k);
    text.lines().any(|l| {
        l.split_once('=')
            .is_some_and(|(k, _)| k.trim().trim_matches('"') == key)
    })
}

fn parse_toml(text: &str, path: &Path) -> Result<Config, ConfigError> {
    toml::from_str(text).map_err(|e| parse_error(&e, text, path))
}

fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(key, v);
            }
        }
    }
}

/// `APIFORGE_SANDBOX_BACKEND=docker` sets `sandbox.backend`; `DATABASE_URL` sets
/// `database.url`. Values are parsed as TOML scalars when they look like one (numbers,
/// booleans), else taken as strings.
fn apply_env(table: &mut toml::Table) -> Result<(), ConfigError> {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        set_path(table, &["database", "url"], toml::Value::String(url));
    }
    let sections: Vec<(String, Vec<String>)> = collect_paths(table, &[]);
    for (var, path) in sections {
        let Ok(raw) = std::env::var(&var) else {
            continue;
        };
        let current = get_path(table, &path);
        let value = match current {
            Some(toml::Value::Integer(_)) => raw
                .trim()
                .parse::<i64>()
                .map(toml::Value::Integer)
                .map_err(|_| ConfigError::Env {
                    var: var.clone(),
                    message: format!("expected a whole number, got {raw:?}"),
                })?,
            Some(toml::Value::Boolean(_)) => match raw.trim() {
                "1" | "true" | "yes" | "on" => toml::Value::Boolean(true),
                "0" | "false" | "no" | "off" => toml::Value::Boolean(false),
                _ => {
                    return Err(ConfigError::Env {
                        var,
                        message: format!("expected true or false, got {raw:?}"),
                    });
                }
            },
            _ => toml::Value::String(raw),
        };
        let refs: Vec<&str> = path.iter().map(String::as_str).collect();
        set_path(table, &refs, value);
    }
    Ok(())
}

fn collect_paths(table: &toml::Table, prefix: &[String]) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for (key, value) in table {
        let mut path = prefix.to_vec();
        path.push(key.clone());
        match value {
            toml::Value::Table(t) => out.extend(collect_paths(t, &path)),
            _ => out.push((format!("APIFORGE_{}", path.join("_").to_uppercase()), path)),
        }
    }
    out
}

fn get_path<'a>(table: &'a toml::Table, path: &[String]) -> Option<&'a toml::Value> {
    let (last, parents) = path.split_last()?;
    let mut t = table;
    for p in parents {
        t = t.get(p)?.as_table()?;
    }
    t.get(last)
}

fn set_path(table: &mut toml::Table, path: &[&str], value: toml::Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut t = table;
    for p in parents {
        let entry = t
            .entry((*p).to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let toml::Value::Table(next) = entry else {
            return;
        };
        t = next;
    }
    t.insert((*last).to_owned(), value);
}

/// Turns a toml error into file/line/key. The span points into `text`; the key is
/// the assignment on that line, qualified by the nearest `[section]` header above.
fn parse_error(err: &toml::de::Error, text: &str, path: &Path) -> ConfigError {
    let message = err.message().trim().to_owned();
    let (line, key) = match err.span() {
        Some(span) => {
            let start = span.start.min(text.len());
            let line = text[..start].matches('\n').count() + 1;
            (line, key_at(text, line, &message))
        }
        None => (1, "(syntax)".to_owned()),
    };
    ConfigError::Parse {
        path: path.to_path_buf(),
        line,
        key,
        message,
    }
}

fn key_at(text: &str, line: usize, message: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut section = String::new();
    for l in lines.iter().take(line.saturating_sub(1)) {
        let t = l.trim();
        if t.starts_with('[') && t.ends_with(']') {
            section = t.trim_matches(|c| c == '[' || c == ']').trim().to_owned();
        }
    }
    let current = lines
        .get(line.saturating_sub(1))
        .map(|l| l.trim())
        .unwrap_or("");
    let key = if let Some((k, _)) = current.split_once('=') {
        Some(k.trim().trim_matches('"').to_owned())
    } else if current.starts_with('[') {
        section = current
            .trim_matches(|c| c == '[' || c == ']')
            .trim()
            .to_owned();
        // "unknown field `x`" on a header means the section itself is unknown.
        None
    } else {
        None
    };
    match (key, section.is_empty()) {
        (Some(k), true) => k,
        (Some(k), false) => format!("{section}.{k}"),
        (None, false) => section,
        (None, true) => unknown_field_in(message).unwrap_or_else(|| "(syntax)".to_owned()),
    }
}

fn unknown_field_in(message: &str) -> Option<String> {
    let rest = message.split_once("unknown field `")?.1;
    Some(rest.split_once('`')?.0.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse() {
        let c = Config::defaults();
        assert_eq!(c.sandbox.backend, "process");
        assert_eq!(c.engine.worker_concurrency, 5);
        assert!(c.database_url().is_none());
    }

    fn load_text(text: &str) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, text).expect("write");
        Config::load(Some(&path), &Dirs::under(dir.path()))
    }

    #[test]
    fn partial_file_overrides_defaults() {
        let c = load_text("[sandbox]\nmemory_mb = 64\n").expect("loads");
        assert_eq!(c.sandbox.memory_mb, 64);
        assert_eq!(c.sandbox.pids, Config::defaults().sandbox.pids);
    }

    #[test]
    fn wrong_type_names_file_line_and_key() {
        let err = load_text("# comment\n[sandbox]\nbackend = \"docker\"\nmemory_mb = \"lots\"\n")
            .expect_err("must fail");
        let ConfigError::Parse {
            line, key, path, ..
        } = &err
        else {
            panic!("unexpected error {err}");
        };
        assert_eq!(*line, 4, "{err}");
        assert_eq!(key, "sandbox.memory_mb", "{err}");
        assert!(path.ends_with("config.toml"));
        assert!(
            err.to_string().contains("config.toml:4: sandbox.memory_mb"),
            "{err}"
        );
    }

    #[test]
    fn unknown_key_is_an_error() {
        let err = load_text("[sandbox]\nmemroy_mb = 1\n").expect_err("must fail");
        let text = err.to_string();
        assert!(text.contains(":2: sandbox.memroy_mb"), "{text}");
        assert!(text.contains("unknown key"), "{text}");
    }

    #[test]
    fn unknown_section_is_an_error() {
        let err = load_text("[sandbx]\nbackend = \"x\"\n").expect_err("must fail");
        assert!(err.to_string().contains("sandbx"), "{err}");
    }

    #[test]
    fn syntax_error_names_line() {
        let err = load_text("[log]\nlevel = \"info\"\nkeep_days = = 3\n").expect_err("must fail");
        let ConfigError::Parse { line, key, .. } = &err else {
            panic!("unexpected error {err}");
        };
        assert_eq!(*line, 3, "{err}");
        assert_eq!(key, "log.keep_days", "{err}");
    }

    #[test]
    fn missing_explicit_file_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = Config::load(
            Some(&dir.path().join("nope.toml")),
            &Dirs::under(dir.path()),
        )
        .expect_err("must fail");
        assert!(matches!(err, ConfigError::Read { .. }));
    }
}
