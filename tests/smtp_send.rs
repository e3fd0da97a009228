//! `missive send` over SMTP against a real server (tests/smtp_server.py): every security
//! mode and auth mechanism, the exact round trip of a message, `--json`, `preview`, and
//! `missive check`.

mod common;

use common::*;
use mail_parser::MimeHeaders;

const TEXT_BODY: &str = "안녕하세요,\n\n회의 자료를 보냅니다.\n";

/// Send a small message and return the run plus the single received message.
fn send_simple(env: &Env, server: &SmtpServer, extra: &[&str]) -> (Run, Received) {
    let body = env.file("body.txt", TEXT_BODY);
    let mut args = vec![
        "send",
        "--to",
        "Bob <bob@example.net>",
        "--subject",
        "hello",
        "--text",
        body.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let run = env.run(&args);
    run.expect_code(0);
    let got = server.only_message();
    (run, got)
}

fn assert_delivered_simple(got: &Received) {
    assert_eq!(got.mail_from, "ada@example.com");
    assert_eq!(got.rcpt_tos, vec!["bob@example.net"]);
    let m = got.parsed();
    assert_eq!(m.subject(), Some("hello"));
    assert_eq!(
        m.body_text(0).unwrap().replace("\r\n", "\n"),
        TEXT_BODY,
        "body changed in transit"
    );
}

#[test]
fn starttls_with_auth_plain_and_password_env() {
    let certs = Certs::new();
    let server = SmtpServer::start(
        ServerOpts::new(Mode::StartTls).auth(TEST_USER, TEST_PASSWORD),
        Some(&certs),
    );
    let mut env = Env::new();
    let cfg = SmtpCfg::new(server.port, Mode::StartTls, Some(&certs))
        .password_env(&mut env, TEST_USER, TEST_PASSWORD)
        .line("auth = \"plain\"");
    env.write_config(&cfg.toml());

    let (run, got) = send_simple(&env, &server, &[]);
    assert_delivered_simple(&got);
    assert!(got.tls, "the message did not travel over TLS");
    assert!(
        got.mail_options.is_empty(),
        "needless MAIL FROM parameters for a 7-bit message: {:?}",
        got.mail_options
    );
    assert!(got.authenticated, "the session was not authenticated");
    run.assert_no_secret(TEST_PASSWORD);
    assert!(
        run.stdout()
            .contains(&format!("Server id: {}", got.queue_id)),
        "{}",
        run.describe()
    );
    assert!(env.outbox().is_empty());
}

/// The certificate is checked against the host name too (a DNS name in the SAN, not
/// only the IP address).
#[test]
fn starttls_to_a_host_name() {
    let certs = Certs::new();
    let server = SmtpServer::start(ServerOpts::new(Mode::StartTls), Some(&certs));
    let env = Env::new();
    let mut cfg = SmtpCfg::new(server.port, Mode::StartTls, Some(&certs));
    cfg.host = "localhost".into();
    env.write_config(&cfg.toml());
    let (_, got) = send_simple(&env, &server, &[]);
    assert!(got.tls);
    let run = env.run(["check"]);
    run.expect_code(0);
    assert!(
        run.stdout().contains("certificate for localhost verified"),
        "{}",
        run.describe()
    );
}

#[test]
fn implicit_tls_with_password_cmd() {
    let certs = Certs::new();
    let server = SmtpServer::start(
        ServerOpts::new(Mode::Tls).auth(TEST_USER, TEST_PASSWORD),
        Some(&certs),
    );
    let env = Env::new();
    let cfg = SmtpCfg::new(server.port, Mode::Tls, Some(&certs))
        .line(format!("username = {}", toml_str(TEST_USER)))
        .line(format!(
            "password_cmd = {}",
            toml_str(&format!("echo '{TEST_PASSWORD}'"))
        ));
    env.write_config(&cfg.toml());

    let (run, got) = send_simple(&env, &server, &[]);
    assert_delivered_simple(&got);
    assert!(got.tls && got.authenticated);
    run.assert_no_secret(TEST_PASSWORD);
}

#[test]
fn auth_login_over_starttls() {
    let certs = Certs::new();
    let server = SmtpServer::start(
        ServerOpts::new(Mode::StartTls).auth(TEST_USER, TEST_PASSWORD),
        Some(&certs),
    );
    let mut env = Env::new();
    let cfg = SmtpCfg::new(server.port, Mode::StartTls, Some(&certs))
        .password_env(&mut env, TEST_USER, TEST_PASSWORD)
        .line("auth = \"login\"");
    env.write_config(&cfg.toml());

    let (_, got) = send_simple(&env, &server, &[]);
    assert_delivered_simple(&got);
    assert!(got.authenticated);
}

#[test]
fn plain_to_loopback_without_auth() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = Env::new();
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());

    let (_, got) = send_simple(&env, &server, &[]);
    assert_delivered_simple(&got);
    assert!(!got.tls);
}

