//! Tables for people: columns sized by what the terminal shows (display width, so that a CJK
//! character or an emoji counts two columns), as wide as their content needs and never wider
//! than the terminal. When the terminal is too narrow, the columns that may be clipped are
//! narrowed first (a cut is marked `…`), then the least important columns are left out.

use std::io::{self, IsTerminal as _};

use unicode_width::{UnicodeWidthChar as _, UnicodeWidthStr as _};

/// How wide a table may be: `COLUMNS` when it holds a positive number (the convention, and how
/// a script or a test asks for a width), else the width of the terminal on stdout. Without
/// either (a file, a pipe, a cron job's mail) there is no edge to fit: the table is as wide as
/// its content, and nothing is clipped.
pub fn width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|columns| columns.trim().parse::<usize>().ok())
        .filter(|&columns| columns > 0)
        .or_else(|| {
            let stdout = io::stdout();
            stdout
                .is_terminal()
                .then(|| terminal_size::terminal_size_of(stdout))
                .flatten()
                .map(|(terminal_size::Width(columns), _)| usize::from(columns))
        })
        .unwrap_or(usize::MAX)
}

/// `text` cut to at most `width` columns, `…` marking the cut.
pub fn clip(text: &str, width: usize) -> String {
    cut(text, width, false)
}

/// `text` cut to at most `width` columns from the start, keeping its end: for a path whose
/// last part (the database's name) tells most.
pub fn clip_start(text: &str, width: usize) -> String {
    cut(text, width, true)
}

fn cut(text: &str, width: usize, keep_end: bool) -> String {
    if text.width() <= width {
        return text.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut used = 0;
    // Room is kept for the one-column `…`; a wide character that would cross it is left out.
    let mut fits = |c: &char| {
        used += c.width().unwrap_or(0);
        used < width
    };
    if keep_end {
        let kept: Vec<char> = text.chars().rev().take_while(&mut fits).collect();
        std::iter::once('…').chain(kept.into_iter().rev()).collect()
    } else {
        text.chars().take_while(fits).chain(std::iter::once('…')).collect()
    }
}

/// `text` clipped (as `column` says) and, unless `pad` is false, padded with spaces to exactly
/// `width` columns.
fn fit(text: &str, width: usize, column: &Column, pad: bool) -> String {
    let text = if column.keep_end { clip_start(text, width) } else { clip(text, width) };
    let padding = if pad { " ".repeat(width.saturating_sub(text.width())) } else { String::new() };
    if column.right { padding + &text } else { text + &padding }
}

/// One column of a table.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Its heading.
    pub header: &'static str,
    /// Aligned right (numbers, durations).
    pub right: bool,
    /// The narrowest it is clipped to before columns are left out; `None`: never clipped (an
    /// id cut short is no use). Once nothing is left to leave out, it may be clipped further.
    pub min: Option<usize>,
    /// When it is left out if the table is still too wide: columns with a higher number go
    /// first; 0 is never left out.
    pub drop: u8,
    /// Clipped at its start, keeping the end.
    pub keep_end: bool,
}

impl Column {
    /// A column that is never clipped nor left out.
    pub const fn fixed(header: &'static str) -> Column {
        Column { header, right: false, min: None, drop: 0, keep_end: false }
    }

    /// A column that may be clipped down to `min` columns.
    pub const fn clipped(header: &'static str, min: usize) -> Column {
        Column { header, right: false, min: Some(min), drop: 0, keep_end: false }
    }

    /// The same column, clipped at its start (`…production/orders`).
    pub const fn keep_end(self) -> Column {
        Column { keep_end: true, ..self }
    }

    /// The same column, aligned right.
    pub const fn right(self) -> Column {
        Column { right: true, ..self }
    }

    /// The same column, left out at `rank` (higher first) when the table is too wide.
    pub const fn dropped_at(self, rank: u8) -> Column {
        Column { drop: rank, ..self }
    }
}

/// A kind of table: its columns, the spaces between them, whether a heading row is shown.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// The columns, in order.
    pub columns: &'static [Column],
    /// Spaces between two columns.
    pub gap: usize,
    /// Whether the first row names the columns.
    pub header: bool,
}

/// Columns and the gaps between them.
fn total(widths: &[Option<usize>], gap: usize) -> usize {
    let shown = widths.iter().flatten().count();
    widths.iter().flatten().sum::<usize>() + gap * shown.saturating_sub(1)
}

/// Narrows the widest column that may still be clipped (down to `min`), one column at a time,
/// so that the room is shared from the widest down, until the table fits `width` or none can
/// narrow.
fn shrink(widths: &mut [Option<usize>], gap: usize, width: usize, min: impl Fn(usize) -> Option<usize>) {
    while total(widths, gap) > width {
        let widest = widths
            .iter()
            .enumerate()
            .filter_map(|(i, w)| Some((i, (*w)?)))
            .filter(|&(i, w)| min(i).is_some_and(|min| w > min))
            .max_by_key(|&(i, w)| (w, std::cmp::Reverse(i)));
        match widest {
            Some((i, w)) => widths[i] = Some(w - 1),
            None => return,
        }
    }
}

/// The width of each column (`None`: left out), for the rows it was made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    widths: Vec<Option<usize>>,
    gap: usize,
    total: usize,
}

