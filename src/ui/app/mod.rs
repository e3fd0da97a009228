//! The composer's state and its actions. The fields and the draft they hold are in
//! `fields`; events come in through `input` (and the `keymap`), sends go out through
//! `sending`, the worker's answers land in `answers`. `App` changes only in `handle_*`
//! and `tick`; anything that needs the outside world (the worker, `$EDITOR`, quitting)
//! is queued as an [`Effect`] for the event loop to carry out.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui_textarea::{CursorMove, Input, Key, TextArea};

use crate::config::{TransportConfig, TransportKind};
use crate::drafts::SavedDraft;
use crate::engine::{Engine, InputError, SendError, SendReport};
use crate::message::{self, AttachmentSpec, Draft, MessageError};

use super::attachments::{ListChange, ListHistory};
use super::body::Body;
use super::popups::{
    Confirm, Help, MessageBox, Picker, Popup, Preview, QuitPrompt, Receipt, ResumeOffer, Sending,
    Switcher,
};
use super::worker::{Command, Event as WorkerEvent, Purpose};

mod answers;
mod fields;
mod input;
mod keymap;
mod sending;
pub use keymap::{composer_keymap, Action, Pane};

/// Autosave after this much idle time...
pub const AUTOSAVE_IDLE: Duration = Duration::from_millis(1000);
/// ...and at the latest this long after the first unsaved keystroke, so continuous typing
/// is saved too (at most 2 s are lost on a kill).
pub const AUTOSAVE_MAX: Duration = Duration::from_millis(1800);
/// The exact size is recomputed (off the UI loop, by building the message with the
/// engine) once input has been idle this long...
pub const MEASURE_IDLE: Duration = Duration::from_millis(300);
/// ...or this long when the attachments are big, so a pause in typing does not re-read
/// and re-encode megabytes each time. Until then the last size is shown with "≈".
pub const MEASURE_IDLE_BIG: Duration = Duration::from_millis(2000);
/// Attachments above this total count as big.
pub const BIG_ATTACHMENTS: u64 = 4 * 1024 * 1024;
/// After a failed draft write, the next attempt waits this long.
pub const SAVE_RETRY: Duration = Duration::from_secs(5);
/// How long a status-bar note stays.
pub const NOTE_TTL: Duration = Duration::from_secs(6);

/// Side effects the event loop carries out for the app.
#[derive(Debug)]
pub enum Effect {
    Worker(Command),
    /// Hand the terminal to `$EDITOR` for this body pane.
    Editor(Pane),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuitKind {
    /// Nothing was typed: just leave.
    Clean,
    /// Write the draft first.
    Save,
    /// Delete the draft file.
    Discard,
}

#[derive(Clone, Debug, PartialEq)]
pub enum DraftState {
    /// Nothing saved yet.
    New,
    /// Opened from a saved draft, unchanged since.
    Reopened,
    Saving,
    Saved(String),
    Failed(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum SizeState {
    Unknown,
    Known { bytes: u64, stale: bool },
    Failed(String),
}

/// One attachment as the pane shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct AttachmentRow {
    pub spec: AttachmentSpec,
    pub name: String,
    pub size: Option<u64>,
    pub mime: String,
}

impl AttachmentRow {
    pub fn new(spec: AttachmentSpec) -> Self {
        let size = std::fs::metadata(&spec.path)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len());
        AttachmentRow {
            name: spec.file_name(),
            mime: spec.mime_type(),
            size,
            spec,
        }
    }
}

/// What the composer starts with.
pub struct Init {
    pub draft: Draft,
    pub draft_id: String,
    /// The draft came from `--draft ID` (it already exists on disk).
    pub reopened: bool,
    pub transport: Option<String>,
    pub cwd: PathBuf,
    /// The last unsent draft, offered when the composer opens empty.
    pub offer: Option<SavedDraft>,
}

pub struct App {
    pub engine: Arc<Engine>,
    pub transport: String,
    /// From was typed (or given): it no longer follows the transport.
    pub from_edited: bool,
    pub from: TextArea<'static>,
    pub to: TextArea<'static>,
    pub cc: TextArea<'static>,
    pub bcc: TextArea<'static>,
    pub subject: TextArea<'static>,
    pub text: Body,
    pub html: Body,
    pub attachments: Vec<AttachmentRow>,
    pub attachment_sel: usize,
    /// Additions and removals of attachments, for undo.
    pub attachment_history: ListHistory,
    /// Derive the HTML part from the text (`--markdown`).
    pub markdown: bool,
    pub headers: Vec<(String, String)>,
    /// Kept after a failed send so a retry keeps the message's identity.
    pub message_id: Option<String>,
    /// The `[identity.NAME]` written as (see `identity`).
    pub identity: Option<String>,
    pub reply_to: TextArea<'static>,
    /// Contact suggestions for the recipient fields.
    pub completion: super::complete::Completion,
    /// The outbox copy left by the last failed send of this message.
    pub failed_outbox: Option<PathBuf>,
    pub focus: Pane,
    /// Invalid address per field, with the reason.
    pub invalid: Vec<(Pane, String)>,
    pub popups: Vec<Popup>,
    pub draft_id: String,
    pub draft_state: DraftState,
    pub edit_gen: u64,
    pub saved_gen: u64,
    pub saves_in_flight: u32,
    pub last_edit: Option<Instant>,
    pub dirty_since: Option<Instant>,
    pub size: SizeState,
    pub measure_due: Option<Instant>,
    pub measure_id: u64,
    pub cwd: PathBuf,
    /// Terminal size, for mouse hit-testing and popup page sizes.
    pub screen: Rect,
    pub note: Option<(String, Instant)>,
    pub quit: Option<QuitKind>,
    pub effects: Vec<Effect>,
    next_id: u64,
    /// The id of the confirmation or preview being built.
    prepare_id: u64,
    /// The send in flight, if any.
    pub sending: Option<u64>,
}

pub(super) fn line_area(text: &str, placeholder: &str) -> TextArea<'static> {
    let mut t = TextArea::new(vec![text.replace(['\r', '\n'], " ")]);
    t.set_cursor_line_style(Style::default());
    t.set_placeholder_text(placeholder);
    t.move_cursor(CursorMove::End);
    t
}

