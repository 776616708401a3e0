//! The files of a version as a tree of collapsible directories.

use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowKind {
    Dir { collapsed: bool },
    File,
}

/// One visible line of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeRow {
    pub depth: usize,
    pub name: String,
    /// The file's path, or the directory's path without a trailing slash.
    pub path: String,
    pub kind: RowKind,
}

#[derive(Default)]
struct Node {
    dirs: BTreeMap<String, Node>,
    files: BTreeSet<String>,
}

#[derive(Default)]
pub struct FileTree {
    root: Node,
    collapsed: BTreeSet<String>,
    rows: Vec<TreeRow>,
    selected: usize,
    /// The first row on screen; kept so the selection stays in view.
    top: usize,
}

impl FileTree {
    /// A tree of `paths` (`/`-separated), every directory open.
    pub fn new<'a>(paths: impl IntoIterator<Item = &'a String>) -> Self {
        let mut root = Node::default();
        for path in paths {
            let mut node = &mut root;
            let mut parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
            let Some(file) = parts.pop() else { continue };
            for dir in parts {
                node = node.dirs.entry(dir.to_owned()).or_default();
            }
            node.files.insert(file.to_owned());
        }
        let mut tree = Self {
            root,
            ..Self::default()
        };
        tree.rebuild();
        tree
    }

    fn rebuild(&mut self) {
        let mut rows = Vec::new();
        push_rows(&self.root, "", 0, &self.collapsed, &mut rows);
        self.rows = rows;
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
    }

    pub fn rows(&self) -> &[TreeRow] {
        &self.rows
    }

    pub fn selected_index(&self) -> usize {
        self.selected
    }

    pub fn selected(&self) -> Option<&TreeRow> {
        self.rows.get(self.selected)
    }

    pub fn move_by(&mut self, delta: isize) {
        let last = self.rows.len().saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(delta).min(last);
    }

    pub fn select_first(&mut self) {
        self.selected = 0;
    }

    pub fn select_last(&mut self) {
        self.selected = self.rows.len().saturating_sub(1);
    }

    /// Selects the row of `path` when it is visible.
    pub fn select_path(&mut self, path: &str) {
        if let Some(i) = self.rows.iter().position(|r| r.path == path) {
            self.selected = i;
        }
    }

    /// Opens or closes the selected directory; false when a file is selected.
    pub fn toggle(&mut self) -> bool {
        match self.selected().map(|r| (r.path.clone(), r.kind.clone())) {
            Some((path, RowKind::Dir { collapsed })) => {
                self.set_collapsed(path, !collapsed);
                true
            }
            _ => false,
        }
    }

    /// Closes the selected directory, or moves to the directory holding the selected
    /// row.
    pub fn collapse(&mut self) {
        let Some(row) = self.selected().cloned() else {
            return;
        };
        match row.kind {
            RowKind::Dir { collapsed: false } => self.set_collapsed(row.path, true),
            _ => {
                if let Some((parent, _)) = row.path.rsplit_once('/') {
                    self.select_path(parent);
                }
            }
        }
    }

    /// Opens the selected directory.
    pub fn expand(&mut self) {
        if let Some(TreeRow {
            path,
            kind: RowKind::Dir { collapsed: true },
            ..
        }) = self.selected().cloned()
        {
            self.set_collapsed(path, false);
        }
    }

    fn set_collapsed(&mut self, path: String, collapsed: bool) {
        if collapsed {
            self.collapsed.insert(path);
        } else {
            self.collapsed.remove(&path);
        }
        self.rebuild();
    }

    /// The first visible row for a view `height` rows tall that shows the selection.
    pub fn scroll_for(&mut self, height: usize) -> usize {
        if self.selected < self.top {
            self.top = self.selected;
        } else if height > 0 && self.selected >= self.top + height {
            self.top = self.selected + 1 - height;
        }
        self.top = self.top.min(self.rows.len().saturating_sub(height.max(1)));
        self.top
    }
}

fn push_rows(
    node: &Node,
    prefix: &str,
    depth: usize,
    collapsed: &BTreeSet<String>,
    rows: &mut Vec<TreeRow>,
) {
    for (name, child) in &node.dirs {
        let path = format!("{prefix}{name}");
        let closed = collapsed.contains(&path);
        rows.push(TreeRow {
            depth,
            name: name.clone(),
            path: path.clone(),
            kind: RowKind::Dir { collapsed: closed },
        });
        if !closed {
            push_rows(child, &format!("{path}/"), depth + 1, collapsed, rows);
        }
    }
    for name in &node.files {
        rows.push(TreeRow {
            depth,
            name: name.clone(),
            path: format!("{prefix}{name}"),
            kind: RowKind::File,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> FileTree {
        let paths: Vec<String> = [
            "app/main.py",
            "app/models/item.py",
            "README.md",
            "tests/test_api.py",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        FileTree::new(&paths)
    }

    fn names(tree: &FileTree) -> Vec<String> {
        tree.rows()
            .iter()
            .map(|r| format!("{}{}", "  ".repeat(r.depth), r.name))
            .collect()
    }

    #[test]
    fn directories_come_first_and_nest() {
        assert_eq!(
            names(&tree()),
            [
                "app",
                "  models",
                "    item.py",
                "  main.py",
                "tests",
                "  test_api.py",
                "README.md"
            ]
        );
    }

    #[test]
    fn collapsing_hides_the_children_and_expanding_shows_them() {
        let mut tree = tree();
        assert!(tree.toggle());
        assert_eq!(names(&tree), ["app", "tests", "  test_api.py", "README.md"]);
        tree.expand();
        assert_eq!(tree.rows().len(), 7);
        tree.move_by(2);
        assert_eq!(
            tree.selected().map(|r| r.path.as_str()),
            Some("app/models/item.py")
        );
        // `h` on a file goes to its directory, then closes it.
        tree.collapse();
        assert_eq!(tree.selected().map(|r| r.path.as_str()), Some("app/models"));
        tree.collapse();
        assert_eq!(tree.rows().len(), 6);
        assert!(!tree.toggle() || tree.rows().len() == 7);
    }

    #[test]
    fn the_selection_stays_in_range_and_in_view() {
        let mut tree = tree();
        tree.move_by(-3);
        assert_eq!(tree.selected_index(), 0);
        tree.move_by(100);
        assert_eq!(tree.selected_index(), 6);
        assert_eq!(tree.scroll_for(3), 4);
        tree.select_first();
        assert_eq!(tree.scroll_for(3), 0);
    }
}
