//! Draws a `FileBuffer`: line numbers, highlighted text, search matches and the
//! cursor. ratatui-textarea's own widget takes no per-span styles, so the text area
//! only holds the text, cursor and history and this view draws them.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Span;

use super::file_buffer::FileBuffer;
use crate::tui::theme::Theme;

const TAB_WIDTH: usize = 4;

pub struct CodeView<'a> {
    pub theme: &'a Theme,
    /// Draw the cursor (the file is being edited).
    pub cursor: bool,
}

/// The cells `c` takes; control characters are not drawn.
fn char_width(c: char, column: usize) -> usize {
    if c == '\t' {
        TAB_WIDTH - column % TAB_WIDTH
    } else if c.is_control() {
        0
    } else {
        let mut utf8 = [0; 4];
        Span::raw(&*c.encode_utf8(&mut utf8)).width()
    }
}

fn columns(line: &str, chars: usize) -> usize {
    line.chars()
        .take(chars)
        .fold(0, |column, c| column + char_width(c, column))
}

fn digits(n: usize) -> usize {
    n.max(1).ilog10() as usize + 1
}

impl CodeView<'_> {
    /// Draws `file` into `area`; returns where the cursor is when it is drawn and on
    /// screen, for the terminal's own cursor.
    pub fn render(
        &self,
        file: &mut FileBuffer,
        area: Rect,
        buf: &mut Buffer,
    ) -> Option<(u16, u16)> {
        if area.width == 0 || area.height == 0 {
            return None;
        }
        let mut cursor_at = None;
        let theme = self.theme;
        let line_count = file.lines().len();
        let gutter = digits(line_count).max(3) + 1;
        let width = usize::from(area.width).saturating_sub(gutter + 1);
        let height = usize::from(area.height);
        let ratatui_textarea::DataCursor(row, col) = file.textarea.cursor();

        // Keep the cursor on screen.
        if row < file.top {
            file.top = row;
        } else if row >= file.top + height {
            file.top = row + 1 - height;
        }
        let cursor_column = file.lines().get(row).map_or(0, |line| columns(line, col));
        if cursor_column < file.left {
            file.left = cursor_column;
        } else if width > 0 && cursor_column >= file.left + width {
            file.left = cursor_column + 1 - width;
        }
        let (top, left) = (file.top, file.left);
        let bottom = (top + height).min(line_count);

        let search = file.textarea.search_pattern().cloned();
        let search_style = theme.warn.add_modifier(Modifier::REVERSED);
        let text_x = area.x + u16::try_from(gutter).unwrap_or(u16::MAX);
        let (highlight, lines) = file.highlighted(theme, bottom);

        for (offset, index) in (top..bottom).enumerate() {
            let y = area.y + u16::try_from(offset).unwrap_or(u16::MAX);
            let number = format!("{:>w$} ", index + 1, w = gutter - 1);
            let number_style = if index == row {
                theme.accent
            } else {
                theme.dim
            };
            buf.set_stringn(area.x, y, number, gutter, number_style);

            let line = &lines[index];
            let tokens = highlight.tokens(index);
            let matches: Vec<(usize, usize)> = search
                .as_ref()
                .map(|re| re.find_iter(line).map(|m| (m.start(), m.end())).collect())
                .unwrap_or_default();
            let mut token = 0;
            let mut column = 0;
            let chars = line.char_indices().enumerate();
            let cursor_here = self.cursor && index == row;
            for (char_index, (byte, c)) in chars {
                while token + 1 < tokens.len() && tokens[token + 1].start <= byte {
                    token += 1;
                }
                let mut style = theme.text;
                if let Some(t) = tokens.get(token) {
                    style = style.patch(t.style);
                }
                if matches.iter().any(|&(s, e)| s <= byte && byte < e) {
                    style = style.patch(search_style);
                }
                let cells = char_width(c, column);
                if cursor_here && char_index == col {
                    // On a reversed search match the cursor shows the other way round.
                    style = if style.add_modifier.contains(Modifier::REVERSED) {
                        style
                            .remove_modifier(Modifier::REVERSED)
                            .add_modifier(Modifier::UNDERLINED | Modifier::BOLD)
                    } else {
                        style.add_modifier(Modifier::REVERSED)
                    };
                    if column >= left && column < left + width {
                        cursor_at =
                            Some((text_x + u16::try_from(column - left).unwrap_or(u16::MAX), y));
                    }
                }
                let start = column;
                column += cells;
                if cells == 0 || column <= left {
                    continue;
                }
                if start >= left + width {
                    break;
                }
                // A wide char cut by the left edge becomes blanks.
                let x = text_x + u16::try_from(start.saturating_sub(left)).unwrap_or(u16::MAX);
                if start < left || c == '\t' {
                    let visible = column.min(left + width) - start.max(left);
                    buf.set_stringn(x, y, " ".repeat(visible), visible, style);
                } else if column <= left + width {
                    let mut utf8 = [0; 4];
                    buf.set_stringn(x, y, c.encode_utf8(&mut utf8), cells, style);
                }
            }
            if cursor_here && col >= line.chars().count() && column >= left && column < left + width
            {
                let x = text_x + u16::try_from(column - left).unwrap_or(u16::MAX);
                buf.set_stringn(x, y, " ", 1, theme.text.add_modifier(Modifier::REVERSED));
                cursor_at = Some((x, y));
            }
        }
        // Rows below the last line stay empty but for a marker, as in vi.
        for offset in (bottom - top)..height {
            let y = area.y + u16::try_from(offset).unwrap_or(u16::MAX);
            buf.set_stringn(area.x, y, "~", 1, Style::default().patch(theme.dim));
        }
        cursor_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabs_and_wide_chars_take_their_columns() {
        assert_eq!(columns("\tx", 2), 5);
        assert_eq!(columns("a\tx", 2), 4);
        assert_eq!(columns("日本", 2), 4);
        assert_eq!(columns("a\rb", 3), 2);
    }
}
