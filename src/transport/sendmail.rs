//! Hands the message to a local sendmail-compatible program (sendmail, msmtp, ...).

use std::time::Duration;

use futures::future::BoxFuture;

use super::{CheckReport, Progress, ProgressFn, Receipt, Stage, Transport, TransportError};
use crate::command::{self, Cmd, CmdError};
use crate::escape;
use crate::message::Envelope;

/// Most a sendmail program may print on stdout (it normally prints nothing).
const STDOUT_MAX: usize = 64 * 1024;

pub struct SendmailTransport {
    /// A program, possibly with arguments ("msmtp -a work"); run through `sh`.
    pub command: String,
    /// The whole run: a command that never exits is killed with its process group.
    pub timeout: Duration,
}

impl Transport for SendmailTransport {
    fn kind(&self) -> &'static str {
        "sendmail"
    }

    fn send<'a>(
        &'a self,
        envelope: &'a Envelope,
        raw: &'a [u8],
        progress: ProgressFn<'a>,
    ) -> BoxFuture<'a, Result<Receipt, TransportError>> {
        Box::pin(async move {
            let mut args: Vec<std::ffi::OsString> = vec![
                "-i".into(),
                "-f".into(),
                envelope.from.clone().into(),
                "--".into(),
            ];
            args.extend(envelope.to.iter().map(Into::into));
            // The configured command may carry its own arguments; ours are passed as
            // positional parameters so addresses are never re-parsed by the shell.
            let cmd = Cmd {
                script: format!("{} \"$@\"", self.command),
                name: "sendmail".into(),
                args,
                stdin: Some(raw.to_vec()),
                timeout: self.timeout,
                max_stdout: STDOUT_MAX,
            };
            let shown = escape::quoted(&self.command);
            let total = raw.len() as u64;
            progress(Progress::Sending { sent: 0, total });
            let out = command::run(&cmd).await.map_err(|e| match e {
                CmdError::Spawn(e) => {
                    TransportError::new(Stage::Connect, false, format!("cannot run {shown}: {e}"))
                }
                // It may have queued the message before hanging: retrying later is the
                // safe side (the outbox keeps the Message-ID).
                e => TransportError::new(Stage::Send, true, format!("{shown} {e}")),
            })?;
            progress(Progress::Waiting);
            let stderr = out.stderr_hint();
            if !out.status.success() {
                // sysexits: 75 (EX_TEMPFAIL) means try again later.
                let transient = out.status.code() == Some(75);
                return Err(TransportError::new(
                    Stage::Send,
                    transient,
                    format!("{shown} exited with {}: {stderr}", out.status),
                ));
            }
            if let Some(e) = &out.stdin_error {
                return Err(TransportError::new(
                    Stage::Send,
                    false,
                    format!("{shown} stopped reading the message: {e} {stderr}"),
                ));
            }
            let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
            Ok(Receipt {
                response: (!stdout.is_empty()).then(|| escape::shown(&stdout)),
                ..Default::default()
            })
        })
    }

    fn check(&self) -> BoxFuture<'_, Result<CheckReport, TransportError>> {
        Box::pin(async move {
            let program = self.command.split_whitespace().next().unwrap_or("");
            let found = if program.contains('/') {
                std::path::Path::new(program).is_file()
            } else {
                std::env::var_os("PATH")
                    .map(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
                    .unwrap_or(false)
            };
            if !found {
                return Err(TransportError::new(
                    Stage::Connect,
                    false,
                    format!("{program:?} not found"),
                ));
            }
            Ok(CheckReport {
                lines: vec![format!(
                    "{program} is present (messages are piped to `{} -i -f FROM -- RCPT...`)",
                    self.command
                )],
            })
        })
    }
}
