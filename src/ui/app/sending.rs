//! From the draft to a send: the Message-ID, the preview, the confirmation, the errors
//! marked on their fields.

use super::*;

impl App {
    /// Give the message its Message-ID now, so the preview, the confirmation and the send
    /// all show the same one (a retry after a failure keeps it too).
    pub(super) fn ensure_message_id(&mut self) {
        if self.message_id.is_some() {
            return;
        }
        let from = match self.transport_config() {
            Some(tc) => self.engine.resolve_from(&self.draft(), tc),
            None => return,
        };
        if let Ok(mb) = message::parse_mailbox("From", &from) {
            self.message_id = Some(message::new_message_id(&mb));
        }
    }

    pub(super) fn open_preview(&mut self) {
        self.ensure_message_id();
        let id = self.new_id();
        self.prepare_id = id;
        let p = Preview::loading(self.screen);
        let width = p.text_width();
        self.popups.push(Popup::Preview(p));
        self.effects.push(Effect::Worker(Command::Prepare {
            id,
            purpose: Purpose::Preview,
            draft: Box::new(self.draft()),
            transport: self.transport.clone(),
            width,
        }));
    }

    pub(super) fn start_send(&mut self) {
        if self.sending.is_some() {
            return;
        }
        let draft = self.draft();
        for p in [Pane::From, Pane::To, Pane::Cc, Pane::Bcc] {
            self.validate(p);
        }
        if let Err(e) = message::validate_fields(&draft) {
            self.mark_error(&e);
            self.show_error("Not ready to send", vec![e.to_string()]);
            return;
        }
        self.ensure_message_id();
        let draft = self.draft();
        let id = self.new_id();
        self.prepare_id = id;
        let confirm = Confirm::loading(&draft, &self.transport, self.transport_kind());
        self.popups.push(Popup::Confirm(Box::new(confirm)));
        self.effects.push(Effect::Worker(Command::Prepare {
            id,
            purpose: Purpose::Confirm,
            draft: Box::new(draft),
            transport: self.transport.clone(),
            width: 76,
        }));
    }

    pub fn transport_kind(&self) -> &'static str {
        self.transport_config()
            .map(|t| t.kind.name())
            .unwrap_or("?")
    }

    /// Focus and mark the field an error is about.
    pub(super) fn mark_error(&mut self, e: &MessageError) {
        let pane = match e {
            MessageError::Address { field, .. } => match *field {
                "From" => Some(Pane::From),
                "To" => Some(Pane::To),
                "Cc" => Some(Pane::Cc),
                "Bcc" => Some(Pane::Bcc),
                _ => None,
            },
            MessageError::NoRecipient => Some(Pane::To),
            MessageError::LineBreak { field } if field == "Subject" => Some(Pane::Subject),
            MessageError::Attachment { .. } | MessageError::ContentType { .. } => {
                Some(Pane::Attachments)
            }
            _ => None,
        };
        if let Some(p) = pane {
            self.set_focus(p);
            if let MessageError::Address { .. } = e {
                if self.invalid_reason(p).is_none() {
                    self.invalid.push((p, e.to_string()));
                }
            }
        }
    }

    pub(super) fn confirm_send(&mut self) {
        let Some(Popup::Confirm(c)) = self.popups.last_mut() else {
            return;
        };
        let Some(prepared) = c.take_prepared() else {
            return;
        };
        self.popups.pop();
        let id = self.new_id();
        self.sending = Some(id);
        let total = prepared.built.raw.len() as u64;
        self.popups.push(Popup::Sending(Sending::new(
            id,
            &prepared.transport,
            prepared.kind,
            total,
        )));
        self.effects
            .push(Effect::Worker(Command::Send { id, prepared }));
    }
}
