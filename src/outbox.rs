//! Messages that are not delivered yet: `outbox/<name>.eml` (the exact bytes) beside
//! `outbox/<name>.json` (transport, envelope, attempts, last error, state). The .json is
//! written last, so a complete entry always has both.
//!
//! One entry per Message-ID: queuing a message again (a draft re-sent after a correction)
//! replaces its entry. Entries that cannot be read are still listed, with what is wrong,
//! and nothing removes them but `outbox rm`.

pub mod journal;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::lock::FileLock;
use crate::message::{Draft, Envelope};
use crate::paths::write_private;

/// Metadata larger than this is damaged, not read (it holds a draft, so it may be big).
const MAX_META: u64 = 64 << 20;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OutboxMeta {
    pub transport: String,
    pub kind: String,
    pub envelope: Envelope,
    pub message_id: String,
    pub subject: String,
    pub created: String,
    pub attempts: u32,
    pub last_attempt: String,
    pub last_error: String,
    /// Refused for good (a 5xx for the message): `flush` skips it unless `--force`.
    #[serde(default)]
    pub permanent: bool,
    /// The connection was lost after the end of DATA: it may have been delivered.
    #[serde(default)]
    pub uncertain: bool,
    /// Set while a flush is handing it over; found set by a later flush, the earlier one
    /// died mid-send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sending: Option<String>,
    /// Set (SMTP) once the whole message was handed over during that send: only then can
    /// a send that died have delivered it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted: Option<String>,
    /// Recipients that already have it (a server took some, then said 452 for the rest);
    /// the envelope holds only those still to do.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delivered_to: Vec<String>,
    /// What it was built from, for `outbox edit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft: Option<Draft>,
}

impl OutboxMeta {
    /// A send that was marked in progress and never finished: could it have arrived? An
    /// SMTP send can only once its data was all handed over; for the other kinds there
    /// is no telling.
    pub fn interrupted_send_may_have_arrived(&self) -> bool {
        self.sending.is_some() && (self.kind != "smtp" || self.submitted.is_some())
    }

