//! Themes are data: `themes/*.toml` compiled in, overridable by a file of the same
//! name in the config dir's `themes/`. Panes ask the theme for a named style; none
//! of them picks colours of its own.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

/// The built-in themes, by name, in the order `apiforge` lists them.
const BUILT_IN: [(&str, &str); 3] = [
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error(
        "no theme named {name:?}; the built-in themes are dark, light and high-contrast, or put {name}.toml in {dir}"
    )]
    Unknown { name: String, dir: PathBuf },
    #[error("cannot read theme {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("theme {origin}: {message}")]
    Invalid { origin: String, message: String },
}

/// Every named style a pane may use.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    pub description: String,
    /// The syntect theme for highlighted code.
    pub syntax: String,
    pub text: Style,
    pub dim: Style,
    pub border: Style,
    pub border_focused: Style,
    pub title: Style,
    pub selected: Style,
    pub accent: Style,
    pub ok: Style,
    pub warn: Style,
    pub error: Style,
    pub running: Style,
    pub added: Style,
    pub removed: Style,
    pub status_bar: Style,
    pub key: Style,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    description: String,
    syntax: String,
    styles: Styles,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Styles {
    text: StyleSpec,
    dim: StyleSpec,
    border: StyleSpec,
    border_focused: StyleSpec,
    title: StyleSpec,
    selected: StyleSpec,
    accent: StyleSpec,
    ok: StyleSpec,
    warn: StyleSpec,
    error: StyleSpec,
    running: StyleSpec,
    added: StyleSpec,
    removed: StyleSpec,
    status_bar: StyleSpec,
    key: StyleSpec,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct StyleSpec {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    bold: bool,
    #[serde(default)]
    italic: bool,
    #[serde(default)]
    underline: bool,
    #[serde(default)]
    reversed: bool,
}

impl StyleSpec {
    fn style(&self, key: &str) -> Result<Style, String> {
        let color = |value: &Option<String>, part: &str| -> Result<Option<Color>, String> {
            value
                .as_deref()
                .map(|v| {
                    Color::from_str(v).map_err(|_| {
                        format!("styles.{key}.{part}: {v:?} is not a colour (a name such as \"lightblue\", \"#rrggbb\" or 0-255)")
                    })
                })
                .transpose()
        };
        let mut style = Style::default();
        if let Some(fg) = color(&self.fg, "fg")? {
            style = style.fg(fg);
        }
        if let Some(bg) = color(&self.bg, "bg")? {
            style = style.bg(bg);
        }
        for (on, modifier) in [
            (self.bold, Modifier::BOLD),
            (self.italic, Modifier::ITALIC),
            (self.underline, Modifier::UNDERLINED),
            (self.reversed, Modifier::REVERSED),
        ] {
            if on {
                style = style.add_modifier(modifier);
            }
        }
        Ok(style)
    }
}

impl Theme {
    /// The names of the built-in themes.
    pub fn built_in_names() -> impl Iterator<Item = &'static str> {
        BUILT_IN.iter().map(|(name, _)| *name)
    }

    /// The theme `name`: `<config_dir>/themes/<name>.toml` when it exists, else the
    /// built-in one.
    pub fn load(name: &str, config_dir: &Path) -> Result<Self, ThemeError> {
        let dir = config_dir.join("themes");
        let path = dir.join(format!("{name}.toml"));
        let valid_name = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if valid_name && path.is_file() {
            let text = std::fs::read_to_string(&path).map_err(|source| ThemeError::Read {
                path: path.clone(),
                source,
            })?;
            return Self::parse(name, &text, &path.display().to_string());
        }
        match BUILT_IN.iter().find(|(n, _)| *n == name) {
            Some((n, text)) => Self::parse(n, text, &format!("themes/{n}.toml")),
            None => Err(ThemeError::Unknown {
                name: name.to_owned(),
                dir,
            }),
        }
    }

    /// The default theme, for tests and for the fallback after a broken user theme.
    pub fn dark() -> Self {
        Self::parse("dark", BUILT_IN[0].1, "themes/dark.toml")
            .expect("the built-in dark theme is tested to parse")
    }

    fn parse(name: &str, text: &str, origin: &str) -> Result<Self, ThemeError> {
        let invalid = |message: String| ThemeError::Invalid {
            origin: origin.to_owned(),
            message,
        };
        let file: ThemeFile = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        if !syntect::highlighting::ThemeSet::load_defaults()
            .themes
            .contains_key(&file.syntax)
        {
            return Err(invalid(format!(
                "syntax: {:?} is not a built-in syntect theme (base16-ocean.dark, base16-eighties.dark, base16-mocha.dark, base16-ocean.light, InspiredGitHub, Solarized (dark), Solarized (light))",
                file.syntax
            )));
        }
        let s = &file.styles;
        Ok(Self {
            name: name.to_owned(),
            description: file.description,
            syntax: file.syntax,
            text: s.text.style("text").map_err(invalid)?,
            dim: s.dim.style("dim").map_err(invalid)?,
            border: s.border.style("border").map_err(invalid)?,
            border_focused: s.border_focused.style("border_focused").map_err(invalid)?,
            title: s.title.style("title").map_err(invalid)?,
            selected: s.selected.style("selected").map_err(invalid)?,
            accent: s.accent.style("accent").map_err(invalid)?,
            ok: s.ok.style("ok").map_err(invalid)?,
            warn: s.warn.style("warn").map_err(invalid)?,
            error: s.error.style("error").map_err(invalid)?,
            running: s.running.style("running").map_err(invalid)?,
            added: s.added.style("added").map_err(invalid)?,
            removed: s.removed.style("removed").map_err(invalid)?,
            status_bar: s.status_bar.style("status_bar").map_err(invalid)?,
            key: s.key.style("key").map_err(invalid)?,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn every_built_in_theme_parses() {
        let empty = tempfile::tempdir().unwrap();
        for name in Theme::built_in_names() {
            let theme = Theme::load(name, empty.path()).unwrap();
            assert_eq!(theme.name, name);
        }
        assert_eq!(Theme::dark().border_focused.fg, Some(Color::Cyan));
    }

    #[test]
    fn a_user_theme_overrides_and_errors_name_the_key() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("themes")).unwrap();
        let mine = BUILT_IN[0]
            .1
            .replace("text = { fg = \"#c0c5ce\" }", "text = { fg = \"magenta\" }");
        std::fs::write(dir.path().join("themes/mine.toml"), &mine).unwrap();
        assert_eq!(
            Theme::load("mine", dir.path()).unwrap().text.fg,
            Some(Color::Magenta)
        );

        let bad = mine.replace("\"magenta\"", "\"not-a-colour\"");
        std::fs::write(dir.path().join("themes/mine.toml"), bad).unwrap();
        let err = Theme::load("mine", dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("styles.text.fg") && err.contains("not-a-colour"),
            "{err}"
        );

        let err = Theme::load("nope", dir.path()).unwrap_err().to_string();
        assert!(err.contains("no theme named \"nope\""), "{err}");
    }
}
