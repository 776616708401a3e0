//! A whole generated project: the framework's files plus the contract (`openapi.json`,
//! `openapi.yaml`) and the design itself (`apiforge.json`).

use super::{CodegenError, Framework, GeneratedFiles, express, fastapi, openapi, spec_check};
use crate::design::{self, ApiDesign};

/// The design file every generated project carries.
pub const DESIGN_FILE: &str = "apiforge.json";

/// Renders every file of a project. The design is validated and the spec checked
/// against the OpenAPI 3.1 schema first, so a project is never written from a design
/// or contract that is wrong.
pub fn render_project(
    design: &ApiDesign,
    framework: Framework,
) -> Result<GeneratedFiles, CodegenError> {
    design::validate(design).map_err(|e| CodegenError::Unsupported(e.to_string()))?;
    let spec = openapi::build(design);
    spec_check::check(&spec).map_err(|e| {
        CodegenError::Unsupported(format!("the generated OpenAPI document is invalid: {e}"))
    })?;
    let mut files = match framework {
        Framework::Fastapi => fastapi::render(design)?,
        Framework::Express => express::render(design)?,
    };
    files.insert("openapi.json".to_owned(), openapi::to_json(&spec));
    files.insert("openapi.yaml".to_owned(), openapi::to_yaml(&spec));
    files.insert(
        DESIGN_FILE.to_owned(),
        format!("{}\n", design.to_json_pretty()),
    );
    Ok(files)
}

/// The framework a project directory was generated for, from its files.
pub fn detect_framework(dir: &std::path::Path) -> Option<Framework> {
    if dir.join("main.py").is_file() || dir.join("requirements.txt").is_file() {
        Some(Framework::Fastapi)
    } else if dir.join("server.js").is_file() || dir.join("package.json").is_file() {
        Some(Framework::Express)
    } else {
        None
    }
}

/// Writes `files` under `dir`, each through a temporary name and a rename, so an
/// interrupted write never leaves a half-written file.
pub fn write_files(dir: &std::path::Path, files: &GeneratedFiles) -> std::io::Result<()> {
    use std::path::{Path, PathBuf};
    let annotate = |what: &str, p: &Path, e: std::io::Error| {
        std::io::Error::new(e.kind(), format!("cannot {what} {}: {e}", p.display()))
    };
    let dirs: std::collections::BTreeSet<PathBuf> = files
        .keys()
        .filter_map(|rel| dir.join(rel).parent().map(Path::to_path_buf))
        .chain(std::iter::once(dir.to_path_buf()))
        .collect();
    for d in dirs {
        std::fs::create_dir_all(&d).map_err(|e| annotate("create", &d, e))?;
    }
    for (rel, contents) in files {
        let path = dir.join(rel);
        let tmp = path.with_file_name(format!(
            ".{}.apiforge-tmp",
            path.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        ));
        std::fs::write(&tmp, contents).map_err(|e| annotate("write", &tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| annotate("write", &path, e))?;
    }
    Ok(())
}

/// Directories and files that are run-time or tool output, never project sources.
const NOT_SOURCES_DIRS: &[&str] = &[
    ".git",
    "node_modules",
    "__pycache__",
    ".pytest_cache",
    ".venv",
    "venv",
    ".ruff_cache",
];
const NOT_SOURCES_EXT: &[&str] = &["db", "db-wal", "db-shm", "sock", "pyc", "log"];
/// Larger files are refused: a generated project holds code, not data.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Reads a project directory back into files (the inverse of [`write_files`]),
/// leaving out run-time artefacts (databases, sockets, caches, `node_modules`).
pub fn read_files(dir: &std::path::Path) -> std::io::Result<GeneratedFiles> {
    fn walk(
        root: &std::path::Path,
        dir: &std::path::Path,
        out: &mut GeneratedFiles,
    ) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let kind = entry.file_type()?;
            if kind.is_dir() {
                if !NOT_SOURCES_DIRS.contains(&name.as_str()) {
                    walk(root, &path, out)?;
                }
                continue;
            }
            let ext = path
                .extension()
                .map(|e| e.to_string_lossy().into_owned())
                .unwrap_or_default();
            if !kind.is_file()
                || NOT_SOURCES_EXT.contains(&ext.as_str())
                || name.ends_with(".apiforge-tmp")
            {
                continue;
            }
            let size = entry.metadata()?.len();
            if size > MAX_FILE_BYTES {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "{} is {size} bytes; project files are limited to 1 MiB",
                        path.display()
                    ),
                ));
            }
            let text = std::fs::read_to_string(&path).map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!("{} is not a UTF-8 text file: {e}", path.display()),
                )
            })?;
            let rel = path
                .strip_prefix(root)
                .map_err(|e| std::io::Error::other(e.to_string()))?
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            out.insert(rel, text);
        }
        Ok(())
    }
    let mut files = GeneratedFiles::new();
    walk(dir, dir, &mut files)?;
    Ok(files)
}
