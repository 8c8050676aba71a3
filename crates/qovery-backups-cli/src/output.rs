//! The one output layer: every command's records written by [`Writer`], in table, json,
//! ndjson or csv, to a standard output buffered for whoever reads it. At most [`PIPE_BUFFER`]
//! bytes and [`TABLE_SAMPLE_ROWS`] table rows are held, so a listing of any length runs in
//! constant memory.

use std::io::{self, BufWriter, IsTerminal as _, StdoutLock, Write};

use chrono::{DateTime, Utc};
use qovery_backups::Backup;
use serde::Serialize;
use uuid::Uuid;

use crate::cli::Format;
use crate::table::{self, Column};
use qovery_backups::printable;

/// Bytes gathered before each write to a pipe or file. Large enough that the system calls cost
/// nothing next to the encoding (one `write` per 64 KiB: a default pipe's whole capacity), small
/// enough not to matter to memory.
pub const PIPE_BUFFER: usize = 64 * 1024;

/// Standard output as a command writes to it: line by line on a terminal, so that a person sees
/// each line as soon as it is made; in [`PIPE_BUFFER`] chunks otherwise, for throughput.
pub enum Stdout {
    /// A terminal: std's own line buffering, flushed at each newline.
    Terminal(StdoutLock<'static>),
    /// A pipe or a file.
    Pipe(BufWriter<StdoutLock<'static>>),
}

/// The process's standard output, buffered as [`Stdout`] says.
pub fn stdout() -> Stdout {
    let stdout = io::stdout();
    if stdout.is_terminal() {
        Stdout::Terminal(stdout.lock())
    } else {
        // Std's stdout is always line-buffered: a 64 KiB chunk goes through it in at most two
        // writes (the lines, then the partial last line), instead of one per line.
        Stdout::Pipe(BufWriter::with_capacity(PIPE_BUFFER, stdout.lock()))
    }
}

impl Write for Stdout {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stdout::Terminal(out) => out.write(buf),
            Stdout::Pipe(out) => out.write(buf),
        }
    }

    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Stdout::Terminal(out) => out.write_all(buf),
            Stdout::Pipe(out) => out.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stdout::Terminal(out) => out.flush(),
            Stdout::Pipe(out) => out.flush(),
        }
    }
}

/// One record of a command's output, in every format it may take.
pub trait Record {
    /// Its JSON object, compact, as json and ndjson write it.
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()>;
    /// Its table row: one cell per column of the table's [`table::Spec`], escaped for a
    /// terminal. `now` dates the ages.
    fn cells(&self, now: DateTime<Utc>) -> Vec<String>;
    /// Its CSV fields, in the order of [`Kind::csv_header`]; exact, not escaped. None for a
    /// command that offers no CSV (its `csv_header` is empty, and its format list leaves csv
    /// out).
    fn csv_row(&self) -> Vec<String> {
        Vec::new()
    }
}

/// What a command writes, format by format: its table, its CSV header, and what a table says
/// when there is nothing to show.
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    /// The table's columns.
    pub table: table::Spec,
    /// The CSV header; empty when the command offers no CSV.
    pub csv_header: &'static [&'static str],
    /// A table's line when nothing was written (`no backups`); `None`: nothing.
    pub empty: Option<&'static str>,
}

/// Rows a table holds back to size its columns; past them the section keeps its layout and a
/// longer cell is clipped. Bounded, so that a listing of any length runs in constant memory.
pub const TABLE_SAMPLE_ROWS: usize = 100;

/// The single writer of every command's records, in table, json, ndjson or csv.
///
/// JSON is compact everywhere: ndjson one object per line; json one array with one object per
/// line, opened at the first record and closed by [`finish`](Writer::finish), so that it
/// streams. CSV has a header line, even when no row follows. Dates are RFC 3339 with `Z`.
pub struct Writer<W: Write> {
    out: W,
    format: Format,
    kind: Kind,
    /// One record's JSON or CSV, made here and handed to `out` in one call: serde_json writes a
    /// value in dozens of small pieces, which a `Vec` takes more cheaply than any writer.
    line: Vec<u8>,
    written: u64,
    csv_header_written: bool,
    now: DateTime<Utc>,
    width: usize,
    /// Table sections begun (their headings written).
    sections: u64,
    /// The current section's layout, once sized.
    layout: Option<table::Layout>,
    /// The rows held back until then.
    held: Vec<Vec<String>>,
}

impl<W: Write> Writer<W> {
    /// A writer of `kind` records as `format` to `out`; a table fits the width of
    /// [`table::width`], and its ages are counted from now.
    pub fn new(out: W, format: Format, kind: Kind) -> Self {
        Writer {
            out,
            format,
            kind,
            line: Vec::with_capacity(1024),
            written: 0,
            csv_header_written: false,
            now: Utc::now(),
            width: table::width(),
            sections: 0,
            layout: None,
            held: Vec::new(),
        }
    }

