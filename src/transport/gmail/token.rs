//! The Google login of one gmail transport, on the shared OAuth layer (`crate::oauth`):
//! Google as a provider (from the client-secret file: `auth_uri` and `token_uri` as given,
//! the secret sent in the form), the token file as it has always been, and the same login
//! as an XOAUTH2 token source for smtp transports with `oauth = "NAME"`.

use std::time::Duration;

use futures::future::BoxFuture;

use super::client_secret::ClientSecret;
use crate::config::GmailConfig;
use crate::http::Http;
use crate::oauth::{login, Login, Provider, Resource};
use crate::paths::Paths;
use crate::secret::Secret;
use crate::transport::smtp::TokenProvider;
use crate::transport::TransportError;

pub use crate::oauth::store::{token_path, Tokens};

/// Sending through the Gmail API: nothing else.
pub const SCOPE_SEND: &str = "https://www.googleapis.com/auth/gmail.send";
/// The only scope Gmail's SMTP server accepts for XOAUTH2 (full mailbox access).
pub const SCOPE_MAIL: &str = "https://mail.google.com/";

pub const TESTING_NOTE: &str = "if the OAuth consent screen of your Google Cloud project is in \
\"Testing\" status, Google expires its refresh tokens after 7 days; set the publishing status to \
\"In production\" (APIs & Services → OAuth consent screen → Publish app) to keep the login";

/// Google, for the installed-app client in `client`.
pub fn provider(client: &ClientSecret) -> Provider {
    Provider {
        label: "Google",
        client_id: client.client_id.clone(),
        client_secret: Some(client.client_secret.clone()),
        auth_url: client.auth_uri.clone(),
        token_url: client.token_uri.clone(),
        // Google refuses Gmail scopes in the device flow.
        device_url: None,
        // A refresh token, and a new one even if this app was authorised before.
        auth_params: vec![
            ("access_type", "offline".to_string()),
            ("prompt", "consent".to_string()),
        ],
        redirect_host: "127.0.0.1",
        revoked_note: Some(TESTING_NOTE),
        client_hint: "check that client_secret is the Desktop-app client the login was made with",
    }
}

/// A gmail transport's login, shared by the Gmail API transport and by smtp transports
/// with `oauth = "<name>"`.
pub struct GoogleLogin {
    pub name: String,
    login: Login,
}

impl GoogleLogin {
    /// Read the client secret and the stored login. Either missing is a configuration
    /// problem the user fixes (exit 2, nothing sent).
    pub fn open(
        name: &str,
        cfg: &GmailConfig,
        paths: &Paths,
    ) -> Result<GoogleLogin, TransportError> {
        let client = ClientSecret::load(&cfg.client_secret, name)?;
        let login = Login::open(
            name,
            provider(&client),
            paths,
            Duration::from_secs(cfg.timeout_secs.max(1)),
        )?;
        Ok(GoogleLogin {
            name: name.to_string(),
            login,
        })
    }

    pub fn http(&self) -> &Http {
        self.login.http()
    }

    /// A valid access token: the stored one, or a refreshed one when it has expired (or
    /// when `force`, e.g. after the API answered 401).
    pub async fn access_token(&self, force: bool) -> Result<Secret, TransportError> {
        self.login.access_token(&Resource::MAIN, force).await
    }

    /// The granted scope and account, for messages and `missive check`.
    pub async fn summary(&self) -> String {
        self.login.with_tokens(|t| describe(&self.name, t)).await
    }

    pub async fn has_scope(&self, scope: &str) -> bool {
        self.login.has_scope(scope).await
    }

    /// Every secret of the login and its client, for scrubbing what servers echo.
    pub async fn secrets(&self) -> Vec<String> {
        self.login.secrets().await
    }
}

/// "Google login of transport "gmail": account ada@gmail.com, scope gmail.send, access
/// token valid until 2026-11-24 17:40:00 UTC"
pub fn describe(name: &str, t: &Tokens) -> String {
    login::describe("Google", name, t)
}

/// XOAUTH2 for smtp transports with `oauth = "<gmail transport>"`.
impl TokenProvider for GoogleLogin {
    fn access_token(&self) -> BoxFuture<'_, Result<(Secret, String), TransportError>> {
        Box::pin(async move {
            let token = GoogleLogin::access_token(self, false).await?;
            let mut info = self.summary().await;
            if !self.has_scope(SCOPE_MAIL).await {
                info.push_str(&format!(
                    "; warning: smtp.gmail.com accepts only the scope {SCOPE_MAIL}, which this login lacks: run `missive auth {}` again (it asks for that scope when an smtp transport uses oauth = {:?})",
                    self.name, self.name
                ));
            }
            Ok((token, info))
        })
    }
}

#[cfg(test)]
mod tests {
    use google_gmail1::api::Scope;

    #[test]
    fn scopes_are_google_gmail1s() {
        assert_eq!(super::SCOPE_SEND, Scope::Send.as_ref());
        assert_eq!(super::SCOPE_MAIL, Scope::Gmai.as_ref());
    }
}
