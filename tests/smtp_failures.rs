//! One test per way an SMTP send can fail. Each must exit 1, keep the exact message in
//! the outbox, print the outbox path on stderr, and deliver nothing (or, for a 4xx that
//! clears, deliver exactly once).

mod common;

use std::path::PathBuf;
use std::time::Instant;

use common::*;

const SUBJECT: &str = "outbox me";

fn send(env: &Env, to: &[&str]) -> Run {
    let body = env.file("body.txt", "Keep me safe.\n");
    let mut args = vec![
        "send".to_string(),
        "--subject".into(),
        SUBJECT.into(),
        "--text".into(),
        body.to_str().unwrap().into(),
    ];
    for t in to {
        args.push("--to".into());
        args.push((*t).into());
    }
    env.run(args)
}

/// Exit 1, stderr names the outbox file, which holds the message; returns the meta.
#[track_caller]
fn assert_kept_in_outbox(env: &Env, run: &Run) -> serde_json::Value {
    run.expect_code(1);
    let out = env.outbox();
    assert_eq!(
        out.len(),
        1,
        "expected one outbox entry\n{}",
        run.describe()
    );
    let (eml, meta) = out.into_iter().next().unwrap();
    assert!(
        run.stderr().contains(eml.to_str().unwrap()),
        "stderr does not give the outbox path {}\n{}",
        eml.display(),
        run.describe()
    );
    let raw = std::fs::read(&eml).unwrap();
    let m = parse(&raw);
    assert_eq!(m.subject(), Some(SUBJECT));
    assert_eq!(
        meta["message_id"].as_str(),
        Some(format!("<{}>", m.message_id().unwrap()).as_str()),
        "outbox meta and message disagree on the Message-ID"
    );
    assert_eq!(meta["transport"], "t");
    assert_eq!(meta["attempts"], 1);
    assert_eq!(meta["envelope"]["from"], "ada@example.com");
    assert!(
        !meta["last_error"].as_str().unwrap_or("").is_empty(),
        "no last_error in {meta}"
    );
    meta
}

#[test]
fn auth_refused() {
    let certs = Certs::new();
    let server = SmtpServer::start(
        ServerOpts::new(Mode::StartTls).auth(TEST_USER, TEST_PASSWORD),
        Some(&certs),
    );
    let mut env = Env::new();
    let cfg = SmtpCfg::new(server.port, Mode::StartTls, Some(&certs)).password_env(
        &mut env,
        TEST_USER,
        "not the password",
    );
    env.write_config(&cfg.toml());

    let run = send(&env, &["bob@example.net"]);
    let meta = assert_kept_in_outbox(&env, &run);
    assert!(
        run.stderr().contains("authentication failed"),
        "{}",
        run.describe()
    );
    assert!(meta["last_error"]
        .as_str()
        .unwrap()
        .contains("authentication"));
    run.assert_no_secret("not the password");
    assert!(server.received().is_empty());
}

#[test]
fn server_down() {
    let env = Env::new();
    env.write_config(&SmtpCfg::new(dead_port(), Mode::Plain, None).toml());
    let started = Instant::now();
    let run = send(&env, &["bob@example.net"]);
    assert_kept_in_outbox(&env, &run);
    assert!(run.stderr().contains("connecting"), "{}", run.describe());
    assert!(
        started.elapsed().as_secs() < 10,
        "a refused connection took {:?}",
        started.elapsed()
    );
}

#[test]
fn untrusted_certificate_starttls() {
    let certs = Certs::new();
    let server = SmtpServer::start(ServerOpts::new(Mode::StartTls), Some(&certs));
    let env = Env::new();
    let mut cfg = SmtpCfg::new(server.port, Mode::StartTls, Some(&certs));
    cfg.ca_override = Some(certs.other_ca.clone());
    env.write_config(&cfg.toml());

    let run = send(&env, &["bob@example.net"]);
    assert_kept_in_outbox(&env, &run);
    let err = run.stderr();
    assert!(err.contains("TLS"), "{}", run.describe());
    assert!(
        err.to_ascii_lowercase().contains("certificate"),
        "{}",
        run.describe()
    );
    assert!(server.received().is_empty());
}

#[test]
fn untrusted_certificate_implicit_tls() {
    let certs = Certs::new();
    let server = SmtpServer::start(ServerOpts::new(Mode::Tls), Some(&certs));
    let env = Env::new();
    let mut cfg = SmtpCfg::new(server.port, Mode::Tls, Some(&certs));
    cfg.ca_override = Some(certs.other_ca.clone());
    env.write_config(&cfg.toml());

    let run = send(&env, &["bob@example.net"]);
    assert_kept_in_outbox(&env, &run);
    let err = run.stderr();
    assert!(err.contains("TLS"), "{}", run.describe());
    assert!(
        err.to_ascii_lowercase().contains("certificate"),
        "{}",
        run.describe()
    );
    assert!(server.received().is_empty());
}

