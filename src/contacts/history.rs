//! Everyone mail was delivered to, with the name they were written with, how often and
//! when last: `contacts.json` in the data dir (private). Bounded: the least used entries
//! go first once there are `MAX_ENTRIES`, and a file over `MAX_HISTORY_BYTES` is not read.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ContactsError;

pub const MAX_ENTRIES: usize = 5000;
pub const MAX_HISTORY_BYTES: u64 = 4 * 1024 * 1024;
/// Longer names are cut (a header can carry anything).
const MAX_NAME_CHARS: usize = 200;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Used {
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub count: u32,
    /// Unix seconds of the last delivery.
    pub last: i64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    #[serde(default)]
    recipients: Vec<Used>,
}

pub struct History {
    path: PathBuf,
}

impl History {
    pub fn new(path: PathBuf) -> History {
        History { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What was recorded; no file yet is an empty history.
    pub fn load(&self) -> Result<Vec<Used>, ContactsError> {
        let err = |message: String| ContactsError {
            path: self.path.clone(),
            line: None,
            message,
        };
        let bytes = match crate::regular_file::read(&self.path, MAX_HISTORY_BYTES) {
            Ok(b) => b,
            Err(_) if !self.path.exists() => return Ok(Vec::new()),
            Err(e) => return Err(err(format!("cannot read the recipient history: {e}"))),
        };
        let f: File = serde_json::from_slice(&bytes)
            .map_err(|e| err(format!("the recipient history is damaged ({e})")))?;
        Ok(f.recipients)
    }

    /// Count one delivery to each of `rcpts` (address, name from the header if any).
    pub fn record(&self, rcpts: &[(String, Option<String>)], now: i64) -> std::io::Result<()> {
        if rcpts.is_empty() {
            return Ok(());
        }
        // Two sends finishing at once (the relay, two composers) must not lose a count.
        let lock_path = self.path.with_extension("lock");
        if let Some(dir) = self.path.parent() {
            crate::paths::create_private_dir(dir)?;
        }
        let lock = crate::paths::open_append_private(&lock_path)?;
        lock.lock()?;
        // A damaged file is replaced rather than blocking every later record.
        let mut list = self.load().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "starting a new recipient history");
            Vec::new()
        });
        let mut index: std::collections::HashMap<String, usize> = list
            .iter()
            .enumerate()
            .map(|(i, u)| (u.address.to_lowercase(), i))
            .collect();
        for (addr, name) in rcpts {
            let name = name
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty() && !n.eq_ignore_ascii_case(addr))
                .map(|n| n.chars().take(MAX_NAME_CHARS).collect::<String>());
            match index.get(&addr.to_lowercase()) {
                Some(&i) => {
                    let u = &mut list[i];
                    u.count = u.count.saturating_add(1);
                    u.last = now;
                    if name.is_some() {
                        u.name = name;
                    }
                }
                None => {
                    index.insert(addr.to_lowercase(), list.len());
                    list.push(Used {
                        address: addr.clone(),
                        name,
                        count: 1,
                        last: now,
                    });
                }
            }
        }
        if list.len() > MAX_ENTRIES {
            list.sort_by(|a, b| {
                super::frecency(b.count, b.last, now)
                    .total_cmp(&super::frecency(a.count, a.last, now))
            });
            list.truncate(MAX_ENTRIES);
        }
        let bytes =
            serde_json::to_vec(&File { recipients: list }).map_err(std::io::Error::other)?;
        // Whom mail went to is a convenience for completion, not a record anything
        // depends on: a power cut may cost the last few counts, never a message, and
        // nothing waits for the disk after each delivery.
        crate::paths::write_private_unsynced(&self.path, &bytes)
    }
}

/// Recipients of a delivered message: every envelope address, named as its To/Cc/Bcc
/// header names it (the header is read back with an independent parser, so encoded
/// names come back decoded).
pub fn recipients_of(raw: &[u8], envelope: &[String]) -> Vec<(String, Option<String>)> {
    let mut names: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    if let Some(m) = mail_parser::MessageParser::default().parse_headers(raw) {
        for list in [m.to(), m.cc(), m.bcc()].into_iter().flatten() {
            for a in list.iter() {
                if let (Some(addr), Some(name)) = (a.address(), a.name()) {
                    names.insert(addr.to_lowercase(), name.to_string());
                }
            }
        }
    }
    envelope
        .iter()
        .map(|a| (a.clone(), names.get(&a.to_lowercase()).cloned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_counts_names_and_stays_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let h = History::new(dir.path().join("d/contacts.json"));
        assert!(h.load().unwrap().is_empty());
        h.record(&[("a@x.y".into(), Some("Ann".into()))], 100)
            .unwrap();
        h.record(&[("A@x.y".into(), None), ("b@x.y".into(), None)], 200)
            .unwrap();
        let l = h.load().unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(
            (l[0].count, l[0].last, l[0].name.as_deref()),
            (2, 200, Some("Ann"))
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(h.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let many: Vec<(String, Option<String>)> = (0..MAX_ENTRIES + 10)
            .map(|i| (format!("u{i}@x.y"), None))
            .collect();
        h.record(&many, 300).unwrap();
        let l = h.load().unwrap();
        assert_eq!(l.len(), MAX_ENTRIES);
        // The one used twice is kept.
        assert!(l.iter().any(|u| u.address == "a@x.y" && u.count == 2));
    }

    #[test]
    fn names_come_from_the_headers() {
        let raw = b"To: =?utf-8?b?7LqQ65+0?= <c@x.y>, d@x.y\r\nCc: \"Doe, J\" <j@x.y>\r\n\r\nbody";
        let r = recipients_of(
            raw,
            &[
                "c@x.y".into(),
                "d@x.y".into(),
                "j@x.y".into(),
                "e@x.y".into(),
            ],
        );
        assert_eq!(r[0].1.as_deref(), Some("캐럴"));
        assert_eq!(r[1].1, None);
        assert_eq!(r[2].1.as_deref(), Some("Doe, J"));
        assert_eq!(r[3].1, None);
    }
}
