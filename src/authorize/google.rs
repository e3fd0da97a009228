//! Google's installed-app login for a gmail transport.

use super::{borrowers, browser_login, configured_from, say, store, AuthError, AuthOptions};
use crate::config::{GmailConfig, TransportConfig};
use crate::engine::Engine;
use crate::http::Http;
use crate::oauth::code::CodeFlow;
use crate::transport::gmail::client_secret::ClientSecret;
use crate::transport::gmail::token::{self, Tokens, SCOPE_MAIL, SCOPE_SEND, TESTING_NOTE};

pub async fn run(
    engine: &Engine,
    tc: &TransportConfig,
    cfg: &GmailConfig,
    opts: &AuthOptions,
) -> Result<(), AuthError> {
    let transport = tc.name.as_str();
    if opts.device {
        return Err(AuthError::input(format!(
            "Google does not allow Gmail scopes in the device flow (--device); use `missive auth {transport} --no-browser`: it prints the URL to open on any machine, and takes the address the browser ends on pasted here"
        )));
    }
    let client = ClientSecret::load(&cfg.client_secret, transport)
        .map_err(|e| AuthError::input(e.message))?;
    let provider = token::provider(&client);
    // Least privilege: gmail.send. Gmail's SMTP server takes XOAUTH2 only with the full
    // mail scope, so that is asked for only when an smtp transport uses this login.
    let smtp_users = borrowers(engine, transport);
    let scope = if smtp_users.is_empty() {
        SCOPE_SEND
    } else {
        SCOPE_MAIL
    };
    let from = configured_from(engine, tc);
    let http = Http::new(std::time::Duration::from_secs(cfg.timeout_secs.max(1)))
        .map_err(AuthError::failed)?;
    let mut extra = Vec::new();
    if let Some(h) = &from {
        extra.push(("login_hint", h.clone()));
    }
    let flow = CodeFlow::start(&provider, &[scope], &[], &extra)
        .await
        .map_err(AuthError::failed)?;
    if scope == SCOPE_MAIL {
        say(&format!(
            "Asking for full Gmail access ({SCOPE_MAIL}) rather than send-only, because smtp transport(s) {} use this login and Gmail's SMTP server accepts no narrower scope.",
            smtp_users.join(", ")
        ));
    }
    let granted = browser_login(&provider, &http, transport, flow, opts.no_browser).await?;
    let Some(refresh) = granted.refresh else {
        return Err(AuthError::failed(format!(
            "Google returned no refresh token, so the login would stop working within an hour. Remove missive's access at https://myaccount.google.com/permissions and run `missive auth {transport}` again"
        )));
    };
    let scope_granted = granted.scope.unwrap_or_else(|| scope.to_string());
    if !scope_granted.split_whitespace().any(|s| s == scope) {
        return Err(AuthError::failed(format!(
            "Google granted {scope_granted:?} but not {scope}: on the consent page, tick the permission to send email; then run `missive auth {transport}` again"
        )));
    }
    // Who is this? gmail.send does not allow reading the profile (users.getProfile needs
    // a read scope), and asking for openid/email would widen the grant. So: with the full
    // mail scope, ask Gmail; otherwise record the configured From, and say so.
    let profile = if scope == SCOPE_MAIL {
        profile_address(
            &http,
            &crate::transport::gmail::api_root(cfg),
            &cfg.user,
            granted.access.expose(),
        )
        .await
    } else {
        None
    };
    let (account, how) = match (profile, from) {
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
        provider: None,
        resources: Default::default(),
    };
    let path = store(engine, transport, &tokens)?;
    match &account {
        Some(a) => say(&format!(
            "Authorised: transport {transport:?} sends as {a} ({how})."
        )),
        None => say(&format!(
            "Authorised: transport {transport:?} sends as the Google account you chose in the browser (set `from` in the config to record its address)."
        )),
    }
    say(&format!(
        "Scope: {}. Stored in {} (readable only by you).",
        tokens.scope,
        path.display()
    ));
    say(&format!("Note: {TESTING_NOTE}."));
    say(&format!(
        "Check it with `missive check {transport}`; send with `missive send --transport {transport} ...`."
    ));
    Ok(())
}

/// The account's address from `users.getProfile`, when the scope allows it.
async fn profile_address(http: &Http, root: &str, user: &str, token: &str) -> Option<String> {
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
    a.json()?["emailAddress"]
        .as_str()
        .filter(|s| s.contains('@') && s.len() < 320 && !s.chars().any(char::is_control))
        .map(String::from)
}
