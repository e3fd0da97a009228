//! `missive relay`: the real binary, driven by real clients (Python's smtplib, Django's
//! SMTP backend, a raw pipelining socket), relaying to the real test server
//! (tests/smtp_server.py).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;

const WAIT: Duration = Duration::from_secs(30);

/// A running `missive relay --json`, killed on drop. Its stderr and stdout lines arrive
/// on channels (the "listening on" line is the readiness signal).
struct Relay {
    child: Child,
    port: u16,
    stdout: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
}

fn lines(r: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(r).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    rx
}

impl Relay {
    fn start(env: &Env, args: &[&str]) -> Relay {
        let mut child = env
            .std_cmd()
            .args(["relay", "--json"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = lines(child.stdout.take().unwrap());
        let stderr = lines(child.stderr.take().unwrap());
        let mut r = Relay {
            child,
            port: 0,
            stdout,
            stderr,
        };
        let l = r.wait_stderr("listening on ");
        let addr = l.split("listening on ").nth(1).unwrap();
        let addr = addr.split_whitespace().next().unwrap();
        r.port = addr.rsplit(':').next().unwrap().parse().unwrap();
        r
    }

    fn wait_stderr(&mut self, needle: &str) -> String {
        let end = Instant::now() + WAIT;
        let mut seen = Vec::new();
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.stderr.recv_timeout(left) {
                Ok(l) if l.contains(needle) => return l,
                Ok(l) => seen.push(l),
                Err(_) => break,
            }
        }
        let _ = self.child.kill();
        panic!("the relay never said {needle:?}; stderr: {seen:#?}");
    }

    /// The next `n` JSON log lines.
    fn logs(&mut self, n: usize) -> Vec<serde_json::Value> {
        let end = Instant::now() + WAIT;
        let mut out = Vec::new();
        while out.len() < n {
            let left = end
                .checked_duration_since(Instant::now())
                .unwrap_or_else(|| panic!("only {} of {n} log lines: {out:#?}", out.len()));
            let l = self
                .stdout
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("only {} of {n} log lines: {out:#?}", out.len()));
            out.push(serde_json::from_str(&l).unwrap_or_else(|e| panic!("{e}: {l}")));
        }
        out
    }

    fn term(&mut self) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
    }

    fn wait_exit(&mut self) -> ExitStatus {
        let end = Instant::now() + WAIT;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(Instant::now() < end, "the relay did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python(script: &str, args: &[String]) -> serde_json::Value {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn env_for(server_port: u16, extra: &str) -> Env {
    let env = Env::new();
    env.write_config(&format!(
        "{}{extra}",
        SmtpCfg::new(server_port, Mode::Plain, None).toml()
    ));
    env
}

const SMTPLIB_SEND: &str = r#"
import json, smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
code, ehlo = s.ehlo("app.test")
msg = b"From: App <app@example.com>\r\nTo: bob@example.com\r\nSubject: sign-up\r\n\r\nWelcome!\r\n.leading dot\r\n"
refused = s.sendmail("app@example.com", ["bob@example.com"], msg)
code, resp = s.noop()
s.quit()
print(json.dumps({"ehlo": ehlo.decode(), "refused": refused}))
"#;

#[test]
fn smtplib_message_is_relayed_and_logged_with_its_message_id() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = env_for(server.port, "");
    let mut relay = Relay::start(&env, &["--listen", "127.0.0.1:0"]);
    let r = python(SMTPLIB_SEND, &[relay.port.to_string()]);
    let ehlo = r["ehlo"].as_str().unwrap();
    for cap in ["SIZE", "8BITMIME", "PIPELINING", "SMTPUTF8"] {
        assert!(ehlo.contains(cap), "{ehlo}");
    }
    let m = server.only_message();
    assert_eq!(m.mail_from, "app@example.com");
    assert_eq!(m.rcpt_tos, ["bob@example.com"]);
    let text = m.text();
    assert!(
        text.ends_with("From: App <app@example.com>\r\nTo: bob@example.com\r\nSubject: sign-up\r\n\r\nWelcome!\r\n.leading dot\r\n"),
        "{text}"
    );
    let id = m.parsed().message_id().unwrap().to_string();
    let log = &relay.logs(1)[0];
    assert_eq!(log["result"], "sent");
    assert_eq!(log["message_id"], format!("<{id}>"));
    assert_eq!(log["server_id"], m.queue_id);
}

