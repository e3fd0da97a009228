//! One SMTP client of the relay: commands parsed by smtp-proto, replies pipelined (all
//! answers to what was read are written together), each message handed to the engine
//! and answered 250 only once it was delivered or is on disk in the outbox.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use smtp_proto::request::receiver::{DataReceiver, RequestReceiver};
use smtp_proto::{Error as ProtoError, Request};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;

use super::{Delivery, Relay};

/// RFC 5321 4.5.3.2: servers wait at least 5 minutes for a command or a data block.
const READ_TIMEOUT: Duration = Duration::from_secs(300);
const WRITE_TIMEOUT: Duration = Duration::from_secs(60);
/// RFC 5321 4.5.3.1.8: at least 100 recipients must be accepted.
const MAX_RCPTS: usize = 1000;
/// An AUTH response line (base64 of user and password).
const MAX_AUTH_LINE: usize = 2048;

enum State {
    Command,
    Data(DataReceiver),
    AuthPlain,
    AuthLoginUser,
    AuthLoginPass(String),
}

pub struct Session<S> {
    stream: S,
    relay: Arc<Relay>,
    peer: String,
    out: Vec<u8>,
    state: State,
    requests: RequestReceiver,
    line: Vec<u8>,
    mail_from: Option<String>,
    rcpts: Vec<String>,
    data: Vec<u8>,
    too_big: bool,
    authed: Option<String>,
    quit: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<S> {
    pub fn new(stream: S, relay: Arc<Relay>, peer: String) -> Self {
        Session {
            stream,
            relay,
            peer,
            out: Vec::new(),
            state: State::Command,
            requests: RequestReceiver::default(),
            line: Vec::new(),
            mail_from: None,
            rcpts: Vec::new(),
            data: Vec::new(),
            too_big: false,
            authed: None,
            quit: false,
        }
    }

    fn reply(&mut self, text: &str) {
        self.out.extend_from_slice(text.as_bytes());
        self.out.extend_from_slice(b"\r\n");
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        let out = std::mem::take(&mut self.out);
        match tokio::time::timeout(WRITE_TIMEOUT, self.stream.write_all(&out)).await {
            Ok(r) => r,
            Err(_) => Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "client stopped reading",
            )),
        }
    }

    fn reset(&mut self) {
        self.mail_from = None;
        self.rcpts.clear();
        self.data.clear();
        self.too_big = false;
    }

    /// Serve until QUIT, the client leaves, a timeout, or (between messages) shutdown.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        let greeting = format!("220 {} ESMTP missive relay", self.relay.hostname);
        self.reply(&greeting);
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            if self.flush().await.is_err() || self.quit {
                break;
            }
            let in_data = matches!(self.state, State::Data(_));
            if !in_data && *shutdown.borrow() {
                self.reply("421 4.3.2 missive relay shutting down");
                let _ = self.flush().await;
                break;
            }
            let read = tokio::time::timeout(READ_TIMEOUT, self.stream.read(&mut buf));
            let n = if in_data {
                read.await
            } else {
                tokio::select! {
                    r = read => r,
                    _ = shutdown.changed() => continue,
                }
            };
            let n = match n {
                Ok(Ok(0)) | Ok(Err(_)) => break,
                Ok(Ok(n)) => n,
                Err(_) => {
                    self.reply("421 4.4.2 timeout, closing");
                    let _ = self.flush().await;
                    break;
                }
            };
            let chunk = buf[..n].to_vec();
            let mut it = chunk.iter();
            while !it.as_slice().is_empty() && !self.quit {
                self.ingest(&mut it).await;
            }
        }
        tracing::debug!(peer = %self.peer, "relay client gone");
    }

    async fn ingest(&mut self, it: &mut std::slice::Iter<'_, u8>) {
        match std::mem::replace(&mut self.state, State::Command) {
            State::Command => self.command(it),
            State::Data(mut rx) => {
                let done = rx.ingest(it, &mut self.data);
                if self.data.len() as u64 > self.relay.size_limit {
                    // Keep reading to the final dot, keep nothing.
                    self.too_big = true;
                    self.data.clear();
                }
                if done {
                    self.message_done().await;
                } else {
                    self.state = State::Data(rx);
                }
            }
            state @ (State::AuthPlain | State::AuthLoginUser | State::AuthLoginPass(_)) => {
                self.state = state;
                self.auth_line(it);
            }
        }
    }

    fn command(&mut self, it: &mut std::slice::Iter<'_, u8>) {
        let req = match self.requests.ingest(it) {
            Ok(r) => r.into_owned(),
            Err(ProtoError::NeedsMoreData { .. }) => return,
            Err(e) => {
                let text = match e {
                    ProtoError::UnknownCommand => "500 5.5.1 command not recognized",
                    ProtoError::InvalidSenderAddress => "501 5.1.7 bad sender address syntax",
                    ProtoError::InvalidRecipientAddress => "501 5.1.3 bad recipient address syntax",
                    ProtoError::ResponseTooLong => "500 5.5.6 line too long",
                    ProtoError::UnsupportedParameter { .. } => "555 5.5.4 parameter not supported",
                    _ => "501 5.5.4 syntax error",
                };
                self.reply(text);
                return;
            }
        };
        match req {
            Request::Ehlo { host: _ } => {
                self.reset();
                let mut lines = vec![
                    self.relay.hostname.clone(),
                    format!("SIZE {}", self.relay.size_limit),
                    "8BITMIME".into(),
                    "PIPELINING".into(),
                    "SMTPUTF8".into(),
                    "ENHANCEDSTATUSCODES".into(),
                ];
                if !self.relay.users.is_empty() {
                    lines.push("AUTH PLAIN LOGIN".into());
                }
                let last = lines.len() - 1;
                for (i, l) in lines.iter().enumerate() {
                    let sep = if i == last { ' ' } else { '-' };
                    self.out
                        .extend_from_slice(format!("250{sep}{l}\r\n").as_bytes());
                }
            }
            Request::Helo { host: _ } | Request::Lhlo { host: _ } => {
                self.reset();
                let text = format!("250 {}", self.relay.hostname);
                self.reply(&text);
            }
            Request::Mail { from } => {
                if !self.relay.users.is_empty() && self.authed.is_none() {
                    self.reply("530 5.7.0 authentication required");
                } else if self.mail_from.is_some() {
                    self.reply("503 5.5.1 MAIL already given");
                } else if from.size as u64 > self.relay.size_limit {
                    self.reply("552 5.3.4 message too big for this transport");
                } else {
                    self.mail_from = Some(from.address);
                    self.reply("250 2.1.0 Ok");
                }
            }
            Request::Rcpt { to } => {
                if self.mail_from.is_none() {
                    self.reply("503 5.5.1 need MAIL first");
                } else if self.rcpts.len() >= MAX_RCPTS {
                    self.reply("452 4.5.3 too many recipients");
                } else if !crate::raw::is_plausible(&to.address) {
                    self.reply("553 5.1.3 recipient must be user@domain");
                } else {
                    self.rcpts.push(to.address);
                    self.reply("250 2.1.5 Ok");
                }
            }
            Request::Data => {
                if self.rcpts.is_empty() {
                    self.reply("503 5.5.1 need RCPT first");
                } else {
                    self.data.clear();
                    self.too_big = false;
                    self.state = State::Data(DataReceiver::new());
                    self.reply("354 end data with <CR><LF>.<CR><LF>");
                }
            }
            Request::Rset => {
                self.reset();
                self.reply("250 2.0.0 Ok");
            }
            Request::Noop { .. } => self.reply("250 2.0.0 Ok"),
            Request::Quit => {
                self.reply("221 2.0.0 bye");
                self.quit = true;
            }
            Request::Vrfy { .. } => self.reply("252 2.5.0 cannot verify, send it"),
            Request::Help { .. } => {
                self.reply("214 2.0.0 missive relay: see `missive relay --help`")
            }
            Request::Auth {
                mechanism,
                initial_response,
            } => self.auth(mechanism, initial_response),
            _ => self.reply("502 5.5.1 command not implemented"),
        }
    }

    fn auth(&mut self, mechanism: u64, initial: String) {
        if self.relay.users.is_empty() {
            self.reply("503 5.5.1 AUTH not available");
        } else if self.authed.is_some() {
            self.reply("503 5.5.1 already authenticated");
        } else if mechanism == smtp_proto::AUTH_PLAIN {
            if initial.is_empty() {
                self.state = State::AuthPlain;
                self.reply("334 ");
            } else {
                self.check_plain(initial.as_bytes());
            }
        } else if mechanism == smtp_proto::AUTH_LOGIN {
            if initial.is_empty() {
                self.state = State::AuthLoginUser;
                self.reply("334 VXNlcm5hbWU6");
            } else {
                match decode(initial.as_bytes()) {
                    Some(u) => {
                        self.state = State::AuthLoginPass(u);
                        self.reply("334 UGFzc3dvcmQ6");
                    }
                    None => self.reply("501 5.5.2 cannot decode the response"),
                }
            }
        } else {
            self.reply("504 5.5.4 mechanism not supported (PLAIN, LOGIN)");
        }
    }

    fn auth_line(&mut self, it: &mut std::slice::Iter<'_, u8>) {
        for &b in it.by_ref() {
            if b == b'\n' {
                let line = std::mem::take(&mut self.line);
                let line = line.strip_suffix(b"\r").unwrap_or(&line).to_vec();
                let state = std::mem::replace(&mut self.state, State::Command);
                if line == b"*" {
                    self.reply("501 5.7.0 authentication cancelled");
                    return;
                }
                match state {
                    State::AuthPlain => self.check_plain(&line),
                    State::AuthLoginUser => match decode(&line) {
                        Some(u) => {
                            self.state = State::AuthLoginPass(u);
                            self.reply("334 UGFzc3dvcmQ6");
                        }
                        None => self.reply("501 5.5.2 cannot decode the response"),
                    },
                    State::AuthLoginPass(user) => match decode(&line) {
                        Some(p) => self.check(&user, &p),
                        None => self.reply("501 5.5.2 cannot decode the response"),
                    },
                    _ => {}
                }
                return;
            }
            if self.line.len() >= MAX_AUTH_LINE {
                self.line.clear();
                self.state = State::Command;
                self.reply("500 5.5.6 authentication line too long");
                return;
            }
            self.line.push(b);
        }
    }

    fn check_plain(&mut self, b64: &[u8]) {
        let Some(text) = decode(b64) else {
            self.reply("501 5.5.2 cannot decode the response");
            return;
        };
        // authzid NUL authcid NUL password
        let mut parts = text.split('\0');
        let (_, user, pass) = (parts.next(), parts.next(), parts.next());
        match (user, pass) {
            (Some(u), Some(p)) => {
                let (u, p) = (u.to_string(), p.to_string());
                self.check(&u, &p)
            }
            _ => self.reply("501 5.5.2 malformed PLAIN response"),
        }
    }

    fn check(&mut self, user: &str, password: &str) {
        if self.relay.password_ok(user, password) {
            self.authed = Some(user.to_string());
            self.reply("235 2.7.0 authentication succeeded");
        } else {
            tracing::warn!(peer = %self.peer, user = %user, "relay AUTH refused");
            self.reply("535 5.7.8 authentication credentials invalid");
        }
    }

    async fn message_done(&mut self) {
        if self.too_big {
            self.reply("552 5.3.4 message too big for this transport");
            self.reset();
            return;
        }
        let from = self.mail_from.take().unwrap_or_default();
        let rcpts = std::mem::take(&mut self.rcpts);
        let data = std::mem::take(&mut self.data);
        // Answers to pipelined commands before DATA go out before the wait.
        let _ = self.flush().await;
        let reply = match self.relay.deliver(&from, rcpts, data).await {
            Delivery::Sent { message_id } => {
                format!("250 2.0.0 Ok: delivered {message_id}")
            }
            Delivery::Queued { message_id } => {
                format!("250 2.0.0 Ok: queued in the outbox {message_id}")
            }
            Delivery::Refused { code, text } => format!("{code} {text}"),
        };
        self.reply(&reply);
        self.reset();
    }
}

fn decode(b64: &[u8]) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim_ascii())
        .ok()?;
    String::from_utf8(bytes).ok()
}
