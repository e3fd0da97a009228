//! Google's OAuth flow for installed apps (RFC 8252), written out because yup-oauth2 has
//! no PKCE and falls back to an interactive flow when a refresh fails:
//!
//! 1. PKCE (RFC 7636): a random `code_verifier`; the URL carries its S256 hash.
//! 2. A listener on 127.0.0.1, port 0 (the OS picks); `redirect_uri` points at it.
//! 3. The URL is printed (and opened in a browser unless `--no-browser`); the user logs in.
//! 4. Google redirects the browser to the listener with `code` and `state`; a `state`
//!    that is not ours is refused. The wait is bounded.
//! 5. The code and the verifier are exchanged at `token_uri` for the tokens.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::client_secret::ClientSecret;
use super::http::Http;
use super::token::{token_request, Granted, TokenFault};

/// How long `missive auth` waits for the browser to come back.
pub const WAIT: Duration = Duration::from_secs(300);
/// A request on the loopback listener must arrive within this, and be at most this big.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_MAX: usize = 16 * 1024;

/// `len` random bytes, base64url without padding.
pub fn random_string(len: usize) -> Result<String, String> {
    let mut b = vec![0u8; len];
    getrandom::fill(&mut b).map_err(|e| format!("no randomness from the OS: {e}"))?;
    Ok(URL_SAFE_NO_PAD.encode(b))
}

/// `BASE64URL(SHA256(verifier))`, the S256 code challenge.
pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A started flow: the URL to open and the listener that waits for the redirect.
pub struct Flow {
    pub url: String,
    pub redirect_uri: String,
    listener: TcpListener,
    state: String,
    verifier: String,
}

impl Flow {
    pub async fn start(
        client: &ClientSecret,
        scope: &str,
        login_hint: Option<&str>,
    ) -> Result<Flow, String> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| format!("cannot listen on 127.0.0.1 for Google's redirect: {e}"))?;
        let port = listener
            .local_addr()
            .map_err(|e| format!("loopback listener: {e}"))?
            .port();
        let redirect_uri = format!("http://127.0.0.1:{port}");
        // 64 characters from the unreserved set (RFC 7636 allows 43..128).
        let verifier = random_string(48)?;
        let state = random_string(24)?;
        let mut url = url::Url::parse(&client.auth_uri)
            .map_err(|e| format!("auth_uri {:?}: {e}", client.auth_uri))?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("client_id", &client.client_id)
                .append_pair("redirect_uri", &redirect_uri)
                .append_pair("response_type", "code")
                .append_pair("scope", scope)
                .append_pair("code_challenge", &challenge(&verifier))
                .append_pair("code_challenge_method", "S256")
                .append_pair("state", &state)
                // A refresh token, and a new one even if this app was authorised before.
                .append_pair("access_type", "offline")
                .append_pair("prompt", "consent");
            if let Some(h) = login_hint {
                q.append_pair("login_hint", h);
            }
        }
        Ok(Flow {
            url: url.into(),
            redirect_uri,
            listener,
            state,
            verifier,
        })
    }

    /// Wait (at most `wait`) for the redirect, then exchange the code for tokens.
    pub async fn finish(
        self,
        client: &ClientSecret,
        http: &Http,
        wait: Duration,
    ) -> Result<Granted, String> {
        let code = tokio::time::timeout(wait, self.wait_for_code())
            .await
            .map_err(|_| {
                format!(
                    "no answer from the browser within {} s; run `missive auth` again and finish the login in the browser",
                    wait.as_secs()
                )
            })??;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("code_verifier", self.verifier.as_str()),
            ("redirect_uri", self.redirect_uri.as_str()),
            ("client_id", client.client_id.as_str()),
            ("client_secret", client.client_secret.expose()),
        ];
        token_request(http, &client.token_uri, &form)
            .await
            .map_err(|f| match f {
                TokenFault::InvalidGrant(w) => format!(
                    "Google refused the authorization code ({w}); run `missive auth` again"
                ),
                TokenFault::Client(w) => format!(
                    "Google refused the OAuth client ({w}): check that client_secret is a Desktop-app client of the project"
                ),
                TokenFault::Transient(w) | TokenFault::Other(w) => {
                    format!("exchanging the authorization code failed: {w}")
                }
            })
    }

    async fn wait_for_code(&self) -> Result<String, String> {
        loop {
            let (stream, peer) = self
                .listener
                .accept()
                .await
                .map_err(|e| format!("loopback listener: {e}"))?;
            tracing::debug!(%peer, "connection on the OAuth loopback listener");
            match tokio::time::timeout(REQUEST_TIMEOUT, handle(stream, &self.state)).await {
                Ok(Some(result)) => return result,
                // Not the redirect (a favicon, a stray request, a foreign state): keep waiting.
                Ok(None) | Err(_) => continue,
            }
        }
    }
}

/// Answer one request on the listener. `Some(Ok(code))` for our redirect, `Some(Err)` when
/// Google reports a refusal, `None` for anything else.
async fn handle(mut stream: TcpStream, state: &str) -> Option<Result<String, String>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 2048];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 || buf.len() + n > REQUEST_MAX {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf);
    let mut words = head.lines().next().unwrap_or("").split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    if method != "GET" {
        reply(&mut stream, "405 Method Not Allowed", "Only GET here.").await;
        return None;
    }
    let Ok(url) = url::Url::parse(&format!("http://127.0.0.1{target}")) else {
        reply(
            &mut stream,
            "400 Bad Request",
            "Not a redirect from Google.",
        )
        .await;
        return None;
    };
    if url.path() != "/" {
        reply(&mut stream, "404 Not Found", "Not found.").await;
        return None;
    }
    let get = |k: &str| {
        url.query_pairs()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.into_owned())
    };
    if get("state").as_deref() != Some(state) {
        reply(
            &mut stream,
            "400 Bad Request",
            "This redirect does not belong to the login missive started (state mismatch). Go back to the terminal.",
        )
        .await;
        return None;
    }
    if let Some(err) = get("error") {
        reply(
            &mut stream,
            "200 OK",
            "missive was not authorised. You can close this tab and go back to the terminal.",
        )
        .await;
        return Some(Err(match err.as_str() {
            "access_denied" => {
                "the login was cancelled or access was denied in the browser".to_string()
            }
            other => format!("Google reported an error: {other}"),
        }));
    }
    match get("code").filter(|c| !c.is_empty()) {
        Some(code) => {
            reply(
                &mut stream,
                "200 OK",
                "missive is authorised. You can close this tab and go back to the terminal.",
            )
            .await;
            Some(Ok(code))
        }
        None => {
            reply(&mut stream, "400 Bad Request", "No authorization code.").await;
            None
        }
    }
}

async fn reply(stream: &mut TcpStream, status: &str, text: &str) {
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>missive</title></head><body><p>{text}</p></body></html>"
    );
    let msg = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(msg.as_bytes()).await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_rfc7636_example() {
        // RFC 7636, appendix B.
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let v = random_string(48).expect("random");
        assert_eq!(v.len(), 64);
        assert!(v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }
}
