//! The confirmation before a send: transport, recipients and the exact size of what will
//! be sent (the message is built first, off the UI loop).

use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::{centered, frame, label};
use crate::engine::Prepared;
use crate::message::Draft;
use crate::mime_tree::human_size;
use crate::ui::app::Action;
use crate::ui::worker::PreviewData;

pub enum State {
    Loading,
    Ready {
        prepared: Option<Box<Prepared>>,
        data: Box<PreviewData>,
    },
    Failed(String),
}

pub struct Confirm {
    pub transport: String,
    pub kind: &'static str,
    pub to: String,
    pub cc: String,
    pub bcc: String,
    pub subject: String,
    pub attachments: usize,
    /// Worth a second look (empty subject, a mentioned but missing attachment): shown
    /// above the rest; Enter still sends.
    pub warnings: Vec<String>,
    pub state: State,
}

impl Confirm {
    pub fn loading(d: &Draft, transport: &str, kind: &'static str) -> Confirm {
        Confirm {
            transport: transport.to_string(),
            kind,
            to: d.to.join(", "),
            cc: d.cc.join(", "),
            bcc: d.bcc.join(", "),
            subject: d.subject.clone(),
            attachments: d.attachments.len(),
            warnings: crate::ui::warnings::before_send(d),
            state: State::Loading,
        }
    }

    pub fn ready(&mut self, prepared: Box<Prepared>, data: PreviewData) {
        self.state = State::Ready {
            prepared: Some(prepared),
            data: Box::new(data),
        };
    }

    pub fn failed(&mut self, e: String) {
        self.state = State::Failed(e);
    }

    /// Built, and too big for the transport: the engine would refuse it.
    pub fn over_limit(&self) -> bool {
        match &self.state {
            State::Ready { data, .. } => data.size_limit.is_some_and(|l| data.size > l),
            _ => false,
        }
    }

    pub fn take_prepared(&mut self) -> Option<Box<Prepared>> {
        match &mut self.state {
            State::Ready { prepared, data } => {
                let over = data.size_limit.is_some_and(|l| data.size > l);
                if over {
                    None
                } else {
                    prepared.take()
                }
            }
            _ => None,
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        match key.code {
            KeyCode::Esc | KeyCode::Char('n' | 'N' | 'q') => Some(Action::ClosePopup),
            KeyCode::Enter | KeyCode::Char('y' | 'Y') => match &self.state {
                State::Ready { .. } if self.over_limit() => Some(Action::ClosePopup),
                State::Ready { .. } => Some(Action::ConfirmSend),
                State::Failed(_) => Some(Action::ClosePopup),
                State::Loading => None,
            },
            _ => None,
        }
    }

    pub fn render(&self, screen: Rect, buf: &mut Buffer) {
        let w = (screen.width * 8 / 10).clamp(50.min(screen.width), 90);
        let keys = match &self.state {
            State::Ready { .. } if self.over_limit() => "Esc back",
            State::Ready { .. } if !self.warnings.is_empty() => "Enter/y send anyway · Esc/n back",
            State::Ready { .. } => "Enter/y send · Esc/n back",
            _ => "Esc back",
        };
        let row = |name: &str, value: String| {
            Line::from(vec![label(&format!("{name:<9}")), Span::raw(value)])
        };
        let mut lines: Vec<Line> = self
            .warnings
            .iter()
            .map(|w| {
                Line::from(Span::styled(
                    format!("⚠ {w}"),
                    Style::default()
                        .fg(Color::Yellow)
                        .add_modifier(Modifier::BOLD),
                ))
            })
            .collect();
        lines.push(row("Via", format!("{} ({})", self.transport, self.kind)));
        if let State::Ready { data, .. } = &self.state {
            lines.push(row("From", data.from.clone()));
        }
        lines.push(row("To", self.to.clone()));
        if !self.cc.is_empty() {
            lines.push(row("Cc", self.cc.clone()));
        }
        if !self.bcc.is_empty() {
            lines.push(row("Bcc", self.bcc.clone()));
        }
        lines.push(row("Subject", self.subject.clone()));
        match &self.state {
            State::Loading => lines.push(row("Size", "building the message…".into())),
            State::Failed(e) => lines.push(Line::from(Span::styled(
                format!("Cannot build the message: {e}"),
                Style::default().fg(Color::Red),
            ))),
            State::Ready { data, .. } => {
                let mut size = format!("{} ({} bytes)", human_size(data.size), data.size);
                if self.attachments > 0 {
                    size.push_str(&format!(
                        ", {} attachment{}",
                        self.attachments,
                        if self.attachments == 1 { "" } else { "s" }
                    ));
                }
                lines.push(row("Size", size));
                lines.push(row(
                    "Envelope",
                    format!(
                        "{} recipient{}",
                        data.envelope_to.len(),
                        if data.envelope_to.len() == 1 { "" } else { "s" }
                    ),
                ));
                if let Some(limit) = data.size_limit {
                    if data.size > limit {
                        lines.push(Line::from(Span::styled(
                            format!(
                                "Over the {} limit of {}: it cannot be sent this way.",
                                data.kind,
                                human_size(limit)
                            ),
                            Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
                        )));
                    } else {
                        lines.push(row("Limit", human_size(limit)));
                    }
                }
            }
        }
        let text_w = w.saturating_sub(2) as usize;
        let h: usize = lines
            .iter()
            .map(|l| l.width().div_ceil(text_w.max(1)).max(1))
            .sum();
        let area = centered(screen, w, h as u16 + 2);
        let (title, accent) = if self.warnings.is_empty() {
            ("Send this message?", Color::Green)
        } else {
            ("Send anyway?", Color::Yellow)
        };
        let inner = frame(area, buf, title, keys, accent);
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .render(inner, buf);
    }
}
