//! The command line: flags → `Draft` → engine. A thin shell; all decisions live in the
//! engine so the composer behaves the same.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use clap::{Args, CommandFactory, Parser, Subcommand};

mod argv;
mod contacts;

use crate::cli_queue::{self, DraftsAction, OutboxAction};
use crate::engine::{Engine, InputError, Prepared, SendError, SendReport};
use crate::message::{self, Draft};

/// Exit codes (SPEC): 0 sent, 1 transport failed (message in outbox), 2 bad input.
pub const EXIT_OK: i32 = 0;
pub const EXIT_TRANSPORT: i32 = 1;
pub const EXIT_INPUT: i32 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "missive",
    version,
    about = "Compose mail in the terminal, see the exact MIME, send over SMTP, Gmail API, a file or sendmail",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// Config file (default: $XDG_CONFIG_HOME/missive/config.toml)
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub message: MessageArgs,

    /// Reopen a saved draft in the composer
    #[arg(long, value_name = "ID")]
    pub draft: Option<String>,

    /// A mailto: URL or an address to prefill the composer
    #[arg(value_name = "mailto:URL|ADDRESS")]
    pub mailto: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Build and send without the composer
    Send(SendArgs),
    /// Print the MIME tree (or the exact bytes) that would be sent; sends nothing
    Preview(PreviewArgs),
    /// Connect, negotiate TLS and authenticate; send nothing
    Check {
        /// Transport name (default: the configured default)
        transport: Option<String>,
    },
    /// Log a gmail (Google) or outlook (Microsoft) transport in with OAuth and store the login
    Auth {
        transport: String,
        /// Print the URL instead of opening a browser; the address the browser ends on
        /// may also be pasted on standard input (for a browser on another machine)
        #[arg(long)]
        no_browser: bool,
        /// Device-code flow: a code to enter on any device (Microsoft only)
        #[arg(long, conflicts_with = "no_browser")]
        device: bool,
    },
    /// Messages that failed to send
    Outbox {
        #[command(subcommand)]
        action: OutboxAction,
    },
    /// List saved drafts (reopen one with `missive --draft ID`), or `drafts rm ID`
    Drafts {
        #[arg(long)]
        json: bool,
        #[command(subcommand)]
        action: Option<DraftsAction>,
    },
    /// Contacts matching QUERY (recipient history, aliases, address_book_cmd), best
    /// first: `address<TAB>name<TAB>source` lines, or a JSON list with --json
    Contacts {
        /// What to look for (fuzzy; empty: everyone, most used first)
        #[arg(default_value = "")]
        query: String,
        #[arg(long)]
        json: bool,
    },
    /// Print a shell completion script (e.g. `missive completions bash > ~/.local/share/bash-completion/completions/missive`)
    Completions { shell: clap_complete::Shell },
    /// Print the manual page (roff), e.g. `missive man | man -l -`
    Man,
    /// An SMTP server on loopback for local programs: each message is delivered through
    /// the transport, or kept in the outbox and retried, before it is acknowledged
    Relay {
        /// Address to listen on (default: [relay] listen, else 127.0.0.1:2525)
        #[arg(long, value_name = "ADDR:PORT")]
        listen: Option<String>,
        /// Transport to send through (default: [relay] transport, else the default)
        #[arg(long, value_name = "NAME")]
        transport: Option<String>,
        /// Log one JSON object a line per message on stdout
        #[arg(long)]
        json: bool,
    },
    /// Send one message read on stdin, as sendmail does (for git send-email, mutt, cron);
    /// `missive sendmail --help` lists its flags
    #[command(disable_help_flag = true)]
    Sendmail {
        /// sendmail's arguments: [-t] [-i] [-f ADDR] [-F NAME] [-a NAME] [RCPT...]
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<std::ffi::OsString>,
    },
}

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

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Parse arguments and run; returns the process exit code.
pub fn main() -> i32 {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // sendmail's command line is not clap's (-oi, -fADDR, -F NAME): its own parser.
    if let Some(rest) = crate::sendmail_cmd::invocation(&args) {
        return crate::sendmail_cmd::main(rest);
    }
    let subcommands: Vec<String> = Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    let args = argv::config_after_subcommand(args, &subcommands);
    let cli = match Cli::try_parse_from(&args) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_INPUT } else { EXIT_OK };
            let _ = e.print();
            return code;
        }
    };
    match &cli.command {
        Some(Command::Completions { shell }) => {
            clap_complete::generate(
                *shell,
                &mut Cli::command(),
                "missive",
                &mut std::io::stdout(),
            );
            return EXIT_OK;
        }
        Some(Command::Man) => {
            return match clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout()) {
                Ok(()) => EXIT_OK,
                Err(e) => {
                    err_line(format!("writing the manual page: {e}"));
                    EXIT_TRANSPORT
                }
            };
        }
        _ => {}
    }
    let mut message_args = cli.message.clone();
    let mut mailto = None;
    if let Some(p) = &cli.mailto {
        match argv::positional(p, &subcommands) {
            argv::Positional::Mailto(m) => mailto = Some(m),
            argv::Positional::Address(a) => message_args.to.insert(0, a),
            argv::Positional::Unknown(msg) => {
                err_line(msg);
                return EXIT_INPUT;
            }
        }
    }
    if let Some(Command::Sendmail { args }) = &cli.command {
        let mut args = args.clone();
        if let Some(c) = &cli.config {
            args.splice(0..0, ["--config".into(), c.clone().into_os_string()]);
        }
        return crate::sendmail_cmd::main(args);
    }
    let engine = match Engine::load(cli.config.as_deref()) {
        Ok(e) => e,
        Err(e) => {
            err_line(e);
            return EXIT_INPUT;
        }
    };
    crate::logging::init(&engine.paths);
    for w in &engine.config.warnings {
        err_line(format!("warning: {w}"));
        tracing::warn!("{w}");
    }
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            err_line(format!("cannot start: {e}"));
            return EXIT_TRANSPORT;
        }
    };
    match cli.command {
        None => compose(
            &engine,
            &message_args,
            cli.draft.as_deref(),
            mailto.as_deref(),
        ),
        Some(Command::Send(mut a)) => match body_from_piped_stdin(&mut a.message) {
            Ok(()) => rt.block_on(send(&engine, &a)),
            Err(e) => {
                err_line(e);
                EXIT_INPUT
            }
        },
        Some(Command::Preview(a)) => preview(&engine, &a),
        Some(Command::Check { transport }) => rt.block_on(check(&engine, transport.as_deref())),
        Some(Command::Auth {
            transport,
            no_browser,
            device,
        }) => {
            let opts = crate::authorize::AuthOptions { no_browser, device };
            match rt.block_on(crate::authorize::run(&engine, &transport, &opts)) {
                Ok(()) => EXIT_OK,
                Err(e) => {
                    err_line(e.message);
                    if e.input {
                        EXIT_INPUT
                    } else {
                        EXIT_TRANSPORT
                    }
                }
            }
        }
        Some(Command::Outbox { action }) => match action {
            OutboxAction::List { json } => cli_queue::outbox_list(&engine, json),
            OutboxAction::Flush { json, force } => {
                rt.block_on(cli_queue::outbox_flush(&engine, json, force))
            }
            OutboxAction::Show { id, raw } => cli_queue::outbox_show(&engine, &id, raw),
            OutboxAction::Rm { id } => cli_queue::outbox_rm(&engine, &id),
            OutboxAction::Edit { id } => cli_queue::outbox_edit(&engine, &id),
        },
        Some(Command::Drafts { json, action }) => match action {
            None => cli_queue::drafts_list(&engine, json),
            Some(DraftsAction::List { json: j }) => cli_queue::drafts_list(&engine, json || j),
            Some(DraftsAction::Rm { id }) => cli_queue::drafts_rm(&engine, &id),
        },
        Some(Command::Contacts { query, json }) => contacts::run(&engine, &query, json, &rt),
        Some(Command::Sendmail { .. } | Command::Completions { .. } | Command::Man) => {
            unreachable_early()
        }
        Some(Command::Relay {
            listen,
            transport,
            json,
        }) => rt.block_on(crate::relay::run(
            engine,
            crate::relay::RelayArgs {
                listen,
                transport,
                json,
            },
        )),
    }
}

