//! The `outbox` and `drafts` subcommands: see, manage and retry what is not delivered.

use std::io::Write;

use clap::Subcommand;

use crate::drafts::DraftError;
use crate::engine::Engine;
use crate::escape::{escape as escape_controls, escape_keep_lines};
use crate::flush::{FlushOutcome, FlushStatus};
use crate::outbox::{Damaged, OutboxEntry};

use crate::args::{err_line, EXIT_INPUT, EXIT_OK, EXIT_TRANSPORT};

#[derive(Subcommand, Debug)]
pub enum OutboxAction {
    /// Show queued messages with their state and last error (damaged entries too)
    List {
        #[arg(long)]
        json: bool,
    },
    /// Retry each queued message once; delivered ones are removed
    Flush {
        #[arg(long)]
        json: bool,
        /// Also retry messages a server refused for good
        #[arg(long)]
        force: bool,
    },
    /// Show one entry: its state, envelope, last error and the message
    Show {
        /// Entry name (or a unique start of it), or its Message-ID
        id: String,
        /// Print the exact bytes of the message only
        #[arg(long)]
        raw: bool,
    },
    /// Remove an entry without sending it
    Rm { id: String },
    /// Open an entry in the composer; sending it there replaces the entry
    Edit { id: String },
}

#[derive(Subcommand, Debug)]
pub enum DraftsAction {
    /// List saved drafts (the default)
    List {
        #[arg(long)]
        json: bool,
    },
    /// Delete a saved draft (not one open in a composer)
    Rm { id: String },
}

fn state_of(e: &OutboxEntry, flush_running: bool) -> String {
    if e.meta.sending.is_some() && flush_running {
        return "sending".into();
    }
    // The flush that marked it is gone: it died while handing the message over.
    if e.meta.interrupted_send_may_have_arrived() && !e.meta.permanent {
        return "uncertain".into();
    }
    e.meta.state().into()
}

pub fn outbox_list(engine: &Engine, json: bool) -> i32 {
    let outbox = engine.outbox();
    let listing = outbox.scan();
    let running = matches!(outbox.try_lock(), Ok(None));
    let copies = engine.pending_copies();
    if json {
        let mut v: Vec<_> = listing
            .entries
            .iter()
            .map(|e| {
                serde_json::json!({"name": e.name, "eml": e.eml, "state": state_of(e, running),
                    "problem": null, "meta": e.meta})
            })
            .collect();
        v.extend(listing.damaged.iter().map(|d| {
            serde_json::json!({"name": d.name, "eml": d.eml, "json": d.json, "state": "damaged",
                "problem": d.problem, "meta": null})
        }));
        v.extend(copies.iter().map(|c| {
            serde_json::json!({"name": c.name, "eml": c.eml, "state": "pending_copy",
                "pending_copy": c.meta})
        }));
        println!("{}", crate::escape::json_line(&v));
        return EXIT_OK;
    }
    if listing.entries.is_empty() && listing.damaged.is_empty() && copies.is_empty() {
        crate::say!("The outbox is empty.");
        return EXIT_OK;
    }
    for c in &copies {
        crate::say!(
            "{}  pending copy of {} to {} (identity {}, {} attempt{}; the message was delivered)",
            c.name,
            escape_controls(&c.meta.message_id),
            escape_controls(&c.meta.target),
            escape_controls(&c.meta.identity),
            c.meta.attempts,
            if c.meta.attempts == 1 { "" } else { "s" }
        );
        crate::say!("    last error: {}", escape_controls(&c.meta.last_error));
        crate::say!("    {}", c.eml.display());
    }
    for e in &listing.entries {
        let m = &e.meta;
        crate::say!(
            "{}  [{}]  via {}  to {}  \"{}\"  ({} attempt{})",
            e.name,
            state_of(e, running),
            escape_controls(&m.transport),
            escape_controls(&m.envelope.to.join(", ")),
            escape_controls(&m.subject),
            m.attempts,
            if m.attempts == 1 { "" } else { "s" }
        );
        if !m.delivered_to.is_empty() {
            crate::say!(
                "    already delivered to: {}",
                escape_controls(&m.delivered_to.join(", "))
            );
        }
        crate::say!("    last error: {}", escape_controls(&m.last_error));
        crate::say!("    {}", e.eml.display());
    }
    for d in &listing.damaged {
        print_damaged(d);
    }
    EXIT_OK
}

fn print_damaged(d: &Damaged) {
    crate::say!("{}  [damaged]  {}", d.name, d.problem);
    for p in [&d.eml, &d.json].into_iter().flatten() {
        crate::say!("    {}", p.display());
    }
    crate::say!(
        "    (left as it is; `missive outbox show {0}` / `outbox rm {0}`)",
        d.name
    );
}

