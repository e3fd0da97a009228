//! The composer in a real pseudo-terminal (expectrl), fed raw bytes the way a terminal
//! without bracketed paste delivers a paste: every character a keystroke, every line
//! break a carriage return, as fast as the terminal can write them. What must hold: all
//! of it lands in the body without another key being pressed, and soon.
//!
//! The body is read back from the autosaved draft (`drafts/<id>.json`), which the
//! composer writes once input has been idle for a second.

mod common;

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Env;
use expectrl::process::NonBlocking;

/// The composer running in a pty, with its screen output collected by a thread (so it
/// never blocks on a full pty) and its input written by another (so the test never
/// blocks on a composer that stopped reading).
struct Composer {
    session: expectrl::Session,
    master: File,
    output: Arc<Mutex<Vec<u8>>>,
}

impl Composer {
    fn start(env: &Env, args: &[&str]) -> Composer {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_missive"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", env.path())
            .env("USER", "tester")
            .env("TERM", "xterm-256color")
            .env("LANG", "C.UTF-8")
            .env("XDG_CONFIG_HOME", &env.config_home)
            .env("XDG_DATA_HOME", &env.data_home)
            .env("XDG_CACHE_HOME", env.path().join("cache"))
            .current_dir(env.path())
            .args(args);
        let mut session = expectrl::Session::spawn(cmd).expect("spawn missive in a pty");
        session
            .get_stream_mut()
            .set_blocking()
            .expect("blocking pty");
        let fd = session.get_stream().as_raw_fd();
        // SAFETY: the session owns `fd` and outlives both duplicates made here.
        let dup = || {
            File::from(
                unsafe { BorrowedFd::borrow_raw(fd) }
                    .try_clone_to_owned()
                    .expect("dup the pty"),
            )
        };
        let mut reader = dup();
        let output = Arc::new(Mutex::new(Vec::new()));
        let out = output.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            // Ends with EIO when the composer exits.
            while let Ok(n @ 1..) = reader.read(&mut buf) {
                out.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Composer {
            session,
            master: dup(),
            output,
        }
    }

