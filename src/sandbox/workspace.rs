//! The one directory a sandbox may write: a host directory, seen as `/workspace`.

use std::fs;
use std::path::{Component, Path, PathBuf};

use nix::mount::{MntFlags, MsFlags};
use nix::unistd::Uid;

use super::{SOCKET_NAME, SandboxError};
use crate::codegen::GeneratedFiles;

/// The unprivileged identity sandboxed code runs as when apiforge runs as root
/// (Debian's `nobody`/`nogroup`): root inside a sandbox must not mean root on the
/// host's files.
pub const SANDBOX_UID: u32 = 65534;
pub const SANDBOX_GID: u32 = 65534;

/// The uid sandboxed code runs as on the host: [`SANDBOX_UID`] when apiforge is root,
/// else the user running apiforge.
pub fn sandbox_uid() -> u32 {
    if Uid::effective().is_root() {
        SANDBOX_UID
    } else {
        Uid::current().as_raw()
    }
}

/// What a fresh workspace starts with.
#[derive(Debug, Clone, Copy)]
pub enum WorkspaceSource<'a> {
    Empty,
    /// A recursive copy of this directory (symlinks are copied as links).
    CopyOf(&'a Path),
    /// Generated files, relative path → contents.
    Files(&'a GeneratedFiles),
}

/// A sandbox workspace on the host.
///
/// As root the directory is a tmpfs mount of `workspace_bytes` (so filling it fails
/// with ENOSPC, for both backends: Docker bind-mounts the same directory), owned by
/// [`SANDBOX_UID`]. As an ordinary user it is a plain directory and the cap is only
/// `RLIMIT_FSIZE` per file. [`Workspace::remove`] unmounts and deletes it; dropping a
/// `Workspace` does the same as a fallback.
#[derive(Debug)]
pub struct Workspace {
    dir: PathBuf,
    capped: bool,
    removed: bool,
}

impl Workspace {
    pub(crate) async fn create(
        root: &Path,
        source: WorkspaceSource<'_>,
        cap_bytes: u64,
    ) -> Result<Self, SandboxError> {
        let root = root.to_path_buf();
        let source = OwnedSource::from(source);
        tokio::task::spawn_blocking(move || Self::create_blocking(&root, source, cap_bytes))
            .await
            .unwrap_or(Err(SandboxError::Lost))
    }

    fn create_blocking(
        root: &Path,
        source: OwnedSource,
        cap_bytes: u64,
    ) -> Result<Self, SandboxError> {
        fs::create_dir_all(root).map_err(|e| {
            SandboxError::io(
                format!("cannot create the workspace root {}", root.display()),
                e,
            )
        })?;
        // The owner's PID in the name lets a later apiforge clean up after one that
        // was killed (see `sweep_stale`).
        let dir = root.join(format!("{}-{}", std::process::id(), uuid::Uuid::now_v7()));
        fs::create_dir(&dir).map_err(|e| {
            SandboxError::io(format!("cannot create workspace {}", dir.display()), e)
        })?;
        let mut workspace = Self {
            dir,
            capped: false,
            removed: false,
        };
        if Uid::effective().is_root() {
            let data = format!("size={cap_bytes},mode=0755,uid={SANDBOX_UID},gid={SANDBOX_GID}");
            nix::mount::mount(
                Some("tmpfs"),
                &workspace.dir,
                Some("tmpfs"),
                MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
                Some(data.as_str()),
            )
            .map_err(|e| {
                SandboxError::io(
                    format!(
                        "cannot mount a {cap_bytes}-byte tmpfs on workspace {}",
                        workspace.dir.display()
                    ),
                    e.into(),
                )
            })?;
            workspace.capped = true;
        }
        match source {
            OwnedSource::Empty => {}
            OwnedSource::CopyOf(from) => copy_tree(&from, &workspace.dir)?,
            OwnedSource::Files(files) => write_files(&files, &workspace.dir)?,
        }
        Ok(workspace)
    }

    /// Unmounts and deletes workspaces under `root` whose apiforge process is gone (it
    /// was killed before it could clean up). Returns how many were removed.
    pub fn sweep_stale(root: &Path) -> usize {
        let Ok(entries) = fs::read_dir(root) else {
            return 0;
        };
        let mut removed = 0;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(owner) = name
                .to_str()
                .and_then(|n| n.split_once('-'))
                .and_then(|(pid, _)| pid.parse::<i32>().ok())
            else {
                continue;
            };
            let gone = matches!(
                nix::sys::signal::kill(nix::unistd::Pid::from_raw(owner), None),
                Err(nix::errno::Errno::ESRCH)
            );
            if !gone {
                continue;
            }
            let dir = entry.path();
            // Not a mount point (an ordinary user's workspace) is fine.
            let _ = nix::mount::umount2(&dir, MntFlags::MNT_DETACH);
            match fs::remove_dir_all(&dir) {
                Ok(()) => removed += 1,
                Err(e) => tracing::warn!("cannot remove stale workspace {}: {e}", dir.display()),
            }
        }
        removed
    }

    /// The workspace on the host; the caller may add files here before a run.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Host path of the server socket (`/workspace/app.sock` inside).
    pub fn socket_path(&self) -> PathBuf {
        self.dir.join(SOCKET_NAME)
    }

    /// Whether writes are capped at the workspace size (true when running as root).
    pub fn size_capped(&self) -> bool {
        self.capped
    }

    /// Gives the sandbox user ownership of everything in the workspace, including
    /// files the caller added since the last run. Only needed (and only possible) as
    /// root, where sandboxed code runs as [`SANDBOX_UID`].
    pub(crate) async fn hand_over(&self) -> Result<(), SandboxError> {
        if !Uid::effective().is_root() {
            return Ok(());
        }
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || chown_tree(&dir))
            .await
            .unwrap_or(Err(SandboxError::Lost))
    }

    /// Unmounts and deletes the workspace.
    pub async fn remove(mut self) -> Result<(), SandboxError> {
        self.removed = true;
        let dir = self.dir.clone();
        let capped = self.capped;
        tokio::task::spawn_blocking(move || remove_dir(&dir, capped))
            .await
            .unwrap_or(Err(SandboxError::Lost))
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        if !self.removed
            && let Err(e) = remove_dir(&self.dir, self.capped)
        {
            tracing::warn!("{e}");
        }
    }
}