impl Layout {
    /// Sizes `spec`'s columns for `rows` (escaped cells, one per column) within `width`.
    pub fn new(spec: &Spec, rows: &[Vec<String>], width: usize) -> Layout {
        let natural: Vec<usize> = spec
            .columns
            .iter()
            .enumerate()
            .map(|(i, column)| {
                let cells = rows.iter().map(|row| row.get(i).map_or(0, |cell| cell.width())).max();
                let header = if spec.header { column.header.width() } else { 0 };
                cells.unwrap_or(0).max(header)
            })
            .collect();
        // A headless column with nothing in it takes no room at all.
        let mut shown: Vec<bool> = natural.iter().map(|&w| spec.header || w > 0).collect();
        loop {
            let mut widths: Vec<Option<usize>> =
                natural.iter().zip(&shown).map(|(&w, &shown)| shown.then_some(w)).collect();
            let min = |i: usize| spec.columns[i].min;
            shrink(&mut widths, spec.gap, width, min);
            if total(&widths, spec.gap) <= width {
                return Layout { total: total(&widths, spec.gap), widths, gap: spec.gap };
            }
            // Still too wide: leave out the least important column left, and size again.
            let least = (0..spec.columns.len())
                .filter(|&i| shown[i] && spec.columns[i].drop > 0)
                .max_by_key(|&i| (spec.columns[i].drop, i));
            match least {
                Some(i) => shown[i] = false,
                None => {
                    // Nothing left to leave out: clip below the comfortable widths, down to a
                    // character and its mark; past that, each line is cut at the edge.
                    shrink(&mut widths, spec.gap, width, |i| min(i).map(|_| 2));
                    return Layout { widths, gap: spec.gap, total: width };
                }
            }
        }
    }

    /// One row, its cells fitted to their columns; no trailing spaces, and never more columns
    /// than the layout's total.
    pub fn render(&self, spec: &Spec, cells: &[String]) -> String {
        let shown: Vec<(usize, usize)> =
            self.widths.iter().enumerate().filter_map(|(i, w)| Some((i, (*w)?))).collect();
        let mut line = String::new();
        for (n, &(i, width)) in shown.iter().enumerate() {
            if n > 0 {
                line.push_str(&" ".repeat(self.gap));
            }
            let cell = cells.get(i).map_or("", String::as_str);
            // The last column is not padded on the right: no trailing spaces.
            let pad = n + 1 < shown.len() || spec.columns[i].right;
            line.push_str(&fit(cell, width, &spec.columns[i], pad));
        }
        clip(line.trim_end(), self.total)
    }

    /// The heading row.
    pub fn header(&self, spec: &Spec) -> String {
        let headers: Vec<String> = spec.columns.iter().map(|c| c.header.to_owned()).collect();
        self.render(spec, &headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn display_width(text: &str) -> usize {
        text.width()
    }

    const SPEC: Spec = Spec {
        columns: &[
            Column::fixed("ID"),
            Column::clipped("NAME", 4),
            Column::fixed("AGE").right().dropped_at(1),
        ],
        gap: 1,
        header: true,
    };

    fn row(id: &str, name: &str, age: &str) -> Vec<String> {
        vec![id.to_owned(), name.to_owned(), age.to_owned()]
    }

    #[test]
    fn widths_are_display_columns_not_characters() {
        assert_eq!(display_width("nightly"), 7);
        assert_eq!(display_width("夜間バックアップ"), 16, "8 wide characters");
        assert_eq!(display_width("🚀launch"), 8);
        assert_eq!(clip("夜間バックアップ", 7), "夜間バ…", "3 wide characters and the mark");
        assert_eq!(display_width(&clip("夜間バックアップ", 7)), 7);
        assert_eq!(clip("short", 10), "short");
        assert_eq!(clip("nightly-2026-11-20", 10), "nightly-2…");
        assert_eq!(clip_start("shop/production/夜間", 10), "…tion/夜間");
        assert_eq!(clip_start("shop/production/夜間", 10).width(), 10);
    }

    #[test]
    fn a_table_is_as_wide_as_its_content_needs() {
        let rows = [row("a1", "short", "3d"), row("b2", "名前", "12h")];
        let layout = Layout::new(&SPEC, &rows, 200);
        let lines: Vec<String> = rows.iter().map(|r| layout.render(&SPEC, r)).collect();
        assert_eq!(layout.header(&SPEC), "ID NAME  AGE");
        assert_eq!(lines, ["a1 short  3d", "b2 名前  12h"], "名前 is 4 columns, padded to 5");
    }

    #[test]
    fn a_narrow_terminal_clips_then_drops_and_no_line_is_wider() {
        let rows = [row("a1", "a-rather-long-name", "3d"), row("b2", "名前名前名前", "12h")];
        // Clipping NAME is enough.
        let layout = Layout::new(&SPEC, &rows, 12);
        for r in &rows {
            let line = layout.render(&SPEC, r);
            assert!(display_width(&line) <= 12, "{line}");
            assert!(line.contains('…') && line.ends_with(&r[2]), "{line}");
        }
        // NAME at its narrowest does not fit beside AGE: AGE goes.
        let layout = Layout::new(&SPEC, &rows, 7);
        assert_eq!(layout.render(&SPEC, &rows[0]), "a1 a-r…");
        assert_eq!(layout.header(&SPEC), "ID NAME");
        // Nothing left to clip or drop: the line is cut at the edge, marked (a wide character
        // is not split, so the line may end a column short).
        let layout = Layout::new(&SPEC, &rows, 5);
        let line = layout.render(&SPEC, &rows[1]);
        assert!(display_width(&line) <= 5 && line.ends_with('…'), "{line}");
    }

    #[test]
    fn an_empty_headless_column_takes_no_room() {
        let spec = Spec { header: false, ..SPEC };
        let rows = [row("a1", "", "3d")];
        assert_eq!(Layout::new(&spec, &rows, 80).render(&spec, &rows[0]), "a1 3d");
    }
}
