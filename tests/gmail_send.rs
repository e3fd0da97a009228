//! `kind = "gmail"` sends against a local stand-in for the Gmail API and Google's token
//! endpoint: small and resumable uploads, refresh, retries, the outbox, the size limit.

mod gmail_common;

use std::time::{Duration, Instant};

use gmail_common::*;
use mail_parser::MimeHeaders;

fn send_args<'a>(body: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "send",
        "--to",
        "Bob <bob@example.net>",
        "--subject",
        "Hello from missive",
        "--text",
        body,
        "--json",
    ];
    v.extend_from_slice(extra);
    v
}

fn report(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "no JSON on stdout: {}\nstderr: {}",
            text(&out.stdout),
            text(&out.stderr)
        )
    })
}

#[tokio::test]
async fn small_message_goes_in_one_request_with_bcc_in_the_raw_headers() {
    let google = Google::start().await;
    let home = Home::new(&google, "");
    home.write_token(INITIAL_ACCESS, REFRESH, 3600);
    let body = home.file("body.txt", "Grüße aus dem Terminal\n".as_bytes());
    let body = body.to_str().expect("path");
    let out = home.run(&send_args(body, &["--bcc", "hidden@example.org"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r = report(&out);
    assert_eq!(r["kind"], "gmail");
    assert_eq!(r["transport"], "gmail");
    assert_eq!(r["server_id"], "18c0ffee0001");
    assert_eq!(r["thread_id"], "18c0thread0001");

    let st = google.state();
    assert_eq!(st.api_calls.len(), 1);
    assert_eq!(st.api_calls[0].0, Kind::Multipart);
    assert!(st.token_forms.is_empty(), "a valid token is not refreshed");
    let raw = &st.delivered[0];
    // Exactly the engine's bytes (which, for Gmail, carry the Bcc header Gmail strips).
    assert_eq!(raw.len() as u64, r["bytes"].as_u64().expect("bytes"));
    let msg = mail_parser::MessageParser::default()
        .parse(&raw[..])
        .expect("parses");
    assert_eq!(
        msg.message_id().map(|m| format!("<{m}>")),
        r["message_id"].as_str().map(String::from)
    );
    assert_eq!(msg.subject(), Some("Hello from missive"));
    assert_eq!(
        msg.body_text(0).as_deref().map(str::trim_end),
        Some("Grüße aus dem Terminal")
    );
    assert_eq!(
        msg.bcc().and_then(|b| b.first()).and_then(|a| a.address()),
        Some("hidden@example.org")
    );
    drop(st);
    home.assert_no_secrets(&out);
}

#[tokio::test]
async fn the_bytes_sent_are_the_bytes_built() {
    // Without Bcc, Gmail gets exactly what the engine built: same as the outbox keeps
    // (and `preview --raw` prints) for this message.
    let google = Google::start().await;
    let home = Home::new(&google, "");
    home.write_token(INITIAL_ACCESS, REFRESH, 3600);
    let body = home.file("body.txt", b"plain\n");
    // First attempt fails for good (400) so the outbox keeps the exact bytes...
    google.fault(
        Kind::Multipart,
        400,
        &[],
        r#"{"error":{"code":400,"message":"Invalid To header","status":"INVALID_ARGUMENT"}}"#,
    );
    let out = home.run(&send_args(body.to_str().expect("path"), &[]));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("Invalid To header"),
        "{}",
        text(&out.stderr)
    );
    let eml = home.outbox_emls();
    assert_eq!(eml.len(), 1);
    let kept = std::fs::read(&eml[0]).expect("eml");
    // ...and the flush delivers them unchanged.
    let out = home.run(&["outbox", "flush"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let st = google.state();
    assert_eq!(st.delivered.len(), 1);
    assert_eq!(st.delivered[0], kept);
    assert!(home.outbox_emls().is_empty());
}

#[tokio::test]
async fn eight_megabytes_go_through_the_resumable_upload() {
    let google = Google::start().await;
    let home = Home::new(&google, "");
    home.write_token(INITIAL_ACCESS, REFRESH, 3600);
    let attachment = noise(8 * 1000 * 1000, 7);
    let path = home.file("data.bin", &attachment);
    let body = home.file("body.txt", b"see attachment\n");
    // One chunk fails on the way: the upload asks the session where it stands and goes on.
    google.fault(Kind::Chunk, 503, &[("Retry-After", "1")], "{}");
    let t0 = Instant::now();
    let out = home.run(&send_args(
        body.to_str().expect("path"),
        &["--attach", path.to_str().expect("path")],
    ));
    if !out.status.success() {
        let st = google.state();
        panic!(
            "{}\nchunks {:?}\ncalls {:?}\nlog {}",
            text(&out.stderr),
            st.chunk_ranges,
            st.api_calls,
            std::fs::read_to_string(home.data().join("missive.log")).unwrap_or_default()
        );
    }
    assert!(t0.elapsed() < Duration::from_secs(30));
    let r = report(&out);
    let st = google.state();
    assert_eq!(st.delivered.len(), 1);
    let raw = &st.delivered[0];
    assert_eq!(raw.len() as u64, r["bytes"].as_u64().expect("bytes"));
    assert!(raw.len() > 5 * 1024 * 1024);
    assert_eq!(
        st.api_calls
            .iter()
            .filter(|(k, _)| *k == Kind::Multipart)
            .count(),
        0
    );
    assert_eq!(st.api_calls[0].0, Kind::ResumableStart);
    // Several 4 MiB chunks, a status query after the 503.
    assert!(st.chunk_ranges.len() >= 3, "{:?}", st.chunk_ranges);
    assert!(
        st.chunk_ranges.iter().any(|r| r.starts_with("bytes */")),
        "{:?}",
        st.chunk_ranges
    );
    assert!(
        st.chunk_ranges
            .iter()
            .any(|r| r.starts_with("bytes 0-4194303/")),
        "{:?}",
        st.chunk_ranges
    );
    // The 503'd chunk was not recorded by the stand-in; it was the one extra PUT.
    let puts = st
        .api_calls
        .iter()
        .filter(|(k, _)| *k == Kind::Chunk)
        .count();
    assert_eq!(puts, st.chunk_ranges.len() + 1);
    let msg = mail_parser::MessageParser::default()
        .parse(&raw[..])
        .expect("parses");
    let att = msg.attachment(0).expect("attachment");
    assert_eq!(att.attachment_name(), Some("data.bin"));
    assert!(
        att.contents() == attachment.as_slice(),
        "attachment bytes differ"
    );
    drop(st);
    home.assert_no_secrets(&out);
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_and_the_send_goes_on() {
    let google = Google::start().await;
    let home = Home::new(&google, "");
    home.write_token("ya29.stale-token", REFRESH, -120);
    let body = home.file("body.txt", b"hi\n");
    let out = home.run(&send_args(body.to_str().expect("path"), &[]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    {
        let st = google.state();
        assert_eq!(st.token_forms.len(), 1);
        let f = &st.token_forms[0];
        assert_eq!(
            f.get("grant_type").map(String::as_str),
            Some("refresh_token")
        );
        assert_eq!(f.get("refresh_token").map(String::as_str), Some(REFRESH));
        assert_eq!(st.delivered.len(), 1);
    }
    // The new token is stored (still private) and used next time without a refresh.
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(home.token_file()).expect("read")).expect("json");
    assert_eq!(v["access_token"], "ya29.issued-1");
    assert_eq!(v["refresh_token"], REFRESH);
    assert_eq!(mode(&home.token_file()), 0o600);
    home.assert_no_secrets(&out);
    let out = home.run(&send_args(body.to_str().expect("path"), &[]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(google.state().token_forms.len(), 1);
}

#[tokio::test]
async fn a_rejected_access_token_is_refreshed_once() {
    // Not expired by the clock, but the API says 401: refresh, retry once.
    let google = Google::start().await;
    let home = Home::new(&google, "");
    home.write_token("ya29.revoked-early", REFRESH, 3000);
    let body = home.file("body.txt", b"hi\n");
    let out = home.run(&send_args(body.to_str().expect("path"), &[]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let st = google.state();
    assert_eq!(st.token_forms.len(), 1);
    assert_eq!(st.api_calls.len(), 2);
}

#[tokio::test]
async fn rate_limited_429_waits_for_retry_after() {
    let google = Google::start().await;
    let home = Home::new(&google, "");
    home.write_token(INITIAL_ACCESS, REFRESH, 3600);
    google.fault(
        Kind::Multipart,
        429,
        &[("Retry-After", "1")],
        r#"{"error":{"code":429,"message":"Too many concurrent requests for user","status":"RESOURCE_EXHAUSTED"}}"#,
    );
    let body = home.file("body.txt", b"hi\n");
    let out = home.run(&send_args(body.to_str().expect("path"), &[]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let st = google.state();
    assert_eq!(st.api_calls.len(), 2);
    let gap = st.api_calls[1].1 - st.api_calls[0].1;
    assert!(gap >= Duration::from_millis(950), "waited only {gap:?}");
    assert!(gap < Duration::from_secs(3), "waited {gap:?}");
    assert_eq!(st.delivered.len(), 1);
}

#[tokio::test]
async fn persistent_503_is_retried_a_bounded_number_of_times_then_kept_in_the_outbox() {
    let google = Google::start().await;
    let home = Home::new(&google, "");
    home.write_token(INITIAL_ACCESS, REFRESH, 3600);
    for _ in 0..10 {
        google.fault(
            Kind::Multipart,
            503,
            &[("Retry-After", "1")],
            r#"{"error":{"code":503,"message":"The service is currently unavailable.","status":"UNAVAILABLE"}}"#,
        );
    }
    let body = home.file("body.txt", b"hi\n");
    let t0 = Instant::now();
    let out = home.run(&send_args(body.to_str().expect("path"), &[]));
    let elapsed = t0.elapsed();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("503") && err.contains("outbox"), "{err}");
    assert!(err.contains("4 attempts"), "{err}");
    assert_eq!(google.state().api_calls.len(), 4, "1 try + 3 retries");
    assert!(
        elapsed >= Duration::from_secs(3) && elapsed < Duration::from_secs(15),
        "{elapsed:?}"
    );
    assert_eq!(home.outbox_emls().len(), 1);
    let v = report(&out);
    assert_eq!(v["transient"], true);
    assert_eq!(v["code"], 503);
    home.assert_no_secrets(&out);
}

#[tokio::test]
async fn a_revoked_refresh_token_says_run_auth_and_keeps_the_message() {
    let google = Google::start().await;
    let home = Home::new(&google, "");
    home.write_token("ya29.stale-token", REVOKED_REFRESH, -60);
    let body = home.file("body.txt", b"hi\n");
    let t0 = Instant::now();
    let out = home.run(&send_args(body.to_str().expect("path"), &[]));
    assert!(
        t0.elapsed() < Duration::from_secs(10),
        "no waiting on a browser"
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("invalid_grant"), "{err}");
    assert!(err.contains("missive auth gmail"), "{err}");
    assert!(err.contains("Testing") && err.contains("7 days"), "{err}");
    assert_eq!(google.state().api_calls.len(), 0);
    assert_eq!(home.outbox_emls().len(), 1);
    home.assert_no_secrets(&out);
}

#[tokio::test]
async fn insufficient_scope_is_a_clear_error() {
    let google = Google::start().await;
    let home = Home::new(&google, "");
    home.write_token(INITIAL_ACCESS, REFRESH, 3600);
    google.fault(
        Kind::Multipart,
        403,
        &[(
            "WWW-Authenticate",
            "Bearer realm=\"https://accounts.google.com/\", error=\"insufficient_scope\"",
        )],
        r#"{"error":{"code":403,"message":"Request had insufficient authentication scopes.","errors":[{"message":"Insufficient Permission","domain":"global","reason":"insufficientPermissions"}],"status":"PERMISSION_DENIED"}}"#,
    );
    let body = home.file("body.txt", b"hi\n");
    let out = home.run(&send_args(body.to_str().expect("path"), &[]));
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("insufficient scope"), "{err}");
    assert!(err.contains("missive auth gmail"), "{err}");
    assert_eq!(google.state().api_calls.len(), 1, "not retried");
}

#[tokio::test]
async fn over_the_limit_is_refused_before_any_request() {
    let google = Google::start().await;
    let home = Home::new(&google, "");
    home.write_token(INITIAL_ACCESS, REFRESH, 3600);
    // 28 MB of attachment is over 36,700,160 bytes once base64-encoded.
    let big = home.file("big.bin", &noise(28 * 1000 * 1000, 3));
    let body = home.file("body.txt", b"hi\n");
    let args = [
        "--to",
        "bob@example.net",
        "--subject",
        "big",
        "--text",
        body.to_str().expect("path"),
        "--attach",
        big.to_str().expect("path"),
    ];
    let mut preview = vec!["preview"];
    preview.extend_from_slice(&args);
    let out = home.run(&preview);
    assert!(out.status.success());
    let p = text(&out.stdout);
    assert!(p.contains("35 MiB") && p.contains("36700160"), "{p}");
    assert!(p.contains("OVER THE LIMIT"), "{p}");

    let mut send = vec!["send"];
    send.extend_from_slice(&args);
    let out = home.run(&send);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("36700160"), "{err}");
    assert!(err.contains("nothing was sent"), "{err}");
    assert_eq!(google.request_count().await, 0, "no request at all");
    assert!(home.outbox_emls().is_empty());
}

#[tokio::test]
async fn no_login_yet_says_run_auth() {
    let google = Google::start().await;
    let home = Home::new(&google, "");
    let body = home.file("body.txt", b"hi\n");
    let out = home.run(&send_args(body.to_str().expect("path"), &[]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("missive auth gmail"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(google.request_count().await, 0);
}

#[tokio::test]
async fn check_refreshes_and_shows_account_and_expiry() {
    let google = Google::start().await;
    let home = Home::new(&google, "");
    home.write_token(INITIAL_ACCESS, REFRESH, 3600);
    let out = home.run(&["check", "gmail"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let o = text(&out.stdout);
    assert!(o.contains("ada@example.com"), "{o}");
    assert!(o.contains("valid until"), "{o}");
    assert!(o.contains("gmail.send"), "{o}");
    assert_eq!(google.state().token_forms.len(), 1);
    home.assert_no_secrets(&out);

    home.write_token(INITIAL_ACCESS, REVOKED_REFRESH, 3600);
    let out = home.run(&["check", "gmail"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("missive auth gmail"));
}
