//! Contacts at scale: a one-letter query over 10,000 contacts; a keystroke in a
//! recipient field with the suggestion list shown, plus the frame that shows it; and
//! building a message to 10,000 recipients.
//!
//! Run with `cargo bench --bench contacts`.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use missive::contacts::{Aliases, Book, Used};
use missive::message::Draft;
use missive::ui::app::Pane;
use missive::ui::testing::{app_with, engine};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;

const FIRST: &[&str] = &[
    "Ada",
    "Bob",
    "Carol",
    "Dan",
    "Eve",
    "Frank",
    "Grace",
    "Heidi",
    "Ivan",
    "Judy",
    "김하나",
    "Álvaro",
    "Mallory",
    "Niaj",
    "Olivia",
    "Peggy",
];
const LAST: &[&str] = &[
    "Lovelace", "Smith", "Doe", "Abramov", "Noether", "Hopper", "이", "Díaz", "Turing", "Curie",
];

fn book(n: usize) -> Book {
    let now = missive::contacts::now();
    let history: Vec<Used> = (0..n)
        .map(|i| {
            let f = FIRST[i % FIRST.len()];
            let l = LAST[(i / FIRST.len()) % LAST.len()];
            Used {
                address: format!(
                    "{}.{}{i}@example{}.com",
                    f.to_lowercase(),
                    l.to_lowercase(),
                    i % 97
                ),
                name: Some(format!("{f} {l}")),
                count: (i % 13) as u32 + 1,
                last: now - (i as i64 % 400) * 86_400,
            }
        })
        .collect();
    Book::new(history, &Aliases::default())
}

fn bench_contacts(c: &mut Criterion) {
    let b10k = book(10_000);
    let now = missive::contacts::now();
    c.bench_function("suggest_one_letter_10k_contacts", |b| {
        b.iter(|| black_box(b10k.search(black_box("a"), &[], 8, now)))
    });
    c.bench_function("suggest_three_letters_10k_contacts", |b| {
        b.iter(|| black_box(b10k.search(black_box("gra"), &[], 8, now)))
    });

    let shared = Arc::new(b10k);
    for (w, h) in [(120u16, 40u16), (80, 24)] {
        let mut app = app_with(engine(), Draft::default(), PathBuf::from("/"), w, h);
        app.completion.book = Some(shared.clone());
        app.set_focus(Pane::To);
        app.handle_key(KeyEvent::new(KeyCode::Char('a'), KeyModifiers::NONE));
        assert!(
            app.completion.visible(Pane::To).is_some(),
            "the list is shown"
        );
        let mut term = Terminal::new(TestBackend::new(w, h)).expect("terminal");
        let keys = [
            KeyEvent::new(KeyCode::Char('n'), KeyModifiers::NONE),
            KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE),
        ];
        let mut n = 0usize;
        c.bench_function(
            &format!("recipient_keystroke_and_frame_list_shown_10k_contacts_{w}x{h}"),
            |b| {
                b.iter(|| {
                    app.handle_key(keys[n % 2]);
                    n += 1;
                    term.draw(|f| missive::ui::view::draw(f, black_box(&app)))
                        .expect("draw");
                })
            },
        );
    }

    let to: Vec<String> = (0..10_000)
        .map(|i| format!("\"Person {i}, Test\" <person{i}@example.com>"))
        .collect();
    let draft = Draft {
        to: vec![to.join(", ")],
        subject: "many".into(),
        text: Some("hi".into()),
        ..Default::default()
    };
    let mut g = c.benchmark_group("build");
    g.sample_size(10);
    g.bench_function("build_10k_recipients", |b| {
        b.iter(|| {
            black_box(
                missive::message::build_limited(&draft, "ada@example.com", false, 1 << 30)
                    .expect("build"),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench_contacts);
criterion_main!(benches);
