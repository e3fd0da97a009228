//! One message, one fate: each scenario of issue 7 against the real local SMTP server.
//! A message is delivered once across drafts, re-sends, flushes, windows and kills.

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;
use missive::config::Config;
use missive::drafts::Drafts;
use missive::engine::{Engine, SendError};
use missive::message::Draft;
use missive::paths::Paths;

fn engine(env: &Env) -> Engine {
    let paths = Paths::at(
        env.config_home.join("missive"),
        env.data_home.join("missive"),
    );
    let explicit = env.config_path();
    let config =
        Config::load(explicit.exists().then_some(explicit.as_path()), &paths).expect("config");
    Engine::new(paths, config)
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn draft(subject: &str) -> Draft {
    Draft {
        to: vec!["bob@example.net".into()],
        subject: subject.into(),
        text: Some(format!("{subject}\n")),
        message_id: Some(format!("<{}@example.com>", uuid_like(subject))),
        ..Default::default()
    }
}

fn uuid_like(s: &str) -> String {
    let n: u64 = s.bytes().fold(1469598103934665603, |h, b| {
        (h ^ b as u64).wrapping_mul(1099511628211)
    });
    format!("t{n:x}")
}

fn message_ids(server: &SmtpServer) -> Vec<String> {
    server
        .received()
        .iter()
        .map(|r| r.parsed().message_id().unwrap_or_default().to_string())
        .collect()
}

/// Bullet 1: a failed send, the draft reopened and corrected, sent: the outbox holds no
/// stale version, and a flush sends nothing more.
#[test]
fn corrected_draft_replaces_its_outbox_entry() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = Env::new();
    env.write_config(&SmtpCfg::new(dead_port(), Mode::Plain, None).toml());
    let e = engine(&env);
    let mut d = draft("Uncorrected");
    e.drafts()
        .save("20260101-000000-aaaa", Some("t"), &d)
        .unwrap();
    let p = e.prepare(&d, None).unwrap();
    let r = rt().block_on(e.send(&p, &missive::transport::no_progress));
    assert!(matches!(r, Err(SendError::Transport { .. })), "{r:?}");
    assert_eq!(env.outbox().len(), 1);
    assert_eq!(env.outbox()[0].1["draft"]["subject"], "Uncorrected");

    // Another session: corrects it, and the server is back.
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());
    let e = engine(&env);
    d.subject = "Corrected".into();
    let p = e.prepare(&d, None).unwrap();
    rt().block_on(e.send(&p, &missive::transport::no_progress))
        .expect("sent");
    assert!(env.outbox().is_empty(), "the stale entry is gone");
    env.run(["outbox", "flush"]).expect_code(0);
    let got = server.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].parsed().subject(), Some("Corrected"));
    // Its draft is retired, and the sent log has the subject.
    assert!(e.drafts().list().is_empty());
    let log = std::fs::read_to_string(env.data_home.join("missive/sent.log")).unwrap();
    assert!(log.contains("\"subject\":\"Corrected\""), "{log}");
}

