//! Drawing. Reads the app's state and changes nothing: no I/O, no state writes.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Cell, Paragraph, Row, Table, Widget};
use ratatui::Frame;

use super::app::{App, DraftState, Pane, SizeState};
use super::popups::{truncate, window_start};
use crate::mime_tree::human_size;

// "▸ " + the longest label ("Reply-To") + a space before the field.
const LABEL_W: u16 = 11;

/// Where each part of the composer goes for a given terminal size.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Areas {
    /// From, To, Cc, Bcc, Reply-To, Subject rows.
    pub fields: [Rect; 6],
    /// The "via transport" tag on the From row.
    pub via: Rect,
    pub text: Rect,
    pub html: Rect,
    pub attachments: Rect,
    pub status: Rect,
    pub footer: Rect,
}

impl Areas {
    pub fn pane_at(&self, x: u16, y: u16) -> Option<Pane> {
        let p = Position::new(x, y);
        for (r, pane) in self.fields.iter().zip(FIELDS) {
            if r.contains(p) {
                return Some(pane);
            }
        }
        if self.via.contains(p) {
            return Some(Pane::From);
        }
        [
            (self.text, Pane::Text),
            (self.html, Pane::Html),
            (self.attachments, Pane::Attachments),
        ]
        .into_iter()
        .find(|(r, _)| r.contains(p))
        .map(|(_, pane)| pane)
    }
}

/// The one-line fields, top to bottom.
pub const FIELDS: [Pane; 6] = [
    Pane::From,
    Pane::To,
    Pane::Cc,
    Pane::Bcc,
    Pane::ReplyTo,
    Pane::Subject,
];

fn via_label(app: &App) -> String {
    match &app.identity {
        Some(id) => format!(
            " as {id} · via {} ({}) ",
            app.transport,
            app.transport_kind()
        ),
        None => format!(" via {} ({}) ", app.transport, app.transport_kind()),
    }
}

pub fn layout(area: Rect, app: &App) -> Areas {
    let n_att = app.attachments.len() as u16;
    let avail = area.height.saturating_sub(8);
    let att_rows = if n_att == 0 {
        1
    } else if app.focus == Pane::Attachments {
        n_att.min(8)
    } else {
        n_att.min(4)
    };
    let att_h = (att_rows + 2).min(avail / 3).max(3.min(avail));
    let html_empty = app.html.is_empty();
    let html_h = if app.focus == Pane::Html {
        (avail.saturating_sub(att_h)) / 2
    } else if html_empty {
        3
    } else {
        (avail.saturating_sub(att_h) / 4).max(3)
    }
    .min(avail.saturating_sub(att_h));
    let [f0, f1, f2, f3, f4, f5, text, html, att, status, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(html_h),
        Constraint::Length(att_h),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let via_w = (via_label(app).chars().count() as u16).min(f0.width / 2);
    let [from, via] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(via_w)]).areas(f0);
    Areas {
        fields: [from, f1, f2, f3, f4, f5],
        via,
        text,
        html,
        attachments: att,
        status,
        footer,
    }
}

/// The input part of the field whose suggestion list is shown, and the list.
pub fn suggestions_field<'a>(
    app: &'a App,
    a: &Areas,
) -> Option<(Rect, &'a crate::ui::complete::Suggestions)> {
    let (rect, s) = FIELDS
        .iter()
        .zip(a.fields)
        .find_map(|(p, r)| app.completion.visible(*p).map(|s| (r, s)))
        .filter(|_| app.popups.is_empty())?;
    let input = Rect::new(
        rect.x + LABEL_W,
        rect.y,
        rect.width.saturating_sub(LABEL_W),
        1,
    );
    Some((input, s))
}

/// Draw the whole composer and its popups.
pub fn draw(frame: &mut Frame, app: &App) {
    frame.render_widget(app, frame.area());
}

impl Widget for &App {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self;
        let a = layout(area, app);
        for (rect, pane) in a.fields.iter().zip(FIELDS) {
            render_field(app, pane, *rect, buf);
        }
        Paragraph::new(Line::from(Span::styled(
            via_label(app),
            Style::default().fg(Color::Black).bg(Color::Magenta),
        )))
        .render(a.via, buf);
        render_body(app, Pane::Text, a.text, buf);
        render_body(app, Pane::Html, a.html, buf);
        render_attachments(app, a.attachments, buf);
        render_status(app, a.status, buf);
        render_footer(a.footer, buf);
        if let Some((input, s)) = suggestions_field(app, &a) {
            super::complete::view::render_list(input, area, s, buf);
        }
        for p in &app.popups {
            p.render(area, buf);
        }
    }
}

