//! A stand-in for Microsoft on 127.0.0.1 (wiremock, port 0): the identity platform's
//! authorize, token and devicecode endpoints under `/{tenant}/oauth2/v2.0/`, and Graph's
//! `POST /v1.0/me/sendMail`. Like the real one, an access token serves one resource (a
//! Graph token is refused by SMTP and the other way round) and a token request naming
//! two resources is refused. Plus a temporary missive home to run the binary in.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const CLIENT_ID: &str = "11111111-2222-3333-4444-555555555555";
pub const TENANT: &str = "organizations";
pub const AUTH_CODE: &str = "M.C-test-auth-code";
pub const DEVICE_CODE: &str = "DAQABAAEAAAD-device-code";
pub const USER_CODE: &str = "FJ7KQ2XB";
pub const FIRST_REFRESH: &str = "0.AR-refresh-0";
pub const ACCOUNT: &str = "ada@contoso.com";
pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/Mail.Send";
pub const SMTP_SCOPE: &str = "https://outlook.office.com/SMTP.Send";

/// Strings that must never show up in output or logs.
pub const SECRETS: &[&str] = &[
    "graphsig",
    "smtpsig",
    "0.AR-refresh",
    DEVICE_CODE,
    AUTH_CODE,
];

/// A scripted answer of the token endpoint to a device-code poll.
#[derive(Clone, Debug)]
pub enum Poll {
    Error(&'static str),
    Approve,
}

pub struct Fault {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

#[derive(Default)]
pub struct State {
    pub base: String,
    pub authorize: Option<HashMap<String, String>>,
    pub token_forms: Vec<HashMap<String, String>>,
    pub device_forms: Vec<HashMap<String, String>>,
    pub polls: VecDeque<Poll>,
    pub poll_times: Vec<Instant>,
    pub device_interval: u64,
    pub device_expires_in: u64,
    /// The refresh token the server accepts now (rotated on every use).
    pub refresh: String,
    pub issued: u32,
    pub graph_tokens: Vec<String>,
    pub smtp_tokens: Vec<String>,
    /// Bodies of sendMail requests, base64-decoded.
    pub delivered: Vec<Vec<u8>>,
    pub send_calls: Vec<Instant>,
    pub send_content_types: Vec<String>,
    pub send_faults: VecDeque<Fault>,
    pub token_faults: VecDeque<Fault>,
}

pub struct Microsoft {
    pub server: MockServer,
    pub state: Arc<Mutex<State>>,
}

struct Handler(Arc<Mutex<State>>);

fn form(body: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn json(status: u16, v: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(v.to_string().into_bytes(), "application/json")
}

fn oauth_error(code: &str, desc: &str) -> ResponseTemplate {
    json(
        400,
        serde_json::json!({"error": code, "error_description": desc, "error_codes": [70000]}),
    )
}

fn fault(f: Fault) -> ResponseTemplate {
    let mut r = ResponseTemplate::new(f.status);
    for (k, v) in &f.headers {
        r = r.insert_header(k.as_str(), v.as_str());
    }
    r.set_body_raw(f.body.into_bytes(), "application/json")
}

/// A work-account access token: a JWT whose payload names the account; the signature
/// part is what makes each one distinct (and what the secret checks look for).
pub fn access_token(sig: &str) -> String {
    let b = |s: &str| URL_SAFE_NO_PAD.encode(s);
    format!(
        "{}.{}.{sig}",
        b(r#"{"typ":"JWT","alg":"RS256"}"#),
        b(&format!(r#"{{"upn":"{ACCOUNT}","aud":"x"}}"#))
    )
}

impl Handler {
    /// Issue tokens for the scope asked (one resource), rotating the refresh token.
    fn grant(st: &mut State, scope: &str, with_refresh: bool) -> ResponseTemplate {
        let smtp = scope.contains("SMTP.Send");
        let graph = scope.contains("graph.microsoft.com");
        if smtp && graph {
            return oauth_error(
                "invalid_scope",
                "AADSTS28000: Provided value for the input parameter scope is not valid because it contains more than one resource.",
            );
        }
        st.issued += 1;
        let n = st.issued;
        let (token, granted) = if smtp {
            let t = access_token(&format!("smtpsig{n}"));
            st.smtp_tokens.push(t.clone());
            (t, SMTP_SCOPE)
        } else {
            let t = access_token(&format!("graphsig{n}"));
            st.graph_tokens.push(t.clone());
            (t, GRAPH_SCOPE)
        };
        let mut v = serde_json::json!({
            "token_type": "Bearer",
            "scope": granted,
            "expires_in": 4493,
            "ext_expires_in": 4493,
            "access_token": token,
        });
        if with_refresh {
            st.refresh = format!("0.AR-refresh-{n}");
            v["refresh_token"] = st.refresh.clone().into();
        }
        json(200, v)
    }

    fn token(&self, st: &mut State, req: &Request) -> ResponseTemplate {
        let f = form(&req.body);
        st.token_forms.push(f.clone());
        if let Some(f) = st.token_faults.pop_front() {
            return fault(f);
        }
        if f.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
            return json(
                400,
                serde_json::json!({"error": "unauthorized_client", "error_description": "AADSTS700016: Application not found."}),
            );
        }
        if f.contains_key("client_secret") {
            return oauth_error("invalid_request", "public clients have no secret");
        }
        let scope = f.get("scope").cloned().unwrap_or_default();
        match f.get("grant_type").map(String::as_str).unwrap_or("") {
            "authorization_code" => {
                let a = st.authorize.clone().unwrap_or_default();
                let verifier = f.get("code_verifier").cloned().unwrap_or_default();
                let ok = f.get("code").map(String::as_str) == Some(AUTH_CODE)
                    && a.get("code_challenge_method").map(String::as_str) == Some("S256")
                    && a.get("code_challenge")
                        == Some(&URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())))
                    && a.get("redirect_uri") == f.get("redirect_uri");
                if !ok {
                    return oauth_error("invalid_grant", "AADSTS70008: bad code or verifier");
                }
                Self::grant(st, &scope, scope.contains("offline_access"))
            }
            "refresh_token" => {
                if f.get("refresh_token") != Some(&st.refresh) {
                    return oauth_error(
                        "invalid_grant",
                        "AADSTS700082: The refresh token has expired due to inactivity.",
                    );
                }
                Self::grant(st, &scope, true)
            }
            "urn:ietf:params:oauth:grant-type:device_code" => {
                st.poll_times.push(Instant::now());
                if f.get("device_code").map(String::as_str) != Some(DEVICE_CODE) {
                    return oauth_error("bad_verification_code", "unknown device code");
                }
                match st
                    .polls
                    .pop_front()
                    .unwrap_or(Poll::Error("authorization_pending"))
                {
                    Poll::Error(e) => oauth_error(e, "AADSTS70016: scripted"),
                    Poll::Approve => {
                        let asked = st
                            .device_forms
                            .last()
                            .and_then(|d| d.get("scope").cloned())
                            .unwrap_or_default();
                        // The first resource of the consent decides the token (Graph).
                        let first = if asked.contains("graph.microsoft.com") {
                            format!("offline_access {GRAPH_SCOPE}")
                        } else {
                            asked
                        };
                        Self::grant(st, &first, true)
                    }
                }
            }
            _ => oauth_error("unsupported_grant_type", "no"),
        }
    }

    fn send_mail(&self, st: &mut State, req: &Request) -> ResponseTemplate {
        st.send_calls.push(Instant::now());
        let auth = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let ok = auth
            .strip_prefix("Bearer ")
            .is_some_and(|t| st.graph_tokens.iter().any(|g| g == t));
        if !ok {
            return json(
                401,
                serde_json::json!({"error": {"code": "InvalidAuthenticationToken", "message": "Access token has expired or is not yet valid."}}),
            );
        }
        if let Some(f) = st.send_faults.pop_front() {
            return fault(f);
        }
        let ct = req
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        st.send_content_types.push(ct.clone());
        if !ct.starts_with("text/plain") {
            return json(
                415,
                serde_json::json!({"error": {"code": "UnsupportedMediaType", "message": "text/plain expected"}}),
            );
        }
        match STANDARD.decode(&req.body) {
            Ok(raw) => {
                st.delivered.push(raw);
                ResponseTemplate::new(202).insert_header("request-id", "0f1e2d3c-aaaa-bbbb")
            }
            Err(_) => json(
                400,
                serde_json::json!({"error": {"code": "ErrorMimeContentInvalidBase64String", "message": "Invalid base64 string for MIME content."}}),
            ),
        }
    }
}

impl Respond for Handler {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let Ok(mut st) = self.0.lock() else {
            return ResponseTemplate::new(500);
        };
        let path = req.url.path().to_string();
        let query: HashMap<String, String> = req.url.query_pairs().into_owned().collect();
        let auth = format!("/{TENANT}/oauth2/v2.0/");
        match (req.method.as_str(), path.as_str()) {
            ("GET", p) if p == format!("{auth}authorize") => {
                st.authorize = Some(query.clone());
                let redirect = query.get("redirect_uri").cloned().unwrap_or_default();
                let state = query.get("state").cloned().unwrap_or_default();
                let mut to = url::Url::parse(&redirect)
                    .unwrap_or_else(|_| url::Url::parse("http://127.0.0.1:9/").expect("url"));
                to.query_pairs_mut()
                    .append_pair("code", AUTH_CODE)
                    .append_pair("state", &state)
                    .append_pair("session_state", "abc");
                ResponseTemplate::new(302).insert_header("Location", to.as_str())
            }
            ("POST", p) if p == format!("{auth}token") => self.token(&mut st, req),
            ("POST", p) if p == format!("{auth}devicecode") => {
                let f = form(&req.body);
                st.device_forms.push(f.clone());
                if f.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
                    return oauth_error("unauthorized_client", "AADSTS700016");
                }
                let base = st.base.clone();
                json(
                    200,
                    serde_json::json!({
                        "user_code": USER_CODE,
                        "device_code": DEVICE_CODE,
                        "verification_uri": format!("{base}/devicelogin"),
                        "expires_in": st.device_expires_in,
                        "interval": st.device_interval,
                        "message": format!("To sign in, use a web browser to open the page {base}/devicelogin and enter the code {USER_CODE} to authenticate."),
                    }),
                )
            }
            ("POST", "/v1.0/me/sendMail") => self.send_mail(&mut st, req),
            _ => ResponseTemplate::new(404),
        }
    }
}

impl Microsoft {
    pub async fn start() -> Microsoft {
        let server = MockServer::start().await;
        let state = Arc::new(Mutex::new(State {
            refresh: FIRST_REFRESH.to_string(),
            device_interval: 0,
            device_expires_in: 900,
            ..Default::default()
        }));
        Mock::given(wiremock::matchers::any())
            .respond_with(Handler(state.clone()))
            .mount(&server)
            .await;
        state.lock().expect("state").base = server.uri();
        Microsoft { server, state }
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }

