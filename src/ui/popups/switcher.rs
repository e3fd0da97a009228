//! The transport switcher (Ctrl-T): every configured transport with its kind and where it
//! sends; the active one is marked.

use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::{Cell, Row, Table, Widget};

use super::{centered, frame, window_start};
use crate::config::Config;
use crate::ui::app::{transport_detail, Action};

#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub name: String,
    pub kind: &'static str,
    pub detail: String,
    pub is_default: bool,
}

pub struct Switcher {
    pub items: Vec<Item>,
    pub active: String,
    pub selected: usize,
}

impl Switcher {
    pub fn new(config: &Config, active: &str) -> Switcher {
        let default = config.default_transport().ok().map(|t| t.name.clone());
        let items: Vec<Item> = config
            .transports
            .values()
            .map(|tc| Item {
                name: tc.name.clone(),
                kind: tc.kind.name(),
                detail: transport_detail(tc),
                is_default: default.as_deref() == Some(tc.name.as_str()),
            })
            .collect();
        let selected = items.iter().position(|i| i.name == active).unwrap_or(0);
        Switcher {
            items,
            active: active.to_string(),
            selected,
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let n = self.items.len();
        match key.code {
            KeyCode::Esc | KeyCode::Char('q') => return Some(Action::ClosePopup),
            KeyCode::Char('t') if ctrl => return Some(Action::ClosePopup),
            KeyCode::Enter | KeyCode::Char(' ') => {
                return self
                    .items
                    .get(self.selected)
                    .map(|i| Action::SwitchTransport(i.name.clone()))
            }
            KeyCode::Down | KeyCode::Char('j') | KeyCode::Tab if n > 0 => {
                self.selected = (self.selected + 1) % n;
            }
            KeyCode::Up | KeyCode::Char('k') | KeyCode::BackTab if n > 0 => {
                self.selected = (self.selected + n - 1) % n;
            }
            KeyCode::Home => self.selected = 0,
            KeyCode::End => self.selected = n.saturating_sub(1),
            KeyCode::Char(c) if c.is_ascii_digit() && c != '0' => {
                let i = (c as u8 - b'1') as usize;
                if let Some(item) = self.items.get(i) {
                    return Some(Action::SwitchTransport(item.name.clone()));
                }
            }
            _ => {}
        }
        None
    }

    pub fn render(&self, screen: Rect, buf: &mut Buffer) {
        let h = (self.items.len() as u16 + 2)
            .min(screen.height.saturating_sub(2))
            .max(5);
        let w = (screen.width * 9 / 10).clamp(40.min(screen.width), 100);
        let area = centered(screen, w, h);
        let inner = frame(
            area,
            buf,
            "Send via",
            "↑↓ choose · Enter use · 1-9 pick · Esc close",
            Color::Magenta,
        );
        let height = inner.height as usize;
        let first = window_start(self.selected, height, self.items.len());
        let rows = self
            .items
            .iter()
            .enumerate()
            .skip(first)
            .take(height)
            .map(|(i, it)| {
                let mark = if it.name == self.active { "●" } else { " " };
                let mut name = it.name.clone();
                if it.is_default {
                    name.push_str(" (default)");
                }
                let mut style = if it.name == self.active {
                    Style::default()
                        .fg(Color::Green)
                        .add_modifier(Modifier::BOLD)
                } else {
                    Style::default()
                };
                if i == self.selected {
                    style = style.add_modifier(Modifier::REVERSED);
                }
                Row::new(vec![
                    Cell::from(format!("{mark} {}", i + 1)),
                    Cell::from(name),
                    Cell::from(it.kind),
                    Cell::from(it.detail.clone()),
                ])
                .style(style)
            });
        let name_w = self
            .items
            .iter()
            .map(|i| i.name.chars().count() + if i.is_default { 10 } else { 0 })
            .max()
            .unwrap_or(8)
            .clamp(8, 30) as u16;
        Table::new(
            rows,
            [
                Constraint::Length(4),
                Constraint::Length(name_w),
                Constraint::Length(8),
                Constraint::Fill(1),
            ],
        )
        .column_spacing(1)
        .render(inner, buf);
    }
}
