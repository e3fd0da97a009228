//! A stored login in use: valid access tokens, one per resource, from the one refresh
//! token.
//!
//! An access token that expires within a minute is refreshed at the provider's token
//! endpoint (429/5xx and lost connections are retried a bounded number of times). A
//! refused refresh (`invalid_grant`: revoked, expired, consent withdrawn) is an error
//! telling the user to run `missive auth NAME` — never an interactive flow started from
//! inside a send. Tokens stay in `Secret`s and out of every message and log line.

use std::path::PathBuf;
use std::time::Duration;

use chrono::Utc;
use oauth2::{RefreshToken, Scope};

use super::client::{token_client, Fault, Granted};
use super::store::{token_path, Access, Tokens};
use super::Provider;
use crate::http::{retry, Http};
use crate::paths::Paths;
use crate::secret::Secret;
use crate::transport::{Stage, TransportError};

/// What an access token is for. `key: None` is the login's main resource, stored at the
/// top of the token file; `scope: None` refreshes with the scopes originally granted.
#[derive(Clone, Debug, PartialEq)]
pub struct Resource {
    pub key: Option<&'static str>,
    pub scope: Option<String>,
}

impl Resource {
    pub const MAIN: Resource = Resource {
        key: None,
        scope: None,
    };
}

/// One refresh-token grant, for `scope` when given.
pub async fn refresh_grant(
    p: &Provider,
    http: &Http,
    refresh: &Secret,
    scope: Option<&str>,
    secrets: &[&str],
) -> Result<Granted, Fault> {
    let client = token_client(p)?;
    let rt = RefreshToken::new(refresh.expose().to_string());
    let mut req = client.exchange_refresh_token(&rt);
    for s in scope.unwrap_or("").split_whitespace() {
        req = req.add_scope(Scope::new(s.to_string()));
    }
    let mut all = p.secrets();
    all.extend_from_slice(secrets);
    all.push(refresh.expose());
    let t = req
        .request_async(http)
        .await
        .map_err(|e| Fault::from_request(e, &p.token_url, &all))?;
    Granted::from_answer(&t)
}

pub struct Login {
    pub name: String,
    path: PathBuf,
    provider: Provider,
    http: Http,
    /// Held across a refresh so concurrent users of the login refresh once.
    tokens: tokio::sync::Mutex<Tokens>,
}

