//! Undo history of a body: steps of edits on char positions, grouped as a person thinks
//! of them (a typed word, a run of deletions, a paste, a round trip through `$EDITOR`).

use std::time::{Duration, Instant};

/// Steps kept; the oldest go first.
pub const MAX_STEPS: usize = 1000;
/// Runs of input that arrive this close together (a paste the terminal sends as
/// keystrokes, read in several batches) are one step.
pub const BURST_GAP: Duration = Duration::from_millis(250);

/// One change: at char `at`, `removed` was replaced by `inserted`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub at: usize,
    pub removed: String,
    pub inserted: String,
}

impl Edit {
    fn inserted_end(&self) -> usize {
        self.at + self.inserted.chars().count()
    }
}

/// How an edit came about, which decides whether it joins the step before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// One character typed.
    Type,
    /// Backspace (one character before the cursor).
    DeleteBack,
    /// Delete (one character after the cursor).
    DeleteForward,
    /// A run of keys read in one go, too long or too many lines for typing: a paste in a
    /// terminal without bracketed paste.
    Burst,
    /// Anything else (a paste, a cut, a kill, a replacement): a step of its own.
    Other,
}

#[derive(Clone, Debug)]
struct Step {
    edits: Vec<Edit>,
    kind: Kind,
    cursor_before: usize,
    cursor_after: usize,
    /// Nothing more joins this step (the cursor moved, or it is complete).
    sealed: bool,
    last: Instant,
}

#[derive(Default, Clone, Debug)]
pub struct History {
    done: Vec<Step>,
    undone: Vec<Step>,
}

fn is_space(c: char) -> bool {
    c.is_whitespace()
}

impl History {
    /// Record `edit` (already applied), with the cursor before and after it.
    pub fn record(
        &mut self,
        edit: Edit,
        kind: Kind,
        cursor_before: usize,
        cursor_after: usize,
        now: Instant,
    ) {
        self.undone.clear();
        if let Some(step) = self.done.last_mut() {
            if !step.sealed && joins(step, &edit, kind, now) {
                let last = step.edits.last_mut().expect("a step has an edit");
                merge(last, edit, kind);
                if kind == Kind::Burst {
                    step.kind = Kind::Burst;
                }
                step.cursor_after = cursor_after;
                step.last = now;
                return;
            }
            step.sealed = true;
        }
        self.done.push(Step {
            edits: vec![edit],
            kind,
            cursor_before,
            cursor_after,
            sealed: kind == Kind::Other,
            last: now,
        });
        if self.done.len() > MAX_STEPS {
            self.done.remove(0);
        }
    }

    /// The next edit starts a step of its own.
    pub fn seal(&mut self) {
        if let Some(s) = self.done.last_mut() {
            s.sealed = true;
        }
    }

    /// The edits to revert, last first, and where the cursor goes; the step moves to the
    /// redo list.
    pub fn undo(&mut self) -> Option<(Vec<Edit>, usize)> {
        let mut step = self.done.pop()?;
        step.sealed = true;
        let out = (
            step.edits.iter().rev().cloned().collect(),
            step.cursor_before,
        );
        self.undone.push(step);
        Some(out)
    }

    /// The edits to apply again, in order, and where the cursor goes.
    pub fn redo(&mut self) -> Option<(Vec<Edit>, usize)> {
        let step = self.undone.pop()?;
        let out = (step.edits.clone(), step.cursor_after);
        self.done.push(step);
        Some(out)
    }

    pub fn can_undo(&self) -> bool {
        !self.done.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.undone.is_empty()
    }
}

fn joins(step: &Step, edit: &Edit, kind: Kind, now: Instant) -> bool {
    let Some(last) = step.edits.last() else {
        return false;
    };
    match (step.kind, kind) {
        (Kind::Type, Kind::Type) => {
            // A word and the spaces after it are one step: a new word starts one.
            let prev = last.inserted.chars().next_back();
            let next = edit.inserted.chars().next();
            let new_word =
                matches!((prev, next), (Some(p), Some(n)) if is_space(p) && !is_space(n));
            edit.removed.is_empty() && edit.at == last.inserted_end() && !new_word
        }
        (Kind::DeleteBack, Kind::DeleteBack) => {
            // Mirrored: deleting back over a word, then over the spaces before it.
            let prev = last.removed.chars().next();
            let next = edit.removed.chars().next_back();
            let new_run = matches!((prev, next), (Some(p), Some(n)) if !is_space(p) && is_space(n));
            last.inserted.is_empty()
                && edit.inserted.is_empty()
                && edit.at + edit.removed.chars().count() == last.at
                && !new_run
        }
        (Kind::DeleteForward, Kind::DeleteForward) => {
            last.inserted.is_empty() && edit.inserted.is_empty() && edit.at == last.at
        }
        // A paste that came as keys may be read in batches of any size, single keys
        // among them: typing next to a burst, without a pause, is part of it.
        (Kind::Burst, Kind::Burst | Kind::Type) | (Kind::Type, Kind::Burst) => {
            edit.removed.is_empty()
                && edit.at == last.inserted_end()
                && now.saturating_duration_since(step.last) <= BURST_GAP
        }
        _ => false,
    }
}

