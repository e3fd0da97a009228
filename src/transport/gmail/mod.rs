//! Gmail: the `kind = "gmail"` transport (Gmail API `users.messages.send`), Google as an
//! OAuth provider, and the same login as an XOAUTH2 token source for smtp transports with
//! `oauth = "NAME"`. The login flows themselves are in `crate::oauth` (shared with
//! Microsoft) and `missive auth` in `crate::authorize`.
//!
//! - `client_secret`: the Desktop-app OAuth client JSON from Google's console.
//! - `token`: Google as a provider, and the login of one gmail transport.
//! - `send`: the API transport (simple and resumable uploads, retries).

use std::sync::Arc;

use crate::config::GmailConfig;
use crate::paths::Paths;
use crate::transport::smtp::TokenProvider;
use crate::transport::{Transport, TransportError};

pub use crate::http;
pub use crate::http::retry;

pub mod client_secret;
pub mod send;
pub mod token;

use token::GoogleLogin;

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

pub fn api_root(cfg: &GmailConfig) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_roots() {
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
