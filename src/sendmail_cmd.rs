//! `missive sendmail` (also missive run as `sendmail`): the sendmail/msmtp command line
//! for programs. One message on stdin, recipients from the arguments and/or (`-t`) the
//! headers, sysexits exit codes. A shell over the engine, like the CLI and the relay.

use std::ffi::OsString;
use std::io::{BufRead, Read, Write};
use std::path::PathBuf;

use crate::engine::{Engine, SendError, Submission, SubmitError};

/// sysexits.h, as sendmail and msmtp use them.
pub const EX_OK: i32 = 0;
pub const EX_USAGE: i32 = 64;
pub const EX_DATAERR: i32 = 65;
pub const EX_SOFTWARE: i32 = 70;
pub const EX_IOERR: i32 = 74;
pub const EX_TEMPFAIL: i32 = 75;
pub const EX_CONFIG: i32 = 78;

/// Largest message read from stdin.
const MAX_INPUT: u64 = crate::raw::MAX_SUBMISSION;

const USAGE: &str = "\
usage: missive sendmail [-t] [-i] [-f ADDR] [-F NAME] [-a|--transport NAME] [--config PATH] [RCPT...]
Reads one RFC 5322 message on stdin and sends it through a missive transport.
  -t             also send to the To, Cc and Bcc addresses of the message
  -i, -oi        a line with a single dot does not end the message
  -f ADDR        envelope sender (default: the configured from)
  -F NAME        display name for a From header added when the message has none
  -a NAME        transport (also --transport NAME)
  -v             print what happened on stderr
  --read-envelope-from   take the envelope sender from the From header
Other sendmail options (-oem, -odb, -oQ..., -B, -N, -R, -V, -X, -U, -m ...) are accepted
and ignored. Exit: 0 sent, 75 kept in the outbox, 65 bad message, 64 usage, 78 config.";

#[derive(Debug, Default, PartialEq)]
pub struct Opts {
    pub config: Option<PathBuf>,
    pub transport: Option<String>,
    pub read_recipients: bool,
    pub ignore_dots: bool,
    pub envelope_from: Option<String>,
    pub from_header_envelope: bool,
    pub full_name: Option<String>,
    pub verbose: bool,
    pub recipients: Vec<String>,
}

#[derive(Debug, PartialEq)]
pub enum Action {
    Send(Opts),
    Help,
    Version,
}

/// The arguments for sendmail mode, if this is it: run as `sendmail` (a symlink), or
/// `missive [--config PATH] sendmail ARGS`.
pub fn invocation(args: &[OsString]) -> Option<Vec<OsString>> {
    let argv0 = args.first().map(std::path::Path::new)?;
    if argv0.file_name().is_some_and(|n| n == "sendmail") {
        return Some(args[1..].to_vec());
    }
    let mut pre = Vec::new();
    let mut i = 1;
    while i < args.len() {
        let a = args[i].to_string_lossy();
        if a == "--config" && i + 1 < args.len() {
            pre.extend_from_slice(&args[i..i + 2]);
            i += 2;
        } else if a.starts_with("--config=") {
            pre.push(args[i].clone());
            i += 1;
        } else if a == "sendmail" {
            pre.extend_from_slice(&args[i + 1..]);
            return Some(pre);
        } else {
            return None;
        }
    }
    None
}

fn usage_err(msg: impl Into<String>) -> String {
    msg.into()
}