/// A short description of where a transport sends: host, account, directory or command.
pub fn transport_detail(tc: &TransportConfig) -> String {
    match &tc.kind {
        TransportKind::Smtp(s) => match &s.username {
            Some(u) => format!("{u} @ {}:{}", s.host, s.port),
            None => format!("{}:{}", s.host, s.port),
        },
        TransportKind::Gmail(g) => format!("Gmail API, user {}", g.user),
        TransportKind::Outlook(o) => format!("Microsoft Graph, tenant {}", o.tenant),
        TransportKind::File(f) => f.dir.display().to_string(),
        TransportKind::Sendmail(s) => s.command.clone(),
    }
}

impl App {
    pub fn new(engine: Arc<Engine>, init: Init) -> App {
        let mut note = None;
        let transport = match engine.transport_for(&init.draft, init.transport.as_deref()) {
            Ok(tc) => tc.name.clone(),
            Err(e) => {
                let first = engine
                    .config
                    .transport_names()
                    .into_iter()
                    .find(|n| n != crate::config::BUILTIN_FILE)
                    .unwrap_or_else(|| crate::config::BUILTIN_FILE.to_string());
                note = Some((
                    format!("{e} — using {first}; Ctrl-T to change"),
                    Instant::now(),
                ));
                first
            }
        };
        let mut app = App {
            engine,
            transport,
            from_edited: false,
            from: line_area("", "sender"),
            to: line_area("", "name@example.com, …"),
            cc: line_area("", ""),
            bcc: line_area("", ""),
            subject: line_area("", ""),
            text: Body::new(""),
            html: Body::new(""),
            attachments: Vec::new(),
            attachment_sel: 0,
            attachment_history: ListHistory::default(),
            markdown: false,
            headers: Vec::new(),
            message_id: None,
            identity: init.draft.identity.clone(),
            reply_to: line_area("", ""),
            completion: Default::default(),
            failed_outbox: None,
            focus: Pane::To,
            invalid: Vec::new(),
            popups: Vec::new(),
            draft_id: init.draft_id,
            draft_state: if init.reopened {
                DraftState::Reopened
            } else {
                DraftState::New
            },
            edit_gen: 0,
            saved_gen: 0,
            saves_in_flight: 0,
            last_edit: None,
            dirty_since: None,
            size: SizeState::Unknown,
            measure_due: Some(Instant::now()),
            measure_id: 0,
            cwd: init.cwd,
            screen: Rect::new(0, 0, 80, 24),
            note,
            quit: None,
            effects: Vec::new(),
            next_id: 1,
            prepare_id: 0,
            sending: None,
        };
        app.load_draft(&init.draft);
        if let Some(offer) = init.offer {
            app.popups.push(Popup::Resume(ResumeOffer::new(offer)));
        }
        app
    }

