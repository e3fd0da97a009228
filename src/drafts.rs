//! Saved drafts: `drafts/<id>.json`, each the whole `Draft` plus when and where it was
//! meant to go.
//!
//! A draft that a live composer has open is locked (`drafts/.<id>.lock`, an OS advisory
//! lock held until that process ends or retires the draft): another window neither
//! offers it nor deletes it.

use std::collections::HashMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::message::Draft;
use crate::paths::write_private;

/// A draft file over this is damaged, not read.
const MAX_DRAFT: u64 = 64 << 20;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedDraft {
    pub id: String,
    pub saved: String,
    #[serde(default)]
    pub transport: Option<String>,
    pub draft: Draft,
}

/// What `missive drafts` shows about one draft.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DraftInfo {
    #[serde(flatten)]
    pub saved: SavedDraft,
    /// Open in a live composer (not this process).
    pub locked: bool,
    /// When its message was delivered (then it is a leftover, never offered).
    pub delivered: Option<String>,
    /// The outbox entry holding its failed send.
    pub outbox: Option<String>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DraftError {
    #[error("invalid draft id {0:?}")]
    InvalidId(String),
    #[error("draft {0} is open in another missive window")]
    Locked(String),
    #[error("{0}")]
    Io(String),
}

impl From<DraftError> for String {
    fn from(e: DraftError) -> String {
        e.to_string()
    }
}

pub struct Drafts {
    pub dir: PathBuf,
}

impl Drafts {
    pub fn new(dir: PathBuf) -> Self {
        Drafts { dir }
    }

    pub fn new_id() -> String {
        let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
        let id = uuid::Uuid::new_v4().simple().to_string();
        format!("{stamp}-{}", &id[..4])
    }

