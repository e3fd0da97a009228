//! Identities, signatures and sent copies, end to end: the real binary, the SMTP test
//! server, a real Dovecot for IMAP copies, and two independent parsers reading back.

mod common;

use common::dovecot::{Dovecot, IMAP_PASSWORD, IMAP_USER};
use common::*;

const SIG: &str = "Ada Lovelace\nAnalytical Engines Ltd.";

/// An SMTP server with AUTH, a config whose transport `t` points at it, plus `extra`.
fn setup(extra: &str) -> (Env, SmtpServer, Certs) {
    let certs = Certs::new();
    let server = SmtpServer::start(
        ServerOpts::new(Mode::Tls).auth(IMAP_USER, IMAP_PASSWORD),
        Some(&certs),
    );
    let mut env = Env::new();
    let cfg = SmtpCfg::new(server.port, Mode::Tls, Some(&certs))
        .password_env(&mut env, IMAP_USER, IMAP_PASSWORD)
        .toml();
    env.write_config(&format!("{cfg}\n{extra}"));
    (env, server, certs)
}

fn identity_work(extra: &str) -> String {
    format!(
        "[identity.work]\nfrom = \"Ada Lovelace <ada@work.example>\"\ntransport = \"t\"\nreply_to = \"Team <team@work.example>\"\nsignature = {SIG:?}\n{extra}\n"
    )
}

#[test]
fn identity_sets_from_reply_to_transport_and_signature() {
    // The default transport is the file one: the identity must pick `t`.
    let (env, server, _c) = setup(&format!(
        "[transport.f]\nkind = \"file\"\n{}",
        identity_work("")
    ));
    let cfg = std::fs::read_to_string(env.config_path()).unwrap();
    env.write_config(&cfg.replace("default = \"t\"", "default = \"f\""));
    let body = env.file("body.txt", "Hello Bob,\nsee you.\n");
    let r = env.run([
        "send",
        "--identity",
        "work",
        "--to",
        "bob@example.net",
        "--subject",
        "Plans",
        "--text",
        body.to_str().unwrap(),
        "--json",
    ]);
    r.expect_code(0);
    assert_eq!(r.json()["transport"], "t");
    let m = server.only_message();
    let p = m.parsed();
    assert_eq!(
        p.from().unwrap().first().unwrap().address(),
        Some("ada@work.example")
    );
    let rt = p.reply_to().unwrap().first().unwrap();
    assert_eq!(rt.address(), Some("team@work.example"));
    assert_eq!(rt.name(), Some("Team"));
    assert_eq!(m.mail_from, "ada@work.example");
    let text = p.body_text(0).unwrap().replace("\r\n", "\n");
    assert_eq!(text, format!("Hello Bob,\nsee you.\n\n-- \n{SIG}\n"));
    assert_eq!(
        m.python["reply_to"][0][1], "team@work.example",
        "{}",
        m.python
    );
}

#[test]
fn default_identity_and_unknown_identity() {
    let (env, server, _c) = setup(&identity_work("default = true"));
    env.run(["send", "--to", "bob@example.net", "--subject", "x"])
        .expect_code(0);
    let m = server.only_message();
    let p = m.parsed();
    assert_eq!(
        p.from().unwrap().first().unwrap().address(),
        Some("ada@work.example")
    );
    // No text given: the body is the signature.
    assert_eq!(
        p.body_text(0).unwrap().replace("\r\n", "\n"),
        format!("\n\n-- \n{SIG}\n")
    );
    let r = env.run(["preview", "--identity", "nope", "--to", "b@example.net"]);
    r.expect_code(2);
    assert!(
        r.stderr()
            .contains("unknown identity \"nope\"; configured: work"),
        "{}",
        r.describe()
    );
    // --from wins over the identity's.
    let r = env.run([
        "preview",
        "--raw",
        "--from",
        "Other <o@example.org>",
        "--to",
        "b@example.net",
    ]);
    r.expect_code(0);
    assert!(
        r.stdout().contains("From: Other <o@example.org>"),
        "{}",
        r.stdout()
    );
}

