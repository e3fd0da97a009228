//! Where one recipient entry ends and the next begins in a typed field: the commas that
//! separate addresses, not those inside quotes, comments, angle brackets or a group.
//! Lexical only (nothing is judged valid here): the composer needs the entry under the
//! cursor while it is still half typed, and alias expansion needs whole entries before
//! they are parsed.

use std::ops::Range;

/// Byte ranges of the entries of `s`, separators excluded, untrimmed. An empty string
/// has one empty entry; `a, b,` has three (the last empty).
pub fn split(s: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut quote = false;
    let mut escape = false;
    let mut comment = 0u32;
    let mut angle = false;
    let mut group = false;
    for (i, c) in s.char_indices() {
        if escape {
            escape = false;
            continue;
        }
        match c {
            '\\' if quote || comment > 0 => escape = true,
            '"' if comment == 0 => quote = !quote,
            _ if quote => {}
            '(' => comment += 1,
            ')' if comment > 0 => comment -= 1,
            _ if comment > 0 => {}
            '<' => angle = true,
            '>' => angle = false,
            ':' if !angle => group = true,
            ';' if group => group = false,
            ',' if !angle && !group => {
                out.push(start..i);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(start..s.len());
    out
}

/// The entry holding byte offset `pos` (a cursor right after a comma is in the next one).
pub fn at(s: &str, pos: usize) -> Range<usize> {
    let entries = split(s);
    entries
        .iter()
        .find(|r| pos >= r.start && pos <= r.end)
        .or(entries.last())
        .cloned()
        .unwrap_or(0..0)
}

/// An entry that can only be an alias nick: one word, nothing an address is made of.
pub fn is_nick(entry: &str) -> bool {
    let e = entry.trim();
    !e.is_empty() && !e.contains(|c: char| c.is_whitespace() || "@<>\"(),:;[]\\".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(s: &str) -> Vec<&str> {
        split(s).into_iter().map(|r| &s[r]).collect()
    }

    #[test]
    fn splits_on_top_level_commas_only() {
        assert_eq!(parts("a@x, b@y"), ["a@x", " b@y"]);
        assert_eq!(
            parts("\"Doe, John\" <j@x>, (a, comment) c@y"),
            ["\"Doe, John\" <j@x>", " (a, comment) c@y"]
        );
        assert_eq!(parts("Team: a@x, b@y;, c@z"), ["Team: a@x, b@y;", " c@z"]);
        assert_eq!(parts("\"a\\\", b\" <q@x>,"), ["\"a\\\", b\" <q@x>", ""]);
        assert_eq!(parts(""), [""]);
    }

    #[test]
    fn entry_at_cursor() {
        let s = "ann@x, bo";
        assert_eq!(&s[at(s, s.len())], " bo");
        assert_eq!(&s[at(s, 2)], "ann@x");
        assert_eq!(&s[at(s, 6)], " bo");
    }

    #[test]
    fn nicks() {
        assert!(is_nick(" team "));
        assert!(is_nick("bob.smith"));
        assert!(!is_nick("bob@x"));
        assert!(!is_nick("Bob Smith"));
        assert!(!is_nick(""));
        assert!(!is_nick("undisclosed-recipients:;"));
    }
}
