//! The composer's state machine driven by keys, clicks and worker answers, as the event
//! loop drives it (no terminal).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use missive::engine::SendReport;
use missive::message::Draft;
use missive::ui::app::{Action, App, DraftState, Effect, Pane, QuitKind};
use missive::ui::popups::Popup;
use missive::ui::testing::{app_with, engine, engine_at, sample_draft};
use missive::ui::worker::{Command, Event, Purpose};
use ratatui::crossterm::event::{
    Event as TermEvent, KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

fn typ(app: &mut App, s: &str) {
    for c in s.chars() {
        app.handle_key(key(KeyCode::Char(c)));
    }
}

fn empty_app() -> App {
    app_with(engine(), Draft::default(), PathBuf::from("/"), 80, 24)
}

fn top(app: &App) -> Option<&'static str> {
    app.top_popup().map(|p| p.name())
}

#[test]
fn tab_and_shift_tab_cycle_through_every_pane() {
    let mut app = empty_app();
    assert_eq!(app.focus, Pane::To);
    let mut seen = vec![app.focus];
    for _ in 0..9 {
        app.handle_key(key(KeyCode::Tab));
        seen.push(app.focus);
    }
    assert_eq!(
        seen,
        vec![
            Pane::To,
            Pane::Cc,
            Pane::Bcc,
            Pane::ReplyTo,
            Pane::Subject,
            Pane::Text,
            Pane::Html,
            Pane::Attachments,
            Pane::From,
            Pane::To
        ]
    );
    app.handle_key(key(KeyCode::BackTab));
    assert_eq!(app.focus, Pane::From);
    // Enter in a header field moves on; in a body it is a new line.
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.focus, Pane::To);
}

#[test]
fn typing_korean_into_fields_and_bodies() {
    let mut app = empty_app();
    typ(&mut app, "bob@example.net");
    app.handle_key(key(KeyCode::Enter)); // Cc
    app.handle_key(key(KeyCode::Enter)); // Bcc
    app.handle_key(key(KeyCode::Enter)); // Reply-To
    app.handle_key(key(KeyCode::Enter)); // Subject
    typ(&mut app, "안녕하세요");
    app.handle_key(key(KeyCode::Backspace));
    typ(&mut app, "요!");
    app.handle_key(key(KeyCode::Tab));
    typ(&mut app, "첫 줄");
    app.handle_key(key(KeyCode::Enter));
    typ(&mut app, "둘째 줄");
    let d = app.draft();
    assert_eq!(d.to, vec!["bob@example.net"]);
    assert_eq!(d.subject, "안녕하세요!");
    assert_eq!(d.text.as_deref(), Some("첫 줄\n둘째 줄"));
    // Undo (Ctrl-Z as well as the textarea's Ctrl-U) and redo.
    app.handle_key(ctrl('z'));
    assert_ne!(app.draft().text.as_deref(), Some("첫 줄\n둘째 줄"));
    app.handle_key(ctrl('r'));
    assert_eq!(app.draft().text.as_deref(), Some("첫 줄\n둘째 줄"));
}

#[test]
fn invalid_recipient_is_marked_when_leaving_and_cleared_when_fixed() {
    let mut app = empty_app();
    typ(&mut app, "bob@example.net, nope");
    assert!(app.invalid_reason(Pane::To).is_none(), "not while typing");
    app.handle_key(key(KeyCode::Tab));
    let reason = app.invalid_reason(Pane::To).expect("marked");
    assert!(reason.contains("nope"), "{reason}");
    app.handle_key(key(KeyCode::BackTab));
    typ(&mut app, "@example.org");
    assert!(app.invalid_reason(Pane::To).is_none());
}

#[test]
fn send_refuses_without_recipient_and_focuses_to() {
    let mut app = empty_app();
    app.set_focus(Pane::Text);
    app.handle_key(ctrl('y'));
    assert_eq!(top(&app), Some("error"));
    assert_eq!(app.focus, Pane::To);
    assert!(app.take_effects().is_empty(), "nothing goes to the worker");
    app.handle_key(key(KeyCode::Esc));
    assert_eq!(top(&app), None);
}

