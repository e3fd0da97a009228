//! Issue 8, terminal injection: control characters from a mailto: link, a subject, a
//! saved draft or a server never reach the terminal raw (lists, previews, reports and
//! errors show them escaped; JSON output stays valid JSON with them as `\uXXXX`), and
//! `--header` with CR or LF anywhere, name included, is refused, not trimmed.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use common::*;
use missive::message::Draft;

/// OSC retitle, BEL, clear screen, an 8-bit CSI (C1, U+009B), DEL, a bidi override.
const EVIL: &str = "hi\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m\u{7f}\u{202e}";

fn raw_control(text: &str) -> Option<char> {
    text.chars()
        .find(|&c| (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c))
}

#[track_caller]
fn assert_clean(what: &str, text: &str) {
    if let Some(c) = raw_control(text) {
        panic!("raw control character {c:?} in {what}: {text:?}");
    }
}

/// Valid JSON without a raw control character, whose strings still hold `EVIL` exactly.
#[track_caller]
fn assert_clean_json(what: &str, text: &str) -> serde_json::Value {
    assert_clean(what, text);
    let v: serde_json::Value = serde_json::from_str(text.trim())
        .unwrap_or_else(|e| panic!("{what} is not JSON ({e}): {text:?}"));
    assert!(holds_evil(&v), "{what} lost the text: {text}");
    v
}

fn holds_evil(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::String(s) => s.contains(EVIL),
        serde_json::Value::Array(a) => a.iter().any(holds_evil),
        serde_json::Value::Object(o) => o.values().any(holds_evil),
        _ => false,
    }
}

#[test]
fn header_arguments_with_line_breaks_are_refused() {
    let env = Env::new();
    for h in [
        "X-Test: value\r\nBcc: evil@example.net",
        "X-Test: value\n",
        "X-Test: \r\nvalue",
        "\r\nX-Test: value",
        "X-Te\u{7}st: value",
    ] {
        let run = env.run(["preview", "--raw", "--to", "b@example.net", "--header", h]);
        run.expect_code(2);
        assert_clean("stderr", &run.stderr());
        assert_eq!(
            run.stderr().trim_end().lines().count(),
            1,
            "{}",
            run.describe()
        );
    }
    // Other controls in a value are encoded (RFC 2047), never written raw.
    let run = env.run([
        "preview",
        "--raw",
        "--to",
        "b@example.net",
        "--header",
        &format!("X-Test: {EVIL}"),
    ]);
    run.expect_code(0);
    assert_clean("raw message", &run.stdout().replace("\r\n", "\n"));
    // Blanks around the name and after the colon are still fine.
    env.run([
        "preview",
        "--raw",
        "--to",
        "b@example.net",
        "--header",
        " X-Test:  v",
    ])
    .expect_code(0);
}

#[test]
fn lists_previews_and_json_show_controls_escaped() {
    let env = Env::new();
    env.write_config(&format!(
        "[transport.dead]\nkind = \"smtp\"\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\ntimeout = 2\n",
        dead_port()
    ));
    let subject = format!("subject {EVIL}");
    let run = env.run([
        "send",
        "--json",
        "--to",
        "b@example.net",
        "--subject",
        &subject,
    ]);
    run.expect_code(1);
    assert_clean("send stderr", &run.stderr());
    serde_json::from_str::<serde_json::Value>(run.stdout().trim()).expect("send --json");

    let list = env.run(["outbox", "list"]);
    list.expect_code(0);
    assert_clean("outbox list", &list.stdout());
    assert!(list.stdout().contains("\\e]0;pwned"), "{}", list.describe());
    let json = env.run(["outbox", "list", "--json"]);
    json.expect_code(0);
    assert_clean_json("outbox list --json", &json.stdout());
    let name = env.outbox()[0]
        .0
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let show = env.run(["outbox", "show", &name]);
    show.expect_code(0);
    assert_clean("outbox show", &show.stdout());

    let preview = env.run(["preview", "--to", "b@example.net", "--subject", &subject]);
    preview.expect_code(0);
    assert_clean("preview", &preview.stdout());
    let preview = env.run([
        "preview",
        "--json",
        "--to",
        "b@example.net",
        "--subject",
        &subject,
    ]);
    preview.expect_code(0);
    assert_clean("preview --json", &preview.stdout());

    let drafts = missive::drafts::Drafts::new(env.data_home.join("missive/drafts"));
    drafts
        .save(
            "20260101-000000-abcd",
            None,
            &Draft {
                to: vec![format!("Evil {EVIL} <e@example.net>")],
                subject: subject.clone(),
                ..Default::default()
            },
        )
        .unwrap();
    let list = env.run(["drafts"]);
    list.expect_code(0);
    assert_clean("drafts", &list.stdout());
    assert!(list.stdout().contains("\\e[2J"), "{}", list.describe());
    let json = env.run(["drafts", "--json"]);
    json.expect_code(0);
    assert_clean_json("drafts --json", &json.stdout());

    // An error that echoes a typed value: escaped, and cut short.
    let long_bad = format!("{EVIL}{}", "x".repeat(100_000));
    let run = env.run(["preview", "--to", &long_bad]);
    run.expect_code(2);
    assert_clean("address error", &run.stderr());
    assert!(run.stderr().len() < 8192, "{} bytes", run.stderr().len());
}

/// An SMTP server that takes every message and puts `EVIL` in its greeting, its EHLO
/// answer and its final reply.
fn evil_server() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(s) = conn else { return };
            std::thread::spawn(move || {
                let mut w = s.try_clone().unwrap();
                let mut r = BufReader::new(s);
                let _ = write!(w, "220 evil {EVIL} ESMTP\r\n");
                let mut in_data = false;
                let mut line = String::new();
                while matches!(r.read_line(&mut line), Ok(n) if n > 0) {
                    let up = line.to_ascii_uppercase();
                    let reply = if in_data {
                        if line == ".\r\n" {
                            in_data = false;
                            format!("250 2.0.0 queued as {EVIL}\r\n")
                        } else {
                            String::new()
                        }
                    } else if up.starts_with("EHLO") {
                        format!("250-evil {EVIL}\r\n250 8BITMIME\r\n")
                    } else if up.starts_with("DATA") {
                        in_data = true;
                        "354 go\r\n".into()
                    } else if up.starts_with("QUIT") {
                        let _ = w.write_all(b"221 bye\r\n");
                        return;
                    } else {
                        "250 ok\r\n".into()
                    };
                    line.clear();
                    if w.write_all(reply.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

#[test]
fn server_replies_are_shown_escaped() {
    let port = evil_server();
    let env = Env::new();
    env.write_config(&SmtpCfg::new(port, Mode::Plain, None).toml());
    let run = env.run(["send", "--to", "b@example.net", "--subject", "s"]);
    run.expect_code(0);
    assert_clean("send", &run.stdout());
    assert!(
        run.stdout().contains("queued as hi\\e]0;pwned"),
        "{}",
        run.describe()
    );
    let run = env.run(["send", "--json", "--to", "b@example.net", "--subject", "s"]);
    run.expect_code(0);
    assert_clean_json("send --json", &run.stdout());
    let run = env.run(["check"]);
    run.expect_code(0);
    assert_clean("check", &run.stdout());
    assert_clean("check stderr", &run.stderr());
}
