//! Every screen of the composer, drawn on ratatui's TestBackend at 80×24 and 120×40 and
//! compared with the accepted snapshots in tests/snapshots/. The app is driven through
//! its real handlers (keys, worker answers); only clocks and random ids are fixed.

use std::path::PathBuf;
use std::time::Duration;

use missive::engine::{SendError, SendReport};
use missive::message::{AttachmentSpec, Draft};
use missive::transport::{Progress, Stage, TransportError};
use missive::ui::app::{Action, App, SizeState};
use missive::ui::popups::Popup;
use missive::ui::testing::{app_with, engine, identity_engine, render, sample_draft};
use missive::ui::worker::{self, Event, Purpose};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn snap(name: &str, app: &App) {
    let term = render(app);
    let (w, h) = (app.screen.width, app.screen.height);
    insta::assert_snapshot!(format!("{name}_{w}x{h}"), term.backend());
}

/// Attachment files with fixed names and sizes.
fn files() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("agenda.pdf"), vec![b'%'; 48_213]).expect("write");
    std::fs::write(dir.path().join("회의록.txt"), "회의록\n".repeat(100)).expect("write");
    std::fs::write(dir.path().join("photo.jpg"), vec![0xffu8; 1_234_567]).expect("write");
    std::fs::write(dir.path().join(".hidden"), "x").expect("write");
    std::fs::create_dir(dir.path().join("reports")).expect("mkdir");
    dir
}

fn composer(w: u16, h: u16, dir: &std::path::Path) -> App {
    let mut d = sample_draft();
    d.attachments = vec![
        AttachmentSpec::new(dir.join("agenda.pdf")),
        AttachmentSpec::new(dir.join("회의록.txt")),
    ];
    let mut app = app_with(engine(), d, dir.to_path_buf(), w, h);
    app.size = SizeState::Known {
        bytes: 71_590,
        stale: false,
    };
    app
}

#[test]
fn composer_screen() {
    let dir = files();
    for (w, h) in SIZES {
        let app = composer(w, h, dir.path());
        snap("composer", &app);
    }
}

#[test]
fn composer_empty_with_invalid_recipient() {
    for (w, h) in SIZES {
        let mut app = app_with(engine(), Draft::default(), PathBuf::from("/"), w, h);
        app.handle_paste("bob@example.net, not an address");
        app.apply(Action::NextPane);
        snap("composer_invalid", &app);
    }
}

#[test]
fn picker_screen() {
    let dir = files();
    for (w, h) in SIZES {
        let mut app = composer(w, h, dir.path());
        app.apply(Action::OpenPicker);
        if let Some(Popup::Picker(p)) = app.popups.last_mut() {
            p.label = "~/mail/files".into();
        }
        snap("picker", &app);
        // Type to filter.
        app.handle_paste("pho");
        snap("picker_filtered", &app);
    }
}

#[test]
fn switcher_screen() {
    let dir = files();
    for (w, h) in SIZES {
        let mut app = composer(w, h, dir.path());
        app.apply(Action::OpenSwitcher);
        snap("switcher", &app);
    }
}

/// What the worker would answer, with the date and boundary fixed.
fn fixed_preview(
    app: &App,
    purpose: Purpose,
) -> (Box<missive::engine::Prepared>, worker::PreviewData) {
    let mut d = app.draft();
    d.message_id = Some("<fixed-id@example.com>".into());
    let p = app
        .engine
        .prepare(&d, Some(&app.transport))
        .expect("prepare");
    let mut data = worker::preview_data(&p, &d, purpose, 76);
    for (k, v) in &mut data.headers {
        if k == "Date" {
            *v = "Tue, 24 Nov 2026 12:00:00 +0000".into();
        }
        if k == "Content-Type" {
            if let Some(i) = v.find("boundary=") {
                v.truncate(i);
                v.push_str("boundary=\"BOUNDARY\"");
            }
        }
    }
    (Box::new(p), data)
}

#[test]
fn preview_screen() {
    let dir = files();
    for (w, h) in SIZES {
        let mut app = composer(w, h, dir.path());
        app.html = missive::ui::body::Body::new(
            "<h1>Agenda</h1><p>Budget and <b>timeline</b>.</p><ul><li>one</li><li>two</li></ul>",
        );
        app.apply(Action::OpenPreview);
        let id = match app.take_effects().pop() {
            Some(missive::ui::app::Effect::Worker(worker::Command::Prepare { id, .. })) => id,
            other => panic!("expected a Prepare command, got {other:?}"),
        };
        let (p, data) = fixed_preview(&app, Purpose::Preview);
        app.handle_worker(Event::Prepared {
            id,
            purpose: Purpose::Preview,
            result: Ok((p, Box::new(data))),
        });
        snap("preview", &app);
    }
}

fn confirm_app(w: u16, h: u16, dir: &std::path::Path) -> App {
    let mut app = composer(w, h, dir);
    app.apply(Action::Send);
    let id = match app.take_effects().pop() {
        Some(missive::ui::app::Effect::Worker(worker::Command::Prepare { id, .. })) => id,
        other => panic!("expected a Prepare command, got {other:?}"),
    };
    let (p, data) = fixed_preview(&app, Purpose::Confirm);
    app.handle_worker(Event::Prepared {
        id,
        purpose: Purpose::Confirm,
        result: Ok((p, Box::new(data))),
    });
    app
}

#[test]
fn confirm_screen() {
    let dir = files();
    for (w, h) in SIZES {
        let app = confirm_app(w, h, dir.path());
        snap("confirm", &app);
    }
}

