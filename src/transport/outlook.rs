//! The `kind = "outlook"` transport: Microsoft Graph `POST /v1.0/me/sendMail` with the
//! engine's exact bytes, base64-encoded, as `text/plain` (Graph's MIME send; it saves the
//! message to Sent Items). Graph has no envelope: the Bcc header stays in the bytes and
//! Graph delivers to it and strips it.
//!
//! A request is at most 4 MB, so messages over 3,000,000 bytes (4,000,000 once base64)
//! are refused before anything is sent. 401 → one token refresh; 429/503/504 → a bounded
//! number of retries honouring `Retry-After`, then the outbox; any other Graph error is
//! reported with its code and message. The same Microsoft login gives smtp transports
//! with `oauth = "<this transport>"` an XOAUTH2 token for Exchange Online's SMTP resource.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use futures::future::BoxFuture;
use hyper::body::Bytes;
use hyper::Method;

use super::smtp::TokenProvider;
use super::{CheckReport, Progress, ProgressFn, Receipt, Stage, Transport, TransportError};
use crate::config::{Config, OutlookConfig, TransportKind};
use crate::http::{retry, Answer};
use crate::message::Envelope;
use crate::oauth::{login, microsoft, scrub, Login, Resource};
use crate::paths::Paths;
use crate::secret::Secret;

/// Graph's request limit is 4 MB; base64 makes 3,000,000 bytes 4,000,000.
pub const MAX_MESSAGE_BYTES: u64 = 3_000_000;
pub const DEFAULT_API_URL: &str = "https://graph.microsoft.com/";

/// The smtp transports that borrow the login of outlook transport `name`.
pub fn smtp_borrowers(config: &Config, name: &str) -> Vec<String> {
    config
        .transports
        .values()
        .filter(|t| matches!(&t.kind, TransportKind::Smtp(s) if s.oauth.as_deref() == Some(name)))
        .map(|t| t.name.clone())
        .collect()
}

/// The refusal for a message over the limit, pointing at an smtp transport that can take
/// it when there is one.
pub fn too_large(size: u64, name: &str, borrowers: &[String]) -> String {
    format!(
        "the message is {size} bytes ({}), over Microsoft Graph's limit of {MAX_MESSAGE_BYTES} bytes for transport {name:?} (4 MB once base64-encoded); nothing was sent{}",
        crate::mime_tree::human_size(size),
        smtp_hint(name, borrowers)
    )
}

/// How to send a message too big for Graph: SMTP with the same login.
pub fn smtp_hint(name: &str, borrowers: &[String]) -> String {
    match borrowers.first() {
        Some(b) => format!(
            "; send it with `--transport {b}` (SMTP with the same Microsoft login takes up to 35 MB)"
        ),
        None => format!(
            "; to send it, add an smtp transport for smtp.office365.com with auth = \"xoauth2\" and oauth = {name:?}, run `missive auth {name}` again, and send with that transport"
        ),
    }
}

/// The Microsoft login of an outlook transport, for Graph or for SMTP.
pub struct MicrosoftLogin {
    pub name: String,
    login: Login,
}

impl MicrosoftLogin {
    pub fn open(
        name: &str,
        cfg: &OutlookConfig,
        paths: &Paths,
    ) -> Result<MicrosoftLogin, TransportError> {
        let p = microsoft::provider(&cfg.client_id, &cfg.tenant, &cfg.authority);
        let login = Login::open(name, p, paths, Duration::from_secs(cfg.timeout_secs.max(1)))?;
        Ok(MicrosoftLogin {
            name: name.to_string(),
            login,
        })
    }

    pub async fn summary(&self) -> String {
        self.login
            .with_tokens(|t| login::describe("Microsoft", &self.name, t))
            .await
    }
}

/// XOAUTH2 to smtp.office365.com: a token for the SMTP resource, not Graph's.
pub struct SmtpToken(pub Arc<MicrosoftLogin>);

impl TokenProvider for SmtpToken {
    fn access_token(&self) -> BoxFuture<'_, Result<(Secret, String), TransportError>> {
        Box::pin(async move {
            let token = self.0.login.access_token(&microsoft::smtp(), false).await?;
            Ok((token, self.0.summary().await))
        })
    }
}

