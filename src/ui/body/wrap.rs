//! Soft wrapping of one line into screen rows, by display width: at word boundaries, and
//! inside a word only when the word alone is wider than the row. Widths are terminal
//! cells (Korean syllables take two); a tab reaches the next multiple of [`TAB`] and a
//! control character is drawn as its control picture (one cell), never raw.

use std::ops::Range;

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthChar;

pub const TAB: usize = 4;

/// What a char is drawn as, at display column `col` of its row.
pub fn glyph(c: char, col: usize) -> (Glyph, usize) {
    match c {
        '\t' => {
            let w = TAB - col % TAB;
            (Glyph::Spaces(w), w)
        }
        c if (c as u32) < 0x20 => (
            Glyph::Char(char::from_u32(0x2400 + c as u32).unwrap_or('?')),
            1,
        ),
        '\u{7f}' => (Glyph::Char('\u{2421}'), 1),
        c if c.is_control() => (Glyph::Char('\u{fffd}'), 1),
        c => (Glyph::Char(c), c.width().unwrap_or(0)),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Glyph {
    Char(char),
    Spaces(usize),
}

/// The rows of `line` (no line break in it) at `width` cells, as char ranges. An empty
/// line is one empty row.
pub fn rows(line: &str, width: usize) -> Vec<Range<usize>> {
    let width = width.max(1);
    let mut out = Vec::new();
    let mut row_start = 0usize; // char index
    let mut col = 0usize; // cells used in the row
    let mut ci = 0usize; // char index of the current segment's start
    for seg in line.split_word_bounds() {
        let n = seg.chars().count();
        let w = seg_width(seg, col);
        if col + w <= width {
            col += w;
            ci += n;
            continue;
        }
        // The segment does not fit: break before it, unless the row is empty.
        if col > 0 {
            out.push(row_start..ci);
            row_start = ci;
            col = 0;
            let w = seg_width(seg, 0);
            if w <= width {
                col = w;
                ci += n;
                continue;
            }
        }
        // Wider than a whole row: split between graphemes.
        for g in seg.graphemes(true) {
            let gn = g.chars().count();
            let gw = seg_width(g, col);
            if col + gw > width && col > 0 {
                out.push(row_start..ci);
                row_start = ci;
                col = seg_width(g, 0);
            } else {
                col += gw;
            }
            ci += gn;
        }
    }
    out.push(row_start..ci);
    out
}

fn seg_width(s: &str, mut col: usize) -> usize {
    let start = col;
    for c in s.chars() {
        col += glyph(c, col).1;
    }
    col - start
}

/// The row of `rows` that char `col` is on (the end of the line is on the last row).
pub fn row_of(rows: &[Range<usize>], col: usize) -> usize {
    rows.iter()
        .position(|r| col < r.end)
        .unwrap_or(rows.len().saturating_sub(1))
}

/// Cells from the start of the row to char `col` of `line`.
pub fn cells_to(line: &str, row: &Range<usize>, col: usize) -> usize {
    let mut x = 0;
    for c in line
        .chars()
        .skip(row.start)
        .take(col.saturating_sub(row.start))
    {
        x += glyph(c, x).1;
    }
    x
}

/// The char of `row` whose cell span covers display column `x` (or the row's end).
pub fn col_at(line: &str, row: &Range<usize>, x: usize, last_row: bool) -> usize {
    let mut cx = 0;
    for (i, c) in line.chars().enumerate().skip(row.start).take(row.len()) {
        let w = glyph(c, cx).1;
        if cx + w > x {
            return i;
        }
        cx += w;
    }
    // Past the end: the row's end, which on a wrapped row is the first char of the next
    // row, so stay on this row's last char instead.
    if last_row || row.is_empty() {
        row.end
    } else {
        row.end - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_words_then_inside_long_words() {
        assert_eq!(rows("", 10), vec![0..0]);
        assert_eq!(rows("hello world", 20), vec![0..11]);
        assert_eq!(rows("hello world", 8), vec![0..6, 6..11]);
        assert_eq!(rows("abcdefghij", 4), vec![0..4, 4..8, 8..10]);
        // Korean syllables take two cells each.
        assert_eq!(rows("다람쥐 헌 쳇바퀴", 8), vec![0..4, 4..6, 6..9]);
        assert_eq!(rows("다람쥐", 3), vec![0..1, 1..2, 2..3]);
    }

    #[test]
    fn cursor_columns_map_to_rows_and_cells() {
        let line = "다람쥐 abc";
        let r = rows(line, 20);
        assert_eq!(row_of(&r, 0), 0);
        assert_eq!(row_of(&r, 7), 0);
        assert_eq!(cells_to(line, &r[0], 3), 6);
        assert_eq!(col_at(line, &r[0], 6, true), 3);
        assert_eq!(col_at(line, &r[0], 5, true), 2);
        assert_eq!(col_at(line, &r[0], 99, true), 7);
        let r = rows("hello world", 8);
        assert_eq!(row_of(&r, 6), 1);
        assert_eq!(col_at("hello world", &r[0], 99, false), 5);
    }

    #[test]
    fn tabs_and_control_chars_have_widths() {
        assert_eq!(glyph('\t', 1), (Glyph::Spaces(3), 3));
        assert_eq!(glyph('\u{1b}', 0), (Glyph::Char('\u{241b}'), 1));
        assert_eq!(seg_width("a\tb", 0), 5);
    }
}
