//! Syntax highlighting with syntect, shared by the editor and the preview pane.
//!
//! syntect's built-in syntaxes cover Python, JavaScript, JSON, YAML and Markdown but
//! neither TypeScript nor TOML: TypeScript is highlighted with the JavaScript grammar
//! (its type annotations stay plain text), TOML with a small grammar of our own
//! (`toml_syntax`). Colours come from the syntect theme the app theme names; the
//! background stays the pane's own so every theme keeps its look.

mod highlight_cache;
mod toml_syntax;

use std::sync::LazyLock;

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use syntect::highlighting::{FontStyle, ThemeSet};
use syntect::parsing::{SyntaxReference, SyntaxSet, SyntaxSetBuilder};

pub use highlight_cache::{HighlightCache, Token};

use super::theme::Theme;

/// The syntect theme used when the app theme names one syntect does not ship.
const FALLBACK_SYNTAX_THEME: &str = "base16-ocean.dark";

// Loading the grammars takes tens of milliseconds, so it happens once, on first use;
// the sets are never changed afterwards.
static DEFAULT_SYNTAXES: LazyLock<SyntaxSet> = LazyLock::new(SyntaxSet::load_defaults_newlines);
static EXTRA_SYNTAXES: LazyLock<SyntaxSet> = LazyLock::new(|| {
    let mut builder = SyntaxSetBuilder::new();
    if let Some(toml) = toml_syntax::definition() {
        builder.add(toml);
    }
    builder.build()
});
static SYNTAX_THEMES: LazyLock<ThemeSet> = LazyLock::new(ThemeSet::load_defaults);

/// A grammar and the syntax set it must be parsed with.
#[derive(Debug, Clone, Copy)]
pub struct Language {
    set: &'static SyntaxSet,
    syntax: &'static SyntaxReference,
}

impl Language {
    /// The grammar for `hint`: a file name or path (`app/main.py`), an extension
    /// (`ts`), a language name (`json`, `Python`) or a media type
    /// (`application/problem+json; charset=utf-8`). Plain text when nothing fits.
    pub fn detect(hint: &str) -> Self {
        let hint = hint.split(';').next().unwrap_or(hint).trim();
        let file_name = hint.rsplit('/').next().unwrap_or(hint);
        let file_name = file_name.rsplit('+').next().unwrap_or(file_name);
        let extension = file_name
            .rsplit_once('.')
            .map_or(file_name, |(_, ext)| ext)
            .to_ascii_lowercase();
        let token = match extension.as_str() {
            "ts" | "tsx" | "mts" | "cts" | "typescript" => "js",
            "mjs" | "cjs" => "js",
            "yml" => "yaml",
            "md" | "markdown" => "md",
            other => other,
        };
        if token == "toml" {
            let set: &'static SyntaxSet = &EXTRA_SYNTAXES;
            if let Some(syntax) = set.find_syntax_by_extension("toml") {
                return Self { set, syntax };
            }
        }
        let set: &'static SyntaxSet = &DEFAULT_SYNTAXES;
        let syntax = set
            .find_syntax_by_extension(token)
            .or_else(|| set.find_syntax_by_token(token))
            .or_else(|| set.find_syntax_by_token(&hint.to_ascii_lowercase()))
            .unwrap_or_else(|| set.find_syntax_plain_text());
        Self { set, syntax }
    }

    /// The grammar's name ("Python", "TOML", "Plain Text").
    pub fn name(&self) -> &'static str {
        &self.syntax.name
    }

    fn set(&self) -> &'static SyntaxSet {
        self.set
    }

    fn syntax(&self) -> &'static SyntaxReference {
        self.syntax
    }
}

/// The syntect theme the app theme names (`Theme::syntax`), or the fallback.
fn syntax_theme(theme: &Theme) -> &'static syntect::highlighting::Theme {
    let themes: &'static ThemeSet = &SYNTAX_THEMES;
    themes
        .themes
        .get(&theme.syntax)
        .or_else(|| themes.themes.get(FALLBACK_SYNTAX_THEME))
        .or_else(|| themes.themes.values().next())
        .expect("syntect ships its default themes compiled in")
}

/// Whether syntect ships a theme named `name` (for config checks).
pub fn has_syntax_theme(name: &str) -> bool {
    SYNTAX_THEMES.themes.contains_key(name)
}

