//! A real IMAP server for the sent-copy tests: Debian's Dovecot, started with its own
//! config in a temp dir (passwd-file auth, a Maildir per user, TLS with the test CA's
//! leaf certificate) on 127.0.0.1, killed on drop. Read back with Python's imaplib, an
//! IMAP client independent of missive's.

use std::io::Read;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::Certs;

pub const DOVECOT: &str = "/usr/sbin/dovecot";
pub const IMAP_USER: &str = "ada";
pub const IMAP_PASSWORD: &str = "imap pass phrase 42";

pub struct Dovecot {
    pub dir: tempfile::TempDir,
    child: Child,
    /// Implicit TLS.
    pub port_tls: u16,
    /// Plain, for STARTTLS.
    pub port_starttls: u16,
}

fn free_port() -> u16 {
    super::dead_port()
}

/// Dovecot is installed (by `.ci/run`, or `apt-get install dovecot-imapd`).
pub fn available() -> bool {
    Path::new(DOVECOT).exists()
}

impl Dovecot {
    pub fn start(certs: &Certs) -> Dovecot {
        assert!(
            available(),
            "{DOVECOT} is missing: apt-get install -y dovecot-imapd (as .ci/run does)"
        );
        let dir = tempfile::Builder::new()
            .prefix("dovecot")
            .tempdir()
            .unwrap();
        let d = dir.path();
        use std::os::unix::fs::PermissionsExt;
        // Dovecot's mail processes run as the `dovecot` user and must reach the mail dir.
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
        for sub in ["run", "state", "mail"] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        std::fs::set_permissions(d.join("mail"), std::fs::Permissions::from_mode(0o777)).unwrap();
        std::fs::write(
            d.join("passwd"),
            format!("{IMAP_USER}:{{PLAIN}}{IMAP_PASSWORD}\n"),
        )
        .unwrap();
        let port_tls = free_port();
        let port_starttls = free_port();
        let p = |x: &str| d.join(x).display().to_string();
        let conf = format!(
            r#"base_dir = {run}
state_dir = {state}
log_path = {log}
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
auth_mechanisms = plain login
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = 1
mail_location = maildir:{mail}/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {passwd}
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={mail}/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {port_starttls}
  }}
  inet_listener imaps {{
    port = {port_tls}
    ssl = yes
  }}
}}
"#,
            run = p("run"),
            state = p("state"),
            log = p("dovecot.log"),
            cert = certs.leaf_cert.display(),
            key = certs.leaf_key.display(),
            mail = p("mail"),
            passwd = p("passwd"),
        );
        std::fs::write(d.join("dovecot.conf"), conf).unwrap();
        let child = Command::new(DOVECOT)
            .arg("-F")
            .arg("-c")
            .arg(d.join("dovecot.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut dv = Dovecot {
            dir,
            child,
            port_tls,
            port_starttls,
        };
        dv.wait_ready();
        dv
    }

    /// Ready once the plain listener greets with `* OK`.
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                panic!("dovecot exited ({status}): {err}\n{}", self.log());
            }
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port_starttls)) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let mut buf = [0u8; 4];
                if s.read_exact(&mut buf).is_ok() && &buf == b"* OK" {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "dovecot did not listen within 20 s\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }

    pub fn maildir(&self) -> PathBuf {
        self.dir.path().join("mail").join(IMAP_USER)
    }

    /// Every message in `folder` as (flags, exact bytes), read with Python's imaplib.
    pub fn fetch_all(&self, certs: &Certs, folder: &str) -> Vec<(String, Vec<u8>)> {
        let script = r#"
import imaplib, ssl, sys, json, base64
ctx = ssl.create_default_context(cafile=sys.argv[2])
m = imaplib.IMAP4_SSL('localhost', int(sys.argv[1]), ssl_context=ctx)
m.login(sys.argv[3], sys.argv[4])
typ, _ = m.select('"' + sys.argv[5] + '"', readonly=True)
out = []
if typ == 'OK':
    typ, data = m.search(None, 'ALL')
    for num in data[0].split():
        typ, d = m.fetch(num, '(FLAGS BODY.PEEK[])')
        flags = d[0][0].decode()
        out.append([flags, base64.b64encode(d[0][1]).decode()])
print(json.dumps(out))
"#;
        let out = Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(self.port_tls.to_string())
            .arg(&certs.ca)
            .arg(IMAP_USER)
            .arg(IMAP_PASSWORD)
            .arg(folder)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "imaplib failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        let v: Vec<(String, String)> = serde_json::from_slice(&out.stdout).unwrap();
        use base64::Engine as _;
        v.into_iter()
            .map(|(f, b)| {
                (
                    f,
                    base64::engine::general_purpose::STANDARD.decode(b).unwrap(),
                )
            })
            .collect()
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        // The master's children follow it when it goes.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
