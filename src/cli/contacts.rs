//! `missive contacts [QUERY] [--json]`: the matches from every contact source, best
//! first. The plain output is aerc's address-book format (`address<TAB>name<TAB>source`),
//! so missive itself can serve as another program's `address-book-cmd`.

use std::io::Write;

use crate::engine::Engine;

use super::{err_line, EXIT_INPUT, EXIT_OK};

pub fn run(engine: &Engine, query: &str, json: bool, rt: &tokio::runtime::Runtime) -> i32 {
    let (found, warnings) = match rt.block_on(engine.search_contacts(query, usize::MAX)) {
        Ok(r) => r,
        Err(e) => {
            err_line(e);
            return EXIT_INPUT;
        }
    };
    for w in &warnings {
        err_line(format!("warning: {w}"));
    }
    let mut out = std::io::stdout().lock();
    if json {
        let _ = writeln!(out, "{}", crate::escape::json_line(&found));
        return EXIT_OK;
    }
    for c in &found {
        let name = c.name.as_deref().unwrap_or("");
        let _ = writeln!(
            out,
            "{}\t{}\t{}",
            crate::escape::escape(&c.address),
            crate::escape::escape(name),
            c.source.label()
        );
    }
    if found.is_empty() && !query.trim().is_empty() {
        err_line(format!(
            "no contact matches {:?}",
            crate::escape::cut(query, 80)
        ));
    }
    EXIT_OK
}
