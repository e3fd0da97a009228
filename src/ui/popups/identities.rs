//! The identity picker (Ctrl-F): every `[identity.NAME]` with its From, transport and
//! signature; the one written as is marked. Picking one is the app's job (From, Reply-To,
//! transport, signature swapped).

use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Widget, Wrap};

use super::{centered, frame, label, truncate, window_start};
use crate::config::Config;
use crate::identity::SignatureSource;
use crate::ui::app::Action;

#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub name: String,
    pub from: String,
    pub transport: String,
    pub reply_to: Option<String>,
    /// The signature as it will be set, or what produces it (a command runs only when
    /// the identity is picked).
    pub signature: String,
    pub is_default: bool,
}

pub struct Identities {
    pub items: Vec<Item>,
    pub active: Option<String>,
    pub selected: usize,
}

/// How a signature source is shown before it is used: text as it is, a file by its
/// first lines (read now, bounded), a command by its command line.
fn signature_shown(id: &crate::identity::Identity) -> String {
    match &id.signature {
        SignatureSource::None => String::new(),
        SignatureSource::Text(_) | SignatureSource::File(_) => match id.signature_text() {
            Ok(Some(s)) => s,
            Ok(None) => String::new(),
            Err(e) => format!("({e})"),
        },
        SignatureSource::Cmd(c) => format!("$ {c}"),
    }
}

