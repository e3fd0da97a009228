//! Reading passwords and tokens from where the config says they are. Values are wrapped
//! in `Secret` so they cannot end up in a log or an error by accident.

use std::fmt;
use std::time::Duration;

use crate::config::SecretSource;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Every secret is made known to the scrubber as it is read, so a server echoing it
    /// back cannot carry it into an error, a log or the outbox.
    pub fn new(s: String) -> Self {
        crate::redact::register(&s);
        Secret(s)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Run a `*_cmd` through the shell (bounded in time and output, see `command`) and take
/// its first line. Errors name the command and its exit status, never its output (which
/// may hold the secret). Every failure here is the user's to fix (a wrong command, a
/// locked store): a config error, not something to queue and retry.
pub async fn from_command(what: &str, cmd: &str, timeout: Duration) -> Result<Secret, String> {
    let shown = crate::escape::quoted(cmd);
    let out = crate::command::run(&crate::command::Cmd::new(cmd, timeout))
        .await
        .map_err(|e| format!("{what}: {shown} {e}"))?;
    if !out.status.success() {
        let hint = out.stderr_hint();
        return Err(format!(
            "{what}: {shown} exited with {}{}",
            out.status,
            if hint.is_empty() {
                String::new()
            } else {
                format!(" ({hint})")
            }
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.lines().next().unwrap_or("").trim().to_string();
    if first.is_empty() {
        return Err(format!("{what}: {shown} printed nothing"));
    }
    Ok(Secret::new(first))
}

pub async fn resolve(
    source: &SecretSource,
    transport: &str,
    timeout: Duration,
) -> Result<Option<Secret>, String> {
    match source {
        SecretSource::None => Ok(None),
        SecretSource::Plain(p) => Ok(Some(Secret::new(p.clone()))),
        SecretSource::Env(var) => std::env::var(var)
            .ok()
            .filter(|v| !v.is_empty())
            .map(|v| Some(Secret::new(v)))
            .ok_or_else(|| format!("transport {transport:?}: password_env {var:?} is not set")),
        SecretSource::Cmd(cmd) => from_command(&format!("transport {transport:?} password_cmd"), cmd, timeout)
            .await
            .map(Some),
        SecretSource::Keyring => Err(format!(
            "transport {transport:?}: keyring = true needs a Secret Service, which this build does not include; use password_cmd (e.g. \"secret-tool lookup ...\")"
        )),
    }
}
