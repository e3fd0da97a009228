//! The address-list parser: a lexer into RFC 5322 tokens, then mailboxes and groups.

use super::{is_atext, quote, AddrSpec, Address, Group, Mailbox};

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    /// A run of atext and dots (dot-atoms and obs-phrase words alike).
    Atom(String),
    Quoted(String),
    Comment(String),
    /// `[…]`, brackets included.
    Literal(String),
    Special(char),
}

#[derive(Clone, Debug)]
struct Tok {
    kind: Kind,
    /// Whitespace (or a comment) came right before this token.
    ws_before: bool,
    start: usize,
    end: usize,
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut it = s.char_indices().peekable();
    let mut ws = false;
    while let Some(&(start, c)) = it.peek() {
        match c {
            ' ' | '\t' => {
                it.next();
                ws = true;
                continue;
            }
            '(' => {
                it.next();
                let mut depth = 1;
                let mut text = String::new();
                loop {
                    match it.next() {
                        None => {
                            return Err(format!(
                                "the comment at \"{}\" is not closed with ')'",
                                cut(&s[start..])
                            ))
                        }
                        Some((_, '\\')) => match it.next() {
                            Some((_, e)) => text.push(e),
                            None => return Err("a '\\' at the end".into()),
                        },
                        Some((_, '(')) => {
                            depth += 1;
                            text.push('(');
                        }
                        Some((_, ')')) => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                            text.push(')');
                        }
                        Some((_, ch)) if is_bad_control(ch) => return Err(control(ch)),
                        Some((_, ch)) => text.push(ch),
                    }
                }
                let end = it.peek().map_or(s.len(), |&(i, _)| i);
                out.push(Tok {
                    kind: Kind::Comment(text),
                    ws_before: ws,
                    start,
                    end,
                });
                ws = true;
                continue;
            }
            '"' => {
                it.next();
                let mut text = String::new();
                loop {
                    match it.next() {
                        None => {
                            return Err(format!(
                                "the quoted text at {} is not closed with '\"'",
                                cut(&s[start..])
                            ))
                        }
                        Some((_, '\\')) => match it.next() {
                            Some((_, e)) => text.push(e),
                            None => return Err("a '\\' at the end".into()),
                        },
                        Some((_, '"')) => break,
                        Some((_, ch)) if is_bad_control(ch) => return Err(control(ch)),
                        Some((_, ch)) => text.push(ch),
                    }
                }
                let end = it.peek().map_or(s.len(), |&(i, _)| i);
                out.push(Tok {
                    kind: Kind::Quoted(text),
                    ws_before: ws,
                    start,
                    end,
                });
            }
            '[' => {
                it.next();
                let mut text = String::from("[");
                loop {
                    match it.next() {
                        None => {
                            return Err(format!(
                                "the domain literal {} is not closed with ']'",
                                cut(&s[start..])
                            ))
                        }
                        Some((_, ']')) => break,
                        Some((_, ch))
                            if ch == '[' || ch == '\\' || ch.is_whitespace() || ch.is_control() =>
                        {
                            return Err(format!(
                                "{ch:?} inside the domain literal {}",
                                cut(&s[start..])
                            ))
                        }
                        Some((_, ch)) => text.push(ch),
                    }
                }
                text.push(']');
                let end = it.peek().map_or(s.len(), |&(i, _)| i);
                out.push(Tok {
                    kind: Kind::Literal(text),
                    ws_before: ws,
                    start,
                    end,
                });
            }
            '<' | '>' | '@' | ',' | ';' | ':' => {
                it.next();
                out.push(Tok {
                    kind: Kind::Special(c),
                    ws_before: ws,
                    start,
                    end: start + 1,
                });
            }
            c if is_atext(c) || c == '.' => {
                let mut text = String::new();
                while let Some(&(_, ch)) = it.peek() {
                    if is_atext(ch) || ch == '.' {
                        if ch.is_control() {
                            return Err(control(ch));
                        }
                        text.push(ch);
                        it.next();
                    } else {
                        break;
                    }
                }
                let end = it.peek().map_or(s.len(), |&(i, _)| i);
                out.push(Tok {
                    kind: Kind::Atom(text),
                    ws_before: ws,
                    start,
                    end,
                });
            }
            c if c.is_control() => return Err(control(c)),
            c => return Err(format!("unexpected {c:?} (quote names that contain it)")),
        }
        ws = false;
    }
    Ok(out)
}

