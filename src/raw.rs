//! Messages that arrive as finished bytes, from programs (`missive sendmail`, `missive
//! relay`): line endings made CRLF, the header block read without changing a byte, the
//! few headers a submission service adds or removes (Date, Message-ID, From; Bcc), and
//! the recipients named in the headers. Knows nothing of transports.

use mail_parser::{HeaderName, MessageParser};

/// Largest message a program may hand over when the transport names no limit: above
/// every provider's (Gmail's is 35 MiB).
pub const MAX_SUBMISSION: u64 = 64 << 20;

/// A message as handed over: its header fields (each the exact bytes of its lines, CRLF
/// included) and the body that follows the empty line.
#[derive(Clone, Debug, PartialEq)]
pub struct RawMessage {
    fields: Vec<Field>,
    body: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq)]
struct Field {
    name: String,
    bytes: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RawError {
    #[error("the message is empty")]
    Empty,
    #[error("the header field on line {line} is continued before any field starts")]
    Continuation { line: usize },
    #[error("the {name} header on line {line} contains a NUL byte")]
    Nul { name: String, line: usize },
    #[error("invalid address in the {field} header: {value:?}")]
    Address { field: String, value: String },
}

/// Bare LF (and a lone final CR) become CRLF; a CRLF stays; the message ends with CRLF.
pub fn to_crlf(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() + input.len() / 32 + 2);
    let mut prev = 0u8;
    for &b in input {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    if !out.is_empty() && !out.ends_with(b"\r\n") {
        if out.ends_with(b"\r") {
            out.push(b'\n');
        } else {
            out.extend_from_slice(b"\r\n");
        }
    }
    out
}

/// A header field name (RFC 5322 ftext: printable ASCII except colon) then a colon.
fn field_name(line: &[u8]) -> Option<&str> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = &line[..colon];
    // "Subject :" (obsolete syntax, RFC 5322 4.5.1) is still a field.
    let trimmed = name.strip_suffix(b" ").unwrap_or(name);
    if trimmed.is_empty() || !trimmed.iter().all(|&b| (33..=126).contains(&b)) {
        return None;
    }
    std::str::from_utf8(trimmed).ok()
}

impl RawMessage {
    /// Read a CRLF message (see `to_crlf`). A leading mbox `From ` line is dropped, as
    /// sendmail does; a line that is not a header field ends the header block (an empty
    /// line is put before it), so `echo text | missive sendmail bob@example.com` works as
    /// it does with Postfix.
    pub fn parse(raw: &[u8]) -> Result<RawMessage, RawError> {
        if raw.is_empty() {
            return Err(RawError::Empty);
        }
        let mut rest = raw;
        if rest.starts_with(b"From ") {
            rest = match rest.windows(2).position(|w| w == b"\r\n") {
                Some(i) => &rest[i + 2..],
                None => b"",
            };
        }
        let mut fields: Vec<Field> = Vec::new();
        let mut line_no = 0;
        while !rest.is_empty() {
            line_no += 1;
            let end = rest
                .windows(2)
                .position(|w| w == b"\r\n")
                .map_or(rest.len(), |i| i + 2);
            let line = &rest[..end];
            if line == b"\r\n" {
                rest = &rest[end..];
                return Ok(RawMessage {
                    fields,
                    body: rest.to_vec(),
                });
            }
            if line[0] == b' ' || line[0] == b'\t' {
                let Some(last) = fields.last_mut() else {
                    return Err(RawError::Continuation { line: line_no });
                };
                last.bytes.extend_from_slice(line);
            } else if let Some(name) = field_name(line) {
                fields.push(Field {
                    name: name.to_string(),
                    bytes: line.to_vec(),
                });
            } else {
                break;
            }
            if line.contains(&0) {
                let name = fields.last().map(|f| f.name.clone()).unwrap_or_default();
                return Err(RawError::Nul {
                    name,
                    line: line_no,
                });
            }
            rest = &rest[end..];
        }
        Ok(RawMessage {
            fields,
            body: rest.to_vec(),
        })
    }