fn sending_app(w: u16, h: u16, dir: &std::path::Path) -> (App, u64) {
    let mut app = confirm_app(w, h, dir);
    app.apply(Action::ConfirmSend);
    let id = app.sending.expect("a send in flight");
    app.take_effects();
    (app, id)
}

#[test]
fn progress_screen() {
    let dir = files();
    for (w, h) in SIZES {
        let (mut app, id) = sending_app(w, h, dir.path());
        app.handle_worker(Event::Progress {
            id,
            progress: Progress::Sending {
                sent: 29_000,
                total: 72_000,
            },
        });
        if let Some(Popup::Sending(s)) = app.popups.last_mut() {
            s.elapsed = Duration::from_millis(1_400);
        }
        snap("progress", &app);
    }
}

#[test]
fn receipt_screen() {
    let dir = files();
    for (w, h) in SIZES {
        let (mut app, id) = sending_app(w, h, dir.path());
        app.handle_worker(Event::Sent {
            id,
            message_id: "<fixed-id@example.com>".into(),
            result: Ok(SendReport {
                message_id: "<fixed-id@example.com>".into(),
                transport: "work".into(),
                kind: "smtp".into(),
                server_id: Some("4XyZ12".into()),
                thread_id: None,
                response: Some("250 2.0.0 Ok: queued as 4XyZ12".into()),
                path: None,
                recipients: vec![
                    "bob@example.net".into(),
                    "carol@example.org".into(),
                    "dave@example.com".into(),
                ],
                bytes: 71_590,
                copy: None,
            }),
        });
        snap("receipt", &app);
    }
}

#[test]
fn error_screen() {
    let dir = files();
    for (w, h) in SIZES {
        let (mut app, id) = sending_app(w, h, dir.path());
        app.handle_worker(Event::Sent {
            id,
            message_id: "<fixed-id@example.com>".into(),
            result: Err(SendError::Transport {
                error: TransportError {
                    stage: Stage::Auth,
                    transient: false,
                    user_fix: false,
                    code: Some(535),
                    message: "535 5.7.8 Authentication credentials invalid".into(),
                    uncertain: false,
                    delivered: Vec::new(),
                },
                outbox: Some(PathBuf::from(
                    "/home/ada/.local/share/missive/outbox/20261124T120000-1a2b3c4d.eml",
                )),
                outbox_error: None,
            }),
        });
        snap("error", &app);
    }
}

#[test]
fn help_screen() {
    for (w, h) in SIZES {
        let mut app = app_with(engine(), sample_draft(), PathBuf::from("/"), w, h);
        app.apply(Action::Help);
        snap("help", &app);
    }
}

#[test]
fn quit_prompt_screen() {
    let (w, h) = (80, 24);
    let mut app = app_with(engine(), sample_draft(), PathBuf::from("/"), w, h);
    app.handle_paste("x");
    app.apply(Action::Quit);
    snap("quit", &app);
}

#[test]
fn status_bar_warns_over_the_gmail_limit() {
    let mut app = app_with(engine(), sample_draft(), PathBuf::from("/"), 80, 24);
    app.apply(Action::SwitchTransport("gmail".into()));
    app.note = None;
    app.size = SizeState::Known {
        bytes: 40_000_000,
        stale: false,
    };
    snap("composer_over_limit", &app);
}

#[test]
fn suggestion_list_screen() {
    for (w, h) in SIZES {
        let mut app = app_with(engine(), Draft::default(), PathBuf::from("/"), w, h);
        let (book, aliases) = missive::ui::testing::sample_contacts();
        app.completion.book = Some(book);
        app.completion.aliases = Some(aliases);
        // Ten To recipients: the unfocused field says how many it cannot show.
        let to: Vec<String> = (1..=10).map(|i| format!("person{i}@example.com")).collect();
        app.handle_paste(&to.join(", "));
        app.apply(Action::Focus(missive::ui::app::Pane::Cc));
        app.handle_paste("carol@example.org, a");
        snap("suggestions", &app);
        app.handle_key(ratatui::crossterm::event::KeyEvent::from(
            ratatui::crossterm::event::KeyCode::Down,
        ));
        snap("suggestions_down", &app);
    }
}

#[test]
fn identity_picker_screen() {
    for (w, h) in SIZES {
        let mut app = app_with(identity_engine(), sample_draft(), PathBuf::from("/"), w, h);
        app.apply(Action::OpenIdentities);
        snap("identities", &app);
        // Down to "work": its Reply-To and three-line signature show below the list.
        app.handle_key(KeyEvent::new(KeyCode::Down, KeyModifiers::NONE));
        app.handle_key(KeyEvent::new(KeyCode::Down, KeyModifiers::NONE));
        snap("identities_work", &app);
        // Picked: the From row says who this is written as, the signature is in.
        app.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
        app.note = None;
        snap("identity_picked", &app);
    }
}

#[test]
fn send_warnings_screen() {
    for (w, h) in SIZES {
        let mut d = sample_draft();
        d.subject.clear();
        let mut app = app_with(engine(), d, PathBuf::from("/"), w, h);
        app.apply(Action::Send);
        let id = match app.take_effects().pop() {
            Some(missive::ui::app::Effect::Worker(worker::Command::Prepare { id, .. })) => id,
            other => panic!("expected a Prepare command, got {other:?}"),
        };
        let (p, data) = fixed_preview(&app, Purpose::Confirm);
        app.handle_worker(Event::Prepared {
            id,
            purpose: Purpose::Confirm,
            result: Ok((p, Box::new(data))),
        });
        snap("send_warnings", &app);
    }
}
