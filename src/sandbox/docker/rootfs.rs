//! The minimal root filesystem of the locally built sandbox image, as a tar archive
//! for `docker import`: mount points, merged-/usr links and a passwd/group naming the
//! sandbox user. Everything executable comes from the host, bind-mounted read-only.

use std::path::Path;

use crate::sandbox::SYSTEM_TOP_DIRS;
use crate::sandbox::workspace::{SANDBOX_GID, SANDBOX_UID};

/// Builds the archive. Deterministic (fixed mtimes), so its hash names the image.
pub(crate) fn tarball() -> Vec<u8> {
    let mut tar = Tar::default();
    for dir in [
        "usr",
        "etc",
        "tmp",
        "workspace",
        "proc",
        "dev",
        "sys",
        "run",
    ] {
        tar.dir(dir);
    }
    for top in SYSTEM_TOP_DIRS {
        let name = top.trim_start_matches('/');
        match std::fs::symlink_metadata(top) {
            Ok(m) if m.file_type().is_symlink() => {
                if let Ok(target) = std::fs::read_link(Path::new(top)) {
                    tar.symlink(name, &target.to_string_lossy());
                }
            }
            Ok(m) if m.is_dir() => tar.dir(name),
            _ => {}
        }
    }
    tar.file(
        "etc/passwd",
        format!(
            "root:x:0:0:root:/root:/usr/sbin/nologin\nsandbox:x:{SANDBOX_UID}:{SANDBOX_GID}:apiforge sandbox:/tmp:/bin/sh\n"
        )
        .as_bytes(),
    );
    tar.file(
        "etc/group",
        format!("root:x:0:\nsandbox:x:{SANDBOX_GID}:\n").as_bytes(),
    );
    tar.file(
        "etc/nsswitch.conf",
        b"passwd: files\ngroup: files\nhosts: files\n",
    );
    tar.finish()
}

/// Just enough of the ustar format for directories, symlinks and small files.
#[derive(Default)]
struct Tar {
    out: Vec<u8>,
}

impl Tar {
    fn dir(&mut self, name: &str) {
        self.entry(&format!("{name}/"), 0o755, b'5', "", &[]);
    }

    fn symlink(&mut self, name: &str, target: &str) {
        self.entry(name, 0o777, b'2', target, &[]);
    }

    fn file(&mut self, name: &str, contents: &[u8]) {
        self.entry(name, 0o644, b'0', "", contents);
    }

    fn entry(&mut self, name: &str, mode: u32, kind: u8, link: &str, contents: &[u8]) {
        let mut header = [0u8; 512];
        put(&mut header[0..100], name.as_bytes());
        put_octal(&mut header[100..108], u64::from(mode));
        put_octal(&mut header[108..116], 0);
        put_octal(&mut header[116..124], 0);
        put_octal(&mut header[124..136], contents.len() as u64);
        put_octal(&mut header[136..148], 0);
        header[148..156].fill(b' ');
        header[156] = kind;
        put(&mut header[157..257], link.as_bytes());
        put(&mut header[257..263], b"ustar\0");
        put(&mut header[263..265], b"00");
        let sum: u32 = header.iter().map(|b| u32::from(*b)).sum();
        put(&mut header[148..156], format!("{sum:06o}\0 ").as_bytes());
        self.out.extend_from_slice(&header);
        self.out.extend_from_slice(contents);
        let pad = (512 - contents.len() % 512) % 512;
        self.out.extend(std::iter::repeat_n(0u8, pad));
    }

    fn finish(mut self) -> Vec<u8> {
        self.out.extend(std::iter::repeat_n(0u8, 1024));
        self.out
    }
}

fn put(field: &mut [u8], value: &[u8]) {
    let n = value.len().min(field.len());
    field[..n].copy_from_slice(&value[..n]);
}

/// Zero-padded octal filling the field but its last byte (NUL).
fn put_octal(field: &mut [u8], value: u64) {
    let width = field.len() - 1;
    let text = format!("{value:0width$o}");
    put(field, text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The archive must be readable by a real tar implementation.
    #[test]
    fn archive_lists_with_system_tar() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("rootfs.tar");
        std::fs::write(&path, tarball()).expect("write");
        let out = std::process::Command::new("tar")
            .arg("-tvf")
            .arg(&path)
            .output()
            .expect("tar runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let listing = String::from_utf8_lossy(&out.stdout);
        assert!(listing.contains("etc/passwd"), "{listing}");
        assert!(listing.contains("workspace/"), "{listing}");
    }
}
