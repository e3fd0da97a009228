//! Writes each message as one .eml file: the built-in transport that needs no setup.

use std::path::PathBuf;

use futures::future::BoxFuture;

use super::{CheckReport, ProgressFn, Receipt, Stage, Transport, TransportError};
use crate::message::Envelope;

pub struct FileTransport {
    pub dir: PathBuf,
}

impl FileTransport {
    fn new_path(&self) -> PathBuf {
        let stamp = chrono::Local::now().format("%Y%m%dT%H%M%S");
        let id = uuid::Uuid::new_v4().simple().to_string();
        self.dir.join(format!("{stamp}-{}.eml", &id[..12]))
    }
}

impl Transport for FileTransport {
    fn kind(&self) -> &'static str {
        "file"
    }

    fn send<'a>(
        &'a self,
        _envelope: &'a Envelope,
        raw: &'a [u8],
        progress: ProgressFn<'a>,
    ) -> BoxFuture<'a, Result<Receipt, TransportError>> {
        Box::pin(async move {
            let path = self.new_path();
            progress(super::Progress::Sending {
                sent: 0,
                total: raw.len() as u64,
            });
            crate::paths::write_atomic(&path, raw).map_err(|e| {
                TransportError::new(Stage::Write, false, format!("{}: {e}", path.display()))
            })?;
            progress(super::Progress::Sending {
                sent: raw.len() as u64,
                total: raw.len() as u64,
            });
            Ok(Receipt {
                path: Some(path),
                ..Default::default()
            })
        })
    }

    fn check(&self) -> BoxFuture<'_, Result<CheckReport, TransportError>> {
        Box::pin(async move {
            crate::paths::ensure_dir(&self.dir).map_err(|e| {
                TransportError::new(Stage::Write, false, format!("{}: {e}", self.dir.display()))
            })?;
            let probe = self
                .dir
                .join(format!(".missive-check-{}", uuid::Uuid::new_v4().simple()));
            std::fs::write(&probe, b"")
                .and_then(|_| std::fs::remove_file(&probe))
                .map_err(|e| {
                    TransportError::new(Stage::Write, false, format!("{}: {e}", self.dir.display()))
                })?;
            Ok(CheckReport {
                lines: vec![format!("{} is writable", self.dir.display())],
            })
        })
    }
}
