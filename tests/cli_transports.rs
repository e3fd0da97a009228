//! The other engine paths through the real binary: the file and sendmail transports, how
//! From and the transport are chosen, the sent log, `preview`'s tree, and the warning for
//! a plain password in a readable config.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::*;

fn write_script(path: &Path, body: &str) {
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn sendmail_gets_the_envelope_as_arguments_and_the_bytes_on_stdin() {
    let env = Env::new();
    let spool = env.path().join("spool");
    std::fs::create_dir_all(&spool).unwrap();
    let script = env.path().join("fake-sendmail");
    write_script(
        &script,
        &format!(
            "printf '%s\\n' \"$@\" > {spool}/args\ncat > {spool}/message\necho 'queued as FAKE123'",
            spool = spool.display()
        ),
    );
    env.write_config(&format!(
        "from = \"Ada <ada@example.com>\"\n[transport.local]\nkind = \"sendmail\"\ncommand = {}\n",
        toml_str(&format!("{} --extra-arg", script.display()))
    ));
    let body = env.file("body.txt", "via sendmail\n.\nend\n");
    let args = [
        "--to",
        "Bob <bob@example.net>",
        "--bcc",
        "hidden@example.net",
        "--subject",
        "local",
        "--text",
        body.to_str().unwrap(),
    ];
    let mut send = vec!["send", "--json"];
    send.extend_from_slice(&args);
    let run = env.run(&send);
    run.expect_code(0);
    let j = run.json();
    assert_eq!(j["kind"], "sendmail");
    assert_eq!(j["transport"], "local");
    assert_eq!(j["response"], "queued as FAKE123");

    let got_args = std::fs::read_to_string(spool.join("args")).unwrap();
    assert_eq!(
        got_args.lines().collect::<Vec<_>>(),
        [
            "--extra-arg",
            "-i",
            "-f",
            "ada@example.com",
            "--",
            "bob@example.net",
            "hidden@example.net"
        ]
    );
    let msg = std::fs::read(spool.join("message")).unwrap();
    assert_eq!(j["bytes"].as_u64(), Some(msg.len() as u64));
    assert!(!String::from_utf8_lossy(&msg).contains("hidden@example.net"));
    let m = parse(&msg);
    assert_eq!(format!("<{}>", m.message_id().unwrap()), j["message_id"]);
    assert_eq!(
        m.body_text(0).unwrap().replace("\r\n", "\n").trim_end(),
        "via sendmail\n.\nend"
    );

    // preview --raw shows the same message (Date and Message-ID aside).
    let mut preview = vec!["preview", "--raw"];
    preview.extend_from_slice(&args);
    let p = env.run(&preview);
    p.expect_code(0);
    assert_eq!(normalize(&p.0.stdout), normalize(&msg));
}

#[test]
fn sendmail_failure_goes_to_the_outbox() {
    let env = Env::new();
    let script = env.path().join("failing-sendmail");
    write_script(&script, "cat > /dev/null\necho 'queue full' >&2\nexit 75");
    env.write_config(&format!(
        "from = \"ada@example.com\"\n[transport.local]\nkind = \"sendmail\"\ncommand = {}\n",
        toml_str(script.to_str().unwrap())
    ));
    let body = env.file("body.txt", "x\n");
    let run = env.run([
        "send",
        "--to",
        "bob@example.net",
        "--text",
        body.to_str().unwrap(),
    ]);
    run.expect_code(1);
    assert!(run.stderr().contains("queue full"), "{}", run.describe());
    let out = env.outbox();
    assert_eq!(out.len(), 1);
    assert!(run.stderr().contains(out[0].0.to_str().unwrap()));
}

#[test]
fn file_transport_writes_the_exact_message() {
    let env = Env::new();
    let dir = env.path().join("outgoing");
    env.write_config(&format!(
        "from = \"ada@example.com\"\n[transport.files]\nkind = \"file\"\ndir = {}\n",
        toml_str(dir.to_str().unwrap())
    ));
    let body = env.file("body.txt", "to a file\n");
    let run = env.run([
        "send",
        "--json",
        "--to",
        "bob@example.net",
        "--text",
        body.to_str().unwrap(),
    ]);
    run.expect_code(0);
    let j = run.json();
    assert_eq!(j["kind"], "file");
    let path = PathBuf::from(j["path"].as_str().unwrap());
    assert_eq!(path.parent(), Some(dir.as_path()));
    let raw = std::fs::read(&path).unwrap();
    assert_eq!(j["bytes"].as_u64(), Some(raw.len() as u64));
    assert!(run.stdout().contains(path.to_str().unwrap()));
    // The human-readable form names the path too.
    let run = env.run([
        "send",
        "--to",
        "bob@example.net",
        "--text",
        body.to_str().unwrap(),
    ]);
    run.expect_code(0);
    assert!(run.stdout().contains("Path: "), "{}", run.describe());
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
}

/// From: the flag, else the transport's, else the top-level one, else $USER@host.
#[test]
fn from_is_resolved_in_order() {
    let env = Env::new();
    let dir = env.path().join("out");
    let cfg = |top: Option<&str>, transport: Option<&str>| {
        let mut s = String::new();
        if let Some(t) = top {
            s.push_str(&format!("from = {}\n", toml_str(t)));
        }
        s.push_str(&format!(
            "[transport.f]\nkind = \"file\"\ndir = {}\n",
            toml_str(dir.to_str().unwrap())
        ));
        if let Some(t) = transport {
            s.push_str(&format!("from = {}\n", toml_str(t)));
        }
        s
    };
    let body = env.file("body.txt", "x\n");
    let from_of = |extra: &[&str]| {
        let mut args = vec![
            "preview",
            "--raw",
            "--to",
            "bob@example.net",
            "--text",
            body.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let run = env.run(&args);
        run.expect_code(0);
        let raw = run.0.stdout.clone();
        let m = parse(&raw);
        let f = m.from().unwrap().first().unwrap();
        f.address().unwrap().to_string()
    };

    env.write_config(&cfg(
        Some("top@example.com"),
        Some("Transport <tr@example.com>"),
    ));
    assert_eq!(from_of(&[]), "tr@example.com");
    assert_eq!(from_of(&["--from", "flag@example.com"]), "flag@example.com");
    env.write_config(&cfg(Some("top@example.com"), None));
    assert_eq!(from_of(&[]), "top@example.com");
    env.write_config(&cfg(None, None));
    let fallback = from_of(&[]);
    assert!(
        fallback.starts_with("tester@") && fallback.len() > "tester@".len(),
        "expected $USER@host, got {fallback}"
    );
}

#[test]
fn choosing_the_transport() {
    let env = Env::new();
    let a = env.path().join("a");
    let b = env.path().join("b");
    let two = format!(
        "from = \"ada@example.com\"\n[transport.a]\nkind = \"file\"\ndir = {}\n[transport.b]\nkind = \"file\"\ndir = {}\n",
        toml_str(a.to_str().unwrap()),
        toml_str(b.to_str().unwrap())
    );
    env.write_config(&two);
    let body = env.file("body.txt", "x\n");
    let body = body.to_str().unwrap();

    // Two transports and no default: say so, send nothing.
    let run = env.run(["send", "--to", "bob@example.net", "--text", body]);
    run.expect_code(2);
    assert!(run.stderr().contains("--transport"), "{}", run.describe());
    assert!(!a.exists() && !b.exists());

    env.run([
        "send",
        "--to",
        "bob@example.net",
        "--text",
        body,
        "--transport",
        "b",
    ])
    .expect_code(0);
    assert!(!a.exists());
    assert_eq!(std::fs::read_dir(&b).unwrap().count(), 1);

    env.write_config(&format!("default = \"a\"\n{two}"));
    env.run(["send", "--to", "bob@example.net", "--text", body])
        .expect_code(0);
    assert_eq!(std::fs::read_dir(&a).unwrap().count(), 1);

    // Every delivery is in the sent log, one JSON line each.
    let log = std::fs::read_to_string(env.data_home.join("missive/sent.log")).unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["transport"], "b");
    assert_eq!(lines[1]["transport"], "a");
    assert!(lines.iter().all(|l| l["message_id"].is_string()));
}

#[test]
fn preview_prints_the_tree() {
    let env = Env::new();
    env.write_config("from = \"ada@example.com\"\n[transport.f]\nkind = \"file\"\n");
    let text = env.file("body.txt", "hello\n");
    let html = env.file("body.html", "<p>hello</p>\n");
    let att = env.file("보고서 2026.pdf", random_bytes(2000));
    let run = env.run([
        "preview",
        "--to",
        "bob@example.net",
        "--bcc",
        "hidden@example.net",
        "--subject",
        "tree",
        "--text",
        text.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
        "--attach",
        att.to_str().unwrap(),
    ]);
    run.expect_code(0);
    let out = run.stdout();
    for want in [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "application/pdf",
        "base64",
        "보고서 2026.pdf",
        "Subject: tree",
    ] {
        assert!(out.contains(want), "no {want:?} in\n{out}");
    }
    // The envelope line names the Bcc recipient; the headers do not.
    assert!(out.contains("hidden@example.net"), "{out}");
    assert!(!out.contains("Bcc:"), "{out}");
    assert!(
        std::fs::read_dir(env.data_home.join("missive/sent")).is_err(),
        "preview sent something"
    );
}

/// A plain `password =` works but warns when others can read the config.
#[test]
fn plain_password_warns_when_the_config_is_readable() {
    let server = SmtpServer::start(
        ServerOpts::new(Mode::Plain).auth(TEST_USER, TEST_PASSWORD),
        None,
    );
    let env = Env::new();
    let cfg = SmtpCfg::new(server.port, Mode::Plain, None)
        .line(format!("username = {}", toml_str(TEST_USER)))
        .line(format!("password = {}", toml_str(TEST_PASSWORD)));
    env.write_config(&cfg.toml());
    let body = env.file("body.txt", "x\n");
    let body = body.to_str().unwrap();

    std::fs::set_permissions(env.config_path(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = env.run(["send", "--to", "bob@example.net", "--text", body]);
    run.expect_code(0);
    assert!(run.stderr().contains("warning"), "{}", run.describe());
    assert!(run.stderr().contains("chmod 600"), "{}", run.describe());
    run.assert_no_secret(TEST_PASSWORD);

    std::fs::set_permissions(env.config_path(), std::fs::Permissions::from_mode(0o600)).unwrap();
    let run = env.run(["send", "--to", "bob@example.net", "--text", body]);
    run.expect_code(0);
    assert!(run.stderr().is_empty(), "{}", run.describe());
    assert_eq!(server.received().len(), 2);
}

/// A secret source that fails names itself (never the secret) and keeps the message.
#[test]
fn failing_secret_sources_are_named() {
    let server = SmtpServer::start(
        ServerOpts::new(Mode::Plain).auth(TEST_USER, TEST_PASSWORD),
        None,
    );
    let env = Env::new();
    let body = env.file("body.txt", "x\n");
    let body = body.to_str().unwrap();

    let cfg = SmtpCfg::new(server.port, Mode::Plain, None)
        .line(format!("username = {}", toml_str(TEST_USER)))
        .line("password_env = \"MISSIVE_UNSET_VARIABLE\"");
    env.write_config(&cfg.toml());
    let run = env.run(["send", "--to", "bob@example.net", "--text", body]);
    assert_ne!(run.code(), Some(0), "{}", run.describe());
    assert!(
        run.stderr().contains("MISSIVE_UNSET_VARIABLE"),
        "{}",
        run.describe()
    );

    let cfg = SmtpCfg::new(server.port, Mode::Plain, None)
        .line(format!("username = {}", toml_str(TEST_USER)))
        .line("password_cmd = \"echo leaked-if-shown; exit 3\"");
    env.write_config(&cfg.toml());
    let run = env.run(["send", "--to", "bob@example.net", "--text", body]);
    assert_ne!(run.code(), Some(0), "{}", run.describe());
    assert!(run.stderr().contains("password_cmd"), "{}", run.describe());
    assert!(run.stderr().contains("exit"), "{}", run.describe());
    assert!(server.received().is_empty());
}

#[test]
fn check_file_and_sendmail_transports() {
    let env = Env::new();
    let dir = env.path().join("out");
    let script = env.path().join("fake-sendmail");
    write_script(&script, "cat > /dev/null");
    env.write_config(&format!(
        "[transport.f]\nkind = \"file\"\ndir = {}\n[transport.s]\nkind = \"sendmail\"\ncommand = {}\n[transport.missing]\nkind = \"sendmail\"\ncommand = \"/nonexistent/sendmail -t\"\n",
        toml_str(dir.to_str().unwrap()),
        toml_str(script.to_str().unwrap())
    ));
    let run = env.run(["check", "f"]);
    run.expect_code(0);
    assert!(run.stdout().contains("writable"), "{}", run.describe());
    assert!(
        dir.is_dir(),
        "check did not create the file transport's dir"
    );
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "check left a file"
    );

    let run = env.run(["check", "s"]);
    run.expect_code(0);
    assert!(run.stdout().contains("is present"), "{}", run.describe());

    let run = env.run(["check", "missing"]);
    run.expect_code(1);
    assert!(
        run.stderr().contains("/nonexistent/sendmail") && run.stderr().contains("not found"),
        "{}",
        run.describe()
    );
}

#[test]
fn empty_outbox_and_drafts() {
    let env = Env::new();
    let run = env.run(["outbox", "list"]);
    run.expect_code(0);
    assert!(run.stdout().contains("The outbox is empty."));
    let run = env.run(["outbox", "list", "--json"]);
    run.expect_code(0);
    assert_eq!(run.json(), serde_json::json!([]));
    let run = env.run(["outbox", "flush", "--json"]);
    run.expect_code(0);
    assert_eq!(run.json(), serde_json::json!([]));
    let run = env.run(["drafts", "--json"]);
    run.expect_code(0);
    assert_eq!(run.json(), serde_json::json!([]));
}
