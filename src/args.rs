//! The command line's argument types and exit codes: what the shells (the scriptable
//! commands, the composer, the queue commands) share, so none imports another.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use clap::Args;

use crate::engine::{Engine, InputError};
use crate::message::{self, Draft};

/// Exit codes (SPEC): 0 sent, 1 transport failed (message in outbox), 2 bad input.
pub const EXIT_OK: i32 = 0;
pub const EXIT_TRANSPORT: i32 = 1;
pub const EXIT_INPUT: i32 = 2;

#[derive(Args, Debug, Default, Clone)]
pub struct MessageArgs {
    /// The text body when it was piped in with no body flag (`send` only).
    #[arg(skip)]
    pub piped_text: Option<String>,
    /// From address ("Name <addr>")
    #[arg(long, value_name = "ADDR")]
    pub from: Option<String>,
    /// Recipient (repeatable, or comma-separated)
    #[arg(long, value_name = "ADDR")]
    pub to: Vec<String>,
    #[arg(long, value_name = "ADDR")]
    pub cc: Vec<String>,
    /// Blind copy: in the envelope only, never in the headers
    #[arg(long, value_name = "ADDR")]
    pub bcc: Vec<String>,
    #[arg(long, value_name = "TEXT")]
    pub subject: Option<String>,
    /// Plain-text body file (- = stdin)
    #[arg(long, value_name = "FILE")]
    pub text: Option<PathBuf>,
    /// HTML body file (- = stdin)
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Derive the HTML part from the text body (CommonMark)
    #[arg(long)]
    pub markdown: bool,
    /// Attach a file (repeatable); FILE;type=MIME overrides the guessed type
    /// (taken as a type only if no file has the whole name)
    #[arg(long, value_name = "FILE")]
    pub attach: Vec<PathBuf>,
    /// Transport name from the config
    #[arg(long, value_name = "NAME")]
    pub transport: Option<String>,
    /// Write as this [identity.NAME]: its From, transport, Reply-To, signature, copy_to
    #[arg(long, value_name = "NAME")]
    pub identity: Option<String>,
    /// Reply-To address (repeatable, or comma-separated)
    #[arg(long = "reply-to", value_name = "ADDR")]
    pub reply_to: Vec<String>,
    /// Extra header (repeatable)
    #[arg(long, value_name = "'Name: value'")]
    pub header: Vec<String>,
    /// Reply to the message in FILE (- = stdin): to its Reply-To or From, quoted, threaded
    #[arg(long, value_name = "FILE", group = "origin")]
    pub reply: Option<PathBuf>,
    /// Reply to the sender and every recipient of FILE but yourself
    #[arg(long = "reply-all", value_name = "FILE", group = "origin")]
    pub reply_all: Option<PathBuf>,
    /// Forward FILE: its text in the body, its attachments attached again
    #[arg(long, value_name = "FILE", group = "origin")]
    pub forward: Option<PathBuf>,
    /// Forward FILE unchanged, attached as message/rfc822
    #[arg(long = "forward-attached", value_name = "FILE", group = "origin")]
    pub forward_attached: Option<PathBuf>,
    /// Start from a template (mutt's -H): its headers and text prefill the message
    #[arg(long, value_name = "FILE", group = "origin")]
    pub template: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct SendArgs {
    #[command(flatten)]
    pub message: MessageArgs,
    /// Print the result as one JSON object
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct PreviewArgs {
    #[command(flatten)]
    pub message: MessageArgs,
    /// Print the exact RFC 5322 bytes
    #[arg(long, conflicts_with = "json")]
    pub raw: bool,
    /// Print the tree as JSON
    #[arg(long)]
    pub json: bool,
}

fn read_body(path: &Path, what: &str) -> Result<String, InputError> {
    let bytes = if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| InputError::Other(format!("{what} from stdin: {e}")))?;
        buf
    } else {
        if path.is_dir() {
            return Err(InputError::Other(format!(
                "{what} {}: is a directory, not a file",
                path.display()
            )));
        }
        std::fs::read(path).map_err(|e| {
            InputError::Other(format!(
                "{what} {}: {}",
                path.display(),
                message::io_reason(&e)
            ))
        })?
    };
    String::from_utf8(bytes)
        .map_err(|_| InputError::Other(format!("{what} {}: not UTF-8 text", path.display())))
}

