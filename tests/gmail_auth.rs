//! `missive auth NAME`: the installed-app flow against a local stand-in for Google, with
//! the test playing the browser.

mod gmail_common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use gmail_common::*;
use sha2::{Digest, Sha256};

#[tokio::test]
async fn auth_flow_with_pkce_stores_a_private_token() {
    let google = Google::start().await;
    let home = Home::new(&google, "");
    let t0 = Instant::now();
    let mut child = home
        .command()
        .args(["auth", "gmail", "--no-browser"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    // The printed URL: the mock's authorize endpoint.
    let auth_url = loop {
        let line = lines.next().expect("missive printed no URL").expect("read");
        seen.push(line.clone());
        let l = line.trim();
        if l.starts_with(&google.uri()) && l.contains("code_challenge=") {
            break l.to_string();
        }
    };
    let q: std::collections::HashMap<String, String> = url::Url::parse(&auth_url)
        .expect("url")
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(
        q.get("scope").map(String::as_str),
        Some("https://www.googleapis.com/auth/gmail.send"),
        "gmail.send only"
    );
    assert_eq!(
        q.get("code_challenge_method").map(String::as_str),
        Some("S256")
    );
    assert_eq!(q.get("client_id").map(String::as_str), Some(CLIENT_ID));
    assert_eq!(q.get("access_type").map(String::as_str), Some("offline"));
    assert_eq!(
        q.get("login_hint").map(String::as_str),
        Some("ada@example.com")
    );
    let redirect = q.get("redirect_uri").expect("redirect_uri").clone();
    assert!(redirect.starts_with("http://127.0.0.1:"), "{redirect}");

    // The browser: Google answers with a redirect to missive's loopback listener...
    let (status, headers, _) = http_get(&auth_url);
    assert_eq!(status, 302);
    let location = headers
        .iter()
        .find(|(k, _)| k == "location")
        .map(|(_, v)| v.clone())
        .expect("Location");
    assert!(location.starts_with(&redirect), "{location}");

    // ...a request with a foreign state is turned away and the flow keeps waiting...
    let mut forged = url::Url::parse(&location).expect("url");
    forged
        .query_pairs_mut()
        .clear()
        .append_pair("code", "4/forged")
        .append_pair("state", "not-the-state");
    let (status, _, body) = http_get(forged.as_str());
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("state"), "{body}");

    // ...and the real redirect finishes it.
    let (status, _, body) = http_get(&location);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("authorised"), "{body}");

    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let exit = child.wait().expect("wait");
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut err);
    }
    let out = format!("{}\n{}", seen.join("\n"), rest.join("\n"));
    assert!(exit.success(), "auth failed: {out}\n{err}");
    assert!(t0.elapsed() < Duration::from_secs(20));

    // PKCE: the verifier sent to the token endpoint hashes to the challenge in the URL.
    {
        let st = google.state();
        assert_eq!(st.token_forms.len(), 1);
        let f = &st.token_forms[0];
        assert_eq!(
            f.get("grant_type").map(String::as_str),
            Some("authorization_code")
        );
        assert_eq!(f.get("code").map(String::as_str), Some(AUTH_CODE));
        assert_eq!(f.get("redirect_uri"), Some(&redirect));
        let verifier = f.get("code_verifier").expect("code_verifier");
        assert!((43..=128).contains(&verifier.len()));
        assert_eq!(
            &URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
            q.get("code_challenge").expect("challenge")
        );
    }

    // The token file: 0600 in a 0700 dir, with what a send needs.
    let tf = home.token_file();
    assert_eq!(mode(&tf), 0o600);
    assert_eq!(mode(tf.parent().expect("dir")), 0o700);
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&tf).expect("token file")).expect("json");
    assert_eq!(v["refresh_token"], REFRESH);
    assert_eq!(v["access_token"], "ya29.issued-1");
    assert_eq!(v["account"], "ada@example.com");
    assert_eq!(v["scope"], "https://www.googleapis.com/auth/gmail.send");
    assert!(v["expires_at"].as_str().is_some());

    // Says who is authorised, and warns about "Testing" apps; shows no token.
    assert!(out.contains("Authorised"), "{out}");
    assert!(out.contains("ada@example.com"), "{out}");
    assert!(out.contains("7 days"), "{out}");
    for s in SECRETS {
        assert!(!out.contains(s) && !err.contains(s), "secret {s} in output");
    }
    let log = std::fs::read_to_string(home.data().join("missive.log")).unwrap_or_default();
    for s in SECRETS {
        assert!(!log.contains(s), "secret {s} in the log");
    }

    // The stored login works for a send right away, without another token request.
    let out = home.run(&[
        "send",
        "--to",
        "bob@example.net",
        "--subject",
        "after auth",
        "--text",
        home.file("b.txt", b"hello\n").to_str().expect("path"),
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(google.state().token_forms.len(), 1);
    home.assert_no_secrets(&out);
}

#[tokio::test]
async fn auth_asks_for_the_full_mail_scope_only_when_smtp_uses_the_login() {
    let google = Google::start().await;
    google.state().scope = "https://mail.google.com/".into();
    let home = Home::new(
        &google,
        "\n[transport.gmail-smtp]\nkind = \"smtp\"\nhost = \"smtp.gmail.com\"\nusername = \"ada@example.com\"\nauth = \"xoauth2\"\noauth = \"gmail\"\n",
    );
    let mut child = home
        .command()
        .args(["auth", "gmail", "--no-browser"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut seen = Vec::new();
    let auth_url = loop {
        let line = lines.next().expect("no URL").expect("read");
        seen.push(line.clone());
        if line.trim().starts_with(&google.uri()) {
            break line.trim().to_string();
        }
    };
    assert!(
        seen.join("\n").contains("gmail-smtp"),
        "explains why: {seen:?}"
    );
    let scope = url::Url::parse(&auth_url)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "scope")
        .map(|(_, v)| v.into_owned());
    assert_eq!(scope.as_deref(), Some("https://mail.google.com/"));
    let (_, headers, _) = http_get(&auth_url);
    let location = headers
        .iter()
        .find(|(k, _)| k == "location")
        .map(|(_, v)| v.clone())
        .expect("Location");
    let (status, _, _) = http_get(&location);
    assert_eq!(status, 200);
    let _: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(child.wait().expect("wait").success());
}

#[tokio::test]
async fn access_denied_in_the_browser_fails_cleanly() {
    let google = Google::start().await;
    let home = Home::new(&google, "");
    let mut child = home
        .command()
        .args(["auth", "gmail", "--no-browser"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let auth_url = loop {
        let line = lines.next().expect("no URL").expect("read");
        if line.trim().starts_with(&google.uri()) {
            break line.trim().to_string();
        }
    };
    let q: std::collections::HashMap<String, String> = url::Url::parse(&auth_url)
        .expect("url")
        .query_pairs()
        .into_owned()
        .collect();
    let mut deny = url::Url::parse(&q["redirect_uri"]).expect("url");
    deny.query_pairs_mut()
        .append_pair("error", "access_denied")
        .append_pair("state", &q["state"]);
    let (status, _, _) = http_get(deny.as_str());
    assert_eq!(status, 200);
    let _: Vec<String> = lines.map_while(Result::ok).collect();
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("denied"),
        "{}",
        text(&out.stderr)
    );
    assert!(!home.token_file().exists());
}

#[tokio::test]
async fn bad_client_secret_names_the_console_step() {
    let google = Google::start().await;
    let home = Home::new(&google, "");
    let secret = home.config_home.join("missive/credentials.json");

    std::fs::remove_file(&secret).expect("rm");
    let out = home.run(&["auth", "gmail", "--no-browser"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("no such file") && err.contains("Desktop app"),
        "{err}"
    );
    assert!(err.contains("credentials.json"), "{err}");

    std::fs::write(
        &secret,
        r#"{"web":{"client_id":"x","client_secret":"y","auth_uri":"https://a","token_uri":"https://t"}}"#,
    )
    .expect("write");
    let out = home.run(&["auth", "gmail", "--no-browser"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("Web application") && err.contains("Desktop app"),
        "{err}"
    );
    assert!(err.contains("OAuth client ID"), "{err}");
    assert_eq!(google.request_count().await, 0);

    // Not a gmail transport.
    let out = home.run(&["auth", "file"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("gmail"), "{}", text(&out.stderr));
}

#[tokio::test]
async fn the_redirected_url_can_be_pasted_on_stdin() {
    use std::io::Write as _;
    let google = Google::start().await;
    let home = Home::new(&google, "");
    let mut child = home
        .command()
        .args(["auth", "gmail", "--no-browser"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut seen = Vec::new();
    let auth_url = loop {
        let line = lines.next().expect("no URL").expect("read");
        seen.push(line.clone());
        if line.trim().starts_with(&google.uri()) {
            break line.trim().to_string();
        }
    };
    // The browser on another machine: Google redirects it to a loopback address there,
    // which does not load; the user copies the address instead of following it.
    let (_, headers, _) = http_get(&auth_url);
    let location = headers
        .iter()
        .find(|(k, _)| k == "location")
        .map(|(_, v)| v.clone())
        .expect("Location");
    let mut forged = url::Url::parse(&location).expect("url");
    forged
        .query_pairs_mut()
        .clear()
        .append_pair("code", "4/forged")
        .append_pair("state", "not-ours");
    let mut stdin = child.stdin.take().expect("stdin");
    writeln!(stdin, "{forged}").expect("paste");
    writeln!(stdin, "  {location}  ").expect("paste");
    drop(stdin);
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let out = child.wait_with_output().expect("wait");
    let all = format!("{}\n{}", seen.join("\n"), rest.join("\n"));
    let err = text(&out.stderr);
    assert!(out.status.success(), "{all}\n{err}");
    assert!(all.contains("paste"), "tells how: {all}");
    assert!(err.contains("state mismatch"), "{err}");
    // Only the real code was exchanged.
    let st = google.state();
    assert_eq!(st.token_forms.len(), 1);
    assert_eq!(
        st.token_forms[0].get("code").map(String::as_str),
        Some(AUTH_CODE)
    );
    drop(st);
    assert_eq!(mode(&home.token_file()), 0o600);
}

#[tokio::test]
async fn device_flow_is_refused_for_google_with_the_alternative() {
    let google = Google::start().await;
    let home = Home::new(&google, "");
    let out = home.run(&["auth", "gmail", "--device"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("Google") && err.contains("--no-browser"),
        "{err}"
    );
    assert_eq!(google.request_count().await, 0);
}
