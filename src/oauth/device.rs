//! The device authorization grant (RFC 8628), for machines without a browser: ask for a
//! device code, show the user code and the URL to enter it at (on any device), then poll
//! the token endpoint as told — the same interval on `authorization_pending`, five seconds
//! more on `slow_down` — until the user approves, refuses, or the code expires.

use std::time::Duration;

use oauth2::{DeviceAuthorizationUrl, Scope, StandardDeviceAuthorizationResponse};

use super::client::{token_client, Fault, Granted};
use super::Provider;
use crate::http::Http;

/// What to show the user.
pub struct Shown {
    pub user_code: String,
    pub verification_uri: String,
    /// The URL with the code filled in, when the provider gives one.
    pub complete: Option<String>,
    pub expires_in: Duration,
}

/// Run the flow for `scopes`; `show` prints the code once it is known.
pub async fn run(
    p: &Provider,
    http: &Http,
    scopes: &[&str],
    show: impl FnOnce(&Shown),
) -> Result<Granted, Fault> {
    let Some(device_url) = &p.device_url else {
        return Err(Fault::Other(format!(
            "{} does not offer the device flow",
            p.label
        )));
    };
    let url = DeviceAuthorizationUrl::new(device_url.clone()).map_err(|_| {
        Fault::Other(format!(
            "device authorization endpoint {device_url:?} is not a URL"
        ))
    })?;
    let client = token_client(p)?.set_device_authorization_url(url);
    let mut req = client.exchange_device_code();
    for s in scopes {
        req = req.add_scope(Scope::new(s.to_string()));
    }
    let secrets = p.secrets();
    let details: StandardDeviceAuthorizationResponse = req
        .request_async(http)
        .await
        .map_err(|e| Fault::from_request(e, device_url, &secrets))?;
    show(&Shown {
        user_code: details.user_code().secret().clone(),
        verification_uri: details.verification_uri().to_string(),
        complete: details
            .verification_uri_complete()
            .map(|c| c.secret().clone()),
        expires_in: details.expires_in(),
    });
    let mut secrets = secrets;
    secrets.push(details.device_code().secret());
    let t = client
        .exchange_device_access_token(&details)
        .request_async(http, tokio::time::sleep, None)
        .await
        .map_err(|e| match Fault::from_request(e, &p.token_url, &secrets) {
            Fault::Expired(w) => Fault::Expired(format!(
                "the code expired before the login was finished ({w}); run `missive auth` again"
            )),
            Fault::Denied(w) => Fault::Denied(format!("the login was refused ({w})")),
            other => other,
        })?;
    Granted::from_answer(&t)
}