fn remove_dir(dir: &Path, capped: bool) -> Result<(), SandboxError> {
    if capped {
        // Lazy: a server's socket or a leftover open file must not keep the mount.
        nix::mount::umount2(dir, MntFlags::MNT_DETACH).map_err(|e| {
            SandboxError::io(
                format!("cannot unmount workspace {}", dir.display()),
                e.into(),
            )
        })?;
    }
    match fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(SandboxError::io(
            format!("cannot delete workspace {}", dir.display()),
            e,
        )),
    }
}

enum OwnedSource {
    Empty,
    CopyOf(PathBuf),
    Files(GeneratedFiles),
}

impl From<WorkspaceSource<'_>> for OwnedSource {
    fn from(source: WorkspaceSource<'_>) -> Self {
        match source {
            WorkspaceSource::Empty => OwnedSource::Empty,
            WorkspaceSource::CopyOf(p) => OwnedSource::CopyOf(p.to_path_buf()),
            WorkspaceSource::Files(f) => OwnedSource::Files(f.clone()),
        }
    }
}

fn write_files(files: &GeneratedFiles, dir: &Path) -> Result<(), SandboxError> {
    for (rel, contents) in files {
        let rel_path = Path::new(rel);
        let safe = rel_path
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
        if !safe || rel.is_empty() {
            return Err(SandboxError::BadWorkspacePath { path: rel.clone() });
        }
        let target = dir.join(rel_path);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| SandboxError::io(format!("cannot create {}", parent.display()), e))?;
        }
        fs::write(&target, contents)
            .map_err(|e| SandboxError::io(format!("cannot write {}", target.display()), e))?;
    }
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), SandboxError> {
    let entries = fs::read_dir(from)
        .map_err(|e| SandboxError::io(format!("cannot read directory {}", from.display()), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| {
            SandboxError::io(format!("cannot read directory {}", from.display()), e)
        })?;
        let source = entry.path();
        let target = to.join(entry.file_name());
        let kind = entry
            .file_type()
            .map_err(|e| SandboxError::io(format!("cannot stat {}", source.display()), e))?;
        if kind.is_dir() {
            fs::create_dir(&target)
                .map_err(|e| SandboxError::io(format!("cannot create {}", target.display()), e))?;
            copy_tree(&source, &target)?;
        } else if kind.is_symlink() {
            let link = fs::read_link(&source)
                .map_err(|e| SandboxError::io(format!("cannot read {}", source.display()), e))?;
            std::os::unix::fs::symlink(&link, &target)
                .map_err(|e| SandboxError::io(format!("cannot create {}", target.display()), e))?;
        } else if kind.is_file() {
            fs::copy(&source, &target).map_err(|e| {
                SandboxError::io(
                    format!(
                        "cannot copy {} into the workspace (is the workspace cap too small?)",
                        source.display()
                    ),
                    e,
                )
            })?;
        }
        // Sockets, FIFOs and devices are not project files: skipped.
    }
    Ok(())
}