/// Bullet 2: a message delivered by flush retires its draft; a leftover draft of a
/// delivered message is never offered, cannot be reopened, and cannot be sent again.
#[test]
fn flush_retires_the_draft_and_delivered_drafts_are_never_offered() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = Env::new();
    env.write_config(&SmtpCfg::new(dead_port(), Mode::Plain, None).toml());
    let e = engine(&env);
    let d = draft("Flushed");
    e.drafts()
        .save("20260101-000000-bbbb", Some("t"), &d)
        .unwrap();
    let p = e.prepare(&d, None).unwrap();
    assert!(rt()
        .block_on(e.send(&p, &missive::transport::no_progress))
        .is_err());
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());
    let run = env.run(["outbox", "flush"]);
    run.expect_code(0);
    // The flush (another process) could not retire it while this test holds it; now a
    // fresh process's view: not offered, delivered, and a re-send is refused.
    let e2 = engine(&env);
    let listed = env.run(["drafts", "--json"]);
    let v = listed.json();
    let delivered = v
        .as_array()
        .unwrap()
        .iter()
        .all(|d| !d["delivered"].is_null());
    assert!(delivered, "{v}");
    assert!(e2
        .drafts()
        .offerable(&e2.sent_log(), &e2.outbox())
        .is_empty());
    let again = rt().block_on(e2.send(&p, &missive::transport::no_progress));
    match again {
        Err(SendError::Input(err)) => {
            assert!(err.to_string().contains("already delivered"), "{err}")
        }
        other => panic!("a second delivery was attempted: {other:?}"),
    }
    let run = env.run(["--draft", "20260101-000000-bbbb"]);
    assert_ne!(run.code(), Some(0));
    assert!(
        run.stderr().contains("already delivered"),
        "{}",
        run.describe()
    );
    assert_eq!(server.received().len(), 1);

    // With nobody holding it, the flush itself retires it.
    let env = Env::new();
    env.write_config(&SmtpCfg::new(dead_port(), Mode::Plain, None).toml());
    let d = draft("Retired");
    let saved = serde_json::json!({"id": "20260101-000000-cccc", "saved": "x", "transport": "t", "draft": d});
    std::fs::create_dir_all(env.data_home.join("missive/drafts")).unwrap();
    std::fs::write(
        env.data_home
            .join("missive/drafts/20260101-000000-cccc.json"),
        saved.to_string(),
    )
    .unwrap();
    let e = engine(&env);
    let p = e.prepare(&d, None).unwrap();
    assert!(rt()
        .block_on(e.send(&p, &missive::transport::no_progress))
        .is_err());
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());
    env.run(["outbox", "flush"]).expect_code(0);
    assert!(!env
        .data_home
        .join("missive/drafts/20260101-000000-cccc.json")
        .exists());
}

