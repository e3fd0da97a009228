//! Reading attachments for the MIME builder: regular files only (see `regular_file`),
//! every size checked against the message limit before anything is read, and how
//! `--attach FILE;type=MIME` is split.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use lettre::message::header::ContentType;

use crate::message::{AttachmentSpec, MessageError};
use crate::mime_tree::human_size;
use crate::regular_file::{self, FileError};

/// The message size allowed when the transport names no limit of its own (the file and
/// sendmail transports, SMTP before the server's SIZE is known). Postfix's default
/// message_size_limit is 10 MB; common providers take 25–50 MB.
pub const DEFAULT_MAX_MESSAGE: u64 = 64 * 1024 * 1024;

/// What `n` bytes become as a base64 body (76 characters and CRLF per 57 bytes).
pub fn encoded_size(n: u64) -> u64 {
    n.div_ceil(57) * 78
}

fn err(spec: &AttachmentSpec, reason: String) -> MessageError {
    MessageError::Attachment {
        path: crate::escape::shown(&spec.path.display().to_string()),
        reason,
    }
}

/// Check every attachment (a regular file, and all of them together within `max` bytes
/// once encoded) before any is read, so a 4 GiB file fails at once with its size.
pub fn check_all(specs: &[AttachmentSpec], max: u64) -> Result<(), MessageError> {
    let mut total = 0u64;
    for spec in specs {
        let (_, meta) = regular_file::open(&spec.path).map_err(|e| err(spec, e.to_string()))?;
        total = total.saturating_add(encoded_size(meta.len()));
        if total > max {
            return Err(err(
                spec,
                format!(
                    "is {} ({} bytes); with the attachments before it the message would be over the limit of {} ({max} bytes); nothing was sent",
                    human_size(meta.len()),
                    meta.len(),
                    human_size(max)
                ),
            ));
        }
    }
    Ok(())
}

/// The file's bytes and its content type; at most `max` bytes are read.
pub fn read(spec: &AttachmentSpec, max: u64) -> Result<(Vec<u8>, ContentType), MessageError> {
    let ct_text = spec.mime_type();
    let ct = ContentType::parse(&ct_text).map_err(|_| MessageError::ContentType {
        path: crate::escape::shown(&spec.path.display().to_string()),
        value: crate::escape::shown(&ct_text),
    })?;
    let bytes = regular_file::read(&spec.path, max).map_err(|e| match e {
        FileError::TooLarge { size, max } => err(
            spec,
            format!(
                "is {} ({size} bytes), over the limit of {} ({max} bytes); nothing was sent",
                human_size(size),
                human_size(max)
            ),
        ),
        e => err(spec, e.to_string()),
    })?;
    Ok((bytes, ct))
}

/// Whether `ty` is a plain `type/subtype` (no parameters, no wildcard).
fn valid_type(ty: &str) -> bool {
    ty.parse::<mime_guess::mime::Mime>()
        .is_ok_and(|m| m.essence_str() == ty.to_ascii_lowercase() && !ty.contains('*'))
}

/// `--attach FILE --attach-type MIME`: the file as named, with that type.
pub fn with_type(path: &Path, ty: &str) -> Result<AttachmentSpec, String> {
    if !valid_type(ty) {
        return Err(format!(
            "{} is not a MIME type (expected type/subtype, e.g. text/csv)",
            crate::escape::quoted(ty)
        ));
    }
    Ok(AttachmentSpec {
        path: path.to_path_buf(),
        content_type: Some(ty.to_string()),
    })
}

/// `--attach ARG`: a file name, or `FILE;type=MIME` to override the guessed type. The
/// suffix is taken as a type only when ARG itself names no file and what follows
/// `;type=` is a valid `type/subtype`, so a file really called `a;type=b.pdf` attaches as
/// itself.
pub fn parse_arg(arg: &OsStr) -> AttachmentSpec {
    let literal = AttachmentSpec::new(PathBuf::from(arg));
    if std::fs::symlink_metadata(arg).is_ok() {
        return literal;
    }
    let bytes = arg.as_bytes();
    let marker = b";type=";
    let Some(at) = bytes.windows(marker.len()).rposition(|w| w == marker) else {
        return literal;
    };
    let Ok(ty) = std::str::from_utf8(&bytes[at + marker.len()..]) else {
        return literal;
    };
    if !valid_type(ty) {
        return literal;
    }
    AttachmentSpec {
        path: Path::new(OsStr::from_bytes(&bytes[..at])).to_path_buf(),
        content_type: Some(ty.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_suffix_only_when_the_whole_name_is_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let odd = dir.path().join("a;type=b.pdf");
        std::fs::write(&odd, b"x").unwrap();
        let s = parse_arg(odd.as_os_str());
        assert_eq!(s.path, odd);
        assert_eq!(s.content_type, None);

        let plain = dir.path().join("report.txt");
        let arg = format!("{};type=text/csv", plain.display());
        let s = parse_arg(OsStr::new(&arg));
        assert_eq!(s.path, plain);
        assert_eq!(s.content_type.as_deref(), Some("text/csv"));

        // Not a MIME type: the name is kept whole (and reported missing later).
        let arg = format!("{};type=b.pdf", plain.display());
        assert_eq!(parse_arg(OsStr::new(&arg)).path, PathBuf::from(&arg));
    }

    #[test]
    fn invalid_utf8_names_kept() {
        let name = OsStr::from_bytes(b"caf\xe9.txt");
        assert_eq!(parse_arg(name).path.as_os_str().as_bytes(), b"caf\xe9.txt");
    }

    #[test]
    fn sizes_checked_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.bin");
        std::fs::File::create(&big)
            .unwrap()
            .set_len(4 << 30)
            .unwrap();
        let e = check_all(&[AttachmentSpec::new(&big)], DEFAULT_MAX_MESSAGE).unwrap_err();
        assert!(e.to_string().contains("over the limit"), "{e}");
    }
}
