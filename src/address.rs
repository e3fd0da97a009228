//! Addresses as people type or paste them (RFC 5322 §3.4 plus the obsolete forms mail
//! programs still write) and as they go out. One parser serves every field: From, To, Cc,
//! Bcc, Reply-To, address headers given with `--header`, the config and mailto:.
//!
//! Written here rather than taken from a crate: `mailparse` drops comments and misreads a
//! mailbox after a group, and `mail-parser` is lenient by design (it never refuses input,
//! so `Smith, John <js@example.com>` silently becomes two addresses). SPEC wants exact
//! names from comments and a clear refusal naming the quoted form.

mod parse;
#[cfg(test)]
mod tests;

use std::fmt;

pub use parse::{parse_list, to_ascii_domain};

/// An addr-spec: local part and domain, with the domain already as A-labels.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AddrSpec {
    /// The local part's content (quotes and escapes removed).
    local: String,
    /// ASCII domain (IDN as punycode A-labels), or a domain literal with its brackets.
    domain: String,
}

impl AddrSpec {
    pub fn local(&self) -> &str {
        &self.local
    }

    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// Only a non-ASCII local part needs SMTPUTF8: domains always go out as A-labels.
    pub fn needs_smtputf8(&self) -> bool {
        !self.local.is_ascii()
    }

    /// The local part as written on the wire: bare when it is a dot-atom, else quoted.
    fn local_out(&self) -> String {
        if is_dot_atom(&self.local) {
            self.local.clone()
        } else {
            quote(&self.local)
        }
    }
}

/// The form used in headers and the envelope alike.
impl fmt::Display for AddrSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.local_out(), self.domain)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mailbox {
    /// Display name as a reader shows it (decoded; comments included as `(…)`).
    pub name: Option<String>,
    pub email: AddrSpec,
}

impl Mailbox {
    /// Header tokens: the name (bare atoms, a quoted string, or encoded words) and the
    /// address, each an unbreakable piece separated by folding whitespace.
    pub fn header_pieces(&self, out: &mut Vec<String>) {
        if let Some(n) = &self.name {
            phrase_pieces(n, out);
            out.push(format!("<{}>", self.email));
        } else if is_dot_atom(&self.email.local) {
            out.push(self.email.to_string());
        } else {
            // A quoted local part in angle brackets: lenient readers (mail-parser) take a
            // bare `"john doe"@example.com` for a name and an address.
            out.push(format!("<{}>", self.email));
        }
    }
}

/// The conventional, readable form (`Name <a@example.com>`, `"Doe, J" <j@example.com>`),
/// with a non-ASCII name left as text: for screens, drafts and JSON, not for headers.
impl fmt::Display for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(n) if is_atoms(n) || !n.is_ascii() && !needs_quoting_unicode(n) => {
                write!(f, "{n} <{}>", self.email)
            }
            Some(n) => write!(f, "{} <{}>", quote(n), self.email),
            None => write!(f, "{}", self.email),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    pub members: Vec<Mailbox>,
}

/// One element of an address list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    Mailbox(Mailbox),
    Group(Group),
}

impl Address {
    /// The mailboxes that receive mail: the mailbox itself, or a group's members.
    pub fn mailboxes(&self) -> &[Mailbox] {
        match self {
            Address::Mailbox(m) => std::slice::from_ref(m),
            Address::Group(g) => &g.members,
        }
    }

    pub fn header_pieces(&self, out: &mut Vec<String>) {
        match self {
            Address::Mailbox(m) => m.header_pieces(out),
            Address::Group(g) => {
                let mut name = Vec::new();
                phrase_pieces(&g.name, &mut name);
                if let Some(last) = name.last_mut() {
                    last.push(':');
                }
                out.extend(name);
                let n = g.members.len();
                if n == 0 {
                    if let Some(last) = out.last_mut() {
                        last.push(';');
                    }
                }
                for (i, m) in g.members.iter().enumerate() {
                    m.header_pieces(out);
                    if let Some(last) = out.last_mut() {
                        last.push(if i + 1 == n { ';' } else { ',' });
                    }
                }
            }
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Mailbox(m) => m.fmt(f),
            Address::Group(g) => {
                if is_atoms(&g.name) || !g.name.is_ascii() {
                    write!(f, "{}:", g.name)?;
                } else {
                    write!(f, "{}:", quote(&g.name))?;
                }
                for (i, m) in g.members.iter().enumerate() {
                    write!(f, "{}{m}", if i == 0 { " " } else { ", " })?;
                }
                write!(f, ";")
            }
        }
    }
}

/// A whole address header's value as unbreakable pieces: addresses separated by commas.
pub fn list_pieces(list: &[Address]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(list.len() * 2);
    for (i, a) in list.iter().enumerate() {
        if i > 0 {
            if let Some(last) = out.last_mut() {
                last.push(',');
            }
        }
        a.header_pieces(&mut out);
    }
    out
}

/// RFC 5322 atext, plus any non-ASCII character (RFC 6532).
pub(crate) fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || !c.is_ascii()
}

fn is_dot_atom(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|p| !p.is_empty() && p.chars().all(is_atext))
}

/// A name that can be written bare: space-separated ASCII atoms, none of them looking
/// like an encoded word (a reader would decode it).
fn is_atoms(s: &str) -> bool {
    s.is_ascii()
        && !s.contains("=?")
        && !s.is_empty()
        && s.split(' ')
            .all(|w| !w.is_empty() && w.chars().all(is_atext))
}

fn needs_quoting_unicode(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_ascii() && !is_atext(c) && c != ' ' || c.is_control())
        || s.starts_with(' ')
        || s.ends_with(' ')
        || s.contains("  ")
}

pub(crate) fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            q.push('\\');
        }
        q.push(c);
    }
    q.push('"');
    q
}

/// A display name for a header: bare atoms, else a quoted string (split at its spaces so
/// it can fold), else (non-ASCII, control characters, text that looks like an encoded
/// word, or a run too long for a line) RFC 2047 encoded words.
fn phrase_pieces(name: &str, out: &mut Vec<String>) {
    let plain = name.is_ascii()
        && !name.contains("=?")
        && !name.chars().any(|c| c.is_ascii_control())
        && name.len() <= 200;
    if plain && is_atoms(name) {
        out.extend(name.split(' ').map(str::to_string));
    } else if plain {
        // One piece: a fold inside a quoted string is legal but readers disagree on it.
        out.push(quote(name));
    } else {
        out.extend(crate::message::header::encoded_words(name));
    }
}