    pub fn has(&self, name: &str) -> bool {
        self.fields
            .iter()
            .any(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// Remove every field of this name; says whether there was one.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.fields.len();
        self.fields.retain(|f| !f.name.eq_ignore_ascii_case(name));
        before != self.fields.len()
    }

    /// Put a field before the others (as trace and submission fields go). The value must
    /// be one line of ASCII (already folded and encoded by the caller).
    pub fn prepend(&mut self, name: &str, value: &str) {
        self.prepend_field(name, format!("{name}: {value}\r\n").into_bytes());
    }

    /// As `prepend`, with the whole field as written by an encoder (CRLF-terminated).
    pub fn prepend_field(&mut self, name: &str, bytes: Vec<u8>) {
        self.fields.insert(
            0,
            Field {
                name: name.to_string(),
                bytes,
            },
        );
    }

    /// The header block alone, ending with the empty line.
    pub fn header_bytes(&self) -> Vec<u8> {
        let mut out: Vec<u8> = self.fields.iter().flat_map(|f| f.bytes.clone()).collect();
        out.extend_from_slice(b"\r\n");
        out
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.header_bytes();
        out.extend_from_slice(&self.body);
        out
    }

    /// Each address in the named address fields (groups included, their members only).
    pub fn addresses(&self, names: &[&str]) -> Result<Vec<String>, RawError> {
        let block = self.header_bytes();
        let Some(parsed) = MessageParser::new().parse_headers(&block) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for &name in names {
            for v in parsed.header_values(HeaderName::from(name)) {
                let Some(list) = v.as_address() else {
                    continue;
                };
                for a in list.iter() {
                    match a.address().map(|addr| (addr, envelope_form(addr))) {
                        Some((_, Some(addr))) if is_plausible(&addr) => out.push(addr),
                        Some((addr, _)) => {
                            return Err(RawError::Address {
                                field: name.to_string(),
                                value: addr.to_string(),
                            })
                        }
                        // A word with no @ ("To: nobody") reads as a name alone.
                        None => {
                            if let Some(n) = a.name().filter(|n| !n.trim().is_empty()) {
                                return Err(RawError::Address {
                                    field: name.to_string(),
                                    value: n.to_string(),
                                });
                            }
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// The first From mailbox's address.
    pub fn from_address(&self) -> Option<String> {
        self.addresses(&["From"]).ok()?.into_iter().next()
    }

    /// The Message-ID, angle brackets included, as written.
    pub fn message_id(&self) -> Option<String> {
        let block = self.header_bytes();
        let parsed = MessageParser::new().parse_headers(&block)?;
        parsed.message_id().map(|id| format!("<{id}>"))
    }

    /// The Subject, decoded.
    pub fn subject(&self) -> String {
        let block = self.header_bytes();
        MessageParser::new()
            .parse_headers(&block)
            .and_then(|m| m.subject().map(str::to_string))
            .unwrap_or_default()
    }
}

/// The addresses of a comma-separated list as a program gives them on a command line
/// (`bob@example.com`, `"Bob B" <bob@example.com>, carol@example.com`).
pub fn address_list(value: &str) -> Result<Vec<String>, RawError> {
    if value.contains(['\r', '\n', '\0']) {
        return Err(RawError::Address {
            field: "recipient".into(),
            value: value.to_string(),
        });
    }
    let m = RawMessage::parse(format!("To: {value}\r\n\r\n").as_bytes())?;
    let list = m.addresses(&["To"]).map_err(|_| RawError::Address {
        field: "recipient".into(),
        value: value.to_string(),
    })?;
    if list.is_empty() && !value.trim().is_empty() {
        return Err(RawError::Address {
            field: "recipient".into(),
            value: value.to_string(),
        });
    }
    Ok(list)
}

/// The address as the envelope carries it: an internationalised domain as A-labels
/// (`bücher.example` → `xn--bcher-kva.example`), so no SMTPUTF8 is needed for it.
fn envelope_form(addr: &str) -> Option<String> {
    match addr.rsplit_once('@') {
        Some((local, domain)) => {
            let domain = crate::address::to_ascii_domain(domain).ok()?;
            Some(format!("{local}@{domain}"))
        }
        None => Some(addr.to_string()),
    }
}

/// local@domain with nothing a server would choke on; the envelope carries it verbatim.
pub fn is_plausible(addr: &str) -> bool {
    match addr.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !addr
                    .chars()
                    .any(|c| c.is_control() || c.is_whitespace() || c == '<' || c == '>')
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf() {
        assert_eq!(to_crlf(b"a\nb\r\nc"), b"a\r\nb\r\nc\r\n");
        assert_eq!(to_crlf(b"a\r"), b"a\r\n");
        assert_eq!(to_crlf(b""), b"");
    }

    #[test]
    fn fields_and_body_kept_byte_for_byte() {
        let raw = b"Subject: x\r\n  folded\r\nX-A:b\r\n\r\nbody\r\n";
        let m = RawMessage::parse(raw).unwrap();
        assert_eq!(m.to_bytes(), raw);
        assert!(m.has("subject"));
        assert_eq!(m.subject(), "x folded");
    }

    #[test]
    fn bare_text_becomes_body() {
        let m = RawMessage::parse(b"hello there\r\n").unwrap();
        assert_eq!(m.to_bytes(), b"\r\nhello there\r\n");
        let m = RawMessage::parse(b"From a@b Mon\r\nSubject: s\r\n\r\nx\r\n").unwrap();
        assert_eq!(m.to_bytes(), b"Subject: s\r\n\r\nx\r\n");
    }

    #[test]
    fn addresses_with_groups_and_errors() {
        let m = RawMessage::parse(
            b"To: Team: a@example.com, \"B, b\" <b@example.com>;, c@example.com\r\nCc: undisclosed-recipients:;\r\nBcc: d@example.com\r\n\r\n",
        )
        .unwrap();
        assert_eq!(
            m.addresses(&["To", "Cc", "Bcc"]).unwrap(),
            [
                "a@example.com",
                "b@example.com",
                "c@example.com",
                "d@example.com"
            ]
        );
        let bad = RawMessage::parse(b"To: nobody\r\n\r\n").unwrap();
        assert!(bad.addresses(&["To"]).is_err());
    }

    #[test]
    fn remove_and_prepend() {
        let mut m = RawMessage::parse(
            b"To: a@example.com\r\nBcc: x@example.com,\r\n y@example.com\r\n\r\nb",
        )
        .unwrap();
        assert!(m.remove("BCC"));
        m.prepend("Date", "Thu, 1 Jan 2026 00:00:00 +0000");
        assert_eq!(
            m.to_bytes(),
            b"Date: Thu, 1 Jan 2026 00:00:00 +0000\r\nTo: a@example.com\r\n\r\nb"
        );
    }

    #[test]
    fn continuation_first_is_an_error() {
        assert_eq!(
            RawMessage::parse(b" x\r\n\r\n"),
            Err(RawError::Continuation { line: 1 })
        );
    }
}
