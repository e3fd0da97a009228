//! Signatures in a draft's bodies. In text the signature is everything after the last
//! `-- ` line (the Usenet/mail convention every reader knows); in HTML it is one marked
//! `<div>`. Setting the same signature again changes nothing, so a draft reopened or an
//! identity picked twice never gets a second one; a different one replaces it.

use crate::message::Draft;

/// The class of the HTML block, so it can be found and replaced.
const HTML_MARK: &str = "<div class=\"missive-signature\">";

/// The lines around a forwarded message's text in a forward's body (mutt's markers). A
/// `-- ` line between them is the forwarded message's signature, not this one's.
pub const FORWARD_START: &str = "----- Forwarded message -----";
pub const FORWARD_END: &str = "----- End forwarded message -----";

/// Split text at its last `-- ` line after any forwarded message: (body, signature).
pub fn split(text: &str) -> (&str, Option<&str>) {
    let after = text
        .rfind(&format!("\n{FORWARD_END}\n"))
        .map(|i| i + FORWARD_END.len() + 1)
        .or_else(|| {
            text.starts_with(&format!("{FORWARD_END}\n"))
                .then_some(FORWARD_END.len())
        })
        .unwrap_or(0);
    let tail = &text[after..];
    let idx = tail
        .rfind("\n-- \n")
        .map(|i| i + 1)
        .or_else(|| (after == 0 && tail.starts_with("-- \n")).then_some(0));
    match idx {
        Some(i) => (&text[..after + i], Some(&text[after + i + 4..])),
        None => match tail.strip_suffix("\n-- ") {
            Some(body) => (&text[..after + body.len()], Some("")),
            None => (text, None),
        },
    }
}

/// `text` with its signature set to `sig` (None removes it).
pub fn set_text(text: &str, sig: Option<&str>) -> String {
    let (body, current) = split(text);
    if current.map(|c| c.trim_end_matches('\n')) == sig {
        return text.to_string();
    }
    let base = if current.is_some() {
        body.trim_end_matches('\n')
    } else {
        text.trim_end_matches('\n')
    };
    match sig {
        None => base.to_string(),
        Some(s) if base.is_empty() => format!("\n\n-- \n{s}\n"),
        Some(s) => format!("{base}\n\n-- \n{s}\n"),
    }
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// The signature as one HTML block.
pub fn html_block(sig: &str) -> String {
    let lines: Vec<String> = sig.lines().map(escape_html).collect();
    format!("{HTML_MARK}-- <br>\n{}</div>\n", lines.join("<br>\n"))
}

/// `html` with its signature block set to `sig` (None removes it).
pub fn set_html(html: &str, sig: Option<&str>) -> String {
    let new = sig.map(html_block);
    if let Some(start) = html.rfind(HTML_MARK) {
        let end = html[start..]
            .find("</div>")
            .map(|e| start + e + "</div>".len())
            .unwrap_or(html.len());
        let end = if html[end..].starts_with('\n') {
            end + 1
        } else {
            end
        };
        if new.as_deref() == Some(&html[start..end]) {
            return html.to_string();
        }
        return format!(
            "{}{}{}",
            &html[..start],
            new.unwrap_or_default(),
            &html[end..]
        );
    }
    let Some(new) = new else {
        return html.to_string();
    };
    match html.to_ascii_lowercase().rfind("</body>") {
        Some(i) => format!("{}{new}{}", &html[..i], &html[i..]),
        None => {
            let sep = if html.ends_with('\n') || html.is_empty() {
                ""
            } else {
                "\n"
            };
            format!("{html}{sep}{new}")
        }
    }
}

/// Put `sig` (None: no signature) into the draft's text and, when it has one that is not
/// derived from the text, its HTML part.
pub fn swap(draft: &mut Draft, sig: Option<&str>) {
    let text = draft.text.clone().unwrap_or_default();
    let new_text = set_text(&text, sig);
    if draft.text.is_some() || sig.is_some() {
        draft.text = Some(new_text);
    }
    if let Some(h) = draft.html.as_mut().filter(|h| !h.is_empty()) {
        *h = set_html(h, sig);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_once_and_swapped() {
        let t = set_text("Hello\n", Some("Ada\nWork Inc."));
        assert_eq!(t, "Hello\n\n-- \nAda\nWork Inc.\n");
        assert_eq!(set_text(&t, Some("Ada\nWork Inc.")), t);
        let t2 = set_text(&t, Some("Ada (home)"));
        assert_eq!(t2, "Hello\n\n-- \nAda (home)\n");
        assert_eq!(set_text(&t2, None), "Hello");
        assert_eq!(set_text("", Some("S")), "\n\n-- \nS\n");
        assert_eq!(set_text("Hi\n-- \nS", Some("S")), "Hi\n-- \nS");
    }

    #[test]
    fn quoted_delimiters_are_not_signatures() {
        let t = "On Mon, Bob wrote:\n> hi\n> -- \n> Bob\n";
        assert_eq!(split(t).1, None);
        let t = set_text(t, Some("Ada"));
        assert!(t.ends_with("> Bob\n\n-- \nAda\n"), "{t:?}");
    }

    #[test]
    fn html_block_once() {
        let h = "<html><body><p>Hi</p></body></html>";
        let a = set_html(h, Some("Ada & Co <x>"));
        assert!(a.contains("Ada &amp; Co &lt;x&gt;</div>\n</body>"), "{a}");
        assert_eq!(set_html(&a, Some("Ada & Co <x>")), a);
        let b = set_html(&a, Some("Other"));
        assert_eq!(b.matches(HTML_MARK).count(), 1);
        assert!(b.contains("Other"));
        assert_eq!(set_html(&b, None), h);
    }
}
