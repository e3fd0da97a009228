//! The MIME preview (Ctrl-P): the tree of parts the engine will send (type, encoding,
//! encoded size, file name), the headers as sent, the HTML body rendered as text, and the
//! transport's size limit when it has one.

use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::{frame, scroll_key, sized, wrap_width};
use crate::mime_tree::human_size;
use crate::ui::app::Action;
use crate::ui::worker::PreviewData;

pub enum State {
    Loading,
    Ready(Box<PreviewData>),
    Failed(String),
}

pub struct Preview {
    pub state: State,
    pub scroll: usize,
    screen: Rect,
    lines: Vec<Line<'static>>,
}

fn area(screen: Rect) -> Rect {
    sized(screen, 92, 90, 60, 16)
}

impl Preview {
    pub fn loading(screen: Rect) -> Preview {
        let mut p = Preview {
            state: State::Loading,
            scroll: 0,
            screen,
            lines: Vec::new(),
        };
        p.rebuild();
        p
    }

    /// Columns available for text inside the popup.
    pub fn text_width(&self) -> usize {
        area(self.screen).width.saturating_sub(2).max(10) as usize
    }

    fn page(&self) -> usize {
        area(self.screen).height.saturating_sub(2) as usize
    }

    pub fn set_screen(&mut self, screen: Rect) {
        self.screen = screen;
        self.rebuild();
    }

    pub fn ready(&mut self, data: PreviewData) {
        self.state = State::Ready(Box::new(data));
        self.rebuild();
    }

    pub fn failed(&mut self, e: String) {
        self.state = State::Failed(e);
        self.rebuild();
    }

    fn rebuild(&mut self) {
        let width = self.text_width();
        let section = |t: &str| {
            Line::from(Span::styled(
                t.to_string(),
                Style::default()
                    .fg(Color::Yellow)
                    .add_modifier(Modifier::BOLD),
            ))
        };
        let mut out: Vec<Line<'static>> = Vec::new();
        match &self.state {
            State::Loading => out.push(Line::from("Building the message…")),
            State::Failed(e) => {
                out.push(section("The message cannot be built:"));
                for l in wrap_width(e, width) {
                    out.push(Line::from(Span::styled(l, Style::default().fg(Color::Red))));
                }
            }
            State::Ready(d) => {
                let mut summary = format!(
                    "via {} ({}) · {} ({} bytes)",
                    d.transport,
                    d.kind,
                    human_size(d.size),
                    d.size
                );
                if let Some(limit) = d.size_limit {
                    summary.push_str(&format!(" · limit {}", human_size(limit)));
                }
                out.push(Line::from(Span::styled(
                    summary,
                    Style::default().add_modifier(Modifier::BOLD),
                )));
                if let Some(limit) = d.size_limit {
                    if d.size > limit {
                        out.push(Line::from(Span::styled(
                            format!(
                                "Over the {} transport's limit of {} bytes: sending will be refused.",
                                d.kind, limit
                            ),
                            Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
                        )));
                    }
                }
                for l in wrap_width(
                    &format!(
                        "envelope: from {} to {}",
                        d.envelope_from,
                        d.envelope_to.join(", ")
                    ),
                    width,
                ) {
                    out.push(Line::from(Span::styled(
                        l,
                        Style::default().fg(Color::DarkGray),
                    )));
                }
                out.push(Line::default());
                out.push(section("MIME structure"));
                for l in &d.tree {
                    for w in wrap_width(l, width) {
                        out.push(Line::from(w));
                    }
                }
                out.push(Line::default());
                out.push(section("Headers"));
                for (k, v) in &d.headers {
                    let full = format!("{k}: {v}");
                    for (i, w) in wrap_width(&full, width).into_iter().enumerate() {
                        if i == 0 && w.len() > k.len() {
                            let (name, rest) = w.split_at(k.len() + 1);
                            out.push(Line::from(vec![
                                Span::styled(name.to_string(), Style::default().fg(Color::Cyan)),
                                Span::raw(rest.to_string()),
                            ]));
                        } else {
                            out.push(Line::from(w));
                        }
                    }
                    if k.eq_ignore_ascii_case("subject") && v.contains("=?") {
                        for w in wrap_width(&format!("  (decoded: {})", d.subject), width) {
                            out.push(Line::from(Span::styled(
                                w,
                                Style::default().fg(Color::DarkGray),
                            )));
                        }
                    }
                }
                if let Some(h) = &d.html_text {
                    out.push(Line::default());
                    out.push(section("HTML body, as text"));
                    for l in h.lines() {
                        for w in wrap_width(l, width) {
                            out.push(Line::from(w));
                        }
                    }
                }
            }
        }
        self.lines = out;
        self.scroll = self
            .scroll
            .min(self.lines.len().saturating_sub(self.page()));
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc | KeyCode::Char('q') | KeyCode::Enter => Some(Action::ClosePopup),
            KeyCode::Char('p') if ctrl => Some(Action::ClosePopup),
            _ => {
                let (n, page) = (self.lines.len(), self.page());
                scroll_key(&mut self.scroll, &key, n, page);
                None
            }
        }
    }

    pub fn render(&self, screen: Rect, buf: &mut Buffer) {
        let a = area(screen);
        let more = if self.lines.len() > self.page() {
            format!(
                "↑↓ PgUp PgDn scroll · line {}/{} · Esc close",
                self.scroll + 1,
                self.lines.len()
            )
        } else {
            "Esc close".to_string()
        };
        let inner = frame(
            a,
            buf,
            "MIME preview — what will be sent",
            &more,
            Color::Cyan,
        );
        let visible: Vec<Line> = self
            .lines
            .iter()
            .skip(self.scroll)
            .take(inner.height as usize)
            .cloned()
            .collect();
        Paragraph::new(visible).render(inner, buf);
    }
}