    /// Tell the bodies where they are on screen, so the rows they keep in view follow
    /// their cursors (drawing reads that and changes nothing).
    pub fn relayout(&mut self) {
        let a = super::view::layout(self.screen, self);
        for (pane, rect) in [(Pane::Text, a.text), (Pane::Html, a.html)] {
            let inner = super::view::body_inner(rect);
            if let Some(b) = self.body_mut(pane) {
                b.set_view(inner.width, inner.height);
            }
        }
    }

    /// The From that the active transport implies (transport's, config's, $USER@host).
    pub fn transport_from(&self) -> String {
        match self.engine.config.transports.get(&self.transport) {
            Some(tc) => {
                let d = Draft {
                    identity: self.identity.clone(),
                    ..Draft::default()
                };
                self.engine.resolve_from(&d, tc)
            }
            None => crate::engine::default_from(),
        }
    }

    pub fn transport_config(&self) -> Option<&TransportConfig> {
        self.engine.config.transports.get(&self.transport)
    }

    fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn note(&mut self, text: impl Into<String>) {
        self.note = Some((text.into(), Instant::now()));
    }

    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    pub fn top_popup(&self) -> Option<&Popup> {
        self.popups.last()
    }

    pub fn is_modified(&self) -> bool {
        self.edit_gen > 0
    }

    pub fn unsaved(&self) -> bool {
        self.edit_gen > self.saved_gen
    }

    pub(super) fn refresh_cursor_styles(&mut self) {
        let focus = self.focus;
        self.text.set_focused(focus == Pane::Text);
        self.html.set_focused(focus == Pane::Html);
        for p in Pane::ALL {
            if let Some(t) = self.area_mut(p) {
                if p == focus {
                    t.set_cursor_style(Style::default().add_modifier(Modifier::REVERSED));
                } else {
                    t.set_cursor_style(Style::default());
                }
            }
        }
    }

    pub fn set_focus(&mut self, pane: Pane) {
        if self.focus != pane {
            // Leaving a field is when its address list is judged.
            let left = self.focus;
            self.focus = pane;
            self.validate(left);
            self.refresh_cursor_styles();
        }
    }

    /// Check an address field; an invalid address is marked until fixed.
    pub fn validate(&mut self, pane: Pane) {
        if !(pane.is_recipients() || pane == Pane::From) {
            return;
        }
        self.invalid.retain(|(p, _)| *p != pane);
        let text = self.field_text(pane);
        if text.trim().is_empty() {
            return;
        }
        let res = match pane {
            Pane::From => {
                if !self.from_edited {
                    return;
                }
                message::parse_mailbox("From", &text).map(|_| ())
            }
            Pane::To => {
                message::parse_mailboxes("To", &[self.completion.expand(&text)]).map(|_| ())
            }
            Pane::Cc => {
                message::parse_mailboxes("Cc", &[self.completion.expand(&text)]).map(|_| ())
            }
            Pane::ReplyTo => {
                message::parse_mailboxes("Reply-To", &[self.completion.expand(&text)]).map(|_| ())
            }
            _ => message::parse_mailboxes("Bcc", &[self.completion.expand(&text)]).map(|_| ()),
        };
        if let Err(e) = res {
            self.invalid.push((pane, e.to_string()));
        }
    }

    pub fn invalid_reason(&self, pane: Pane) -> Option<&str> {
        self.invalid
            .iter()
            .find(|(p, _)| *p == pane)
            .map(|(_, r)| r.as_str())
    }

    pub(super) fn edited(&mut self, pane: Option<Pane>) {
        let now = Instant::now();
        self.edit_gen += 1;
        self.last_edit = Some(now);
        self.dirty_since.get_or_insert(now);
        let attached: u64 = self.attachments.iter().filter_map(|a| a.size).sum();
        let idle = if attached > BIG_ATTACHMENTS {
            MEASURE_IDLE_BIG
        } else {
            MEASURE_IDLE
        };
        self.measure_due = Some(now + idle);
        if let SizeState::Known { stale, .. } = &mut self.size {
            *stale = true;
        }
        if let Some(p) = pane {
            if p == Pane::From {
                self.from_edited = !self.field_text(Pane::From).trim().is_empty();
            }
            // Re-judge a field already marked invalid as it is fixed; new marks wait until
            // the field is left or a send is tried.
            if self.invalid_reason(p).is_some() {
                self.validate(p);
            }
        }
    }