    /// "permanent", "uncertain", "queued".
    pub fn state(&self) -> &'static str {
        if self.permanent {
            "permanent"
        } else if self.uncertain {
            "uncertain"
        } else {
            "queued"
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct OutboxEntry {
    pub name: String,
    pub eml: PathBuf,
    pub json: PathBuf,
    pub meta: OutboxMeta,
}

/// An entry that cannot be sent as it is: listed with the problem, never touched by flush.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Damaged {
    pub name: String,
    pub eml: Option<PathBuf>,
    pub json: Option<PathBuf>,
    pub problem: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Listing {
    pub entries: Vec<OutboxEntry>,
    pub damaged: Vec<Damaged>,
}

pub struct Outbox {
    pub dir: PathBuf,
}

pub fn now_rfc3339() -> String {
    chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

fn new_name(message_id: &str) -> String {
    // Names sort in queue order, so the stamp is UTC (local time steps back an hour each
    // autumn) down to microseconds (messages queued within one second keep their order).
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%6fZ");
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{stamp}-{}{}", id_tag(message_id), &id[..4])
}

/// Eight hex digits of the Message-ID's hash, in the entry's name: finding a message's
/// entries reads only theirs, not every entry's metadata (a send does that twice, and an
/// outbox of thousands would make each send read thousands of files).
fn id_tag(message_id: &str) -> String {
    use sha2::Digest;
    let h = sha2::Sha256::digest(message_id.as_bytes());
    h[..4].iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether the entry `name` may hold `tag`'s message: a name from before the tags (eight
/// random digits) may hold any.
fn may_hold(name: &str, tag: &str) -> bool {
    match name.rsplit_once('-') {
        Some((_, suffix)) if suffix.len() == 12 => suffix.starts_with(tag),
        _ => true,
    }
}

fn read_meta(path: &Path) -> Result<OutboxMeta, String> {
    use std::io::Read;
    let f = std::fs::File::open(path).map_err(|e| format!("metadata unreadable: {e}"))?;
    let mut bytes = Vec::new();
    f.take(MAX_META + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("metadata unreadable: {e}"))?;
    if bytes.len() as u64 > MAX_META {
        return Err(format!("metadata over {MAX_META} bytes"));
    }
    serde_json::from_slice(&bytes).map_err(|e| format!("metadata damaged: {e}"))
}

impl Outbox {
    pub fn new(dir: PathBuf) -> Self {
        Outbox { dir }
    }

    /// Queue `raw`. An entry with the same Message-ID is replaced: the new one is complete
    /// on disk before the old one goes, so a crash in between leaves two copies of which
    /// flush sends only the newer.
    pub fn put(&self, raw: &[u8], meta: &OutboxMeta) -> std::io::Result<PathBuf> {
        self.put_replacing(raw, meta, &self.find(&meta.message_id))
    }

    /// `put`, replacing `old`: the entries of this message the caller found just before
    /// (a send that looked for them already need not scan the outbox again).
    pub fn put_replacing(
        &self,
        raw: &[u8],
        meta: &OutboxMeta,
        old: &[OutboxEntry],
    ) -> std::io::Result<PathBuf> {
        let mut meta = meta.clone();
        if let Some(o) = old.first() {
            meta.created = o.meta.created.clone();
            meta.attempts = meta.attempts.max(o.meta.attempts + 1);
        }
        let name = new_name(&meta.message_id);
        let eml = self.dir.join(format!("{name}.eml"));
        // One directory sync, after the .json, makes both names durable.
        crate::paths::write_private_name_pending(&eml, raw)?;
        if let Err(e) = self.write_meta(&self.dir.join(format!("{name}.json")), &meta) {
            let _ = std::fs::remove_file(&eml);
            return Err(e);
        }
        for o in old {
            if let Err(e) = self.remove(o) {
                tracing::warn!(entry = %o.name, error = %e, "could not remove the replaced outbox entry");
            }
        }
        Ok(eml)
    }

    fn write_meta(&self, path: &Path, meta: &OutboxMeta) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(meta).map_err(std::io::Error::other)?;
        write_private(path, &json)
    }

    /// Record an attempt or a mark on an entry. Not fsync'ed: the entry itself is on
    /// disk since `put`; what changes here (attempts, errors, the marks a flush leaves
    /// while it sends) only has to survive the process, and a flush of many messages
    /// would otherwise wait for the disk several times a message.
    pub fn update(&self, entry: &OutboxEntry, meta: &OutboxMeta) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(meta).map_err(std::io::Error::other)?;
        crate::paths::write_atomic_unsynced(&entry.json, &json)
    }

    /// For a flush that holds the lock: the marks a flush that died left in the journal
    /// go into the entry's .json (so they outlive the next flush's own marks), and the
    /// journal is opened for this flush's.
    pub fn open_journal(&self) -> std::io::Result<journal::Journal> {
        let j = journal::Journal::open(&self.dir)?;
        if let Some(mark) = journal::read(&self.dir) {
            if let Some(e) = self.list().into_iter().find(|e| e.name == mark.entry) {
                self.update(&e, &e.meta)?;
            }
            j.clear()?;
        }
        Ok(j)
    }

    /// Every entry, damaged ones apart, in queue order.
    pub fn scan(&self) -> Listing {
        crate::paths::clean_stale_temps(&self.dir);
        self.scan_where(|_| true)
    }

    /// `scan` of the entries whose name passes `wanted`; the others are not read.
    fn scan_where(&self, wanted: impl Fn(&str) -> bool) -> Listing {
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return Listing::default();
        };
        // name → (has .eml, has .json)
        let mut names: BTreeMap<String, (bool, bool)> = BTreeMap::new();
        for e in rd.filter_map(Result::ok) {
            let file = e.file_name();
            let Some(file) = file.to_str() else {
                continue;
            };
            if file.starts_with('.') {
                continue;
            }
            if let Some(stem) = file.strip_suffix(".eml") {
                names.entry(stem.to_string()).or_default().0 = true;
            } else if let Some(stem) = file.strip_suffix(".json") {
                names.entry(stem.to_string()).or_default().1 = true;
            }
        }
        let mut out = Listing::default();
        let mark = journal::read(&self.dir);
        for (name, (has_eml, has_json)) in names.into_iter().filter(|(n, _)| wanted(n)) {
            let eml = self.dir.join(format!("{name}.eml"));
            let json = self.dir.join(format!("{name}.json"));
            let damaged = |problem: String| Damaged {
                name: name.clone(),
                eml: has_eml.then(|| eml.clone()),
                json: has_json.then(|| json.clone()),
                problem,
            };
            if !has_json {
                out.damaged.push(damaged(
                    "no metadata (.json): it was not written (a full disk or a crash?)".into(),
                ));
                continue;
            }
            match read_meta(&json) {
                Err(p) => out.damaged.push(damaged(p)),
                Ok(_) if !has_eml => {
                    out.damaged
                        .push(damaged("the message itself (.eml) is missing".into()));
                }
                Ok(mut meta) => {
                    if let Some(m) = mark.as_ref().filter(|m| m.entry == name) {
                        meta.sending = m.sending.clone().or(meta.sending);
                        meta.submitted = m.submitted.clone().or(meta.submitted);
                    }
                    out.entries.push(OutboxEntry {
                        name,
                        eml,
                        json,
                        meta,
                    })
                }
            }
        }
        out
    }

    /// The entries that can be sent, in queue order.
    pub fn list(&self) -> Vec<OutboxEntry> {
        self.scan().entries
    }

    /// Entries holding this Message-ID (one, unless a crash interrupted a replacement).
    pub fn find(&self, message_id: &str) -> Vec<OutboxEntry> {
        let tag = id_tag(message_id);
        self.scan_where(|name| may_hold(name, &tag))
            .entries
            .into_iter()
            .filter(|e| e.meta.message_id == message_id)
            .collect()
    }

    /// An entry by name, unique name prefix or Message-ID (with or without `<>`).
    pub fn resolve(&self, id: &str) -> Result<Result<OutboxEntry, Damaged>, String> {
        let listing = self.scan();
        let bare = id.trim().trim_start_matches('<').trim_end_matches('>');
        if let Some(e) = listing
            .entries
            .iter()
            .find(|e| e.name == id || e.meta.message_id.trim_matches(['<', '>']) == bare)
        {
            return Ok(Ok(e.clone()));
        }
        if let Some(d) = listing.damaged.iter().find(|d| d.name == id) {
            return Ok(Err(d.clone()));
        }
        let mut matches: Vec<Result<OutboxEntry, Damaged>> = listing
            .entries
            .into_iter()
            .filter(|e| !id.is_empty() && e.name.starts_with(id))
            .map(Ok)
            .chain(
                listing
                    .damaged
                    .into_iter()
                    .filter(|d| !id.is_empty() && d.name.starts_with(id))
                    .map(Err),
            )
            .collect();
        match matches.len() {
            1 => Ok(matches.remove(0)),
            0 => Err(format!(
                "no outbox entry {id:?} (see `missive outbox list`)"
            )),
            n => Err(format!(
                "{id:?} matches {n} outbox entries; give more of the name"
            )),
        }
    }

    /// Remove a delivered message: the .json first, so a crash in between leaves an
    /// orphan .eml (listed as damaged) rather than an entry that would be sent again.
    pub fn remove(&self, entry: &OutboxEntry) -> std::io::Result<()> {
        std::fs::remove_file(&entry.json)?;
        match std::fs::remove_file(&entry.eml) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            r => r,
        }
    }