pub async fn outbox_flush(engine: &Engine, json: bool, force: bool) -> i32 {
    if matches!(engine.outbox().try_lock(), Ok(None)) {
        err_line("another flush is running; waiting for it to finish");
    }
    let outcomes = match engine.flush_outbox(force).await {
        Ok(o) => o,
        Err(e) => {
            err_line(e);
            return EXIT_TRANSPORT;
        }
    };
    let failed = outcomes.iter().filter(|o| o.is_failure()).count();
    // Copies of delivered messages that could not be stored (identity copy_to).
    let copies = engine.retry_copies().await;
    if json {
        let mut v: Vec<serde_json::Value> = outcomes
            .iter()
            .filter_map(|o| serde_json::to_value(o).ok())
            .collect();
        v.extend(copies.iter().map(
            |c| serde_json::json!({"name": c.name, "message_id": c.message_id, "copy": c.report}),
        ));
        println!("{}", crate::escape::json_line(&v));
    } else {
        for c in &copies {
            crate::say!(
                "copy {} {}: {}",
                c.name,
                escape_controls(&c.message_id),
                escape_controls(&c.report.summary())
            );
        }
        if outcomes.is_empty() {
            if copies.is_empty() {
                crate::say!("The outbox is empty.");
            }
        } else {
            print_outcomes(&outcomes);
        }
    }
    if failed > 0 {
        EXIT_TRANSPORT
    } else {
        EXIT_OK
    }
}

fn print_outcomes(outcomes: &[FlushOutcome]) {
    let mut sent = 0;
    let mut left = 0;
    for o in outcomes {
        let mid = o.message_id.as_deref().unwrap_or("");
        match &o.status {
            FlushStatus::Sent { report: r, .. } => {
                sent += 1;
                crate::say!(
                    "sent {} {} via {}{}",
                    o.name,
                    mid,
                    r.transport,
                    r.server_id
                        .as_deref()
                        .map(|s| format!(" (server id {})", escape_controls(s)))
                        .unwrap_or_default()
                )
            }
            FlushStatus::Kept { error, state } => {
                left += 1;
                crate::say!(
                    "kept {} {mid} [{state}]: {}",
                    o.name,
                    escape_controls(error)
                )
            }
            FlushStatus::Skipped { reason } => {
                left += 1;
                crate::say!("skipped {} {mid}: {}", o.name, escape_controls(reason))
            }
            FlushStatus::Removed { reason } => crate::say!("removed {} {mid}: {reason}", o.name),
            FlushStatus::Damaged { problem } => {
                left += 1;
                crate::say!("damaged {} (left as it is): {problem}", o.name)
            }
        }
    }
    crate::say!("{sent} sent, {left} still in the outbox");
}

pub fn outbox_show(engine: &Engine, id: &str, raw: bool) -> i32 {
    let entry = match engine.outbox().resolve(id) {
        Ok(Ok(e)) => e,
        Ok(Err(d)) => {
            print_damaged(&d);
            return EXIT_OK;
        }
        Err(e) => {
            err_line(e);
            return EXIT_INPUT;
        }
    };
    let bytes = match std::fs::read(&entry.eml) {
        Ok(b) => b,
        Err(e) => {
            err_line(format!("{}: {e}", entry.eml.display()));
            return EXIT_INPUT;
        }
    };
    let mut out = std::io::stdout().lock();
    if raw {
        let _ = out.write_all(&bytes);
        return EXIT_OK;
    }
    let m = &entry.meta;
    let running = matches!(engine.outbox().try_lock(), Ok(None));
    let _ = crate::say_to!(out, "Entry: {}", entry.name);
    let _ = crate::say_to!(out, "State: {}", state_of(&entry, running));
    let _ = crate::say_to!(out, "Message-ID: {}", escape_controls(&m.message_id));
    let _ = crate::say_to!(out, "Subject: {}", escape_controls(&m.subject));
    let _ = crate::say_to!(
        out,
        "Transport: {} ({})",
        escape_controls(&m.transport),
        m.kind
    );
    let _ = crate::say_to!(out, "Envelope from: {}", escape_controls(&m.envelope.from));
    let _ = crate::say_to!(
        out,
        "Envelope to: {}",
        escape_controls(&m.envelope.to.join(", "))
    );
    if !m.delivered_to.is_empty() {
        let _ = crate::say_to!(
            out,
            "Already delivered to: {}",
            escape_controls(&m.delivered_to.join(", "))
        );
    }
    let _ = crate::say_to!(
        out,
        "Queued: {}  Attempts: {}  Last: {}",
        m.created,
        m.attempts,
        m.last_attempt
    );
    let _ = crate::say_to!(out, "Last error: {}", escape_controls(&m.last_error));
    let _ = crate::say_to!(out, "File: {} ({} bytes)", entry.eml.display(), bytes.len());
    let _ = writeln!(out);
    let text = String::from_utf8_lossy(&bytes).replace("\r\n", "\n");
    let _ = writeln!(out, "{}", escape_keep_lines(&text));
    EXIT_OK
}

