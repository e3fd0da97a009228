//! Reading passwords and tokens from where the config says they are. Values are wrapped
//! in `Secret` so they cannot end up in a log or an error by accident.

use std::fmt;

use crate::config::SecretSource;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: String) -> Self {
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

/// Run a `*_cmd` through the shell and take its first line. Errors name the command and
/// its exit status, never its output (which may hold the secret).
pub async fn from_command(what: &str, cmd: &str) -> Result<Secret, String> {
    let out = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .output()
        .await
        .map_err(|e| format!("{what}: cannot run {cmd:?}: {e}"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let hint = stderr.lines().next().unwrap_or("").trim();
        return Err(format!(
            "{what}: {cmd:?} exited with {}{}",
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
        return Err(format!("{what}: {cmd:?} printed nothing"));
    }
    Ok(Secret(first))
}

pub async fn resolve(source: &SecretSource, transport: &str) -> Result<Option<Secret>, String> {
    match source {
        SecretSource::None => Ok(None),
        SecretSource::Plain(p) => Ok(Some(Secret(p.clone()))),
        SecretSource::Env(var) => std::env::var(var)
            .ok()
            .filter(|v| !v.is_empty())
            .map(|v| Some(Secret(v)))
            .ok_or_else(|| format!("transport {transport:?}: password_env {var:?} is not set")),
        SecretSource::Cmd(cmd) => from_command(&format!("transport {transport:?} password_cmd"), cmd)
            .await
            .map(Some),
        SecretSource::Keyring => Err(format!(
            "transport {transport:?}: keyring = true needs a Secret Service, which this build does not include; use password_cmd (e.g. \"secret-tool lookup ...\")"
        )),
    }
}
