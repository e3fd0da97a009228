//! `missive relay`: an SMTP submission server on loopback for local programs (a Django
//! app, cron, scripts). Each message goes through the engine like any other: delivered
//! through the transport, or kept in the outbox, before the client hears 250; the
//! outbox is retried with backoff while the relay runs. A shell over the engine.

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use crate::engine::{Engine, SendError, SendReport, Submission, SubmitError};
use crate::secret::Secret;

mod retry;
mod session;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:2525";
/// Clients served at once; more wait for a free slot (the kernel's backlog holds them).
const MAX_CLIENTS: usize = 256;
/// How long a relay user's password_cmd may take, once, at start.
const SECRET_TIMEOUT: Duration = Duration::from_secs(30);

/// Exit codes, as the rest of the command line: 2 for config/usage, 1 for the rest.
const EXIT_OK: i32 = 0;
const EXIT_FAIL: i32 = 1;
const EXIT_INPUT: i32 = 2;

#[derive(Clone, Debug, Default)]
pub struct RelayArgs {
    pub listen: Option<String>,
    pub transport: Option<String>,
    pub json: bool,
}

/// What the relay shares between its clients.
pub struct Relay {
    engine: Arc<Engine>,
    transport: String,
    hostname: String,
    size_limit: u64,
    users: HashMap<String, Secret>,
    json: bool,
}

pub enum Delivery {
    Sent { message_id: String },
    Queued { message_id: String },
    Refused { code: u16, text: String },
}

/// One line for an SMTP reply: no control characters, not too long.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect()
}