pub fn outbox_rm(engine: &Engine, id: &str) -> i32 {
    let outbox = engine.outbox();
    let _lock = match outbox.try_lock() {
        Ok(Some(l)) => l,
        Ok(None) => {
            err_line("`missive outbox flush` is running; try again when it has finished");
            return EXIT_TRANSPORT;
        }
        Err(e) => {
            err_line(format!("cannot lock the outbox: {e}"));
            return EXIT_TRANSPORT;
        }
    };
    let res = match outbox.resolve(id) {
        Ok(Ok(e)) => outbox.remove(&e).map(|_| {
            format!(
                "removed {} ({})",
                e.name,
                escape_controls(&e.meta.message_id)
            )
        }),
        Ok(Err(d)) => outbox
            .remove_damaged(&d)
            .map(|_| format!("removed damaged entry {}", d.name)),
        Err(e) => {
            err_line(e);
            return EXIT_INPUT;
        }
    };
    match res {
        Ok(msg) => {
            crate::say!("{msg}");
            EXIT_OK
        }
        Err(e) => {
            err_line(format!("could not remove it: {e}"));
            EXIT_TRANSPORT
        }
    }
}

/// Turn the entry into a draft (same Message-ID, same transport) and open it.
/// Turns the entry into a draft the composer can open; returns that draft's id (the
/// command line opens it), or the exit code when it cannot.
pub fn outbox_edit(engine: &Engine, id: &str) -> Result<String, i32> {
    let entry = match engine.outbox().resolve(id) {
        Ok(Ok(e)) => e,
        Ok(Err(d)) => {
            err_line(format!(
                "entry {} is damaged ({}); it cannot be edited",
                d.name, d.problem
            ));
            return Err(EXIT_INPUT);
        }
        Err(e) => {
            err_line(e);
            return Err(EXIT_INPUT);
        }
    };
    let draft = match entry.meta.draft.clone() {
        Some(mut d) => {
            d.message_id = Some(entry.meta.message_id.clone());
            d
        }
        None => match crate::outbox_edit::draft_from_eml(engine, &entry) {
            Ok(d) => d,
            Err(e) => {
                err_line(e);
                return Err(EXIT_INPUT);
            }
        },
    };
    let drafts = engine.drafts();
    // Reuse the draft the message came from when there is one, so it is not doubled.
    let existing = drafts
        .list()
        .into_iter()
        .find(|d| d.draft.message_id.as_deref() == Some(entry.meta.message_id.as_str()));
    let draft_id = match existing {
        Some(d) if drafts.is_locked_elsewhere(&d.id) => {
            err_line(DraftError::Locked(d.id));
            return Err(EXIT_INPUT);
        }
        Some(d) => d.id,
        None => crate::drafts::Drafts::new_id(),
    };
    if let Err(e) = drafts.save(&draft_id, Some(&entry.meta.transport), &draft) {
        err_line(format!("could not save draft {draft_id}: {e}"));
        return Err(EXIT_TRANSPORT);
    }
    Ok(draft_id)
}

pub fn drafts_list(engine: &Engine, json: bool) -> i32 {
    let list = engine.drafts().infos(&engine.sent_log(), &engine.outbox());
    if json {
        println!("{}", crate::escape::json_line(&list));
        return EXIT_OK;
    }
    if list.is_empty() {
        crate::say!("No saved drafts.");
        return EXIT_OK;
    }
    for d in &list {
        let to = d.saved.draft.to.join(", ");
        let mut notes = Vec::new();
        if d.locked {
            notes.push("open in another window".to_string());
        }
        if let Some(t) = &d.delivered {
            notes.push(format!("delivered {t}"));
        }
        if let Some(o) = &d.outbox {
            notes.push(format!("failed send queued as {o}"));
        }
        crate::say!(
            "{}  {}  to {}  \"{}\"{}",
            d.saved.id,
            d.saved.saved,
            if to.is_empty() {
                "(nobody yet)".into()
            } else {
                escape_controls(&to)
            },
            escape_controls(&d.saved.draft.subject),
            if notes.is_empty() {
                String::new()
            } else {
                format!("  [{}]", notes.join("; "))
            }
        );
    }
    crate::say!("Reopen one with: missive --draft ID");
    EXIT_OK
}

pub fn drafts_rm(engine: &Engine, id: &str) -> i32 {
    let drafts = engine.drafts();
    if let Err(e) = drafts.peek(id) {
        err_line(e);
        return EXIT_INPUT;
    }
    match drafts.remove(id) {
        Ok(()) => {
            crate::say!("removed draft {id}");
            EXIT_OK
        }
        Err(e @ DraftError::Locked(_)) => {
            err_line(format!("{e}; close it there first"));
            EXIT_INPUT
        }
        Err(e) => {
            err_line(e);
            EXIT_TRANSPORT
        }
    }
}