pub fn parse_args(args: &[OsString]) -> Result<Action, String> {
    let args: Vec<String> = args
        .iter()
        .map(|a| {
            a.to_str()
                .map(str::to_string)
                .ok_or_else(|| format!("argument {a:?} is not UTF-8"))
        })
        .collect::<Result<_, _>>()?;
    let mut o = Opts::default();
    let mut it = args.into_iter().peekable();
    while let Some(arg) = it.next() {
        if arg == "--" {
            o.recipients.extend(it.by_ref());
            break;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let value = |it: &mut std::iter::Peekable<std::vec::IntoIter<String>>| {
                inline
                    .clone()
                    .or_else(|| it.next())
                    .ok_or_else(|| usage_err(format!("--{name} needs a value")))
            };
            match name {
                "help" => return Ok(Action::Help),
                "version" => return Ok(Action::Version),
                "transport" | "account" => o.transport = Some(value(&mut it)?),
                "config" | "file" => o.config = Some(PathBuf::from(value(&mut it)?)),
                "read-recipients" => o.read_recipients = true,
                "read-envelope-from" => o.from_header_envelope = true,
                "from" => o.envelope_from = Some(value(&mut it)?),
                _ => return Err(usage_err(format!("unknown option --{name}"))),
            }
            continue;
        }
        let Some(cluster) = arg.strip_prefix('-').filter(|c| !c.is_empty()) else {
            o.recipients.push(arg);
            continue;
        };
        let chars: Vec<char> = cluster.chars().collect();
        let mut k = 0;
        while k < chars.len() {
            let c = chars[k];
            let attached: String = chars[k + 1..].iter().collect();
            // Options with a value take the rest of this argument, else the next one.
            let value = |it: &mut std::iter::Peekable<std::vec::IntoIter<String>>| {
                if attached.is_empty() {
                    it.next()
                        .ok_or_else(|| usage_err(format!("-{c} needs a value")))
                } else {
                    Ok(attached.clone())
                }
            };
            match c {
                't' => o.read_recipients = true,
                'i' => o.ignore_dots = true,
                'v' => o.verbose = true,
                // metoo, no aliases, initial submission, gateway, SMTPUTF8 request: no
                // meaning here.
                'm' | 'n' | 'U' | 'G' | 'S' => {}
                'f' | 'r' => {
                    o.envelope_from = Some(value(&mut it)?);
                    break;
                }
                'F' => {
                    o.full_name = Some(value(&mut it)?);
                    break;
                }
                'a' => {
                    o.transport = Some(value(&mut it)?);
                    break;
                }
                'C' => {
                    o.config = Some(PathBuf::from(value(&mut it)?));
                    break;
                }
                'o' => {
                    // -oi is -i; other -oX options (-oem, -odb, -oQ/dir, ...) tune
                    // sendmail's own queue and error reports, which missive does not have.
                    if value(&mut it)? == "i" {
                        o.ignore_dots = true;
                    }
                    break;
                }
                'b' => {
                    let mode = value(&mut it)?;
                    if mode != "m" {
                        return Err(usage_err(format!(
                            "-b{mode} is not supported: missive sendmail only delivers one message (-bm); \
                             for an SMTP server run `missive relay`, for the queue `missive outbox list`"
                        )));
                    }
                    break;
                }
                'q' => {
                    return Err(usage_err(
                        "-q: missive keeps no sendmail queue; run `missive outbox flush`",
                    ))
                }
                // Delivery status notification, body type, envelope id, log file, hop
                // count, protocol, option=value, label: accepted, ignored.
                'N' | 'R' | 'V' | 'B' | 'X' | 'h' | 'p' | 'O' | 'L' => {
                    value(&mut it)?;
                    break;
                }
                // -Am/-Ac, -em/-ep..., -dX (debug), -c, -s: old flags, attached values only.
                'A' | 'e' | 'd' | 'c' | 's' => break,
                _ => return Err(usage_err(format!("unknown option -{c}"))),
            }
            k += 1;
        }
    }
    Ok(Action::Send(o))
}

/// Read the message: at most `MAX_INPUT` bytes; without `-i`, a line holding a single
/// dot ends it (as sendmail and Postfix do).
fn read_message(input: impl Read, ignore_dots: bool) -> Result<Vec<u8>, (i32, String)> {
    let mut r = std::io::BufReader::new(input.take(MAX_INPUT + 1));
    let mut out = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = r
            .read_until(b'\n', &mut line)
            .map_err(|e| (EX_IOERR, format!("reading the message from stdin: {e}")))?;
        if n == 0 {
            break;
        }
        if !ignore_dots && (line == b".\n" || line == b".\r\n") {
            break;
        }
        out.extend_from_slice(&line);
        if out.len() as u64 > MAX_INPUT {
            return Err((
                EX_DATAERR,
                format!("the message is over {MAX_INPUT} bytes; nothing was sent"),
            ));
        }
    }
    Ok(out)
}

fn say(msg: impl std::fmt::Display) {
    let text = crate::escape::for_terminal(&msg.to_string());
    let _ = writeln!(std::io::stderr(), "missive sendmail: {text}");
}

/// Run sendmail mode with these arguments (argv[0] excluded); the exit code.
pub fn main(args: Vec<OsString>) -> i32 {
    let opts = match parse_args(&args) {
        Ok(Action::Send(o)) => o,
        Ok(Action::Help) => {
            println!("{USAGE}");
            return EX_OK;
        }
        Ok(Action::Version) => {
            println!("missive {} (sendmail mode)", env!("CARGO_PKG_VERSION"));
            return EX_OK;
        }
        Err(e) => {
            say(e);
            let _ = writeln!(std::io::stderr(), "{USAGE}");
            return EX_USAGE;
        }
    };
    let engine = match Engine::load(opts.config.as_deref()) {
        Ok(e) => e,
        Err(e) => {
            say(e);
            return EX_CONFIG;
        }
    };
    crate::logging::init(&engine.paths);
    if !opts.read_recipients && opts.recipients.is_empty() {
        say("no recipient: give addresses as arguments, or -t to read To, Cc and Bcc");
        return EX_USAGE;
    }
    let raw = match read_message(std::io::stdin().lock(), opts.ignore_dots) {
        Ok(r) => r,
        Err((code, msg)) => {
            say(msg);
            return code;
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            say(format!("cannot start: {e}"));
            return EX_SOFTWARE;
        }
    };
    let code = rt.block_on(submit(&engine, opts, raw));
    rt.block_on(engine.close_transports());
    code
}

