//! `missive sendmail`: the real binary, with a message on stdin, against the real SMTP
//! server (tests/smtp_server.py) and the local Google stand-in.

mod common;
mod gmail_common;

use std::io::Write;
use std::process::Stdio;

use common::*;

fn smtp_env(server: &SmtpServer) -> Env {
    let env = Env::new();
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());
    env
}

fn sendmail(env: &Env, args: &[&str], stdin: &[u8]) -> Run {
    let out = env
        .cmd()
        .arg("sendmail")
        .args(args)
        .write_stdin(stdin.to_vec())
        .output()
        .unwrap();
    Run(out)
}

/// The header lines of a CRLF message, as raw byte strings.
fn header_block(raw: &[u8]) -> &[u8] {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header block");
    &raw[..end + 2]
}

#[test]
fn dash_t_keeps_every_header_byte_for_byte_drops_bcc_and_adds_what_is_missing() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = smtp_env(&server);
    // Odd but legal spacing and folding, an unknown header, an encoded word: all must
    // arrive exactly as written (with LF turned into CRLF).
    let input = "To: \"Doe, John\" <john@example.com>,\n  bob@example.com\n\
                 Cc: Team: carol@example.com, dave@example.com;\n\
                 Bcc: Hidden <hidden@example.com>\n\
                 Subject:   =?utf-8?q?Gr=C3=BC=C3=9Fe?=  two  spaces\n\
                 X-App-Trace:\tabc;\n\t def\n\
                 \n\
                 Hello,\n\nthe body stays.\n..a line that starts with a dot\n";
    sendmail(&env, &["-t", "-i"], input.as_bytes()).expect_code(0);
    let m = server.only_message();
    let mut rcpt = m.rcpt_tos.clone();
    rcpt.sort();
    assert_eq!(
        rcpt,
        [
            "bob@example.com",
            "carol@example.com",
            "dave@example.com",
            "hidden@example.com",
            "john@example.com"
        ]
    );
    assert_eq!(m.mail_from, "ada@example.com");
    let text = m.text();
    assert!(!text.to_ascii_lowercase().contains("bcc"), "{text}");
    assert!(!text.contains("hidden@example.com"), "{text}");

    // What was given, minus Bcc, is a byte-exact suffix of the received headers; the
    // three added fields come first.
    let given = input.replace('\n', "\r\n");
    let given_head: String = header_block(given.as_bytes())
        .split_inclusive(|&b| b == b'\n')
        .map(|l| String::from_utf8(l.to_vec()).unwrap())
        .filter(|l| !l.starts_with("Bcc:"))
        .collect();
    let got_head = std::str::from_utf8(header_block(&m.raw)).unwrap();
    assert!(got_head.ends_with(&given_head), "{got_head}");
    let added: Vec<&str> = got_head[..got_head.len() - given_head.len()]
        .lines()
        .map(|l| l.split(':').next().unwrap())
        .collect();
    assert_eq!(added, ["From", "Date", "Message-ID"]);
    // The body too.
    let body_at = given.find("\r\n\r\n").unwrap() + 4;
    assert!(m.raw.ends_with(&given.as_bytes()[body_at..]));

    let parsed = m.parsed();
    assert!(parsed.subject().is_some_and(|s| s.starts_with("Grüße")));
    assert_eq!(
        parsed
            .from()
            .and_then(|f| f.first())
            .and_then(|a| a.address()),
        Some("ada@example.com")
    );
    assert!(parsed.date().is_some());
}

#[test]
fn existing_date_message_id_and_from_are_left_alone() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = smtp_env(&server);
    let input = b"From: App <noreply@app.example>\r\n\
                  Date: Mon, 1 Jun 2026 10:00:00 +0200\r\n\
                  Message-ID: <fixed.1@app.example>\r\n\
                  Subject: kept\r\n\r\nbody\r\n";
    sendmail(&env, &["bob@example.com"], input).expect_code(0);
    let m = server.only_message();
    assert_eq!(m.raw, input, "not a byte changed");
    // The configured from is the envelope sender (msmtp's rule), not the header's.
    assert_eq!(m.mail_from, "ada@example.com");
    assert_eq!(m.rcpt_tos, ["bob@example.com"]);
    let log = std::fs::read_to_string(env.data_home.join("missive/sent.log")).unwrap();
    assert!(log.contains("<fixed.1@app.example>"), "{log}");
}

