//! The text a reply or forward starts with: subjects, the attribution line and quote, the
//! forwarded-message block. Pure functions of the original's decoded parts.

use crate::signature::{FORWARD_END, FORWARD_START};

/// Reply prefixes mail programs write, compared case-insensitively: English, German
/// (`Aw:`), Scandinavian, Dutch, Polish, and Outlook's Korean and Chinese ones.
const REPLY_PREFIXES: &[&str] = &[
    "re", "aw", "sv", "vs", "antw", "odp", "ref", "회신", "답장", "回复", "答复",
];
const FORWARD_PREFIXES: &[&str] = &["fwd", "fw", "wg", "tr", "전달"];

/// `s` without one leading `PREFIX:` (also `Re[2]:`, `Re(2):`, `Re :`, full-width colon)
/// from `prefixes`, or None when it has none.
fn strip_prefix<'a>(s: &'a str, prefixes: &[&str]) -> Option<&'a str> {
    let t = s.trim_start();
    let colon = t.find([':', '：'])?;
    let head = t[..colon].trim_end();
    let word = match head.find(['[', '(']) {
        Some(i)
            if head.ends_with([']', ')'])
                && head[i + 1..head.len() - 1]
                    .chars()
                    .all(|c| c.is_ascii_digit()) =>
        {
            &head[..i]
        }
        _ => head,
    };
    let known = prefixes
        .iter()
        .any(|p| word.to_lowercase() == p.to_lowercase());
    known.then(|| {
        let rest = &t[colon..];
        let rest = rest.trim_start_matches([':', '：']);
        rest.trim_start()
    })
}

/// One `Re: ` in front, however many reply prefixes the original had.
pub fn reply_subject(original: &str) -> String {
    let mut s = original.trim();
    while let Some(rest) = strip_prefix(s, REPLY_PREFIXES) {
        s = rest;
    }
    format!("Re: {s}")
}

/// One `Fwd: ` in front (an existing `Fwd:`/`Fw:`/`WG:` is not doubled).
pub fn forward_subject(original: &str) -> String {
    let s = original.trim();
    let s = strip_prefix(s, FORWARD_PREFIXES).unwrap_or(s);
    format!("Fwd: {s}")
}

/// `On DATE, NAME wrote:` (just `NAME wrote:` without a date).
pub fn attribution(date: Option<&str>, author: Option<&str>) -> String {
    let who = author.unwrap_or("someone");
    match date {
        Some(d) => format!("On {d}, {who} wrote:"),
        None => format!("{who} wrote:"),
    }
}

/// Every line quoted: `> ` before text, `>` before an already quoted line (so it reads
/// `>> `) and on an empty line. Trailing empty lines are dropped.
pub fn quote(text: &str) -> String {
    let text = text.trim_end_matches(['\n', '\r', ' ', '\t']);
    let mut out = String::with_capacity(text.len() + text.len() / 8 + 8);
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            out.push('>');
        } else if line.starts_with('>') {
            out.push('>');
            out.push_str(line);
        } else {
            out.push_str("> ");
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// The reply's text: attribution and quote, then what the person wrote (if anything).
pub fn reply_text(attribution: &str, quoted: &str, own: Option<&str>) -> String {
    let mut t = format!("{attribution}\n{quoted}");
    if let Some(own) = own.filter(|o| !o.is_empty()) {
        t.push('\n');
        t.push_str(own);
    }
    t
}

/// The forwarded block's header lines, in order, for those the original has.
pub struct ForwardHeaders<'a> {
    pub from: &'a str,
    pub date: Option<&'a str>,
    pub subject: &'a str,
    pub to: &'a str,
    pub cc: &'a str,
}

/// What the person wrote (if anything), then the forwarded message: its From, Date,
/// Subject, To (and Cc) and its text, between mutt's markers.
pub fn forward_text(h: &ForwardHeaders<'_>, body: &str, own: Option<&str>) -> String {
    let mut t = String::new();
    if let Some(own) = own.filter(|o| !o.is_empty()) {
        t.push_str(own.trim_end_matches('\n'));
        t.push_str("\n\n");
    }
    t.push_str(FORWARD_START);
    t.push('\n');
    let mut line = |name: &str, v: &str| {
        if !v.is_empty() {
            t.push_str(&format!("{name}: {v}\n"));
        }
    };
    line("From", h.from);
    line("Date", h.date.unwrap_or_default());
    line("Subject", h.subject);
    line("To", h.to);
    line("Cc", h.cc);
    t.push('\n');
    let body = body.trim_end_matches('\n');
    if !body.is_empty() {
        t.push_str(body);
        t.push('\n');
    }
    t.push_str(FORWARD_END);
    t.push('\n');
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_re() {
        assert_eq!(reply_subject("hello"), "Re: hello");
        assert_eq!(reply_subject("Re: hello"), "Re: hello");
        assert_eq!(reply_subject("RE: Re: re:hello"), "Re: hello");
        assert_eq!(reply_subject("Aw: AW: Termin"), "Re: Termin");
        assert_eq!(reply_subject("Re[2]: x"), "Re: x");
        assert_eq!(reply_subject("회신: 회의 자료"), "Re: 회의 자료");
        assert_eq!(reply_subject("Fwd: x"), "Re: Fwd: x");
        assert_eq!(reply_subject("Report: Q3"), "Re: Report: Q3");
        assert_eq!(reply_subject(""), "Re: ");
    }

    #[test]
    fn one_fwd() {
        assert_eq!(forward_subject("x"), "Fwd: x");
        assert_eq!(forward_subject("Fwd: x"), "Fwd: x");
        assert_eq!(forward_subject("FW: x"), "Fwd: x");
        assert_eq!(forward_subject("Re: x"), "Fwd: Re: x");
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("a\r\n\r\n> b\nc\n\n\n"), "> a\n>\n>> b\n> c\n");
        assert_eq!(
            attribution(Some("Wed, 2 Dec 2026 10:00:00 +0900"), Some("홍길동")),
            "On Wed, 2 Dec 2026 10:00:00 +0900, 홍길동 wrote:"
        );
    }

    #[test]
    fn forward_block_keeps_the_signature_apart() {
        let h = ForwardHeaders {
            from: "A <a@x.example>",
            date: None,
            subject: "s",
            to: "b@x.example",
            cc: "",
        };
        let t = forward_text(&h, "hi\n-- \nA's sig\n", Some("see below"));
        assert!(t.starts_with("see below\n\n----- Forwarded message -----\nFrom: A <a@x.example>\nSubject: s\nTo: b@x.example\n\nhi\n-- \nA's sig\n----- End forwarded message -----\n"), "{t}");
        // The original's signature is not the forward's.
        assert_eq!(crate::signature::split(&t).1, None);
        let signed = crate::signature::set_text(&t, Some("Me"));
        assert!(signed.ends_with("----- End forwarded message -----\n\n-- \nMe\n"));
        assert!(signed.contains("A's sig"));
        assert_eq!(crate::signature::set_text(&signed, None), t.trim_end());
    }
}