/// `main` runs these before the engine is loaded (completions and the manual need no
/// config; sendmail's config errors exit 78, not 2).
fn unreachable_early() -> i32 {
    err_line("internal error: a command meant to run before the config reached the dispatcher");
    EXIT_TRANSPORT
}

/// `echo text | missive send --to ...`: with no body flag, text piped in (never a
/// terminal, which would wait for typing) is the text body; nothing piped, no body.
fn body_from_piped_stdin(m: &mut MessageArgs) -> Result<(), InputError> {
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

fn compose(engine: &Engine, args: &MessageArgs, draft: Option<&str>, mailto: Option<&str>) -> i32 {
    crate::ui::run(engine, args, draft, mailto)
}

/// The draft the flags describe, written as its identity (From, Reply-To, signature).
fn draft_of(engine: &Engine, args: &MessageArgs) -> Result<Draft, InputError> {
    let mut draft = args.to_draft()?;
    args.apply_identity(engine, &mut draft)?;
    Ok(draft)
}

fn prepare(engine: &Engine, args: &MessageArgs) -> Result<Prepared, InputError> {
    engine.prepare(&draft_of(engine, args)?, args.transport.as_deref())
}

pub fn print_report(r: &SendReport, json: bool) {
    let mut out = std::io::stdout().lock();
    if json {
        let _ = writeln!(out, "{}", serde_json::to_string(r).unwrap_or_default());
        return;
    }
    let _ = writeln!(out, "Sent via {} ({})", r.transport, r.kind);
    let _ = writeln!(out, "Message-ID: {}", r.message_id);
    if let Some(id) = &r.server_id {
        let _ = writeln!(out, "Server id: {id}");
    }
    if let Some(t) = &r.thread_id {
        let _ = writeln!(out, "Thread id: {t}");
    }
    if let Some(resp) = &r.response {
        let _ = writeln!(out, "Response: {resp}");
    }
    if let Some(p) = &r.path {
        let _ = writeln!(out, "Path: {}", p.display());
    }
    let _ = writeln!(out, "Recipients: {}", r.recipients.join(", "));
    let _ = writeln!(out, "Bytes: {}", r.bytes);
    if let Some(c) = &r.copy {
        let _ = writeln!(out, "{}", c.summary());
    }
}

async fn send(engine: &Engine, a: &SendArgs) -> i32 {
    let p = match prepare(engine, &a.message) {
        Ok(p) => p,
        Err(e) => {
            err_line(e);
            return EXIT_INPUT;
        }
    };
    match engine.send(&p, &crate::transport::no_progress).await {
        Ok(r) => {
            print_report(&r, a.json);
            EXIT_OK
        }
        Err(SendError::Input(e)) => {
            err_line(e);
            EXIT_INPUT
        }
        Err(SendError::Transport {
            error,
            outbox,
            outbox_error,
        }) => {
            err_line(format!("sending via {} failed: {error}", p.transport));
            if let Some(path) = &outbox {
                err_line(format!(
                    "the message is kept in the outbox: {} (retry with `missive outbox flush`)",
                    path.display()
                ));
            }
            if let Some(e) = &outbox_error {
                err_line(e);
            }
            if a.json {
                let v = serde_json::json!({
                    "error": error.to_string(),
                    "stage": error.stage,
                    "code": error.code,
                    "transient": error.transient,
                    "message_id": p.built.message_id,
                    "transport": p.transport,
                    "outbox": outbox,
                    "outbox_error": outbox_error,
                    "uncertain": error.uncertain,
                    "permanent": error.is_permanent(),
                });
                println!("{v}");
            }
            EXIT_TRANSPORT
        }
    }
}

fn preview(engine: &Engine, a: &PreviewArgs) -> i32 {
    let p = match draft_of(engine, &a.message)
        .and_then(|d| engine.prepare_preview(&d, a.message.transport.as_deref()))
    {
        Ok(p) => p,
        Err(e) => {
            err_line(e);
            return EXIT_INPUT;
        }
    };
    let mut out = std::io::stdout().lock();
    if a.raw {
        let _ = out.write_all(&p.built.raw);
        return EXIT_OK;
    }
    let Some(tree) = p.tree() else {
        err_line("internal error: the built message could not be read back");
        return EXIT_TRANSPORT;
    };
    if a.json {
        let mut v = tree.to_json();
        if let Some(o) = v.as_object_mut() {
            o.insert("transport".into(), p.transport.clone().into());
            o.insert("size_limit".into(), p.size_limit.into());
        }
        let _ = writeln!(out, "{v}");
        return EXIT_OK;
    }
    let _ = writeln!(
        out,
        "Transport: {} ({})    Size: {} ({} bytes)",
        p.transport,
        p.kind,
        crate::mime_tree::human_size(tree.total_size),
        tree.total_size
    );
    if let Some(limit) = p.size_limit {
        let over = if tree.total_size > limit {
            "  — OVER THE LIMIT, sending will be refused"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "Limit: {} ({limit} bytes){over}",
            crate::mime_tree::human_size(limit)
        );
    }
    let _ = writeln!(
        out,
        "Envelope: from {} to {}",
        p.built.envelope.from,
        p.built.envelope.to.join(", ")
    );
    let _ = writeln!(out);
    for (k, v) in &tree.headers {
        let _ = writeln!(out, "{k}: {v}");
    }
    let _ = writeln!(out);
    for l in tree.render_lines() {
        let _ = writeln!(out, "{l}");
    }
    EXIT_OK
}

async fn check(engine: &Engine, name: Option<&str>) -> i32 {
    match engine.check(name).await {
        Ok((name, report)) => {
            println!("{name}: OK");
            for l in report.lines {
                println!("  {l}");
            }
            EXIT_OK
        }
        Err(e) => {
            let label = name.map(str::to_string).unwrap_or_else(|| {
                engine
                    .config
                    .default_transport()
                    .map(|t| t.name.clone())
                    .unwrap_or_default()
            });
            err_line(format!("{label}: {e}"));
            if e.is_config() {
                EXIT_INPUT
            } else {
                EXIT_TRANSPORT
            }
        }
    }
}
