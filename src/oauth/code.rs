//! The authorization code flow for installed apps (RFC 8252) with PKCE (RFC 7636):
//!
//! 1. A random `code_verifier`; the URL carries its S256 hash, and a random `state`.
//! 2. A listener on 127.0.0.1, port 0 (the OS picks); `redirect_uri` points at it.
//! 3. The URL is printed (and opened in a browser unless `--no-browser`); the user logs in.
//! 4. The provider redirects the browser to the listener with `code` and `state` — or,
//!    with a browser on another machine, the user pastes the URL it was sent to on
//!    standard input. A `state` that is not ours is refused. The wait is bounded.
//! 5. The code and the verifier are exchanged at the token endpoint.

use std::time::Duration;

use oauth2::{AuthorizationCode, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, Scope};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use super::client::{token_client, Fault, Granted};
use super::Provider;
use crate::http::Http;

/// How long `missive auth` waits for the browser to come back.
pub const WAIT: Duration = Duration::from_secs(300);
/// A request on the loopback listener must arrive within this, and be at most this big.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_MAX: usize = 16 * 1024;

/// A started flow: the URL to open and the listener that waits for the redirect.
pub struct CodeFlow {
    pub url: String,
    pub redirect_uri: String,
    listener: TcpListener,
    state: String,
    verifier: PkceCodeVerifier,
    /// Scopes sent again with the code (Microsoft: a token serves one resource, so only
    /// the main resource's scopes go here).
    exchange_scopes: Vec<String>,
}

/// How the flow ended, short of tokens.
#[derive(Debug)]
pub enum CodeError {
    /// Refused or cancelled in the browser.
    Denied(String),
    TimedOut(Duration),
    Exchange(Fault),
    Other(String),
}

impl std::fmt::Display for CodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CodeError::Denied(m) | CodeError::Other(m) => f.write_str(m),
            CodeError::TimedOut(w) => write!(
                f,
                "no answer from the browser within {} s; run `missive auth` again and finish the login in the browser",
                w.as_secs()
            ),
            CodeError::Exchange(fault) => {
                write!(f, "exchanging the authorization code failed: {}", fault.text())
            }
        }
    }
}

impl CodeFlow {
    pub async fn start(
        p: &Provider,
        scopes: &[&str],
        exchange_scopes: &[&str],
        extra: &[(&'static str, String)],
    ) -> Result<CodeFlow, String> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| format!("cannot listen on 127.0.0.1 for the login's redirect: {e}"))?;
        let port = listener
            .local_addr()
            .map_err(|e| format!("loopback listener: {e}"))?
            .port();
        let redirect_uri = format!("http://{}:{port}", p.redirect_host);
        let auth_url = oauth2::AuthUrl::new(p.auth_url.clone())
            .map_err(|_| format!("authorization endpoint {:?} is not a URL", p.auth_url))?;
        let redirect = oauth2::RedirectUrl::new(redirect_uri.clone())
            .map_err(|e| format!("redirect URI: {e}"))?;
        let client = token_client(p)
            .map_err(|f| f.text().to_string())?
            .set_auth_uri(auth_url)
            .set_redirect_uri(redirect);
        // 48 bytes: a 64-character verifier (RFC 7636 allows 43..128).
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256_len(48);
        let mut req = client
            .authorize_url(|| CsrfToken::new_random_len(24))
            .set_pkce_challenge(challenge);
        for s in scopes {
            req = req.add_scope(Scope::new(s.to_string()));
        }
        for (k, v) in p.auth_params.iter().chain(extra) {
            req = req.add_extra_param(*k, v.clone());
        }
        let (url, state) = req.url();
        Ok(CodeFlow {
            url: url.into(),
            redirect_uri,
            listener,
            state: state.secret().clone(),
            verifier,
            exchange_scopes: exchange_scopes.iter().map(|s| s.to_string()).collect(),
        })
    }

    /// Wait (at most `wait`) for the redirect — on the listener, or pasted on standard
    /// input when `paste` — then exchange the code for tokens.
    pub async fn finish(
        self,
        p: &Provider,
        http: &Http,
        wait: Duration,
        paste: bool,
    ) -> Result<Granted, CodeError> {
        let pasted = if paste { Some(stdin_lines()) } else { None };
        let code = tokio::time::timeout(wait, self.wait_for_code(pasted))
            .await
            .map_err(|_| CodeError::TimedOut(wait))??;
        let redirect = oauth2::RedirectUrl::new(self.redirect_uri.clone())
            .map_err(|e| CodeError::Other(format!("redirect URI: {e}")))?;
        let client = token_client(p)
            .map_err(CodeError::Exchange)?
            .set_redirect_uri(redirect);
        let mut req = client
            .exchange_code(AuthorizationCode::new(code.clone()))
            .set_pkce_verifier(self.verifier);
        let scope = self.exchange_scopes.join(" ");
        if !scope.is_empty() {
            req = req.add_extra_param("scope", scope);
        }
        let mut secrets = p.secrets();
        secrets.push(&code);
        let t = req
            .request_async(http)
            .await
            .map_err(|e| CodeError::Exchange(Fault::from_request(e, &p.token_url, &secrets)))?;
        Granted::from_answer(&t).map_err(CodeError::Exchange)
    }