#[test]
fn django_send_mail_through_the_relay_needs_no_password() {
    let have = Command::new("python3")
        .args(["-c", "import django"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(have, "Django is missing: python3 -m pip install django");
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = env_for(server.port, "");
    let mut relay = Relay::start(&env, &["--listen", "127.0.0.1:0"]);
    let script = r#"
import json, sys, django
from django.conf import settings
settings.configure(
    EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
    EMAIL_HOST="127.0.0.1", EMAIL_PORT=int(sys.argv[1]),
    DEFAULT_FROM_EMAIL="Shop <shop@example.com>",
)
django.setup()
from django.core.mail import send_mail, EmailMultiAlternatives
n = send_mail("Welcome", "Thanks for signing up.", None, ["bob@example.com"])
m = EmailMultiAlternatives("Receipt", "Text body", None, ["carol@example.com"], bcc=["audit@example.com"])
m.attach_alternative("<p>HTML body</p>", "text/html")
m.attach("invoice.txt", "line one\n", "text/plain")
n += m.send()
print(json.dumps({"sent": n}))
"#;
    let r = python(script, &[relay.port.to_string()]);
    assert_eq!(r["sent"], 2);
    let got = server.received();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].python["subject"], "Welcome");
    assert_eq!(got[0].rcpt_tos, ["bob@example.com"]);
    assert!(got[0].python["text"]
        .as_str()
        .unwrap()
        .contains("Thanks for signing up."));
    let receipt = &got[1];
    assert_eq!(receipt.python["subject"], "Receipt");
    let mut rcpt = receipt.rcpt_tos.clone();
    rcpt.sort();
    assert_eq!(rcpt, ["audit@example.com", "carol@example.com"]);
    assert!(
        !receipt.text().contains("audit@"),
        "Bcc stays out of the headers"
    );
    assert!(receipt.python["html"]
        .as_str()
        .unwrap()
        .contains("<p>HTML body</p>"));
    assert_eq!(receipt.python["attachments"][0]["filename"], "invoice.txt");
    assert_eq!(
        got[0].peer_port, got[1].peer_port,
        "consecutive messages share the upstream connection"
    );
    let logs = relay.logs(2);
    assert!(logs.iter().all(|l| l["result"] == "sent"), "{logs:#?}");
}

#[test]
fn pipelined_commands_get_their_replies_in_order() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = env_for(server.port, "");
    let relay = Relay::start(&env, &["--listen", "127.0.0.1:0"]);
    let s = TcpStream::connect(("127.0.0.1", relay.port)).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    let mut reply = || {
        let mut l = String::new();
        r.read_line(&mut l).unwrap();
        l
    };
    assert!(reply().starts_with("220 "));
    w.write_all(b"EHLO pipe.test\r\n").unwrap();
    while !reply().starts_with("250 ") {}
    w.write_all(
        b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nRCPT TO:<c@example.com>\r\nDATA\r\n",
    )
    .unwrap();
    for want in ["250", "250", "250", "354"] {
        let l = reply();
        assert!(l.starts_with(want), "{want}: {l}");
    }
    w.write_all(
        b"Subject: one\r\n\r\nfirst\r\n.\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<d@example.com>\r\nDATA\r\n",
    )
    .unwrap();
    for want in ["250 2.0.0 Ok: delivered <", "250", "250", "354"] {
        let l = reply();
        assert!(l.starts_with(want), "{want}: {l}");
    }
    w.write_all(b"Subject: two\r\n\r\nsecond\r\n.\r\nQUIT\r\n")
        .unwrap();
    assert!(reply().starts_with("250 "));
    assert!(reply().starts_with("221 "));
    let got = server.received();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].rcpt_tos, ["b@example.com", "c@example.com"]);
    assert_eq!(got[1].rcpt_tos, ["d@example.com"]);
}

#[test]
fn many_clients_at_once() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = env_for(server.port, "");
    let mut relay = Relay::start(&env, &["--listen", "127.0.0.1:0"]);
    let script = r#"
