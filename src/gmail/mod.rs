//! Gmail: the `kind = "gmail"` transport (Gmail API `users.messages.send`), Google's OAuth
//! installed-app flow (`missive auth NAME`), and the same login as an XOAUTH2 token source
//! for smtp transports with `oauth = "NAME"`.
//!
//! - `client_secret`: the Desktop-app OAuth client JSON from Google's console.
//! - `flow`: PKCE + loopback redirect, code exchange.
//! - `token`: the token file under `tokens/` and refreshing the access token.
//! - `send`: the API transport (simple and resumable uploads, retries).
//! - `http`: the hyper client all of them use.

use std::io::Write;
use std::sync::Arc;

use crate::config::{GmailConfig, TransportKind};
use crate::paths::Paths;
use crate::transport::smtp::TokenProvider;
use crate::transport::{Transport, TransportError};

pub mod client_secret;
pub mod flow;
pub mod http;
pub mod retry;
pub mod send;
pub mod token;

use client_secret::ClientSecret;
use token::{GoogleLogin, Tokens, SCOPE_MAIL, SCOPE_SEND, TESTING_NOTE};

/// Gmail's limit for a message sent through the API (35 MiB).
pub const MAX_MESSAGE_BYTES: u64 = 36_700_160;

/// The refusal for a message over the limit: its size and the limit.
pub fn too_large(size: u64) -> String {
    format!(
        "the message is {size} bytes ({}), over Gmail's limit of {MAX_MESSAGE_BYTES} bytes ({}); nothing was sent",
        crate::mime_tree::human_size(size),
        crate::mime_tree::human_size(MAX_MESSAGE_BYTES)
    )
}

fn api_root(cfg: &GmailConfig) -> String {
    let mut root = cfg
        .api_url
        .clone()
        .unwrap_or_else(|| send::DEFAULT_API_URL.to_string());
    if !root.ends_with('/') {
        root.push('/');
    }
    root
}

/// The Gmail API transport for the transport named `name`. Needs the client secret and a
/// stored login (`missive auth NAME`); without them, a configuration error (exit 2).
pub fn transport(
    name: &str,
    cfg: &GmailConfig,
    paths: &Paths,
) -> Result<Box<dyn Transport>, TransportError> {
    let login = GoogleLogin::open(name, cfg, paths)?;
    Ok(Box::new(send::GmailTransport {
        name: name.to_string(),
        user: cfg.user.clone(),
        api_root: api_root(cfg),
        login: Arc::new(login),
    }))
}

/// XOAUTH2 access tokens from the login of gmail transport `name` (refreshed as needed).
pub fn token_provider(
    name: &str,
    cfg: &GmailConfig,
    paths: &Paths,
) -> Result<Arc<dyn TokenProvider>, TransportError> {
    Ok(Arc::new(GoogleLogin::open(name, cfg, paths)?))
}

/// The bare address in "Name <addr>" or "addr".
fn bare_address(from: &str) -> String {
    match (from.rfind('<'), from.rfind('>')) {
        (Some(a), Some(b)) if a < b => from[a + 1..b].trim().to_string(),
        _ => from.trim().to_string(),
    }
}

