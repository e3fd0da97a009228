//! The composer's state, its one [`Action`] enum and the keymap. `App` changes only in
//! `handle_*` and `tick`; anything that needs the outside world (the worker, `$EDITOR`,
//! quitting) is queued as an [`Effect`] for the event loop to carry out.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pane {
    From,
    To,
    Cc,
    Bcc,
    ReplyTo,
    Subject,
    Text,
    Html,
    Attachments,
}

impl Pane {
    pub const ALL: [Pane; 9] = [
        Pane::From,
        Pane::To,
        Pane::Cc,
        Pane::Bcc,
        Pane::ReplyTo,
        Pane::Subject,
        Pane::Text,
        Pane::Html,
        Pane::Attachments,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Pane::From => "From",
            Pane::To => "To",
            Pane::Cc => "Cc",
            Pane::Bcc => "Bcc",
            Pane::ReplyTo => "Reply-To",
            Pane::Subject => "Subject",
            Pane::Text => "Text",
            Pane::Html => "HTML",
            Pane::Attachments => "Attachments",
        }
    }

    fn index(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }

    pub fn next(self) -> Pane {
        Pane::ALL[(self.index() + 1) % Pane::ALL.len()]
    }

    pub fn prev(self) -> Pane {
        Pane::ALL[(self.index() + Pane::ALL.len() - 1) % Pane::ALL.len()]
    }

    pub fn is_line(self) -> bool {
        matches!(
            self,
            Pane::From | Pane::To | Pane::Cc | Pane::Bcc | Pane::ReplyTo | Pane::Subject
        )
    }

    pub fn is_body(self) -> bool {
        matches!(self, Pane::Text | Pane::Html)
    }

    pub fn is_recipients(self) -> bool {
        matches!(self, Pane::To | Pane::Cc | Pane::Bcc | Pane::ReplyTo)
    }
}

/// Everything a key, a click or a popup can ask the composer to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    NextPane,
    PrevPane,
    Focus(Pane),
    OpenPicker,
    RemoveAttachment,
    SelectAttachment(isize),
    OpenSwitcher,
    /// The identity picker (Ctrl-F), and the identity picked in it.
    OpenIdentities,
    PickIdentity(String),
    OpenPreview,
    EditExternal,
    SaveDraft,
    Send,
    Help,
    Quit,
    /// Close the topmost popup.
    ClosePopup,
    Attach(PathBuf),
    SwitchTransport(String),
    ConfirmSend,
    QuitSaving,
    QuitDiscarding,
    ResumeDraft(String),
    /// Undo / redo in the focused pane (the body's, a field's or the attachment list's
    /// own history).
    Undo,
    Redo,
}

/// The composer keymap: keys that mean the same in every pane. Anything else goes to the
/// focused pane.
pub fn composer_keymap(key: &KeyEvent, focus: Pane) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    Some(match key.code {
        KeyCode::Tab if !ctrl && !alt => {
            if key.modifiers.contains(KeyModifiers::SHIFT) {
                Action::PrevPane
            } else {
                Action::NextPane
            }
        }
        KeyCode::BackTab => Action::PrevPane,
        KeyCode::F(1) => Action::Help,
        // Ctrl-Shift-Z only reaches us from terminals that report Shift with Ctrl.
        KeyCode::Char('z' | 'Z')
            if ctrl
                && !alt
                && (key.modifiers.contains(KeyModifiers::SHIFT)
                    || key.code == KeyCode::Char('Z')) =>
        {
            Action::Redo
        }
        KeyCode::Char(c) if ctrl && !alt => match c.to_ascii_lowercase() {
            'o' => Action::OpenPicker,
            't' => Action::OpenSwitcher,
            'f' => Action::OpenIdentities,
            'p' => Action::OpenPreview,
            'e' => Action::EditExternal,
            's' => Action::SaveDraft,
            'y' => Action::Send,
            'q' => Action::Quit,
            'z' | 'u' => Action::Undo,
            'r' => Action::Redo,
            _ => return None,
        },
        KeyCode::Enter if focus.is_line() => Action::NextPane,
        KeyCode::Up if focus.is_line() && focus != Pane::From => Action::PrevPane,
        KeyCode::Down if focus.is_line() => Action::NextPane,
        KeyCode::Delete | KeyCode::Backspace if focus == Pane::Attachments => {
            Action::RemoveAttachment
        }
        KeyCode::Enter | KeyCode::Char('o') if focus == Pane::Attachments => Action::OpenPicker,
        KeyCode::Up | KeyCode::Char('k') if focus == Pane::Attachments => {
            Action::SelectAttachment(-1)
        }
        KeyCode::Down | KeyCode::Char('j') if focus == Pane::Attachments => {
            Action::SelectAttachment(1)
        }
        _ => return None,
    })
}

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