impl MessageArgs {
    pub fn to_draft(&self) -> Result<Draft, InputError> {
        let mut d = Draft {
            from: self.from.clone(),
            to: self.to.clone(),
            cc: self.cc.clone(),
            bcc: self.bcc.clone(),
            subject: self.subject.clone().unwrap_or_default(),
            markdown: self.markdown,
            reply_to: self.reply_to.clone(),
            ..Default::default()
        };
        if let Some(p) = &self.text {
            d.text = Some(read_body(p, "text body")?);
        } else if let Some(t) = &self.piped_text {
            d.text = Some(t.clone());
        }
        if let Some(p) = &self.html {
            d.html = Some(read_body(p, "HTML body")?);
        }
        if d.markdown && d.text.is_none() {
            return Err(InputError::Other(
                "--markdown needs a text body (--text FILE)".into(),
            ));
        }
        for a in &self.attach {
            d.attachments
                .push(crate::attachment::parse_arg(a.as_os_str()));
        }
        for h in &self.header {
            d.headers.push(message::parse_header_arg(h)?);
        }
        Ok(d)
    }

    /// A new message takes its identity's From, Reply-To and signature: the one given
    /// with `--identity`, else the default identity, if any.
    pub fn apply_identity(&self, engine: &Engine, d: &mut Draft) -> Result<(), InputError> {
        self.apply_identity_or(engine, d, None)
    }

    /// As `apply_identity`, with `picked` (the identity a replied-to message was
    /// addressed to) before the default one.
    fn apply_identity_or(
        &self,
        engine: &Engine,
        d: &mut Draft,
        picked: Option<&str>,
    ) -> Result<(), InputError> {
        if let Some(id) = engine.identity(self.identity.as_deref().or(picked))? {
            engine.apply_identity(d, id)?;
        }
        Ok(())
    }

    /// The message this one starts from (`--reply`, `--forward`, `--template`, ...).
    pub fn origin(&self) -> Option<(crate::reply::Kind, &Path)> {
        use crate::reply::Kind;
        [
            (Kind::Reply, &self.reply),
            (Kind::ReplyAll, &self.reply_all),
            (Kind::Forward, &self.forward),
            (Kind::ForwardAttached, &self.forward_attached),
            (Kind::Template, &self.template),
        ]
        .into_iter()
        .find_map(|(k, p)| p.as_deref().map(|p| (k, p)))
    }

    /// A new message as the flags describe it: started from the original they name (if
    /// any), written as its identity (From, Reply-To, signature).
    pub fn new_draft(&self, engine: &Engine) -> Result<Draft, InputError> {
        let stdin = Path::new("-");
        if let Some((kind, p)) = self.origin() {
            if p == stdin
                && (self.text.as_deref() == Some(stdin) || self.html.as_deref() == Some(stdin))
            {
                return Err(InputError::Other(format!(
                    "{} - and a body from - both want standard input; give one of them a file",
                    kind.flag()
                )));
            }
        }
        let mut d = self.to_draft()?;
        let mut picked = None;
        if let Some((kind, p)) = self.origin() {
            let raw = crate::reply::read_source(kind, p)?;
            picked = engine.start_from(kind, &raw, &mut d)?;
        }
        if let Err(e) = self.apply_identity_or(engine, &mut d, picked.as_deref()) {
            crate::reply::staged::release(&engine.paths, &d);
            return Err(e);
        }
        Ok(d)
    }
}

/// Every error missive prints goes through here: scrubbed of secrets and shown without
/// raw control characters.
pub fn err_line(msg: impl std::fmt::Display) {
    let text = crate::escape::for_terminal(&msg.to_string());
    let _ = writeln!(std::io::stderr(), "missive: {text}");
}

/// `echo text | missive send --to ...`: with no body flag, text piped in (never a
/// terminal, which would wait for typing) is the text body; nothing piped, no body.
pub fn body_from_piped_stdin(m: &mut MessageArgs) -> Result<(), InputError> {
    use std::io::IsTerminal;
    const MAX: u64 = crate::raw::MAX_SUBMISSION;
    let origin_on_stdin = m.origin().is_some_and(|(_, p)| p == Path::new("-"));
    if m.text.is_some() || m.html.is_some() || origin_on_stdin || std::io::stdin().is_terminal() {
        return Ok(());
    }
    let mut buf = Vec::new();
    std::io::stdin()
        .take(MAX + 1)
        .read_to_end(&mut buf)
        .map_err(|e| InputError::Other(format!("text body from stdin: {e}")))?;
    if buf.len() as u64 > MAX {
        return Err(InputError::Other(format!(
            "text body from stdin: over {MAX} bytes"
        )));
    }
    if !buf.is_empty() {
        let t = String::from_utf8(buf)
            .map_err(|_| InputError::Other("text body from stdin: not UTF-8 text".into()))?;
        m.piped_text = Some(t);
    }
    Ok(())
}