    fn check_id(id: &str) -> Result<(), DraftError> {
        if id.is_empty() || id.contains(['/', '\\', '\0']) || id.starts_with('.') {
            return Err(DraftError::InvalidId(id.to_string()));
        }
        Ok(())
    }

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    fn lock_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!(".{id}.lock"))
    }

    /// Take the draft for this process (the composer that edits it) until it exits.
    pub fn hold(&self, id: &str) -> Result<(), DraftError> {
        Self::check_id(id)?;
        match crate::lock::hold(&self.lock_path(id)) {
            Ok(true) => Ok(()),
            Ok(false) => Err(DraftError::Locked(id.to_string())),
            Err(e) => Err(DraftError::Io(format!("draft {id}: lock: {e}"))),
        }
    }

    pub fn is_locked_elsewhere(&self, id: &str) -> bool {
        crate::lock::locked_elsewhere(&self.lock_path(id))
    }

    /// Save (and hold) the draft. Refused when another process has it open: two windows
    /// writing one draft would lose one window's text.
    pub fn save(
        &self,
        id: &str,
        transport: Option<&str>,
        draft: &Draft,
    ) -> std::io::Result<PathBuf> {
        self.hold(id)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let saved = SavedDraft {
            id: id.to_string(),
            saved: crate::outbox::now_rfc3339(),
            transport: transport.map(str::to_string),
            draft: draft.clone(),
        };
        let path = self.path(id);
        write_private(
            &path,
            &serde_json::to_vec_pretty(&saved).map_err(std::io::Error::other)?,
        )?;
        Ok(path)
    }

    fn read(&self, id: &str) -> Result<SavedDraft, DraftError> {
        use std::io::Read;
        let path = self.path(id);
        let io = |e: std::io::Error| {
            DraftError::Io(format!(
                "draft {id:?}: {} ({})",
                crate::message::io_reason(&e),
                path.display()
            ))
        };
        let f = std::fs::File::open(&path).map_err(io)?;
        let mut bytes = Vec::new();
        f.take(MAX_DRAFT + 1).read_to_end(&mut bytes).map_err(io)?;
        if bytes.len() as u64 > MAX_DRAFT {
            return Err(DraftError::Io(format!(
                "draft {}: over {MAX_DRAFT} bytes",
                path.display()
            )));
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| DraftError::Io(format!("draft {}: {e}", path.display())))
    }

    /// Open a draft for editing: it is held by this process from now on.
    pub fn load(&self, id: &str) -> Result<SavedDraft, DraftError> {
        Self::check_id(id)?;
        let saved = self.read(id)?;
        self.hold(id)?;
        Ok(saved)
    }

    /// Read a draft without taking it (listing, `drafts rm` checks).
    pub fn peek(&self, id: &str) -> Result<SavedDraft, DraftError> {
        Self::check_id(id)?;
        self.read(id)
    }

    /// Delete a draft this process holds, or one nobody holds; never one that another
    /// window has open.
    pub fn remove(&self, id: &str) -> Result<(), DraftError> {
        Self::check_id(id)?;
        let lock = self.lock_path(id);
        let guard = if crate::lock::holds(&lock) {
            None
        } else {
            match crate::lock::try_lock(&lock) {
                Ok(Some(l)) => Some(l),
                Ok(None) => return Err(DraftError::Locked(id.to_string())),
                Err(e) => return Err(DraftError::Io(format!("draft {id}: lock: {e}"))),
            }
        };
        match std::fs::remove_file(self.path(id)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(DraftError::Io(format!("draft {id}: {e}")))
            }
            _ => {}
        }
        if guard.is_some() {
            // Still holding it: nobody else relies on this lock file.
            let _ = std::fs::remove_file(&lock);
        } else {
            crate::lock::release(&lock);
        }
        Ok(())
    }

    /// Every readable draft, newest first.
    pub fn list(&self) -> Vec<SavedDraft> {
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        crate::paths::clean_stale_temps(&self.dir);
        let mut v: Vec<SavedDraft> = rd
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().to_str()?.to_string();
                let id = name.strip_suffix(".json")?;
                if id.starts_with('.') {
                    return None;
                }
                self.read(id).ok()
            })
            .collect();
        v.sort_by(|a: &SavedDraft, b| b.saved.cmp(&a.saved).then(b.id.cmp(&a.id)));
        v
    }

    /// Drafts with their state: locked elsewhere, delivered, queued in the outbox.
    pub fn infos(
        &self,
        sent: &crate::sent_log::SentLog,
        outbox: &crate::outbox::Outbox,
    ) -> Vec<DraftInfo> {
        let delivered = sent.delivered_ids();
        let queued = outbox.list();
        self.list()
            .into_iter()
            .map(|saved| {
                let mid = saved.draft.message_id.clone();
                let is = |m: &str| mid.as_deref() == Some(m);
                DraftInfo {
                    locked: self.is_locked_elsewhere(&saved.id),
                    delivered: mid
                        .as_deref()
                        .filter(|m| delivered.contains(*m))
                        .and_then(|m| sent.delivered(m)),
                    outbox: queued
                        .iter()
                        .find(|e| is(&e.meta.message_id))
                        .map(|e| e.name.clone()),
                    saved,
                }
            })
            .collect()
    }

    /// Drafts a new composer may offer to resume: not open elsewhere, not delivered.
    pub fn offerable(
        &self,
        sent: &crate::sent_log::SentLog,
        outbox: &crate::outbox::Outbox,
    ) -> Vec<SavedDraft> {
        self.infos(sent, outbox)
            .into_iter()
            .filter(|i| !i.locked && i.delivered.is_none())
            .map(|i| i.saved)
            .collect()
    }

    /// A message was delivered: the drafts it was sent from are done. Drafts open in
    /// another window stay (that window is told when it tries to send).
    pub fn retire(&self, message_id: &str) {
        self.retire_from(&self.by_message_id(), message_id);
    }

    /// Each saved draft's id under its Message-ID: one read of the drafts for a flush
    /// that retires the drafts of many messages.
    pub fn by_message_id(&self) -> HashMap<String, Vec<String>> {
        let mut index: HashMap<String, Vec<String>> = HashMap::new();
        for d in self.list() {
            if let Some(mid) = d.draft.message_id {
                index.entry(mid).or_default().push(d.id);
            }
        }
        index
    }

    /// `retire`, with the drafts as `by_message_id` found them. A draft saved since is
    /// left, and never offered (its message is in the sent log).
    pub fn retire_from(&self, index: &HashMap<String, Vec<String>>, message_id: &str) {
        for id in index.get(message_id).into_iter().flatten() {
            match self.remove(id) {
                Ok(()) => tracing::info!(draft = %id, "draft retired: its message was delivered"),
                Err(e) => tracing::info!(draft = %id, error = %e, "delivered draft kept"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_draft_cannot_be_removed_by_another_open_file() {
        let d = tempfile::tempdir().unwrap();
        let drafts = Drafts::new(d.path().to_path_buf());
        let draft = Draft {
            subject: "x".into(),
            ..Default::default()
        };
        drafts.save("a1", None, &draft).unwrap();
        // Another process is simulated by a lock taken outside `hold`.
        let other = crate::lock::try_lock(&d.path().join(".b2.lock"))
            .unwrap()
            .unwrap();
        std::fs::write(
            d.path().join("b2.json"),
            serde_json::to_vec(&SavedDraft {
                id: "b2".into(),
                saved: "t".into(),
                transport: None,
                draft: draft.clone(),
            })
            .unwrap(),
        )
        .unwrap();
        assert!(drafts.is_locked_elsewhere("b2"));
        assert!(!drafts.is_locked_elsewhere("a1"));
        assert_eq!(drafts.remove("b2"), Err(DraftError::Locked("b2".into())));
        assert!(matches!(drafts.load("b2"), Err(DraftError::Locked(_))));
        drop(other);
        drafts.remove("b2").unwrap();
        drafts.remove("a1").unwrap();
        assert!(drafts.list().is_empty());
    }
}
