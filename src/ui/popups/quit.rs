//! Ctrl-Q with changes: keep them as a draft, delete the draft, or go back.

use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::{centered, frame, label};
use crate::ui::app::Action;

pub struct QuitPrompt {
    pub draft_id: String,
    pub unsaved: bool,
}

impl QuitPrompt {
    pub fn new(draft_id: &str, unsaved: bool) -> QuitPrompt {
        QuitPrompt {
            draft_id: draft_id.to_string(),
            unsaved,
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Enter | KeyCode::Char('s' | 'S' | 'y' | 'Y') => Some(Action::QuitSaving),
            KeyCode::Char('q') if ctrl => Some(Action::QuitSaving),
            KeyCode::Char('d' | 'D') => Some(Action::QuitDiscarding),
            KeyCode::Esc | KeyCode::Char('n' | 'N' | 'c' | 'C') => Some(Action::ClosePopup),
            _ => None,
        }
    }

    pub fn render(&self, screen: Rect, buf: &mut Buffer) {
        let w = (screen.width * 7 / 10).clamp(46.min(screen.width), 76);
        let area = centered(screen, w, 9);
        let inner = frame(area, buf, "Quit?", "", Color::Yellow);
        let state = if self.unsaved {
            "Your latest changes are not saved yet."
        } else {
            "Your changes are saved in a draft."
        };
        let lines = vec![
            Line::from(state),
            Line::from(Span::styled(
                format!("Draft {}", self.draft_id),
                Style::default().fg(Color::DarkGray),
            )),
            Line::default(),
            Line::from(vec![
                label("  s / Enter "),
                Span::raw("keep the draft and quit"),
            ]),
            Line::from(vec![
                label("  d         "),
                Span::styled("delete the draft and quit", Style::default().fg(Color::Red)),
            ]),
            Line::from(vec![
                label("  Esc       "),
                Span::raw("back to the message"),
            ]),
        ];
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .render(inner, buf);
    }
}
