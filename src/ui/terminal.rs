//! The terminal: raw mode and the alternate screen on the way in, everything undone on
//! the way out (also from the panic hook), and a reader thread that turns terminal input
//! into a channel the event loop can wait on, and that can be paused for `$EDITOR`.

use std::io::{self, Stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::ThreadId;
use std::time::Duration;

use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{
    self, DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    Event,
};
use ratatui::crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::crossterm::{cursor, execute};
use ratatui::Terminal;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Whether the terminal is in the composer's mode (so leaving twice does no harm: a
/// second "leave the alternate screen" would move the cursor back up on some terminals).
static ENTERED: AtomicBool = AtomicBool::new(false);

/// Put the terminal in the composer's mode.
pub fn enter() -> io::Result<()> {
    ENTERED.store(true, Ordering::SeqCst);
    enable_raw_mode()?;
    execute!(
        io::stdout(),
        EnterAlternateScreen,
        EnableMouseCapture,
        EnableBracketedPaste,
        cursor::Hide
    )
}

/// Undo [`enter`]. Safe to call more than once.
pub fn leave() -> io::Result<()> {
    if !ENTERED.swap(false, Ordering::SeqCst) {
        return Ok(());
    }
    let raw = disable_raw_mode();
    let mut out = io::stdout();
    let screen = execute!(
        out,
        DisableBracketedPaste,
        DisableMouseCapture,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = out.flush();
    raw.and(screen)
}

pub fn new_terminal() -> io::Result<Term> {
    Terminal::new(CrosstermBackend::new(io::stdout()))
}

static UI_THREAD: OnceLock<ThreadId> = OnceLock::new();

/// A panic on the UI thread restores the terminal before the message is printed (the
/// event loop's caller then saves the draft). A panic elsewhere (a worker job) is logged
/// and not printed: the screen belongs to the composer, and the job's failure is reported
/// in the UI.
pub fn install_panic_hook() {
    let _ = UI_THREAD.set(std::thread::current().id());
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if UI_THREAD.get() == Some(&std::thread::current().id()) {
            let _ = leave();
            previous(info);
        } else {
            tracing::error!("panic in a background job: {info}");
        }
    }));
}

/// Terminal input on a channel, from a thread that can be paused.
pub struct Input {
    pub rx: UnboundedReceiver<Event>,
    paused: Arc<AtomicBool>,
    parked: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
}

impl Input {
    pub fn start() -> Input {
        let (tx, rx) = unbounded_channel();
        let paused = Arc::new(AtomicBool::new(false));
        let parked = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (p, k, s) = (paused.clone(), parked.clone(), stop.clone());
        std::thread::Builder::new()
            .name("missive-input".into())
            .spawn(move || {
                while !s.load(Ordering::SeqCst) {
                    if p.load(Ordering::SeqCst) {
                        k.store(true, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(10));
                        continue;
                    }
                    k.store(false, Ordering::SeqCst);
                    match event::poll(Duration::from_millis(40)) {
                        Ok(true) => match event::read() {
                            Ok(ev) => {
                                if tx.send(ev).is_err() {
                                    break;
                                }
                            }
                            Err(e) => {
                                tracing::error!(error = %e, "reading the terminal failed");
                                break;
                            }
                        },
                        Ok(false) => {}
                        Err(e) => {
                            tracing::error!(error = %e, "polling the terminal failed");
                            break;
                        }
                    }
                }
            })
            .ok();
        Input {
            rx,
            paused,
            parked,
            stop,
        }
    }

    /// Stop reading (and wait until the reader no longer touches the terminal).
    pub fn pause(&self) {
        self.paused.store(true, Ordering::SeqCst);
        for _ in 0..50 {
            if self.parked.load(Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    pub fn resume(&mut self) {
        // Whatever was typed into the editor is not for us.
        while self.rx.try_recv().is_ok() {}
        self.paused.store(false, Ordering::SeqCst);
    }
}

impl Drop for Input {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}
