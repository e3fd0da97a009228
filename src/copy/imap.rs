//! The sent copy by IMAP APPEND (with `\Seen`), over tokio-rustls: implicit TLS or
//! STARTTLS, the same trust store and `ca_file` handling as SMTP. async-imap speaks the
//! protocol; this module bounds it (total time, bytes read from the server) and keeps
//! secrets out of its errors.

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use async_imap::Client;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::config::{AuthMech, SecretSource};
use crate::identity::{ImapSecurity, ImapTarget};
use crate::secret::Secret;
use crate::transport::smtp::TokenProvider;

/// Everything a server may say to us during one APPEND session; a server that talks
/// more is cut off.
pub const READ_MAX: u64 = 1024 * 1024;

/// A copy target with every key resolved (the identity's `imap_*` keys, else its
/// transport's smtp keys).
#[derive(Clone)]
pub struct ImapSettings {
    pub target: ImapTarget,
    pub security: ImapSecurity,
    pub port: u16,
    pub ca_file: Option<PathBuf>,
    pub auth: AuthMech,
    pub password: SecretSource,
    pub token: Option<Arc<dyn TokenProvider>>,
    /// Connect and per-step limit; the whole session gets a multiple of it.
    pub timeout: Duration,
    /// Who asks, for error messages ("identity \"work\"").
    pub label: String,
}

/// A stream that refuses to read more than `left` bytes in total.
#[derive(Debug)]
struct Capped<S> {
    inner: S,
    left: u64,
}

impl<S: AsyncRead + Unpin> AsyncRead for Capped<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.left == 0 {
            return Poll::Ready(Err(std::io::Error::other(format!(
                "the server sent more than {READ_MAX} bytes"
            ))));
        }
        let before = buf.filled().len();
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        let got = (buf.filled().len() - before) as u64;
        self.left = self.left.saturating_sub(got);
        res
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Capped<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// SASL PLAIN / XOAUTH2: one response, then nothing (a server that challenges again
/// after a failure gets an empty answer and says NO).
struct OneShot(String);

impl async_imap::Authenticator for OneShot {
    type Response = String;
    fn process(&mut self, _challenge: &[u8]) -> String {
        std::mem::take(&mut self.0)
    }
}

/// Modified UTF-7 (RFC 3501 §5.1.3), the encoding IMAP wants for non-ASCII folder names.
pub fn mailbox_utf7(name: &str) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
    let mut out = String::new();
    let mut run: Vec<u16> = Vec::new();
    let flush = |run: &mut Vec<u16>, out: &mut String| {
        if run.is_empty() {
            return;
        }
        let bytes: Vec<u8> = run.iter().flat_map(|u| u.to_be_bytes()).collect();
        out.push('&');
        out.push_str(&b64.encode(bytes).replace('/', ","));
        out.push('-');
        run.clear();
    };
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut run, &mut out);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut buf = [0u16; 2];
            run.extend_from_slice(c.encode_utf16(&mut buf));
        }
    }
    flush(&mut run, &mut out);
    out
}

struct Creds {
    user: String,
    mech: AuthMech,
    secret: Secret,
}

async fn credentials(s: &ImapSettings) -> Result<Creds, String> {
    let user = s.target.user.clone();
    if s.auth == AuthMech::Xoauth2 {
        let p = s.token.as_ref().ok_or_else(|| {
            format!(
                "{}: imap_auth = \"xoauth2\" needs imap_token_cmd or imap_oauth (or token_cmd/oauth on its transport)",
                s.label
            )
        })?;
        let (t, _) = p.access_token().await.map_err(|e| e.to_string())?;
        return Ok(Creds {
            user,
            mech: AuthMech::Xoauth2,
            secret: t,
        });
    }
    let pw = crate::secret::resolve(&s.password, &s.label, s.timeout)
        .await?
        .ok_or_else(|| {
            format!(
                "{}: no IMAP password: set imap_password_cmd or imap_password_env (or a password on its transport)",
                s.label
            )
        })?;
    Ok(Creds {
        user,
        mech: s.auth,
        secret: pw,
    })
}

