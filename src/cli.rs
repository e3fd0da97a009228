//! The command line: flags → `Draft` → engine. A thin shell; all decisions live in the
//! engine so the composer behaves the same.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

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

    /// A mailto: URL to prefill the composer
    #[arg(value_name = "mailto:URL")]
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
    /// List saved drafts (reopen one with `missive --draft ID`)
    Drafts {
        #[arg(long)]
        json: bool,
    },
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

#[derive(Subcommand, Debug)]
pub enum OutboxAction {
    /// Show queued messages with their last error
    List {
        #[arg(long)]
        json: bool,
    },
    /// Retry each queued message once; delivered ones are removed
    Flush {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug, Default, Clone)]
pub struct MessageArgs {
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
            ..Default::default()
        };
        if let Some(p) = &self.text {
            d.text = Some(read_body(p, "text body")?);
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
}

fn err_line(msg: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr(), "missive: {msg}");
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
    let cli = match Cli::try_parse_from(&args) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_INPUT } else { EXIT_OK };
            let _ = e.print();
            return code;
        }
    };
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
            &cli.message,
            cli.draft.as_deref(),
            cli.mailto.as_deref(),
        ),
        Some(Command::Send(a)) => rt.block_on(send(&engine, &a)),
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
            OutboxAction::List { json } => outbox_list(&engine, json),
            OutboxAction::Flush { json } => rt.block_on(outbox_flush(&engine, json)),
        },
        Some(Command::Drafts { json }) => drafts(&engine, json),
        Some(Command::Sendmail { .. }) => unreachable_sendmail(),
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

/// `main` hands sendmail mode over before the engine is loaded (its config errors exit
/// 78, not 2).
fn unreachable_sendmail() -> i32 {
    err_line("internal error: sendmail mode reached the command dispatcher");
    crate::sendmail_cmd::EX_SOFTWARE
}

fn compose(engine: &Engine, args: &MessageArgs, draft: Option<&str>, mailto: Option<&str>) -> i32 {
    crate::ui::run(engine, args, draft, mailto)
}

fn prepare(engine: &Engine, args: &MessageArgs) -> Result<Prepared, InputError> {
    let draft = args.to_draft()?;
    engine.prepare(&draft, args.transport.as_deref())
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
            if let Some(e) = outbox_error {
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
                });
                println!("{v}");
            }
            EXIT_TRANSPORT
        }
    }
}

fn preview(engine: &Engine, a: &PreviewArgs) -> i32 {
    let p = match prepare(engine, &a.message) {
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

fn outbox_list(engine: &Engine, json: bool) -> i32 {
    let entries = engine.outbox().list();
    if json {
        let v: Vec<_> = entries
            .iter()
            .map(|e| serde_json::json!({"name": e.name, "eml": e.eml, "meta": e.meta}))
            .collect();
        println!("{}", serde_json::Value::Array(v));
        return EXIT_OK;
    }
    if entries.is_empty() {
        println!("The outbox is empty.");
        return EXIT_OK;
    }
    for e in &entries {
        println!(
            "{}  via {}  to {}  \"{}\"  ({} attempt{})",
            e.name,
            e.meta.transport,
            e.meta.envelope.to.join(", "),
            e.meta.subject,
            e.meta.attempts,
            if e.meta.attempts == 1 { "" } else { "s" }
        );
        println!("    last error: {}", e.meta.last_error);
        println!("    {}", e.eml.display());
    }
    EXIT_OK
}

async fn outbox_flush(engine: &Engine, json: bool) -> i32 {
    let outcomes = match engine.flush_outbox().await {
        Ok(o) => o,
        Err(e) => {
            err_line(e);
            return EXIT_TRANSPORT;
        }
    };
    let failed = outcomes.iter().filter(|o| o.result.is_err()).count();
    if json {
        let v: Vec<_> = outcomes
            .iter()
            .map(|o| match &o.result {
                Ok(r) => serde_json::json!({"name": o.name, "sent": true, "report": r}),
                Err(e) => serde_json::json!({"name": o.name, "sent": false, "message_id": o.message_id, "error": e}),
            })
            .collect();
        println!("{}", serde_json::Value::Array(v));
    } else if outcomes.is_empty() {
        println!("The outbox is empty.");
    } else {
        for o in &outcomes {
            match &o.result {
                Ok(r) => println!(
                    "sent {} {} via {}{}",
                    o.name,
                    r.message_id,
                    r.transport,
                    r.server_id
                        .as_deref()
                        .map(|s| format!(" (server id {s})"))
                        .unwrap_or_default()
                ),
                Err(e) => println!("kept {} {}: {e}", o.name, o.message_id),
            }
        }
        println!(
            "{} sent, {failed} still in the outbox",
            outcomes.len() - failed
        );
    }
    if failed > 0 {
        EXIT_TRANSPORT
    } else {
        EXIT_OK
    }
}

fn drafts(engine: &Engine, json: bool) -> i32 {
    let list = engine.drafts().list();
    if json {
        println!(
            "{}",
            serde_json::to_string(&list).unwrap_or_else(|_| "[]".into())
        );
        return EXIT_OK;
    }
    if list.is_empty() {
        println!("No saved drafts.");
        return EXIT_OK;
    }
    for d in list {
        let to = d.draft.to.join(", ");
        println!(
            "{}  {}  to {}  \"{}\"",
            d.id,
            d.saved,
            if to.is_empty() { "(nobody yet)" } else { &to },
            d.draft.subject
        );
    }
    println!("Reopen one with: missive --draft ID");
    EXIT_OK
}
