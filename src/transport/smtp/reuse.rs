//! One connection for consecutive messages: the session of the last delivery is kept,
//! used at once for the next message or checked with RSET when it idled, and closed when
//! it is old or the transport is.

use std::time::{Duration, Instant};

use lettre::transport::smtp::client::AsyncSmtpConnection;

use super::SmtpTransport;
use crate::transport::{ProgressFn, TransportError};

/// A kept session older than this is closed rather than reused: servers drop idle
/// clients after a minute or so (Postfix: 300 s, many providers less), and a silently
/// dropped one would cost a whole timeout to notice.
const IDLE_REUSE: Duration = Duration::from_secs(20);

/// End a session: QUIT (or lettre's abort, which also sends QUIT) and close, but never
/// wait long for the goodbye. lettre waits for the reply to QUIT with no time limit, so a
/// server that stalled (the reason we are giving up) would keep the send hanging until it
/// closed the connection itself.
pub(super) async fn close(mut conn: AsyncSmtpConnection, ok: bool) {
    let limit = Duration::from_secs(2);
    if ok {
        let _ = tokio::time::timeout(limit, conn.quit()).await;
    } else {
        let _ = tokio::time::timeout(limit, conn.abort()).await;
    }
}

/// A session that delivered this recently is used as it is, without the RSET round
/// trip (a completed transaction leaves the server's state clear, RFC 5321 §4.1.1.4):
/// if the server dropped it meanwhile, MAIL FROM fails before anything was handed over
/// and the message goes on a new connection.
const FRESH: Duration = Duration::from_secs(2);

/// A session for the next transaction.
pub(super) struct Session {
    pub conn: AsyncSmtpConnection,
    /// Kept from the last delivery and not checked since: a failure before the message
    /// was handed over means it went stale, not that the message is refused.
    pub unchecked: bool,
}

impl SmtpTransport {
    /// The kept session, if it is recent and (unless it delivered a moment ago) still
    /// answers RSET; else a new one.
    pub(super) async fn session(
        &self,
        progress: ProgressFn<'_>,
    ) -> Result<Session, TransportError> {
        let kept = self.idle.lock().await.take();
        if let Some((mut conn, since)) = kept {
            if since.elapsed() < FRESH && !conn.has_broken() {
                return Ok(Session {
                    conn,
                    unchecked: true,
                });
            }
            if since.elapsed() < IDLE_REUSE && !conn.has_broken() {
                let limit = self.timeout().min(Duration::from_secs(5));
                let rset = tokio::time::timeout(
                    limit,
                    conn.command(lettre::transport::smtp::commands::Rset),
                )
                .await;
                if matches!(rset, Ok(Ok(_))) {
                    return Ok(Session {
                        conn,
                        unchecked: false,
                    });
                }
                tracing::debug!(transport = %self.name, "kept session did not answer RSET; reconnecting");
                tokio::spawn(close(conn, false));
            } else {
                tokio::spawn(close(conn, true));
            }
        }
        self.fresh_session(progress).await
    }

    pub(super) async fn fresh_session(
        &self,
        progress: ProgressFn<'_>,
    ) -> Result<Session, TransportError> {
        Ok(Session {
            conn: self.open(progress).await?.0,
            unchecked: false,
        })
    }

    /// Keep a session that just delivered for the next message; one is enough.
    pub(super) async fn keep(&self, conn: AsyncSmtpConnection) {
        let mut idle = self.idle.lock().await;
        if let Some((old, _)) = idle.replace((conn, Instant::now())) {
            tokio::spawn(close(old, true));
        }
    }
}
