//! Issue 8, hostile files and servers: attachments and configs that are FIFOs, devices,
//! huge sparse files; default configs that are dangling; servers whose greeting never
//! ends or is not SMTP; odd file names. Every case ends fast with a clear error.

mod common;

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::ffi::OsStrExt;
use std::time::{Duration, Instant};

use common::*;

fn mkfifo(path: &std::path::Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

/// Run missive under a 1 GiB address-space limit, so reading a huge input whole would
/// fail the test rather than the machine.
fn run_limited(env: &Env, args: &[&OsStr]) -> Run {
    let mut c = env.std_cmd();
    let bin = c.get_program().to_owned();
    let mut sh = std::process::Command::new("sh");
    sh.arg("-c")
        .arg("ulimit -v 1048576; exec \"$0\" \"$@\"")
        .arg(bin)
        .args(args);
    sh.env_clear();
    for (k, v) in c.get_envs() {
        if let Some(v) = v {
            sh.env(k, v);
        }
    }
    sh.current_dir(env.path());
    let mut cmd = assert_cmd::Command::from_std(sh);
    cmd.timeout(Duration::from_secs(30));
    let _ = &mut c;
    Run(cmd.output().unwrap())
}

#[test]
fn fifo_device_and_directory_attachments_refused_at_once() {
    let env = Env::new();
    let fifo = env.path().join("pipe");
    mkfifo(&fifo);
    let cases: [(&std::path::Path, &str); 3] = [
        (&fifo, "FIFO"),
        (std::path::Path::new("/dev/zero"), "character device"),
        (env.path(), "directory"),
    ];
    for (path, why) in cases {
        for verb in ["send", "preview"] {
            let t = Instant::now();
            let run = run_limited(
                &env,
                &[
                    OsStr::new(verb),
                    OsStr::new("--to"),
                    OsStr::new("bob@example.net"),
                    OsStr::new("--attach"),
                    path.as_os_str(),
                ],
            );
            assert!(t.elapsed() < Duration::from_secs(10));
            run.expect_code(2);
            assert!(run.stderr().contains(why), "{}", run.describe());
        }
    }
    assert!(env.outbox_files().is_empty());
}

#[test]
fn sparse_4gib_attachment_refused_by_size_before_reading() {
    let env = Env::new();
    let big = env.path().join("big.iso");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(4 << 30)
        .unwrap();
    let t = Instant::now();
    let run = run_limited(
        &env,
        &[
            OsStr::new("send"),
            OsStr::new("--to"),
            OsStr::new("bob@example.net"),
            OsStr::new("--attach"),
            big.as_os_str(),
        ],
    );
    assert!(t.elapsed() < Duration::from_secs(10));
    run.expect_code(2);
    assert!(
        run.stderr().contains("over the limit"),
        "{}",
        run.describe()
    );
    assert!(
        run.stderr().contains("4294967296 bytes"),
        "{}",
        run.describe()
    );
}

#[test]
fn config_fifo_and_dev_zero_refused() {
    let env = Env::new();
    let fifo = env.path().join("cfg-pipe");
    mkfifo(&fifo);
    for (path, why) in [
        (fifo.as_os_str(), "FIFO"),
        (OsStr::new("/dev/zero"), "character device"),
    ] {
        let t = Instant::now();
        let run = run_limited(
            &env,
            &[
                OsStr::new("--config"),
                path,
                OsStr::new("preview"),
                OsStr::new("--to"),
                OsStr::new("b@example.net"),
            ],
        );
        assert!(t.elapsed() < Duration::from_secs(10));
        run.expect_code(2);
        assert!(run.stderr().contains(why), "{}", run.describe());
    }
    // A regular but huge (sparse) config is refused by size.
    let big = env.path().join("big.toml");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let run = run_limited(
        &env,
        &[
            OsStr::new("--config"),
            big.as_os_str(),
            OsStr::new("drafts"),
        ],
    );
    run.expect_code(2);
    assert!(
        run.stderr().contains("over the limit"),
        "{}",
        run.describe()
    );
}

#[test]
fn dangling_default_config_is_an_error_not_no_config() {
    let env = Env::new();
    std::os::unix::fs::symlink(env.path().join("gone.toml"), env.config_path()).unwrap();
    let run = env.run(["send", "--to", "bob@example.net", "--subject", "s"]);
    run.expect_code(2);
    assert!(
        run.stderr().contains(env.config_path().to_str().unwrap()),
        "{}",
        run.describe()
    );
    assert!(run.stderr().contains("symbolic link"), "{}", run.describe());
    assert!(!run.stdout().contains("Sent via"), "{}", run.describe());
}

#[test]
fn huge_config_value_gives_a_short_error() {
    let env = Env::new();
    let long = "k".repeat(900 * 1024);
    env.write_config(&format!("[transport.t]\nkind = \"{long}\"\n"));
    let run = env.run(["drafts"]);
    run.expect_code(2);
    assert!(run.stderr().len() < 4096, "{} bytes", run.stderr().len());
    assert!(run.stderr().contains("more characters"), "{}", run.stderr());
}

#[test]
fn odd_file_names_attach_as_themselves() {
    let env = Env::new();
    let odd = env.file("a;type=b.pdf", "odd name\n");
    let latin1 = env.path().join(OsStr::from_bytes(b"caf\xe9.txt"));
    std::fs::write(&latin1, "latin-1 name\n").unwrap();
    let typed = env.file("data.bin", "1,2\n");
    let typed_arg = format!("{};type=text/csv", typed.display());
    let run = env.run([
        OsStr::new("preview"),
        OsStr::new("--json"),
        OsStr::new("--to"),
        OsStr::new("bob@example.net"),
        OsStr::new("--attach"),
        odd.as_os_str(),
        OsStr::new("--attach"),
        latin1.as_os_str(),
        OsStr::new("--attach"),
        OsStr::new(&typed_arg),
    ]);
    run.expect_code(0);
    let out = run.stdout();
    assert!(out.contains("a;type=b.pdf"), "{out}");
    assert!(out.contains("application/pdf"), "{out}");
    assert!(out.contains("caf\u{fffd}.txt"), "{out}");
    assert!(out.contains("text/csv"), "{out}");
}

/// A one-shot TCP server that writes `greeting` (then `endless` forever, if given).
fn fake_server(greeting: &'static [u8], endless: Option<&'static [u8]>) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut s) = conn else { return };
            std::thread::spawn(move || {
                if s.write_all(greeting).is_err() {
                    return;
                }
                if let Some(chunk) = endless {
                    while s.write_all(chunk).is_ok() {}
                } else {
                    let mut buf = [0u8; 1024];
                    while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
                }
            });
        }
    });
    port
}

