//! Issue 8, outside commands: password_cmd, token_cmd and the sendmail command never hang
//! missive (the transport's `timeout` covers the whole run, a background child holding
//! stdout included), their process group dies with them, and a failing secret command is
//! a config error (exit 2, nothing queued).

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;

fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(") ").map(|(_, r)| !r.starts_with('Z')))
        .unwrap_or(false)
}

#[track_caller]
fn assert_dies(pid: i32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(pid) {
        assert!(Instant::now() < deadline, "process {pid} outlived missive");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn read_pid(path: &Path) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(pid) = std::fs::read_to_string(path)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            return pid;
        }
        assert!(
            Instant::now() < deadline,
            "{} never written",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn smtp_env(server: &SmtpServer, lines: &[&str]) -> Env {
    let env = Env::new();
    let mut cfg = SmtpCfg::new(server.port, Mode::Plain, None)
        .line(format!("username = {}", toml_str(TEST_USER)))
        .line("timeout = 2");
    for l in lines {
        cfg = cfg.line(*l);
    }
    env.write_config(&cfg.toml());
    env
}

#[test]
fn password_cmd_that_never_exits_is_a_config_error_within_the_timeout() {
    let server = SmtpServer::start(
        ServerOpts::new(Mode::Plain).auth(TEST_USER, TEST_PASSWORD),
        None,
    );
    let env = smtp_env(&server, &["password_cmd = \"sleep 1000\""]);
    let t = Instant::now();
    let run = env.run(["send", "--to", "bob@example.net", "--subject", "s"]);
    assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
    run.expect_code(2);
    assert!(run.stderr().contains("password_cmd"), "{}", run.describe());
    assert!(
        run.stderr().contains("did not finish within"),
        "{}",
        run.describe()
    );
    assert!(env.outbox_files().is_empty(), "a config error was queued");
    assert!(server.received().is_empty());
}

#[test]
fn password_cmd_group_is_killed_on_timeout_and_when_missive_is_signalled() {
    let server = SmtpServer::start(
        ServerOpts::new(Mode::Plain).auth(TEST_USER, TEST_PASSWORD),
        None,
    );
    // On timeout.
    let env = Env::new();
    let pidfile = env.path().join("pw.pid");
    let cmd = format!("sleep 1000 & echo $! > {}; wait", pidfile.display());
    let cfg = SmtpCfg::new(server.port, Mode::Plain, None)
        .line(format!("username = {}", toml_str(TEST_USER)))
        .line(format!("password_cmd = {}", toml_str(&cmd)))
        .line("timeout = 1");
    env.write_config(&cfg.toml());
    env.run(["send", "--to", "bob@example.net", "--subject", "s"])
        .expect_code(2);
    assert_dies(read_pid(&pidfile));
    assert!(env.outbox_files().is_empty());

    // When missive gets SIGTERM while the command runs.
    let env2 = Env::new();
    let pidfile = env2.path().join("pw.pid");
    let cmd = format!("sleep 1000 & echo $! > {}; wait", pidfile.display());
    let cfg = SmtpCfg::new(server.port, Mode::Plain, None)
        .line(format!("username = {}", toml_str(TEST_USER)))
        .line(format!("password_cmd = {}", toml_str(&cmd)))
        .line("timeout = 600");
    env2.write_config(&cfg.toml());
    let mut child = env2
        .std_cmd()
        .args(["send", "--to", "bob@example.net", "--subject", "s"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let grandchild = read_pid(&pidfile);
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "missive ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_dies(grandchild);
    assert!(server.received().is_empty());
}

#[test]
fn password_cmd_leaving_a_child_on_stdout_returns_promptly_and_sends() {
    let server = SmtpServer::start(
        ServerOpts::new(Mode::Plain).auth(TEST_USER, TEST_PASSWORD),
        None,
    );
    let env = Env::new();
    let pidfile = env.path().join("bg.pid");
    let cmd = format!(
        "echo '{TEST_PASSWORD}'; sleep 1000 & echo $! > {}",
        pidfile.display()
    );
    let cfg = SmtpCfg::new(server.port, Mode::Plain, None)
        .line(format!("username = {}", toml_str(TEST_USER)))
        .line(format!("password_cmd = {}", toml_str(&cmd)))
        .line("timeout = 30");
    env.write_config(&cfg.toml());
    let t = Instant::now();
    let run = env.run(["send", "--to", "bob@example.net", "--subject", "s"]);
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    run.expect_code(0);
    assert_eq!(server.received().len(), 1);
    // The straggler held our pipe, so its group was killed.
    assert_dies(read_pid(&pidfile));
}

#[test]
fn failing_token_cmd_is_a_config_error() {
    let server = SmtpServer::start(ServerOpts::new(Mode::Plain).xoauth2(TEST_USER, "tok"), None);
    let env = Env::new();
    let cfg = SmtpCfg::new(server.port, Mode::Plain, None)
        .line(format!("username = {}", toml_str(TEST_USER)))
        .line("auth = \"xoauth2\"")
        .line("token_cmd = \"echo oops >&2; exit 4\"");
    env.write_config(&cfg.toml());
    let run = env.run(["send", "--to", "bob@example.net", "--subject", "s"]);
    run.expect_code(2);
    assert!(run.stderr().contains("token_cmd"), "{}", run.describe());
    assert!(run.stderr().contains("oops"), "{}", run.describe());
    assert!(env.outbox_files().is_empty());
    let run = env.run(["check"]);
    run.expect_code(2);
}

#[test]
fn sendmail_that_never_exits_times_out_into_the_outbox() {
    let env = Env::new();
    let pidfile = env.path().join("sm.pid");
    env.write_config(&format!(
        "[transport.local]\nkind = \"sendmail\"\ntimeout = 2\ncommand = {}\n",
        toml_str(&format!(
            "cat >/dev/null; sleep 1000 & echo $! > {}; wait; :",
            pidfile.display()
        ))
    ));
    let t = Instant::now();
    let run = env.run(["send", "--to", "bob@example.net", "--subject", "s"]);
    assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
    run.expect_code(1);
    assert!(
        run.stderr().contains("did not finish within"),
        "{}",
        run.describe()
    );
    assert_eq!(env.outbox().len(), 1);
    assert_dies(read_pid(&pidfile));
}

#[test]
fn the_command_group_dies_when_missive_is_terminated() {
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
        let env = Env::new();
        let pidfile = env.path().join("sm.pid");
        env.write_config(&format!(
            "[transport.local]\nkind = \"sendmail\"\ntimeout = 600\ncommand = {}\n",
            toml_str(&format!(
                "cat >/dev/null; sleep 1000 & echo $! > {}; wait; :",
                pidfile.display()
            ))
        ));
        let mut child = env
            .std_cmd()
            .args(["send", "--to", "bob@example.net", "--subject", "s"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let grandchild = read_pid(&pidfile);
        unsafe {
            libc::kill(child.id() as i32, sig);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "missive ignored signal {sig}");
            std::thread::sleep(Duration::from_millis(20));
        };
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(sig), "{status:?}");
        assert_dies(grandchild);
    }
}
