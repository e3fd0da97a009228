//! The composer's background worker. Two one-way channels: the UI sends [`Command`]s,
//! the worker answers with [`Event`]s. Everything slow (building the message, reading
//! attachments, the send itself, writing drafts) happens here, never on the UI loop.
//!
//! Each request carries an id; the UI drops answers whose id is stale. Draft writes are
//! applied in order by one queue, so an older autosave never overwrites a newer one.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use crate::engine::{Engine, InputError, Prepared, SendError, SendReport};
use crate::message::Draft;
use crate::transport::Progress;

/// What a prepared message is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// The confirmation before a send.
    Confirm,
    /// The MIME preview (Ctrl-P).
    Preview,
}

#[derive(Debug)]
pub enum Command {
    /// Build the message to learn its exact size (status bar).
    Measure {
        id: u64,
        draft: Box<Draft>,
        transport: String,
    },
    /// Build the message for the confirmation or the preview.
    Prepare {
        id: u64,
        purpose: Purpose,
        draft: Box<Draft>,
        transport: String,
        /// Width to render the HTML body as text (preview).
        width: usize,
    },
    /// Send exactly this prepared message.
    Send {
        id: u64,
        prepared: Box<Prepared>,
    },
    SaveDraft {
        gen: u64,
        id: String,
        transport: Option<String>,
        draft: Box<Draft>,
    },
    RemoveDraft {
        id: String,
    },
    /// Contacts for completion (see `complete::job`).
    Contacts(super::complete::ContactsCmd),
}

/// The preview's content, computed off the UI loop.
#[derive(Clone, Debug, PartialEq)]
pub struct PreviewData {
    pub transport: String,
    pub kind: String,
    pub size: u64,
    pub size_limit: Option<u64>,
    /// The From header as sent.
    pub from: String,
    pub envelope_from: String,
    pub envelope_to: Vec<String>,
    pub headers: Vec<(String, String)>,
    /// The subject as typed, shown beside its encoded form.
    pub subject: String,
    pub tree: Vec<String>,
    pub html_text: Option<String>,
}

#[derive(Debug)]
pub enum Event {
    Measured {
        id: u64,
        result: Result<u64, String>,
    },
    Prepared {
        id: u64,
        purpose: Purpose,
        result: Result<(Box<Prepared>, Box<PreviewData>), InputError>,
    },
    Progress {
        id: u64,
        progress: Progress,
    },
    Sent {
        id: u64,
        result: Result<SendReport, SendError>,
        /// The Message-ID of what was attempted (kept for a retry after a failure).
        message_id: String,
    },
    DraftSaved {
        gen: u64,
        result: Result<PathBuf, String>,
    },
    Contacts(super::complete::ContactsEvent),
    /// A job died (a bug): the UI must not wait for it forever.
    Crashed {
        id: u64,
        what: String,
    },
}

pub struct Worker {
    pub tx: UnboundedSender<Command>,
    pub rx: UnboundedReceiver<Event>,
}

