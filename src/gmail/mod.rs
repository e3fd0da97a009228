//! Gmail API transport and Google OAuth (installed-app flow). Being built: see issue 3.

use std::sync::Arc;

use crate::config::GmailConfig;
use crate::paths::Paths;
use crate::transport::smtp::TokenProvider;
use crate::transport::{Stage, Transport, TransportError};

/// Gmail's limit for a message sent through the API (35 MiB).
pub const MAX_MESSAGE_BYTES: u64 = 36_700_160;

pub fn transport(
    name: &str,
    _cfg: &GmailConfig,
    _paths: &Paths,
) -> Result<Box<dyn Transport>, TransportError> {
    Err(TransportError::user(
        Stage::Config,
        format!("transport {name:?}: the gmail kind is not built yet"),
    ))
}

pub fn token_provider(
    name: &str,
    _cfg: &GmailConfig,
    _paths: &Paths,
) -> Result<Arc<dyn TokenProvider>, TransportError> {
    Err(TransportError::user(
        Stage::Config,
        format!("transport {name:?}: the gmail kind is not built yet"),
    ))
}

pub async fn auth_command(
    _engine: &crate::engine::Engine,
    transport: &str,
    _no_browser: bool,
) -> i32 {
    eprintln!("missive: auth for {transport:?}: the gmail kind is not built yet");
    crate::cli::EXIT_INPUT
}
