//! Text from outside (subjects, addresses, server replies, config values, file names) is
//! shown to a terminal only through here: control characters escaped, never raw (an ESC
//! or BEL from a mailto: link must not retitle or clear the terminal), and long values
//! cut short (a 10 MB config value must not become a 10 MB error line).

use std::borrow::Cow;
use std::fmt::Write as _;

/// `println!` for a line that may hold outside text (subjects, addresses, server replies,
/// file names): scrubbed of known secrets, control characters escaped, never raw.
#[macro_export]
macro_rules! say {
    ($($t:tt)*) => {
        println!(
            "{}",
            $crate::escape::escape(&$crate::redact::scrub(&format!($($t)*)))
        )
    };
}

/// `writeln!` with the same escaping as `say!`.
#[macro_export]
macro_rules! say_to {
    ($out:expr, $($t:tt)*) => {
        writeln!(
            $out,
            "{}",
            $crate::escape::escape(&$crate::redact::scrub(&format!($($t)*)))
        )
    };
}

/// Longest value shown whole in an error or a list, in characters.
pub const SHOWN_MAX: usize = 200;

fn is_control(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}')
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// `s` with every control character (C0, DEL, C1, bidi overrides) written as `\n`, `\t`,
/// `\r`, `\e` or `\u{..}`. Plain text comes back borrowed. (Backslashes stay as they
/// are: harmless to a terminal, and `{:?}` output passed through is not doubled.)
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{1b}' => out.push_str("\\e"),
            c if is_control(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// As `escape`, but tabs and line breaks are kept: for multi-line text (a message body in
/// a preview).
pub fn escape_keep_lines(s: &str) -> Cow<'_, str> {
    if !s
        .chars()
        .any(|c| is_control(c) && !matches!(c, '\n' | '\t'))
    {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for line in s.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        for c in body.chars() {
            if c == '\t' {
                out.push(c);
            } else if is_control(c) {
                out.push_str(&escape(&c.to_string()));
            } else {
                out.push(c);
            }
        }
        out.push_str(nl);
    }
    Cow::Owned(out)
}

/// What every error printer writes: `s` scrubbed of known secrets, control characters
/// escaped (line breaks kept, so messages meant to span lines still do).
pub fn for_terminal(s: &str) -> String {
    escape_keep_lines(&crate::redact::scrub(s)).into_owned()
}

/// `v` as one line of JSON that is safe on a terminal and still valid JSON. serde_json
/// escapes C0 controls in strings but leaves DEL, C1 (U+0080–U+009F, where U+009B is a
/// CSI) and the bidi and line-separator characters raw; those are written as `\uXXXX`.
/// Running the text escaper over JSON instead would make it invalid (`\e` is no JSON
/// escape). All of them are in the BMP, and outside strings compact JSON has none.
pub fn json_line<T: serde::Serialize + ?Sized>(v: &T) -> String {
    let text = serde_json::to_string(v).unwrap_or_else(|e| {
        serde_json::json!({ "error": format!("internal error: cannot write JSON: {e}") })
            .to_string()
    });
    if !text.chars().any(is_control) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_control(c) {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

/// `escape(s)`, cut to `max` characters with a note of how much was left out.
pub fn cut(s: &str, max: usize) -> String {
    let total = s.chars().count();
    if total <= max {
        return escape(s).into_owned();
    }
    let head: String = s.chars().take(max).collect();
    format!("{}… ({} more characters)", escape(&head), total - max)
}

/// `cut(s, SHOWN_MAX)`: the usual form for a value inside a one-line message.
pub fn shown(s: &str) -> String {
    cut(s, SHOWN_MAX)
}

/// `{:?}`-style quoting (for echoing what was given), escaped and cut.
pub fn quoted(s: &str) -> String {
    format!("\"{}\"", shown(s).replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_escaped() {
        assert_eq!(escape("a\u{1b}]0;x\u{7}b"), "a\\e]0;x\\u{7}b");
        assert_eq!(escape("plain"), "plain");
        assert_eq!(escape("c1\u{9b}2J"), "c1\\u{9b}2J");
        assert_eq!(escape("line\r\nnext"), "line\\r\\nnext");
        assert_eq!(escape("rtl\u{202e}x"), "rtl\\u{202e}x");
    }

    #[test]
    fn keep_lines() {
        assert_eq!(escape_keep_lines("a\n\tb\u{1b}[2J\n"), "a\n\tb\\e[2J\n");
    }

    #[test]
    fn json_lines_stay_valid_json_without_raw_controls() {
        let evil = "a\u{1b}]0;t\u{7}b\u{7f}c\u{9b}2Jd\u{202e}e\u{2028}f";
        let line = json_line(&serde_json::json!({ "subject": evil }));
        assert!(!line.chars().any(is_control), "{line:?}");
        let back: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(back["subject"], evil);
        assert_eq!(json_line(&serde_json::json!(["plain"])), r#"["plain"]"#);
    }

    #[test]
    fn long_values_cut() {
        let long = "x".repeat(10_000_000);
        let c = cut(&long, 50);
        assert!(c.len() < 120, "{}", c.len());
        assert!(c.contains("9999950 more characters"));
        assert_eq!(cut("short", 50), "short");
    }
}
