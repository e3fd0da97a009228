//! A message box: errors (a failed send, a message that cannot be built) and notices.

use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::{centered, frame, wrap_width};
use crate::ui::app::Action;

pub struct MessageBox {
    pub title: String,
    pub lines: Vec<String>,
    pub error: bool,
}

impl MessageBox {
    pub fn error(title: &str, lines: Vec<String>) -> MessageBox {
        MessageBox {
            title: title.to_string(),
            lines,
            error: true,
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        match key.code {
            KeyCode::Esc | KeyCode::Enter | KeyCode::Char(' ' | 'q') => Some(Action::ClosePopup),
            _ => None,
        }
    }

    pub fn render(&self, screen: Rect, buf: &mut Buffer) {
        let w = (screen.width * 8 / 10).clamp(40.min(screen.width), 96);
        let text_w = w.saturating_sub(2) as usize;
        let n: usize = self.lines.iter().map(|l| wrap_width(l, text_w).len()).sum();
        // Word wrapping can take a line or two more than the character count says.
        let h = (n as u16 + 3).min(screen.height.saturating_sub(2));
        let area = centered(screen, w, h);
        let color = if self.error { Color::Red } else { Color::Cyan };
        let inner = frame(area, buf, &self.title, "Enter/Esc close", color);
        let lines: Vec<Line> = self
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                if i == 0 && self.error {
                    Line::from(Span::styled(
                        l.clone(),
                        Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
                    ))
                } else {
                    Line::from(l.clone())
                }
            })
            .collect();
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .render(inner, buf);
    }
}