fn merge(last: &mut Edit, edit: Edit, kind: Kind) {
    match kind {
        Kind::DeleteBack => {
            last.at = edit.at;
            last.removed.insert_str(0, &edit.removed);
        }
        Kind::DeleteForward => last.removed.push_str(&edit.removed),
        _ => last.inserted.push_str(&edit.inserted),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ins(at: usize, s: &str) -> Edit {
        Edit {
            at,
            removed: String::new(),
            inserted: s.into(),
        }
    }

    fn del(at: usize, s: &str) -> Edit {
        Edit {
            at,
            removed: s.into(),
            inserted: String::new(),
        }
    }

    fn steps(h: &History) -> Vec<Vec<Edit>> {
        h.done.iter().map(|s| s.edits.clone()).collect()
    }

    #[test]
    fn typing_groups_into_words_with_their_spaces() {
        let mut h = History::default();
        let t = Instant::now();
        for (i, c) in "hi 다람쥐  x".chars().enumerate() {
            h.record(ins(i, &c.to_string()), Kind::Type, i, i + 1, t);
        }
        assert_eq!(
            steps(&h),
            vec![
                vec![ins(0, "hi ")],
                vec![ins(3, "다람쥐  ")],
                vec![ins(8, "x")]
            ]
        );
        let (edits, cursor) = h.undo().expect("undo");
        assert_eq!((edits, cursor), (vec![ins(8, "x")], 8));
        assert!(h.can_redo());
        assert_eq!(h.redo(), Some((vec![ins(8, "x")], 9)));
    }

    #[test]
    fn a_cursor_move_or_a_new_edit_ends_a_word() {
        let mut h = History::default();
        let t = Instant::now();
        h.record(ins(0, "a"), Kind::Type, 0, 1, t);
        h.seal();
        h.record(ins(1, "b"), Kind::Type, 1, 2, t);
        // Typing somewhere else is a new step too.
        h.record(ins(0, "c"), Kind::Type, 0, 1, t);
        assert_eq!(steps(&h).len(), 3);
    }

    #[test]
    fn backspaces_group_per_word_and_deletes_together() {
        let mut h = History::default();
        let t = Instant::now();
        // "ab cd|" backspaced to "|".
        for (at, c) in [(4, "d"), (3, "c"), (2, " "), (1, "b"), (0, "a")] {
            h.record(del(at, c), Kind::DeleteBack, at + 1, at, t);
        }
        assert_eq!(steps(&h), vec![vec![del(3, "cd")], vec![del(0, "ab ")]]);
        let mut h = History::default();
        for c in ["x", "y", "z"] {
            h.record(del(2, c), Kind::DeleteForward, 2, 2, t);
        }
        assert_eq!(steps(&h), vec![vec![del(2, "xyz")]]);
    }

    #[test]
    fn a_burst_read_in_batches_is_one_step_unless_it_pauses() {
        let mut h = History::default();
        let t = Instant::now();
        h.record(ins(0, "first\nlines "), Kind::Burst, 0, 12, t);
        h.record(ins(12, "more\n"), Kind::Burst, 12, 17, t + BURST_GAP / 2);
        assert_eq!(steps(&h).len(), 1);
        h.record(ins(17, "later"), Kind::Burst, 17, 22, t + BURST_GAP * 3);
        assert_eq!(steps(&h).len(), 2);
        // A single key read between two batches of it belongs to it too.
        h.record(ins(22, "x"), Kind::Type, 22, 23, t + BURST_GAP * 3);
        h.record(ins(23, "y\nz"), Kind::Burst, 23, 26, t + BURST_GAP * 3);
        assert_eq!(steps(&h).len(), 2);
        h.record(ins(26, "t"), Kind::Type, 26, 27, t + BURST_GAP * 6);
        assert_eq!(steps(&h).len(), 3);
        // A paste is always a step of its own, and so is what follows it.
        h.record(ins(27, "pasted"), Kind::Other, 27, 33, t);
        h.record(ins(33, "x"), Kind::Type, 33, 34, t);
        assert_eq!(steps(&h).len(), 5);
    }

    #[test]
    fn a_new_edit_drops_the_redo_list_and_history_is_bounded() {
        let mut h = History::default();
        let t = Instant::now();
        h.record(ins(0, "a"), Kind::Other, 0, 1, t);
        h.undo();
        h.record(ins(0, "b"), Kind::Other, 0, 1, t);
        assert!(h.redo().is_none());
        for i in 0..MAX_STEPS + 10 {
            h.record(ins(i, "x"), Kind::Other, i, i + 1, t);
        }
        assert_eq!(h.done.len(), MAX_STEPS);
    }
}