/// The frame of a body or attachments pane: thick and highlighted when focused.
fn pane_block(title: String, focused: bool) -> Block<'static> {
    Block::bordered()
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        })
        .border_style(border_style(focused))
        .title(Span::styled(title, border_style(focused)))
}

fn border_style(focused: bool) -> Style {
    if focused {
        Style::default()
            .fg(Color::Yellow)
            .add_modifier(Modifier::BOLD)
    } else {
        Style::default().fg(Color::DarkGray)
    }
}

fn render_field(app: &App, pane: Pane, rect: Rect, buf: &mut Buffer) {
    let focused = app.focus == pane;
    let invalid = app.invalid_reason(pane).is_some();
    let [label_r, input_r] =
        Layout::horizontal([Constraint::Length(LABEL_W), Constraint::Fill(1)]).areas(rect);
    let marker = if invalid {
        "✗"
    } else if focused {
        "▸"
    } else {
        " "
    };
    let mut style = if focused {
        Style::default()
            .fg(Color::Yellow)
            .add_modifier(Modifier::BOLD)
    } else {
        Style::default().fg(Color::Cyan)
    };
    if invalid {
        style = Style::default().fg(Color::Red).add_modifier(Modifier::BOLD);
    }
    Paragraph::new(Line::from(Span::styled(
        format!("{marker} {:<w$}", pane.label(), w = LABEL_W as usize - 2),
        style,
    )))
    .render(label_r, buf);
    let text = app.field_text(pane);
    if pane.is_recipients() && !focused && !text.trim().is_empty() {
        // Never the tail of a long list: whole entries, then how many more.
        let line = super::complete::view::summary(&text, input_r.width as usize);
        Paragraph::new(crate::escape::escape(&line).into_owned()).render(input_r, buf);
    } else if let Some(t) = app.area(pane) {
        t.render(input_r, buf);
    }
    if invalid {
        // The field's text in red, the cursor cell kept as drawn.
        for x in input_r.left()..input_r.right() {
            if let Some(cell) = buf.cell_mut((x, input_r.y)) {
                if !cell.modifier.contains(Modifier::REVERSED) {
                    cell.set_fg(Color::Red);
                }
            }
        }
    }
}

/// Where a body's text goes inside its pane's frame.
pub fn body_inner(rect: Rect) -> Rect {
    Block::bordered().inner(rect)
}

fn render_body(app: &App, pane: Pane, rect: Rect, buf: &mut Buffer) {
    if rect.height == 0 {
        return;
    }
    let focused = app.focus == pane;
    let Some(body) = app.body(pane) else {
        return;
    };
    let mut title = format!(" {} ", pane.label());
    let lines = body.line_count();
    if pane == Pane::Html && body.is_empty() {
        if app.markdown {
            title.push_str("— made from the text (Markdown) ");
        } else {
            title.push_str("— none (optional) ");
        }
    } else if lines > 1 {
        let (row, _) = body.cursor();
        title.push_str(&format!("— line {} of {lines} ", row + 1));
    }
    let block = pane_block(title, focused);
    let inner = block.inner(rect);
    block.render(rect, buf);
    body.render(inner, buf);
}

fn render_attachments(app: &App, rect: Rect, buf: &mut Buffer) {
    if rect.height == 0 {
        return;
    }
    let focused = app.focus == Pane::Attachments;
    let total: u64 = app.attachments.iter().filter_map(|a| a.size).sum();
    let title = if app.attachments.is_empty() {
        " Attachments ".to_string()
    } else {
        format!(
            " Attachments ({}, {}) ",
            app.attachments.len(),
            human_size(total)
        )
    };
    let block = pane_block(title, focused);
    let inner = block.inner(rect);
    block.render(rect, buf);
    if app.attachments.is_empty() {
        Paragraph::new(Span::styled(
            "none — Ctrl-O to attach a file",
            Style::default().fg(Color::DarkGray),
        ))
        .render(inner, buf);
        return;
    }
    let height = inner.height as usize;
    let first = window_start(app.attachment_sel, height, app.attachments.len());
    let rows = app
        .attachments
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, a)| {
            let (size, style) = match a.size {
                Some(s) => (human_size(s), Style::default()),
                None => ("missing".to_string(), Style::default().fg(Color::Red)),
            };
            let style = if focused && i == app.attachment_sel {
                style.add_modifier(Modifier::REVERSED)
            } else {
                style
            };
            Row::new(vec![
                Cell::from(a.name.clone()),
                Cell::from(Line::from(size).right_aligned()),
                Cell::from(a.mime.clone()),
            ])
            .style(style)
        });
    Table::new(
        rows,
        [
            Constraint::Fill(1),
            Constraint::Length(10),
            Constraint::Length(28),
        ],
    )
    .column_spacing(2)
    .render(inner, buf);
}

