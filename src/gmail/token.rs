//! The stored Google login of one gmail transport, and keeping its access token fresh.
//!
//! `tokens/<transport>.json` (file 0600, dir 0700) holds the access token, the refresh
//! token, the access token's expiry, the granted scope and the account it was made for.
//! An access token that expires within a minute is refreshed by a form POST to the client
//! secret's `token_uri`. A refused refresh (`invalid_grant`: revoked, or expired because
//! the OAuth app is still in "Testing") is an error telling the user to run
//! `missive auth NAME` — never an interactive flow started from inside a send.
//!
//! Tokens are kept in `Secret`s and never appear in a message, a log line or `Debug`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use hyper::body::Bytes;
use hyper::Method;
use serde::{Deserialize, Serialize};

use super::client_secret::ClientSecret;
use super::http::Http;
use super::retry;
use crate::config::GmailConfig;
use crate::paths::Paths;
use crate::secret::Secret;
use crate::transport::smtp::TokenProvider;
use crate::transport::{Stage, TransportError};

/// Sending through the Gmail API: nothing else.
pub const SCOPE_SEND: &str = "https://www.googleapis.com/auth/gmail.send";
/// The only scope Gmail's SMTP server accepts for XOAUTH2 (full mailbox access).
pub const SCOPE_MAIL: &str = "https://mail.google.com/";

/// An access token this close to its expiry is refreshed first.
const EXPIRY_MARGIN: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

pub const TESTING_NOTE: &str = "if the OAuth consent screen of your Google Cloud project is in \
\"Testing\" status, Google expires its refresh tokens after 7 days; set the publishing status to \
\"In production\" (APIs & Services → OAuth consent screen → Publish app) to keep the login";

/// `tokens/<transport>.json`; the name is reduced to safe file-name characters.
pub fn token_path(paths: &Paths, transport: &str) -> PathBuf {
    let safe: String = transport
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let safe = safe.trim_start_matches('.');
    paths.tokens_dir().join(format!("{safe}.json"))
}

/// The file's shape. No `Debug`: it holds the tokens in clear.
#[derive(Serialize, Deserialize)]
struct TokenFile {
    access_token: String,
    refresh_token: String,
    /// RFC 3339.
    expires_at: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    token_type: Option<String>,
    /// The address this login sends as (see `auth`), when known.
    #[serde(default)]
    account: Option<String>,
    /// The OAuth client that made the login; a refresh needs the same one.
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    authorised_at: Option<String>,
}

/// A login in memory.
pub struct Tokens {
    pub access: Secret,
    pub refresh: Secret,
    pub expires_at: DateTime<Utc>,
    pub scope: String,
    pub account: Option<String>,
    pub client_id: Option<String>,
    pub authorised_at: Option<String>,
}

impl Tokens {
    pub fn load(path: &Path) -> std::io::Result<Option<Tokens>> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let f: TokenFile = serde_json::from_slice(&bytes).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("not a missive token file (line {})", e.line()),
            )
        })?;
        let expires_at = DateTime::parse_from_rfc3339(&f.expires_at)
            .map(|d| d.with_timezone(&Utc))
            // An unreadable expiry means "refresh before use".
            .unwrap_or(DateTime::UNIX_EPOCH);
        Ok(Some(Tokens {
            access: Secret::new(f.access_token),
            refresh: Secret::new(f.refresh_token),
            expires_at,
            scope: f.scope,
            account: f.account,
            client_id: f.client_id,
            authorised_at: f.authorised_at,
        }))
    }

    /// Written with `write_private`: 0600 from creation, in a 0700 directory.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let f = TokenFile {
            access_token: self.access.expose().to_string(),
            refresh_token: self.refresh.expose().to_string(),
            expires_at: self.expires_at.to_rfc3339(),
            scope: self.scope.clone(),
            token_type: Some("Bearer".into()),
            account: self.account.clone(),
            client_id: self.client_id.clone(),
            authorised_at: self.authorised_at.clone(),
        };
        let mut json = serde_json::to_vec_pretty(&f).map_err(std::io::Error::other)?;
        json.push(b'\n');
        crate::paths::write_private(path, &json)
    }

    pub fn fresh(&self, now: DateTime<Utc>) -> bool {
        self.expires_at - EXPIRY_MARGIN > now
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope.split_whitespace().any(|s| s == scope)
    }
}

