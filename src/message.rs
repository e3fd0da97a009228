//! The message model (`Draft`) and MIME building. Knows nothing of transports or the UI.

use std::path::{Path, PathBuf};

pub mod body;
pub mod header;

use lettre::message::header::ContentType;
use lettre::message::{MultiPart, SinglePart};
use serde::{Deserialize, Serialize};

pub use crate::address::Mailbox;
use crate::address::{self, Address};

/// Everything a person can put into a message. Recipient fields hold what was typed;
/// each entry may itself be a comma-separated list.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Draft {
    pub from: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub subject: String,
    pub text: Option<String>,
    pub html: Option<String>,
    /// Derive the HTML part from the text body (CommonMark).
    pub markdown: bool,
    pub attachments: Vec<AttachmentSpec>,
    /// Extra headers as (name, value).
    pub headers: Vec<(String, String)>,
    /// Kept across re-sends (outbox, retry) so a message has one identity.
    pub message_id: Option<String>,
    /// Reply-To entries, as typed (each may be comma-separated).
    pub reply_to: Vec<String>,
    /// The `[identity.NAME]` this message is written as (see `identity`).
    pub identity: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttachmentSpec {
    #[serde(with = "crate::os_path")]
    pub path: PathBuf,
    /// Overrides the type guessed from the file name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

impl AttachmentSpec {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            content_type: None,
        }
    }

    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.path.display().to_string())
    }

    pub fn mime_type(&self) -> String {
        self.content_type
            .clone()
            .unwrap_or_else(|| guess_mime(&self.path))
    }
}

pub fn guess_mime(path: &Path) -> String {
    mime_guess::from_path(path)
        .first_or_octet_stream()
        .essence_str()
        .to_string()
}

/// The SMTP envelope: who the server is told about, as opposed to the headers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub from: String,
    pub to: Vec<String>,
}

#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum MessageError {
    #[error("invalid address {value:?} in {field}: {reason}")]
    Address {
        field: &'static str,
        value: String,
        reason: String,
    },
    #[error("{field} contains a line break (CR or LF); refused to prevent header injection")]
    LineBreak { field: String },
    #[error("no recipient: give at least one To, Cc or Bcc address")]
    NoRecipient,
    #[error("attachment {path}: {reason}")]
    Attachment { path: String, reason: String },
    #[error("invalid header {value:?}: {reason}")]
    Header { value: String, reason: String },
    #[error("invalid content type {value:?} for {path}")]
    ContentType { path: String, value: String },
    #[error("building the message failed: {0}")]
    Build(String),
}

/// A message ready to leave: the exact bytes plus the envelope they travel in.
#[derive(Clone, Debug)]
pub struct Built {
    pub raw: Vec<u8>,
    pub envelope: Envelope,
    pub message_id: String,
    pub from: String,
}

fn check_line_breaks(field: &str, value: &str) -> Result<(), MessageError> {
    if value.contains(['\r', '\n']) {
        // The field may be a typed header name: shown escaped and cut, on one line.
        return Err(MessageError::LineBreak {
            field: crate::escape::shown(field),
        });
    }
    Ok(())
}

/// Parse typed entries (each may be a comma-separated list, groups included) into
/// addresses, with errors naming the field.
pub fn parse_addresses(
    field: &'static str,
    entries: &[String],
) -> Result<Vec<Address>, MessageError> {
    let mut out = Vec::new();
    for entry in entries {
        check_line_breaks(field, entry)?;
        if entry.trim().is_empty() {
            continue;
        }
        out.extend(
            address::parse_list(entry).map_err(|reason| MessageError::Address {
                field,
                value: short(entry),
                reason,
            })?,
        );
    }
    Ok(out)
}

/// The mailboxes that receive mail from typed entries (a group stands for its members).
pub fn parse_mailboxes(
    field: &'static str,
    entries: &[String],
) -> Result<Vec<Mailbox>, MessageError> {
    Ok(parse_addresses(field, entries)?
        .iter()
        .flat_map(|a| a.mailboxes().iter().cloned())
        .collect())
}

