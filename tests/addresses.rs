//! Addresses, headers and MIME as other mail software reads them: every form goes through
//! the real SMTP server (tests/smtp_server.py) and is read back by two independent
//! parsers, mail-parser and Python's `email` package (tests/scripts/pyread.py).

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::*;
use mail_parser::{Address, HeaderValue, MimeHeaders};
use serde_json::{json, Value};

/// Python's `email` (policy.default) view of `raw`.
fn python(raw: &[u8]) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scripts/pyread.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    child.stdin.take().unwrap().write_all(raw).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "pyread.py failed");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn server_env() -> (SmtpServer, Env) {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = Env::new();
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());
    (server, env)
}

fn send(env: &Env, args: &[&str]) -> Run {
    let body = env.file("body.txt", "hello\n");
    let mut a = vec!["send", "--json", "--text", body.to_str().unwrap()];
    a.extend_from_slice(args);
    env.run(&a)
}

/// mail-parser's (name, address) pairs of an address header, groups flattened.
fn mp_addrs(a: Option<&Address<'_>>) -> Vec<(Option<String>, String)> {
    let Some(a) = a else { return vec![] };
    let mut out = Vec::new();
    match a {
        Address::List(l) => {
            for x in l {
                out.push((
                    x.name().map(str::to_string),
                    x.address().unwrap_or("").to_string(),
                ))
            }
        }
        Address::Group(gs) => {
            for g in gs {
                for x in &g.addresses {
                    out.push((
                        x.name().map(str::to_string),
                        x.address().unwrap_or("").to_string(),
                    ))
                }
            }
        }
    }
    out
}

fn py_mailboxes(v: &Value) -> Vec<(Option<String>, String)> {
    let mut out = Vec::new();
    for e in v.as_array().cloned().unwrap_or_default() {
        let name = |n: &Value| n.as_str().filter(|s| !s.is_empty()).map(str::to_string);
        if e[0] == "mailbox" {
            out.push((name(&e[1]), e[2].as_str().unwrap().to_string()));
        } else {
            for m in e[2].as_array().unwrap() {
                out.push((name(&m[0]), m[1].as_str().unwrap().to_string()));
            }
        }
    }
    out
}

fn assert_clean(raw: &[u8], py: &Value) {
    assert!(raw.is_ascii(), "not 7-bit clean");
    assert!(
        raw.split(|&b| b == b'\n').all(|l| l.len() <= 999),
        "a line over 998 octets"
    );
    assert_eq!(py["defects"], json!([]), "Python found defects");
}

