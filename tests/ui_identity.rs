//! The composer's identity picker (Ctrl-F) and the warnings before a send, driven by keys
//! as the event loop drives them (no terminal).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use missive::config::Config;
use missive::engine::Engine;
use missive::message::{AttachmentSpec, Draft};
use missive::paths::Paths;
use missive::ui::app::{Action, App, Effect, Pane};
use missive::ui::popups::Popup;
use missive::ui::testing::{app_with, identity_engine, sample_draft, CONFIG, IDENTITIES};
use missive::ui::worker::Command;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

const WORK_SIG: &str = "Ada Lovelace\nAnalytical Engines Ltd.\n+44 20 7946 0000";

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

fn app(draft: Draft) -> App {
    app_with(identity_engine(), draft, PathBuf::from("/"), 100, 30)
}

/// Ctrl-F, then the identity's number in the list (home, lists, work).
fn pick(app: &mut App, n: char) {
    app.handle_key(ctrl('f'));
    assert!(
        matches!(app.top_popup(), Some(Popup::Identities(_))),
        "Ctrl-F opens the identity picker"
    );
    app.handle_key(key(KeyCode::Char(n)));
    assert!(app.top_popup().is_none(), "picking closes the picker");
}

#[test]
fn picking_sets_from_reply_to_transport_and_swaps_the_signature() {
    let mut app = app(sample_draft());
    let body = sample_draft().text.unwrap();
    pick(&mut app, '3');
    assert_eq!(app.identity.as_deref(), Some("work"));
    assert_eq!(
        app.field_text(Pane::From),
        "Ada Lovelace <ada@work.example>"
    );
    assert_eq!(app.transport, "work");
    assert_eq!(app.field_text(Pane::ReplyTo), "Team <team@work.example>");
    assert_eq!(
        app.draft().reply_to,
        vec!["Team <team@work.example>".to_string()]
    );
    assert_eq!(
        app.field_text(Pane::Text),
        format!("{body}\n\n-- \n{WORK_SIG}\n")
    );
    let d = app.draft();
    assert_eq!(d.from.as_deref(), Some("Ada Lovelace <ada@work.example>"));
    assert_eq!(d.identity.as_deref(), Some("work"));

    // The same identity again: nothing added.
    pick(&mut app, '3');
    assert_eq!(
        app.field_text(Pane::Text),
        format!("{body}\n\n-- \n{WORK_SIG}\n")
    );

    // Another one: its transport, From and signature; no Reply-To of its own.
    pick(&mut app, '1');
    assert_eq!(app.transport, "archive");
    assert_eq!(app.field_text(Pane::From), "에이다 <ada@home.example>");
    assert!(app.draft().reply_to.is_empty());
    assert_eq!(
        app.field_text(Pane::Text),
        format!("{body}\n\n-- \n— Ada\n")
    );

    // One without a signature takes it away; without a transport keeps the current one.
    pick(&mut app, '2');
    assert_eq!(app.field_text(Pane::Text), body);
    assert_eq!(app.transport, "archive");
    assert_eq!(app.field_text(Pane::From), "Ada L. <ada+lists@example.com>");

    // A transport switch afterwards keeps the picked From; the From row names the
    // identity.
    app.apply(Action::SwitchTransport("gmail".into()));
    assert_eq!(app.field_text(Pane::From), "Ada L. <ada+lists@example.com>");
    let screen = format!("{:?}", missive::ui::testing::render(&app).backend());
    assert!(screen.contains("as lists · via gmail (gmail)"), "{screen}");
}

#[test]
fn the_html_part_gets_the_signature_too_and_the_cursor_stays() {
    let mut d = sample_draft();
    d.html = Some("<html><body><p>Hi Bob</p></body></html>".into());
    let mut app = app(d);
    app.apply(Action::Focus(Pane::Text));
    pick(&mut app, '1');
    assert_eq!(
        app.field_text(Pane::Html),
        "<html><body><p>Hi Bob</p><div class=\"missive-signature\">-- <br>\n— Ada</div>\n</body></html>"
    );
    assert_eq!(
        app.text.cursor(),
        (0, 0),
        "the signature below does not move the cursor"
    );
    // The swap is one undo step in the body.
    app.handle_key(ctrl('z'));
    assert_eq!(app.field_text(Pane::Text), sample_draft().text.unwrap());
}

#[test]
fn escape_closes_the_picker_and_changes_nothing() {
    let mut app = app(sample_draft());
    let before = app.draft();
    app.handle_key(ctrl('f'));
    app.handle_key(key(KeyCode::Down));
    app.handle_key(key(KeyCode::Esc));
    assert!(app.top_popup().is_none());
    assert_eq!(app.draft(), before);
    assert!(!app.is_modified());
}

#[test]
fn a_failing_signature_command_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = Paths::at(dir.path().join("config"), dir.path().join("data"));
    let config = Config::parse(
        &format!("{CONFIG}{IDENTITIES}\n[identity.broken]\nfrom = \"b@example.com\"\nsignature_cmd = \"echo oops >&2; exit 3\"\n"),
        Path::new("/tmp/c.toml"),
        &paths,
    )
    .expect("config");
    let engine = Arc::new(Engine::new(paths, config));
    let mut app = app_with(engine, sample_draft(), PathBuf::from("/"), 100, 30);
    let before = app.draft();
    app.handle_key(ctrl('f'));
    app.handle_key(key(KeyCode::Char('1'))); // broken, home, lists, work
    let Some(Popup::Message(m)) = app.top_popup() else {
        panic!("an error is shown");
    };
    let shown = format!("{:?}", m.lines);
    assert!(shown.contains("exited with"), "{shown}");
    assert_eq!(app.draft(), before);
    assert_eq!(app.identity, None);
}

fn confirm_warnings(app: &mut App) -> Vec<String> {
    app.apply(Action::Send);
    let prepare = app
        .take_effects()
        .into_iter()
        .any(|e| matches!(e, Effect::Worker(Command::Prepare { .. })));
    assert!(prepare, "the send was not held back");
    match app.top_popup() {
        Some(Popup::Confirm(c)) => c.warnings.clone(),
        _ => panic!("no confirmation"),
    }
}

#[test]
fn warnings_before_sending_ask_but_do_not_block() {
    // The sample text says 첨부 (attached) and nothing is attached; the subject is empty.
    let mut d = sample_draft();
    d.subject.clear();
    let mut a = app(d);
    let w = confirm_warnings(&mut a);
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[0].contains("subject is empty"), "{w:?}");
    assert!(w[1].contains("첨부"), "{w:?}");

    // With a subject and the file attached: no warning.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("a.pdf"), b"%PDF").expect("write");
    let mut d = sample_draft();
    d.attachments = vec![AttachmentSpec::new(dir.path().join("a.pdf"))];
    let mut a = app(d);
    assert!(confirm_warnings(&mut a).is_empty());

    // A quoted 'attached' is someone else's word.
    let d = Draft {
        to: vec!["bob@example.net".into()],
        subject: "Re: slides".into(),
        text: Some("Thanks!\n\nOn Mon, Bob wrote:\n> the slides are attached\n".into()),
        ..Default::default()
    };
    let mut a = app(d);
    assert!(confirm_warnings(&mut a).is_empty());
}
