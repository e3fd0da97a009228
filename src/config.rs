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
mod transport;
pub use contacts::ContactsConfig;
pub use relay::RelayConfig;
use transport::{transport, RawTransport};
/// The keys of a raw table that are present, with their spans: `present_keys!(self; a, b)`
/// for `Option<Spanned<_>>` fields `a` and `b`, so a key can be named where it is wrong.
macro_rules! present_keys {
    ($raw:ident; $($f:ident),* $(,)?) => {{
        let mut v = Vec::new();
        $( if let Some(s) = &$raw.$f { v.push((stringify!($f), s.span())); } )*
        v
    }};
}
pub(crate) use present_keys;

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
        let Some(keys) = kind.as_deref().and_then(transport::keys_of) else {
            return message.to_string();
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