#[test]
fn every_address_form_round_trips() {
    let (server, env) = server_env();
    let to = [
        (
            "Carol (Admin) <carol@example.com>",
            Some("Carol (Admin)"),
            "carol@example.com",
        ),
        (
            "캐럴 (총무팀) <carol2@example.com>",
            Some("캐럴 (총무팀)"),
            "carol2@example.com",
        ),
        (
            "carol3@example.com (Carol)",
            Some("Carol"),
            "carol3@example.com",
        ),
        (
            "\"Doe, John\" <john@example.com>",
            Some("Doe, John"),
            "john@example.com",
        ),
        (
            "O'Brien <ob@example.com>",
            Some("O'Brien"),
            "ob@example.com",
        ),
        (
            "\"a@b; <c>\" <odd@example.com>",
            Some("a@b; <c>"),
            "odd@example.com",
        ),
        ("\"john doe\"@example.com", None, "\"john doe\"@example.com"),
        ("a@[127.0.0.1]", None, "a@[127.0.0.1]"),
        ("user@bücher.example", None, "user@xn--bcher-kva.example"),
    ];
    let to_arg: Vec<&str> = to.iter().map(|t| t.0).collect();
    let to_arg = to_arg.join(", ");
    let run = send(
        &env,
        &[
            "--from",
            "Ada (Work) <ada@example.com>",
            "--to",
            &to_arg,
            "--cc",
            "Team: a@example.com, B <b@example.com>;",
            "--reply-to",
            "\"Lovelace, Ada\" <reply@bücher.example>",
        ],
    );
    run.expect_code(0);
    let got = server.only_message();
    let py = python(&got.raw);
    assert_clean(&got.raw, &py);
    let want: Vec<(Option<String>, String)> = to
        .iter()
        .map(|t| (t.1.map(str::to_string), t.2.to_string()))
        .collect();
    let m = got.parsed();
    assert_eq!(mp_addrs(m.to()), want, "mail-parser");
    assert_eq!(py_mailboxes(&py["to"]), want, "Python");
    let from = vec![(
        Some("Ada (Work)".to_string()),
        "ada@example.com".to_string(),
    )];
    assert_eq!(mp_addrs(m.from()), from);
    assert_eq!(py_mailboxes(&py["from"]), from);
    let reply = vec![(
        Some("Lovelace, Ada".to_string()),
        "reply@xn--bcher-kva.example".to_string(),
    )];
    assert_eq!(mp_addrs(m.reply_to()), reply);
    assert_eq!(py_mailboxes(&py["reply_to"]), reply);
    let unfolded = got.text().replace("\r\n ", " ");
    // The header keeps the group, the envelope has its members.
    assert_eq!(py["cc"][0][0], "group");
    assert_eq!(py["cc"][0][1], "Team");
    assert!(unfolded.contains("Cc: Team: a@example.com, B <b@example.com>;\r\n"));
    let mut rcpts: Vec<String> = want.iter().map(|w| w.1.clone()).collect();
    rcpts.extend(["a@example.com".to_string(), "b@example.com".to_string()]);
    assert_eq!(got.rcpt_tos, rcpts);
    // Names that only need quoting are quoted, not encoded.
    assert!(unfolded.contains("\"Doe, John\" <john@example.com>"));
    assert!(unfolded.contains(" O'Brien <ob@example.com>"));
    assert!(unfolded.contains(" <\"john doe\"@example.com>"));
    assert!(!got.mail_options.iter().any(|o| o.contains("SMTPUTF8")));
}

#[test]
fn undisclosed_recipients_with_bcc() {
    let (server, env) = server_env();
    send(
        &env,
        &[
            "--to",
            "undisclosed-recipients:;",
            "--bcc",
            "hidden@example.org",
        ],
    )
    .expect_code(0);
    let got = server.only_message();
    assert!(got.text().contains("To: undisclosed-recipients:;\r\n"));
    assert!(!got.text().contains("hidden@"));
    assert_eq!(got.rcpt_tos, ["hidden@example.org"]);
    let py = python(&got.raw);
    assert_clean(&got.raw, &py);
    assert_eq!(py["to"], json!([["group", "undisclosed-recipients", []]]));
}

#[test]
fn idn_domains_go_as_a_labels_even_without_smtputf8() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain).without_smtputf8(), None);
    let env = Env::new();
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());
    let run = send(
        &env,
        &[
            "--from",
            "Ada <ada@bücher.example>",
            "--to",
            "Bob <bob@münchen.example>",
        ],
    );
    run.expect_code(0);
    let got = server.only_message();
    assert_eq!(got.mail_from, "ada@xn--bcher-kva.example");
    assert_eq!(got.rcpt_tos, ["bob@xn--mnchen-3ya.example"]);
    let id = run.json()["message_id"].as_str().unwrap().to_string();
    assert!(
        id.is_ascii() && id.ends_with("@xn--bcher-kva.example>"),
        "{id}"
    );
    assert_eq!(got.parsed().message_id(), Some(id.trim_matches(['<', '>'])));
    let py = python(&got.raw);
    assert_clean(&got.raw, &py);
    assert_eq!(py["headers"]["message-id"][0], id);
}

#[test]
fn ambiguous_comma_is_refused_with_the_quoted_form() {
    let (server, env) = server_env();
    let run = send(&env, &["--to", "Smith, John <js@example.com>"]);
    run.expect_code(2);
    assert!(
        run.stderr().contains("\"Smith, John\" <js@example.com>"),
        "{}",
        run.stderr()
    );
    // A comment in the config's From is fine too.
    env.write_config(
        &SmtpCfg::new(server.port, Mode::Plain, None).toml().replace(
            "Ada Lovelace <ada@example.com>",
            "ada@example.com (Ada Lovelace)",
        ),
    );
    send(&env, &["--to", "bob@example.net"]).expect_code(0);
    let got = server.only_message();
    assert!(got
        .text()
        .contains("From: Ada Lovelace <ada@example.com>\r\n"));
}

