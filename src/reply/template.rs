//! A template (mutt's `-H`): a message file whose headers fill From, To, Cc, Bcc,
//! Subject, Reply-To and any extra headers, and whose text fills the body.

use mail_parser::{HeaderName, PartType};

use super::original::{unfold, Original};
use crate::message::header;
use crate::message::Draft;

/// Headers a template may carry that describe the old file, not the new message: the
/// builder writes its own Date, Message-ID and MIME headers, and trace or mailbox
/// headers belong to a delivered copy.
const DROPPED: &[&str] = &[
    "date",
    "message-id",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "content-disposition",
    "content-length",
    "user-agent",
    "x-mailer",
    "received",
    "return-path",
    "delivered-to",
    "x-original-to",
    "status",
    "x-status",
    "x-keywords",
    "x-uid",
    "lines",
];

/// Fill `draft` from the template; what the flags already set wins (From, Subject, the
/// text body, a header of the same name), recipients add up (template's first).
pub fn fill(o: &Original<'_>, draft: &mut Draft) -> Result<(), String> {
    let msg = o.message();
    let (mut to, mut cc, mut bcc, mut reply_to) = (vec![], vec![], vec![], vec![]);
    let flag_headers: Vec<String> = draft
        .headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect();
    let mut extra = Vec::new();
    for h in msg.headers() {
        let name = h.name.as_str().to_string();
        let lower = name.to_ascii_lowercase();
        let raw = msg
            .raw_message
            .get(h.offset_start as usize..h.offset_end as usize)
            .unwrap_or_default();
        let text = || {
            std::str::from_utf8(raw)
                .map(unfold)
                .map_err(|_| format!("template header {name}: not UTF-8 text"))
        };
        match lower.as_str() {
            "from" => {
                if draft.from.as_ref().is_none_or(|f| f.trim().is_empty()) {
                    draft.from = Some(text()?);
                }
            }
            "to" => to.push(text()?),
            "cc" => cc.push(text()?),
            "bcc" => bcc.push(text()?),
            "reply-to" => reply_to.push(text()?),
            "subject" => {
                if draft.subject.is_empty() {
                    draft.subject = o.subject();
                }
            }
            l if DROPPED.contains(&l) => {}
            l if flag_headers.iter().any(|f| f == l) => {}
            _ => {
                let value = if header::is_structured(&name) || header::is_address_header(&name) {
                    text()?
                } else {
                    match mail_parser::parsers::MessageStream::new(raw).parse_unstructured() {
                        mail_parser::HeaderValue::Text(t) => t.trim().to_string(),
                        _ => text()?,
                    }
                };
                extra.push((name, value));
            }
        }
    }
    let join = |mut t: Vec<String>, flags: &mut Vec<String>| {
        t.retain(|e| !e.trim().is_empty());
        t.append(flags);
        *flags = t;
    };
    join(to, &mut draft.to);
    join(cc, &mut draft.cc);
    join(bcc, &mut draft.bcc);
    join(reply_to, &mut draft.reply_to);
    extra.append(&mut draft.headers);
    draft.headers = extra;
    if draft.text.is_none() {
        draft.text = Some(o.text());
        let has_text = msg
            .text_bodies()
            .any(|p| matches!(p.body, PartType::Text(_)));
        if draft.html.is_none() && has_text {
            draft.html = msg.html_bodies().find_map(|p| match &p.body {
                PartType::Html(h) => Some(h.to_string()),
                _ => None,
            });
        }
    }
    Ok(())
}

/// The address the template is written from, to pick its identity.
pub fn from_address(o: &Original<'_>) -> Option<String> {
    o.addresses(HeaderName::From)
        .iter()
        .flat_map(|a| a.mailboxes())
        .map(|m| m.email.to_string())
        .next()
}
