//! Harness for the engine's integration tests: a real SMTP server (tests/smtp_server.py,
//! aiosmtpd) on 127.0.0.1 port 0, certificates made on the spot with rcgen, and the real
//! `missive` binary run hermetically (XDG dirs and HOME in a temp dir).
#![allow(dead_code)]

pub mod dovecot;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as StdCommand, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use mail_parser::{MessageParser, MimeHeaders, PartType};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

/// How long the server may take to print READY (python start + aiosmtpd import).
const READY_TIMEOUT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------------------

/// A test CA, a leaf for `localhost` / `127.0.0.1` signed by it, and an unrelated CA, all
/// as PEM files in a temp dir.
pub struct Certs {
    _dir: tempfile::TempDir,
    /// The CA that signed the server's certificate: trust this and TLS verifies.
    pub ca: PathBuf,
    /// A CA that signed nothing here: trust only this and the server is untrusted.
    pub other_ca: PathBuf,
    pub leaf_cert: PathBuf,
    pub leaf_key: PathBuf,
    /// Signed by `ca` too, but for `mail.other.example` only: a valid chain with the
    /// wrong name.
    pub wrong_name_cert: PathBuf,
    pub wrong_name_key: PathBuf,
}

fn new_ca(name: &str) -> (rcgen::Certificate, Issuer<'static, KeyPair>) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert, Issuer::new(params, key))
}

impl Certs {
    pub fn new() -> Certs {
        let dir = tempfile::tempdir().unwrap();
        let (ca_cert, ca) = new_ca("missive test CA");
        let (other_cert, _) = new_ca("some other CA");

        let mut params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.is_ca = IsCa::NoCa;
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = params.signed_by(&leaf_key, &ca).unwrap();

        let mut params = CertificateParams::new(vec!["mail.other.example".to_string()]).unwrap();
        params.is_ca = IsCa::NoCa;
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let wrong_key = KeyPair::generate().unwrap();
        let wrong = params.signed_by(&wrong_key, &ca).unwrap();

        let write = |name: &str, pem: String| {
            let p = dir.path().join(name);
            std::fs::write(&p, pem).unwrap();
            p
        };
        Certs {
            ca: write("ca.pem", ca_cert.pem()),
            other_ca: write("other-ca.pem", other_cert.pem()),
            leaf_cert: write("leaf.pem", leaf.pem()),
            leaf_key: write("leaf.key", leaf_key.serialize_pem()),
            wrong_name_cert: write("wrong-name.pem", wrong.pem()),
            wrong_name_key: write("wrong-name.key", wrong_key.serialize_pem()),
            _dir: dir,
        }
    }
}

impl Default for Certs {
    fn default() -> Self {
        Certs::new()
    }
}

// ---------------------------------------------------------------------------------------
// The SMTP server
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Plain,
    StartTls,
    Tls,
}

impl Mode {
    fn arg(self) -> &'static str {
        match self {
            Mode::Plain => "plain",
            Mode::StartTls => "starttls",
            Mode::Tls => "tls",
        }
    }
    /// The config's `security` value for this mode.
    pub fn security(self) -> &'static str {
        match self {
            Mode::Plain => "none",
            Mode::StartTls => "starttls",
            Mode::Tls => "tls",
        }
    }
}

/// What the server should do; `SmtpServer::start` turns it into command-line options.
#[derive(Clone, Debug)]
pub struct ServerOpts {
    pub mode: Mode,
    /// `user:password` for AUTH PLAIN/LOGIN.
    pub auth: Option<String>,
    /// `user:token` for AUTH XOAUTH2.
    pub xoauth2: Option<String>,
    pub fail_first_data: Option<u16>,
    /// How many DATA commands get `fail_first_data` (default 1).
    pub fail_count: u32,
    pub reject_rcpt: Vec<String>,
    pub drop_during_data: u32,
    pub stall_after_data: u32,
    pub smtputf8: bool,
    /// Serve `Certs::wrong_name_cert` instead of the leaf for localhost.
    pub wrong_name_cert: bool,
    /// More flags for tests/smtp_server.py (e.g. `--max-rcpts 3`).
    pub extra: Vec<String>,
    /// Listen on this port (e.g. one a test reserved with `dead_port`); 0 = any free one.
    pub port: u16,
}