fn config_for(env: &Env, port: u16, security: &str) {
    env.write_config(&format!(
        "[transport.t]\nkind = \"smtp\"\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"{security}\"\ntimeout = 5\n"
    ));
}

/// `check` and `send` through `env`'s transport under a 1 GiB memory limit: each gives
/// up within 15 s with exit 1; their runs, to read what they said.
fn check_and_send_are_bounded(env: &Env) -> Vec<Run> {
    [vec!["check"], vec!["send", "--to", "b@example.net"]]
        .into_iter()
        .map(|args| {
            let t = Instant::now();
            let run = run_limited(env, &args.iter().map(OsStr::new).collect::<Vec<_>>());
            assert!(t.elapsed() < Duration::from_secs(15), "{args:?}");
            run.expect_code(1);
            run
        })
        .collect()
}

#[test]
fn endless_greeting_and_huge_line_bounded_in_check_and_send() {
    let endless = fake_server(b"220-hi\r\n", Some(b"220-more and more\r\n"));
    let huge_line = fake_server(b"220", Some(b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"));
    for port in [endless, huge_line] {
        for security in ["starttls", "none"] {
            let env = Env::new();
            config_for(&env, port, security);
            for run in check_and_send_are_bounded(&env) {
                assert!(
                    run.stderr().contains("not an SMTP server?")
                        || run.stderr().contains("too long"),
                    "{security}: {}",
                    run.describe()
                );
            }
        }
    }
}

#[test]
fn non_smtp_greeting_is_a_clear_error_without_raw_line_breaks() {
    let port = fake_server(b"2200 hi\r\n", None);
    for security in ["starttls", "none"] {
        let env = Env::new();
        config_for(&env, port, security);
        for args in [vec!["check"], vec!["send", "--to", "b@example.net"]] {
            let run = env.run(&args);
            run.expect_code(1);
            let err = run.stderr();
            assert!(err.contains("not SMTP"), "{}", run.describe());
            assert!(err.contains("hi"), "{}", run.describe());
            assert!(!err.trim_end().contains('\r'), "{err:?}");
            assert_eq!(
                err.trim_end().lines().count(),
                err.trim_end().lines().count()
            );
            assert!(!err.contains("hi\r"), "{err:?}");
        }
    }
}

/// A server that writes `steps[0]`, then each next step after reading one more line.
fn scripted_server(steps: &'static [&'static [u8]]) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut s) = conn else { return };
            std::thread::spawn(move || {
                let mut byte = [0u8; 1];
                for (i, step) in steps.iter().enumerate() {
                    if i > 0 {
                        while matches!(s.read(&mut byte), Ok(1)) && byte[0] != b'\n' {}
                    }
                    if s.write_all(step).is_err() {
                        return;
                    }
                }
                let mut buf = [0u8; 1024];
                while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
            });
        }
    });
    port
}

