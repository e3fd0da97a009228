//! `missive check` reports the TLS version and cipher, which lettre's connection does not
//! expose; this opens a separate connection just far enough to complete the handshake.

use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::{Stage, TransportError};
use crate::config::{Security, SmtpConfig};

/// What rustls says when the far end answers a TLS hello in plain text (an SMTP greeting).
pub const NOT_TLS_MARKERS: &[&str] = &["InvalidContentType", "corrupt message"];
pub const NOT_TLS_HINT: &str = " (the server answered in plain text, not TLS: if it expects \
STARTTLS, usually on port 587, set security = \"starttls\")";

/// Why a server may stay silent: it waits for a TLS hello we are not sending.
pub fn silent_hint(security: Security) -> &'static str {
    if security == Security::Tls {
        ""
    } else {
        " (a server that expects TLS from the first byte, usually on port 465, waits \
silently: if so, set security = \"tls\")"
    }
}

fn tls_err(m: impl Into<String>) -> TransportError {
    TransportError::new(Stage::Tls, false, m)
}

pub fn client_config(
    ca_file: Option<&std::path::Path>,
) -> Result<rustls::ClientConfig, TransportError> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    if let Some(ca) = ca_file {
        let pem =
            crate::regular_file::read(ca, crate::regular_file::MAX_CONFIG_FILE).map_err(|e| {
                TransportError::user(Stage::Config, format!("ca_file {}: {e}", ca.display()))
            })?;
        count_pem_certificates(ca, &pem)?;
        for c in CertificateDer::pem_slice_iter(&pem) {
            let c = c.map_err(|e| {
                TransportError::user(Stage::Config, format!("ca_file {}: {e}", ca.display()))
            })?;
            roots.add(c).map_err(|e| {
                TransportError::user(Stage::Config, format!("ca_file {}: {e}", ca.display()))
            })?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// How many PEM certificates `pem` (read from `path`) holds; none is a config error.
pub fn count_pem_certificates(path: &std::path::Path, pem: &[u8]) -> Result<usize, TransportError> {
    let mut n = 0;
    for c in CertificateDer::pem_slice_iter(pem) {
        c.map_err(|e| {
            TransportError::user(
                Stage::Config,
                format!("ca_file {}: unreadable PEM: {e}", path.display()),
            )
        })?;
        n += 1;
    }
    if n == 0 {
        return Err(TransportError::user(
            Stage::Config,
            format!(
                "ca_file {}: no certificate in it (expected PEM with -----BEGIN CERTIFICATE-----)",
                path.display()
            ),
        ));
    }
    Ok(n)
}

/// Longest reply line and whole (multi-line) reply taken from a server, as on the send
/// path: past these a server is misbehaving, and reading on would buffer without end.
pub const MAX_LINE: usize = 4 * 1024;
pub const MAX_REPLY: usize = 64 * 1024;

async fn read_reply(r: &mut BufReader<TcpStream>) -> Result<(u16, String), TransportError> {
    let bad = |m: String| TransportError::new(Stage::Connect, false, m);
    let mut all = String::new();
    loop {
        let mut line = Vec::new();
        let n = (&mut *r)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
            .await
            .map_err(|e| TransportError::new(Stage::Connect, true, e.to_string()))?;
        if n == 0 {
            return Err(TransportError::new(
                Stage::Connect,
                true,
                "connection closed by server",
            ));
        }
        if line.len() > MAX_LINE {
            return Err(bad(format!(
                "the server sent a reply line over {MAX_LINE} bytes; not an SMTP server?"
            )));
        }
        let text = String::from_utf8_lossy(&line);
        let code = text.get(..3).and_then(|c| c.parse::<u16>().ok());
        let sep = line.get(3).copied();
        if code.is_none() || !matches!(sep, Some(b' ' | b'-' | b'\r' | b'\n') | None) {
            return Err(bad(format!(
                "the server's reply is not SMTP (expected a 3-digit code): {}",
                crate::escape::quoted(text.trim_end())
            )));
        }
        all.push_str(&text);
        if all.len() > MAX_REPLY {
            return Err(bad(format!(
                "the server sent a reply over {MAX_REPLY} bytes; not an SMTP server?"
            )));
        }
        if sep != Some(b'-') {
            return Ok((code.unwrap_or(0), all));
        }
    }
}

/// Returns a line like "TLS 1.3, TLS13_AES_256_GCM_SHA384, certificate for smtp.example.com verified".
pub async fn probe(cfg: &SmtpConfig) -> Result<String, TransportError> {
    let timeout = Duration::from_secs(cfg.timeout_secs.max(1));
    let config = client_config(cfg.ca_file.as_deref())?;
    let fut = async {
        let tcp = TcpStream::connect((cfg.host.as_str(), cfg.port))
            .await
            .map_err(|e| {
                TransportError::new(
                    Stage::Connect,
                    true,
                    format!("{}:{}: {e}", cfg.host, cfg.port),
                )
            })?;
        let tcp = if cfg.security == Security::StartTls {
            let mut r = BufReader::new(tcp);
            read_reply(&mut r).await?;
            r.get_mut()
                .write_all(b"EHLO missive.check\r\n")
                .await
                .map_err(|e| TransportError::new(Stage::Connect, true, e.to_string()))?;
            let (_, ehlo) = read_reply(&mut r).await?;
            if !ehlo.to_ascii_uppercase().contains("STARTTLS") {
                return Err(tls_err(format!("{} does not offer STARTTLS", cfg.host)));
            }
            r.get_mut()
                .write_all(b"STARTTLS\r\n")
                .await
                .map_err(|e| TransportError::new(Stage::Connect, true, e.to_string()))?;
            let (code, text) = read_reply(&mut r).await?;
            if code != 220 {
                return Err(tls_err(format!("STARTTLS refused: {}", text.trim())));
            }
            r.into_inner()
        } else {
            tcp
        };
        let name = ServerName::try_from(cfg.host.clone())
            .map_err(|e| tls_err(format!("{}: {e}", cfg.host)))?;
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let mut tls = connector.connect(name, tcp).await.map_err(|e| {
            let msg = e.to_string();
            let hint = if cfg.security == Security::Tls
                && NOT_TLS_MARKERS.iter().any(|m| msg.contains(m))
            {
                NOT_TLS_HINT
            } else {
                ""
            };
            tls_err(format!("handshake with {}: {msg}{hint}", cfg.host))
        })?;
        let (_, conn) = tls.get_ref();
        let version = match conn.protocol_version() {
            Some(rustls::ProtocolVersion::TLSv1_3) => "TLS 1.3".to_string(),
            Some(rustls::ProtocolVersion::TLSv1_2) => "TLS 1.2".to_string(),
            Some(v) => format!("{v:?}"),
            None => "TLS".to_string(),
        };
        let suite = conn
            .negotiated_cipher_suite()
            .map(|s| format!("{:?}", s.suite()))
            .unwrap_or_default();
        let _ = tls.shutdown().await;
        Ok(format!(
            "{version}, {suite}, certificate for {} verified",
            cfg.host
        ))
    };
    tokio::time::timeout(timeout, fut).await.map_err(|_| {
        TransportError::new(
            Stage::Connect,
            true,
            format!(
                "no answer from {}:{} within {timeout:?}{}",
                cfg.host,
                cfg.port,
                silent_hint(cfg.security)
            ),
        )
    })?
}
