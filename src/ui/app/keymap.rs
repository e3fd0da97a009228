//! The panes, the one [`Action`] enum and the keymap from keys to actions.

use std::path::PathBuf;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

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
