//! On start: offer the last unsent draft.

use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::{centered, frame, label};
use crate::drafts::SavedDraft;
use crate::ui::app::Action;

pub struct ResumeOffer {
    pub id: String,
    pub saved: String,
    pub to: String,
    pub subject: String,
}

impl ResumeOffer {
    pub fn new(d: SavedDraft) -> ResumeOffer {
        let to = d.draft.to.join(", ");
        ResumeOffer {
            id: d.id,
            saved: d.saved,
            to: if to.is_empty() {
                "(nobody yet)".into()
            } else {
                to
            },
            subject: if d.draft.subject.is_empty() {
                "(no subject)".into()
            } else {
                d.draft.subject
            },
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        match key.code {
            KeyCode::Enter | KeyCode::Char('o' | 'y' | 'Y') => {
                Some(Action::ResumeDraft(self.id.clone()))
            }
            KeyCode::Esc | KeyCode::Char('n' | 'N') => Some(Action::ClosePopup),
            _ => None,
        }
    }

    pub fn render(&self, screen: Rect, buf: &mut Buffer) {
        let w = (screen.width * 8 / 10).clamp(46.min(screen.width), 84);
        let area = centered(screen, w, 9);
        let inner = frame(
            area,
            buf,
            "Continue your last draft?",
            "Enter open it · Esc new message",
            Color::Yellow,
        );
        let lines = vec![
            Line::from(vec![label("Subject  "), Span::raw(self.subject.clone())]),
            Line::from(vec![label("To       "), Span::raw(self.to.clone())]),
            Line::from(vec![label("Saved    "), Span::raw(self.saved.clone())]),
            Line::from(vec![label("Draft    "), Span::raw(self.id.clone())]),
            Line::default(),
            Line::from(Span::styled(
                "`missive drafts` lists all drafts; `missive --draft ID` opens one.",
                Style::default().fg(Color::DarkGray),
            )),
        ];
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .render(inner, buf);
    }
}