#[test]
fn send_confirms_then_sends_once_and_shows_the_receipt() {
    let mut app = app_with(engine(), sample_draft(), PathBuf::from("/"), 80, 24);
    app.handle_key(ctrl('y'));
    assert_eq!(top(&app), Some("confirm"));
    let (id, draft, transport) = match app.take_effects().pop() {
        Some(Effect::Worker(Command::Prepare {
            id,
            purpose: Purpose::Confirm,
            draft,
            transport,
            ..
        })) => (id, draft, transport),
        other => panic!("expected Prepare, got {other:?}"),
    };
    assert_eq!(transport, "work");
    // Enter before the message is built does nothing.
    app.handle_key(key(KeyCode::Enter));
    assert!(app.take_effects().is_empty());
    let p = app
        .engine
        .prepare(&draft, Some(&transport))
        .expect("prepare");
    let data = missive::ui::worker::preview_data(&p, &draft, Purpose::Confirm, 76);
    app.handle_worker(Event::Prepared {
        id,
        purpose: Purpose::Confirm,
        result: Ok((Box::new(p), Box::new(data))),
    });
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(top(&app), Some("progress"));
    let send_id = match app.take_effects().pop() {
        Some(Effect::Worker(Command::Send { id, .. })) => id,
        other => panic!("expected Send, got {other:?}"),
    };
    // A second Ctrl-Y while sending is ignored, and so is quitting.
    app.handle_key(ctrl('y'));
    app.apply(Action::Send);
    app.apply(Action::Quit);
    assert!(app.take_effects().is_empty());
    assert!(app.quit.is_none());
    // A stale answer is dropped.
    app.handle_worker(Event::Sent {
        id: send_id + 100,
        result: Err(missive::engine::SendError::Input(
            missive::engine::InputError::Other("stale".into()),
        )),
        message_id: "<x@y>".into(),
    });
    assert_eq!(top(&app), Some("progress"));
    app.handle_worker(Event::Sent {
        id: send_id,
        message_id: "<m@example.com>".into(),
        result: Ok(SendReport {
            message_id: "<m@example.com>".into(),
            transport: "work".into(),
            kind: "smtp".into(),
            server_id: Some("Q1".into()),
            thread_id: None,
            response: None,
            path: None,
            recipients: vec!["bob@example.net".into()],
            bytes: 100,
            copy: None,
        }),
    });
    assert_eq!(top(&app), Some("receipt"));
    let effects = app.take_effects();
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Worker(Command::RemoveDraft { .. }))),
        "the sent draft is removed: {effects:?}"
    );
    // The composer starts a new message.
    assert!(app.draft().to.is_empty());
    assert_eq!(app.draft().subject, "");
}

#[test]
fn failed_send_keeps_everything_and_the_message_id() {
    let mut app = app_with(engine(), sample_draft(), PathBuf::from("/"), 80, 24);
    let before = app.draft();
    app.sending = Some(42);
    app.handle_worker(Event::Sent {
        id: 42,
        message_id: "<keep@example.com>".into(),
        result: Err(missive::engine::SendError::Transport {
            error: missive::transport::TransportError::new(
                missive::transport::Stage::Connect,
                true,
                "refused",
            ),
            outbox: Some(PathBuf::from("/tmp/outbox/x.eml")),
            outbox_error: None,
        }),
    });
    assert_eq!(top(&app), Some("error"));
    let after = app.draft();
    assert_eq!(after.subject, before.subject);
    assert_eq!(after.text, before.text);
    assert_eq!(after.to, before.to);
    assert_eq!(after.message_id.as_deref(), Some("<keep@example.com>"));
    assert_eq!(app.failed_outbox, Some(PathBuf::from("/tmp/outbox/x.eml")));
}

