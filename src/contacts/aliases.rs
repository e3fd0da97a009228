//! A mutt aliases file: `alias NICK [Name] <addr>[, ...]`, one alias a line (a trailing
//! `\` continues it), `#` starts a comment line. A member may name another alias, as in
//! mutt; `-group NAME` flags are accepted and ignored (missive has no groups).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::address::{self, Address};

use super::{entries, ContactsError};

/// An aliases file larger than this is refused unread.
pub const MAX_ALIASES_BYTES: u64 = 4 * 1024 * 1024;
/// How deep aliases may name aliases (mutt has no limit; a cycle must not loop).
const MAX_DEPTH: usize = 16;

#[derive(Clone, Debug, PartialEq)]
enum Member {
    Addr(Address),
    Nick(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Alias {
    pub nick: String,
    pub line: usize,
    members: Vec<Member>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Aliases {
    pub path: Option<PathBuf>,
    list: Vec<Alias>,
    /// Lower-cased nick → index in `list`; the last definition wins, as in mutt.
    index: HashMap<String, usize>,
}

impl Aliases {
    pub fn load(path: &Path) -> Result<Aliases, ContactsError> {
        let err = |line: Option<usize>, message: String| ContactsError {
            path: path.to_path_buf(),
            line,
            message,
        };
        let bytes = crate::regular_file::read(path, MAX_ALIASES_BYTES)
            .map_err(|e| err(None, format!("cannot read the aliases file: {e}")))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            err(
                None,
                format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
            )
        })?;
        let mut a = Aliases::parse(&text).map_err(|(line, m)| err(Some(line), m))?;
        a.path = Some(path.to_path_buf());
        Ok(a)
    }

    /// Errors are (line, message).
    pub fn parse(text: &str) -> Result<Aliases, (usize, String)> {
        let mut a = Aliases::default();
        let mut pending = String::new();
        let mut first_line = 0;
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            if pending.is_empty() {
                first_line = line_no;
            }
            let raw = raw.strip_suffix('\r').unwrap_or(raw);
            if let Some(cont) = raw.strip_suffix('\\') {
                pending.push_str(cont);
                continue;
            }
            pending.push_str(raw);
            let line = std::mem::take(&mut pending);
            a.line(&line, first_line)?;
        }
        if !pending.is_empty() {
            a.line(&pending, first_line)?;
        }
        for al in &a.list {
            for m in &al.members {
                if let Member::Nick(n) = m {
                    if !a.index.contains_key(&n.to_lowercase()) {
                        return Err((
                            al.line,
                            format!(
                                "alias {:?}: {n:?} is neither an address nor another alias",
                                al.nick
                            ),
                        ));
                    }
                }
            }
        }
        Ok(a)
    }