/// Bullet 3: a draft open in another live process is neither offered, nor opened, nor
/// deleted; once that process dies (kill -9), it is free.
#[test]
fn a_draft_held_by_another_window_is_left_alone() {
    let env = Env::new();
    let dir = env.data_home.join("missive/drafts");
    let drafts = Drafts::new(dir.clone());
    drafts
        .save("20260101-000000-dddd", None, &draft("Mine"))
        .unwrap();
    missive::lock::release(&dir.join(".20260101-000000-dddd.lock"));
    // Another window: a separate process holding the draft's OS lock.
    let mut holder = std::process::Command::new("flock")
        .arg("--no-fork")
        .arg(dir.join(".20260101-000000-dddd.lock"))
        .args(["-c", "echo held; exec sleep 60"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("flock(1) from util-linux");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(holder.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "held");

    let v = env.run(["drafts", "--json"]).json();
    assert_eq!(v[0]["locked"], true, "{v}");
    let rm = env.run(["drafts", "rm", "20260101-000000-dddd"]);
    rm.expect_code(2);
    assert!(
        rm.stderr().contains("open in another missive window"),
        "{}",
        rm.describe()
    );
    assert!(dir.join("20260101-000000-dddd.json").exists());
    let e = engine(&env);
    assert!(e.drafts().offerable(&e.sent_log(), &e.outbox()).is_empty());
    assert!(e.drafts().load("20260101-000000-dddd").is_err());

    holder.kill().unwrap();
    holder.wait().unwrap();
    env.run(["drafts", "rm", "20260101-000000-dddd"])
        .expect_code(0);
    assert!(!dir.join("20260101-000000-dddd.json").exists());
}

fn queue(env: &Env, n: usize, tag: &str) {
    env.write_config(&SmtpCfg::new(dead_port(), Mode::Plain, None).toml());
    let body = env.file("body.txt", "x\n");
    for i in 0..n {
        env.run([
            "send",
            "--to",
            "bob@example.net",
            "--subject",
            &format!("{tag}{i}"),
            "--text",
            body.to_str().unwrap(),
        ])
        .expect_code(1);
    }
    assert_eq!(env.outbox().len(), n);
}

/// Bullet 4: the server stores the message and hangs up before its reply: the entry is
/// marked uncertain, and the flush retries it with the same Message-ID.
#[test]
fn connection_lost_after_the_final_dot_is_uncertain() {
    let server = SmtpServer::start(
        ServerOpts::new(Mode::Plain).flag("--drop-after-dot", 1),
        None,
    );
    let env = Env::new();
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());
    let body = env.file("body.txt", "x\n");
    let run = env.run([
        "send",
        "--json",
        "--to",
        "bob@example.net",
        "--subject",
        "maybe",
        "--text",
        body.to_str().unwrap(),
    ]);
    run.expect_code(1);
    assert_eq!(run.json()["uncertain"], true, "{}", run.describe());
    assert!(
        run.stderr().contains("may have been delivered"),
        "{}",
        run.describe()
    );
    let list = env.run(["outbox", "list", "--json"]).json();
    assert_eq!(list[0]["state"], "uncertain", "{list}");
    let human = env.run(["outbox", "list"]);
    assert!(
        human.stdout().contains("[uncertain]"),
        "{}",
        human.describe()
    );

    let flush = env.run(["outbox", "flush", "--json"]);
    flush.expect_code(0);
    assert_eq!(flush.json()[0]["uncertain"], true, "{}", flush.describe());
    let ids = message_ids(&server);
    assert_eq!(
        ids.len(),
        2,
        "stored by the dropped session, then by the retry"
    );
    assert_eq!(ids[0], ids[1], "the retry keeps the Message-ID");
    assert!(env.outbox().is_empty());
}

/// Run `outbox flush` against `server` (which takes the data and never answers) and
/// kill -9 it once the whole first message is handed over.
fn kill_flush_after_the_data(env: &Env, server: &SmtpServer) {
    env.write_config(
        &SmtpCfg::new(server.port, Mode::Plain, None)
            .line("timeout = 60")
            .toml(),
    );
    let mut flush = env
        .std_cmd()
        .args(["outbox", "flush"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !server.transactions().iter().any(|t| t == "stall") {
        assert!(Instant::now() < deadline, "the flush never reached DATA");
        std::thread::sleep(Duration::from_millis(20));
    }
    flush.kill().unwrap();
    flush.wait().unwrap();
}

/// Bullet 5: a flush killed with -9 leaves no lock behind, whatever PIDs do next; the
/// message it was handing over is marked uncertain and delivered by the next flush.
#[test]
fn kill_9_during_flush_leaves_no_stale_lock() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain).stall_after_data(1), None);
    let env = Env::new();
    queue(&env, 1, "stalled");
    kill_flush_after_the_data(&env, &server);
    assert!(env.outbox_dir().join(".flush.lock").exists());
    let list = env.run(["outbox", "list", "--json"]).json();
    assert_eq!(list[0]["state"], "uncertain", "{list}");
    let run = env.run(["outbox", "flush", "--json"]);
    run.expect_code(0);
    assert_eq!(run.json()[0]["status"], "sent", "{}", run.describe());
    assert_eq!(server.received().len(), 1);
}

/// A flush killed after the last byte went out leaves its mark in the journal; a later
/// flush that cannot deliver keeps the message uncertain (the mark outlives that flush's
/// own), and the delivery that finally happens is on record as possibly a second one.
#[test]
fn the_uncertain_mark_of_a_killed_flush_survives_a_failed_flush() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain).stall_after_data(1), None);
    let env = Env::new();
    queue(&env, 2, "marked");
    kill_flush_after_the_data(&env, &server);
    let states = |env: &Env| -> Vec<String> {
        let list = env.run(["outbox", "list", "--json"]).json();
        list.as_array()
            .unwrap()
            .iter()
            .map(|e| e["state"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(states(&env)[0], "uncertain");
    // The server is unreachable: both stay, the first still uncertain.
    env.write_config(&SmtpCfg::new(common::dead_port(), Mode::Plain, None).toml());
    env.run(["outbox", "flush"]).expect_code(1);
    let after = states(&env);
    assert_eq!(after.len(), 2);
    assert_eq!(after[0], "uncertain", "{after:?}");
    assert_ne!(after[1], "uncertain", "{after:?}");
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());
    env.run(["outbox", "flush"]).expect_code(0);
    assert!(env.outbox().is_empty());
    let log = std::fs::read_to_string(env.data_home.join("missive/sent.log")).unwrap();
    let flags: Vec<bool> = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["uncertain"] == true)
        .collect();
    assert_eq!(flags, [true, false], "{log}");
}

