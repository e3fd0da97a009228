//! The one API that the command line and the composer both use: resolve the transport
//! and From, build, preview, send (with the outbox on failure), check, flush, drafts.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::config::{Config, ConfigError, TransportConfig, TransportKind};
use crate::drafts::Drafts;
use crate::message::{self, Built, Draft, MessageError};
use crate::mime_tree::MimeTree;
use crate::outbox::{now_rfc3339, Outbox, OutboxEntry, OutboxMeta};
use crate::paths::Paths;
use crate::transport::file::FileTransport;
use crate::transport::outlook::{
    self, MicrosoftLogin, OutlookTransport, SmtpToken as OutlookSmtpToken,
};
use crate::transport::sendmail::SendmailTransport;
use crate::transport::smtp::{CmdToken, SmtpTransport, TokenProvider};
use crate::transport::{CheckReport, ProgressFn, Stage, Transport, TransportError};

mod submit;
pub use submit::{Submission, SubmitError};

pub struct Engine {
    pub paths: Paths,
    pub config: Config,
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

#[derive(Debug, Clone, PartialEq)]
pub struct FlushOutcome {
    pub name: String,
    pub message_id: String,
    pub result: Result<SendReport, String>,
}

impl Engine {
    pub fn new(paths: Paths, config: Config) -> Engine {
        Engine { paths, config }
    }

    /// Paths from the environment, config from `config_path` or the default location.
    pub fn load(config_path: Option<&Path>) -> Result<Engine, ConfigError> {
        let paths = Paths::from_env();
        let config = Config::load(config_path, &paths)?;
        Ok(Engine { paths, config })
    }

    pub fn transport_config(&self, name: Option<&str>) -> Result<&TransportConfig, InputError> {
        self.config.transport(name).map_err(InputError::Other)
    }

    /// From: the draft's, else the transport's, else the config's, else $USER@host.
    pub fn resolve_from(&self, draft: &Draft, tc: &TransportConfig) -> String {
        if let Some(f) = draft.from.as_ref().filter(|f| !f.trim().is_empty()) {
            return f.clone();
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
        let tc = self.transport_config(transport)?;
        let from = self.resolve_from(draft, tc);
        // The Gmail and Graph APIs have no envelope: Bcc must be in the bytes they get
        // (they deliver to it and strip it).
        let keep_bcc = matches!(tc.kind, TransportKind::Gmail(_) | TransportKind::Outlook(_));
        let size_limit = size_limit(&tc.kind);
        let built = message::build_limited(
            draft,
            &from,
            keep_bcc,
            size_limit.unwrap_or(crate::attachment::DEFAULT_MAX_MESSAGE),
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
        })
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
                Box::new(SmtpTransport {
                    name: tc.name.clone(),
                    cfg: s.clone(),
                    token,
                })
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

    /// Send a prepared message. Any transport failure puts the exact bytes in the outbox.
    pub async fn send(
        &self,
        p: &Prepared,
        progress: ProgressFn<'_>,
    ) -> Result<SendReport, SendError> {
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
                return Err(SendError::Input(InputError::Other(format!(
                    "the message is {size} bytes ({}), over the {} transport's limit of {limit} bytes ({}); nothing was sent",
                    crate::mime_tree::human_size(size),
                    p.kind,
                    crate::mime_tree::human_size(limit)
                ))));
            }
        }
        let tc = self
            .transport_config(Some(&p.transport))
            .map_err(SendError::Input)?;
        let result = match self.open_transport(tc) {
            Ok(t) => t.send(&p.built.envelope, &p.built.raw, progress).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(receipt) => {
                let report = SendReport {
                    message_id: p.built.message_id.clone(),
                    transport: p.transport.clone(),
                    kind: p.kind.to_string(),
                    server_id: receipt.server_id,
                    thread_id: receipt.thread_id,
                    response: receipt.response,
                    path: receipt.path,
                    recipients: p.built.envelope.to.clone(),
                    bytes: p.built.raw.len() as u64,
                };
                self.log_sent(&report);
                tracing::info!(message_id = %report.message_id, transport = %report.transport, bytes = report.bytes, "sent");
                Ok(report)
            }
            Err(error) if error.is_config() => {
                Err(SendError::Input(InputError::Other(error.to_string())))
            }
            Err(error) => {
                tracing::warn!(transport = %p.transport, error = %error, "send failed; keeping in outbox");
                let meta = OutboxMeta {
                    transport: p.transport.clone(),
                    kind: p.kind.to_string(),
                    envelope: p.built.envelope.clone(),
                    message_id: p.built.message_id.clone(),
                    subject: p.subject.clone(),
                    created: now_rfc3339(),
                    attempts: 1,
                    last_attempt: now_rfc3339(),
                    last_error: error.to_string(),
                };
                let (outbox, outbox_error) = match self.outbox().put(&p.built.raw, &meta) {
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
                    outbox,
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

    /// Retry every outbox message once, in order. A message is removed only after its
    /// transport accepted it; it keeps its bytes, hence its Message-ID.
    pub async fn flush_outbox(&self) -> Result<Vec<FlushOutcome>, String> {
        let outbox = self.outbox();
        let _lock = outbox.lock().map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        for entry in outbox.list() {
            let result = self.flush_one(&outbox, &entry).await;
            out.push(FlushOutcome {
                name: entry.name.clone(),
                message_id: entry.meta.message_id.clone(),
                result,
            });
        }
        Ok(out)
    }

    async fn flush_one(&self, outbox: &Outbox, entry: &OutboxEntry) -> Result<SendReport, String> {
        let raw = std::fs::read(&entry.eml).map_err(|e| format!("{}: {e}", entry.eml.display()))?;
        let fail = |msg: String| {
            let _ = outbox.record_failure(entry, &msg);
            msg
        };
        let tc = self
            .transport_config(Some(&entry.meta.transport))
            .map_err(|e| fail(e.to_string()))?;
        let t = self.open_transport(tc).map_err(|e| fail(e.to_string()))?;
        let receipt = t
            .send(&entry.meta.envelope, &raw, &crate::transport::no_progress)
            .await
            .map_err(|e| fail(e.to_string()))?;
        let report = SendReport {
            message_id: entry.meta.message_id.clone(),
            transport: tc.name.clone(),
            kind: tc.kind.name().to_string(),
            server_id: receipt.server_id,
            thread_id: receipt.thread_id,
            response: receipt.response,
            path: receipt.path,
            recipients: entry.meta.envelope.to.clone(),
            bytes: raw.len() as u64,
        };
        // Accepted: it must not be sent again, even if logging fails below.
        if let Err(e) = outbox.remove(entry) {
            tracing::error!(entry = %entry.name, error = %e, "delivered but could not remove from outbox");
        }
        self.log_sent(&report);
        Ok(report)
    }

    /// One JSON line per delivered message in the data dir's sent log.
    fn log_sent(&self, r: &SendReport) {
        use std::io::Write;
        let mut line = serde_json::json!({ "time": now_rfc3339() });
        if let (Some(obj), Ok(serde_json::Value::Object(rest))) =
            (line.as_object_mut(), serde_json::to_value(r))
        {
            obj.extend(rest);
        }
        let path = self.paths.sent_log();
        let res = crate::paths::open_append_private(&path).and_then(|mut f| writeln!(f, "{line}"));
        if let Err(e) = res {
            tracing::warn!(path = %path.display(), error = %e, "could not append to the sent log");
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
