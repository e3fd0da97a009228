//! The message model (`Draft`) and MIME building. Knows nothing of transports or the UI.

use std::path::{Path, PathBuf};

use lettre::message::header::{ContentTransferEncoding, ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Body, Mailbox, Mailboxes, MultiPart, SinglePart};
use serde::{Deserialize, Serialize};

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
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttachmentSpec {
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
        return Err(MessageError::LineBreak {
            field: field.to_string(),
        });
    }
    Ok(())
}

/// Parse a list of typed recipient entries (each may be comma-separated).
pub fn parse_mailboxes(
    field: &'static str,
    entries: &[String],
) -> Result<Vec<Mailbox>, MessageError> {
    let mut out = Vec::new();
    for entry in entries {
        check_line_breaks(field, entry)?;
        if entry.trim().is_empty() {
            continue;
        }
        let list: Mailboxes = entry.parse().map_err(|e| MessageError::Address {
            field,
            value: entry.trim().to_string(),
            reason: format!("{e}"),
        })?;
        // lettre accepts a list like "a@b.c,,"; re-check each address so the error names it.
        out.extend(list);
    }
    Ok(out)
}

pub fn parse_mailbox(field: &'static str, value: &str) -> Result<Mailbox, MessageError> {
    check_line_breaks(field, value)?;
    value.trim().parse().map_err(|e| MessageError::Address {
        field,
        value: value.trim().to_string(),
        reason: format!("{e}"),
    })
}

/// Split "Name: value" as given to `--header`.
pub fn parse_header_arg(arg: &str) -> Result<(String, String), MessageError> {
    let (name, value) = arg.split_once(':').ok_or_else(|| MessageError::Header {
        value: arg.to_string(),
        reason: "expected 'Name: value'".into(),
    })?;
    Ok((name.trim().to_string(), value.trim().to_string()))
}

/// Headers the builder owns; setting them through `--header` would produce duplicates.
const RESERVED_HEADERS: &[&str] = &[
    "from",
    "to",
    "cc",
    "bcc",
    "subject",
    "message-id",
    "date",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
];

pub fn markdown_to_html(text: &str) -> String {
    let parser = pulldown_cmark::Parser::new_ext(text, pulldown_cmark::Options::all());
    let mut html = String::with_capacity(text.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, parser);
    format!("<!DOCTYPE html>\n<html><body>\n{html}</body></html>\n")
}

/// A fresh Message-ID in the sender's domain, as MUAs do.
pub fn new_message_id(from: &Mailbox) -> String {
    format!(
        "<{}@{}>",
        uuid::Uuid::new_v4().simple(),
        from.email.domain()
    )
}

/// A text body. Forced to quoted-printable when a line starts with "From " so that mbox
/// readers don't mangle it (">From "); lettre otherwise picks 7bit/QP/base64 itself and
/// keeps lines within 998 octets.
fn text_body(text: &str) -> Body {
    let from_line = text.starts_with("From ") || text.contains("\nFrom ");
    if from_line {
        if let Ok(body) =
            Body::new_with_encoding(text.to_string(), ContentTransferEncoding::QuotedPrintable)
        {
            return body;
        }
    }
    let body = Body::new(text.to_string());
    // 8bit is not 7-bit clean; prefer QP for mostly-ASCII text.
    if body.encoding() == ContentTransferEncoding::EightBit {
        if let Ok(qp) =
            Body::new_with_encoding(text.to_string(), ContentTransferEncoding::QuotedPrintable)
        {
            return qp;
        }
    }
    body
}

fn read_attachment(spec: &AttachmentSpec) -> Result<(Vec<u8>, ContentType), MessageError> {
    let path_str = spec.path.display().to_string();
    let err = |reason: String| MessageError::Attachment {
        path: path_str.clone(),
        reason,
    };
    let meta = std::fs::metadata(&spec.path).map_err(|e| err(io_reason(&e)))?;
    if meta.is_dir() {
        return Err(err("is a directory, not a file".into()));
    }
    let ct_text = spec.mime_type();
    let ct = ContentType::parse(&ct_text).map_err(|_| MessageError::ContentType {
        path: path_str.clone(),
        value: ct_text.clone(),
    })?;
    let bytes = std::fs::read(&spec.path).map_err(|e| err(io_reason(&e)))?;
    Ok((bytes, ct))
}

pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
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
    if to.is_empty() && cc.is_empty() && bcc.is_empty() {
        return Err(MessageError::NoRecipient);
    }
    check_line_breaks("Subject", &draft.subject)?;
    for (name, value) in &draft.headers {
        check_header(name, value)?;
    }
    Ok(())
}

fn check_header(name: &str, value: &str) -> Result<HeaderName, MessageError> {
    check_line_breaks(&format!("header {name}"), name)?;
    check_line_breaks(&format!("header {name}"), value)?;
    let bad = |reason: &str| MessageError::Header {
        value: format!("{name}: {value}"),
        reason: reason.to_string(),
    };
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
        return Err(bad(
            "header names are printable ASCII without ':' or spaces",
        ));
    }
    if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
        return Err(bad(
            "this header is set by missive; use the matching option instead",
        ));
    }
    HeaderName::new_from_ascii(name.to_string()).map_err(|_| bad("invalid header name"))
}

/// Build the exact RFC 5322 bytes for `draft`, sent from `from` (already resolved from
/// flag, transport and config).
pub fn build(draft: &Draft, from: &str) -> Result<Built, MessageError> {
    validate_fields(draft)?;
    let from_mb = parse_mailbox("From", from)?;
    let to = parse_mailboxes("To", &draft.to)?;
    let cc = parse_mailboxes("Cc", &draft.cc)?;
    let bcc = parse_mailboxes("Bcc", &draft.bcc)?;

    let message_id = match &draft.message_id {
        Some(id) => {
            check_line_breaks("Message-ID", id)?;
            id.clone()
        }
        None => new_message_id(&from_mb),
    };

    let mut builder = lettre::Message::builder()
        .from(from_mb.clone())
        .subject(draft.subject.clone())
        .message_id(Some(message_id.clone()))
        .date_now()
        .user_agent(format!("missive/{}", env!("CARGO_PKG_VERSION")));
    for m in &to {
        builder = builder.to(m.clone());
    }
    for m in &cc {
        builder = builder.cc(m.clone());
    }
    for m in &bcc {
        builder = builder.bcc(m.clone());
    }
    for (name, value) in &draft.headers {
        let hn = check_header(name, value)?;
        builder = builder.raw_header(HeaderValue::new(hn, value.clone()));
    }

    let envelope = Envelope {
        from: from_mb.email.to_string(),
        to: to
            .iter()
            .chain(&cc)
            .chain(&bcc)
            .map(|m| m.email.to_string())
            .collect(),
    };

    let html = match (&draft.html, draft.markdown, &draft.text) {
        (Some(h), _, _) if !h.is_empty() => Some(h.clone()),
        (_, true, Some(t)) => Some(markdown_to_html(t)),
        _ => None,
    };
    let text = draft
        .text
        .clone()
        .filter(|t| !t.is_empty() || html.is_none());

    let text_part = text.map(|t| {
        SinglePart::builder()
            .header(ContentType::TEXT_PLAIN)
            .body(text_body(&t))
    });
    let html_part = html.map(|h| {
        SinglePart::builder()
            .header(ContentType::TEXT_HTML)
            .body(text_body(&h))
    });

    let mut attachments = Vec::with_capacity(draft.attachments.len());
    for spec in &draft.attachments {
        let (bytes, ct) = read_attachment(spec)?;
        // Vec<u8> is always base64; the raw bytes are dropped right after encoding.
        attachments.push(Attachment::new(spec.file_name()).body(Body::new(bytes), ct));
    }

    enum Content {
        Single(SinglePart),
        Multi(MultiPart),
    }
    let body = match (text_part, html_part) {
        (Some(t), Some(h)) => Content::Multi(MultiPart::alternative().singlepart(t).singlepart(h)),
        (Some(t), None) => Content::Single(t),
        (None, Some(h)) => Content::Single(h),
        (None, None) => Content::Single(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(String::new()),
        ),
    };

    let message = if attachments.is_empty() {
        match body {
            Content::Single(p) => builder.singlepart(p),
            Content::Multi(m) => builder.multipart(m),
        }
    } else {
        let mut mixed = match body {
            Content::Single(p) => MultiPart::mixed().singlepart(p),
            Content::Multi(m) => MultiPart::mixed().multipart(m),
        };
        for a in attachments {
            mixed = mixed.singlepart(a);
        }
        builder.multipart(mixed)
    }
    .map_err(|e| MessageError::Build(e.to_string()))?;

    Ok(Built {
        raw: message.formatted(),
        envelope,
        message_id,
        from: from_mb.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