fn is_bad_control(c: char) -> bool {
    c.is_control() && c != '\t'
}

fn control(c: char) -> String {
    format!("a control character ({:?}) is not allowed in an address", c)
}

fn cut(s: &str) -> String {
    let t: String = s.chars().take(40).collect();
    if t.len() < s.len() {
        format!("{t}…")
    } else {
        t
    }
}

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Tok>,
    i: usize,
}

/// Parse an address list. Empty elements (`a@x, , b@y`) are skipped; an empty input gives
/// an empty list.
pub fn parse_list(src: &str) -> Result<Vec<Address>, String> {
    let toks = lex(src)?;
    let mut p = Parser { src, toks, i: 0 };
    let mut out = Vec::new();
    loop {
        let after_group = match p.element(false)? {
            Some(a) => {
                let g = matches!(a, Address::Group(_));
                out.push(a);
                g
            }
            None => false,
        };
        match p.peek() {
            None => break,
            Some(Kind::Special(',')) => p.i += 1,
            // `Team: a@example.com; c@example.com`: the ';' already ended an element.
            Some(Kind::Atom(_) | Kind::Quoted(_) | Kind::Comment(_)) if after_group => {}
            Some(_) => return Err(p.unexpected_after()),
        }
    }
    Ok(out)
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Kind> {
        self.toks.get(self.i).map(|t| &t.kind)
    }

    fn text(&self, from: usize, to: usize) -> &str {
        let a = self.toks.get(from).map_or(self.src.len(), |t| t.start);
        let b = if to == 0 {
            a
        } else {
            self.toks.get(to - 1).map_or(self.src.len(), |t| t.end)
        };
        self.src.get(a..b.max(a)).unwrap_or("").trim()
    }

    fn unexpected_after(&self) -> String {
        let t = &self.toks[self.i];
        let rest = cut(self.src[t.start..].trim());
        match t.kind {
            Kind::Special(c @ ('>' | ';' | ':' | '@' | '<')) => {
                format!("unexpected '{c}' at \"{rest}\"")
            }
            _ => format!("\"{rest}\" follows an address without a comma between them"),
        }
    }

    /// One mailbox or group, up to (not including) the next ',' (or ';' inside a group).
    fn element(&mut self, in_group: bool) -> Result<Option<Address>, String> {
        let start = self.i;
        while matches!(
            self.peek(),
            Some(Kind::Atom(_) | Kind::Quoted(_) | Kind::Comment(_))
        ) {
            self.i += 1;
        }
        let phrase: Vec<Tok> = self.toks[start..self.i].to_vec();
        match self.peek() {
            None | Some(Kind::Special(',')) => {}
            Some(Kind::Special(';')) if in_group => {}
            Some(Kind::Special('<')) => {
                self.i += 1;
                let email = self.angle_addr()?;
                let trailing = self.comments();
                let mut name = phrase_text(&phrase);
                if !trailing.is_empty() {
                    name = Some(match name {
                        Some(n) => format!("{n} {}", paren(&trailing)),
                        None => trailing.join(" "),
                    });
                }
                return Ok(Some(Address::Mailbox(Mailbox { name, email })));
            }
            Some(Kind::Special(':')) => {
                let name = phrase_text(&phrase)
                    .ok_or_else(|| "a group needs a name before ':'".to_string())?;
                if in_group {
                    return Err(format!("group {name:?} inside another group"));
                }
                self.i += 1;
                let mut members = Vec::new();
                loop {
                    if let Some(a) = self.element(true)? {
                        match a {
                            Address::Mailbox(m) => members.push(m),
                            Address::Group(g) => {
                                return Err(format!("group {:?} inside another group", g.name))
                            }
                        }
                    }
                    match self.peek() {
                        Some(Kind::Special(',')) => self.i += 1,
                        Some(Kind::Special(';')) => {
                            self.i += 1;
                            break;
                        }
                        None => {
                            return Err(format!("the group \"{name}:\" is not closed with ';'"))
                        }
                        Some(_) => return Err(self.unexpected_after()),
                    }
                }
                self.comments();
                return Ok(Some(Address::Group(Group { name, members })));
            }
            Some(Kind::Special('@')) => {
                let words: Vec<&Tok> = phrase
                    .iter()
                    .filter(|t| !matches!(t.kind, Kind::Comment(_)))
                    .collect();
                let leading: Vec<String> = phrase
                    .iter()
                    .take_while(|t| matches!(t.kind, Kind::Comment(_)))
                    .filter_map(|t| match &t.kind {
                        Kind::Comment(c) => Some(decode_words_in(c)),
                        _ => None,
                    })
                    .collect();
                if words.is_empty() {
                    return Err(format!(
                        "nothing before '@' in \"{}\"",
                        cut(self.text(start, self.i + 2))
                    ));
                }
                if words.iter().skip(1).any(|t| t.ws_before) {
                    let local = self.text(start, self.i);
                    return Err(format!(
                        "a space in \"{local}@…\": quote the part before '@' (\"{local}\"@…) or put the address in <…> after a name"
                    ));
                }
                let local: String = words
                    .iter()
                    .map(|t| match &t.kind {
                        Kind::Atom(a) | Kind::Quoted(a) => a.as_str(),
                        _ => "",
                    })
                    .collect();
                self.i += 1;
                let email = self.domain(local)?;
                let mut names = leading;
                names.extend(self.comments());
                let name = (!names.is_empty())
                    .then(|| names.join(" "))
                    .filter(|n| !n.trim().is_empty());
                return Ok(Some(Address::Mailbox(Mailbox { name, email })));
            }
            Some(_) => return Err(self.unexpected_after()),
        }
        // A delimiter or the end: an empty element, or words without an address.
        if phrase.iter().all(|t| matches!(t.kind, Kind::Comment(_))) {
            return Ok(None);
        }
        let typed = self.text(start, self.i).to_string();
        if !in_group && matches!(self.peek(), Some(Kind::Special(','))) {
            // `Smith, John <js@example.com>`: the comma was meant as part of the name.
            let save = self.i;
            self.i += 1;
            let next = self.element(false);
            self.i = save;
            if let Ok(Some(Address::Mailbox(Mailbox {
                name: Some(n),
                email,
            }))) = next
            {
                return Err(format!(
                    "an unquoted comma separates addresses; if \"{typed}, {n}\" is one name, quote it: {} <{email}>",
                    quote(&format!("{typed}, {n}"))
                ));
            }
        }
        Err(format!(
            "\"{}\" is not an address: expected name@example.com or Name <name@example.com>",
            cut(&typed)
        ))
    }

    /// After '<': [obs-route] addr-spec '>'.
    fn angle_addr(&mut self) -> Result<AddrSpec, String> {
        let open = self.i - 1;
        self.comments();
        // obs-route (`<@relay.example:user@example.com>`): readers ignore it, so do we.
        if matches!(self.peek(), Some(Kind::Special('@'))) {
            while !matches!(self.peek(), None | Some(Kind::Special(':' | '>'))) {
                self.i += 1;
            }
            if matches!(self.peek(), Some(Kind::Special(':'))) {
                self.i += 1;
            }
        }
        let start = self.i;
        let mut local = String::new();
        let mut words = 0;
        while let Some(k) = self.peek() {
            match k {
                Kind::Atom(a) | Kind::Quoted(a) => {
                    if words > 0 && self.toks[self.i].ws_before {
                        return Err(format!("a space inside <{}>", self.text(start, self.i + 1)));
                    }
                    local.push_str(a);
                    words += 1;
                }
                Kind::Comment(_) => {}
                _ => break,
            }
            self.i += 1;
        }
        match self.peek() {
            Some(Kind::Special('@')) if words > 0 => self.i += 1,
            Some(Kind::Special('>')) if words == 0 => {
                return Err("<> is empty: put an address inside".into())
            }
            _ => {
                let inner = self.text(open, self.i + 1);
                return Err(format!(
                    "{} is not an address: expected <name@example.com>",
                    cut(inner)
                ));
            }
        }
        let email = self.domain(local)?;
        self.comments();
        match self.peek() {
            Some(Kind::Special('>')) => {
                self.i += 1;
                Ok(email)
            }
            _ => Err(format!(
                "'<' at \"{}\" is not closed with '>'",
                cut(self.text(open, self.toks.len()))
            )),
        }
    }

    /// After '@': the domain, checked and converted to A-labels.
    fn domain(&mut self, local: String) -> Result<AddrSpec, String> {
        self.comments();
        let tok = self.toks.get(self.i).cloned();
        let domain = match tok.as_ref().map(|t| &t.kind) {
            Some(Kind::Literal(l)) => l.clone(),
            Some(Kind::Atom(d)) => {
                if !d.split('.').all(|l| !l.is_empty()) {
                    return Err(format!("the domain {d:?} has an empty label"));
                }
                to_ascii_domain(d)?
            }
            _ => return Err(format!("no domain after \"{local}@\"")),
        };
        self.i += 1;
        if local.is_empty() {
            return Err("the part before '@' is empty".into());
        }
        let spec = AddrSpec { local, domain };
        let len = spec.to_string().len();
        if len > 254 {
            return Err(format!(
                "the address is {len} characters long; mail servers take at most 254"
            ));
        }
        Ok(spec)
    }

    fn comments(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(Kind::Comment(c)) = self.peek() {
            out.push(decode_words_in(c));
            self.i += 1;
        }
        out.retain(|c| !c.trim().is_empty());
        out
    }
}

