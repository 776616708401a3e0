//! The embedded private Postgres cluster: found, created and started on demand, shared
//! by every apiforge process of the user (TUI, workers, gateway), listening only on a
//! Unix socket inside its own directory, and left running until `apiforge db stop`.
//!
//! Postgres refuses to run as root, so as root the cluster belongs to a dedicated
//! unprivileged system user (`apiforge`, created if missing; Debian's `postgres` user
//! as a fallback). Its socket directory stays reachable by root, the invoking user.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg};
use nix::sys::signal::kill;
use nix::unistd::{Gid, Pid, Uid, User};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The superuser `initdb` creates; used only to bootstrap roles and the database.
pub const ADMIN_ROLE: &str = "apiforge_admin";
pub const OWNER_ROLE: &str = "apiforge_owner";
pub const CLIENT_ROLE: &str = "apiforge_client";
pub const DATABASE: &str = "apiforge";
const PORT: u16 = 5432;
const SERVICE_USER: &str = "apiforge";
/// Where clusters live when root's data dir cannot be traversed by the service user.
const ROOT_CLUSTERS: &str = "/var/lib/apiforge/clusters";
/// Unix socket paths are limited to 108 bytes including the file name.
const MAX_SOCKET_PATH: usize = 107;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found on PATH or in /usr/lib/postgresql/*/bin.\n\
         Install them, or point apiforge at an existing server:\n  \
         Debian/Ubuntu:  sudo apt-get install postgresql\n  \
         macOS:          brew install postgresql@16 (and add its bin directory to PATH)\n  \
         or:             export DATABASE_URL=postgres://user:password@host/dbname"
    )]
    BinariesMissing,
    #[error("{what}: {source}")]
    Io { what: String, source: io::Error },
    #[error("{program} failed ({status}): {output}")]
    Command {
        program: String,
        status: String,
        output: String,
    },
    #[error(
        "cannot create or find an unprivileged system user to own the database (postgres refuses to run as root): {0}.\n\
         Create one (useradd --system apiforge) or set DATABASE_URL to an existing server"
    )]
    NoServiceUser(String),
    #[error(
        "the socket path {0} is too long for a Unix socket (max {MAX_SOCKET_PATH} bytes); set APIFORGE_HOME to a shorter folder"
    )]
    SocketPathTooLong(PathBuf),
    #[error("timed out after {0:?} waiting for the cluster lock {1}; is another apiforge stuck?")]
    LockTimeout(Duration, PathBuf),
}

impl ClusterError {
    fn io(what: impl Into<String>) -> impl FnOnce(io::Error) -> ClusterError {
        let what = what.into();
        move |source| ClusterError::Io { what, source }
    }
}

/// A set of Postgres server binaries from one installation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PgBinaries {
    pub dir: PathBuf,
    pub version: String,
}

impl PgBinaries {
    pub fn initdb(&self) -> PathBuf {
        self.dir.join("initdb")
    }

    pub fn pg_ctl(&self) -> PathBuf {
        self.dir.join("pg_ctl")
    }

    pub fn postgres(&self) -> PathBuf {
        self.dir.join("postgres")
    }

    /// `APIFORGE_PG_BINDIR` if set, else `PATH`, else the newest
    /// `/usr/lib/postgresql/*/bin`.
    pub fn find() -> Result<Self, ClusterError> {
        if let Some(dir) = std::env::var_os("APIFORGE_PG_BINDIR").filter(|d| !d.is_empty()) {
            return Self::in_dir(Path::new(&dir)).ok_or(ClusterError::BinariesMissing);
        }
        let path = std::env::var_os("PATH").unwrap_or_default();
        Self::find_in(&path, Path::new("/usr/lib/postgresql"))
    }

    /// The search behind [`find`](Self::find), with its inputs explicit for tests.
    pub fn find_in(path_var: &std::ffi::OsStr, versions_root: &Path) -> Result<Self, ClusterError> {
        for dir in std::env::split_paths(path_var) {
            let initdb = dir.join("initdb");
            if is_executable(&initdb) {
                // PATH often holds symlinks (Debian's wrappers); the real directory is
                // where pg_ctl and postgres of the same version live.
                let real_dir = fs::canonicalize(&initdb)
                    .ok()
                    .and_then(|p| p.parent().map(Path::to_path_buf))
                    .unwrap_or(dir);
                if let Some(found) = Self::in_dir(&real_dir) {
                    return Ok(found);
                }
            }
        }
        let mut versions: Vec<(Vec<u32>, PathBuf)> = fs::read_dir(versions_root)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                let key: Vec<u32> = name
                    .split('.')
                    .map(|p| p.parse().ok())
                    .collect::<Option<_>>()?;
                Some((key, entry.path().join("bin")))
            })
            .collect();
        versions.sort();
        versions
            .into_iter()
            .rev()
            .find_map(|(_, bin)| Self::in_dir(&bin))
            .ok_or(ClusterError::BinariesMissing)
    }

    fn in_dir(dir: &Path) -> Option<Self> {
        let complete = ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|b| is_executable(&dir.join(b)));
        if !complete {
            return None;
        }
        let version = crate::doctor::version_of(&dir.join("postgres"), "--version")
            .unwrap_or_else(|| "unknown version".to_owned());
        Some(Self {
            dir: dir.to_path_buf(),
            version,
        })
    }
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The unprivileged OS user the server runs as when apiforge runs as root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceUser {
    pub name: String,
    #[serde(skip)]
    pub uid: Uid,
    #[serde(skip)]
    pub gid: Gid,
}

impl ServiceUser {
    /// `None` when not root (the invoking user runs the server itself).
    pub fn for_current_process() -> Result<Option<Self>, ClusterError> {
        if !Uid::effective().is_root() {
            return Ok(None);
        }
        if let Some(user) = lookup(SERVICE_USER) {
            return Ok(Some(user));
        }
        let created = Command::new("useradd")
            .args([
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                "--comment",
                "apiforge embedded database",
                SERVICE_USER,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output();
        // Another process may have created it concurrently: look again either way.
        if let Some(user) = lookup(SERVICE_USER) {
            return Ok(Some(user));
        }
        if let Some(user) = lookup("postgres") {
            return Ok(Some(user));
        }
        let why = match created {
            Ok(out) => String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            Err(e) => format!("useradd: {e}"),
        };
        Err(ClusterError::NoServiceUser(why))
    }
}

fn lookup(name: &str) -> Option<ServiceUser> {
    User::from_name(name).ok().flatten().map(|u| ServiceUser {
        name: u.name,
        uid: u.uid,
        gid: u.gid,
    })
}

/// What `status` reports.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterStatus {
    pub initialized: bool,
    pub running: bool,
    pub pid: Option<i32>,
    pub data_dir: PathBuf,
    pub socket_dir: PathBuf,
    pub binaries: PgBinaries,
    pub service_user: Option<String>,
    pub owner_url: String,
    pub client_url: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StartOutcome {
    AlreadyRunning,
    Started,
    /// Created (initdb) and started.
    Created,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopOutcome {
    Stopped,
    NotRunning,
}

#[derive(Debug, Clone)]
pub struct LocalCluster {
    pub binaries: PgBinaries,
    /// The cluster's data directory; also its socket directory.
    pub dir: PathBuf,
    lock_path: PathBuf,
    service_user: Option<ServiceUser>,
}

impl LocalCluster {
    /// The cluster that belongs to apiforge's data dir.
    pub fn for_data_dir(data_dir: &Path) -> Result<Self, ClusterError> {
        let binaries = PgBinaries::find()?;
        let service_user = ServiceUser::for_current_process()?;
        Self::with(binaries, data_dir, service_user)
    }

    pub fn with(
        binaries: PgBinaries,
        data_dir: &Path,
        service_user: Option<ServiceUser>,
    ) -> Result<Self, ClusterError> {
        fs::create_dir_all(data_dir).map_err(ClusterError::io(format!(
            "cannot create the data directory {}",
            data_dir.display()
        )))?;
        let data_dir = fs::canonicalize(data_dir).map_err(ClusterError::io(format!(
            "cannot resolve {}",
            data_dir.display()
        )))?;
        let dir = match &service_user {
            Some(user) if !traversable_by(&data_dir, user) => {
                // e.g. /root is 0700: keep the cluster where the service user can reach
                // it, at a path derived from the data dir so it is found again.
                let hash = hex::encode(Sha256::digest(data_dir.as_os_str().as_encoded_bytes()));
                PathBuf::from(ROOT_CLUSTERS).join(&hash[..16])
            }
            _ => data_dir.join("postgres"),
        };
        let socket = dir.join(format!(".s.PGSQL.{PORT}"));
        if socket.as_os_str().len() > MAX_SOCKET_PATH {
            return Err(ClusterError::SocketPathTooLong(socket));
        }
        Ok(Self {
            binaries,
            dir,
            lock_path: data_dir.join("postgres.lock"),
            service_user,
        })
    }

    pub fn socket_dir(&self) -> &Path {
        &self.dir
    }

    pub fn port(&self) -> u16 {
        PORT
    }

    pub fn is_initialized(&self) -> bool {
        self.dir.join("PG_VERSION").is_file()
    }

    /// libpq-style URL for a role (usable with psql).
    pub fn url_for(&self, role: &str) -> String {
        let host: String = self
            .dir
            .to_string_lossy()
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        format!("postgresql://{role}@localhost/{DATABASE}?host={host}&port={PORT}")
    }

    /// Creates the cluster if needed and starts it if it is not running. Safe to call
    /// from several processes at once: a lock file serialises them.
    pub fn ensure_running(&self) -> Result<StartOutcome, ClusterError> {
        let _lock = self.lock(Duration::from_secs(60))?;
        let created = if self.is_initialized() {
            false
        } else {
            self.init()?;
            true
        };
        if self.running_pid().is_some() {
            return Ok(StartOutcome::AlreadyRunning);
        }
        self.clear_stale_files()?;
        self.start()?;
        Ok(if created {
            StartOutcome::Created
        } else {
            StartOutcome::Started
        })
    }

    pub fn stop(&self) -> Result<StopOutcome, ClusterError> {
        let _lock = self.lock(Duration::from_secs(60))?;
        if !self.is_initialized() || self.running_pid().is_none() {
            return Ok(StopOutcome::NotRunning);
        }
        let mut cmd = self.command(&self.binaries.pg_ctl());
        cmd.arg("stop")
            .arg("-D")
            .arg(&self.dir)
            .args(["-m", "fast", "-w", "-t", "60", "-s"]);
        run(cmd, "pg_ctl stop")?;
        Ok(StopOutcome::Stopped)
    }

    pub fn status(&self) -> ClusterStatus {
        let pid = if self.is_initialized() {
            self.running_pid()
        } else {
            None
        };
        ClusterStatus {
            initialized: self.is_initialized(),
            running: pid.is_some(),
            pid: pid.map(Pid::as_raw),
            data_dir: self.dir.clone(),
            socket_dir: self.dir.clone(),
            binaries: self.binaries.clone(),
            service_user: self.service_user.as_ref().map(|u| u.name.clone()),
            owner_url: self.url_for(OWNER_ROLE),
            client_url: self.url_for(CLIENT_ROLE),
        }
    }

    /// The postmaster's pid if it is alive and accepting connections on our socket.
    pub fn running_pid(&self) -> Option<Pid> {
        let pid = self.pid_from_file()?;
        if !is_postgres_process(pid) {
            return None;
        }
        let socket = self.dir.join(format!(".s.PGSQL.{PORT}"));
        std::os::unix::net::UnixStream::connect(socket).ok()?;
        Some(pid)
    }

    fn pid_from_file(&self) -> Option<Pid> {
        let text = fs::read_to_string(self.dir.join("postmaster.pid")).ok()?;
        let pid: i32 = text.lines().next()?.trim().parse().ok()?;
        (pid > 0).then(|| Pid::from_raw(pid))
    }

    /// After a crash `postmaster.pid` (and the socket lock) may name a dead process or
    /// one that reused the pid; postgres would refuse to start, so remove them when no
    /// live postgres owns them.
    fn clear_stale_files(&self) -> Result<(), ClusterError> {
        let Some(pid) = self.pid_from_file() else {
            return Ok(());
        };
        if is_postgres_process(pid) {
            // A live postgres that does not answer yet (starting up or shutting down):
            // let pg_ctl wait for or report it.
            return Ok(());
        }
        tracing::warn!(pid = pid.as_raw(), dir = %self.dir.display(), "removing stale postmaster.pid");
        for stale in ["postmaster.pid".to_owned(), format!(".s.PGSQL.{PORT}.lock")] {
            match fs::remove_file(self.dir.join(&stale)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(ClusterError::io(format!("cannot remove stale {stale}"))(e)),
            }
        }
        Ok(())
    }

    /// initdb into a scratch directory, configure, then rename into place, so a crash
    /// halfway never leaves a half-made cluster behind.
    fn init(&self) -> Result<(), ClusterError> {
        let parent = self.dir.parent().unwrap_or(Path::new("/"));
        fs::create_dir_all(parent).map_err(ClusterError::io(format!(
            "cannot create {}",
            parent.display()
        )))?;
        let scratch = parent.join(format!(
            ".{}.init-{}",
            self.dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            std::process::id()
        ));
        if scratch.exists() {
            fs::remove_dir_all(&scratch)
                .map_err(ClusterError::io("cannot remove a leftover init dir"))?;
        }
        fs::create_dir(&scratch).map_err(ClusterError::io(format!(
            "cannot create {}",
            scratch.display()
        )))?;
        fs::set_permissions(&scratch, fs::Permissions::from_mode(0o700))
            .map_err(ClusterError::io("cannot set cluster permissions"))?;
        if let Some(user) = &self.service_user {
            nix::unistd::chown(&scratch, Some(user.uid), Some(user.gid)).map_err(|e| {
                ClusterError::io(format!(
                    "cannot hand {} to {}",
                    scratch.display(),
                    user.name
                ))(e.into())
            })?;
        }
        let mut cmd = self.command(&self.binaries.initdb());
        cmd.arg("-D").arg(&scratch).args([
            "-U",
            ADMIN_ROLE,
            "--auth-local=trust",
            "--auth-host=reject",
            "--encoding=UTF8",
            "--locale=C",
            "--no-instructions",
        ]);
        if let Err(e) = run(cmd, "initdb") {
            let _ = fs::remove_dir_all(&scratch);
            return Err(e);
        }
        // Only the socket in the cluster's own directory; no TCP at all.
        let settings = format!(
            "\n# apiforge embedded cluster\nlisten_addresses = ''\nport = {PORT}\nunix_socket_directories = '{}'\nunix_socket_permissions = 0700\nmax_connections = 100\nshared_buffers = 32MB\nlogging_collector = off\n",
            self.dir.display().to_string().replace('\'', "''")
        );
        let conf = scratch.join("postgresql.conf");
        let mut file = OpenOptions::new()
            .append(true)
            .open(&conf)
            .map_err(ClusterError::io("cannot open postgresql.conf"))?;
        io::Write::write_all(&mut file, settings.as_bytes())
            .map_err(ClusterError::io("cannot write postgresql.conf"))?;
        file.sync_all()
            .map_err(ClusterError::io("cannot sync postgresql.conf"))?;
        fs::rename(&scratch, &self.dir).map_err(ClusterError::io(format!(
            "cannot move the new cluster into {}",
            self.dir.display()
        )))?;
        Ok(())
    }

    fn start(&self) -> Result<(), ClusterError> {
        let mut cmd = self.command(&self.binaries.pg_ctl());
        cmd.arg("start")
            .arg("-D")
            .arg(&self.dir)
            .arg("-l")
            .arg(self.dir.join("server.log"))
            .args(["-w", "-t", "60", "-s"]);
        run(cmd, "pg_ctl start").map_err(|e| match e {
            ClusterError::Command {
                program,
                status,
                output,
            } => ClusterError::Command {
                program,
                status,
                output: format!("{output}\n{}", self.log_tail(20)),
            },
            other => other,
        })?;
        Ok(())
    }

    /// The last lines of the server log, for error messages.
    pub fn log_tail(&self, lines: usize) -> String {
        let mut text = String::new();
        if let Ok(mut f) = File::open(self.dir.join("server.log")) {
            let _ = f.read_to_string(&mut text);
        }
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// A command for a Postgres binary, run as the service user when we are root.
    pub fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env_remove("PGDATA")
            .env("LC_ALL", "C");
        if let Some(user) = &self.service_user {
            cmd.uid(user.uid.as_raw())
                .gid(user.gid.as_raw())
                .env("HOME", "/")
                .env("USER", &user.name)
                .current_dir("/");
        }
        cmd
    }

    fn lock(&self, timeout: Duration) -> Result<Flock<File>, ClusterError> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&self.lock_path)
            .map_err(ClusterError::io(format!(
                "cannot open lock {}",
                self.lock_path.display()
            )))?;
        let deadline = Instant::now() + timeout;
        let mut file = file;
        loop {
            match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                Ok(lock) => return Ok(lock),
                Err((f, nix::errno::Errno::EWOULDBLOCK)) => {
                    if Instant::now() >= deadline {
                        return Err(ClusterError::LockTimeout(timeout, self.lock_path.clone()));
                    }
                    file = f;
                    // Another process holds the lock while it runs initdb/pg_ctl; it
                    // is released within seconds, and there is no fd-based wait with
                    // a timeout for flock.
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err((_, e)) => {
                    return Err(ClusterError::io("cannot lock the cluster")(e.into()));
                }
            }
        }
    }
}

/// Whether every ancestor of `dir` (and `dir`) can be traversed by `user`.
fn traversable_by(dir: &Path, user: &ServiceUser) -> bool {
    use std::os::unix::fs::MetadataExt;
    dir.ancestors().all(|p| {
        fs::metadata(p).is_ok_and(|m| {
            let mode = m.mode();
            if m.uid() == user.uid.as_raw() {
                mode & 0o100 != 0
            } else if m.gid() == user.gid.as_raw() {
                mode & 0o010 != 0
            } else {
                mode & 0o001 != 0
            }
        })
    })
}

fn is_postgres_process(pid: Pid) -> bool {
    match kill(pid, None) {
        Ok(()) | Err(nix::errno::Errno::EPERM) => {}
        Err(_) => return false,
    }
    // The pid may have been reused by an unrelated process after a crash.
    fs::read(format!("/proc/{}/cmdline", pid.as_raw()))
        .map(|cmd| {
            let first = cmd.split(|b| *b == 0).next().unwrap_or_default();
            String::from_utf8_lossy(first).contains("postgres")
        })
        .unwrap_or(false)
}

fn run(mut cmd: Command, program: &str) -> Result<Output, ClusterError> {
    let out = cmd
        .output()
        .map_err(ClusterError::io(format!("cannot run {program}")))?;
    if out.status.success() {
        return Ok(out);
    }
    let mut text = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !stdout.trim().is_empty() {
        text = format!("{text}\n{}", stdout.trim());
    }
    Err(ClusterError::Command {
        program: program.to_owned(),
        status: out.status.to_string(),
        output: text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_binaries_on_path_then_newest_version_dir() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let make = |dir: &Path| {
            fs::create_dir_all(dir).expect("mkdir");
            for b in ["initdb", "pg_ctl", "postgres"] {
                let p = dir.join(b);
                fs::write(&p, "#!/bin/sh\necho 'postgres (PostgreSQL) 99'\n").expect("write");
                fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).expect("chmod");
            }
        };
        let root = tmp.path().join("lib/postgresql");
        make(&root.join("9.6/bin"));
        make(&root.join("15/bin"));
        make(&root.join("13/bin"));
        let empty = std::ffi::OsString::new();
        let found = PgBinaries::find_in(&empty, &root).expect("found");
        assert_eq!(found.dir, root.join("15/bin"));

        let on_path = tmp.path().join("custom/bin");
        make(&on_path);
        let found = PgBinaries::find_in(on_path.as_os_str(), &root).expect("found");
        assert_eq!(found.dir, fs::canonicalize(&on_path).expect("canon"));
    }

    #[test]
    fn incomplete_installations_are_skipped() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let bin = tmp.path().join("16/bin");
        fs::create_dir_all(&bin).expect("mkdir");
        fs::write(bin.join("initdb"), "").expect("write");
        let err = PgBinaries::find_in(std::ffi::OsStr::new(""), tmp.path()).expect_err("missing");
        assert!(matches!(err, ClusterError::BinariesMissing));
        let text = err.to_string();
        assert!(text.contains("apt-get install postgresql"), "{text}");
        assert!(text.contains("brew install"), "{text}");
        assert!(text.contains("DATABASE_URL"), "{text}");
    }

    #[test]
    fn url_encodes_the_socket_dir() {
        let c = LocalCluster {
            binaries: PgBinaries {
                dir: PathBuf::from("/usr/bin"),
                version: String::new(),
            },
            dir: PathBuf::from("/tmp/a b/postgres"),
            lock_path: PathBuf::from("/tmp/l"),
            service_user: None,
        };
        assert_eq!(
            c.url_for(CLIENT_ROLE),
            "postgresql://apiforge_client@localhost/apiforge?host=%2Ftmp%2Fa%20b%2Fpostgres&port=5432"
        );
    }
}
