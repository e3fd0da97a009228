//! An smtp transport with `auth = "xoauth2"` and `oauth = "gmail"` takes its access token
//! from the gmail transport's stored Google login (refreshing it first when it expired),
//! against the engine tests' real local SMTP server (aiosmtpd, STARTTLS).

mod common;
mod gmail_common;

use gmail_common::{Google, Home, REFRESH};

#[tokio::test]
async fn smtp_xoauth2_uses_the_google_login() {
    let google = Google::start().await;
    let certs = common::Certs::new();
    // The stand-in issues "ya29.issued-1" on the first refresh.
    let server = common::SmtpServer::start(
        common::ServerOpts::new(common::Mode::StartTls).xoauth2(common::TEST_USER, "ya29.issued-1"),
        Some(&certs),
    );
    let smtp = format!(
        "\n[transport.gs]\nkind = \"smtp\"\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"starttls\"\nca_file = {}\ntimeout = 10\nusername = {}\nauth = \"xoauth2\"\noauth = \"gmail\"\n",
        server.port,
        common::toml_str(certs.ca.to_str().expect("path")),
        common::toml_str(common::TEST_USER),
    );
    let home = Home::new(&google, &smtp);
    // An expired access token: the send must refresh it first.
    home.write_token("ya29.stale-token", REFRESH, -30);
    let body = home.file("body.txt", b"via smtp.gmail.com, no password\n");
    let out = home.run(&[
        "send",
        "--transport",
        "gs",
        "--to",
        "bob@example.net",
        "--subject",
        "XOAUTH2",
        "--text",
        body.to_str().expect("path"),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}\n--- server ---\n{}",
        gmail_common::text(&out.stderr),
        server.stderr()
    );
    let got = server.only_message();
    assert!(got.authenticated && got.tls);
    assert_eq!(google.state().token_forms.len(), 1, "one refresh");
    home.assert_no_secrets(&out);
    // The refreshed token was stored for the gmail transport too.
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(home.token_file()).expect("read")).expect("json");
    assert_eq!(v["access_token"], "ya29.issued-1");

    // `missive check` shows the login's account and expiry.
    let out = home.run(&["check", "gs"]);
    assert!(out.status.success(), "{}", gmail_common::text(&out.stderr));
    let o = gmail_common::text(&out.stdout);
    assert!(o.contains("XOAUTH2"), "{o}");
    assert!(o.contains("account ada@example.com"), "{o}");
    assert!(o.contains("valid until"), "{o}");
    // The stored scope is gmail.send, which the real smtp.gmail.com refuses: say so.
    assert!(o.contains("https://mail.google.com/"), "{o}");
    home.assert_no_secrets(&out);
}

#[tokio::test]
async fn smtp_xoauth2_with_a_revoked_login_says_run_auth() {
    let google = Google::start().await;
    let certs = common::Certs::new();
    let server = common::SmtpServer::start(
        common::ServerOpts::new(common::Mode::StartTls).xoauth2(common::TEST_USER, "never"),
        Some(&certs),
    );
    let smtp = format!(
        "\n[transport.gs]\nkind = \"smtp\"\nhost = \"127.0.0.1\"\nport = {}\nca_file = {}\nusername = {}\noauth = \"gmail\"\n",
        server.port,
        common::toml_str(certs.ca.to_str().expect("path")),
        common::toml_str(common::TEST_USER),
    );
    let home = Home::new(&google, &smtp);
    home.write_token("ya29.stale-token", gmail_common::REVOKED_REFRESH, -30);
    let body = home.file("body.txt", b"hi\n");
    let out = home.run(&[
        "send",
        "--transport",
        "gs",
        "--to",
        "bob@example.net",
        "--text",
        body.to_str().expect("path"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = gmail_common::text(&out.stderr);
    assert!(
        err.contains("missive auth gmail") && err.contains("7 days"),
        "{err}"
    );
    assert!(home.outbox_emls().len() == 1);
    assert!(server.received().is_empty());
    home.assert_no_secrets(&out);
}
