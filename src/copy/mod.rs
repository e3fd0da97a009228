//! Sent copies (`copy_to`): after the transport accepted a message, its exact bytes go
//! to the identity's Maildir or IMAP folder. A copy that fails never makes the message
//! look unsent: it is reported, kept in `copies/` in the data dir (private files) and
//! retried by `missive outbox flush`.

pub mod imap;
pub mod maildir;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::{AuthMech, SecretSource, TransportKind};
use crate::engine::Engine;
use crate::identity::{CopyTo, Identity, ImapSecurity, ImapTarget};
use crate::transport::smtp::{CmdToken, TokenProvider};

/// What `send --json` says about the copy.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CopyReport {
    pub ok: bool,
    /// The Maildir path or the IMAP URL.
    pub target: String,
    /// The file written in a Maildir's `cur/`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Where the copy waits for `outbox flush` when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: Option<PathBuf>,
}

impl CopyReport {
    /// One line for a person: where the copy went, or why it did not.
    pub fn summary(&self) -> String {
        match (&self.error, &self.pending) {
            (None, _) => format!("Sent copy: {}", self.target),
            (Some(e), Some(p)) => format!(
                "Sent copy FAILED ({e}); the message was delivered; the copy is kept for `missive outbox flush`: {}",
                p.display()
            ),
            (Some(e), None) => format!("Sent copy FAILED ({e}); the message was delivered"),
        }
    }
}

/// A copy waiting to be retried: `copies/<name>.eml` beside `copies/<name>.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PendingMeta {
    pub identity: String,
    pub target: String,
    pub message_id: String,
    pub created: String,
    pub attempts: u32,
    pub last_error: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PendingCopy {
    pub name: String,
    pub eml: PathBuf,
    pub json: PathBuf,
    pub meta: PendingMeta,
}

/// One retried copy, for `outbox flush`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CopyRetry {
    pub name: String,
    pub message_id: String,
    pub report: CopyReport,
}

impl Engine {
    fn copies_dir(&self) -> PathBuf {
        self.paths.data_dir.join("copies")
    }

    /// Store the sent copy for `identity` (by name; else the identity whose address is
    /// the message's From). `None` when no copy is wanted.
    pub async fn store_copy(
        &self,
        identity: Option<&str>,
        raw: &[u8],
        message_id: &str,
    ) -> Option<CopyReport> {
        let id = match identity {
            Some(n) => self.config.identities.get(n)?,
            None => {
                let m = mail_parser::MessageParser::default().parse_headers(raw)?;
                let from = m.from()?.first()?.address()?.to_string();
                self.config.identity_for_address(&from)?
            }
        };
        let target = id.copy_to.as_ref()?;
        let mut report = self.copy_once(id, target, raw).await;
        if let Some(e) = &report.error {
            tracing::warn!(identity = %id.name, target = %report.target, error = %e, "sent copy failed; kept for retry");
            match self.keep_pending(id, &report, raw, message_id) {
                Ok(p) => report.pending = Some(p),
                Err(e) => {
                    report.error = Some(format!(
                        "{}; and it could not be kept for a retry: {e}",
                        report.error.take().unwrap_or_default()
                    ))
                }
            }
        } else {
            tracing::info!(identity = %id.name, target = %report.target, message_id, "sent copy stored");
        }
        Some(report)
    }

    async fn copy_once(&self, id: &Identity, target: &CopyTo, raw: &[u8]) -> CopyReport {
        let mut r = CopyReport {
            ok: false,
            target: target.describe(),
            path: None,
            error: None,
            pending: None,
        };
        let res = match target {
            CopyTo::Maildir(dir) => maildir::store(dir, raw)
                .map(Some)
                .map_err(|e| format!("Maildir {}: {e}", dir.display())),
            CopyTo::Imap(t) => match self.imap_settings(id, t) {
                Ok(s) => imap::append(&s, raw).await.map(|_| None),
                Err(e) => Err(e),
            },
        };
        match res {
            Ok(p) => {
                r.ok = true;
                r.path = p;
            }
            Err(e) => r.error = Some(e),
        }
        r
    }

