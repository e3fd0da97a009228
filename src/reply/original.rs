//! The message a reply, forward or template starts from, decoded by mail-parser (a real
//! MIME parser: encoded words in any charset, quoted-printable and base64 bodies,
//! attachments). Addresses are read by missive's own parser from the raw header, so a
//! reply's recipients are the same `Address` values every other field uses.

use std::borrow::Cow;

use mail_parser::{HeaderName, HeaderValue, MessageParser, MimeHeaders, PartType};

use crate::address::{self, Address};

/// Width HTML is laid out at when an HTML-only original is turned into text; quoted with
/// `> ` its lines stay within 78 columns.
const HTML_TEXT_WIDTH: usize = 76;

pub struct Original<'a> {
    msg: mail_parser::Message<'a>,
}

/// One attachment of the original: its file name (if it had one), type and decoded bytes.
pub struct Part<'a> {
    pub name: Option<String>,
    pub content_type: String,
    pub bytes: &'a [u8],
}

impl<'a> Original<'a> {
    /// `None` when the bytes do not look like a message at all (no header mail-parser
    /// knows).
    pub fn parse(raw: &'a [u8]) -> Option<Original<'a>> {
        let msg = MessageParser::default().parse(raw)?;
        let known = [
            HeaderName::From,
            HeaderName::To,
            HeaderName::Subject,
            HeaderName::Date,
            HeaderName::MessageId,
        ];
        known
            .iter()
            .any(|h| msg.header(h.clone()).is_some())
            .then_some(Original { msg })
    }

    pub fn message(&self) -> &mail_parser::Message<'a> {
        &self.msg
    }

    /// The addresses of header `name` (every occurrence). A header missive's parser
    /// refuses (mail programs write odd things) falls back to mail-parser's lenient
    /// reading; entries with no address at all are dropped.
    pub fn addresses(&self, name: HeaderName<'static>) -> Vec<Address> {
        let mut out = Vec::new();
        for h in self.msg.headers().iter().filter(|h| h.name == name) {
            let raw = self
                .msg
                .raw_message
                .get(h.offset_start as usize..h.offset_end as usize)
                .and_then(|b| std::str::from_utf8(b).ok())
                .map(unfold);
            match raw.as_deref().map(address::parse_list) {
                Some(Ok(list)) => out.extend(list),
                _ => out.extend(lenient(&h.value)),
            }
        }
        out
    }

    pub fn subject(&self) -> String {
        self.msg.subject().unwrap_or_default().to_string()
    }

    /// The Message-ID in angle brackets.
    pub fn message_id(&self) -> Option<String> {
        self.msg
            .message_id()
            .filter(|id| !id.trim().is_empty() && !id.contains(['\r', '\n', '<', '>', ' ']))
            .map(|id| format!("<{id}>"))
    }

    /// Its References, each in angle brackets.
    pub fn references(&self) -> Vec<String> {
        let ids: Vec<&str> = match self.msg.references() {
            HeaderValue::Text(t) => vec![t.as_ref()],
            HeaderValue::TextList(l) => l.iter().map(|t| t.as_ref()).collect(),
            _ => vec![],
        };
        ids.into_iter()
            .filter(|id| !id.trim().is_empty() && !id.contains(['\r', '\n', '<', '>', ' ']))
            .map(|id| format!("<{id}>"))
            .collect()
    }

    /// The Date as RFC 5322 writes it, when the original has a readable one.
    pub fn date(&self) -> Option<String> {
        self.msg.date().map(|d| d.to_rfc822())
    }

    /// Who wrote it, as the attribution line names them: the display name, else the
    /// address.
    pub fn author(&self) -> Option<String> {
        let from = self.addresses(HeaderName::From);
        let mb = from.iter().flat_map(|a| a.mailboxes()).next()?;
        Some(mb.name.clone().unwrap_or_else(|| mb.email.to_string()))
    }

    /// The text of the body: its text parts in order, an HTML part with no text
    /// alternative laid out as text. Line ends are LF.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for p in self.msg.text_bodies() {
            let t: Cow<'_, str> = match &p.body {
                PartType::Text(t) => Cow::Borrowed(t.as_ref()),
                PartType::Html(h) => Cow::Owned(html_to_text(h)),
                _ => continue,
            };
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&t);
        }
        out.replace("\r\n", "\n")
    }

    /// Its attachments, decoded (the bytes that were attached).
    pub fn attachments(&self) -> Vec<Part<'_>> {
        self.msg
            .attachments()
            .map(|p| {
                let content_type = match p.content_type() {
                    Some(ct) => match ct.subtype() {
                        Some(sub) => format!("{}/{}", ct.ctype(), sub),
                        None => ct.ctype().to_string(),
                    },
                    None if matches!(p.body, PartType::Message(_)) => "message/rfc822".into(),
                    None => "application/octet-stream".into(),
                }
                .to_ascii_lowercase();
                Part {
                    name: p.attachment_name().map(str::to_string),
                    content_type,
                    bytes: p.contents(),
                }
            })
            .collect()
    }
}

/// A header value with its folding removed (CRLF before whitespace).
pub fn unfold(raw: &str) -> String {
    raw.replace(['\r', '\n'], "").trim().to_string()
}

/// HTML as text, laid out by html2text; mail-parser's simpler conversion if that fails.
pub fn html_to_text(html: &str) -> String {
    html2text::from_read(html.as_bytes(), HTML_TEXT_WIDTH)
        .unwrap_or_else(|_| mail_parser::decoders::html::html_to_text(html))
}

/// mail-parser's reading of an address header, each mailbox re-read by missive's parser
/// (so names are quoted as needed); what even that refuses is left out.
fn lenient(v: &HeaderValue<'_>) -> Vec<Address> {
    let HeaderValue::Address(a) = v else {
        return vec![];
    };
    let one = |x: &mail_parser::Addr<'_>| -> Option<Address> {
        let addr = x.address()?;
        let text = match x.name() {
            Some(n) if !n.trim().is_empty() => format!("{} <{addr}>", address::quote(n.trim())),
            _ => format!("<{addr}>"),
        };
        let mut list = address::parse_list(&text).ok()?;
        (list.len() == 1).then(|| list.remove(0))
    };
    match a {
        mail_parser::Address::List(l) => l.iter().filter_map(one).collect(),
        mail_parser::Address::Group(gs) => gs
            .iter()
            .flat_map(|g| g.addresses.iter())
            .filter_map(one)
            .collect(),
    }
}
