//! SMTP over tokio + rustls, with lettre's connection doing the protocol. We drive the
//! connection step by step (rather than `AsyncSmtpTransport::send`) so failures name the
//! step, 4xx answers can be retried, and DATA streams in chunks with progress instead of
//! copying the whole message once more.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use lettre::address::Address;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;

mod reply;
mod reuse;
mod transaction;
mod xoauth2;
use xoauth2::xoauth2 as auth_xoauth2;

pub use reply::parse_queue_id;
use reply::{classify, describe, response_text};
use reuse::close;
pub use xoauth2::{CmdToken, TokenProvider};

use super::guarded::{Guarded, Watch};
use super::{CheckReport, Progress, ProgressFn, Receipt, Stage, Transport, TransportError};
use crate::config::{AuthMech, Security, SmtpConfig};
use crate::message::Envelope;
use crate::secret;

pub struct SmtpTransport {
    pub name: String,
    pub cfg: SmtpConfig,
    pub token: Option<Arc<dyn TokenProvider>>,
    /// The session of the last delivery, kept for the next message (a flush of many, a
    /// relay): one connection for consecutive messages, as lettre's pool does.
    idle: tokio::sync::Mutex<Option<(AsyncSmtpConnection, Instant)>>,
}

/// Attempts for a transaction answered with 4xx, and the pause before each retry.
const RETRY_DELAYS: &[Duration] = &[Duration::from_secs(1), Duration::from_secs(3)];
/// DATA is written in pieces of this size: bounded extra memory and a progress tick each.
const CHUNK: usize = 256 * 1024;

/// lettre applies its timeout to connecting only; every later step gets one here, so a
/// server that stalls mid-conversation fails the send instead of hanging it.
fn parse_address(a: &str) -> Result<Address, TransportError> {
    a.parse::<Address>()
        .map_err(|e| TransportError::new(Stage::Send, false, format!("address {a:?}: {e}")))
}

async fn timed<T>(
    stage: Stage,
    limit: Duration,
    what: &str,
    fut: impl std::future::Future<Output = Result<T, TransportError>>,
) -> Result<T, TransportError> {
    tokio::time::timeout(limit, fut).await.unwrap_or_else(|_| {
        Err(TransportError::new(
            stage,
            true,
            format!("no answer to {what} within {limit:?}"),
        ))
    })
}

