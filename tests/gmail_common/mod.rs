//! A stand-in for Google on 127.0.0.1 (wiremock, port 0): the OAuth authorize and token
//! endpoints and the Gmail API's send (multipart and resumable uploads), with faults that
//! tests queue up. Plus a temporary missive setup (XDG dirs, config, client secret, token
//! file) and a way to run the binary in it.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const CLIENT_ID: &str = "test-client.apps.googleusercontent.com";
pub const CLIENT_SECRET: &str = "test-client-secret-XYZ";
pub const AUTH_CODE: &str = "4/test-auth-code";
pub const INITIAL_ACCESS: &str = "ya29.initial-access-token";
pub const REFRESH: &str = "1//refresh-token-abc";
pub const REVOKED_REFRESH: &str = "1//revoked-refresh-token";

/// Strings that must never show up in output or logs.
pub const SECRETS: &[&str] = &[
    CLIENT_SECRET,
    INITIAL_ACCESS,
    REFRESH,
    REVOKED_REFRESH,
    "ya29.",
    "1//",
];

/// Which kind of request a fault applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Token,
    Multipart,
    ResumableStart,
    Chunk,
}

pub struct Fault {
    pub kind: Kind,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

#[derive(Default)]
pub struct State {
    /// Access tokens the API accepts.
    pub valid_access: Vec<String>,
    pub issued: u32,
    /// The authorize request's query.
    pub authorize: Option<HashMap<String, String>>,
    /// Every token request's form.
    pub token_forms: Vec<HashMap<String, String>>,
    /// (kind, when) of every API request.
    pub api_calls: Vec<(Kind, Instant)>,
    /// Messages that arrived in full.
    pub delivered: Vec<Vec<u8>>,
    /// Resumable session: expected total and bytes so far.
    pub session: Option<(usize, Vec<u8>)>,
    pub chunk_ranges: Vec<String>,
    pub faults: VecDeque<Fault>,
    /// Scope the token endpoint reports.
    pub scope: String,
    /// The server's own URL.
    pub base: String,
}

pub struct Google {
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

fn message_json(n: usize) -> serde_json::Value {
    serde_json::json!({"id": format!("18c0ffee{n:04}"), "threadId": format!("18c0thread{n:04}"), "labelIds": ["SENT"]})
}

impl Handler {
    fn take_fault(st: &mut State, kind: Kind) -> Option<ResponseTemplate> {
        let i = st.faults.iter().position(|f| f.kind == kind)?;
        let f = st.faults.remove(i)?;
        let mut r = ResponseTemplate::new(f.status);
        for (k, v) in &f.headers {
            r = r.insert_header(k.as_str(), v.as_str());
        }
        Some(r.set_body_raw(f.body.into_bytes(), "application/json"))
    }

    fn authorized(st: &State, req: &Request) -> bool {
        let h = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        h.strip_prefix("Bearer ")
            .is_some_and(|t| st.valid_access.iter().any(|v| v == t))
    }

    fn unauthorized() -> ResponseTemplate {
        json(
            401,
            serde_json::json!({"error": {"code": 401, "message": "Request had invalid authentication credentials.", "status": "UNAUTHENTICATED"}}),
        )
    }

    fn token(&self, st: &mut State, req: &Request) -> ResponseTemplate {
        let f = form(&req.body);
        st.token_forms.push(f.clone());
        if let Some(r) = Self::take_fault(st, Kind::Token) {
            return r;
        }
        if f.get("client_id").map(String::as_str) != Some(CLIENT_ID)
            || f.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
        {
            return json(
                401,
                serde_json::json!({"error": "invalid_client", "error_description": "The OAuth client was not found."}),
            );
        }
        let grant = f.get("grant_type").map(String::as_str).unwrap_or("");
        let ok = match grant {
            "authorization_code" => {
                let challenge = st
                    .authorize
                    .as_ref()
                    .and_then(|a| a.get("code_challenge").cloned())
                    .unwrap_or_default();
                let verifier = f.get("code_verifier").cloned().unwrap_or_default();
                f.get("code").map(String::as_str) == Some(AUTH_CODE)
                    && URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == challenge
                    && st.authorize.as_ref().and_then(|a| a.get("redirect_uri"))
                        == f.get("redirect_uri")
            }
            "refresh_token" => f.get("refresh_token").map(String::as_str) == Some(REFRESH),
            _ => false,
        };
        if !ok {
            let desc = if grant == "refresh_token" {
                "Token has been expired or revoked."
            } else {
                "Bad Request"
            };
            return json(
                400,
                serde_json::json!({"error": "invalid_grant", "error_description": desc}),
            );
        }
        st.issued += 1;
        let access = format!("ya29.issued-{}", st.issued);
        st.valid_access.push(access.clone());
        let mut v = serde_json::json!({
            "access_token": access,
            "expires_in": 3599,
            "scope": st.scope,
            "token_type": "Bearer",
        });
        if grant == "authorization_code" {
            v["refresh_token"] = REFRESH.into();
        }
        json(200, v)
    }

