//! The marks a flush leaves while it hands an entry over ("sending", then "submitted"
//! once the last byte is out), kept in one small file overwritten in place instead of
//! rewriting the entry's .json twice a message: a flush of a thousand messages would
//! otherwise create and rename two thousand files.
//!
//! The journal is an overlay: readers apply it to the entry it names, and the next flush
//! writes it into that entry's .json (where the marks always lived) before it starts.
//! Like the .json marks it replaces, it is written without waiting for the disk: it has to
//! survive the process (a kill -9, a crash), and an in-place write of one record does.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Every record is written at offset 0 padded to this size, so a shorter record
/// overwrites a longer one completely in one write.
const RECORD: usize = 512;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Mark {
    /// The outbox entry's name.
    pub entry: String,
    pub sending: Option<String>,
    pub submitted: Option<String>,
}

pub fn path(outbox: &Path) -> PathBuf {
    outbox.join(".flush.journal")
}

/// The mark on record, if any (a missing, empty or unreadable journal has none).
pub fn read(outbox: &Path) -> Option<Mark> {
    use std::io::Read;
    let f = File::open(path(outbox)).ok()?;
    let mut buf = Vec::new();
    f.take(4 * RECORD as u64).read_to_end(&mut buf).ok()?;
    let text = std::str::from_utf8(&buf).ok()?.trim();
    if text.is_empty() {
        return None;
    }
    serde_json::from_str(text).ok()
}

/// The journal, open for one flush (which holds the outbox lock meanwhile).
pub struct Journal {
    file: File,
    path: PathBuf,
}

impl Journal {
    pub fn open(outbox: &Path) -> std::io::Result<Journal> {
        use std::os::unix::fs::OpenOptionsExt;
        crate::paths::create_private_dir(outbox)?;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path(outbox))?;
        Ok(Journal {
            file,
            path: path(outbox),
        })
    }

    pub fn mark(&self, mark: &Mark) -> std::io::Result<()> {
        let json = serde_json::to_vec(mark).map_err(std::io::Error::other)?;
        if json.len() >= RECORD {
            return Err(std::io::Error::other(format!(
                "outbox mark for {} is over {RECORD} bytes",
                mark.entry
            )));
        }
        self.write(&json)
    }

    pub fn clear(&self) -> std::io::Result<()> {
        self.write(b"")
    }

    /// At the end of a flush, when every mark is settled.
    pub fn remove(self) -> std::io::Result<()> {
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            r => r,
        }
    }

    fn write(&self, record: &[u8]) -> std::io::Result<()> {
        let mut buf = [b' '; RECORD];
        buf[..record.len()].copy_from_slice(record);
        buf[RECORD - 1] = b'\n';
        self.file.write_all_at(&buf, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shorter_mark_replaces_a_longer_one_and_clear_leaves_none() {
        let d = tempfile::tempdir().unwrap();
        let j = Journal::open(d.path()).unwrap();
        assert_eq!(read(d.path()), None);
        let long = Mark {
            entry: "20261202T000000000000Z-aaaaaaaa".into(),
            sending: Some("2026-12-02T00:00:00.000000Z".into()),
            submitted: Some("2026-12-02T00:00:01.000000Z".into()),
        };
        j.mark(&long).unwrap();
        assert_eq!(read(d.path()), Some(long.clone()));
        let short = Mark {
            entry: "b".into(),
            sending: Some("t".into()),
            submitted: None,
        };
        j.mark(&short).unwrap();
        assert_eq!(read(d.path()), Some(short));
        j.clear().unwrap();
        assert_eq!(read(d.path()), None);
        let huge = Mark {
            entry: "x".repeat(RECORD),
            ..long
        };
        assert!(j.mark(&huge).is_err());
        assert_eq!(
            read(d.path()),
            None,
            "a refused mark leaves the journal as it was"
        );
    }
}