/// Start the worker on the current tokio runtime.
pub fn spawn(engine: Arc<Engine>) -> Worker {
    let (cmd_tx, mut cmd_rx) = unbounded_channel::<Command>();
    let (ev_tx, ev_rx) = unbounded_channel::<Event>();
    let (draft_tx, mut draft_rx) = unbounded_channel::<Command>();

    // Draft writes: one at a time, in order.
    {
        let engine = engine.clone();
        let ev_tx = ev_tx.clone();
        tokio::spawn(async move {
            while let Some(cmd) = draft_rx.recv().await {
                let engine = engine.clone();
                let ev = ev_tx.clone();
                let res = tokio::task::spawn_blocking(move || match cmd {
                    Command::SaveDraft {
                        gen,
                        id,
                        transport,
                        draft,
                    } => {
                        let result = engine
                            .drafts()
                            .save(&id, transport.as_deref(), &draft)
                            .map_err(|e| e.to_string());
                        let _ = ev.send(Event::DraftSaved { gen, result });
                    }
                    Command::RemoveDraft { id } => {
                        if let Err(e) = engine.drafts().remove(&id) {
                            tracing::warn!(draft = %id, error = %e, "could not remove the sent draft");
                        }
                    }
                    _ => {}
                })
                .await;
                if let Err(e) = res {
                    tracing::error!(error = %e, "draft writer failed");
                }
            }
        });
    }

    tokio::spawn(async move {
        let mut contacts = super::complete::job::ContactsJobs::default();
        while let Some(cmd) = cmd_rx.recv().await {
            match cmd {
                Command::Contacts(c) => contacts.start(&engine, &ev_tx, c),
                c @ (Command::SaveDraft { .. } | Command::RemoveDraft { .. }) => {
                    let _ = draft_tx.send(c);
                }
                Command::Measure {
                    id,
                    draft,
                    transport,
                } => {
                    let engine = engine.clone();
                    let ev = ev_tx.clone();
                    tokio::spawn(async move {
                        let job = tokio::task::spawn_blocking(move || {
                            engine
                                .prepare(&draft, Some(&transport))
                                .map(|p| p.built.raw.len() as u64)
                                .map_err(|e| e.to_string())
                        })
                        .await;
                        let _ = ev.send(match job {
                            Ok(result) => Event::Measured { id, result },
                            Err(e) => Event::Crashed {
                                id,
                                what: format!("measuring the message: {e}"),
                            },
                        });
                    });
                }
                Command::Prepare {
                    id,
                    purpose,
                    draft,
                    transport,
                    width,
                } => {
                    let engine = engine.clone();
                    let ev = ev_tx.clone();
                    tokio::spawn(async move {
                        let job = tokio::task::spawn_blocking(move || {
                            engine.prepare(&draft, Some(&transport)).map(|p| {
                                let data = preview_data(&p, &draft, purpose, width);
                                (Box::new(p), Box::new(data))
                            })
                        })
                        .await;
                        let _ = ev.send(match job {
                            Ok(result) => Event::Prepared {
                                id,
                                purpose,
                                result,
                            },
                            Err(e) => Event::Crashed {
                                id,
                                what: format!("building the message: {e}"),
                            },
                        });
                    });
                }
                Command::Send { id, prepared } => {
                    let engine = engine.clone();
                    let ev = ev_tx.clone();
                    tokio::spawn(async move {
                        let message_id = prepared.built.message_id.clone();
                        let ev2 = ev.clone();
                        let job = tokio::spawn(async move {
                            let progress = move |progress: Progress| {
                                let _ = ev2.send(Event::Progress { id, progress });
                            };
                            // The engine replaces (or, delivered, removes) the outbox entry an
                            // earlier failed attempt of this message left.
                            engine.send(&prepared, &progress).await
                        })
                        .await;
                        let _ = ev.send(match job {
                            Ok(result) => Event::Sent {
                                id,
                                result,
                                message_id,
                            },
                            Err(e) => Event::Crashed {
                                id,
                                what: format!("sending: {e}"),
                            },
                        });
                    });
                }
            }
        }
    });

    Worker {
        tx: cmd_tx,
        rx: ev_rx,
    }
}

/// Everything the preview shows, from the built bytes themselves.
pub fn preview_data(p: &Prepared, draft: &Draft, purpose: Purpose, width: usize) -> PreviewData {
    let tree = p.tree();
    let html = match (&draft.html, draft.markdown, &draft.text) {
        (Some(h), _, _) if !h.trim().is_empty() => Some(h.clone()),
        (_, true, Some(t)) => Some(crate::message::markdown_to_html(t)),
        _ => None,
    };
    let html_text = if purpose == Purpose::Preview {
        html.map(|h| {
            html2text::from_read(h.as_bytes(), width.max(20))
                .unwrap_or_else(|e| format!("(the HTML could not be rendered as text: {e})"))
        })
    } else {
        None
    };
    PreviewData {
        transport: p.transport.clone(),
        kind: p.kind.to_string(),
        size: p.built.raw.len() as u64,
        size_limit: p.size_limit,
        from: p.built.from.clone(),
        envelope_from: p.built.envelope.from.clone(),
        envelope_to: p.built.envelope.to.clone(),
        headers: tree.as_ref().map(|t| t.headers.clone()).unwrap_or_default(),
        subject: draft.subject.clone(),
        tree: tree
            .as_ref()
            .map(|t| t.render_lines())
            .unwrap_or_else(|| vec!["(the built message could not be read back)".into()]),
        html_text,
    }
}
