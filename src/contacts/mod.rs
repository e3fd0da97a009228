//! Contacts: who mail can go to, from three sources — the recipients of delivered
//! messages (`history`), a mutt aliases file (`aliases`) and an outside address-book
//! command (`book`) — merged by address and ranked by how well they match, how often
//! and how lately they were used. Knows nothing of transports or the UI.

pub mod aliases;
pub mod book;
pub mod entries;
pub mod history;

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

use nucleo_matcher::pattern::{AtomKind, CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32String};
use serde::Serialize;

pub use aliases::Aliases;
pub use history::{History, Used};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    History,
    Alias,
    AddressBook,
}

impl Source {
    pub fn label(self) -> &'static str {
        match self {
            Source::History => "history",
            Source::Alias => "alias",
            Source::AddressBook => "address_book",
        }
    }
}

/// One person at one address, as `missive contacts --json` prints it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Contact {
    pub name: Option<String>,
    pub address: String,
    pub source: Source,
    /// The alias nick, for an alias.
    #[serde(skip)]
    pub nick: Option<String>,
    /// Deliveries to this address, and the last one (unix seconds).
    #[serde(skip)]
    pub count: u32,
    #[serde(skip)]
    pub last: i64,
}

impl Contact {
    pub fn new(name: Option<String>, address: String, source: Source) -> Contact {
        Contact {
            name,
            address,
            source,
            nick: None,
            count: 0,
            last: 0,
        }
    }