    /// Do what an action asks.
    pub fn apply(&mut self, action: Action) {
        match action {
            Action::NextPane => self.set_focus(self.focus.next()),
            Action::PrevPane => self.set_focus(self.focus.prev()),
            Action::Focus(p) => self.set_focus(p),
            Action::OpenPicker => self.open_picker(),
            Action::RemoveAttachment => self.remove_attachment(),
            Action::SelectAttachment(d) => {
                let n = self.attachments.len();
                if n > 0 {
                    let cur = self.attachment_sel as isize + d;
                    self.attachment_sel = cur.clamp(0, n as isize - 1) as usize;
                }
            }
            Action::OpenSwitcher => {
                let sw = Switcher::new(&self.engine.config, &self.transport);
                self.popups.push(Popup::Switcher(sw));
            }
            Action::OpenPreview => self.open_preview(),
            Action::EditExternal => {
                let pane = if self.focus.is_body() {
                    self.focus
                } else {
                    self.set_focus(Pane::Text);
                    Pane::Text
                };
                self.effects.push(Effect::Editor(pane));
            }
            Action::SaveDraft => {
                if self.request_save() {
                    self.note("saving draft…");
                } else {
                    self.note(format!(
                        "draft {} is up to date; reopen with `missive --draft {}`",
                        self.draft_id, self.draft_id
                    ));
                }
            }
            Action::Send => self.start_send(),
            Action::Help => {
                let h = Help::new(self.screen);
                self.popups.push(Popup::Help(h));
            }
            Action::Quit => {
                if self.sending.is_some() {
                    self.note("a send is in progress; wait for its result");
                } else if !self.is_modified() {
                    self.quit = Some(QuitKind::Clean);
                } else {
                    self.popups
                        .push(Popup::Quit(QuitPrompt::new(&self.draft_id, self.unsaved())));
                }
            }
            Action::ClosePopup => {
                self.popups.pop();
            }
            Action::Attach(path) => {
                self.popups.pop();
                self.add_attachment(path);
            }
            Action::SwitchTransport(name) => {
                self.popups.pop();
                self.switch_transport(&name);
            }
            Action::OpenIdentities => self.open_identities(),
            Action::PickIdentity(name) => {
                self.popups.pop();
                self.pick_identity(&name);
            }
            Action::ConfirmSend => self.confirm_send(),
            Action::Undo => self.undo_redo(true),
            Action::Redo => self.undo_redo(false),
            Action::QuitSaving => {
                self.popups.pop();
                self.quit = Some(QuitKind::Save);
            }
            Action::QuitDiscarding => {
                self.popups.pop();
                self.quit = Some(QuitKind::Discard);
            }
            Action::ResumeDraft(id) => {
                self.popups.pop();
                match self.engine.drafts().load(&id) {
                    Ok(saved) => {
                        if let Some(t) = saved
                            .transport
                            .as_ref()
                            .filter(|t| self.engine.config.transports.contains_key(*t))
                        {
                            self.transport = t.clone();
                        }
                        self.draft_id = saved.id.clone();
                        self.load_draft(&saved.draft);
                        self.draft_state = DraftState::Reopened;
                        self.edit_gen = 0;
                        self.saved_gen = 0;
                    }
                    Err(e) => self.show_error("Could not open the draft", vec![e.to_string()]),
                }
            }
        }
    }

    pub fn show_error(&mut self, title: &str, lines: Vec<String>) {
        self.popups
            .push(Popup::Message(MessageBox::error(title, lines)));
    }

    pub fn open_picker(&mut self) {
        let dir = self.cwd.clone();
        self.popups
            .push(Popup::Picker(Box::new(Picker::open(&dir))));
    }

    pub fn add_attachment(&mut self, path: PathBuf) {
        let path = if path.is_absolute() {
            path
        } else {
            self.cwd.join(path)
        };
        if self.attachments.iter().any(|a| a.spec.path == path) {
            self.note(format!("{} is already attached", path.display()));
            return;
        }
        let row = AttachmentRow::new(AttachmentSpec::new(&path));
        self.note(format!("attached {}", row.name));
        // The next picker opens where this one was.
        if let Some(parent) = path.parent() {
            self.cwd = parent.to_path_buf();
        }
        self.attachment_history
            .record(ListChange::Added(self.attachments.len(), row.clone()));
        self.attachments.push(row);
        self.attachment_sel = self.attachments.len() - 1;
        self.edited(None);
    }