/// A server that only does plain text: STARTTLS is required, so nothing is sent in clear.
#[test]
fn starttls_not_offered() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let certs = Certs::new();
    let env = Env::new();
    env.write_config(&SmtpCfg::new(server.port, Mode::StartTls, Some(&certs)).toml());
    let run = send(&env, &["bob@example.net"]);
    assert_kept_in_outbox(&env, &run);
    assert!(run.stderr().contains("STARTTLS"), "{}", run.describe());
    assert!(server.received().is_empty());
}

#[test]
fn temporary_failure_is_retried_and_delivered_once() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain).fail_first_data(451), None);
    let env = Env::new();
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());
    let body = env.file("body.txt", "Second time lucky.\n");
    let started = Instant::now();
    let run = env.run([
        "send",
        "--json",
        "--to",
        "bob@example.net",
        "--subject",
        "retry",
        "--text",
        body.to_str().unwrap(),
    ]);
    run.expect_code(0);
    let took = started.elapsed();
    let got = server.only_message();
    assert_eq!(server.transactions(), ["451", "250"]);
    assert_eq!(got.parsed().subject(), Some("retry"));
    let j = run.json();
    assert_eq!(j["server_id"], got.queue_id.as_str());
    assert!(
        took.as_millis() >= 900,
        "no backoff before the retry ({took:?})"
    );
    assert!(took.as_secs() < 8, "the retry took {took:?}");
    assert!(
        env.outbox_files().is_empty(),
        "a delivered message is in the outbox"
    );
}

#[test]
fn recipient_rejected() {
    let server = SmtpServer::start(
        ServerOpts::new(Mode::Plain).reject_rcpt("nobody@example.net"),
        None,
    );
    let env = Env::new();
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());
    let run = send(&env, &["bob@example.net", "nobody@example.net"]);
    let meta = assert_kept_in_outbox(&env, &run);
    let err = run.stderr();
    assert!(err.contains("nobody@example.net"), "{}", run.describe());
    assert!(err.contains("550"), "{}", run.describe());
    assert_eq!(
        meta["envelope"]["to"],
        serde_json::json!(["bob@example.net", "nobody@example.net"])
    );
    assert!(server.received().is_empty());
}

#[test]
fn send_json_reports_the_failure() {
    let env = Env::new();
    env.write_config(&SmtpCfg::new(dead_port(), Mode::Plain, None).toml());
    let body = env.file("body.txt", "x\n");
    let run = env.run([
        "send",
        "--json",
        "--to",
        "bob@example.net",
        "--subject",
        SUBJECT,
        "--text",
        body.to_str().unwrap(),
    ]);
    let meta = assert_kept_in_outbox(&env, &run);
    let j = run.json();
    assert_eq!(j["message_id"], meta["message_id"]);
    assert_eq!(j["stage"], "connect");
    let outbox = PathBuf::from(j["outbox"].as_str().unwrap());
    assert!(outbox.is_file(), "{j}");
}

/// A 4xx that does not clear: a bounded number of attempts, then the outbox.
#[test]
fn persistent_temporary_failure_gives_up_to_the_outbox() {
    let server = SmtpServer::start(
        ServerOpts::new(Mode::Plain)
            .fail_first_data(451)
            .fail_count(100),
        None,
    );
    let env = Env::new();
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());
    let started = Instant::now();
    let run = send(&env, &["bob@example.net"]);
    let meta = assert_kept_in_outbox(&env, &run);
    let tries = server.transactions();
    assert!(
        (2..=4).contains(&tries.len()) && tries.iter().all(|t| t == "451"),
        "{tries:?}"
    );
    assert!(run.stderr().contains("451"), "{}", run.describe());
    assert!(meta["last_error"].as_str().unwrap().contains("451"));
    assert!(started.elapsed().as_secs() < 15, "{:?}", started.elapsed());
    assert!(server.received().is_empty());
}

/// A server that takes the message and never answers: the send times out (timeout = 1)
/// instead of hanging, and the message is kept.
#[test]
fn stalled_server_times_out() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain).stall_after_data(5), None);
    let env = Env::new();
    env.write_config(
        &SmtpCfg::new(server.port, Mode::Plain, None)
            .line("timeout = 1")
            .toml(),
    );
    let started = Instant::now();
    let run = send(&env, &["bob@example.net"]);
    assert_kept_in_outbox(&env, &run);
    assert!(run.stderr().contains("no answer"), "{}", run.describe());
    assert_eq!(
        server.transactions(),
        ["stall"],
        "a stalled send was retried"
    );
    assert!(
        started.elapsed().as_secs() < 6,
        "took {:?} with timeout = 1",
        started.elapsed()
    );
}