#[test]
fn plain_to_loopback_with_auth_login() {
    let server = SmtpServer::start(
        ServerOpts::new(Mode::Plain).auth(TEST_USER, TEST_PASSWORD),
        None,
    );
    let mut env = Env::new();
    let cfg = SmtpCfg::new(server.port, Mode::Plain, None)
        .password_env(&mut env, TEST_USER, TEST_PASSWORD)
        .line("auth = \"login\"");
    env.write_config(&cfg.toml());

    let (_, got) = send_simple(&env, &server, &[]);
    assert_delivered_simple(&got);
    assert!(got.authenticated);
}

#[test]
fn xoauth2_with_token_cmd() {
    let certs = Certs::new();
    let token = "ya29.test-access-token";
    let server = SmtpServer::start(
        ServerOpts::new(Mode::StartTls).xoauth2(TEST_USER, token),
        Some(&certs),
    );
    let mut env = Env::new();
    env.vars.push(("RUST_LOG".into(), "trace".into()));
    // The token comes from a file, so the command line itself holds no secret and any
    // appearance of the token in output or files is a leak. (The refused case below uses
    // the `echo TOKEN` form.)
    let token_file = env.file("token", format!("{token}\n"));
    let cfg = SmtpCfg::new(server.port, Mode::StartTls, Some(&certs))
        .line(format!("username = {}", toml_str(TEST_USER)))
        .line("auth = \"xoauth2\"")
        .line(format!(
            "token_cmd = {}",
            toml_str(&format!("cat '{}'", token_file.display()))
        ));
    env.write_config(&cfg.toml());

    let (run, got) = send_simple(&env, &server, &[]);
    assert_delivered_simple(&got);
    assert!(got.authenticated);
    run.assert_no_secret(token);
    let check = env.run(["check"]);
    check.expect_code(0);
    assert!(
        check
            .stdout()
            .contains("AUTH XOAUTH2 accepted for ada@example.com"),
        "{}",
        check.describe()
    );
    check.assert_no_secret(token);
    // Not in the log (at trace level) or any other file either, plain or as XOAUTH2 sends it.
    use base64::Engine as _;
    let blob = base64::engine::general_purpose::STANDARD
        .encode(format!("user={TEST_USER}\x01auth=Bearer {token}\x01\x01"));
    assert!(env.data_home.join("missive/missive.log").is_file());
    for f in walk(&env.data_home) {
        let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned();
        assert!(
            !text.contains(token) && !text.contains(&blob),
            "{} holds the token",
            f.display()
        );
    }

    // A wrong token is refused: exit 1, kept in the outbox.
    let cfg = SmtpCfg::new(server.port, Mode::StartTls, Some(&certs))
        .line(format!("username = {}", toml_str(TEST_USER)))
        .line("auth = \"xoauth2\"")
        .line("token_cmd = \"echo ya29.wrong\"");
    env.write_config(&cfg.toml());
    let body = env.file("body.txt", TEXT_BODY);
    let run = env.run([
        "send",
        "--to",
        "bob@example.net",
        "--text",
        body.to_str().unwrap(),
    ]);
    run.expect_code(1);
    let err = run.stderr();
    assert!(err.contains("authentication failed"), "{}", run.describe());
    // The server's reason (Gmail-style 334 JSON challenge, then 535) reaches the user.
    assert!(
        err.contains("refused the XOAUTH2 access token for ada@example.com"),
        "{}",
        run.describe()
    );
    assert!(err.contains("\"status\": \"400\""), "{}", run.describe());
    assert!(err.contains("535"), "{}", run.describe());
    assert_eq!(env.outbox().len(), 1);
    assert_eq!(server.received().len(), 1, "the refused send was delivered");
}