/// Exactly one mailbox (From, Sender).
pub fn parse_mailbox(field: &'static str, value: &str) -> Result<Mailbox, MessageError> {
    let list = parse_addresses(field, &[value.to_string()])?;
    let err = |reason: &str| MessageError::Address {
        field,
        value: short(value),
        reason: reason.to_string(),
    };
    match <[Address; 1]>::try_from(list) {
        Ok([Address::Mailbox(m)]) => Ok(m),
        Ok([Address::Group(_)]) => Err(err("takes one mailbox, not a group")),
        Err(v) if v.is_empty() => Err(err("no address given")),
        Err(_) => Err(err("takes one address, not a list")),
    }
}

/// Split "Name: value" as given to `--header`.
pub fn parse_header_arg(arg: &str) -> Result<(String, String), MessageError> {
    let (name, value) = arg.split_once(':').ok_or_else(|| MessageError::Header {
        value: arg.to_string(),
        reason: "expected 'Name: value'".into(),
    })?;
    // One space after the colon separates; any other whitespace is part of the value.
    let value = value.strip_prefix([' ', '\t']).unwrap_or(value);
    // Only blanks around the name: a CR or LF there is refused with the name, as in the
    // value, never silently dropped.
    Ok((
        name.trim_matches([' ', '\t']).to_string(),
        value.to_string(),
    ))
}

/// Headers the builder owns; setting them through `--header` would produce duplicates.
const RESERVED_HEADERS: &[&str] = &[
    "from",
    "to",
    "cc",
    "bcc",
    "subject",
    "reply-to",
    "message-id",
    "date",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
];

pub fn markdown_to_html(text: &str) -> String {
    // The signature keeps its lines; markdown would run them into one paragraph.
    let (body, sig) = crate::signature::split(text);
    let parser = pulldown_cmark::Parser::new_ext(body, pulldown_cmark::Options::all());
    let mut html = String::with_capacity(text.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, parser);
    if let Some(sig) = sig {
        html.push_str(&crate::signature::html_block(sig));
    }
    format!("<!DOCTYPE html>\n<html><body>\n{html}</body></html>\n")
}

/// A fresh Message-ID in the sender's domain, as MUAs do. The domain is already ASCII
/// (A-labels), so the id is too.
pub fn new_message_id(from: &Mailbox) -> String {
    format!(
        "<{}@{}>",
        uuid::Uuid::new_v4().simple(),
        from.email.domain()
    )
}

/// A kept Message-ID (draft, outbox) made ASCII: an IDN right-hand side becomes A-labels,
/// as a fresh id would have it.
fn ascii_message_id(id: &str) -> String {
    if id.is_ascii() {
        return id.to_string();
    }
    let inner = id.trim().trim_start_matches('<').trim_end_matches('>');
    match inner.rsplit_once('@') {
        Some((left, right)) if left.is_ascii() => match address::to_ascii_domain(right) {
            Ok(d) => format!("<{left}@{d}>"),
            Err(_) => format!("<{}@invalid>", left),
        },
        _ => format!("<{}@invalid>", uuid::Uuid::new_v4().simple()),
    }
}

pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

fn short(v: &str) -> String {
    let v = v.trim();
    match v.char_indices().nth(100) {
        Some((i, _)) => format!("{}…", &v[..i]),
        None => v.to_string(),
    }
}

/// Check everything a person typed without reading attachments: the composer calls this
/// to mark fields before send.
pub fn validate_fields(draft: &Draft) -> Result<(), MessageError> {
    if let Some(f) = &draft.from {
        if !f.trim().is_empty() {
            parse_mailbox("From", f)?;
        }
    }
    let to = parse_mailboxes("To", &draft.to)?;
    let cc = parse_mailboxes("Cc", &draft.cc)?;
    let bcc = parse_mailboxes("Bcc", &draft.bcc)?;
    parse_addresses("Reply-To", &draft.reply_to)?;
    if to.is_empty() && cc.is_empty() && bcc.is_empty() {
        return Err(MessageError::NoRecipient);
    }
    check_line_breaks("Subject", &draft.subject)?;
    for (name, value) in &draft.headers {
        header_line(name, value)?;
    }
    Ok(())
}

