//! Starting a message from another one: reply, reply-all, forward (inline or as an
//! attached `message/rfc822`) and templates (mutt's `-H`). The original is an RFC 5322
//! file or standard input, decoded with mail-parser; the result is an ordinary `Draft`,
//! so the composer, `send` and `preview` all show and send the same reply.

mod compose;
mod original;
pub mod staged;
mod template;

use std::io::Read;
use std::path::Path;

use mail_parser::HeaderName;

use crate::address::Address;
use crate::engine::{Engine, InputError};
use crate::message::Draft;
use original::Original;

pub use compose::{forward_subject, quote, reply_subject};
pub use original::html_to_text;

/// Largest original read (the same bound as a message handed to `missive sendmail`).
pub const MAX_ORIGINAL: u64 = crate::raw::MAX_SUBMISSION;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Reply,
    ReplyAll,
    Forward,
    ForwardAttached,
    Template,
}

impl Kind {
    pub fn flag(self) -> &'static str {
        match self {
            Kind::Reply => "--reply",
            Kind::ReplyAll => "--reply-all",
            Kind::Forward => "--forward",
            Kind::ForwardAttached => "--forward-attached",
            Kind::Template => "--template",
        }
    }
}

/// The original's bytes from `path` (`-` = standard input), bounded in size; a FIFO,
/// device or directory is refused (only standard input is read as a stream).
pub fn read_source(kind: Kind, path: &Path) -> Result<Vec<u8>, InputError> {
    let flag = kind.flag();
    let shown = || crate::escape::shown(&path.display().to_string());
    let bytes = if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin()
            .take(MAX_ORIGINAL + 1)
            .read_to_end(&mut buf)
            .map_err(|e| InputError::Other(format!("{flag} -: reading standard input: {e}")))?;
        if buf.len() as u64 > MAX_ORIGINAL {
            return Err(InputError::Other(format!(
                "{flag} -: the message on standard input is over {MAX_ORIGINAL} bytes"
            )));
        }
        buf
    } else {
        crate::regular_file::read(path, MAX_ORIGINAL)
            .map_err(|e| InputError::Other(format!("{flag} {}: {e}", shown())))?
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(InputError::Other(format!(
            "{flag} {}: empty, not a message",
            shown()
        )));
    }
    Ok(bytes)
}

/// Addresses with the user's own removed (groups keep their other members, an empty
/// group goes) and each mailbox only once across `seen`.
fn without(list: Vec<Address>, own: &[String], seen: &mut Vec<String>) -> Vec<Address> {
    let mut keep = |m: &crate::address::Mailbox| {
        let a = m.email.to_string().to_ascii_lowercase();
        if own.contains(&a) || seen.contains(&a) {
            return false;
        }
        seen.push(a);
        true
    };
    list.into_iter()
        .filter_map(|a| match a {
            Address::Mailbox(m) => keep(&m).then_some(Address::Mailbox(m)),
            Address::Group(mut g) => {
                g.members.retain(|m| keep(m));
                (!g.members.is_empty()).then_some(Address::Group(g))
            }
        })
        .collect()
}

fn is_own(list: &[Address], own: &[String]) -> bool {
    let mut mbs = list.iter().flat_map(|a| a.mailboxes()).peekable();
    mbs.peek().is_some() && mbs.all(|m| own.contains(&m.email.to_string().to_ascii_lowercase()))
}

fn strings(list: &[Address]) -> Vec<String> {
    list.iter().map(|a| a.to_string()).collect()
}

fn prepend(mut first: Vec<String>, flags: &mut Vec<String>) {
    first.append(flags);
    *flags = first;
}

impl Engine {
    /// Every address that is the user's: identities, transports, the top-level from, and
    /// the From this message is written as.
    fn own_for(&self, draft: &Draft) -> Vec<String> {
        let mut own = self.config.own_addresses();
        if let Some(mb) = draft
            .from
            .as_deref()
            .and_then(|f| crate::message::parse_mailbox("From", f).ok())
        {
            own.push(mb.email.to_string().to_ascii_lowercase());
        }
        own
    }

    /// The identity the original was addressed to: the first of its To, Cc, Delivered-To
    /// and X-Original-To addresses that is an identity's from.
    fn addressed_identity(&self, o: &Original<'_>) -> Option<String> {
        let headers = [
            HeaderName::To,
            HeaderName::Cc,
            HeaderName::Other("Delivered-To".into()),
            HeaderName::Other("X-Original-To".into()),
        ];
        headers.into_iter().find_map(|h| {
            o.addresses(h)
                .iter()
                .flat_map(|a| a.mailboxes())
                .find_map(|m| self.config.identity_for_address(&m.email.to_string()))
                .map(|i| i.name.clone())
        })
    }

