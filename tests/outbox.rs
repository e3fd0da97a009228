//! The outbox: a failed send keeps the exact bytes; `outbox flush` delivers each message
//! exactly once with its Message-ID, removes it only once accepted, and counts attempts.

mod common;

use common::*;

fn send(env: &Env, subject: &str) -> Run {
    let body = env.file(
        "body.txt",
        "Ünïcödé body, kept byte for byte.\n.\nFrom here.\n",
    );
    let att = env.file("보고서 2026.pdf", random_bytes(10_000));
    env.run([
        "send",
        "--to",
        "홍길동 <gildong@example.com>",
        "--bcc",
        "hidden@example.net",
        "--subject",
        subject,
        "--text",
        body.to_str().unwrap(),
        "--attach",
        att.to_str().unwrap(),
    ])
}

#[test]
fn dropped_during_data_then_flush_delivers_exactly_once() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain).drop_during_data(1), None);
    let env = Env::new();
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());

    let run = send(&env, "dropped");
    run.expect_code(1);
    assert!(run.stderr().contains("outbox"), "{}", run.describe());
    assert!(
        server.received().is_empty(),
        "the dropped transaction was stored"
    );
    let entries = env.outbox();
    assert_eq!(entries.len(), 1, "{}", run.describe());
    let (eml, meta) = entries[0].clone();
    let kept = std::fs::read(&eml).unwrap();
    let message_id = meta["message_id"].as_str().unwrap().to_string();

    // outbox list shows it, with the last error.
    let list = env.run(["outbox", "list"]);
    list.expect_code(0);
    assert!(list.stdout().contains("dropped"), "{}", list.describe());
    assert!(list.stdout().contains("last error"), "{}", list.describe());
    let list = env.run(["outbox", "list", "--json"]);
    list.expect_code(0);
    let j = list.json();
    assert_eq!(j.as_array().unwrap().len(), 1);
    assert_eq!(j[0]["meta"]["message_id"], message_id.as_str());
    assert_eq!(
        j[0]["meta"]["envelope"]["to"],
        serde_json::json!(["gildong@example.com", "hidden@example.net"])
    );

    // flush: delivered once, the same bytes, the same Message-ID, the same envelope.
    let flush = env.run(["outbox", "flush"]);
    flush.expect_code(0);
    assert!(flush.stdout().contains(&message_id), "{}", flush.describe());
    assert!(
        flush.stdout().contains("1 sent, 0 still in the outbox"),
        "{}",
        flush.describe()
    );
    let got = server.only_message();
    assert_eq!(server.transactions(), ["drop", "250"]);
    assert_eq!(
        got.raw, kept,
        "flush did not deliver the outbox bytes exactly"
    );
    assert_eq!(
        format!("<{}>", got.parsed().message_id().unwrap()),
        message_id
    );
    assert_eq!(
        got.rcpt_tos,
        vec!["gildong@example.com", "hidden@example.net"]
    );
    assert!(
        env.outbox_files().is_empty(),
        "outbox not empty after flush: {:?}",
        env.outbox_files()
    );

    // A second flush has nothing to send.
    let again = env.run(["outbox", "flush"]);
    again.expect_code(0);
    assert!(
        again.stdout().contains("The outbox is empty."),
        "{}",
        again.describe()
    );
    assert_eq!(server.received().len(), 1, "a message was sent twice");
    let list = env.run(["outbox", "list"]);
    assert!(list.stdout().contains("The outbox is empty."));
}

