//! The command line as people type it: `--config` on either side of the subcommand, a
//! bare address for the composer, a mistyped subcommand, a piped body, completions and
//! the manual page.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;

fn file_config(env: &Env) -> std::path::PathBuf {
    let path = env.file(
        "elsewhere.toml",
        format!(
            "default = \"archive\"\nfrom = \"Ada <ada@example.com>\"\n\n[transport.archive]\nkind = \"file\"\ndir = \"{}\"\n",
            env.path().join("archive").display()
        ),
    );
    path
}

fn archived(env: &Env) -> Vec<Vec<u8>> {
    let Ok(rd) = std::fs::read_dir(env.path().join("archive")) else {
        return Vec::new();
    };
    rd.filter_map(Result::ok)
        .map(|e| std::fs::read(e.path()).unwrap())
        .collect()
}

#[test]
fn config_before_or_after_the_subcommand() {
    let env = Env::new();
    let cfg = file_config(&env);
    let cfg = cfg.to_str().unwrap();
    for args in [
        vec!["--config", cfg, "check"],
        vec!["check", "--config", cfg],
        vec!["--config", cfg, "check", "archive"],
    ] {
        let r = env.run(&args);
        r.expect_code(0);
        assert!(
            r.stdout().contains("archive: OK"),
            "{args:?}: {}",
            r.describe()
        );
    }
    let r = env.run(["--config", cfg, "outbox", "list"]);
    r.expect_code(0);
    assert!(
        r.stdout().contains("The outbox is empty."),
        "{}",
        r.describe()
    );
    let eq = format!("--config={cfg}");
    env.run([eq.as_str(), "drafts"]).expect_code(0);
}

#[test]
fn a_mistyped_subcommand_is_named_with_the_nearest() {
    let env = Env::new();
    let r = env.run(["sned", "--to", "bob@example.com"]);
    // clap refuses the flag first or the word is read as the positional: either way
    // nothing starts and the message names the command.
    r.expect_code(2);
    let r = env.run(["sned"]);
    r.expect_code(2);
    assert!(
        r.stderr().contains("unknown command \"sned\""),
        "{}",
        r.describe()
    );
    assert!(r.stderr().contains("missive send"), "{}", r.describe());
    let r = env.run(["previwe"]);
    assert!(r.stderr().contains("missive preview"), "{}", r.describe());
}

#[test]
fn piped_text_is_the_body_when_no_body_flag_is_given() {
    let env = Env::new();
    let cfg = file_config(&env);
    let out = env
        .cmd()
        .args(["send", "--config", cfg.to_str().unwrap()])
        .args(["--to", "bob@example.com", "--subject", "piped"])
        .write_stdin("the disk is 91% full\n")
        .output()
        .unwrap();
    Run(out).expect_code(0);
    let got = archived(&env);
    assert_eq!(got.len(), 1);
    let m = parse(&got[0]);
    assert_eq!(m.body_text(0).as_deref(), Some("the disk is 91% full\r\n"));

    // An explicit body flag wins; stdin is left alone.
    let body = env.file("b.txt", "from the file");
    let out = env
        .cmd()
        .args(["send", "--config", cfg.to_str().unwrap()])
        .args(["--to", "bob@example.com", "--text", body.to_str().unwrap()])
        .write_stdin("ignored")
        .output()
        .unwrap();
    Run(out).expect_code(0);
    let got = archived(&env);
    let bodies: Vec<String> = got
        .iter()
        .map(|m| parse(m).body_text(0).unwrap_or_default().into_owned())
        .collect();
    assert!(
        bodies.iter().any(|b| b.trim_end() == "from the file"),
        "{bodies:?}"
    );
}

#[test]
fn completions_and_manual_page_come_from_the_clap_definitions() {
    let env = Env::new();
    let bash = env.run(["completions", "bash"]);
    bash.expect_code(0);
    for word in ["_missive", "sendmail", "relay", "--transport"] {
        assert!(bash.stdout().contains(word), "bash lacks {word}");
    }
    let zsh = env.run(["completions", "zsh"]);
    assert!(zsh.stdout().starts_with("#compdef missive"));
    let fish = env.run(["completions", "fish"]);
    assert!(fish.stdout().contains("complete -c missive"));
    env.run(["completions", "tcsh"]).expect_code(2);
    let man = env.run(["man"]);
    man.expect_code(0);
    assert!(man.stdout().contains(".TH missive"), "{}", man.describe());
    assert!(man.stdout().contains("relay"));
}

#[test]
fn a_bare_address_opens_the_composer_to_it() {
    let env = Env::new();
    let cfg = file_config(&env);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_missive"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", env.path())
        .env("USER", "tester")
        .env("TERM", "xterm-256color")
        .env("LANG", "C.UTF-8")
        .env("XDG_CONFIG_HOME", &env.config_home)
        .env("XDG_DATA_HOME", &env.data_home)
        .current_dir(env.path())
        .args(["--config", cfg.to_str().unwrap(), "bob.builder@example.com"]);
    let mut s = expectrl::Session::spawn(cmd).expect("spawn missive in a pty");
    s.set_expect_timeout(Some(Duration::from_secs(30)));
    s.expect("bob.builder@example.com")
        .expect("the composer shows the address in To");
    let _ = s.get_process_mut().kill(expectrl::Signal::SIGKILL);
}
