//! Contacts: the recipient history (after real sends to tests/smtp_server.py), a mutt
//! aliases file, a fake address-book command (and one that hangs), and alias nicks
//! expanding in `send` and `preview`.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

const ALIASES: &str = "# mutt format\n\
alias ann Ann Smith <ann@example.com>\n\
alias bob \"Doe, Bob\" <bob@example.org>\n\
alias team ann, bob, carol@example.net\n";

/// A server, and a config with the aliases file and `book` as address_book_cmd.
fn setup(book: &str, extra: &str) -> (SmtpServer, Env) {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = Env::new();
    let aliases = env.file("aliases", ALIASES);
    let cfg = format!(
        "aliases = {}\naddress_book_cmd = {}\n{extra}\n{}",
        toml_str(aliases.to_str().unwrap()),
        toml_str(book),
        SmtpCfg::new(server.port, Mode::Plain, None).toml()
    );
    env.write_config(&cfg);
    (server, env)
}

/// An address book in aerc's format: a header line, then `address<TAB>name<TAB>...`,
/// filtered by the query the way khard does.
fn fake_book(env: &Env) -> String {
    let script = env.file(
        "book.sh",
        "#!/bin/sh\necho \"searching for '$1' ...\"\nprintf 'dora@book.example\\tDora Explorer\\thome\\nann@example.com\\tAnnie B\\n' | grep -i -- \"$1\"\nexit 0\n",
    );
    format!("sh {} %s", script.display())
}

