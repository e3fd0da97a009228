use std::time::{Duration, Instant};

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn typ(b: &mut Body, s: &str) {
    let now = Instant::now();
    for c in s.chars() {
        b.input(
            key(if c == '\n' {
                KeyCode::Enter
            } else {
                KeyCode::Char(c)
            }),
            now,
        );
    }
}

#[test]
fn text_round_trips_and_counts_lines() {
    let b = Body::new("a\nb\n");
    assert_eq!(b.text(), "a\nb\n");
    assert_eq!(b.line_count(), 3);
    assert!(Body::new("").is_empty());
    // CRLF becomes LF; other control characters stay as typed.
    assert_eq!(Body::new("a\r\nb\x0cc").text(), "a\nb\x0cc");
    assert_eq!(Body::new("a\r\nb\x0cc").line_count(), 2);
}

#[test]
fn typing_moving_and_deleting_with_korean() {
    let mut b = Body::new("");
    typ(&mut b, "다람쥐 헌\n쳇바퀴");
    assert_eq!(b.text(), "다람쥐 헌\n쳇바퀴");
    assert_eq!(b.cursor(), (1, 3));
    let now = Instant::now();
    b.input(key(KeyCode::Up), now);
    // Up keeps the display column: 6 cells is after the third syllable.
    assert_eq!(b.cursor(), (0, 3));
    b.input(key(KeyCode::Backspace), now);
    assert_eq!(b.text(), "다람 헌\n쳇바퀴");
    b.input(key(KeyCode::End), now);
    b.input(key(KeyCode::Delete), now);
    assert_eq!(b.text(), "다람 헌쳇바퀴");
    b.input(
        KeyEvent::new(KeyCode::Char('a'), KeyModifiers::CONTROL),
        now,
    );
    assert_eq!(b.cursor(), (0, 0));
    b.input(
        KeyEvent::new(KeyCode::Char('k'), KeyModifiers::CONTROL),
        now,
    );
    assert_eq!(b.text(), "");
    // What Ctrl-K took comes back with Ctrl-V.
    b.input(
        KeyEvent::new(KeyCode::Char('v'), KeyModifiers::CONTROL),
        now,
    );
    assert_eq!(b.text(), "다람 헌쳇바퀴");
}

#[test]
fn shift_arrows_select_and_typing_replaces_the_selection() {
    let mut b = Body::new("hello world");
    let now = Instant::now();
    b.input(KeyEvent::new(KeyCode::End, KeyModifiers::SHIFT), now);
    for _ in 0..6 {
        b.input(KeyEvent::new(KeyCode::Left, KeyModifiers::SHIFT), now);
    }
    assert_eq!(b.selection(), Some(0..5));
    typ(&mut b, "bye");
    assert_eq!(b.text(), "bye world");
    assert_eq!(b.selection(), None);
    // Cut and paste a selection.
    b.input(KeyEvent::new(KeyCode::Home, KeyModifiers::SHIFT), now);
    b.input(
        KeyEvent::new(KeyCode::Char('x'), KeyModifiers::CONTROL),
        now,
    );
    assert_eq!(b.text(), " world");
    b.move_to_end();
    b.input(
        KeyEvent::new(KeyCode::Char('v'), KeyModifiers::CONTROL),
        now,
    );
    assert_eq!(b.text(), " worldbye");
    assert!(b.undo());
    assert_eq!(b.text(), " world");
    assert!(b.undo());
    assert_eq!(b.text(), "bye world");
    assert!(b.undo());
    assert_eq!(b.text(), "hello world");
    assert_eq!(b.selection(), None);
}

#[test]
fn word_moves_and_word_deletes() {
    let mut b = Body::new("one two, three");
    let now = Instant::now();
    let alt = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::ALT);
    b.move_to(0, false);
    b.input(alt('f'), now);
    assert_eq!(b.cursor_index(), 4);
    b.input(alt('f'), now);
    assert_eq!(b.cursor_index(), 7);
    b.move_to_end();
    b.input(alt('b'), now);
    assert_eq!(b.cursor_index(), 9);
    b.move_to_end();
    b.input(
        KeyEvent::new(KeyCode::Char('w'), KeyModifiers::CONTROL),
        now,
    );
    assert_eq!(b.text(), "one two, ");
    b.move_to(0, false);
    b.input(alt('d'), now);
    assert_eq!(b.text(), " two, ");
}