/// A syntect style as a ratatui foreground style; the background is left to the pane.
fn to_ratatui(style: syntect::highlighting::Style) -> Style {
    let fg = style.foreground;
    let mut out = Style::default().fg(Color::Rgb(fg.r, fg.g, fg.b));
    for (flag, modifier) in [
        (FontStyle::BOLD, Modifier::BOLD),
        (FontStyle::ITALIC, Modifier::ITALIC),
        (FontStyle::UNDERLINE, Modifier::UNDERLINED),
    ] {
        if style.font_style.contains(flag) {
            out = out.add_modifier(modifier);
        }
    }
    out
}

/// `text` highlighted as `syntax_hint` (see `Language::detect`), one `Line` per line,
/// for read-only views (response bodies, the spec).
pub fn highlight_text(text: &str, syntax_hint: &str, theme: &Theme) -> Vec<Line<'static>> {
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut cache = HighlightCache::new(Language::detect(syntax_hint), theme);
    cache.sync(&lines);
    cache.ensure(&lines, lines.len());
    lines
        .iter()
        .enumerate()
        .map(|(row, line)| {
            let spans = cache
                .tokens(row)
                .iter()
                .zip(token_ends(cache.tokens(row), line.len()))
                .filter_map(|(token, end)| {
                    line.get(token.start..end)
                        .map(|piece| Span::styled(piece.to_owned(), token.style))
                })
                .collect::<Vec<_>>();
            Line::from(spans)
        })
        .collect()
}

/// The end offset of each token of a line `len` bytes long.
pub fn token_ends(tokens: &[Token], len: usize) -> impl Iterator<Item = usize> + '_ {
    tokens
        .iter()
        .skip(1)
        .map(|t| t.start)
        .chain(std::iter::once(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fg_of(lines: &[Line<'_>], row: usize, piece: &str) -> Option<Color> {
        lines[row]
            .spans
            .iter()
            .find(|s| s.content.contains(piece))
            .and_then(|s| s.style.fg)
    }

    #[test]
    fn the_required_languages_resolve_to_real_grammars() {
        for (hint, name) in [
            ("main.py", "Python"),
            ("app.js", "JavaScript"),
            ("server.ts", "JavaScript"),
            ("openapi.json", "JSON"),
            ("json", "JSON"),
            ("compose.yaml", "YAML"),
            ("ci.yml", "YAML"),
            ("README.md", "Markdown"),
            ("pyproject.toml", "TOML"),
            ("notes.unknownext", "Plain Text"),
            ("application/json", "JSON"),
            ("application/problem+json; charset=utf-8", "JSON"),
            ("application/yaml", "YAML"),
            ("text/markdown", "Markdown"),
        ] {
            assert_eq!(Language::detect(hint).name(), name, "hint {hint}");
        }
    }

    #[test]
    fn keywords_strings_and_plain_text_get_different_colours() {
        let theme = Theme::dark();
        let lines = highlight_text("def f():\n    return \"x\"\n", "main.py", &theme);
        assert_eq!(lines.len(), 2);
        let text: String = lines[1].spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(text, "    return \"x\"");
        let keyword = fg_of(&lines, 0, "def");
        let string = fg_of(&lines, 1, "x");
        assert!(keyword.is_some() && string.is_some());
        assert_ne!(keyword, string);
    }

    #[test]
    fn toml_tables_keys_strings_and_comments_are_highlighted() {
        let theme = Theme::dark();
        let text =
            "# deps\n[tool.app]\nname = \"api\"\nport = 8000\nbody = \"\"\"\nraw = 1\n\"\"\"\n";
        let lines = highlight_text(text, "pyproject.toml", &theme);
        let comment = fg_of(&lines, 0, "# deps");
        let table = fg_of(&lines, 1, "tool.app");
        let key = fg_of(&lines, 2, "name");
        let string = fg_of(&lines, 2, "\"api\"");
        let number = fg_of(&lines, 3, "8000");
        let distinct: std::collections::BTreeSet<String> = [comment, table, key, string, number]
            .iter()
            .map(|c| format!("{c:?}"))
            .collect();
        assert!(distinct.len() >= 4, "too few colours: {distinct:?}");
        // Inside a multi-line string `raw = 1` is string text, not a key.
        assert_eq!(fg_of(&lines, 5, "raw"), string);
    }

    #[test]
    fn the_theme_picks_the_syntect_theme() {
        let dark = Theme::dark();
        let mut light = Theme::dark();
        light.syntax = "InspiredGitHub".to_owned();
        let a = highlight_text("def f(): pass", "py", &dark);
        let b = highlight_text("def f(): pass", "py", &light);
        assert_ne!(fg_of(&a, 0, "def"), fg_of(&b, 0, "def"));
        assert!(has_syntax_theme("InspiredGitHub"));
        assert!(!has_syntax_theme("no such theme"));
    }
}
