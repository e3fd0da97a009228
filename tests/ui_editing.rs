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