/// Everything at once: non-ASCII names and subject, text + HTML, a binary attachment with
/// a Korean file name, an extra header, awkward body lines, Cc and Bcc.
#[test]
fn round_trip_is_exact() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = Env::new();
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());

    let long_line = "y".repeat(1500);
    let text = format!(
        "안녕하세요 홍길동 님,\n\nFrom the start of a line.\n.\n{long_line}\n..two dots\nÜnïcödé ✓\n"
    );
    let html = "<p>회의 자료 <b>보냅니다</b></p>\n";
    let attachment = random_bytes(50_000);
    let text_file = env.file("body.txt", &text);
    let html_file = env.file("body.html", html);
    let att_file = env.file("보고서 2026.pdf", &attachment);

    let run = env.run([
        "send",
        "--json",
        "--to",
        "홍길동 <gildong@example.com>",
        "--cc",
        "\"Doe, Jane\" <jane@example.org>",
        "--bcc",
        "hidden@example.net",
        "--subject",
        "회의 자료 보냅니다",
        "--text",
        text_file.to_str().unwrap(),
        "--html",
        html_file.to_str().unwrap(),
        "--attach",
        att_file.to_str().unwrap(),
        "--header",
        "X-Foo: bar",
    ]);
    run.expect_code(0);
    let got = server.only_message();
    let raw = &got.raw;

    // The envelope carries all three; the headers never name the Bcc.
    assert_eq!(
        got.rcpt_tos,
        vec![
            "gildong@example.com",
            "jane@example.org",
            "hidden@example.net"
        ]
    );
    assert!(
        !got.text()
            .to_ascii_lowercase()
            .contains("hidden@example.net"),
        "the Bcc address is in the message"
    );
    assert!(
        !raw_headers(raw)
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("bcc")),
        "a Bcc header was sent"
    );

    // 7-bit clean, CRLF everywhere, no line over 998 octets, no From_ line.
    assert!(raw.is_ascii(), "not 7-bit clean");
    for (i, line) in crlf_lines(raw).iter().enumerate() {
        assert!(line.len() <= 998, "line {i} is {} octets", line.len());
        assert!(
            !line.starts_with(b"From "),
            "line {i} starts with \"From \" (mbox would mangle it)"
        );
    }
    // RFC 2231 for the file name, not RFC 2047 words.
    assert!(
        got.text()
            .contains("filename*=utf-8''%EB%B3%B4%EA%B3%A0%EC%84%9C%202026.pdf"),
        "no RFC 2231 filename:\n{}",
        got.text()
    );
    assert!(!got.text().contains("filename=\"=?"), "RFC 2047 file name");

    let m = got.parsed();
    assert_eq!(
        structure(&m),
        "multipart/mixed[multipart/alternative[text/plain,text/html],application/pdf]"
    );
    assert_eq!(m.subject(), Some("회의 자료 보냅니다"));
    let to = m.to().unwrap().first().unwrap();
    assert_eq!(to.name(), Some("홍길동"));
    assert_eq!(to.address(), Some("gildong@example.com"));
    let cc = m.cc().unwrap().first().unwrap();
    assert_eq!(cc.name(), Some("Doe, Jane"));
    assert_eq!(cc.address(), Some("jane@example.org"));
    let from = m.from().unwrap().first().unwrap();
    assert_eq!(from.name(), Some("Ada Lovelace"));
    assert_eq!(from.address(), Some("ada@example.com"));
    assert!(m.bcc().is_none());
    assert_eq!(m.header_raw("X-Foo").map(str::trim), Some("bar"));
    assert_eq!(m.body_text(0).unwrap().replace("\r\n", "\n"), text);
    assert_eq!(m.body_html(0).unwrap().replace("\r\n", "\n"), html);
    let atts: Vec<_> = m.attachments().collect();
    assert_eq!(atts.len(), 1);
    assert_eq!(atts[0].attachment_name(), Some("보고서 2026.pdf"));
    assert_eq!(
        atts[0].contents(),
        &attachment[..],
        "attachment bytes differ"
    );

    assert!(m.date().is_some(), "no Date header");
    assert_eq!(
        m.header_raw("MIME-Version").map(str::trim),
        Some("1.0"),
        "no MIME-Version"
    );

    // A second, independent reader (Python's email package) agrees on everything.
    let py = &got.python;
    assert!(py.get("error").is_none(), "python could not parse: {py}");
    assert_eq!(py["defects"], serde_json::json!([]), "python found defects");
    assert_eq!(py["subject"], "회의 자료 보냅니다");
    assert_eq!(
        py["to"],
        serde_json::json!([["홍길동", "gildong@example.com"]])
    );
    assert_eq!(
        py["cc"],
        serde_json::json!([["Doe, Jane", "jane@example.org"]])
    );
    assert_eq!(
        py["from"],
        serde_json::json!([["Ada Lovelace", "ada@example.com"]])
    );
    assert_eq!(py["bcc_header"], false);
    assert_eq!(
        py["text"].as_str().unwrap().replace("\r\n", "\n"),
        text,
        "python reads another text body"
    );
    assert_eq!(py["html"].as_str().unwrap().replace("\r\n", "\n"), html);
    assert_eq!(
        py["attachments"],
        serde_json::json!([{
            "filename": "보고서 2026.pdf",
            "content_type": "application/pdf",
            "size": attachment.len(),
            "sha256": sha256_hex(&attachment),
        }])
    );

    // send --json: the facts match what the server saw.
    let j = run.json();
    let mid = m.message_id().expect("no Message-ID header");
    assert_eq!(j["message_id"], format!("<{mid}>"));
    assert_eq!(j["server_id"], got.queue_id.as_str());
    assert_eq!(
        j["response"],
        format!("250 2.0.0 Ok: queued as {}", got.queue_id)
    );
    assert_eq!(j["transport"], "t");
    assert_eq!(j["kind"], "smtp");
    assert_eq!(
        j["recipients"],
        serde_json::json!([
            "gildong@example.com",
            "jane@example.org",
            "hidden@example.net"
        ])
    );
    assert_eq!(j["bytes"].as_u64(), Some(raw.len() as u64));

    // preview --raw builds the same bytes (boundaries, Date and Message-ID aside).
    let preview = env.run([
        "preview",
        "--raw",
        "--to",
        "홍길동 <gildong@example.com>",
        "--cc",
        "\"Doe, Jane\" <jane@example.org>",
        "--bcc",
        "hidden@example.net",
        "--subject",
        "회의 자료 보냅니다",
        "--text",
        text_file.to_str().unwrap(),
        "--html",
        html_file.to_str().unwrap(),
        "--attach",
        att_file.to_str().unwrap(),
        "--header",
        "X-Foo: bar",
    ]);
    preview.expect_code(0);
    assert_eq!(
        normalize(&preview.0.stdout),
        normalize(raw),
        "preview --raw differs from what was sent"
    );
    assert_eq!(server.received().len(), 1, "preview sent something");
}