#[test]
fn from_follows_the_transport_unless_edited() {
    let mut app = empty_app();
    assert_eq!(app.field_text(Pane::From), "Ada Lovelace <ada@example.com>");
    app.handle_key(ctrl('t'));
    assert_eq!(top(&app), Some("switcher"));
    // The switcher lists transports by name: archive is first.
    app.handle_key(key(KeyCode::Home));
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.transport, "archive");
    assert_eq!(
        app.field_text(Pane::From),
        "Ada Archive <ada@archive.example>"
    );
    assert_eq!(app.draft().from, None, "not typed: the engine resolves it");
    // Edit From, then switch: it stays.
    app.set_focus(Pane::From);
    app.handle_key(key(KeyCode::End));
    for _ in 0..40 {
        app.handle_key(key(KeyCode::Backspace));
    }
    typ(&mut app, "me@mine.example");
    app.apply(Action::SwitchTransport("work".into()));
    assert_eq!(app.transport, "work");
    assert_eq!(app.field_text(Pane::From), "me@mine.example");
    assert_eq!(app.draft().from.as_deref(), Some("me@mine.example"));
}

#[test]
fn picker_filters_adds_and_delete_removes() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("report.pdf"), b"%PDF").expect("write");
    std::fs::write(dir.path().join("notes.txt"), b"n").expect("write");
    std::fs::write(dir.path().join(".secret"), b"s").expect("write");
    std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
    std::fs::write(dir.path().join("sub/deep.png"), b"png").expect("write");
    let mut app = app_with(engine(), Draft::default(), dir.path().to_path_buf(), 80, 24);
    app.handle_key(ctrl('o'));
    assert_eq!(top(&app), Some("picker"));
    let names = |app: &App| -> Vec<String> {
        match app.top_popup() {
            Some(Popup::Picker(p)) => p
                .visible
                .iter()
                .map(|&i| p.entries[i].name.clone())
                .collect(),
            _ => Vec::new(),
        }
    };
    assert_eq!(names(&app), vec!["..", "sub", "notes.txt", "report.pdf"]);
    // Hidden files toggle.
    app.handle_key(KeyEvent::new(KeyCode::Char('h'), KeyModifiers::ALT));
    assert!(names(&app).contains(&".secret".to_string()));
    app.handle_key(KeyEvent::new(KeyCode::Char('h'), KeyModifiers::ALT));
    // Fuzzy filter.
    typ(&mut app, "rpt");
    assert_eq!(names(&app), vec!["report.pdf"]);
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(top(&app), None);
    assert_eq!(app.attachments.len(), 1);
    assert_eq!(app.attachments[0].mime, "application/pdf");
    assert_eq!(app.attachments[0].size, Some(4));
    // Into a directory, up again with Backspace, then into it and add.
    app.handle_key(ctrl('o'));
    typ(&mut app, "sub");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(names(&app), vec!["..", "deep.png"]);
    app.handle_key(key(KeyCode::Backspace));
    assert!(names(&app).contains(&"report.pdf".to_string()));
    typ(&mut app, "sub");
    app.handle_key(key(KeyCode::Enter));
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.attachments.len(), 2);
    assert_eq!(app.attachments[1].name, "deep.png");
    // Delete in the Attachments pane removes the selected one.
    app.set_focus(Pane::Attachments);
    app.handle_key(key(KeyCode::Up));
    app.handle_key(key(KeyCode::Delete));
    assert_eq!(app.attachments.len(), 1);
    assert_eq!(app.attachments[0].name, "deep.png");
    // Esc closes the picker without adding.
    app.handle_key(ctrl('o'));
    app.handle_key(key(KeyCode::Esc));
    assert_eq!(app.attachments.len(), 1);
}

#[test]
fn paste_into_a_recipient_field_joins_lines() {
    let mut app = empty_app();
    app.handle_event(TermEvent::Paste("a@example.com\nb@example.com\n".into()));
    assert_eq!(app.field_text(Pane::To), "a@example.com, b@example.com");
    app.set_focus(Pane::Text);
    app.handle_event(TermEvent::Paste("line 1\r\nline 2".into()));
    assert_eq!(app.draft().text.as_deref(), Some("line 1\nline 2"));
}

