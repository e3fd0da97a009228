//! Paths in the JSON files missive keeps (drafts, outbox records) exactly as the OS has
//! them. serde writes a `PathBuf` only when it is UTF-8 and fails otherwise, which made a
//! failed send with an attachment named in Latin-1 impossible to keep in the outbox. A
//! UTF-8 path stays a plain string (as before, so older files read the same); any other
//! is written as `{"os_bytes": [..]}`, its raw bytes.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Stored {
    Text(String),
    Bytes { os_bytes: Vec<u8> },
}

pub fn serialize<S: Serializer>(path: &Path, s: S) -> Result<S::Ok, S::Error> {
    match path.to_str() {
        Some(t) => Stored::Text(t.to_string()),
        None => Stored::Bytes {
            os_bytes: path.as_os_str().as_bytes().to_vec(),
        },
    }
    .serialize(s)
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<PathBuf, D::Error> {
    Ok(match Stored::deserialize(d)? {
        Stored::Text(t) => PathBuf::from(t),
        Stored::Bytes { os_bytes } => PathBuf::from(OsString::from_vec(os_bytes)),
    })
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct W(#[serde(with = "super")] std::path::PathBuf);

    #[test]
    fn utf8_and_other_paths_round_trip() {
        let plain = W("/tmp/café.txt".into());
        let j = serde_json::to_string(&plain).unwrap();
        assert_eq!(j, "\"/tmp/café.txt\"");
        assert_eq!(serde_json::from_str::<W>(&j).unwrap(), plain);
        let latin1 = W(OsStr::from_bytes(b"/tmp/caf\xe9.txt").into());
        let j = serde_json::to_string(&latin1).unwrap();
        assert!(j.contains("os_bytes"), "{j}");
        assert_eq!(serde_json::from_str::<W>(&j).unwrap(), latin1);
    }
}
