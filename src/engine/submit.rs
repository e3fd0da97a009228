//! Messages that programs hand over finished (`missive sendmail`, `missive relay`): the
//! bytes are kept as they came, except for what a submission service adds when missing
//! (Date, Message-ID, From) and the Bcc header, which leaves only through the envelope.

use crate::address::Mailbox;

use super::{default_from, size_limit, Engine, Prepared};
use crate::config::TransportKind;
use crate::message::{Built, Envelope};
use crate::raw::{self, RawMessage};

/// What a program gives: the message and, as sendmail's command line does, the envelope.
#[derive(Clone, Debug, Default)]
pub struct Submission {
    /// The message, any line endings.
    pub raw: Vec<u8>,
    /// `-f`: the envelope sender (default: the configured From, else the From header).
    pub envelope_from: Option<String>,
    /// Recipients given outside the message (arguments, RCPT TO); each may be a list.
    pub recipients: Vec<String>,
    /// `-t`: also deliver to the To, Cc and Bcc headers' addresses.
    pub recipients_from_headers: bool,
    /// `-F`: the display name for a From header that has to be added.
    pub full_name: Option<String>,
}

/// Why a submission was refused before anything was sent.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SubmitError {
    /// The message itself (EX_DATAERR).
    #[error("{0}")]
    Message(String),
    /// What the caller asked for (EX_USAGE).
    #[error("{0}")]
    Usage(String),
    /// The configuration (EX_CONFIG).
    #[error("{0}")]
    Config(String),
}

/// API transports deliver to the headers and strip Bcc themselves (no envelope).
fn keeps_bcc(kind: &TransportKind) -> bool {
    matches!(kind.name(), "gmail" | "outlook")
}

fn dedup(list: Vec<String>) -> Vec<String> {
    list.into_iter().fold(Vec::new(), |mut v, a| {
        if !v.iter().any(|x: &String| x.eq_ignore_ascii_case(&a)) {
            v.push(a);
        }
        v
    })
}

/// `From: Name <addr>` in the conventional form (the message builder's address writer).
fn from_field(mb: Mailbox) -> Vec<u8> {
    let mut pieces = Vec::new();
    mb.header_pieces(&mut pieces);
    crate::message::header::fold_pieces("From", &pieces).into_bytes()
}

impl Engine {
    /// Check and complete a finished message for `transport`; nothing is sent.
    pub fn prepare_submission(
        &self,
        transport: Option<&str>,
        s: &Submission,
    ) -> Result<Prepared, SubmitError> {
        let tc = self
            .transport_config(transport)
            .map_err(|e| SubmitError::Config(e.to_string()))?;
        let bytes = raw::to_crlf(&s.raw);
        let mut m = RawMessage::parse(&bytes).map_err(|e| SubmitError::Message(e.to_string()))?;

        let mut to = Vec::new();
        for r in &s.recipients {
            to.extend(raw::address_list(r).map_err(|e| SubmitError::Usage(e.to_string()))?);
        }
        if s.recipients_from_headers {
            to.extend(
                m.addresses(&["To", "Cc", "Bcc"])
                    .map_err(|e| SubmitError::Message(e.to_string()))?,
            );
        }
        let to = dedup(to);
        if to.is_empty() {
            return Err(if s.recipients_from_headers {
                SubmitError::Message(
                    "no recipient: the message has no To, Cc or Bcc address and none was given"
                        .into(),
                )
            } else {
                SubmitError::Usage(
                    "no recipient: give addresses as arguments, or -t to read To, Cc and Bcc"
                        .into(),
                )
            });
        }

        let configured = match tc.from.as_ref().or(self.config.from.as_ref()) {
            Some(f) => Some(
                crate::message::parse_mailbox("From", f)
                    .map_err(|e| SubmitError::Config(format!("the configured from: {e}")))?,
            ),
            None => None,
        };
        let given_from = match &s.envelope_from {
            Some(f) if raw::is_plausible(f) => Some(f.clone()),
            Some(f) => return Err(SubmitError::Usage(format!("-f: invalid address {f:?}"))),
            None => None,
        };
        let fallback = crate::message::parse_mailbox("From", &default_from()).ok();
        let envelope_from = given_from
            .clone()
            .or_else(|| configured.as_ref().map(|c| c.email.to_string()))
            .or_else(|| m.from_address())
            .or_else(|| fallback.as_ref().map(|f| f.email.to_string()))
            .unwrap_or_default();

        let from_domain = m
            .from_address()
            .unwrap_or_else(|| envelope_from.clone())
            .rsplit_once('@')
            .map(|(_, d)| d.to_string())
            .unwrap_or_else(|| "localhost".into());
        let message_id = match m.message_id() {
            Some(id) => id,
            None => {
                let id = format!("<{}@{from_domain}>", uuid::Uuid::new_v4().simple());
                m.prepend("Message-ID", &id);
                id
            }
        };
        if !m.has("Date") {
            m.prepend("Date", &chrono::Local::now().to_rfc2822());
        }
        if !m.has("From") {
            let base = match (&given_from, &configured) {
                (Some(a), _) => crate::message::parse_mailbox("-f", a)
                    .map(|m| Mailbox { name: None, ..m })
                    .map_err(|e| SubmitError::Usage(format!("-f {a:?}: {e}")))?,
                (None, Some(c)) => c.clone(),
                (None, None) => fallback
                    .clone()
                    .ok_or_else(|| SubmitError::Config("no From address known".into()))?,
            };
            let name = match &s.full_name {
                Some(n) if n.contains(['\r', '\n']) => {
                    return Err(SubmitError::Usage("-F: the name has a line break".into()))
                }
                Some(n) => Some(n.clone()),
                None => base.name.clone(),
            };
            m.prepend_field(
                "From",
                from_field(Mailbox {
                    name,
                    email: base.email,
                }),
            );
        }
        if !keeps_bcc(&tc.kind) {
            m.remove("Bcc");
            m.remove("Resent-Bcc");
        }
        let subject = m.subject();
        Ok(Prepared {
            built: Built {
                raw: m.to_bytes(),
                envelope: Envelope {
                    from: envelope_from.clone(),
                    to,
                },
                message_id,
                from: envelope_from,
            },
            transport: tc.name.clone(),
            kind: tc.kind.name(),
            size_limit: size_limit(&tc.kind),
            draft: None,
            subject,
            // The sent copy, if any, follows the identity of the message's From.
            identity: None,
        })
    }
}
