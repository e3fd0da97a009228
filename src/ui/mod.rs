//! The composer: a full-screen terminal UI over the engine. It builds, previews and sends
//! through the same `Engine` calls as the command line; there is no second send path.
//!
//! Shape: [`app`] holds the state, the `Action` enum and the keymap; [`view`] draws it
//! without side effects; [`popups`] are components that take keys first; [`worker`] does
//! the slow work behind two one-way channels; [`terminal`] owns setup, restore, the panic
//! hook and the input thread; [`typing`] takes input in batches; [`body`] is the body
//! editor; [`editor`] hands the terminal to `$EDITOR`.

pub mod app;
pub mod attachments;
pub mod body;
pub mod complete;
pub mod editor;
mod identity;
pub mod mailto;
pub mod popups;
pub mod terminal;
#[doc(hidden)]
pub mod testing;
mod typing;
pub mod view;
pub mod warnings;
pub mod worker;

use std::collections::VecDeque;
use std::io::IsTerminal;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::signal::unix::{signal, SignalKind};

use crate::args::{err_line, MessageArgs, EXIT_INPUT, EXIT_OK, EXIT_TRANSPORT};
use crate::drafts::Drafts;
use crate::engine::Engine;
use crate::message::Draft;

use app::{App, Effect, Init, Pane, QuitKind};

/// Set to exit right after the first frame is drawn (start-up timing).
pub const EXIT_AFTER_FIRST_FRAME: &str = "MISSIVE_EXIT_AFTER_FIRST_FRAME";

/// What the composer opens with, from `--draft`, the message flags and a `mailto:` URL.
pub fn initial(
    engine: &Engine,
    args: &MessageArgs,
    draft_id: Option<&str>,
    mailto: Option<&str>,
) -> Result<Init, String> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    if let (Some(_), Some((kind, _))) = (draft_id, args.origin()) {
        return Err(format!(
            "--draft reopens a saved message; {} starts a new one: give one of them",
            kind.flag()
        ));
    }
    let mut transport = args.transport.clone();
    let (mut draft, id, reopened) = match draft_id {
        Some(id) => {
            let flags = args.to_draft().map_err(|e| e.to_string())?;
            if let Some(when) = engine
                .drafts()
                .peek(id)
                .ok()
                .and_then(|s| s.draft.message_id)
                .and_then(|m| engine.sent_log().delivered(&m))
            {
                return Err(format!(
                    "draft {id} was already delivered ({when}); it is kept only as a record. Start a new message instead"
                ));
            }
            let saved = engine.drafts().load(id)?;
            transport = transport.or(saved.transport.clone());
            let mut d = saved.draft;
            // Flags given with --draft add to it.
            d.to.extend(flags.to.iter().cloned());
            d.cc.extend(flags.cc.iter().cloned());
            d.bcc.extend(flags.bcc.iter().cloned());
            d.attachments.extend(flags.attachments.iter().cloned());
            if flags.from.is_some() {
                d.from = flags.from.clone();
            }
            if !flags.subject.is_empty() {
                d.subject = flags.subject.clone();
            }
            (d, saved.id, true)
        }
        None => {
            let d = args.new_draft(engine).map_err(|e| e.to_string())?;
            (d, Drafts::new_id(), false)
        }
    };
    if let Some(url) = mailto {
        mailto::apply_mailto(url, &mut draft)?;
    }
    // Relative attachment paths are relative to where missive was started.
    for a in &mut draft.attachments {
        if a.path.is_relative() {
            a.path = cwd.join(&a.path);
        }
    }
    let offer = if draft_id.is_none() && mailto.is_none() && draft == Draft::default() {
        engine
            .drafts()
            .offerable(&engine.sent_log(), &engine.outbox())
            .into_iter()
            .next()
    } else {
        None
    };
    Ok(Init {
        draft,
        draft_id: id,
        reopened,
        transport,
        cwd,
        offer,
    })
}

/// Run the composer; returns the process exit code.
pub fn run(
    engine: &Engine,
    args: &MessageArgs,
    draft_id: Option<&str>,
    mailto: Option<&str>,
) -> i32 {
    let started = Instant::now();
    // What was asked for is checked first: a draft that cannot be opened (delivered, open
    // in another window) is worth saying even without a terminal.
    let init = match initial(engine, args, draft_id, mailto) {
        Ok(i) => i,
        Err(e) => {
            err_line(e);
            return EXIT_INPUT;
        }
    };
    if !std::io::stdout().is_terminal() {
        err_line(
            "the composer needs a terminal; use `missive send` or `missive preview` in scripts",
        );
        return EXIT_INPUT;
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            err_line(format!("cannot start: {e}"));
            return EXIT_TRANSPORT;
        }
    };
    let engine = Arc::new(Engine::new(engine.paths.clone(), engine.config.clone()));
    let mut app = App::new(engine.clone(), init);

    terminal::install_panic_hook();
    if let Err(e) = terminal::enter() {
        let _ = terminal::leave();
        err_line(format!("cannot set up the terminal: {e}"));
        return EXIT_INPUT;
    }
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        rt.block_on(async {
            let worker = worker::spawn(engine.clone());
            event_loop(&mut app, worker, started).await
        })
    }));
    let _ = terminal::leave();

    // Save first: after a SIGHUP or SIGTERM a SIGKILL may follow.
    let code = match outcome {
        Ok(Ok(End::Quit)) => finish(&app),
        Ok(Ok(End::Signal(code))) => {
            save_now(&app, true);
            code
        }
        Ok(Err(e)) => {
            save_now(&app, true);
            err_line(format!("terminal error: {e}"));
            EXIT_TRANSPORT
        }
        Err(_) => {
            // The panic message is already printed (the hook restored the terminal first).
            let saved = std::panic::catch_unwind(AssertUnwindSafe(|| save_now(&app, true))).is_ok();
            if !saved {
                err_line(format!(
                    "could not save the draft after the crash; the last autosave is draft {}",
                    app.draft_id
                ));
            }
            101
        }
    };
    rt.shutdown_timeout(Duration::from_secs(2));
    code
}