    /// The entry as it goes into a recipient field: `Name <addr>`, the name quoted or
    /// left bare as the address parser writes it.
    pub fn entry(&self) -> String {
        let Ok(list) = crate::address::parse_list(&self.address) else {
            return self.address.clone();
        };
        match list.as_slice() {
            [crate::address::Address::Mailbox(m)] => {
                let mut m = m.clone();
                m.name = self.name.clone().filter(|n| !n.trim().is_empty());
                m.to_string()
            }
            _ => self.address.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ContactsError {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for ContactsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        write!(f, ": {}", crate::escape::cut(&self.message, 500))
    }
}

impl std::error::Error for ContactsError {}

const DAY: i64 = 86_400;

/// How much a use history weighs: more uses count less and less, older ones fade.
pub fn frecency(count: u32, last: i64, now: i64) -> f64 {
    if count == 0 {
        return 0.0;
    }
    let age = (now - last).max(0);
    let recency = if age < 3 * DAY {
        1.0
    } else if age < 30 * DAY {
        0.7
    } else if age < 365 * DAY {
        0.4
    } else {
        0.2
    };
    (1.0 + f64::from(count)).ln() * recency
}

/// What a fuzzy score is worth next to frecency: a better match wins unless the other
/// was used much more, and lately.
const FRECENCY_WEIGHT: f64 = 12.0;
/// An alias is something the person chose to name.
const ALIAS_BONUS: f64 = 6.0;

/// The local contacts (history and aliases) merged by address, ready to search.
#[derive(Default)]
pub struct Book {
    items: Vec<Contact>,
    /// What each item is matched on: nick, name and address.
    hay: Vec<Utf32String>,
    /// Every item's address, lowercased: an address book's answer for one of them is
    /// not listed twice.
    known: std::collections::HashSet<String>,
}

thread_local! {
    // A matcher owns a scoring matrix of about 100 KB: allocating one per keystroke
    // costs more than matching a thousand contacts.
    static MATCHER: std::cell::RefCell<Matcher> = std::cell::RefCell::new(Matcher::new(Config::DEFAULT));
}

impl Book {
    pub fn new(history: Vec<Used>, aliases: &Aliases) -> Book {
        let mut items: Vec<Contact> = Vec::new();
        let mut by_addr: HashMap<String, usize> = HashMap::new();
        for (alias, addrs) in aliases.all() {
            for m in addrs.iter().flat_map(|a| a.mailboxes()) {
                let address = m.email.to_string();
                let key = address.to_lowercase();
                if by_addr.contains_key(&key) {
                    continue;
                }
                by_addr.insert(key, items.len());
                let mut c = Contact::new(m.name.clone(), address, Source::Alias);
                c.nick = Some(alias.nick.clone());
                items.push(c);
            }
        }
        for u in history {
            match by_addr.get(&u.address.to_lowercase()) {
                Some(&i) => {
                    let c = &mut items[i];
                    c.count = c.count.saturating_add(u.count);
                    c.last = c.last.max(u.last);
                    if c.name.is_none() {
                        c.name = u.name;
                    }
                }
                None => {
                    by_addr.insert(u.address.to_lowercase(), items.len());
                    let mut c = Contact::new(u.name, u.address, Source::History);
                    c.count = u.count;
                    c.last = u.last;
                    items.push(c);
                }
            }
        }
        let hay = items.iter().map(haystack).collect();
        let known = by_addr.into_keys().collect();
        Book { items, hay, known }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The best `limit` matches for `query` among these contacts and `extra` (an
    /// address book's answer; an address already known keeps its local entry), best
    /// first. An empty query lists by use alone.
    pub fn search(&self, query: &str, extra: &[Contact], limit: usize, now: i64) -> Vec<Contact> {
        MATCHER.with(|m| match m.try_borrow_mut() {
            Ok(mut matcher) => self.search_with(&mut matcher, query, extra, limit, now),
            // Only reachable if a search ran inside a search; a fresh matcher is correct.
            Err(_) => {
                let mut matcher = Matcher::new(Config::DEFAULT);
                self.search_with(&mut matcher, query, extra, limit, now)
            }
        })
    }

    fn search_with(
        &self,
        matcher: &mut Matcher,
        query: &str,
        extra: &[Contact],
        limit: usize,
        now: i64,
    ) -> Vec<Contact> {
        let pattern = Pattern::new(
            query.trim(),
            CaseMatching::Ignore,
            Normalization::Smart,
            AtomKind::Fuzzy,
        );
        let empty = query.trim().is_empty();
        let mut scored: Vec<(f64, &Contact)> = Vec::new();
        for (c, h) in self.items.iter().zip(&self.hay) {
            let fuzzy = if empty {
                Some(0)
            } else {
                pattern.score(h.slice(..), matcher)
            };
            if let Some(s) = fuzzy {
                scored.push((rank(s, c, now), c));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for c in extra {
            let key = c.address.to_lowercase();
            if self.known.contains(&key) || !seen.insert(key) {
                continue;
            }
            let h = haystack(c);
            // The command already chose what matches (it may match on fields we do not
            // see): whatever it found stays, ranked by how well it matches here.
            let s = if empty {
                0
            } else {
                pattern.score(h.slice(..), matcher).unwrap_or(0)
            };
            scored.push((rank(s, c, now), c));
        }
        let order = |a: &(f64, &Contact), b: &(f64, &Contact)| b.0.total_cmp(&a.0);
        if scored.len() > limit && limit > 0 {
            scored.select_nth_unstable_by(limit - 1, order);
            scored.truncate(limit);
        }
        scored.sort_by(order);
        scored
            .into_iter()
            .take(limit)
            .map(|(_, c)| c.clone())
            .collect()
    }
}

fn rank(fuzzy: u32, c: &Contact, now: i64) -> f64 {
    let alias = if c.source == Source::Alias {
        ALIAS_BONUS
    } else {
        0.0
    };
    f64::from(fuzzy) + FRECENCY_WEIGHT * frecency(c.count, c.last, now) + alias
}

fn haystack(c: &Contact) -> Utf32String {
    let mut s = String::new();
    if let Some(n) = &c.nick {
        s.push_str(n);
        s.push(' ');
    }
    if let Some(n) = &c.name {
        s.push_str(n);
        s.push(' ');
    }
    s.push_str(&c.address);
    Utf32String::from(s)
}

/// Now, in unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