#[test]
fn many_recipients_fold_between_addresses() {
    let (server, env) = server_env();
    let list: Vec<String> = (0..1000)
        .map(|i| format!("Person Number {i} <person.{i}@example.com>"))
        .collect();
    let list = list.join(", ");
    let started = std::time::Instant::now();
    send(
        &env,
        &[
            "--to",
            &list,
            "--cc",
            &list.replace("example.com", "example.org"),
        ],
    )
    .expect_code(0);
    assert!(
        started.elapsed().as_secs() < 20,
        "slow: {:?}",
        started.elapsed()
    );
    let got = server.only_message();
    assert_eq!(got.rcpt_tos.len(), 2000);
    let py = python(&got.raw);
    assert_clean(&got.raw, &py);
    assert!(py["max_line"].as_u64().unwrap() <= 78);
    assert_eq!(py_mailboxes(&py["to"]).len(), 1000);
    assert_eq!(mp_addrs(got.parsed().cc()).len(), 1000);
}

#[test]
fn structured_headers_are_folded_never_encoded() {
    let (server, env) = server_env();
    let ids: Vec<String> = (0..12)
        .map(|i| {
            format!(
                "<AM{i}PR07MB{}@AM0PR07MB1234.eurprd07.prod.outlook.com>",
                "9".repeat(30)
            )
        })
        .collect();
    let refs = ids.join(" ");
    let unsub = format!(
        "<https://lists.example.com/unsubscribe?token={}>",
        "a".repeat(300)
    );
    let refs_h = format!("References: {refs}");
    let irt_h = format!("In-Reply-To: {}", ids[11]);
    let unsub_h = format!("List-Unsubscribe: {unsub}");
    send(
        &env,
        &[
            "--to",
            "b@example.com",
            "--header",
            &refs_h,
            "--header",
            &irt_h,
            "--header",
            &unsub_h,
        ],
    )
    .expect_code(0);
    let got = server.only_message();
    assert!(!got.text().contains("=?"), "{}", got.text());
    let py = python(&got.raw);
    assert_clean(&got.raw, &py);
    assert_eq!(py["headers"]["references"][0], refs);
    assert_eq!(py["headers"]["list-unsubscribe"][0], unsub);
    let m = got.parsed();
    let r: Vec<String> = match m.header("References") {
        Some(HeaderValue::TextList(l)) => l.iter().map(|s| format!("<{s}>")).collect(),
        Some(HeaderValue::Text(t)) => vec![format!("<{t}>")],
        other => panic!("{other:?}"),
    };
    assert_eq!(r, ids);
    assert_eq!(
        m.in_reply_to().as_text(),
        Some(ids[11].trim_matches(['<', '>']))
    );
}

#[test]
fn unstructured_text_reads_back_as_typed() {
    let subjects = [
        "=?utf-8?b?SGFja2Vk?=",
        "about =?utf-8?q?hack?= words",
        "  two leading spaces",
        "Grüße  aus   Köln ",
        "회의\t자료\t보냅니다",
        &vec!["tab\tseparated"; 120].join("\t"),
        &format!("long {} word", "x".repeat(1200)),
    ];
    for subject in subjects {
        let (server, env) = server_env();
        let xh = format!("X-Note: {subject}");
        send(
            &env,
            &[
                "--to",
                "b@example.com",
                "--subject",
                subject,
                "--header",
                &xh,
            ],
        )
        .expect_code(0);
        let got = server.only_message();
        let py = python(&got.raw);
        assert_clean(&got.raw, &py);
        assert_eq!(got.parsed().subject(), Some(subject), "mail-parser");
        assert_eq!(py["subject"], subject, "Python");
        assert_eq!(py["headers"]["x-note"][0], subject, "Python X-Note");
    }
}

