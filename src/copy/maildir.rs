//! Delivering a copy into a Maildir: written in `tmp/`, synced, then renamed into `cur/`
//! with the Seen flag (`:2,S`), under a name no other writer can pick (time, pid,
//! a counter, random bits, host), as the Maildir convention asks.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique_name() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let host = hostname::get()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
        // The Maildir spec's escapes for the two characters a name cannot hold.
        .replace('/', "\\057")
        .replace(':', "\\072");
    let rand = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "{}.M{}P{}Q{}R{}.{host}",
        now.as_secs(),
        now.subsec_micros(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        &rand[..16]
    )
}

/// Store `raw` as a read message; returns the file's path in `cur/`.
pub fn store(dir: &Path, raw: &[u8]) -> std::io::Result<PathBuf> {
    for sub in ["tmp", "new", "cur"] {
        let d = dir.join(sub);
        if !d.is_dir() {
            crate::paths::create_private_dir(&d)?;
        }
    }
    let name = unique_name();
    let tmp = dir.join("tmp").join(&name);
    let cur = dir.join("cur").join(format!("{name}:2,S"));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp)?;
    let res = f.write_all(raw).and_then(|_| f.sync_all());
    drop(f);
    if let Err(e) = res.and_then(|_| std::fs::rename(&tmp, &cur)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(cur)
}

#[cfg(test)]
mod tests {
    #[test]
    fn writes_seen_message_in_cur() {
        let d = tempfile::tempdir().unwrap();
        let md = d.path().join("Mail/Sent");
        let a = super::store(&md, b"Subject: x\r\n\r\nhi\r\n").unwrap();
        let b = super::store(&md, b"two").unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with(md.join("cur")));
        assert!(a.to_string_lossy().ends_with(":2,S"));
        assert_eq!(std::fs::read(&a).unwrap(), b"Subject: x\r\n\r\nhi\r\n");
        assert_eq!(std::fs::read_dir(md.join("tmp")).unwrap().count(), 0);
        assert!(md.join("new").is_dir());
    }
}