impl ServerOpts {
    pub fn new(mode: Mode) -> Self {
        ServerOpts {
            mode,
            auth: None,
            xoauth2: None,
            fail_first_data: None,
            fail_count: 1,
            reject_rcpt: Vec::new(),
            drop_during_data: 0,
            stall_after_data: 0,
            smtputf8: true,
            wrong_name_cert: false,
            extra: Vec::new(),
            port: 0,
        }
    }
    /// A flag of tests/smtp_server.py and its value.
    pub fn flag(mut self, name: &str, value: impl ToString) -> Self {
        self.extra.push(name.to_string());
        self.extra.push(value.to_string());
        self
    }
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
    pub fn auth(mut self, user: &str, password: &str) -> Self {
        self.auth = Some(format!("{user}:{password}"));
        self
    }
    pub fn xoauth2(mut self, user: &str, token: &str) -> Self {
        self.xoauth2 = Some(format!("{user}:{token}"));
        self
    }
    pub fn fail_first_data(mut self, code: u16) -> Self {
        self.fail_first_data = Some(code);
        self
    }
    pub fn wrong_name_cert(mut self) -> Self {
        self.wrong_name_cert = true;
        self
    }
    pub fn without_smtputf8(mut self) -> Self {
        self.smtputf8 = false;
        self
    }
    pub fn fail_count(mut self, n: u32) -> Self {
        self.fail_count = n;
        self
    }
    pub fn stall_after_data(mut self, n: u32) -> Self {
        self.stall_after_data = n;
        self
    }
    pub fn reject_rcpt(mut self, addr: &str) -> Self {
        self.reject_rcpt.push(addr.to_string());
        self
    }
    pub fn drop_during_data(mut self, n: u32) -> Self {
        self.drop_during_data = n;
        self
    }
}

/// One message as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The exact bytes after DATA (dot-unstuffed).
    pub raw: Vec<u8>,
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    /// MAIL FROM parameters (BODY=8BITMIME, SMTPUTF8, ...).
    pub mail_options: Vec<String>,
    /// The id in the server's "250 2.0.0 Ok: queued as <ID>" reply.
    pub queue_id: String,
    pub authenticated: bool,
    pub tls: bool,
    /// The client's port: tells connections apart.
    pub peer_port: u16,
    /// The same message as Python's `email` package reads it (a second, independent
    /// parser): subject, from/to/cc as [name, address], text, html, attachments
    /// (filename, content_type, size, sha256), defects.
    pub python: serde_json::Value,
}

impl Received {
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.raw).expect("received message is not UTF-8 (not 7-bit clean)")
    }
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        parse(&self.raw)
    }
}

/// A running `tests/smtp_server.py`; killed on drop.
pub struct SmtpServer {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
    pub maildir: PathBuf,
    stderr_path: PathBuf,
}

