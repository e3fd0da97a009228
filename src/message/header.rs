//! Header lines as they go out: folded at whitespace so no line passes 998 octets (78
//! where the value allows), structured values folded but never encoded, unstructured text
//! encoded (RFC 2047) only where a reader would otherwise read it differently.

use base64::Engine as _;

/// Fold here when a line would pass this (RFC 5322's "SHOULD" limit).
const SOFT: usize = 78;
/// Nothing may pass this (RFC 5322's "MUST" limit, CRLF excluded).
pub const HARD: usize = 998;
/// A word longer than this cannot share a line with a header name and must be encoded
/// (unstructured text) or is refused (structured values).
const LONG_WORD: usize = 900;

/// Headers whose values have a syntax (msg-ids, URLs, parameters, dates): folded at their
/// whitespace, never turned into encoded words, which no reader decodes there.
const STRUCTURED: &[&str] = &[
    "message-id",
    "in-reply-to",
    "references",
    "resent-message-id",
    "received",
    "return-path",
    "date",
    "resent-date",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "content-disposition",
    "content-id",
    "dkim-signature",
    "arc-seal",
    "arc-message-signature",
    "arc-authentication-results",
    "authentication-results",
    "auto-submitted",
    "precedence",
    "autocrypt",
    "feedback-id",
    "x-mailer-id",
];

/// Headers holding address lists: parsed with the one address parser and written in the
/// conventional form.
pub const ADDRESS_HEADERS: &[&str] = &[
    "reply-to",
    "sender",
    "resent-from",
    "resent-sender",
    "resent-to",
    "resent-cc",
    "mail-followup-to",
    "mail-reply-to",
    "disposition-notification-to",
    "return-receipt-to",
    "errors-to",
];

pub fn is_structured(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.starts_with("list-") || STRUCTURED.contains(&n.as_str())
}

pub fn is_address_header(name: &str) -> bool {
    ADDRESS_HEADERS.contains(&name.to_ascii_lowercase().as_str())
}

/// RFC 2047 "B" encoded words for `text`, each at most 72 characters and cut between
/// characters (readers decode each word on its own).
pub fn encoded_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut chunk = String::new();
    let mut flush = |chunk: &mut String| {
        words.push(format!(
            "=?utf-8?b?{}?=",
            base64::engine::general_purpose::STANDARD.encode(chunk.as_bytes())
        ));
        chunk.clear();
    };
    // 45 octets of UTF-8 → 60 base64 characters → a 72-character word.
    for c in text.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            flush(&mut chunk);
        }
        chunk.push(c);
    }
    if !chunk.is_empty() || text.is_empty() {
        flush(&mut chunk);
    }
    words
}

/// `Name: p1 p2 …` with a fold (CRLF + space) between pieces where a line would pass 78.
/// Pieces hold no whitespace; each is at most a few hundred octets.
pub fn fold_pieces(name: &str, pieces: &[String]) -> String {
    let total: usize = pieces.iter().map(|p| p.len() + 3).sum();
    let mut out = String::with_capacity(name.len() + total + 4);
    out.push_str(name);
    out.push(':');
    let mut line = out.len();
    for p in pieces {
        if line + 1 + p.len() > SOFT && line > name.len() + 1 {
            out.push_str("\r\n");
            line = 0;
        }
        out.push(' ');
        out.push_str(p);
        line += 1 + p.len();
    }
    out.push_str("\r\n");
    out
}

/// `Name: value`, folded before whitespace (a CRLF inserted before an existing space or
/// TAB, so unfolding gives back exactly `value`). The caller made sure no run without
/// whitespace is longer than `LONG_WORD`.
pub fn fold_text(name: &str, value: &str) -> String {
    let mut out = String::with_capacity(name.len() + value.len() + value.len() / 30 + 8);
    out.push_str(name);
    out.push(':');
    if !value.starts_with(' ') {
        out.push(' ');
    }
    let mut line = out.len();
    let bytes = value.as_bytes();
    // Segments start at a single space between two non-blank bytes: a fold there never
    // leaves a line of whitespace only, and no reader can lose a blank beside it
    // (mail-parser reads "a CRLF SP SP b" as "a b": a fold inside a run of blanks loses
    // one, found by the builder fuzz test).
    let blank = |b: u8| b == b' ' || b == b'\t';
    let mut seg_start = 0;
    let mut placed = false;
    for i in 0..=bytes.len() {
        let boundary = i == bytes.len()
            || (i > 0
                && is_ws(bytes[i])
                && !blank(bytes[i - 1])
                && bytes.get(i + 1).is_some_and(|&b| !blank(b))
                && i > seg_start);
        if !boundary {
            continue;
        }
        let seg = &value[seg_start..i];
        if placed && line + seg.len() > SOFT {
            out.push_str("\r\n");
            line = 0;
        }
        out.push_str(seg);
        line += seg.len();
        placed = true;
        seg_start = i;
    }
    out.push_str("\r\n");
    out
}

/// Fold points are spaces only: readers disagree on a fold before a TAB (mail-parser
/// turns it into a space), so TAB is treated as part of a word.
fn is_ws(b: u8) -> bool {
    b == b' '
}

