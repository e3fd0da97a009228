//! Identities (`[identity.NAME]`): who a message is from, which transport carries it,
//! its Reply-To, signature and where the sent copy goes. Parsed here so config.rs only
//! hands over the raw tables; resolved here so the engine, the CLI and the composer pick
//! an identity the same way.

use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::config::{
    AuthMech, Config, ConfigError, Ctx, SecretSource, TransportConfig, TransportKind,
};
use crate::engine::{Engine, InputError};
use crate::message::Draft;
use crate::paths::expand_tilde;

/// Longest signature taken from a file or a command; more is an error, not a cut.
pub const SIGNATURE_MAX: usize = 16 * 1024;
/// How long a `signature_cmd` may run.
pub const SIGNATURE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub name: String,
    pub from: Option<String>,
    pub transport: Option<String>,
    pub reply_to: Option<String>,
    pub signature: SignatureSource,
    pub copy_to: Option<CopyTo>,
    pub imap: ImapKeys,
    pub default: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SignatureSource {
    None,
    Text(String),
    File(PathBuf),
    Cmd(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum CopyTo {
    Maildir(PathBuf),
    Imap(ImapTarget),
}

impl CopyTo {
    /// For messages and lists: the Maildir path or the IMAP URL (no secret in either).
    pub fn describe(&self) -> String {
        match self {
            CopyTo::Maildir(p) => p.display().to_string(),
            CopyTo::Imap(t) => t.url(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImapTarget {
    pub user: String,
    pub host: String,
    pub port: Option<u16>,
    pub folder: String,
}

impl ImapTarget {
    pub fn url(&self) -> String {
        let port = self.port.map(|p| format!(":{p}")).unwrap_or_default();
        format!("imap://{}@{}{port}/{}", self.user, self.host, self.folder)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImapSecurity {
    Tls,
    StartTls,
}

/// The `imap_*` keys as written; what is missing falls back to the transport's smtp keys
/// when the copy is made (see `copy::imap`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImapKeys {
    pub security: Option<ImapSecurity>,
    pub ca_file: Option<PathBuf>,
    pub auth: Option<AuthMech>,
    pub password: Option<SecretSource>,
    pub token_cmd: Option<String>,
    pub oauth: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawIdentity {
    from: Option<Spanned<String>>,
    transport: Option<Spanned<String>>,
    reply_to: Option<Spanned<String>>,
    signature: Option<Spanned<String>>,
    signature_file: Option<Spanned<String>>,
    signature_cmd: Option<Spanned<String>>,
    copy_to: Option<Spanned<String>>,
    default: Option<Spanned<bool>>,
    imap_security: Option<Spanned<String>>,
    imap_ca_file: Option<Spanned<String>>,
    imap_auth: Option<Spanned<String>>,
    imap_password: Option<Spanned<String>>,
    imap_password_cmd: Option<Spanned<String>>,
    imap_password_env: Option<Spanned<String>>,
    imap_token_cmd: Option<Spanned<String>>,
    imap_oauth: Option<Spanned<String>>,
}

impl RawIdentity {
    fn imap_keys(&self) -> Vec<(&'static str, Range<usize>)> {
        crate::config::present_keys!(
            self;
            imap_security,
            imap_ca_file,
            imap_auth,
            imap_password,
            imap_password_cmd,
            imap_password_env,
            imap_token_cmd,
            imap_oauth
        )
    }
}

/// Check every `[identity.NAME]` against the transports already parsed.
pub(crate) fn parse_all(
    ctx: &Ctx<'_>,
    raw: std::collections::BTreeMap<String, Spanned<RawIdentity>>,
    transports: &std::collections::BTreeMap<String, TransportConfig>,
) -> Result<std::collections::BTreeMap<String, Identity>, ConfigError> {
    let mut out = std::collections::BTreeMap::new();
    let mut default_seen: Option<String> = None;
    for (name, r) in raw {
        let span = r.span();
        let r = r.into_inner();
        let id = parse_one(ctx, &name, span, &r, transports)?;
        if id.default {
            if let Some(first) = &default_seen {
                let at = r.default.as_ref().map(|d| d.span());
                return Err(ctx.err(
                    at,
                    &format!("identity.{name}.default"),
                    format!("identity {first:?} is already the default; at most one identity may say default = true"),
                ));
            }
            default_seen = Some(name.clone());
        }
        out.insert(name, id);
    }
    Ok(out)
}

fn parse_one(
    ctx: &Ctx<'_>,
    name: &str,
    span: Range<usize>,
    r: &RawIdentity,
    transports: &std::collections::BTreeMap<String, TransportConfig>,
) -> Result<Identity, ConfigError> {
    let key = |k: &str| format!("identity.{name}.{k}");
    let s = |v: &Option<Spanned<String>>| v.as_ref().map(|x| x.get_ref().clone());
    if let Some(f) = &r.from {
        crate::message::parse_mailbox("From", f.get_ref())
            .map_err(|e| ctx.err(Some(f.span()), &key("from"), e.to_string()))?;
    }
    if let Some(t) = &r.reply_to {
        crate::message::parse_mailboxes("Reply-To", std::slice::from_ref(t.get_ref()))
            .map_err(|e| ctx.err(Some(t.span()), &key("reply_to"), e.to_string()))?;
    }
    if let Some(t) = &r.transport {
        if !transports.contains_key(t.get_ref()) {
            let names: Vec<&str> = transports.keys().map(String::as_str).collect();
            return Err(ctx.err(
                Some(t.span()),
                &key("transport"),
                format!(
                    "no transport named {:?}; configured: {}",
                    t.get_ref(),
                    names.join(", ")
                ),
            ));
        }
    }
    let sigs: Vec<(&str, Range<usize>)> = [
        ("signature", r.signature.as_ref().map(|x| x.span())),
        (
            "signature_file",
            r.signature_file.as_ref().map(|x| x.span()),
        ),
        ("signature_cmd", r.signature_cmd.as_ref().map(|x| x.span())),
    ]
    .into_iter()
    .filter_map(|(k, s)| s.map(|s| (k, s)))
    .collect();
    if sigs.len() > 1 {
        return Err(ctx.err(
            Some(sigs[1].1.clone()),
            &key(sigs[1].0),
            format!(
                "give only one of signature, signature_file, signature_cmd (also set: {})",
                sigs[0].0
            ),
        ));
    }
    let signature = if let Some(t) = &r.signature {
        SignatureSource::Text(t.get_ref().clone())
    } else if let Some(f) = &r.signature_file {
        let p = expand_tilde(f.get_ref());
        if !p.is_file() {
            return Err(ctx.err(
                Some(f.span()),
                &key("signature_file"),
                format!("{} is not a readable file", p.display()),
            ));
        }
        SignatureSource::File(p)
    } else if let Some(c) = &r.signature_cmd {
        SignatureSource::Cmd(c.get_ref().clone())
    } else {
        SignatureSource::None
    };

    let copy_to = match &r.copy_to {
        None => None,
        Some(c) => Some(
            parse_copy_to(c.get_ref()).map_err(|m| ctx.err(Some(c.span()), &key("copy_to"), m))?,
        ),
    };
    let is_imap = matches!(copy_to, Some(CopyTo::Imap(_)));
    if !is_imap {
        if let Some((k, at)) = r.imap_keys().into_iter().next() {
            return Err(ctx.err(
                Some(at),
                &key(k),
                "only used with an IMAP copy_to (\"imap://USER@HOST/FOLDER\")",
            ));
        }
    }
    let security = match &r.imap_security {
        None => None,
        Some(v) => Some(match v.get_ref().as_str() {
            "tls" => ImapSecurity::Tls,
            "starttls" => ImapSecurity::StartTls,
            other => {
                return Err(ctx.err(
                    Some(v.span()),
                    &key("imap_security"),
                    format!("unknown value {other:?}; expected \"tls\" or \"starttls\""),
                ))
            }
        }),
    };
    let auth = match &r.imap_auth {
        None => None,
        Some(v) => Some(match v.get_ref().as_str() {
            "plain" => AuthMech::Plain,
            "login" => AuthMech::Login,
            "xoauth2" => AuthMech::Xoauth2,
            other => {
                return Err(ctx.err(
                    Some(v.span()),
                    &key("imap_auth"),
                    format!(
                        "unknown value {other:?}; expected \"plain\", \"login\" or \"xoauth2\""
                    ),
                ))
            }
        }),
    };
    let pw: Vec<(&str, Range<usize>)> = [
        ("imap_password", r.imap_password.as_ref().map(|x| x.span())),
        (
            "imap_password_cmd",
            r.imap_password_cmd.as_ref().map(|x| x.span()),
        ),
        (
            "imap_password_env",
            r.imap_password_env.as_ref().map(|x| x.span()),
        ),
    ]
    .into_iter()
    .filter_map(|(k, s)| s.map(|s| (k, s)))
    .collect();
    if pw.len() > 1 {
        return Err(ctx.err(
            Some(pw[1].1.clone()),
            &key(pw[1].0),
            format!(
                "give only one of imap_password, imap_password_cmd, imap_password_env (also set: {})",
                pw[0].0
            ),
        ));
    }
    let password = if let Some(p) = &r.imap_password {
        Some(SecretSource::Plain(p.get_ref().clone()))
    } else if let Some(c) = &r.imap_password_cmd {
        Some(SecretSource::Cmd(c.get_ref().clone()))
    } else {
        r.imap_password_env
            .as_ref()
            .map(|e| SecretSource::Env(e.get_ref().clone()))
    };
    if let Some(o) = &r.imap_oauth {
        let ok = matches!(
            transports.get(o.get_ref()).map(|t| &t.kind),
            Some(TransportKind::Gmail(_))
        );
        if !ok {
            return Err(ctx.err(
                Some(o.span()),
                &key("imap_oauth"),
                format!("{:?} is not a transport of kind \"gmail\"", o.get_ref()),
            ));
        }
    }
    let ca_file = r.imap_ca_file.as_ref().map(|c| expand_tilde(c.get_ref()));
    if let (Some(p), Some(c)) = (&ca_file, &r.imap_ca_file) {
        if !p.is_file() {
            return Err(ctx.err(
                Some(c.span()),
                &key("imap_ca_file"),
                format!("{} is not a readable file", p.display()),
            ));
        }
    }
    if r.from.is_none() && r.transport.is_none() {
        return Err(ctx.err(
            Some(span),
            &key("from"),
            "missing; an identity needs a from address (or at least a transport)",
        ));
    }
    Ok(Identity {
        name: name.to_string(),
        from: s(&r.from),
        transport: s(&r.transport),
        reply_to: s(&r.reply_to),
        signature,
        copy_to,
        imap: ImapKeys {
            security,
            ca_file,
            auth,
            password,
            token_cmd: s(&r.imap_token_cmd),
            oauth: s(&r.imap_oauth),
        },
        default: r.default.as_ref().is_some_and(|d| *d.get_ref()),
    })
}

/// `imap://USER@HOST[:PORT]/FOLDER` or a Maildir path.
pub fn parse_copy_to(v: &str) -> Result<CopyTo, String> {
    let v = v.trim();
    if v.is_empty() {
        return Err("is empty; expected a Maildir path or imap://USER@HOST/FOLDER".into());
    }
    if v.len() >= 7 && v[..7].eq_ignore_ascii_case("imap://") {
        let u = url::Url::parse(v).map_err(|e| format!("not an IMAP URL ({e})"))?;
        let dec = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        let user = dec(u.username());
        if user.is_empty() {
            return Err("the IMAP URL needs the login: imap://USER@HOST/FOLDER".into());
        }
        if u.password().is_some() {
            return Err(
                "no password in the URL; use imap_password_cmd or imap_password_env".into(),
            );
        }
        let host = u
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("the IMAP URL has no host")?
            .to_string();
        let folder = dec(u.path().trim_start_matches('/'));
        if folder.is_empty() {
            return Err("the IMAP URL needs a folder: imap://USER@HOST/FOLDER (e.g. /Sent)".into());
        }
        if folder.contains(['\r', '\n', '"', '\\']) || folder.chars().any(char::is_control) {
            return Err(format!(
                "the folder name {folder:?} has characters IMAP cannot take"
            ));
        }
        return Ok(CopyTo::Imap(ImapTarget {
            user,
            host,
            port: u.port(),
            folder,
        }));
    }
    if v.contains("://") {
        return Err(format!(
            "{v:?}: only Maildir paths and imap:// URLs are supported"
        ));
    }
    Ok(CopyTo::Maildir(expand_tilde(v)))
}

impl Config {
    /// The identity named, else the one marked `default = true`, else none.
    pub fn identity(&self, name: Option<&str>) -> Result<Option<&Identity>, String> {
        match name {
            Some(n) => self.identities.get(n).map(Some).ok_or_else(|| {
                let names: Vec<&str> = self.identities.keys().map(String::as_str).collect();
                if names.is_empty() {
                    format!("unknown identity {n:?}: the config has no [identity.NAME] tables")
                } else {
                    format!("unknown identity {n:?}; configured: {}", names.join(", "))
                }
            }),
            None => Ok(self.identities.values().find(|i| i.default)),
        }
    }

    /// Every address that is the user's own: identities, transports, top-level from.
    pub fn own_addresses(&self) -> Vec<String> {
        let mut v = Vec::new();
        let mut add = |f: &Option<String>| {
            if let Some(mb) = f
                .as_deref()
                .and_then(|f| crate::message::parse_mailbox("From", f).ok())
            {
                let a = mb.email.to_string().to_ascii_lowercase();
                if !v.contains(&a) {
                    v.push(a);
                }
            }
        };
        add(&self.from);
        for t in self.transports.values() {
            add(&t.from);
        }
        for i in self.identities.values() {
            add(&i.from);
        }
        v
    }

    /// The identity whose from address is `addr`'s (for messages that only carry their
    /// bytes, like outbox entries).
    pub fn identity_for_address(&self, addr: &str) -> Option<&Identity> {
        self.identities.values().find(|i| {
            i.from
                .as_deref()
                .and_then(|f| crate::message::parse_mailbox("From", f).ok())
                .is_some_and(|mb| mb.email.to_string().eq_ignore_ascii_case(addr))
        })
    }
}

impl Identity {
    /// The signature text (without the `-- ` line), read from where the config says.
    /// Files and commands are bounded in size; a command in time too.
    pub fn signature_text(&self) -> Result<Option<String>, String> {
        let what = format!("identity {:?}", self.name);
        let text = match &self.signature {
            SignatureSource::None => return Ok(None),
            SignatureSource::Text(t) => t.clone(),
            SignatureSource::File(p) => {
                use std::io::Read;
                let f = std::fs::File::open(p).map_err(|e| {
                    format!(
                        "{what} signature_file {}: {}",
                        p.display(),
                        crate::message::io_reason(&e)
                    )
                })?;
                let mut buf = Vec::new();
                f.take(SIGNATURE_MAX as u64 + 1)
                    .read_to_end(&mut buf)
                    .map_err(|e| format!("{what} signature_file {}: {e}", p.display()))?;
                if buf.len() > SIGNATURE_MAX {
                    return Err(format!(
                        "{what} signature_file {}: longer than {SIGNATURE_MAX} bytes",
                        p.display()
                    ));
                }
                String::from_utf8(buf)
                    .map_err(|_| format!("{what} signature_file {}: not UTF-8 text", p.display()))?
            }
            SignatureSource::Cmd(c) => {
                let mut cmd = crate::command::Cmd::new(c.clone(), SIGNATURE_TIMEOUT);
                cmd.max_stdout = SIGNATURE_MAX;
                let shown = crate::escape::quoted(c);
                let out = crate::command::run_blocking(&cmd)
                    .map_err(|e| format!("{what} signature_cmd {shown} {e}"))?;
                if !out.status.success() {
                    return Err(format!(
                        "{what} signature_cmd {shown} exited with {}",
                        out.status
                    ));
                }
                String::from_utf8(out.stdout)
                    .map_err(|_| format!("{what} signature_cmd {shown}: printed non-UTF-8"))?
            }
        };
        let text = text.replace("\r\n", "\n");
        // A signature file may start with its own delimiter; it is added once, here.
        let text = text
            .strip_prefix("-- \n")
            .unwrap_or(&text)
            .trim_end_matches('\n')
            .to_string();
        Ok((!text.trim().is_empty()).then_some(text))
    }
}

impl Engine {
    /// Resolve `--identity NAME` (or the default identity).
    pub fn identity(&self, name: Option<&str>) -> Result<Option<&Identity>, InputError> {
        self.config.identity(name).map_err(InputError::Other)
    }

    /// A new message from the command line or a fresh composer: take the identity's
    /// From (unless one was given), Reply-To and signature. Not for a reopened draft,
    /// whose text already has whatever signature the person left in it.
    pub fn apply_identity(&self, draft: &mut Draft, id: &Identity) -> Result<(), InputError> {
        draft.identity = Some(id.name.clone());
        if draft.from.as_ref().is_none_or(|f| f.trim().is_empty()) {
            draft.from = id.from.clone();
        }
        if draft.reply_to.is_empty() {
            if let Some(r) = &id.reply_to {
                draft.reply_to = vec![r.clone()];
            }
        }
        let sig = id.signature_text().map_err(InputError::Other)?;
        crate::signature::swap(draft, sig.as_deref());
        Ok(())
    }

    /// The transport for a message: the one asked for, else its identity's, else the
    /// configured default.
    pub fn transport_for(
        &self,
        draft: &Draft,
        transport: Option<&str>,
    ) -> Result<&TransportConfig, InputError> {
        if transport.is_none() {
            if let Some(t) = draft
                .identity
                .as_deref()
                .and_then(|n| self.config.identities.get(n))
                .and_then(|i| i.transport.as_deref())
            {
                return self.transport_config(Some(t));
            }
        }
        self.transport_config(transport)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::Paths;
    use std::path::Path;

    fn parse(src: &str) -> Result<Config, ConfigError> {
        let paths = Paths::at(
            PathBuf::from("/nonexistent/c"),
            PathBuf::from("/nonexistent/d"),
        );
        Config::parse(src, Path::new("c.toml"), &paths)
    }

    const BASE: &str =
        "[transport.w]\nkind = \"smtp\"\nhost = \"127.0.0.1\"\nsecurity = \"none\"\n";

    #[test]
    fn parses_an_identity() {
        let c = parse(&format!("{BASE}[identity.work]\nfrom = \"Ada <ada@work.example>\"\ntransport = \"w\"\nreply_to = \"team@work.example\"\nsignature = \"Ada\\nWork Inc.\"\ncopy_to = \"imap://ada%40work.example@imap.work.example:1993/Sent%20Items\"\ndefault = true\n")).unwrap();
        let i = &c.identities["work"];
        assert_eq!(i.transport.as_deref(), Some("w"));
        assert!(i.default);
        assert_eq!(
            i.copy_to,
            Some(CopyTo::Imap(ImapTarget {
                user: "ada@work.example".into(),
                host: "imap.work.example".into(),
                port: Some(1993),
                folder: "Sent Items".into()
            }))
        );
        assert_eq!(c.identity(None).unwrap().unwrap().name, "work");
    }

    #[test]
    fn unknown_transport_names_line_and_key() {
        let e = parse(&format!(
            "{BASE}[identity.x]\nfrom = \"a@b.example\"\ntransport = \"nope\"\n"
        ))
        .unwrap_err();
        assert_eq!(e.line, Some(7));
        assert_eq!(e.key.as_deref(), Some("identity.x.transport"));
        assert!(e.message.contains("nope"), "{e}");
    }

    #[test]
    fn two_defaults_refused() {
        let e = parse(&format!("{BASE}[identity.a]\nfrom = \"a@b.example\"\ndefault = true\n[identity.b]\nfrom = \"b@b.example\"\ndefault = true\n")).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("identity.b.default"));
        assert_eq!(e.line, Some(10));
    }

    #[test]
    fn unknown_key_and_imap_keys_without_imap() {
        let e = parse(&format!(
            "{BASE}[identity.a]\nfrom = \"a@b.example\"\nsignatur = \"x\"\n"
        ))
        .unwrap_err();
        assert_eq!(e.key.as_deref(), Some("identity.a.signatur"));
        assert_eq!(e.line, Some(7));
        let e = parse(&format!(
            "{BASE}[identity.a]\nfrom = \"a@b.example\"\ncopy_to = \"/tmp/m\"\nimap_auth = \"plain\"\n"
        ))
        .unwrap_err();
        assert_eq!(e.key.as_deref(), Some("identity.a.imap_auth"));
    }

    #[test]
    fn bad_copy_to() {
        for bad in [
            "imap://host/Sent",
            "imap://u@host/",
            "imap://u:pw@host/Sent",
            "pop3://u@host/x",
        ] {
            assert!(parse_copy_to(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_copy_to("/m/Sent").unwrap(),
            CopyTo::Maildir(PathBuf::from("/m/Sent"))
        );
    }

    #[test]
    fn two_signature_sources_refused() {
        let e = parse(&format!("{BASE}[identity.a]\nfrom = \"a@b.example\"\nsignature = \"x\"\nsignature_cmd = \"echo y\"\n")).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("identity.a.signature_cmd"));
        assert_eq!(e.line, Some(8));
    }
}