    /// Starts a table section under `heading` (one per database); machine formats have none.
    pub fn section(&mut self, heading: &str) -> io::Result<()> {
        if self.format != Format::Table {
            return Ok(());
        }
        self.flush_rows()?;
        self.layout = None;
        if self.sections > 0 {
            writeln!(self.out)?;
        }
        self.sections += 1;
        writeln!(self.out, "{}", table::clip(heading, self.width))
    }

    /// A line of a table section that is no record (`no backups`); machine formats skip it.
    pub fn note(&mut self, text: &str) -> io::Result<()> {
        if self.format != Format::Table {
            return Ok(());
        }
        self.flush_rows()?;
        writeln!(self.out, "{}", table::clip(text, self.width))
    }

    /// Writes one record.
    pub fn write(&mut self, record: &impl Record) -> io::Result<()> {
        match self.format {
            Format::Ndjson => {
                self.line.clear();
                record.write_json(&mut self.line)?;
                self.line.push(b'\n');
                self.out.write_all(&self.line)?;
            }
            Format::Json => {
                self.line.clear();
                self.line.extend_from_slice(if self.written == 0 { b"[\n" } else { b",\n" });
                record.write_json(&mut self.line)?;
                self.out.write_all(&self.line)?;
            }
            Format::Csv => {
                if !self.csv_header_written {
                    self.write_csv_header()?;
                }
                self.write_csv_record(&record.csv_row())?;
            }
            Format::Table => {
                let cells = record.cells(self.now);
                match &self.layout {
                    Some(layout) => writeln!(self.out, "{}", layout.render(&self.kind.table, &cells))?,
                    None => {
                        self.held.push(cells);
                        if self.held.len() >= TABLE_SAMPLE_ROWS {
                            self.flush_rows()?;
                        }
                    }
                }
            }
            // Only `check` writes Prometheus, by its own rules.
            Format::Prometheus => return Err(io::Error::other("no Prometheus form for these records")),
        }
        self.written += 1;
        Ok(())
    }

    /// Writes the rows a table holds back and flushes: for a command about to wait (a prune
    /// about to delete what it printed).
    pub fn flush(&mut self) -> io::Result<()> {
        self.flush_rows()?;
        self.out.flush()
    }

    /// Closes the document (the JSON array; the CSV header when no row came) and flushes.
    /// Called on success and before an error is reported, so what was received is always
    /// written and well-formed.
    pub fn finish(&mut self) -> io::Result<()> {
        self.flush_rows()?;
        match (self.format, self.written) {
            (Format::Json, 0) => self.out.write_all(b"[]\n")?,
            (Format::Json, _) => self.out.write_all(b"\n]\n")?,
            (Format::Csv, 0) => self.write_csv_header()?,
            (Format::Table, 0) => {
                if let Some(empty) = self.kind.empty {
                    writeln!(self.out, "{empty}")?;
                }
            }
            _ => {}
        }
        self.out.flush()
    }

    /// Sizes the section's columns from the rows held back, and writes them under the heading
    /// row.
    fn flush_rows(&mut self) -> io::Result<()> {
        if self.held.is_empty() {
            return Ok(());
        }
        let spec = &self.kind.table;
        let layout = table::Layout::new(spec, &self.held, self.width);
        if spec.header {
            writeln!(self.out, "{}", layout.header(spec))?;
        }
        for cells in self.held.drain(..) {
            writeln!(self.out, "{}", layout.render(spec, &cells))?;
        }
        self.layout = Some(layout);
        Ok(())
    }

    fn write_csv_header(&mut self) -> io::Result<()> {
        self.csv_header_written = true;
        let header: Vec<String> = self.kind.csv_header.iter().map(|&h| h.to_owned()).collect();
        self.write_csv_record(&header)
    }

    /// The csv crate quotes and escapes; each record goes out as soon as it is made.
    fn write_csv_record(&mut self, fields: &[String]) -> io::Result<()> {
        let mut record = csv::Writer::from_writer(std::mem::take(&mut self.line));
        record.write_record(fields)?;
        self.line = record.into_inner().map_err(|e| e.into_error())?;
        self.out.write_all(&self.line)?;
        self.line.clear();
        Ok(())
    }
}

/// A date as every machine format writes it: RFC 3339 in UTC with `Z`, as serde writes
/// chrono's dates in JSON.
pub fn rfc3339(date: DateTime<Utc>) -> String {
    date.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// A backup with the database it belongs to, as the JSON formats write it: the API's fields
/// and values as received, plus `database_id`.
#[derive(Serialize)]
struct Tagged<'a> {
    database_id: Uuid,
    #[serde(flatten)]
    backup: &'a Backup,
}

