//! One scrubber for every secret missive holds. Servers echo what they were sent: an
//! SMTP server may quote the AUTH PLAIN string in its 535 reply, a token endpoint may
//! return the submitted form (client_secret, refresh token) in its error. Every secret is
//! registered here when it is read (`Secret::new`), with the encodings it travels in, and
//! server text is scrubbed before it becomes an error, a log line or an outbox record.

use std::borrow::Cow;
use std::sync::Mutex;

use base64::Engine as _;

/// Shorter values are not scrubbed: replacing every "ab" in a reply would garble it, and
/// a secret that short protects nothing anyway.
const MIN_LEN: usize = 4;
/// A long-running relay refreshes tokens forever: keep the newest ones.
const MAX_FORMS: usize = 512;
pub const MASK: &str = "[redacted]";

static FORMS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn add(form: String) {
    if form.len() < MIN_LEN {
        return;
    }
    let Ok(mut forms) = FORMS.lock() else { return };
    if forms.contains(&form) {
        return;
    }
    if forms.len() >= MAX_FORMS {
        forms.remove(0);
    }
    forms.push(form);
    // Longest first, so a secret inside a longer registered form does not leave the rest
    // of that form behind.
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
}

/// Register `secret`: it, its base64 (with and without padding), its URL/form encoding
/// and its JSON escaping are scrubbed from then on.
pub fn register(secret: &str) {
    if secret.len() < MIN_LEN {
        return;
    }
    add(secret.to_string());
    register_encoded(secret.as_bytes());
    let form: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    add(form);
    add(
        percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC)
            .to_string(),
    );
    if let Ok(json) = serde_json::to_string(secret) {
        add(json.trim_matches('"').to_string());
    }
}

/// Register the base64 forms of a composite credential (the AUTH PLAIN or XOAUTH2
/// string), which contain the secret but not as a substring of their encoding.
pub fn register_encoded(raw: &[u8]) {
    let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
    add(b64.trim_end_matches('=').to_string());
    add(b64);
}

/// `text` with every registered form replaced by `[redacted]`.
pub fn scrub(text: &str) -> Cow<'_, str> {
    let Ok(forms) = FORMS.lock() else {
        return Cow::Borrowed(text);
    };
    let mut out = Cow::Borrowed(text);
    for f in forms.iter() {
        if out.contains(f.as_str()) {
            out = Cow::Owned(out.replace(f.as_str(), MASK));
        }
    }
    out
}

/// A writer that scrubs each write (the log file's): tracing writes one event per call.
pub struct ScrubWriter<W>(pub W);

impl<W: std::io::Write> std::io::Write for ScrubWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(scrub(&text).as_bytes())?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_and_its_encodings_scrubbed() {
        register("pa ss+w/ord=1");
        register_encoded(b"\0ada@example.com\0pa ss+w/ord=1");
        let b64 =
            base64::engine::general_purpose::STANDARD.encode("\0ada@example.com\0pa ss+w/ord=1");
        let text = format!(
            "535 5.7.8 bad: {b64} / pa ss+w/ord=1 / pa+ss%2Bw%2Ford%3D1 / {}",
            base64::engine::general_purpose::STANDARD.encode("pa ss+w/ord=1")
        );
        let s = scrub(&text);
        assert!(!s.contains("ord"), "{s}");
        assert!(!s.contains(&b64[..20]), "{s}");
        assert_eq!(scrub("nothing here"), "nothing here");
    }
}
