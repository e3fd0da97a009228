//! The one API that the command line and the composer both use: resolve the transport
//! and From, build, preview, send (with the outbox on failure), check, flush, drafts.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::config::{Config, ConfigError, TransportConfig, TransportKind};
use crate::drafts::Drafts;
use crate::message::{self, Built, Draft, MessageError};
use crate::mime_tree::MimeTree;
use crate::outbox::{now_rfc3339, Outbox, OutboxEntry, OutboxMeta};
use crate::paths::Paths;
use crate::sent_log::SentLog;
use crate::transport::file::FileTransport;
use crate::transport::outlook::{
    self, MicrosoftLogin, OutlookTransport, SmtpToken as OutlookSmtpToken,
};
use crate::transport::sendmail::SendmailTransport;
use crate::transport::smtp::{CmdToken, SmtpTransport, TokenProvider};
use crate::transport::{CheckReport, ProgressFn, Stage, Transport, TransportError};

mod contacts;
mod submit;
pub use contacts::{expand_with, HISTORY_FILE};
pub use submit::{Submission, SubmitError};

pub struct Engine {
    pub paths: Paths,
    pub config: Config,
    /// Transports opened so far, by name: consecutive messages through one reuse its
    /// connection and login (a flush of many, a relay, a composer sending again).
    open: std::sync::Mutex<HashMap<String, Arc<dyn Transport>>>,
    /// Recipients of deliveries not yet written to the history.
    reached: std::sync::Mutex<Vec<(String, Option<String>)>>,
    /// The caller writes the history now and then (`record_reached`) rather than after
    /// each delivery: the relay, where rewriting it per message would halve the rate.
    defer_history: bool,
}

/// Problems with what was asked for: nothing was sent, nothing went to the outbox.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InputError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Message(#[from] MessageError),
    #[error("{0}")]
    Other(String),
}

/// A message built for a given transport, ready to preview or send.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub built: Built,
    pub transport: String,
    pub kind: &'static str,
    pub size_limit: Option<u64>,
    pub subject: String,
    /// The identity it is written as: decides where the sent copy goes.
    pub identity: Option<String>,
    /// What it was built from, kept with its outbox entry for `outbox edit`.
    pub draft: Option<Draft>,
}

impl Prepared {
    pub fn tree(&self) -> Option<MimeTree> {
        MimeTree::parse(&self.built.raw)
    }
}

/// What `send --json` prints.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SendReport {
    pub message_id: String,
    pub transport: String,
    pub kind: String,
    pub server_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
    pub response: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    pub recipients: Vec<String>,
    pub bytes: u64,
    /// The sent copy (`copy_to`), when the identity asks for one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copy: Option<Box<crate::copy::CopyReport>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SendError {
    /// Refused before anything was sent (exit 2).
    Input(InputError),
    /// The transport failed; the message was kept in the outbox (exit 1).
    Transport {
        error: TransportError,
        outbox: Option<PathBuf>,
        outbox_error: Option<String>,
    },
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Input(e) => write!(f, "{e}"),
            SendError::Transport { error, .. } => write!(f, "{error}"),
        }
    }
}

impl Engine {
    pub fn new(paths: Paths, config: Config) -> Engine {
        Engine {
            paths,
            config,
            open: Default::default(),
            reached: Default::default(),
            defer_history: false,
        }
    }

    /// Deliveries no longer write the history each; `record_reached` does, for all of
    /// them since the last call.
    pub fn defer_history(&mut self) {
        self.defer_history = true;
    }

    /// Write the recipients of the deliveries since the last call to the history.
    pub fn record_reached(&self) {
        let rcpts = match self.reached.lock() {
            Ok(mut r) => std::mem::take(&mut *r),
            Err(p) => std::mem::take(&mut *p.into_inner()),
        };
        if !rcpts.is_empty() {
            self.record_recipients(&rcpts);
        }
    }

    /// Paths from the environment, config from `config_path` or the default location.
    pub fn load(config_path: Option<&Path>) -> Result<Engine, ConfigError> {
        let paths = Paths::from_env();
        let config = Config::load(config_path, &paths)?;
        Ok(Engine::new(paths, config))
    }

    pub fn transport_config(&self, name: Option<&str>) -> Result<&TransportConfig, InputError> {
        self.config.transport(name).map_err(InputError::Other)
    }

