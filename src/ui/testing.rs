//! Fixtures for the composer's snapshot tests, key-handling tests and benchmark: a fixed
//! config and fixed paths, so nothing on screen depends on the machine, the date or a
//! temporary directory. Nothing here touches the disk unless a test asks for it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ratatui::backend::TestBackend;
use ratatui::Terminal;

use super::app::{App, Init};
use crate::config::Config;
use crate::engine::Engine;
use crate::message::Draft;
use crate::paths::Paths;

pub const CONFIG: &str = r#"
default = "work"
from = "Ada Lovelace <ada@example.com>"

[transport.work]
kind = "smtp"
host = "smtp.example.com"
port = 587
security = "starttls"
username = "ada@example.com"
password_env = "MISSIVE_TEST_PASSWORD"

[transport.gmail]
kind = "gmail"
client_secret = "/home/ada/.config/missive/credentials.json"

[transport.archive]
kind = "file"
dir = "/home/ada/mail/outgoing"
from = "Ada Archive <ada@archive.example>"

[transport.local]
kind = "sendmail"
command = "/usr/sbin/sendmail"
"#;

/// An engine with [`CONFIG`] and paths under `data` (fixed, so the built-in file
/// transport's directory is the same everywhere).
pub fn engine_at(data: &Path) -> Arc<Engine> {
    let paths = Paths::at(data.join("config"), data.to_path_buf());
    let config = Config::parse(
        CONFIG,
        Path::new("/home/ada/.config/missive/config.toml"),
        &paths,
    )
    .unwrap_or_else(|e| panic!("fixture config: {e}"));
    Arc::new(Engine::new(paths, config))
}

/// Identities added to [`CONFIG`] for the identity picker's screens and tests.
pub const IDENTITIES: &str = r#"
[identity.work]
from = "Ada Lovelace <ada@work.example>"
transport = "work"
reply_to = "Team <team@work.example>"
signature = "Ada Lovelace\nAnalytical Engines Ltd.\n+44 20 7946 0000"

[identity.home]
from = "에이다 <ada@home.example>"
transport = "archive"
signature = "— Ada"

[identity.lists]
from = "Ada L. <ada+lists@example.com>"
"#;

/// As [`engine`], with [`IDENTITIES`] configured.
pub fn identity_engine() -> Arc<Engine> {
    let data = Path::new("/home/ada/.local/share/missive");
    let paths = Paths::at(data.join("config"), data.to_path_buf());
    let config = Config::parse(
        &format!("{CONFIG}{IDENTITIES}"),
        Path::new("/home/ada/.config/missive/config.toml"),
        &paths,
    )
    .unwrap_or_else(|e| panic!("fixture config: {e}"));
    Arc::new(Engine::new(paths, config))
}

/// The engine for screens that never write: its data dir is a fixed path.
pub fn engine() -> Arc<Engine> {
    engine_at(Path::new("/home/ada/.local/share/missive"))
}

/// A composer on `draft`, sized `w` × `h`, with a fixed draft id.
pub fn app_with(engine: Arc<Engine>, draft: Draft, cwd: PathBuf, w: u16, h: u16) -> App {
    let mut app = App::new(
        engine,
        Init {
            draft,
            draft_id: "20261124-120000-abcd".into(),
            reopened: false,
            transport: None,
            cwd,
            offer: None,
        },
    );
    app.resize(w, h);
    app
}

/// A typical message: Korean subject, two recipients, a short body.
pub fn sample_draft() -> Draft {
    Draft {
        to: vec!["Bob <bob@example.net>, carol@example.org".into()],
        cc: vec!["dave@example.com".into()],
        subject: "회의 자료 — meeting notes".into(),
        text: Some(
            "Hi Bob,\n\n내일 회의 자료를 첨부합니다. The agenda is below.\n\n1. Budget\n2. Timeline\n\n— Ada"
                .into(),
        ),
        ..Default::default()
    }
}

/// Draw the app on a test terminal of its own size.
pub fn render(app: &App) -> Terminal<TestBackend> {
    let mut term = Terminal::new(TestBackend::new(app.screen.width, app.screen.height))
        .unwrap_or_else(|e| match e {});
    term.draw(|f| super::view::draw(f, app))
        .unwrap_or_else(|e| match e {});
    term
}

/// Aliases and a recipient history for the completion screens and benchmark, all used
/// "just now" so the ranking does not depend on the date.
pub fn sample_contacts() -> (Arc<crate::contacts::Book>, Arc<crate::contacts::Aliases>) {
    use crate::contacts::{Aliases, Book, Used};
    let aliases = Aliases::parse(
        "alias ann Ann Smith <ann@example.com>\n\
         alias team ann, \"Doe, Bob\" <bob@example.net>\n",
    )
    .unwrap_or_else(|(l, e)| panic!("fixture aliases:{l}: {e}"));
    let now = crate::contacts::now();
    let used = |name: Option<&str>, address: &str, count: u32| Used {
        address: address.into(),
        name: name.map(str::to_string),
        count,
        last: now,
    };
    let history = vec![
        used(Some("Anna Karenina"), "anna@example.ru", 9),
        used(Some("Dan Abramov"), "dan@example.org", 3),
        used(Some("Álvaro Díaz"), "alvaro@example.es", 1),
        used(Some("김하나"), "hana@example.kr", 2),
        used(None, "carol@example.org", 4),
    ];
    (Arc::new(Book::new(history, &aliases)), Arc::new(aliases))
}