/// One `--header` as it goes out: address headers through the address parser,
/// structured ones folded as they are, the rest as unstructured text.
fn header_line(name: &str, value: &str) -> Result<String, MessageError> {
    check_line_breaks(&format!("header {name}"), name)?;
    check_line_breaks(&format!("header {name}"), value)?;
    let bad = |reason: &str| MessageError::Header {
        value: short(&format!("{name}: {value}")),
        reason: reason.to_string(),
    };
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
        return Err(bad(
            "header names are printable ASCII without ':' or spaces",
        ));
    }
    if name.len() > 76 {
        return Err(bad("the header name is longer than 76 characters"));
    }
    if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
        return Err(bad(
            "this header is set by missive; use the matching option instead",
        ));
    }
    if header::is_address_header(name) {
        let list = address::parse_list(value).map_err(|r| bad(&r))?;
        return Ok(header::fold_pieces(name, &address::list_pieces(&list)));
    }
    if header::is_structured(name) {
        return header::structured(name, value).map_err(|r| bad(&r));
    }
    Ok(header::unstructured(name, value))
}

/// Build the exact RFC 5322 bytes for `draft`, sent from `from` (already resolved from
/// flag, transport and config). Bcc stays out of the headers.
pub fn build(draft: &Draft, from: &str) -> Result<Built, MessageError> {
    build_with(draft, from, false)
}

/// As `build`; `keep_bcc` writes the Bcc header too, for transports with no envelope
/// (the Gmail API delivers to the headers' recipients and strips Bcc itself).
pub fn build_with(draft: &Draft, from: &str, keep_bcc: bool) -> Result<Built, MessageError> {
    build_limited(
        draft,
        from,
        keep_bcc,
        crate::attachment::DEFAULT_MAX_MESSAGE,
    )
}

