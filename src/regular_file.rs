//! Opening files named by the user (attachments, the config) without ever blocking or
//! reading without end: only regular files (symlinks followed), checked by stat before
//! opening, opened non-blocking (a FIFO swapped in after the check cannot hang open(2)),
//! re-checked on the open descriptor, and read up to a known size.

use std::fs::{File, Metadata};
use std::io::Read;
use std::path::Path;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FileError {
    /// Not there, not allowed, not a regular file: the reason, for "PATH: reason".
    #[error("{0}")]
    Refused(String),
    #[error("is {size} bytes, over the limit of {max} bytes")]
    TooLarge { size: u64, max: u64 },
    #[error("changed size while it was read ({before} bytes, then {after}); refused")]
    Changed { before: u64, after: u64 },
    #[error("gave more than {max} bytes; refused")]
    StreamTooLarge { max: u64 },
}

/// Why `meta` is not a regular file, or `None` when it is one.
pub fn not_regular(meta: &Metadata) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_file() {
        None
    } else if t.is_dir() {
        Some("is a directory, not a file")
    } else if t.is_fifo() {
        Some("is a named pipe (FIFO), not a regular file; refused (reading it could wait forever)")
    } else if t.is_socket() {
        Some("is a socket, not a regular file; refused")
    } else if t.is_char_device() {
        Some("is a character device (like /dev/zero), not a regular file; refused (it may never end)")
    } else if t.is_block_device() {
        Some("is a block device, not a regular file; refused")
    } else {
        Some("is not a regular file; refused")
    }
}

fn io_reason(path: &Path, e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => {
            if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
                "is a symbolic link to a file that does not exist".into()
            } else {
                "no such file".into()
            }
        }
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// Open `path` for reading if it is a regular file; returns it with its metadata.
pub fn open(path: &Path) -> Result<(File, Metadata), FileError> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let before = std::fs::metadata(path).map_err(|e| FileError::Refused(io_reason(path, &e)))?;
    if let Some(why) = not_regular(&before) {
        return Err(FileError::Refused(why.into()));
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| FileError::Refused(io_reason(path, &e)))?;
    let meta = file
        .metadata()
        .map_err(|e| FileError::Refused(e.to_string()))?;
    if let Some(why) = not_regular(&meta) {
        return Err(FileError::Refused(why.into()));
    }
    if (meta.dev(), meta.ino()) != (before.dev(), before.ino()) {
        return Err(FileError::Refused(
            "was replaced while it was being opened; refused".into(),
        ));
    }
    Ok((file, meta))
}

/// The whole of a regular file of at most `max` bytes. The size is checked before
/// reading; a file that grows or shrinks meanwhile is an error, not a silent cut.
pub fn read(path: &Path, max: u64) -> Result<Vec<u8>, FileError> {
    let (file, meta) = open(path)?;
    let size = meta.len();
    if size > max {
        return Err(FileError::TooLarge { size, max });
    }
    let mut buf = Vec::with_capacity(size as usize);
    // One byte more than expected tells a grown file from an exact one.
    file.take(size + 1)
        .read_to_end(&mut buf)
        .map_err(|e| FileError::Refused(e.to_string()))?;
    let read = buf.len() as u64;
    if read != size {
        return Err(FileError::Changed {
            before: size,
            after: read,
        });
    }
    Ok(buf)
}

/// Files a config names (a CA bundle, an OAuth client secret) are small: this much is
/// plenty, and a mistyped `/dev/zero` or a FIFO fails at once.
pub const MAX_CONFIG_FILE: u64 = 4 * 1024 * 1024;

/// A body given as a file name (`--text FILE`, `--html FILE`): a regular file as `read`
/// does, or a pipe (`--text <(make-report)`), read up to `max` bytes. A pipe is opened
/// non-blocking, so it cannot hang in open(2); then it waits for the writer, up to
/// `PIPE_IDLE` without a byte. Devices, sockets and directories are refused like
/// attachments.
pub fn read_text_source(path: &Path, max: u64) -> Result<Vec<u8>, FileError> {
    read_text_source_within(path, max, PIPE_IDLE)
}

/// How long a body given as a pipe may go without a byte (its writer not started yet,
/// or thinking) before it is given up on.
pub const PIPE_IDLE: Duration = Duration::from_secs(60);

