//! One SMTP transaction on an open session: MAIL FROM with the parameters the message
//! needs, RCPT TO for each recipient (452 splits the rest into further transactions),
//! DATA streamed in chunks, and the kept session reused for the next message.

use std::time::Duration;

use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{MailBodyParameter, MailParameter};
use lettre::transport::smtp::response::Response;

use super::reply::classify;
use super::reuse::{self, close};
use super::{parse_address, timed, SmtpTransport, CHUNK};
use crate::message::Envelope;
use crate::transport::{Progress, ProgressFn, Stage, TransportError};

impl SmtpTransport {
    /// One session: as many transactions as the server needs. A server that answers 452
    /// to some recipients ("too many recipients") gets the message for those it took, then
    /// the rest in further transactions (RFC 5321 §4.5.3.1.10).
    pub(super) async fn transaction(
        &self,
        envelope: &Envelope,
        raw: &[u8],
        progress: ProgressFn<'_>,
    ) -> Result<Response, TransportError> {
        let reuse::Session {
            mut conn,
            unchecked,
        } = self.session(progress).await?;
        let mut mail_sent = false;
        if unchecked {
            let mail = match self.mail_command(&conn, envelope, raw) {
                Ok(m) => m,
                Err(e) => {
                    self.keep(conn).await;
                    return Err(e);
                }
            };
            match self.send_mail(&mut conn, mail).await {
                Ok(()) => mail_sent = true,
                // Nothing was handed over: a session the server dropped while it was
                // kept. The message goes on a new one.
                Err(e) if e.code.is_none() || e.code == Some(421) => {
                    tracing::debug!(transport = %self.name, error = %e, "kept session went stale; reconnecting");
                    tokio::spawn(close(conn, false));
                    conn = self.fresh_session(progress).await?.conn;
                }
                Err(e) => {
                    close(conn, false).await;
                    return Err(e);
                }
            }
        }
        let mut delivered: Vec<String> = Vec::new();
        let mut todo = envelope.clone();
        let res = loop {
            let r = self
                .deliver(
                    &mut conn,
                    &todo,
                    raw,
                    std::mem::take(&mut mail_sent),
                    progress,
                )
                .await;
            match r {
                Ok((r, deferred)) => {
                    delivered.extend(todo.to.iter().filter(|a| !deferred.contains(a)).cloned());
                    if deferred.is_empty() {
                        break Ok(r);
                    }
                    tracing::info!(transport = %self.name, left = deferred.len(), "452 for some recipients: sending them in another transaction");
                    todo.to = deferred;
                }
                Err(mut e) => {
                    e.delivered = delivered;
                    break Err(e);
                }
            }
        };
        match &res {
            // Accepted: kept for the next message; the caller records the delivery at
            // once (no goodbye in between that would widen the window in which a killed
            // process leaves a delivered message unrecorded). `Transport::close` or the
            // next session ends it.
            Ok(_) => self.keep(conn).await,
            Err(_) => close(conn, false).await,
        }
        res
    }

    fn send_err(&self, e: lettre::transport::smtp::Error) -> TransportError {
        let mut t = classify(self.cfg.security, Stage::Send, &e);
        t.stage = Stage::Send;
        t
    }

    /// MAIL FROM for this envelope, with the parameters the message needs; refused here
    /// when the server lacks an extension the message cannot go without.
    fn mail_command(
        &self,
        conn: &AsyncSmtpConnection,
        envelope: &Envelope,
        raw: &[u8],
    ) -> Result<Mail, TransportError> {
        let mut params = Vec::new();
        if !raw.is_ascii() {
            params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        // Non-ASCII addresses (RFC 6531), and raw UTF-8 in the headers (RFC 6532), need
        // SMTPUTF8 on MAIL FROM; without it a server may refuse or mangle them. (8-bit
        // bodies only need the 8BITMIME above.)
        let utf8: Vec<&str> = std::iter::once(&envelope.from)
            .chain(&envelope.to)
            .filter(|a| !a.is_ascii())
            .map(String::as_str)
            .collect();
        let head_end = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or(raw.len());
        if !utf8.is_empty() || !raw[..head_end].is_ascii() {
            use lettre::transport::smtp::extension::Extension;
            if !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
                let what = if utf8.is_empty() {
                    "the message has non-ASCII headers".to_string()
                } else {
                    format!("non-ASCII address {}", utf8.join(", "))
                };
                return Err(TransportError::new(
                    Stage::Send,
                    false,
                    format!(
                        "{what}, and {} does not support SMTPUTF8 (RFC 6531)",
                        self.cfg.host
                    ),
                ));
            }
            params.push(MailParameter::SmtpUtfEight);
        }
        Ok(Mail::new(Some(parse_address(&envelope.from)?), params))
    }

