//! Writing as another identity from the composer (Ctrl-F): the picker, and what picking
//! does — From, Reply-To and transport follow the identity, its signature replaces the
//! one in the bodies (none is added twice; From stays editable afterwards).

use super::app::{line_area, App, Pane};
use super::popups::{Identities, Popup};

impl App {
    pub fn open_identities(&mut self) {
        let p = Identities::new(
            &self.engine.config,
            self.identity.as_deref(),
            &self.transport,
        );
        self.popups.push(Popup::Identities(p));
    }

    pub fn pick_identity(&mut self, name: &str) {
        let Some(id) = self.engine.config.identities.get(name).cloned() else {
            return;
        };
        // The signature first: a failing signature_cmd or file changes nothing.
        let sig = match id.signature_text() {
            Ok(s) => s,
            Err(e) => {
                self.show_error(
                    &format!("Cannot write as {name}"),
                    vec![e, "Nothing was changed.".into()],
                );
                return;
            }
        };
        self.identity = Some(id.name.clone());
        if let Some(t) = &id.transport {
            self.switch_transport(t);
        }
        let from = id.from.clone().unwrap_or_else(|| self.transport_from());
        if self.field_text(Pane::From) != from {
            self.from = line_area(&from, "sender");
            self.refresh_cursor_styles();
        }
        // Picked on purpose: a later transport switch keeps this From.
        self.from_edited = true;
        self.invalid.retain(|(p, _)| *p != Pane::From);
        let reply_to: Vec<String> = id.reply_to.iter().cloned().collect();
        if self.draft().reply_to != reply_to {
            self.set_reply_to(&reply_to);
            self.edited(Some(Pane::ReplyTo));
        }
        for pane in [Pane::Text, Pane::Html] {
            let text = self.field_text(pane);
            if pane == Pane::Html && text.trim().is_empty() {
                continue;
            }
            let new = if pane == Pane::Text {
                crate::signature::set_text(&text, sig.as_deref())
            } else {
                crate::signature::set_html(&text, sig.as_deref())
            };
            if new != text
                && self
                    .body_mut(pane)
                    .is_some_and(|b| b.replace_after_cursor(&new))
            {
                self.edited(Some(pane));
            }
        }
        self.edited(Some(Pane::From));
        self.relayout();
        self.note(format!("writing as {name} ({from})"));
    }
}
