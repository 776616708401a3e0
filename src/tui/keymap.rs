//! Key bindings are data: `assets/default_keymap.toml` compiled in, each action with
//! its keys, the pane it applies to and a one-line description (the help overlay and
//! the command palette are generated from it); `<config dir>/keymap.toml` overrides
//! the keys of any action.

use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;

const DEFAULT_KEYMAP: &str = include_str!("../../assets/default_keymap.toml");

/// Everything a key can trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Quit,
    Help,
    CommandPalette,
    FocusNext,
    FocusPrevious,
    FocusProjects,
    FocusEditor,
    FocusPreview,
    FocusLog,
    NewProject,
    Iterate,
    DismissNotices,
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    Filter,
    DeleteProject,
    Refresh,
    Deploy,
    DeployAnyway,
    Rollback,
    Undeploy,
    ToggleJob,
    CancelJob,
}

impl Action {
    pub const ALL: [Action; 27] = [
        Action::Quit,
        Action::Help,
        Action::CommandPalette,
        Action::FocusNext,
        Action::FocusPrevious,
        Action::FocusProjects,
        Action::FocusEditor,
        Action::FocusPreview,
        Action::FocusLog,
        Action::NewProject,
        Action::Iterate,
        Action::DismissNotices,
        Action::Up,
        Action::Down,
        Action::Top,
        Action::Bottom,
        Action::PageUp,
        Action::PageDown,
        Action::Filter,
        Action::DeleteProject,
        Action::Refresh,
        Action::Deploy,
        Action::DeployAnyway,
        Action::Rollback,
        Action::Undeploy,
        Action::ToggleJob,
        Action::CancelJob,
    ];

    /// The name used in keymap files and the command palette.
    pub fn name(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::Help => "help",
            Action::CommandPalette => "command_palette",
            Action::FocusNext => "focus_next",
            Action::FocusPrevious => "focus_previous",
            Action::FocusProjects => "focus_projects",
            Action::FocusEditor => "focus_editor",
            Action::FocusPreview => "focus_preview",
            Action::FocusLog => "focus_log",
            Action::NewProject => "new_project",
            Action::Iterate => "iterate",
            Action::DismissNotices => "dismiss_notices",
            Action::Up => "up",
            Action::Down => "down",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::PageUp => "page_up",
            Action::PageDown => "page_down",
            Action::Filter => "filter",
            Action::DeleteProject => "delete_project",
            Action::Refresh => "refresh",
            Action::Deploy => "deploy",
            Action::DeployAnyway => "deploy_anyway",
            Action::Rollback => "rollback",
            Action::Undeploy => "undeploy",
            Action::ToggleJob => "toggle_job",
            Action::CancelJob => "cancel_job",
        }
    }
}

/// Where an action applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Global,
    /// Any pane that shows a list (projects, log).
    List,
    Projects,
    Log,
}

impl Scope {
    pub fn title(self) -> &'static str {
        match self {
            Scope::Global => "Everywhere",
            Scope::List => "Lists (projects, log)",
            Scope::Projects => "Projects pane",
            Scope::Log => "Log pane",
        }
    }
}

/// A key with its modifiers, as written in keymap files ("ctrl-c", "G", "shift-tab").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyChord {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
}