/// What the token endpoint granted. No `Debug`.
pub struct Granted {
    pub access: Secret,
    pub refresh: Option<Secret>,
    pub expires_at: DateTime<Utc>,
    pub scope: Option<String>,
}

#[derive(Debug)]
pub enum TokenFault {
    /// The grant (authorization code or refresh token) is no longer valid.
    InvalidGrant(String),
    /// The OAuth client was refused (wrong or deleted client, wrong secret).
    Client(String),
    /// Worth another try: no answer, 429, 5xx.
    Transient(String),
    Other(String),
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    refresh_token: Option<String>,
    expires_in: Option<i64>,
    scope: Option<String>,
}

/// One form-encoded POST to `token_uri`.
pub async fn token_request(
    http: &Http,
    token_uri: &str,
    form: &[(&str, &str)],
) -> Result<Granted, TokenFault> {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let a = http
        .request(
            Method::POST,
            token_uri,
            &[
                (
                    "content-type",
                    "application/x-www-form-urlencoded".to_string(),
                ),
                ("accept", "application/json".to_string()),
            ],
            Bytes::from(body),
        )
        .await
        .map_err(|f| TokenFault::Transient(format!("{token_uri}: {}", f.message)))?;
    if !a.is_success() {
        // {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
        let j = a.json().unwrap_or_default();
        let code = j.get("error").and_then(|v| v.as_str()).unwrap_or("");
        let desc = j
            .get("error_description")
            .and_then(|v| v.as_str())
            .unwrap_or("");
        let what = match (code.is_empty(), desc.is_empty()) {
            (true, _) => format!("HTTP {}", a.status),
            (false, true) => format!("HTTP {}: {code}", a.status),
            (false, false) => format!("HTTP {}: {code}: {desc}", a.status),
        };
        return Err(match code {
            "invalid_grant" => TokenFault::InvalidGrant(what),
            "invalid_client" | "unauthorized_client" => TokenFault::Client(what),
            _ if retry::retryable_status(a.status) => TokenFault::Transient(what),
            _ => TokenFault::Other(what),
        });
    }
    let t: TokenAnswer = serde_json::from_slice(&a.body)
        .map_err(|_| TokenFault::Other("the token endpoint's answer is not JSON".into()))?;
    let access = t
        .access_token
        .filter(|s| !s.is_empty())
        .ok_or_else(|| TokenFault::Other("the token endpoint returned no access_token".into()))?;
    // Google says 3599 s; assume an hour when it says nothing.
    let expires_in = t.expires_in.unwrap_or(3600).clamp(0, 366 * 24 * 3600);
    Ok(Granted {
        access: Secret::new(access),
        refresh: t.refresh_token.filter(|s| !s.is_empty()).map(Secret::new),
        expires_at: Utc::now() + chrono::TimeDelta::seconds(expires_in),
        scope: t.scope,
    })
}

/// A gmail transport's login, shared by the Gmail API transport and by smtp transports
/// with `oauth = "<name>"`.
pub struct GoogleLogin {
    pub name: String,
    path: PathBuf,
    client: ClientSecret,
    http: Http,
    /// Held across a refresh so concurrent users of the login refresh once.
    tokens: tokio::sync::Mutex<Tokens>,
}

