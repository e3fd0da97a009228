//! The `kind = "gmail"` transport: `users.messages.send` with the exact bytes the engine
//! built, as `message/rfc822`.
//!
//! The HTTP requests are the ones google-gmail1's upload calls make, sent with our own
//! hyper client instead of through its hub, because the hub (7.0) panics on an upload
//! answer without a `Location` header, keeps the HTTP status of a failed resumable upload
//! to itself, and leaves retries to a synchronous delegate. Here every answer is
//! classified: 429 and 5xx are retried with backoff (honouring `Retry-After`) a bounded
//! number of times, 401 leads to one token refresh, 403 for a missing scope is a clear
//! error, and everything else is a transport failure for the outbox.
//!
//! - up to 5 MiB: one request, `upload/gmail/v1/users/{user}/messages/send?uploadType=multipart`
//!   (a `multipart/related` body: `{}` metadata, then the message);
//! - larger: `?uploadType=resumable`, then the bytes in 4 MiB chunks with `PUT` to the
//!   session URL (`308` + `Range` between chunks; after a failure, a status query says
//!   where to go on from).

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use hyper::body::Bytes;
use hyper::Method;

use super::http::{redact_query, Answer};
use super::retry;
use super::token::{GoogleLogin, SCOPE_SEND};
use super::MAX_MESSAGE_BYTES;
use crate::message::Envelope;
use crate::transport::{
    CheckReport, Progress, ProgressFn, Receipt, Stage, Transport, TransportError,
};

/// Messages up to this size go in one request.
pub const SIMPLE_MAX: usize = 5 * 1024 * 1024;
/// Resumable upload chunk: a multiple of 256 KiB, as the protocol requires.
pub const CHUNK: usize = 4 * 1024 * 1024;
/// Resumable upload answers in a row that may leave the upload where it was before the
/// upload is given up (one lost chunk is normal; a server that never takes one is not).
pub const MAX_STALLED: u32 = 3;

pub const DEFAULT_API_URL: &str = "https://gmail.googleapis.com/";

pub struct GmailTransport {
    pub name: String,
    pub user: String,
    /// The API root, ending in `/`.
    pub api_root: String,
    pub login: Arc<GoogleLogin>,
}

/// One request, replayable (the body is reference-counted).
struct Req {
    method: Method,
    url: String,
    headers: Vec<(&'static str, String)>,
    body: Bytes,
}

/// Per-send bookkeeping: retries left, and whether the token was already refreshed.
#[derive(Default)]
struct Budget {
    retries: u32,
    refreshed: bool,
    force_refresh: bool,
}

/// What one attempt came to.
enum Step {
    Answer(Answer),
    /// Try again after `wait` (from Retry-After, else backoff). `unsure`: no answer, and
    /// the request may have reached the server.
    Retry {
        wait: Option<Duration>,
        error: TransportError,
        unsure: bool,
    },
    Fail(TransportError),
}

impl GmailTransport {
    fn endpoint(&self, upload_type: &str) -> String {
        let user =
            percent_encoding::utf8_percent_encode(&self.user, percent_encoding::NON_ALPHANUMERIC);
        format!(
            "{}upload/gmail/v1/users/{user}/messages/send?uploadType={upload_type}",
            self.api_root
        )
    }

    /// One attempt, with a valid token. A 401 refreshes the token once and is retried at
    /// once; everything else is classified for the caller.
    async fn attempt(&self, req: &Req, budget: &mut Budget) -> Step {
        loop {
            let token = match self.login.access_token(budget.force_refresh).await {
                Ok(t) => t,
                Err(e) => return Step::Fail(e),
            };
            budget.force_refresh = false;
            let mut headers: Vec<(&str, String)> = req.headers.clone();
            headers.push(("authorization", format!("Bearer {}", token.expose())));
            let res = self
                .login
                .http()
                .request(req.method.clone(), &req.url, &headers, req.body.clone())
                .await;
            let a = match res {
                Ok(a) => a,
                Err(f) => {
                    return Step::Retry {
                        wait: None,
                        error: TransportError::new(
                            if f.before_sending {
                                Stage::Connect
                            } else {
                                Stage::Send
                            },
                            true,
                            format!("Gmail API: {}", f.message),
                        ),
                        unsure: !f.before_sending,
                    }
                }
            };
            if a.is_success() || a.status == 308 {
                return Step::Answer(a);
            }
            if a.status == 401 && !budget.refreshed {
                tracing::info!(transport = %self.name, "401 from the Gmail API; refreshing the token");
                budget.refreshed = true;
                budget.force_refresh = true;
                continue;
            }
            return self.classify(&a).await;
        }
    }