impl SmtpServer {
    pub fn start(opts: ServerOpts, certs: Option<&Certs>) -> SmtpServer {
        let dir = tempfile::tempdir().unwrap();
        let maildir = dir.path().join("maildir");
        let stderr_path = dir.path().join("server.stderr");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_server.py");
        let mut cmd = StdCommand::new("python3");
        cmd.arg(&script)
            .arg("--mode")
            .arg(opts.mode.arg())
            .arg("--maildir")
            .arg(&maildir);
        if opts.mode != Mode::Plain {
            let c = certs.expect("a TLS mode needs certificates");
            let (cert, key) = if opts.wrong_name_cert {
                (&c.wrong_name_cert, &c.wrong_name_key)
            } else {
                (&c.leaf_cert, &c.leaf_key)
            };
            cmd.arg("--cert").arg(cert).arg("--key").arg(key);
        }
        if let Some(a) = &opts.auth {
            cmd.arg("--auth").arg(a);
        }
        if let Some(x) = &opts.xoauth2 {
            cmd.arg("--xoauth2").arg(x);
        }
        if let Some(code) = opts.fail_first_data {
            cmd.arg("--fail-first-data").arg(code.to_string());
            cmd.arg("--fail-count").arg(opts.fail_count.to_string());
        }
        if !opts.smtputf8 {
            cmd.arg("--no-smtputf8");
        }
        if opts.stall_after_data > 0 {
            cmd.arg("--stall-after-data")
                .arg(opts.stall_after_data.to_string());
        }
        for r in &opts.reject_rcpt {
            cmd.arg("--reject-rcpt").arg(r);
        }
        if opts.port != 0 {
            cmd.arg("--port").arg(opts.port.to_string());
        }
        if opts.drop_during_data > 0 {
            cmd.arg("--drop-during-data")
                .arg(opts.drop_during_data.to_string());
        }
        cmd.args(&opts.extra);
        let stderr = std::fs::File::create(&stderr_path).unwrap();
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start python3 {}: {e}", script.display()));

        // Read the READY line on a thread so a server that never speaks cannot hang us.
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            let mut line = String::new();
            let res = r.read_line(&mut line).map(|_| line);
            let _ = tx.send(res);
            // Keep draining so the server never blocks on a full pipe.
            let mut sink = Vec::new();
            let _ = std::io::Read::read_to_end(&mut r, &mut sink);
        });
        let line = rx.recv_timeout(READY_TIMEOUT);
        let port = match &line {
            Ok(Ok(l)) => l
                .trim()
                .strip_prefix("READY ")
                .and_then(|p| p.parse::<u16>().ok()),
            _ => None,
        };
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            let err = std::fs::read_to_string(&stderr_path).unwrap_or_default();
            panic!(
                "the test SMTP server did not become ready (got {line:?}); is aiosmtpd installed? \
                 (pip install aiosmtpd)\n--- server stderr ---\n{err}"
            );
        };
        SmtpServer {
            child,
            port,
            dir,
            maildir,
            stderr_path,
        }
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// One entry per transaction that reached DATA: "250", "451", "drop", "stall".
    pub fn transactions(&self) -> Vec<String> {
        std::fs::read_to_string(self.maildir.join("transactions.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Every message received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        let mut out = Vec::new();
        for n in 1.. {
            let json = self.maildir.join(format!("{n}.json"));
            if !json.exists() {
                break;
            }
            let meta: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
            let raw = std::fs::read(self.maildir.join(format!("{n}.eml"))).unwrap();
            out.push(Received {
                raw,
                mail_from: meta["mail_from"].as_str().unwrap_or_default().to_string(),
                rcpt_tos: meta["rcpt_tos"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap().to_string())
                    .collect(),
                mail_options: meta["mail_options"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
                queue_id: meta["queue_id"].as_str().unwrap().to_string(),
                authenticated: meta["auth"].as_bool().unwrap_or(false),
                python: meta["python"].clone(),
                tls: meta["tls"].as_bool().unwrap_or(false),
                peer_port: meta["peer_port"].as_u64().unwrap_or(0) as u16,
            });
        }
        out
    }

    /// The one message received; fails the test (with the server's log) otherwise.
    pub fn only_message(&self) -> Received {
        let r = self.received();
        assert_eq!(
            r.len(),
            1,
            "expected exactly one delivered message, got {}\n--- server stderr ---\n{}",
            r.len(),
            self.stderr()
        );
        let m = r.into_iter().next().unwrap();
        // Every delivered message must also read cleanly with Python's email package.
        assert!(
            m.python.get("error").is_none()
                && m.python["defects"].as_array().is_some_and(|d| d.is_empty()),
            "Python's email package finds problems: {}\n{}",
            m.python,
            String::from_utf8_lossy(&m.raw)
        );
        m
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A 127.0.0.1 port with nothing listening on it (bound, then released).
pub fn dead_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

// ---------------------------------------------------------------------------------------
// missive, hermetic
// ---------------------------------------------------------------------------------------

/// A temp home for one test: XDG config and data dirs, files to attach, and the binary.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub config_home: PathBuf,
    pub data_home: PathBuf,
    /// Extra environment for every run (e.g. a password_env variable).
    pub vars: Vec<(String, String)>,
}

pub const TEST_USER: &str = "ada@example.com";
pub const TEST_PASSWORD: &str = "correct horse battery staple";

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let config_home = dir.path().join("config");
        let data_home = dir.path().join("data");
        std::fs::create_dir_all(config_home.join("missive")).unwrap();
        std::fs::create_dir_all(&data_home).unwrap();
        Env {
            dir,
            config_home,
            data_home,
            vars: Vec::new(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn config_path(&self) -> PathBuf {
        self.config_home.join("missive/config.toml")
    }

    pub fn write_config(&self, toml: &str) {
        std::fs::write(self.config_path(), toml).unwrap();
    }

    /// Write a file under the temp dir and return its path.
    pub fn file(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.dir.path().join("files").join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
        p
    }

    pub fn outbox_dir(&self) -> PathBuf {
        self.data_home.join("missive/outbox")
    }

    /// The outbox's messages as (eml path, meta json), sorted by name.
    pub fn outbox(&self) -> Vec<(PathBuf, serde_json::Value)> {
        let Ok(rd) = std::fs::read_dir(self.outbox_dir()) else {
            return Vec::new();
        };
        let mut v: Vec<_> = rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .map(|json| {
                let meta: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
                (json.with_extension("eml"), meta)
            })
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// Every file in the outbox dir (except the flush lock), to show nothing was written.
    pub fn outbox_files(&self) -> Vec<PathBuf> {
        let Ok(rd) = std::fs::read_dir(self.outbox_dir()) else {
            return Vec::new();
        };
        rd.filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| !p.ends_with(".flush.lock"))
            .collect()
    }

    /// `missive` with this env: XDG dirs and HOME here, nothing inherited that matters.
    pub fn std_cmd(&self) -> StdCommand {
        let mut c = StdCommand::new(env!("CARGO_BIN_EXE_missive"));
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("USER", "tester")
            .env("XDG_CONFIG_HOME", &self.config_home)
            .env("XDG_DATA_HOME", &self.data_home)
            .env("XDG_CACHE_HOME", self.dir.path().join("cache"))
            .env("LANG", "C.UTF-8")
            .current_dir(self.dir.path());
        for (k, v) in &self.vars {
            c.env(k, v);
        }
        c
    }

    /// As `std_cmd`, for assert_cmd (stdin, assertions), with a timeout.
    pub fn cmd(&self) -> assert_cmd::Command {
        let mut c = assert_cmd::Command::from_std(self.std_cmd());
        c.timeout(Duration::from_secs(60));
        c
    }

    /// Run `missive ARGS` and return its output (any exit status).
    pub fn run<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let out = self.cmd().args(args).output().unwrap();
        Run(out)
    }
}

impl Default for Env {
    fn default() -> Self {
        Env::new()
    }
}

/// A finished run, with readable accessors and assertions that show both streams.
pub struct Run(pub Output);

impl Run {
    pub fn code(&self) -> Option<i32> {
        self.0.status.code()
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }
    pub fn describe(&self) -> String {
        format!(
            "exit {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code(),
            self.stdout(),
            self.stderr()
        )
    }
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code(), Some(code), "{}", self.describe());
        self
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.0.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON value: {e}\n{}", self.describe()))
    }
    /// Neither stream carries `secret`.
    #[track_caller]
    pub fn assert_no_secret(&self, secret: &str) {
        assert!(
            !self.stdout().contains(secret) && !self.stderr().contains(secret),
            "a secret leaked into the output\n{}",
            self.describe()
        );
    }
}

/// An SMTP transport section for `server`, named `t` and the default.
pub struct SmtpCfg<'a> {
    /// "127.0.0.1" unless changed (e.g. "localhost" to verify a DNS name).
    pub host: String,
    pub port: u16,
    pub mode: Mode,
    pub certs: Option<&'a Certs>,
    /// Trust this CA instead of the test CA (untrusted-certificate test).
    pub ca_override: Option<PathBuf>,
    /// Extra lines for the `[transport.t]` table (username, password_cmd, auth, ...).
    pub extra: Vec<String>,
}

