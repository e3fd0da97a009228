//! A message body: a ratatui-textarea over a window of the text.
//!
//! ratatui-textarea recomputes its screen map (soft wrapping, display widths) over every
//! line on each edit: about 30 ms per keystroke with a 10,000-line body. A body longer
//! than [`WHOLE`] lines is therefore edited through a window of [`WINDOW`] lines around
//! the cursor; the lines above and below stay in plain vectors and the window moves when
//! the cursor comes within [`MARGIN`] lines of its edge. The cost per keystroke then does
//! not grow with the body. The one thing a person can notice: undo history starts over
//! when the window moves (short bodies are never windowed).

use ratatui::style::{Modifier, Style};
use ratatui_textarea::{CursorMove, Input, Key, TextArea, WrapMode};

/// Bodies up to this many lines are edited whole.
pub const WHOLE: usize = 240;
/// Lines in the edited window of a longer body.
pub const WINDOW: usize = 160;
/// The window moves when the cursor is this close to an edge with more text beyond.
pub const MARGIN: usize = 35;

pub struct Body {
    head: Vec<String>,
    pub area: TextArea<'static>,
    tail: Vec<String>,
    focused: bool,
    /// Rows of the terminal: a tall screen needs a taller window and margin.
    screen_rows: usize,
}

fn new_area(lines: Vec<String>, focused: bool) -> TextArea<'static> {
    let mut t = TextArea::new(lines);
    t.set_cursor_line_style(Style::default());
    t.set_wrap_mode(WrapMode::WordOrGlyph);
    t.set_max_histories(200);
    t.set_cursor_style(if focused {
        Style::default().add_modifier(Modifier::REVERSED)
    } else {
        Style::default()
    });
    t
}

impl Body {
    pub fn new(text: &str) -> Body {
        let mut lines: Vec<String> = text
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
            .collect();
        let tail = if lines.len() > WHOLE {
            lines.split_off(WINDOW)
        } else {
            Vec::new()
        };
        Body {
            head: Vec::new(),
            area: new_area(lines, false),
            tail,
            focused: false,
            screen_rows: 0,
        }
    }

    /// Tell the body how tall the terminal is, so the window always covers the screen
    /// above and below the cursor.
    pub fn set_screen_rows(&mut self, rows: u16) {
        self.screen_rows = rows as usize;
    }

    fn window(&self) -> usize {
        WINDOW.max(4 * self.screen_rows)
    }

    fn margin(&self) -> usize {
        MARGIN.max(self.screen_rows + 5)
    }

    pub fn set_focused(&mut self, focused: bool) {
        self.focused = focused;
        self.area.set_cursor_style(if focused {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
        });
    }