#[test]
fn starttls_hint_never_suggests_what_is_set() {
    // The server says yes to STARTTLS, then answers the TLS hello in plain text.
    let port = scripted_server(&[
        b"220 hi\r\n",
        b"250-x\r\n250 STARTTLS\r\n",
        b"220 go ahead\r\n500 plain text\r\n",
    ]);
    let env = Env::new();
    config_for(&env, port, "starttls");
    for args in [vec!["check"], vec!["send", "--to", "b@example.net"]] {
        let run = env.run(&args);
        run.expect_code(1);
        assert!(
            !run.stderr().contains("set security = \"starttls\""),
            "{}",
            run.describe()
        );
    }
}

/// A failed send with an attachment whose name is not UTF-8 is kept in the outbox (the
/// record once could not be written: "path contains invalid UTF-8 characters") and goes
/// out from there with the right file.
#[test]
fn non_utf8_attachment_name_is_kept_in_the_outbox_and_flushed() {
    let env = Env::new();
    let latin1 = env.path().join(OsStr::from_bytes(b"caf\xe9.txt"));
    std::fs::write(&latin1, "latin-1 name\n").unwrap();
    env.write_config(
        &SmtpCfg::new(dead_port(), Mode::Plain, None)
            .line("timeout = 2")
            .toml(),
    );
    let run = env.run([
        OsStr::new("send"),
        OsStr::new("--json"),
        OsStr::new("--to"),
        OsStr::new("bob@example.net"),
        OsStr::new("--attach"),
        latin1.as_os_str(),
    ]);
    run.expect_code(1);
    assert!(run.json()["outbox"].is_string(), "{}", run.describe());
    assert_eq!(env.outbox().len(), 1, "{}", run.describe());

    let server = SmtpServer::start(ServerOpts::new(Mode::Plain), None);
    env.write_config(&SmtpCfg::new(server.port, Mode::Plain, None).toml());
    env.run(["outbox", "flush"]).expect_code(0);
    let got = server.only_message();
    let msg = got.parsed();
    let att = msg.attachment(0).expect("attachment");
    assert_eq!(att.contents(), b"latin-1 name\n");
    assert!(env.outbox().is_empty());
}

/// A server that accepts and never says a word: `check` (the TLS probe included) and
/// `send` give up within the timeout on every security mode.
#[test]
fn silent_server_times_out_in_check_and_send() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in l.incoming() {
            held.extend(conn.ok());
        }
    });
    for security in ["starttls", "none", "tls"] {
        let env = Env::new();
        env.write_config(&format!(
            "[transport.t]\nkind = \"smtp\"\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"{security}\"\ntimeout = 1\n"
        ));
        for args in [vec!["check"], vec!["send", "--to", "b@example.net"]] {
            let t = Instant::now();
            let run = env.run(&args);
            assert!(
                t.elapsed() < Duration::from_secs(8),
                "{args:?} {security}: {:?}",
                t.elapsed()
            );
            run.expect_code(1);
            assert!(run.stderr().contains("no answer"), "{}", run.describe());
        }
        assert_eq!(env.outbox().len(), 1);
    }
}

