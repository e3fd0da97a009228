//! The command line's entry: parse argv and hand the command to its shell (the
//! scriptable commands, the queue commands, the composer, sendmail, relay). The shells
//! share argument types (`args`) and the engine, and never call one another.

use std::path::PathBuf;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

mod argv;
mod contacts;

use crate::args::{
    body_from_piped_stdin, err_line, MessageArgs, PreviewArgs, SendArgs, EXIT_INPUT, EXIT_OK,
    EXIT_TRANSPORT,
};
use crate::cli_queue::{self, DraftsAction, OutboxAction};
use crate::cli_send::{check, preview, send};
use crate::engine::Engine;

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

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// `--attach-type` goes with the `--attach` before it: only clap's matches know the order.
fn pair_attach_types(cli: &mut Cli, m: &clap::ArgMatches) -> Result<(), String> {
    cli.message.pair_attach_types(m)?;
    match (&mut cli.command, m.subcommand()) {
        (Some(Command::Send(a)), Some((_, sub))) => a.message.pair_attach_types(sub),
        (Some(Command::Preview(a)), Some((_, sub))) => a.message.pair_attach_types(sub),
        _ => Ok(()),
    }
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
    let parsed = Cli::command()
        .try_get_matches_from(&args)
        .and_then(|m| Cli::from_arg_matches(&m).map(|c| (c, m)));
    let cli = match parsed {
        Ok((mut c, m)) => match pair_attach_types(&mut c, &m) {
            Ok(()) => c,
            Err(e) => {
                err_line(e);
                return EXIT_INPUT;
            }
        },
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
    // A bare word may be an alias nick (`missive team`, as mutt takes it): known once
    // the config is read.
    let mut unknown = None;
    if let Some(p) = &cli.mailto {
        match argv::positional(p, &subcommands) {
            argv::Positional::Mailto(m) => mailto = Some(m),
            argv::Positional::Address(a) => message_args.to.insert(0, a),
            argv::Positional::Unknown(msg) => unknown = Some((p.clone(), msg)),
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
    if let Some((word, msg)) = unknown {
        let nick = crate::contacts::entries::is_nick(&word)
            && engine.config.contacts.aliases.is_some()
            && engine.aliases().is_ok_and(|a| a.get(&word).is_some());
        if !nick {
            err_line(msg);
            return EXIT_INPUT;
        }
        message_args.to.insert(0, word);
    }
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
    let code = match cli.command {
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
            OutboxAction::Edit { id } => match cli_queue::outbox_edit(&engine, &id) {
                Ok(draft_id) => compose(&engine, &MessageArgs::default(), Some(&draft_id), None),
                Err(code) => code,
            },
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
        }) => {
            return rt.block_on(crate::relay::run(
                engine,
                crate::relay::RelayArgs {
                    listen,
                    transport,
                    json,
                },
            ))
        }
    };
    // A connection kept for a next message that will not come: say goodbye.
    rt.block_on(engine.close_transports());
    code
}

/// `main` runs these before the engine is loaded (completions and the manual need no
/// config; sendmail's config errors exit 78, not 2).
fn unreachable_early() -> i32 {
    err_line("internal error: a command meant to run before the config reached the dispatcher");
    EXIT_TRANSPORT
}

fn compose(engine: &Engine, args: &MessageArgs, draft: Option<&str>, mailto: Option<&str>) -> i32 {
    crate::ui::run(engine, args, draft, mailto)
}