/// Bullet 6: damaged entries are listed with the damage and left alone by flush; a crash's
/// temporary files are cleaned up.
#[test]
fn damaged_entries_are_listed_and_kept() {
    let env = Env::new();
    queue(&env, 1, "good");
    let dir = env.outbox_dir();
    let (_, good) = env.outbox().remove(0);
    std::fs::write(
        dir.join("20260101T000000000000Z-aaaaaaaa.json"),
        b"{not json",
    )
    .unwrap();
    std::fs::write(
        dir.join("20260101T000000000000Z-aaaaaaaa.eml"),
        b"Subject: a\r\n\r\nx\r\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("20260101T000000000001Z-bbbbbbbb.eml"),
        b"Subject: b\r\n\r\nx\r\n",
    )
    .unwrap();
    let mut neg = good.clone();
    neg["attempts"] = serde_json::json!(-1);
    std::fs::write(
        dir.join("20260101T000000000002Z-cccccccc.json"),
        neg.to_string(),
    )
    .unwrap();
    std::fs::write(dir.join("20260101T000000000002Z-cccccccc.eml"), b"x").unwrap();
    std::fs::write(
        dir.join("20260101T000000000003Z-dddddddd.json"),
        good.to_string(),
    )
    .unwrap();
    let stale = dir.join(".20260101.eml.0123.tmp");
    std::fs::write(&stale, vec![0u8; 4096]).unwrap();
    let old = std::time::SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(old)
        .unwrap();

    let list = env.run(["outbox", "list"]);
    let out = list.stdout();
    for name in ["aaaaaaaa", "bbbbbbbb", "cccccccc", "dddddddd"] {
        let line = out
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name} not listed:\n{out}"));
        assert!(line.contains("[damaged]"), "{line}");
    }
    assert!(out.contains("metadata damaged"), "{out}");
    assert!(out.contains("(.eml) is missing"), "{out}");
    assert!(out.contains("no metadata"), "{out}");
    assert!(!stale.exists(), "the crash's temporary file is cleaned up");
    let v = env.run(["outbox", "list", "--json"]).json();
    assert_eq!(v.as_array().unwrap().len(), 5, "{v}");

    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());
    let flush = env.run(["outbox", "flush"]);
    assert_eq!(server.received().len(), 1, "{}", flush.describe());
    assert_eq!(
        env.outbox_files().len(),
        6,
        "damaged files untouched: {:?}",
        env.outbox_files()
    );
    // `outbox rm` takes a damaged one away explicitly.
    env.run(["outbox", "rm", "20260101T000000000001Z-bbbbbbbb"])
        .expect_code(0);
    assert_eq!(env.outbox_files().len(), 5);
}

/// The file transport's temporary files from a killed write are removed on the next send.
#[test]
fn stale_temp_files_in_sent_are_removed() {
    let env = Env::new();
    let sent = env.data_home.join("missive/sent");
    std::fs::create_dir_all(&sent).unwrap();
    let stale = sent.join(".x.eml.1234.tmp");
    std::fs::write(&stale, vec![1u8; 1 << 20]).unwrap();
    let old = std::time::SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let fresh = sent.join(".y.eml.5678.tmp");
    std::fs::write(&fresh, b"being written").unwrap();
    env.run(["send", "--to", "bob@example.net", "--subject", "s"])
        .expect_code(0);
    assert!(!stale.exists());
    assert!(fresh.exists(), "a live writer's file is left alone");
}