    /// A non-success answer: retry, or a clear error.
    async fn classify(&self, a: &Answer) -> Step {
        let (reason, message) = google_error(a);
        let what = if message.is_empty() {
            format!("HTTP {}", a.status)
        } else {
            format!("HTTP {}: {message}", a.status)
        };
        let name = &self.name;
        let rate_limited = matches!(
            reason.as_str(),
            "rateLimitExceeded" | "userRateLimitExceeded" | "RATE_LIMIT_EXCEEDED"
        );
        if retry::retryable_status(a.status) || (a.status == 403 && rate_limited) {
            let mut e = TransportError::new(Stage::Send, true, format!("Gmail API: {what}"));
            e.code = Some(a.status);
            return Step::Retry {
                wait: retry::retry_after(&a.headers, chrono::Utc::now()),
                error: e,
                unsure: false,
            };
        }
        let www = a.header("www-authenticate").unwrap_or("").to_string();
        let insufficient = a.status == 403
            && (reason == "insufficientPermissions"
                || reason == "ACCESS_TOKEN_SCOPE_INSUFFICIENT"
                || www.contains("insufficient_scope")
                || message.contains("insufficient authentication scopes"));
        let mut e = if insufficient {
            let granted = self.login.summary().await;
            TransportError::new(
                Stage::Auth,
                false,
                format!(
                    "Gmail refused to send: the stored login does not allow sending mail (403 insufficient scope; {granted}). Run `missive auth {name}` again and allow \"Send email on your behalf\" ({SCOPE_SEND})"
                ),
            )
        } else if a.status == 401 {
            TransportError::new(
                Stage::Auth,
                false,
                format!(
                    "Gmail refused the access token even after a refresh ({what}); run `missive auth {name}` to log in again"
                ),
            )
        } else if a.status == 403
            && (reason == "accessNotConfigured" || reason == "SERVICE_DISABLED")
        {
            TransportError::new(
                Stage::Auth,
                false,
                format!(
                    "the Gmail API is not enabled for the OAuth client's Google Cloud project ({what}); enable it in the console: APIs & Services → Library → Gmail API → Enable"
                ),
            )
        } else {
            TransportError::new(Stage::Send, false, format!("Gmail API: {what}"))
        };
        e.code = Some(a.status);
        Step::Fail(e)
    }

    /// Repeat `req` through 429/5xx answers (and connections that never started), within
    /// the budget. `idempotent`: also repeat after a lost answer.
    async fn execute(
        &self,
        req: &Req,
        budget: &mut Budget,
        idempotent: bool,
        progress: ProgressFn<'_>,
    ) -> Result<Answer, TransportError> {
        loop {
            match self.attempt(req, budget).await {
                Step::Answer(a) => return Ok(a),
                Step::Fail(e) => return Err(e),
                Step::Retry {
                    wait,
                    error,
                    unsure,
                } => {
                    if unsure && !idempotent {
                        // The message may have been accepted: no blind resend (it would
                        // duplicate); the outbox keeps it for an explicit flush.
                        return Err(error);
                    }
                    self.pause(wait, error, budget, progress).await?;
                }
            }
        }
    }

    /// Wait before a retry, or give up when the budget is spent or the server asks for
    /// too long a pause.
    async fn pause(
        &self,
        wait: Option<Duration>,
        mut error: TransportError,
        budget: &mut Budget,
        progress: ProgressFn<'_>,
    ) -> Result<(), TransportError> {
        if budget.retries >= retry::MAX_RETRIES {
            error.message = format!(
                "{} (gave up after {} attempts)",
                error.message,
                budget.retries + 1
            );
            return Err(error);
        }
        let wait = wait.unwrap_or_else(|| retry::backoff(budget.retries));
        if wait > retry::MAX_WAIT {
            error.message = format!(
                "{} (the server asks to wait {} s; try later with `missive outbox flush`)",
                error.message,
                wait.as_secs()
            );
            return Err(error);
        }
        tracing::info!(transport = %self.name, retry = budget.retries + 1, wait_ms = wait.as_millis() as u64, error = %error, "retrying");
        progress(Progress::Waiting);
        tokio::time::sleep(wait).await;
        budget.retries += 1;
        Ok(())
    }

    async fn send_simple(
        &self,
        raw: &[u8],
        budget: &mut Budget,
        progress: ProgressFn<'_>,
    ) -> Result<Answer, TransportError> {
        let boundary = boundary_for(raw);
        let mut body = Vec::with_capacity(raw.len() + 256);
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{{}}\r\n--{boundary}\r\nContent-Type: message/rfc822\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(raw);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let req = Req {
            method: Method::POST,
            url: self.endpoint("multipart"),
            headers: vec![(
                "content-type",
                format!("multipart/related; boundary={boundary}"),
            )],
            body: Bytes::from(body),
        };
        let total = raw.len() as u64;
        progress(Progress::Sending { sent: 0, total });
        let a = self.execute(&req, budget, false, progress).await?;
        progress(Progress::Sending { sent: total, total });
        Ok(a)
    }

