//! The message model (`Draft`) and MIME building. Knows nothing of transports or the UI.

use std::path::{Path, PathBuf};

use lettre::message::header::{
    ContentTransferEncoding, ContentType, Header, HeaderName, HeaderValue,
};
use lettre::message::{Body, Mailbox, Mailboxes, MultiPart, SinglePart};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
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
    /// Reply-To entries, as typed (each may be comma-separated).
    pub reply_to: Vec<String>,
    /// The `[identity.NAME]` this message is written as (see `identity`).
    pub identity: Option<String>,
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
        let list: Mailboxes =
            entry
                .parse()
                .map_err(|e: lettre::address::AddressError| MessageError::Address {
                    field,
                    value: entry.trim().to_string(),
                    reason: address_reason(&e.to_string()),
                })?;
        for m in list {
            check_display_name(field, &m)?;
            out.push(m);
        }
    }
    Ok(out)
}

pub fn parse_mailbox(field: &'static str, value: &str) -> Result<Mailbox, MessageError> {
    check_line_breaks(field, value)?;
    let m = value
        .trim()
        .parse::<Mailbox>()
        .map_err(|e| MessageError::Address {
            field,
            value: value.trim().to_string(),
            reason: address_reason(&e.to_string()),
        })?;
    check_display_name(field, &m)?;
    Ok(m)
}

/// lettre writes an ASCII display name as it is and folds only at spaces.
fn check_display_name(field: &'static str, m: &Mailbox) -> Result<(), MessageError> {
    match &m.name {
        Some(n) if n.is_ascii() && has_long_word(n) => Err(MessageError::Address {
            field,
            value: m.to_string().chars().take(60).collect::<String>() + "...",
            reason: format!(
                "the display name has a word longer than {MAX_BARE_WORD} characters, which cannot be folded into a header line"
            ),
        }),
        _ => Ok(()),
    }
}

/// lettre's parse errors are terse ("Invalid input"); say what is expected.
fn address_reason(e: &str) -> String {
    if e.eq_ignore_ascii_case("invalid input") {
        "not an address like \"Name <name@example.com>\" or name@example.com".into()
    } else {
        e.to_string()
    }
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

/// A fresh Message-ID in the sender's domain, as MUAs do.
pub fn new_message_id(from: &Mailbox) -> String {
    format!(
        "<{}@{}>",
        uuid::Uuid::new_v4().simple(),
        from.email.domain()
    )
}

/// A text body. lettre picks 7bit, quoted-printable or base64 and keeps lines within 998
/// octets; we take over when a line starts with "From " (mbox readers would turn it into
/// ">From ", so it is written "=46rom " in quoted-printable) and when lettre would pick
/// 8bit, which is not 7-bit clean.
fn text_body(text: &str) -> Body {
    let from_line = text.starts_with("From ") || text.contains("\nFrom ");
    if !from_line {
        let body = Body::new(text.to_string());
        if body.encoding() != ContentTransferEncoding::EightBit {
            return body;
        }
    }
    let crlf = text.replace("\r\n", "\n").replace('\n', "\r\n");
    let encoded = quoted_printable::encode(crlf.as_bytes());
    let mut out = Vec::with_capacity(encoded.len() + 16);
    for (i, line) in encoded.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        match line.strip_prefix(b"From ") {
            Some(rest) => {
                out.extend_from_slice(b"=46rom ");
                out.extend_from_slice(rest);
            }
            None => out.extend_from_slice(line),
        }
    }
    Body::dangerous_pre_encoded(out, ContentTransferEncoding::QuotedPrintable)
}

/// RFC 2231 attr-char: everything else in a file name is percent-encoded.
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `Content-Disposition: attachment; filename=...` with the file name as SPEC wants it:
/// a quoted string when it is plain ASCII, else RFC 2231 `filename*=utf-8''...` (split
/// into `filename*0*=`, `filename*1*=` ... only when too long for one line). lettre's own
/// header always uses the numbered form.
#[derive(Clone, Debug)]
struct AttachmentDisposition(HeaderValue);

impl AttachmentDisposition {
    fn new(file_name: &str) -> Self {
        let name: String = file_name
            .chars()
            .map(|c| if c.is_control() { '_' } else { c })
            .collect();
        let plain = name.bytes().all(|b| (0x20..0x7f).contains(&b)) && name.len() <= 60;
        let encoded = if plain {
            let q = name.replace('\\', "\\\\").replace('"', "\\\"");
            format!("attachment; filename=\"{q}\"")
        } else {
            let pct = utf8_percent_encode(&name, ATTR_CHAR).to_string();
            let value = format!("utf-8''{pct}");
            if value.len() <= 60 {
                format!("attachment;\r\n filename*={value}")
            } else {
                // Readers decode each continuation on its own, so cut between characters,
                // never inside one.
                let mut parts = vec![String::from("utf-8''")];
                let mut buf = [0u8; 4];
                for c in name.chars() {
                    let enc = utf8_percent_encode(c.encode_utf8(&mut buf), ATTR_CHAR).to_string();
                    if parts.last().is_some_and(|p| p.len() + enc.len() > 60) {
                        parts.push(String::new());
                    }
                    if let Some(p) = parts.last_mut() {
                        p.push_str(&enc);
                    }
                }
                let params: Vec<String> = parts
                    .iter()
                    .enumerate()
                    .map(|(i, p)| format!("filename*{i}*={p}"))
                    .collect();
                format!("attachment;\r\n {}", params.join(";\r\n "))
            }
        };
        AttachmentDisposition(HeaderValue::dangerous_new_pre_encoded(
            Self::name(),
            name,
            encoded,
        ))
    }
}

