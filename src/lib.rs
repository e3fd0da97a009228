//! missive: a terminal mail composer. The library is the engine (config, message model,
//! MIME building, transports, outbox, drafts) shared by the command line and the composer.

pub mod cli;
pub mod cli_queue;
pub mod config;
pub mod display;
pub mod drafts;
pub mod engine;
pub mod flush;
pub mod gmail;
pub mod lock;
pub mod logging;
pub mod message;
pub mod mime_tree;
pub mod outbox;
pub mod outbox_edit;
pub mod paths;
pub mod secret;
pub mod sent_log;
pub mod transport;
pub mod ui;