fn read_text_source_within(path: &Path, max: u64, idle: Duration) -> Result<Vec<u8>, FileError> {
    use std::os::unix::fs::MetadataExt;
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let meta = std::fs::metadata(path).map_err(|e| FileError::Refused(io_reason(path, &e)))?;
    // `--text /dev/null` is how scripts say "no body": the one device that is known to
    // end at once.
    let null = std::fs::metadata("/dev/null").map(|n| n.rdev());
    if meta.file_type().is_char_device() && null.is_ok_and(|n| n == meta.rdev()) {
        return Ok(Vec::new());
    }
    if !meta.file_type().is_fifo() {
        return read(path, max);
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| FileError::Refused(io_reason(path, &e)))?;
    if !file.metadata().is_ok_and(|m| m.file_type().is_fifo()) {
        return Err(FileError::Refused(
            "was replaced while it was being opened; refused".into(),
        ));
    }
    read_pipe(&file, max, idle)
}

/// Read a pipe opened non-blocking to its end: waits for a writer that has not opened
/// it yet (a named pipe whose writer starts later), and gives up when nothing arrives for
/// `idle` (a writer that never comes, or stalls).
fn read_pipe(file: &std::fs::File, max: u64, idle: Duration) -> Result<Vec<u8>, FileError> {
    use std::os::unix::io::AsRawFd;
    let fd = file.as_raw_fd();
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = libc::c_int::try_from(idle.as_millis()).unwrap_or(libc::c_int::MAX);
        // SAFETY: one pollfd for a descriptor the caller owns, for the length given.
        let n = unsafe { libc::poll(&mut pfd, 1, ms) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(FileError::Refused(e.to_string()));
        }
        if n == 0 {
            return Err(FileError::Refused(format!(
                "is a pipe nothing was written to for {} s; refused",
                idle.as_secs()
            )));
        }
        match (&*file).read(&mut chunk) {
            Ok(0) => break,
            Ok(k) => buf.extend_from_slice(&chunk[..k]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(FileError::Refused(e.to_string())),
        }
        if buf.len() as u64 > max {
            return Err(FileError::StreamTooLarge { max });
        }
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_fifos_and_dirs_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = read(&fifo, 100).unwrap_err();
        assert!(e.to_string().contains("FIFO"), "{e}");
        let e = read(Path::new("/dev/zero"), 100).unwrap_err();
        assert!(e.to_string().contains("character device"), "{e}");
        let e = read(dir.path(), 100).unwrap_err();
        assert!(e.to_string().contains("directory"), "{e}");
        let link = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &link).unwrap();
        let e = read(&link, 100).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
    }

    #[test]
    fn a_body_from_dev_null_is_empty_other_devices_refused() {
        assert_eq!(read_text_source(Path::new("/dev/null"), 100).unwrap(), b"");
        let e = read_text_source(Path::new("/dev/zero"), 100).unwrap_err();
        assert!(e.to_string().contains("character device"), "{e}");
    }

    #[test]
    fn sparse_huge_file_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big");
        File::create(&p).unwrap().set_len(4 << 30).unwrap();
        assert_eq!(
            read(&p, 1 << 20).unwrap_err(),
            FileError::TooLarge {
                size: 4 << 30,
                max: 1 << 20
            }
        );
        let ok = dir.path().join("ok");
        std::fs::write(&ok, b"hello").unwrap();
        assert_eq!(read(&ok, 5).unwrap(), b"hello");
    }

    fn fifo(dir: &Path) -> std::path::PathBuf {
        let p = dir.join("pipe");
        let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        p
    }

    #[test]
    fn a_named_pipe_whose_writer_comes_later_is_waited_for() {
        let dir = tempfile::tempdir().unwrap();
        let p = fifo(dir.path());
        let w = p.clone();
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            std::fs::write(w, b"late but whole\n").unwrap();
        });
        let got = read_text_source_within(&p, 1000, Duration::from_secs(20)).unwrap();
        writer.join().unwrap();
        assert_eq!(got, b"late but whole\n");
    }

    #[test]
    fn a_named_pipe_nobody_writes_to_is_given_up_on() {
        let dir = tempfile::tempdir().unwrap();
        let p = fifo(dir.path());
        let e = read_text_source_within(&p, 1000, Duration::from_millis(200)).unwrap_err();
        assert!(e.to_string().contains("nothing was written"), "{e}");
    }
}