pub struct OutlookTransport {
    pub name: String,
    /// The API root, ending in `/`.
    pub api_root: String,
    pub login: Arc<MicrosoftLogin>,
    /// smtp transports that borrow this login (named by the size refusal).
    pub borrowers: Vec<String>,
}

impl OutlookTransport {
    pub fn open(
        name: &str,
        cfg: &OutlookConfig,
        config: &Config,
        paths: &Paths,
    ) -> Result<OutlookTransport, TransportError> {
        let mut api_root = cfg
            .api_url
            .clone()
            .unwrap_or_else(|| DEFAULT_API_URL.to_string());
        if !api_root.ends_with('/') {
            api_root.push('/');
        }
        Ok(OutlookTransport {
            name: name.to_string(),
            api_root,
            login: Arc::new(MicrosoftLogin::open(name, cfg, paths)?),
            borrowers: smtp_borrowers(config, name),
        })
    }

    fn graph(&self) -> Resource {
        microsoft::graph()
    }

    /// POST sendMail; 401 refreshes once, 429/503/504 wait and retry within the budget.
    async fn post(&self, body: Bytes, progress: ProgressFn<'_>) -> Result<Answer, TransportError> {
        let url = format!("{}v1.0/me/sendMail", self.api_root);
        let mut refreshed = false;
        let mut force = false;
        let mut retries = 0u32;
        loop {
            let token = self.login.login.access_token(&self.graph(), force).await?;
            force = false;
            let headers = [
                ("content-type", "text/plain".to_string()),
                ("authorization", format!("Bearer {}", token.expose())),
            ];
            let res = self
                .login
                .login
                .http()
                .request(Method::POST, &url, &headers, body.clone())
                .await;
            let (error, wait) = match res {
                Ok(a) if a.status == 202 || a.is_success() => return Ok(a),
                Ok(a) if a.status == 401 && !refreshed => {
                    tracing::info!(transport = %self.name, "401 from Microsoft Graph; refreshing the token");
                    refreshed = true;
                    force = true;
                    continue;
                }
                Ok(a) if matches!(a.status, 429 | 503 | 504) => {
                    let mut e = self.graph_error(&a).await;
                    e.transient = true;
                    (e, retry::retry_after(&a.headers, chrono::Utc::now()))
                }
                Ok(a) => return Err(self.graph_error(&a).await),
                Err(f) if f.before_sending => (
                    TransportError::new(
                        Stage::Connect,
                        true,
                        format!("Microsoft Graph: {}", f.message),
                    ),
                    None,
                ),
                // The request may have arrived: a blind resend could deliver twice, so
                // the outbox keeps it for an explicit flush.
                Err(f) => {
                    return Err(TransportError::new(
                        Stage::Send,
                        true,
                        format!("Microsoft Graph: {}", f.message),
                    ))
                }
            };
            if retries >= retry::MAX_RETRIES {
                let mut error = error;
                error.message =
                    format!("{} (gave up after {} attempts)", error.message, retries + 1);
                return Err(error);
            }
            let wait = wait.unwrap_or_else(|| retry::backoff(retries));
            if wait > retry::MAX_WAIT {
                let mut error = error;
                error.message = format!(
                    "{} (the server asks to wait {} s; try later with `missive outbox flush`)",
                    error.message,
                    wait.as_secs()
                );
                return Err(error);
            }
            tracing::info!(transport = %self.name, retry = retries + 1, wait_ms = wait.as_millis() as u64, error = %error, "retrying");
            progress(Progress::Waiting);
            tokio::time::sleep(wait).await;
            retries += 1;
        }
    }