impl GoogleLogin {
    /// Read the client secret and the stored login. Either missing is a configuration
    /// problem the user fixes (exit 2, nothing sent).
    pub fn open(
        name: &str,
        cfg: &GmailConfig,
        paths: &Paths,
    ) -> Result<GoogleLogin, TransportError> {
        let client = ClientSecret::load(&cfg.client_secret, name)?;
        let path = token_path(paths, name);
        let tokens = match Tokens::load(&path) {
            Ok(Some(t)) => t,
            Ok(None) => {
                return Err(TransportError::user(
                    Stage::Config,
                    format!(
                        "transport {name:?} has no Google login yet ({} does not exist): run `missive auth {name}`",
                        path.display()
                    ),
                ))
            }
            Err(e) => {
                return Err(TransportError::user(
                    Stage::Config,
                    format!(
                        "transport {name:?}: token file {}: {}; run `missive auth {name}` to log in again",
                        path.display(),
                        crate::message::io_reason(&e)
                    ),
                ))
            }
        };
        let http = Http::new(Duration::from_secs(cfg.timeout_secs.max(1)))
            .map_err(|m| TransportError::new(Stage::Tls, false, m))?;
        Ok(GoogleLogin {
            name: name.to_string(),
            path,
            client,
            http,
            tokens: tokio::sync::Mutex::new(tokens),
        })
    }

    pub fn http(&self) -> &Http {
        &self.http
    }

    /// A valid access token: the stored one, or a refreshed one when it has expired (or
    /// when `force`, e.g. after the API answered 401).
    pub async fn access_token(&self, force: bool) -> Result<Secret, TransportError> {
        let mut t = self.tokens.lock().await;
        if !force && t.fresh(Utc::now()) {
            return Ok(t.access.clone());
        }
        self.refresh(&mut t).await?;
        Ok(t.access.clone())
    }

    /// The granted scope and account, for messages and `missive check`.
    pub async fn summary(&self) -> String {
        let t = self.tokens.lock().await;
        describe(&self.name, &t)
    }

    pub async fn has_scope(&self, scope: &str) -> bool {
        self.tokens.lock().await.has_scope(scope)
    }

    async fn refresh(&self, t: &mut Tokens) -> Result<(), TransportError> {
        let name = &self.name;
        if let Some(id) = &t.client_id {
            if *id != self.client.client_id {
                return Err(TransportError::new(
                    Stage::Auth,
                    false,
                    format!(
                        "the stored Google login of transport {name:?} was made with another OAuth client than the one in client_secret; run `missive auth {name}` to log in again"
                    ),
                ));
            }
        }
        let mut retry_no = 0;
        let granted = loop {
            let form = [
                ("grant_type", "refresh_token"),
                ("refresh_token", t.refresh.expose()),
                ("client_id", self.client.client_id.as_str()),
                ("client_secret", self.client.client_secret.expose()),
            ];
            match token_request(&self.http, &self.client.token_uri, &form).await {
                Ok(g) => break g,
                Err(TokenFault::Transient(m)) if retry_no < retry::MAX_RETRIES => {
                    tracing::info!(transport = %name, retry_no, error = %m, "token refresh failed, retrying");
                    tokio::time::sleep(retry::backoff(retry_no)).await;
                    retry_no += 1;
                }
                Err(fault) => return Err(refresh_error(name, fault)),
            }
        };
        t.access = granted.access;
        if let Some(r) = granted.refresh {
            t.refresh = r;
        }
        t.expires_at = granted.expires_at;
        if let Some(s) = granted.scope {
            t.scope = s;
        }
        tracing::info!(transport = %name, expires_at = %t.expires_at, "access token refreshed");
        if let Err(e) = t.save(&self.path) {
            // The fresh token still works for this run; the next run refreshes again.
            tracing::warn!(path = %self.path.display(), error = %e, "could not store the refreshed token");
        }
        Ok(())
    }
}

