//! missive: a terminal mail composer. The library is the engine (config, message model,
//! MIME building, transports, outbox, drafts) shared by the command line and the composer.

pub mod address;
pub mod args;
pub mod attachment;
pub mod authorize;
pub mod cli;
pub mod cli_queue;
pub mod cli_send;
pub mod command;
pub mod config;
pub mod contacts;
pub mod copy;
pub mod drafts;
pub mod engine;
pub mod escape;
pub mod flush;
pub mod http;
pub mod identity;
pub mod lock;
pub mod logging;
pub mod message;
pub mod mime_tree;
pub mod oauth;
pub mod os_path;
pub mod outbox;
pub mod outbox_edit;
pub mod paths;
pub mod raw;
pub mod redact;
pub mod regular_file;
pub mod relay;
pub mod reply;
pub mod secret;
pub mod sendmail_cmd;
pub mod sent_log;
pub mod signature;
pub mod transport;
pub mod ui;

/// The Gmail transport lives under `transport/`; the old path stays for callers.
pub use transport::gmail;
