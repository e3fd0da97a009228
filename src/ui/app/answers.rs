//! The worker's answers: previews, sizes, saves and the outcome of a send.

use super::*;

impl App {
    pub fn handle_worker(&mut self, ev: WorkerEvent) {
        match ev {
            WorkerEvent::Contacts(ev) => self.contacts_event(ev),
            WorkerEvent::Measured { id, result } => {
                if id != self.measure_id {
                    return;
                }
                self.size = match result {
                    Ok(bytes) => SizeState::Known {
                        bytes,
                        stale: self.measure_due.is_some(),
                    },
                    Err(e) => SizeState::Failed(e),
                };
            }
            WorkerEvent::Prepared {
                id,
                purpose,
                result,
            } => {
                if id != self.prepare_id {
                    return;
                }
                match (purpose, self.popups.last_mut()) {
                    (Purpose::Confirm, Some(Popup::Confirm(c))) => match result {
                        Ok((p, data)) => c.ready(p, *data),
                        Err(e) => {
                            let msg = e.to_string();
                            if let InputError::Message(me) = &e {
                                self.popups.pop();
                                self.mark_error(me);
                                self.show_error("Not ready to send", vec![msg]);
                            } else if let Some(Popup::Confirm(c)) = self.popups.last_mut() {
                                c.failed(msg);
                            }
                        }
                    },
                    (Purpose::Preview, Some(Popup::Preview(pr))) => match result {
                        Ok((_, data)) => pr.ready(*data),
                        Err(e) => pr.failed(e.to_string()),
                    },
                    _ => {}
                }
            }
            WorkerEvent::Progress { id, progress } => {
                if let Some(Popup::Sending(s)) = self.popups.last_mut() {
                    if s.id == id {
                        s.update(progress);
                    }
                }
            }
            WorkerEvent::Sent {
                id,
                result,
                message_id,
            } => {
                if self.sending != Some(id) {
                    return;
                }
                self.sending = None;
                if matches!(self.popups.last(), Some(Popup::Sending(_))) {
                    self.popups.pop();
                }
                self.sent(result, message_id);
            }
            WorkerEvent::DraftSaved { gen, result } => {
                self.saves_in_flight = self.saves_in_flight.saturating_sub(1);
                match result {
                    Ok(_) => {
                        if self.saves_in_flight == 0 {
                            self.draft_state = DraftState::Saved(
                                chrono::Local::now().format("%H:%M:%S").to_string(),
                            );
                        }
                    }
                    Err(e) => {
                        if self.saved_gen >= gen {
                            self.saved_gen = gen.saturating_sub(1);
                        }
                        // Try again in a while, not on every tick.
                        let retry = Instant::now() + SAVE_RETRY;
                        self.last_edit = Some(retry - AUTOSAVE_IDLE);
                        self.dirty_since = Some(retry - AUTOSAVE_MAX);
                        self.draft_state = DraftState::Failed(e.clone());
                        self.note(format!("could not save the draft: {e}"));
                    }
                }
            }
            WorkerEvent::Crashed { id, what } => {
                if self.sending == Some(id) {
                    self.sending = None;
                    if matches!(self.popups.last(), Some(Popup::Sending(_))) {
                        self.popups.pop();
                    }
                }
                if id == self.prepare_id
                    && matches!(
                        self.popups.last(),
                        Some(Popup::Confirm(_) | Popup::Preview(_))
                    )
                {
                    self.popups.pop();
                }
                if id != self.measure_id {
                    self.show_error(
                        "Internal error",
                        vec![
                            format!("{what}"),
                            "Your message is unchanged; the draft is saved.".into(),
                        ],
                    );
                }
                self.request_save();
            }
        }
    }

    fn sent(&mut self, result: Result<SendReport, SendError>, message_id: String) {
        match result {
            Ok(report) => {
                self.effects.push(Effect::Worker(Command::RemoveDraft {
                    id: self.draft_id.clone(),
                }));
                self.popups.push(Popup::Receipt(Receipt::new(report)));
                self.reset_after_send();
            }
            Err(SendError::Input(e)) => {
                let msg = e.to_string();
                if let InputError::Message(me) = &e {
                    self.mark_error(me);
                }
                self.show_error(
                    "Not sent",
                    vec![
                        msg,
                        "Nothing was sent. Fix it and press Ctrl-Y again.".into(),
                    ],
                );
            }
            Err(SendError::Transport {
                error,
                outbox,
                outbox_error,
            }) => {
                let mut lines = vec![
                    format!("Sending via {} failed.", self.transport),
                    error.to_string(),
                ];
                if let Some(code) = error.code {
                    lines.push(format!("Server reply code: {code}"));
                }
                lines.push(if error.transient {
                    "This looks temporary: trying again later may work.".into()
                } else {
                    "This will not go away by itself: check the transport's settings.".into()
                });
                match &outbox {
                    Some(p) => lines.push(format!(
                        "The message is kept in the outbox: {} — `missive outbox flush` retries it; Ctrl-Y sends it again from here.",
                        p.display()
                    )),
                    None => lines.push("The message could not be put in the outbox.".into()),
                }
                if let Some(e) = outbox_error {
                    lines.push(e);
                }
                lines.push("Your message is still here, unchanged.".into());
                self.show_error("Send failed", lines);
                // A retry from here keeps the message's identity and replaces the copy.
                self.message_id = Some(message_id);
                self.failed_outbox = outbox;
                self.edited(None);
            }
        }
    }

    fn reset_after_send(&mut self) {
        let keep_from = self.from_edited.then(|| self.field_text(Pane::From));
        let d = Draft {
            from: keep_from,
            ..Default::default()
        };
        self.load_draft(&d);
        self.draft_id = crate::drafts::Drafts::new_id();
        self.draft_state = DraftState::New;
        self.edit_gen = 0;
        self.saved_gen = 0;
        self.last_edit = None;
        self.dirty_since = None;
    }
}