#[test]
fn mime_rules_hold() {
    let (server, env) = server_env();
    let eml = env.file(
        "fwd.eml",
        "From: x@example.com\nTo: y@example.com\nSubject: inner one\n\nforwarded text\n",
    );
    let eml8 = env.file(
        "fwd8.eml",
        "From: x@example.com\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nGrüße\n",
    );
    let korean = env.file("회의록.txt", "회의 자료\n");
    let latin1 = env.file("cafe.txt", b"Caf\xe9 cr\xe8me\n");
    let literal = env.file("=?utf-8?b?SGFja2Vk?=.txt", "x\n");
    let text = env.file("body.txt", "line one\rstill one\0nul\nend\n");
    let run = env.run([
        "send",
        "--to",
        "b@example.com",
        "--text",
        text.to_str().unwrap(),
        "--attach",
        eml.to_str().unwrap(),
        "--attach",
        eml8.to_str().unwrap(),
        "--attach",
        korean.to_str().unwrap(),
        "--attach",
        latin1.to_str().unwrap(),
        "--attach",
        literal.to_str().unwrap(),
    ]);
    run.expect_code(0);
    let got = server.only_message();
    let py = python(&got.raw);
    assert!(got.raw.split(|&b| b == b'\n').all(|l| l.len() <= 999));
    assert_eq!(py["defects"], json!([]));
    let parts = py["parts"].as_array().unwrap();
    let find = |ct: &str, f: Option<&str>| {
        parts
            .iter()
            .find(|p| p["content_type"] == ct && (f.is_none() || p["filename"].as_str() == f))
            .unwrap_or_else(|| panic!("no {ct} {f:?} in {parts:?}"))
            .clone()
    };
    let body = find("text/plain", None);
    assert_eq!(
        body["text"].as_str().unwrap().replace("\r\n", "\n"),
        "line one\rstill one\0nul\nend\n"
    );
    assert_ne!(body["cte"], "7bit");
    let inner = find("message/rfc822", Some("fwd.eml"));
    assert_eq!(inner["cte"], "7bit");
    assert_eq!(inner["inner_subject"], "inner one");
    assert_eq!(
        inner["inner_text"].as_str().unwrap().replace("\r\n", "\n"),
        "forwarded text\n"
    );
    let inner8 = find("message/rfc822", Some("fwd8.eml"));
    assert_eq!(inner8["cte"], "8bit");
    assert_eq!(inner8["inner_subject"], "Grüße");
    let k = find("text/plain", Some("회의록.txt"));
    assert_eq!(k["charset"], "utf-8");
    assert_eq!(
        k["text"].as_str().unwrap().replace("\r\n", "\n"),
        "회의 자료\n"
    );
    let l = find("text/plain", Some("cafe.txt"));
    assert_eq!(l["charset"], "windows-1252");
    assert_eq!(
        l["text"].as_str().unwrap().replace("\r\n", "\n"),
        "Café crème\n"
    );
    find("text/plain", Some("=?utf-8?b?SGFja2Vk?=.txt"));
    let m = got.parsed();
    let names: Vec<String> = m
        .attachments()
        .filter_map(|a| a.attachment_name().map(str::to_string))
        .collect();
    assert!(
        names.contains(&"=?utf-8?b?SGFja2Vk?=.txt".to_string()),
        "{names:?}"
    );
    assert!(!String::from_utf8_lossy(&got.raw).contains(
        "Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"fwd"
    ));
}

#[test]
fn single_part_bodies_decode_to_exactly_the_text() {
    for text in [
        "Grüße,\nein langer Absatz\n",
        "no final newline, ü",
        "plain ascii without newline",
        &format!("{}\n", "long line ".repeat(120)),
        "안녕하세요\n",
        "a\n\n",
    ] {
        let (server, env) = server_env();
        let f = env.file("t.txt", text);
        env.run([
            "send",
            "--to",
            "b@example.com",
            "--text",
            f.to_str().unwrap(),
        ])
        .expect_code(0);
        let got = server.only_message();
        let py = python(&got.raw);
        assert_clean(&got.raw, &py);
        assert_eq!(
            py["text"].as_str().unwrap().replace("\r\n", "\n"),
            text,
            "Python, {text:?}"
        );
        assert_eq!(
            got.parsed().body_text(0).unwrap().replace("\r\n", "\n"),
            text,
            "mail-parser"
        );
    }
}
