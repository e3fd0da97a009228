//! `missive auth NAME [--no-browser] [--device]`: log a transport in with its provider
//! and store the login under `tokens/`. Google for `kind = "gmail"`, Microsoft for
//! `kind = "outlook"`; both on the OAuth layer in `crate::oauth`. The outcome is typed
//! (`AuthError::input` for what the user must fix in the config), and the command line
//! turns it into an exit status.

use std::io::Write;

use crate::config::TransportKind;
use crate::engine::Engine;
use crate::http::Http;
use crate::oauth::code::{CodeFlow, WAIT};
use crate::oauth::{Granted, Provider};

mod google;
mod microsoft;

pub struct AuthOptions {
    /// Print the URL instead of opening a browser; accept the redirected URL on stdin.
    pub no_browser: bool,
    /// The device-code flow (RFC 8628).
    pub device: bool,
}

#[derive(Debug)]
pub struct AuthError {
    /// Bad config, client secret or usage: exit 2. Otherwise the flow failed: exit 1.
    pub input: bool,
    pub message: String,
}

impl AuthError {
    pub fn input(message: impl Into<String>) -> AuthError {
        AuthError {
            input: true,
            message: message.into(),
        }
    }
    pub fn failed(message: impl Into<String>) -> AuthError {
        AuthError {
            input: false,
            message: message.into(),
        }
    }
}

pub async fn run(engine: &Engine, transport: &str, opts: &AuthOptions) -> Result<(), AuthError> {
    let tc = engine
        .transport_config(Some(transport))
        .map_err(|e| AuthError::input(e.to_string()))?;
    match &tc.kind {
        TransportKind::Gmail(g) => google::run(engine, tc, g, opts).await,
        TransportKind::Outlook(o) => microsoft::run(engine, tc, o, opts).await,
        TransportKind::Smtp(s) if s.oauth.is_some() => {
            let o = s.oauth.as_deref().unwrap_or_default();
            let provider = match engine.config.transports.get(o).map(|t| &t.kind) {
                Some(TransportKind::Outlook(_)) => "Microsoft",
                _ => "Google",
            };
            Err(AuthError::input(format!(
                "transport {transport:?} is an smtp transport that uses the {provider} login of transport {o:?}: run `missive auth {o}`"
            )))
        }
        other => Err(AuthError::input(format!(
            "transport {transport:?} is of kind {:?}; `missive auth` is for transports of kind \"gmail\" or \"outlook\"",
            other.name()
        ))),
    }
}

/// The smtp transports that borrow the login of transport `name` (`oauth = "name"`).
fn borrowers<'a>(engine: &'a Engine, name: &str) -> Vec<&'a str> {
    engine
        .config
        .transports
        .values()
        .filter(|t| matches!(&t.kind, TransportKind::Smtp(s) if s.oauth.as_deref() == Some(name)))
        .map(|t| t.name.as_str())
        .collect()
}

/// The bare address in "Name <addr>" or "addr".
fn bare_address(from: &str) -> String {
    match (from.rfind('<'), from.rfind('>')) {
        (Some(a), Some(b)) if a < b => from[a + 1..b].trim().to_string(),
        _ => from.trim().to_string(),
    }
}

/// The transport's From (or the top-level one) as a bare address.
fn configured_from(engine: &Engine, tc: &crate::config::TransportConfig) -> Option<String> {
    tc.from
        .as_deref()
        .or(engine.config.from.as_deref())
        .map(bare_address)
        .filter(|a| a.contains('@'))
}

/// Lines here carry what the provider sent (a device code's message, a verification URL).
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", crate::escape::for_terminal(line));
    let _ = out.flush();
}

/// Print the URL, open a browser (unless `--no-browser`), wait for the redirect or the
/// pasted URL, exchange the code.
async fn browser_login(
    p: &Provider,
    http: &Http,
    transport: &str,
    flow: CodeFlow,
    no_browser: bool,
) -> Result<Granted, AuthError> {
    say(&format!(
        "Open this URL in a browser and allow missive to send mail (transport {transport:?}):\n\n{}\n",
        flow.url
    ));
    say(&format!(
        "Waiting up to {} s for {} to redirect to {} ...",
        WAIT.as_secs(),
        p.label,
        flow.redirect_uri
    ));
    if no_browser {
        say(&format!(
            "If the browser runs on another machine, the page it ends on will not load: copy that address (it starts with {}) from its address bar, paste it here and press Enter.",
            flow.redirect_uri
        ));
    } else {
        // Off the async thread: some openers (text browsers) block until they exit. The
        // listener is already bound, so a redirect that comes early waits in its backlog.
        let url = flow.url.clone();
        let opener = tokio::task::spawn_blocking(move || webbrowser::open(&url));
        if let Ok(Ok(Err(e))) =
            tokio::time::timeout(std::time::Duration::from_secs(3), opener).await
        {
            crate::args::err_line(format!(
                "could not open a browser ({e}); open the URL above yourself"
            ));
        }
    }
    flow.finish(p, http, WAIT, no_browser)
        .await
        .map_err(|e| AuthError::failed(format!("auth for {transport:?} failed: {e}")))
}

/// Store the login; the path for the closing message.
fn store(
    engine: &Engine,
    transport: &str,
    tokens: &crate::oauth::store::Tokens,
) -> Result<std::path::PathBuf, AuthError> {
    let path = crate::oauth::store::token_path(&engine.paths, transport);
    tokens.save(&path).map_err(|e| {
        AuthError::failed(format!(
            "could not store the login in {}: {}",
            path.display(),
            crate::message::io_reason(&e)
        ))
    })?;
    tracing::info!(transport, path = %path.display(), "login stored");
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(bare_address("Ada <ada@example.com>"), "ada@example.com");
        assert_eq!(bare_address(" ada@example.com "), "ada@example.com");
    }
}