fn render_status(app: &App, rect: Rect, buf: &mut Buffer) {
    let bar = Style::default().bg(Color::Blue).fg(Color::White);
    let size = match &app.size {
        SizeState::Unknown => "size …".to_string(),
        SizeState::Known { bytes, stale } => {
            format!("{}{}", if *stale { "≈" } else { "" }, human_size(*bytes))
        }
        SizeState::Failed(_) => "size ?".to_string(),
    };
    let limit = app
        .transport_config()
        .and_then(|tc| crate::engine::size_limit(&tc.kind));
    let over = match (&app.size, limit) {
        (SizeState::Known { bytes, .. }, Some(l)) if *bytes > l => Some(l),
        _ => None,
    };
    let size_style = if over.is_some() {
        bar.fg(Color::LightRed).add_modifier(Modifier::BOLD)
    } else {
        bar
    };
    let draft = if app.unsaved() && app.is_modified() {
        "draft: unsaved".to_string()
    } else {
        match &app.draft_state {
            DraftState::New => "draft: new".to_string(),
            DraftState::Reopened => "draft: reopened".to_string(),
            DraftState::Saving => "draft: saving…".to_string(),
            DraftState::Saved(t) => format!("draft: saved {t}"),
            DraftState::Failed(_) => "draft: NOT SAVED".to_string(),
        }
    };
    let mut spans = vec![
        Span::styled(
            format!(" {} ({}) ", app.transport, app.transport_kind()),
            bar.add_modifier(Modifier::BOLD),
        ),
        Span::styled("│", bar),
        Span::styled(format!(" {size} "), size_style),
        Span::styled("│", bar),
        Span::styled(format!(" {draft} "), bar),
        Span::styled("│", bar),
    ];
    let used: usize = spans.iter().map(|s| s.width()).sum();
    let room = (rect.width as usize).saturating_sub(used + 1);
    let focused_invalid = app.invalid_reason(app.focus);
    let first_invalid = app.invalid.first().map(|(_, r)| r.as_str());
    let (msg, style) = if let Some(r) = focused_invalid {
        (
            r.to_string(),
            bar.fg(Color::LightRed).add_modifier(Modifier::BOLD),
        )
    } else if let Some((n, _)) = &app.note {
        (n.clone(), bar)
    } else if let Some(l) = over {
        (
            format!(
                "over the {} limit of {}: it cannot be sent this way",
                app.transport_kind(),
                human_size(l)
            ),
            bar.fg(Color::LightRed).add_modifier(Modifier::BOLD),
        )
    } else if let Some(r) = first_invalid {
        (
            r.to_string(),
            bar.fg(Color::LightRed).add_modifier(Modifier::BOLD),
        )
    } else if let SizeState::Failed(e) = &app.size {
        (e.clone(), bar.fg(Color::LightRed))
    } else {
        (String::new(), bar)
    };
    spans.push(Span::styled(format!(" {}", truncate(&msg, room)), style));
    Paragraph::new(Line::from(spans))
        .style(bar)
        .render(rect, buf);
}

const FOOTER: &[(&str, &str)] = &[
    ("^Y", "send"),
    ("^O", "attach"),
    ("^T", "transport"),
    ("^P", "preview"),
    ("^E", "editor"),
    ("^S", "save"),
    ("F1", "help"),
    ("^Q", "quit"),
];

fn render_footer(rect: Rect, buf: &mut Buffer) {
    let key = Style::default().fg(Color::Black).bg(Color::Gray);
    let mut spans = Vec::new();
    if rect.width >= 100 {
        spans.push(Span::styled("Tab", key));
        spans.push(Span::raw(" next pane  "));
    }
    for (k, what) in FOOTER {
        spans.push(Span::styled(*k, key));
        spans.push(Span::raw(format!(" {what} ")));
    }
    Paragraph::new(Line::from(spans)).render(rect, buf);
}
