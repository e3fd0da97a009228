//! One `[transport.NAME]` table: its keys, which of them each kind takes, and the typed
//! transport it stands for.

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::*;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTransport {
    kind: Option<Spanned<String>>,
    from: Option<Spanned<String>>,
    host: Option<Spanned<String>>,
    port: Option<Spanned<u16>>,
    security: Option<Spanned<String>>,
    username: Option<Spanned<String>>,
    password: Option<Spanned<String>>,
    password_cmd: Option<Spanned<String>>,
    password_env: Option<Spanned<String>>,
    keyring: Option<Spanned<bool>>,
    auth: Option<Spanned<String>>,
    token_cmd: Option<Spanned<String>>,
    oauth: Option<Spanned<String>>,
    ca_file: Option<Spanned<String>>,
    allow_insecure: Option<Spanned<bool>>,
    timeout: Option<Spanned<u64>>,
    client_secret: Option<Spanned<String>>,
    api_url: Option<Spanned<String>>,
    user: Option<Spanned<String>>,
    client_id: Option<Spanned<String>>,
    tenant: Option<Spanned<String>>,
    authority: Option<Spanned<String>>,
    dir: Option<Spanned<String>>,
    command: Option<Spanned<String>>,
}

impl RawTransport {
    /// Every key present, with its span, so keys foreign to a kind can be named.
    fn present(&self) -> Vec<(&'static str, Range<usize>)> {
        crate::config::present_keys!(
            self;
            from,
            host,
            port,
            security,
            username,
            password,
            password_cmd,
            password_env,
            keyring,
            auth,
            token_cmd,
            oauth,
            ca_file,
            allow_insecure,
            timeout,
            client_secret,
            api_url,
            user,
            client_id,
            tenant,
            authority,
            dir,
            command
        )
    }
}

const SMTP_KEYS: &[&str] = &[
    "from",
    "host",
    "port",
    "security",
    "username",
    "password",
    "password_cmd",
    "password_env",
    "keyring",
    "auth",
    "token_cmd",
    "oauth",
    "ca_file",
    "allow_insecure",
    "timeout",
];
const GMAIL_KEYS: &[&str] = &["from", "client_secret", "api_url", "user", "timeout"];
const OUTLOOK_KEYS: &[&str] = &[
    "from",
    "client_id",
    "tenant",
    "authority",
    "api_url",
    "timeout",
];
// `timeout` is taken by every kind (for the file transport it has nothing to bound yet,
// but a config that sets it everywhere must not be refused).
const FILE_KEYS: &[&str] = &["from", "dir", "timeout"];
const SENDMAIL_KEYS: &[&str] = &["from", "command", "timeout"];

/// The keys a transport of `kind` takes (besides `kind`), or None for an unknown kind.
pub(super) fn keys_of(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "smtp" => SMTP_KEYS,
        "gmail" => GMAIL_KEYS,
        "outlook" => OUTLOOK_KEYS,
        "file" => FILE_KEYS,
        "sendmail" => SENDMAIL_KEYS,
        _ => return None,
    })
}