#[test]
fn markdown_derives_an_html_alternative() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = Env::new();
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());
    let md = "# 제목\n\nSome *emphasis* and a [link](https://example.com).\n";
    let body = env.file("body.md", md);
    env.run([
        "send",
        "--to",
        "bob@example.net",
        "--subject",
        "md",
        "--markdown",
        "--text",
        body.to_str().unwrap(),
    ])
    .expect_code(0);
    let got = server.only_message();
    assert!(got.raw.is_ascii());
    let m = got.parsed();
    assert_eq!(structure(&m), "multipart/alternative[text/plain,text/html]");
    assert_eq!(m.body_text(0).unwrap().replace("\r\n", "\n"), md);
    let html = m.body_html(0).unwrap();
    assert!(html.contains("<h1>제목</h1>"), "{html}");
    assert!(html.contains("<em>emphasis</em>"), "{html}");
    assert!(
        html.contains("<a href=\"https://example.com\">link</a>"),
        "{html}"
    );
}

#[test]
fn single_text_part_from_stdin() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = Env::new();
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());
    env.cmd()
        .args([
            "send",
            "--to",
            "bob@example.net",
            "--subject",
            "s",
            "--text",
            "-",
        ])
        .write_stdin("from stdin\n")
        .assert()
        .success();
    let got = server.only_message();
    let m = got.parsed();
    assert_eq!(structure(&m), "text/plain");
    assert_eq!(m.body_text(0).unwrap().trim_end(), "from stdin");
}

/// A plain 7-bit body in a single-part message must come back exactly, without a blank
/// line added at the end.
#[test]
fn single_part_7bit_body_round_trips_exactly() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = Env::new();
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());
    let body = env.file("body.txt", "line one\nline two\n");
    env.run([
        "send",
        "--to",
        "bob@example.net",
        "--subject",
        "s",
        "--text",
        body.to_str().unwrap(),
    ])
    .expect_code(0);
    let got = server.only_message();
    assert!(
        got.raw.ends_with(b"\r\n\r\nline one\r\nline two\r\n"),
        "the body gained or lost bytes: {:?}",
        got.text()
    );
    let m = got.parsed();
    assert_eq!(
        m.body_text(0).unwrap().replace("\r\n", "\n"),
        "line one\nline two\n"
    );
}

#[test]
fn preview_json_has_the_spec_shape_and_sends_nothing() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = Env::new();
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());
    let text = env.file("body.txt", "hello\n");
    let html = env.file("body.html", "<p>hello</p>\n");
    let att = env.file("보고서 2026.pdf", random_bytes(3000));
    let run = env.run([
        "preview",
        "--json",
        "--to",
        "bob@example.net",
        "--bcc",
        "hidden@example.net",
        "--subject",
        "회의",
        "--text",
        text.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
        "--attach",
        att.to_str().unwrap(),
    ]);
    run.expect_code(0);
    let j = run.json();

    fn check_node(n: &serde_json::Value, path: &str) {
        for k in ["content_type", "encoding", "size", "filename", "children"] {
            assert!(n.get(k).is_some(), "{path}: no {k:?} in {n}");
        }
        assert!(n["content_type"].is_string(), "{path}: content_type");
        assert!(n["size"].is_u64(), "{path}: size");
        assert!(
            n["filename"].is_null() || n["filename"].is_string(),
            "{path}: filename"
        );
        for (i, c) in n["children"].as_array().unwrap().iter().enumerate() {
            check_node(c, &format!("{path}/{i}"));
        }
    }
    check_node(&j, "root");
    assert_eq!(j["transport"], "t");
    assert!(
        j["size_limit"].is_null(),
        "SMTP has no known size limit: {j}"
    );
    assert!(j["headers"].is_object(), "root headers: {j}");
    let headers = j["headers"].as_object().unwrap();
    assert!(
        headers.keys().any(|k| k.eq_ignore_ascii_case("subject")),
        "{j}"
    );
    assert!(
        !headers.keys().any(|k| k.eq_ignore_ascii_case("bcc")),
        "Bcc in the preview headers of an SMTP message: {j}"
    );
    assert!(j["content_type"]
        .as_str()
        .unwrap()
        .starts_with("multipart/mixed"));
    let kids = j["children"].as_array().unwrap();
    assert_eq!(kids.len(), 2, "{j}");
    assert!(kids[0]["content_type"]
        .as_str()
        .unwrap()
        .starts_with("multipart/alternative"));
    assert_eq!(kids[0]["children"].as_array().unwrap().len(), 2);
    assert_eq!(kids[1]["filename"], "보고서 2026.pdf");
    assert_eq!(kids[1]["encoding"], "base64");
    // 3000 bytes in base64: 4000 characters plus a CRLF per line of at most 76.
    let size = kids[1]["size"].as_u64().unwrap();
    assert!(
        (4000..=4000 + 2 * 54 + 2).contains(&size),
        "attachment size {size}: {j}"
    );

    assert!(server.received().is_empty(), "preview sent something");
    assert!(env.outbox_files().is_empty());
}

