//! Building and serializing messages: the engine's share of a send. Run with
//! `cargo bench --bench engine`; throughput is reported per input byte.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use missive::message::{build, AttachmentSpec, Draft};

fn bench_build(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let size = 25 * 1024 * 1024;
    // Incompressible, non-text bytes: the base64 path, as for a real PDF or image.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let data: Vec<u8> = (0..size)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let path = dir.path().join("big.bin");
    std::fs::write(&path, &data).expect("write");
    let draft = Draft {
        to: vec!["bob@example.net".into()],
        subject: "25 MB".into(),
        text: Some("see attached\n".repeat(100)),
        html: Some("<p>see attached</p>".into()),
        attachments: vec![AttachmentSpec::new(&path)],
        ..Default::default()
    };

    let mut g = c.benchmark_group("build");
    g.sample_size(20);
    g.throughput(Throughput::Bytes(size as u64));
    g.bench_function("25MB attachment (read + base64 + serialize)", |b| {
        b.iter(|| build(&draft, "Ada <ada@example.com>").expect("build"))
    });
    g.finish();

    let small = Draft {
        attachments: vec![],
        ..draft.clone()
    };
    c.bench_function("build/text+html, no attachment", |b| {
        b.iter(|| build(&small, "Ada <ada@example.com>").expect("build"))
    });
}

criterion_group!(benches, bench_build);
criterion_main!(benches);
