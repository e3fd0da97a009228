//! An original's attachments as files a draft can name: a draft refers to attachments by
//! path (it is saved as JSON and reopened later), so a forward's re-attached parts are
//! written under the data dir (`attachments/<id>/<n>/<name>`, dirs 0700, files 0600),
//! and removed once the message is delivered or dropped.

use std::path::{Path, PathBuf};

use crate::message::{AttachmentSpec, Draft};
use crate::paths::{self, Paths};

pub fn root(paths: &Paths) -> PathBuf {
    paths.data_dir.join("attachments")
}

/// A file name from a message, safe as one path component: no `/`, NUL or control
/// characters, not `.`/`..`, at most 200 bytes (the extension kept).
fn safe_name(name: Option<&str>, fallback: &str) -> String {
    let cleaned: String = name
        .unwrap_or_default()
        .chars()
        .map(|c| if c == '/' || c.is_control() { '_' } else { c })
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    if cleaned.is_empty() {
        return fallback.to_string();
    }
    const MAX: usize = 200;
    if cleaned.len() <= MAX {
        return cleaned;
    }
    let ext = cleaned
        .rfind('.')
        .map(|i| &cleaned[i..])
        .filter(|e| e.len() <= 16)
        .unwrap_or("");
    let mut cut = MAX - ext.len();
    while !cleaned.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{ext}", &cleaned[..cut])
}

/// One file to stage: its name in the message, type and bytes.
pub struct Staged<'a> {
    pub name: Option<String>,
    pub fallback: String,
    pub content_type: String,
    pub bytes: &'a [u8],
}

/// Write `files` under a fresh directory; returns the specs to attach, in order.
pub fn stage(paths: &Paths, files: &[Staged<'_>]) -> Result<Vec<AttachmentSpec>, String> {
    if files.is_empty() {
        return Ok(vec![]);
    }
    let dir = root(paths).join(uuid::Uuid::new_v4().simple().to_string());
    let mut out = Vec::with_capacity(files.len());
    for (i, f) in files.iter().enumerate() {
        let path = dir
            .join(i.to_string())
            .join(safe_name(f.name.as_deref(), &f.fallback));
        if let Err(e) = paths::write_private(&path, f.bytes) {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(format!(
                "could not keep the original's attachment {}: {e}",
                crate::escape::shown(&path.display().to_string())
            ));
        }
        out.push(AttachmentSpec {
            path,
            content_type: Some(f.content_type.clone()),
        });
    }
    // Only the top directory is new to the caller; make sure it is private too.
    let _ = paths::create_private_dir(&root(paths));
    Ok(out)
}

/// The staging directory `path` lives in, when it is one of ours.
fn staging_dir(root: &Path, path: &Path) -> Option<PathBuf> {
    let rel = path.strip_prefix(root).ok()?;
    if !rel
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)))
    {
        return None;
    }
    let mut c = rel.components();
    let id = c.next()?;
    (c.count() == 2).then(|| root.join(id))
}

/// Remove the staged files `draft` attaches (after delivery, or when it is discarded).
pub fn release(paths: &Paths, draft: &Draft) {
    let root = root(paths);
    let mut dirs: Vec<PathBuf> = draft
        .attachments
        .iter()
        .filter_map(|a| staging_dir(&root, &a.path))
        .collect();
    dirs.dedup();
    for d in dirs {
        if let Err(e) = std::fs::remove_dir_all(&d) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(dir = %d.display(), error = %e, "could not remove staged attachments");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_component() {
        assert_eq!(safe_name(Some("../../etc/passwd"), "f"), "_.._etc_passwd");
        assert_eq!(safe_name(Some(".."), "f"), "f");
        assert_eq!(safe_name(None, "attachment-1"), "attachment-1");
        assert_eq!(safe_name(Some("보고서.pdf"), "f"), "보고서.pdf");
        let long = format!("{}.pdf", "가".repeat(100));
        let s = safe_name(Some(&long), "f");
        assert!(s.len() <= 200 && s.ends_with(".pdf"), "{s}");
    }

    #[test]
    fn stage_and_release() {
        let d = tempfile::tempdir().unwrap();
        let paths = Paths::at(d.path().join("c"), d.path().join("d"));
        let specs = stage(
            &paths,
            &[Staged {
                name: Some("a.bin".into()),
                fallback: "x".into(),
                content_type: "application/octet-stream".into(),
                bytes: b"\x00\x01",
            }],
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&specs[0].path)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(std::fs::read(&specs[0].path).unwrap(), b"\x00\x01");
        let mut attachments = specs.clone();
        attachments.push(AttachmentSpec::new(d.path().join("mine.txt")));
        let draft = Draft {
            attachments,
            ..Default::default()
        };
        std::fs::write(d.path().join("mine.txt"), "keep").unwrap();
        release(&paths, &draft);
        assert!(!specs[0].path.exists());
        assert!(
            d.path().join("mine.txt").exists(),
            "a user's own file is never removed"
        );
    }
}