impl<'a> SmtpCfg<'a> {
    pub fn new(port: u16, mode: Mode, certs: Option<&'a Certs>) -> Self {
        SmtpCfg {
            host: "127.0.0.1".into(),
            port,
            mode,
            certs,
            ca_override: None,
            extra: Vec::new(),
        }
    }
    pub fn line(mut self, l: impl Into<String>) -> Self {
        self.extra.push(l.into());
        self
    }
    /// username + password_env (the env var is set on `env`'s runs).
    pub fn password_env(self, env: &mut Env, user: &str, password: &str) -> Self {
        env.vars
            .push(("MISSIVE_TEST_PASSWORD".into(), password.to_string()));
        self.line(format!("username = {}", toml_str(user)))
            .line("password_env = \"MISSIVE_TEST_PASSWORD\"")
    }
    pub fn toml(&self) -> String {
        let mut s = String::new();
        s.push_str("default = \"t\"\n");
        s.push_str("from = \"Ada Lovelace <ada@example.com>\"\n\n");
        s.push_str(&format!(
            "[transport.t]\nkind = \"smtp\"\nhost = {}\n",
            toml_str(&self.host)
        ));
        s.push_str(&format!("port = {}\n", self.port));
        s.push_str(&format!("security = \"{}\"\n", self.mode.security()));
        if !self.extra.iter().any(|l| l.starts_with("timeout")) {
            s.push_str("timeout = 10\n");
        }
        let ca = self
            .ca_override
            .clone()
            .or_else(|| self.certs.map(|c| c.ca.clone()));
        if let (Some(ca), true) = (ca, self.mode != Mode::Plain) {
            s.push_str(&format!("ca_file = {}\n", toml_str(ca.to_str().unwrap())));
        }
        for l in &self.extra {
            s.push_str(l);
            s.push('\n');
        }
        s
    }
}

