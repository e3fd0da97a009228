//! Drawing a body: only the rows on screen are wrapped and drawn, from the first row
//! that keeps the cursor in view ([`Body::view_top`]); nothing is changed.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Paragraph, Widget};

use super::wrap::{self, Glyph};
use super::Body;

fn cursor_style() -> Style {
    Style::default().add_modifier(Modifier::REVERSED)
}

fn selection_style() -> Style {
    Style::default().bg(Color::LightBlue)
}

/// Add `text` in `style` to `spans`, joining it to the last span when styles match.
fn push(spans: &mut Vec<Span<'static>>, text: &str, style: Style) {
    if let Some(last) = spans.last_mut() {
        if last.style == style {
            last.content.to_mut().push_str(text);
            return;
        }
    }
    spans.push(Span::styled(text.to_string(), style));
}

impl Widget for &Body {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.width == 0 || area.height == 0 {
            return;
        }
        let w = area.width as usize;
        let h = area.height as usize;
        let (mut l, mut r) = self.view_top(area.width, area.height);
        let sel = self.selection();
        let cursor = self.focused.then_some(self.cursor);
        let n_lines = self.rope.len_lines();
        let mut out: Vec<Line<'static>> = Vec::with_capacity(h);
        while out.len() < h && l < n_lines {
            let line = self.line(l);
            let rows = wrap::rows(&line, w);
            let start = self.rope.line_to_char(l);
            for (ri, row) in rows.iter().enumerate().skip(r) {
                if out.len() == h {
                    break;
                }
                let mut spans = Vec::new();
                let mut x = 0;
                let mut buf_s = [0u8; 4];
                for (i, c) in line.chars().enumerate().skip(row.start).take(row.len()) {
                    let at = start + i;
                    let style = if cursor == Some(at) {
                        cursor_style()
                    } else if sel.as_ref().is_some_and(|s| s.contains(&at)) {
                        selection_style()
                    } else {
                        Style::default()
                    };
                    let (g, gw) = wrap::glyph(c, x);
                    x += gw;
                    match g {
                        Glyph::Char(c) => push(&mut spans, c.encode_utf8(&mut buf_s), style),
                        Glyph::Spaces(n) => push(&mut spans, &" ".repeat(n), style),
                    }
                }
                let line_end = start + line.chars().count();
                if ri + 1 == rows.len() && cursor == Some(line_end) {
                    push(&mut spans, " ", cursor_style());
                }
                out.push(Line::from(spans));
            }
            l += 1;
            r = 0;
        }
        Paragraph::new(Text::from(out)).render(area, buf);
    }
}