    async fn send_mail(
        &self,
        conn: &mut AsyncSmtpConnection,
        mail: Mail,
    ) -> Result<(), TransportError> {
        timed(Stage::Send, self.timeout(), "MAIL FROM", async {
            conn.command(mail).await.map_err(|e| self.send_err(e))
        })
        .await
        .map(drop)
    }

    /// One transaction on `conn`; `mail_sent`: its MAIL FROM was already accepted.
    async fn deliver(
        &self,
        conn: &mut AsyncSmtpConnection,
        envelope: &Envelope,
        raw: &[u8],
        mail_sent: bool,
        progress: ProgressFn<'_>,
    ) -> Result<(Response, Vec<String>), TransportError> {
        let send_err = |e| self.send_err(e);
        let limit = self.timeout();
        if !mail_sent {
            let mail = self.mail_command(conn, envelope, raw)?;
            self.send_mail(conn, mail).await?;
        }
        let mut accepted = 0usize;
        let mut deferred: Vec<String> = Vec::new();
        for (i, rcpt) in envelope.to.iter().enumerate() {
            let addr = parse_address(rcpt)?;
            let r = timed(Stage::Send, limit, "RCPT TO", async {
                conn.command(Rcpt::new(addr, vec![])).await.map_err(|e| {
                    let mut t = send_err(e);
                    t.message = format!("recipient {rcpt}: {}", t.message);
                    t
                })
            })
            .await;
            match r {
                Ok(_) => accepted += 1,
                // Too many recipients for one transaction: the rest go in the next one.
                Err(e) if e.code == Some(452) && accepted > 0 => {
                    deferred = envelope.to[i..].to_vec();
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        timed(Stage::Send, limit, "DATA", async {
            conn.command(Data).await.map_err(send_err)
        })
        .await?;
        let total = raw.len() as u64;
        let mut sent = 0u64;
        // lettre ends DATA with "\r\n.\r\n" whatever the message ends with, so a message
        // that already ends in CRLF would arrive with an extra empty line (and a single-part
        // body one line longer). Hand it over without its last CRLF and let the terminator
        // supply it: the server then stores exactly `raw`.
        let body = raw.strip_suffix(b"\r\n").unwrap_or(raw);
        // Set once every chunk was written: from then on a lost connection means the
        // server may have the whole message, and may have delivered it.
        let all_written = std::sync::atomic::AtomicBool::new(false);
        let chunks = body
            .chunks(CHUNK)
            .inspect(|c| {
                progress(Progress::Sending { sent, total });
                sent += c.len() as u64;
            })
            .chain(std::iter::from_fn(|| {
                all_written.store(true, std::sync::atomic::Ordering::Relaxed);
                progress(Progress::Submitted);
                None
            }));
        // The body may legitimately take a while on a slow link: allow 64 KiB/s on top.
        let body_limit = limit + Duration::from_secs(total / (64 * 1024));
        let r = timed(Stage::Send, body_limit, "the message body", async {
            conn.message_iter(chunks).await.map_err(send_err)
        })
        .await
        .map_err(|mut e| {
            if all_written.load(std::sync::atomic::Ordering::Relaxed) && e.code.is_none() {
                e.uncertain = true;
                e.message = format!(
                    "{} — after the whole message was handed over, so it may have been delivered",
                    e.message
                );
            }
            e
        })?;
        progress(Progress::Sending { sent: total, total });
        Ok((r, deferred))
    }
}
