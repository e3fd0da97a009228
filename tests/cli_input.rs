//! Bad input: exit 2, one line on stderr naming the offending value, nothing sent, nothing
//! in the outbox. A real server is listening so "nothing sent" is observed, not assumed.

mod common;

use std::path::Path;

use common::*;

struct Setup {
    server: SmtpServer,
    env: Env,
}

fn setup() -> Setup {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    let env = Env::new();
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());
    env.file("body.txt", "hello\n");
    Setup { server, env }
}

impl Setup {
    fn body(&self) -> String {
        self.env
            .path()
            .join("files/body.txt")
            .to_str()
            .unwrap()
            .to_string()
    }

    /// `missive send ARGS` (and `preview` with the same ARGS) must be refused with exit
    /// 2, one stderr line containing every one of `needles`.
    #[track_caller]
    fn refused(&self, args: &[&str], needles: &[&str]) {
        for verb in ["send", "preview"] {
            let mut all = vec![verb];
            all.extend_from_slice(args);
            let run = self.env.run(&all);
            run.expect_code(2);
            let err = run.stderr();
            let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
            assert_eq!(
                lines.len(),
                1,
                "{verb}: expected one stderr line\n{}",
                run.describe()
            );
            for n in needles {
                assert!(
                    err.contains(n),
                    "{verb}: stderr does not name {n:?}\n{}",
                    run.describe()
                );
            }
            assert!(run.stdout().is_empty(), "{verb}: {}", run.describe());
        }
        assert!(
            self.server.received().is_empty(),
            "a refused message was sent"
        );
        assert!(
            self.env.outbox_files().is_empty(),
            "a refused message went to the outbox: {:?}",
            self.env.outbox_files()
        );
    }
}

#[test]
fn invalid_address() {
    let s = setup();
    let body = s.body();
    s.refused(
        &["--to", "bob at example", "--text", &body],
        &["bob at example", "To"],
    );
    s.refused(
        &["--to", "ok@example.net, <broken@", "--text", &body],
        &["broken@"],
    );
    s.refused(
        &[
            "--to",
            "bob@example.net",
            "--cc",
            "@example.net",
            "--text",
            &body,
        ],
        &["@example.net", "Cc"],
    );
    s.refused(
        &[
            "--to",
            "bob@example.net",
            "--bcc",
            "nobody",
            "--text",
            &body,
        ],
        &["nobody", "Bcc"],
    );
    s.refused(
        &[
            "--from",
            "Ada <ada@>",
            "--to",
            "bob@example.net",
            "--text",
            &body,
        ],
        &["ada@", "From"],
    );
}

#[test]
fn line_breaks_are_refused() {
    let s = setup();
    let body = s.body();
    s.refused(
        &[
            "--to",
            "bob@example.net",
            "--subject",
            "hi\r\nBcc: evil@example.com",
            "--text",
            &body,
        ],
        &["Subject", "line break"],
    );
    s.refused(
        &[
            "--to",
            "bob@example.net",
            "--subject",
            "hi\nX-Injected: yes",
            "--text",
            &body,
        ],
        &["Subject"],
    );
    s.refused(
        &[
            "--to",
            "bob@example.net",
            "--header",
            "X-Foo: bar\r\nBcc: evil@example.com",
            "--text",
            &body,
        ],
        &["X-Foo", "line break"],
    );
    s.refused(
        &[
            "--to",
            "bob@example.net\r\nBcc: evil@example.com",
            "--text",
            &body,
        ],
        &["To", "line break"],
    );
    s.refused(
        &[
            "--from",
            "ada@example.com\nBcc: evil@example.com",
            "--to",
            "bob@example.net",
            "--text",
            &body,
        ],
        &["From"],
    );
}

#[test]
fn bad_headers() {
    let s = setup();
    let body = s.body();
    s.refused(
        &[
            "--to",
            "bob@example.net",
            "--header",
            "NoColon",
            "--text",
            &body,
        ],
        &["NoColon"],
    );
    s.refused(
        &[
            "--to",
            "bob@example.net",
            "--header",
            "Subject: twice",
            "--text",
            &body,
        ],
        &["Subject"],
    );
}

#[test]
fn no_recipient() {
    let s = setup();
    let body = s.body();
    s.refused(&["--subject", "to nobody", "--text", &body], &["recipient"]);
    s.refused(&["--to", " ", "--text", &body], &["recipient"]);
}

#[test]
fn missing_or_directory_attachment() {
    let s = setup();
    let body = s.body();
    let missing = s.env.path().join("files/nope.pdf");
    let missing = missing.to_str().unwrap();
    s.refused(
        &[
            "--to",
            "bob@example.net",
            "--text",
            &body,
            "--attach",
            missing,
        ],
        &[missing, "no such file"],
    );
    let dir = s.env.path().join("files");
    let dir = dir.to_str().unwrap();
    s.refused(
        &["--to", "bob@example.net", "--text", &body, "--attach", dir],
        &[dir, "directory"],
    );
}

#[test]
fn missing_or_directory_body() {
    let s = setup();
    let missing = s.env.path().join("files/nope.txt");
    let missing = missing.to_str().unwrap();
    s.refused(
        &["--to", "bob@example.net", "--text", missing],
        &[missing, "no such file"],
    );
    s.refused(
        &["--to", "bob@example.net", "--html", missing],
        &[missing, "no such file"],
    );
    let dir = s.env.path().join("files");
    let dir = dir.to_str().unwrap();
    s.refused(
        &["--to", "bob@example.net", "--text", dir],
        &[dir, "directory"],
    );
    let bin = s.env.file("binary.txt", [0xffu8, 0xfe, 0x00, 0x80]);
    let bin = bin.to_str().unwrap();
    s.refused(&["--to", "bob@example.net", "--text", bin], &[bin, "UTF-8"]);
}

