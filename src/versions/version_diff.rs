//! What changed between two versions of a project: the design (breaking changes
//! marked) and unified diffs of the files that were added, removed or changed.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use similar::{ChangeTag, TextDiff};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{VersionError, get, read_paths};
use crate::codegen::Framework;
use crate::design::{DesignDiff, diff as design_diff};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileChange {
    Added,
    Removed,
    Changed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileDiff {
    pub path: String,
    pub change: FileChange,
    /// Lines added and removed.
    pub insertions: usize,
    pub deletions: usize,
    /// `--- a/path` / `+++ b/path` and hunks with three lines of context.
    pub unified: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionDiff {
    pub project: Uuid,
    pub from: i32,
    pub to: i32,
    /// Set when the two versions target different frameworks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub framework: Option<(Framework, Framework)>,
    pub design: DesignDiff,
    pub spec_changed: bool,
    /// Changed files only, in path order.
    pub files: Vec<FileDiff>,
}

impl VersionDiff {
    pub fn is_empty(&self) -> bool {
        self.framework.is_none()
            && self.design.is_empty()
            && !self.spec_changed
            && self.files.is_empty()
    }
}

/// The changes from version `a` to version `b` of `project`.
pub async fn diff(
    conn: &mut PgConnection,
    project: Uuid,
    a: i32,
    b: i32,
) -> Result<VersionDiff, VersionError> {
    let old = get(conn, project, a).await?;
    let new = get(conn, project, b).await?;
    // Files with equal hashes are equal: only the others' contents are fetched.
    let hashes = |v: &super::Version| -> BTreeMap<String, String> {
        v.files
            .iter()
            .map(|f| (f.path.clone(), f.sha256.clone()))
            .collect()
    };
    let (before, after) = (hashes(&old), hashes(&new));
    let changed: Vec<String> = before
        .keys()
        .chain(after.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter(|p| before.get(*p) != after.get(*p))
        .cloned()
        .collect();
    let files = if changed.is_empty() {
        Vec::new()
    } else {
        let before = read_paths(conn, old.summary.id, &changed).await?;
        let after = read_paths(conn, new.summary.id, &changed).await?;
        changed
            .iter()
            .filter_map(|path| {
                file_diff(
                    path,
                    before.get(path).map(String::as_str),
                    after.get(path).map(String::as_str),
                )
            })
            .collect()
    };
    Ok(VersionDiff {
        project,
        from: a,
        to: b,
        framework: (old.framework != new.framework).then_some((old.framework, new.framework)),
        design: design_diff(&old.design, &new.design),
        spec_changed: old.spec != new.spec,
        files,
    })
}

/// The unified diff of one path; `None` when its content is the same on both sides.
pub fn file_diff(path: &str, old: Option<&str>, new: Option<&str>) -> Option<FileDiff> {
    let change = match (old, new) {
        (None, None) => return None,
        (Some(o), Some(n)) if o == n => return None,
        (None, Some(_)) => FileChange::Added,
        (Some(_), None) => FileChange::Removed,
        (Some(_), Some(_)) => FileChange::Changed,
    };
    let (o, n) = (old.unwrap_or(""), new.unwrap_or(""));
    let text = TextDiff::from_lines(o, n);
    let (mut insertions, mut deletions) = (0, 0);
    for change in text.iter_all_changes() {
        match change.tag() {
            ChangeTag::Insert => insertions += 1,
            ChangeTag::Delete => deletions += 1,
            ChangeTag::Equal => {}
        }
    }
    let from = if old.is_some() {
        format!("a/{path}")
    } else {
        "/dev/null".to_owned()
    };
    let to = if new.is_some() {
        format!("b/{path}")
    } else {
        "/dev/null".to_owned()
    };
    let unified = text
        .unified_diff()
        .context_radius(3)
        .header(&from, &to)
        .to_string();
    Some(FileDiff {
        path: path.to_owned(),
        change,
        insertions,
        deletions,
        unified,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unified_diffs_count_lines_and_name_sides() {
        let d =
            file_diff("app/main.py", Some("a\nb\nc\n"), Some("a\nB\nc\nd\n")).expect("a change");
        assert_eq!(d.change, FileChange::Changed);
        assert_eq!((d.insertions, d.deletions), (2, 1));
        assert_eq!(
            d.unified,
            "--- a/app/main.py\n+++ b/app/main.py\n@@ -1,3 +1,4 @@\n a\n-b\n+B\n c\n+d\n"
        );
        let added = file_diff("new.txt", None, Some("x\n")).expect("added");
        assert_eq!(added.change, FileChange::Added);
        assert!(added.unified.starts_with("--- /dev/null\n+++ b/new.txt\n"));
        let removed = file_diff("old.txt", Some("x\n"), None).expect("removed");
        assert_eq!(
            (removed.change, removed.deletions),
            (FileChange::Removed, 1)
        );
        assert_eq!(file_diff("same", Some("x"), Some("x")), None);
    }
}
