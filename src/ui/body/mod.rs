//! A message body: the text in a rope (so an edit costs the same at any length), a
//! cursor and selection, its own undo history ([`history`]), and soft-wrapped drawing of
//! only the rows on screen ([`wrap`], [`render`]). Keys follow ratatui-textarea's
//! emacs-like set, which the header fields use, so the two feel the same.

pub mod history;
mod keys;
mod render;
pub mod wrap;

use std::ops::Range;
use std::time::Instant;

use ropey::Rope;

use history::{Edit, History, Kind};

/// A screen position in the text: a line and one of its wrapped rows.
pub type RowPos = (usize, usize);

pub struct Body {
    rope: Rope,
    /// A char index into the text.
    cursor: usize,
    /// The other end of the selection, while there is one.
    anchor: Option<usize>,
    /// The display column that up and down keep to.
    goal: Option<usize>,
    history: History,
    /// What Ctrl-X, Ctrl-K, Ctrl-W took, for Ctrl-V.
    yank: String,
    /// The first row shown.
    top: RowPos,
    /// The text's area on screen (cells), as last laid out.
    view: (u16, u16),
    focused: bool,
}

impl Body {
    pub fn new(text: &str) -> Body {
        let text = if text.contains("\r\n") {
            text.replace("\r\n", "\n")
        } else {
            text.to_string()
        };
        Body {
            rope: Rope::from_str(&text),
            cursor: 0,
            anchor: None,
            goal: None,
            history: History::default(),
            yank: String::new(),
            top: (0, 0),
            view: (0, 0),
            focused: false,
        }
    }

    /// The whole text.
    pub fn text(&self) -> String {
        self.rope.to_string()
    }

    pub fn line_count(&self) -> usize {
        self.rope.len_lines()
    }

    pub fn is_empty(&self) -> bool {
        self.rope.len_chars() == 0
    }

    pub fn set_focused(&mut self, focused: bool) {
        self.focused = focused;
    }

    /// The cursor as (line, column in chars).
    pub fn cursor(&self) -> (usize, usize) {
        let line = self.rope.char_to_line(self.cursor);
        (line, self.cursor - self.rope.line_to_char(line))
    }

    /// The cursor as a char index.
    pub fn cursor_index(&self) -> usize {
        self.cursor
    }

    /// The selected char range, if any.
    pub fn selection(&self) -> Option<Range<usize>> {
        let a = self.anchor?;
        (a != self.cursor).then(|| a.min(self.cursor)..a.max(self.cursor))
    }

    pub fn can_undo(&self) -> bool {
        self.history.can_undo()
    }

    /// Where the body is on screen: the rows kept in view follow the cursor there.
    pub fn set_view(&mut self, width: u16, height: u16) {
        self.view = (width, height);
        self.top = self.view_top(width, height);
    }

    fn width(&self) -> usize {
        match self.view.0 {
            0 => usize::MAX / 4,
            w => w as usize,
        }
    }

    /// Line `l` without its line break.
    fn line(&self, l: usize) -> String {
        let mut s = self.rope.line(l).to_string();
        if s.ends_with('\n') {
            s.pop();
        }
        s
    }

    fn line_len(&self, l: usize) -> usize {
        let n = self.rope.line(l).len_chars();
        if l + 1 < self.rope.len_lines() {
            n - 1
        } else {
            n
        }
    }

    fn rows(&self, l: usize, width: usize) -> Vec<Range<usize>> {
        wrap::rows(&self.line(l), width)
    }

    fn row_count(&self, l: usize, width: usize) -> usize {
        self.rows(l, width).len()
    }

    /// The cursor's screen position at `width`.
    fn cursor_row(&self, width: usize) -> RowPos {
        let (l, c) = self.cursor();
        (l, wrap::row_of(&self.rows(l, width), c))
    }

    /// The first row to show in a `width` × `height` area so the cursor is on screen,
    /// moving as little as possible from the last one. Reads only.
    pub fn view_top(&self, width: u16, height: u16) -> RowPos {
        let w = if width == 0 {
            self.width()
        } else {
            width as usize
        };
        let h = height as usize;
        let cur = self.cursor_row(w);
        let last = self.rope.len_lines() - 1;
        let tl = self.top.0.min(last);
        let top = (tl, self.top.1.min(self.row_count(tl, w) - 1));
        if h == 0 || cur < top {
            return cur;
        }
        if cur.0 - top.0 < h {
            let (mut l, mut r, mut dist) = (top.0, top.1, 0);
            while l < cur.0 && dist < h {
                dist += self.row_count(l, w) - r;
                r = 0;
                l += 1;
            }
            if l == cur.0 && dist + cur.1 - r < h {
                return top;
            }
        }
        self.rows_before(cur, h - 1, w)
    }