    fn wait_for_screen(&self, needle: &str) {
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            let seen = String::from_utf8_lossy(&self.output.lock().unwrap()).contains(needle);
            if seen {
                return;
            }
            assert!(
                Instant::now() < until,
                "the composer never showed {needle:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Write `bytes` from a thread; returns when all were written (the pty only takes
    /// them as fast as the composer reads).
    fn type_bytes(&self, bytes: Vec<u8>) -> std::thread::JoinHandle<Instant> {
        let mut w = self.master.try_clone().expect("dup the pty");
        std::thread::spawn(move || {
            // Chunks like a terminal's writes.
            for chunk in bytes.chunks(4096) {
                w.write_all(chunk).expect("write to the pty");
            }
            Instant::now()
        })
    }
}

impl Drop for Composer {
    fn drop(&mut self) {
        let _ = self
            .session
            .get_process_mut()
            .kill(expectrl::Signal::SIGKILL);
    }
}

fn config(env: &Env) {
    env.write_config(&format!(
        "default = \"archive\"\nfrom = \"Ada <ada@example.com>\"\n\n[transport.archive]\nkind = \"file\"\ndir = \"{}\"\n",
        env.path().join("archive").display()
    ));
}

/// The text of the (only) saved draft, if there is one.
fn draft_text(data_home: &Path) -> Option<String> {
    let dir = data_home.join("missive/drafts");
    let entry = std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .find(|e| e.path().extension().is_some_and(|x| x == "json"))?;
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(entry.path()).ok()?).ok()?;
    v["draft"]["text"].as_str().map(str::to_string)
}

/// Wait until the saved draft's text is `expected`; returns when it was seen.
fn wait_for_draft(env: &Env, expected: &str, what: &str) -> Instant {
    let until = Instant::now() + Duration::from_secs(60);
    let mut last = None;
    loop {
        last = draft_text(&env.data_home).or(last);
        if last.as_deref() == Some(expected) {
            return Instant::now();
        }
        if Instant::now() > until {
            let got = last.unwrap_or_default();
            panic!(
                "{what}: the draft never held the expected body: {} of {} lines, {} of {} bytes",
                got.lines().count(),
                expected.lines().count(),
                got.len(),
                expected.len()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Paste `lines` as keystrokes into an empty body and wait until the draft holds them
/// all, with no other key pressed. Returns how long that took after the last byte was
/// written.
fn paste_without_bracketed_paste(lines: &[String]) -> Duration {
    let env = Env::new();
    config(&env);
    // Recipient and subject given: the composer opens with the body focused.
    let c = Composer::start(&env, &["--to", "bob@example.net", "--subject", "paste"]);
    c.wait_for_screen("via archive");
    let writer = c.type_bytes(lines.join("\r").into_bytes());
    let done = wait_for_draft(&env, &lines.join("\n"), "paste");
    let written = writer.join().expect("writer");
    done.saturating_duration_since(written)
}

fn lines(n: usize, width: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let mut l = format!("{i:04} 붙여넣기 paste without brackets:");
            while l.len() < width {
                l.push_str(" lorem ipsum");
            }
            l
        })
        .collect()
}

#[test]
fn a_50_kb_paste_without_bracketed_paste_lands_whole() {
    let text = lines(700, 70);
    let bytes: usize = text.iter().map(|l| l.len() + 1).sum();
    assert!(bytes > 50_000, "{bytes}");
    let after = paste_without_bracketed_paste(&text);
    eprintln!("50 KB paste: in the saved draft {after:?} after the last byte was written");
    // The draft is written after a second of idle input, so this is that second plus the
    // time the paste took to land (70 ms here); a debug build on a busy machine gets
    // slack. The old reader (1 KiB per terminal write, the tail stuck until the next key)
    // never got here at all.
    assert!(after < Duration::from_secs(3), "{after:?}");
}

#[test]
fn a_500_line_paste_is_kept_whole() {
    let text = lines(500, 30);
    let after = paste_without_bracketed_paste(&text);
    eprintln!("500-line paste: in the saved draft {after:?} after the last byte was written");
}

#[test]
fn a_paste_into_a_long_body_is_undone_in_one_step() {
    let env = Env::new();
    config(&env);
    let body = lines(300, 40).join("\n");
    let file = env.file("body.txt", &body);
    let file = file.to_string_lossy();
    let c = Composer::start(
        &env,
        &[
            "--to",
            "bob@example.net",
            "--subject",
            "undo",
            "--text",
            &file,
        ],
    );
    c.wait_for_screen("via archive");
    let paste = lines(500, 30);
    // A bracketed paste (the terminal marks it), at the top of the body.
    let mut bytes = b"\x1b[200~".to_vec();
    bytes.extend(paste.join("\r").into_bytes());
    bytes.extend(b"\x1b[201~");
    c.type_bytes(bytes).join().expect("writer");
    let pasted = format!("{}{body}", paste.join("\n"));
    wait_for_draft(&env, &pasted, "bracketed paste");
    // Ctrl-Z once.
    c.type_bytes(vec![0x1a]).join().expect("writer");
    wait_for_draft(&env, &body, "undo of the bracketed paste");
    // The same paste as plain keystrokes: still one step.
    c.type_bytes(paste.join("\r").into_bytes())
        .join()
        .expect("writer");
    wait_for_draft(&env, &pasted, "paste as keystrokes");
    c.type_bytes(vec![0x1a]).join().expect("writer");
    wait_for_draft(&env, &body, "undo of the keystroke paste");
    // And Ctrl-R brings it back.
    c.type_bytes(vec![0x12]).join().expect("writer");
    wait_for_draft(&env, &pasted, "redo");
}
