//! The socket lettre reads SMTP replies from, with limits lettre lacks. lettre collects a
//! reply line whole before it checks its length (an endless line without a newline grows
//! without end), and re-parses the whole reply for every line it reads, from a buffer
//! that needs no socket read for hundreds of lines, so the task never yields and no
//! timeout can fire. Here: at most `MAX_UNASKED` bytes may arrive between two writes
//! (a reply follows a command; 64 KiB of reply plus TLS framing), reads are small, and
//! every few of them yield to the runtime so the send's timeouts stay live.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use lettre::transport::smtp::client::AsyncTokioStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// 64 KiB of reply (SPEC) plus room for TLS records and a certificate chain.
pub const MAX_UNASKED: usize = 64 * 1024 + 32 * 1024;
/// Most reply lines between two writes while the stream carries plain SMTP (an EHLO
/// reply has a dozen or two); a greeting of endless `220-` lines stops here, early.
pub const MAX_LINES: usize = 256;
const READ_PIECE: usize = 2048;

/// Shared with the transport: what went by, and whether the bytes are plain SMTP (line
/// counting makes no sense on TLS records under a STARTTLS upgrade).
#[derive(Debug, Default)]
pub struct Watch {
    pub bytes_read: AtomicU64,
    pub encrypted_below: AtomicBool,
}
const YIELD_EVERY: u32 = 4;

#[derive(Debug)]
pub struct Guarded<S> {
    inner: S,
    peer: SocketAddr,
    since_write: usize,
    lines: usize,
    reads: u32,
    watch: Arc<Watch>,
}

impl<S> Guarded<S> {
    pub fn new(inner: S, peer: SocketAddr, watch: Arc<Watch>) -> Self {
        Guarded {
            inner,
            peer,
            since_write: 0,
            lines: 0,
            reads: 0,
            watch,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Guarded<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.since_write >= MAX_UNASKED {
            return Poll::Ready(Err(io::Error::other(format!(
                "the server sent over {} KiB in one reply; not an SMTP server?",
                MAX_UNASKED / 1024
            ))));
        }
        self.reads = self.reads.wrapping_add(1);
        if self.reads.is_multiple_of(YIELD_EVERY) {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let room = READ_PIECE
            .min(MAX_UNASKED - self.since_write)
            .min(buf.remaining());
        let mut piece = ReadBuf::new(&mut buf.initialize_unfilled()[..room]);
        let me = &mut *self;
        match Pin::new(&mut me.inner).poll_read(cx, &mut piece) {
            Poll::Ready(Ok(())) => {
                let n = piece.filled().len();
                me.since_write += n;
                me.watch.bytes_read.fetch_add(n as u64, Ordering::Relaxed);
                if !me.watch.encrypted_below.load(Ordering::Relaxed) {
                    me.lines += piece.filled().iter().filter(|&&b| b == b'\n').count();
                    if me.lines > MAX_LINES {
                        return Poll::Ready(Err(io::Error::other(format!(
                            "the server sent a reply of over {MAX_LINES} lines; not an SMTP server?"
                        ))));
                    }
                }
                buf.advance(n);
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Guarded<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.since_write = 0;
            self.lines = 0;
        }
        r
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<S> AsyncTokioStream for Guarded<S>
where
    S: AsyncRead + AsyncWrite + Send + Sync + Unpin + std::fmt::Debug,
{
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.peer)
    }
}