#[test]
fn check_reports_tls_and_auth() {
    let certs = Certs::new();
    let server = SmtpServer::start(
        ServerOpts::new(Mode::StartTls).auth(TEST_USER, TEST_PASSWORD),
        Some(&certs),
    );
    let mut env = Env::new();
    let cfg = SmtpCfg::new(server.port, Mode::StartTls, Some(&certs)).password_env(
        &mut env,
        TEST_USER,
        TEST_PASSWORD,
    );
    env.write_config(&cfg.toml());

    let run = env.run(["check"]);
    run.expect_code(0);
    let out = run.stdout();
    assert!(
        out.contains("TLS 1.3") || out.contains("TLS 1.2"),
        "no TLS version: {}",
        run.describe()
    );
    assert!(out.contains("STARTTLS"), "{}", run.describe());
    assert!(out.contains("AUTH PLAIN accepted"), "{}", run.describe());
    run.assert_no_secret(TEST_PASSWORD);
    assert!(server.received().is_empty(), "check sent a message");

    // Wrong password: the failing step is named, exit 1.
    env.vars.retain(|(k, _)| k != "MISSIVE_TEST_PASSWORD");
    env.vars
        .push(("MISSIVE_TEST_PASSWORD".into(), "wrong password".into()));
    let run = env.run(["check", "t"]);
    run.expect_code(1);
    let err = run.stderr();
    assert!(err.contains("authentication failed"), "{}", run.describe());
    assert!(err.contains("535"), "{}", run.describe());
    run.assert_no_secret("wrong password");
}

#[test]
fn check_implicit_tls_and_untrusted() {
    let certs = Certs::new();
    let server = SmtpServer::start(ServerOpts::new(Mode::Tls), Some(&certs));
    let env = Env::new();
    env.write_config(&SmtpCfg::new(server.port, Mode::Tls, Some(&certs)).toml());
    let run = env.run(["check"]);
    run.expect_code(0);
    assert!(run.stdout().contains("TLS 1."), "{}", run.describe());
    assert!(
        run.stdout().contains("certificate for 127.0.0.1 verified"),
        "{}",
        run.describe()
    );

    let mut cfg = SmtpCfg::new(server.port, Mode::Tls, Some(&certs));
    cfg.ca_override = Some(certs.other_ca.clone());
    env.write_config(&cfg.toml());
    let run = env.run(["check"]);
    run.expect_code(1);
    let err = run.stderr().to_ascii_lowercase();
    assert!(
        err.contains("tls") && err.contains("certificate"),
        "{}",
        run.describe()
    );
}