fn paren(comments: &[String]) -> String {
    comments
        .iter()
        .map(|c| format!("({c})"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `bücher.example` → `xn--bcher-kva.example`; ASCII domains stay as typed.
pub fn to_ascii_domain(d: &str) -> Result<String, String> {
    if d.is_ascii() {
        return Ok(d.to_string());
    }
    idna::domain_to_ascii(d)
        .map_err(|_| format!("{d:?} is not a valid internationalised domain name"))
}

/// The display name a phrase stands for: words joined by single spaces, comments kept in
/// parentheses, encoded words decoded (with no space between two adjacent ones).
fn phrase_text(phrase: &[Tok]) -> Option<String> {
    let mut out = String::new();
    let mut prev_encoded = false;
    for (i, t) in phrase.iter().enumerate() {
        let (text, encoded) = match &t.kind {
            Kind::Atom(a) => match decode_word(a) {
                Some(d) => (d, true),
                None => (a.clone(), false),
            },
            Kind::Quoted(q) => (q.clone(), false),
            Kind::Comment(c) => (format!("({})", decode_words_in(c)), false),
            _ => continue,
        };
        let sep = i > 0
            && !(prev_encoded && encoded)
            && (t.ws_before
                || matches!(t.kind, Kind::Comment(_))
                || matches!(phrase[i - 1].kind, Kind::Comment(_)));
        if sep {
            out.push(' ');
        }
        out.push_str(&text);
        prev_encoded = encoded;
    }
    let n = out.trim();
    (!n.is_empty()).then(|| n.to_string())
}

/// One RFC 2047 encoded word (`=?charset?B|Q?text?=`) decoded, or None when `w` is not one.
pub(crate) fn decode_word(w: &str) -> Option<String> {
    if !(w.starts_with("=?") && w.ends_with("?=") && w.len() > 6) {
        return None;
    }
    let bytes = &w.as_bytes()[1..];
    let mut stream = mail_parser::parsers::MessageStream::new(bytes);
    let decoded = stream.decode_rfc2047()?;
    (stream.offset() == bytes.len()).then_some(decoded)
}

/// Encoded words inside comment text, decoded word by word.
fn decode_words_in(text: &str) -> String {
    if !text.contains("=?") {
        return text.to_string();
    }
    let mut out = String::new();
    let mut prev_encoded = false;
    for (i, w) in text.split(' ').enumerate() {
        let (t, enc) = match decode_word(w) {
            Some(d) => (d, true),
            None => (w.to_string(), false),
        };
        if i > 0 && !(enc && prev_encoded) {
            out.push(' ');
        }
        out.push_str(&t);
        prev_encoded = enc;
    }
    out
}