impl Record for Tagged<'_> {
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        serde_json::to_writer(out, self)
    }

    fn cells(&self, now: DateTime<Utc>) -> Vec<String> {
        let backup = self.backup;
        let took = backup
            .status
            .as_ref()
            .and_then(|s| s.steps.as_ref())
            .and_then(|steps| steps.total_duration_sec)
            .map_or_else(|| "-".to_owned(), short_duration);
        vec![
            backup.id.to_string(),
            backup.created_at.format("%m-%d %H:%M").to_string(),
            // Names come from whoever created the backup: escaped, so none can hide the rest of
            // the row, rewrite the screen or reorder it.
            printable(&backup.name).into_owned(),
            // The backup's own outcome (what `check` judges by), not the database's deployment
            // state.
            backup.action_status().map_or_else(|| "-".to_owned(), |s| printable(s.as_str()).into_owned()),
            took,
            age(now, backup.created_at),
        ]
    }

    fn csv_row(&self) -> Vec<String> {
        let backup = self.backup;
        let status = backup.status.as_ref();
        vec![
            self.database_id.to_string(),
            backup.id.to_string(),
            rfc3339(backup.created_at),
            backup.updated_at.map(rfc3339).unwrap_or_default(),
            backup.name.clone(),
            backup.message.clone(),
            status.map(|s| s.state.to_string()).unwrap_or_default(),
            status.map(|s| s.status_details.status.to_string()).unwrap_or_default(),
            status
                .and_then(|s| s.steps.as_ref())
                .and_then(|steps| steps.total_duration_sec)
                .map(|d| d.to_string())
                .unwrap_or_default(),
        ]
    }
}

/// Backups: `list`, `latest`, and the JSON of `create` and `wait`. ID, STATUS and AGE stay on
/// the narrowest terminal; NAME is clipped first, then TOOK is left out, then CREATED (AGE
/// tells the same).
pub const BACKUPS: Kind = Kind {
    table: table::Spec {
        columns: &[
            Column::fixed("ID"),
            Column::fixed("CREATED").dropped_at(2),
            Column::clipped("NAME", 12),
            Column::clipped("STATUS", 7),
            Column::fixed("TOOK").right().dropped_at(3),
            Column::fixed("AGE").right(),
        ],
        gap: 1,
        header: true,
    },
    csv_header: &[
        "database_id",
        "id",
        "created_at",
        "updated_at",
        "name",
        "message",
        "state",
        "action_status",
        "total_duration_sec",
    ],
    empty: Some("no backups"),
};

/// Writes backups as they arrive, a table section per database.
pub struct BackupWriter<W: Write> {
    writer: Writer<W>,
    current_database: Option<Uuid>,
}

impl<W: Write> BackupWriter<W> {
    /// A writer of `format` to `out`; ages in a table are counted from now.
    pub fn new(out: W, format: Format) -> Self {
        BackupWriter { writer: Writer::new(out, format, BACKUPS), current_database: None }
    }

    /// Writes one backup of `database_id`.
    pub fn write(&mut self, database_id: Uuid, backup: &Backup) -> io::Result<()> {
        if self.current_database != Some(database_id) {
            self.current_database = Some(database_id);
            self.writer.section(&format!("database {database_id}"))?;
        }
        self.writer.write(&Tagged { database_id, backup })
    }

    /// Closes the document and flushes; see [`Writer::finish`].
    pub fn finish(&mut self) -> io::Result<()> {
        self.writer.finish()
    }
}

/// `42s`, `7m05`, `1h05`, `4d`: what fits five columns.
fn short_duration(seconds: i64) -> String {
    match seconds {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{:02}", s / 60, s % 60),
        s if s < 100 * 3600 => format!("{}h{:02}", s / 3600, (s % 3600) / 60),
        s => format!("{}d", s / 86_400),
    }
}

/// `40s`, `12m`, `5h`, `3d`, `9w`: three columns.
pub fn age(now: DateTime<Utc>, then: DateTime<Utc>) -> String {
    let seconds = (now - then).num_seconds().max(0);
    match seconds {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s if s < 7 * 86_400 => format!("{}d", s / 86_400),
        s => format!("{}w", s / (7 * 86_400)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_ages_fit_their_columns() {
        for seconds in [0, 59, 60, 3599, 3600, 86_399, 360_000] {
            assert!(short_duration(seconds).len() <= 5, "{seconds}");
        }
        let now = Utc::now();
        for seconds in [0, 59, 3599, 86_399, 6 * 86_400, 69 * 86_400] {
            assert!(age(now, now - chrono::Duration::seconds(seconds)).len() <= 3, "{seconds}");
        }
    }

    #[test]
    fn dates_are_rfc3339_with_z_as_json_writes_them() {
        let date: DateTime<Utc> = "2026-11-28T02:30:00+00:00".parse().unwrap();
        assert_eq!(rfc3339(date), "2026-11-28T02:30:00Z");
        assert_eq!(rfc3339(date), serde_json::to_value(date).unwrap());
    }
}