#[test]
fn undo_groups_typing_into_words_and_redo_replays() {
    let mut b = Body::new("");
    typ(&mut b, "hello big world");
    assert!(b.undo());
    assert_eq!(b.text(), "hello big ");
    assert!(b.undo());
    assert_eq!(b.text(), "hello ");
    assert!(b.redo());
    assert_eq!(b.text(), "hello big ");
    assert_eq!(b.cursor_index(), 10);
    assert!(b.undo() && b.undo());
    assert_eq!(b.text(), "");
    assert!(!b.undo());
}

#[test]
fn a_paste_and_a_keystroke_burst_are_one_step_each() {
    let mut b = Body::new("before");
    b.move_to_end();
    let paste: String = (0..300).map(|i| format!("\npasted {i}")).collect();
    b.paste(&paste);
    assert_eq!(b.line_count(), 301);
    assert!(b.undo());
    assert_eq!(b.text(), "before");
    // A paste that came as keys, read in batches a few ms apart.
    let t = Instant::now();
    b.type_text(" first batch\n", t);
    b.type_text("second batch\n", t + Duration::from_millis(5));
    b.type_text("third", t + Duration::from_millis(9));
    assert!(b.undo());
    assert_eq!(b.text(), "before");
}

#[test]
fn an_editor_round_trip_is_one_step_with_a_small_record() {
    let text: Vec<String> = (0..10_000).map(|i| format!("line {i} 줄")).collect();
    let mut b = Body::new(&text.join("\n"));
    let mut edited = text.clone();
    edited[5_000] = "changed in the editor".into();
    assert!(b.replace_all(&edited.join("\n")));
    assert_eq!(b.text(), edited.join("\n"));
    assert_eq!(b.cursor().0, 5_000);
    assert!(!b.replace_all(&edited.join("\n")));
    assert!(b.undo());
    assert_eq!(b.text(), text.join("\n"));
}

#[test]
fn a_long_body_scrolls_to_the_cursor_and_edits_anywhere() {
    let text: Vec<String> = (0..10_000).map(|i| format!("line {i} 줄")).collect();
    let text = text.join("\n");
    let mut b = Body::new(&text);
    b.set_view(40, 10);
    let now = Instant::now();
    for _ in 0..1_000 {
        b.input(key(KeyCode::Down), now);
    }
    assert_eq!(b.cursor(), (1_000, 0));
    b.set_view(40, 10);
    assert_eq!(b.view_top(40, 10), (991, 0));
    b.input(key(KeyCode::Char('X')), now);
    assert_eq!(b.text().lines().nth(1_000), Some("Xline 1000 줄"));
    b.input(KeyEvent::new(KeyCode::Char('>'), KeyModifiers::ALT), now);
    assert_eq!(b.cursor().0, 9_999);
    b.input(KeyEvent::new(KeyCode::Char('<'), KeyModifiers::ALT), now);
    assert_eq!(b.cursor(), (0, 0));
    assert_eq!(b.view_top(40, 10), (0, 0));
    b.input(key(KeyCode::PageDown), now);
    assert_eq!(b.cursor().0, 9);
    assert!(b.undo());
    assert_eq!(b.text(), text);
}

#[test]
fn wrapped_rows_move_up_and_down_by_screen_row() {
    // 12 cells wide: "aaaa bbbb cccc dddd" wraps after "bbbb ".
    let mut b = Body::new("aaaa bbbb cccc dddd\nxy");
    b.set_view(12, 5);
    let now = Instant::now();
    b.move_to(2, false);
    b.input(key(KeyCode::Down), now);
    assert_eq!(b.cursor(), (0, 12));
    b.input(key(KeyCode::Down), now);
    assert_eq!(b.cursor(), (1, 2));
    b.input(key(KeyCode::Up), now);
    b.input(key(KeyCode::Up), now);
    assert_eq!(b.cursor(), (0, 2));
}

#[test]
fn drawing_shows_the_rows_around_the_cursor() {
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;
    use ratatui::widgets::Widget;
    let text: Vec<String> = (0..100).map(|i| format!("{i} 다람쥐")).collect();
    let mut b = Body::new(&text.join("\n"));
    b.set_view(20, 3);
    b.move_to_end();
    b.set_view(20, 3);
    let area = Rect::new(0, 0, 20, 3);
    let mut buf = Buffer::empty(area);
    (&b).render(area, &mut buf);
    let row = |y| {
        (0..20)
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect::<String>()
    };
    assert!(row(0).starts_with("97 다"), "{:?}", row(0));
    assert!(row(2).starts_with("99 다"), "{:?}", row(2));
}