impl Header for AttachmentDisposition {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Content-Disposition")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AttachmentDisposition::new(s))
    }

    fn display(&self) -> HeaderValue {
        self.0.clone()
    }
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
    parse_mailboxes("Reply-To", &draft.reply_to)?;
    if to.is_empty() && cc.is_empty() && bcc.is_empty() {
        return Err(MessageError::NoRecipient);
    }
    check_line_breaks("Subject", &draft.subject)?;
    for (name, value) in &draft.headers {
        check_header(name, value)?;
    }
    Ok(())
}

/// Longest run without whitespace that lettre can write as-is: it folds only at spaces,
/// so a longer ASCII word would make a header line of any length.
const MAX_BARE_WORD: usize = 76;

fn has_long_word(value: &str) -> bool {
    value.split_whitespace().any(|w| w.len() > MAX_BARE_WORD)
}

/// An unstructured header (Subject, X-...) that lettre would write as one overlong line
/// becomes RFC 2047 encoded words, folded: readers decode them back to the same text.
fn unstructured(name: HeaderName, value: &str) -> HeaderValue {
    use base64::Engine as _;
    if !has_long_word(value) {
        return HeaderValue::new(name, value.to_string());
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    // 45 octets of UTF-8 → 60 base64 chars → a 72-char encoded word.
    for c in value.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(chunk);
    }
    let encoded: Vec<String> = words
        .iter()
        .map(|w| {
            format!(
                "=?utf-8?b?{}?=",
                base64::engine::general_purpose::STANDARD.encode(w)
            )
        })
        .collect();
    HeaderValue::dangerous_new_pre_encoded(name, value.to_string(), encoded.join("\r\n "))
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
pub fn build_limited(
    draft: &Draft,
    from: &str,
    keep_bcc: bool,
    max_bytes: u64,
) -> Result<Built, MessageError> {
    validate_fields(draft)?;
    crate::attachment::check_all(&draft.attachments, max_bytes)?;
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
        .raw_header(unstructured(
            HeaderName::new_from_ascii_str("Subject"),
            &draft.subject,
        ))
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
    for m in parse_mailboxes("Reply-To", &draft.reply_to)? {
        builder = builder.reply_to(m);
    }
    if keep_bcc && !bcc.is_empty() {
        builder = builder.keep_bcc();
    }
    for (name, value) in &draft.headers {
        let hn = check_header(name, value)?;
        builder = builder.raw_header(unstructured(hn, value));
    }

    let envelope = Envelope {
        from: from_mb.email.to_string(),
        to: to
            .iter()
            .chain(&cc)
            .chain(&bcc)
            .map(|m| m.email.to_string())
            // One RCPT per mailbox: a name in To and Bcc must not be delivered twice.
            .fold(Vec::<String>::new(), |mut v, a| {
                if !v.iter().any(|x| x.eq_ignore_ascii_case(&a)) {
                    v.push(a);
                }
                v
            }),
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

    // lettre ends a part with CRLF. Inside a multipart that CRLF belongs to the next
    // boundary, but a message that is one 7bit part would gain a blank last line: there,
    // one trailing newline of the body is left for lettre to write. (Quoted-printable
    // decoders already treat that final CRLF as the end of the encoded text.)
    let single = draft.attachments.is_empty() && (text.is_none() || html.is_none());
    let body_for = |b: &str| -> Body {
        let body = text_body(b);
        if single && body.encoding() == ContentTransferEncoding::SevenBit {
            let t = b.strip_suffix('\n').unwrap_or(b);
            return text_body(t.strip_suffix('\r').unwrap_or(t));
        }
        body
    };
    let text_part = text.map(|t| {
        SinglePart::builder()
            .header(ContentType::TEXT_PLAIN)
            .body(body_for(&t))
    });
    let html_part = html.map(|h| {
        SinglePart::builder()
            .header(ContentType::TEXT_HTML)
            .body(body_for(&h))
    });

    let mut attachments = Vec::with_capacity(draft.attachments.len());
    for spec in &draft.attachments {
        let (bytes, ct) = crate::attachment::read(spec, max_bytes)?;
        // The raw bytes are dropped right after encoding.
        attachments.push(
            SinglePart::builder()
                .header(ct)
                .header(AttachmentDisposition::new(&spec.file_name()))
                // Always base64: files arrive byte for byte (lettre would send ASCII files
                // 7bit with their bare LFs, which servers refuse or relays rewrite).
                .body(
                    Body::new_with_encoding(bytes, ContentTransferEncoding::Base64)
                        .map_err(|_| MessageError::Build("base64 encoding refused".into()))?,
                ),
        );
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
