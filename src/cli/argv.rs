//! The command line as people type it, before and after clap: `--config` in front of a
//! subcommand, a bare address for the composer (as mutt and mail(1) take), and a
//! mistyped subcommand named as such.

use std::ffi::OsString;

/// `missive --config x.toml check` → `missive check --config x.toml`: clap takes a
/// top-level flag as the composer's, and the word after it as a mailto URL.
pub fn config_after_subcommand(args: Vec<OsString>, subcommands: &[String]) -> Vec<OsString> {
    let mut config = Vec::new();
    let mut i = 1;
    while i < args.len() {
        let a = args[i].to_string_lossy();
        if a == "--config" && i + 1 < args.len() {
            config.extend_from_slice(&args[i..i + 2]);
            i += 2;
        } else if a.starts_with("--config=") {
            config.push(args[i].clone());
            i += 1;
        } else {
            break;
        }
    }
    let is_sub = args
        .get(i)
        .is_some_and(|a| subcommands.iter().any(|s| a == s.as_str()));
    if config.is_empty() || !is_sub {
        return args;
    }
    let mut out = vec![args[0].clone(), args[i].clone()];
    out.extend(config);
    out.extend_from_slice(&args[i + 1..]);
    out
}

/// What the composer's one positional argument is.
#[derive(Debug, PartialEq)]
pub enum Positional {
    Mailto(String),
    /// A bare recipient (`missive bob@example.com`).
    Address(String),
    /// Neither: most likely a mistyped subcommand; the message says so.
    Unknown(String),
}

pub fn positional(value: &str, subcommands: &[String]) -> Positional {
    if value
        .get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("mailto:"))
    {
        return Positional::Mailto(value.to_string());
    }
    if value.contains('@') {
        return Positional::Address(value.to_string());
    }
    let best = subcommands
        .iter()
        .map(|s| (strsim::jaro_winkler(value, s), s))
        .filter(|(score, _)| *score > 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let hint = match best {
        Some((_, s)) => format!("; did you mean `missive {s}`?"),
        None => format!("; commands: {}", subcommands.join(", ")),
    };
    Positional::Unknown(format!(
        "unknown command {value:?}{hint} (to write to someone: `missive ADDRESS` or `missive mailto:ADDRESS`)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subs() -> Vec<String> {
        ["send", "preview", "check", "auth", "outbox", "drafts"]
            .map(String::from)
            .to_vec()
    }

    fn os(a: &[&str]) -> Vec<OsString> {
        a.iter().map(OsString::from).collect()
    }

    #[test]
    fn config_moves_behind_the_subcommand() {
        assert_eq!(
            config_after_subcommand(
                os(&["missive", "--config", "x.toml", "check", "t"]),
                &subs()
            ),
            os(&["missive", "check", "--config", "x.toml", "t"])
        );
        assert_eq!(
            config_after_subcommand(
                os(&["missive", "--config=x.toml", "outbox", "list"]),
                &subs()
            ),
            os(&["missive", "outbox", "--config=x.toml", "list"])
        );
        // The composer's own flags stay where they are.
        let compose = os(&["missive", "--config", "x.toml", "--to", "bob@example.com"]);
        assert_eq!(config_after_subcommand(compose.clone(), &subs()), compose);
    }

    #[test]
    fn positional_kinds() {
        assert_eq!(
            positional("bob@example.com", &subs()),
            Positional::Address("bob@example.com".into())
        );
        assert!(matches!(
            positional("MAILTO:bob@example.com", &subs()),
            Positional::Mailto(_)
        ));
        let Positional::Unknown(m) = positional("sned", &subs()) else {
            panic!()
        };
        assert!(
            m.contains("unknown command") && m.contains("missive send"),
            "{m}"
        );
        let Positional::Unknown(m) = positional("zzzzzz", &subs()) else {
            panic!()
        };
        assert!(m.contains("commands: send"), "{m}");
    }
}
