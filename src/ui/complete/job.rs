//! The worker's side of completion: reading the local contacts once, and running the
//! address-book command, one query at a time (a newer query cancels the older one, whose
//! process group is killed with it).

use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

use crate::contacts::{Aliases, Book, Contact};
use crate::engine::Engine;

use super::super::worker::Event;

#[derive(Debug)]
pub enum ContactsCmd {
    /// Read the history and the aliases file.
    Load,
    /// Ask the address-book command.
    Query { id: u64, query: String },
}

pub enum ContactsEvent {
    Loaded(Result<(Arc<Book>, Arc<Aliases>), String>),
    Answer {
        id: u64,
        query: String,
        result: Result<Vec<Contact>, String>,
    },
}

impl std::fmt::Debug for ContactsEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ContactsEvent::Loaded(r) => write!(f, "Loaded(ok: {})", r.is_ok()),
            ContactsEvent::Answer { id, query, result } => {
                write!(
                    f,
                    "Answer({id}, {query:?}, {:?})",
                    result.as_ref().map(Vec::len)
                )
            }
        }
    }
}

/// Runs the jobs; keeps the address-book query in flight so a newer one replaces it.
#[derive(Default)]
pub struct ContactsJobs {
    query: Option<JoinHandle<()>>,
}

impl ContactsJobs {
    pub fn start(&mut self, engine: &Arc<Engine>, ev: &UnboundedSender<Event>, cmd: ContactsCmd) {
        let engine = engine.clone();
        let ev = ev.clone();
        match cmd {
            ContactsCmd::Load => {
                tokio::spawn(async move {
                    let job = tokio::task::spawn_blocking(move || {
                        let aliases = engine.aliases();
                        let history = engine.history().load();
                        (aliases, history)
                    })
                    .await;
                    let result = match job {
                        Ok((Ok(aliases), history)) => {
                            let history = history.unwrap_or_else(|e| {
                                tracing::warn!(error = %e, "recipient history not read");
                                Vec::new()
                            });
                            let book = Book::new(history, &aliases);
                            Ok((Arc::new(book), Arc::new(aliases)))
                        }
                        Ok((Err(e), _)) => Err(e.to_string()),
                        Err(e) => Err(format!("reading contacts failed: {e}")),
                    };
                    let _ = ev.send(Event::Contacts(ContactsEvent::Loaded(result)));
                });
            }
            ContactsCmd::Query { id, query } => {
                if let Some(old) = self.query.take() {
                    old.abort();
                }
                self.query = Some(tokio::spawn(async move {
                    let result = engine.query_address_book(&query).await;
                    let _ = ev.send(Event::Contacts(ContactsEvent::Answer { id, query, result }));
                }));
            }
        }
    }
}