impl Identities {
    /// `default_transport`: what an identity without a transport of its own sends through.
    pub fn new(config: &Config, active: Option<&str>, default_transport: &str) -> Identities {
        let items: Vec<Item> = config
            .identities
            .values()
            .map(|id| Item {
                name: id.name.clone(),
                from: id
                    .from
                    .clone()
                    .or_else(|| {
                        id.transport
                            .as_deref()
                            .and_then(|t| config.transports.get(t))
                            .and_then(|t| t.from.clone())
                    })
                    .or_else(|| config.from.clone())
                    .unwrap_or_default(),
                transport: id
                    .transport
                    .clone()
                    .unwrap_or_else(|| default_transport.to_string()),
                reply_to: id.reply_to.clone(),
                signature: signature_shown(id),
                is_default: id.default,
            })
            .collect();
        let selected = active
            .and_then(|a| items.iter().position(|i| i.name == a))
            .unwrap_or(0);
        Identities {
            items,
            active: active.map(str::to_string),
            selected,
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let n = self.items.len();
        let pick = |i: &Item| Action::PickIdentity(i.name.clone());
        match key.code {
            KeyCode::Esc | KeyCode::Char('q') => return Some(Action::ClosePopup),
            KeyCode::Char('f') if ctrl => return Some(Action::ClosePopup),
            KeyCode::Enter | KeyCode::Char(' ') => return self.items.get(self.selected).map(pick),
            KeyCode::Down | KeyCode::Char('j') | KeyCode::Tab if n > 0 => {
                self.selected = (self.selected + 1) % n;
            }
            KeyCode::Up | KeyCode::Char('k') | KeyCode::BackTab if n > 0 => {
                self.selected = (self.selected + n - 1) % n;
            }
            KeyCode::Home => self.selected = 0,
            KeyCode::End => self.selected = n.saturating_sub(1),
            KeyCode::Char(c) if c.is_ascii_digit() && c != '0' => {
                return self.items.get((c as u8 - b'1') as usize).map(pick);
            }
            _ => {}
        }
        None
    }

    pub fn render(&self, screen: Rect, buf: &mut Buffer) {
        let w = (screen.width * 9 / 10).clamp(40.min(screen.width), 110);
        let keys = "↑↓ choose · Enter write as · 1-9 pick · Esc close";
        if self.items.is_empty() {
            let area = centered(screen, w.min(64), 6);
            let inner = frame(area, buf, "Write as", "Esc close", Color::Magenta);
            Paragraph::new(vec![
                Line::from("No identities are configured."),
                Line::from(Span::styled(
                    "Add [identity.NAME] tables (from, transport, reply_to, signature) to the config.",
                    Style::default().fg(Color::DarkGray),
                )),
            ])
            .wrap(Wrap { trim: true })
            .render(inner, buf);
            return;
        }
        // The list, then the selected identity's details with its whole signature.
        let sel = &self.items[self.selected.min(self.items.len() - 1)];
        let sig_lines: Vec<&str> = if sel.signature.is_empty() {
            vec![]
        } else {
            sel.signature.lines().collect()
        };
        let detail_h = 3 + sig_lines.len().clamp(1, 6) as u16;
        let list_h = self.items.len() as u16;
        let h = (list_h + detail_h + 3)
            .min(screen.height.saturating_sub(2))
            .max(7);
        let area = centered(screen, w, h);
        let inner = frame(area, buf, "Write as", keys, Color::Magenta);
        let list_rows = list_h.min(inner.height.saturating_sub(detail_h + 1).max(1));
        let [list_r, _gap, detail_r] = Layout::vertical([
            Constraint::Length(list_rows),
            Constraint::Length(1),
            Constraint::Fill(1),
        ])
        .areas(inner);
        let height = list_r.height as usize;
        let first = window_start(self.selected, height, self.items.len());
        let name_w = self
            .items
            .iter()
            .map(|i| i.name.chars().count() + if i.is_default { 10 } else { 0 })
            .max()
            .unwrap_or(8)
            .clamp(6, 24) as u16;
        let via_w = self
            .items
            .iter()
            .map(|i| i.transport.chars().count() + 4)
            .max()
            .unwrap_or(8)
            .clamp(8, 24) as u16;
        // Narrow screens show the signature only below the list.
        let sig_column = list_r.width >= 90;
        let rows = self
            .items
            .iter()
            .enumerate()
            .skip(first)
            .take(height)
            .map(|(i, it)| {
                let active = self.active.as_deref() == Some(it.name.as_str());
                let mark = if active { "●" } else { " " };
                let mut name = it.name.clone();
                if it.is_default {
                    name.push_str(" (default)");
                }
                let mut style = if active {
                    Style::default()
                        .fg(Color::Green)
                        .add_modifier(Modifier::BOLD)
                } else {
                    Style::default()
                };
                if i == self.selected {
                    style = style.add_modifier(Modifier::REVERSED);
                }
                let sig = it.signature.lines().next().unwrap_or("—").to_string();
                let mut cells = vec![
                    Cell::from(format!("{mark} {}", i + 1)),
                    Cell::from(name),
                    Cell::from(crate::escape::for_terminal(&it.from)),
                    Cell::from(format!("via {}", it.transport)),
                ];
                if sig_column {
                    cells.push(Cell::from(crate::escape::for_terminal(&sig)));
                }
                Row::new(cells).style(style)
            });
        let mut widths = vec![
            Constraint::Length(4),
            Constraint::Length(name_w),
            Constraint::Fill(3),
            Constraint::Length(via_w),
        ];
        if sig_column {
            widths.push(Constraint::Fill(2));
        }
        Table::new(rows, widths)
            .column_spacing(1)
            .render(list_r, buf);

        let text_w = detail_r.width.saturating_sub(11) as usize;
        let row = |name: &str, value: &str| {
            Line::from(vec![
                label(&format!("{name:<10}")),
                Span::raw(truncate(&crate::escape::for_terminal(value), text_w)),
            ])
        };
        let mut lines = vec![
            row("From", &sel.from),
            row("Reply-To", sel.reply_to.as_deref().unwrap_or("—")),
            row("Transport", &sel.transport),
        ];
        if sig_lines.is_empty() {
            lines.push(row("Signature", "none"));
        } else {
            let shown = sig_lines.len().min(6);
            for (i, l) in sig_lines.iter().take(shown).enumerate() {
                lines.push(row(if i == 0 { "Signature" } else { "" }, l));
            }
            if sig_lines.len() > shown {
                lines.push(row(
                    "",
                    &format!("… {} more lines", sig_lines.len() - shown),
                ));
            }
        }
        Paragraph::new(lines).render(detail_r, buf);
    }
}
