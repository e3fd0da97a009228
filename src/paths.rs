//! Where missive keeps its files (XDG base directories).

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq)]
pub struct Paths {
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
}

impl Paths {
    /// `$XDG_CONFIG_HOME/missive` and `$XDG_DATA_HOME/missive`, with the XDG defaults.
    pub fn from_env() -> Paths {
        let base = directories::BaseDirs::new();
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."));
        let config = base
            .as_ref()
            .map(|b| b.config_dir().to_path_buf())
            .unwrap_or_else(|| home.join(".config"));
        let data = base
            .as_ref()
            .map(|b| b.data_dir().to_path_buf())
            .unwrap_or_else(|| home.join(".local/share"));
        Paths::at(config.join("missive"), data.join("missive"))
    }

    pub fn at(config_dir: PathBuf, data_dir: PathBuf) -> Paths {
        Paths {
            config_dir,
            data_dir,
        }
    }

    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }
    pub fn drafts_dir(&self) -> PathBuf {
        self.data_dir.join("drafts")
    }
    pub fn outbox_dir(&self) -> PathBuf {
        self.data_dir.join("outbox")
    }
    pub fn sent_dir(&self) -> PathBuf {
        self.data_dir.join("sent")
    }
    pub fn tokens_dir(&self) -> PathBuf {
        self.data_dir.join("tokens")
    }
    pub fn sent_log(&self) -> PathBuf {
        self.data_dir.join("sent.log")
    }
    pub fn log_file(&self) -> PathBuf {
        self.data_dir.join("missive.log")
    }
}

/// `~/x` → `$HOME/x`; anything else unchanged.
pub fn expand_tilde(p: &str) -> PathBuf {
    if let Some(rest) = p.strip_prefix("~/") {
        if let Some(home) = std::env::var_os("HOME") {
            return Path::new(&home).join(rest);
        }
    }
    PathBuf::from(p)
}

/// Write `bytes` to `path` atomically (temp file in the same dir, fsync, rename), so a
/// crash leaves either the old file or the new one, never half of one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        uuid::Uuid::new_v4().simple()
    ));
    let mut f = std::fs::File::create(&tmp)?;
    let res = f.write_all(bytes).and_then(|_| f.sync_all());
    drop(f);
    if let Err(e) = res.and_then(|_| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(())
}

/// Create `dir` (and parents) with mode 0700: for tokens and other private state.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Write a private file (mode 0600 from creation, never briefly world-readable).
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    create_private_dir(dir)?;
    let tmp = dir.join(format!(".{}.tmp", uuid::Uuid::new_v4().simple()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp)?;
    let res = f.write_all(bytes).and_then(|_| f.sync_all());
    drop(f);
    if let Err(e) = res.and_then(|_| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(())
}

/// A temporary file untouched for this long belongs to a writer that died (a live writer
/// keeps its mtime fresh).
const STALE_TEMP: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// Remove the `.*.tmp` files that `write_atomic`/`write_private` leave behind when the
/// process is killed mid-write (they can be as large as a message).
pub fn clean_stale_temps(dir: &Path) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let now = std::time::SystemTime::now();
    for e in rd.filter_map(Result::ok) {
        let name = e.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        if !(name.starts_with('.') && name.ends_with(".tmp")) {
            continue;
        }
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age >= STALE_TEMP);
        if old {
            match std::fs::remove_file(e.path()) {
                Ok(()) => {
                    tracing::info!(path = %e.path().display(), "removed a temporary file left by a crash")
                }
                Err(err) => {
                    tracing::warn!(path = %e.path().display(), error = %err, "could not remove a stale temporary file")
                }
            }
        }
    }
}
