//! The `oauth2` crate over missive's hyper client.
//!
//! `oauth2` builds the requests (PKCE, device grant, refresh) and parses the answers; the
//! bytes travel through `crate::http::Http`, so every token endpoint answer is bounded in
//! size and time like any other outside read. A 429 or 5xx becomes an `HttpError::Status`
//! before `oauth2` sees it: those answers are rarely OAuth JSON, and the caller needs to
//! know they are worth another try.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hyper::body::Bytes;
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AccessToken, AsyncHttpClient, AuthType, ErrorResponseType, HttpRequest, HttpResponse,
    RefreshToken, RequestTokenError, Scope, StandardErrorResponse, StandardRevocableToken,
    TokenResponse,
};
use serde::{Deserialize, Deserializer, Serialize};

use super::{scrub, Provider};
use crate::http::{Http, MAX_TOKEN_ANSWER_BYTES};
use crate::secret::Secret;

/// The `oauth2` client missive uses, with only the token endpoint set (refresh, code
/// exchange); the flows set the others they need.
pub type TokenClient = oauth2::Client<
    BasicErrorResponse,
    TokenAnswer,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

pub fn token_client(p: &Provider) -> Result<TokenClient, Fault> {
    let token_url = oauth2::TokenUrl::new(p.token_url.clone())
        .map_err(|_| Fault::Other(format!("token endpoint {:?} is not a URL", p.token_url)))?;
    let mut c = oauth2::Client::new(oauth2::ClientId::new(p.client_id.clone()))
        // Google wants the secret in the form; public clients have none, and then the
        // crate puts client_id in the form too.
        .set_auth_type(AuthType::RequestBody)
        .set_token_uri(token_url);
    if let Some(s) = &p.client_secret {
        c = c.set_client_secret(oauth2::ClientSecret::new(s.expose().to_string()));
    }
    Ok(c)
}

/// Why a request to the authorization server got no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// 429 or 5xx.
    #[error("HTTP {0}")]
    Status(u16),
    #[error("{0}")]
    Failed(String),
}

/// `Http` as the `oauth2` crate's asynchronous client.
impl<'c> AsyncHttpClient<'c> for Http {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let headers: Vec<(&str, String)> = parts
                .headers
                .iter()
                .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?.to_string())))
                .collect();
            let a = self
                .request_bounded(
                    parts.method,
                    &parts.uri.to_string(),
                    &headers,
                    Bytes::from(body),
                    MAX_TOKEN_ANSWER_BYTES,
                )
                .await
                .map_err(|f| HttpError::Failed(f.message))?;
            if crate::http::retry::retryable_status(a.status) {
                return Err(HttpError::Status(a.status));
            }
            let mut b = oauth2::http::Response::builder().status(a.status);
            if let Some(ct) = a.headers.get(hyper::header::CONTENT_TYPE) {
                b = b.header(hyper::header::CONTENT_TYPE, ct.clone());
            }
            b.body(a.body.to_vec())
                .map_err(|e| HttpError::Failed(format!("bad answer: {e}")))
        })
    }
}

/// A token endpoint's answer. Lenient where providers differ: `token_type` may be missing
/// and `expires_in` may be a string (older Microsoft endpoints). No secret in `Debug`:
/// `AccessToken` and `RefreshToken` redact themselves.
#[derive(Debug, Deserialize, Serialize)]
pub struct TokenAnswer {
    access_token: AccessToken,
    #[serde(skip, default = "bearer")]
    token_type: BasicTokenType,
    #[serde(default, deserialize_with = "number_or_string")]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<RefreshToken>,
    #[serde(default, deserialize_with = "space_delimited")]
    scope: Option<Vec<Scope>>,
}

fn bearer() -> BasicTokenType {
    BasicTokenType::Bearer
}

fn number_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

fn space_delimited<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<Scope>>, D::Error> {
    Ok(Option::<String>::deserialize(d)?
        .map(|s| s.split_whitespace().map(|x| Scope::new(x.into())).collect()))
}

impl TokenResponse for TokenAnswer {
    type TokenType = BasicTokenType;
    fn access_token(&self) -> &AccessToken {
        &self.access_token
    }
    fn token_type(&self) -> &BasicTokenType {
        &self.token_type
    }
    fn expires_in(&self) -> Option<Duration> {
        self.expires_in.map(Duration::from_secs)
    }
    fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }
    fn scopes(&self) -> Option<&Vec<Scope>> {
        self.scope.as_ref()
    }
}

/// What the token endpoint granted. No `Debug`.
pub struct Granted {
    pub access: Secret,
    pub refresh: Option<Secret>,
    pub expires_at: DateTime<Utc>,
    pub scope: Option<String>,
}