#[test]
fn signature_in_html_and_markdown_html_once() {
    let (env, _server, _c) = setup(&identity_work(""));
    let text = env.file("t.md", "# Hi\n\n*there*\n");
    let r = env.run([
        "preview",
        "--raw",
        "--identity",
        "work",
        "--to",
        "b@example.net",
        "--markdown",
        "--text",
        text.to_str().unwrap(),
    ]);
    r.expect_code(0);
    let raw = r.0.stdout.clone();
    let m = parse(&raw);
    let html = m.body_html(0).unwrap().replace("\r\n", "\n");
    assert!(html.contains("<h1>Hi</h1>"), "{html}");
    assert!(
        html.contains("-- <br>\nAda Lovelace<br>\nAnalytical Engines Ltd.</div>"),
        "{html}"
    );
    assert_eq!(html.matches("missive-signature").count(), 1);
    assert_eq!(
        m.body_text(0).unwrap().replace("\r\n", "\n"),
        format!("# Hi\n\n*there*\n\n-- \n{SIG}\n")
    );

    let h = env.file("b.html", "<html><body><p>Hello</p></body></html>");
    let r = env.run([
        "preview",
        "--raw",
        "--identity",
        "work",
        "--to",
        "b@example.net",
        "--html",
        h.to_str().unwrap(),
    ]);
    r.expect_code(0);
    let m = parse(&r.0.stdout);
    let html = m.body_html(0).unwrap().replace("\r\n", "\n");
    assert!(
        html.contains("<p>Hello</p><div class=\"missive-signature\">-- <br>\nAda Lovelace<br>\nAnalytical Engines Ltd.</div>\n</body>"),
        "{html}"
    );
}

#[test]
fn text_that_already_ends_with_the_signature_gets_no_second_one() {
    let (env, _server, _c) = setup(&identity_work(""));
    let t = env.file("t.txt", format!("Hi\n\n-- \n{SIG}\n"));
    let r = env.run([
        "preview",
        "--raw",
        "--identity",
        "work",
        "--to",
        "b@example.net",
        "--text",
        t.to_str().unwrap(),
    ]);
    r.expect_code(0);
    let m = parse(&r.0.stdout);
    assert_eq!(
        m.body_text(0).unwrap().replace("\r\n", "\n"),
        format!("Hi\n\n-- \n{SIG}\n")
    );
}

#[test]
fn signature_file_and_cmd_are_bounded() {
    let (env, _server, _c) = setup("");
    let sig = env.file("sig.txt", "-- \nSig in a file\n");
    let cfg = std::fs::read_to_string(env.config_path()).unwrap();
    env.write_config(&format!(
        "{cfg}\n[identity.f]\nfrom = \"a@work.example\"\nsignature_file = {}\n[identity.c]\nfrom = \"c@work.example\"\nsignature_cmd = \"printf 'Cmd sig'\"\n[identity.big]\nfrom = \"b@work.example\"\nsignature_cmd = \"yes\"\n",
        toml_str(sig.to_str().unwrap())
    ));
    let text = |r: &Run| {
        parse(&r.0.stdout)
            .body_text(0)
            .unwrap()
            .replace("\r\n", "\n")
    };
    let r = env.run([
        "preview",
        "--raw",
        "--identity",
        "f",
        "--to",
        "b@example.net",
    ]);
    r.expect_code(0);
    assert_eq!(text(&r), "\n\n-- \nSig in a file\n");
    let r = env.run([
        "preview",
        "--raw",
        "--identity",
        "c",
        "--to",
        "b@example.net",
    ]);
    r.expect_code(0);
    assert_eq!(text(&r), "\n\n-- \nCmd sig\n");
    let started = std::time::Instant::now();
    let r = env.run([
        "preview",
        "--raw",
        "--identity",
        "big",
        "--to",
        "b@example.net",
    ]);
    r.expect_code(2);
    assert!(r.stderr().contains("signature_cmd"), "{}", r.describe());
    assert!(r.stderr().contains("more than"), "{}", r.describe());
    assert!(started.elapsed() < std::time::Duration::from_secs(8));
}

#[test]
fn config_errors_name_file_line_and_key() {
    let env = Env::new();
    for (toml, line, key) in [
        ("[identity.w]\nfrom = \"a@b.example\"\ntransport = \"nowhere\"\n", 3, "identity.w.transport"),
        ("[identity.w]\nfrom = \"a@b.example\"\ncolour = \"red\"\n", 3, "identity.w.colour"),
        ("[identity.w]\nfrom = \"not an address\"\n", 2, "identity.w.from"),
        ("[identity.a]\nfrom = \"a@b.example\"\ndefault = true\n[identity.b]\nfrom = \"b@b.example\"\ndefault = true\n", 6, "identity.b.default"),
        ("[identity.w]\nfrom = \"a@b.example\"\ncopy_to = \"imap://imap.example/Sent\"\n", 3, "identity.w.copy_to"),
    ] {
        env.write_config(toml);
        let r = env.run(["preview", "--to", "b@example.net"]);
        r.expect_code(2);
        let want = format!("config.toml:{line}: key `{key}`");
        assert!(r.stderr().contains(&want), "want {want:?}\n{}", r.describe());
    }
}

