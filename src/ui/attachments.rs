//! The attachment list's undo history: additions and removals, each with the row and
//! where it was, so Ctrl-Z in the Attachments pane puts a removed file back in place.

use super::app::{App, AttachmentRow};

/// A change to the attachment list: the row and where it was.
#[derive(Clone, Debug, PartialEq)]
pub enum ListChange {
    Added(usize, AttachmentRow),
    Removed(usize, AttachmentRow),
}

/// The attachment list's undo history.
#[derive(Clone, Debug, Default)]
pub struct ListHistory {
    done: Vec<ListChange>,
    undone: Vec<ListChange>,
}

impl ListHistory {
    pub fn record(&mut self, change: ListChange) {
        self.undone.clear();
        self.done.push(change);
    }

    pub fn undo(&mut self) -> Option<ListChange> {
        let c = self.done.pop()?;
        self.undone.push(c.clone());
        Some(c)
    }

    pub fn redo(&mut self) -> Option<ListChange> {
        let c = self.undone.pop()?;
        self.done.push(c.clone());
        Some(c)
    }
}

impl App {
    pub(super) fn undo_attachments(&mut self, undo: bool) -> bool {
        let change = if undo {
            self.attachment_history.undo()
        } else {
            self.attachment_history.redo()
        };
        let Some(change) = change else {
            return false;
        };
        // Undoing an addition is a removal, and the other way round.
        let (add, index, row) = match change {
            ListChange::Added(i, row) => (!undo, i, row),
            ListChange::Removed(i, row) => (undo, i, row),
        };
        if add {
            let i = index.min(self.attachments.len());
            self.note(format!("attached {} again", row.name));
            self.attachments.insert(i, row);
            self.attachment_sel = i;
        } else if let Some(i) = self
            .attachments
            .iter()
            .position(|a| a.spec.path == row.spec.path)
        {
            self.attachments.remove(i);
            self.note(format!("removed {}", row.name));
            self.attachment_sel = i.min(self.attachments.len().saturating_sub(1));
        } else {
            return false;
        }
        true
    }
}