#[test]
fn mouse_click_focuses_the_pane_under_it() {
    let mut app = empty_app();
    let click = |col, row| {
        TermEvent::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: col,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    app.handle_event(click(20, 4));
    assert_eq!(app.focus, Pane::ReplyTo);
    app.handle_event(click(20, 5));
    assert_eq!(app.focus, Pane::Subject);
    app.handle_event(click(10, 8));
    assert_eq!(app.focus, Pane::Text);
    app.handle_event(click(10, 21));
    assert_eq!(app.focus, Pane::Attachments);
    app.handle_event(click(5, 0));
    assert_eq!(app.focus, Pane::From);
    // The "via transport" tag at the right of the From row opens the switcher.
    app.handle_event(click(75, 0));
    assert_eq!(top(&app), Some("switcher"));
}

#[test]
fn autosave_is_debounced_and_bounded() {
    let data = tempfile::tempdir().expect("tempdir");
    let mut app = app_with(
        engine_at(data.path()),
        Draft::default(),
        PathBuf::from("/"),
        80,
        24,
    );
    let saves = |app: &mut App| {
        app.take_effects()
            .into_iter()
            .filter(|e| matches!(e, Effect::Worker(Command::SaveDraft { .. })))
            .count()
    };
    // Nothing typed: nothing saved.
    app.tick(Instant::now() + Duration::from_secs(5));
    assert_eq!(saves(&mut app), 0);
    typ(&mut app, "bob@example.net");
    let t0 = Instant::now();
    app.tick(t0);
    assert_eq!(saves(&mut app), 0, "not while typing");
    app.tick(t0 + Duration::from_millis(1_900));
    assert_eq!(saves(&mut app), 1, "within 2 s of the last keystroke");
    assert_eq!(app.draft_state, DraftState::Saving);
    app.tick(t0 + Duration::from_secs(10));
    assert_eq!(saves(&mut app), 0, "nothing new to save");
    // The worker's answer marks it saved; Ctrl-S saves at once.
    app.handle_worker(Event::DraftSaved {
        gen: app.edit_gen,
        result: Ok(data.path().join("x.json")),
    });
    assert!(matches!(app.draft_state, DraftState::Saved(_)));
    typ(&mut app, "x");
    app.handle_key(ctrl('s'));
    assert_eq!(saves(&mut app), 1);
}

#[test]
fn quit_asks_only_when_something_was_typed() {
    let mut app = empty_app();
    app.handle_key(ctrl('q'));
    assert_eq!(app.quit, Some(QuitKind::Clean));

    let mut app = empty_app();
    typ(&mut app, "x");
    app.handle_key(ctrl('q'));
    assert_eq!(top(&app), Some("quit"));
    app.handle_key(key(KeyCode::Esc));
    assert_eq!(top(&app), None);
    assert!(app.quit.is_none());
    app.handle_key(ctrl('q'));
    app.handle_key(key(KeyCode::Char('d')));
    assert_eq!(app.quit, Some(QuitKind::Discard));

    let mut app = empty_app();
    typ(&mut app, "x");
    app.handle_key(ctrl('q'));
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.quit, Some(QuitKind::Save));
}

#[test]
fn help_preview_and_editor_keys() {
    let mut app = empty_app();
    app.handle_key(key(KeyCode::F(1)));
    assert_eq!(top(&app), Some("help"));
    app.handle_key(key(KeyCode::PageDown));
    app.handle_key(key(KeyCode::Esc));
    assert_eq!(top(&app), None);
    app.handle_key(ctrl('p'));
    assert_eq!(top(&app), Some("preview"));
    assert!(matches!(
        app.take_effects().pop(),
        Some(Effect::Worker(Command::Prepare {
            purpose: Purpose::Preview,
            ..
        }))
    ));
    app.handle_key(key(KeyCode::Esc));
    // Ctrl-E from a header field edits the text body.
    app.handle_key(ctrl('e'));
    assert!(matches!(
        app.take_effects().pop(),
        Some(Effect::Editor(Pane::Text))
    ));
    app.replace_body(Pane::Text, "from the editor\n");
    assert_eq!(app.draft().text.as_deref(), Some("from the editor"));
}