import json, smtplib, sys, threading
port = int(sys.argv[1])
errors = []
def client(n):
    try:
        s = smtplib.SMTP("127.0.0.1", port, timeout=60)
        for k in range(4):
            s.sendmail("app@example.com", ["u%d.%d@example.com" % (n, k)],
                       ("Subject: c%d m%d\r\n\r\nbody\r\n" % (n, k)).encode())
        s.quit()
    except Exception as e:
        errors.append(repr(e))
ts = [threading.Thread(target=client, args=(n,)) for n in range(16)]
[t.start() for t in ts]
[t.join() for t in ts]
print(json.dumps({"errors": errors}))
"#;
    let r = python(script, &[relay.port.to_string()]);
    assert_eq!(r["errors"], serde_json::json!([]));
    let got = server.received();
    assert_eq!(got.len(), 64);
    let mut rcpts: Vec<String> = got.iter().map(|m| m.rcpt_tos[0].clone()).collect();
    rcpts.sort();
    rcpts.dedup();
    assert_eq!(rcpts.len(), 64, "each message once");
    let logs = relay.logs(64);
    let mut ids: Vec<&str> = logs
        .iter()
        .map(|l| l["message_id"].as_str().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 64);
}

#[test]
fn upstream_down_the_message_waits_in_the_outbox_and_is_delivered_once_when_it_is_back() {
    let port = dead_port();
    let env = env_for(port, "");
    let mut relay = Relay::start(&env, &["--listen", "127.0.0.1:0"]);
    let r = python(SMTPLIB_SEND, &[relay.port.to_string()]);
    assert_eq!(r["refused"], serde_json::json!({}));
    let queued = &relay.logs(1)[0];
    assert_eq!(queued["result"], "queued", "{queued}");
    let ob = env.outbox();
    assert_eq!(ob.len(), 1);
    assert_eq!(ob[0].1["message_id"], queued["message_id"]);

    let server = SmtpServer::start(ServerOpts::new(Mode::Plain).port(port), None);
    let sent = &relay.logs(1)[0];
    assert_eq!(sent["result"], "sent", "{sent}");
    assert_eq!(sent["message_id"], queued["message_id"]);
    let m = server.only_message();
    assert_eq!(
        format!("<{}>", m.parsed().message_id().unwrap()),
        queued["message_id"].as_str().unwrap()
    );
    assert!(env.outbox().is_empty());
    relay.term();
    assert_eq!(relay.wait_exit().code(), Some(0));
    assert_eq!(server.received().len(), 1, "delivered once");
}

#[test]
fn sigterm_finishes_the_message_in_flight_then_exits_0() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = env_for(server.port, "");
    let mut relay = Relay::start(&env, &["--listen", "127.0.0.1:0"]);
    let s = TcpStream::connect(("127.0.0.1", relay.port)).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    let mut reply = || {
        let mut l = String::new();
        r.read_line(&mut l).unwrap();
        l
    };
    reply();
    w.write_all(b"HELO t\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n")
        .unwrap();
    for _ in 0..4 {
        reply();
    }
    w.write_all(b"Subject: in flight\r\n\r\nhalf of it")
        .unwrap();
    relay.term();
    relay.wait_stderr("stopping");
    // The listener is closed before "stopping" is said: no new clients.
    assert!(
        TcpStream::connect(("127.0.0.1", relay.port)).is_err(),
        "still accepting after SIGTERM"
    );
    w.write_all(b" and the rest\r\n.\r\n").unwrap();
    let l = reply();
    assert!(l.starts_with("250 "), "{l}");
    let l = reply();
    assert!(l.starts_with("421 "), "{l}");
    assert_eq!(relay.wait_exit().code(), Some(0));
    let m = server.only_message();
    assert!(m.text().ends_with("half of it and the rest\r\n"));
}

#[test]
fn beyond_loopback_is_refused_without_allow_remote_and_users() {
    let env = env_for(dead_port(), "");
    let r = env.run(["relay", "--listen", "0.0.0.0:0"]);
    r.expect_code(2);
    assert!(r.stderr().contains("allow_remote"), "{}", r.describe());
    let env = env_for(dead_port(), "\n[relay]\nallow_remote = true\n");
    env.run(["relay", "--listen", "0.0.0.0:0"]).expect_code(2);
}