fn refresh_error(name: &str, fault: TokenFault) -> TransportError {
    match fault {
        TokenFault::InvalidGrant(what) => TransportError::new(
            Stage::Auth,
            false,
            format!(
                "Google refused the stored login of transport {name:?} ({what}): it was revoked or has expired. Run `missive auth {name}` to log in again. Note: {TESTING_NOTE}"
            ),
        ),
        TokenFault::Client(what) => TransportError::new(
            Stage::Auth,
            false,
            format!(
                "Google refused the OAuth client of transport {name:?} ({what}): check that client_secret is the Desktop-app client the login was made with, then run `missive auth {name}`"
            ),
        ),
        TokenFault::Transient(what) => TransportError::new(
            Stage::Auth,
            true,
            format!("refreshing the access token of transport {name:?} failed: {what}"),
        ),
        TokenFault::Other(what) => TransportError::new(
            Stage::Auth,
            false,
            format!("refreshing the access token of transport {name:?} failed: {what}"),
        ),
    }
}

/// "account ada@gmail.com, scope gmail.send, access token valid until 2026-11-24 17:40 UTC"
pub fn describe(name: &str, t: &Tokens) -> String {
    let scopes: Vec<&str> = t
        .scope
        .split_whitespace()
        .map(|s| {
            s.strip_prefix("https://www.googleapis.com/auth/")
                .unwrap_or(s)
        })
        .collect();
    let now = Utc::now();
    let expiry = if t.expires_at > now {
        format!(
            "access token valid until {}",
            t.expires_at.format("%Y-%m-%d %H:%M:%S UTC")
        )
    } else {
        format!(
            "access token expired at {} (refreshed when needed)",
            t.expires_at.format("%Y-%m-%d %H:%M:%S UTC")
        )
    };
    format!(
        "Google login of transport {name:?}: account {}, scope {}, {expiry}",
        t.account.as_deref().unwrap_or("unknown"),
        if scopes.is_empty() {
            "unknown".to_string()
        } else {
            scopes.join(" ")
        },
    )
}

/// XOAUTH2 for smtp transports with `oauth = "<gmail transport>"`.
impl TokenProvider for GoogleLogin {
    fn access_token(&self) -> BoxFuture<'_, Result<(Secret, String), TransportError>> {
        Box::pin(async move {
            let token = GoogleLogin::access_token(self, false).await?;
            let mut info = self.summary().await;
            if !self.has_scope(SCOPE_MAIL).await {
                info.push_str(&format!(
                    "; warning: smtp.gmail.com accepts only the scope {SCOPE_MAIL}, which this login lacks: run `missive auth {}` again (it asks for that scope when an smtp transport uses oauth = {:?})",
                    self.name, self.name
                ));
            }
            Ok((token, info))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_file_round_trip_is_private() {
        let dir = tempfile::tempdir().expect("tempdir");
        let paths = Paths::at(dir.path().join("c"), dir.path().join("d"));
        let p = token_path(&paths, "gm ail/../x");
        assert_eq!(p.parent(), Some(paths.tokens_dir().as_path()));
        let t = Tokens {
            access: Secret::new("ya29.a".into()),
            refresh: Secret::new("1//r".into()),
            expires_at: Utc::now() + chrono::TimeDelta::seconds(3599),
            scope: SCOPE_SEND.into(),
            account: Some("ada@example.com".into()),
            client_id: Some("id".into()),
            authorised_at: None,
        };
        t.save(&p).expect("save");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let dmode = std::fs::metadata(paths.tokens_dir())
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(dmode & 0o777, 0o700);
        }
        let back = Tokens::load(&p).expect("load").expect("present");
        assert_eq!(back.access.expose(), "ya29.a");
        assert_eq!(back.refresh.expose(), "1//r");
        assert!(back.fresh(Utc::now()));
        assert!(back.has_scope(SCOPE_SEND) && !back.has_scope(SCOPE_MAIL));
        let d = describe("gmail", &back);
        assert!(
            d.contains("ada@example.com") && d.contains("gmail.send"),
            "{d}"
        );
        assert!(!d.contains("ya29") && !d.contains("1//r"), "{d}");
    }
}