/// Secrets never reach stdout, stderr, the log (even at trace level), the sent log or the
/// outbox, whether the send works or not.
#[test]
fn secrets_stay_out_of_output_and_files() {
    let certs = Certs::new();
    let server = SmtpServer::start(
        ServerOpts::new(Mode::StartTls).auth(TEST_USER, TEST_PASSWORD),
        Some(&certs),
    );
    let mut env = Env::new();
    env.vars.push(("RUST_LOG".into(), "trace".into()));
    let cfg = SmtpCfg::new(server.port, Mode::StartTls, Some(&certs)).password_env(
        &mut env,
        TEST_USER,
        TEST_PASSWORD,
    );
    env.write_config(&cfg.toml());
    let (ok, _) = send_simple(&env, &server, &[]);
    ok.assert_no_secret(TEST_PASSWORD);

    // And a refused login, which goes to the outbox with its error.
    env.vars.retain(|(k, _)| k != "MISSIVE_TEST_PASSWORD");
    env.vars
        .push(("MISSIVE_TEST_PASSWORD".into(), "WrongSecret-42".into()));
    let body = env.file("body.txt", "x\n");
    let bad = env.run([
        "send",
        "--to",
        "bob@example.net",
        "--text",
        body.to_str().unwrap(),
    ]);
    bad.expect_code(1);
    bad.assert_no_secret("WrongSecret-42");
    assert_eq!(env.outbox().len(), 1);

    // AUTH PLAIN's base64 blob would leak the password as surely as the password.
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let needles = [
        TEST_PASSWORD.to_string(),
        "WrongSecret-42".to_string(),
        b64(&format!("\0{TEST_USER}\0{TEST_PASSWORD}")),
        b64(&format!("\0{TEST_USER}\0WrongSecret-42")),
        b64(TEST_PASSWORD),
    ];
    let mut checked = 0;
    for entry in walk(&env.data_home) {
        let bytes = std::fs::read(&entry).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for n in &needles {
            assert!(
                !text.contains(n.as_str()),
                "{} holds a secret ({n:?})",
                entry.display()
            );
        }
        checked += 1;
    }
    assert!(
        env.data_home.join("missive/missive.log").is_file(),
        "no log file was written, so the check above proves little"
    );
    assert!(checked >= 3, "only {checked} files checked");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// A 3 MB attachment over STARTTLS: several DATA chunks, bytes intact, size reported.
#[test]
fn large_attachment_over_starttls() {
    let certs = Certs::new();
    let server = SmtpServer::start(ServerOpts::new(Mode::StartTls), Some(&certs));
    let env = Env::new();
    env.write_config(&SmtpCfg::new(server.port, Mode::StartTls, Some(&certs)).toml());
    let data = random_bytes(3 * 1024 * 1024 + 17);
    let att = env.file("big.bin", &data);
    let dat = env.file("table.dat", random_bytes(1000));
    let body = env.file("body.txt", "big one\n");
    let run = env.run([
        "send",
        "--json",
        "--to",
        "bob@example.net",
        "--subject",
        "big",
        "--text",
        body.to_str().unwrap(),
        "--attach",
        att.to_str().unwrap(),
        "--attach",
        &format!("{};type=application/x-missive-test", dat.display()),
    ]);
    run.expect_code(0);
    let got = server.only_message();
    assert!(got.tls);
    assert_eq!(run.json()["bytes"].as_u64(), Some(got.raw.len() as u64));
    for line in crlf_lines(&got.raw) {
        assert!(line.len() <= 998);
    }
    let m = got.parsed();
    assert_eq!(
        structure(&m),
        "multipart/mixed[text/plain,application/octet-stream,application/x-missive-test]"
    );
    let atts: Vec<_> = m.attachments().collect();
    assert_eq!(atts[0].attachment_name(), Some("big.bin"));
    assert!(atts[0].contents() == &data[..], "big attachment corrupted");
    assert_eq!(atts[1].attachment_name(), Some("table.dat"));
    assert!(
        atts[1].contents() == std::fs::read(&dat).unwrap(),
        "table.dat corrupted"
    );
}

/// Text files attached with Unix line endings: the message must stay CRLF-only on the
/// wire (bare LF is refused by many servers) and the file must arrive byte for byte,
/// whatever relays do to line endings, so attachments are base64, never 7bit.
#[test]
fn text_attachments_are_exact_and_crlf_clean() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = Env::new();
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());
    let body = env.file("body.txt", "see attached\n");
    let unix = b"a,b\n1,2\nFrom here\n.\n".to_vec();
    let dos = b"line one\r\nline two".to_vec();
    let a = env.file("notes.txt", &unix);
    let b = env.file("table.dat", &dos);
    env.run([
        "send",
        "--to",
        "bob@example.net",
        "--subject",
        "text files",
        "--text",
        body.to_str().unwrap(),
        "--attach",
        a.to_str().unwrap(),
        "--attach",
        &format!("{};type=text/csv", b.display()),
    ])
    .expect_code(0);
    let got = server.only_message();
    let bare_lf = got
        .raw
        .iter()
        .enumerate()
        .filter(|(i, &c)| c == b'\n' && (*i == 0 || got.raw[i - 1] != b'\r'))
        .count();
    assert_eq!(bare_lf, 0, "bare LF on the wire:\n{}", got.text());
    let m = got.parsed();
    let atts: Vec<_> = m.attachments().collect();
    assert_eq!(atts.len(), 2);
    assert_eq!(atts[0].contents(), &unix[..], "notes.txt changed");
    assert_eq!(atts[1].contents(), &dos[..], "table.dat changed");
    assert!(
        atts.iter()
            .all(|a| a.content_transfer_encoding() == Some("base64")),
        "attachments not base64:\n{}",
        got.text()
    );
}

