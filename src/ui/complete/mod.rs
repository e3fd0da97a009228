//! Completion in the recipient fields: a list of matching contacts under the field for
//! the entry under the cursor. Local contacts (history and aliases) are searched on the
//! spot; `address_book_cmd` runs in the worker ([`job`]) and its answer joins the list
//! when it comes, so a slow command never holds up typing. [`view`] draws the list and
//! the unfocused fields' summaries.

pub mod job;
pub mod view;

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::CursorMove;

use crate::contacts::{entries, Aliases, Book, Contact};

use super::app::{App, Effect, Pane};
use super::worker::Command;
pub use job::{ContactsCmd, ContactsEvent};

/// Rows the list shows at most.
pub const MAX_ITEMS: usize = 8;
/// Address-book answers kept, by query, so Backspace does not run the command again.
const CACHE_MAX: usize = 256;

/// The list on screen.
#[derive(Clone, Debug, PartialEq)]
pub struct Suggestions {
    pub pane: Pane,
    /// The entry being completed: bytes of the field's text.
    pub range: Range<usize>,
    pub query: String,
    pub items: Vec<Contact>,
    pub selected: usize,
    /// The address-book command is still looking.
    pub waiting: bool,
    /// Its last failure, shown under the list.
    pub error: Option<String>,
}

#[derive(Default)]
pub struct Completion {
    /// History and aliases, once the worker has read them.
    pub book: Option<Arc<Book>>,
    pub aliases: Option<Arc<Aliases>>,
    pub list: Option<Suggestions>,
    /// Esc closed the list for this entry; it opens again when the entry changes.
    dismissed: Option<(Pane, String)>,
    answers: HashMap<String, Result<Vec<Contact>, String>>,
    /// The address-book query in flight.
    asked: Option<(u64, String)>,
    next_id: u64,
}

impl Completion {
    pub fn visible(&self, pane: Pane) -> Option<&Suggestions> {
        self.list
            .as_ref()
            .filter(|l| l.pane == pane && !l.items.is_empty())
    }

    /// The recipient entries as the engine will read them: alias nicks expanded.
    pub fn expand(&self, text: &str) -> String {
        match &self.aliases {
            Some(a) if !a.is_empty() => a.expand(&[text.to_string()]).concat(),
            _ => text.to_string(),
        }
    }
}

impl App {
    /// Keys for the list, when it is shown; `true` when the key was used.
    pub(super) fn completion_key(&mut self, key: &KeyEvent) -> bool {
        if self.completion.visible(self.focus).is_none() {
            return false;
        }
        let plain = !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let Some(list) = self.completion.list.as_mut() else {
            return false;
        };
        let n = list.items.len();
        match key.code {
            KeyCode::Down if plain => list.selected = (list.selected + 1) % n,
            KeyCode::Up if plain => list.selected = (list.selected + n - 1) % n,
            KeyCode::Tab | KeyCode::Enter if plain => self.accept_suggestion(),
            KeyCode::Esc => {
                let l = self.completion.list.take();
                self.completion.dismissed = l.map(|l| (l.pane, l.query));
            }
            _ => return false,
        }
        true
    }

    /// A click on a suggestion accepts it; `true` when the click was on the list.
    pub(super) fn completion_click(&mut self, column: u16, row: u16) -> bool {
        let a = crate::ui::view::layout(self.screen, self);
        let Some((input, s)) = crate::ui::view::suggestions_field(self, &a) else {
            return false;
        };
        let area = view::list_area(input, self.screen, s);
        if !area.contains(ratatui::layout::Position::new(column, row)) {
            return false;
        }
        // Rows inside the frame, in the order drawn: one a suggestion.
        let idx = row.checked_sub(area.y + 1).map(usize::from);
        if let (Some(i), Some(list)) = (idx, self.completion.list.as_mut()) {
            if i < list.items.len() && row < area.bottom().saturating_sub(1) {
                list.selected = i;
                self.accept_suggestion();
            }
        }
        true
    }

    /// Put the chosen contact in place of the entry being typed, and a separator after
    /// it, ready for the next one.
    pub(super) fn accept_suggestion(&mut self) {
        let Some(list) = self.completion.list.take() else {
            return;
        };
        let Some(c) = list.items.get(list.selected) else {
            return;
        };
        let text = self.field_text(list.pane);
        let (Some(before), Some(after)) =
            (text.get(..list.range.start), text.get(list.range.end..))
        else {
            return;
        };
        let lead = if before.is_empty() { "" } else { " " };
        let sep = if after.trim_start().starts_with(',') {
            ""
        } else {
            ", "
        };
        let head = format!("{before}{lead}{}{sep}", c.entry());
        let new = format!("{head}{after}");
        let col = head.chars().count().min(u16::MAX as usize) as u16;
        let pane = list.pane;
        if let Some(t) = self.area_mut(pane) {
            // What the person copied stays on the clipboard.
            let yank = t.yank_text();
            t.clear();
            t.insert_str(&new);
            t.set_yank_text(yank);
            t.move_cursor(CursorMove::Jump(0, col));
        }
        self.edited(Some(pane));
        self.refresh_completion();
    }