impl SmtpTransport {
    pub fn new(name: String, cfg: SmtpConfig, token: Option<Arc<dyn TokenProvider>>) -> Self {
        SmtpTransport {
            name,
            cfg,
            token,
            idle: tokio::sync::Mutex::new(None),
        }
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.cfg.timeout_secs.max(1))
    }

    fn tls_params(&self) -> Result<TlsParameters, TransportError> {
        let mut b = TlsParameters::builder(self.cfg.host.clone());
        if let Some(ca) = &self.cfg.ca_file {
            let pem = crate::regular_file::read(ca, crate::regular_file::MAX_CONFIG_FILE).map_err(
                |e| TransportError::user(Stage::Config, format!("ca_file {}: {e}", ca.display())),
            )?;
            // lettre takes a file without any certificate in it and trusts nothing more,
            // which would surface later as a puzzling "unknown issuer".
            crate::transport::tls_probe::count_pem_certificates(ca, &pem)?;
            let cert = Certificate::from_pem(&pem).map_err(|e| {
                TransportError::user(
                    Stage::Config,
                    format!(
                        "ca_file {}: not a PEM certificate: {}",
                        ca.display(),
                        describe(&e)
                    ),
                )
            })?;
            b = b.add_root_certificate(cert);
        }
        b.build_rustls()
            .map_err(|e| TransportError::new(Stage::Tls, false, describe(&e)))
    }

    async fn credentials(
        &self,
    ) -> Result<Option<(Credentials, Mechanism, String)>, TransportError> {
        match self.cfg.auth {
            AuthMech::Xoauth2 => {
                let provider = self.token.as_ref().ok_or_else(|| {
                    TransportError::user(Stage::Config, "xoauth2 without token_cmd or oauth")
                })?;
                let (token, info) = provider.access_token().await?;
                let user = self.cfg.username.clone().unwrap_or_default();
                crate::redact::register_encoded(
                    format!("user={user}\x01auth=Bearer {}\x01\x01", token.expose()).as_bytes(),
                );
                Ok(Some((
                    Credentials::new(user, token.expose().to_string()),
                    Mechanism::Xoauth2,
                    info,
                )))
            }
            mech => {
                let Some(user) = &self.cfg.username else {
                    return Ok(None);
                };
                let pw = secret::resolve(&self.cfg.password, &self.name, self.timeout())
                    .await
                    .map_err(|m| TransportError::user(Stage::Secret, m))?
                    .ok_or_else(|| TransportError::user(Stage::Config, "no password source"))?;
                let m = if mech == AuthMech::Login {
                    Mechanism::Login
                } else {
                    Mechanism::Plain
                };
                // What AUTH PLAIN sends (RFC 4616, empty authzid), as a server may echo it.
                crate::redact::register_encoded(format!("\0{user}\0{}", pw.expose()).as_bytes());
                Ok(Some((
                    Credentials::new(user.clone(), pw.expose().to_string()),
                    m,
                    String::new(),
                )))
            }
        }
    }

    /// TCP (and implicit TLS), then the greeting and EHLO, on a `Guarded` socket so that
    /// no reply can grow without end or keep the task from its timeouts.
    async fn connect(
        &self,
        addr: (&str, u16),
        hello: &ClientId,
        implicit: Option<rustls::ClientConfig>,
        watch: Arc<Watch>,
    ) -> Result<AsyncSmtpConnection, TransportError> {
        use lettre::transport::smtp::client::AsyncTokioStream;
        let at = format!("{}:{}", self.cfg.host, self.cfg.port);
        let tcp = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| TransportError::new(Stage::Connect, true, format!("{at}: {e}")))?;
        // Commands are small writes each waiting for a reply: with Nagle's algorithm and
        // the server's delayed ACK, each one would stall ~40 ms.
        let _ = tcp.set_nodelay(true);
        let peer = tcp
            .peer_addr()
            .map_err(|e| TransportError::new(Stage::Connect, true, format!("{at}: {e}")))?;
        let stream: Box<dyn AsyncTokioStream> = match implicit {
            None => Box::new(Guarded::new(tcp, peer, watch)),
            Some(config) => {
                let tls_err = |m: String| TransportError::new(Stage::Tls, false, m);
                let name = rustls_pki_types::ServerName::try_from(self.cfg.host.clone())
                    .map_err(|e| tls_err(format!("{}: {e}", self.cfg.host)))?;
                let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
                    .connect(name, tcp)
                    .await
                    .map_err(|e| {
                        let msg = super::error_chain(&e);
                        let hint = if crate::transport::tls_probe::NOT_TLS_MARKERS
                            .iter()
                            .any(|m| msg.contains(m))
                        {
                            crate::transport::tls_probe::NOT_TLS_HINT
                        } else {
                            ""
                        };
                        tls_err(format!("{at}: TLS handshake: {msg}{hint}"))
                    })?;
                Box::new(Guarded::new(tls, peer, watch))
            }
        };
        AsyncSmtpConnection::connect_with_transport(stream, hello)
            .await
            .map_err(|e| {
                let mut t = classify(self.cfg.security, Stage::Connect, &e);
                t.message = format!("{at}: {}", t.message);
                t
            })
    }

    /// Connect, secure, authenticate. Returns the open connection and what was negotiated.
    async fn open(
        &self,
        progress: ProgressFn<'_>,
    ) -> Result<(AsyncSmtpConnection, Vec<String>), TransportError> {
        let mut notes = Vec::new();
        let hello = ClientId::default();
        let addr = (self.cfg.host.as_str(), self.cfg.port);
        progress(Progress::Connecting);
        let implicit = match self.cfg.security {
            Security::Tls => Some(crate::transport::tls_probe::client_config(
                self.cfg.ca_file.as_deref(),
            )?),
            _ => None,
        };
        let starttls = match self.cfg.security {
            Security::StartTls => Some(self.tls_params()?),
            _ => None,
        };
        let watch = Arc::new(Watch::default());
        let connect = self.connect(addr, &hello, implicit, watch.clone());
        let mut conn = tokio::time::timeout(self.timeout() + Duration::from_secs(1), connect)
            .await
            .map_err(|_| {
                let got = watch.bytes_read.load(std::sync::atomic::Ordering::Relaxed);
                let (what, why) = if got > 0 {
                    // It talked, but never finished a greeting and EHLO reply.
                    (
                        "no complete answer",
                        format!(
                            " (it sent {got} bytes without completing its greeting and EHLO reply)"
                        ),
                    )
                } else {
                    (
                        "no answer",
                        crate::transport::tls_probe::silent_hint(self.cfg.security).to_string(),
                    )
                };
                TransportError::new(
                    Stage::Connect,
                    true,
                    format!(
                        "{what} from {}:{} within {:?}{why}",
                        self.cfg.host,
                        self.cfg.port,
                        self.timeout(),
                    ),
                )
            })??;
        notes.push(format!("connected to {}:{}", self.cfg.host, self.cfg.port));
        match self.cfg.security {
            Security::Tls => notes.push("implicit TLS".into()),
            Security::StartTls => {
                let params = starttls
                    .ok_or_else(|| TransportError::new(Stage::Tls, false, "no TLS parameters"))?;
                if !conn.can_starttls() {
                    close(conn, false).await;
                    return Err(TransportError::new(
                        Stage::Tls,
                        false,
                        format!(
                            "{} does not offer STARTTLS; refusing to send in clear text (set security = \"tls\" for port 465)",
                            self.cfg.host
                        ),
                    ));
                }
                watch
                    .encrypted_below
                    .store(true, std::sync::atomic::Ordering::Relaxed);
                timed(Stage::Tls, self.timeout(), "STARTTLS", async {
                    conn.starttls(params, &hello).await.map_err(|e| {
                        let mut t = classify(self.cfg.security, Stage::Tls, &e);
                        t.stage = Stage::Tls;
                        t
                    })
                })
                .await?;
                notes.push("STARTTLS".into());
            }
            Security::None => notes.push("no TLS (plain text, loopback or allow_insecure)".into()),
        }
        if let Some((creds, mech, info)) = self.credentials().await? {
            progress(Progress::Authenticating);
            if !conn.server_info().supports_auth_mechanism(mech) {
                let offered: Vec<String> = [Mechanism::Plain, Mechanism::Login, Mechanism::Xoauth2]
                    .into_iter()
                    .filter(|m| conn.server_info().supports_auth_mechanism(*m))
                    .map(|m| m.to_string())
                    .collect();
                let hint = if offered.is_empty() && self.cfg.security == Security::None {
                    " (many servers offer AUTH only over TLS: try security = \"starttls\")"
                } else {
                    ""
                };
                close(conn, false).await;
                return Err(TransportError::user(
                    Stage::Auth,
                    format!(
                        "{} does not offer AUTH {mech} (it offers: {}){hint}; set auth = \"plain\", \"login\" or \"xoauth2\" to match",
                        self.cfg.host,
                        if offered.is_empty() {
                            "no AUTH at all".to_string()
                        } else {
                            offered.join(", ")
                        }
                    ),
                ));
            }
            let auth_err = |e: lettre::transport::smtp::Error| {
                let mut t = classify(self.cfg.security, Stage::Auth, &e);
                t.stage = Stage::Auth;
                // A refused login does not fix itself by waiting.
                if e.is_permanent() {
                    t.transient = false;
                }
                t
            };
            timed(Stage::Auth, self.timeout(), "AUTH", async {
                if mech == Mechanism::Xoauth2 {
                    let user = self.cfg.username.as_deref().unwrap_or("");
                    auth_xoauth2(&mut conn, &creds, user, auth_err).await
                } else {
                    conn.auth(&[mech], &creds)
                        .await
                        .map(|_| ())
                        .map_err(auth_err)
                }
            })
            .await?;
            notes.push(format!(
                "AUTH {mech} accepted for {}",
                self.cfg.username.as_deref().unwrap_or("")
            ));
            if !info.is_empty() {
                notes.push(info);
            }
        }
        Ok((conn, notes))
    }
}