    /// Fill `draft` (what the flags gave) from the original `raw` as `kind` says. Returns
    /// the identity to write as when the original names one (the one it was addressed
    /// to; for a template, the one its From is).
    pub fn start_from(
        &self,
        kind: Kind,
        raw: &[u8],
        draft: &mut Draft,
    ) -> Result<Option<String>, InputError> {
        let flag = kind.flag();
        let o = Original::parse(raw).ok_or_else(|| {
            InputError::Other(format!(
                "{flag}: not an RFC 5322 message (no From, To, Subject, Date or Message-ID header)"
            ))
        })?;
        match kind {
            Kind::Reply | Kind::ReplyAll => self.reply(kind, &o, draft),
            Kind::Forward | Kind::ForwardAttached => self.forward(kind, &o, raw, draft),
            Kind::Template => {
                template::fill(&o, draft).map_err(InputError::Other)?;
                draft.attachments.splice(0..0, self.stage_attachments(&o)?);
                Ok(template::from_address(&o)
                    .and_then(|a| self.config.identity_for_address(&a))
                    .map(|i| i.name.clone()))
            }
        }
    }

    fn reply(
        &self,
        kind: Kind,
        o: &Original<'_>,
        draft: &mut Draft,
    ) -> Result<Option<String>, InputError> {
        let own = self.own_for(draft);
        let reply_to = o.addresses(HeaderName::ReplyTo);
        let mut to = if reply_to.is_empty() {
            o.addresses(HeaderName::From)
        } else {
            reply_to
        };
        // A reply to one's own message goes to its recipients, as mutt and aerc do.
        let own_message = is_own(&to, &own);
        if own_message {
            to = o.addresses(HeaderName::To);
        }
        let mut cc = Vec::new();
        if kind == Kind::ReplyAll {
            if !own_message {
                to.extend(o.addresses(HeaderName::To));
            }
            cc = o.addresses(HeaderName::Cc);
        }
        let mut seen = Vec::new();
        let to = without(to, &own, &mut seen);
        let cc = without(cc, &own, &mut seen);
        prepend(strings(&to), &mut draft.to);
        prepend(strings(&cc), &mut draft.cc);
        if draft.subject.is_empty() {
            draft.subject = compose::reply_subject(&o.subject());
        }
        self.thread(o, draft);
        let attribution = compose::attribution(o.date().as_deref(), o.author().as_deref());
        let quoted = compose::quote(&o.text());
        draft.text = Some(compose::reply_text(
            &attribution,
            &quoted,
            draft.text.as_deref(),
        ));
        Ok(self.addressed_identity(o))
    }

    /// In-Reply-To and References, unless the flags set them.
    fn thread(&self, o: &Original<'_>, draft: &mut Draft) {
        let has = |d: &Draft, n: &str| d.headers.iter().any(|(h, _)| h.eq_ignore_ascii_case(n));
        let id = o.message_id();
        let mut refs = o.references();
        if let Some(id) = &id {
            if !refs.contains(id) {
                refs.push(id.clone());
            }
        }
        let mut add = Vec::new();
        if let (Some(id), false) = (&id, has(draft, "In-Reply-To")) {
            add.push(("In-Reply-To".to_string(), id.clone()));
        }
        if !refs.is_empty() && !has(draft, "References") {
            add.push(("References".to_string(), refs.join(" ")));
        }
        draft.headers.splice(0..0, add);
    }

    fn forward(
        &self,
        kind: Kind,
        o: &Original<'_>,
        raw: &[u8],
        draft: &mut Draft,
    ) -> Result<Option<String>, InputError> {
        if draft.subject.is_empty() {
            draft.subject = compose::forward_subject(&o.subject());
        }
        let list = |h: HeaderName<'static>| strings(&o.addresses(h)).join(", ");
        if kind == Kind::ForwardAttached {
            let name = format!("{}.eml", o.subject().trim());
            let spec = staged::stage(
                &self.paths,
                &[staged::Staged {
                    name: Some(name),
                    fallback: "forwarded.eml".into(),
                    content_type: "message/rfc822".into(),
                    bytes: raw,
                }],
            )
            .map_err(InputError::Other)?;
            draft.attachments.splice(0..0, spec);
        } else {
            let (from, to, cc, date, subject) = (
                list(HeaderName::From),
                list(HeaderName::To),
                list(HeaderName::Cc),
                o.date(),
                o.subject(),
            );
            let h = compose::ForwardHeaders {
                from: &from,
                date: date.as_deref(),
                subject: &subject,
                to: &to,
                cc: &cc,
            };
            draft.text = Some(compose::forward_text(&h, &o.text(), draft.text.as_deref()));
            draft.attachments.splice(0..0, self.stage_attachments(o)?);
        }
        Ok(self.addressed_identity(o))
    }

    fn stage_attachments(
        &self,
        o: &Original<'_>,
    ) -> Result<Vec<crate::message::AttachmentSpec>, InputError> {
        let parts = o.attachments();
        let files: Vec<staged::Staged<'_>> = parts
            .iter()
            .enumerate()
            .map(|(i, p)| staged::Staged {
                name: p.name.clone(),
                fallback: match p.content_type.as_str() {
                    "message/rfc822" => format!("message-{}.eml", i + 1),
                    _ => format!("attachment-{}", i + 1),
                },
                content_type: p.content_type.clone(),
                bytes: p.bytes,
            })
            .collect();
        staged::stage(&self.paths, &files).map_err(InputError::Other)
    }
}
