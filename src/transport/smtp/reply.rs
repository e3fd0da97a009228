//! Reading what an SMTP server answered: errors classified by step and permanence,
//! replies shown as text, queue ids picked out of a 250.

use lettre::transport::smtp::response::Response;

use crate::config::Security;
use crate::transport::{Stage, TransportError};

pub(super) fn describe(e: &lettre::transport::smtp::Error) -> String {
    crate::transport::error_chain(e)
}

pub(super) fn classify(
    security: Security,
    stage: Stage,
    e: &lettre::transport::smtp::Error,
) -> TransportError {
    let mut msg = describe(e);
    if e.is_response() {
        // lettre's parser says "error Tag at: <the raw reply>": name the problem, and show
        // the reply escaped (it ends in a raw CR LF, and may hold anything).
        if let Some((_, rest)) = msg.split_once(" at: ") {
            msg = format!(
                "the server's reply is not SMTP (expected a 3-digit code, then a space or '-'): {}",
                crate::escape::quoted(rest.trim_end_matches(['\r', '\n']))
            );
        }
    }
    let not_tls = crate::transport::tls_probe::NOT_TLS_MARKERS
        .iter()
        .any(|m| msg.contains(m));
    // The hint says "try starttls": only worth saying when that is not what is set.
    if not_tls && security == Security::Tls {
        msg.push_str(crate::transport::tls_probe::NOT_TLS_HINT);
    }
    let stage = if e.is_tls()
        || not_tls
        || msg.contains("certificate")
        || msg.contains("InvalidCertificate")
    {
        Stage::Tls
    } else {
        stage
    };
    let transient =
        e.is_transient() || e.is_timeout() || (!e.is_permanent() && stage == Stage::Connect);
    let mut t = TransportError::new(stage, transient, crate::escape::cut(&msg, 2000));
    t.code = e.status().map(|c| c.to_string().parse().unwrap_or(0));
    t
}

/// The queue id a server put in its 250 reply, for the common formats.
pub fn parse_queue_id(reply: &str) -> Option<String> {
    let clean = |s: &str| {
        let t: String = s
            .trim_matches(|c: char| !c.is_ascii_alphanumeric())
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'))
            .collect();
        (!t.is_empty()).then_some(t)
    };
    let lower = reply.to_ascii_lowercase();
    for marker in ["queued as ", "id=", "ok id="] {
        if let Some(i) = lower.find(marker) {
            if let Some(id) = reply[i + marker.len()..]
                .split_whitespace()
                .next()
                .and_then(clean)
            {
                return Some(id);
            }
        }
    }
    // Gmail: "2.0.0 OK  1700000000 d2-20020a05600c4e0200b0040e3c1b6c5asi123456wmq.7 - gsmtp"
    if lower.ends_with("- gsmtp") {
        let words: Vec<&str> = reply.split_whitespace().collect();
        if words.len() >= 3 {
            return clean(words[words.len() - 3]);
        }
    }
    None
}

pub(super) fn response_text(r: &Response) -> String {
    let code = r.code().to_string();
    let lines: Vec<&str> = r.message().collect();
    format!("{code} {}", lines.join(" "))
}

#[cfg(test)]
mod tests {
    use super::parse_queue_id;

    #[test]
    fn queue_ids() {
        assert_eq!(
            parse_queue_id("250 2.0.0 Ok: queued as 4XyZ12").as_deref(),
            Some("4XyZ12")
        );
        assert_eq!(
            parse_queue_id("250 2.0.0 OK  1700000000 d2-20020a05600c4e02b.7 - gsmtp").as_deref(),
            Some("d2-20020a05600c4e02b.7")
        );
        assert_eq!(
            parse_queue_id("250 OK id=1rABCd-000123-4x").as_deref(),
            Some("1rABCd-000123-4x")
        );
        assert_eq!(parse_queue_id("250 OK"), None);
    }
}
