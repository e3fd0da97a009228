//! Issue 8, privacy: under umask 022 everything missive leaves in the data dir (sent
//! copies, sent.log, the outbox with its Bcc, missive.log) is 0600 in 0700 dirs, and
//! what an older version left readable is fixed on start.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::*;

/// `missive ARGS` run under umask 022.
fn run_umask(env: &Env, args: &[&str]) -> Run {
    let c = env.std_cmd();
    let mut sh = std::process::Command::new("sh");
    sh.arg("-c")
        .arg("umask 022; exec \"$0\" \"$@\"")
        .arg(c.get_program())
        .args(args)
        .env_clear()
        .current_dir(env.path());
    for (k, v) in c.get_envs() {
        if let Some(v) = v {
            sh.env(k, v);
        }
    }
    let mut cmd = assert_cmd::Command::from_std(sh);
    cmd.timeout(std::time::Duration::from_secs(60));
    Run(cmd.output().unwrap())
}

/// Every path under `dir` (dir included) whose mode is not private, with its mode.
fn not_private(dir: &Path) -> Vec<String> {
    let mut bad = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        let m = std::fs::symlink_metadata(&p).unwrap();
        let mode = m.permissions().mode() & 0o777;
        if m.is_dir() {
            if mode != 0o700 {
                bad.push(format!("{} {mode:o}", p.display()));
            }
            for e in std::fs::read_dir(&p).unwrap() {
                stack.push(e.unwrap().path());
            }
        } else if mode & 0o077 != 0 {
            bad.push(format!("{} {mode:o}", p.display()));
        }
    }
    bad
}

#[test]
fn everything_written_under_umask_022_is_private() {
    let env = Env::new();
    let data = env.data_home.join("missive");
    env.write_config(&format!(
        "default = \"f\"\nfrom = \"Ada <ada@example.com>\"\n[transport.f]\nkind = \"file\"\n[transport.dead]\nkind = \"smtp\"\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\ntimeout = 2\n",
        dead_port()
    ));
    run_umask(
        &env,
        &[
            "send",
            "--to",
            "bob@example.net",
            "--bcc",
            "secret-bcc@example.net",
            "--subject",
            "s",
        ],
    )
    .expect_code(0);
    run_umask(
        &env,
        &[
            "send",
            "--transport",
            "dead",
            "--to",
            "bob@example.net",
            "--bcc",
            "secret-bcc@example.net",
        ],
    )
    .expect_code(1);
    assert!(data.join("sent.log").is_file());
    assert!(data.join("missive.log").is_file());
    assert_eq!(env.outbox().len(), 1);
    assert!(std::fs::read_dir(data.join("sent")).unwrap().count() >= 1);
    assert_eq!(not_private(&data), Vec::<String>::new());
}

#[test]
fn readable_leftovers_are_made_private_on_start() {
    let env = Env::new();
    let data = env.data_home.join("missive");
    for d in ["", "drafts", "outbox", "sent"] {
        std::fs::create_dir_all(data.join(d)).unwrap();
        std::fs::set_permissions(data.join(d), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    for f in [
        "sent.log",
        "missive.log",
        "drafts/old.json",
        "outbox/x.eml",
        "sent/y.eml",
    ] {
        std::fs::write(data.join(f), "private\n").unwrap();
        std::fs::set_permissions(data.join(f), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    assert!(!not_private(&data).is_empty());
    run_umask(&env, &["outbox", "list"]);
    assert_eq!(not_private(&data), Vec::<String>::new());
}

/// Drafts (the typed text, written by the composer) are private under umask 022 too.
#[test]
fn drafts_saved_under_umask_022_are_private() {
    let env = Env::new();
    let dir = env.data_home.join("missive/drafts");
    // SAFETY: umask only affects files this test process creates from here on.
    let old = unsafe { libc::umask(0o022) };
    let drafts = missive::drafts::Drafts::new(dir.clone());
    let path = drafts
        .save(
            &missive::drafts::Drafts::new_id(),
            None,
            &missive::message::Draft {
                text: Some("private words".into()),
                bcc: vec!["hidden@example.net".into()],
                ..Default::default()
            },
        )
        .unwrap();
    unsafe { libc::umask(old) };
    assert!(path.is_file());
    assert_eq!(not_private(&dir), Vec::<String>::new());
}
