//! The attachment picker (Ctrl-O): browse from the current directory, type to filter
//! (fuzzy, nucleo), Enter on a file adds it, Enter on a directory enters it, Backspace on
//! an empty filter goes up, Alt-H shows hidden files.

use std::path::{Path, PathBuf};

use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher};
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Widget};

use super::{frame, sized, truncate, window_start};
use crate::ui::app::Action;

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// For display and filtering (lossy when the OS name is not UTF-8).
    pub name: String,
    /// The name as the OS has it: what is joined to the directory when attaching.
    pub os_name: std::ffi::OsString,
    pub is_dir: bool,
    pub size: Option<u64>,
    pub mime: String,
    /// The ".." entry.
    pub parent: bool,
}

impl Entry {
    fn hidden(&self) -> bool {
        !self.parent && self.name.starts_with('.')
    }
}

pub struct Picker {
    pub dir: PathBuf,
    /// How the directory is shown in the title (home shortened to `~`).
    pub label: String,
    pub entries: Vec<Entry>,
    pub show_hidden: bool,
    pub filter: String,
    /// Indices into `entries`, in display order.
    pub visible: Vec<usize>,
    pub selected: usize,
    pub error: Option<String>,
    matcher: Matcher,
}

pub fn display_dir(dir: &Path) -> String {
    if let Some(home) = std::env::var_os("HOME").map(PathBuf::from) {
        if let Ok(rest) = dir.strip_prefix(&home) {
            return if rest.as_os_str().is_empty() {
                "~".into()
            } else {
                format!("~/{}", rest.display())
            };
        }
    }
    dir.display().to_string()
}

fn read_dir(dir: &Path) -> Result<Vec<Entry>, String> {
    let rd = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {}", dir.display(), crate::message::io_reason(&e)))?;
    let mut out = Vec::new();
    for e in rd.filter_map(Result::ok) {
        let os_name = e.file_name();
        let name = os_name.to_string_lossy().into_owned();
        // Follow symlinks, as a shell would.
        let meta = std::fs::metadata(e.path()).ok();
        let is_dir = meta.as_ref().is_some_and(|m| m.is_dir());
        let size = meta.as_ref().filter(|m| m.is_file()).map(|m| m.len());
        let mime = if is_dir {
            "directory".to_string()
        } else {
            crate::message::guess_mime(Path::new(&name))
        };
        out.push(Entry {
            name,
            os_name,
            is_dir,
            size,
            mime,
            parent: false,
        });
    }
    out.sort_by(|a, b| {
        b.is_dir
            .cmp(&a.is_dir)
            .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
            .then_with(|| a.name.cmp(&b.name))
    });
    if dir.parent().is_some() {
        out.insert(
            0,
            Entry {
                name: "..".into(),
                os_name: "..".into(),
                is_dir: true,
                size: None,
                mime: "directory".into(),
                parent: true,
            },
        );
    }
    Ok(out)
}

impl Picker {
    pub fn open(dir: &Path) -> Picker {
        let mut p = Picker {
            dir: dir.to_path_buf(),
            label: display_dir(dir),
            entries: Vec::new(),
            show_hidden: false,
            filter: String::new(),
            visible: Vec::new(),
            selected: 0,
            error: None,
            matcher: Matcher::new(Config::DEFAULT.match_paths()),
        };
        p.load(dir);
        p
    }

    fn load(&mut self, dir: &Path) {
        match read_dir(dir) {
            Ok(entries) => {
                self.dir = dir.to_path_buf();
                self.label = display_dir(dir);
                self.entries = entries;
                self.error = None;
                self.filter.clear();
                self.refilter();
                // Start on the first real entry rather than "..".
                self.selected = usize::from(
                    self.visible.len() > 1
                        && self
                            .visible
                            .first()
                            .is_some_and(|&i| self.entries[i].parent),
                );
            }
            Err(e) => self.error = Some(e),
        }
    }

