//! The Microsoft identity platform (v2.0 endpoints) as an OAuth provider: Outlook.com and
//! Microsoft 365 accounts, a public client (no secret), any tenant.

use base64::Engine as _;

use super::{Provider, Resource};

pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com/";
pub const DEFAULT_TENANT: &str = "common";
pub const OFFLINE: &str = "offline_access";
pub const GRAPH_SEND: &str = "https://graph.microsoft.com/Mail.Send";
pub const SMTP_SEND: &str = "https://outlook.office.com/SMTP.Send";
/// The token-file key of the Exchange Online SMTP token (the Graph one is the main token).
pub const SMTP_RESOURCE: &str = "https://outlook.office.com";

/// What to check when Microsoft refuses the client.
const CLIENT_HINT: &str = "check client_id and the app registration in the Microsoft Entra admin center: a public client (Authentication → Mobile and desktop applications, redirect URI http://localhost; \"Allow public client flows\" on for --device) with the delegated permissions Mail.Send, SMTP.Send and offline_access";

/// `{authority}{tenant}/oauth2/v2.0/{authorize,token,devicecode}`.
pub fn provider(client_id: &str, tenant: &str, authority: &str) -> Provider {
    let mut base = authority.to_string();
    if !base.ends_with('/') {
        base.push('/');
    }
    let at = |ep: &str| format!("{base}{tenant}/oauth2/v2.0/{ep}");
    Provider {
        label: "Microsoft",
        client_id: client_id.to_string(),
        client_secret: None,
        auth_url: at("authorize"),
        token_url: at("token"),
        device_url: Some(at("devicecode")),
        // Let the user pick the account rather than reuse whichever is signed in.
        auth_params: vec![("prompt", "select_account".to_string())],
        redirect_host: "localhost",
        revoked_note: None,
        client_hint: CLIENT_HINT,
    }
}

/// The scopes to consent to: Graph's Mail.Send, plus SMTP.Send when an smtp transport
/// borrows the login. `offline_access` brings the refresh token.
pub fn consent_scopes(smtp: bool) -> Vec<&'static str> {
    let mut v = vec![OFFLINE, GRAPH_SEND];
    if smtp {
        v.push(SMTP_SEND);
    }
    v
}

/// Microsoft Graph: the login's main token.
pub fn graph() -> Resource {
    Resource {
        key: None,
        scope: Some(format!("{OFFLINE} {GRAPH_SEND}")),
    }
}

/// Exchange Online SMTP (XOAUTH2): a token of its own, from the same refresh token.
pub fn smtp() -> Resource {
    Resource {
        key: Some(SMTP_RESOURCE),
        scope: Some(format!("{OFFLINE} {SMTP_SEND}")),
    }
}

/// The account a work or school access token was issued for. Such tokens are JWTs
/// (read here, not verified: only to tell the user who logged in); personal accounts'
/// are opaque, and then this is None.
pub fn account_in_token(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    ["upn", "preferred_username", "unique_name", "email"]
        .iter()
        .find_map(|k| v[*k].as_str())
        .filter(|a| a.contains('@') && a.len() < 320 && !a.chars().any(char::is_control))
        .map(String::from)
}

/// A tenant as the config may give it: common, organizations, consumers, a tenant id
/// (GUID) or a domain (contoso.onmicrosoft.com).
pub fn valid_tenant(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 253
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        && !t.starts_with(['-', '.'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_scopes_and_tenants() {
        let p = provider("cid", "organizations", "http://127.0.0.1:9");
        assert_eq!(
            p.token_url,
            "http://127.0.0.1:9/organizations/oauth2/v2.0/token"
        );
        assert_eq!(
            p.device_url.as_deref(),
            Some("http://127.0.0.1:9/organizations/oauth2/v2.0/devicecode")
        );
        assert_eq!(
            consent_scopes(true).join(" "),
            format!("{OFFLINE} {GRAPH_SEND} {SMTP_SEND}")
        );
        assert!(valid_tenant("common") && valid_tenant("contoso.onmicrosoft.com"));
        assert!(valid_tenant("72f988bf-86f1-41af-91ab-2d7cd011db47"));
        assert!(!valid_tenant("a/b") && !valid_tenant("") && !valid_tenant("../x"));
    }

    #[test]
    fn account_from_a_jwt() {
        let b = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let t = format!("{}.{}.sig", b("{}"), b(r#"{"upn":"ada@contoso.com"}"#));
        assert_eq!(account_in_token(&t).as_deref(), Some("ada@contoso.com"));
        assert_eq!(account_in_token("EwBwA8l6BAAU"), None);
    }
}