async fn submit(engine: &Engine, opts: Opts, raw: Vec<u8>) -> i32 {
    let mut envelope_from = opts.envelope_from;
    if opts.from_header_envelope && envelope_from.is_none() {
        envelope_from = crate::raw::RawMessage::parse(&crate::raw::to_crlf(&raw))
            .ok()
            .and_then(|m| m.from_address());
    }
    let sub = Submission {
        raw,
        envelope_from,
        recipients: opts.recipients,
        recipients_from_headers: opts.read_recipients,
        full_name: opts.full_name,
    };
    let p = match engine.prepare_submission(opts.transport.as_deref(), &sub) {
        Ok(p) => p,
        Err(e) => {
            say(&e);
            return match e {
                SubmitError::Message(_) => EX_DATAERR,
                SubmitError::Usage(_) => EX_USAGE,
                SubmitError::Config(_) => EX_CONFIG,
            };
        }
    };
    if let Some(limit) = p.size_limit {
        let size = p.built.raw.len() as u64;
        if size > limit {
            say(format!(
                "the message is {size} bytes, over the {} transport's limit of {limit} bytes; nothing was sent",
                p.kind
            ));
            return EX_DATAERR;
        }
    }
    match engine.send(&p, &crate::transport::no_progress).await {
        Ok(r) => {
            if opts.verbose {
                say(format!(
                    "sent {} via {} ({}) to {}{}",
                    r.message_id,
                    r.transport,
                    r.kind,
                    r.recipients.join(", "),
                    r.response
                        .as_deref()
                        .map(|s| format!(": {s}"))
                        .unwrap_or_default()
                ));
            }
            EX_OK
        }
        // Refused before sending for a reason in the config (a missing login, a failing
        // password command): the message was not queued.
        Err(SendError::Input(e)) => {
            say(e);
            EX_CONFIG
        }
        Err(SendError::Transport {
            error,
            outbox,
            outbox_error,
        }) => {
            say(format!("sending via {} failed: {error}", p.transport));
            match outbox {
                Some(path) => {
                    say(format!(
                        "kept in the outbox: {} (missive outbox flush, or a running missive relay, sends it)",
                        path.display()
                    ));
                    EX_TEMPFAIL
                }
                None => {
                    if let Some(e) = outbox_error {
                        say(e);
                    }
                    say("the message was NOT kept; send it again");
                    EX_IOERR
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(a: &[&str]) -> Result<Action, String> {
        parse_args(&a.iter().map(OsString::from).collect::<Vec<_>>())
    }

    #[test]
    fn sendmail_command_lines() {
        let Ok(Action::Send(o)) = parse(&[
            "-oi",
            "-oem",
            "-odb",
            "-t",
            "-fbounce@example.com",
            "-F",
            "Cron Daemon",
            "-a",
            "work",
            "--",
            "bob@example.com",
        ]) else {
            panic!()
        };
        assert!(o.ignore_dots && o.read_recipients);
        assert_eq!(o.envelope_from.as_deref(), Some("bounce@example.com"));
        assert_eq!(o.full_name.as_deref(), Some("Cron Daemon"));
        assert_eq!(o.transport.as_deref(), Some("work"));
        assert_eq!(o.recipients, ["bob@example.com"]);

        let Ok(Action::Send(o)) = parse(&["-ti", "-N", "never", "--transport=x", "a@b.c"]) else {
            panic!()
        };
        assert!(o.ignore_dots && o.read_recipients);
        assert_eq!(o.transport.as_deref(), Some("x"));
        assert_eq!(o.recipients, ["a@b.c"]);

        assert!(parse(&["-bs"]).is_err());
        assert!(parse(&["-q"]).is_err());
        assert!(parse(&["-Z"]).is_err());
        assert!(parse(&["-f"]).is_err());
        assert_eq!(parse(&["--help"]), Ok(Action::Help));
    }

    #[test]
    fn invocation_forms() {
        let v = |a: &[&str]| a.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            invocation(&v(&["/usr/sbin/sendmail", "-t"])),
            Some(v(&["-t"]))
        );
        assert_eq!(
            invocation(&v(&["missive", "--config", "c.toml", "sendmail", "-t"])),
            Some(v(&["--config", "c.toml", "-t"]))
        );
        assert_eq!(invocation(&v(&["missive", "send"])), None);
    }

    #[test]
    fn a_lone_dot_ends_the_message_unless_i() {
        let input = b"Subject: x\n\na\n.\nb\n";
        assert_eq!(
            read_message(&input[..], false).unwrap(),
            b"Subject: x\n\na\n"
        );
        assert_eq!(read_message(&input[..], true).unwrap(), input);
    }
}
