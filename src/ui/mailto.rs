//! `mailto:` URLs (RFC 6068) as a prefill for the composer.

use percent_encoding::percent_decode_str;

use crate::message::Draft;

/// Fill `draft` from a `mailto:` URL: the path's addresses go to To, and the `to`, `cc`,
/// `bcc`, `subject`, `body` and `in-reply-to`/`references` query fields are honoured.
/// Unknown fields are ignored, as RFC 6068 asks.
pub fn apply_mailto(url: &str, draft: &mut Draft) -> Result<(), String> {
    let rest = url
        .strip_prefix("mailto:")
        .or_else(|| {
            url.get(..7)
                .filter(|p| p.eq_ignore_ascii_case("mailto:"))
                .map(|_| &url[7..])
        })
        .ok_or_else(|| format!("{url:?} is not a mailto: URL"))?;
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    let decode = |s: &str| -> Result<String, String> {
        percent_decode_str(s)
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| format!("{url:?}: not UTF-8 after percent-decoding"))
    };
    let to = decode(path)?;
    if !to.trim().is_empty() {
        draft.to.push(to.trim().to_string());
    }
    let Some(query) = query else {
        return Ok(());
    };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(k)?.to_ascii_lowercase();
        // In a query, '+' is a literal plus in mailto (RFC 6068 §2), so no '+' → ' '.
        let value = decode(v)?;
        match key.as_str() {
            "to" if !value.trim().is_empty() => draft.to.push(value.trim().to_string()),
            "cc" if !value.trim().is_empty() => draft.cc.push(value.trim().to_string()),
            "bcc" if !value.trim().is_empty() => draft.bcc.push(value.trim().to_string()),
            "subject" => draft.subject = value.replace(['\r', '\n'], " "),
            "body" => {
                let body = value.replace("\r\n", "\n");
                draft.text = Some(match draft.text.take() {
                    Some(t) if !t.is_empty() => format!("{t}\n{body}"),
                    _ => body,
                });
            }
            "in-reply-to" | "references" if !value.trim().is_empty() => {
                let name = if key == "in-reply-to" {
                    "In-Reply-To"
                } else {
                    "References"
                };
                draft
                    .headers
                    .push((name.to_string(), value.replace(['\r', '\n'], " ")));
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_url() {
        let mut d = Draft::default();
        apply_mailto(
            "mailto:a@b.c?subject=Hi%20there&cc=d@e.f&body=line1%0D%0Aline2&x-unknown=1",
            &mut d,
        )
        .expect("valid");
        assert_eq!(d.to, vec!["a@b.c"]);
        assert_eq!(d.cc, vec!["d@e.f"]);
        assert_eq!(d.subject, "Hi there");
        assert_eq!(d.text.as_deref(), Some("line1\nline2"));
    }

    #[test]
    fn korean_subject_and_several_recipients() {
        let mut d = Draft::default();
        apply_mailto(
            "MAILTO:a@b.c,x@y.z?to=q@r.s&subject=%EC%95%88%EB%85%95&bcc=h@i.j",
            &mut d,
        )
        .expect("valid");
        assert_eq!(d.to, vec!["a@b.c,x@y.z", "q@r.s"]);
        assert_eq!(d.bcc, vec!["h@i.j"]);
        assert_eq!(d.subject, "안녕");
    }

    #[test]
    fn not_mailto() {
        assert!(apply_mailto("http://x", &mut Draft::default()).is_err());
    }

    #[test]
    fn header_injection_is_flattened() {
        let mut d = Draft::default();
        apply_mailto("mailto:a@b.c?subject=x%0D%0ABcc:%20e@f.g", &mut d).expect("valid");
        assert!(!d.subject.contains('\n'));
    }
}
