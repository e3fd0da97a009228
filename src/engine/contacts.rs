//! The engine's face for contacts: the local book (history and aliases), the
//! address-book command, alias expansion before a message is built, and recording who a
//! delivered message went to.

use std::borrow::Cow;
use std::time::Duration;

use crate::contacts::{self, book, entries, Aliases, Book, Contact, ContactsError, History};
use crate::message::Draft;

use super::{Engine, InputError};

/// The recipient history's file in the data dir.
pub const HISTORY_FILE: &str = "contacts.json";

impl Engine {
    pub fn history(&self) -> History {
        History::new(self.paths.data_dir.join(HISTORY_FILE))
    }

    /// The configured aliases file (none configured: no aliases).
    pub fn aliases(&self) -> Result<Aliases, ContactsError> {
        match &self.config.contacts.aliases {
            Some(p) => Aliases::load(p),
            None => Ok(Aliases::default()),
        }
    }

    /// History and aliases merged. A damaged history is a warning (the book is built
    /// without it); a broken aliases file is an error naming its line.
    pub fn local_book(&self) -> Result<(Book, Option<ContactsError>), ContactsError> {
        let aliases = self.aliases()?;
        let (history, warning) = match self.history().load() {
            Ok(h) => (h, None),
            Err(e) => (Vec::new(), Some(e)),
        };
        Ok((Book::new(history, &aliases), warning))
    }

    pub fn address_book_timeout(&self) -> Duration {
        Duration::from_secs(self.config.contacts.address_book_timeout_secs.max(1))
    }

    /// What `address_book_cmd` answers for `query` (none configured, or an empty query:
    /// nothing). Bounded in time and output.
    pub async fn query_address_book(&self, query: &str) -> Result<Vec<Contact>, String> {
        let Some(cmd) = &self.config.contacts.address_book_cmd else {
            return Ok(Vec::new());
        };
        if query.trim().is_empty() {
            return Ok(Vec::new());
        }
        book::query(cmd, query.trim(), self.address_book_timeout())
            .await
            .map_err(|e| format!("address_book_cmd {}", e))
    }

    /// Every source for `query`, best first. Errors of the address-book command are
    /// returned beside the matches the other sources gave.
    pub async fn search_contacts(
        &self,
        query: &str,
        limit: usize,
    ) -> Result<(Vec<Contact>, Vec<String>), ContactsError> {
        let (book, warning) = self.local_book()?;
        let mut warnings: Vec<String> = warning.into_iter().map(|w| w.to_string()).collect();
        let extra = match self.query_address_book(query).await {
            Ok(c) => c,
            Err(e) => {
                warnings.push(e);
                Vec::new()
            }
        };
        Ok((book.search(query, &extra, limit, contacts::now()), warnings))
    }

    /// The draft with each recipient entry that is a whole alias nick replaced by the
    /// alias's addresses (To, Cc, Bcc, Reply-To). The aliases file is read only when an
    /// entry could be a nick, so a broken one never stops mail to plain addresses.
    pub fn expand_aliases<'d>(&self, draft: &'d Draft) -> Result<Cow<'d, Draft>, InputError> {
        let lists = [&draft.to, &draft.cc, &draft.bcc, &draft.reply_to];
        let maybe_nick = lists.iter().any(|l| {
            l.iter().any(|e| {
                entries::split(e)
                    .into_iter()
                    .any(|r| entries::is_nick(&e[r]))
            })
        });
        if !maybe_nick || self.config.contacts.aliases.is_none() {
            return Ok(Cow::Borrowed(draft));
        }
        let aliases = self
            .aliases()
            .map_err(|e| InputError::Other(e.to_string()))?;
        Ok(Cow::Owned(expand_with(&aliases, draft)))
    }

    /// Count a delivery in the recipient history; a failure is logged, never fatal (the
    /// message is already delivered).
    pub(crate) fn record_recipients(&self, rcpts: &[(String, Option<String>)]) {
        if let Err(e) = self.history().record(rcpts, contacts::now()) {
            tracing::warn!(path = %self.history().path().display(), error = %e, "could not update the recipient history");
        }
    }
}

/// `draft` with its alias nicks expanded by `aliases`.
pub fn expand_with(aliases: &Aliases, draft: &Draft) -> Draft {
    let mut d = draft.clone();
    for l in [&mut d.to, &mut d.cc, &mut d.bcc, &mut d.reply_to] {
        *l = aliases.expand(l);
    }
    d
}