    pub fn remove_damaged(&self, d: &Damaged) -> std::io::Result<()> {
        for p in [&d.json, &d.eml].into_iter().flatten() {
            match std::fs::remove_file(p) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    fn lock_path(&self) -> PathBuf {
        self.dir.join(".flush.lock")
    }

    /// The outbox lock, held by a flush for its whole run and by a send that replaces an
    /// entry. `Ok(None)`: someone else holds it.
    pub fn try_lock(&self) -> std::io::Result<Option<FileLock>> {
        crate::lock::try_lock(&self.lock_path())
    }

    /// Wait (up to `limit`) for another flush to finish.
    pub async fn lock_within(
        &self,
        limit: std::time::Duration,
    ) -> std::io::Result<Option<FileLock>> {
        crate::lock::lock_within(&self.lock_path(), limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(id: &str) -> OutboxMeta {
        OutboxMeta {
            transport: "t".into(),
            kind: "smtp".into(),
            envelope: Envelope {
                from: "a@x".into(),
                to: vec!["b@x".into()],
            },
            message_id: id.into(),
            subject: "s".into(),
            created: "c".into(),
            attempts: 1,
            last_attempt: "l".into(),
            last_error: "e".into(),
            permanent: false,
            uncertain: false,
            sending: None,
            submitted: None,
            delivered_to: vec![],
            draft: None,
        }
    }

    #[test]
    fn put_replaces_same_message_id() {
        let d = tempfile::tempdir().unwrap();
        let o = Outbox::new(d.path().join("outbox"));
        o.put(b"one", &meta("<m@x>")).unwrap();
        o.put(b"other", &meta("<n@x>")).unwrap();
        let p = o.put(b"two", &meta("<m@x>")).unwrap();
        let l = o.list();
        assert_eq!(l.len(), 2);
        let m: Vec<_> = l.iter().filter(|e| e.meta.message_id == "<m@x>").collect();
        assert_eq!(m.len(), 1);
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(m[0].meta.attempts, 2);
    }

    #[test]
    fn find_reads_only_entries_that_may_hold_the_message() {
        let d = tempfile::tempdir().unwrap();
        let ob = Outbox::new(d.path().to_path_buf());
        ob.put(b"a", &meta("<a@x>")).unwrap();
        ob.put(b"b", &meta("<b@x>")).unwrap();
        // An entry from before the tags, and one whose tag claims another message while
        // its metadata is damaged: the first is read, the second never is.
        let legacy = "20250101T000000000000Z-0123abcd";
        std::fs::write(d.path().join(format!("{legacy}.eml")), b"c").unwrap();
        let json = serde_json::to_vec(&meta("<a@x>")).unwrap();
        std::fs::write(d.path().join(format!("{legacy}.json")), json).unwrap();
        let other = format!("20250101T000000000001Z-{}0000", id_tag("<zzz@x>"));
        std::fs::write(d.path().join(format!("{other}.eml")), b"d").unwrap();
        std::fs::write(d.path().join(format!("{other}.json")), b"{damaged").unwrap();
        let found: Vec<String> = ob.find("<a@x>").into_iter().map(|e| e.name).collect();
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0], legacy);
        assert!(may_hold(&found[1], &id_tag("<a@x>")));
        assert_eq!(ob.find("<b@x>").len(), 1);
        assert_eq!(ob.scan().damaged.len(), 1);
    }

    #[test]
    fn damaged_entries_are_listed() {
        let d = tempfile::tempdir().unwrap();
        let o = Outbox::new(d.path().to_path_buf());
        std::fs::write(d.path().join("a.json"), b"{broken").unwrap();
        std::fs::write(d.path().join("a.eml"), b"x").unwrap();
        std::fs::write(d.path().join("b.eml"), b"x").unwrap();
        let mut m = serde_json::to_value(meta("<c@x>")).unwrap();
        m["attempts"] = serde_json::json!(-1);
        std::fs::write(d.path().join("c.json"), m.to_string()).unwrap();
        std::fs::write(d.path().join("c.eml"), b"x").unwrap();
        std::fs::write(
            d.path().join("e.json"),
            serde_json::to_vec(&meta("<e@x>")).unwrap(),
        )
        .unwrap();
        let l = o.scan();
        assert!(l.entries.is_empty());
        let names: Vec<_> = l.damaged.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c", "e"]);
        assert!(l.damaged[3].problem.contains(".eml"));
    }
}