impl Login {
    /// Read the stored login of transport `name`. None yet, or an unreadable file, is a
    /// configuration problem the user fixes with `missive auth NAME` (exit 2).
    pub fn open(
        name: &str,
        provider: Provider,
        paths: &Paths,
        timeout: Duration,
    ) -> Result<Login, TransportError> {
        let path = token_path(paths, name);
        let label = provider.label;
        let tokens = match Tokens::load(&path) {
            Ok(Some(t)) => t,
            Ok(None) => {
                return Err(TransportError::user(
                    Stage::Config,
                    format!(
                        "transport {name:?} has no {label} login yet ({} does not exist): run `missive auth {name}`",
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
        let http = Http::new(timeout).map_err(|m| TransportError::new(Stage::Tls, false, m))?;
        Ok(Login {
            name: name.to_string(),
            path,
            provider,
            http,
            tokens: tokio::sync::Mutex::new(tokens),
        })
    }

    pub fn http(&self) -> &Http {
        &self.http
    }

    pub fn provider(&self) -> &Provider {
        &self.provider
    }

    /// A valid access token for `r`: the stored one, or a refreshed one when it has
    /// expired (or when `force`, e.g. after the API answered 401).
    pub async fn access_token(&self, r: &Resource, force: bool) -> Result<Secret, TransportError> {
        let mut t = self.tokens.lock().await;
        let now = Utc::now();
        let stored = match r.key {
            None => t.fresh(now).then(|| t.access.clone()),
            Some(k) => t
                .resources
                .get(k)
                .filter(|a| a.fresh(now))
                .map(|a| a.token.clone()),
        };
        if let (false, Some(tok)) = (force, stored) {
            return Ok(tok);
        }
        self.refresh(&mut t, r).await
    }

    /// Read the stored login (for summaries and scope checks).
    pub async fn with_tokens<R>(&self, f: impl FnOnce(&Tokens) -> R) -> R {
        f(&*self.tokens.lock().await)
    }

    pub async fn has_scope(&self, scope: &str) -> bool {
        self.tokens.lock().await.has_scope(scope)
    }

    /// Every secret of this login and its client, for scrubbing what servers say.
    pub async fn secrets(&self) -> Vec<String> {
        let t = self.tokens.lock().await;
        let mut v: Vec<String> = t.secrets().into_iter().map(String::from).collect();
        v.extend(self.provider.secrets().into_iter().map(String::from));
        v
    }

    async fn refresh(&self, t: &mut Tokens, r: &Resource) -> Result<Secret, TransportError> {
        let name = &self.name;
        let label = self.provider.label;
        if let Some(id) = &t.client_id {
            if *id != self.provider.client_id {
                return Err(TransportError::new(
                    Stage::Auth,
                    false,
                    format!(
                        "the stored {label} login of transport {name:?} was made with another OAuth client than the one configured; run `missive auth {name}` to log in again"
                    ),
                ));
            }
        }
        let mut retry_no = 0;
        let granted = loop {
            let secrets = t.secrets();
            match refresh_grant(
                &self.provider,
                &self.http,
                &t.refresh,
                r.scope.as_deref(),
                &secrets,
            )
            .await
            {
                Ok(g) => break g,
                Err(Fault::Transient(m)) if retry_no < retry::MAX_RETRIES => {
                    tracing::info!(transport = %name, retry_no, error = %m, "token refresh failed, retrying");
                    tokio::time::sleep(retry::backoff(retry_no)).await;
                    retry_no += 1;
                }
                Err(fault) => return Err(refresh_error(&self.provider, name, fault)),
            }
        };
        let token = granted.access.clone();
        match r.key {
            None => {
                t.access = granted.access;
                t.expires_at = granted.expires_at;
                if let Some(s) = granted.scope {
                    t.scope = s;
                }
            }
            Some(k) => {
                let scope = granted
                    .scope
                    .or_else(|| r.scope.clone())
                    .unwrap_or_default();
                t.resources.insert(
                    k.to_string(),
                    Access {
                        token: granted.access,
                        expires_at: granted.expires_at,
                        scope,
                    },
                );
            }
        }
        // Microsoft rotates refresh tokens; the new one replaces the old.
        if let Some(rt) = granted.refresh {
            t.refresh = rt;
        }
        tracing::info!(transport = %name, resource = r.key.unwrap_or("main"), expires_at = %granted.expires_at, "access token refreshed");
        if let Err(e) = t.save(&self.path) {
            // The fresh token still works for this run; the next run refreshes again.
            tracing::warn!(path = %self.path.display(), error = %e, "could not store the refreshed token");
        }
        Ok(token)
    }
}

pub fn refresh_error(p: &Provider, name: &str, fault: Fault) -> TransportError {
    let label = p.label;
    match fault {
        Fault::InvalidGrant(what) => {
            let note = p
                .revoked_note
                .map(|n| format!(" Note: {n}"))
                .unwrap_or_default();
            TransportError::new(
                Stage::Auth,
                false,
                format!(
                    "{label} refused the stored login of transport {name:?} ({what}): it was revoked or has expired. Run `missive auth {name}` to log in again.{note}"
                ),
            )
        }
        Fault::Client(what) => TransportError::new(
            Stage::Auth,
            false,
            format!(
                "{label} refused the OAuth client of transport {name:?} ({what}): {}, then run `missive auth {name}`",
                p.client_hint
            ),
        ),
        Fault::Transient(what) => TransportError::new(
            Stage::Auth,
            true,
            format!("refreshing the access token of transport {name:?} failed: {what}"),
        ),
        Fault::Denied(what) | Fault::Expired(what) | Fault::Other(what) => TransportError::new(
            Stage::Auth,
            false,
            format!("refreshing the access token of transport {name:?} failed: {what}"),
        ),
    }
}

/// Scopes as people read them: `gmail.send`, `Mail.Send`, `SMTP.Send`.
pub fn short_scope(s: &str) -> &str {
    [
        "https://www.googleapis.com/auth/",
        "https://graph.microsoft.com/",
        "https://outlook.office.com/",
    ]
    .iter()
    .find_map(|p| s.strip_prefix(p))
    .unwrap_or(s)
}

fn expiry(what: &str, at: chrono::DateTime<Utc>) -> String {
    let when = at.format("%Y-%m-%d %H:%M:%S UTC");
    if at > Utc::now() {
        format!("{what} valid until {when}")
    } else {
        format!("{what} expired at {when} (refreshed when needed)")
    }
}

/// "Google login of transport "gmail": account ada@gmail.com, scope gmail.send, access
/// token valid until 2026-11-24 17:40:00 UTC"
pub fn describe(label: &str, name: &str, t: &Tokens) -> String {
    let scopes: Vec<&str> = t.scope.split_whitespace().map(short_scope).collect();
    let mut s = format!(
        "{label} login of transport {name:?}: account {}, scope {}, {}",
        t.account.as_deref().unwrap_or("unknown"),
        if scopes.is_empty() {
            "unknown".to_string()
        } else {
            scopes.join(" ")
        },
        expiry("access token", t.expires_at)
    );
    for (k, a) in &t.resources {
        s.push_str(&format!(
            "; {} ({})",
            expiry(&format!("{k} token"), a.expires_at),
            a.scope
                .split_whitespace()
                .map(short_scope)
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_shows_no_token() {
        let t = Tokens {
            access: Secret::new("ya29.a".into()),
            refresh: Secret::new("1//r".into()),
            expires_at: Utc::now() + chrono::TimeDelta::seconds(3599),
            scope: "https://www.googleapis.com/auth/gmail.send".into(),
            account: Some("ada@example.com".into()),
            client_id: None,
            authorised_at: None,
            provider: None,
            resources: Default::default(),
        };
        let d = describe("Google", "gmail", &t);
        assert!(
            d.contains("ada@example.com") && d.contains("gmail.send") && d.contains("valid until"),
            "{d}"
        );
        assert!(!d.contains("ya29") && !d.contains("1//r"), "{d}");
    }
}