#[test]
fn flush_keeps_what_still_fails_and_counts_attempts() {
    let env = Env::new();
    let dead = dead_port();
    env.write_config(&SmtpCfg::new(dead, Mode::Plain, None).toml());
    send(&env, "first").expect_code(1);
    send(&env, "second").expect_code(1);
    let before = env.outbox();
    assert_eq!(before.len(), 2);
    let kept: Vec<Vec<u8>> = before
        .iter()
        .map(|(eml, _)| std::fs::read(eml).unwrap())
        .collect();
    let ids: Vec<String> = before
        .iter()
        .map(|(_, m)| m["message_id"].as_str().unwrap().to_string())
        .collect();
    assert_ne!(ids[0], ids[1]);

    // Still down: both kept, exit 1. The first attempt counts; the server being
    // unreachable, the second is not tried in this flush (one connection timeout for a
    // whole queue, not one per message) and says so.
    let flush = env.run(["outbox", "flush", "--json"]);
    flush.expect_code(1);
    let j = flush.json();
    let out = j.as_array().unwrap();
    assert_eq!(out.len(), 2);
    assert!(out
        .iter()
        .all(|o| o["sent"] == false && o["status"] == "kept"));
    assert!(
        out[0]["error"].as_str().unwrap().contains("connecting"),
        "{j}"
    );
    let second = out[1]["error"].as_str().unwrap();
    assert!(
        second.starts_with("not tried: ") && second.contains("connecting"),
        "{j}"
    );
    let after = env.outbox();
    assert_eq!(after.len(), 2);
    let attempts: Vec<&serde_json::Value> = after.iter().map(|(_, m)| &m["attempts"]).collect();
    assert_eq!(attempts, [2, 1], "{after:?}");
    for (_, meta) in &after {
        assert!(meta["last_error"].as_str().unwrap().contains("connecting"));
    }

    // The server is back (on another port: the config follows it).
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());
    let flush = env.run(["outbox", "flush", "--json"]);
    flush.expect_code(0);
    let j = flush.json();
    let reports = j.as_array().unwrap();
    assert_eq!(reports.len(), 2);
    let got = server.received();
    assert_eq!(got.len(), 2, "each message exactly once");
    for (i, r) in reports.iter().enumerate() {
        assert_eq!(r["sent"], true, "{r}");
        assert_eq!(r["report"]["message_id"], ids[i].as_str());
        assert_eq!(r["report"]["server_id"], got[i].queue_id.as_str());
        assert_eq!(got[i].raw, kept[i], "message {i} changed in the outbox");
    }
    assert!(env.outbox_files().is_empty());
    let again = env.run(["outbox", "flush"]);
    again.expect_code(0);
    assert_eq!(server.received().len(), 2);
}

/// A flush does not resend a message whose previous attempt was accepted: a 451 that
/// clears on retry inside one flush still delivers once.
#[test]
fn flush_retries_a_temporary_failure_once() {
    let env = Env::new();
    env.write_config(&SmtpCfg::new(dead_port(), Mode::Plain, None).toml());
    send(&env, "later").expect_code(1);
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain).fail_first_data(451), None);
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());
    env.run(["outbox", "flush"]).expect_code(0);
    assert_eq!(server.received().len(), 1);
    assert!(env.outbox_files().is_empty());
}

/// Only one flush at a time, with an OS lock: a second flush waits for a live one, and a
/// lock file left by any dead process (whatever its contents, e.g. a reused PID) is free.
#[test]
fn flush_lock_live_and_stale() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = Env::new();
    env.write_config(&SmtpCfg::new(dead_port(), Mode::Plain, None).toml());
    send(&env, "locked").expect_code(1);
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());

    // Held by a live process (this test): the flush waits, sending nothing.
    let lock_path = env.outbox_dir().join(".flush.lock");
    let lock = missive::lock::try_lock(&lock_path).unwrap().expect("lock");
    let mut child = env
        .std_cmd()
        .args(["outbox", "flush"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut err, &mut line).unwrap();
    assert!(line.contains("another flush is running"), "{line}");
    assert!(server.received().is_empty());
    assert_eq!(env.outbox().len(), 1);
    drop(lock);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(server.received().len(), 1);

    // A lock file naming a live PID (pid 1 always exists) but held by nobody.
    send(&env, "pid one").expect_code(0);
    env.write_config(&SmtpCfg::new(dead_port(), Mode::Plain, None).toml());
    send(&env, "pid one").expect_code(1);
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());
    std::fs::write(&lock_path, "1").unwrap();
    env.run(["outbox", "flush"]).expect_code(0);
    assert_eq!(server.received().len(), 3);
    assert!(env.outbox_files().is_empty(), "{:?}", env.outbox_files());
}