/// Write the draft from the UI thread (on the way out).
fn save_now(app: &App, announce: bool) {
    if !app.is_modified() {
        return;
    }
    let drafts = app.engine.drafts();
    match drafts.save(&app.draft_id, Some(&app.transport), &app.draft()) {
        Ok(_) if announce => err_line(format!(
            "your message is saved as draft {id}; reopen it with `missive --draft {id}`",
            id = app.draft_id
        )),
        Ok(_) => {}
        Err(e) => err_line(format!("could not save the draft {}: {e}", app.draft_id)),
    }
}

fn finish(app: &App) -> i32 {
    match app.quit {
        Some(QuitKind::Save) => save_now(app, true),
        Some(QuitKind::Discard) => {
            if let Err(e) = app.engine.drafts().remove(&app.draft_id) {
                err_line(format!("could not delete draft {}: {e}", app.draft_id));
            }
            crate::reply::staged::release(&app.engine.paths, &app.draft());
        }
        Some(QuitKind::Clean) | None => {}
    }
    EXIT_OK
}

enum End {
    Quit,
    Signal(i32),
}

async fn event_loop(
    app: &mut App,
    mut worker: worker::Worker,
    started: Instant,
) -> std::io::Result<End> {
    // Contacts for completion are read off the UI loop; the list works once they come.
    let _ = worker
        .tx
        .send(worker::Command::Contacts(complete::ContactsCmd::Load));
    let mut term = terminal::new_terminal()?;
    let size = term.size()?;
    app.resize(size.width, size.height);
    let mut input = terminal::Input::start();
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    // We save the draft on these ourselves; outside commands' groups still die with them.
    crate::command::caller_handles_signal(libc::SIGTERM);
    crate::command::caller_handles_signal(libc::SIGHUP);
    let mut first_frame = true;
    // Input read but not yet handled: what follows a key that hands the terminal to
    // `$EDITOR` or quits waits here until that is done.
    let mut pending: VecDeque<ratatui::crossterm::event::Event> = VecDeque::new();
    let exit_after_first = std::env::var_os(EXIT_AFTER_FIRST_FRAME).is_some();

    loop {
        for effect in app.take_effects() {
            match effect {
                Effect::Worker(cmd) => {
                    let _ = worker.tx.send(cmd);
                }
                Effect::Editor(pane) => {
                    // Keys typed after Ctrl-E were meant for the editor, which did not
                    // have the terminal yet; they are not typed into the composer.
                    pending.clear();
                    run_editor(app, pane, &mut term, &mut input)?;
                }
            }
        }
        if app.quit.is_some() {
            wait_for_saves(app, &mut worker).await;
            return Ok(End::Quit);
        }
        term.draw(|f| view::draw(f, app))?;
        if first_frame {
            first_frame = false;
            tracing::info!(
                ms = started.elapsed().as_secs_f64() * 1000.0,
                "first frame drawn"
            );
            if exit_after_first {
                return Ok(End::Quit);
            }
        }
        if pending.is_empty() {
            let deadline = app
                .next_deadline()
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                ev = input.rx.recv() => {
                    let Some(ev) = ev else {
                        // The terminal went away: keep what was typed.
                        return Ok(End::Signal(EXIT_TRANSPORT));
                    };
                    pending.push_back(ev);
                }
                ev = worker.rx.recv() => {
                    if let Some(ev) = ev {
                        app.handle_worker(ev);
                    }
                }
                _ = tokio::time::sleep_until(deadline.into()) => {}
                _ = sigterm.recv() => return Ok(End::Signal(143)),
                _ = sighup.recv() => return Ok(End::Signal(129)),
            }
        }
        // Everything already read goes in before the next frame (fast typing, pastes
        // without bracketed paste): one frame per batch, not per key.
        while let Ok(ev) = input.rx.try_recv() {
            pending.push_back(ev);
        }
        app.handle_events(&mut pending);
        app.tick(Instant::now());
    }
}

/// Let queued draft writes land before the final save or delete.
async fn wait_for_saves(app: &mut App, worker: &mut worker::Worker) {
    let until = Instant::now() + Duration::from_secs(3);
    while app.saves_in_flight > 0 && Instant::now() < until {
        match tokio::time::timeout_at(until.into(), worker.rx.recv()).await {
            Ok(Some(ev)) => app.handle_worker(ev),
            _ => break,
        }
    }
}

fn run_editor(
    app: &mut App,
    pane: Pane,
    term: &mut terminal::Term,
    input: &mut terminal::Input,
) -> std::io::Result<()> {
    let text = app.field_text(pane);
    let ext = if pane == Pane::Html { "html" } else { "txt" };
    input.pause();
    let _ = terminal::leave();
    let result = editor::edit(&text, ext);
    terminal::enter()?;
    input.resume();
    term.clear()?;
    match result {
        Ok(t) => app.replace_body(pane, &t),
        Err(e) => app.show_error("The editor failed", vec![e]),
    }
    Ok(())
}