    /// Graph's `{"error": {"code", "message"}}` as a transport error, scrubbed.
    async fn graph_error(&self, a: &Answer) -> TransportError {
        let secrets = self.login.login.secrets().await;
        let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
        let j = a.json().unwrap_or_default();
        let code = j["error"]["code"].as_str().unwrap_or("");
        let message = j["error"]["message"].as_str().unwrap_or("");
        let what = match (code.is_empty(), message.is_empty()) {
            (true, true) => {
                let text = String::from_utf8_lossy(&a.body);
                let text = scrub(text.trim(), &refs);
                if text.is_empty() {
                    format!("HTTP {}", a.status)
                } else {
                    format!("HTTP {}: {text}", a.status)
                }
            }
            _ => format!(
                "HTTP {} {}: {}",
                a.status,
                scrub(code, &refs),
                scrub(message, &refs)
            ),
        };
        let name = &self.name;
        let mut e = match a.status {
            401 => TransportError::new(
                Stage::Auth,
                false,
                format!(
                    "Microsoft Graph refused the access token even after a refresh ({what}); run `missive auth {name}` to log in again"
                ),
            ),
            403 => TransportError::new(
                Stage::Auth,
                false,
                format!(
                    "Microsoft Graph refused to send ({what}): the login needs the delegated permission Mail.Send (granted by an admin in organisations that require it) and a mailbox; run `missive auth {name}` again after fixing the app registration"
                ),
            ),
            s => TransportError::new(
                Stage::Send,
                (500..600).contains(&s),
                format!("Microsoft Graph: {what}"),
            ),
        };
        e.code = Some(a.status);
        e
    }
}

impl Transport for OutlookTransport {
    fn kind(&self) -> &'static str {
        "outlook"
    }

    fn size_limit(&self) -> Option<u64> {
        Some(MAX_MESSAGE_BYTES)
    }

    fn send<'a>(
        &'a self,
        _envelope: &'a Envelope,
        raw: &'a [u8],
        progress: ProgressFn<'a>,
    ) -> BoxFuture<'a, Result<Receipt, TransportError>> {
        Box::pin(async move {
            let size = raw.len() as u64;
            if size > MAX_MESSAGE_BYTES {
                return Err(TransportError::user(
                    Stage::Config,
                    too_large(size, &self.name, &self.borrowers),
                ));
            }
            progress(Progress::Authenticating);
            let body = Bytes::from(base64::engine::general_purpose::STANDARD.encode(raw));
            progress(Progress::Sending {
                sent: 0,
                total: size,
            });
            let a = self.post(body, progress).await?;
            progress(Progress::Sending {
                sent: size,
                total: size,
            });
            // 202 Accepted, no body: Graph gives no id for the message.
            let request_id = a
                .header("request-id")
                .filter(|v| v.len() < 100 && v.chars().all(|c| c.is_ascii_graphic()))
                .map(|v| format!(" request-id {v}"))
                .unwrap_or_default();
            Ok(Receipt {
                server_id: None,
                thread_id: None,
                response: Some(format!("HTTP {} Accepted{request_id}", a.status)),
                path: None,
            })
        })
    }

    fn check(&self) -> BoxFuture<'_, Result<CheckReport, TransportError>> {
        Box::pin(async move {
            // A refresh proves the stored login and the app registration still work.
            self.login.login.access_token(&self.graph(), true).await?;
            let mut lines = vec![
                "refresh token accepted; new Microsoft Graph access token obtained".to_string(),
            ];
            if let Some(b) = self.borrowers.first() {
                match self.login.login.access_token(&microsoft::smtp(), true).await {
                    Ok(_) => lines.push(format!(
                        "SMTP token for smtp transport {b:?} obtained (https://outlook.office.com/SMTP.Send)"
                    )),
                    Err(e) => lines.push(format!(
                        "warning: no SMTP token for smtp transport {b:?}: {}",
                        e.message
                    )),
                }
            }
            lines.push(self.login.summary().await);
            lines.push(format!(
                "Microsoft Graph at {}v1.0/me/sendMail; messages up to {MAX_MESSAGE_BYTES} bytes ({}), saved to Sent Items",
                self.api_root,
                crate::mime_tree::human_size(MAX_MESSAGE_BYTES)
            ));
            if !self.login.login.has_scope(microsoft::GRAPH_SEND).await
                && !self.login.login.has_scope("Mail.Send").await
            {
                lines.push(format!(
                    "warning: the login lacks the scope {}; run `missive auth {}` again",
                    microsoft::GRAPH_SEND,
                    self.name
                ));
            }
            Ok(CheckReport { lines })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_names_the_smtp_transport() {
        let m = too_large(3_000_001, "outlook", &["outlook-smtp".into()]);
        assert!(
            m.contains("3000000") && m.contains("outlook-smtp") && m.contains("nothing was sent"),
            "{m}"
        );
        let m = too_large(3_000_001, "outlook", &[]);
        assert!(m.contains("oauth = \"outlook\""), "{m}");
    }
}