#[test]
fn with_users_auth_is_required_and_checked() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let mut env = env_for(
        server.port,
        "\n[relay]\nallow_remote = true\n\n[relay.users.app]\npassword_env = \"RELAY_PW\"\n",
    );
    env.vars.push(("RELAY_PW".into(), "s3cret-relay".into()));
    let mut relay = Relay::start(&env, &["--listen", "0.0.0.0:0"]);
    let script = r#"
import json, smtplib, sys
out = {}
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
try:
    s.sendmail("a@example.com", ["b@example.com"], b"Subject: x\r\n\r\ny\r\n")
    out["anonymous"] = "accepted"
except smtplib.SMTPSenderRefused as e:
    out["anonymous"] = e.smtp_code
try:
    s.login("app", "wrong")
except smtplib.SMTPAuthenticationError as e:
    out["wrong"] = e.smtp_code
s.login("app", "s3cret-relay")
s.sendmail("a@example.com", ["b@example.com"], b"Subject: x\r\n\r\ny\r\n")
s.quit()
print(json.dumps(out))
"#;
    let r = python(script, &[relay.port.to_string()]);
    assert_eq!(r["anonymous"], 530);
    assert_eq!(r["wrong"], 535);
    assert_eq!(server.received().len(), 1);
    assert_eq!(relay.logs(1)[0]["result"], "sent");
}

/// Hostile or broken clients get an answer and change nothing: an endless line, binary
/// garbage, a SIZE beyond the limit, a message cut off mid-DATA. Meanwhile and after, a
/// well-behaved client's message goes through, once.
#[test]
fn hostile_clients_are_answered_and_change_nothing() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = env_for(server.port, "");
    let relay = Relay::start(&env, &["--listen", "127.0.0.1:0"]);
    let connect = || {
        let s = TcpStream::connect(("127.0.0.1", relay.port)).unwrap();
        s.set_read_timeout(Some(WAIT)).unwrap();
        let w = s.try_clone().unwrap();
        let mut r = BufReader::new(s);
        let mut greeting = String::new();
        r.read_line(&mut greeting).unwrap();
        assert!(greeting.starts_with("220 "), "{greeting}");
        (w, r)
    };
    let reply = |r: &mut BufReader<TcpStream>| {
        let mut l = String::new();
        r.read_line(&mut l).unwrap();
        l
    };

    // A 1 MiB line with no end: refused as too long, and the session still answers.
    let (mut w, mut r) = connect();
    w.write_all(&vec![b'A'; 1 << 20]).unwrap();
    w.write_all(b"\r\nNOOP\r\n").unwrap();
    let mut l = reply(&mut r);
    while !l.starts_with("250 ") {
        assert!(l.starts_with("500 "), "{l}");
        l = reply(&mut r);
    }

    // Binary garbage and NULs: syntax errors, not a crash.
    let (mut w, mut r) = connect();
    w.write_all(b"\x00\x01\xff\xfe\x1b[31m\r\nMAIL FROM:<\x00@x>\r\nNOOP\r\n")
        .unwrap();
    let mut l = reply(&mut r);
    while !l.starts_with("250 ") {
        assert!(l.starts_with('5'), "{l}");
        l = reply(&mut r);
    }

    // A declared size over the transport's limit is refused at MAIL.
    w.write_all(b"EHLO x\r\n").unwrap();
    while !reply(&mut r).starts_with("250 ") {}
    w.write_all(b"MAIL FROM:<a@example.com> SIZE=999999999999\r\n")
        .unwrap();
    let l = reply(&mut r);
    assert!(l.starts_with("552 "), "{l}");

    // Cut off in the middle of DATA: nothing is delivered or queued.
    let (mut w, mut r) = connect();
    w.write_all(b"EHLO x\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n")
        .unwrap();
    loop {
        if reply(&mut r).starts_with("354") {
            break;
        }
    }
    w.write_all(b"Subject: cut\r\n\r\nhalf a mess").unwrap();
    drop(w);
    drop(r);

    // A well-behaved client, after all that.
    let out = python(SMTPLIB_SEND, &[relay.port.to_string()]);
    assert_eq!(out["refused"], serde_json::json!({}), "{out}");
    let got = server.received();
    assert_eq!(got.len(), 1, "only the good message arrived");
    assert_eq!(got[0].parsed().subject(), Some("sign-up"));
    assert!(env.outbox().is_empty(), "nothing was queued");
}
