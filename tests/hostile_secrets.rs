//! Issue 8, secrets echoed by a server: an SMTP server that quotes the AUTH PLAIN or
//! XOAUTH2 string (and the decoded password) in its 535 reply must not get any of it into
//! stderr, the outbox, the log or the composer's screen.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use base64::Engine as _;
use common::*;

/// A server that offers AUTH and answers every AUTH with a 535 quoting what it got,
/// base64 and decoded.
fn echo_server() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(s) = conn else { return };
            std::thread::spawn(move || {
                let mut w = s.try_clone().unwrap();
                let mut r = BufReader::new(s);
                let _ = w.write_all(b"220 echo ESMTP\r\n");
                let mut line = String::new();
                while matches!(r.read_line(&mut line), Ok(n) if n > 0) {
                    let l = line.trim_end().to_string();
                    line.clear();
                    let up = l.to_ascii_uppercase();
                    let reply = if up.starts_with("EHLO") {
                        "250-echo\r\n250 AUTH PLAIN LOGIN XOAUTH2\r\n".to_string()
                    } else if up.starts_with("AUTH") {
                        let b64 = l.rsplit(' ').next().unwrap_or("");
                        let decoded = base64::engine::general_purpose::STANDARD
                            .decode(b64)
                            .map(|d| String::from_utf8_lossy(&d).replace(['\0', '\x01'], " "))
                            .unwrap_or_default();
                        format!("535-5.7.8 rejected {l}\r\n535 5.7.8 decoded: {decoded}\r\n")
                    } else if up.starts_with("QUIT") {
                        let _ = w.write_all(b"221 bye\r\n");
                        return;
                    } else {
                        "250 ok\r\n".to_string()
                    };
                    if w.write_all(reply.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

fn scan(env: &Env, run: &Run, secrets: &[String]) {
    let data = env.data_home.join("missive");
    let mut places = vec![
        ("stdout".to_string(), run.stdout()),
        ("stderr".to_string(), run.stderr()),
    ];
    let mut stack = vec![data];
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            for e in std::fs::read_dir(&p).unwrap() {
                stack.push(e.unwrap().path());
            }
        } else {
            let text = String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned();
            places.push((p.display().to_string(), text));
        }
    }
    for (where_, text) in &places {
        for s in secrets {
            assert!(
                !text.contains(s.as_str()),
                "{s:?} leaked into {where_}:\n{text}"
            );
        }
    }
}

/// An env whose transport `t` logs in to a fresh `echo_server` with `password`.
fn password_env(password: &str) -> Env {
    let port = echo_server();
    let env = Env::new();
    env.write_config(&format!(
        "[transport.t]\nkind = \"smtp\"\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\ntimeout = 5\nusername = \"{TEST_USER}\"\npassword_cmd = \"echo '{password}'\"\n"
    ));
    env
}

/// What must not show anywhere: the password, and the AUTH PLAIN string that carries it
/// (whole, without its padding, and base64 of the password alone).
fn password_secrets(password: &str) -> Vec<String> {
    let plain =
        base64::engine::general_purpose::STANDARD.encode(format!("\0{TEST_USER}\0{password}"));
    vec![
        password.to_string(),
        plain.trim_end_matches('=').to_string(),
        plain,
        base64::engine::general_purpose::STANDARD.encode(password),
    ]
}

#[test]
fn echoed_auth_plain_and_password_are_redacted_everywhere() {
    let password = "Tr0ub4dor&3-secret";
    let env = password_env(password);
    let mut cmd = env.cmd();
    cmd.env("RUST_LOG", "debug");
    let run = Run(cmd
        .args(["send", "--to", "bob@example.net", "--subject", "s"])
        .output()
        .unwrap());
    assert_ne!(run.code(), Some(0), "{}", run.describe());
    assert!(run.stderr().contains("535"), "{}", run.describe());
    assert!(run.stderr().contains("[redacted]"), "{}", run.describe());
    scan(&env, &run, &password_secrets(password));
}

#[test]
fn echoed_xoauth2_string_and_token_are_redacted_everywhere() {
    let port = echo_server();
    let token = "ya29.A0ARrdaM-very-secret-token";
    let env = Env::new();
    env.write_config(&format!(
        "[transport.t]\nkind = \"smtp\"\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\ntimeout = 5\nusername = \"{TEST_USER}\"\nauth = \"xoauth2\"\ntoken_cmd = \"echo {token}\"\n"
    ));
    for args in [vec!["send", "--to", "bob@example.net"], vec!["check"]] {
        let run = env.run(&args);
        assert_ne!(run.code(), Some(0), "{}", run.describe());
        let x = base64::engine::general_purpose::STANDARD
            .encode(format!("user={TEST_USER}\x01auth=Bearer {token}\x01\x01"));
        scan(
            &env,
            &run,
            &[
                token.to_string(),
                x.clone(),
                x.trim_end_matches('=').to_string(),
            ],
        );
    }
}

/// The composer's error popup shows what the transport reported, which the transport
/// already scrubbed: the server's 535 is on screen, the password and the AUTH string
/// it echoed are not.
#[test]
fn echoed_secrets_never_reach_the_composer_screen() {
    use missive::config::Config;
    use missive::engine::Engine;
    use missive::message::Draft;
    use missive::paths::Paths;
    use missive::ui::worker::Event;
    use std::sync::Arc;

    let password = "Tr0ub4dor&3-popup";
    let env = password_env(password);
    let paths = Paths::at(
        env.config_home.join("missive"),
        env.data_home.join("missive"),
    );
    let config = Config::load(Some(env.config_path().as_path()), &paths).expect("config");
    let engine = Arc::new(Engine::new(paths, config));
    let draft = Draft {
        to: vec!["bob@example.net".into()],
        subject: "s".into(),
        text: Some("x\n".into()),
        ..Default::default()
    };
    let p = engine.prepare(&draft, Some("t")).expect("prepare");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let result = rt.block_on(engine.send(&p, &missive::transport::no_progress));
    assert!(result.is_err());
    let mut app = missive::ui::testing::app_with(
        engine.clone(),
        draft,
        std::path::PathBuf::from("/"),
        120,
        40,
    );
    app.sending = Some(7);
    app.handle_worker(Event::Sent {
        id: 7,
        message_id: p.built.message_id.clone(),
        result,
    });
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap();
    term.draw(|f| missive::ui::view::draw(f, &app)).unwrap();
    let buf = term.backend().buffer().clone();
    let screen: String = (0..40u16)
        .map(|y| {
            let row: String = (0..120u16)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect();
            row + "\n"
        })
        .collect();
    assert!(screen.contains("535"), "{screen}");
    let secrets = password_secrets(password);
    // A popup wraps long lines: the start of the AUTH string must not show either.
    let head = secrets[1][..20].to_string();
    for s in secrets.into_iter().chain([head]) {
        assert!(!screen.contains(&s), "{s:?} is on the screen:\n{screen}");
    }
}