    fn refilter(&mut self) {
        let shown: Vec<usize> = (0..self.entries.len())
            .filter(|&i| self.show_hidden || !self.entries[i].hidden())
            .collect();
        if self.filter.is_empty() {
            self.visible = shown;
        } else {
            let pattern = Pattern::parse(&self.filter, CaseMatching::Smart, Normalization::Smart);
            let names: Vec<(usize, &str)> = shown
                .iter()
                .filter(|&&i| !self.entries[i].parent)
                .map(|&i| (i, self.entries[i].name.as_str()))
                .collect();
            struct Item<'a>(usize, &'a str);
            impl AsRef<str> for Item<'_> {
                fn as_ref(&self) -> &str {
                    self.1
                }
            }
            let matched = pattern.match_list(
                names.into_iter().map(|(i, n)| Item(i, n)),
                &mut self.matcher,
            );
            // match_list sorts by score, best first, keeping directory order on ties.
            self.visible = matched.into_iter().map(|(item, _)| item.0).collect();
        }
        self.selected = 0;
    }

    pub fn selected_entry(&self) -> Option<&Entry> {
        self.visible
            .get(self.selected)
            .and_then(|&i| self.entries.get(i))
    }

    pub fn toggle_hidden(&mut self) {
        self.show_hidden = !self.show_hidden;
        self.refilter();
    }

    pub fn up(&mut self) {
        if let Some(parent) = self.dir.parent().map(Path::to_path_buf) {
            let from = self.dir.file_name().map(|n| n.to_os_string());
            self.load(&parent);
            // Land on the directory we came from.
            if let Some(name) = from {
                if let Some(pos) = self
                    .visible
                    .iter()
                    .position(|&i| self.entries[i].os_name == name)
                {
                    self.selected = pos;
                }
            }
        }
    }

    pub fn paste(&mut self, text: &str) {
        self.filter.extend(text.chars().filter(|c| !c.is_control()));
        self.refilter();
    }

    fn activate(&mut self) -> Option<Action> {
        let e = self.selected_entry()?.clone();
        if e.parent {
            self.up();
            None
        } else if e.is_dir {
            let d = self.dir.join(&e.os_name);
            self.load(&d);
            None
        } else {
            Some(Action::Attach(self.dir.join(&e.os_name)))
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        let n = self.visible.len();
        match key.code {
            KeyCode::Esc => return Some(Action::ClosePopup),
            KeyCode::Char('q' | 'o') if ctrl => return Some(Action::ClosePopup),
            KeyCode::Char('h' | 'H') if alt => self.toggle_hidden(),
            KeyCode::Enter => return self.activate(),
            KeyCode::Right if self.selected_entry().is_some_and(|e| e.is_dir) => {
                return self.activate()
            }
            KeyCode::Left if self.filter.is_empty() => self.up(),
            KeyCode::Backspace if self.filter.is_empty() => self.up(),
            KeyCode::Backspace => {
                self.filter.pop();
                self.refilter();
            }
            KeyCode::Char('u') if ctrl => {
                self.filter.clear();
                self.refilter();
            }
            KeyCode::Down | KeyCode::Tab => self.selected = (self.selected + 1).min(n.max(1) - 1),
            KeyCode::Char('n') if ctrl => self.selected = (self.selected + 1).min(n.max(1) - 1),
            KeyCode::Up | KeyCode::BackTab => self.selected = self.selected.saturating_sub(1),
            KeyCode::Char('p') if ctrl => self.selected = self.selected.saturating_sub(1),
            KeyCode::PageDown => self.selected = (self.selected + 10).min(n.max(1) - 1),
            KeyCode::PageUp => self.selected = self.selected.saturating_sub(10),
            KeyCode::Home => self.selected = 0,
            KeyCode::End => self.selected = n.saturating_sub(1),
            KeyCode::Char(c) if !ctrl && !alt => {
                self.filter.push(c);
                self.refilter();
            }
            _ => {}
        }
        None
    }

    pub fn render(&self, screen: Rect, buf: &mut Buffer) {
        let area = sized(screen, 80, 80, 60, 14);
        let hidden = if self.show_hidden {
            "Alt-H hide hidden"
        } else {
            "Alt-H show hidden"
        };
        let keys = format!("type to filter · Enter add/open · Bksp up · {hidden} · Esc close");
        let inner = frame(area, buf, "Attach a file", &keys, Color::Yellow);
        let [dir_row, filter_row, list_area] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Min(1),
        ])
        .areas(inner);
        Paragraph::new(Line::from(vec![
            Span::styled("in ", Style::default().fg(Color::DarkGray)),
            Span::styled(
                truncate(&self.label, inner.width.saturating_sub(3) as usize),
                Style::default().add_modifier(Modifier::BOLD),
            ),
        ]))
        .render(dir_row, buf);
        Paragraph::new(Line::from(vec![
            Span::styled("filter: ", Style::default().fg(Color::DarkGray)),
            Span::raw(self.filter.clone()),
            Span::styled("█", Style::default().fg(Color::Yellow)),
            Span::styled(
                format!("  {} of {}", self.visible.len(), self.entries.len()),
                Style::default().fg(Color::DarkGray),
            ),
        ]))
        .render(filter_row, buf);

        if let Some(e) = &self.error {
            Paragraph::new(Span::styled(e.clone(), Style::default().fg(Color::Red)))
                .render(list_area, buf);
            return;
        }
        if self.visible.is_empty() {
            let msg = if self.filter.is_empty() {
                "(empty directory)"
            } else {
                "(nothing matches)"
            };
            Paragraph::new(Span::styled(msg, Style::default().fg(Color::DarkGray)))
                .render(list_area, buf);
            return;
        }
        let height = list_area.height as usize;
        let first = window_start(self.selected, height, self.visible.len());
        let rows = self.visible[first..]
            .iter()
            .take(height)
            .enumerate()
            .map(|(k, &i)| {
                let e = &self.entries[i];
                let name = if e.is_dir && !e.parent {
                    format!("{}/", e.name)
                } else {
                    e.name.clone()
                };
                let size = match e.size {
                    Some(s) => crate::mime_tree::human_size(s),
                    None if e.is_dir => String::new(),
                    None => "?".into(),
                };
                let mut style = if e.is_dir {
                    Style::default()
                        .fg(Color::Blue)
                        .add_modifier(Modifier::BOLD)
                } else {
                    Style::default()
                };
                if first + k == self.selected {
                    style = style.add_modifier(Modifier::REVERSED);
                }
                Row::new(vec![
                    Cell::from(name),
                    Cell::from(Line::from(size).right_aligned()),
                    Cell::from(e.mime.clone()),
                ])
                .style(style)
            });
        Table::new(
            rows,
            [
                Constraint::Fill(1),
                Constraint::Length(10),
                Constraint::Length(26),
            ],
        )
        .column_spacing(2)
        .render(list_area, buf);
    }
}
