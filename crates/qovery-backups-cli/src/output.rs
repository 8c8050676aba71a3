//! Writing backups as they arrive, in one of four formats, to a standard output buffered for
//! whoever reads it. At most [`PIPE_BUFFER`] bytes are held, so a listing of any length runs in
//! constant memory.

use std::io::{self, BufWriter, IsTerminal as _, StdoutLock, Write};

use chrono::{DateTime, Utc};
use qovery_backups::Backup;
use serde::Serialize;
use uuid::Uuid;

use crate::cli::Format;

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

/// A backup with the database it belongs to, as the JSON formats write it: the API's fields
/// and values as received, plus `database_id`.
#[derive(Serialize)]
struct Tagged<'a> {
    database_id: Uuid,
    #[serde(flatten)]
    backup: &'a Backup,
}

/// Writes backups in one format; [`finish`](BackupWriter::finish) closes the document.
pub struct BackupWriter<W: Write> {
    out: W,
    format: Format,
    /// The JSON of one backup, made here and handed to `out` in one call: serde_json writes a
    /// value in dozens of small pieces, which a `Vec` takes more cheaply than any writer.
    line: Vec<u8>,
    written: u64,
    csv_header_written: bool,
    now: DateTime<Utc>,
    current_database: Option<Uuid>,
    /// The NAME column's width in a table, from the terminal's width.
    name_width: usize,
}

/// Table layout: 36 + 1 + 11 + 1 + NAME + 1 + 10 + 1 + 5 + 1 + 3 columns; with the narrowest
/// NAME, 80 columns, the floor when the terminal's width is unknown.
const NAME_WIDTH: usize = 10;
const STATE_WIDTH: usize = 10;
const COLUMNS_BESIDE_NAME: usize = 80 - NAME_WIDTH;

/// How wide the NAME column may be on a terminal `columns` wide (`None`: not a terminal, or its
/// width unknown): everything the other columns leave, so a name is clipped only when the
/// terminal has no room for it, and never narrower than the 80-column layout's.
pub fn name_width(columns: Option<u16>) -> usize {
    columns.map_or(NAME_WIDTH, |columns| {
        usize::from(columns).saturating_sub(COLUMNS_BESIDE_NAME).max(NAME_WIDTH)
    })
}

impl<W: Write> BackupWriter<W> {
    /// A writer of `format` to `out`; ages in a table are counted from now.
    pub fn new(out: W, format: Format) -> Self {
        BackupWriter {
            out,
            format,
            line: Vec::with_capacity(1024),
            written: 0,
            csv_header_written: false,
            now: Utc::now(),
            current_database: None,
            name_width: name_width(
                terminal_size::terminal_size_of(io::stdout())
                    .map(|(terminal_size::Width(columns), _)| columns),
            ),
        }
    }

    /// Writes one backup of `database_id`.
    pub fn write(&mut self, database_id: Uuid, backup: &Backup) -> io::Result<()> {
        match self.format {
            Format::Ndjson => {
                self.line.clear();
                serde_json::to_writer(&mut self.line, &Tagged { database_id, backup })?;
                self.line.push(b'\n');
                self.out.write_all(&self.line)?;
            }
            Format::Json => {
                self.line.clear();
                self.line.extend_from_slice(if self.written == 0 { b"[\n" } else { b",\n" });
                serde_json::to_writer(&mut self.line, &Tagged { database_id, backup })?;
                self.out.write_all(&self.line)?;
            }
            Format::Csv => self.write_csv_row(database_id, backup)?,
            Format::Table => self.write_table_row(database_id, backup)?,
        }
        self.written += 1;
        Ok(())
    }

    /// Closes the document (the JSON array) and flushes. Called on success and before an error
    /// is reported, so what was received is always written and well-formed.
    pub fn finish(&mut self) -> io::Result<()> {
        match (self.format, self.written) {
            (Format::Json, 0) => self.out.write_all(b"[]\n")?,
            (Format::Json, _) => self.out.write_all(b"\n]\n")?,
            (Format::Csv, 0) => self.write_csv_header()?,
            (Format::Table, 0) => writeln!(self.out, "no backups")?,
            _ => {}
        }
        self.out.flush()
    }

