//! The one way missive runs an outside command (`password_cmd`, `token_cmd`, the sendmail
//! transport, `signature_cmd`, `address_book_cmd`): through `sh -c`, in a process group
//! of its own, with a time limit covering the whole run and a cap on what it may print.
//!
//! Why a group: a command may leave children behind (`echo pw; sleep 1000 &`) that hold
//! its stdout open. Waiting for end-of-file would then hang, and killing only `sh` would
//! orphan them. So once the command itself has exited, its pipes get a short grace period
//! to close; after that, or on timeout, or when missive is cancelled or gets SIGTERM,
//! SIGINT or SIGHUP, the whole group is killed.

use std::ffi::OsString;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// How long a command's pipes may stay open after the command itself exited.
pub const GRACE: Duration = Duration::from_millis(300);
/// Default cap on stdout for commands that print one value (a password, a token).
pub const SECRET_OUTPUT_MAX: usize = 64 * 1024;
/// How much of stderr is kept for error messages; the rest is read and dropped.
pub const STDERR_KEEP: usize = 8 * 1024;

/// One command to run.
#[derive(Clone, Debug)]
pub struct Cmd {
    /// Shell text, run as `sh -c SCRIPT NAME ARGS...` (so `"$@"` expands to `args`).
    pub script: String,
    /// `$0` for the script.
    pub name: String,
    pub args: Vec<OsString>,
    /// Bytes written to the command's stdin; `None` gives it /dev/null.
    pub stdin: Option<Vec<u8>>,
    /// Limit for the whole run: start, input, output, exit.
    pub timeout: Duration,
    /// Printing more than this on stdout is an error (and the group is killed).
    pub max_stdout: usize,
}

impl Cmd {
    pub fn new(script: impl Into<String>, timeout: Duration) -> Cmd {
        Cmd {
            script: script.into(),
            name: "missive-cmd".into(),
            args: Vec::new(),
            stdin: None,
            timeout,
            max_stdout: SECRET_OUTPUT_MAX,
        }
    }
}

#[derive(Debug)]
pub struct Output {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    /// At most `STDERR_KEEP` bytes of stderr.
    pub stderr: Vec<u8>,
    /// Writing stdin failed (the command stopped reading early).
    pub stdin_error: Option<std::io::Error>,
}

