//! `missive auth NAME` for `kind = "outlook"` against a local stand-in for the Microsoft
//! identity platform: the authorization code + PKCE flow with the test playing the
//! browser (and a forged redirect), and the device-code flow (pending, slow_down,
//! approval, expiry, refusal).

mod gmail_common;
mod outlook_common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use gmail_common::{http_get, mode};
use outlook_common::*;

const SMTP_BORROWER: &str = "\n[transport.outlook-smtp]\nkind = \"smtp\"\nhost = \"smtp.office365.com\"\nusername = \"ada@contoso.com\"\nauth = \"xoauth2\"\noauth = \"outlook\"\n";

#[tokio::test]
async fn browser_login_with_pkce_stores_one_token_per_resource() {
    let ms = Microsoft::start().await;
    let home = Home::new(&ms, SMTP_BORROWER);
    let t0 = Instant::now();
    let mut child = home
        .command()
        .args(["auth", "outlook", "--no-browser"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut seen = Vec::new();
    let auth_url = loop {
        let line = lines.next().expect("missive printed no URL").expect("read");
        seen.push(line.clone());
        if line.trim().starts_with(&ms.uri()) {
            break line.trim().to_string();
        }
    };
    let q: std::collections::HashMap<String, String> = url::Url::parse(&auth_url)
        .expect("url")
        .query_pairs()
        .into_owned()
        .collect();
    assert!(auth_url.starts_with(&format!("{}/{TENANT}/oauth2/v2.0/authorize?", ms.uri())));
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(
        q["scope"],
        format!("offline_access {GRAPH_SCOPE} {SMTP_SCOPE}"),
        "Mail.Send, plus SMTP.Send because outlook-smtp borrows the login"
    );
    let redirect = q["redirect_uri"].clone();
    assert!(redirect.starts_with("http://localhost:"), "{redirect}");

    let (status, headers, _) = http_get(&auth_url);
    assert_eq!(status, 302);
    let location = headers
        .iter()
        .find(|(k, _)| k == "location")
        .map(|(_, v)| v.clone())
        .expect("Location");
    // A redirect with another state is refused and the flow keeps waiting.
    let mut forged = url::Url::parse(&location).expect("url");
    forged
        .query_pairs_mut()
        .clear()
        .append_pair("code", "M.C-forged")
        .append_pair("state", "not-ours");
    let (status, _, body) = http_get(forged.as_str());
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("state mismatch"), "{body}");
    let (status, _, body) = http_get(&location);
    assert_eq!(status, 200, "{body}");

    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let out = child.wait_with_output().expect("wait");
    let all = format!("{}\n{}", seen.join("\n"), rest.join("\n"));
    let err = text(&out.stderr);
    assert!(out.status.success(), "{all}\n{err}");
    assert!(t0.elapsed() < Duration::from_secs(20));
    assert!(all.contains("outlook-smtp"), "explains SMTP.Send: {all}");
    assert!(all.contains(ACCOUNT), "names the account: {all}");

    {
        let st = ms.state();
        // The code for Graph (a token serves one resource), then SMTP from the refresh
        // token the code brought.
        assert_eq!(st.token_forms.len(), 2, "{:?}", st.token_forms);
        let code = &st.token_forms[0];
        assert_eq!(code["grant_type"], "authorization_code");
        assert_eq!(code["redirect_uri"], redirect);
        assert_eq!(code["scope"], format!("offline_access {GRAPH_SCOPE}"));
        assert!((43..=128).contains(&code["code_verifier"].len()));
        assert!(!code.contains_key("client_secret"));
        let smtp = &st.token_forms[1];
        assert_eq!(smtp["grant_type"], "refresh_token");
        assert_eq!(smtp["refresh_token"], "0.AR-refresh-1");
        assert!(smtp["scope"].contains("SMTP.Send") && !smtp["scope"].contains("graph"));
    }

    let tf = home.token_file();
    assert_eq!(mode(&tf), 0o600);
    assert_eq!(mode(tf.parent().expect("dir")), 0o700);
    let v = home.token_json();
    let st = ms.state();
    assert_eq!(v["access_token"], st.graph_tokens[0]);
    assert_eq!(
        v["resources"]["https://outlook.office.com"]["access_token"],
        st.smtp_tokens[0]
    );
    // The refresh token rotated by the SMTP grant is the one kept.
    assert_eq!(v["refresh_token"], "0.AR-refresh-2");
    assert_eq!(v["account"], ACCOUNT);
    assert_eq!(v["provider"], "microsoft");
    drop(st);
    home.assert_no_secrets(&out);
}

fn spawn_device(home: &Home) -> std::process::Child {
    home.command()
        .args(["auth", "outlook", "--device"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn")
}

#[tokio::test]
async fn device_flow_waits_through_pending_and_slow_down() {
    let ms = Microsoft::start().await;
    ms.state().polls = [
        Poll::Error("authorization_pending"),
        Poll::Error("slow_down"),
        Poll::Approve,
    ]
    .into();
    let home = Home::new(&ms, "");
    let out = spawn_device(&home).wait_with_output().expect("wait");
    let o = text(&out.stdout);
    assert!(out.status.success(), "{o}\n{}", text(&out.stderr));
    assert!(o.contains(USER_CODE), "{o}");
    assert!(o.contains(&format!("{}/devicelogin", ms.uri())), "{o}");
    let st = ms.state();
    assert_eq!(st.device_forms.len(), 1);
    assert_eq!(
        st.device_forms[0]["scope"],
        format!("offline_access {GRAPH_SCOPE}")
    );
    assert_eq!(st.poll_times.len(), 3);
    // slow_down: five seconds more between polls (RFC 8628 §3.5).
    let gap = st.poll_times[2] - st.poll_times[1];
    assert!(gap >= Duration::from_secs(5), "{gap:?}");
    let gap = st.poll_times[1] - st.poll_times[0];
    assert!(gap < Duration::from_secs(3), "{gap:?}");
    drop(st);
    let v = home.token_json();
    assert_eq!(v["refresh_token"], "0.AR-refresh-1");
    assert_eq!(mode(&home.token_file()), 0o600);
    home.assert_no_secrets(&out);
}

#[tokio::test]
async fn device_flow_expiry_and_refusal_fail_cleanly() {
    for (script, word) in [
        (
            vec![
                Poll::Error("authorization_pending"),
                Poll::Error("expired_token"),
            ],
            "expired",
        ),
        (vec![Poll::Error("authorization_declined")], "refused"),
        (vec![Poll::Error("access_denied")], "refused"),
    ] {
        let ms = Microsoft::start().await;
        ms.state().polls = script.into();
        let home = Home::new(&ms, "");
        let out = spawn_device(&home).wait_with_output().expect("wait");
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        let err = text(&out.stderr);
        assert!(err.contains(word), "{word}: {err}");
        assert!(!home.token_file().exists());
        home.assert_no_secrets(&out);
    }
}

#[tokio::test]
async fn device_code_that_runs_out_of_time_is_given_up() {
    // The server never answers anything but "pending": missive stops at expires_in.
    let ms = Microsoft::start().await;
    {
        let mut st = ms.state();
        st.device_expires_in = 2;
        st.device_interval = 1;
    }
    let home = Home::new(&ms, "");
    let t0 = Instant::now();
    let out = spawn_device(&home).wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("expired"),
        "{}",
        text(&out.stderr)
    );
    assert!(t0.elapsed() < Duration::from_secs(10));
    assert!(ms.state().poll_times.len() <= 4);
}

#[tokio::test]
async fn auth_of_an_smtp_borrower_points_at_the_outlook_transport() {
    let ms = Microsoft::start().await;
    let home = Home::new(&ms, SMTP_BORROWER);
    let out = home.run(&["auth", "outlook-smtp"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("Microsoft") && err.contains("missive auth outlook"),
        "{err}"
    );
    assert_eq!(ms.request_count().await, 0);
}
