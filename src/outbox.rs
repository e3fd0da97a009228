//! Messages that failed to send: `outbox/<name>.eml` (the exact bytes) beside
//! `outbox/<name>.json` (transport, envelope, attempts, last error). The .json is written
//! last, so an entry without one is an interrupted write and is ignored.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::message::Envelope;
use crate::paths::write_atomic;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
}

#[derive(Clone, Debug, PartialEq)]
pub struct OutboxEntry {
    pub name: String,
    pub eml: PathBuf,
    pub json: PathBuf,
    pub meta: OutboxMeta,
}

pub struct Outbox {
    pub dir: PathBuf,
}

pub fn now_rfc3339() -> String {
    chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

impl Outbox {
    pub fn new(dir: PathBuf) -> Self {
        Outbox { dir }
    }

    pub fn put(&self, raw: &[u8], meta: &OutboxMeta) -> std::io::Result<PathBuf> {
        // Names sort in queue order (`list` and `flush` go by name), so the stamp is UTC
        // (local time steps back an hour each autumn) down to microseconds (messages
        // queued within one second keep their order).
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%6fZ");
        let id = uuid::Uuid::new_v4().simple().to_string();
        let name = format!("{stamp}-{}", &id[..8]);
        let eml = self.dir.join(format!("{name}.eml"));
        write_atomic(&eml, raw)?;
        self.write_meta(&self.dir.join(format!("{name}.json")), meta)?;
        Ok(eml)
    }

    fn write_meta(&self, path: &Path, meta: &OutboxMeta) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(meta).map_err(std::io::Error::other)?;
        write_atomic(path, &json)
    }

    pub fn list(&self) -> Vec<OutboxEntry> {
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut out: Vec<OutboxEntry> = rd
            .filter_map(Result::ok)
            .filter_map(|e| {
                let json = e.path();
                if json.extension()? != "json" {
                    return None;
                }
                let name = json.file_stem()?.to_string_lossy().into_owned();
                let eml = self.dir.join(format!("{name}.eml"));
                if !eml.is_file() {
                    return None;
                }
                let meta: OutboxMeta = match std::fs::read(&json)
                    .map_err(|e| e.to_string())
                    .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
                {
                    Ok(m) => m,
                    Err(e) => {
                        // Not sent, not listed: at least leave a trace of why.
                        tracing::warn!(path = %json.display(), error = %e, "unreadable outbox entry skipped");
                        return None;
                    }
                };
                Some(OutboxEntry {
                    name,
                    eml,
                    json,
                    meta,
                })
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    pub fn record_failure(&self, entry: &OutboxEntry, error: &str) -> std::io::Result<()> {
        let mut meta = entry.meta.clone();
        meta.attempts += 1;
        meta.last_attempt = now_rfc3339();
        meta.last_error = error.to_string();
        self.write_meta(&entry.json, &meta)
    }

    /// Remove a delivered message: the .json first, so a crash in between leaves an
    /// orphan .eml that `list` ignores rather than an entry that would be sent again.
    pub fn remove(&self, entry: &OutboxEntry) -> std::io::Result<()> {
        std::fs::remove_file(&entry.json)?;
        std::fs::remove_file(&entry.eml)
    }

    /// One flush at a time: two concurrent flushes could each send the same message.
    ///
    /// The lock file is made complete (holding our pid) under a temporary name and then
    /// hard-linked into place, which fails if a lock exists: another flush never sees a
    /// lock without its pid and mistakes it for a stale one.
    pub fn lock(&self) -> std::io::Result<FlushLock> {
        crate::paths::ensure_dir(&self.dir)?;
        let path = self.dir.join(".flush.lock");
        let tmp = self.dir.join(format!(
            ".flush.lock.{}.{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::write(&tmp, std::process::id().to_string())?;
        let result = self.take_lock(&tmp, &path);
        let _ = std::fs::remove_file(&tmp);
        result
    }

    fn take_lock(&self, tmp: &Path, path: &Path) -> std::io::Result<FlushLock> {
        let busy = |pid: &str| {
            std::io::Error::new(
                std::io::ErrorKind::WouldBlock,
                format!(
                    "another flush is running (pid {}); lock {}",
                    pid.trim(),
                    path.display()
                ),
            )
        };
        for _ in 0..10 {
            match std::fs::hard_link(tmp, path) {
                Ok(()) => {
                    return Ok(FlushLock {
                        path: path.to_path_buf(),
                    })
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let pid = match std::fs::read_to_string(path) {
                        Ok(p) => p,
                        // Released in the meantime: try again.
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                        Err(e) => return Err(e),
                    };
                    if pid_alive(&pid) {
                        return Err(busy(&pid));
                    }
                    // Left by a flush that died. Move it aside rather than delete it, and
                    // look at what was moved: if another flush took the stale lock over
                    // first, this is its fresh lock, which goes back.
                    let aside = self.dir.join(format!(
                        ".flush.lock.stale.{}",
                        uuid::Uuid::new_v4().simple()
                    ));
                    match std::fs::rename(path, &aside) {
                        Ok(()) => {
                            let moved = std::fs::read_to_string(&aside).unwrap_or_default();
                            if moved.trim() != pid.trim() && pid_alive(&moved) {
                                let _ = std::fs::hard_link(&aside, path);
                                let _ = std::fs::remove_file(&aside);
                                return Err(busy(&moved));
                            }
                            let _ = std::fs::remove_file(&aside);
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(e),
                    }
                }
                // A file system without hard links: create it in place instead.
                Err(_) => {
                    let mut f = std::fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .open(path)?;
                    std::io::Write::write_all(&mut f, std::process::id().to_string().as_bytes())?;
                    return Ok(FlushLock {
                        path: path.to_path_buf(),
                    });
                }
            }
        }
        Err(std::io::Error::other(format!(
            "cannot take {}",
            path.display()
        )))
    }
}

fn pid_alive(pid: &str) -> bool {
    pid.trim()
        .parse::<u32>()
        .is_ok_and(|p| Path::new(&format!("/proc/{p}")).exists())
}

pub struct FlushLock {
    path: PathBuf,
}

impl Drop for FlushLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
