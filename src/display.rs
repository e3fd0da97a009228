//! Showing untrusted text (subjects, addresses, server replies, file contents) on a
//! terminal: control characters escaped so nothing can retitle, clear or recolour it.

use std::borrow::Cow;

/// `\x1b` → `\u{1b}` etc.; newlines and tabs too unless `keep_lines`.
pub fn escape_controls_with(s: &str, keep_lines: bool) -> Cow<'_, str> {
    let bad = |c: char| c.is_control() && !(keep_lines && (c == '\n' || c == '\t'));
    if !s.chars().any(bad) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if keep_lines && c == '\r' {
            continue;
        }
        if bad(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// One line of untrusted text, safe to print.
pub fn escape_controls(s: &str) -> Cow<'_, str> {
    escape_controls_with(s, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(escape_controls("plain 한글"), "plain 한글");
        assert_eq!(escape_controls("a\u{1b}]0;x\u{7}b"), "a\\u{1b}]0;x\\u{7}b");
        assert_eq!(escape_controls_with("a\r\nb\u{1b}", true), "a\nb\\u{1b}");
    }
}