#[test]
fn resume_offer_opens_the_draft() {
    let data = tempfile::tempdir().expect("tempdir");
    let engine = engine_at(data.path());
    let mut saved = sample_draft();
    saved.subject = "half written".into();
    engine
        .drafts()
        .save("20260101-000000-aaaa", Some("archive"), &saved)
        .expect("save");
    let offer = engine.drafts().list().into_iter().next();
    let mut app = App::new(
        engine,
        missive::ui::app::Init {
            draft: Draft::default(),
            draft_id: "new".into(),
            reopened: false,
            transport: None,
            cwd: PathBuf::from("/"),
            offer,
        },
    );
    assert_eq!(top(&app), Some("resume"));
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(top(&app), None);
    assert_eq!(app.draft_id, "20260101-000000-aaaa");
    assert_eq!(app.transport, "archive");
    assert_eq!(app.draft().subject, "half written");
    assert!(!app.is_modified());
}

#[test]
fn start_from_flags_mailto_and_a_saved_draft() {
    use missive::args::MessageArgs;
    let data = tempfile::tempdir().expect("tempdir");
    let engine = engine_at(data.path());
    let args = MessageArgs {
        cc: vec!["x@example.com".into()],
        ..Default::default()
    };
    let init = missive::ui::initial(
        &engine,
        &args,
        None,
        Some("mailto:a@b.example?subject=%ED%9A%8C%EC%9D%98&body=hello%0Aworld"),
    )
    .expect("initial");
    assert_eq!(init.draft.to, vec!["a@b.example"]);
    assert_eq!(init.draft.cc, vec!["x@example.com"]);
    assert_eq!(init.draft.subject, "회의");
    assert_eq!(init.draft.text.as_deref(), Some("hello\nworld"));
    assert!(init.offer.is_none(), "a prefilled composer offers no draft");

    // An empty start offers the newest draft; --draft ID reopens one.
    engine
        .drafts()
        .save("20260101-000000-bbbb", Some("local"), &sample_draft())
        .expect("save");
    let init = missive::ui::initial(&engine, &MessageArgs::default(), None, None).expect("init");
    assert_eq!(
        init.offer.map(|o| o.id).as_deref(),
        Some("20260101-000000-bbbb")
    );
    let init = missive::ui::initial(
        &engine,
        &MessageArgs::default(),
        Some("20260101-000000-bbbb"),
        None,
    )
    .expect("reopen");
    assert!(init.reopened);
    assert_eq!(init.transport.as_deref(), Some("local"));
    assert_eq!(init.draft.subject, sample_draft().subject);
    assert!(missive::ui::initial(&engine, &MessageArgs::default(), Some("nope"), None).is_err());
}

