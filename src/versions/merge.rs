//! Three-way merge of file sets, so hand edits survive regeneration.
//!
//! * **base** — the generated files the hand edit started from;
//! * **ours** — the parent version's files, hand edits included;
//! * **theirs** — the newly generated files.
//!
//! Per path: a side that did not change takes the other side's content (or absence);
//! when both changed a text file, its lines are merged (diff3, via `diffy`), and
//! overlapping changes become a conflict with diff3 markers in the content (`<<<<<<<
//! ours`, `||||||| original`, `=======`, `>>>>>>> theirs`). A file deleted on one side
//! and changed on the other is a conflict too; its content then holds the changed side
//! between markers with an empty deleted side, so it can never pass for a resolved file.
//! Nothing is ever silently overwritten: every conflicting path is listed.
//!
//! Choosing the base: stored versions hold merged content (generated files with hand
//! edits carried in), so the base for an iteration should be the files generated from
//! the parent's design — codegen is deterministic, so regenerating them gives exactly
//! what the edits started from. Using a stored version with carried edits as the base
//! would make those edits look unchanged and lose them.

use std::collections::BTreeSet;

use diffy::{ConflictStyle, IncompleteHunkStyle, MergeOptions};
use serde::Serialize;

use crate::codegen::GeneratedFiles;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictKind {
    /// Both sides changed the same lines (or both added the file differently).
    BothChanged,
    /// The hand edit deleted the file; regeneration changed it.
    DeletedByUs,
    /// The hand edit changed the file; regeneration no longer produces it.
    DeletedByThem,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileConflict {
    pub path: String,
    pub kind: ConflictKind,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MergeOutcome {
    /// The merged files; conflicting ones carry conflict markers.
    pub files: GeneratedFiles,
    /// Every conflicting path, in path order.
    pub conflicts: Vec<FileConflict>,
}

impl MergeOutcome {
    pub fn is_clean(&self) -> bool {
        self.conflicts.is_empty()
    }

    pub fn conflicting_paths(&self) -> impl Iterator<Item = &str> {
        self.conflicts.iter().map(|c| c.path.as_str())
    }

    /// The paths whose merged content is exactly the newly generated one: the
    /// `generated` set of a version recorded from this merge.
    pub fn generated(&self, theirs: &GeneratedFiles) -> BTreeSet<String> {
        self.files
            .iter()
            .filter(|(path, content)| theirs.get(*path) == Some(*content))
            .map(|(path, _)| path.clone())
            .collect()
    }
}

/// Merges `ours` and `theirs`, which both derive from `base`.
pub fn merge(
    base: &GeneratedFiles,
    ours: &GeneratedFiles,
    theirs: &GeneratedFiles,
) -> MergeOutcome {
    let mut options = MergeOptions::new();
    options
        .set_conflict_style(ConflictStyle::Diff3)
        // Markers always start a line, even after a last line without a newline.
        .set_incomplete_hunk_style(IncompleteHunkStyle::Git);
    let paths: BTreeSet<&String> = base
        .keys()
        .chain(ours.keys())
        .chain(theirs.keys())
        .collect();
    let mut out = MergeOutcome::default();
    for path in paths {
        let b = base.get(path).map(String::as_str);
        let o = ours.get(path).map(String::as_str);
        let t = theirs.get(path).map(String::as_str);
        let (content, conflict) = if o == t || t == b {
            (o.map(str::to_owned), None)
        } else if o == b {
            (t.map(str::to_owned), None)
        } else {
            match (o, t) {
                (Some(o), Some(t)) => match options.merge(b.unwrap_or(""), o, t) {
                    Ok(merged) => (Some(merged), None),
                    Err(marked) => (Some(marked), Some(ConflictKind::BothChanged)),
                },
                (None, Some(t)) => (
                    Some(one_sided(None, Some(t))),
                    Some(ConflictKind::DeletedByUs),
                ),
                (Some(o), None) => (
                    Some(one_sided(Some(o), None)),
                    Some(ConflictKind::DeletedByThem),
                ),
                // Both absent means o == t, handled above.
                (None, None) => (None, None),
            }
        };
        if let Some(content) = content {
            out.files.insert(path.clone(), content);
        }
        if let Some(kind) = conflict {
            out.conflicts.push(FileConflict {
                path: path.clone(),
                kind,
            });
        }
    }
    out
}

/// Conflict markers around the surviving side of a delete/modify conflict.
fn one_sided(ours: Option<&str>, theirs: Option<&str>) -> String {
    let side = |label: &str, content: Option<&str>| match content {
        Some(c) if c.ends_with('\n') || c.is_empty() => format!("{label}\n{c}"),
        Some(c) => format!("{label}\n{c}\n"),
        None => format!("{label} (deleted)\n"),
    };
    format!(
        "{}{}>>>>>>> theirs\n",
        side("<<<<<<< ours", ours),
        side("=======", theirs)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files<'a>(entries: impl IntoIterator<Item = (&'a str, &'a str)>) -> GeneratedFiles {
        entries
            .into_iter()
            .map(|(p, c)| (p.to_owned(), c.to_owned()))
            .collect()
    }

    const BASE: &str = "a\nb\nc\nd\ne\n";

    #[test]
    fn unchanged_sides_take_the_other() {
        let base = files([("x", BASE), ("gone", "1\n"), ("kept", "k\n")]);
        let ours = files([
            ("x", "A\nb\nc\nd\ne\n"),
            ("gone", "1\n"),
            ("kept", "k\n"),
            ("mine", "m\n"),
        ]);
        let theirs = files([("x", BASE), ("kept", "k\n"), ("new", "n\n")]);
        let m = merge(&base, &ours, &theirs);
        assert!(m.is_clean(), "{:?}", m.conflicts);
        assert_eq!(
            m.files,
            files([
                ("x", "A\nb\nc\nd\ne\n"),
                ("kept", "k\n"),
                ("mine", "m\n"),
                ("new", "n\n")
            ])
        );
        assert_eq!(
            m.generated(&theirs),
            ["kept", "new"].iter().map(|s| s.to_string()).collect()
        );
    }

    #[test]
    fn separate_edits_merge_cleanly() {
        let base = files([("x", BASE)]);
        let ours = files([("x", "A\nb\nc\nd\ne\n")]);
        let theirs = files([("x", "a\nb\nc\nd\nE\nf\n")]);
        let m = merge(&base, &ours, &theirs);
        assert!(m.is_clean());
        assert_eq!(m.files["x"], "A\nb\nc\nd\nE\nf\n");
    }

    #[test]
    fn overlapping_edits_conflict_with_markers() {
        let base = files([("x", BASE)]);
        let ours = files([("x", "a\nb\nOURS\nd\ne\n")]);
        let theirs = files([("x", "a\nb\nTHEIRS\nd\ne\n")]);
        let m = merge(&base, &ours, &theirs);
        assert_eq!(
            m.conflicts,
            vec![FileConflict {
                path: "x".into(),
                kind: ConflictKind::BothChanged
            }]
        );
        assert_eq!(
            m.files["x"],
            "a\nb\n<<<<<<< ours\nOURS\n||||||| original\nc\n=======\nTHEIRS\n>>>>>>> theirs\nd\ne\n"
        );
    }

    #[test]
    fn delete_against_modify_conflicts_both_ways() {
        let base = files([("x", BASE)]);
        let changed = files([("x", "a\nb\nc\nd\ne\nf")]);
        let none = GeneratedFiles::new();
        let m = merge(&base, &none, &changed);
        assert_eq!(m.conflicts[0].kind, ConflictKind::DeletedByUs);
        assert_eq!(
            m.files["x"],
            "<<<<<<< ours (deleted)\n=======\na\nb\nc\nd\ne\nf\n>>>>>>> theirs\n"
        );
        let m = merge(&base, &changed, &none);
        assert_eq!(m.conflicts[0].kind, ConflictKind::DeletedByThem);
        assert_eq!(
            m.files["x"],
            "<<<<<<< ours\na\nb\nc\nd\ne\nf\n======= (deleted)\n>>>>>>> theirs\n"
        );
    }

    #[test]
    fn both_deleting_or_adding_the_same_is_clean() {
        let base = files([("x", BASE)]);
        let none = GeneratedFiles::new();
        assert_eq!(merge(&base, &none, &none), MergeOutcome::default());
        let same = files([("y", "new\n")]);
        let m = merge(&none, &same, &same);
        assert!(m.is_clean());
        assert_eq!(m.files, same);
    }

    #[test]
    fn different_additions_of_one_path_conflict() {
        let none = GeneratedFiles::new();
        let m = merge(
            &none,
            &files([("y", "mine\n")]),
            &files([("y", "theirs\n")]),
        );
        assert_eq!(m.conflicts[0].kind, ConflictKind::BothChanged);
        assert!(m.files["y"].contains("<<<<<<< ours\nmine\n"));
        assert!(m.files["y"].contains("=======\ntheirs\n>>>>>>> theirs\n"));
    }
}