#[test]
fn maildir_copy_is_the_delivered_bytes_marked_seen() {
    let (env, server, _c) = setup("");
    let md = env.path().join("Mail/work/Sent");
    let cfg = std::fs::read_to_string(env.config_path()).unwrap();
    env.write_config(&format!(
        "{cfg}\n{}",
        identity_work(&format!("copy_to = {}", toml_str(md.to_str().unwrap())))
    ));
    let r = env.run([
        "send",
        "--identity",
        "work",
        "--to",
        "bob@example.net",
        "--subject",
        "회의 자료",
        "--json",
    ]);
    r.expect_code(0);
    let j = r.json();
    assert_eq!(j["copy"]["ok"], true, "{j}");
    let m = server.only_message();
    let cur: Vec<_> = std::fs::read_dir(md.join("cur"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(cur.len(), 1);
    let name = cur[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.ends_with(":2,S"), "{name}");
    assert_eq!(
        std::fs::read(&cur[0]).unwrap(),
        m.raw,
        "the copy differs from what was delivered"
    );
    assert_eq!(std::fs::read_dir(md.join("new")).unwrap().count(), 0);
    assert_eq!(std::fs::read_dir(md.join("tmp")).unwrap().count(), 0);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&cur[0]).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        parse(&std::fs::read(&cur[0]).unwrap()).subject(),
        Some("회의 자료")
    );
    let r = env.run([
        "send",
        "--identity",
        "work",
        "--to",
        "bob@example.net",
        "--subject",
        "2",
    ]);
    r.expect_code(0);
    assert!(
        r.stdout().contains(&format!("Sent copy: {}", md.display())),
        "{}",
        r.stdout()
    );
    assert_eq!(std::fs::read_dir(md.join("cur")).unwrap().count(), 2);
}

#[test]
fn imap_copy_over_tls_read_back_with_seen() {
    if !common::dovecot::available() {
        panic!("dovecot-imapd is not installed (apt-get install -y dovecot-imapd)");
    }
    let (env, server, certs) = setup("");
    let dv = Dovecot::start(&certs);
    let cfg = std::fs::read_to_string(env.config_path()).unwrap();
    let mut env = env;
    env.vars.push(("IMAP_PW".into(), IMAP_PASSWORD.into()));
    env.write_config(&format!(
        "{cfg}\n{}",
        identity_work(&format!(
            "copy_to = \"imap://{IMAP_USER}@127.0.0.1:{}/Sent\"\nimap_ca_file = {}\nimap_password_env = \"IMAP_PW\"",
            dv.port_tls,
            toml_str(certs.ca.to_str().unwrap())
        ))
    ));
    let r = env.run([
        "send",
        "--identity",
        "work",
        "--to",
        "bob@example.net",
        "--subject",
        "Copy me",
        "--json",
    ]);
    r.expect_code(0);
    r.assert_no_secret(IMAP_PASSWORD);
    assert_eq!(
        r.json()["copy"]["ok"],
        true,
        "{}\n{}",
        r.describe(),
        dv.log()
    );
    let m = server.only_message();
    let got = dv.fetch_all(&certs, "Sent");
    assert_eq!(got.len(), 1, "{}", dv.log());
    assert!(got[0].0.contains("\\Seen"), "flags: {}", got[0].0);
    assert_eq!(
        got[0].1, m.raw,
        "the IMAP copy differs from what was delivered"
    );
}

#[test]
fn imap_copy_starttls_takes_the_transports_keys() {
    let (env, server, certs) = setup("");
    let dv = Dovecot::start(&certs);
    let cfg = std::fs::read_to_string(env.config_path()).unwrap();
    // No imap_ca_file, no IMAP password: both come from transport `t` (ca_file, the
    // password_env of its smtp login).
    env.write_config(&format!(
        "{cfg}\n{}",
        identity_work(&format!(
            "copy_to = \"imap://{IMAP_USER}@localhost:{}/Sent%20Items\"\nimap_security = \"starttls\"",
            dv.port_starttls
        ))
    ));
    let r = env.run([
        "send",
        "--identity",
        "work",
        "--to",
        "bob@example.net",
        "--json",
    ]);
    r.expect_code(0);
    assert_eq!(
        r.json()["copy"]["ok"],
        true,
        "{}\n{}",
        r.describe(),
        dv.log()
    );
    let m = server.only_message();
    let got = dv.fetch_all(&certs, "Sent Items");
    assert_eq!(got.len(), 1, "{}", dv.log());
    assert_eq!(got[0].1, m.raw);
}

