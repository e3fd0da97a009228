//! XOAUTH2: where access tokens come from, and the AUTH exchange itself.

use std::time::Duration;

use futures::future::BoxFuture;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::AsyncSmtpConnection;

use super::reply::response_text;
use crate::secret::{self, Secret};
use crate::transport::{Stage, TransportError};

/// Supplies XOAUTH2 access tokens (a `token_cmd`, or a Google login shared with a gmail
/// transport).
pub trait TokenProvider: Send + Sync {
    /// The token, plus a line describing it for `missive check` (account, expiry).
    fn access_token(&self) -> BoxFuture<'_, Result<(Secret, String), TransportError>>;
}

pub struct CmdToken {
    pub transport: String,
    pub cmd: String,
    /// The transport's `timeout`: the command's whole run.
    pub timeout: Duration,
}

impl TokenProvider for CmdToken {
    fn access_token(&self) -> BoxFuture<'_, Result<(Secret, String), TransportError>> {
        Box::pin(async move {
            let what = format!("transport {:?} token_cmd", self.transport);
            let t = secret::from_command(&what, &self.cmd, self.timeout)
                .await
                .map_err(|m| TransportError::user(Stage::Secret, m))?;
            Ok((t, format!("token from token_cmd {:?}", self.cmd)))
        })
    }
}

/// AUTH XOAUTH2. lettre's own exchange cannot take the failure path servers use: a 334
/// challenge carrying a base64 JSON error (`{"status":"401",...}`), which the client must
/// answer with an empty line before the final 535; it stops with "This mechanism does not
/// expect a challenge" and hides why. This one reports the server's refusal and its JSON.
pub(super) async fn xoauth2(
    conn: &mut AsyncSmtpConnection,
    creds: &Credentials,
    user: &str,
    auth_err: impl Fn(lettre::transport::smtp::Error) -> TransportError,
) -> Result<(), TransportError> {
    use base64::Engine as _;
    use lettre::transport::smtp::commands::Auth;
    if !conn
        .server_info()
        .supports_auth_mechanism(Mechanism::Xoauth2)
    {
        // lettre's usual "no compatible authentication mechanism" error.
        return conn
            .auth(&[Mechanism::Xoauth2], creds)
            .await
            .map(|_| ())
            .map_err(auth_err);
    }
    let cmd = Auth::new(Mechanism::Xoauth2, creds.clone(), None).map_err(&auth_err)?;
    let first = conn.command(cmd).await.map_err(&auth_err)?;
    if !first.has_code(334) {
        return Ok(());
    }
    let detail = first
        .first_word()
        .and_then(|w| base64::engine::general_purpose::STANDARD.decode(w).ok())
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "no details".to_string());
    let refused = |reply: String, code: Option<u16>| {
        let mut t = TransportError::new(
            Stage::Auth,
            false,
            format!("the server refused the XOAUTH2 access token for {user} ({detail}): {reply}"),
        );
        t.code = code;
        t
    };
    // The empty response ends the exchange; the server answers with its final refusal.
    match conn.command("\r\n").await {
        Err(e) => {
            let t = auth_err(e);
            Err(refused(t.message, t.code))
        }
        Ok(r) if r.has_code(235) => Ok(()),
        Ok(r) => Err(refused(
            response_text(&r),
            r.code().to_string().parse().ok(),
        )),
    }
}