    pub fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("mock state")
    }

    pub fn send_fault(&self, status: u16, headers: &[(&str, &str)], body: &str) {
        self.state().send_faults.push_back(Fault {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.to_string(),
        });
    }

    pub async fn request_count(&self) -> usize {
        self.server
            .received_requests()
            .await
            .map(|r| r.len())
            .unwrap_or(0)
    }

    /// Accept `token` for Graph, as if issued earlier.
    pub fn accept_graph(&self, token: &str) {
        self.state().graph_tokens.push(token.to_string());
    }
}

/// A missive home with `[transport.outlook]` pointing at the stand-in.
pub struct Home {
    pub dir: tempfile::TempDir,
    pub config_home: PathBuf,
    pub data_home: PathBuf,
}

impl Home {
    pub fn new(ms: &Microsoft, extra_config: &str) -> Home {
        let dir = tempfile::tempdir().expect("tempdir");
        let config_home = dir.path().join("config");
        let data_home = dir.path().join("data");
        std::fs::create_dir_all(config_home.join("missive")).expect("mkdir");
        let uri = ms.uri();
        let config = format!(
            "default = \"outlook\"\nfrom = \"Ada Lovelace <{ACCOUNT}>\"\n\n[transport.outlook]\nkind = \"outlook\"\nclient_id = \"{CLIENT_ID}\"\ntenant = \"{TENANT}\"\nauthority = \"{uri}/\"\napi_url = \"{uri}/\"\ntimeout = 20\n{extra_config}"
        );
        std::fs::write(config_home.join("missive/config.toml"), config).expect("write config");
        Home {
            dir,
            config_home,
            data_home,
        }
    }

