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
/// crash leaves either the old file or the new one, never half of one. The file is 0600
/// from creation and missing directories are made 0700, whatever the umask: everything
/// missive writes this way (drafts, outbox, sent copies) is someone's private mail.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_as(path, bytes, Durable::FileAndName)
}

/// How much of a write waits for the disk.
#[derive(Clone, Copy, PartialEq)]
enum Durable {
    Not,
    /// The file's bytes; its name only once the caller syncs the directory (a later
    /// `write_private` in the same directory does).
    File,
    FileAndName,
}

/// `write_atomic` for state that is only worth keeping across a crash of the process,
/// not a power cut (marks a flush leaves on an entry while it sends): the rename still
/// makes it all or nothing, but nothing waits for the disk.
pub fn write_atomic_unsynced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_as(path, bytes, Durable::Not)
}

fn write_atomic_as(path: &Path, bytes: &[u8], durable: Durable) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    ensure_dir(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        uuid::Uuid::new_v4().simple()
    ));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    let res = f.write_all(bytes).and_then(|_| {
        if durable == Durable::Not {
            Ok(())
        } else {
            f.sync_all()
        }
    });
    drop(f);
    if let Err(e) = res.and_then(|_| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    // The rename is durable only once the directory is: without this a power cut can
    // lose a message the relay already answered 250 for. Best effort: some filesystems
    // refuse fsync on a directory, and the file's own data is already on disk.
    if durable == Durable::FileAndName {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Create `dir` and any missing parents with mode 0700; existing ones are left as they
/// are (a user's own `~/mail` keeps its mode).
pub fn ensure_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Create `dir` (and parents) with mode 0700: for tokens and other private state.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    ensure_dir(dir)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

/// Open `path` for appending (a log), creating it 0600; an existing file that others
/// could read is made 0600 too.
pub fn open_append_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if let Some(dir) = path.parent() {
        ensure_dir(dir)?;
    }
    let f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    if f.metadata()?.permissions().mode() & 0o077 != 0 {
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(f)
}

/// Make an existing tree private: dirs 0700, files without group/other bits. Files and
/// dirs made by versions before this one (or by hand under a 022 umask) are fixed on
/// start. Symbolic links are not followed: what they point at is not ours to change.
pub fn secure_tree(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fn walk(dir: &Path, depth: u32) -> std::io::Result<()> {
        let meta = std::fs::symlink_metadata(dir)?;
        if !meta.is_dir() {
            return Ok(());
        }
        if meta.permissions().mode() & 0o777 != 0o700 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        if depth == 0 {
            return Ok(());
        }
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let m = entry.metadata()?;
            if m.is_dir() {
                walk(&entry.path(), depth - 1)?;
            } else if m.is_file() && m.permissions().mode() & 0o077 != 0 {
                let mode = m.permissions().mode() & 0o700 | 0o600;
                std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(mode))?;
            }
        }
        Ok(())
    }
    match walk(dir, 4) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        r => r,
    }
}

/// Write a private file (mode 0600 from creation, never briefly world-readable).
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_private_as(path, bytes, Durable::FileAndName)
}

/// `write_private` whose file is on disk but whose name is not until the directory is
/// synced: for the first of two files written together, the second's sync covers both.
pub fn write_private_name_pending(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_private_as(path, bytes, Durable::File)
}

/// `write_private` without waiting for the disk (see `write_atomic_unsynced`).
pub fn write_private_unsynced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_private_as(path, bytes, Durable::Not)
}

fn write_private_as(path: &Path, bytes: &[u8], durable: Durable) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    create_private_dir(dir)?;
    write_atomic_as(path, bytes, durable)
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