/// Bullet 7a: one refused recipient among three: nothing is delivered, the entry is marked
/// permanent, flush skips it (unless --force), and the user can see and remove it.
#[test]
fn a_refused_recipient_is_permanent_and_manageable() {
    let server = SmtpServer::start(
        ServerOpts::new(Mode::Plain).reject_rcpt("nobody@example.net"),
        None,
    );
    let env = Env::new();
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());
    let run = env.run([
        "send",
        "--json",
        "--to",
        "a@example.net, nobody@example.net, c@example.net",
        "--subject",
        "three",
    ]);
    run.expect_code(1);
    assert_eq!(run.json()["permanent"], true, "{}", run.describe());
    assert!(
        run.stderr().contains("nobody@example.net"),
        "{}",
        run.describe()
    );
    assert!(server.received().is_empty(), "no partial delivery");
    let list = env.run(["outbox", "list"]);
    assert!(list.stdout().contains("[permanent]"), "{}", list.describe());

    let flush = env.run(["outbox", "flush"]);
    flush.expect_code(0);
    assert!(flush.stdout().contains("skipped"), "{}", flush.describe());
    assert!(
        flush.stdout().contains("outbox edit"),
        "{}",
        flush.describe()
    );
    let forced = env.run(["outbox", "flush", "--force"]);
    forced.expect_code(1);
    assert!(forced.stdout().contains("kept"), "{}", forced.describe());
    assert!(server.received().is_empty());

    let name = env.run(["outbox", "list", "--json"]).json()[0]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let show = env.run(["outbox", "show", &name[..12]]);
    show.expect_code(0);
    assert!(
        show.stdout().contains("State: permanent"),
        "{}",
        show.describe()
    );
    assert!(
        show.stdout().contains("Subject: three"),
        "{}",
        show.describe()
    );
    env.run(["outbox", "rm", &name]).expect_code(0);
    assert!(env.outbox().is_empty());
    env.run(["outbox", "rm", &name]).expect_code(2);
}

/// Bullet 7b: `452 too many recipients` after 3 RCPTs: the rest go in further
/// transactions, each recipient gets the message once.
#[test]
fn too_many_recipients_are_sent_in_further_transactions() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain).flag("--max-rcpts", 3), None);
    let env = Env::new();
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());
    let to: Vec<String> = (0..7).map(|i| format!("r{i}@example.net")).collect();
    let run = env.run([
        "send",
        "--json",
        "--to",
        &to.join(","),
        "--bcc",
        "hidden@example.net",
        "--subject",
        "many",
    ]);
    run.expect_code(0);
    let got = server.received();
    assert_eq!(got.len(), 3, "3 + 3 + 2 recipients");
    let mut all: Vec<String> = got.iter().flat_map(|r| r.rcpt_tos.clone()).collect();
    all.sort();
    let mut want = to.clone();
    want.push("hidden@example.net".into());
    want.sort();
    assert_eq!(all, want);
    let ids: Vec<_> = message_ids(&server);
    assert!(
        ids.iter().all(|i| i == &ids[0]),
        "one message, one Message-ID"
    );
    assert!(env.outbox().is_empty());
}

/// A 452 split whose later transaction is refused keeps only the recipients still to do:
/// a retry never repeats the ones that have it.
#[test]
fn a_partly_delivered_message_keeps_only_the_rest() {
    let server = SmtpServer::start(
        ServerOpts::new(Mode::Plain)
            .flag("--max-rcpts", 2)
            .reject_rcpt("r3@example.net"),
        None,
    );
    let env = Env::new();
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());
    env.run([
        "send",
        "--to",
        "r0@example.net,r1@example.net,r2@example.net,r3@example.net",
        "--subject",
        "part",
    ])
    .expect_code(1);
    assert_eq!(server.received().len(), 1);
    let (_, meta) = env.outbox().remove(0);
    assert_eq!(
        meta["delivered_to"],
        serde_json::json!(["r0@example.net", "r1@example.net"])
    );
    assert_eq!(
        meta["envelope"]["to"],
        serde_json::json!(["r2@example.net", "r3@example.net"])
    );
    let show = env.run(["outbox", "list"]);
    assert!(
        show.stdout()
            .contains("already delivered to: r0@example.net, r1@example.net"),
        "{}",
        show.describe()
    );
}

