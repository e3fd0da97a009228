//! Drawing completion: the suggestion list under a recipient field, and an unfocused
//! recipient field's one-line summary, which never hides a recipient ("+N more").

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Widget};
use unicode_width::UnicodeWidthStr;

use crate::contacts::{entries, Source};

use super::super::popups::truncate;
use super::Suggestions;

/// The list's frame for a field at `field` (the input part of its row), on `screen`.
pub fn list_area(field: Rect, screen: Rect, s: &Suggestions) -> Rect {
    let extra = u16::from(s.waiting || s.error.is_some());
    let want_h = s.items.len() as u16 + extra + 2;
    let below = screen.bottom().saturating_sub(field.bottom());
    let h = want_h.min(below);
    let w = field.width.min(72).max(field.width.min(30));
    Rect::new(field.x, field.bottom(), w, h)
}

pub fn render_list(field: Rect, screen: Rect, s: &Suggestions, buf: &mut Buffer) {
    let area = list_area(field, screen, s);
    if area.height < 3 {
        return;
    }
    Clear.render(area, buf);
    let title = match s.items.len() {
        1 => " 1 match ".to_string(),
        n => format!(" {n} matches "),
    };
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(Style::default().fg(Color::Yellow))
        .title(Span::styled(title, Style::default().fg(Color::Yellow)))
        .title_bottom(Line::from(" ↑↓ choose · Tab/Enter accept · Esc close ").right_aligned());
    let inner = block.inner(area);
    block.render(area, buf);
    let width = inner.width as usize;
    let mut lines: Vec<Line> = Vec::new();
    for (i, c) in s.items.iter().enumerate() {
        let source = match c.source {
            Source::Alias => match &c.nick {
                Some(n) => format!("alias {n}"),
                None => "alias".into(),
            },
            Source::History => "sent".into(),
            Source::AddressBook => "book".into(),
        };
        let source = truncate(&source, 16);
        // A marker as well as the colours: the choice shows on any terminal.
        let mark = if i == s.selected { "▸ " } else { "  " };
        let room = width.saturating_sub(source.width() + 4);
        let entry = truncate(&crate::escape::escape(&c.entry()), room);
        let pad = room.saturating_sub(entry.width());
        let mut style = Style::default();
        if i == s.selected {
            style = style.add_modifier(Modifier::REVERSED);
        }
        lines.push(Line::from(vec![
            Span::styled(format!("{mark}{entry}{}", " ".repeat(pad)), style),
            Span::styled(format!("  {source}"), style.fg(Color::DarkGray)),
        ]));
    }
    if s.waiting {
        lines.push(Line::from(Span::styled(
            "asking the address book…",
            Style::default().fg(Color::DarkGray),
        )));
    } else if let Some(e) = &s.error {
        lines.push(Line::from(Span::styled(
            truncate(&crate::escape::escape(e), width),
            Style::default().fg(Color::LightRed),
        )));
    }
    Paragraph::new(lines).render(inner, buf);
}

/// `text` in `width` columns with every entry accounted for: as many whole entries as
/// fit, then "+N more".
pub fn summary(text: &str, width: usize) -> String {
    let items: Vec<&str> = entries::split(text)
        .into_iter()
        .filter_map(|r| text.get(r))
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    let all = items.join(", ");
    if all.width() <= width {
        return all;
    }
    let n = items.len();
    let mut shown = String::new();
    for (i, e) in items.iter().enumerate() {
        let rest = n - i - 1;
        let tail = format!(" +{rest} more");
        let cand = if shown.is_empty() {
            e.to_string()
        } else {
            format!("{shown}, {e}")
        };
        let need = cand.width() + if rest > 0 { tail.width() + 1 } else { 0 };
        if need > width {
            break;
        }
        shown = cand;
    }
    if shown.is_empty() {
        // Not even the first fits whole: cut it, and still count the others.
        let tail = if n > 1 {
            format!(" +{} more", n - 1)
        } else {
            String::new()
        };
        let first = truncate(items[0], width.saturating_sub(tail.width()));
        return format!("{first}{tail}");
    }
    let shown_n = entries::split(&shown).len();
    format!("{shown}, +{} more", n - shown_n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_never_hides_a_recipient() {
        let ten: Vec<String> = (0..10).map(|i| format!("user{i}@example.com")).collect();
        let text = ten.join(", ");
        assert_eq!(summary(&text, 400), text);
        let s = summary(&text, 60);
        assert_eq!(s, "user0@example.com, user1@example.com, +8 more");
        assert!(s.width() <= 60);
        let s = summary("\"Doe, John\" <j@example.com>, b@x.y", 20);
        assert!(s.ends_with("+1 more"), "{s}");
        assert!(s.width() <= 20, "{s}");
        assert_eq!(summary("", 10), "");
    }
}
