//! The `[relay]` table: where `missive relay` listens, which transport it sends through,
//! and who may use it when it listens beyond loopback.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, Ctx, SecretSource};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RelayConfig {
    /// `host:port` (default 127.0.0.1:2525).
    pub listen: Option<String>,
    pub transport: Option<String>,
    /// Listening beyond loopback is refused unless this is set and `users` is not empty.
    pub allow_remote: bool,
    /// AUTH users and where each one's password comes from.
    pub users: BTreeMap<String, SecretSource>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRelay {
    listen: Option<Spanned<String>>,
    transport: Option<Spanned<String>>,
    allow_remote: Option<bool>,
    #[serde(default)]
    users: BTreeMap<String, Spanned<RawUser>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUser {
    password: Option<String>,
    password_cmd: Option<String>,
    password_env: Option<String>,
}

pub(super) fn relay(
    ctx: &Ctx<'_>,
    raw: RawRelay,
    transports: &[String],
) -> Result<RelayConfig, ConfigError> {
    if let Some(t) = &raw.transport {
        if !transports.iter().any(|n| n == t.get_ref()) {
            return Err(ctx.err(
                Some(t.span()),
                "relay.transport",
                format!(
                    "no transport named {:?}; configured: {}",
                    t.get_ref(),
                    transports.join(", ")
                ),
            ));
        }
    }
    if let Some(l) = &raw.listen {
        if l.get_ref().parse::<std::net::SocketAddr>().is_err() {
            return Err(ctx.err(
                Some(l.span()),
                "relay.listen",
                "expected an IP address and port, e.g. \"127.0.0.1:2525\"",
            ));
        }
    }
    let mut users = BTreeMap::new();
    for (name, u) in raw.users {
        let span: Range<usize> = u.span();
        let u = u.into_inner();
        let key = format!("relay.users.{name}");
        let source = match (u.password, u.password_cmd, u.password_env) {
            (Some(p), None, None) => SecretSource::Plain(p),
            (None, Some(c), None) => SecretSource::Cmd(c),
            (None, None, Some(v)) => SecretSource::Env(v),
            _ => {
                return Err(ctx.err(
                    Some(span),
                    &key,
                    "give exactly one of password, password_cmd, password_env",
                ))
            }
        };
        users.insert(name, source);
    }
    Ok(RelayConfig {
        listen: raw.listen.map(Spanned::into_inner),
        transport: raw.transport.map(Spanned::into_inner),
        allow_remote: raw.allow_remote.unwrap_or(false),
        users,
    })
}