/// kill -9 at random points of a flush, again and again, then a last flush: each message
/// arrives once. The one exception SMTP allows (RFC 1047) is a kill between the final dot
/// and the server's reply (the server has it, missive cannot know): that delivery is on
/// record as uncertain. The slow step here is RCPT, so most kills land before the data.
#[test]
fn kill_9_at_random_points_then_flush_delivers_each_once() {
    let server = SmtpServer::start(
        ServerOpts::new(Mode::Plain).flag("--delay-rcpt-ms", 30),
        None,
    );
    let env = Env::new();
    queue(&env, 10, "k");
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());
    let mut seed = std::process::id() as u64 | 1;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..6 {
        let mut c = env
            .std_cmd()
            .args(["outbox", "flush"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(20 + rnd() % 150));
        let _ = c.kill();
        c.wait().unwrap();
    }
    env.run(["outbox", "flush"]).expect_code(0);
    // Any delivery of a message that may have arrived before is on record as such.
    let log = std::fs::read_to_string(env.data_home.join("missive/sent.log")).unwrap();
    let uncertain: Vec<String> = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["uncertain"] == true)
        .map(|v| {
            v["message_id"]
                .as_str()
                .unwrap()
                .trim_matches(['<', '>'])
                .to_string()
        })
        .collect();
    let ids = message_ids(&server);
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 10, "every message arrived");
    for id in &unique {
        let n = ids.iter().filter(|i| *i == id).count();
        assert!(
            n == 1 || uncertain.contains(id),
            "{id} arrived {n} times\nsent log:\n{log}\nserver: {ids:?}"
        );
    }
    assert!(env.outbox().is_empty());
}

/// 20 flushes at once on 50 queued messages deliver 50.
#[test]
fn twenty_concurrent_flushes_deliver_fifty_once() {
    let env = Env::new();
    queue(&env, 50, "c");
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());
    let children: Vec<_> = (0..20)
        .map(|_| {
            env.std_cmd()
                .args(["outbox", "flush"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "{out:?}");
    }
    let ids = message_ids(&server);
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((ids.len(), unique.len()), (50, 50));
    assert!(env.outbox().is_empty());
}

/// Everything under the data dir that these commands write is private.
#[test]
fn outbox_drafts_and_sent_log_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    queue(&env, 1, "p");
    let e = engine(&env);
    e.drafts()
        .save("20260101-000000-eeee", None, &draft("private"))
        .unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(env.outbox_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.push(
        env.data_home
            .join("missive/drafts/20260101-000000-eeee.json"),
    );
    for f in files {
        let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", f.display());
    }
    for d in [env.outbox_dir(), env.data_home.join("missive/drafts")] {
        let mode = std::fs::metadata(&d).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{}", d.display());
    }
}

/// When the outbox itself cannot be written, `send --json` says why, not just `null`.
#[test]
fn an_unwritable_outbox_is_reported() {
    let env = Env::new();
    env.write_config(&SmtpCfg::new(dead_port(), Mode::Plain, None).toml());
    std::fs::create_dir_all(env.data_home.join("missive")).unwrap();
    // A file where the outbox directory should be (root ignores permission bits).
    std::fs::write(env.outbox_dir(), b"not a directory").unwrap();
    let run = env.run([
        "send",
        "--json",
        "--to",
        "bob@example.net",
        "--subject",
        "s",
    ]);
    run.expect_code(1);
    let v = run.json();
    assert!(v["outbox"].is_null(), "{v}");
    let why = v["outbox_error"].as_str().unwrap_or_default();
    assert!(why.contains("could not write the outbox"), "{v}");
    assert!(
        run.stderr().contains("could not write the outbox"),
        "{}",
        run.describe()
    );
}
