//! `address_book_cmd` in aerc's convention: `%s` stands for the typed text; each output
//! line is `address<TAB>name[<TAB>anything]`; a first line without `@` is a header
//! (khard, abook and mutt's query_command print one) and is skipped.
//!
//! The typed text never becomes shell syntax: each `%s` is replaced by a reference to
//! `$1` fitting where it stands (bare, inside "…" or inside '…'), so `O'Brien` or `$(x)`
//! reach the command as typed.

use std::time::Duration;

use crate::command::{self, Cmd, CmdError};

use super::{Contact, Source};

/// More output than this is an error (the command is killed).
pub const MAX_OUTPUT: usize = 1024 * 1024;
/// At most this many contacts are taken from one answer.
pub const MAX_RESULTS: usize = 1000;

/// The script to run with the query as `$1`.
pub fn script(cmd: &str) -> String {
    let mut out = String::with_capacity(cmd.len() + 8);
    let mut single = false;
    let mut double = false;
    let mut found = false;
    let mut it = cmd.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '%' if it.peek() == Some(&'s') => {
                it.next();
                found = true;
                out.push_str(if single {
                    "'\"$1\"'"
                } else if double {
                    "${1}"
                } else {
                    "\"$1\""
                });
            }
            '\\' if !single => {
                out.push(c);
                if let Some(n) = it.next() {
                    out.push(n);
                }
            }
            '\'' if !double => {
                single = !single;
                out.push(c);
            }
            '"' if !single => {
                double = !double;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    if !found {
        // mutt's and aerc's commands without %s get the text as their last argument.
        out.push_str(" \"$1\"");
    }
    out
}

/// Contacts from the command's output.
pub fn parse_output(out: &str) -> Vec<Contact> {
    let mut res = Vec::new();
    for line in out.lines() {
        if res.len() >= MAX_RESULTS {
            break;
        }
        let line = line.trim_end_matches('\r');
        // The header line, blank lines, "no match" notes.
        if !line.contains('@') {
            continue;
        }
        let mut cols = line.split('\t');
        let addr = cols.next().unwrap_or("").trim();
        let name = cols.next().map(str::trim).filter(|n| !n.is_empty());
        // The address column may itself be `Name <addr>`.
        let Ok(list) = crate::address::parse_list(addr) else {
            continue;
        };
        let [crate::address::Address::Mailbox(m)] = list.as_slice() else {
            continue;
        };
        let name = name.map(str::to_string).or_else(|| m.name.clone());
        res.push(Contact::new(name, m.email.to_string(), Source::AddressBook));
    }
    res
}

/// Run the command for `query`.
pub async fn query(cmd: &str, query: &str, timeout: Duration) -> Result<Vec<Contact>, CmdError> {
    let mut c = Cmd::new(script(cmd), timeout);
    c.name = "address_book_cmd".into();
    c.args = vec![query.into()];
    c.max_stdout = MAX_OUTPUT;
    let out = command::run(&c).await?;
    if !out.status.success() && out.stdout.is_empty() {
        // abook and others exit 1 when nothing matched.
        tracing::debug!(status = %out.status, stderr = %out.stderr_hint(), "address_book_cmd found nothing");
    }
    Ok(parse_output(&String::from_utf8_lossy(&out.stdout)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_is_never_shell_syntax() {
        assert_eq!(
            script("khard email --parsable %s"),
            "khard email --parsable \"$1\""
        );
        assert_eq!(
            script("abook --mutt-query '%s'"),
            "abook --mutt-query ''\"$1\"''"
        );
        assert_eq!(script("q \"%s\" x"), "q \"${1}\" x");
        assert_eq!(script("notmuch address"), "notmuch address \"$1\"");
        assert_eq!(script("echo 100%"), "echo 100% \"$1\"");
    }

    #[test]
    fn parses_aerc_output() {
        let out = "searching for 'a' ...\nann@x.y\tAnn Smith\tHome\nbob@x.y\n\nnot an address\tX\nCarol <c@x.y>\n";
        let c = parse_output(out);
        let got: Vec<(Option<&str>, &str)> = c
            .iter()
            .map(|c| (c.name.as_deref(), c.address.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (Some("Ann Smith"), "ann@x.y"),
                (None, "bob@x.y"),
                (Some("Carol"), "c@x.y")
            ]
        );
    }

    #[tokio::test]
    async fn runs_with_the_text_as_typed() {
        for cmd in [
            "f() { echo header; echo \"$(echo \"$1\" | tr -cd a-z)@x.y\"; }; f '%s'",
            "f() { echo header; echo \"$(echo \"$1\" | tr -cd a-z)@x.y\"; }; f \"%s\"",
            "f() { echo header; echo \"$(echo \"$1\" | tr -cd a-z)@x.y\"; }; f %s",
        ] {
            let c = query(cmd, "o'brien $(id)", Duration::from_secs(5))
                .await
                .unwrap();
            assert_eq!(c.len(), 1, "{cmd}");
            assert_eq!(c[0].address, "obrienid@x.y", "{cmd}");
        }
        let e = query("sleep 10; true", "x", Duration::from_millis(300))
            .await
            .unwrap_err();
        assert!(e.is_timeout());
    }
}