    /// The whole text.
    pub fn text(&self) -> String {
        let mut out = String::with_capacity(
            self.head.iter().map(|l| l.len() + 1).sum::<usize>()
                + self.area.lines().iter().map(|l| l.len() + 1).sum::<usize>()
                + self.tail.iter().map(|l| l.len() + 1).sum::<usize>(),
        );
        let all = self
            .head
            .iter()
            .chain(self.area.lines())
            .chain(self.tail.iter());
        for (i, l) in all.enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(l);
        }
        out
    }

    pub fn line_count(&self) -> usize {
        self.head.len() + self.area.lines().len() + self.tail.len()
    }

    pub fn is_empty(&self) -> bool {
        self.head.is_empty() && self.tail.is_empty() && self.area.is_empty()
    }

    /// The cursor as (line, column) in the whole text.
    pub fn cursor(&self) -> (usize, usize) {
        let ratatui_textarea::DataCursor(r, c) = self.area.cursor();
        (self.head.len() + r, c)
    }

    /// A key for the text; returns whether the text changed.
    pub fn input(&mut self, input: Input) -> bool {
        let top = matches!(
            input,
            Input {
                key: Key::Char('<'),
                ctrl: false,
                alt: true,
                ..
            } | Input {
                key: Key::Up | Key::Char('p'),
                ctrl: true,
                alt: true,
                ..
            }
        );
        let bottom = matches!(
            input,
            Input {
                key: Key::Char('>'),
                ctrl: false,
                alt: true,
                ..
            } | Input {
                key: Key::Down | Key::Char('n'),
                ctrl: true,
                alt: true,
                ..
            }
        );
        if top && !self.head.is_empty() {
            self.jump(0, 0, false);
            return false;
        }
        if bottom && !self.tail.is_empty() {
            let last = self.line_count() - 1;
            self.jump(last, usize::MAX, false);
            return false;
        }
        let changed = self.area.input(input);
        self.rewindow();
        changed
    }

    pub fn insert_str(&mut self, s: &str) -> bool {
        let changed = self.area.insert_str(s);
        self.rewindow();
        changed
    }

    /// Put the cursor at the end of the text.
    pub fn move_to_end(&mut self) {
        let last = self.line_count().saturating_sub(1);
        self.jump(last, usize::MAX, false);
    }

    fn rewindow(&mut self) {
        let n = self.area.lines().len();
        let ratatui_textarea::DataCursor(row, _) = self.area.cursor();
        let (window, margin) = (self.window(), self.margin());
        let near_top = row < margin && !self.head.is_empty();
        let near_bottom = row + margin >= n && !self.tail.is_empty();
        let too_big = n > 2 * window;
        let too_small = n < window / 2 && (!self.head.is_empty() || !self.tail.is_empty());
        if near_top || near_bottom || too_big || too_small {
            let (abs, col) = self.cursor();
            self.jump(abs, col, true);
        }
    }

    /// Re-cut the window around line `abs` and put the cursor there. `keep_screen` keeps
    /// the cursor on the same screen row (the window moved under a scrolling cursor);
    /// otherwise the text area scrolls as it would for any cursor move.
    fn jump(&mut self, abs: usize, col: usize, keep_screen: bool) {
        let ratatui_textarea::DataCursor(old_row, _) = self.area.cursor();
        let (top, _) = self.area.scroll_offset();
        let on_screen = old_row.saturating_sub(top as usize);

        let mut all = std::mem::take(&mut self.head);
        let area = std::mem::take(&mut self.area);
        all.extend(area.into_lines());
        all.append(&mut self.tail);
        let total = all.len();
        let abs = abs.min(total.saturating_sub(1));
        let window = self.window();
        let (start, end) = if total <= WHOLE.max(window) {
            (0, total)
        } else {
            let start = abs.saturating_sub(window / 2);
            let end = (start + window).min(total);
            (end.saturating_sub(window), end)
        };
        self.tail = all.split_off(end);
        let window = all.split_off(start);
        self.head = all;
        let mut t = new_area(window, self.focused);
        let row = abs - start;
        let col = col.min(t.lines()[row].chars().count());
        let want_top = if keep_screen {
            row.saturating_sub(on_screen)
        } else {
            0
        };
        if want_top > 0 {
            t.scroll((want_top.min(i16::MAX as usize) as i16, 0));
        }
        t.move_cursor(CursorMove::Jump(
            row.min(u16::MAX as usize) as u16,
            col.min(u16::MAX as usize) as u16,
        ));
        self.area = t;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: Key) -> Input {
        Input {
            key: k,
            ..Default::default()
        }
    }

    #[test]
    fn short_text_is_whole_and_round_trips() {
        let b = Body::new("a\nb\n");
        assert_eq!(b.text(), "a\nb\n");
        assert_eq!(b.line_count(), 3);
        assert!(Body::new("").is_empty());
    }

    #[test]
    fn long_text_is_windowed_and_round_trips() {
        let text: Vec<String> = (0..10_000).map(|i| format!("line {i} 줄")).collect();
        let text = text.join("\n");
        let mut b = Body::new(&text);
        assert_eq!(b.area.lines().len(), WINDOW);
        assert_eq!(b.text(), text);
        // Walk down past several windows, type, walk back up.
        for _ in 0..1_000 {
            b.input(key(Key::Down));
        }
        assert_eq!(b.cursor(), (1_000, 0));
        assert!(b.area.lines().len() <= 2 * WINDOW);
        b.input(key(Key::Char('X')));
        for _ in 0..1_000 {
            b.input(key(Key::Up));
        }
        assert_eq!(b.cursor().0, 0);
        let edited = b.text();
        assert_eq!(edited.lines().nth(1_000), Some("Xline 1000 줄"));
        assert_eq!(edited.lines().count(), 10_000);
        // Top and bottom of the whole text.
        b.input(Input {
            key: Key::Char('>'),
            alt: true,
            ..Default::default()
        });
        assert_eq!(b.cursor().0, 9_999);
        b.input(Input {
            key: Key::Char('<'),
            alt: true,
            ..Default::default()
        });
        assert_eq!(b.cursor(), (0, 0));
    }

    #[test]
    fn big_paste_is_rewindowed() {
        let mut b = Body::new("start");
        b.move_to_end();
        let paste: Vec<String> = (0..2_000).map(|i| i.to_string()).collect();
        b.insert_str(&paste.join("\n"));
        assert!(b.area.lines().len() <= 2 * WINDOW);
        assert_eq!(b.line_count(), 2_000);
        assert_eq!(b.cursor().0, 1_999);
        assert!(b.text().starts_with("start0\n1\n"));
    }
}
