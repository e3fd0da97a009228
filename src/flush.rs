//! `outbox flush`: retry every queued message once, in order, delivering each exactly
//! once whatever else runs or dies meanwhile.
//!
//! - One flush at a time (the outbox lock, an OS lock: a killed flush cannot leave it).
//! - An entry whose Message-ID is in the sent log was delivered already (by a composer,
//!   or by a flush killed before it could remove it): it is removed, not sent.
//! - Of two entries for one Message-ID (a crash mid-replacement) only the newer goes.
//! - An entry is marked `sending` before it is handed over; a flush that finds the mark
//!   knows the last one died mid-send and marks the entry `uncertain`.
//! - Permanent refusals wait for the user (`outbox edit`, `rm`, or `flush --force`).

use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;

use crate::engine::{Engine, SendReport};
use crate::outbox::journal::{Journal, Mark};
use crate::outbox::{now_rfc3339, Damaged, Outbox, OutboxEntry};
use crate::transport::Stage;

/// Draft ids by Message-ID (`Drafts::by_message_id`).
type DraftIndex = HashMap<String, Vec<String>>;

/// How long a flush waits for another one to finish before giving up.
const WAIT_FOR_OTHER_FLUSH: Duration = Duration::from_secs(15 * 60);
/// A queued message file larger than any transport takes is damaged, not read.
const MAX_EML: u64 = 256 << 20;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum FlushStatus {
    /// `uncertain`: an earlier attempt may have delivered it too (its connection was lost
    /// after the data, or a flush died while handing it over).
    Sent { report: SendReport, uncertain: bool },
    /// Still in the outbox, with why.
    Kept { error: String, state: &'static str },
    /// Not tried: permanent (without --force).
    Skipped { reason: String },
    /// Removed without sending: the sent log shows it delivered, or a newer copy exists.
    Removed { reason: String },
    /// Damaged entries are left exactly as they are.
    Damaged { problem: String },
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FlushOutcome {
    pub name: String,
    /// Delivered by this flush.
    pub sent: bool,
    pub message_id: Option<String>,
    #[serde(flatten)]
    pub status: FlushStatus,
}

impl FlushOutcome {
    pub fn is_failure(&self) -> bool {
        matches!(self.status, FlushStatus::Kept { .. })
    }
}

fn read_eml(entry: &OutboxEntry) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let f = std::fs::File::open(&entry.eml).map_err(|e| format!("{}: {e}", entry.eml.display()))?;
    let mut raw = Vec::new();
    f.take(MAX_EML + 1)
        .read_to_end(&mut raw)
        .map_err(|e| format!("{}: {e}", entry.eml.display()))?;
    if raw.len() as u64 > MAX_EML {
        return Err(format!("{}: over {MAX_EML} bytes", entry.eml.display()));
    }
    Ok(raw)
}

impl Engine {
    /// Retry every outbox message once, in queue order. Waits for a flush already running
    /// (then usually finds nothing left to do) rather than racing it.
    pub async fn flush_outbox(&self, force: bool) -> Result<Vec<FlushOutcome>, String> {
        self.flush_outbox_within(force, WAIT_FOR_OTHER_FLUSH).await
    }

    /// As `flush_outbox`, waiting at most `wait` for another flush (zero: not at all).
    pub async fn flush_outbox_within(
        &self,
        force: bool,
        wait: Duration,
    ) -> Result<Vec<FlushOutcome>, String> {
        let outbox = self.outbox();
        let lock = outbox
            .lock_within(wait)
            .await
            .map_err(|e| format!("cannot lock the outbox {}: {e}", outbox.dir.display()))?;
        let Some(_lock) = lock else {
            return Err(format!(
                "another `missive outbox flush` is running (waited {} s); try again later",
                wait.as_secs()
            ));
        };
        let journal = outbox.open_journal().map_err(|e| {
            format!(
                "cannot open the outbox journal in {}: {e}",
                outbox.dir.display()
            )
        })?;
        let listing = outbox.scan();
        let delivered = self.sent_log().delivered_ids();
        let mut newest: HashMap<&str, &str> = HashMap::new();
        for e in &listing.entries {
            // Names sort in queue order: the last one seen is the newest copy.
            newest.insert(&e.meta.message_id, &e.name);
        }
        let mut out = Vec::new();
        let drafts = self.drafts().by_message_id();
        // A transport that could not be reached is not tried again in this flush: a
        // thousand queued messages and a server down cost one connection timeout, not a
        // thousand (Postfix likewise holds mail for a destination it just found dead).
        let mut unreachable: HashMap<String, String> = HashMap::new();
        for entry in &listing.entries {
            let mid = entry.meta.message_id.as_str();
            let outcome = |status: FlushStatus| FlushOutcome {
                name: entry.name.clone(),
                sent: matches!(status, FlushStatus::Sent { .. }),
                message_id: Some(mid.to_string()),
                status,
            };
            if delivered.contains(mid) {
                self.drop_entry(&outbox, entry, &drafts);
                out.push(outcome(FlushStatus::Removed {
                    reason: "already delivered (it is in the sent log)".into(),
                }));
                continue;
            }
            if newest.get(mid) != Some(&entry.name.as_str()) {
                self.drop_entry(&outbox, entry, &drafts);
                out.push(outcome(FlushStatus::Removed {
                    reason: "replaced by a newer copy of the same message".into(),
                }));
                continue;
            }
            if entry.meta.permanent && !force {
                out.push(outcome(FlushStatus::Skipped {
                    reason: format!(
                        "refused for good: {} (fix it with `missive outbox edit {}`, drop it with `outbox rm`, or retry anyway with `outbox flush --force`)",
                        entry.meta.last_error, entry.name
                    ),
                }));
                continue;
            }
            if let Some(error) = unreachable.get(&entry.meta.transport) {
                out.push(outcome(FlushStatus::Kept {
                    error: format!("not tried: {error}"),
                    state: entry.meta.state(),
                }));
                continue;
            }
            let (status, down) = self.flush_one(&outbox, &journal, entry, &drafts).await;
            if let (true, FlushStatus::Kept { error, .. }) = (down, &status) {
                unreachable.insert(entry.meta.transport.clone(), error.clone());
            }
            out.push(outcome(status));
        }
        // The recipients of what it delivered go to the history in one write, rather
        // than a read and rewrite of the whole history per message.
        self.record_reached();
        // What it names is settled: delivered and gone, or on record in its .json.
        if let Err(e) = journal.remove() {
            tracing::warn!(error = %e, "could not clear the outbox journal");
        }
        out.extend(listing.damaged.iter().map(|d: &Damaged| FlushOutcome {
            name: d.name.clone(),
            sent: false,
            message_id: None,
            status: FlushStatus::Damaged {
                problem: d.problem.clone(),
            },
        }));
        Ok(out)
    }

    fn drop_entry(&self, outbox: &Outbox, entry: &OutboxEntry, drafts: &DraftIndex) {
        if let Err(e) = outbox.remove(entry) {
            tracing::warn!(entry = %entry.name, error = %e, "could not remove a delivered outbox entry");
        }
        self.drafts().retire_from(drafts, &entry.meta.message_id);
        if let Some(d) = &entry.meta.draft {
            crate::reply::staged::release(&self.paths, d);
        }
    }

    async fn flush_one(
        &self,
        outbox: &Outbox,
        journal: &Journal,
        entry: &OutboxEntry,
        drafts: &DraftIndex,
    ) -> (FlushStatus, bool) {
        let mut meta = entry.meta.clone();
        let kept = |meta: &crate::outbox::OutboxMeta, error: String| FlushStatus::Kept {
            state: meta.state(),
            error,
        };
        let raw = match read_eml(entry) {
            Ok(r) => r,
            Err(e) => return (kept(&meta, e), false),
        };
        // Left marked by a flush that died while handing it over: it may have arrived.
        // Said in the .json at once: this flush's own marks replace the journal's.
        let interrupted = meta.interrupted_send_may_have_arrived();
        meta.sending = None;
        meta.submitted = None;
        if interrupted {
            meta.uncertain = true;
            if let Err(e) = outbox.update(entry, &meta) {
                return (
                    kept(
                        &meta,
                        format!("cannot update {}: {e}", entry.json.display()),
                    ),
                    false,
                );
            }
        }
        let mark = Mark {
            entry: entry.name.clone(),
            sending: Some(now_rfc3339()),
            submitted: None,
        };
        if let Err(e) = journal.mark(&mark) {
            let error = format!("cannot mark {} as sending: {e}", entry.name);
            return (kept(&meta, error), false);
        }
        // The moment the last byte is out, say so on disk: a flush killed from here on
        // leaves a message that may have arrived; one killed before, one that did not.
        let on_progress = move |p: crate::transport::Progress| {
            if p == crate::transport::Progress::Submitted {
                let submitted = Mark {
                    submitted: Some(now_rfc3339()),
                    ..mark.clone()
                };
                if let Err(e) = journal.mark(&submitted) {
                    tracing::warn!(entry = %entry.name, error = %e, "could not mark the message as handed over");
                }
            }
        };
        let sent = match self.transport_config(Some(&meta.transport)) {
            Err(e) => Err(crate::transport::TransportError::user(
                crate::transport::Stage::Config,
                e.to_string(),
            )),
            Ok(tc) => match self.transport(tc) {
                Ok(t) => t.send(&meta.envelope, &raw, &on_progress).await,
                Err(e) => Err(e),
            },
        };
        match sent {
            Ok(receipt) => {
                let (transport, kind) = match self.transport_config(Some(&meta.transport)) {
                    Ok(tc) => (tc.name.clone(), tc.kind.name().to_string()),
                    Err(_) => (meta.transport.clone(), meta.kind.clone()),
                };
                let mut recipients = meta.delivered_to.clone();
                recipients.extend(meta.envelope.to.iter().cloned());
                let report = SendReport {
                    message_id: meta.message_id.clone(),
                    transport,
                    kind,
                    server_id: receipt.server_id,
                    thread_id: receipt.thread_id,
                    response: receipt.response,
                    path: receipt.path,
                    recipients,
                    bytes: raw.len() as u64,
                    copy: None,
                };
                // On record first: should removing the entry fail or be cut short, the
                // next flush sees it delivered and does not send it again.
                self.log_delivery(&meta.subject, &report, meta.uncertain, &raw);
                self.drop_entry(outbox, entry, drafts);
                let identity = meta.draft.as_ref().and_then(|d| d.identity.as_deref());
                let mut report = report;
                report.copy = self
                    .store_copy(identity, &raw, &meta.message_id)
                    .await
                    .map(Box::new);
                (
                    FlushStatus::Sent {
                        report,
                        uncertain: meta.uncertain,
                    },
                    false,
                )
            }
            Err(e) => {
                meta.attempts = meta.attempts.saturating_add(1);
                meta.last_attempt = now_rfc3339();
                meta.last_error = e.to_string();
                meta.permanent = e.is_permanent();
                meta.uncertain |= e.uncertain;
                meta.envelope.to.retain(|a| !e.delivered.contains(a));
                meta.delivered_to.extend(e.delivered.iter().cloned());
                // The attempt on record first: should the process die in between, the
                // journal's mark makes the next flush take it for one that may have
                // arrived, which is the safe mistake.
                match outbox.update(entry, &meta) {
                    Ok(()) => {
                        if let Err(w) = journal.clear() {
                            tracing::warn!(entry = %entry.name, error = %w, "could not clear the outbox journal");
                        }
                    }
                    Err(w) => {
                        tracing::error!(entry = %entry.name, error = %w, "could not record the failed attempt")
                    }
                }
                (kept(&meta, e.to_string()), e.stage == Stage::Connect)
            }
        }
    }
}