impl Output {
    /// The first line of stderr, trimmed and cut short, for an error message.
    pub fn stderr_hint(&self) -> String {
        let s = String::from_utf8_lossy(&self.stderr);
        crate::escape::cut(s.lines().next().unwrap_or("").trim(), 200)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CmdError {
    #[error("cannot start: {0}")]
    Spawn(std::io::Error),
    #[error("did not finish within {0:?} (killed)")]
    Timeout(Duration),
    #[error("printed more than {0} bytes (killed)")]
    TooMuchOutput(usize),
    #[error("{0}")]
    Io(std::io::Error),
}

impl CmdError {
    pub fn is_timeout(&self) -> bool {
        matches!(self, CmdError::Timeout(_))
    }
}

/// Process groups of running commands, for the signal handler (which may only do
/// async-signal-safe things: read atomics, call kill(2)).
const SLOTS: usize = 64;
static GROUPS: [AtomicI32; SLOTS] = [const { AtomicI32::new(0) }; SLOTS];
static INSTALLED: std::sync::Once = std::sync::Once::new();
/// Per signal (TERM, INT, HUP): a shell of missive handles it itself (the composer
/// saves the draft, the relay drains), so after killing the groups the default action
/// must not run.
static HANDLED: [AtomicBool; 3] = [const { AtomicBool::new(false) }; 3];
const SIGNALS: [i32; 3] = [libc::SIGTERM, libc::SIGINT, libc::SIGHUP];

/// Say that the caller handles `signal` (SIGTERM, SIGINT or SIGHUP) itself. Running
/// commands' groups are still killed when it arrives.
pub fn caller_handles_signal(signal: i32) {
    if let Some(i) = SIGNALS.iter().position(|s| *s == signal) {
        HANDLED[i].store(true, Ordering::SeqCst);
    }
}

fn install_signal_handlers() {
    INSTALLED.call_once(|| {
        for (i, sig) in SIGNALS.into_iter().enumerate() {
            // SAFETY: the action only reads atomics and calls kill/signal/raise, which
            // are async-signal-safe.
            let res = unsafe {
                signal_hook_registry::register(sig, move || {
                    for g in &GROUPS {
                        let pgid = g.load(Ordering::SeqCst);
                        if pgid > 0 {
                            libc::kill(-pgid, libc::SIGKILL);
                        }
                    }
                    if !HANDLED[i].load(Ordering::SeqCst) {
                        // What would have happened without us: the signal is blocked
                        // while this handler runs, so it is delivered on return.
                        libc::signal(sig, libc::SIG_DFL);
                        libc::raise(sig);
                    }
                })
            };
            if let Err(e) = res {
                tracing::warn!(signal = sig, error = %e, "cannot watch signal for child cleanup");
            }
        }
    });
}

/// Kills the group when dropped while armed: on timeout, on cancellation, on error.
struct Group {
    pgid: i32,
    slot: Option<usize>,
    armed: bool,
}

impl Group {
    fn new(pgid: i32) -> Group {
        let slot = GROUPS.iter().position(|g| {
            g.compare_exchange(0, pgid, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        });
        Group {
            pgid,
            slot,
            armed: true,
        }
    }
    fn kill(&self) {
        // SAFETY: kill(2) with a negative pid signals the group we created.
        unsafe {
            libc::kill(-self.pgid, libc::SIGKILL);
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if self.armed {
            self.kill();
        }
        if let Some(s) = self.slot {
            GROUPS[s].store(0, Ordering::SeqCst);
        }
    }
}

/// Read to EOF into `buf`; past `max` bytes, either fail (`strict`) or keep draining
/// without storing (so the writer never blocks on a full pipe).
async fn read_capped(
    mut r: impl AsyncRead + Unpin,
    buf: &mut Vec<u8>,
    max: usize,
    strict: bool,
) -> Result<(), CmdError> {
    let mut chunk = [0u8; 8192];
    loop {
        let n = r.read(&mut chunk).await.map_err(CmdError::Io)?;
        if n == 0 {
            return Ok(());
        }
        let room = max.saturating_sub(buf.len());
        if n > room && strict {
            return Err(CmdError::TooMuchOutput(max));
        }
        buf.extend_from_slice(&chunk[..n.min(room)]);
    }
}

/// Run `cmd`; see the module comment for the guarantees.
pub async fn run(cmd: &Cmd) -> Result<Output, CmdError> {
    install_signal_handlers();
    let mut c = tokio::process::Command::new("sh");
    c.arg("-c")
        .arg(&cmd.script)
        .arg(&cmd.name)
        .args(&cmd.args)
        .stdin(if cmd.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = c.spawn().map_err(CmdError::Spawn)?;
    let Some(pid) = child.id() else {
        return Err(CmdError::Io(std::io::Error::other("the command vanished")));
    };
    let mut group = Group::new(pid as i32);
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let stdin = child.stdin.take();
    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut stdin_error = None;

    let outcome = tokio::time::timeout(cmd.timeout, async {
        let reading = async {
            let o = async {
                match stdout {
                    Some(s) => read_capped(s, &mut out, cmd.max_stdout, true).await,
                    None => Ok(()),
                }
            };
            let e = async {
                match stderr {
                    Some(s) => read_capped(s, &mut err, STDERR_KEEP, false).await,
                    None => Ok(()),
                }
            };
            tokio::try_join!(o, e).map(|_| ())
        };
        let waiting = async {
            if let (Some(mut w), Some(data)) = (stdin, cmd.stdin.as_deref()) {
                if let Err(e) = w.write_all(data).await {
                    stdin_error = Some(e);
                }
                drop(w);
            }
            child.wait().await.map_err(CmdError::Io)
        };
        tokio::pin!(reading, waiting);
        tokio::select! {
            r = &mut reading => {
                r?;
                let status = waiting.await?;
                Ok::<_, CmdError>((status, true))
            }
            s = &mut waiting => {
                let status = s?;
                match tokio::time::timeout(GRACE, &mut reading).await {
                    Ok(r) => { r?; Ok((status, true)) }
                    // Something the command left behind holds its output open.
                    Err(_) => Ok((status, false)),
                }
            }
        }
    })
    .await;
    match outcome {
        Err(_) => Err(CmdError::Timeout(cmd.timeout)),
        Ok(Err(e)) => Err(e),
        Ok(Ok((status, closed))) => {
            if closed {
                // Finished cleanly: children that let go of our pipes may go on living
                // (a sendmail that forks its delivery).
                group.armed = false;
            } else {
                group.kill();
            }
            Ok(Output {
                status,
                stdout: out,
                stderr: err,
                stdin_error,
            })
        }
    }
}

/// `run` for callers without a runtime (or inside one they must not block): the command
/// runs on a thread of its own with a small runtime.
pub fn run_blocking(cmd: &Cmd) -> Result<Output, CmdError> {
    let cmd = cmd.clone();
    std::thread::scope(|s| {
        s.spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(CmdError::Io)?
                .block_on(run(&cmd))
        })
        .join()
        .unwrap_or_else(|_| {
            Err(CmdError::Io(std::io::Error::other(
                "command thread panicked",
            )))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn background_child_holding_stdout_does_not_hang() {
        let t = Instant::now();
        let c = Cmd::new("echo pw; sleep 1000 &", Duration::from_secs(20));
        let out = rt().block_on(run(&c)).unwrap();
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
        assert_eq!(out.stdout, b"pw\n");
        assert!(out.status.success());
    }

    #[test]
    fn timeout_kills_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("pid");
        let script = format!("sleep 1000 & echo $! > {}; wait", pidfile.display());
        let t = Instant::now();
        let e = rt()
            .block_on(run(&Cmd::new(script, Duration::from_millis(500))))
            .unwrap_err();
        assert!(e.is_timeout(), "{e}");
        assert!(t.elapsed() < Duration::from_secs(5));
        let pid: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // The grandchild is gone (or a zombie about to be reaped by init).
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let alive = state
                .split(") ")
                .nth(1)
                .is_some_and(|s| !s.starts_with('Z'));
            if !alive {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "sleep {pid} survived the timeout"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn endless_output_is_cut() {
        let mut c = Cmd::new("cat /dev/zero", Duration::from_secs(20));
        c.max_stdout = 1000;
        let e = rt().block_on(run(&c)).unwrap_err();
        assert!(matches!(e, CmdError::TooMuchOutput(1000)), "{e}");
    }

    #[test]
    fn stdin_and_args_pass_through() {
        let mut c = Cmd::new("cat; printf '%s' \"$@\"", Duration::from_secs(20));
        c.stdin = Some(b"in;".to_vec());
        c.args = vec!["a b".into()];
        let out = run_blocking(&c).unwrap();
        assert_eq!(out.stdout, b"in;a b");
    }

    #[test]
    fn huge_stderr_is_drained_not_kept() {
        let c = Cmd::new(
            "head -c 1000000 /dev/zero >&2; echo ok",
            Duration::from_secs(20),
        );
        let out = run_blocking(&c).unwrap();
        assert_eq!(out.stdout, b"ok\n");
        assert_eq!(out.stderr.len(), STDERR_KEEP);
    }
}