fn contacts(env: &Env, query: &str) -> Vec<(Option<String>, String, String)> {
    let r = env.run(["contacts", query, "--json"]);
    r.expect_code(0);
    let v: Value = r.json();
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().map(str::to_string),
                c["address"].as_str().unwrap().to_string(),
                c["source"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn send(env: &Env, args: &[&str]) -> Run {
    let body = env.file("body.txt", "hello\n");
    let mut a = vec!["send", "--json", "--text", body.to_str().unwrap()];
    a.extend_from_slice(args);
    env.run(&a)
}

#[test]
fn aliases_book_and_history_merge_and_rank() {
    let (server, env) = setup("true", "");
    let book = fake_book(&env);
    let cfg = std::fs::read_to_string(env.config_path()).unwrap().replace(
        "address_book_cmd = \"true\"",
        &format!("address_book_cmd = {}", toml_str(&book)),
    );
    env.write_config(&cfg);

    // Aliases, before anything was sent.
    let got = contacts(&env, "ann");
    assert_eq!(
        got[0],
        (
            Some("Ann Smith".into()),
            "ann@example.com".into(),
            "alias".into()
        ),
        "{got:?}"
    );
    // The address book's answer, its header line skipped; ann@example.com is known from
    // the aliases already and is listed once.
    let got = contacts(&env, "dora");
    assert_eq!(
        got,
        [(
            Some("Dora Explorer".into()),
            "dora@book.example".into(),
            "address_book".into()
        )]
    );
    assert_eq!(
        contacts(&env, "ann")
            .iter()
            .filter(|c| c.1 == "ann@example.com")
            .count(),
        1
    );

    // History: after real deliveries, with the names the headers carried.
    send(
        &env,
        &[
            "--to",
            "Zoë Quinn <zoe@example.net>",
            "--cc",
            "\"Doe, Jane\" <jane@example.net>",
            "--subject",
            "one",
        ],
    )
    .expect_code(0);
    send(
        &env,
        &[
            "--to",
            "zoe@example.net",
            "--bcc",
            "hidden@example.net",
            "--subject",
            "two",
        ],
    )
    .expect_code(0);
    assert_eq!(server.received().len(), 2);
    let got = contacts(&env, "zoe");
    assert_eq!(
        got[0],
        (
            Some("Zoë Quinn".into()),
            "zoe@example.net".into(),
            "history".into()
        )
    );
    let got = contacts(&env, "jane");
    assert_eq!(got[0].0.as_deref(), Some("Doe, Jane"));
    // Bcc recipients are remembered too (from the envelope).
    assert!(contacts(&env, "hidden")
        .iter()
        .any(|c| c.1 == "hidden@example.net"));

    // Ranked by use: an empty query lists everyone, the one mailed twice first.
    let all = contacts(&env, "");
    assert_eq!(all[0].1, "zoe@example.net", "{all:?}");

    // The plain output is aerc's format.
    let r = env.run(["contacts", "zoe"]);
    r.expect_code(0);
    assert_eq!(
        r.stdout().lines().next(),
        Some("zoe@example.net\tZoë Quinn\thistory")
    );

    // The history is private.
    use std::os::unix::fs::PermissionsExt;
    let h = env.data_home.join("missive/contacts.json");
    assert_eq!(
        std::fs::metadata(&h).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn a_hanging_address_book_times_out() {
    let (_server, env) = setup("sleep 30; true", "address_book_timeout = 1");
    let t = Instant::now();
    let r = env.run(["contacts", "ann", "--json"]);
    let took = t.elapsed();
    r.expect_code(0);
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(
        r.stderr().contains("did not finish within 1s"),
        "{}",
        r.describe()
    );
    // The other sources still answer.
    let v = r.json();
    assert_eq!(v[0]["address"], "ann@example.com");
}

#[test]
fn a_flooding_address_book_is_cut_off() {
    let (_server, env) = setup("yes a@example.com", "");
    let r = env.run(["contacts", "a", "--json"]);
    r.expect_code(0);
    assert!(r.stderr().contains("printed more than"), "{}", r.describe());
}

#[test]
fn alias_nicks_expand_in_send_and_preview() {
    let (server, env) = setup("true", "");
    let r = env.run([
        "preview",
        "--raw",
        "--to",
        "team",
        "--cc",
        "bob",
        "--subject",
        "s",
    ]);
    r.expect_code(0);
    let raw = r.stdout();
    assert!(
        raw.contains("To: Ann Smith <ann@example.com>, \"Doe, Bob\" <bob@example.org>,\r\n carol@example.net\r\n")
            || raw.contains("To: Ann Smith <ann@example.com>, \"Doe, Bob\" <bob@example.org>, carol@example.net\r\n"),
        "{raw}"
    );
    assert!(
        raw.contains("Cc: \"Doe, Bob\" <bob@example.org>\r\n"),
        "{raw}"
    );

    // Mixed with plain addresses, in one entry; a nick is matched whole and ignoring case.
    send(
        &env,
        &[
            "--to",
            "ANN, dave@example.com",
            "--bcc",
            "team",
            "--subject",
            "s",
        ],
    )
    .expect_code(0);
    let m = server.only_message();
    let mut rcpts = m.rcpt_tos.clone();
    rcpts.sort();
    assert_eq!(
        rcpts,
        [
            "ann@example.com",
            "bob@example.org",
            "carol@example.net",
            "dave@example.com"
        ]
    );
    assert!(
        m.text()
            .contains("To: Ann Smith <ann@example.com>, dave@example.com\r\n"),
        "{}",
        m.text()
    );
    assert!(!m.text().contains("carol"), "Bcc leaked: {}", m.text());

    // Not a nick: refused as an address, nothing sent.
    let r = send(&env, &["--to", "nobody", "--subject", "s"]);
    r.expect_code(2);
    assert_eq!(server.received().len(), 1);
}

#[test]
fn a_broken_aliases_file_names_its_line_and_blocks_only_nicks() {
    let (server, env) = setup("true", "");
    let aliases = env.file("aliases", "alias ann ann@example.com\nalias bob\n");
    let r = env.run(["contacts", "x"]);
    r.expect_code(2);
    assert!(
        r.stderr().contains(&format!(
            "{}:2: alias \"bob\" has no address",
            aliases.display()
        )),
        "{}",
        r.describe()
    );
    let r = send(&env, &["--to", "ann", "--subject", "s"]);
    r.expect_code(2);
    assert!(r.stderr().contains(":2:"), "{}", r.describe());
    assert!(server.received().is_empty());
    // Full addresses do not need the aliases file.
    send(&env, &["--to", "ann@example.com", "--subject", "s"]).expect_code(0);
}

#[test]
fn contact_keys_are_checked_with_line_and_key() {
    let env = Env::new();
    env.write_config("from = \"a@example.com\"\naddress_book_timeout = 0\n");
    let r = env.run(["contacts", "x"]);
    r.expect_code(2);
    let want = format!(
        "{}:2: key `address_book_timeout`: expected seconds from 1 to 120",
        env.config_path().display()
    );
    assert!(r.stderr().contains(&want), "{}", r.describe());
    env.write_config("aliases = \"\"\n");
    let r = env.run(["contacts", "x"]);
    r.expect_code(2);
    assert!(r.stderr().contains(":1: key `aliases`"), "{}", r.describe());
}

#[test]
fn a_bare_alias_nick_opens_the_composer_to_it() {
    let (_server, env) = setup("true", "");
    // Without a terminal the composer says so: the nick was taken as a recipient.
    let r = env.run(["ann"]);
    r.expect_code(2);
    assert!(r.stderr().contains("needs a terminal"), "{}", r.describe());
    // Not a nick: still named as a mistyped command.
    let r = env.run(["sned"]);
    r.expect_code(2);
    assert!(
        r.stderr().contains("unknown command \"sned\""),
        "{}",
        r.describe()
    );
}
