//! Typed configuration. Errors name the file, the line and the key.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::paths::{expand_tilde, Paths};

mod contacts;
mod relay;
pub use contacts::ContactsConfig;
pub use relay::RelayConfig;
/// A config file larger than this is refused unread (it would be a mistake: `--config
/// /dev/zero`, a mail spool).
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// The built-in transport used when the config names none.
pub const BUILTIN_FILE: &str = "file";

#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        if let Some(k) = &self.key {
            write!(f, ": key `{k}`")?;
        }
        // Messages may echo a value from the file: no raw control characters, and no
        // megabyte-long lines.
        write!(f, ": {}", crate::escape::cut(&self.message, 1000))
    }
}

impl std::error::Error for ConfigError {}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The file this came from, if any.
    pub path: Option<PathBuf>,
    pub default: Option<String>,
    pub from: Option<String>,
    pub transports: BTreeMap<String, TransportConfig>,
    /// `[identity.NAME]` tables (see `identity`).
    pub identities: BTreeMap<String, crate::identity::Identity>,
    /// Non-fatal findings (e.g. a plain password in a world-readable file).
    pub warnings: Vec<String>,
    pub relay: RelayConfig,
    /// `aliases`, `address_book_cmd`, `address_book_timeout`.
    pub contacts: ContactsConfig,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TransportConfig {
    pub name: String,
    pub from: Option<String>,
    pub kind: TransportKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TransportKind {
    Smtp(SmtpConfig),
    Gmail(GmailConfig),
    Outlook(OutlookConfig),
    File(FileConfig),
    Sendmail(SendmailConfig),
}

impl TransportKind {
    pub fn name(&self) -> &'static str {
        match self {
            TransportKind::Smtp(_) => "smtp",
            TransportKind::Gmail(_) => "gmail",
            TransportKind::Outlook(_) => "outlook",
            TransportKind::File(_) => "file",
            TransportKind::Sendmail(_) => "sendmail",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    StartTls,
    Tls,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMech {
    Plain,
    Login,
    Xoauth2,
}

/// Where a password comes from. The value itself is only read when sending.
#[derive(Clone, PartialEq)]
pub enum SecretSource {
    None,
    Cmd(String),
    Env(String),
    Plain(String),
    Keyring,
}

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::None => write!(f, "None"),
            SecretSource::Cmd(c) => write!(f, "Cmd({c:?})"),
            SecretSource::Env(v) => write!(f, "Env({v:?})"),
            SecretSource::Plain(_) => write!(f, "Plain(<redacted>)"),
            SecretSource::Keyring => write!(f, "Keyring"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: Option<String>,
    pub password: SecretSource,
    pub auth: AuthMech,
    pub token_cmd: Option<String>,
    /// Name of a gmail or outlook transport whose OAuth login supplies XOAUTH2 tokens.
    pub oauth: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub allow_insecure: bool,
    /// Connect and per-command timeout, seconds.
    pub timeout_secs: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GmailConfig {
    pub client_secret: PathBuf,
    pub api_url: Option<String>,
    pub user: String,
    pub timeout_secs: u64,
}

/// `kind = "outlook"`: Microsoft Graph sendMail with a Microsoft login.
#[derive(Debug, Clone, PartialEq)]
pub struct OutlookConfig {
    /// The app registration's Application (client) ID; a public client.
    pub client_id: String,
    /// "common", "organizations", "consumers", a tenant id or domain.
    pub tenant: String,
    /// The identity platform's root, ending in `/`.
    pub authority: String,
    pub api_url: Option<String>,
    pub timeout_secs: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FileConfig {
    pub dir: PathBuf,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SendmailConfig {
    pub command: String,
    /// The command's whole run, seconds; its process group is killed after it.
    pub timeout_secs: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    default: Option<Spanned<String>>,
    from: Option<Spanned<String>>,
    #[serde(default)]
    transport: BTreeMap<String, Spanned<RawTransport>>,
    #[serde(default)]
    identity: BTreeMap<String, Spanned<crate::identity::RawIdentity>>,
    relay: Option<relay::RawRelay>,
    aliases: Option<Spanned<String>>,
    address_book_cmd: Option<Spanned<String>>,
    address_book_timeout: Option<Spanned<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTransport {
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
        macro_rules! keys {
            ($($f:ident),*) => {{
                let mut v = Vec::new();
                $( if let Some(s) = &self.$f { v.push((stringify!($f), s.span())); } )*
                v
            }};
        }
        keys!(
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

pub(crate) struct Ctx<'a> {
    path: &'a Path,
    src: &'a str,
}

impl Ctx<'_> {
    fn line(&self, span: Range<usize>) -> usize {
        let end = span.start.min(self.src.len());
        self.src[..end].bytes().filter(|&b| b == b'\n').count() + 1
    }

    pub(crate) fn err(
        &self,
        span: Option<Range<usize>>,
        key: &str,
        message: impl Into<String>,
    ) -> ConfigError {
        ConfigError {
            path: self.path.to_path_buf(),
            line: span.map(|s| self.line(s)),
            key: Some(key.to_string()),
            message: message.into(),
        }
    }

    /// The key written on the line a toml error points at (`port = "x"` → `port`).
    /// The key written on the line a toml error points at (`port = "x"` → `port`),
    /// with the table it sits in (`transport.work.port`).
    fn key_at(&self, span: &Range<usize>) -> Option<String> {
        let start = self.src[..span.start.min(self.src.len())]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let line = self.src[start..].lines().next()?;
        let (k, _) = line.split_once('=')?;
        let k = k.trim().trim_matches('"');
        if k.is_empty() || k.starts_with('[') {
            return None;
        }
        Some(match self.table_at(start) {
            Some(t) => format!("{t}.{k}"),
            None => k.to_string(),
        })
    }

    /// The `[table]` header above byte `pos`, if any.
    fn table_at(&self, pos: usize) -> Option<String> {
        self.src[..pos]
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| l.starts_with('[') && !l.starts_with("[["))
            .map(|l| l.trim_matches(['[', ']']).trim().replace('"', ""))
    }

    /// serde lists every key any kind takes; name only those of this transport's kind.
    fn unknown_key_message(&self, message: &str, span: &Range<usize>) -> String {
        let Some(field) = message
            .strip_prefix("unknown field `")
            .and_then(|m| m.split('`').next())
        else {
            return message.to_string();
        };
        let start = self.src[..span.start.min(self.src.len())]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let kind = self.table_at(start).and_then(|t| {
            let name = t.strip_prefix("transport.")?;
            let doc: toml::Table = toml::from_str(self.src).ok()?;
            doc.get("transport")?
                .get(name)?
                .get("kind")?
                .as_str()
                .map(str::to_string)
        });
        let keys = match kind.as_deref() {
            Some("smtp") => SMTP_KEYS,
            Some("gmail") => GMAIL_KEYS,
            Some("outlook") => OUTLOOK_KEYS,
            Some("file") => FILE_KEYS,
            Some("sendmail") => SENDMAIL_KEYS,
            _ => return message.to_string(),
        };
        format!(
            "unknown key `{field}`; a transport of kind {:?} takes: kind, {}",
            kind.unwrap_or_default(),
            keys.join(", ")
        )
    }
}

impl Config {
    /// No file: only the built-in file transport.
    pub fn builtin(paths: &Paths) -> Config {
        let mut c = Config {
            path: None,
            default: None,
            from: None,
            transports: BTreeMap::new(),
            identities: BTreeMap::new(),
            warnings: Vec::new(),
            relay: RelayConfig::default(),
            contacts: ContactsConfig::default(),
        };
        c.add_builtin(paths);
        c
    }

    fn add_builtin(&mut self, paths: &Paths) {
        self.transports
            .entry(BUILTIN_FILE.to_string())
            .or_insert_with(|| TransportConfig {
                name: BUILTIN_FILE.to_string(),
                from: None,
                kind: TransportKind::File(FileConfig {
                    dir: paths.sent_dir(),
                }),
            });
    }

    /// Load `path` if given (it must exist), else the default location if it exists,
    /// else the built-in config.
    pub fn load(explicit: Option<&Path>, paths: &Paths) -> Result<Config, ConfigError> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => {
                let p = paths.config_file();
                // Only "nothing there at all" means no config. A dangling symlink or an
                // unreadable file is a config the user meant to have: silently sending
                // via the built-in file transport would tell a script the mail went out.
                match std::fs::symlink_metadata(&p) {
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        return Ok(Config::builtin(paths))
                    }
                    _ => p,
                }
            }
        };
        let bytes =
            crate::regular_file::read(&path, MAX_CONFIG_BYTES).map_err(|e| ConfigError {
                path: path.clone(),
                line: None,
                key: None,
                message: format!("cannot read: {e}"),
            })?;
        let src = String::from_utf8(bytes).map_err(|e| ConfigError {
            path: path.clone(),
            line: None,
            key: None,
            message: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
        })?;
        let mut cfg = Config::parse(&src, &path, paths)?;
        if cfg
            .transports
            .values()
            .any(|t| matches!(&t.kind, TransportKind::Smtp(s) if matches!(s.password, SecretSource::Plain(_))))
            && readable_by_others(&path)
        {
            cfg.warnings.push(format!(
                "{} holds a plain password and is readable by others; run `chmod 600 {}` or use password_cmd",
                path.display(),
                path.display()
            ));
        }
        Ok(cfg)
    }

    pub fn parse(src: &str, path: &Path, paths: &Paths) -> Result<Config, ConfigError> {
        let ctx = Ctx { path, src };
        let raw: RawConfig = toml::from_str(src).map_err(|e| {
            let span = e.span();
            ConfigError {
                path: path.to_path_buf(),
                line: span.clone().map(|s| ctx.line(s)),
                key: span.as_ref().and_then(|s| ctx.key_at(s)),
                message: match &span {
                    Some(s) => ctx.unknown_key_message(e.message().trim(), s),
                    None => e.message().trim().to_string(),
                },
            }
        })?;

        let mut transports = BTreeMap::new();
        for (name, t) in raw.transport {
            let span = t.span();
            let t = t.into_inner();
            let tc = transport(&ctx, &name, span, t, paths)?;
            transports.insert(name, tc);
        }
        if let Some(from) = &raw.from {
            check_from(&ctx, "from", from)?;
        }
        let mut cfg = Config {
            path: Some(path.to_path_buf()),
            default: raw.default.as_ref().map(|d| d.get_ref().clone()),
            from: raw.from.map(|f| f.into_inner()),
            transports,
            identities: BTreeMap::new(),
            warnings: Vec::new(),
            relay: RelayConfig::default(),
            contacts: contacts::contacts(
                &ctx,
                raw.aliases,
                raw.address_book_cmd,
                raw.address_book_timeout,
            )?,
        };
        cfg.add_builtin(paths);
        cfg.identities = crate::identity::parse_all(&ctx, raw.identity, &cfg.transports)?;
        if let Some(r) = raw.relay {
            cfg.relay = relay::relay(&ctx, r, &cfg.transport_names())?;
        }
        if let Some(d) = &raw.default {
            if !cfg.transports.contains_key(d.get_ref()) {
                return Err(ctx.err(
                    Some(d.span()),
                    "default",
                    format!(
                        "no transport named {:?}; configured: {}",
                        d.get_ref(),
                        cfg.transport_names().join(", ")
                    ),
                ));
            }
        }
        // xoauth2 via `oauth` must point at a transport with an OAuth login.
        for t in cfg.transports.values() {
            if let TransportKind::Smtp(s) = &t.kind {
                if let Some(o) = &s.oauth {
                    let ok = matches!(
                        cfg.transports.get(o).map(|t| &t.kind),
                        Some(TransportKind::Gmail(_) | TransportKind::Outlook(_))
                    );
                    if !ok {
                        return Err(ConfigError {
                            path: path.to_path_buf(),
                            line: find_key_line(src, &t.name, "oauth"),
                            key: Some(format!("transport.{}.oauth", t.name)),
                            message: format!(
                                "{o:?} is not a transport of kind \"gmail\" or \"outlook\" (the transport whose OAuth login this smtp transport borrows)"
                            ),
                        });
                    }
                }
            }
        }
        Ok(cfg)
    }

    pub fn transport_names(&self) -> Vec<String> {
        self.transports.keys().cloned().collect()
    }

    /// The transport to use when none is chosen.
    pub fn default_transport(&self) -> Result<&TransportConfig, String> {
        if let Some(d) = &self.default {
            return self
                .transports
                .get(d)
                .ok_or_else(|| format!("default transport {d:?} is not configured"));
        }
        let user: Vec<&TransportConfig> = self
            .transports
            .values()
            .filter(|t| t.name != BUILTIN_FILE)
            .collect();
        match user.as_slice() {
            [] => self
                .transports
                .get(BUILTIN_FILE)
                .ok_or_else(|| "no transport configured".to_string()),
            [only] => Ok(only),
            _ => Err(format!(
                "several transports are configured and none is the default: set `default = \"NAME\"` in {} or pass --transport ({})",
                self.path
                    .as_deref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                self.transport_names().join(", ")
            )),
        }
    }

    pub fn transport(&self, name: Option<&str>) -> Result<&TransportConfig, String> {
        match name {
            None => self.default_transport(),
            Some(n) => self.transports.get(n).ok_or_else(|| {
                format!(
                    "unknown transport {n:?}; configured: {}",
                    self.transport_names().join(", ")
                )
            }),
        }
    }
}

fn find_key_line(src: &str, transport: &str, key: &str) -> Option<usize> {
    let header = format!("[transport.{transport}]");
    let mut inside = false;
    for (i, line) in src.lines().enumerate() {
        let l = line.trim();
        if l.starts_with('[') {
            inside = l == header || l == format!("[transport.\"{transport}\"]");
        } else if inside && l.split('=').next().map(str::trim) == Some(key) {
            return Some(i + 1);
        }
    }
    None
}

fn check_from(ctx: &Ctx<'_>, key: &str, v: &Spanned<String>) -> Result<(), ConfigError> {
    crate::message::parse_mailbox("From", v.get_ref())
        .map(|_| ())
        .map_err(|e| ctx.err(Some(v.span()), key, e.to_string()))
}

fn readable_by_others(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path)
            .map(|m| m.permissions().mode() & 0o077 != 0)
            .unwrap_or(false)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

/// Where secrets (a bearer token, a refresh token, a client secret) may be sent: https,
/// or plain http to this machine only (local test servers).
pub fn secure_web_url(u: &url::Url) -> bool {
    match u.scheme() {
        "https" => u.host().is_some(),
        "http" => u.host_str().is_some_and(is_loopback),
        _ => false,
    }
}

pub fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if h.eq_ignore_ascii_case("localhost") {
        return true;
    }
    h.parse::<std::net::IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

fn transport(
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
    let allowed = match kind.get_ref().as_str() {
        "smtp" => SMTP_KEYS,
        "gmail" => GMAIL_KEYS,
        "outlook" => OUTLOOK_KEYS,
        "file" => FILE_KEYS,
        "sendmail" => SENDMAIL_KEYS,
        other => {
            return Err(ctx.err(
                Some(kind.span()),
                &key("kind"),
                format!("unknown kind {other:?}; expected one of \"smtp\", \"gmail\", \"outlook\", \"file\", \"sendmail\""),
            ))
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> Result<Config, ConfigError> {
        let paths = Paths::at(
            PathBuf::from("/nonexistent/cfg"),
            PathBuf::from("/nonexistent/data"),
        );
        Config::parse(src, Path::new("c.toml"), &paths)
    }

    #[test]
    fn unknown_key_names_line_and_key() {
        let e = parse("default = \"w\"\n[transport.w]\nkind = \"smtp\"\nhost = \"h\"\nprot = 25\n")
            .unwrap_err();
        assert_eq!(e.line, Some(5));
        assert_eq!(e.key.as_deref(), Some("transport.w.prot"));
        assert!(e.message.contains("kind \"smtp\" takes"), "{e}");
        assert!(!e.message.contains("client_secret"), "{e}");
    }

    #[test]
    fn wrong_type_names_key() {
        let e = parse("[transport.w]\nkind = \"smtp\"\nhost = \"h\"\nport = \"x\"\n").unwrap_err();
        assert_eq!(e.line, Some(4));
        assert_eq!(e.key.as_deref(), Some("transport.w.port"));
    }

    #[test]
    fn missing_host() {
        let e = parse("[transport.w]\nkind = \"smtp\"\n").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("transport.w.host"));
        assert_eq!(e.line, Some(1));
    }

    #[test]
    fn unknown_kind() {
        let e = parse("[transport.w]\nkind = \"pigeon\"\n").unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("pigeon"));
    }

    #[test]
    fn foreign_key_for_kind() {
        let e = parse("[transport.w]\nkind = \"file\"\nhost = \"x\"\n").unwrap_err();
        assert_eq!(e.line, Some(3));
        assert_eq!(e.key.as_deref(), Some("transport.w.host"));
    }

    #[test]
    fn insecure_refused_off_loopback() {
        let e = parse(
            "[transport.w]\nkind = \"smtp\"\nhost = \"mail.example.com\"\nsecurity = \"none\"\n",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(4));
        assert!(parse(
            "[transport.w]\nkind = \"smtp\"\nhost = \"127.0.0.1\"\nsecurity = \"none\"\n"
        )
        .is_ok());
        assert!(parse("[transport.w]\nkind = \"smtp\"\nhost = \"m.example\"\nsecurity = \"none\"\nallow_insecure = true\n").is_ok());
    }

    #[test]
    fn tokens_go_only_to_https_or_loopback() {
        let gmail = |url: &str| {
            parse(&format!(
                "[transport.g]\nkind = \"gmail\"\nclient_secret = \"/x.json\"\napi_url = \"{url}\"\n"
            ))
        };
        let e = gmail("http://gmail.example/").unwrap_err();
        assert!(e.message.contains("https"), "{e}");
        assert_eq!(e.line, Some(4));
        assert!(gmail("http://127.0.0.1:9/").is_ok());
        assert!(gmail("https://gmail.example/").is_ok());
        let outlook = |key: &str, url: &str| {
            parse(&format!(
                "[transport.o]\nkind = \"outlook\"\nclient_id = \"00000000-0000-0000-0000-000000000000\"\n{key} = \"{url}\"\n"
            ))
        };
        for key in ["api_url", "authority"] {
            assert!(outlook(key, "http://graph.example/").is_err(), "{key}");
            assert!(outlook(key, "http://localhost:9/").is_ok(), "{key}");
        }
    }

    #[test]
    fn defaults_and_builtin() {
        let c =
            parse("[transport.w]\nkind = \"smtp\"\nhost = \"h\"\nsecurity = \"tls\"\n").unwrap();
        let TransportKind::Smtp(s) = &c.transports["w"].kind else {
            panic!()
        };
        assert_eq!(s.port, 465);
        assert!(c.transports.contains_key(BUILTIN_FILE));
        assert_eq!(c.default_transport().unwrap().name, "w");
    }

    #[test]
    fn outlook_keys() {
        let c = parse("[transport.o]\nkind = \"outlook\"\nclient_id = \"abc\"\ntenant = \"organizations\"\nauthority = \"http://127.0.0.1:9\"\n\n[transport.s]\nkind = \"smtp\"\nhost = \"smtp.office365.com\"\nusername = \"a@b.c\"\noauth = \"o\"\n").unwrap();
        let TransportKind::Outlook(o) = &c.transports["o"].kind else {
            panic!()
        };
        assert_eq!(o.authority, "http://127.0.0.1:9/");
        assert_eq!(o.tenant, "organizations");
        let e = parse("[transport.o]\nkind = \"outlook\"\ntenant = \"common\"\n").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("transport.o.client_id"));
        let e = parse("[transport.o]\nkind = \"outlook\"\nclient_id = \"x\"\ntenant = \"a/b\"\n")
            .unwrap_err();
        assert_eq!(
            (e.line, e.key.as_deref()),
            (Some(4), Some("transport.o.tenant"))
        );
        let e = parse("[transport.o]\nkind = \"outlook\"\nclient_id = \"x\"\nhost = \"h\"\n")
            .unwrap_err();
        assert_eq!(e.key.as_deref(), Some("transport.o.host"));
        assert!(e.message.contains("client_id, tenant, authority"), "{e}");
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let c = parse("[transport.w]\nkind = \"smtp\"\nhost = \"h\"\nusername = \"u\"\npassword = \"hunter2\"\n").unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn example_config_parses() {
        let c = parse(include_str!("../assets/config.example.toml")).unwrap();
        assert_eq!(c.default.as_deref(), Some("gmail"));
        assert!(
            matches!(c.transports["gmail-smtp"].kind, TransportKind::Smtp(ref s) if s.auth == AuthMech::Xoauth2)
        );
        assert!(matches!(
            c.transports["outlook"].kind,
            TransportKind::Outlook(_)
        ));
        assert!(
            matches!(c.transports["outlook-smtp"].kind, TransportKind::Smtp(ref s) if s.oauth.as_deref() == Some("outlook"))
        );
        assert_eq!(c.transports.len(), 8);
    }
}