/// Append `raw` to the target folder, flagged `\Seen`.
pub async fn append(s: &ImapSettings, raw: &[u8]) -> Result<(), String> {
    let creds = credentials(s).await?;
    // Generous for a slow link, but never forever: 4 steps plus the upload at 20 kB/s.
    let total = s.timeout * 4 + Duration::from_secs(raw.len() as u64 / 20_000);
    let res = tokio::time::timeout(total, session(s, &creds, raw))
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {}s", total.as_secs())));
    res.map_err(|e| {
        // A server may echo what it was sent.
        let e = e.replace(creds.secret.expose(), "<redacted>");
        format!("IMAP {}: {e}", s.target.url())
    })
}

async fn session(s: &ImapSettings, creds: &Creds, raw: &[u8]) -> Result<(), String> {
    let host = s.target.host.as_str();
    let tcp = tokio::time::timeout(s.timeout, TcpStream::connect((host, s.port)))
        .await
        .map_err(|_| format!("connecting to {host}:{} timed out", s.port))?
        .map_err(|e| format!("connecting to {host}:{}: {e}", s.port))?;
    let capped = Capped {
        inner: tcp,
        left: READ_MAX,
    };
    let config =
        crate::transport::tls_probe::client_config(s.ca_file.as_deref()).map_err(|e| e.message)?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name = rustls_pki_types::ServerName::try_from(host.trim_matches(['[', ']']).to_string())
        .map_err(|e| format!("{host:?} is not a valid server name: {e}"))?;
    let tls = match s.security {
        ImapSecurity::Tls => connector
            .connect(name, capped)
            .await
            .map_err(|e| format!("TLS: {}", crate::transport::error_chain(&e)))?,
        ImapSecurity::StartTls => {
            let mut c = Client::new(capped);
            greeting(&mut c).await?;
            c.run_command_and_check_ok("STARTTLS", None)
                .await
                .map_err(|e| format!("STARTTLS refused: {e}"))?;
            connector
                .connect(name, c.into_inner())
                .await
                .map_err(|e| format!("TLS: {}", crate::transport::error_chain(&e)))?
        }
    };
    let mut client = Client::new(tls);
    if s.security == ImapSecurity::Tls {
        greeting(&mut client).await?;
    }
    let user = &creds.user;
    let pw = creds.secret.expose();
    let login = match creds.mech {
        AuthMech::Login => client.login(user, pw).await,
        AuthMech::Plain => {
            client
                .authenticate("PLAIN", OneShot(format!("\0{user}\0{pw}")))
                .await
        }
        AuthMech::Xoauth2 => {
            client
                .authenticate(
                    "XOAUTH2",
                    OneShot(format!("user={user}\x01auth=Bearer {pw}\x01\x01")),
                )
                .await
        }
    };
    let mut session = login.map_err(|(e, _)| format!("login as {user:?} refused: {e}"))?;
    let folder = mailbox_utf7(&s.target.folder);
    let first = session.append(&folder, Some("(\\Seen)"), None, raw).await;
    let res = match first {
        // A missing folder is refused before the upload starts (async-imap then says
        // `Append`; RFC 3501 §6.3.11 says TRYCREATE): create it, as mail programs do,
        // and try once more.
        Err(e)
            if matches!(e, async_imap::error::Error::Append)
                || e.to_string().contains("TRYCREATE") =>
        {
            match session.create(&folder).await {
                Ok(()) => session.append(&folder, Some("(\\Seen)"), None, raw).await,
                Err(c) => {
                    return Err(format!(
                        "APPEND to {:?} was refused, and creating it failed: {c}",
                        s.target.folder
                    ))
                }
            }
        }
        r => r,
    };
    res.map_err(|e| format!("APPEND to {:?} failed: {e}", s.target.folder))?;
    let _ = session.logout().await;
    Ok(())
}

async fn greeting<T>(c: &mut Client<T>) -> Result<(), String>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    match c.read_response().await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err("the server closed the connection before its greeting".into()),
        Err(e) => Err(format!("reading the greeting: {e}")),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn modified_utf7() {
        assert_eq!(super::mailbox_utf7("Sent"), "Sent");
        assert_eq!(super::mailbox_utf7("A&B"), "A&-B");
        // RFC 3501's example.
        assert_eq!(
            super::mailbox_utf7("~peter/mail/台北/日本語"),
            "~peter/mail/&U,BTFw-/&ZeVnLIqe-"
        );
    }
}
