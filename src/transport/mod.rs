//! Transports: one trait, one implementation per kind. Each gets the exact bytes built by
//! `message::build` and the envelope, and answers with a typed receipt or a typed error
//! that says whether trying again later could help.

use std::fmt;
use std::path::PathBuf;

use futures::future::BoxFuture;
use serde::Serialize;

use crate::message::Envelope;

pub mod file;
pub mod gmail;
pub mod guarded;
pub mod outlook;
pub mod sendmail;
pub mod smtp;
pub mod tls_probe;

/// What the transport's far end said when it took the message.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Receipt {
    /// Queue id (SMTP), message id (Gmail).
    pub server_id: Option<String>,
    /// The server's reply, e.g. "250 2.0.0 Ok: queued as 4XyZ12".
    pub response: Option<String>,
    /// Where a file transport wrote the message.
    pub path: Option<PathBuf>,
    /// Gmail's thread id.
    pub thread_id: Option<String>,
}

/// The step at which a transport failed; `missive check` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Config,
    Secret,
    Connect,
    Tls,
    Auth,
    Send,
    Write,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Config => "configuration",
            Stage::Secret => "reading the secret",
            Stage::Connect => "connecting",
            Stage::Tls => "TLS",
            Stage::Auth => "authentication",
            Stage::Send => "sending",
            Stage::Write => "writing",
        })
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct TransportError {
    pub stage: Stage,
    /// A later attempt may succeed (4xx, network, 5xx from an API); decides retry.
    pub transient: bool,
    /// The user must fix something on their side (bad config, missing login) before any
    /// retry: exit 2 rather than 1.
    pub user_fix: bool,
    /// The server's reply code, when the failure was a reply (SMTP 4xx/5xx, HTTP status).
    pub code: Option<u16>,
    pub message: String,
    /// The connection was lost after the end of the message data, before the server's
    /// answer: the message may have been delivered.
    pub uncertain: bool,
    /// Recipients that did get the message before the failure (a server that took a
    /// first batch, then said 452 for the rest): only the others are still to do.
    pub delivered: Vec<String>,
}

impl TransportError {
    /// The message is scrubbed of every known secret here, at the transport boundary:
    /// it may quote a server that echoed the credentials it was sent.
    pub fn new(stage: Stage, transient: bool, message: impl Into<String>) -> Self {
        TransportError {
            stage,
            transient,
            user_fix: false,
            code: None,
            message: crate::redact::scrub(&message.into()).into_owned(),
            uncertain: false,
            delivered: Vec::new(),
        }
    }
    pub fn user(stage: Stage, message: impl Into<String>) -> Self {
        TransportError {
            stage,
            transient: false,
            user_fix: true,
            code: None,
            message: crate::redact::scrub(&message.into()).into_owned(),
            uncertain: false,
            delivered: Vec::new(),
        }
    }

    /// The server refused this message for good: an SMTP 5xx to the message or one of its
    /// recipients. Retrying it unchanged cannot help; the user must fix or drop it. A
    /// refused login or an unreachable server is not this (fixing the config or waiting
    /// may help), nor is an API's 4xx (its own retry policy decides).
    pub fn is_permanent(&self) -> bool {
        !self.transient
            && !self.user_fix
            && !self.uncertain
            && self.stage == Stage::Send
            && matches!(self.code, Some(500..=599))
    }
}

impl TransportError {
    /// Nothing can succeed until the user changes the config or what it points at (a
    /// bad key, a failing password_cmd): exit 2 and nothing queued.
    pub fn is_config(&self) -> bool {
        self.user_fix && matches!(self.stage, Stage::Config | Stage::Secret)
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} failed: {}",
            self.stage,
            crate::redact::scrub(&self.message)
        )
    }
}

impl std::error::Error for TransportError {}

/// An error with its chain of causes, each said once ("connection error: tls: unknown
/// issuer"): the outermost text alone often hides the reason.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let t = inner.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = inner.source();
    }
    s
}

/// What `missive check` learned.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CheckReport {
    /// Human-readable lines: "connected to ...", "TLS 1.3", "AUTH PLAIN accepted".
    pub lines: Vec<String>,
}

/// Progress of one send, for the composer's progress bar.
#[derive(Clone, Debug, PartialEq)]
pub enum Progress {
    Connecting,
    Authenticating,
    /// Bytes handed over so far, of `total`.
    Sending {
        sent: u64,
        total: u64,
    },
    Waiting,
    /// Every byte, end of data included, is with the server; only its answer is missing.
    /// From here a lost connection leaves the message's fate unknown.
    Submitted,
}

pub type ProgressFn<'a> = &'a (dyn Fn(Progress) + Send + Sync);

pub fn no_progress(_: Progress) {}

pub trait Transport: Send + Sync {
    /// "smtp", "gmail", "outlook", "file", "sendmail".
    fn kind(&self) -> &'static str;

    /// Largest message the far end takes, when known before sending.
    fn size_limit(&self) -> Option<u64> {
        None
    }

    fn send<'a>(
        &'a self,
        envelope: &'a Envelope,
        raw: &'a [u8],
        progress: ProgressFn<'a>,
    ) -> BoxFuture<'a, Result<Receipt, TransportError>>;

    /// Connect, negotiate, authenticate; send nothing.
    fn check(&self) -> BoxFuture<'_, Result<CheckReport, TransportError>>;

    /// End a connection kept for the next message (politely, briefly bounded).
    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}
