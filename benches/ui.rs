//! The composer's frame and keystroke costs with a large message: a 10,000-line body
//! (mixed ASCII and Korean, soft-wrapped) and 50 attachments, drawn on ratatui's
//! TestBackend at 120×40; and the time from starting the binary in a pseudo-terminal to
//! its first drawn frame (`MISSIVE_EXIT_AFTER_FIRST_FRAME=1` makes it exit right after).
//!
//! Run with `cargo bench --bench ui`. The body is a rope (src/ui/body/) and only the rows
//! on screen are wrapped and drawn, so a keystroke costs the same however long the body
//! is (ratatui-textarea re-wrapped every line on each edit: ~30 ms here).

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use missive::message::{AttachmentSpec, Draft};
use missive::ui::app::{App, Pane};
use missive::ui::testing::{app_with, engine};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;

fn big_app(dir: &Path, w: u16, h: u16) -> App {
    let body: Vec<String> = (0..10_000)
        .map(|i| {
            if i % 3 == 0 {
                format!("{i:05} 다람쥐 헌 쳇바퀴에 타고파. 키스의 고유조건은 입술끼리 만나야 하고 특별한 기술은 필요치 않다.")
            } else {
                format!("{i:05} The quick brown fox jumps over the lazy dog, then naps in the sun for a while.")
            }
        })
        .collect();
    let mut attachments = Vec::new();
    for i in 0..50 {
        let p = dir.join(format!("attachment-{i:02}.pdf"));
        std::fs::write(&p, vec![b'x'; 1024 * (i + 1)]).expect("write attachment");
        attachments.push(AttachmentSpec::new(p));
    }
    let draft = Draft {
        to: vec!["bob@example.net".into()],
        subject: "큰 메시지 — a large message".into(),
        text: Some(body.join("\n")),
        attachments,
        ..Default::default()
    };
    let mut app = app_with(engine(), draft, dir.to_path_buf(), w, h);
    app.set_focus(Pane::Text);
    // Put the cursor in the middle of the body.
    for _ in 0..5_000 {
        app.handle_key(KeyEvent::new(KeyCode::Down, KeyModifiers::NONE));
    }
    app
}

fn bench_ui(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    for (w, h) in [(120u16, 40u16), (80, 24)] {
        let mut app = big_app(dir.path(), w, h);
        let mut term = Terminal::new(TestBackend::new(w, h)).expect("terminal");
        term.draw(|f| missive::ui::view::draw(f, &app))
            .expect("draw");

        c.bench_function(
            &format!("draw_frame_10k_lines_50_attachments_{w}x{h}"),
            |b| {
                b.iter(|| {
                    term.draw(|f| missive::ui::view::draw(f, black_box(&app)))
                        .expect("draw");
                })
            },
        );

        // One keystroke typed into the body, then the frame that shows it (what a person
        // waits for). Insert and delete alternate so the body keeps its size.
        let keys = [
            KeyEvent::new(KeyCode::Char('가'), KeyModifiers::NONE),
            KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE),
        ];
        let mut n = 0usize;
        c.bench_function(&format!("keystroke_and_frame_10k_lines_{w}x{h}"), |b| {
            b.iter(|| {
                app.handle_key(keys[n % 2]);
                n += 1;
                term.draw(|f| missive::ui::view::draw(f, black_box(&app)))
                    .expect("draw");
            })
        });

        c.bench_function(&format!("keystroke_only_10k_lines_{w}x{h}"), |b| {
            b.iter(|| {
                app.handle_key(keys[n % 2]);
                n += 1;
            })
        });

        // Cursor movement (no edit) with a frame.
        let moves = [
            KeyEvent::new(KeyCode::Down, KeyModifiers::NONE),
            KeyEvent::new(KeyCode::Up, KeyModifiers::NONE),
        ];
        c.bench_function(&format!("cursor_move_and_frame_10k_lines_{w}x{h}"), |b| {
            b.iter(|| {
                app.handle_key(moves[n % 2]);
                n += 1;
                term.draw(|f| missive::ui::view::draw(f, black_box(&app)))
                    .expect("draw");
            })
        });
    }
}

/// Start the real binary in a pseudo-terminal (80×24) and wait until it has drawn its
/// first frame and exited.
fn bench_startup(c: &mut Criterion) {
    let bin = env!("CARGO_BIN_EXE_missive");
    let home = tempfile::tempdir().expect("tempdir");
    let mut group = c.benchmark_group("startup");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("start_to_first_frame", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut cmd = std::process::Command::new(bin);
                cmd.env("HOME", home.path())
                    .env("XDG_CONFIG_HOME", home.path().join("config"))
                    .env("XDG_DATA_HOME", home.path().join("data"))
                    .env("TERM", "xterm-256color")
                    .env("MISSIVE_EXIT_AFTER_FIRST_FRAME", "1")
                    .arg("--to")
                    .arg("bob@example.net");
                let start = Instant::now();
                let mut s = expectrl::Session::spawn(cmd).expect("spawn in a pty");
                s.set_expect_timeout(Some(Duration::from_secs(10)));
                let _ = s.expect(expectrl::Eof);
                total += start.elapsed();
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, bench_ui, bench_startup);
criterion_main!(benches);