    fn write_csv_header(&mut self) -> io::Result<()> {
        self.csv_header_written = true;
        self.write_csv_record(&[
            "database_id",
            "id",
            "created_at",
            "updated_at",
            "name",
            "message",
            "state",
            "action_status",
            "total_duration_sec",
        ])
    }

    /// The csv crate quotes and escapes; each record goes out as soon as it is made.
    fn write_csv_record(&mut self, fields: &[&str]) -> io::Result<()> {
        let mut record = csv::Writer::from_writer(Vec::new());
        record.write_record(fields)?;
        self.out.write_all(&record.into_inner().map_err(|e| e.into_error())?)
    }

    fn write_csv_row(&mut self, database_id: Uuid, backup: &Backup) -> io::Result<()> {
        if !self.csv_header_written {
            self.write_csv_header()?;
        }
        let status = backup.status.as_ref();
        let row = [
            database_id.to_string(),
            backup.id.to_string(),
            backup.created_at.to_rfc3339(),
            backup.updated_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            backup.name.clone(),
            backup.message.clone(),
            status.map(|s| s.state.to_string()).unwrap_or_default(),
            status.map(|s| s.status_details.status.to_string()).unwrap_or_default(),
            status
                .and_then(|s| s.steps.as_ref())
                .and_then(|steps| steps.total_duration_sec)
                .map(|d| d.to_string())
                .unwrap_or_default(),
        ];
        self.write_csv_record(&row.each_ref().map(String::as_str))
    }

    fn write_table_row(&mut self, database_id: Uuid, backup: &Backup) -> io::Result<()> {
        let name_width = self.name_width;
        if self.current_database != Some(database_id) {
            if self.current_database.is_some() {
                writeln!(self.out)?;
            }
            self.current_database = Some(database_id);
            writeln!(self.out, "database {database_id}")?;
            writeln!(
                self.out,
                "{:<36} {:<11} {:<name_width$} {:<STATE_WIDTH$} {:>5} {:>3}",
                "ID", "CREATED", "NAME", "STATUS", "TOOK", "AGE"
            )?;
        }
        let status = backup.status.as_ref();
        // The backup's own outcome (what `check` judges by), not the database's deployment state.
        let state = backup.action_status().map_or_else(|| "-".to_owned(), ToString::to_string);
        let took = status
            .and_then(|s| s.steps.as_ref())
            .and_then(|steps| steps.total_duration_sec)
            .map(short_duration)
            .unwrap_or_else(|| "-".to_owned());
        writeln!(
            self.out,
            "{:<36} {:<11} {:<name_width$} {:<STATE_WIDTH$} {:>5} {:>3}",
            backup.id,
            backup.created_at.format("%m-%d %H:%M"),
            // Names come from whoever created the backup: escaped, so none can hide the rest of
            // the row or rewrite the screen.
            clip(&qovery_backups::printable(&backup.name), name_width),
            clip(&qovery_backups::printable(&state), STATE_WIDTH),
            took,
            age(self.now, backup.created_at),
        )
    }
}

/// At most `width` characters, with `…` marking a cut.
pub fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        let mut clipped: String = text.chars().take(width - 1).collect();
        clipped.push('…');
        clipped
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
        assert_eq!(clip("nightly-2026-11-20", 10), "nightly-2…");
        assert_eq!(clip("short", 10), "short");
    }

    #[test]
    fn the_name_column_takes_the_room_a_terminal_has() {
        assert_eq!(name_width(None), 10, "unknown width: the 80-column layout");
        assert_eq!(name_width(Some(60)), 10, "never narrower than the 80-column layout");
        assert_eq!(name_width(Some(80)), 10);
        assert_eq!(name_width(Some(120)), 50);
        let name = "nightly-before-the-2026-11-28-migration";
        assert_eq!(clip(name, name_width(Some(120))), name, "no clipping when there is room");
    }
}