#[test]
fn dash_f_and_dash_f_name_make_the_envelope_and_the_added_from() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = smtp_env(&server);
    sendmail(
        &env,
        &[
            "-oi",
            "-oem",
            "-odb",
            "-f",
            "cron@host.example",
            "-F",
            "Cron Daemon",
            "bob@example.com, carol@example.com",
        ],
        b"Subject: nightly\n\nall good\n",
    )
    .expect_code(0);
    let m = server.only_message();
    assert_eq!(m.mail_from, "cron@host.example");
    assert_eq!(m.rcpt_tos, ["bob@example.com", "carol@example.com"]);
    assert!(
        m.text()
            .starts_with("From: Cron Daemon <cron@host.example>\r\n"),
        "{}",
        m.text()
    );
    // Arguments only (no -t): the To header is not read, and none is invented.
    assert!(!m.text().contains("\r\nTo:"));
}

#[test]
fn without_dash_i_a_lone_dot_ends_the_message() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = smtp_env(&server);
    sendmail(
        &env,
        &["bob@example.com"],
        b"Subject: dot\n\nbefore\n.\nafter\n",
    )
    .expect_code(0);
    let m = server.only_message();
    assert!(m.text().ends_with("\r\n\r\nbefore\r\n"), "{}", m.text());
}

#[test]
fn plain_text_with_no_headers_is_a_body() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = smtp_env(&server);
    sendmail(&env, &["bob@example.com"], b"just some output\n").expect_code(0);
    let m = server.only_message();
    assert_eq!(
        m.parsed().body_text(0).as_deref(),
        Some("just some output\r\n")
    );
}

#[test]
fn exit_codes_follow_sysexits() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = smtp_env(&server);
    let msg = b"Subject: x\n\ny\n";
    // 64: no recipient, an unknown option, an unsupported mode.
    sendmail(&env, &[], msg).expect_code(64);
    sendmail(&env, &["-Z", "bob@example.com"], msg).expect_code(64);
    sendmail(&env, &["-bs"], msg).expect_code(64);
    sendmail(&env, &["not an address"], msg).expect_code(64);
    // 65: -t but the message names nobody; a broken header block; an empty message.
    sendmail(&env, &["-t"], msg).expect_code(65);
    sendmail(&env, &["bob@example.com"], b" continued\n\nx\n").expect_code(65);
    sendmail(&env, &["bob@example.com"], b"").expect_code(65);
    sendmail(&env, &["-t"], b"To: nobody\n\nx\n").expect_code(65);
    // 78: an unknown transport; a broken config file.
    sendmail(&env, &["-a", "nope", "bob@example.com"], msg).expect_code(78);
    let bad = env.file("bad.toml", "[transport.x]\nkind = \"pigeon\"\n");
    sendmail(
        &env,
        &["--config", bad.to_str().unwrap(), "bob@example.com"],
        msg,
    )
    .expect_code(78);
    assert!(server.received().is_empty());
    assert!(env.outbox().is_empty(), "nothing queued for refused input");
    // --config before the subcommand works too.
    let out = env
        .cmd()
        .args([
            "--config",
            bad.to_str().unwrap(),
            "sendmail",
            "bob@example.com",
        ])
        .write_stdin(msg.to_vec())
        .output()
        .unwrap();
    Run(out).expect_code(78);
}

#[test]
fn a_down_server_means_75_and_the_outbox_keeps_the_message_with_its_id() {
    let env = Env::new();
    env.write_config(&SmtpCfg::new(dead_port(), Mode::Plain, None).toml());
    let r = sendmail(
        &env,
        &["-t"],
        b"To: bob@example.com\nBcc: hidden@example.com\nMessage-ID: <q.1@example.com>\nSubject: later\n\nx\n",
    );
    r.expect_code(75);
    assert!(r.stderr().contains("outbox"), "{}", r.describe());
    let ob = env.outbox();
    assert_eq!(ob.len(), 1);
    assert_eq!(ob[0].1["message_id"], "<q.1@example.com>");
    let to = ob[0].1["envelope"]["to"].as_array().unwrap();
    assert_eq!(to.len(), 2, "the Bcc recipient stays in the envelope");
    let raw = std::fs::read(&ob[0].0).unwrap();
    assert!(!String::from_utf8_lossy(&raw).contains("Bcc"));
}