pub(super) fn transport(
    ctx: &Ctx<'_>,
    name: &str,
    span: Range<usize>,
    t: RawTransport,
    paths: &Paths,
) -> Result<TransportConfig, ConfigError> {
    let key = |k: &str| format!("transport.{name}.{k}");
    let Some(kind) = &t.kind else {
        return Err(ctx.err(
            Some(span),
            &key("kind"),
            "missing; expected one of \"smtp\", \"gmail\", \"outlook\", \"file\", \"sendmail\"",
        ));
    };
    let Some(allowed) = keys_of(kind.get_ref()) else {
        return Err(ctx.err(
            Some(kind.span()),
            &key("kind"),
            format!("unknown kind {:?}; expected one of \"smtp\", \"gmail\", \"outlook\", \"file\", \"sendmail\"", kind.get_ref()),
        ));
    };
    for (k, s) in t.present() {
        if !allowed.contains(&k) {
            return Err(ctx.err(
                Some(s),
                &key(k),
                format!(
                    "not used by kind {:?}; its keys are: {}",
                    kind.get_ref(),
                    allowed.join(", ")
                ),
            ));
        }
    }
    if let Some(f) = &t.from {
        check_from(ctx, &key("from"), f)?;
    }
    let from = t.from.as_ref().map(|f| f.get_ref().clone());
    let s = |v: &Option<Spanned<String>>| v.as_ref().map(|x| x.get_ref().clone());
    let tk = match kind.get_ref().as_str() {
        "smtp" => {
            let host = t.host.as_ref().ok_or_else(|| {
                ctx.err(
                    Some(span.clone()),
                    &key("host"),
                    "missing; the SMTP server's host name",
                )
            })?;
            if host.get_ref().trim().is_empty() {
                return Err(ctx.err(Some(host.span()), &key("host"), "is empty"));
            }
            let security = match t.security.as_ref() {
                None => match t.port.as_ref().map(|p| *p.get_ref()) {
                    Some(465) => Security::Tls,
                    Some(25) if is_loopback(host.get_ref()) => Security::None,
                    _ => Security::StartTls,
                },
                Some(v) => match v.get_ref().as_str() {
                    "starttls" => Security::StartTls,
                    "tls" => Security::Tls,
                    "none" => Security::None,
                    other => {
                        return Err(ctx.err(
                            Some(v.span()),
                            &key("security"),
                            format!(
                            "unknown value {other:?}; expected \"starttls\", \"tls\" or \"none\""
                        ),
                        ))
                    }
                },
            };
            let port = t
                .port
                .as_ref()
                .map(|p| *p.get_ref())
                .unwrap_or(match security {
                    Security::StartTls => 587,
                    Security::Tls => 465,
                    Security::None => 25,
                });
            let allow_insecure = t.allow_insecure.as_ref().is_some_and(|b| *b.get_ref());
            if security == Security::None && !allow_insecure && !is_loopback(host.get_ref()) {
                let at = t.security.as_ref().map(|v| v.span()).unwrap_or(host.span());
                return Err(ctx.err(
                    Some(at),
                    &key("security"),
                    format!(
                        "\"none\" sends the password and message in clear text; it is allowed only to a loopback host, not {:?}, unless allow_insecure = true",
                        host.get_ref()
                    ),
                ));
            }
            let auth = match t.auth.as_ref() {
                None => {
                    if t.token_cmd.is_some() || t.oauth.is_some() {
                        AuthMech::Xoauth2
                    } else {
                        AuthMech::Plain
                    }
                }
                Some(v) => match v.get_ref().as_str() {
                    "plain" => AuthMech::Plain,
                    "login" => AuthMech::Login,
                    "xoauth2" => AuthMech::Xoauth2,
                    other => {
                        return Err(ctx.err(
                            Some(v.span()),
                            &key("auth"),
                            format!(
                            "unknown value {other:?}; expected \"plain\", \"login\" or \"xoauth2\""
                        ),
                        ))
                    }
                },
            };
            let sources: Vec<(&str, Range<usize>)> = [
                ("password", t.password.as_ref().map(|x| x.span())),
                ("password_cmd", t.password_cmd.as_ref().map(|x| x.span())),
                ("password_env", t.password_env.as_ref().map(|x| x.span())),
                (
                    "keyring",
                    t.keyring
                        .as_ref()
                        .filter(|k| *k.get_ref())
                        .map(|x| x.span()),
                ),
            ]
            .into_iter()
            .filter_map(|(k, s)| s.map(|s| (k, s)))
            .collect();
            if sources.len() > 1 {
                return Err(ctx.err(
                    Some(sources[1].1.clone()),
                    &key(sources[1].0),
                    format!("give only one of password, password_cmd, password_env, keyring (also set: {})", sources[0].0),
                ));
            }
            let password = if let Some(p) = &t.password {
                SecretSource::Plain(p.get_ref().clone())
            } else if let Some(c) = &t.password_cmd {
                SecretSource::Cmd(c.get_ref().clone())
            } else if let Some(e) = &t.password_env {
                SecretSource::Env(e.get_ref().clone())
            } else if t.keyring.as_ref().is_some_and(|k| *k.get_ref()) {
                SecretSource::Keyring
            } else {
                SecretSource::None
            };
            if auth == AuthMech::Xoauth2 {
                if t.token_cmd.is_none() && t.oauth.is_none() {
                    return Err(ctx.err(
                        Some(t.auth.as_ref().map(|a| a.span()).unwrap_or(span.clone())),
                        &key("auth"),
                        "\"xoauth2\" needs token_cmd (a command that prints an access token) or oauth (the name of a gmail or outlook transport)",
                    ));
                }
                if t.username.is_none() {
                    return Err(ctx.err(
                        Some(span.clone()),
                        &key("username"),
                        "missing; xoauth2 needs the account's address",
                    ));
                }
            } else if password != SecretSource::None && t.username.is_none() {
                return Err(ctx.err(
                    Some(span.clone()),
                    &key("username"),
                    "missing; a password is set but no username",
                ));
            } else if t.username.is_some() && password == SecretSource::None {
                return Err(ctx.err(
                    Some(span.clone()),
                    &key("password_cmd"),
                    "username is set but no password source: add password_cmd, password_env or password",
                ));
            }
            let ca_file = t.ca_file.as_ref().map(|c| expand_tilde(c.get_ref()));
            if let (Some(p), Some(c)) = (&ca_file, &t.ca_file) {
                if !p.is_file() {
                    return Err(ctx.err(
                        Some(c.span()),
                        &key("ca_file"),
                        format!("{} is not a readable file", p.display()),
                    ));
                }
            }
            TransportKind::Smtp(SmtpConfig {
                host: host.get_ref().clone(),
                port,
                security,
                username: s(&t.username),
                password,
                auth,
                token_cmd: s(&t.token_cmd),
                oauth: s(&t.oauth),
                ca_file,
                allow_insecure,
                timeout_secs: t.timeout.as_ref().map(|x| *x.get_ref()).unwrap_or(30),
            })
        }
        "gmail" => {
            let cs = t.client_secret.as_ref().ok_or_else(|| {
                ctx.err(
                    Some(span.clone()),
                    &key("client_secret"),
                    "missing; the path of the Desktop-app OAuth client JSON downloaded from the Google Cloud console",
                )
            })?;
            if let Some(u) = &t.api_url {
                match url::Url::parse(u.get_ref()) {
                    Err(_) => {
                        return Err(ctx.err(Some(u.span()), &key("api_url"), "is not a URL"))
                    }
                    Ok(url) if !secure_web_url(&url) => {
                        return Err(ctx.err(
                            Some(u.span()),
                            &key("api_url"),
                            "must be an https URL (plain http only to localhost): the access token is sent there",
                        ))
                    }
                    Ok(_) => {}
                }
            }
            TransportKind::Gmail(GmailConfig {
                client_secret: expand_tilde(cs.get_ref()),
                api_url: s(&t.api_url),
                user: s(&t.user).unwrap_or_else(|| "me".to_string()),
                timeout_secs: t.timeout.as_ref().map(|x| *x.get_ref()).unwrap_or(60),
            })
        }
        "outlook" => outlook(ctx, &key, span.clone(), &t)?,
        "file" => TransportKind::File(FileConfig {
            dir: t
                .dir
                .as_ref()
                .map(|d| expand_tilde(d.get_ref()))
                .unwrap_or_else(|| paths.sent_dir()),
        }),
        _ => TransportKind::Sendmail(SendmailConfig {
            command: s(&t.command).unwrap_or_else(|| "/usr/sbin/sendmail".to_string()),
            timeout_secs: t.timeout.as_ref().map(|x| *x.get_ref()).unwrap_or(60),
        }),
    };
    Ok(TransportConfig {
        name: name.to_string(),
        from,
        kind: tk,
    })
}