    pub fn data(&self) -> PathBuf {
        self.data_home.join("missive")
    }

    pub fn token_file(&self) -> PathBuf {
        self.data().join("tokens/outlook.json")
    }

    pub fn token_json(&self) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(self.token_file()).expect("token file"))
            .expect("json")
    }

    /// A stored login, as `missive auth outlook` leaves it.
    pub fn write_token(&self, access: &str, refresh: &str, expires_in_secs: i64) {
        let expires = chrono::Utc::now() + chrono::TimeDelta::seconds(expires_in_secs);
        let v = serde_json::json!({
            "access_token": access,
            "refresh_token": refresh,
            "expires_at": expires.to_rfc3339(),
            "scope": format!("{GRAPH_SCOPE} offline_access"),
            "token_type": "Bearer",
            "account": ACCOUNT,
            "client_id": CLIENT_ID,
            "provider": "microsoft",
        });
        let p = self.token_file();
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, v.to_string()).expect("write token");
    }

    pub fn command(&self) -> std::process::Command {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_missive"));
        c.env("XDG_CONFIG_HOME", &self.config_home)
            .env("XDG_DATA_HOME", &self.data_home)
            .env("HOME", self.dir.path())
            .env("RUST_LOG", "missive=debug")
            .env_remove("BROWSER")
            .stdin(std::process::Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("run missive")
    }

    pub fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, bytes).expect("write file");
        p
    }

    pub fn outbox_emls(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(self.data().join("outbox"))
            .map(|d| {
                d.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    /// Output, the log and the outbox hold no token, code or refresh token.
    pub fn assert_no_secrets(&self, out: &Output) {
        let log = std::fs::read_to_string(self.data().join("missive.log")).unwrap_or_default();
        let mut texts = vec![
            ("stdout", String::from_utf8_lossy(&out.stdout).to_string()),
            ("stderr", String::from_utf8_lossy(&out.stderr).to_string()),
            ("log", log),
        ];
        for e in self.outbox_emls() {
            let json = e.with_extension("json");
            texts.push(("outbox", std::fs::read_to_string(json).unwrap_or_default()));
        }
        for (what, text) in texts {
            for s in SECRETS {
                assert!(!text.contains(s), "{what} contains a secret ({s}):\n{text}");
            }
        }
    }
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}