impl KeyChord {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut modifiers = KeyModifiers::NONE;
        let mut rest = text;
        loop {
            let lower = rest.to_ascii_lowercase();
            let (prefix, modifier) = if lower.starts_with("ctrl-") {
                ("ctrl-", KeyModifiers::CONTROL)
            } else if lower.starts_with("alt-") {
                ("alt-", KeyModifiers::ALT)
            } else if lower.starts_with("shift-") {
                ("shift-", KeyModifiers::SHIFT)
            } else {
                break;
            };
            if rest.len() == prefix.len() {
                break;
            }
            modifiers |= modifier;
            rest = &rest[prefix.len()..];
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCode::Char(c),
            _ => match rest.to_ascii_lowercase().as_str() {
                "enter" | "return" => KeyCode::Enter,
                "esc" | "escape" => KeyCode::Esc,
                "tab" if modifiers.contains(KeyModifiers::SHIFT) => {
                    modifiers.remove(KeyModifiers::SHIFT);
                    KeyCode::BackTab
                }
                "tab" => KeyCode::Tab,
                "backtab" => KeyCode::BackTab,
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                "pageup" => KeyCode::PageUp,
                "pagedown" => KeyCode::PageDown,
                "backspace" => KeyCode::Backspace,
                "delete" | "del" => KeyCode::Delete,
                "insert" => KeyCode::Insert,
                "space" => KeyCode::Char(' '),
                f if f.starts_with('f')
                    && f[1..].parse::<u8>().is_ok_and(|n| (1..=12).contains(&n)) =>
                {
                    KeyCode::F(f[1..].parse().unwrap_or(1))
                }
                _ => {
                    return Err(format!(
                        "{text:?} is not a key: use a character, a named key (enter, esc, tab, up, pagedown, f1…) with optional ctrl-/alt-/shift-"
                    ));
                }
            },
        };
        Ok(Self { code, modifiers })
    }

    /// The chord a key event stands for: shift is part of the character itself for
    /// printable keys ("G", "?"), so it is dropped there.
    pub fn from_event(key: &KeyEvent) -> Self {
        let mut modifiers =
            key.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        if matches!(key.code, KeyCode::Char(_) | KeyCode::BackTab) {
            modifiers.remove(KeyModifiers::SHIFT);
        }
        Self {
            code: key.code,
            modifiers,
        }
    }

    /// How the help overlay writes the chord.
    pub fn label(&self) -> String {
        let mut out = String::new();
        if self.modifiers.contains(KeyModifiers::CONTROL) {
            out.push_str("Ctrl-");
        }
        if self.modifiers.contains(KeyModifiers::ALT) {
            out.push_str("Alt-");
        }
        if self.modifiers.contains(KeyModifiers::SHIFT) {
            out.push_str("Shift-");
        }
        match self.code {
            KeyCode::Char(' ') => out.push_str("Space"),
            KeyCode::Char(c) => out.push(c),
            KeyCode::Enter => out.push_str("Enter"),
            KeyCode::Esc => out.push_str("Esc"),
            KeyCode::Tab => out.push_str("Tab"),
            KeyCode::BackTab => out.push_str("Shift-Tab"),
            KeyCode::Up => out.push('↑'),
            KeyCode::Down => out.push('↓'),
            KeyCode::Left => out.push('←'),
            KeyCode::Right => out.push('→'),
            KeyCode::Home => out.push_str("Home"),
            KeyCode::End => out.push_str("End"),
            KeyCode::PageUp => out.push_str("PgUp"),
            KeyCode::PageDown => out.push_str("PgDn"),
            KeyCode::Backspace => out.push_str("Backspace"),
            KeyCode::Delete => out.push_str("Del"),
            KeyCode::Insert => out.push_str("Ins"),
            KeyCode::F(n) => out.push_str(&format!("F{n}")),
            other => out.push_str(&format!("{other:?}")),
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    pub action: Action,
    pub keys: Vec<KeyChord>,
    pub scope: Scope,
    pub description: String,
}

#[derive(Debug, thiserror::Error)]
pub enum KeymapError {
    #[error("cannot read the keymap {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("keymap {origin}: {message}")]
    Invalid { origin: String, message: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DefaultEntry {
    keys: Vec<String>,
    scope: Scope,
    description: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OverrideEntry {
    keys: Vec<String>,
}

/// All bindings, in the order of the default keymap file.
#[derive(Debug, Clone, PartialEq)]
pub struct Keymap {
    pub bindings: Vec<Binding>,
}

impl Keymap {
    /// The compiled-in defaults.
    pub fn defaults() -> Self {
        Self::parse_defaults(DEFAULT_KEYMAP).expect("the default keymap is tested to parse")
    }

    fn parse_defaults(text: &str) -> Result<Self, KeymapError> {
        let invalid = |message: String| KeymapError::Invalid {
            origin: "assets/default_keymap.toml".into(),
            message,
        };
        let table: toml::Table = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let mut bindings = Vec::new();
        for (name, value) in table {
            let action = parse_action(&name).map_err(invalid)?;
            let entry: DefaultEntry = value
                .try_into()
                .map_err(|e: toml::de::Error| invalid(format!("[{name}]: {e}")))?;
            let keys = parse_keys(&name, &entry.keys).map_err(invalid)?;
            bindings.push(Binding {
                action,
                keys,
                scope: entry.scope,
                description: entry.description,
            });
        }
        bindings.sort_by_key(|b| b.action);
        Ok(Self { bindings })
    }

    /// The defaults with `<config_dir>/keymap.toml` applied when it exists. A broken
    /// file is an error naming the action; the caller keeps the defaults then.
    pub fn load(config_dir: &Path) -> Result<Self, KeymapError> {
        let mut keymap = Self::defaults();
        let path = config_dir.join("keymap.toml");
        if !path.is_file() {
            return Ok(keymap);
        }
        let text = std::fs::read_to_string(&path).map_err(|source| KeymapError::Read {
            path: path.display().to_string(),
            source,
        })?;
        keymap.apply_overrides(&text, &path.display().to_string())?;
        Ok(keymap)
    }

    /// Replaces the keys of each action the text names.
    pub fn apply_overrides(&mut self, text: &str, origin: &str) -> Result<(), KeymapError> {
        let invalid = |message: String| KeymapError::Invalid {
            origin: origin.to_owned(),
            message,
        };
        let table: toml::Table = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        for (name, value) in table {
            let action = parse_action(&name).map_err(invalid)?;
            let entry: OverrideEntry = value
                .try_into()
                .map_err(|e: toml::de::Error| invalid(format!("[{name}]: {e}")))?;
            let keys = parse_keys(&name, &entry.keys).map_err(invalid)?;
            if let Some(binding) = self.bindings.iter_mut().find(|b| b.action == action) {
                binding.keys = keys;
            }
        }
        Ok(())
    }

    /// The action bound to `key` in the first of `scopes` that binds it.
    pub fn lookup(&self, key: &KeyEvent, scopes: &[Scope]) -> Option<Action> {
        let chord = KeyChord::from_event(key);
        scopes.iter().find_map(|scope| {
            self.bindings
                .iter()
                .find(|b| b.scope == *scope && b.keys.contains(&chord))
                .map(|b| b.action)
        })
    }

    pub fn binding(&self, action: Action) -> Option<&Binding> {
        self.bindings.iter().find(|b| b.action == action)
    }

    /// The first key of `action`, for hints ("? help").
    pub fn first_key(&self, action: Action) -> String {
        self.binding(action)
            .and_then(|b| b.keys.first())
            .map(KeyChord::label)
            .unwrap_or_default()
    }
}

fn parse_action(name: &str) -> Result<Action, String> {
    Action::ALL
        .into_iter()
        .find(|a| a.name() == name)
        .ok_or_else(|| {
            format!(
                "unknown action [{name}]; the actions are: {}",
                Action::ALL.map(Action::name).join(", ")
            )
        })
}

fn parse_keys(name: &str, keys: &[String]) -> Result<Vec<KeyChord>, String> {
    keys.iter()
        .map(|k| KeyChord::parse(k).map_err(|e| format!("[{name}]: {e}")))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn every_action_has_a_default_binding_with_a_description() {
        let keymap = Keymap::defaults();
        for action in Action::ALL {
            let b = keymap
                .binding(action)
                .unwrap_or_else(|| panic!("{action:?}"));
            assert!(!b.keys.is_empty(), "{action:?}");
            assert!(b.description.len() > 10, "{action:?}");
        }
        assert_eq!(keymap.bindings.len(), Action::ALL.len());
    }

    #[test]
    fn keys_resolve_by_scope_and_shift_is_part_of_characters() {
        let keymap = Keymap::defaults();
        let list = [Scope::Projects, Scope::List, Scope::Global];
        assert_eq!(
            keymap.lookup(&key(KeyCode::Char('G'), KeyModifiers::SHIFT), &list),
            Some(Action::Bottom)
        );
        assert_eq!(
            keymap.lookup(&key(KeyCode::Char('c'), KeyModifiers::CONTROL), &list),
            Some(Action::Quit)
        );
        assert_eq!(
            keymap.lookup(&key(KeyCode::BackTab, KeyModifiers::SHIFT), &list),
            Some(Action::FocusPrevious)
        );
        // `c` cancels a job only in the log pane.
        assert_eq!(
            keymap.lookup(&key(KeyCode::Char('c'), KeyModifiers::NONE), &list),
            None
        );
        assert_eq!(
            keymap.lookup(
                &key(KeyCode::Char('c'), KeyModifiers::NONE),
                &[Scope::Log, Scope::List, Scope::Global]
            ),
            Some(Action::CancelJob)
        );
    }

    #[test]
    fn user_overrides_replace_keys_and_errors_name_the_action() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("keymap.toml"),
            "[quit]\nkeys = [\"ctrl-q\"]\n",
        )
        .unwrap();
        let keymap = Keymap::load(dir.path()).unwrap();
        let global = [Scope::Global];
        assert_eq!(
            keymap.lookup(&key(KeyCode::Char('q'), KeyModifiers::CONTROL), &global),
            Some(Action::Quit)
        );
        assert_eq!(
            keymap.lookup(&key(KeyCode::Char('q'), KeyModifiers::NONE), &global),
            None
        );

        std::fs::write(dir.path().join("keymap.toml"), "[qiut]\nkeys = [\"q\"]\n").unwrap();
        let err = Keymap::load(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("unknown action [qiut]") && err.contains("quit"),
            "{err}"
        );

        std::fs::write(
            dir.path().join("keymap.toml"),
            "[quit]\nkeys = [\"ctrl-nope\"]\n",
        )
        .unwrap();
        let err = Keymap::load(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("[quit]") && err.contains("\"ctrl-nope\""),
            "{err}"
        );
    }

    #[test]
    fn chords_parse_and_label() {
        for (text, label) in [
            ("q", "q"),
            ("ctrl-c", "Ctrl-c"),
            ("shift-tab", "Shift-Tab"),
            ("pagedown", "PgDn"),
            ("f1", "F1"),
            ("-", "-"),
            ("ctrl--", "Ctrl--"),
        ] {
            assert_eq!(KeyChord::parse(text).unwrap().label(), label, "{text}");
        }
        assert!(KeyChord::parse("hyper-x").is_err());
        assert!(KeyChord::parse("").is_err());
    }
}
