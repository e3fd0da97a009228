//! Logs go to a file in the data dir (RUST_LOG filters), never to the terminal: the
//! composer owns the screen, and scripts read stdout.

use std::sync::Mutex;

use crate::paths::Paths;

pub fn init(paths: &Paths) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("missive=info"));
    if std::fs::create_dir_all(&paths.data_dir).is_err() {
        return;
    }
    let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(paths.log_file())
    else {
        return;
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(Mutex::new(file))
        .try_init();
}
