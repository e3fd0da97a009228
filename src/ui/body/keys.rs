//! The body's keys: ratatui-textarea's emacs-like set (the header fields use it), on
//! the rope. Undo and redo are the composer's actions (they reach every pane), so they
//! are not here.

use std::time::Instant;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::history::Kind;
use super::Body;

/// Word movement classes: spaces, word characters, everything else.
fn class(c: char) -> u8 {
    if c.is_whitespace() {
        0
    } else if c.is_alphanumeric() || c == '_' {
        1
    } else {
        2
    }
}

impl Body {
    /// A key for the text; returns whether the text changed.
    pub fn input(&mut self, key: KeyEvent, now: Instant) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        let shift = key.modifiers.contains(KeyModifiers::SHIFT);
        let len = self.rope.len_chars();
        let (line, col) = self.cursor();
        let head = self.cursor - col;
        let end = head + self.line_len(line);
        match (key.code, ctrl, alt) {
            (KeyCode::Enter, _, false) | (KeyCode::Char('m'), true, false) => {
                return self.insert("\n", Kind::Type, now)
            }
            (KeyCode::Char(c), false, false) => {
                return self.insert(&c.to_string(), Kind::Type, now)
            }
            (KeyCode::Backspace, false, false) | (KeyCode::Char('h'), true, false) => {
                return match self.selection() {
                    Some(r) => self.change(r, "", Kind::Other, now),
                    None if self.cursor > 0 => {
                        self.change(self.cursor - 1..self.cursor, "", Kind::DeleteBack, now)
                    }
                    None => false,
                };
            }
            (KeyCode::Delete, false, false) | (KeyCode::Char('d'), true, false) => {
                return match self.selection() {
                    Some(r) => self.change(r, "", Kind::Other, now),
                    None if self.cursor < len => {
                        self.change(self.cursor..self.cursor + 1, "", Kind::DeleteForward, now)
                    }
                    None => false,
                };
            }
            (KeyCode::Char('k'), true, false) => {
                // To the end of the line; at its end, the line break.
                let to = if self.cursor == end {
                    (end + 1).min(len)
                } else {
                    end
                };
                return self.kill(self.cursor..to, now);
            }
            (KeyCode::Char('j'), true, false) => {
                let from = if self.cursor == head {
                    head.saturating_sub(1)
                } else {
                    head
                };
                return self.kill(from..self.cursor, now);
            }
            (KeyCode::Char('w'), true, false)
            | (KeyCode::Char('h') | KeyCode::Backspace, false, true) => {
                let from = self.word_back();
                return self.kill(from..self.cursor, now);
            }
            (KeyCode::Delete | KeyCode::Char('d'), false, true) => {
                let to = self.word_end_forward();
                return self.kill(self.cursor..to, now);
            }
            (KeyCode::Char('x'), true, false) => {
                return match self.selection() {
                    Some(r) => self.kill(r, now),
                    None => false,
                };
            }
            (KeyCode::Char('c'), true, false) => {
                if let Some(r) = self.selection() {
                    self.yank = self.rope.slice(r).to_string();
                }
                self.anchor = None;
                return false;
            }
            (KeyCode::Char('v'), true, false) => {
                let y = self.yank.clone();
                return !y.is_empty() && self.insert(&y, Kind::Other, now);
            }
            (KeyCode::Down, false, false) | (KeyCode::Char('n'), true, false) => {
                self.vertical(1, shift)
            }
            (KeyCode::Up, false, false) | (KeyCode::Char('p'), true, false) => {
                self.vertical(-1, shift)
            }
            (KeyCode::Right, false, false) | (KeyCode::Char('f'), true, false) => {
                self.move_to(self.cursor + 1, shift)
            }
            (KeyCode::Left, false, false) | (KeyCode::Char('b'), true, false) => {
                self.move_to(self.cursor.saturating_sub(1), shift)
            }
            (KeyCode::Home, _, _)
            | (KeyCode::Char('a'), true, false)
            | (KeyCode::Left | KeyCode::Char('b'), true, true) => self.move_to(head, shift),
            (KeyCode::End, _, _)
            | (KeyCode::Char('e'), true, false)
            | (KeyCode::Right | KeyCode::Char('f'), true, true) => self.move_to(end, shift),
            (KeyCode::Char('<'), false, true) | (KeyCode::Up | KeyCode::Char('p'), true, true) => {
                self.move_to(0, shift)
            }
            (KeyCode::Char('>'), false, true)
            | (KeyCode::Down | KeyCode::Char('n'), true, true) => self.move_to(len, shift),
            (KeyCode::Char('f'), false, true) | (KeyCode::Right, true, false) => {
                let to = self.word_forward();
                self.move_to(to, shift)
            }
            (KeyCode::Char('b'), false, true) | (KeyCode::Left, true, false) => {
                let to = self.word_back();
                self.move_to(to, shift)
            }
            (KeyCode::Char(']' | 'n'), false, true) | (KeyCode::Down, true, false) => {
                let to = self.paragraph(true);
                self.move_to(to, shift)
            }
            (KeyCode::Char('[' | 'p'), false, true) | (KeyCode::Up, true, false) => {
                let to = self.paragraph(false);
                self.move_to(to, shift)
            }
            (KeyCode::PageDown, _, _) => {
                self.select(shift);
                self.page(true)
            }
            (KeyCode::PageUp, _, _) | (KeyCode::Char('v'), false, true) => {
                self.select(shift);
                self.page(false)
            }
            _ => {}
        }
        false
    }

    fn select(&mut self, extend: bool) {
        if extend {
            self.anchor.get_or_insert(self.cursor);
        } else {
            self.anchor = None;
        }
        self.history.seal();
    }

    fn vertical(&mut self, n: isize, shift: bool) {
        let goal = self.goal;
        self.select(shift);
        self.goal = goal;
        self.move_rows(n);
    }

    /// Delete `range` into the yank buffer (Ctrl-K, Ctrl-J, Ctrl-W, Ctrl-X).
    fn kill(&mut self, range: std::ops::Range<usize>, now: Instant) -> bool {
        if range.is_empty() {
            return false;
        }
        self.yank = self.rope.slice(range.clone()).to_string();
        self.change(range, "", Kind::Other, now)
    }

    /// The start of the word before the cursor (spaces before it skipped).
    pub(super) fn word_back(&self) -> usize {
        let mut i = self.cursor;
        let mut chars = self.rope.chars_at(i);
        let mut cls = None;
        while let Some(c) = chars.prev() {
            let k = class(c);
            match cls {
                None if k == 0 => {}
                None => cls = Some(k),
                Some(w) if w != k => break,
                Some(_) => {}
            }
            i -= 1;
        }
        i
    }

    /// The start of the next word (Alt-F).
    fn word_forward(&self) -> usize {
        let mut i = self.cursor;
        let mut chars = self.rope.chars_at(i);
        let first = chars.next().map(class);
        if first.is_some() {
            i += 1;
        }
        for c in chars {
            let k = class(c);
            if k != 0 && Some(k) != first {
                break;
            }
            if k == 0 {
                // Spaces end the word; the next non-space starts the next.
                return self.skip_spaces(i);
            }
            i += 1;
        }
        i
    }

    fn skip_spaces(&self, mut i: usize) -> usize {
        for c in self.rope.chars_at(i) {
            if class(c) != 0 {
                break;
            }
            i += 1;
        }
        i
    }

    /// The end of the word after the cursor (Alt-D deletes to here).
    fn word_end_forward(&self) -> usize {
        let mut i = self.skip_spaces(self.cursor);
        let mut cls = None;
        for c in self.rope.chars_at(i) {
            let k = class(c);
            if k == 0 || cls.is_some_and(|w| w != k) {
                break;
            }
            cls = Some(k);
            i += 1;
        }
        i
    }

    /// The next (or previous) blank line after text, or the end (start) of the body.
    fn paragraph(&self, forward: bool) -> usize {
        let (line, _) = self.cursor();
        let n = self.rope.len_lines();
        let blank = |l: usize| self.line_len(l) == 0;
        if forward {
            let mut l = line;
            while l + 1 < n && blank(l) {
                l += 1;
            }
            while l + 1 < n && !blank(l) {
                l += 1;
            }
            if blank(l) {
                self.rope.line_to_char(l)
            } else {
                self.rope.len_chars()
            }
        } else {
            let mut l = line;
            while l > 0 && blank(l) {
                l -= 1;
            }
            while l > 0 && !blank(l) {
                l -= 1;
            }
            self.rope.line_to_char(l)
        }
    }
}
