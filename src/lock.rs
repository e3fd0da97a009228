//! OS advisory locks (flock) on small lock files. The kernel releases them when the
//! holder dies, whatever happens to its PID afterwards, so a crash can never leave a lock
//! that blocks the next run.

use std::collections::HashMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// A held lock: released when dropped (or when the process ends).
#[derive(Debug)]
pub struct FileLock {
    _file: File,
    path: PathBuf,
}

impl FileLock {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn open(path: &Path) -> std::io::Result<File> {
    if let Some(dir) = path.parent() {
        crate::paths::create_private_dir(dir)?;
    }
    let mut o = OpenOptions::new();
    o.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}

/// The lock file we locked must still be the one at `path`: a holder that removed the
/// file after we opened it leaves us locking an unlinked inode nobody else will see.
#[cfg(unix)]
fn still_linked(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}
#[cfg(not(unix))]
fn still_linked(_: &File, _: &Path) -> bool {
    true
}

/// Take the lock if nobody holds it; `Ok(None)` when another process (or another open
/// file in this one) does.
pub fn try_lock(path: &Path) -> std::io::Result<Option<FileLock>> {
    for _ in 0..5 {
        let file = open(path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Ok(None),
            Err(TryLockError::Error(e)) => return Err(e),
        }
        if still_linked(&file, path) {
            return Ok(Some(FileLock {
                _file: file,
                path: path.to_path_buf(),
            }));
        }
    }
    Err(std::io::Error::other(format!(
        "{}: the lock file keeps being replaced",
        path.display()
    )))
}

/// Wait up to `limit` for the lock. flock has no timed wait, and a thread blocked in
/// it cannot be cancelled (it would keep the runtime from shutting down), so this retries
/// on a short interval instead.
pub async fn lock_within(path: &Path, limit: Duration) -> std::io::Result<Option<FileLock>> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(l) = try_lock(path)? {
            return Ok(Some(l));
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Locks this process holds for as long as it runs (drafts open in the composer), so that
/// the same process can still save or retire what it holds.
fn held() -> &'static Mutex<HashMap<PathBuf, FileLock>> {
    static HELD: OnceLock<Mutex<HashMap<PathBuf, FileLock>>> = OnceLock::new();
    HELD.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Hold `path`'s lock until `release` or exit. `Ok(false)`: another process holds it.
pub fn hold(path: &Path) -> std::io::Result<bool> {
    let mut map = held().lock().unwrap_or_else(|p| p.into_inner());
    if map.contains_key(path) {
        return Ok(true);
    }
    match try_lock(path)? {
        Some(l) => {
            map.insert(path.to_path_buf(), l);
            Ok(true)
        }
        None => Ok(false),
    }
}

pub fn holds(path: &Path) -> bool {
    held()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .contains_key(path)
}

/// Drop a lock taken with `hold`, removing its file first (we still hold it, so nobody
/// else can be relying on that inode).
pub fn release(path: &Path) {
    let mut map = held().lock().unwrap_or_else(|p| p.into_inner());
    if let Some(l) = map.remove(path) {
        let _ = std::fs::remove_file(l.path());
    }
}

/// Whether some other process (or another part of this one, outside `hold`) holds it.
pub fn locked_elsewhere(path: &Path) -> bool {
    if holds(path) || !path.exists() {
        return false;
    }
    matches!(try_lock(path), Ok(None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_refused_then_free_after_drop() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.lock");
        let a = try_lock(&p).unwrap().expect("first lock");
        assert!(try_lock(&p).unwrap().is_none());
        drop(a);
        assert!(try_lock(&p).unwrap().is_some());
    }

    #[test]
    fn held_locks_are_not_elsewhere() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("y.lock");
        assert!(hold(&p).unwrap());
        assert!(!locked_elsewhere(&p));
        assert!(try_lock(&p).unwrap().is_none());
        release(&p);
        assert!(!p.exists());
        assert!(try_lock(&p).unwrap().is_some());
    }

    #[tokio::test]
    async fn waits_for_release() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("z.lock");
        let a = try_lock(&p).unwrap().unwrap();
        let p2 = p.clone();
        let waiter = tokio::spawn(async move { lock_within(&p2, Duration::from_secs(20)).await });
        tokio::task::yield_now().await;
        drop(a);
        assert!(waiter.await.unwrap().unwrap().is_some());
        let _b = try_lock(&p).unwrap();
        assert!(lock_within(&p, Duration::from_millis(50))
            .await
            .unwrap()
            .is_none());
    }
}
