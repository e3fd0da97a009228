//! The composer's fields and the draft they hold: loading a draft into them, reading
//! them back as one, and reaching each field by its pane.

use std::time::Instant;

use ratatui_textarea::TextArea;

use super::{line_area, App, AttachmentRow, Pane, SizeState};
use crate::message::{self, Draft};
use crate::ui::attachments::ListHistory;
use crate::ui::body::Body;

fn area_text(t: &TextArea<'_>) -> String {
    t.lines().join("\n")
}

impl App {
    /// Replace the composer's content with `d`.
    pub fn load_draft(&mut self, d: &Draft) {
        self.from_edited = d.from.as_ref().is_some_and(|f| !f.trim().is_empty());
        let from = if self.from_edited {
            d.from.clone().unwrap_or_default()
        } else {
            self.transport_from()
        };
        self.from = line_area(&from, "sender");
        self.to = line_area(&d.to.join(", "), "name@example.com, …");
        self.cc = line_area(&d.cc.join(", "), "");
        self.bcc = line_area(&d.bcc.join(", "), "");
        self.subject = line_area(&d.subject, "");
        self.text = Body::new(d.text.as_deref().unwrap_or(""));
        self.html = Body::new(d.html.as_deref().unwrap_or(""));
        self.attachments = d
            .attachments
            .iter()
            .cloned()
            .map(AttachmentRow::new)
            .collect();
        self.attachment_sel = 0;
        self.attachment_history = ListHistory::default();
        self.markdown = d.markdown;
        self.headers = d.headers.clone();
        self.message_id = d.message_id.clone();
        self.identity = d.identity.clone();
        self.set_reply_to(&d.reply_to);
        self.failed_outbox = None;
        self.focus = if d.to.is_empty() && d.cc.is_empty() && d.bcc.is_empty() {
            Pane::To
        } else if d.subject.is_empty() {
            Pane::Subject
        } else {
            Pane::Text
        };
        self.invalid.clear();
        for p in [Pane::From, Pane::To, Pane::Cc, Pane::Bcc, Pane::ReplyTo] {
            self.validate(p);
        }
        self.refresh_cursor_styles();
        self.size = SizeState::Unknown;
        self.measure_due = Some(Instant::now());
        self.relayout();
    }

    /// Replace the Reply-To field's entries (an identity's, a draft's).
    pub fn set_reply_to(&mut self, list: &[String]) {
        self.reply_to = line_area(&list.join(", "), "");
        self.refresh_cursor_styles();
    }

    pub fn area(&self, pane: Pane) -> Option<&TextArea<'static>> {
        Some(match pane {
            Pane::From => &self.from,
            Pane::To => &self.to,
            Pane::Cc => &self.cc,
            Pane::Bcc => &self.bcc,
            Pane::ReplyTo => &self.reply_to,
            Pane::Subject => &self.subject,
            Pane::Text | Pane::Html | Pane::Attachments => return None,
        })
    }

    pub fn body(&self, pane: Pane) -> Option<&Body> {
        match pane {
            Pane::Text => Some(&self.text),
            Pane::Html => Some(&self.html),
            _ => None,
        }
    }

    pub(in crate::ui) fn body_mut(&mut self, pane: Pane) -> Option<&mut Body> {
        match pane {
            Pane::Text => Some(&mut self.text),
            Pane::Html => Some(&mut self.html),
            _ => None,
        }
    }

    /// A header field's text area (the bodies go through [`Body`]).
    pub(in crate::ui) fn area_mut(&mut self, pane: Pane) -> Option<&mut TextArea<'static>> {
        Some(match pane {
            Pane::From => &mut self.from,
            Pane::To => &mut self.to,
            Pane::Cc => &mut self.cc,
            Pane::Bcc => &mut self.bcc,
            Pane::ReplyTo => &mut self.reply_to,
            Pane::Subject => &mut self.subject,
            Pane::Text | Pane::Html | Pane::Attachments => return None,
        })
    }

    pub fn field_text(&self, pane: Pane) -> String {
        if let Some(b) = self.body(pane) {
            return b.text();
        }
        self.area(pane).map(area_text).unwrap_or_default()
    }

    /// The message as typed, in the engine's model.
    pub fn draft(&self) -> Draft {
        let list = |p: Pane| {
            let t = self.field_text(p);
            if t.trim().is_empty() {
                Vec::new()
            } else {
                vec![t.trim().to_string()]
            }
        };
        let html = self.html.text();
        Draft {
            from: self
                .from_edited
                .then(|| self.field_text(Pane::From).trim().to_string())
                .filter(|f| !f.is_empty()),
            to: list(Pane::To),
            cc: list(Pane::Cc),
            bcc: list(Pane::Bcc),
            subject: self.field_text(Pane::Subject),
            text: Some(self.text.text()),
            html: (!html.is_empty()).then_some(html),
            markdown: self.markdown,
            attachments: self.attachments.iter().map(|a| a.spec.clone()).collect(),
            headers: self.headers.clone(),
            message_id: self.message_id.clone(),
            reply_to: list(Pane::ReplyTo),
            identity: self.identity.clone(),
        }
    }

    /// The draft with unusable recipients left out, so its size can be known while the
    /// person is still typing addresses.
    pub(super) fn measurable_draft(&self) -> Draft {
        let mut d = self.draft();
        for (field, list) in [
            ("To", &mut d.to),
            ("Cc", &mut d.cc),
            ("Bcc", &mut d.bcc),
            ("Reply-To", &mut d.reply_to),
        ] {
            let expanded: Vec<String> = list.iter().map(|e| self.completion.expand(e)).collect();
            if message::parse_mailboxes(field, &expanded).is_err() {
                list.clear();
            }
        }
        if d.from
            .as_deref()
            .is_some_and(|f| message::parse_mailbox("From", f).is_err())
        {
            d.from = None;
        }
        if d.to.is_empty() && d.cc.is_empty() && d.bcc.is_empty() {
            d.to = vec!["recipient@example.invalid".into()];
        }
        d
    }
}
