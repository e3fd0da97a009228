//! `send`, `preview` and `check`: flags → `Draft` → engine, for scripts. A thin shell;
//! all decisions live in the engine so the composer behaves the same.

use std::io::Write;

use crate::args::{
    err_line, MessageArgs, PreviewArgs, SendArgs, EXIT_INPUT, EXIT_OK, EXIT_TRANSPORT,
};
use crate::engine::{Engine, InputError, Prepared, SendError, SendReport};

fn prepare(engine: &Engine, args: &MessageArgs) -> Result<Prepared, InputError> {
    let draft = args.new_draft(engine)?;
    let p = engine.prepare(&draft, args.transport.as_deref());
    if p.is_err() {
        // Nothing will refer to a forward's kept attachments.
        crate::reply::staged::release(&engine.paths, &draft);
    }
    p
}

pub fn print_report(r: &SendReport, json: bool) {
    let mut out = std::io::stdout().lock();
    if json {
        let _ = writeln!(out, "{}", crate::escape::json_line(r));
        return;
    }
    let _ = crate::say_to!(out, "Sent via {} ({})", r.transport, r.kind);
    let _ = crate::say_to!(out, "Message-ID: {}", r.message_id);
    if let Some(id) = &r.server_id {
        let _ = crate::say_to!(out, "Server id: {id}");
    }
    if let Some(t) = &r.thread_id {
        let _ = crate::say_to!(out, "Thread id: {t}");
    }
    if let Some(resp) = &r.response {
        let _ = crate::say_to!(out, "Response: {resp}");
    }
    if let Some(p) = &r.path {
        let _ = crate::say_to!(out, "Path: {}", p.display());
    }
    let _ = crate::say_to!(out, "Recipients: {}", r.recipients.join(", "));
    let _ = crate::say_to!(out, "Bytes: {}", r.bytes);
    if let Some(c) = &r.copy {
        let _ = crate::say_to!(out, "{}", c.summary());
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
                println!("{}", crate::escape::json_line(&v));
            }
            EXIT_TRANSPORT
        }
    }
}

pub fn preview(engine: &Engine, a: &PreviewArgs) -> i32 {
    let prepared = a.message.new_draft(engine).and_then(|d| {
        let p = engine.prepare_preview(&d, a.message.transport.as_deref());
        // The bytes are built: a forward's kept attachments are not needed again.
        crate::reply::staged::release(&engine.paths, &d);
        p
    });
    let p = match prepared {
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
        let _ = writeln!(out, "{}", crate::escape::json_line(&v));
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
    let _ = crate::say_to!(
        out,
        "Envelope: from {} to {}",
        p.built.envelope.from,
        p.built.envelope.to.join(", ")
    );
    let _ = writeln!(out);
    for (k, v) in &tree.headers {
        let _ = crate::say_to!(out, "{k}: {v}");
    }
    let _ = writeln!(out);
    for l in tree.render_lines() {
        let _ = crate::say_to!(out, "{l}");
    }
    EXIT_OK
}

pub async fn check(engine: &Engine, name: Option<&str>) -> i32 {
    match engine.check(name).await {
        Ok((name, report)) => {
            crate::say!("{name}: OK");
            for l in report.lines {
                crate::say!("  {l}");
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