/// Windows line endings, trailing spaces, tabs and a final line without a newline come
/// back as written (line endings normalised to CRLF on the wire).
#[test]
fn awkward_text_survives() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = Env::new();
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());
    let text = "trailing spaces   \r\n\ttab\r\n.\r\n..\r\nFrom me\r\n한국어 끝";
    let html = "<p>x</p>";
    let t = env.file("body.txt", text);
    let h = env.file("body.html", html);
    env.run([
        "send",
        "--to",
        "bob@example.net",
        "--subject",
        "awkward",
        "--text",
        t.to_str().unwrap(),
        "--html",
        h.to_str().unwrap(),
    ])
    .expect_code(0);
    let got = server.only_message();
    assert!(got.raw.is_ascii());
    let body_start = got.text().find("\r\n\r\n").unwrap() + 4;
    for line in crlf_lines(&got.raw[body_start..]) {
        assert!(!line.starts_with(b"From "));
        assert!(
            !line.ends_with(b" ") && !line.ends_with(b"\t"),
            "trailing whitespace on the wire would be stripped by some relays: {:?}",
            String::from_utf8_lossy(line)
        );
    }
    let m = got.parsed();
    assert_eq!(m.body_text(0).unwrap(), text);
    assert_eq!(m.body_html(0).unwrap(), html);
}

#[test]
fn check_names_the_failing_step() {
    // Nothing listening.
    let env = Env::new();
    env.write_config(&SmtpCfg::new(dead_port(), Mode::Plain, None).toml());
    let run = env.run(["check"]);
    run.expect_code(1);
    assert!(
        run.stderr().contains("connecting failed"),
        "{}",
        run.describe()
    );

    // A server without STARTTLS when STARTTLS is required.
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let certs = Certs::new();
    env.write_config(&SmtpCfg::new(server.port, Mode::StartTls, Some(&certs)).toml());
    let run = env.run(["check"]);
    run.expect_code(1);
    assert!(run.stderr().contains("STARTTLS"), "{}", run.describe());

    // An unknown transport is a usage error.
    let run = env.run(["check", "nope"]);
    run.expect_code(2);
    assert!(run.stderr().contains("nope"), "{}", run.describe());
}

/// No line over 998 octets, even in headers: a subject, an extra header or a display name
/// with a very long unbroken word must be encoded so it can fold (or be refused with exit
/// 2), never sent as one overlong line.
#[test]
fn long_unbroken_header_words_stay_within_998() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = Env::new();
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());
    let body = env.file("body.txt", "x\n");
    let word = "a".repeat(2000);
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("subject", vec!["--subject".into(), word.clone()]),
        ("header", vec!["--header".into(), format!("X-Long: {word}")]),
        (
            "display name",
            vec![
                "--cc".into(),
                format!("{} <c@example.net>", "n".repeat(1200)),
            ],
        ),
    ];
    for (what, extra) in cases {
        let mut args = vec![
            "send".to_string(),
            "--to".into(),
            "bob@example.net".into(),
            "--text".into(),
            body.to_str().unwrap().into(),
        ];
        args.extend(extra);
        let before = server.received().len();
        let run = env.run(&args);
        match run.code() {
            Some(2) => {
                // Refusing is acceptable if it says why and sends nothing.
                assert_eq!(server.received().len(), before, "{what}");
                assert!(!run.stderr().is_empty(), "{what}: {}", run.describe());
            }
            Some(0) => {
                let got = server.received().pop().unwrap();
                for (i, line) in crlf_lines(&got.raw).iter().enumerate() {
                    assert!(
                        line.len() <= 998,
                        "{what}: line {i} is {} octets: {}...",
                        line.len(),
                        String::from_utf8_lossy(&line[..60])
                    );
                }
                let m = got.parsed();
                match what {
                    "subject" => assert_eq!(m.subject(), Some(word.as_str())),
                    // An unstructured header too long to fold is sent as RFC 2047
                    // encoded words; the reader gets the same text back.
                    // mail-parser leaves X- headers undecoded: decode the value as
                    // an unstructured header of its own.
                    "header" => {
                        let v = m.header_raw("X-Long").expect("X-Long").trim().to_string();
                        let hdr = format!("Subject: {v}\r\n\r\n");
                        let decoded = mail_parser::MessageParser::default()
                            .parse_headers(hdr.as_bytes())
                            .and_then(|h| h.subject().map(str::to_string));
                        assert_eq!(decoded.as_deref(), Some(word.as_str()))
                    }
                    _ => assert_eq!(
                        m.cc().unwrap().first().unwrap().name(),
                        Some("n".repeat(1200).as_str())
                    ),
                }
            }
            _ => panic!("{what}: {}", run.describe()),
        }
    }
}