fn chown_tree(dir: &Path) -> Result<(), SandboxError> {
    let chown = |p: &Path| {
        std::os::unix::fs::lchown(p, Some(SANDBOX_UID), Some(SANDBOX_GID))
            .map_err(|e| SandboxError::io(format!("cannot chown {}", p.display()), e))
    };
    chown(dir)?;
    let entries = fs::read_dir(dir)
        .map_err(|e| SandboxError::io(format!("cannot read directory {}", dir.display()), e))?;
    for entry in entries {
        let entry = entry
            .map_err(|e| SandboxError::io(format!("cannot read directory {}", dir.display()), e))?;
        let path = entry.path();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir {
            chown_tree(&path)?;
        } else {
            chown(&path)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_files_cannot_escape_the_workspace() {
        let dir = tempfile::tempdir().expect("temp dir");
        for bad in ["../escape.txt", "/etc/escape", "a/../../escape", ""] {
            let files = GeneratedFiles::from([(bad.to_owned(), "x".to_owned())]);
            let err = write_files(&files, dir.path()).expect_err(bad);
            assert!(
                matches!(err, SandboxError::BadWorkspacePath { .. }),
                "{bad}: {err}"
            );
        }
        let files = GeneratedFiles::from([("app/main.py".to_owned(), "print(1)\n".to_owned())]);
        write_files(&files, dir.path()).expect("nested file");
        assert_eq!(
            fs::read_to_string(dir.path().join("app/main.py")).expect("read"),
            "print(1)\n"
        );
    }

    #[test]
    fn copies_keep_symlinks_as_links_and_skip_sockets() {
        let from = tempfile::tempdir().expect("source");
        let to = tempfile::tempdir().expect("target");
        fs::create_dir(from.path().join("sub")).expect("mkdir");
        fs::write(from.path().join("sub/file.txt"), "data").expect("write");
        std::os::unix::fs::symlink("/etc/shadow", from.path().join("link")).expect("symlink");
        let _socket =
            std::os::unix::net::UnixListener::bind(from.path().join("app.sock")).expect("socket");
        copy_tree(from.path(), to.path()).expect("copy");
        assert_eq!(
            fs::read_to_string(to.path().join("sub/file.txt")).expect("read"),
            "data"
        );
        let link = fs::read_link(to.path().join("link")).expect("still a link");
        assert_eq!(link, Path::new("/etc/shadow"));
        assert!(!to.path().join("app.sock").exists());
    }
}
