//! Saved drafts: `drafts/<id>.json`, each the whole `Draft` plus when and where it was
//! meant to go.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::message::Draft;
use crate::paths::write_atomic;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedDraft {
    pub id: String,
    pub saved: String,
    #[serde(default)]
    pub transport: Option<String>,
    pub draft: Draft,
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

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    pub fn save(
        &self,
        id: &str,
        transport: Option<&str>,
        draft: &Draft,
    ) -> std::io::Result<PathBuf> {
        let saved = SavedDraft {
            id: id.to_string(),
            saved: crate::outbox::now_rfc3339(),
            transport: transport.map(str::to_string),
            draft: draft.clone(),
        };
        let path = self.path(id);
        write_atomic(
            &path,
            &serde_json::to_vec_pretty(&saved).map_err(std::io::Error::other)?,
        )?;
        Ok(path)
    }

    pub fn load(&self, id: &str) -> Result<SavedDraft, String> {
        if id.is_empty() || id.contains(['/', '\\']) || id.starts_with('.') {
            return Err(format!("invalid draft id {id:?}"));
        }
        let path = self.path(id);
        let bytes = std::fs::read(&path).map_err(|e| {
            format!(
                "draft {id:?}: {} ({})",
                crate::message::io_reason(&e),
                path.display()
            )
        })?;
        serde_json::from_slice(&bytes).map_err(|e| format!("draft {}: {e}", path.display()))
    }

    pub fn remove(&self, id: &str) -> std::io::Result<()> {
        match std::fs::remove_file(self.path(id)) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            r => r,
        }
    }

    /// Newest first.
    pub fn list(&self) -> Vec<SavedDraft> {
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut v: Vec<SavedDraft> = rd
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .filter_map(|e| serde_json::from_slice(&std::fs::read(e.path()).ok()?).ok())
            .collect();
        v.sort_by(|a: &SavedDraft, b| b.saved.cmp(&a.saved).then(b.id.cmp(&a.id)));
        v
    }
}