/// Awkward attachment names come back exactly: quotes and backslashes, `;` and `=`, long
/// ASCII (RFC 2231 continuations), long CJK, emoji. Control characters become `_`.
#[test]
fn attachment_names_round_trip() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = Env::new();
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());
    let body = env.file("body.txt", "names\n");
    let long_ascii = format!("{}.pdf", "long_".repeat(20));
    let names = [
        "we\"ird\\name.txt".to_string(),
        "semi;colon = x.bin".to_string(),
        long_ascii,
        "日本語のとても長いファイル名ですがどうでしょうか、本当に長いです.docx".to_string(),
        "emoji 😀.png".to_string(),
        "tab\tname.dat".to_string(),
    ];
    let mut args = vec![
        "send".to_string(),
        "--to".into(),
        "bob@example.net".into(),
        "--text".into(),
        body.to_str().unwrap().into(),
    ];
    let mut contents = Vec::new();
    for (i, n) in names.iter().enumerate() {
        // Printable content: mail-parser hands text/* parts back as decoded text.
        let bytes: Vec<u8> = random_bytes(100 + i)
            .iter()
            .flat_map(|b| format!("{b:02x}").into_bytes())
            .collect();
        let p = env.file(&format!("att{i}/{n}"), &bytes);
        contents.push(bytes);
        args.push("--attach".into());
        args.push(p.to_str().unwrap().into());
    }
    env.run(&args).expect_code(0);
    let got = server.only_message();
    assert!(got.raw.is_ascii());
    assert!(
        !got.text().contains("=?utf-8?"),
        "an RFC 2047 word in the message (file names must use RFC 2231):\n{}",
        got.text()
    );
    let m = got.parsed();
    let atts: Vec<_> = m.attachments().collect();
    assert_eq!(atts.len(), names.len());
    for (i, a) in atts.iter().enumerate() {
        let want = names[i].replace('\t', "_");
        assert_eq!(a.attachment_name(), Some(want.as_str()), "attachment {i}");
        assert!(a.contents() == &contents[i][..], "attachment {i} bytes");
        // Python's email package reads the same names and bytes.
        let py = &got.python["attachments"][i];
        assert_eq!(py["filename"], want.as_str(), "python, attachment {i}");
        assert_eq!(
            py["sha256"],
            sha256_hex(&contents[i]),
            "python, attachment {i}"
        );
    }
    assert_eq!(got.python["defects"], serde_json::json!([]));
}

/// Internationalised addresses (RFC 6531) go out with SMTPUTF8 when the server offers it,
/// and are refused clearly (kept in the outbox) when it does not.
#[test]
fn utf8_addresses_use_smtputf8() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = Env::new();
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());
    let body = env.file("body.txt", "x\n");
    env.run([
        "send",
        "--to",
        "홍길동@example.com",
        "--subject",
        "eai",
        "--text",
        body.to_str().unwrap(),
    ])
    .expect_code(0);
    let got = server.only_message();
    assert_eq!(got.rcpt_tos, ["홍길동@example.com"]);
    assert!(
        got.mail_options.iter().any(|o| o == "SMTPUTF8"),
        "{:?}",
        got.mail_options
    );

    let old = SmtpServer::start(ServerOpts::new(Mode::Plain).without_smtputf8(), None);
    env.write_config(&SmtpCfg::new(old.port, Mode::Plain, None).toml());
    let run = env.run([
        "send",
        "--to",
        "홍길동@example.com",
        "--subject",
        "eai",
        "--text",
        body.to_str().unwrap(),
    ]);
    run.expect_code(1);
    assert!(run.stderr().contains("SMTPUTF8"), "{}", run.describe());
    assert!(
        run.stderr().contains("홍길동@example.com"),
        "{}",
        run.describe()
    );
    assert!(old.received().is_empty());
    assert_eq!(env.outbox().len(), 1);
}

/// The same mailbox in To, Cc and Bcc (domains compare case-insensitively) is one
/// envelope recipient: one RCPT TO, one copy delivered.
#[test]
fn duplicate_recipients_get_one_rcpt() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = Env::new();
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());
    let body = env.file("body.txt", "once\n");
    let run = env.run([
        "send",
        "--json",
        "--to",
        "Bob <bob@example.net>, carol@example.org",
        "--cc",
        "bob@EXAMPLE.net",
        "--bcc",
        "bob@example.net",
        "--text",
        body.to_str().unwrap(),
    ]);
    run.expect_code(0);
    let got = server.only_message();
    assert_eq!(got.rcpt_tos, ["bob@example.net", "carol@example.org"]);
    assert_eq!(
        run.json()["recipients"],
        serde_json::json!(["bob@example.net", "carol@example.org"])
    );
}

/// A subject that merely looks like an RFC 2047 encoded word must be protected (encoded
/// itself), or every reader decodes it into something else.
#[test]
fn literal_encoded_word_syntax_in_subject_survives() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = Env::new();
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());
    let body = env.file("body.txt", "x\n");
    let subject = "about =?utf-8?q?hack?= words";
    env.run([
        "send",
        "--to",
        "bob@example.net",
        "--subject",
        subject,
        "--text",
        body.to_str().unwrap(),
    ])
    .expect_code(0);
    let got = server.only_message();
    assert_eq!(got.parsed().subject(), Some(subject), "mail-parser");
    assert_eq!(got.python["subject"], subject, "Python's email package");
}