    /// The row `n` rows above `pos` (or the first row).
    fn rows_before(&self, pos: RowPos, mut n: usize, w: usize) -> RowPos {
        let (mut l, mut r) = pos;
        while n > 0 {
            if r >= n {
                return (l, r - n);
            }
            n -= r + 1;
            if l == 0 {
                return (0, 0);
            }
            l -= 1;
            r = self.row_count(l, w) - 1;
        }
        (l, r)
    }

    /// The row `n` rows below `pos` (or the last row).
    fn rows_after(&self, pos: RowPos, mut n: usize, w: usize) -> RowPos {
        let (mut l, mut r) = pos;
        let last = self.rope.len_lines() - 1;
        while n > 0 {
            let count = self.row_count(l, w);
            if r + n < count {
                return (l, r + n);
            }
            if l == last {
                return (l, count - 1);
            }
            n -= count - r;
            l += 1;
            r = 0;
        }
        (l, r)
    }

    /// The char index at display column `x` of row `pos`.
    fn index_at(&self, pos: RowPos, x: usize, w: usize) -> usize {
        let line = self.line(pos.0);
        let rows = wrap::rows(&line, w);
        let r = pos.1.min(rows.len() - 1);
        self.rope.line_to_char(pos.0) + wrap::col_at(&line, &rows[r], x, r + 1 == rows.len())
    }

    fn goal_x(&self, w: usize) -> usize {
        self.goal.unwrap_or_else(|| {
            let (l, c) = self.cursor();
            let line = self.line(l);
            let rows = wrap::rows(&line, w);
            wrap::cells_to(&line, &rows[wrap::row_of(&rows, c)], c)
        })
    }

    /// Move the cursor `n` screen rows down (or up), keeping its display column.
    fn move_rows(&mut self, n: isize) {
        let w = self.width();
        let x = self.goal_x(w);
        let cur = self.cursor_row(w);
        let to = if n < 0 {
            self.rows_before(cur, n.unsigned_abs(), w)
        } else {
            self.rows_after(cur, n as usize, w)
        };
        if to != cur {
            self.cursor = self.index_at(to, x, w);
        }
        self.goal = Some(x);
    }

    /// Scroll the view `n` rows (the mouse wheel); the cursor stays on screen.
    pub fn scroll(&mut self, n: isize) {
        let w = self.width();
        let h = self.view.1.max(1) as usize;
        let top = self.view_top(self.view.0, self.view.1);
        self.top = if n < 0 {
            self.rows_before(top, n.unsigned_abs(), w)
        } else {
            self.rows_after(top, n as usize, w)
        };
        let cur = self.cursor_row(w);
        let bottom = self.rows_after(self.top, h - 1, w);
        if cur < self.top {
            self.cursor = self.index_at(self.top, 0, w);
        } else if cur > bottom {
            self.cursor = self.index_at(bottom, 0, w);
        }
        self.anchor = None;
        self.history.seal();
    }

    /// A page down (or up): the view and the cursor move together.
    fn page(&mut self, down: bool) {
        let n = (self.view.1 as isize - 1).max(1);
        let n = if down { n } else { -n };
        let w = self.width();
        let top = self.view_top(self.view.0, self.view.1);
        self.move_rows(n);
        self.top = if down {
            self.rows_after(top, n as usize, w)
        } else {
            self.rows_before(top, n.unsigned_abs(), w)
        };
    }

    /// Put the cursor at `to`; `select` extends the selection instead of dropping it.
    fn move_to(&mut self, to: usize, select: bool) {
        if select {
            self.anchor.get_or_insert(self.cursor);
        } else {
            self.anchor = None;
        }
        self.cursor = to.min(self.rope.len_chars());
        self.goal = None;
        self.history.seal();
    }

    /// Put the cursor at the end of the text.
    pub fn move_to_end(&mut self) {
        self.move_to(self.rope.len_chars(), false);
    }

