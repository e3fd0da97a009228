//! The token file of one login: `tokens/<transport>.json`, 0600 from creation in a 0700
//! directory.
//!
//! The top-level `access_token` is the token for the login's main resource (Gmail, Graph),
//! as the Gmail transport has always written it. A Microsoft access token serves one
//! resource, so tokens for others (Exchange Online's SMTP) sit under `resources`, each
//! got from the one refresh token.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::paths::Paths;
use crate::secret::Secret;

/// An access token this close to its expiry is refreshed first.
const EXPIRY_MARGIN: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

/// `tokens/<transport>.json`; the name is reduced to safe file-name characters.
pub fn token_path(paths: &Paths, transport: &str) -> PathBuf {
    let safe: String = transport
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let safe = safe.trim_start_matches('.');
    paths.tokens_dir().join(format!("{safe}.json"))
}

/// The file's shape. No `Debug`: it holds the tokens in clear.
#[derive(Serialize, Deserialize)]
struct TokenFile {
    access_token: String,
    refresh_token: String,
    /// RFC 3339.
    expires_at: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    token_type: Option<String>,
    /// The address this login sends as, when known.
    #[serde(default)]
    account: Option<String>,
    /// The OAuth client that made the login; a refresh needs the same one.
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    authorised_at: Option<String>,
    /// "google", "microsoft"; absent in files written before Microsoft support (Google).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    provider: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    resources: BTreeMap<String, ResourceFile>,
}

#[derive(Serialize, Deserialize)]
struct ResourceFile {
    access_token: String,
    expires_at: String,
    #[serde(default)]
    scope: String,
}

/// An access token for one resource.
#[derive(Clone)]
pub struct Access {
    pub token: Secret,
    pub expires_at: DateTime<Utc>,
    pub scope: String,
}

impl Access {
    pub fn fresh(&self, now: DateTime<Utc>) -> bool {
        self.expires_at - EXPIRY_MARGIN > now
    }
}

/// A login in memory.
pub struct Tokens {
    pub access: Secret,
    pub refresh: Secret,
    pub expires_at: DateTime<Utc>,
    pub scope: String,
    pub account: Option<String>,
    pub client_id: Option<String>,
    pub authorised_at: Option<String>,
    pub provider: Option<String>,
    /// Access tokens for other resources, by resource key.
    pub resources: BTreeMap<String, Access>,
}

fn parse_time(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        // An unreadable expiry means "refresh before use".
        .unwrap_or(DateTime::UNIX_EPOCH)
}

/// A token file is a few hundred bytes; anything past `max` is not one.
fn read_bounded(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(max + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {max} bytes, not a missive token file"),
        ));
    }
    Ok(bytes)
}

impl Tokens {
    pub fn load(path: &Path) -> std::io::Result<Option<Tokens>> {
        let bytes = match read_bounded(path, 1024 * 1024) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let f: TokenFile = serde_json::from_slice(&bytes).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("not a missive token file (line {})", e.line()),
            )
        })?;
        Ok(Some(Tokens {
            access: Secret::new(f.access_token),
            refresh: Secret::new(f.refresh_token),
            expires_at: parse_time(&f.expires_at),
            scope: f.scope,
            account: f.account,
            client_id: f.client_id,
            authorised_at: f.authorised_at,
            provider: f.provider,
            resources: f
                .resources
                .into_iter()
                .map(|(k, r)| {
                    (
                        k,
                        Access {
                            token: Secret::new(r.access_token),
                            expires_at: parse_time(&r.expires_at),
                            scope: r.scope,
                        },
                    )
                })
                .collect(),
        }))
    }

    /// Written with `write_private`: 0600 from creation, in a 0700 directory.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let f = TokenFile {
            access_token: self.access.expose().to_string(),
            refresh_token: self.refresh.expose().to_string(),
            expires_at: self.expires_at.to_rfc3339(),
            scope: self.scope.clone(),
            token_type: Some("Bearer".into()),
            account: self.account.clone(),
            client_id: self.client_id.clone(),
            authorised_at: self.authorised_at.clone(),
            provider: self.provider.clone(),
            resources: self
                .resources
                .iter()
                .map(|(k, a)| {
                    (
                        k.clone(),
                        ResourceFile {
                            access_token: a.token.expose().to_string(),
                            expires_at: a.expires_at.to_rfc3339(),
                            scope: a.scope.clone(),
                        },
                    )
                })
                .collect(),
        };
        let mut json = serde_json::to_vec_pretty(&f).map_err(std::io::Error::other)?;
        json.push(b'\n');
        crate::paths::write_private(path, &json)
    }

    pub fn fresh(&self, now: DateTime<Utc>) -> bool {
        self.expires_at - EXPIRY_MARGIN > now
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope.split_whitespace().any(|s| s == scope)
    }

    /// Every secret this login holds, for scrubbing messages.
    pub fn secrets(&self) -> Vec<&str> {
        let mut v = vec![self.access.expose(), self.refresh.expose()];
        v.extend(self.resources.values().map(|a| a.token.expose()));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_file_round_trip_is_private_and_keeps_resources() {
        let dir = tempfile::tempdir().expect("tempdir");
        let paths = Paths::at(dir.path().join("c"), dir.path().join("d"));
        let p = token_path(&paths, "gm ail/../x");
        assert_eq!(p.parent(), Some(paths.tokens_dir().as_path()));
        let mut resources = BTreeMap::new();
        resources.insert(
            "https://outlook.office.com".to_string(),
            Access {
                token: Secret::new("smtp-tok".into()),
                expires_at: Utc::now() + chrono::TimeDelta::seconds(100),
                scope: "https://outlook.office.com/SMTP.Send".into(),
            },
        );
        let t = Tokens {
            access: Secret::new("ya29.a".into()),
            refresh: Secret::new("1//r".into()),
            expires_at: Utc::now() + chrono::TimeDelta::seconds(3599),
            scope: "s".into(),
            account: Some("ada@example.com".into()),
            client_id: Some("id".into()),
            authorised_at: None,
            provider: Some("microsoft".into()),
            resources,
        };
        t.save(&p).expect("save");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let dmode = std::fs::metadata(paths.tokens_dir())
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(dmode & 0o777, 0o700);
        }
        let back = Tokens::load(&p).expect("load").expect("present");
        assert_eq!(back.access.expose(), "ya29.a");
        assert_eq!(back.refresh.expose(), "1//r");
        assert!(back.fresh(Utc::now()));
        assert!(back.has_scope("s"));
        let r = &back.resources["https://outlook.office.com"];
        assert_eq!(r.token.expose(), "smtp-tok");
        assert!(r.fresh(Utc::now()));
        assert_eq!(back.provider.as_deref(), Some("microsoft"));
    }

    #[test]
    fn an_old_google_file_loads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("gmail.json");
        std::fs::write(
            &p,
            r#"{"access_token":"a","refresh_token":"r","expires_at":"2020-01-01T00:00:00Z","scope":"x","token_type":"Bearer","account":null,"client_id":"c"}"#,
        )
        .expect("write");
        let t = Tokens::load(&p).expect("load").expect("present");
        assert!(!t.fresh(Utc::now()));
        assert!(t.provider.is_none() && t.resources.is_empty());
    }
}