impl Granted {
    pub fn from_answer(t: &TokenAnswer) -> Result<Granted, Fault> {
        let access = t.access_token.secret().clone();
        if access.is_empty() {
            return Err(Fault::Other(
                "the token endpoint returned an empty access_token".into(),
            ));
        }
        // Google says 3599 s, Microsoft 3599 to 5399; assume an hour when nothing is said.
        let secs = t.expires_in.unwrap_or(3600).min(366 * 24 * 3600) as i64;
        Ok(Granted {
            access: Secret::new(access),
            refresh: t
                .refresh_token
                .as_ref()
                .map(|r| r.secret().clone())
                .filter(|s| !s.is_empty())
                .map(Secret::new),
            expires_at: Utc::now() + chrono::TimeDelta::seconds(secs),
            scope: t
                .scope
                .as_ref()
                .map(|v| v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")),
        })
    }

    pub fn secrets(&self) -> Vec<&str> {
        let mut v = vec![self.access.expose()];
        if let Some(r) = &self.refresh {
            v.push(r.expose());
        }
        v
    }
}

/// Why a grant failed. The text is safe to show: scrubbed of secrets and cut short.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// The grant (authorization code, refresh token, device code) is no longer valid.
    InvalidGrant(String),
    /// The OAuth client was refused (unknown client, wrong secret, not a public client).
    Client(String),
    /// The user said no (browser or device flow).
    Denied(String),
    /// The device code expired before the user finished.
    Expired(String),
    /// Worth another try: no answer, 429, 5xx.
    Transient(String),
    Other(String),
}

impl Fault {
    pub fn text(&self) -> &str {
        match self {
            Fault::InvalidGrant(s)
            | Fault::Client(s)
            | Fault::Denied(s)
            | Fault::Expired(s)
            | Fault::Transient(s)
            | Fault::Other(s) => s,
        }
    }

    /// `oauth2`'s error, with every secret in `secrets` (and the provider's) removed.
    pub fn from_request<T: ErrorResponseType + std::fmt::Display>(
        e: RequestTokenError<HttpError, StandardErrorResponse<T>>,
        endpoint: &str,
        secrets: &[&str],
    ) -> Fault {
        let endpoint = crate::http::redact_query(endpoint);
        match e {
            RequestTokenError::ServerResponse(r) => {
                let code = r.error().to_string();
                let what = match r.error_description() {
                    Some(d) if !d.trim().is_empty() => {
                        format!("{}: {}", scrub(&code, secrets), scrub(d, secrets))
                    }
                    _ => scrub(&code, secrets),
                };
                match code.as_str() {
                    "invalid_grant" => Fault::InvalidGrant(what),
                    "invalid_client" | "unauthorized_client" => Fault::Client(what),
                    "access_denied" | "authorization_declined" => Fault::Denied(what),
                    "expired_token" => Fault::Expired(what),
                    "temporarily_unavailable" | "server_error" => Fault::Transient(what),
                    _ => Fault::Other(what),
                }
            }
            RequestTokenError::Request(HttpError::Status(s)) => {
                Fault::Transient(format!("{endpoint}: HTTP {s}"))
            }
            RequestTokenError::Request(HttpError::Failed(m)) => {
                Fault::Transient(format!("{endpoint}: {}", scrub(&m, secrets)))
            }
            // The body may hold anything, a token included: never quoted.
            RequestTokenError::Parse(err, _) => Fault::Other(format!(
                "{endpoint}: the answer is not the JSON OAuth expects (at {})",
                scrub(&err.path().to_string(), secrets)
            )),
            RequestTokenError::Other(m) => {
                Fault::Other(format!("{endpoint}: {}", scrub(&m, secrets)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_answers_from_both_providers_parse() {
        let g: TokenAnswer = serde_json::from_str(
            r#"{"access_token":"ya29.x","expires_in":3599,"scope":"a b","token_type":"Bearer","id_token":"j"}"#,
        )
        .expect("google");
        let g = Granted::from_answer(&g).expect("granted");
        assert_eq!(g.scope.as_deref(), Some("a b"));
        assert!(g.refresh.is_none());
        let m: TokenAnswer = serde_json::from_str(
            r#"{"access_token":"eyJ0","expires_in":"4000","ext_expires_in":4000,"refresh_token":"0.AX"}"#,
        )
        .expect("microsoft");
        let m = Granted::from_answer(&m).expect("granted");
        assert!(m.expires_at > Utc::now() + chrono::TimeDelta::seconds(3900));
        assert_eq!(
            m.refresh.map(|r| r.expose().to_string()).as_deref(),
            Some("0.AX")
        );
    }

    #[test]
    fn server_errors_are_classified_and_scrubbed() {
        let r: BasicErrorResponse = serde_json::from_str(
            r#"{"error":"invalid_grant","error_description":"refresh token 1//secret is revoked"}"#,
        )
        .expect("json");
        let f = Fault::from_request(
            RequestTokenError::ServerResponse(r),
            "http://x/token?a=b",
            &["1//secret"],
        );
        assert_eq!(
            f,
            Fault::InvalidGrant("invalid_grant: refresh token <redacted> is revoked".into())
        );
        let f = Fault::from_request::<oauth2::basic::BasicErrorResponseType>(
            RequestTokenError::Request(HttpError::Status(503)),
            "http://x/token?a=b",
            &[],
        );
        assert_eq!(f, Fault::Transient("http://x/token: HTTP 503".into()));
    }
}