#[test]
fn failed_copy_is_reported_kept_listed_and_retried_by_flush() {
    let (env, server, certs) = setup("");
    let dv = Dovecot::start(&certs);
    let cfg = std::fs::read_to_string(env.config_path()).unwrap();
    let mut env = env;
    env.vars
        .push(("IMAP_PW".into(), "wrong password 99".into()));
    env.write_config(&format!(
        "{cfg}\n{}",
        identity_work(&format!(
            "copy_to = \"imap://{IMAP_USER}@127.0.0.1:{}/Sent\"\nimap_ca_file = {}\nimap_password_env = \"IMAP_PW\"",
            dv.port_tls,
            toml_str(certs.ca.to_str().unwrap())
        ))
    ));
    let r = env.run([
        "send",
        "--identity",
        "work",
        "--to",
        "bob@example.net",
        "--json",
    ]);
    // Delivered: exit 0 whatever happened to the copy.
    r.expect_code(0);
    r.assert_no_secret("wrong password 99");
    let j = r.json();
    assert_eq!(j["copy"]["ok"], false, "{j}");
    assert!(
        j["copy"]["error"].as_str().unwrap().contains("refused"),
        "{j}"
    );
    let pending = std::path::PathBuf::from(j["copy"]["pending"].as_str().unwrap());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&pending).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let m = server.only_message();
    assert_eq!(std::fs::read(&pending).unwrap(), m.raw);

    let r = env.run(["outbox", "list"]);
    r.expect_code(0);
    assert!(r.stdout().contains("pending copy of"), "{}", r.describe());
    assert!(
        !r.stdout().contains("The outbox is empty"),
        "{}",
        r.describe()
    );
    let r = env.run(["outbox", "list", "--json"]);
    assert_eq!(r.json()[0]["pending_copy"]["identity"], "work");

    // A failing retry keeps it and counts the attempt.
    let r = env.run(["outbox", "flush", "--json"]);
    r.expect_code(0);
    assert_eq!(r.json()[0]["copy"]["ok"], false);
    assert!(pending.exists());

    env.vars.retain(|(k, _)| k != "IMAP_PW");
    env.vars.push(("IMAP_PW".into(), IMAP_PASSWORD.into()));
    let r = env.run(["outbox", "flush", "--json"]);
    r.expect_code(0);
    assert_eq!(
        r.json()[0]["copy"]["ok"],
        true,
        "{}\n{}",
        r.describe(),
        dv.log()
    );
    assert!(!pending.exists());
    let got = dv.fetch_all(&certs, "Sent");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1, m.raw);
    assert_eq!(
        server.received().len(),
        1,
        "the message itself was sent again"
    );
    let r = env.run(["outbox", "list"]);
    assert!(
        r.stdout().contains("The outbox is empty"),
        "{}",
        r.describe()
    );
}

#[test]
fn outbox_flush_stores_the_copy_of_a_queued_message() {
    let (env, _server, _c) = setup("");
    let md = env.path().join("Sent");
    let cfg = std::fs::read_to_string(env.config_path()).unwrap();
    // The transport fails first (dead port): the message goes to the outbox.
    let dead = dead_port();
    let port_line = cfg
        .lines()
        .find(|l| l.starts_with("port = "))
        .unwrap()
        .to_string();
    env.write_config(&format!(
        "{}\n{}",
        cfg.replace(&port_line, &format!("port = {dead}")),
        identity_work(&format!("copy_to = {}", toml_str(md.to_str().unwrap())))
    ));
    env.run(["send", "--identity", "work", "--to", "bob@example.net"])
        .expect_code(1);
    assert!(!md.exists());
    env.write_config(&format!(
        "{cfg}\n{}",
        identity_work(&format!("copy_to = {}", toml_str(md.to_str().unwrap())))
    ));
    let r = env.run(["outbox", "flush", "--json"]);
    r.expect_code(0);
    assert_eq!(
        r.json()[0]["report"]["copy"]["ok"],
        true,
        "{}",
        r.describe()
    );
    assert_eq!(std::fs::read_dir(md.join("cur")).unwrap().count(), 1);
}

#[test]
fn reply_to_flag_and_header_reserved() {
    let (env, _server, _c) = setup("");
    let r = env.run([
        "preview",
        "--raw",
        "--to",
        "b@example.net",
        "--reply-to",
        "Ünïcode Team <team@example.org>",
    ]);
    r.expect_code(0);
    let m = parse(&r.0.stdout);
    let rt = m.reply_to().unwrap().first().unwrap();
    assert_eq!(rt.name(), Some("Ünïcode Team"));
    assert!(r.0.stdout.is_ascii());
    let r = env.run([
        "preview",
        "--to",
        "b@example.net",
        "--header",
        "Reply-To: x@example.org",
    ]);
    r.expect_code(2);
    assert!(r.stderr().contains("set by missive"), "{}", r.describe());
}