    fn multipart(&self, st: &mut State, req: &Request) -> ResponseTemplate {
        let ct = req
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let Some(boundary) = ct.split("boundary=").nth(1) else {
            return json(
                400,
                serde_json::json!({"error": {"message": "no boundary"}}),
            );
        };
        let delim = format!("--{}", boundary.trim_matches('"'));
        let body = &req.body;
        // Second part: after the second delimiter's header block, up to the closing one.
        let find = |hay: &[u8], needle: &[u8], from: usize| {
            hay[from..]
                .windows(needle.len())
                .position(|w| w == needle)
                .map(|p| p + from)
        };
        let first = find(body, delim.as_bytes(), 0);
        let second = first.and_then(|f| find(body, delim.as_bytes(), f + delim.len()));
        let start = second
            .and_then(|s| find(body, b"\r\n\r\n", s))
            .map(|p| p + 4);
        let end = start.and_then(|s| find(body, format!("\r\n{delim}--").as_bytes(), s));
        let (Some(start), Some(end)) = (start, end) else {
            return json(
                400,
                serde_json::json!({"error": {"message": "bad multipart"}}),
            );
        };
        let head = String::from_utf8_lossy(&body[second.unwrap_or(0)..start]).to_lowercase();
        if !head.contains("content-type: message/rfc822") {
            return json(
                400,
                serde_json::json!({"error": {"message": "not message/rfc822"}}),
            );
        }
        st.delivered.push(body[start..end].to_vec());
        json(200, message_json(st.delivered.len()))
    }

    fn resumable_start(&self, st: &mut State, req: &Request, base: &str) -> ResponseTemplate {
        let total: usize = req
            .headers
            .get("x-upload-content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let ty = req
            .headers
            .get("x-upload-content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if total == 0 || ty != "message/rfc822" {
            return json(
                400,
                serde_json::json!({"error": {"message": "bad resumable start"}}),
            );
        }
        st.session = Some((total, Vec::new()));
        ResponseTemplate::new(200).insert_header(
            "Location",
            format!("{base}/upload/gmail/v1/users/me/messages/send?uploadType=resumable&upload_id=sess-1"),
        )
    }

    fn chunk(&self, st: &mut State, req: &Request) -> ResponseTemplate {
        let range = req
            .headers
            .get("content-range")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        st.chunk_ranges.push(range.clone());
        let Some((total, got)) = st.session.as_mut() else {
            return ResponseTemplate::new(404);
        };
        let total = *total;
        let in_progress = |got: &Vec<u8>| {
            let r = ResponseTemplate::new(308);
            if got.is_empty() {
                r
            } else {
                r.insert_header("Range", format!("bytes=0-{}", got.len() - 1))
            }
        };
        let spec = range.strip_prefix("bytes ").unwrap_or("");
        if spec.starts_with("*/") {
            // Status query.
            if got.len() == total {
                return json(200, message_json(st.delivered.len()));
            }
            return in_progress(got);
        }
        let (span, _) = spec.split_once('/').unwrap_or(("", ""));
        let start: usize = span
            .split('-')
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(usize::MAX);
        if start != got.len() {
            return in_progress(got);
        }
        got.extend_from_slice(&req.body);
        if got.len() == total {
            let whole = got.clone();
            st.delivered.push(whole);
            return json(200, message_json(st.delivered.len()));
        }
        in_progress(got)
    }
}

impl Respond for Handler {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let Ok(mut st) = self.0.lock() else {
            return ResponseTemplate::new(500);
        };
        let path = req.url.path().to_string();
        let query: HashMap<String, String> = req.url.query_pairs().into_owned().collect();
        let base = st.base.clone();
        match (req.method.as_str(), path.as_str()) {
            ("GET", "/o/oauth2/auth") => {
                st.authorize = Some(query.clone());
                let redirect = query.get("redirect_uri").cloned().unwrap_or_default();
                let state = query.get("state").cloned().unwrap_or_default();
                let mut to = url::Url::parse(&redirect)
                    .unwrap_or_else(|_| url::Url::parse("http://127.0.0.1:9/").expect("url"));
                to.query_pairs_mut()
                    .append_pair("code", AUTH_CODE)
                    .append_pair("state", &state)
                    .append_pair("scope", &st.scope);
                ResponseTemplate::new(302).insert_header("Location", to.as_str())
            }
            ("POST", "/token") => self.token(&mut st, req),
            ("POST", "/upload/gmail/v1/users/me/messages/send") => {
                let kind = match query.get("uploadType").map(String::as_str) {
                    Some("multipart") => Kind::Multipart,
                    Some("resumable") => Kind::ResumableStart,
                    _ => return ResponseTemplate::new(400),
                };
                st.api_calls.push((kind, Instant::now()));
                if !Self::authorized(&st, req) {
                    return Self::unauthorized();
                }
                if let Some(r) = Self::take_fault(&mut st, kind) {
                    return r;
                }
                if kind == Kind::Multipart {
                    self.multipart(&mut st, req)
                } else {
                    self.resumable_start(&mut st, req, &base)
                }
            }
            ("PUT", "/upload/gmail/v1/users/me/messages/send") => {
                st.api_calls.push((Kind::Chunk, Instant::now()));
                if query.get("upload_id").map(String::as_str) != Some("sess-1") {
                    return ResponseTemplate::new(404);
                }
                if let Some(r) = Self::take_fault(&mut st, Kind::Chunk) {
                    return r;
                }
                self.chunk(&mut st, req)
            }
            _ => ResponseTemplate::new(404),
        }
    }
}

impl Google {
    pub async fn start() -> Google {
        let server = MockServer::start().await;
        let state = Arc::new(Mutex::new(State {
            valid_access: vec![INITIAL_ACCESS.to_string()],
            scope: "https://www.googleapis.com/auth/gmail.send".into(),
            ..Default::default()
        }));
        Mock::given(wiremock::matchers::any())
            .respond_with(Handler(state.clone()))
            .mount(&server)
            .await;
        state.lock().expect("state").base = server.uri();
        Google { server, state }
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }

    pub fn fault(&self, kind: Kind, status: u16, headers: &[(&str, &str)], body: &str) {
        self.state().faults.push_back(Fault {
            kind,
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.to_string(),
        });
    }

    pub fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("mock state")
    }

    pub async fn request_count(&self) -> usize {
        self.server
            .received_requests()
            .await
            .map(|r| r.len())
            .unwrap_or(0)
    }
}

/// A missive home: config and data dirs, the client secret, the config file.
pub struct Home {
    pub dir: tempfile::TempDir,
    pub config_home: PathBuf,
    pub data_home: PathBuf,
}

impl Home {
    pub fn new(google: &Google, extra_config: &str) -> Home {
        let dir = tempfile::tempdir().expect("tempdir");
        let config_home = dir.path().join("config");
        let data_home = dir.path().join("data");
        std::fs::create_dir_all(config_home.join("missive")).expect("mkdir");
        let secret = config_home.join("missive/credentials.json");
        let uri = google.uri();
        std::fs::write(
            &secret,
            serde_json::json!({"installed": {
                "client_id": CLIENT_ID,
                "project_id": "missive-test",
                "auth_uri": format!("{uri}/o/oauth2/auth"),
                "token_uri": format!("{uri}/token"),
                "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
                "client_secret": CLIENT_SECRET,
                "redirect_uris": ["http://localhost"],
            }})
            .to_string(),
        )
        .expect("write secret");
        let config = format!(
            "default = \"gmail\"\nfrom = \"Ada Lovelace <ada@example.com>\"\n\n[transport.gmail]\nkind = \"gmail\"\nclient_secret = \"{}\"\napi_url = \"{uri}/\"\ntimeout = 20\n{extra_config}",
            secret.display()
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
        self.data().join("tokens/gmail.json")
    }

    /// A stored login, as `missive auth` leaves it.
    pub fn write_token(&self, access: &str, refresh: &str, expires_in_secs: i64) {
        let expires = chrono::Utc::now() + chrono::TimeDelta::seconds(expires_in_secs);
        let v = serde_json::json!({
            "access_token": access,
            "refresh_token": refresh,
            "expires_at": expires.to_rfc3339(),
            "scope": "https://www.googleapis.com/auth/gmail.send",
            "token_type": "Bearer",
            "account": "ada@example.com",
            "client_id": CLIENT_ID,
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

    /// A file in the home dir.
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

    /// Output and the log file hold no token or client secret.
    pub fn assert_no_secrets(&self, out: &Output) {
        let log = std::fs::read_to_string(self.data().join("missive.log")).unwrap_or_default();
        for (what, text) in [
            ("stdout", String::from_utf8_lossy(&out.stdout).to_string()),
            ("stderr", String::from_utf8_lossy(&out.stderr).to_string()),
            ("log", log),
        ] {
            for s in SECRETS {
                assert!(!text.contains(s), "{what} contains a secret ({s}):\n{text}");
            }
        }
    }
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

/// A bare-bones HTTP GET for the test playing the browser: (status, headers, body).
pub fn http_get(url: &str) -> (u16, Vec<(String, String)>, String) {
    let u = url::Url::parse(url).expect("url");
    let host = u.host_str().expect("host").to_string();
    let port = u.port_or_known_default().expect("port");
    let mut target = u.path().to_string();
    if let Some(q) = u.query() {
        target.push('?');
        target.push_str(q);
    }
    let mut s = std::net::TcpStream::connect((host.as_str(), port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    write!(
        s,
        "GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let resp = String::from_utf8_lossy(&buf).to_string();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, body.to_string())
}

pub fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777
}

/// Deterministic pseudo-random bytes (an attachment that does not compress or repeat).
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}
