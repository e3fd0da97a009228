//! The contact sources: `aliases` (a mutt aliases file) and `address_book_cmd` (aerc's
//! convention), with `address_book_timeout` bounding the command's run.

use std::path::PathBuf;

use toml::Spanned;

use super::{ConfigError, Ctx};

/// Seconds an address-book command may run by default.
pub const DEFAULT_BOOK_TIMEOUT: u64 = 5;
const MAX_BOOK_TIMEOUT: u64 = 120;

#[derive(Debug, Clone, PartialEq)]
pub struct ContactsConfig {
    pub aliases: Option<PathBuf>,
    pub address_book_cmd: Option<String>,
    pub address_book_timeout_secs: u64,
}

impl Default for ContactsConfig {
    fn default() -> Self {
        ContactsConfig {
            aliases: None,
            address_book_cmd: None,
            address_book_timeout_secs: DEFAULT_BOOK_TIMEOUT,
        }
    }
}

pub(super) fn contacts(
    ctx: &Ctx<'_>,
    aliases: Option<Spanned<String>>,
    cmd: Option<Spanned<String>>,
    timeout: Option<Spanned<u64>>,
) -> Result<ContactsConfig, ConfigError> {
    let mut c = ContactsConfig::default();
    if let Some(a) = aliases {
        if a.get_ref().trim().is_empty() {
            return Err(ctx.err(
                Some(a.span()),
                "aliases",
                "expected the path of a mutt aliases file, e.g. \"~/.config/missive/aliases\"",
            ));
        }
        c.aliases = Some(crate::paths::expand_tilde(a.get_ref()));
    }
    if let Some(cmd) = cmd {
        if cmd.get_ref().trim().is_empty() {
            return Err(ctx.err(
                Some(cmd.span()),
                "address_book_cmd",
                "expected a command, e.g. \"khard email --parsable %s\" (%s is the typed text)",
            ));
        }
        c.address_book_cmd = Some(cmd.into_inner());
    }
    if let Some(t) = timeout {
        let v = *t.get_ref();
        if !(1..=MAX_BOOK_TIMEOUT).contains(&v) {
            return Err(ctx.err(
                Some(t.span()),
                "address_book_timeout",
                format!("expected seconds from 1 to {MAX_BOOK_TIMEOUT}, found {v}"),
            ));
        }
        c.address_book_timeout_secs = v;
    }
    Ok(c)
}