#[test]
fn invoked_as_sendmail_through_a_symlink() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = smtp_env(&server);
    let link = env.path().join("bin/sendmail");
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_missive"), &link).unwrap();
    let base = env.std_cmd();
    let mut child = std::process::Command::new(&link)
        .env_clear()
        .envs(base.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .current_dir(env.path())
        .args(["-oi", "-t"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"To: bob@example.com\nSubject: via link\n\nhi\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    Run(out).expect_code(0);
    assert_eq!(server.only_message().rcpt_tos, ["bob@example.com"]);
}

#[tokio::test]
async fn gmail_gets_the_bcc_header_and_delivers_to_it() {
    use gmail_common::*;
    let google = Google::start().await;
    let home = Home::new(&google, "");
    home.write_token(INITIAL_ACCESS, REFRESH, 3600);
    let mut child = home
        .command()
        .args(["sendmail", "-t"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"To: bob@example.com\nBcc: hidden@example.org\nSubject: api\n\nhi\n")
        .unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let st = google.state();
    let raw = &st.delivered[0];
    let msg = mail_parser::MessageParser::default()
        .parse(&raw[..])
        .unwrap();
    assert_eq!(
        msg.bcc().and_then(|b| b.first()).and_then(|a| a.address()),
        Some("hidden@example.org")
    );
    assert!(
        text(raw).starts_with("From: Ada Lovelace <ada@example.com>\r\n"),
        "{}",
        text(raw)
    );
    drop(st);
    home.assert_no_secrets(&out);
}

#[test]
fn git_send_email_drives_it_as_its_sendmail_cmd() {
    let have = std::process::Command::new("git")
        .args(["send-email", "--help"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        have,
        "git send-email is missing: install Debian's git-email (apt-get install git-email)"
    );
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = smtp_env(&server);
    let repo = env.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    let git = |args: &[&str]| {
        let out = env
            .std_cmd()
            .get_envs()
            .fold(std::process::Command::new("git"), |mut c, (k, v)| {
                if let Some(v) = v {
                    c.env(k, v);
                }
                c
            })
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Ada Lovelace")
            .env("GIT_AUTHOR_EMAIL", "ada@example.com")
            .env("GIT_COMMITTER_NAME", "Ada Lovelace")
            .env("GIT_COMMITTER_EMAIL", "ada@example.com")
            .current_dir(&repo)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    git(&["init", "-q"]);
    std::fs::write(repo.join("a.txt"), "one\n").unwrap();
    git(&["add", "a.txt"]);
    git(&["commit", "-q", "-m", "Add a.txt\n\nWith a body line."]);
    let cmd = format!("{} sendmail", env!("CARGO_BIN_EXE_missive"));
    git(&[
        "send-email",
        "--sendmail-cmd",
        &cmd,
        "--to",
        "Reviewer <rev@example.com>",
        "--cc",
        "list@example.com",
        "--from",
        "Ada Lovelace <ada@example.com>",
        "--confirm=never",
        "--suppress-cc=all",
        "-1",
    ]);
    let m = server.only_message();
    let mut rcpt = m.rcpt_tos.clone();
    rcpt.sort();
    assert_eq!(rcpt, ["list@example.com", "rev@example.com"]);
    let p = m.parsed();
    assert_eq!(p.subject(), Some("[PATCH] Add a.txt"));
    assert!(p.message_id().is_some_and(|id| !id.is_empty()));
    assert!(m.text().contains("+one"), "{}", m.text());
}

/// An internationalised domain goes into the envelope as A-labels, from the arguments
/// and from the headers with -t alike; with ASCII headers a server without SMTPUTF8
/// takes it.
#[test]
fn idn_recipients_travel_as_a_labels() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = smtp_env(&server);
    let input = "From: App <noreply@app.example>\r\nTo: Kim <kim@bücher.example>\r\n\
                 Subject: idn\r\n\r\nbody\r\n";
    sendmail(&env, &["-t", "lee@bücher.example"], input.as_bytes()).expect_code(0);
    let mut rcpt = server.only_message().rcpt_tos;
    rcpt.sort();
    assert_eq!(
        rcpt,
        ["kim@xn--bcher-kva.example", "lee@xn--bcher-kva.example"]
    );

    let strict = SmtpServer::start(ServerOpts::new(Mode::Plain).without_smtputf8(), None);
    let env = smtp_env(&strict);
    let input = b"From: App <noreply@app.example>\r\nSubject: idn\r\n\r\nbody\r\n";
    sendmail(&env, &["lee@bücher.example"], input).expect_code(0);
    let m = strict.only_message();
    assert_eq!(m.rcpt_tos, ["lee@xn--bcher-kva.example"]);
    assert!(!m.mail_options.iter().any(|o| o == "SMTPUTF8"));
}
