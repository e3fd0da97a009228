//! End to end: the real `missive` binary in a terminal (tmux, on a private socket), driven
//! by keystrokes like a person: a message with a Korean subject, a file attached through
//! the picker, the transport switched, sent to the real local SMTP server of the engine's
//! tests (tests/smtp_server.py); the delivered message and the Message-ID on screen are
//! checked against each other. Also: SIGTERM keeps the draft and restores the terminal.
//!
//! Needs `tmux` and python3 with aiosmtpd; skipped (with a message) when tmux is missing.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{toml_str, Env, Mode, ServerOpts, SmtpServer, TEST_PASSWORD, TEST_USER};
use mail_parser::{MessageParser, MimeHeaders};

struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    fn available() -> bool {
        Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success())
    }

    fn tmux(&self) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-u")
            .arg("-S")
            .arg(&self.socket)
            .env("LANG", "C.UTF-8");
        c
    }

    /// Run `script` (a shell script) in a new session of `w` × `h` cells.
    fn start(dir: &Path, script: &Path, w: u16, h: u16) -> Tmux {
        Tmux::start_as(dir, "tmux", script, w, h)
    }

    /// A terminal of its own (socket `NAME.sock`), for a second window.
    fn start_as(dir: &Path, name: &str, script: &Path, w: u16, h: u16) -> Tmux {
        let t = Tmux {
            socket: dir.join(format!("{name}.sock")),
        };
        let st = t
            .tmux()
            .args(["new-session", "-d", "-s", "e2e", "-x"])
            .arg(w.to_string())
            .arg("-y")
            .arg(h.to_string())
            .arg(format!("sh {}", script.display()))
            .status()
            .expect("tmux new-session");
        assert!(st.success(), "tmux new-session failed");
        t
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            let st = self
                .tmux()
                .args(["send-keys", "-t", "e2e", k])
                .status()
                .expect("tmux send-keys");
            assert!(st.success());
            // Keys sent together can merge (Esc then a key reads as Alt-key).
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    fn text(&self, text: &str) {
        let st = self
            .tmux()
            .args(["send-keys", "-t", "e2e", "-l", text])
            .status()
            .expect("tmux send-keys -l");
        assert!(st.success());
        std::thread::sleep(Duration::from_millis(60));
    }

    fn screen(&self) -> String {
        let out = self
            .tmux()
            .args(["capture-pane", "-p", "-t", "e2e"])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Wait until the screen shows `needle`; fail with the screen otherwise.
    fn wait_for(&self, needle: &str) -> String {
        let until = Instant::now() + Duration::from_secs(20);
        loop {
            let s = self.screen();
            if s.contains(needle) {
                return s;
            }
            if Instant::now() > until {
                panic!("timed out waiting for {needle:?}; the screen is:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux().arg("kill-server").status();
    }
}

/// A script that runs missive hermetically (like `Env::cmd`), records its pid, and keeps
/// the pane open after it exits so its last words can be read.
fn script(env: &Env, cwd: &Path, args: &str) -> PathBuf {
    script_with(env, cwd, args, "true")
}

fn script_with(env: &Env, cwd: &Path, args: &str, editor: &str) -> PathBuf {
    script_as(env, "missive", cwd, args, editor)
}

/// As `script_with`, under its own names (`run-NAME.sh`, `NAME.pid`): for several windows.
fn script_as(env: &Env, name: &str, cwd: &Path, args: &str, editor: &str) -> PathBuf {
    let bin = env!("CARGO_BIN_EXE_missive");
    let inner = env.path().join(format!("run-{name}.sh"));
    std::fs::write(
        &inner,
        format!(
            "echo $$ > '{pid}'\nexec '{bin}' {args}\n",
            pid = env.path().join(format!("{name}.pid")).display()
        ),
    )
    .expect("write script");
    let outer = env.path().join(if name == "missive" {
        "run.sh".to_string()
    } else {
        format!("run-outer-{name}.sh")
    });
    let path = std::env::var("PATH").unwrap_or_default();
    std::fs::write(
        &outer,
        format!(
            "cd '{cwd}'\n\
             export PATH='{path}' HOME='{home}' USER=tester LANG=C.UTF-8 \
             XDG_CONFIG_HOME='{cfg}' XDG_DATA_HOME='{data}' XDG_CACHE_HOME='{home}/cache' \
             MISSIVE_E2E_PASSWORD='{pw}' EDITOR='{editor}' MISSIVE_DEBUG_PANIC=1 RUST_BACKTRACE=0\n\
             sh '{inner}'\n\
             echo \"EXITED $?\"\n\
             sleep 60\n",
            cwd = cwd.display(),
            home = env.path().display(),
            cfg = env.config_home.display(),
            data = env.data_home.display(),
            pw = TEST_PASSWORD,
            inner = inner.display(),
        ),
    )
    .expect("write script");
    outer
}

/// The `<...>` on the screen line that mentions Message-ID.
fn message_id_on(screen: &str) -> String {
    screen
        .lines()
        .find(|l| l.contains("Message-ID"))
        .and_then(|l| {
            let start = l.find('<')?;
            let end = l[start..].find('>')? + start;
            Some(l[start..=end].to_string())
        })
        .unwrap_or_else(|| panic!("no Message-ID on screen:\n{screen}"))
}

fn config(env: &Env, smtp_port: u16) {
    env.write_config(&format!(
        r#"default = "archive"
from = "Ada Lovelace <ada@example.com>"

[transport.archive]
kind = "file"
dir = "{archive}"

[transport.smtp-local]
kind = "smtp"
host = "127.0.0.1"
port = {smtp_port}
security = "none"
username = "{TEST_USER}"
password_env = "MISSIVE_E2E_PASSWORD"
timeout = 10
"#,
        archive = env.path().join("archive").display()
    ));
}

#[test]
fn compose_attach_switch_and_send_over_smtp() {
    if !Tmux::available() {
        eprintln!("tmux is not installed; skipping the composer's end-to-end test");
        return;
    }
    let server = SmtpServer::start(
        ServerOpts::new(Mode::Plain).auth(TEST_USER, TEST_PASSWORD),
        None,
    );
    let env = Env::new();
    config(&env, server.port);
    let report = vec![0x25u8; 3_000]
        .into_iter()
        .chain((0..=255u8).cycle().take(20_000))
        .collect::<Vec<u8>>();
    env.file("보고서.pdf", &report);
    env.file("notes.txt", "not this one\n");
    let files = env.path().join("files");
    let t = Tmux::start(env.path(), &script(&env, &files, ""), 100, 30);

    let s = t.wait_for("via archive (file)");
    assert!(s.contains("From     Ada Lovelace <ada@example.com>"), "{s}");

    // To, then Enter moves on: Cc, Bcc, Reply-To, Subject.
    t.text("Bob Example <bob@example.net>");
    t.keys(&["Enter", "Enter", "Enter", "Enter"]);
    t.text("안녕하세요 — 회의 자료");
    t.keys(&["Tab"]);
    t.text("밥에게,");
    t.keys(&["Enter"]);
    t.text("the report is attached. 감사합니다!");
    t.wait_for("감사합니다!");

    // Attach through the picker: filter with Korean, Enter adds.
    t.keys(&["C-o"]);
    t.wait_for("Attach a file");
    t.text("보고");
    t.wait_for("1 of 3");
    t.keys(&["Enter"]);
    let s = t.wait_for("attached 보고서.pdf");
    assert!(s.contains("application/pdf"), "{s}");

    // Switch to the SMTP transport (third in name order).
    t.keys(&["C-t"]);
    t.wait_for("Send via");
    t.keys(&["3"]);
    t.wait_for("via smtp-local (smtp)");

    // The preview shows the message as it will leave, Message-ID included.
    t.keys(&["C-p"]);
    let s = t.wait_for("MIME preview");
    let s = if s.contains("Message-ID") {
        s
    } else {
        t.wait_for("Message-ID")
    };
    assert!(s.contains("application/pdf"), "{s}");
    assert!(s.contains("\"보고서.pdf\""), "{s}");
    let preview_id = message_id_on(&s);
    t.keys(&["Escape"]);
    t.wait_for("^Y send");

    // Send: confirm, then the receipt.
    t.keys(&["C-y"]);
    let s = t.wait_for("Enter/y send");
    assert!(s.contains("Bob Example <bob@example.net>"), "{s}");
    assert!(s.contains("smtp-local (smtp)"), "{s}");
    t.keys(&["y"]);
    let s = t.wait_for("Queue id");
    let screen_id = message_id_on(&s);
    assert_eq!(
        screen_id, preview_id,
        "the preview showed the Message-ID that was sent"
    );

    // What the server got.
    let got = server.only_message();
    assert_eq!(got.rcpt_tos, vec!["bob@example.net"]);
    assert_eq!(got.mail_from, "ada@example.com");
    assert!(got.authenticated, "AUTH was used");
    let msg = MessageParser::default()
        .parse(&got.raw)
        .expect("the delivered message parses");
    assert_eq!(msg.subject(), Some("안녕하세요 — 회의 자료"));
    assert_eq!(
        msg.message_id().map(|m| format!("<{m}>")),
        Some(screen_id.clone())
    );
    let body = msg.body_text(0).expect("a text body");
    assert!(body.contains("밥에게,"), "{body}");
    assert!(
        body.contains("the report is attached. 감사합니다!"),
        "{body}"
    );
    let att = msg.attachment(0).expect("an attachment");
    assert_eq!(att.attachment_name(), Some("보고서.pdf"));
    assert_eq!(att.contents(), &report[..]);
    assert!(s.contains(&got.queue_id), "the queue id is on screen:\n{s}");

    // The sent log has it; no draft is left.
    let log = std::fs::read_to_string(env.data_home.join("missive/sent.log")).expect("sent log");
    assert!(log.contains(&screen_id), "{log}");
    let drafts = env.data_home.join("missive/drafts");
    let left: Vec<_> = std::fs::read_dir(&drafts)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "drafts left after sending: {left:?}");

    // A fresh message; quitting needs no question.
    t.keys(&["Enter"]);
    t.wait_for("draft: new");
    t.keys(&["C-q"]);
    t.wait_for("EXITED 0");
}

#[test]
fn sigterm_saves_the_draft_and_restores_the_terminal() {
    if !Tmux::available() {
        eprintln!("tmux is not installed; skipping");
        return;
    }
    let env = Env::new();
    config(&env, common::dead_port());
    let t = Tmux::start(
        env.path(),
        &script(&env, env.path(), "--to carol@example.org"),
        80,
        24,
    );
    t.wait_for("via archive (file)");
    // With a recipient given, the composer opens on Subject.
    t.text("저장될 제목");
    t.wait_for("저장될 제목");
    let pid = std::fs::read_to_string(env.path().join("missive.pid")).expect("pid file");
    let st = Command::new("kill")
        .args(["-TERM", pid.trim()])
        .status()
        .expect("kill");
    assert!(st.success());
    let s = t.wait_for("EXITED 143");
    assert!(s.contains("saved as draft"), "{s}");
    // The terminal is back to normal: the shell's output is on the main screen.
    assert!(!s.contains("via archive"), "{s}");
    let out = env.run(["drafts", "--json"]);
    let v: serde_json::Value = serde_json::from_str(out.stdout().trim()).expect("drafts json");
    assert_eq!(v[0]["draft"]["subject"], "저장될 제목");
    assert_eq!(v[0]["draft"]["to"][0], "carol@example.org");
}

#[test]
fn a_panic_restores_the_terminal_and_saves_what_was_typed() {
    if !Tmux::available() {
        eprintln!("tmux is not installed; skipping");
        return;
    }
    let env = Env::new();
    config(&env, common::dead_port());
    let t = Tmux::start(
        env.path(),
        &script(&env, env.path(), "--to dave@example.com"),
        80,
        24,
    );
    t.wait_for("via archive (file)");
    t.text("crash course");
    t.keys(&["Tab"]);
    t.text("typed a moment ago");
    t.wait_for("typed a moment ago");
    // Debug builds panic on F12 when MISSIVE_DEBUG_PANIC is set (the script sets it).
    t.keys(&["F12"]);
    let s = t.wait_for("EXITED 101");
    assert!(s.contains("panic requested with F12"), "{s}");
    assert!(s.contains("saved as draft"), "{s}");
    assert!(
        !s.contains("via archive"),
        "the composer's screen is gone:\n{s}"
    );
    let out = env.run(["drafts", "--json"]);
    let v: serde_json::Value = serde_json::from_str(out.stdout().trim()).expect("drafts json");
    assert_eq!(v[0]["draft"]["subject"], "crash course");
    assert_eq!(v[0]["draft"]["text"], "typed a moment ago");
}

#[test]
fn ctrl_e_hands_the_body_to_the_editor_and_back() {
    if !Tmux::available() {
        eprintln!("tmux is not installed; skipping");
        return;
    }
    let env = Env::new();
    config(&env, common::dead_port());
    // An "editor" that checks it got the body, then appends a line.
    let editor = env.path().join("editor.sh");
    std::fs::write(
        &editor,
        "grep -q '첫 줄' \"$1\" && echo '편집기에서 added by the editor' >> \"$1\"\n",
    )
    .expect("write editor");
    let t = Tmux::start(
        env.path(),
        &script_with(
            &env,
            env.path(),
            "--to e@example.com --subject edit",
            &format!("sh {}", editor.display()),
        ),
        80,
        24,
    );
    t.wait_for("via archive (file)");
    t.text("첫 줄");
    t.keys(&["C-e"]);
    let s = t.wait_for("편집기에서 added by the editor");
    assert!(s.contains("첫 줄"), "{s}");
    assert!(s.contains("line 2 of 2"), "{s}");
    // The composer is back in charge: keys still work.
    t.keys(&["F1"]);
    t.wait_for("Keys");
}

/// Two composer windows: the second neither offers nor can delete the draft the first has
/// open (an OS lock); once the first is killed (-9, no chance to clean up), the next
/// window offers it.
#[test]
fn a_second_window_leaves_the_first_windows_draft_alone() {
    if !Tmux::available() {
        eprintln!("tmux is not installed; skipping");
        return;
    }
    let env = Env::new();
    config(&env, common::dead_port());
    let a = Tmux::start_as(
        env.path(),
        "a",
        &script_as(&env, "a", env.path(), "--to carol@example.org", "true"),
        100,
        30,
    );
    a.wait_for("via archive (file)");
    a.text("first window draft");
    a.keys(&["C-s"]);
    let drafts_dir = env.data_home.join("missive/drafts");
    let until = Instant::now() + Duration::from_secs(20);
    while !std::fs::read_dir(&drafts_dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .any(|e| e.path().extension().is_some_and(|x| x == "json"))
        })
        .unwrap_or(false)
    {
        assert!(
            Instant::now() < until,
            "window A never saved its draft:\n{}",
            a.screen()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let v = env.run(["drafts", "--json"]).json();
    assert_eq!(v[0]["locked"], true, "{v}");
    let id = v[0]["id"].as_str().unwrap().to_string();

    let b = Tmux::start_as(
        env.path(),
        "b",
        &script_as(&env, "b", env.path(), "", "true"),
        100,
        30,
    );
    let screen = b.wait_for("via archive (file)");
    assert!(!screen.contains("Continue your last draft"), "{screen}");
    assert!(!screen.contains("first window draft"), "{screen}");
    let rm = env.run(["drafts", "rm", &id]);
    rm.expect_code(2);
    assert!(drafts_dir.join(format!("{id}.json")).exists());
    b.keys(&["C-q"]);
    b.wait_for("EXITED 0");

    let pid = std::fs::read_to_string(env.path().join("a.pid")).expect("pid file");
    assert!(Command::new("kill")
        .args(["-KILL", pid.trim()])
        .status()
        .unwrap()
        .success());
    a.wait_for("EXITED 137");
    let c = Tmux::start_as(
        env.path(),
        "c",
        &script_as(&env, "c", env.path(), "", "true"),
        100,
        30,
    );
    let screen = c.wait_for("Continue your last draft");
    assert!(screen.contains("first window draft"), "{screen}");
}

/// A message a server refused for good (550 for one recipient) is fixed where it was
/// written: `missive outbox edit` opens it in the composer, the recipient is corrected,
/// and sending there delivers it under the same Message-ID and takes it out of the outbox.
#[test]
fn outbox_edit_fixes_a_refused_message_in_the_composer() {
    if !Tmux::available() {
        eprintln!("tmux is not installed; skipping");
        return;
    }
    let server = SmtpServer::start(
        ServerOpts::new(Mode::Plain)
            .auth(TEST_USER, TEST_PASSWORD)
            .reject_rcpt("nobdy@example.net"),
        None,
    );
    let mut env = Env::new();
    config(&env, server.port);
    env.vars
        .push(("MISSIVE_E2E_PASSWORD".into(), TEST_PASSWORD.into()));
    let run = env.run([
        "send",
        "--transport",
        "smtp-local",
        "--to",
        "nobdy@example.net",
        "--subject",
        "typo in the address",
    ]);
    run.expect_code(1);
    let list = env.run(["outbox", "list", "--json"]).json();
    assert_eq!(list[0]["state"], "permanent", "{list}");
    let name = list[0]["name"].as_str().unwrap().to_string();
    let message_id = list[0]["meta"]["message_id"].as_str().unwrap().to_string();

    let t = Tmux::start(
        env.path(),
        &script(&env, env.path(), &format!("outbox edit {name}")),
        100,
        30,
    );
    let s = t.wait_for("via smtp-local (smtp)");
    assert!(s.contains("nobdy@example.net"), "{s}");
    // Back to To (whichever pane it opened on), and fix the address.
    for _ in 0..8 {
        if t.screen().contains("▸ To") {
            break;
        }
        t.keys(&["BTab"]);
    }
    t.wait_for("▸ To");
    t.keys(&["End"]);
    for _ in 0.."nobdy@example.net".len() {
        t.keys(&["BSpace"]);
    }
    t.text("nobody@example.net");
    t.wait_for("nobody@example.net");
    t.keys(&["C-y"]);
    t.wait_for("Enter/y send");
    t.keys(&["y"]);
    let s = t.wait_for("Queue id");
    assert_eq!(message_id_on(&s), message_id);
    let got = server.only_message();
    assert_eq!(got.rcpt_tos, vec!["nobody@example.net"]);
    assert!(env.outbox().is_empty(), "{:?}", env.outbox());
    env.run(["outbox", "flush"]).expect_code(0);
    assert_eq!(server.received().len(), 1);
}

/// Issue 7's first report, as a person does it: a send fails (server down), quit keeping
/// the draft, reopen it with `--draft ID`, correct it, send: delivered once, corrected,
/// and `outbox flush` has nothing left to send (the stale copy was replaced, then removed).
#[test]
fn a_reopened_corrected_draft_is_delivered_once() {
    if !Tmux::available() {
        eprintln!("tmux is not installed; skipping");
        return;
    }
    let server = SmtpServer::start(
        ServerOpts::new(Mode::Plain).auth(TEST_USER, TEST_PASSWORD),
        None,
    );
    let mut env = Env::new();
    env.vars
        .push(("MISSIVE_E2E_PASSWORD".into(), TEST_PASSWORD.into()));
    config(&env, common::dead_port());
    let a = Tmux::start_as(
        env.path(),
        "a",
        &script_as(
            &env,
            "a",
            env.path(),
            "--transport smtp-local --to bob@example.net --subject Uncorrected",
            "true",
        ),
        100,
        30,
    );
    a.wait_for("via smtp-local (smtp)");
    a.keys(&["C-y"]);
    a.wait_for("Enter/y send");
    a.keys(&["y"]);
    a.wait_for("Send failed");
    assert_eq!(env.outbox().len(), 1);
    a.keys(&["Escape", "C-q"]);
    a.keys(&["s"]);
    let s = a.wait_for("EXITED 0");
    assert!(s.contains("saved as draft"), "{s}");
    let v = env.run(["drafts", "--json"]).json();
    let id = v[0]["id"].as_str().unwrap().to_string();
    assert!(
        v[0]["outbox"].is_string(),
        "the draft knows its outbox entry: {v}"
    );

    // The server is back; the draft is reopened and its subject corrected.
    config(&env, server.port);
    let b = Tmux::start_as(
        env.path(),
        "b",
        &script_as(&env, "b", env.path(), &format!("--draft {id}"), "true"),
        100,
        30,
    );
    b.wait_for("Uncorrected");
    for _ in 0..8 {
        if b.screen().contains("▸ Subject") {
            break;
        }
        b.keys(&["BTab"]);
    }
    b.wait_for("▸ Subject");
    b.keys(&["End"]);
    for _ in 0.."Uncorrected".len() {
        b.keys(&["BSpace"]);
    }
    b.text("Corrected");
    b.keys(&["C-y"]);
    b.wait_for("Enter/y send");
    b.keys(&["y"]);
    b.wait_for("Queue id");
    assert!(env.outbox().is_empty(), "{:?}", env.outbox());
    env.run(["outbox", "flush"]).expect_code(0);
    let got = server.only_message();
    assert_eq!(got.parsed().subject(), Some("Corrected"));
}

#[test]
fn a_recipient_is_completed_from_contacts_and_sent() {
    if !Tmux::available() {
        eprintln!("tmux is not installed; skipping the completion end-to-end test");
        return;
    }
    let server = SmtpServer::start(
        ServerOpts::new(Mode::Plain).auth(TEST_USER, TEST_PASSWORD),
        None,
    );
    let env = Env::new();
    config(&env, server.port);
    let aliases = env.file("aliases", "alias ann Ann Smith <ann@example.com>\n");
    // A slow address book: it answers after two seconds.
    let book = env.file(
        "book.sh",
        "sleep 2\necho \"searching for '$1' ...\"\nprintf 'dora@book.example\\tDora Explorer\\twork\\n'\n",
    );
    let cfg = std::fs::read_to_string(env.config_path()).expect("config");
    env.write_config(&format!(
        "aliases = {}\naddress_book_cmd = {}\n{cfg}",
        toml_str(&aliases.display().to_string()),
        toml_str(&format!("sh '{}' %s", book.display()))
    ));
    let files = env.path().join("files");
    let t = Tmux::start(
        env.path(),
        &script(&env, &files, "--transport smtp-local --subject completed"),
        100,
        30,
    );
    t.wait_for("via smtp-local (smtp)");

    // The alias shows at once, while the address book is still being asked.
    let typed = Instant::now();
    t.text("an");
    let s = t.wait_for("Ann Smith <ann@example.com>");
    let shown = typed.elapsed();
    assert!(s.contains("asking the address book"), "{s}");
    assert!(shown < Duration::from_millis(1800), "took {shown:?}:\n{s}");
    t.keys(&["Tab"]);
    t.wait_for("To       Ann Smith <ann@example.com>,");

    // The address book's answer joins the list when it comes; Down and Enter take it.
    t.text("do");
    let s = t.wait_for("Dora Explorer <dora@book.example>");
    assert!(s.contains("book"), "{s}");
    let s = t.screen();
    let rows: Vec<&str> = s.lines().filter(|l| l.contains('│')).collect();
    let dora_first = rows
        .iter()
        .find(|l| l.contains("▸ "))
        .is_some_and(|l| l.contains("Dora"));
    if !dora_first {
        t.keys(&["Down"]);
    }
    t.keys(&["Enter"]);
    t.wait_for("Ann Smith <ann@example.com>, Dora Explorer <dora@book.example>,");

    t.keys(&["C-y"]);
    t.wait_for("Enter/y send");
    t.keys(&["y"]);
    t.wait_for("Queue id");
    let got = server.only_message();
    assert_eq!(got.rcpt_tos, vec!["ann@example.com", "dora@book.example"]);
    assert!(
        got.text()
            .contains("To: Ann Smith <ann@example.com>, Dora Explorer <dora@book.example>\r\n"),
        "{}",
        got.text()
    );
    // Both are in the history now.
    let h = std::fs::read_to_string(env.data_home.join("missive/contacts.json")).expect("history");
    assert!(
        h.contains("dora@book.example") && h.contains("Ann Smith"),
        "{h}"
    );

    t.keys(&["Enter"]);
    t.wait_for("draft: new");
    t.keys(&["C-q"]);
    t.wait_for("EXITED 0");
}

/// A Korean message as a mail reader pipes it (`<pipe-message>missive --reply -`): EUC-KR
/// encoded words and body, addressed to the `work` identity.
const KOREAN_ORIGINAL: &str = "From: =?euc-kr?B?yKux5rW/?= <gildong@example.kr>\r\n\
To: Ada Lovelace <ada@work.example>\r\n\
Subject: =?euc-kr?B?yLjAxyDA2rfh?=\r\n\
Date: Wed, 02 Dec 2026 10:00:00 +0900\r\n\
Message-ID: <korean-1@example.kr>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=euc-kr\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
vsiz58fPvLy/5Cwgv6HAzLTZILTULg0KyLjAxyDA2rfhuKYgw7e6zsfVtM+02S4NCg0KPiDB9rOtILjewM8NCg==\r\n";

#[test]
fn reply_to_a_korean_message_as_another_identity() {
    if !Tmux::available() {
        eprintln!("tmux is not installed; skipping");
        return;
    }
    let server = SmtpServer::start(
        ServerOpts::new(Mode::Plain).auth(TEST_USER, TEST_PASSWORD),
        None,
    );
    let env = Env::new();
    config(&env, server.port);
    let mail = env.path().join("Mail");
    let cfg = std::fs::read_to_string(env.config_path()).expect("config");
    env.write_config(&format!(
        "{cfg}\n[identity.home]\nfrom = \"에이다 <ada@home.example>\"\ntransport = \"smtp-local\"\nsignature = \"— Ada (home)\"\ncopy_to = \"{home}\"\n\n[identity.work]\nfrom = \"Ada Lovelace <ada@work.example>\"\ntransport = \"smtp-local\"\nsignature = \"Ada Lovelace\\nWork Inc.\"\ncopy_to = \"{work}\"\n",
        home = mail.join("home/Sent").display(),
        work = mail.join("work/Sent").display(),
    ));
    let orig = env.file("orig.eml", KOREAN_ORIGINAL);
    // The message comes in on standard input; keys come from the terminal.
    let args = format!("--reply - < '{}'", orig.display());
    let t = Tmux::start(env.path(), &script(&env, env.path(), &args), 100, 32);

    // Written as the identity the message was addressed to, quoted, threaded, signed.
    // (Each is waited for: a capture can catch a frame half drawn.)
    for needle in [
        "as work · via smtp-local (smtp)",
        "From     Ada Lovelace <ada@work.example>",
        "To       홍길동 <gildong@example.kr>",
        "Subject  Re: 회의 자료",
        "On Wed, 2 Dec 2026 10:00:00 +0900, 홍길동 wrote:",
        "> 안녕하세요, 에이다 님.",
        "Work Inc.",
    ] {
        t.wait_for(needle);
    }

    // Ctrl-F: the picker shows both identities; 1 is home.
    t.keys(&["C-f"]);
    t.wait_for("Write as");
    t.wait_for("에이다 <ada@home.example>");
    t.keys(&["1"]);
    for needle in [
        "as home · via smtp-local (smtp)",
        "From     에이다 <ada@home.example>",
        "— Ada (home)",
    ] {
        t.wait_for(needle);
    }
    let s = t.screen();
    assert!(
        !s.contains("Work Inc."),
        "the old signature is still there:\n{s}"
    );

    // The body has the focus, the cursor on its first line: type an answer above the
    // quote, then send. The quote says 첨부 (attached), but it is the original's word:
    // no warning.
    t.wait_for("┏ Text — line 1 of");
    t.text("네, 잘 받았습니다.");
    t.keys(&["Enter", "Enter"]);
    t.keys(&["C-y"]);
    let s = t.wait_for("Enter/y send");
    assert!(!s.contains("Send anyway"), "{s}");
    t.keys(&["y"]);
    let s = t.wait_for("Queue id");
    let screen_id = message_id_on(&s);

    let got = server.only_message();
    assert_eq!(got.mail_from, "ada@home.example");
    assert_eq!(got.rcpt_tos, vec!["gildong@example.kr"]);
    let msg = MessageParser::default()
        .parse(&got.raw)
        .expect("the delivered message parses");
    assert_eq!(msg.subject(), Some("Re: 회의 자료"));
    let from = msg.from().and_then(|f| f.first()).expect("a From");
    assert_eq!(
        (from.name(), from.address()),
        (Some("에이다"), Some("ada@home.example"))
    );
    let to = msg.to().and_then(|f| f.first()).expect("a To");
    assert_eq!(to.name(), Some("홍길동"));
    assert_eq!(msg.in_reply_to().as_text(), Some("korean-1@example.kr"));
    assert_eq!(msg.references().as_text(), Some("korean-1@example.kr"));
    assert_eq!(got.python["subject"], "Re: 회의 자료");
    assert_eq!(got.python["in_reply_to"], "<korean-1@example.kr>");
    let body = msg.body_text(0).expect("a text body").replace("\r\n", "\n");
    assert!(
        body.starts_with("네, 잘 받았습니다.\n\nOn Wed, 2 Dec 2026 10:00:00 +0900, 홍길동 wrote:\n> 안녕하세요, 에이다 님.\n> 회의 자료를 첨부합니다.\n>\n>> 지난 메일\n"),
        "{body}"
    );
    assert!(body.ends_with("\n-- \n— Ada (home)\n"), "{body}");
    assert!(!body.contains("Work Inc."), "{body}");
    assert_eq!(msg.message_id().map(|m| format!("<{m}>")), Some(screen_id));

    // The sent copy went to the picked identity's Maildir, byte for byte.
    let cur = mail.join("home/Sent/cur");
    let copies: Vec<_> = std::fs::read_dir(&cur)
        .unwrap_or_else(|e| panic!("{}: {e}", cur.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    assert_eq!(copies.len(), 1, "{copies:?}");
    assert!(copies[0].to_string_lossy().ends_with(":2,S"));
    assert_eq!(std::fs::read(&copies[0]).expect("the copy"), got.raw);
    assert!(
        !mail.join("work/Sent/cur").exists(),
        "a copy went to work too"
    );

    t.keys(&["Enter"]);
    t.wait_for("draft: new");
    t.keys(&["C-q"]);
    t.wait_for("EXITED 0");
}