    /// From: the draft's, else its identity's, else the transport's, else the config's,
    /// else $USER@host.
    pub fn resolve_from(&self, draft: &Draft, tc: &TransportConfig) -> String {
        if let Some(f) = draft.from.as_ref().filter(|f| !f.trim().is_empty()) {
            return f.clone();
        }
        if let Some(f) = draft
            .identity
            .as_deref()
            .and_then(|n| self.config.identities.get(n))
            .and_then(|i| i.from.clone())
        {
            return f;
        }
        if let Some(f) = &tc.from {
            return f.clone();
        }
        if let Some(f) = &self.config.from {
            return f.clone();
        }
        default_from()
    }

    pub fn prepare(&self, draft: &Draft, transport: Option<&str>) -> Result<Prepared, InputError> {
        self.prepare_reading(draft, transport, 1)
    }

    /// `prepare` for `preview`: attachments may add up to twice the transport's limit, so
    /// the preview can show a message that is over it (and say so) while reads stay
    /// bounded; `send` refuses such a message before anything is sent.
    pub fn prepare_preview(
        &self,
        draft: &Draft,
        transport: Option<&str>,
    ) -> Result<Prepared, InputError> {
        self.prepare_reading(draft, transport, 2)
    }

    fn prepare_reading(
        &self,
        draft: &Draft,
        transport: Option<&str>,
        read_factor: u64,
    ) -> Result<Prepared, InputError> {
        let tc = self.transport_for(draft, transport)?;
        let typed = draft;
        let expanded = self.expand_aliases(draft)?;
        let draft: &Draft = &expanded;
        let from = self.resolve_from(draft, tc);
        // The Gmail and Graph APIs have no envelope: Bcc must be in the bytes they get
        // (they deliver to it and strip it).
        let keep_bcc = matches!(tc.kind, TransportKind::Gmail(_) | TransportKind::Outlook(_));
        let size_limit = size_limit(&tc.kind);
        let built = message::build_limited(
            draft,
            &from,
            keep_bcc,
            size_limit
                .unwrap_or(crate::attachment::DEFAULT_MAX_MESSAGE)
                .saturating_mul(read_factor),
        )
        .map_err(|e| match (e, &tc.kind) {
            // Too big for Graph: name the smtp transport sharing the login.
            (MessageError::Attachment { path, reason }, TransportKind::Outlook(_))
                if reason.contains("over the limit") =>
            {
                let borrowers = outlook::smtp_borrowers(&self.config, &tc.name);
                MessageError::Attachment {
                    reason: format!("{reason}{}", outlook::smtp_hint(&tc.name, &borrowers)),
                    path,
                }
            }
            (e, _) => e,
        })?;
        Ok(Prepared {
            built,
            transport: tc.name.clone(),
            kind: tc.kind.name(),
            size_limit,
            subject: draft.subject.clone(),
            identity: draft.identity.clone(),
            // As typed (nicks and all): `outbox edit` reopens what the person wrote.
            draft: Some(typed.clone()),
        })
    }

