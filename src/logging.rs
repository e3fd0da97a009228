//! Logs go to a file in the data dir (RUST_LOG filters), never to the terminal: the
//! composer owns the screen, and scripts read stdout.

use std::sync::Mutex;

use crate::paths::{create_private_dir, open_append_private, secure_tree, Paths};

pub fn init(paths: &Paths) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("missive=info"));
    // Every entry point starts here, so this is where the data dir is made private: it
    // holds drafts, the outbox (with Bcc recipients), sent copies and tokens.
    if create_private_dir(&paths.data_dir).is_err() {
        return;
    }
    if let Err(e) = secure_tree(&paths.data_dir) {
        eprintln!(
            "missive: warning: cannot make {} private: {e}",
            paths.data_dir.display()
        );
    }
    let Ok(file) = open_append_private(&paths.log_file()) else {
        return;
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(Mutex::new(file))
        .try_init();
}