    fn line(&mut self, line: &str, no: usize) -> Result<(), (usize, String)> {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            return Ok(());
        }
        let Some(rest) = t
            .strip_prefix("alias")
            .filter(|r| r.starts_with([' ', '\t']))
        else {
            return Err((
                no,
                format!(
                    "expected `alias NICK [Name] <address>[, ...]`, found {:?}",
                    crate::escape::cut(t, 60)
                ),
            ));
        };
        let mut rest = rest.trim_start();
        while let Some(r) = rest.strip_prefix("-group") {
            // `-group NAME`
            let r = r.trim_start();
            let end = r.find(char::is_whitespace).unwrap_or(r.len());
            rest = r[end..].trim_start();
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let nick = &rest[..end];
        let value = rest[end..].trim();
        if nick.is_empty() || !entries::is_nick(nick) {
            return Err((
                no,
                format!("{nick:?} cannot be an alias nick (one word, no '@')"),
            ));
        }
        if value.is_empty() {
            return Err((no, format!("alias {nick:?} has no address")));
        }
        let mut members = Vec::new();
        for r in entries::split(value) {
            let e = value[r].trim();
            if e.is_empty() {
                continue;
            }
            if entries::is_nick(e) {
                members.push(Member::Nick(e.to_string()));
                continue;
            }
            let parsed = address::parse_list(e)
                .map_err(|reason| (no, format!("alias {nick:?}: {reason}")))?;
            members.extend(parsed.into_iter().map(Member::Addr));
        }
        if members.is_empty() {
            return Err((no, format!("alias {nick:?} has no address")));
        }
        let idx = self.list.len();
        self.list.push(Alias {
            nick: nick.to_string(),
            line: no,
            members,
        });
        self.index.insert(nick.to_lowercase(), idx);
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn get(&self, nick: &str) -> Option<&Alias> {
        self.index
            .get(&nick.trim().to_lowercase())
            .and_then(|&i| self.list.get(i))
    }

    /// The aliases in file order, each with its addresses (aliases named inside it
    /// expanded), the last definition of a nick only.
    pub fn all(&self) -> impl Iterator<Item = (&Alias, Vec<Address>)> {
        self.list
            .iter()
            .enumerate()
            .filter(|(i, a)| self.index.get(&a.nick.to_lowercase()) == Some(i))
            .map(|(_, a)| (a, self.addresses(a)))
    }

    /// Everything `alias` stands for, aliases inside it expanded (a cycle stops).
    pub fn addresses(&self, alias: &Alias) -> Vec<Address> {
        let mut out = Vec::new();
        let mut seen = vec![alias.nick.to_lowercase()];
        self.collect(alias, &mut out, &mut seen, 0);
        out
    }

    fn collect(&self, alias: &Alias, out: &mut Vec<Address>, seen: &mut Vec<String>, depth: usize) {
        for m in &alias.members {
            match m {
                Member::Addr(a) => out.push(a.clone()),
                Member::Nick(n) => {
                    let key = n.to_lowercase();
                    if depth >= MAX_DEPTH || seen.contains(&key) {
                        continue;
                    }
                    if let Some(inner) = self.get(n) {
                        seen.push(key);
                        self.collect(inner, out, seen, depth + 1);
                    }
                }
            }
        }
    }

    /// Replace each entry that is a whole alias nick with its addresses; anything else
    /// is kept as typed (the message parser judges it).
    pub fn expand(&self, list: &[String]) -> Vec<String> {
        let mut out = Vec::with_capacity(list.len());
        for item in list {
            let ranges = entries::split(item);
            if !ranges.iter().any(|r| self.nick_entry(&item[r.clone()])) {
                out.push(item.clone());
                continue;
            }
            let mut parts: Vec<String> = Vec::new();
            for r in ranges {
                let e = &item[r];
                match self.get(e).filter(|_| entries::is_nick(e)) {
                    Some(a) => parts.extend(self.addresses(a).iter().map(|x| x.to_string())),
                    None if e.trim().is_empty() => {}
                    None => parts.push(e.trim().to_string()),
                }
            }
            out.push(parts.join(", "));
        }
        out
    }

    fn nick_entry(&self, e: &str) -> bool {
        entries::is_nick(e) && self.get(e).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# mutt aliases\n\
alias ann Ann Smith <ann@example.com>\n\
alias -group work bob \"Doe, Bob\" <bob@example.com>\n\
alias team ann, bob, carol@example.com\n\
alias loop loop2\n\
alias loop2 loop, z@example.com\n\
alias long first@example.com, \\\n   second@example.com\n";

    #[test]
    fn parses_mutt_format() {
        let a = Aliases::parse(FILE).unwrap();
        let ann = a.get("ANN").unwrap();
        assert_eq!(ann.line, 2);
        assert_eq!(a.expand(&["ann".into()]), ["Ann Smith <ann@example.com>"]);
        assert_eq!(
            a.expand(&["team, x@example.com".into()]),
            ["Ann Smith <ann@example.com>, \"Doe, Bob\" <bob@example.com>, carol@example.com, x@example.com"]
        );
        assert_eq!(a.expand(&["loop".into()]), ["z@example.com"]);
        assert_eq!(
            a.expand(&["long".into()]),
            ["first@example.com, second@example.com"]
        );
        // Not whole entries: kept as typed.
        assert_eq!(a.expand(&["Ann <ann@x.y>".into()]), ["Ann <ann@x.y>"]);
        assert_eq!(a.expand(&["nobody".into()]), ["nobody"]);
    }

    #[test]
    fn errors_name_the_line() {
        let e = Aliases::parse("alias a a@x.y\nalias b\n").unwrap_err();
        assert_eq!(e.0, 2);
        let e = Aliases::parse("\nset foo=bar\n").unwrap_err();
        assert_eq!(e.0, 2);
        assert!(e.1.contains("expected `alias"), "{}", e.1);
        let e = Aliases::parse("alias a Smith, John <j@x.y>\n").unwrap_err();
        assert_eq!(e.0, 1);
        let e = Aliases::parse("alias a ghost\n").unwrap_err();
        assert!(e.1.contains("ghost"), "{}", e.1);
    }
}
