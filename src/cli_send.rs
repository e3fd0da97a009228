//! `send`, `preview` and `check`: flags → `Draft` → engine, for scripts. A thin shell;
//! all decisions live in the engine so the composer behaves the same.

use std::io::Write;

use crate::args::{
    err_line, MessageArgs, PreviewArgs, SendArgs, EXIT_INPUT, EXIT_OK, EXIT_TRANSPORT,
};
use crate::engine::{Engine, InputError, Prepared, SendError, SendReport};
use crate::message::Draft;

/// The draft the flags describe, written as its identity (From, Reply-To, signature).
fn draft_of(engine: &Engine, args: &MessageArgs) -> Result<Draft, InputError> {
    let mut draft = args.to_draft()?;
    args.apply_identity(engine, &mut draft)?;
    Ok(draft)
}

fn prepare(engine: &Engine, args: &MessageArgs) -> Result<Prepared, InputError> {
    engine.prepare(&draft_of(engine, args)?, args.transport.as_deref())
}

pub fn print_report(r: &SendReport, json: bool) {
    let mut out = std::io::stdout().lock();
    if json {
        let _ = writeln!(out, "{}", serde_json::to_string(r).unwrap_or_default());
        return;
    }
    let _ = writeln!(out, "Sent via {} ({})", r.transport, r.kind);
    let _ = writeln!(out, "Message-ID: {}", r.message_id);
    if let Some(id) = &r.server_id {
        let _ = writeln!(out, "Server id: {id}");
    }
    if let Some(t) = &r.thread_id {
        let _ = writeln!(out, "Thread id: {t}");
    }
    if let Some(resp) = &r.response {
        let _ = writeln!(out, "Response: {resp}");
    }
    if let Some(p) = &r.path {
        let _ = writeln!(out, "Path: {}", p.display());
    }
    let _ = writeln!(out, "Recipients: {}", r.recipients.join(", "));
    let _ = writeln!(out, "Bytes: {}", r.bytes);
    if let Some(c) = &r.copy {
        let _ = writeln!(out, "{}", c.summary());
    }
}

pub async fn send(engine: &Engine, a: &SendArgs) -> i32 {
    let p = match prepare(engine, &a.message) {
        Ok(p) => p,
        Err(e) => {
            err_line(e);
            return EXIT_INPUT;
        }
    };
    match engine.send(&p, &crate::transport::no_progress).await {
        Ok(r) => {
            print_report(&r, a.json);
            EXIT_OK
        }
        Err(SendError::Input(e)) => {
            err_line(e);
            EXIT_INPUT
        }
        Err(SendError::Transport {
            error,
            outbox,
            outbox_error,
        }) => {
            err_line(format!("sending via {} failed: {error}", p.transport));
            if let Some(path) = &outbox {
                err_line(format!(
                    "the message is kept in the outbox: {} (retry with `missive outbox flush`)",
                    path.display()
                ));
            }
            if let Some(e) = &outbox_error {
                err_line(e);
            }
            if a.json {
                let v = serde_json::json!({
                    "error": error.to_string(),
                    "stage": error.stage,
                    "code": error.code,
                    "transient": error.transient,
                    "message_id": p.built.message_id,
                    "transport": p.transport,
                    "outbox": outbox,
                    "outbox_error": outbox_error,
                    "uncertain": error.uncertain,
                    "permanent": error.is_permanent(),
                });
                println!("{v}");
            }
            EXIT_TRANSPORT
        }
    }
}

pub fn preview(engine: &Engine, a: &PreviewArgs) -> i32 {
    let p = match draft_of(engine, &a.message)
        .and_then(|d| engine.prepare_preview(&d, a.message.transport.as_deref()))
    {
        Ok(p) => p,
        Err(e) => {
            err_line(e);
            return EXIT_INPUT;
        }
    };
    let mut out = std::io::stdout().lock();
    if a.raw {
        let _ = out.write_all(&p.built.raw);
        return EXIT_OK;
    }
    let Some(tree) = p.tree() else {
        err_line("internal error: the built message could not be read back");
        return EXIT_TRANSPORT;
    };
    if a.json {
        let mut v = tree.to_json();
        if let Some(o) = v.as_object_mut() {
            o.insert("transport".into(), p.transport.clone().into());
            o.insert("size_limit".into(), p.size_limit.into());
        }
        let _ = writeln!(out, "{v}");
        return EXIT_OK;
    }
    let _ = writeln!(
        out,
        "Transport: {} ({})    Size: {} ({} bytes)",
        p.transport,
        p.kind,
        crate::mime_tree::human_size(tree.total_size),
        tree.total_size
    );
    if let Some(limit) = p.size_limit {
        let over = if tree.total_size > limit {
            "  — OVER THE LIMIT, sending will be refused"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "Limit: {} ({limit} bytes){over}",
            crate::mime_tree::human_size(limit)
        );
    }
    let _ = writeln!(
        out,
        "Envelope: from {} to {}",
        p.built.envelope.from,
        p.built.envelope.to.join(", ")
    );
    let _ = writeln!(out);
    for (k, v) in &tree.headers {
        let _ = writeln!(out, "{k}: {v}");
    }
    let _ = writeln!(out);
    for l in tree.render_lines() {
        let _ = writeln!(out, "{l}");
    }
    EXIT_OK
}

pub async fn check(engine: &Engine, name: Option<&str>) -> i32 {
    match engine.check(name).await {
        Ok((name, report)) => {
            println!("{name}: OK");
            for l in report.lines {
                println!("  {l}");
            }
            EXIT_OK
        }
        Err(e) => {
            let label = name.map(str::to_string).unwrap_or_else(|| {
                engine
                    .config
                    .default_transport()
                    .map(|t| t.name.clone())
                    .unwrap_or_default()
            });
            err_line(format!("{label}: {e}"));
            if e.is_config() {
                EXIT_INPUT
            } else {
                EXIT_TRANSPORT
            }
        }
    }
}
