//! Editing the composer's fields as the event loop drives it: input handled in batches
//! (everything already read before the next frame), and undo / redo.

use std::collections::VecDeque;
use std::path::PathBuf;

use missive::message::Draft;
use missive::ui::app::{App, Effect, Pane};
use missive::ui::testing::{app_with, engine};
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ctrl(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn chars(s: &str) -> impl Iterator<Item = Event> + '_ {
    s.chars().map(|c| match c {
        '\n' => key(KeyCode::Enter),
        c => key(KeyCode::Char(c)),
    })
}

fn app_on(pane: Pane, text: &str) -> App {
    let d = Draft {
        to: vec!["bob@example.net".into()],
        subject: "s".into(),
        text: Some(text.into()),
        ..Default::default()
    };
    let mut app = app_with(engine(), d, PathBuf::from("/"), 80, 24);
    app.set_focus(pane);
    app
}

#[test]
fn a_batch_of_keys_types_in_order_across_fields() {
    let mut app = app_on(Pane::Subject, "");
    let mut evs: VecDeque<Event> = VecDeque::new();
    evs.extend(chars("회의 notes"));
    // Enter in a header field moves on; what follows goes into the body, line breaks and
    // all.
    evs.push_back(key(KeyCode::Enter));
    evs.extend(chars("첫 줄\n둘째 줄"));
    evs.push_back(key(KeyCode::Backspace));
    evs.extend(chars("!"));
    app.handle_events(&mut evs);
    assert!(evs.is_empty());
    let d = app.draft();
    assert_eq!(d.subject, "s회의 notes");
    assert_eq!(d.text.as_deref(), Some("첫 줄\n둘째 !"));
    assert_eq!(app.focus, Pane::Text);
}

#[test]
fn a_batch_stops_at_the_editor_and_keeps_the_rest() {
    let mut app = app_on(Pane::Text, "");
    let mut evs: VecDeque<Event> = chars("ab").collect();
    evs.push_back(ctrl('e'));
    evs.extend(chars("cd"));
    app.handle_events(&mut evs);
    assert_eq!(app.draft().text.as_deref(), Some("ab"));
    assert!(app
        .take_effects()
        .iter()
        .any(|e| matches!(e, Effect::Editor(Pane::Text))));
    assert_eq!(
        evs.len(),
        2,
        "the keys after Ctrl-E are left for the event loop"
    );
}

fn shift_ctrl_z() -> Event {
    Event::Key(KeyEvent::new(
        KeyCode::Char('Z'),
        KeyModifiers::CONTROL | KeyModifiers::SHIFT,
    ))
}

fn send(app: &mut App, evs: impl IntoIterator<Item = Event>) {
    for ev in evs {
        app.handle_event(ev);
    }
}

fn long_body(n: usize) -> String {
    (0..n)
        .map(|i| format!("{i:04} 다람쥐 헌 쳇바퀴에 타고파 — line of a long body"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn undo_of_a_paste_in_a_long_body_restores_it_in_one_step() {
    let body = long_body(1_000);
    let mut app = app_on(Pane::Text, &body);
    // Into the middle of the body, past where the old edit window ended.
    for _ in 0..600 {
        app.handle_event(key(KeyCode::Down));
    }
    let paste = long_body(300);
    app.handle_paste(&paste);
    assert_eq!(app.text.line_count(), 1_299);
    app.handle_event(ctrl('z'));
    assert_eq!(app.draft().text.as_deref(), Some(body.as_str()));
    assert_eq!(app.text.cursor(), (600, 0));
    // Redo puts it back, with Ctrl-R or Ctrl-Shift-Z.
    app.handle_event(ctrl('r'));
    assert_eq!(app.text.line_count(), 1_299);
    app.handle_event(ctrl('z'));
    app.handle_event(shift_ctrl_z());
    assert_eq!(app.text.line_count(), 1_299);
    // The same for a paste that arrived as keystrokes, in two batches.
    app.handle_event(ctrl('z'));
    let mut evs: VecDeque<Event> = chars("typed\npaste\n").collect();
    app.handle_events(&mut evs);
    let mut evs: VecDeque<Event> = chars("more of it").collect();
    app.handle_events(&mut evs);
    assert_ne!(app.draft().text.as_deref(), Some(body.as_str()));
    app.handle_event(ctrl('z'));
    assert_eq!(app.draft().text.as_deref(), Some(body.as_str()));
}

#[test]
fn undo_takes_back_typing_a_word_at_a_time() {
    let mut app = app_on(Pane::Text, "");
    send(&mut app, chars("안녕 hello world"));
    app.handle_event(ctrl('z'));
    assert_eq!(app.draft().text.as_deref(), Some("안녕 hello "));
    app.handle_event(ctrl('u'));
    assert_eq!(app.draft().text.as_deref(), Some("안녕 "));
    app.handle_event(ctrl('r'));
    assert_eq!(app.draft().text.as_deref(), Some("안녕 hello "));
    // Backspaces are undone as a run too.
    for _ in 0..6 {
        app.handle_event(key(KeyCode::Backspace));
    }
    assert_eq!(app.draft().text.as_deref(), Some("안녕 "));
    app.handle_event(ctrl('z'));
    assert_eq!(app.draft().text.as_deref(), Some("안녕 hello "));
    // Header fields undo too (their own history).
    app.set_focus(Pane::Subject);
    send(&mut app, chars("x"));
    app.handle_event(ctrl('z'));
    assert_eq!(app.draft().subject, "s");
}

#[test]
fn removing_an_attachment_can_be_undone_and_redone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = dir.path().join("a.pdf");
    let b = dir.path().join("b.txt");
    std::fs::write(&a, "a").expect("write");
    std::fs::write(&b, "b").expect("write");
    let mut app = app_on(Pane::Text, "");
    app.add_attachment(a.clone());
    app.add_attachment(b.clone());
    app.set_focus(Pane::Attachments);
    app.attachment_sel = 0;
    app.handle_event(key(KeyCode::Delete));
    let paths = |app: &App| -> Vec<PathBuf> {
        app.draft()
            .attachments
            .iter()
            .map(|s| s.path.clone())
            .collect()
    };
    assert_eq!(paths(&app), vec![b.clone()]);
    app.handle_event(ctrl('z'));
    // Back where it was, and selected.
    assert_eq!(paths(&app), vec![a.clone(), b.clone()]);
    assert_eq!(app.attachment_sel, 0);
    app.handle_event(ctrl('r'));
    assert_eq!(paths(&app), vec![b.clone()]);
    app.handle_event(ctrl('z'));
    // One more undo takes back attaching b.
    app.handle_event(ctrl('z'));
    assert_eq!(paths(&app), vec![a.clone()]);
    // Undo in the body does not touch the attachments.
    app.set_focus(Pane::Text);
    app.handle_event(ctrl('z'));
    assert_eq!(paths(&app), vec![a]);
}

#[test]
fn an_editor_round_trip_is_undone_in_one_step() {
    let body = long_body(500);
    let mut app = app_on(Pane::Text, &body);
    let mut lines: Vec<String> = body.lines().map(str::to_string).collect();
    lines[250] = "rewritten in the editor".into();
    lines.push("and a new last line".into());
    app.replace_body(Pane::Text, &format!("{}\n", lines.join("\n")));
    assert_eq!(app.draft().text, Some(lines.join("\n")));
    app.handle_event(ctrl('z'));
    assert_eq!(app.draft().text.as_deref(), Some(body.as_str()));
    app.handle_event(ctrl('r'));
    assert_eq!(app.draft().text, Some(lines.join("\n")));
}