    async fn send_resumable(
        &self,
        raw: &[u8],
        budget: &mut Budget,
        progress: ProgressFn<'_>,
    ) -> Result<Answer, TransportError> {
        let total = raw.len();
        let start = Req {
            method: Method::POST,
            url: self.endpoint("resumable"),
            headers: vec![
                ("content-type", "application/json; charset=UTF-8".into()),
                ("x-upload-content-type", "message/rfc822".into()),
                ("x-upload-content-length", total.to_string()),
            ],
            body: Bytes::from_static(b"{}"),
        };
        // Starting a session sends nothing yet: safe to repeat.
        let a = self.execute(&start, budget, true, progress).await?;
        let api = url::Url::parse(&start.url).ok();
        let session = a
            .header("location")
            .and_then(|l| api.as_ref()?.join(l).ok())
            .ok_or_else(|| {
                TransportError::new(
                    Stage::Send,
                    false,
                    format!(
                        "Gmail API: the resumable upload was not started (HTTP {} without a Location header)",
                        a.status
                    ),
                )
            })?;
        // Every chunk carries the access token: it goes to the configured API and nowhere
        // else, whatever the server names.
        if api.as_ref().map(url::Url::origin) != Some(session.origin()) {
            return Err(TransportError::new(
                Stage::Send,
                false,
                format!(
                    "Gmail API: the upload session is at {}, not at the configured API ({}); refused, so the access token is not sent there",
                    crate::escape::shown(&session.origin().ascii_serialization()),
                    api.map(|u| u.origin().ascii_serialization()).unwrap_or_default()
                ),
            ));
        }
        let session = String::from(session);
        tracing::debug!(transport = %self.name, session = %redact_query(&session), total, "resumable upload session started");
        let bytes = Bytes::copy_from_slice(raw);
        let mut offset = 0usize;
        // Answers in a row that did not move the upload on: a server that keeps saying
        // 308 without taking the bytes would otherwise be sent the chunk forever.
        let mut stalled = 0u32;
        progress(Progress::Sending {
            sent: 0,
            total: total as u64,
        });
        loop {
            let end = (offset + CHUNK).min(total);
            let put = Req {
                method: Method::PUT,
                url: session.clone(),
                headers: vec![(
                    "content-range",
                    format!("bytes {offset}-{}/{total}", end.saturating_sub(1)),
                )],
                body: bytes.slice(offset..end),
            };
            let step = self.attempt(&put, budget).await;
            let answer = match step {
                Step::Answer(a) => a,
                Step::Fail(e) => return Err(e),
                Step::Retry { wait, error, .. } => {
                    // Whatever happened to the chunk, the session knows what it has.
                    self.pause(wait, error, budget, progress).await?;
                    let status = Req {
                        method: Method::PUT,
                        url: session.clone(),
                        headers: vec![("content-range", format!("bytes */{total}"))],
                        body: Bytes::new(),
                    };
                    self.execute(&status, budget, true, progress).await?
                }
            };
            if answer.status != 308 {
                progress(Progress::Sending {
                    sent: total as u64,
                    total: total as u64,
                });
                return Ok(answer);
            }
            // "Range: bytes=0-4194303": everything up to and including that byte arrived.
            let received = answer
                .header("range")
                .and_then(|r| r.trim().strip_prefix("bytes=0-"))
                .map(|n| n.trim().parse::<u64>().ok().and_then(|l| l.checked_add(1)))
                .map(|n| {
                    n.and_then(|n| usize::try_from(n).ok())
                        .unwrap_or(usize::MAX)
                })
                .unwrap_or(0);
            if received > offset {
                stalled = 0;
            } else {
                stalled += 1;
                if stalled >= MAX_STALLED {
                    return Err(TransportError::new(
                        Stage::Send,
                        true,
                        format!(
                            "Gmail API: the upload stopped advancing at {offset} of {total} bytes ({stalled} answers in a row took nothing); gave up"
                        ),
                    ));
                }
            }
            if received > total {
                return Err(TransportError::new(
                    Stage::Send,
                    false,
                    format!(
                        "Gmail API: the upload session at {} reports {received} of {total} bytes",
                        redact_query(&session)
                    ),
                ));
            }
            offset = received;
            progress(Progress::Sending {
                sent: offset as u64,
                total: total as u64,
            });
        }
    }
}

/// `(reason, message)` from Google's error JSON:
/// `{"error": {"code", "message", "status", "errors": [{"reason"}], "details": [{"reason"}]}}`.
fn google_error(a: &Answer) -> (String, String) {
    let Some(j) = a.json() else {
        let text = String::from_utf8_lossy(&a.body);
        let line: String = text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(200)
            .collect();
        return (String::new(), line);
    };
    let e = &j["error"];
    let message: String = e["message"]
        .as_str()
        .or_else(|| e.as_str())
        .unwrap_or("")
        .chars()
        .take(400)
        .collect();
    let reason = e["errors"][0]["reason"]
        .as_str()
        .or_else(|| {
            e["details"]
                .as_array()?
                .iter()
                .find_map(|d| d["reason"].as_str())
        })
        .or_else(|| e["status"].as_str())
        .unwrap_or("")
        .to_string();
    (reason, message)
}

/// A multipart boundary that does not occur in the message.
fn boundary_for(raw: &[u8]) -> String {
    loop {
        let b = format!("missive_{}", uuid::Uuid::new_v4().simple());
        if !raw.windows(b.len()).any(|w| w == b.as_bytes()) {
            return b;
        }
    }
}

impl Transport for GmailTransport {
    fn kind(&self) -> &'static str {
        "gmail"
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
            // The engine built these bytes for Gmail with the Bcc header kept (the API has
            // no envelope), so they go exactly as they are: what `preview --raw` shows.
            let size = raw.len() as u64;
            if size > MAX_MESSAGE_BYTES {
                return Err(TransportError::user(Stage::Config, super::too_large(size)));
            }
            progress(Progress::Authenticating);
            let mut budget = Budget::default();
            let a = if raw.len() <= SIMPLE_MAX {
                self.send_simple(raw, &mut budget, progress).await?
            } else {
                self.send_resumable(raw, &mut budget, progress).await?
            };
            // google-gmail1's typed `Message` (the request itself is ours: see above).
            let m: google_gmail1::api::Message =
                serde_json::from_slice(&a.body).unwrap_or_else(|e| {
                    tracing::warn!(transport = %self.name, error = %e, "Gmail's answer is not a Message");
                    Default::default()
                });
            let id = m.id;
            let thread = m.thread_id;
            let labels = m.label_ids.unwrap_or_default();
            if id.is_none() {
                tracing::warn!(transport = %self.name, status = a.status, "Gmail accepted the message but returned no id");
            }
            let mut response = format!("HTTP {}", a.status);
            if let Some(i) = &id {
                response.push_str(&format!(" id {i}"));
            }
            if let Some(t) = &thread {
                response.push_str(&format!(" thread {t}"));
            }
            if !labels.is_empty() {
                response.push_str(&format!(" labels {}", labels.join(",")));
            }
            Ok(Receipt {
                server_id: id,
                thread_id: thread,
                response: Some(response),
                path: None,
            })
        })
    }

    fn check(&self) -> BoxFuture<'_, Result<CheckReport, TransportError>> {
        Box::pin(async move {
            // A refresh proves the stored login and the OAuth client still work.
            self.login.access_token(true).await?;
            let mut lines = vec![
                "refresh token accepted; new access token obtained".to_string(),
                self.login.summary().await,
                format!(
                    "Gmail API at {} for user {:?}; messages up to {} ({MAX_MESSAGE_BYTES} bytes)",
                    self.api_root,
                    self.user,
                    crate::mime_tree::human_size(MAX_MESSAGE_BYTES)
                ),
            ];
            if !self.login.has_scope(SCOPE_SEND).await
                && !self.login.has_scope(super::token::SCOPE_MAIL).await
            {
                lines.push(format!(
                    "warning: the login lacks the scope {SCOPE_SEND}; run `missive auth {}` again",
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
    fn google_error_shapes() {
        let a = Answer {
            status: 403,
            headers: Default::default(),
            body: Bytes::from_static(
                br#"{"error":{"code":403,"message":"Request had insufficient authentication scopes.","errors":[{"reason":"insufficientPermissions"}],"status":"PERMISSION_DENIED"}}"#,
            ),
        };
        let (r, m) = google_error(&a);
        assert_eq!(r, "insufficientPermissions");
        assert!(m.contains("insufficient authentication scopes"));
        let b = Answer {
            status: 502,
            headers: Default::default(),
            body: Bytes::from_static(b"<html>\n  Bad   gateway</html>"),
        };
        assert_eq!(google_error(&b).1, "<html> Bad gateway</html>");
    }

    #[test]
    fn boundary_not_in_message() {
        let b = boundary_for(b"hello");
        assert!(b.starts_with("missive_"));
    }
}
