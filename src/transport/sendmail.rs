//! Hands the message to a local sendmail-compatible program (sendmail, msmtp, ...).

use std::process::Stdio;

use futures::future::BoxFuture;
use tokio::io::AsyncWriteExt;

use super::{CheckReport, Progress, ProgressFn, Receipt, Stage, Transport, TransportError};
use crate::message::Envelope;

pub struct SendmailTransport {
    /// A program, possibly with arguments ("msmtp -a work"); run through `sh`.
    pub command: String,
}

impl SendmailTransport {
    fn spawn(&self, args: &[String]) -> std::io::Result<tokio::process::Child> {
        // "$0" trick: the configured command may carry its own arguments; ours are passed
        // as positional parameters so addresses are never re-parsed by the shell.
        tokio::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{} \"$@\"", self.command))
            .arg("sendmail")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
    }
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
            let mut args = vec![
                "-i".to_string(),
                "-f".to_string(),
                envelope.from.clone(),
                "--".to_string(),
            ];
            args.extend(envelope.to.iter().cloned());
            let mut child = self.spawn(&args).map_err(|e| {
                TransportError::new(
                    Stage::Connect,
                    false,
                    format!("cannot run {:?}: {e}", self.command),
                )
            })?;
            let total = raw.len() as u64;
            progress(Progress::Sending { sent: 0, total });
            if let Some(mut stdin) = child.stdin.take() {
                let w = stdin.write_all(raw).await;
                drop(stdin);
                if let Err(e) = w {
                    let out = child.wait_with_output().await.ok();
                    let why = out
                        .map(|o| String::from_utf8_lossy(&o.stderr).trim().to_string())
                        .unwrap_or_default();
                    return Err(TransportError::new(
                        Stage::Send,
                        false,
                        format!("{:?} stopped reading the message: {e} {why}", self.command),
                    ));
                }
            }
            progress(Progress::Waiting);
            let out = child.wait_with_output().await.map_err(|e| {
                TransportError::new(Stage::Send, false, format!("{:?}: {e}", self.command))
            })?;
            let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
            if !out.status.success() {
                // sysexits: 75 (EX_TEMPFAIL) means try again later.
                let transient = out.status.code() == Some(75);
                return Err(TransportError::new(
                    Stage::Send,
                    transient,
                    format!("{:?} exited with {}: {}", self.command, out.status, stderr),
                ));
            }
            let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
            Ok(Receipt {
                response: (!stdout.is_empty()).then_some(stdout),
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