    // ---- edits ------------------------------------------------------------------------

    /// Replace chars `range` with `text`, as one undoable edit of `kind`.
    fn change(&mut self, range: Range<usize>, text: &str, kind: Kind, now: Instant) -> bool {
        if range.is_empty() && text.is_empty() {
            return false;
        }
        let before = self.cursor;
        let removed = self.rope.slice(range.clone()).to_string();
        self.rope.remove(range.clone());
        self.rope.insert(range.start, text);
        self.cursor = range.start + text.chars().count();
        self.anchor = None;
        self.goal = None;
        self.history.record(
            Edit {
                at: range.start,
                removed,
                inserted: text.to_string(),
            },
            kind,
            before,
            self.cursor,
            now,
        );
        true
    }

    /// Insert at the cursor, over the selection if there is one.
    fn insert(&mut self, text: &str, kind: Kind, now: Instant) -> bool {
        let range = self.selection().unwrap_or(self.cursor..self.cursor);
        self.change(range, text, kind, now)
    }

    /// Text typed: keys read in one go (one, or a paste that came as keys).
    pub fn type_text(&mut self, text: &str, now: Instant) -> bool {
        // More than a person types between two frames, even on a slow machine.
        let mut chars = text.chars();
        let burst = match (chars.next(), chars.next()) {
            (Some(_), Some(_)) => text.contains('\n') || text.chars().nth(3).is_some(),
            _ => false,
        };
        let kind = if burst { Kind::Burst } else { Kind::Type };
        self.insert(text, kind, now)
    }

    /// A paste: one undo step whatever its size.
    pub fn paste(&mut self, text: &str) -> bool {
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        self.insert(&text, Kind::Other, Instant::now())
    }

    /// Replace the whole text (what `$EDITOR` wrote), as one undo step. Only the part that
    /// changed is replaced, so the history stays small.
    pub fn replace_all(&mut self, text: &str) -> bool {
        let old = self.text();
        let text = text.replace("\r\n", "\n");
        if old == text {
            return false;
        }
        let prefix = old
            .chars()
            .zip(text.chars())
            .take_while(|(a, b)| a == b)
            .count();
        let old_n = old.chars().count();
        let new_n = text.chars().count();
        let suffix = old
            .chars()
            .rev()
            .zip(text.chars().rev())
            .take_while(|(a, b)| a == b)
            .count()
            .min(old_n - prefix)
            .min(new_n - prefix);
        let inserted: String = text
            .chars()
            .skip(prefix)
            .take(new_n - prefix - suffix)
            .collect();
        // The cursor goes where the change ends, as if it had been typed here.
        self.change(
            prefix..old_n - suffix,
            &inserted,
            Kind::Other,
            Instant::now(),
        );
        self.history.seal();
        true
    }

    /// As `replace_all`, but a cursor before the change stays where it is (a signature
    /// swapped below the text being written does not move it).
    pub fn replace_after_cursor(&mut self, text: &str) -> bool {
        let before = self.cursor;
        let unchanged = self
            .rope
            .chars()
            .zip(text.chars())
            .take_while(|(a, b)| a == b)
            .count();
        if !self.replace_all(text) {
            return false;
        }
        if before <= unchanged {
            self.move_to(before, false);
        }
        true
    }

    fn apply(&mut self, e: &Edit, undo: bool) {
        let (gone, put) = if undo {
            (&e.inserted, &e.removed)
        } else {
            (&e.removed, &e.inserted)
        };
        self.rope.remove(e.at..e.at + gone.chars().count());
        self.rope.insert(e.at, put);
    }

    pub fn undo(&mut self) -> bool {
        let Some((edits, cursor)) = self.history.undo() else {
            return false;
        };
        for e in &edits {
            self.apply(e, true);
        }
        self.cursor = cursor.min(self.rope.len_chars());
        self.anchor = None;
        self.goal = None;
        true
    }

    pub fn redo(&mut self) -> bool {
        let Some((edits, cursor)) = self.history.redo() else {
            return false;
        };
        for e in &edits {
            self.apply(e, false);
        }
        self.cursor = cursor.min(self.rope.len_chars());
        self.anchor = None;
        self.goal = None;
        true
    }
}

#[cfg(test)]
mod tests;
