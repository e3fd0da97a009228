//! Help (F1): every key.

use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::{frame, scroll_key, sized};
use crate::ui::app::Action;

/// (key, what it does); an empty key starts a section.
pub const KEYS: &[(&str, &str)] = &[
    ("", "Composer"),
    (
        "Tab / Shift-Tab",
        "next / previous pane (a mouse click focuses a pane too)",
    ),
    ("Enter, ↑ ↓", "in a header field: next / previous field"),
    ("Ctrl-O", "attachment picker"),
    (
        "Delete",
        "in Attachments: remove the selected attachment (Ctrl-Z puts it back)",
    ),
    ("↑ ↓, Enter", "in Attachments: select, open the picker"),
    (
        "Ctrl-T",
        "transport switcher (From follows it unless you edited From)",
    ),
    (
        "Ctrl-F",
        "identity picker: From, Reply-To, transport and signature follow it",
    ),
    (
        "Ctrl-P",
        "MIME preview: parts, encodings, sizes, headers, HTML as text",
    ),
    (
        "Ctrl-E",
        "edit the focused body (Text or HTML) in $VISUAL / $EDITOR",
    ),
    (
        "Ctrl-S",
        "save the draft now (drafts are also saved while you type)",
    ),
    ("Ctrl-Y", "send: confirm, then send with progress"),
    ("F1", "this help"),
    ("Ctrl-Q", "quit (asks what to do with your changes)"),
    ("", "Editing text"),
    (
        "Ctrl-Z / Ctrl-U",
        "undo in the focused pane: a typed word, a paste, an $EDITOR edit, an attachment",
    ),
    ("Ctrl-R / Ctrl-Shift-Z", "redo"),
    ("Shift-arrows", "select text"),
    (
        "Ctrl-C, Ctrl-X, Ctrl-V",
        "copy, cut, paste the selection (terminal paste works too)",
    ),
    ("Ctrl-A / Home, End", "start / end of line"),
    (
        "Ctrl-K, Ctrl-J, Ctrl-W",
        "delete to end of line, to start of line, word before",
    ),
    ("Alt-F / Alt-B", "word forward / back"),
    (
        "PgUp / PgDn, Alt-< Alt->",
        "scroll, top / bottom of the body",
    ),
    ("", "Recipients (To, Cc, Bcc, Reply-To)"),
    ("type", "matching contacts show under the field"),
    ("↑ ↓", "choose a suggestion"),
    ("Tab / Enter", "put it in the field"),
    ("Esc", "close the suggestions"),
    ("", "Attachment picker"),
    ("type", "filter the list (fuzzy)"),
    ("Enter", "add the file, or open the directory"),
    (
        "Backspace",
        "delete a filter character; with no filter, go up",
    ),
    ("Alt-H", "show / hide hidden files"),
    ("Esc", "close"),
    ("", "Transport switcher"),
    ("↑ ↓ Enter, 1-9", "choose a transport"),
    ("", "Preview, help"),
    ("↑ ↓ PgUp PgDn Home End", "scroll"),
    ("Esc", "close"),
    ("", "Send confirmation"),
    ("Enter / y", "send"),
    ("Esc / n", "back to the message"),
];

pub struct Help {
    pub scroll: usize,
    screen: Rect,
    lines: Vec<Line<'static>>,
}

fn area(screen: Rect) -> Rect {
    sized(screen, 84, 90, 60, 14)
}

impl Help {
    pub fn new(screen: Rect) -> Help {
        let mut h = Help {
            scroll: 0,
            screen,
            lines: Vec::new(),
        };
        h.set_screen(screen);
        h
    }

    /// Lay the keys out for the popup's width: long descriptions wrap under themselves.
    pub fn set_screen(&mut self, screen: Rect) {
        self.screen = screen;
        let width = area(screen).width.saturating_sub(2) as usize;
        let key_w = if width >= 90 { 26 } else { 22 };
        let desc_w = width.saturating_sub(key_w + 2).max(10);
        let mut lines = Vec::new();
        for (k, what) in KEYS {
            if k.is_empty() {
                lines.push(Line::from(Span::styled(
                    what.to_string(),
                    Style::default()
                        .fg(Color::Yellow)
                        .add_modifier(Modifier::BOLD),
                )));
                continue;
            }
            for (i, part) in wrap_words(what, desc_w).into_iter().enumerate() {
                let key = if i == 0 { *k } else { "" };
                lines.push(Line::from(vec![
                    Span::styled(format!("  {key:<key_w$}"), Style::default().fg(Color::Cyan)),
                    Span::raw(part),
                ]));
            }
        }
        self.lines = lines;
        self.scroll = self
            .scroll
            .min(self.lines.len().saturating_sub(self.page()));
    }

    fn page(&self) -> usize {
        area(self.screen).height.saturating_sub(2) as usize
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        match key.code {
            KeyCode::Esc | KeyCode::Char('q') | KeyCode::Enter | KeyCode::F(1) => {
                Some(Action::ClosePopup)
            }
            _ => {
                let (n, page) = (self.lines.len(), self.page());
                scroll_key(&mut self.scroll, &key, n, page);
                None
            }
        }
    }

    pub fn render(&self, screen: Rect, buf: &mut Buffer) {
        let a = area(screen);
        let keys = if self.lines.len() > self.page() {
            "↑↓ PgUp PgDn scroll · Esc close"
        } else {
            "Esc close"
        };
        let inner = frame(a, buf, "Keys", keys, Color::Green);
        let lines: Vec<Line> = self
            .lines
            .iter()
            .skip(self.scroll)
            .take(inner.height as usize)
            .cloned()
            .collect();
        Paragraph::new(lines).render(inner, buf);
    }
}

/// Split at spaces into lines of at most `width` columns (a longer word gets its own line).
fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push(line);
    out
}