/// The worker on a real runtime: measure, prepare, save a draft, send through the
/// built-in file transport, and drop the outbox copy of an earlier failed attempt.
#[test]
fn worker_measures_prepares_saves_and_sends() {
    let data = tempfile::tempdir().expect("tempdir");
    let engine = engine_at(data.path());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut w = missive::ui::worker::spawn(engine.clone());
        let mut draft = sample_draft();
        // The composer gives a message its Message-ID before the first build.
        draft.message_id = Some("<worker-test@example.com>".into());

        w.tx.send(Command::Measure {
            id: 1,
            draft: Box::new(draft.clone()),
            transport: "file".into(),
        })
        .expect("send");
        match next(&mut w.rx).await {
            Event::Measured { id: 1, result } => assert!(result.expect("size") > 100),
            other => panic!("expected Measured, got {other:?}"),
        }

        w.tx.send(Command::SaveDraft {
            gen: 7,
            id: "20260101-000000-cccc".into(),
            transport: Some("file".into()),
            draft: Box::new(draft.clone()),
        })
        .expect("send");
        match next(&mut w.rx).await {
            Event::DraftSaved { gen: 7, result } => assert!(result.expect("saved").exists()),
            other => panic!("expected DraftSaved, got {other:?}"),
        }

        // An outbox copy left by an earlier failed attempt of this message.
        let prepared = engine.prepare(&draft, Some("file")).expect("prepare");
        let meta = missive::outbox::OutboxMeta {
            transport: "file".into(),
            kind: "file".into(),
            envelope: prepared.built.envelope.clone(),
            message_id: prepared.built.message_id.clone(),
            subject: draft.subject.clone(),
            created: "2026-01-01T00:00:00+00:00".into(),
            attempts: 1,
            last_attempt: "2026-01-01T00:00:00+00:00".into(),
            last_error: "connecting failed".into(),
            ..Default::default()
        };
        let old = engine
            .outbox()
            .put(&prepared.built.raw, &meta)
            .expect("outbox");
        assert_eq!(engine.outbox().list().len(), 1);

        w.tx.send(Command::Prepare {
            id: 2,
            purpose: Purpose::Confirm,
            draft: Box::new(draft.clone()),
            transport: "file".into(),
            width: 76,
        })
        .expect("send");
        let p = match next(&mut w.rx).await {
            Event::Prepared {
                id: 2,
                result: Ok((p, data)),
                ..
            } => {
                assert_eq!(data.transport, "file");
                assert!(
                    data.tree[0].starts_with("multipart/alternative")
                        || data.tree[0].starts_with("text/plain"),
                    "{:?}",
                    data.tree
                );
                p
            }
            other => panic!("expected Prepared, got {other:?}"),
        };
        let message_id = p.built.message_id.clone();
        w.tx.send(Command::Send { id: 3, prepared: p })
            .expect("send");
        let mut saw_progress = false;
        loop {
            match next(&mut w.rx).await {
                Event::Progress { id: 3, .. } => saw_progress = true,
                Event::Sent {
                    id: 3,
                    result,
                    message_id: mid,
                } => {
                    let r = result.expect("sent");
                    assert_eq!(r.message_id, message_id);
                    assert_eq!(mid, message_id);
                    assert!(r.path.as_ref().is_some_and(|p| p.exists()));
                    break;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(saw_progress, "progress was reported");
        assert!(
            engine.outbox().list().is_empty(),
            "the failed attempt's copy is gone"
        );
        assert!(!old.exists());
    });
}

async fn next(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Event>) -> Event {
    tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .expect("an answer in time")
        .expect("the worker is alive")
}

#[test]
fn a_failed_draft_write_is_retried_later_not_in_a_loop() {
    let mut app = empty_app();
    typ(&mut app, "x");
    app.handle_key(ctrl('s'));
    let gen = app.edit_gen;
    app.take_effects();
    app.handle_worker(Event::DraftSaved {
        gen,
        result: Err("read-only file system".into()),
    });
    assert!(matches!(app.draft_state, DraftState::Failed(_)));
    assert!(app.unsaved());
    let now = Instant::now();
    app.tick(now);
    assert!(
        !app.take_effects()
            .iter()
            .any(|e| matches!(e, Effect::Worker(Command::SaveDraft { .. }))),
        "no immediate retry"
    );
    app.tick(now + Duration::from_secs(2));
    assert!(
        !app.take_effects()
            .iter()
            .any(|e| matches!(e, Effect::Worker(Command::SaveDraft { .. }))),
        "no retry within 2 s"
    );
    app.tick(now + Duration::from_secs(6));
    assert!(app
        .take_effects()
        .iter()
        .any(|e| matches!(e, Effect::Worker(Command::SaveDraft { .. }))));
}

/// Issue 8: a file whose name is not UTF-8 is attached as the file it is (its size is
/// known, the path exists), not as a "missing" file under its lossy display name.
#[test]
fn picker_attaches_a_non_utf8_file_name_as_the_os_has_it() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let latin1 = dir.path().join(std::ffi::OsStr::from_bytes(b"caf\xe9.txt"));
    std::fs::write(&latin1, b"latin-1").expect("write");
    let mut app = app_with(engine(), Draft::default(), dir.path().to_path_buf(), 80, 24);
    app.handle_key(ctrl('o'));
    typ(&mut app, "caf");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(top(&app), None);
    assert_eq!(app.attachments.len(), 1);
    assert_eq!(app.attachments[0].spec.path, latin1);
    assert_eq!(app.attachments[0].size, Some(7));
    assert_eq!(app.draft().attachments[0].path, latin1);
}
