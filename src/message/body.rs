//! Part bodies and part headers: text bodies that decode to exactly what was typed,
//! attachments with their charset, `message/rfc822` never base64, RFC 2231 file names.

use lettre::message::header::{ContentTransferEncoding, Header, HeaderName, HeaderValue};
use lettre::message::Body;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// The longest line 7bit and 8bit allow (RFC 5322 §2.1.1, RFC 2045 §2.7), CRLF excluded.
const MAX_LINE: usize = 998;

/// A text body. `single` says it is the message's only part: there the CRLF lettre writes
/// after the body is part of the body (in a multipart it belongs to the next boundary), so
/// the encoded text must leave room for it or it would add a line.
///
/// 7bit when the text is plain printable ASCII in short lines; else quoted-printable, or
/// base64 when most of it is non-ASCII. Bare CR, NUL and other control characters force
/// an encoding (QP writes them as `=0D`, `=00`). A line starting with "From " is written
/// "=46rom " (mbox readers would turn it into ">From ").
pub fn text_body(text: &str, single: bool) -> Body {
    let text = text.replace("\r\n", "\n");
    let lines_ok = text.split('\n').all(|l| l.len() <= MAX_LINE);
    let from_line = text.starts_with("From ") || text.contains("\nFrom ");
    let plain = text
        .bytes()
        .all(|b| b == b'\n' || b == b'\t' || (0x20..0x7f).contains(&b));
    let ends_nl = text.ends_with('\n');
    if plain && lines_ok && !from_line && (ends_nl || !single) {
        let mut crlf = text.replace('\n', "\r\n");
        if single {
            crlf.truncate(crlf.len() - 2);
        }
        return Body::dangerous_pre_encoded(crlf.into_bytes(), ContentTransferEncoding::SevenBit);
    }
    let crlf = text.replace('\n', "\r\n");
    let high = crlf.bytes().filter(|b| *b >= 0x80).count();
    if high * 3 > crlf.len() {
        let b64 = base64_lines(crlf.as_bytes());
        return Body::dangerous_pre_encoded(b64.into_bytes(), ContentTransferEncoding::Base64);
    }
    let encoded = quoted_printable::encode_to_str(crlf.as_bytes());
    let mut out = String::with_capacity(encoded.len() + 16);
    for (i, line) in encoded.split("\r\n").enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        match line.strip_prefix("From ") {
            Some(rest) => {
                out.push_str("=46rom ");
                out.push_str(rest);
            }
            None => out.push_str(line),
        }
    }
    if single {
        // The CRLF lettre adds ends the text when the text ends a line; when it does not,
        // a soft line break ("=") swallows it.
        match out.strip_suffix("\r\n") {
            Some(s) if ends_nl => out.truncate(s.len()),
            _ => out.push('='),
        }
    }
    Body::dangerous_pre_encoded(out.into_bytes(), ContentTransferEncoding::QuotedPrintable)
}

fn base64_lines(bytes: &[u8]) -> String {
    use base64::Engine as _;
    let b = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut out = String::with_capacity(b.len() + b.len() / 38);
    for (i, chunk) in b.as_bytes().chunks(76).enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
    }
    out
}

/// What an attachment goes out as: its Content-Type (with the charset a text file needs)
/// and its body.
pub struct AttachmentBody {
    pub content_type: String,
    pub body: Body,
}