    fn remove_attachment(&mut self) {
        if self.attachment_sel < self.attachments.len() {
            let row = self.attachments.remove(self.attachment_sel);
            self.note(format!("removed {} (Ctrl-Z puts it back)", row.name));
            self.attachment_history
                .record(ListChange::Removed(self.attachment_sel, row));
            self.attachment_sel = self
                .attachment_sel
                .min(self.attachments.len().saturating_sub(1));
            self.edited(None);
        }
    }

    pub fn switch_transport(&mut self, name: &str) {
        if !self.engine.config.transports.contains_key(name) || name == self.transport {
            return;
        }
        self.transport = name.to_string();
        if !self.from_edited {
            self.from = line_area(&self.transport_from(), "sender");
            self.refresh_cursor_styles();
        }
        self.note(format!("sending via {name}"));
        self.edited(None);
    }

    /// Queue a draft write if something changed since the last one. Returns whether one
    /// was queued.
    pub fn request_save(&mut self) -> bool {
        if !self.unsaved() {
            return false;
        }
        self.saves_in_flight += 1;
        self.draft_state = DraftState::Saving;
        self.dirty_since = None;
        self.effects.push(Effect::Worker(Command::SaveDraft {
            gen: self.edit_gen,
            id: self.draft_id.clone(),
            transport: Some(self.transport.clone()),
            draft: Box::new(self.draft()),
        }));
        // Counted as saved from now; a failure puts it back.
        self.saved_gen = self.edit_gen;
        true
    }

    /// Replace a body with what `$EDITOR` wrote (one undo step).
    pub fn replace_body(&mut self, pane: Pane, text: &str) {
        let text = text.strip_suffix('\n').unwrap_or(text);
        if self.body_mut(pane).is_some_and(|b| b.replace_all(text)) {
            self.edited(Some(pane));
            self.note("edited in $EDITOR (Ctrl-Z undoes it)");
        }
        self.relayout();
    }

    /// Undo (or redo) the last change in the focused pane.
    fn undo_redo(&mut self, undo: bool) {
        let focus = self.focus;
        let changed = match focus {
            Pane::Attachments => self.undo_attachments(undo),
            p if p.is_body() => {
                self.body_mut(p)
                    .is_some_and(|b| if undo { b.undo() } else { b.redo() })
            }
            p => self
                .area_mut(p)
                .is_some_and(|t| if undo { t.undo() } else { t.redo() }),
        };
        if changed {
            self.edited(Some(focus));
        } else {
            self.note(if undo {
                "nothing to undo here"
            } else {
                "nothing to redo here"
            });
        }
    }

    // ---- time ------------------------------------------------------------------------

    /// The next moment `tick` has something to do.
    pub fn next_deadline(&self) -> Option<Instant> {
        let mut d: Option<Instant> = None;
        let mut take = |t: Option<Instant>| {
            if let Some(t) = t {
                d = Some(d.map_or(t, |d| d.min(t)));
            }
        };
        take(self.measure_due);
        if self.unsaved() {
            take(self.autosave_due());
        }
        take(self.note.as_ref().map(|(_, at)| *at + NOTE_TTL));
        if self.sending.is_some() {
            take(Some(Instant::now() + Duration::from_millis(250)));
        }
        d
    }

    fn autosave_due(&self) -> Option<Instant> {
        let idle = self.last_edit.map(|t| t + AUTOSAVE_IDLE);
        let max = self.dirty_since.map(|t| t + AUTOSAVE_MAX);
        match (idle, max) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn tick(&mut self, now: Instant) {
        if self.unsaved() && self.autosave_due().is_some_and(|t| t <= now) {
            self.request_save();
        }
        if self.measure_due.is_some_and(|t| t <= now) {
            self.measure_due = None;
            let id = self.new_id();
            self.measure_id = id;
            self.effects.push(Effect::Worker(Command::Measure {
                id,
                draft: Box::new(self.measurable_draft()),
                transport: self.transport.clone(),
            }));
        }
        if self
            .note
            .as_ref()
            .is_some_and(|(_, at)| *at + NOTE_TTL <= now)
        {
            self.note = None;
        }
        if let Some(Popup::Sending(s)) = self.popups.last_mut() {
            s.tick(now);
        }
    }

    /// Where the composer's files are relative to: the picker's start.
    pub fn cwd(&self) -> &Path {
        &self.cwd
    }
}