    /// The identity's `imap_*` keys, each missing one taken from its transport's smtp key.
    fn imap_settings(&self, id: &Identity, t: &ImapTarget) -> Result<imap::ImapSettings, String> {
        let smtp = id
            .transport
            .as_deref()
            .and_then(|n| self.config.transports.get(n))
            .and_then(|tc| match &tc.kind {
                TransportKind::Smtp(s) => Some(s),
                _ => None,
            });
        let k = &id.imap;
        let security = k.security.unwrap_or(ImapSecurity::Tls);
        let port = t.port.unwrap_or(match security {
            ImapSecurity::Tls => 993,
            ImapSecurity::StartTls => 143,
        });
        let timeout = Duration::from_secs(smtp.map(|s| s.timeout_secs).unwrap_or(30).max(1));
        let token_cmd = k
            .token_cmd
            .clone()
            .or_else(|| smtp.and_then(|s| s.token_cmd.clone()));
        let oauth = k
            .oauth
            .clone()
            .or_else(|| smtp.and_then(|s| s.oauth.clone()));
        let auth = k.auth.unwrap_or_else(|| match smtp {
            Some(s) => s.auth,
            None if k.token_cmd.is_some() || k.oauth.is_some() => AuthMech::Xoauth2,
            None => AuthMech::Plain,
        });
        let password = k
            .password
            .clone()
            .or_else(|| smtp.map(|s| s.password.clone()))
            .unwrap_or(SecretSource::None);
        let label = format!("identity {:?} copy_to", id.name);
        let token: Option<Arc<dyn TokenProvider>> = match (token_cmd, oauth) {
            (Some(cmd), _) => Some(Arc::new(CmdToken {
                transport: label.clone(),
                cmd,
                timeout,
            })),
            (None, Some(g)) => {
                let tc = self
                    .config
                    .transports
                    .get(&g)
                    .ok_or_else(|| format!("{label}: oauth: no transport named {g:?}"))?;
                let TransportKind::Gmail(gc) = &tc.kind else {
                    return Err(format!("{label}: oauth: {g:?} is not a gmail transport"));
                };
                Some(crate::gmail::token_provider(&g, gc, &self.paths).map_err(|e| e.message)?)
            }
            _ => None,
        };
        Ok(imap::ImapSettings {
            target: t.clone(),
            security,
            port,
            ca_file: k
                .ca_file
                .clone()
                .or_else(|| smtp.and_then(|s| s.ca_file.clone())),
            auth,
            password,
            token,
            timeout,
            label,
        })
    }

    fn keep_pending(
        &self,
        id: &Identity,
        report: &CopyReport,
        raw: &[u8],
        message_id: &str,
    ) -> std::io::Result<PathBuf> {
        let dir = self.copies_dir();
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%6fZ");
        let uid = uuid::Uuid::new_v4().simple().to_string();
        let name = format!("{stamp}-{}", &uid[..8]);
        let eml = dir.join(format!("{name}.eml"));
        crate::paths::write_private(&eml, raw)?;
        let meta = PendingMeta {
            identity: id.name.clone(),
            target: report.target.clone(),
            message_id: message_id.to_string(),
            created: crate::outbox::now_rfc3339(),
            attempts: 1,
            last_error: report.error.clone().unwrap_or_default(),
        };
        let json = serde_json::to_vec_pretty(&meta).map_err(std::io::Error::other)?;
        crate::paths::write_private(&dir.join(format!("{name}.json")), &json)?;
        Ok(eml)
    }

    /// Copies that failed and wait for a retry, oldest first.
    pub fn pending_copies(&self) -> Vec<PendingCopy> {
        let dir = self.copies_dir();
        let Ok(rd) = std::fs::read_dir(&dir) else {
            return Vec::new();
        };
        let mut v: Vec<PendingCopy> = rd
            .filter_map(Result::ok)
            .filter_map(|e| {
                let json = e.path();
                if json.extension()? != "json" {
                    return None;
                }
                let name = json.file_stem()?.to_string_lossy().into_owned();
                let eml = dir.join(format!("{name}.eml"));
                let meta = serde_json::from_slice(&std::fs::read(&json).ok()?).ok()?;
                Some(PendingCopy {
                    name,
                    eml,
                    json,
                    meta,
                })
            })
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    /// Try every pending copy once; a stored one is removed.
    pub async fn retry_copies(&self) -> Vec<CopyRetry> {
        let mut out = Vec::new();
        for p in self.pending_copies() {
            let report = self.retry_one(&p).await;
            if report.ok {
                let _ = std::fs::remove_file(&p.json);
                let _ = std::fs::remove_file(&p.eml);
            } else {
                let mut meta = p.meta.clone();
                meta.attempts += 1;
                meta.last_error = report.error.clone().unwrap_or_default();
                if let Ok(j) = serde_json::to_vec_pretty(&meta) {
                    let _ = crate::paths::write_private(&p.json, &j);
                }
            }
            out.push(CopyRetry {
                name: p.name.clone(),
                message_id: p.meta.message_id.clone(),
                report,
            });
        }
        out
    }

    async fn retry_one(&self, p: &PendingCopy) -> CopyReport {
        let fail = |e: String| CopyReport {
            ok: false,
            target: p.meta.target.clone(),
            path: None,
            error: Some(e),
            pending: Some(p.eml.clone()),
        };
        let raw = match std::fs::read(&p.eml) {
            Ok(r) => r,
            Err(e) => return fail(format!("{}: {e}", p.eml.display())),
        };
        let Some(id) = self.config.identities.get(&p.meta.identity) else {
            return fail(format!(
                "identity {:?} is no longer configured",
                p.meta.identity
            ));
        };
        let Some(target) = &id.copy_to else {
            return fail(format!("identity {:?} has no copy_to any more", id.name));
        };
        let mut r = self.copy_once(id, target, &raw).await;
        if !r.ok {
            r.pending = Some(p.eml.clone());
        }
        r
    }
}