    async fn wait_for_code(
        &self,
        mut pasted: Option<mpsc::UnboundedReceiver<String>>,
    ) -> Result<String, CodeError> {
        loop {
            let line = async {
                match pasted.as_mut() {
                    Some(rx) => rx.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                accepted = self.listener.accept() => {
                    let (stream, peer) = accepted
                        .map_err(|e| CodeError::Other(format!("loopback listener: {e}")))?;
                    tracing::debug!(%peer, "connection on the OAuth loopback listener");
                    match tokio::time::timeout(REQUEST_TIMEOUT, handle(stream, &self.state)).await {
                        Ok(Some(result)) => return result,
                        // Not the redirect (a favicon, a stray request, a foreign state).
                        Ok(None) | Err(_) => continue,
                    }
                }
                line = line => match line {
                    // End of input: the loopback redirect can still come.
                    None => pasted = None,
                    Some(l) => match from_pasted(&l, &self.state) {
                        Pasted::Code(c) => return Ok(c),
                        Pasted::Refused(e) => return Err(e),
                        Pasted::Ignored(why) => {
                            if !why.is_empty() {
                                eprintln!("missive: {}", crate::escape::for_terminal(&why));
                            }
                        }
                    },
                },
            }
        }
    }
}

/// Lines from standard input, each at most `REQUEST_MAX` bytes. A plain thread, not a
/// runtime task: it may block on the terminal for ever, and must not hold up the exit.
fn stdin_lines() -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded_channel();
    let spawned = std::thread::Builder::new()
        .name("oauth-paste".into())
        .spawn(move || {
            use std::io::{BufRead, Read};
            let stdin = std::io::stdin();
            let mut lock = stdin.lock();
            loop {
                let mut buf = Vec::new();
                let n = (&mut lock)
                    .take(REQUEST_MAX as u64)
                    .read_until(b'\n', &mut buf);
                match n {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        if tx.send(String::from_utf8_lossy(&buf).into_owned()).is_err() {
                            return;
                        }
                    }
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot read pasted URLs from standard input");
    }
    rx
}

enum Pasted {
    Code(String),
    Refused(CodeError),
    /// With what to tell the user (empty: say nothing).
    Ignored(String),
}

/// The URL the browser was redirected to (or just its query), as pasted.
fn from_pasted(line: &str, state: &str) -> Pasted {
    let l = line.trim();
    if l.is_empty() {
        return Pasted::Ignored(String::new());
    }
    let query = match url::Url::parse(l) {
        Ok(u) => u.query().unwrap_or("").to_string(),
        Err(_) => l.trim_start_matches(['/', '?']).to_string(),
    };
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    if get("code").is_none() && get("error").is_none() {
        return Pasted::Ignored(
            "that is not the URL the browser was redirected to (it has no code=...); paste the whole address from the browser's address bar".into(),
        );
    }
    if get("state") != Some(state) {
        return Pasted::Ignored(
            "that URL does not belong to the login missive started (state mismatch); paste the address the browser shows after this login".into(),
        );
    }
    match (get("error"), get("code")) {
        (Some(err), _) => Pasted::Refused(denied(err)),
        (None, Some(c)) if !c.is_empty() => Pasted::Code(c.to_string()),
        _ => Pasted::Ignored("the pasted URL has an empty code".into()),
    }
}

fn denied(err: &str) -> CodeError {
    match err {
        "access_denied" => CodeError::Denied(
            "the login was cancelled or access was denied in the browser".to_string(),
        ),
        other => CodeError::Denied(format!(
            "the provider reported an error: {}",
            super::scrub(other, &[])
        )),
    }
}

/// Answer one request on the listener. `Some(Ok(code))` for our redirect, `Some(Err)` when
/// the provider reports a refusal, `None` for anything else.
async fn handle(mut stream: TcpStream, state: &str) -> Option<Result<String, CodeError>> {
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
        reply(&mut stream, "400 Bad Request", "Not a login redirect.").await;
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
        return Some(Err(denied(&err)));
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
    fn pasted_urls() {
        let ok = from_pasted("  http://localhost:1234/?code=4%2Fabc&state=S \n", "S");
        assert!(matches!(ok, Pasted::Code(c) if c == "4/abc"));
        assert!(matches!(from_pasted("code=x&state=S", "S"), Pasted::Code(c) if c == "x"));
        assert!(matches!(
            from_pasted("http://localhost:1/?code=x&state=T", "S"),
            Pasted::Ignored(m) if m.contains("state mismatch")
        ));
        assert!(matches!(
            from_pasted("http://localhost:1/?error=access_denied&state=S", "S"),
            Pasted::Refused(CodeError::Denied(_))
        ));
        assert!(matches!(from_pasted("hello", "S"), Pasted::Ignored(m) if m.contains("code=")));
    }
}
