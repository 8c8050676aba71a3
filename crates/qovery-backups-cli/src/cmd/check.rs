//! `qovery-backups check`: is there a successful backup newer than `--max-age`?
//!
//! The verdicts are the SDK's ([`Client::freshness`](qovery_backups::Client::freshness)): this
//! command resolves the databases, runs the check, and renders it.

use std::fs;
use std::io::{self, Write};
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt as _;
use qovery_backups::{DatabaseFreshness, FreshnessVerdict, printable};
use serde::Serialize;
use uuid::Uuid;

use crate::cli::{CheckArgs, Format, Global};
use crate::cmd::client;

use crate::metrics::{self, CHECK_TIMESTAMP_HELP};
use crate::outcome::{Failure, Outcome};
use crate::output::{Kind, Record, Writer, age};
use crate::table::{self, Column};

/// Checks every database (those given, those the scopes reach, or every one the token can
/// see), then writes the results; exit 3 if any is stale, missing or suspect, 1 (which outranks
/// 3) if any could not be checked or does not exist.
pub async fn run(global: &Global, args: CheckArgs) -> Result<Outcome, Failure> {
    let client = client(global)?;
    let targets = args.databases.targets(&client, false, global.quiet).await?;
    let now = Utc::now();
    let results: Vec<DatabaseFreshness> = client
        .freshness(targets, args.max_age)
        .concurrency(args.concurrency.get)
        .now(now)
        .items()
        .collect()
        .await;

    let mut text = Vec::new();
    match args.output {
        Format::Prometheus => text.extend_from_slice(
            metrics::backup_metrics(&results, now.timestamp(), &args.metrics_labels, CHECK_TIMESTAMP_HELP)
                .as_bytes(),
        ),
        format => {
            let mut out = Writer::new(&mut text, format, CHECKS);
            for result in &results {
                // One that could not be checked is its error line on stderr, not a row.
                if format != Format::Table || result.verdict != FreshnessVerdict::Error {
                    out.write(&Line { result, now, max_age: args.max_age })?;
                }
            }
            out.finish()?;
        }
    }
    match &args.output_file {
        Some(path) => write_atomically(path, &text)
            .map_err(|e| Failure::Other(format!("cannot write {}: {e}", path.display())))?,
        None => {
            let mut out = io::stdout().lock();
            out.write_all(&text)?;
            out.flush()?;
        }
    }
    let all_fresh = results.iter().all(|r| !r.verdict.fails());
    let errors: Vec<qovery_backups::Error> = results.into_iter().filter_map(|r| r.error).collect();
    match (errors.is_empty(), all_fresh) {
        (false, _) => Err(Failure::Api(errors)),
        (true, true) => Ok(Outcome::Success),
        (true, false) => Ok(Outcome::CheckFailed),
    }
}

/// One database in `--output json|ndjson`.
#[derive(Serialize)]
struct Report<'a> {
    database_id: Uuid,
    organization: Option<&'a str>,
    project: Option<&'a str>,
    environment: Option<&'a str>,
    database: Option<&'a str>,
    verdict: &'static str,
    newest_success_id: Option<Uuid>,
    newest_success_at: Option<DateTime<Utc>>,
    age_seconds: Option<i64>,
    max_age_seconds: u64,
}

fn report(r: &DatabaseFreshness, now: DateTime<Utc>, max_age: Duration) -> Report<'_> {
    let place = r.target.place.as_ref();
    let newest = r.newest_success.as_ref();
    Report {
        database_id: r.target.id,
        organization: place.map(|p| p.organization.name.as_str()),
        project: place.map(|p| p.project.name.as_str()),
        environment: place.map(|p| p.environment.name.as_str()),
        database: place.map(|p| p.name()),
        verdict: r.verdict.as_str(),
        newest_success_id: newest.map(|b| b.id),
        newest_success_at: newest.map(|b| b.created_at),
        age_seconds: newest.map(|b| (now - b.created_at).num_seconds()),
        max_age_seconds: max_age.as_secs(),
    }
}

/// Writes `bytes` to a temporary file next to `path`, then renames it over `path`: a reader
/// (the textfile collector) sees the old file or the new one, never half of one. The temporary
/// name does not end in `.prom`, so the collector ignores it; it is removed if anything fails.
fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let temporary = dir.join(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id()));
    let written = (|| {
        let mut file = fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temporary, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written
}

/// One database's result, in every format but Prometheus.
struct Line<'a> {
    result: &'a DatabaseFreshness,
    now: DateTime<Utc>,
    max_age: Duration,
}

impl Record for Line<'_> {
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        serde_json::to_writer(out, &report(self.result, self.now, self.max_age))
    }

    /// The verdict first, for scripts to match on; a database found by a scope is named
    /// `project/environment/database`, then its id; then what the verdict rests on.
    fn cells(&self, _now: DateTime<Utc>) -> Vec<String> {
        let target = &self.result.target;
        let (word, detail) = explain(self.result, self.now, self.max_age);
        let name =
            if target.place.is_some() { printable(&target.label()).into_owned() } else { String::new() };
        vec![word.to_owned(), name, target.id.to_string(), detail]
    }
}

/// A headless table: each line starts with its verdict. The id is never clipped; the name is
/// clipped first (at its start: the database's own name is its end), then the explanation goes.
const CHECKS: Kind = Kind {
    table: table::Spec {
        columns: &[
            Column::fixed("VERDICT"),
            Column::clipped("DATABASE", 20).keep_end(),
            Column::fixed("ID"),
            Column::clipped("DETAIL", 24).dropped_at(1),
        ],
        gap: 2,
        header: false,
    },
    csv_header: &[],
    empty: None,
};

/// The verdict's word and what it rests on.
fn explain(result: &DatabaseFreshness, now: DateTime<Utc>, max_age: Duration) -> (&'static str, String) {
    let limit = humantime::format_duration(max_age);
    let looked_at = result.looked_at;
    match (result.verdict, &result.newest_success) {
        (FreshnessVerdict::Ok, Some(b)) => {
            ("OK", format!("backup {} succeeded {} ago", b.id, age(now, b.created_at)))
        }
        (FreshnessVerdict::Stale, Some(b)) => (
            "STALE",
            format!("newest successful backup {} is {} old, more than {limit}", b.id, age(now, b.created_at)),
        ),
        (FreshnessVerdict::Stale, None) => (
            "STALE",
            format!("none of the {looked_at} newest backups succeeded, and they reach back past {limit}"),
        ),
        (FreshnessVerdict::Suspect, Some(b)) => (
            "SUSPECT",
            format!(
                "newest successful backup {} is dated {}, after now ({}): its date cannot be trusted",
                b.id,
                b.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
        ),
        (FreshnessVerdict::Unmanaged, _) => {
            ("UNMANAGED", "mode MANAGED: the cloud provider backs it up, not Qovery".to_owned())
        }
        (FreshnessVerdict::NotFound, _) => {
            ("NOT_FOUND", "no such database is visible to this token".to_owned())
        }
        (FreshnessVerdict::Error, _) => ("ERROR", "could not be checked".to_owned()),
        _ => ("MISSING", format!("no successful backup among all {looked_at} backups")),
    }
}