fn area_text(t: &TextArea<'_>) -> String {
    t.lines().join("\n")
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

    /// Replace the Reply-To field's entries (an identity's, a draft's).
    pub fn set_reply_to(&mut self, list: &[String]) {
        self.reply_to = line_area(&list.join(", "), "");
        self.refresh_cursor_styles();
    }

    pub fn transport_config(&self) -> Option<&TransportConfig> {
        self.engine.config.transports.get(&self.transport)
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

    pub(super) fn body_mut(&mut self, pane: Pane) -> Option<&mut Body> {
        match pane {
            Pane::Text => Some(&mut self.text),
            Pane::Html => Some(&mut self.html),
            _ => None,
        }
    }

    /// A header field's text area (the bodies go through [`Body`]).
    pub(super) fn area_mut(&mut self, pane: Pane) -> Option<&mut TextArea<'static>> {
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
    fn measurable_draft(&self) -> Draft {
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

    // ---- events ----------------------------------------------------------------------

    pub fn handle_event(&mut self, ev: Event) {
        match ev {
            Event::Key(key) if key.kind != KeyEventKind::Release => self.handle_key(key),
            Event::Mouse(m) => self.handle_mouse(m),
            Event::Paste(text) => self.handle_paste(&text),
            Event::Resize(w, h) => self.resize(w, h),
            _ => {}
        }
    }

    pub fn resize(&mut self, w: u16, h: u16) {
        self.screen = Rect::new(0, 0, w, h);
        let screen = self.screen;
        for p in &mut self.popups {
            match p {
                Popup::Preview(pr) => pr.set_screen(screen),
                Popup::Help(hp) => hp.set_screen(screen),
                _ => {}
            }
        }
        self.relayout();
    }

    pub fn handle_key(&mut self, key: KeyEvent) {
        // Debug builds only: a way for the tests to check what a crash does.
        #[cfg(debug_assertions)]
        if key.code == KeyCode::F(12) && std::env::var_os("MISSIVE_DEBUG_PANIC").is_some() {
            panic!("panic requested with F12 (MISSIVE_DEBUG_PANIC, debug builds only)");
        }
        if let Some(popup) = self.popups.last_mut() {
            if let Some(action) = popup.handle_key(key) {
                self.apply(action);
            }
            return;
        }
        if !self.completion_key(&key) {
            match composer_keymap(&key, self.focus) {
                Some(action) => self.apply(action),
                None => self.pane_input(key),
            }
        }
        self.refresh_completion();
        self.relayout();
    }

    fn pane_input(&mut self, key: KeyEvent) {
        let focus = self.focus;
        if focus == Pane::Attachments {
            match key.code {
                KeyCode::Home => self.attachment_sel = 0,
                KeyCode::End => self.attachment_sel = self.attachments.len().saturating_sub(1),
                _ => {}
            }
            return;
        }
        if let Some(b) = self.body_mut(focus) {
            if b.input(key, Instant::now()) {
                self.edited(Some(focus));
            }
            return;
        }
        let mut input = Input::from(key);
        // Our own addition to the textarea's emacs-like keys.
        if input.ctrl && !input.alt && input.key == Key::Char('v') {
            input = Input {
                key: Key::Paste,
                ..Input::default()
            };
        }
        if focus.is_line() && matches!(input.key, Key::Enter | Key::Char('\n' | '\r')) {
            return;
        }
        if focus.is_line() && input.ctrl && matches!(input.key, Key::Char('m' | 'j')) {
            return;
        }
        let changed = focus.is_line() && self.area_mut(focus).is_some_and(|t| t.input(input));
        if changed {
            if focus.is_line() {
                self.flatten_line(focus);
            }
            self.edited(Some(focus));
        }
    }

    /// A line field must stay one line (a yank of several lines is joined).
    fn flatten_line(&mut self, pane: Pane) {
        if let Some(t) = self.area_mut(pane) {
            if t.lines().len() > 1 {
                let sep = if pane.is_recipients() { ", " } else { " " };
                let joined = t.lines().join(sep);
                let mut n = line_area(&joined, "");
                n.set_placeholder_text(t.placeholder_text().to_string());
                *t = n;
            }
        }
        self.refresh_cursor_styles();
    }

    pub fn handle_paste(&mut self, text: &str) {
        if let Some(popup) = self.popups.last_mut() {
            popup.handle_paste(text);
            return;
        }
        let focus = self.focus;
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        let text = if focus.is_line() {
            let sep = if focus.is_recipients() { ", " } else { " " };
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join(sep)
        } else {
            text
        };
        let changed = match self.body_mut(focus) {
            Some(b) => b.paste(&text),
            None => self.area_mut(focus).is_some_and(|t| t.insert_str(&text)),
        };
        if changed {
            self.edited(Some(focus));
        }
        self.refresh_completion();
        self.relayout();
    }

    pub fn handle_mouse(&mut self, m: MouseEvent) {
        if !self.popups.is_empty() {
            return;
        }
        let layout = super::view::layout(self.screen, self);
        match m.kind {
            MouseEventKind::Down(MouseButton::Left)
                if layout
                    .via
                    .contains(ratatui::layout::Position::new(m.column, m.row)) =>
            {
                // The "via transport" tag opens the switcher.
                self.apply(Action::OpenSwitcher);
            }
            MouseEventKind::Down(MouseButton::Left) => {
                if let Some(pane) = layout.pane_at(m.column, m.row) {
                    self.set_focus(pane);
                    if pane == Pane::Attachments {
                        let inner_top = layout.attachments.y + 1;
                        if m.row >= inner_top {
                            let first = super::popups::window_start(
                                self.attachment_sel,
                                layout.attachments.height.saturating_sub(2) as usize,
                                self.attachments.len(),
                            );
                            let idx = first + (m.row - inner_top) as usize;
                            if idx < self.attachments.len() {
                                self.attachment_sel = idx;
                            }
                        }
                    }
                }
            }
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                if let Some(pane) = layout.pane_at(m.column, m.row) {
                    if let Some(b) = self.body_mut(pane) {
                        b.scroll(if m.kind == MouseEventKind::ScrollDown {
                            1
                        } else {
                            -1
                        });
                    }
                }
            }
            _ => {}
        }
        self.relayout();
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

    /// Give the message its Message-ID now, so the preview, the confirmation and the send
    /// all show the same one (a retry after a failure keeps it too).
    fn ensure_message_id(&mut self) {
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

    fn open_preview(&mut self) {
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

    fn start_send(&mut self) {
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
    fn mark_error(&mut self, e: &MessageError) {
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

    fn confirm_send(&mut self) {
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

    // ---- the worker's answers ----------------------------------------------------------

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

    /// Where the composer's files are relative to: the picker's start.
    pub fn cwd(&self) -> &Path {
        &self.cwd
    }
}
