//! Completion in the recipient fields, driven through the app's real handlers: the list
//! for the entry under the cursor, its keys, the address book asked through the worker
//! (never on the UI loop) and merged when it answers, and alias nicks as addresses.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use missive::config::Config;
use missive::contacts::{Contact, Source};
use missive::engine::Engine;
use missive::message::Draft;
use missive::paths::Paths;
use missive::ui::app::{Action, App, Effect, Pane};
use missive::ui::complete::{ContactsCmd, ContactsEvent};
use missive::ui::testing::{app_with, engine, sample_contacts};
use missive::ui::worker::{Command, Event};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn typ(app: &mut App, s: &str) {
    for c in s.chars() {
        app.handle_key(key(KeyCode::Char(c)));
    }
}

fn app_on(engine: Arc<Engine>) -> App {
    let mut app = app_with(engine, Draft::default(), PathBuf::from("/"), 80, 24);
    let (book, aliases) = sample_contacts();
    app.handle_worker(Event::Contacts(ContactsEvent::Loaded(Ok((book, aliases)))));
    app
}

fn shown(app: &App) -> Vec<String> {
    app.completion
        .visible(app.focus)
        .map(|l| l.items.iter().map(|c| c.entry()).collect())
        .unwrap_or_default()
}

#[test]
fn the_list_follows_the_entry_and_its_keys_work() {
    let mut app = app_on(engine());
    assert_eq!(app.focus, Pane::To);
    typ(&mut app, "kar");
    assert_eq!(shown(&app)[0], "Anna Karenina <anna@example.ru>");
    // Down, Up wrap around; Tab takes the chosen one and readies the next entry.
    app.handle_key(key(KeyCode::Up));
    let n = shown(&app).len();
    assert_eq!(app.completion.list.as_ref().unwrap().selected, n - 1);
    app.handle_key(key(KeyCode::Down));
    app.handle_key(key(KeyCode::Tab));
    assert_eq!(app.focus, Pane::To, "Tab accepted, it did not move on");
    assert_eq!(
        app.field_text(Pane::To),
        "Anna Karenina <anna@example.ru>, "
    );
    assert!(shown(&app).is_empty());

    // The second entry: a Korean name, accepted with Enter.
    typ(&mut app, "하나");
    assert_eq!(shown(&app)[0], "김하나 <hana@example.kr>");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(
        app.field_text(Pane::To),
        "Anna Karenina <anna@example.ru>, 김하나 <hana@example.kr>, "
    );

    // Esc closes; typing on opens it again.
    typ(&mut app, "d");
    assert!(!shown(&app).is_empty());
    app.handle_key(key(KeyCode::Esc));
    assert!(shown(&app).is_empty());
    app.handle_key(key(KeyCode::Down));
    assert_eq!(app.focus, Pane::Cc, "with the list closed, Down moves on");
    app.apply(Action::Focus(Pane::To));
    typ(&mut app, "a");
    assert!(shown(&app).contains(&"Dan Abramov <dan@example.org>".to_string()));
    // Who is already in the field is not offered again.
    assert!(!shown(&app).iter().any(|e| e.contains("anna@example.ru")));

    // The cursor back in a finished entry: nothing to offer there.
    app.handle_key(key(KeyCode::Home));
    assert!(shown(&app).is_empty(), "{:?}", shown(&app));
}

#[test]
fn a_typed_known_address_lets_enter_move_on() {
    let mut app = app_on(engine());
    typ(&mut app, "carol@example.org");
    assert!(shown(&app).is_empty(), "{:?}", shown(&app));
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.focus, Pane::Cc);
}

#[test]
fn alias_nicks_are_addresses_in_the_composer() {
    let mut app = app_on(engine());
    typ(&mut app, "team");
    assert!(shown(&app).iter().any(|e| e.contains("bob@example.net")));
    app.handle_key(key(KeyCode::Esc));
    app.apply(Action::Focus(Pane::Subject));
    assert_eq!(
        app.invalid_reason(Pane::To),
        None,
        "a nick is not an invalid address"
    );
    assert_eq!(app.draft().to, ["team"], "the draft keeps what was typed");
    app.apply(Action::Focus(Pane::Cc));
    typ(&mut app, "nobody");
    app.handle_key(key(KeyCode::Esc));
    app.apply(Action::Focus(Pane::Subject));
    assert!(app.invalid_reason(Pane::Cc).is_some());
}

