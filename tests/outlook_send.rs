//! `kind = "outlook"` sends through a local stand-in for Microsoft Graph and the identity
//! platform: the exact bytes, refresh on 401, Retry-After, the 3,000,000-byte refusal,
//! revoked logins, Graph errors; and an smtp transport borrowing the login with a token
//! for the SMTP resource against the local aiosmtpd server.

mod common;
mod outlook_common;

use std::time::{Duration, Instant};

use mail_parser::MimeHeaders;
use outlook_common::*;

const GRAPH_TOKEN: &str = "eyJ0.eyJ1.graphsig-stored";

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

/// A home with a stored, valid Graph token.
async fn logged_in(extra: &str) -> (Microsoft, Home) {
    let ms = Microsoft::start().await;
    ms.accept_graph(GRAPH_TOKEN);
    let home = Home::new(&ms, extra);
    home.write_token(GRAPH_TOKEN, FIRST_REFRESH, 3600);
    (ms, home)
}

#[tokio::test]
async fn graph_gets_the_exact_bytes_with_bcc_and_no_server_id() {
    let (ms, home) = logged_in("").await;
    let body = home.file("body.txt", "Grüße, Bob\n".as_bytes());
    let att = home.file("notes.txt", b"attached\n");
    let args = send_args(
        body.to_str().expect("path"),
        &[
            "--bcc",
            "carol@example.org",
            "--attach",
            att.to_str().expect("path"),
        ],
    );
    let out = home.run(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r = report(&out);
    assert_eq!(r["kind"], "outlook");
    assert_eq!(r["transport"], "outlook");
    assert!(r["server_id"].is_null(), "{r}");
    assert!(r["response"].as_str().unwrap_or("").contains("202"), "{r}");
    let st = ms.state();
    assert_eq!(st.delivered.len(), 1);
    assert_eq!(st.send_content_types, vec!["text/plain".to_string()]);
    let raw = &st.delivered[0];
    assert_eq!(r["bytes"].as_u64(), Some(raw.len() as u64));
    let m = mail_parser::MessageParser::default()
        .parse(raw)
        .expect("parses");
    assert_eq!(m.subject(), Some("Hello from missive"));
    assert_eq!(
        m.body_text(0).map(|t| t.replace("\r\n", "\n")).as_deref(),
        Some("Grüße, Bob\n")
    );
    assert_eq!(
        m.attachment(0).and_then(|a| a.attachment_name()),
        Some("notes.txt")
    );
    // Graph has no envelope: the Bcc header goes in the bytes (Graph strips it).
    let bcc = m.bcc().and_then(|a| a.first()).and_then(|a| a.address());
    assert_eq!(bcc, Some("carol@example.org"));
    assert_eq!(
        format!("<{}>", m.message_id().expect("message id")),
        r["message_id"].as_str().expect("id")
    );
    drop(st);
    // The same bytes are what `preview --raw` shows (the Bcc included).
    let log = std::fs::read_to_string(home.data().join("sent.log")).expect("sent log");
    assert!(log.contains("\"kind\":\"outlook\""), "{log}");
    home.assert_no_secrets(&out);
}

#[tokio::test]
async fn a_rejected_token_is_refreshed_once() {
    let ms = Microsoft::start().await;
    let home = Home::new(&ms, "");
    // Graph no longer takes this one (it is not in the server's list).
    home.write_token("eyJ0.eyJ1.graphsig-revoked-early", FIRST_REFRESH, 3000);
    let body = home.file("b.txt", b"hi\n");
    let out = home.run(&send_args(body.to_str().expect("path"), &[]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    {
        let st = ms.state();
        assert_eq!(st.send_calls.len(), 2, "401, then the retry");
        assert_eq!(st.token_forms.len(), 1, "one refresh");
        let f = &st.token_forms[0];
        assert_eq!(f["grant_type"], "refresh_token");
        assert_eq!(f["scope"], format!("offline_access {GRAPH_SCOPE}"));
    }
    // Microsoft rotated the refresh token: the new one is kept.
    assert_eq!(home.token_json()["refresh_token"], "0.AR-refresh-1");
    home.assert_no_secrets(&out);

    // A 401 that persists after the refresh is not retried for ever.
    let (ms, home) = logged_in("").await;
    let unauth = r#"{"error":{"code":"InvalidAuthenticationToken","message":"Lifetime validation failed."}}"#;
    ms.send_fault(401, &[], unauth);
    ms.send_fault(401, &[], unauth);
    let out = home.run(&send_args(body.to_str().expect("path"), &[]));
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("even after a refresh") && err.contains("missive auth outlook"),
        "{err}"
    );
    assert_eq!(ms.state().token_forms.len(), 1);
    assert_eq!(ms.state().send_calls.len(), 2);
    assert_eq!(home.outbox_emls().len(), 1);
}

#[tokio::test]
async fn rate_limited_429_waits_for_retry_after() {
    let (ms, home) = logged_in("").await;
    ms.send_fault(
        429,
        &[("Retry-After", "2")],
        r#"{"error":{"code":"ApplicationThrottled","message":"Application is over its MailboxConcurrency limit."}}"#,
    );
    let body = home.file("b.txt", b"hi\n");
    let out = home.run(&send_args(body.to_str().expect("path"), &[]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let st = ms.state();
    assert_eq!(st.send_calls.len(), 2);
    let waited = st.send_calls[1] - st.send_calls[0];
    assert!(waited >= Duration::from_secs(2), "{waited:?}");
    assert_eq!(st.delivered.len(), 1);
}

#[tokio::test]
async fn persistent_503_is_retried_a_bounded_number_of_times_then_kept_in_the_outbox() {
    let (ms, home) = logged_in("").await;
    for _ in 0..6 {
        ms.send_fault(
            503,
            &[("Retry-After", "0")],
            r#"{"error":{"code":"ServiceUnavailable","message":"Service is temporarily unavailable."}}"#,
        );
    }
    let body = home.file("b.txt", b"hi\n");
    let out = home.run(&send_args(body.to_str().expect("path"), &[]));
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("503") && err.contains("ServiceUnavailable"),
        "{err}"
    );
    assert!(
        err.contains("4 attempts") && err.contains("outbox"),
        "{err}"
    );
    assert_eq!(ms.state().send_calls.len(), 4);
    assert_eq!(home.outbox_emls().len(), 1);
    home.assert_no_secrets(&out);
}

#[tokio::test]
async fn over_three_million_bytes_is_refused_before_any_request() {
    let (ms, home) = logged_in(
        "\n[transport.outlook-smtp]\nkind = \"smtp\"\nhost = \"smtp.office365.com\"\nusername = \"ada@contoso.com\"\nauth = \"xoauth2\"\noauth = \"outlook\"\n",
    )
    .await;
    let body = home.file("b.txt", b"big\n");
    let big = home.file("big.bin", &vec![0x5au8; 2_300_000]);
    let out = home.run(&send_args(
        body.to_str().expect("path"),
        &["--attach", big.to_str().expect("path")],
    ));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("3000000") && err.contains("nothing was sent"),
        "{err}"
    );
    assert!(err.contains("outlook-smtp"), "names the smtp way: {err}");
    assert_eq!(ms.request_count().await, 0);
    assert!(home.outbox_emls().is_empty());

    // A big body (no attachment) is measured once built, still before any request.
    let line = "All work and no play makes Ada a dull girl. ".repeat(2) + "\n";
    let text_body = home.file("long.txt", line.repeat(3_100_000 / line.len()).as_bytes());
    let out = home.run(&send_args(text_body.to_str().expect("path"), &[]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("3000000") && err.contains("outlook-smtp"),
        "{err}"
    );
    assert_eq!(ms.request_count().await, 0);
    assert!(home.outbox_emls().is_empty());
}

#[tokio::test]
async fn a_revoked_login_says_run_auth_and_keeps_the_message() {
    let ms = Microsoft::start().await;
    let home = Home::new(&ms, "");
    home.write_token("eyJ0.eyJ1.graphsig-old", "0.AR-refresh-revoked", -60);
    let body = home.file("b.txt", b"hi\n");
    let out = home.run(&send_args(body.to_str().expect("path"), &[]));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("invalid_grant"), "{err}");
    assert!(err.contains("missive auth outlook"), "{err}");
    assert_eq!(home.outbox_emls().len(), 1);
    assert_eq!(ms.state().send_calls.len(), 0);
    home.assert_no_secrets(&out);
}

#[tokio::test]
async fn graph_errors_are_reported_with_code_and_message_and_no_token() {
    let (ms, home) = logged_in("").await;
    ms.send_fault(
        400,
        &[],
        &format!(
            r#"{{"error":{{"code":"ErrorInvalidRecipients","message":"At least one recipient is not valid. (token {GRAPH_TOKEN})"}}}}"#
        ),
    );
    let body = home.file("b.txt", b"hi\n");
    let out = home.run(&send_args(body.to_str().expect("path"), &[]));
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("ErrorInvalidRecipients"), "{err}");
    assert!(err.contains("At least one recipient is not valid"), "{err}");
    assert_eq!(ms.state().send_calls.len(), 1, "a 400 is not retried");
    home.assert_no_secrets(&out);
}

#[tokio::test]
async fn check_shows_account_scopes_and_expiry() {
    let (ms, home) = logged_in("").await;
    let out = home.run(&["check", "outlook"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let o = text(&out.stdout);
    assert!(o.contains(ACCOUNT), "{o}");
    assert!(o.contains("Mail.Send"), "{o}");
    assert!(o.contains("valid until"), "{o}");
    assert_eq!(ms.state().token_forms.len(), 1, "check proves the refresh");
    home.assert_no_secrets(&out);

    let out = home.run(&["check", "file"]);
    assert!(out.status.success());
}

#[tokio::test]
async fn smtp_xoauth2_uses_a_token_for_the_smtp_resource() {
    let (ms, _) = logged_in("").await;
    let certs = common::Certs::new();
    // The stand-in's first issued token, for SMTP.Send only.
    let smtp_token = access_token("smtpsig1");
    let server = common::SmtpServer::start(
        common::ServerOpts::new(common::Mode::StartTls).xoauth2(common::TEST_USER, &smtp_token),
        Some(&certs),
    );
    let smtp = format!(
        "\n[transport.outlook-smtp]\nkind = \"smtp\"\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"starttls\"\nca_file = {}\ntimeout = 10\nusername = {}\nauth = \"xoauth2\"\noauth = \"outlook\"\n",
        server.port,
        common::toml_str(certs.ca.to_str().expect("path")),
        common::toml_str(common::TEST_USER),
    );
    let home = Home::new(&ms, &smtp);
    home.write_token(GRAPH_TOKEN, FIRST_REFRESH, 3600);
    let body = home.file("b.txt", b"over SMTP with the Microsoft login\n");
    let t0 = Instant::now();
    let out = home.run(&send_args(
        body.to_str().expect("path"),
        &["--transport", "outlook-smtp"],
    ));
    assert!(
        out.status.success(),
        "{}\n--- server ---\n{}",
        text(&out.stderr),
        server.stderr()
    );
    assert!(t0.elapsed() < Duration::from_secs(20));
    let got = server.only_message();
    assert!(got.authenticated && got.tls);
    {
        let st = ms.state();
        assert_eq!(st.token_forms.len(), 1);
        assert!(st.token_forms[0]["scope"].contains("SMTP.Send"));
        assert!(!st.token_forms[0]["scope"].contains("graph.microsoft.com"));
        assert!(st.send_calls.is_empty(), "Graph is not used");
    }
    // Stored beside the Graph token, which is unchanged.
    let v = home.token_json();
    assert_eq!(v["access_token"], GRAPH_TOKEN);
    assert_eq!(
        v["resources"]["https://outlook.office.com"]["access_token"],
        smtp_token
    );
    home.assert_no_secrets(&out);

    // A second send reuses the stored SMTP token: no new token request.
    let out = home.run(&send_args(
        body.to_str().expect("path"),
        &["--transport", "outlook-smtp"],
    ));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(ms.state().token_forms.len(), 1);

    let out = home.run(&["check", "outlook-smtp"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let o = text(&out.stdout);
    assert!(
        o.contains("XOAUTH2") && o.contains("Microsoft login"),
        "{o}"
    );
    assert!(o.contains("SMTP.Send"), "{o}");
    home.assert_no_secrets(&out);
}