#[test]
fn markdown_without_text() {
    let s = setup();
    s.refused(&["--to", "bob@example.net", "--markdown"], &["--markdown"]);
}

#[test]
fn unknown_transport() {
    let s = setup();
    let body = s.body();
    s.refused(
        &[
            "--to",
            "bob@example.net",
            "--text",
            &body,
            "--transport",
            "carrier-pigeon",
        ],
        &["carrier-pigeon"],
    );
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let s = setup();
    let run = s
        .env
        .run(["send", "--to", "bob@example.net", "--frobnicate"]);
    run.expect_code(2);
    assert!(run.stderr().contains("--frobnicate"), "{}", run.describe());
    assert!(s.server.received().is_empty());
}

/// Each file in tests/configs/ starts with `# expect: line=N key=K`; loading it must
/// fail with exit 2 and one stderr line naming the file, the line and the key.
#[test]
fn invalid_config_files_name_file_line_and_key() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/configs");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 6, "tests/configs holds too few cases");
    let env = Env::new();
    let body = env.file("body.txt", "hello\n");
    for f in &files {
        let src = std::fs::read_to_string(f).unwrap();
        let expect = src
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{}: no `# expect:` first line", f.display()));
        let mut line = None;
        let mut key = None;
        for kv in expect.split_whitespace() {
            match kv.split_once('=') {
                Some(("line", v)) => line = Some(v.parse::<usize>().unwrap()),
                Some(("key", v)) => key = Some(v.to_string()),
                _ => panic!("{}: bad expect {kv:?}", f.display()),
            }
        }
        let (line, key) = (line.unwrap(), key.unwrap());
        for verb in ["send", "preview", "check"] {
            let mut args = vec![
                "--config".to_string(),
                f.to_str().unwrap().to_string(),
                verb.to_string(),
            ];
            if verb != "check" {
                args.extend([
                    "--to".into(),
                    "bob@example.net".into(),
                    "--text".into(),
                    body.to_str().unwrap().into(),
                ]);
            }
            let run = env.run(&args);
            let what = format!("{} ({verb})", f.display());
            assert_eq!(run.code(), Some(2), "{what}\n{}", run.describe());
            let err = run.stderr();
            assert_eq!(
                err.lines().filter(|l| !l.trim().is_empty()).count(),
                1,
                "{what}: expected one line\n{}",
                run.describe()
            );
            let at = format!("{}:{line}:", f.display());
            assert!(err.contains(&at), "{what}: no {at:?} in {err}");
            assert!(
                err.contains(&format!("`{key}`")),
                "{what}: key {key:?} not named in {err}"
            );
        }
    }
    assert!(env.outbox_files().is_empty());
}

/// The default config location is read, and its errors name that path.
#[test]
fn default_config_location_is_used_and_named() {
    let env = Env::new();
    env.write_config("[transport.w]\nkind = \"smtp\"\nhost = \"h.example\"\nbogus = 1\n");
    let body = env.file("body.txt", "x\n");
    let run = env.run([
        "send",
        "--to",
        "bob@example.net",
        "--text",
        body.to_str().unwrap(),
    ]);
    run.expect_code(2);
    let want = format!("{}:4:", env.config_path().display());
    assert!(run.stderr().contains(&want), "{}", run.describe());
    assert!(
        run.stderr().contains("`transport.w.bogus`"),
        "{}",
        run.describe()
    );
}

/// No config at all: the built-in file transport writes to the data dir's sent/.
#[test]
fn no_config_uses_the_file_transport() {
    let env = Env::new();
    let body = env.file("body.txt", "hello\n");
    let run = env.run([
        "send",
        "--json",
        "--from",
        "ada@example.com",
        "--to",
        "bob@example.net",
        "--text",
        body.to_str().unwrap(),
    ]);
    run.expect_code(0);
    let j = run.json();
    assert_eq!(j["kind"], "file");
    let path = std::path::PathBuf::from(j["path"].as_str().unwrap());
    assert!(
        path.starts_with(env.data_home.join("missive/sent")),
        "{}",
        path.display()
    );
    let raw = std::fs::read(&path).unwrap();
    assert_eq!(
        format!("<{}>", parse(&raw).message_id().unwrap()),
        j["message_id"].as_str().unwrap()
    );
}

/// A ca_file with no certificate in it (garbage, or a private key by mistake) is a config
/// error: exit 2, named, nothing sent, nothing kept, for send and check alike.
#[test]
fn ca_file_without_a_certificate() {
    let certs = Certs::new();
    let server = SmtpServer::start(ServerOpts::new(Mode::StartTls), Some(&certs));
    let env = Env::new();
    let body = env.file("body.txt", "x\n");
    let garbage = env.file("garbage.pem", "not a certificate\n");
    for bad in [garbage.as_path(), certs.leaf_key.as_path()] {
        let mut cfg = SmtpCfg::new(server.port, Mode::StartTls, Some(&certs));
        cfg.ca_override = Some(bad.to_path_buf());
        env.write_config(&cfg.toml());
        let run = env.run([
            "send",
            "--to",
            "bob@example.net",
            "--text",
            body.to_str().unwrap(),
        ]);
        run.expect_code(2);
        let err = run.stderr();
        assert!(err.contains("ca_file"), "{}", run.describe());
        assert!(err.contains(bad.to_str().unwrap()), "{}", run.describe());
        assert!(err.contains("no certificate"), "{}", run.describe());
        let check = env.run(["check"]);
        check.expect_code(2);
        assert!(
            check.stderr().contains("no certificate"),
            "{}",
            check.describe()
        );
    }
    assert!(env.outbox_files().is_empty());
    assert!(server.received().is_empty());
}