fn engine_with_book(dir: &Path) -> Arc<Engine> {
    let paths = Paths::at(dir.join("config"), dir.join("data"));
    let config = Config::parse(
        "address_book_cmd = \"khard email --parsable %s\"\n",
        &dir.join("config.toml"),
        &paths,
    )
    .expect("config");
    Arc::new(Engine::new(paths, config))
}

#[test]
fn the_address_book_is_asked_off_the_loop_and_merged_when_it_answers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = app_on(engine_with_book(dir.path()));
    app.take_effects();
    typ(&mut app, "do");
    // The local matches show at once; the command was handed to the worker, newest last.
    let list = app.completion.list.clone().expect("a list");
    assert!(list.waiting);
    assert!(list.items.iter().any(|c| c.address == "bob@example.net"));
    let asked: Vec<(u64, String)> = app
        .take_effects()
        .into_iter()
        .filter_map(|e| match e {
            Effect::Worker(Command::Contacts(ContactsCmd::Query { id, query })) => {
                Some((id, query))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        asked.iter().map(|a| a.1.as_str()).collect::<Vec<_>>(),
        ["d", "do"]
    );
    let (id, query) = asked[1].clone();
    app.handle_worker(Event::Contacts(ContactsEvent::Answer {
        id,
        query,
        result: Ok(vec![Contact::new(
            Some("Dora Explorer".into()),
            "dora@book.example".into(),
            Source::AddressBook,
        )]),
    }));
    let list = app.completion.list.clone().expect("a list");
    assert!(!list.waiting);
    assert!(
        list.items.iter().any(|c| c.address == "dora@book.example"),
        "{list:?}"
    );
    // Asked once per text: Backspace and retyping use the answer already given.
    app.handle_key(key(KeyCode::Backspace));
    app.take_effects();
    typ(&mut app, "o");
    assert!(app.take_effects().is_empty());
    // A failing command is said under the list; the local matches stay.
    typ(&mut app, "x");
    let (id, query) = match app.take_effects().pop() {
        Some(Effect::Worker(Command::Contacts(ContactsCmd::Query { id, query }))) => (id, query),
        other => panic!("{other:?}"),
    };
    app.handle_worker(Event::Contacts(ContactsEvent::Answer {
        id,
        query,
        result: Err("address_book_cmd did not finish within 5s (killed)".into()),
    }));
    if let Some(l) = &app.completion.list {
        assert!(l
            .error
            .as_deref()
            .is_some_and(|e| e.contains("did not finish")));
    }
}

#[test]
fn reply_to_is_a_field() {
    let mut app = app_on(engine());
    app.apply(Action::Focus(Pane::ReplyTo));
    typ(&mut app, "team@example.com");
    assert_eq!(app.draft().reply_to, ["team@example.com"]);
    app.set_reply_to(&["a@example.com".into(), "b@example.com".into()]);
    assert_eq!(
        app.field_text(Pane::ReplyTo),
        "a@example.com, b@example.com"
    );
    let d = Draft {
        reply_to: vec!["c@example.com".into()],
        ..Default::default()
    };
    app.load_draft(&d);
    assert_eq!(app.field_text(Pane::ReplyTo), "c@example.com");
}

/// A click on a suggestion takes it, as Enter would.
#[test]
fn a_click_on_a_suggestion_accepts_it() {
    use ratatui::crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let mut app = app_on(engine());
    typ(&mut app, "a");
    let items = shown(&app);
    assert!(items.len() >= 2, "{items:?}");
    let want = items[1].clone();
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
    term.draw(|f| missive::ui::view::draw(f, &app)).unwrap();
    let buf = term.backend().buffer().clone();
    let row_text =
        |y: u16| -> String { (0..80).map(|x| buf[(x, y)].symbol().to_string()).collect() };
    let (row, col) = (0..24u16)
        .find_map(|y| {
            let t = row_text(y);
            let name = want.split(" <").next().unwrap();
            t.find(name).map(|i| (y, t[..i].chars().count() as u16))
        })
        .unwrap_or_else(|| panic!("{want} is not on screen"));
    let click = |column: u16, row: u16| MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column,
        row,
        modifiers: KeyModifiers::NONE,
    };
    app.handle_mouse(click(col, row));
    assert_eq!(app.field_text(Pane::To), format!("{want}, "));
    assert_eq!(app.focus, Pane::To);
    assert!(shown(&app).is_empty(), "the list closed");
}