/// Several flushes started at once, racing for a stale lock, deliver each message
/// exactly once between them.
#[test]
fn concurrent_flushes_send_each_message_once() {
    let env = Env::new();
    env.write_config(&SmtpCfg::new(dead_port(), Mode::Plain, None).toml());
    let body = env.file("body.txt", "x\n");
    for i in 0..4 {
        env.run([
            "send",
            "--to",
            "bob@example.net",
            "--subject",
            &format!("m{i}"),
            "--text",
            body.to_str().unwrap(),
        ])
        .expect_code(1);
    }
    assert_eq!(env.outbox().len(), 4);
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());

    // A lock file left by a flush that died: no obstacle for any of them.
    std::fs::write(env.outbox_dir().join(".flush.lock"), "4194305").unwrap();
    let children: Vec<_> = (0..4)
        .map(|_| {
            env.std_cmd()
                .args(["outbox", "flush"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        // Each one flushed: waiting for the others, then finding nothing left to do.
        assert!(out.status.success(), "{out:?}");
    }
    // Whatever a refused flush left behind, one more flush finishes the job.
    env.run(["outbox", "flush"]).expect_code(0);
    let got = server.received();
    let mut subjects: Vec<String> = got
        .iter()
        .map(|r| r.parsed().subject().unwrap().to_string())
        .collect();
    subjects.sort();
    assert_eq!(subjects, ["m0", "m1", "m2", "m3"], "not each exactly once");
    assert!(env.outbox_files().is_empty(), "{:?}", env.outbox_files());
}

/// A message whose transport was removed from the config stays, with a clear error.
#[test]
fn flush_with_a_vanished_transport_keeps_the_message() {
    let env = Env::new();
    env.write_config(&SmtpCfg::new(dead_port(), Mode::Plain, None).toml());
    send(&env, "orphan").expect_code(1);
    env.write_config("[transport.other]\nkind = \"file\"\n");
    let run = env.run(["outbox", "flush"]);
    run.expect_code(1);
    assert!(
        run.stdout().contains("unknown transport"),
        "{}",
        run.describe()
    );
    let out = env.outbox();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].1["attempts"], 2);
}

/// The outbox is flushed in the order messages were queued, even within one second.
#[test]
fn flush_keeps_the_queue_order() {
    let env = Env::new();
    env.write_config(&SmtpCfg::new(dead_port(), Mode::Plain, None).toml());
    let body = env.file("body.txt", "x\n");
    let subjects: Vec<String> = (0..6).map(|i| format!("queued {i}")).collect();
    for s in &subjects {
        env.run([
            "send",
            "--to",
            "bob@example.net",
            "--subject",
            s,
            "--text",
            body.to_str().unwrap(),
        ])
        .expect_code(1);
    }
    let listed: Vec<String> = env
        .outbox()
        .iter()
        .map(|(_, m)| m["subject"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed, subjects, "outbox list order");

    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());
    env.run(["outbox", "flush"]).expect_code(0);
    let got: Vec<String> = server
        .received()
        .iter()
        .map(|r| r.parsed().subject().unwrap().to_string())
        .collect();
    assert_eq!(got, subjects, "delivery order");
    let connections: std::collections::HashSet<u16> =
        server.received().iter().map(|r| r.peer_port).collect();
    assert_eq!(connections.len(), 1, "one connection for the whole flush");
}

/// A kept connection the server has closed is noticed (MAIL FROM fails before anything
/// was handed over) and replaced: every message still goes exactly once.
#[test]
fn flush_reconnects_when_the_server_drops_a_kept_connection() {
    let env = Env::new();
    env.write_config(&SmtpCfg::new(dead_port(), Mode::Plain, None).toml());
    let body = env.file("body.txt", "x\n");
    for i in 0..5 {
        env.run([
            "send",
            "--to",
            "bob@example.net",
            "--subject",
            &format!("queued {i}"),
            "--text",
            body.to_str().unwrap(),
        ])
        .expect_code(1);
    }
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain).flag("--close-after", 2), None);
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());
    let run = env.run(["outbox", "flush"]);
    run.expect_code(0);
    let got = server.received();
    assert_eq!(got.len(), 5, "{}", run.describe());
    let connections: std::collections::HashSet<u16> = got.iter().map(|r| r.peer_port).collect();
    assert_eq!(connections.len(), 3, "two messages a connection");
    assert!(env.outbox().is_empty());
}