/// A structured value: folded, never encoded; refused when it cannot be written as is.
pub fn structured(name: &str, value: &str) -> Result<String, String> {
    if let Some(c) = value
        .chars()
        .find(|c| !c.is_ascii() || (c.is_ascii_control() && *c != '\t'))
    {
        return Err(format!(
            "{name} is a structured header: {c:?} cannot be written in it (use its ASCII form, e.g. punycode or %-escapes)"
        ));
    }
    if value.split(' ').any(|w| w.len() > LONG_WORD) {
        return Err(format!(
            "{name} has a token longer than {LONG_WORD} characters, which cannot be folded into a header line"
        ));
    }
    Ok(fold_text(name, value.trim_matches(' ')))
}

/// Unstructured text (Subject, Comments, X-…): written as typed where every reader reads
/// it back unchanged, else as encoded words. A word is encoded when it is non-ASCII, holds
/// a control character, looks like an encoded word itself (`=?…`), or is too long to fold;
/// leading and trailing whitespace, and all but one whitespace character beside an
/// encoded word, go inside the encoded text, since readers drop or merge them otherwise.
pub fn unstructured(name: &str, value: &str) -> String {
    fold_text(name, &encode_unstructured(value))
}

pub fn encode_unstructured(value: &str) -> String {
    let needs = |w: &str| {
        !w.is_ascii()
            || w.contains("=?")
            || w.bytes().any(|b| b.is_ascii_control() && b != b'\t')
            || w.starts_with('\t')
            || w.ends_with('\t')
            || w.len() > LONG_WORD
    };
    let (words, gaps, lead, trail) = split_words(value);
    if words.is_empty() {
        return if value.is_empty() {
            String::new()
        } else {
            encoded_words(value).join(" ")
        };
    }
    if !lead.is_empty() || !trail.is_empty() || words.iter().any(|w| needs(w)) {
        let n = words.len();
        let mut enc: Vec<bool> = words.iter().map(|w| needs(w)).collect();
        enc[0] |= !lead.is_empty();
        enc[n - 1] |= !trail.is_empty();
        let mut out = String::with_capacity(value.len() * 2);
        let mut run: Option<String> = None;
        let mut carry = lead.to_string();
        for i in 0..n {
            let gap = gaps.get(i).copied();
            if enc[i] {
                let r = run.get_or_insert_with(|| std::mem::take(&mut carry));
                r.push_str(words[i]);
                match gap {
                    Some(g) if enc[i + 1] => r.push_str(g),
                    Some(g) => {
                        let (absorbed, sep) = g.split_at(g.len() - 1);
                        r.push_str(absorbed);
                        out.push_str(&encoded_words(r).join(" "));
                        out.push_str(sep);
                        run = None;
                    }
                    None => {
                        r.push_str(trail);
                        out.push_str(&encoded_words(r).join(" "));
                        run = None;
                    }
                }
            } else {
                out.push_str(words[i]);
                match gap {
                    Some(g) if enc[i + 1] => {
                        let (sep, absorbed) = g.split_at(1);
                        out.push_str(sep);
                        carry = absorbed.to_string();
                    }
                    Some(g) => out.push_str(g),
                    None => {}
                }
            }
        }
        return out;
    }
    value.to_string()
}

/// Words, the whitespace runs between them, and the leading and trailing whitespace.
fn split_words(v: &str) -> (Vec<&str>, Vec<&str>, &str, &str) {
    let body = v.trim_start_matches(' ');
    let lead = &v[..v.len() - body.len()];
    let core = body.trim_end_matches(' ');
    let trail = &body[core.len()..];
    let mut words = Vec::new();
    let mut gaps = Vec::new();
    let b = core.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let s = i;
        while i < b.len() && !is_ws(b[i]) {
            i += 1;
        }
        words.push(&core[s..i]);
        let g = i;
        while i < b.len() && is_ws(b[i]) {
            i += 1;
        }
        if i > g {
            gaps.push(&core[g..i]);
        }
    }
    (words, gaps, lead, trail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(header: &str) -> String {
        let raw = format!("{header}\r\n");
        let m = mail_parser::MessageParser::default()
            .parse(raw.as_bytes())
            .unwrap();
        m.subject().unwrap_or_default().to_string()
    }

    #[test]
    fn unstructured_reads_back_as_typed() {
        for s in [
            "plain words",
            "=?utf-8?b?SGFja2Vk?=",
            "about =?utf-8?q?hack?= words",
            "  leading spaces",
            "trailing  ",
            "ü  double",
            "double  ü",
            "ü ö ä",
            "a\tb\tc",
            "Café  au   lait ☕",
        ] {
            let h = unstructured("Subject", s);
            assert!(h.is_ascii(), "{h}");
            assert_eq!(decode(&h), s, "{h}");
        }
    }

    #[test]
    fn folds_long_tab_separated_text() {
        let s = vec!["word"; 400].join("\t");
        let h = unstructured("Subject", &s);
        assert!(h.split("\r\n").all(|l| l.len() <= SOFT + 10), "{h}");
        assert_eq!(decode(&h), s);
    }

    #[test]
    fn structured_is_folded_not_encoded() {
        let ids: Vec<String> = (0..30)
            .map(|i| format!("<{i}-{}@outlook.example.com>", "x".repeat(80)))
            .collect();
        let v = ids.join(" ");
        let h = structured("References", &v).unwrap();
        assert!(!h.contains("=?"));
        assert!(h.split("\r\n").all(|l| l.len() <= HARD));
        assert_eq!(h.replace("\r\n", ""), format!("References: {v}"));
        assert!(structured("List-Id", "ü").is_err());
    }
}