/// `ct` is the guessed or given type, already checked. Text types get `charset=utf-8`
/// when the bytes are UTF-8, else `windows-1252` when they read as that (the common
/// Latin-1-family case), else the file goes as `application/octet-stream` rather than
/// with a wrong charset. `message/rfc822` goes 7bit or 8bit (RFC 2046 forbids base64
/// there); one that cannot (a line over 998 octets, a NUL) goes as octet-stream. All else
/// is base64, byte for byte.
pub fn attachment_body(ct: &str, bytes: Vec<u8>) -> AttachmentBody {
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let has_charset = ct.to_ascii_lowercase().contains("charset=");
    if essence == "message/rfc822" {
        if let Some(b) = rfc822_body(&bytes) {
            return AttachmentBody {
                content_type: ct.to_string(),
                body: b,
            };
        }
        tracing::warn!("an attached message has lines over 998 octets or NULs: sent as application/octet-stream");
        return base64_attachment("application/octet-stream".into(), bytes);
    }
    let content_type = if essence.starts_with("text/") && !has_charset {
        if std::str::from_utf8(&bytes).is_ok() {
            format!("{ct}; charset=utf-8")
        } else if is_windows_1252_text(&bytes) {
            format!("{ct}; charset=windows-1252")
        } else {
            "application/octet-stream".to_string()
        }
    } else {
        ct.to_string()
    };
    base64_attachment(content_type, bytes)
}

fn base64_attachment(content_type: String, bytes: Vec<u8>) -> AttachmentBody {
    let b64 = base64_lines(&bytes);
    AttachmentBody {
        content_type,
        body: Body::dangerous_pre_encoded(b64.into_bytes(), ContentTransferEncoding::Base64),
    }
}

/// Text in windows-1252: no byte it leaves undefined, no control character but TAB, LF,
/// CR and FF.
fn is_windows_1252_text(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| {
        !matches!(b, 0x81 | 0x8d | 0x8f | 0x90 | 0x9d | 0x7f)
            && (b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r' | 0x0c))
    })
}

/// An attached message with its line ends made CRLF: 7bit when ASCII, 8bit otherwise;
/// None when neither can carry it.
fn rfc822_body(bytes: &[u8]) -> Option<Body> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 40);
    let mut line = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            0 => return None,
            // LF, CRLF and a bare CR all end a line.
            b'\r' | b'\n' => {
                if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                out.extend_from_slice(b"\r\n");
                line = 0;
            }
            b => {
                out.push(b);
                line += 1;
                if line > MAX_LINE {
                    return None;
                }
            }
        }
        i += 1;
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    let enc = if out.is_ascii() {
        ContentTransferEncoding::SevenBit
    } else {
        ContentTransferEncoding::EightBit
    };
    Some(Body::dangerous_pre_encoded(out, enc))
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

/// `Content-Disposition: attachment; filename=...` as SPEC wants it: a quoted string when
/// the name is plain ASCII (and does not look like an encoded word, which readers would
/// decode), else RFC 2231 `filename*=utf-8''...` (split into `filename*0*=`, `filename*1*=`
/// ... only when too long for one line).
#[derive(Clone, Debug)]
pub struct AttachmentDisposition(HeaderValue);

impl AttachmentDisposition {
    pub fn new(file_name: &str) -> Self {
        let name: String = file_name
            .chars()
            .map(|c| if c.is_control() { '_' } else { c })
            .collect();
        let plain = name.bytes().all(|b| (0x20..0x7f).contains(&b))
            && name.len() <= 60
            && !name.contains("=?");
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

/// A part's Content-Type written as given (after checking), folded at its spaces: lettre
/// would write a long parameter as encoded words, which no reader decodes there.
#[derive(Clone, Debug)]
pub struct PartContentType(HeaderValue);

impl PartContentType {
    pub fn new(value: &str) -> Result<Self, String> {
        let line = super::header::structured("Content-Type", value)?;
        let folded = line
            .strip_prefix("Content-Type: ")
            .unwrap_or(&line)
            .trim_end_matches("\r\n")
            .to_string();
        Ok(PartContentType(HeaderValue::dangerous_new_pre_encoded(
            Self::name(),
            value.to_string(),
            folded,
        )))
    }
}

impl Header for PartContentType {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Content-Type")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        PartContentType::new(s).map_err(Into::into)
    }

    fn display(&self) -> HeaderValue {
        self.0.clone()
    }
}
