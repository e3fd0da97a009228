//! Issue 8, a hostile Gmail endpoint: a resumable upload whose server answers every
//! chunk `308` without taking it is given up after a few answers (it once went on for
//! 5,700 PUTs), a `Range` near u64::MAX is an error, not an overflow, and a session
//! `Location` on another host never gets the access token.

mod gmail_common;

use std::time::{Duration, Instant};

use gmail_common::*;

/// Over the single-request limit (5 MiB), so the resumable upload is used.
fn big_send(home: &Home) -> std::process::Output {
    let path = home.file("data.bin", &noise(6 * 1000 * 1000, 3));
    home.run(&[
        "send",
        "--json",
        "--to",
        "bob@example.net",
        "--subject",
        "big",
        "--attach",
        path.to_str().expect("path"),
    ])
}

fn chunk_puts(google: &Google) -> usize {
    google
        .state()
        .api_calls
        .iter()
        .filter(|(k, _)| *k == Kind::Chunk)
        .count()
}

#[tokio::test]
async fn chunks_answered_308_without_progress_are_given_up_into_the_outbox() {
    let google = Google::start().await;
    let home = Home::new(&google, "");
    home.write_token(INITIAL_ACCESS, REFRESH, 3600);
    for _ in 0..1000 {
        google.fault(Kind::Chunk, 308, &[], "");
    }
    let t0 = Instant::now();
    let out = big_send(&home);
    assert!(t0.elapsed() < Duration::from_secs(30), "{:?}", t0.elapsed());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("stopped advancing"), "{err}");
    let puts = chunk_puts(&google);
    assert!((1..=5).contains(&puts), "{puts} PUTs");
    assert_eq!(home.outbox_emls().len(), 1);
    assert!(google.state().delivered.is_empty());
    home.assert_no_secrets(&out);
}

#[tokio::test]
async fn a_range_at_u64_max_is_an_error_not_an_overflow() {
    let google = Google::start().await;
    let home = Home::new(&google, "");
    home.write_token(INITIAL_ACCESS, REFRESH, 3600);
    google.fault(
        Kind::Chunk,
        308,
        &[("Range", "bytes=0-18446744073709551615")],
        "",
    );
    let out = big_send(&home);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("reports"), "{err}");
    assert_eq!(home.outbox_emls().len(), 1);
}

#[tokio::test]
async fn a_session_location_on_another_origin_never_gets_the_token() {
    let google = Google::start().await;
    let elsewhere = wiremock::MockServer::start().await;
    let home = Home::new(&google, "");
    home.write_token(INITIAL_ACCESS, REFRESH, 3600);
    // Same IP, another port: another origin. And another scheme.
    for location in [
        format!(
            "{}/upload/gmail/v1/users/me/messages/send?upload_id=sess-1",
            elsewhere.uri()
        ),
        format!(
            "{}/upload?upload_id=sess-1",
            google.uri().replace("http://", "https://")
        ),
    ] {
        google.fault(Kind::ResumableStart, 200, &[("Location", &location)], "");
        let out = big_send(&home);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        let err = text(&out.stderr);
        assert!(err.contains("not at the configured API"), "{err}");
        assert!(!err.contains("upload_id"), "{err}");
        home.assert_no_secrets(&out);
    }
    let reached = elsewhere.received_requests().await.unwrap_or_default();
    assert!(
        reached.is_empty(),
        "{} requests went elsewhere",
        reached.len()
    );
    assert_eq!(chunk_puts(&google), 0);
    assert_eq!(home.outbox_emls().len(), 2);
}