/// Not only a dangling link: a directory at the default config path, or a file where
/// its directory should be, is an error naming the path, not "no config".
#[test]
fn unusable_default_config_paths_are_errors_naming_the_path() {
    let env = Env::new();
    std::fs::create_dir_all(env.config_path()).unwrap();
    let run = env.run(["send", "--to", "bob@example.net", "--subject", "s"]);
    run.expect_code(2);
    assert!(
        run.stderr().contains(env.config_path().to_str().unwrap()),
        "{}",
        run.describe()
    );
    assert!(run.stderr().contains("directory"), "{}", run.describe());

    let env = Env::new();
    let dir = env.config_path().parent().unwrap().to_path_buf();
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::write(&dir, "not a directory").unwrap();
    let run = env.run(["send", "--to", "bob@example.net", "--subject", "s"]);
    run.expect_code(2);
    assert!(
        run.stderr().contains(env.config_path().to_str().unwrap()),
        "{}",
        run.describe()
    );
    assert!(!run.stdout().contains("Sent via"), "{}", run.describe());
    assert!(env.outbox_files().is_empty());
}

/// `--attach-type MIME` types the `--attach` just before it, the name taken as it is
/// (`;type=` included); one with no `--attach` before it, two for one file, or a type
/// that is not `type/subtype` is a usage error naming it.
#[test]
fn attach_type_types_the_attach_before_it() {
    let env = Env::new();
    let odd = env.file("d;type=x.bin", "1,2\n");
    let plain = env.file("plain.dat", "a\n");
    let run = env.run([
        OsStr::new("preview"),
        OsStr::new("--json"),
        OsStr::new("--to"),
        OsStr::new("bob@example.net"),
        OsStr::new("--attach"),
        odd.as_os_str(),
        OsStr::new("--attach-type"),
        OsStr::new("text/csv"),
        OsStr::new("--attach"),
        plain.as_os_str(),
    ]);
    run.expect_code(0);
    let v = run.json();
    let kids = v["children"].as_array().expect("children");
    let part = |name: &str| {
        kids.iter()
            .find(|k| k["filename"] == name)
            .map(|k| k["content_type"].as_str().unwrap_or("").to_string())
    };
    assert_eq!(part("d;type=x.bin").as_deref(), Some("text/csv"), "{v}");
    assert_eq!(
        part("plain.dat").as_deref(),
        Some("application/octet-stream"),
        "{v}"
    );
    let p = plain.to_str().unwrap();
    for (args, why) in [
        (
            vec!["--attach-type", "text/csv", "--attach", p],
            "after the --attach",
        ),
        (
            vec![
                "--attach",
                p,
                "--attach-type",
                "text/csv",
                "--attach-type",
                "text/plain",
            ],
            "two --attach-type",
        ),
        (
            vec!["--attach", p, "--attach-type", "text/*"],
            "not a MIME type",
        ),
    ] {
        let mut all = vec!["send", "--to", "bob@example.net"];
        all.extend(args);
        let run = env.run(&all);
        run.expect_code(2);
        assert!(run.stderr().contains(why), "{}", run.describe());
    }
    assert!(env.outbox_files().is_empty());
}