/// The configured AUTH mechanism is not on offer: say what the server does offer.
#[test]
fn auth_mechanism_not_offered() {
    let body_args = |env: &Env| {
        let body = env.file("body.txt", "x\n");
        vec![
            "send".to_string(),
            "--to".into(),
            "bob@example.net".into(),
            "--subject".into(),
            SUBJECT.into(),
            "--text".into(),
            body.to_str().unwrap().to_string(),
        ]
    };
    // No AUTH at all.
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let mut env = Env::new();
    let cfg = SmtpCfg::new(server.port, Mode::Plain, None).password_env(
        &mut env,
        TEST_USER,
        TEST_PASSWORD,
    );
    env.write_config(&cfg.toml());
    let run = env.run(body_args(&env));
    assert_kept_in_outbox(&env, &run);
    assert!(
        run.stderr()
            .contains("does not offer AUTH PLAIN (it offers: no AUTH at all)"),
        "{}",
        run.describe()
    );
    let check = env.run(["check"]);
    check.expect_code(1);
    assert!(
        check.stderr().contains("authentication failed"),
        "{}",
        check.describe()
    );
    assert!(server.received().is_empty());

    // Only XOAUTH2, but a password is configured.
    let certs = Certs::new();
    let server = SmtpServer::start(
        ServerOpts::new(Mode::StartTls).xoauth2(TEST_USER, "tok"),
        Some(&certs),
    );
    let mut env = Env::new();
    let cfg = SmtpCfg::new(server.port, Mode::StartTls, Some(&certs))
        .password_env(&mut env, TEST_USER, TEST_PASSWORD)
        .line("auth = \"login\"");
    env.write_config(&cfg.toml());
    let run = env.run(body_args(&env));
    assert_kept_in_outbox(&env, &run);
    assert!(
        run.stderr()
            .contains("does not offer AUTH LOGIN (it offers: XOAUTH2)"),
        "{}",
        run.describe()
    );
    run.assert_no_secret(TEST_PASSWORD);
}

/// security = "tls" against a server that speaks plain SMTP first, and "starttls" against
/// one that wants TLS from the first byte: both fail fast or within the timeout, with a
/// hint at the other setting.
#[test]
fn wrong_security_mode_gets_a_hint() {
    let certs = Certs::new();
    let plain = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = Env::new();
    env.write_config(&SmtpCfg::new(plain.port, Mode::Tls, Some(&certs)).toml());
    let run = send(&env, &["bob@example.net"]);
    assert_kept_in_outbox(&env, &run);
    assert!(run.stderr().contains("TLS failed"), "{}", run.describe());
    assert!(
        run.stderr().contains("security = \"starttls\""),
        "{}",
        run.describe()
    );
    let check = env.run(["check"]);
    check.expect_code(1);
    assert!(
        check.stderr().contains("security = \"starttls\""),
        "{}",
        check.describe()
    );

    let tls = SmtpServer::start(ServerOpts::new(Mode::Tls), Some(&certs));
    let env = Env::new();
    env.write_config(
        &SmtpCfg::new(tls.port, Mode::StartTls, Some(&certs))
            .line("timeout = 1")
            .toml(),
    );
    let started = Instant::now();
    let run = send(&env, &["bob@example.net"]);
    assert_kept_in_outbox(&env, &run);
    assert!(run.stderr().contains("no answer"), "{}", run.describe());
    assert!(
        run.stderr().contains("security = \"tls\""),
        "{}",
        run.describe()
    );
    assert!(started.elapsed().as_secs() < 6, "{:?}", started.elapsed());
    assert!(plain.received().is_empty() && tls.received().is_empty());
}

/// A certificate from a trusted CA but for another name is refused: host names are
/// verified, not just the chain. With security = "tls" and with STARTTLS, send and check.
#[test]
fn certificate_for_another_name() {
    let certs = Certs::new();
    for mode in [Mode::StartTls, Mode::Tls] {
        let server = SmtpServer::start(ServerOpts::new(mode).wrong_name_cert(), Some(&certs));
        let env = Env::new();
        env.write_config(&SmtpCfg::new(server.port, mode, Some(&certs)).toml());
        let run = send(&env, &["bob@example.net"]);
        assert_kept_in_outbox(&env, &run);
        let err = run.stderr();
        assert!(err.contains("TLS failed"), "{mode:?}: {}", run.describe());
        assert!(
            err.contains("NotValidForName") || err.contains("not valid for"),
            "{mode:?}: {}",
            run.describe()
        );
        let check = env.run(["check"]);
        check.expect_code(1);
        assert!(
            check.stderr().contains("TLS failed"),
            "{mode:?}: {}",
            check.describe()
        );
        assert!(server.received().is_empty());
    }
}
