//! The OAuth client that Google's console hands out as a JSON file ("Desktop app" type):
//! `{"installed": {"client_id", "client_secret", "auth_uri", "token_uri", ...}}`.
//! `auth_uri` and `token_uri` are used exactly as the file gives them.

use std::path::Path;

use serde::Deserialize;

use crate::secret::Secret;
use crate::transport::{Stage, TransportError};

const DEFAULT_AUTH_URI: &str = "https://accounts.google.com/o/oauth2/auth";
const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

/// How to get the right file; appended to every client-secret error.
pub const HOW_TO_GET: &str =
    "Create it in the Google Cloud console: APIs & Services → Credentials → \
Create credentials → OAuth client ID → Application type \"Desktop app\", then \"Download JSON\" \
(the file starts with {\"installed\": ...}) and point `client_secret` at it";

pub struct ClientSecret {
    pub client_id: String,
    pub client_secret: Secret,
    pub auth_uri: String,
    pub token_uri: String,
}

#[derive(Deserialize)]
struct File {
    installed: Option<Installed>,
    web: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Installed {
    client_id: Option<String>,
    client_secret: Option<String>,
    auth_uri: Option<String>,
    token_uri: Option<String>,
}

impl ClientSecret {
    pub fn load(path: &Path, transport: &str) -> Result<ClientSecret, TransportError> {
        let fail = |problem: String| {
            TransportError::user(
                Stage::Config,
                format!(
                    "transport {transport:?}: client_secret {}: {problem}. {HOW_TO_GET}",
                    path.display()
                ),
            )
        };
        let text = std::fs::read(path).map_err(|e| {
            fail(match e.kind() {
                std::io::ErrorKind::NotFound => "no such file".to_string(),
                _ => format!("cannot read it ({})", crate::message::io_reason(&e)),
            })
        })?;
        let file: File = serde_json::from_slice(&text).map_err(|e| {
            fail(format!(
                "not a Google OAuth client file (JSON error at line {}: {})",
                e.line(),
                e.classify_name()
            ))
        })?;
        let Some(inst) = file.installed else {
            return Err(fail(if file.web.is_some() {
                "this is a \"Web application\" client; missive needs a \"Desktop app\" client"
                    .to_string()
            } else {
                "no \"installed\" section (not a Desktop-app OAuth client)".to_string()
            }));
        };
        let need = |v: Option<String>, key: &str| {
            v.filter(|s| !s.trim().is_empty())
                .ok_or_else(|| fail(format!("\"installed\" has no {key:?}")))
        };
        let client_id = need(inst.client_id, "client_id")?;
        let client_secret = need(inst.client_secret, "client_secret")?;
        let auth_uri = inst
            .auth_uri
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_AUTH_URI.to_string());
        let token_uri = inst
            .token_uri
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_TOKEN_URI.to_string());
        for (key, v) in [("auth_uri", &auth_uri), ("token_uri", &token_uri)] {
            match url::Url::parse(v) {
                Err(_) => return Err(fail(format!("{key} {v:?} is not a URL"))),
                // The client secret and the refresh token are posted to token_uri.
                Ok(u) if key == "token_uri" && !crate::config::secure_web_url(&u) => {
                    return Err(fail(format!(
                        "{key} {v:?} is not https (plain http only to localhost); refused, the client secret is sent there"
                    )))
                }
                Ok(_) => {}
            }
        }
        Ok(ClientSecret {
            client_id,
            client_secret: Secret::new(client_secret),
            auth_uri,
            token_uri,
        })
    }
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "read error",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "unexpected structure",
            serde_json::error::Category::Eof => "file ends early",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(s: &str) -> Result<ClientSecret, TransportError> {
        let dir = tempfile::tempdir()
            .map_err(|e| TransportError::new(Stage::Config, false, e.to_string()))?;
        let p = dir.path().join("c.json");
        std::fs::write(&p, s)
            .map_err(|e| TransportError::new(Stage::Config, false, e.to_string()))?;
        ClientSecret::load(&p, "gmail")
    }

    #[test]
    fn desktop_client() {
        let c = load_str(
            r#"{"installed":{"client_id":"id.apps.googleusercontent.com","client_secret":"s3cret",
            "auth_uri":"http://127.0.0.1:1/auth","token_uri":"http://127.0.0.1:1/token",
            "redirect_uris":["http://localhost"]}}"#,
        );
        let c = c.expect("loads");
        assert_eq!(c.auth_uri, "http://127.0.0.1:1/auth");
        assert_eq!(c.token_uri, "http://127.0.0.1:1/token");
        assert_eq!(c.client_secret.expose(), "s3cret");
    }

    #[test]
    fn wrong_kinds_say_which_console_step() {
        let web = load_str(r#"{"web":{"client_id":"x","client_secret":"y"}}"#)
            .err()
            .expect("refused");
        assert!(web.user_fix && web.stage == Stage::Config);
        assert!(web.message.contains("Web application"), "{}", web.message);
        assert!(web.message.contains("Desktop app"), "{}", web.message);
        let junk = load_str("not json").err().expect("refused");
        assert!(junk.message.contains("Desktop app"), "{}", junk.message);
        let missing = load_str(r#"{"installed":{"client_id":"x"}}"#)
            .err()
            .expect("refused");
        assert!(
            missing.message.contains("client_secret"),
            "{}",
            missing.message
        );
        let none = ClientSecret::load(Path::new("/nonexistent/c.json"), "gmail")
            .err()
            .expect("refused");
        assert!(none.message.contains("no such file"), "{}", none.message);
        assert!(none.message.contains("Desktop app"), "{}", none.message);
    }
}