/// `missive auth NAME [--no-browser]`. Exit 0 authorised, 2 bad config or client secret,
/// 1 the flow failed (refused, timed out, token endpoint unreachable).
pub async fn auth_command(
    engine: &crate::engine::Engine,
    transport: &str,
    no_browser: bool,
) -> i32 {
    use crate::cli::{EXIT_INPUT, EXIT_OK, EXIT_TRANSPORT};
    let err = |m: String| {
        let _ = writeln!(std::io::stderr(), "missive: {m}");
    };
    let tc = match engine.transport_config(Some(transport)) {
        Ok(tc) => tc,
        Err(e) => {
            err(e.to_string());
            return EXIT_INPUT;
        }
    };
    let cfg = match &tc.kind {
        TransportKind::Gmail(g) => g,
        TransportKind::Smtp(s) if s.oauth.is_some() => {
            let g = s.oauth.as_deref().unwrap_or_default();
            err(format!(
                "transport {transport:?} is an smtp transport that uses the Google login of transport {g:?}: run `missive auth {g}`"
            ));
            return EXIT_INPUT;
        }
        other => {
            err(format!(
                "transport {transport:?} is of kind {:?}; `missive auth` is for transports of kind \"gmail\"",
                other.name()
            ));
            return EXIT_INPUT;
        }
    };
    let client = match ClientSecret::load(&cfg.client_secret, transport) {
        Ok(c) => c,
        Err(e) => {
            err(e.message);
            return EXIT_INPUT;
        }
    };
    // Least privilege: gmail.send. Gmail's SMTP server takes XOAUTH2 only with the full
    // mail scope, so that is asked for only when an smtp transport uses this login.
    let smtp_users: Vec<&str> = engine
        .config
        .transports
        .values()
        .filter(
            |t| matches!(&t.kind, TransportKind::Smtp(s) if s.oauth.as_deref() == Some(transport)),
        )
        .map(|t| t.name.as_str())
        .collect();
    let scope = if smtp_users.is_empty() {
        SCOPE_SEND
    } else {
        SCOPE_MAIL
    };
    let configured_from = tc
        .from
        .as_deref()
        .or(engine.config.from.as_deref())
        .map(bare_address)
        .filter(|a| a.contains('@'));
    let http = match http::Http::new(std::time::Duration::from_secs(cfg.timeout_secs.max(1))) {
        Ok(h) => h,
        Err(m) => {
            err(m);
            return EXIT_TRANSPORT;
        }
    };
    let flow = match flow::Flow::start(&client, scope, configured_from.as_deref()).await {
        Ok(f) => f,
        Err(m) => {
            err(m);
            return EXIT_TRANSPORT;
        }
    };
    {
        let mut out = std::io::stdout().lock();
        if scope == SCOPE_MAIL {
            let _ = writeln!(
                out,
                "Asking for full Gmail access ({SCOPE_MAIL}) rather than send-only, because smtp transport(s) {} use this login and Gmail's SMTP server accepts no narrower scope.",
                smtp_users.join(", ")
            );
        }
        let _ = writeln!(
            out,
            "Open this URL in a browser and allow missive to send mail (transport {transport:?}):\n\n{}\n",
            flow.url
        );
        let _ = writeln!(
            out,
            "Waiting up to {} s for Google to redirect to {} ...",
            flow::WAIT.as_secs(),
            flow.redirect_uri
        );
        let _ = out.flush();
    }
    if !no_browser {
        // Off the async thread: some openers (text browsers) block until they exit. The
        // listener is already bound, so a redirect that comes early waits in its backlog.
        let url = flow.url.clone();
        let opener = tokio::task::spawn_blocking(move || webbrowser::open(&url));
        if let Ok(Ok(Err(e))) =
            tokio::time::timeout(std::time::Duration::from_secs(3), opener).await
        {
            err(format!(
                "could not open a browser ({e}); open the URL above yourself"
            ));
        }
    }
    let granted = match flow.finish(&client, &http, flow::WAIT).await {
        Ok(g) => g,
        Err(m) => {
            err(format!("auth for {transport:?} failed: {m}"));
            return EXIT_TRANSPORT;
        }
    };
    let Some(refresh) = granted.refresh else {
        err(format!(
            "Google returned no refresh token, so the login would stop working within an hour. Remove missive's access at https://myaccount.google.com/permissions and run `missive auth {transport}` again"
        ));
        return EXIT_TRANSPORT;
    };
    let scope_granted = granted.scope.unwrap_or_else(|| scope.to_string());
    if !scope_granted.split_whitespace().any(|s| s == scope) {
        err(format!(
            "Google granted {scope_granted:?} but not {scope}: on the consent page, tick the permission to send email; then run `missive auth {transport}` again"
        ));
        return EXIT_TRANSPORT;
    }
    // Who is this? gmail.send does not allow reading the profile (users.getProfile needs
    // a read scope), and asking for openid/email would widen the grant. So: with the full
    // mail scope, ask Gmail; otherwise record the configured From, and say so.
    let profile = if scope == SCOPE_MAIL {
        profile_address(&http, &api_root(cfg), &cfg.user, granted.access.expose()).await
    } else {
        None
    };
    let (account, how) = match (profile, configured_from) {
        (Some(p), _) => (Some(p), "as reported by Gmail"),
        (None, Some(f)) => (
            Some(f),
            "the From address in your config; the gmail.send scope does not let missive read the account's address, and Gmail sends as the account you chose in the browser",
        ),
        (None, None) => (None, ""),
    };
    let tokens = Tokens {
        access: granted.access,
        refresh,
        expires_at: granted.expires_at,
        scope: scope_granted,
        account: account.clone(),
        client_id: Some(client.client_id.clone()),
        authorised_at: Some(chrono::Utc::now().to_rfc3339()),
    };
    let path = token::token_path(&engine.paths, transport);
    if let Err(e) = tokens.save(&path) {
        err(format!(
            "could not store the login in {}: {}",
            path.display(),
            crate::message::io_reason(&e)
        ));
        return EXIT_TRANSPORT;
    }
    tracing::info!(transport, path = %path.display(), "Google login stored");
    let mut out = std::io::stdout().lock();
    match &account {
        Some(a) => {
            let _ = writeln!(
                out,
                "Authorised: transport {transport:?} sends as {a} ({how})."
            );
        }
        None => {
            let _ = writeln!(
                out,
                "Authorised: transport {transport:?} sends as the Google account you chose in the browser (set `from` in the config to record its address)."
            );
        }
    }
    let _ = writeln!(
        out,
        "Scope: {}. Stored in {} (readable only by you).",
        tokens.scope,
        path.display()
    );
    let _ = writeln!(out, "Note: {TESTING_NOTE}.");
    let _ = writeln!(
        out,
        "Check it with `missive check {transport}`; send with `missive send --transport {transport} ...`."
    );
    EXIT_OK
}

/// The account's address from `users.getProfile`, when the scope allows it.
async fn profile_address(http: &http::Http, root: &str, user: &str, token: &str) -> Option<String> {
    let user = percent_encoding::utf8_percent_encode(user, percent_encoding::NON_ALPHANUMERIC);
    let a = http
        .request(
            hyper::Method::GET,
            &format!("{root}gmail/v1/users/{user}/profile"),
            &[("authorization", format!("Bearer {token}"))],
            hyper::body::Bytes::new(),
        )
        .await
        .ok()?;
    if !a.is_success() {
        return None;
    }
    a.json()?["emailAddress"].as_str().map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_roots() {
        assert_eq!(bare_address("Ada <ada@example.com>"), "ada@example.com");
        assert_eq!(bare_address(" ada@example.com "), "ada@example.com");
        let cfg = GmailConfig {
            client_secret: "c.json".into(),
            api_url: Some("http://127.0.0.1:9".into()),
            user: "me".into(),
            timeout_secs: 5,
        };
        assert_eq!(api_root(&cfg), "http://127.0.0.1:9/");
        assert!(too_large(40_000_000).contains("36700160"));
    }
}