impl Relay {
    fn password_ok(&self, user: &str, password: &str) -> bool {
        let Some(want) = self.users.get(user) else {
            return false;
        };
        let (a, b) = (want.expose().as_bytes(), password.as_bytes());
        // Compare in time independent of where they differ.
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    /// Log one message: a JSON line (`--json`) or a readable one, on stdout.
    fn log(&self, v: serde_json::Value) {
        let line = if self.json {
            crate::escape::json_line(&v)
        } else {
            let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
            let mut line = format!("{} {}", s("result"), s("message_id"));
            if let Some(r) = v["recipients"].as_array() {
                let r: Vec<&str> = r.iter().filter_map(|x| x.as_str()).collect();
                line.push_str(&format!(" to {}", r.join(", ")));
            }
            line.push_str(&format!(" via {}", s("transport")));
            if !s("response").is_empty() {
                line.push_str(&format!(": {}", s("response")));
            }
            if !s("error").is_empty() {
                line.push_str(&format!(": {}", s("error")));
            }
            crate::escape::escape(&line).into_owned()
        };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }

    fn log_report(&self, result: &str, r: &SendReport) {
        self.log(serde_json::json!({
            "time": crate::outbox::now_rfc3339(),
            "result": result,
            "message_id": r.message_id,
            "transport": r.transport,
            "kind": r.kind,
            "server_id": r.server_id,
            "response": r.response,
            "recipients": r.recipients,
            "bytes": r.bytes,
        }));
    }

    async fn deliver(&self, from: &str, rcpts: Vec<String>, data: Vec<u8>) -> Delivery {
        let sub = Submission {
            raw: data,
            envelope_from: Some(from.to_string()).filter(|f| !f.is_empty()),
            recipients: rcpts,
            recipients_from_headers: false,
            full_name: None,
        };
        let refuse = |code: u16, status: &str, e: &dyn std::fmt::Display| {
            tracing::warn!(code, error = %e, "relay refused a message");
            Delivery::Refused {
                code,
                text: one_line(&format!("{status} {e}")),
            }
        };
        let p = match self.engine.prepare_submission(Some(&self.transport), &sub) {
            Ok(p) => p,
            Err(e @ SubmitError::Message(_)) => return refuse(554, "5.6.0", &e),
            Err(e @ SubmitError::Usage(_)) => return refuse(553, "5.1.3", &e),
            Err(e @ SubmitError::Config(_)) => return refuse(451, "4.3.5", &e),
        };
        if p.built.raw.len() as u64 > self.size_limit {
            return refuse(552, "5.3.4", &"message too big for this transport");
        }
        let message_id = p.built.message_id.clone();
        match self.engine.send(&p, &crate::transport::no_progress).await {
            Ok(r) => {
                self.log_report("sent", &r);
                Delivery::Sent { message_id }
            }
            // Nothing was sent or kept (a config problem such as a failing
            // password_cmd): the client keeps the message and tries later.
            Err(SendError::Input(e)) => refuse(451, "4.3.5", &e),
            Err(SendError::Transport {
                error,
                outbox: Some(path),
                ..
            }) => {
                self.log(serde_json::json!({
                    "time": crate::outbox::now_rfc3339(),
                    "result": "queued",
                    "message_id": message_id,
                    "transport": p.transport,
                    "recipients": p.built.envelope.to,
                    "bytes": p.built.raw.len(),
                    "error": error.to_string(),
                    "outbox": path,
                }));
                Delivery::Queued { message_id }
            }
            Err(SendError::Transport {
                error,
                outbox: None,
                outbox_error,
            }) => {
                let e = format!(
                    "{error}; and not kept: {}",
                    outbox_error.unwrap_or_default()
                );
                self.log(serde_json::json!({
                    "time": crate::outbox::now_rfc3339(),
                    "result": "refused",
                    "message_id": message_id,
                    "transport": p.transport,
                    "error": e,
                }));
                refuse(451, "4.3.0", &e)
            }
        }
    }
}

fn say(msg: impl std::fmt::Display) {
    let text = crate::escape::for_terminal(&msg.to_string());
    let _ = writeln!(std::io::stderr(), "missive relay: {text}");
}

/// Run the relay until SIGTERM or SIGINT; the exit code.
pub async fn run(mut engine: Engine, args: RelayArgs) -> i32 {
    // Written by the retry loop every second and on the way out (see retry.rs).
    engine.defer_history();
    let cfg = engine.config.relay.clone();
    let listen = args
        .listen
        .or(cfg.listen.clone())
        .unwrap_or_else(|| DEFAULT_LISTEN.to_string());
    let addr: SocketAddr = match listen.parse() {
        Ok(a) => a,
        Err(_) => {
            say(format!(
                "--listen {listen:?}: expected an IP address and port, e.g. {DEFAULT_LISTEN}"
            ));
            return EXIT_INPUT;
        }
    };
    let remote_ok = cfg.allow_remote && !cfg.users.is_empty();
    if !addr.ip().is_loopback() && !remote_ok {
        say(format!(
            "refusing to listen on {addr}: beyond loopback anyone could send through your account; \
             set allow_remote = true and add AUTH users under [relay.users.NAME] in the config"
        ));
        return EXIT_INPUT;
    }
    let tc = match engine.transport_config(args.transport.as_deref().or(cfg.transport.as_deref())) {
        Ok(t) => t.clone(),
        Err(e) => {
            say(e);
            return EXIT_INPUT;
        }
    };
    let mut users = HashMap::new();
    for (name, source) in &cfg.users {
        match crate::secret::resolve(source, &format!("relay user {name}"), SECRET_TIMEOUT).await {
            Ok(Some(s)) => {
                users.insert(name.clone(), s);
            }
            Ok(None) => {}
            Err(e) => {
                say(e);
                return EXIT_INPUT;
            }
        }
    }
    for sig in [libc::SIGTERM, libc::SIGINT] {
        crate::command::caller_handles_signal(sig);
    }
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        say("cannot watch SIGTERM/SIGINT");
        return EXIT_FAIL;
    };
    let listener = match TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            say(format!("cannot listen on {addr}: {e}"));
            return EXIT_FAIL;
        }
    };
    let bound = listener.local_addr().map_or(addr, |a| a);
    let hostname = hostname::get()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| !h.is_empty() && h.is_ascii())
        .unwrap_or_else(|| "localhost".into());
    let relay = Arc::new(Relay {
        size_limit: crate::engine::size_limit(&tc.kind).unwrap_or(crate::raw::MAX_SUBMISSION),
        engine: Arc::new(engine),
        transport: tc.name.clone(),
        hostname,
        users,
        json: args.json,
    });
    say(format!(
        "listening on {bound} (transport {}, {}; AUTH {})",
        tc.name,
        tc.kind.name(),
        if relay.users.is_empty() {
            "off"
        } else {
            "required"
        }
    ));
    tracing::info!(listen = %bound, transport = %tc.name, "relay started");

    let (stop_tx, stop_rx) = watch::channel(false);
    let retry = tokio::spawn(retry::run(relay.clone(), stop_rx.clone()));
    let slots = Arc::new(Semaphore::new(MAX_CLIENTS));
    let mut sessions = JoinSet::new();
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
            acc = listener.accept() => {
                let (stream, peer) = match acc {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::warn!(error = %e, "relay accept failed");
                        continue;
                    }
                };
                let Ok(permit) = slots.clone().try_acquire_owned() else {
                    sessions.spawn(async move {
                        let mut stream = stream;
                        let _ = tokio::io::AsyncWriteExt::write_all(
                            &mut stream,
                            b"421 4.7.0 too many connections, try again later\r\n",
                        )
                        .await;
                    });
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let s = session::Session::new(stream, relay.clone(), peer.to_string());
                let stop = stop_rx.clone();
                sessions.spawn(async move {
                    s.run(stop).await;
                    drop(permit);
                });
            }
        }
    }
    // Stop accepting; clients between messages are told 421, those in the middle of
    // one get their answer first.
    drop(listener);
    let _ = stop_tx.send(true);
    say(format!(
        "stopping: finishing {} connection(s) in flight",
        sessions.len()
    ));
    while sessions.join_next().await.is_some() {}
    let _ = retry.await;
    relay.engine.record_reached();
    relay.engine.close_transports().await;
    say("stopped");
    EXIT_OK
}