    /// The transport `tc` names, opened once and then shared (see `open`).
    pub fn transport(&self, tc: &TransportConfig) -> Result<Arc<dyn Transport>, TransportError> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = open.get(&tc.name) {
            return Ok(t.clone());
        }
        let t: Arc<dyn Transport> = Arc::from(self.open_transport(tc)?);
        open.insert(tc.name.clone(), t.clone());
        Ok(t)
    }

    /// End the connections kept for further messages (before the process exits).
    pub async fn close_transports(&self) {
        let all: Vec<Arc<dyn Transport>> = {
            let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
            open.drain().map(|(_, t)| t).collect()
        };
        for t in all {
            t.close().await;
        }
    }

    pub fn open_transport(
        &self,
        tc: &TransportConfig,
    ) -> Result<Box<dyn Transport>, TransportError> {
        Ok(match &tc.kind {
            TransportKind::File(f) => Box::new(FileTransport { dir: f.dir.clone() }),
            TransportKind::Sendmail(s) => Box::new(SendmailTransport {
                command: s.command.clone(),
                timeout: std::time::Duration::from_secs(s.timeout_secs.max(1)),
            }),
            TransportKind::Smtp(s) => {
                let token: Option<Arc<dyn TokenProvider>> = match (&s.token_cmd, &s.oauth) {
                    (Some(cmd), _) => Some(Arc::new(CmdToken {
                        transport: tc.name.clone(),
                        cmd: cmd.clone(),
                        timeout: std::time::Duration::from_secs(s.timeout_secs.max(1)),
                    })),
                    (None, Some(login)) => {
                        let g = self.config.transports.get(login).ok_or_else(|| {
                            TransportError::user(
                                Stage::Config,
                                format!("oauth: no transport named {login:?}"),
                            )
                        })?;
                        match &g.kind {
                            TransportKind::Gmail(gc) => Some(
                                crate::transport::gmail::token_provider(login, gc, &self.paths)?,
                            ),
                            TransportKind::Outlook(oc) => Some(Arc::new(OutlookSmtpToken(
                                Arc::new(MicrosoftLogin::open(login, oc, &self.paths)?),
                            ))),
                            _ => {
                                return Err(TransportError::user(
                                    Stage::Config,
                                    format!(
                                        "oauth: transport {login:?} is not of kind gmail or outlook"
                                    ),
                                ))
                            }
                        }
                    }
                    _ => None,
                };
                Box::new(SmtpTransport::new(tc.name.clone(), s.clone(), token))
            }
            TransportKind::Gmail(g) => {
                crate::transport::gmail::transport(&tc.name, g, &self.paths)?
            }
            TransportKind::Outlook(o) => Box::new(OutlookTransport::open(
                &tc.name,
                o,
                &self.config,
                &self.paths,
            )?),
        })
    }

    /// Send a prepared message. Any transport failure puts the exact bytes in the outbox,
    /// replacing the entry an earlier attempt of the same message (same Message-ID) left
    /// there; a delivery removes that entry and retires the message's draft.
    pub async fn send(
        &self,
        p: &Prepared,
        progress: ProgressFn<'_>,
    ) -> Result<SendReport, SendError> {
        let input = |m: String| SendError::Input(InputError::Other(m));
        if let Some(limit) = p.size_limit {
            let size = p.built.raw.len() as u64;
            if size > limit && p.kind == "outlook" {
                let borrowers = outlook::smtp_borrowers(&self.config, &p.transport);
                return Err(SendError::Input(InputError::Other(outlook::too_large(
                    size,
                    &p.transport,
                    &borrowers,
                ))));
            }
            if size > limit {
                return Err(input(format!(
                    "the message is {size} bytes ({}), over the {} transport's limit of {limit} bytes ({}); nothing was sent",
                    crate::mime_tree::human_size(size),
                    p.kind,
                    crate::mime_tree::human_size(limit)
                )));
            }
        }
        let tc = self
            .transport_config(Some(&p.transport))
            .map_err(SendError::Input)?;
        let mid = &p.built.message_id;
        let outbox = self.outbox();
        let earlier = outbox.find(mid);
        // A flush could be handing the earlier copy over right now: replace it only while
        // no flush runs, and hold the outbox until this send has settled.
        let _lock = if earlier.is_empty() {
            None
        } else {
            match outbox.try_lock() {
                Ok(Some(l)) => Some(l),
                Ok(None) => return Err(input(format!(
                    "`missive outbox flush` is running and may be delivering the earlier copy of this message ({mid}) from the outbox; nothing was sent, try again when it has finished"
                ))),
                Err(e) => return Err(input(format!("cannot lock the outbox: {e}"))),
            }
        };
        if let Some(when) = self.sent_log().delivered(mid) {
            return Err(input(format!(
                "this message ({mid}) was already delivered at {when} (sent log {}); nothing was sent again",
                self.paths.sent_log().display()
            )));
        }
        // Read again under the lock, which a flush that just changed it held.
        let earlier: Vec<OutboxEntry> = if _lock.is_some() {
            outbox.find(mid)
        } else {
            earlier
        };
        // Recipients an earlier attempt already reached (a 452 split) do not get it twice.
        let already: Vec<String> = earlier
            .iter()
            .flat_map(|e| e.meta.delivered_to.iter().cloned())
            .collect();
        let mut envelope = p.built.envelope.clone();
        envelope.to.retain(|a| !already.contains(a));
        let result = match self.transport(tc) {
            Ok(t) => t.send(&envelope, &p.built.raw, progress).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(receipt) => {
                let report = SendReport {
                    message_id: mid.clone(),
                    transport: p.transport.clone(),
                    kind: p.kind.to_string(),
                    server_id: receipt.server_id,
                    thread_id: receipt.thread_id,
                    response: receipt.response,
                    path: receipt.path,
                    recipients: p.built.envelope.to.clone(),
                    bytes: p.built.raw.len() as u64,
                    copy: None,
                };
                self.record_delivery(
                    &p.subject,
                    &report,
                    earlier.iter().any(|e| e.meta.uncertain),
                    &p.built.raw,
                );
                for e in &earlier {
                    if let Err(err) = outbox.remove(e) {
                        tracing::error!(entry = %e.name, error = %err, "delivered, but the earlier outbox copy could not be removed (the sent log keeps flush from sending it)");
                    }
                }
                self.drafts().retire(mid);
                if let Some(d) = &p.draft {
                    crate::reply::staged::release(&self.paths, d);
                }
                let mut report = report;
                report.copy = self
                    .store_copy(p.identity.as_deref(), &p.built.raw, mid)
                    .await
                    .map(Box::new);
                Ok(report)
            }
            Err(error) if error.is_config() => {
                Err(SendError::Input(InputError::Other(error.to_string())))
            }
            Err(error) => {
                tracing::warn!(transport = %p.transport, error = %error, "send failed; keeping in outbox");
                let mut envelope = envelope;
                envelope.to.retain(|a| !error.delivered.contains(a));
                let mut delivered_to = already;
                delivered_to.extend(error.delivered.iter().cloned());
                let meta = OutboxMeta {
                    transport: p.transport.clone(),
                    kind: p.kind.to_string(),
                    envelope,
                    message_id: mid.clone(),
                    subject: p.subject.clone(),
                    created: now_rfc3339(),
                    attempts: 1,
                    last_attempt: now_rfc3339(),
                    last_error: error.to_string(),
                    permanent: error.is_permanent(),
                    uncertain: error.uncertain || earlier.iter().any(|e| e.meta.uncertain),
                    sending: None,
                    submitted: None,
                    delivered_to,
                    draft: p.draft.clone(),
                };
                let (outbox_path, outbox_error) =
                    match outbox.put_replacing(&p.built.raw, &meta, &earlier) {
                        Ok(path) => (Some(path), None),
                        Err(e) => (
                            None,
                            Some(format!(
                                "could not write the outbox ({}): {e}",
                                self.paths.outbox_dir().display()
                            )),
                        ),
                    };
                Err(SendError::Transport {
                    error,
                    outbox: outbox_path,
                    outbox_error,
                })
            }
        }
    }

    pub async fn check(&self, name: Option<&str>) -> Result<(String, CheckReport), TransportError> {
        let tc = self
            .transport_config(name)
            .map_err(|e| TransportError::user(Stage::Config, e.to_string()))?;
        let t = self.open_transport(tc)?;
        let r = t.check().await?;
        Ok((tc.name.clone(), r))
    }

    pub fn outbox(&self) -> Outbox {
        Outbox::new(self.paths.outbox_dir())
    }

    pub fn drafts(&self) -> Drafts {
        Drafts::new(self.paths.drafts_dir())
    }

    pub fn sent_log(&self) -> SentLog {
        SentLog::new(self.paths.sent_log())
    }

    /// A message was delivered: on record in the sent log (with its subject) before
    /// anything else, since that record is what keeps it from going twice.
    /// `uncertain`: an earlier attempt may have delivered it already.
    /// The recipients then count in the contacts history (`raw`: the bytes delivered,
    /// whose headers name them).
    pub(crate) fn record_delivery(
        &self,
        subject: &str,
        r: &SendReport,
        uncertain: bool,
        raw: &[u8],
    ) {
        self.log_delivery(subject, r, uncertain, raw);
        if !self.defer_history {
            self.record_reached();
        }
    }

    /// The sent log's line for a delivery; its recipients wait for `record_reached`
    /// (a caller delivering many messages writes the history once for all of them).
    pub(crate) fn log_delivery(&self, subject: &str, r: &SendReport, uncertain: bool, raw: &[u8]) {
        if let Err(e) = self
            .sent_log()
            .append(&now_rfc3339(), subject, uncertain, r)
        {
            tracing::error!(path = %self.paths.sent_log().display(), error = %e, "could not append to the sent log");
        }
        tracing::info!(message_id = %r.message_id, transport = %r.transport, bytes = r.bytes, "sent");
        let rcpts = crate::contacts::history::recipients_of(raw, &r.recipients);
        match self.reached.lock() {
            Ok(mut v) => v.extend(rcpts),
            Err(p) => p.into_inner().extend(rcpts),
        }
    }
}

/// The transport's size limit, known before sending.
pub fn size_limit(kind: &TransportKind) -> Option<u64> {
    match kind {
        TransportKind::Gmail(_) => Some(crate::transport::gmail::MAX_MESSAGE_BYTES),
        TransportKind::Outlook(_) => Some(outlook::MAX_MESSAGE_BYTES),
        _ => None,
    }
}

/// `$USER@hostname`, as mail(1) does.
pub fn default_from() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "user".to_string());
    let host = hostname::get()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string());
    let host = if host.contains('.') {
        host
    } else {
        format!("{host}.localdomain")
    };
    format!("{user}@{host}")
}
