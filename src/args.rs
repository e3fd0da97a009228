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
        if let Some(id) = engine.identity(self.identity.as_deref())? {
            engine.apply_identity(d, id)?;
        }
        Ok(())
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
    if m.text.is_some() || m.html.is_some() || std::io::stdin().is_terminal() {
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
