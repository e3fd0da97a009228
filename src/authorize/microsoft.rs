//! The Microsoft login of an outlook transport: authorization code + PKCE on a loopback
//! redirect (`http://localhost:PORT`), or the device-code flow with `--device`.

use super::{borrowers, browser_login, configured_from, say, store, AuthError, AuthOptions};
use crate::config::{OutlookConfig, TransportConfig, TransportKind};
use crate::engine::Engine;
use crate::http::Http;
use crate::oauth::code::CodeFlow;
use crate::oauth::login::{refresh_grant, short_scope};
use crate::oauth::microsoft::{self, GRAPH_SEND, OFFLINE, SMTP_RESOURCE};
use crate::oauth::store::{Access, Tokens};
use crate::oauth::{device, Fault};

pub async fn run(
    engine: &Engine,
    tc: &TransportConfig,
    cfg: &OutlookConfig,
    opts: &AuthOptions,
) -> Result<(), AuthError> {
    let transport = tc.name.as_str();
    let p = microsoft::provider(&cfg.client_id, &cfg.tenant, &cfg.authority);
    let smtp_users = borrowers(engine, transport);
    let scopes = microsoft::consent_scopes(!smtp_users.is_empty());
    let http = Http::new(std::time::Duration::from_secs(cfg.timeout_secs.max(1)))
        .map_err(AuthError::failed)?;
    if !smtp_users.is_empty() {
        say(&format!(
            "Asking for SMTP.Send as well as Mail.Send, because smtp transport(s) {} use this login.",
            smtp_users.join(", ")
        ));
    }
    let from = configured_from(engine, tc);
    let failed =
        |f: Fault| AuthError::failed(format!("auth for {transport:?} failed: {}", f.text()));
    let granted = if opts.device {
        device::run(&p, &http, &scopes, |s| {
            say(&format!(
                "To sign in, open {} on any device and enter the code {} (it expires in {} min).",
                s.verification_uri,
                s.user_code,
                s.expires_in.as_secs().div_ceil(60)
            ));
            if let Some(c) = &s.complete {
                say(&format!("Or open {c}"));
            }
            say("Waiting for the sign-in to finish ...");
        })
        .await
        .map_err(|f| match f {
            Fault::Client(w) => AuthError::failed(format!(
                "auth for {transport:?} failed: Microsoft refused the client ({w}); for --device the app registration needs \"Allow public client flows\" = Yes (Authentication → Advanced settings)"
            )),
            other => failed(other),
        })?
    } else {
        let mut extra = Vec::new();
        if let Some(h) = &from {
            extra.push(("login_hint", h.clone()));
        }
        // A Microsoft token serves one resource: the code is redeemed for Graph only.
        let flow = CodeFlow::start(&p, &scopes, &[OFFLINE, GRAPH_SEND], &extra)
            .await
            .map_err(AuthError::failed)?;
        browser_login(&p, &http, transport, flow, opts.no_browser).await?
    };
    let Some(mut refresh) = granted.refresh.clone() else {
        return Err(AuthError::failed(format!(
            "Microsoft returned no refresh token, so the login would stop working within an hour: the app registration needs the delegated permission offline_access; then run `missive auth {transport}` again"
        )));
    };
    let scope_granted = granted
        .scope
        .clone()
        .unwrap_or_else(|| format!("{OFFLINE} {GRAPH_SEND}"));
    if !scope_granted
        .split_whitespace()
        .any(|s| short_scope(s) == "Mail.Send")
    {
        return Err(AuthError::failed(format!(
            "Microsoft granted {scope_granted:?} but not Mail.Send: add the delegated Microsoft Graph permission Mail.Send to the app registration (an admin may have to grant consent), then run `missive auth {transport}` again"
        )));
    }
    let account = microsoft::account_in_token(granted.access.expose())
        .or(from)
        .or_else(|| smtp_username(engine, &smtp_users));
    let mut resources = std::collections::BTreeMap::new();
    let mut smtp_problem = None;
    if !smtp_users.is_empty() {
        // Get the SMTP token now, so missing consent shows here rather than at a send.
        let res = microsoft::smtp();
        let secrets = granted.secrets();
        match refresh_grant(&p, &http, &refresh, res.scope.as_deref(), &secrets).await {
            Ok(g) => {
                if let Some(r) = g.refresh.clone() {
                    refresh = r;
                }
                resources.insert(
                    SMTP_RESOURCE.to_string(),
                    Access {
                        scope: g.scope.clone().or(res.scope).unwrap_or_default(),
                        token: g.access,
                        expires_at: g.expires_at,
                    },
                );
            }
            Err(f) => smtp_problem = Some(f.text().to_string()),
        }
    }
    let tokens = Tokens {
        access: granted.access,
        refresh,
        expires_at: granted.expires_at,
        scope: scope_granted,
        account: account.clone(),
        client_id: Some(cfg.client_id.clone()),
        authorised_at: Some(chrono::Utc::now().to_rfc3339()),
        provider: Some("microsoft".into()),
        resources,
    };
    let path = store(engine, transport, &tokens)?;
    say(&format!(
        "Authorised: transport {transport:?} sends as {} through Microsoft Graph.",
        account
            .as_deref()
            .unwrap_or("the Microsoft account you signed in with")
    ));
    say(&crate::oauth::login::describe(
        "Microsoft",
        transport,
        &tokens,
    ));
    say(&format!(
        "Stored in {} (readable only by you).",
        path.display()
    ));
    if let Some(w) = smtp_problem {
        return Err(AuthError::failed(format!(
            "the Graph login is stored, but Microsoft gave no token for SMTP ({w}): add the delegated permission SMTP.Send (Office 365 Exchange Online) to the app registration, have an admin grant consent if needed, and run `missive auth {transport}` again"
        )));
    }
    say(&format!(
        "Check it with `missive check {transport}`; send with `missive send --transport {transport} ...`."
    ));
    Ok(())
}

/// The username of the first smtp transport borrowing the login: the mailbox it is for.
fn smtp_username(engine: &Engine, users: &[&str]) -> Option<String> {
    users
        .iter()
        .find_map(|u| match &engine.config.transports.get(*u)?.kind {
            TransportKind::Smtp(s) => s.username.clone(),
            _ => None,
        })
}