fn outlook(
    ctx: &Ctx<'_>,
    key: &dyn Fn(&str) -> String,
    span: Range<usize>,
    t: &RawTransport,
) -> Result<TransportKind, ConfigError> {
    use crate::oauth::microsoft::{valid_tenant, DEFAULT_AUTHORITY, DEFAULT_TENANT};
    let id = t.client_id.as_ref().ok_or_else(|| {
        ctx.err(
            Some(span.clone()),
            &key("client_id"),
            "missing; the Application (client) ID of your app registration in the Microsoft Entra admin center (see the README)",
        )
    })?;
    let client_id = id.get_ref().trim().to_string();
    if client_id.is_empty()
        || client_id
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(ctx.err(
            Some(id.span()),
            &key("client_id"),
            "is not an Application (client) ID (e.g. \"00000000-0000-0000-0000-000000000000\")",
        ));
    }
    let tenant = match &t.tenant {
        None => DEFAULT_TENANT.to_string(),
        Some(v) if valid_tenant(v.get_ref()) => v.get_ref().clone(),
        Some(v) => return Err(ctx.err(
            Some(v.span()),
            &key("tenant"),
            "expected \"common\", \"organizations\", \"consumers\", a tenant id or a tenant domain",
        )),
    };
    let web_url = |v: &Spanned<String>, k: &str| -> Result<String, ConfigError> {
        match url::Url::parse(v.get_ref()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && !secure_web_url(&u) => Err(ctx.err(
                Some(v.span()),
                &key(k),
                "must be an https URL (plain http only to localhost): tokens are sent there",
            )),
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
                let mut s = v.get_ref().clone();
                if !s.ends_with('/') {
                    s.push('/');
                }
                Ok(s)
            }
            _ => Err(ctx.err(Some(v.span()), &key(k), "is not an http(s) URL")),
        }
    };
    let authority = match &t.authority {
        Some(a) => web_url(a, "authority")?,
        None => DEFAULT_AUTHORITY.to_string(),
    };
    let api_url = t
        .api_url
        .as_ref()
        .map(|a| web_url(a, "api_url"))
        .transpose()?;
    Ok(TransportKind::Outlook(OutlookConfig {
        client_id,
        tenant,
        authority,
        api_url,
        timeout_secs: t.timeout.as_ref().map(|x| *x.get_ref()).unwrap_or(60),
    }))
}
