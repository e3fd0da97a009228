//! Popups: each is a component in its own module that handles its keys and draws itself.
//! The topmost popup gets every key first; what it cannot handle alone comes back to the
//! app as an [`Action`](super::app::Action).

use ratatui::buffer::Buffer;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Widget};

use super::app::Action;

pub mod confirm;
pub mod help;
pub mod identities;
pub mod message;
pub mod picker;
pub mod preview;
pub mod progress;
pub mod quit;
pub mod receipt;
pub mod resume;
pub mod switcher;

pub use confirm::Confirm;
pub use help::Help;
pub use identities::Identities;
pub use message::MessageBox;
pub use picker::Picker;
pub use preview::Preview;
pub use progress::Sending;
pub use quit::QuitPrompt;
pub use receipt::Receipt;
pub use resume::ResumeOffer;
pub use switcher::Switcher;

pub enum Popup {
    Picker(Box<Picker>),
    Switcher(Switcher),
    Identities(Identities),
    Preview(Preview),
    Confirm(Box<Confirm>),
    Sending(Sending),
    Receipt(Receipt),
    Message(MessageBox),
    Help(Help),
    Quit(QuitPrompt),
    Resume(ResumeOffer),
}

impl Popup {
    pub fn name(&self) -> &'static str {
        match self {
            Popup::Picker(_) => "picker",
            Popup::Switcher(_) => "switcher",
            Popup::Identities(_) => "identities",
            Popup::Preview(_) => "preview",
            Popup::Confirm(_) => "confirm",
            Popup::Sending(_) => "progress",
            Popup::Receipt(_) => "receipt",
            Popup::Message(_) => "error",
            Popup::Help(_) => "help",
            Popup::Quit(_) => "quit",
            Popup::Resume(_) => "resume",
        }
    }

    /// Handle a key; `None` means the popup dealt with it (or ignored it) by itself.
    pub fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        match self {
            Popup::Picker(p) => p.handle_key(key),
            Popup::Switcher(p) => p.handle_key(key),
            Popup::Identities(p) => p.handle_key(key),
            Popup::Preview(p) => p.handle_key(key),
            Popup::Confirm(p) => p.handle_key(key),
            Popup::Sending(p) => p.handle_key(key),
            Popup::Receipt(p) => p.handle_key(key),
            Popup::Message(p) => p.handle_key(key),
            Popup::Help(p) => p.handle_key(key),
            Popup::Quit(p) => p.handle_key(key),
            Popup::Resume(p) => p.handle_key(key),
        }
    }

    /// Text typed with the bracketed-paste mode: only the picker's filter takes it.
    pub fn handle_paste(&mut self, text: &str) {
        if let Popup::Picker(p) = self {
            p.paste(text);
        }
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer) {
        match self {
            Popup::Picker(p) => p.render(area, buf),
            Popup::Switcher(p) => p.render(area, buf),
            Popup::Identities(p) => p.render(area, buf),
            Popup::Preview(p) => p.render(area, buf),
            Popup::Confirm(p) => p.render(area, buf),
            Popup::Sending(p) => p.render(area, buf),
            Popup::Receipt(p) => p.render(area, buf),
            Popup::Message(p) => p.render(area, buf),
            Popup::Help(p) => p.render(area, buf),
            Popup::Quit(p) => p.render(area, buf),
            Popup::Resume(p) => p.render(area, buf),
        }
    }
}

/// A rectangle of `width` × `height` cells centred in `area`, clipped to it.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// A popup of the given share of the screen, with at least the given size.
pub fn sized(area: Rect, pct_w: u16, pct_h: u16, min_w: u16, min_h: u16) -> Rect {
    let w = (area.width * pct_w / 100).max(min_w);
    let h = (area.height * pct_h / 100).max(min_h);
    centered(area, w, h)
}

/// Clear the popup's area and draw its frame; returns the inner area.
pub fn frame(area: Rect, buf: &mut Buffer, title: &str, keys: &str, accent: Color) -> Rect {
    Clear.render(area, buf);
    // A wide character just left of the popup would spill into its border: blank it.
    if area.x > 0 {
        use unicode_width::UnicodeWidthStr;
        for y in area.top()..area.bottom() {
            if let Some(cell) = buf.cell_mut((area.x - 1, y)) {
                if cell.symbol().width() > 1 {
                    cell.set_symbol(" ");
                }
            }
        }
    }
    let mut block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(Style::default().fg(accent))
        .title(Line::from(Span::styled(
            format!(" {title} "),
            Style::default().fg(accent).add_modifier(Modifier::BOLD),
        )));
    if !keys.is_empty() {
        block = block.title_bottom(Line::from(Span::styled(
            format!(" {keys} "),
            Style::default().fg(Color::DarkGray),
        )));
    }
    let inner = block.inner(area);
    block.render(area, buf);
    inner
}

pub fn label(s: &str) -> Span<'static> {
    Span::styled(
        s.to_string(),
        Style::default()
            .fg(Color::Cyan)
            .add_modifier(Modifier::BOLD),
    )
}

/// First visible row so that `selected` shows in a list of `height` rows.
pub fn window_start(selected: usize, height: usize, len: usize) -> usize {
    if height == 0 || len <= height {
        return 0;
    }
    let half = height / 2;
    selected.saturating_sub(half).min(len - height)
}

/// Scroll handling shared by the read-only popups (preview, help): `content` lines in a
/// view of `page` rows.
pub fn scroll_key(scroll: &mut usize, key: &KeyEvent, content: usize, page: usize) -> bool {
    use ratatui::crossterm::event::KeyCode;
    let max = content.saturating_sub(page.max(1));
    let step = page.saturating_sub(1).max(1);
    match key.code {
        KeyCode::Down | KeyCode::Char('j') => *scroll = (*scroll + 1).min(max),
        KeyCode::Up | KeyCode::Char('k') => *scroll = scroll.saturating_sub(1),
        KeyCode::PageDown | KeyCode::Char(' ') => *scroll = (*scroll + step).min(max),
        KeyCode::PageUp => *scroll = scroll.saturating_sub(step),
        KeyCode::Home | KeyCode::Char('g') => *scroll = 0,
        KeyCode::End | KeyCode::Char('G') => *scroll = max,
        _ => return false,
    }
    true
}

/// Split `text` into lines of at most `width` cells (wide characters count two).
pub fn wrap_width(text: &str, width: usize) -> Vec<String> {
    use unicode_width::UnicodeWidthChar;
    let width = width.max(1);
    let mut out = Vec::new();
    for raw in text.split('\n') {
        let mut line = String::new();
        let mut w = 0;
        for c in raw.chars() {
            let cw = c.width().unwrap_or(0);
            if w + cw > width && !line.is_empty() {
                out.push(std::mem::take(&mut line));
                w = 0;
            }
            line.push(c);
            w += cw;
        }
        out.push(line);
    }
    out
}

/// `text` cut to `width` cells, with an ellipsis when cut.
pub fn truncate(text: &str, width: usize) -> String {
    use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};
    if text.width() <= width {
        return text.to_string();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in text.chars() {
        let cw = c.width().unwrap_or(0);
        if w + cw + 1 > width {
            break;
        }
        out.push(c);
        w += cw;
    }
    out.push('…');
    out
}
