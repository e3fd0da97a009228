//! One OAuth 2.0 layer for every provider (Google, Microsoft), on the `oauth2` crate with
//! missive's own hyper client underneath:
//!
//! - `client`: the `oauth2` glue — its `AsyncHttpClient` over `crate::http::Http` (bounded
//!   answers, 429/5xx kept as transient), a lenient token answer, errors turned into a
//!   `Fault` whose text never holds a secret, even when a server echoes one back.
//! - `code`: authorization code + PKCE (S256) + state on a loopback redirect, or the
//!   redirected URL pasted on standard input.
//! - `device`: the device authorization grant (RFC 8628).
//! - `store`: the token file under `tokens/` (0600 in 0700), one access token per resource.
//! - `login`: a stored login in use: refresh per resource, a refused refresh turned into
//!   "run `missive auth NAME`", never an interactive flow from inside a send.
//! - `microsoft`: the Microsoft identity platform as a provider (tenants, scopes).
//!
//! Google's provider is built from its client-secret file in `crate::gmail`.

use crate::secret::Secret;

pub mod client;
pub mod code;
pub mod device;
pub mod login;
pub mod microsoft;
pub mod store;

pub use client::{Fault, Granted};
pub use login::{Login, Resource};

/// An authorization server and the OAuth client registered with it.
#[derive(Clone)]
pub struct Provider {
    /// "Google", "Microsoft": for messages.
    pub label: &'static str,
    pub client_id: String,
    /// Google's installed-app clients have one (not really secret, but kept out of
    /// output all the same); Microsoft public clients have none.
    pub client_secret: Option<Secret>,
    pub auth_url: String,
    pub token_url: String,
    /// The device authorization endpoint, when the provider allows the device flow for
    /// the scopes missive needs.
    pub device_url: Option<String>,
    /// Extra parameters of the authorization URL (Google: `access_type=offline`).
    pub auth_params: Vec<(&'static str, String)>,
    /// The loopback redirect's host name as registered with the provider:
    /// `127.0.0.1` (Google) or `localhost` (Microsoft's "http://localhost").
    pub redirect_host: &'static str,
    /// Appended to the "run `missive auth NAME`" advice when a refresh is refused.
    pub revoked_note: Option<&'static str>,
    /// What to check when the provider refuses the OAuth client itself.
    pub client_hint: &'static str,
}

impl Provider {
    /// Secrets of this client that must never appear in a message.
    pub fn secrets(&self) -> Vec<&str> {
        self.client_secret.iter().map(|s| s.expose()).collect()
    }
}

/// `text` with every secret replaced, control characters made visible and cut short:
/// what a server says goes into messages only through this.
pub fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut s = text.to_string();
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        s = s.replace(secret, "<redacted>");
    }
    let mut out: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    if s.chars().count() > 300 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_hides_secrets_and_controls() {
        let s = scrub("bad token ya29.abcd\r\nx\x1b[31m", &["ya29.abcd", ""]);
        assert_eq!(s, "bad token <redacted>  x [31m");
        assert!(scrub(&"a".repeat(1000), &[]).chars().count() <= 301);
    }
}