    /// Recompute the list for the entry under the cursor of the focused field.
    pub fn refresh_completion(&mut self) {
        let pane = self.focus;
        if !pane.is_recipients() {
            self.completion.list = None;
            return;
        }
        let Some(t) = self.area(pane) else {
            self.completion.list = None;
            return;
        };
        let text = t.lines().first().cloned().unwrap_or_default();
        let col = t.cursor().1;
        let pos = text.char_indices().nth(col).map_or(text.len(), |(i, _)| i);
        let range = entries::at(&text, pos);
        let query = text.get(range.clone()).unwrap_or("").trim().to_string();
        if query.is_empty() || self.completion.dismissed.as_ref() == Some(&(pane, query.clone())) {
            self.completion.list = None;
            return;
        }
        self.completion.dismissed = None;
        let same = self
            .completion
            .list
            .as_ref()
            .is_some_and(|l| l.pane == pane && l.query == query);
        let selected = if same {
            self.completion.list.as_ref().map_or(0, |l| l.selected)
        } else {
            0
        };
        let (extra, waiting, error) = self.book_answer(&query);
        // Who is already in the field is not offered again.
        let others: Vec<String> = entries::split(&text)
            .into_iter()
            .filter(|r| *r != range)
            .filter_map(|r| text.get(r))
            .map(str::to_lowercase)
            .collect();
        let taken = |c: &Contact| {
            let a = c.address.to_lowercase();
            others.iter().any(|o| o.contains(&a))
        };
        let now = crate::contacts::now();
        let want = MAX_ITEMS + others.len().min(MAX_ITEMS);
        let found = match &self.completion.book {
            Some(b) => b.search(&query, &extra, want, now),
            None => Book::default().search(&query, &extra, want, now),
        };
        let items: Vec<Contact> = found
            .into_iter()
            .filter(|c| !taken(c))
            .take(MAX_ITEMS)
            .collect();
        // What was typed is already a known address in full: Enter and Tab move on.
        let done = items.iter().any(|c| {
            c.address.eq_ignore_ascii_case(&query) || c.entry().eq_ignore_ascii_case(&query)
        });
        self.completion.list = (!done).then(|| Suggestions {
            pane,
            range,
            selected: selected.min(items.len().saturating_sub(1)),
            query,
            items,
            waiting,
            error,
        });
    }

    /// The address book's contacts for `query`: known, asked for, or asked for now.
    fn book_answer(&mut self, query: &str) -> (Vec<Contact>, bool, Option<String>) {
        if self.engine.config.contacts.address_book_cmd.is_none() {
            return (Vec::new(), false, None);
        }
        match self.completion.answers.get(query) {
            Some(Ok(c)) => (c.clone(), false, None),
            Some(Err(e)) => (Vec::new(), false, Some(e.clone())),
            None => {
                let asked = self
                    .completion
                    .asked
                    .as_ref()
                    .is_some_and(|(_, q)| q == query);
                if !asked {
                    self.completion.next_id += 1;
                    let id = self.completion.next_id;
                    self.completion.asked = Some((id, query.to_string()));
                    self.effects
                        .push(Effect::Worker(Command::Contacts(ContactsCmd::Query {
                            id,
                            query: query.to_string(),
                        })));
                }
                (Vec::new(), true, None)
            }
        }
    }

    pub(super) fn contacts_event(&mut self, ev: ContactsEvent) {
        match ev {
            ContactsEvent::Loaded(Ok((book, aliases))) => {
                self.completion.book = Some(book);
                self.completion.aliases = Some(aliases);
                // Nicks typed before the aliases were known are addresses now.
                for p in Pane::ALL.into_iter().filter(|p| p.is_recipients()) {
                    self.validate(p);
                }
                self.refresh_completion();
            }
            ContactsEvent::Loaded(Err(e)) => self.note(format!("contacts: {e}")),
            ContactsEvent::Answer { id, query, result } => {
                if self
                    .completion
                    .asked
                    .as_ref()
                    .is_some_and(|(i, _)| *i == id)
                {
                    self.completion.asked = None;
                }
                if self.completion.answers.len() >= CACHE_MAX {
                    self.completion.answers.clear();
                }
                self.completion.answers.insert(query, result);
                self.refresh_completion();
            }
        }
    }
}