impl Transport for SmtpTransport {
    fn kind(&self) -> &'static str {
        "smtp"
    }

    fn send<'a>(
        &'a self,
        envelope: &'a Envelope,
        raw: &'a [u8],
        progress: ProgressFn<'a>,
    ) -> BoxFuture<'a, Result<Receipt, TransportError>> {
        Box::pin(async move {
            let mut attempt = 0;
            let mut todo = envelope.clone();
            let mut delivered: Vec<String> = Vec::new();
            loop {
                match self.transaction(&todo, raw, progress).await {
                    Ok(r) => {
                        let response = response_text(&r);
                        return Ok(Receipt {
                            server_id: parse_queue_id(&response),
                            response: Some(response),
                            ..Default::default()
                        });
                    }
                    // Only a 4xx reply is retried here: a dropped connection may or may not
                    // have delivered, so it goes to the outbox for an explicit flush.
                    Err(e) if matches!(e.code, Some(400..=499)) && attempt < RETRY_DELAYS.len() => {
                        tracing::info!(transport = %self.name, attempt, error = %e, "4xx answer, retrying");
                        todo.to.retain(|a| !e.delivered.contains(a));
                        delivered.extend(e.delivered);
                        progress(Progress::Waiting);
                        tokio::time::sleep(RETRY_DELAYS[attempt]).await;
                        attempt += 1;
                    }
                    Err(mut e) => {
                        delivered.append(&mut e.delivered);
                        e.delivered = delivered;
                        return Err(e);
                    }
                }
            }
        })
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if let Some((conn, _)) = self.idle.lock().await.take() {
                close(conn, true).await;
            }
        })
    }

    fn check(&self) -> BoxFuture<'_, Result<CheckReport, TransportError>> {
        Box::pin(async move {
            let mut lines = Vec::new();
            if self.cfg.security != Security::None {
                lines.push(crate::transport::tls_probe::probe(&self.cfg).await?);
            }
            let (conn, notes) = self.open(&super::no_progress).await?;
            lines.extend(notes);
            if self.cfg.username.is_none() {
                lines.push("no authentication configured".into());
            }
            close(conn, true).await;
            Ok(CheckReport { lines })
        })
    }
}
