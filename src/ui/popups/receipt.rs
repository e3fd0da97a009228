//! The receipt after a send: the Message-ID and the transport's own id (SMTP queue id,
//! Gmail message id, or the file written).

use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::{centered, frame, label};
use crate::engine::SendReport;
use crate::mime_tree::human_size;
use crate::ui::app::Action;

pub struct Receipt {
    pub report: SendReport,
}

impl Receipt {
    pub fn new(report: SendReport) -> Receipt {
        Receipt { report }
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        match key.code {
            KeyCode::Esc | KeyCode::Enter | KeyCode::Char(' ' | 'q') => Some(Action::ClosePopup),
            _ => None,
        }
    }

    pub fn render(&self, screen: Rect, buf: &mut Buffer) {
        let r = &self.report;
        let w = (screen.width * 9 / 10).clamp(50.min(screen.width), 100);
        let row = |name: &str, value: String| {
            Line::from(vec![label(&format!("{name:<12}")), Span::raw(value)])
        };
        let mut lines = vec![
            Line::from(Span::styled(
                format!("✓ Sent via {} ({})", r.transport, r.kind),
                Style::default()
                    .fg(Color::Green)
                    .add_modifier(Modifier::BOLD),
            )),
            row("Message-ID", r.message_id.clone()),
        ];
        match r.kind.as_str() {
            "gmail" => {
                if let Some(id) = &r.server_id {
                    lines.push(row("Gmail id", id.clone()));
                }
                if let Some(t) = &r.thread_id {
                    lines.push(row("Thread id", t.clone()));
                }
            }
            _ => {
                if let Some(id) = &r.server_id {
                    lines.push(row("Queue id", id.clone()));
                }
            }
        }
        if let Some(p) = &r.path {
            lines.push(row("File", p.display().to_string()));
        }
        if let Some(resp) = &r.response {
            lines.push(row("Response", resp.clone()));
        }
        lines.push(row("Recipients", r.recipients.join(", ")));
        lines.push(row(
            "Size",
            format!("{} ({} bytes)", human_size(r.bytes), r.bytes),
        ));
        lines.push(Line::from(Span::styled(
            "Recorded in the sent log; the draft was removed.",
            Style::default().fg(Color::DarkGray),
        )));
        let text_w = w.saturating_sub(2) as usize;
        let h: usize = lines
            .iter()
            .map(|l| l.width().div_ceil(text_w.max(1)).max(1))
            .sum();
        let area = centered(screen, w, h as u16 + 2);
        let inner = frame(area, buf, "Sent", "Enter new message", Color::Green);
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .render(inner, buf);
    }
}
