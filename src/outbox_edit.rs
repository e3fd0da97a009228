//! `outbox edit` for entries queued without a draft (by `sendmail` or the relay): the
//! message is read back into a draft with a real MIME parser, attachments saved beside
//! the drafts so the composer can attach them again.

use mail_parser::{MessageParser, MimeHeaders, PartType};

use crate::engine::Engine;
use crate::message::{AttachmentSpec, Draft};
use crate::outbox::OutboxEntry;

fn addresses(a: Option<&mail_parser::Address<'_>>) -> Vec<String> {
    let Some(a) = a else {
        return Vec::new();
    };
    a.iter()
        .filter_map(|m| {
            let addr = m.address()?;
            Some(match m.name() {
                Some(n) if !n.is_empty() => {
                    format!(
                        "\"{}\" <{addr}>",
                        n.replace('\\', "\\\\").replace('"', "\\\"")
                    )
                }
                _ => addr.to_string(),
            })
        })
        .collect()
}

pub fn draft_from_eml(engine: &Engine, entry: &OutboxEntry) -> Result<Draft, String> {
    let raw = std::fs::read(&entry.eml).map_err(|e| format!("{}: {e}", entry.eml.display()))?;
    let msg = MessageParser::default()
        .parse(&raw)
        .ok_or_else(|| format!("{}: not a readable message", entry.eml.display()))?;
    let mut d = Draft {
        from: addresses(msg.from()).into_iter().next(),
        to: addresses(msg.to()),
        cc: addresses(msg.cc()),
        bcc: addresses(msg.bcc()),
        subject: msg.subject().unwrap_or_default().to_string(),
        message_id: Some(entry.meta.message_id.clone()),
        ..Default::default()
    };
    // Envelope-only recipients (Bcc of an SMTP message) are not in the headers.
    let listed: Vec<String> = d.to.iter().chain(&d.cc).chain(&d.bcc).cloned().collect();
    for rcpt in entry
        .meta
        .envelope
        .to
        .iter()
        .chain(&entry.meta.delivered_to)
    {
        if !listed.iter().any(|l| l.contains(rcpt.as_str())) {
            d.bcc.push(rcpt.clone());
        }
    }
    let part_text = |ids: &[u32], html: bool| -> Option<String> {
        let p = msg.parts.get(*ids.first()? as usize)?;
        match (&p.body, html) {
            (PartType::Text(t), false) => Some(t.to_string()),
            (PartType::Html(h), true) => Some(h.to_string()),
            _ => None,
        }
    };
    d.text = part_text(&msg.text_body, false);
    d.html = part_text(&msg.html_body, true);
    for name in ["In-Reply-To", "References"] {
        if let Some(v) = msg.header_raw(name) {
            d.headers.push((name.to_string(), v.trim().to_string()));
        }
    }
    let files = engine.paths.drafts_dir().join("files").join(&entry.name);
    for (i, a) in msg.attachments().enumerate() {
        let name = a
            .attachment_name()
            .map(|n| n.replace(['/', '\\', '\0'], "_"))
            .filter(|n| !n.is_empty() && !n.starts_with('.'))
            .unwrap_or_else(|| format!("attachment-{}", i + 1));
        let path = files.join(&name);
        crate::paths::write_private(&path, a.contents())
            .map_err(|e| format!("saving attachment {}: {e}", path.display()))?;
        let content_type = a.content_type().map(|ct| match ct.subtype() {
            Some(s) => format!("{}/{s}", ct.ctype()),
            None => ct.ctype().to_string(),
        });
        d.attachments.push(AttachmentSpec { path, content_type });
    }
    Ok(d)
}
