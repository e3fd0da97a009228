//! The sent log: one JSON object a line for every delivered message (time, message_id,
//! subject, transport, kind, server_id, recipients, bytes). It is also the record that a
//! Message-ID was delivered, which drafts and the outbox consult so nothing goes twice.

use std::collections::HashSet;
use std::io::{BufRead, Write};
use std::path::PathBuf;

use serde::Serialize;

/// A line longer than this is not ours (or is damaged) and is skipped, not buffered.
const MAX_LINE: usize = 1 << 20;

pub struct SentLog {
    pub path: PathBuf,
}

impl SentLog {
    pub fn new(path: PathBuf) -> SentLog {
        SentLog { path }
    }

    /// Append one record. Not fsync'ed: the record must land as soon as possible after
    /// the server's acceptance (a process killed in between sends the message again), and
    /// a written line survives the process whatever happens to it.
    pub fn append<T: Serialize>(
        &self,
        time: &str,
        subject: &str,
        uncertain: bool,
        record: &T,
    ) -> std::io::Result<()> {
        let mut line = serde_json::json!({ "time": time, "subject": subject });
        if uncertain {
            // It may have arrived twice: an earlier attempt's fate was unknown.
            line["uncertain"] = true.into();
        }
        if let (Some(obj), Ok(serde_json::Value::Object(rest))) =
            (line.as_object_mut(), serde_json::to_value(record))
        {
            obj.extend(rest);
        }
        let mut f = crate::paths::open_append_private(&self.path)?;
        let mut bytes = line.to_string().into_bytes();
        bytes.push(b'\n');
        // One write call: concurrent appenders (O_APPEND) never interleave inside a line.
        f.write_all(&bytes)
    }

    /// Visit each record's (message_id, time); stops early when `f` returns false. With
    /// `needle`, lines that do not contain it are not parsed at all.
    fn scan(&self, needle: Option<&[u8]>, mut f: impl FnMut(&str, &str) -> bool) {
        let finder = needle.map(memchr::memmem::Finder::new);
        let Ok(file) = std::fs::File::open(&self.path) else {
            return;
        };
        let mut r = std::io::BufReader::new(file);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match std::io::Read::take(&mut r, MAX_LINE as u64 + 1).read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if buf.len() > MAX_LINE {
                // Skip the rest of an overlong line.
                let mut sink = Vec::new();
                if r.read_until(b'\n', &mut sink).is_err() {
                    return;
                }
                continue;
            }
            if finder.as_ref().is_some_and(|n| n.find(&buf).is_none()) {
                continue;
            }
            let Ok(v) = serde_json::from_slice::<serde_json::Value>(&buf) else {
                continue;
            };
            let id = v.get("message_id").and_then(|x| x.as_str()).unwrap_or("");
            let time = v.get("time").and_then(|x| x.as_str()).unwrap_or("");
            if !id.is_empty() && !f(id, time) {
                return;
            }
        }
    }

    /// When the message with this Message-ID was delivered, if it was.
    pub fn delivered(&self, message_id: &str) -> Option<String> {
        let mut found = None;
        // The log grows by a line a message and this runs before every send: parsing only
        // the lines that can match keeps it linear in bytes, not in JSON values. An id
        // JSON would escape cannot be searched for as it is.
        let plain = !message_id
            .chars()
            .any(|c| c == '"' || c == '\\' || c.is_control());
        let needle = plain.then_some(message_id.as_bytes());
        self.scan(needle, |id, time| {
            if id == message_id {
                found = Some(time.to_string());
                false
            } else {
                true
            }
        });
        found
    }

    pub fn delivered_ids(&self) -> HashSet<String> {
        let mut set = HashSet::new();
        self.scan(None, |id, _| {
            set.insert(id.to_string());
            true
        });
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_finds() {
        let d = tempfile::tempdir().unwrap();
        let log = SentLog::new(d.path().join("sent.log"));
        assert!(log.delivered("<a@x>").is_none());
        log.append(
            "T1",
            "Hello",
            false,
            &serde_json::json!({"message_id": "<a@x>"}),
        )
        .unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&log.path)
            .unwrap()
            .write_all(b"not json\n")
            .unwrap();
        log.append("T2", "", true, &serde_json::json!({"message_id": "<b@x>"}))
            .unwrap();
        assert_eq!(log.delivered("<b@x>").as_deref(), Some("T2"));
        // An id JSON escapes is found too (the fast path cannot search for it).
        log.append(
            "T3",
            "",
            false,
            &serde_json::json!({"message_id": "<\"q\"@x>"}),
        )
        .unwrap();
        assert_eq!(log.delivered("<\"q\"@x>").as_deref(), Some("T3"));
        assert!(log.delivered("<b@y>").is_none());
        assert_eq!(log.delivered_ids().len(), 3);
        let text = std::fs::read_to_string(&log.path).unwrap();
        assert!(text.contains("\"subject\":\"Hello\""));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&log.path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