/// `--text`/`--html` bodies: a device is refused (never read into memory without end), a
/// FIFO nobody writes to does not hang open(2), and a pipe with a writer still works.
#[test]
fn body_files_are_bounded_and_never_block() {
    let env = Env::new();
    for flag in ["--text", "--html"] {
        let t = Instant::now();
        let run = run_limited(
            &env,
            &[
                OsStr::new("preview"),
                OsStr::new("--to"),
                OsStr::new("b@example.net"),
                OsStr::new(flag),
                OsStr::new("/dev/zero"),
            ],
        );
        assert!(t.elapsed() < Duration::from_secs(10));
        run.expect_code(2);
        assert!(
            run.stderr().contains("character device"),
            "{}",
            run.describe()
        );
    }
    // A named pipe whose writer opens it only later: waited for, read whole. (One that
    // nobody ever writes to is given up on after a minute: the unit tests in
    // src/regular_file.rs show it with a shorter wait.)
    let fifo = env.path().join("body-pipe");
    mkfifo(&fifo);
    let w = fifo.clone();
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        std::fs::write(w, "written late\n").unwrap();
    });
    let t = Instant::now();
    let run = env.run([
        OsStr::new("preview"),
        OsStr::new("--raw"),
        OsStr::new("--to"),
        OsStr::new("b@example.net"),
        OsStr::new("--text"),
        fifo.as_os_str(),
    ]);
    writer.join().unwrap();
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    run.expect_code(0);
    assert!(run.stdout().contains("written late"), "{}", run.describe());
    // A pipe with a writer (what `--text <(cmd)` gives).
    let c = env.std_cmd();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("printf 'from a pipe\\n' | \"$0\" preview --raw --to b@example.net --text /dev/stdin")
        .arg(c.get_program())
        .env_clear()
        .envs(c.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .current_dir(env.path())
        .output()
        .unwrap();
    let run = Run(out);
    run.expect_code(0);
    assert!(run.stdout().contains("from a pipe"), "{}", run.describe());
}

/// Files the config names (ca_file, a Gmail client_secret) are read bounded too: a FIFO
/// or a device there fails at once, as a config error naming it.
#[test]
fn files_named_by_the_config_never_block_or_grow() {
    let env = Env::new();
    let fifo = env.path().join("ca-pipe");
    mkfifo(&fifo);
    for path in [fifo.to_str().unwrap(), "/dev/zero"] {
        for cfg in [
            format!(
                "[transport.t]\nkind = \"smtp\"\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"tls\"\nca_file = {}\ntimeout = 2\n",
                dead_port(),
                toml_str(path)
            ),
            format!(
                "[transport.t]\nkind = \"gmail\"\nclient_secret = {}\n",
                toml_str(path)
            ),
        ] {
            env.write_config(&cfg);
            let t = Instant::now();
            let run = run_limited(&env, &[OsStr::new("check")]);
            assert!(t.elapsed() < Duration::from_secs(10), "{cfg}");
            run.expect_code(2);
            assert!(run.stderr().contains(path), "{}", run.describe());
            assert!(
                run.stderr().contains("not a regular file")
                    || run.stderr().contains("not a readable file"),
                "{}",
                run.describe()
            );
        }
    }
}

/// A server that speaks TLS properly, then sends an endless `220-` greeting inside it:
/// bounded in `check` (whose TLS probe reads the greeting too) and in `send`.
#[test]
fn endless_greeting_after_tls_is_bounded() {
    const SERVER: &str = r#"
import socket, ssl, sys, threading
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(8)
print("READY %d" % l.getsockname()[1], flush=True)
def serve(c):
    try:
        s = ctx.wrap_socket(c, server_side=True)
        s.sendall(b"220-hi\r\n")
        while True:
            s.sendall(b"220-more and more and more\r\n" * 64)
    except Exception:
        pass
while True:
    c, _ = l.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"#;
    struct Killed(std::process::Child);
    impl Drop for Killed {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let certs = Certs::new();
    let mut child = std::process::Command::new("python3")
        .args(["-c", SERVER])
        .arg(&certs.leaf_cert)
        .arg(&certs.leaf_key)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut ready,
    )
    .unwrap();
    let _server = Killed(child);
    let port: u16 = ready
        .trim()
        .strip_prefix("READY ")
        .unwrap()
        .parse()
        .unwrap();
    let env = Env::new();
    env.write_config(&format!(
        "[transport.t]\nkind = \"smtp\"\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"tls\"\nca_file = {:?}\ntimeout = 5\n",
        certs.ca.to_str().unwrap()
    ));
    for run in check_and_send_are_bounded(&env) {
        let err = run.stderr();
        assert!(
            !err.contains("certificate")
                && (err.contains("not an SMTP server?") || err.contains("too long")),
            "{}",
            run.describe()
        );
    }
}