/// As `build_with`; attachments are checked against `max_bytes` (the transport's message
/// limit) before any is read.
///
/// The message header is written here (lettre's header writer encodes names that only
/// need quoting, cannot write groups, and folds address lists in quadratic time); lettre
/// builds the MIME parts.
pub fn build_limited(
    draft: &Draft,
    from: &str,
    keep_bcc: bool,
    max_bytes: u64,
) -> Result<Built, MessageError> {
    validate_fields(draft)?;
    crate::attachment::check_all(&draft.attachments, max_bytes)?;
    let from_mb = parse_mailbox("From", from)?;
    let to = parse_addresses("To", &draft.to)?;
    let cc = parse_addresses("Cc", &draft.cc)?;
    let bcc = parse_addresses("Bcc", &draft.bcc)?;
    let reply_to = parse_addresses("Reply-To", &draft.reply_to)?;

    let message_id = match &draft.message_id {
        Some(id) => {
            check_line_breaks("Message-ID", id)?;
            ascii_message_id(id)
        }
        None => new_message_id(&from_mb),
    };

    // One RCPT per mailbox: a name in To and Bcc must not be delivered twice.
    let mut seen = std::collections::HashSet::new();
    let mut rcpts = Vec::new();
    for m in to.iter().chain(&cc).chain(&bcc).flat_map(|a| a.mailboxes()) {
        let a = m.email.to_string();
        if seen.insert(a.to_ascii_lowercase()) {
            rcpts.push(a);
        }
    }
    if rcpts.is_empty() {
        return Err(MessageError::NoRecipient);
    }
    let envelope = Envelope {
        from: from_mb.email.to_string(),
        to: rcpts,
    };

    let mut head = String::with_capacity(1024 + 40 * envelope.to.len());
    let mut pieces = Vec::new();
    from_mb.header_pieces(&mut pieces);
    head.push_str(&header::fold_pieces("From", &pieces));
    if !reply_to.is_empty() {
        head.push_str(&header::fold_pieces(
            "Reply-To",
            &address::list_pieces(&reply_to),
        ));
    }
    head.push_str(&header::unstructured("Subject", &draft.subject));
    head.push_str(
        &header::structured("Message-ID", &message_id).map_err(|reason| MessageError::Header {
            value: short(&message_id),
            reason,
        })?,
    );
    head.push_str(&format!(
        "Date: {}\r\n",
        chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S +0000")
    ));
    head.push_str(&format!(
        "User-Agent: missive/{}\r\n",
        env!("CARGO_PKG_VERSION")
    ));
    for (name, list) in [("To", &to), ("Cc", &cc)] {
        if !list.is_empty() {
            head.push_str(&header::fold_pieces(name, &address::list_pieces(list)));
        }
    }
    if keep_bcc && !bcc.is_empty() {
        head.push_str(&header::fold_pieces("Bcc", &address::list_pieces(&bcc)));
    }
    for (name, value) in &draft.headers {
        head.push_str(&header_line(name, value)?);
    }
    head.push_str("MIME-Version: 1.0\r\n");

    let html = match (&draft.html, draft.markdown, &draft.text) {
        (Some(h), _, _) if !h.is_empty() => Some(h.clone()),
        (_, true, Some(t)) => Some(markdown_to_html(t)),
        _ => None,
    };
    let text = draft
        .text
        .clone()
        .filter(|t| !t.is_empty() || html.is_none());

    let single = draft.attachments.is_empty() && (text.is_none() || html.is_none());
    let text_part = text.map(|t| {
        SinglePart::builder()
            .header(ContentType::TEXT_PLAIN)
            .body(body::text_body(&t, single))
    });
    let html_part = html.map(|h| {
        SinglePart::builder()
            .header(ContentType::TEXT_HTML)
            .body(body::text_body(&h, single))
    });

    let mut attachments = Vec::with_capacity(draft.attachments.len());
    for spec in &draft.attachments {
        let (bytes, _) = crate::attachment::read(spec, max_bytes)?;
        let a = body::attachment_body(&spec.mime_type(), bytes);
        let ct =
            body::PartContentType::new(&a.content_type).map_err(|_| MessageError::ContentType {
                path: spec.path.display().to_string(),
                value: a.content_type.clone(),
            })?;
        attachments.push(
            SinglePart::builder()
                .header(ct)
                .header(body::AttachmentDisposition::new(&spec.file_name()))
                .body(a.body),
        );
    }

    enum Content {
        Single(SinglePart),
        Multi(MultiPart),
    }
    let content = match (text_part, html_part) {
        (Some(t), Some(h)) => Content::Multi(MultiPart::alternative().singlepart(t).singlepart(h)),
        (Some(t), None) => Content::Single(t),
        (None, Some(h)) => Content::Single(h),
        (None, None) => Content::Single(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(body::text_body("", single)),
        ),
    };
    let part_bytes = if attachments.is_empty() {
        match content {
            Content::Single(p) => p.formatted(),
            Content::Multi(m) => m.formatted(),
        }
    } else {
        let mut mixed = match content {
            Content::Single(p) => MultiPart::mixed().singlepart(p),
            Content::Multi(m) => MultiPart::mixed().multipart(m),
        };
        for a in attachments {
            mixed = mixed.singlepart(a);
        }
        mixed.formatted()
    };

    let mut raw = head.into_bytes();
    raw.extend_from_slice(&part_bytes);
    Ok(Built {
        raw,
        envelope,
        message_id,
        from: from_mb.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MimeHeaders;

    fn draft() -> Draft {
        Draft {
            to: vec!["bob@example.com".into()],
            subject: "hi".into(),
            text: Some("hello".into()),
            ..Default::default()
        }
    }

    #[test]
    fn refuses_line_breaks_in_headers() {
        let mut d = draft();
        d.subject = "hi\r\nBcc: evil@example.com".into();
        assert!(matches!(
            build(&d, "a@example.com"),
            Err(MessageError::LineBreak { .. })
        ));
        let mut d = draft();
        d.headers.push(("X-Test".into(), "a\nb".into()));
        assert!(matches!(
            build(&d, "a@example.com"),
            Err(MessageError::LineBreak { .. })
        ));
    }

    #[test]
    fn bcc_stays_out_of_headers() {
        let mut d = draft();
        d.bcc = vec!["secret@example.com".into()];
        let b = build(&d, "a@example.com").unwrap();
        let raw = String::from_utf8(b.raw).unwrap();
        assert!(!raw.to_ascii_lowercase().contains("secret@example.com"));
        assert!(b.envelope.to.contains(&"secret@example.com".to_string()));
    }

    #[test]
    fn keep_bcc_writes_the_header() {
        let mut d = draft();
        d.bcc = vec!["secret@example.com".into()];
        let b = build_with(&d, "a@example.com", true).unwrap();
        let m = mail_parser::MessageParser::default().parse(&b.raw).unwrap();
        assert_eq!(
            m.bcc().unwrap().first().unwrap().address(),
            Some("secret@example.com")
        );
    }

    #[test]
    fn comma_separated_recipients() {
        let mut d = draft();
        d.to = vec!["a@example.com, \"Doe, J\" <j@example.com>".into()];
        let b = build(&d, "x@example.com").unwrap();
        assert_eq!(b.envelope.to, vec!["a@example.com", "j@example.com"]);
    }

    #[test]
    fn reserved_headers_refused() {
        let mut d = draft();
        d.headers.push(("Subject".into(), "dup".into()));
        assert!(matches!(
            build(&d, "a@example.com"),
            Err(MessageError::Header { .. })
        ));
    }

    #[test]
    fn no_recipient() {
        let mut d = draft();
        d.to.clear();
        assert_eq!(
            build(&d, "a@example.com").unwrap_err(),
            MessageError::NoRecipient
        );
    }

    #[test]
    fn round_trips_through_an_independent_parser() {
        let dir = tempfile::tempdir().unwrap();
        let long_name = format!("{}.pdf", "아주 긴 파일 이름입니다 ".repeat(4));
        let short_name = "보고서 2026.pdf";
        let bytes: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
        for n in [&long_name, &short_name.to_string()] {
            std::fs::write(dir.path().join(n), &bytes).unwrap();
        }
        let text = format!("From the start\n{}\n.\nFrom me ü\n", "y".repeat(1500));
        let d = Draft {
            to: vec!["홍길동 <gildong@example.com>".into()],
            subject: "회의 자료 보냅니다".into(),
            text: Some(text.clone()),
            html: Some("<p>회의</p>".into()),
            attachments: vec![
                AttachmentSpec::new(dir.path().join(short_name)),
                AttachmentSpec::new(dir.path().join(&long_name)),
            ],
            ..Default::default()
        };
        let b = build(&d, "Ada <ada@example.com>").unwrap();
        assert!(b.raw.is_ascii(), "not 7-bit clean");
        assert!(b.raw.split(|&c| c == b'\n').all(|l| l.len() <= 998));
        let raw = String::from_utf8(b.raw.clone()).unwrap();
        assert!(raw.contains("filename*=utf-8''%EB%B3%B4"), "{raw}");
        assert!(!raw.contains("\nFrom "), "an unescaped From_ line");

        let m = mail_parser::MessageParser::default().parse(&b.raw).unwrap();
        assert_eq!(m.subject(), Some("회의 자료 보냅니다"));
        let to = m.to().unwrap().first().unwrap();
        assert_eq!(to.name(), Some("홍길동"));
        assert_eq!(m.body_text(0).unwrap().replace("\r\n", "\n"), text);
        assert_eq!(m.body_html(0).unwrap(), "<p>회의</p>");
        let names: Vec<_> = m
            .attachments()
            .map(|a| a.attachment_name().unwrap().to_string())
            .collect();
        assert_eq!(names, vec![short_name.to_string(), long_name.clone()]);
        for a in m.attachments() {
            assert_eq!(a.contents(), &bytes[..]);
        }
    }

    #[test]
    fn markdown_derives_html() {
        let mut d = draft();
        d.text = Some("# Title\n\n*hi*".into());
        d.markdown = true;
        let b = build(&d, "a@example.com").unwrap();
        let m = mail_parser::MessageParser::default().parse(&b.raw).unwrap();
        assert!(m.body_html(0).unwrap().contains("<h1>Title</h1>"));
        assert_eq!(
            m.body_text(0).unwrap().replace("\r\n", "\n"),
            "# Title\n\n*hi*"
        );
    }
}