/// A TOML basic string.
pub fn toml_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// ---------------------------------------------------------------------------------------
// Reading messages back
// ---------------------------------------------------------------------------------------

pub fn parse(raw: &[u8]) -> mail_parser::Message<'_> {
    MessageParser::default()
        .parse(raw)
        .expect("mail-parser could not parse the message")
}

/// The MIME tree as a compact string: `multipart/mixed[multipart/alternative[text/plain,text/html],application/pdf]`.
pub fn structure(m: &mail_parser::Message<'_>) -> String {
    fn part(m: &mail_parser::Message<'_>, id: u32, out: &mut String) {
        let p = m.part(id).unwrap();
        let ct = p
            .content_type()
            .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("")))
            .unwrap_or_else(|| "text/plain".into());
        out.push_str(&ct.to_ascii_lowercase());
        if let PartType::Multipart(children) = &p.body {
            out.push('[');
            for (i, c) in children.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                part(m, *c, out);
            }
            out.push(']');
        }
    }
    let mut s = String::new();
    part(m, 0, &mut s);
    s
}

/// The raw header block's lines (unfolded), as (name, value).
pub fn raw_headers(raw: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(raw);
    let head = text.split("\r\n\r\n").next().unwrap_or("");
    let mut out: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with(' ') || line.starts_with('\t') {
            if let Some(last) = out.last_mut() {
                last.1.push_str(line);
            }
        } else if let Some((k, v)) = line.split_once(':') {
            out.push((k.to_string(), v.trim().to_string()));
        }
    }
    out
}

/// Lines of `raw` split on CRLF; panics on a bare LF or CR (not valid on the wire).
pub fn crlf_lines(raw: &[u8]) -> Vec<&[u8]> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'\r' if raw.get(i + 1) == Some(&b'\n') => {
                lines.push(&raw[start..i]);
                i += 2;
                start = i;
            }
            b'\r' | b'\n' => panic!("bare CR or LF at byte {i}"),
            _ => i += 1,
        }
    }
    if start < raw.len() {
        lines.push(&raw[start..]);
    }
    lines
}

/// Replace MIME boundaries and the Date / Message-ID values, so two builds of the same
/// message compare equal byte for byte.
pub fn normalize(raw: &[u8]) -> String {
    let mut text = String::from_utf8(raw.to_vec()).expect("not 7-bit clean");
    let mut boundaries = Vec::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find("boundary=\"") {
        let after = &rest[i + 10..];
        let end = after.find('"').unwrap();
        boundaries.push(after[..end].to_string());
        rest = &after[end..];
    }
    for (n, b) in boundaries.iter().enumerate() {
        text = text.replace(b.as_str(), &format!("BOUNDARY-{n}"));
    }
    let mut out = String::new();
    let mut skip = false;
    for line in text.split_inclusive("\r\n") {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("date:") || lower.starts_with("message-id:") {
            skip = true;
            out.push_str(&line[..line.find(':').unwrap() + 1]);
            out.push_str(" X\r\n");
            continue;
        }
        if skip && (line.starts_with(' ') || line.starts_with('\t')) {
            continue;
        }
        skip = false;
        out.push_str(line);
    }
    out
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Random bytes for attachments.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    getrandom::fill(&mut v).unwrap();
    v
}
