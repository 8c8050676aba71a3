//! `qovery-backups check`: is there a successful backup newer than `--max-age`?
//!
//! Judging a database ([`judge`]) is a pure function of its newest successful backup and the
//! time, kept apart from the network and from printing so that the rule can be tested alone.

use std::fs;
use std::io::{self, Write};
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::TryStreamExt as _;
use qovery_backups::{Backup, FleetDatabase, printable};
use serde::Serialize;
use uuid::Uuid;

use crate::cli::{CheckArgs, Format, Global};
use crate::cmd::client;
use crate::cmd::scope::{self, Target};
use crate::outcome::{Failure, Outcome};
use crate::output::{Kind, Record, Writer, age};
use crate::table::{self, Column};

/// What `check` concludes about one database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The newest successful backup is at most `max_age` old.
    Fresh,
    /// No backup within `max_age` succeeded (the newest successful one, if seen, is older).
    Stale,
    /// The database has no successful backup at all.
    Missing,
    /// The newest successful backup is dated in the future, past any plausible clock skew: its
    /// date cannot be trusted to say the database is protected.
    Suspect,
    /// The API answered 404: a database whose backups the cloud provider manages, or none.
    Unmanaged,
}

impl Verdict {
    /// Whether this verdict makes `check` exit 3. An unmanaged database is not Qovery's to back
    /// up, so it is reported but does not fail the check.
    pub fn fails(self) -> bool {
        matches!(self, Verdict::Stale | Verdict::Missing | Verdict::Suspect)
    }

    /// Its name in JSON and Prometheus output: `ok`, `stale`, `missing`, `suspect`,
    /// `unmanaged`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Fresh => "ok",
            Verdict::Stale => "stale",
            Verdict::Missing => "missing",
            Verdict::Suspect => "suspect",
            Verdict::Unmanaged => "unmanaged",
        }
    }
}

/// How far in the future a backup may be dated before its date is not believed: servers' and
/// this machine's clocks may disagree by this much.
pub const CLOCK_SKEW_ALLOWANCE: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// Judges a database by its newest successful backup. A backup exactly `max_age` old is still
/// fresh; one dated more than [`CLOCK_SKEW_ALLOWANCE`] ahead of `now` is suspect.
pub fn judge(newest_success: Option<&Backup>, now: DateTime<Utc>, max_age: chrono::Duration) -> Verdict {
    match newest_success {
        Some(backup) if backup.created_at > now + CLOCK_SKEW_ALLOWANCE => Verdict::Suspect,
        Some(backup) if now - backup.created_at <= max_age => Verdict::Fresh,
        Some(_) => Verdict::Stale,
        None => Verdict::Missing,
    }
}

/// What the listing of one database showed.
struct Findings {
    /// The newest successful backup seen, if any.
    newest_success: Option<Backup>,
    /// Whether the listing stopped at the window's edge rather than at the end of the history:
    /// then "no success seen" means stale, not missing.
    stopped_at_window: bool,
    /// Backups looked at.
    looked_at: usize,
}

/// Reads newest first until the first successful backup, or until a page reaches backups older
/// than the window: nothing older can make the database fresh, so the request count is bounded
/// by the backups inside the window plus one page.
async fn look(
    client: &qovery_backups::Client,
    database_id: Uuid,
    oldest_fresh: DateTime<Utc>,
) -> Result<Findings, qovery_backups::Error> {
    let mut pages = client.backups(database_id).list().pages();
    let mut findings = Findings { newest_success: None, stopped_at_window: false, looked_at: 0 };
    while let Some(page) = pages.try_next().await? {
        findings.looked_at += page.backups.len();
        let reached_the_edge = page.backups.iter().any(|b| b.created_at < oldest_fresh);
        // The page is already here: its first success, even an old one, says how stale.
        if let Some(success) = page.backups.into_iter().find(Backup::is_successful) {
            findings.newest_success = Some(success);
            return Ok(findings);
        }
        if reached_the_edge {
            findings.stopped_at_window = true;
            return Ok(findings);
        }
    }
    Ok(findings)
}

/// One database's result: its verdict, or `None` when it could not be checked.
struct Checked {
    target: Target,
    verdict: Option<Verdict>,
    findings: Option<Findings>,
}

/// Checks each database in turn, then writes the results; exit 3 if any is stale, missing or
/// suspect, 1 (which outranks 3) if any could not be checked. A database whose backups the cloud
/// provider manages, found by a scope, is reported UNMANAGED without asking for its backups.
pub async fn run(global: &Global, args: CheckArgs) -> Result<Outcome, Failure> {
    if args.max_age.is_zero() {
        return Err(Failure::Usage("--max-age must be longer than zero, e.g. 26h".into()));
    }
    let client = client(global)?;
    let max_age = chrono::Duration::from_std(args.max_age)
        .map_err(|_| Failure::Usage("--max-age is too large".into()))?;
    let targets = scope::targets(&client, &args.database_ids, &args.scope, false).await?;
    let now = Utc::now();
    let mut errors = Vec::new();
    let mut results = Vec::with_capacity(targets.len());

    for target in targets {
        if target.is_managed_by_provider() {
            results.push(Checked { target, verdict: Some(Verdict::Unmanaged), findings: None });
            continue;
        }
        match look(&client, target.id, now - max_age).await {
            Ok(findings) => {
                let mut verdict = judge(findings.newest_success.as_ref(), now, max_age);
                if verdict == Verdict::Missing && findings.stopped_at_window {
                    verdict = Verdict::Stale;
                }
                results.push(Checked { target, verdict: Some(verdict), findings: Some(findings) });
            }
            Err(e) if e.is_not_found() => {
                results.push(Checked { target, verdict: Some(Verdict::Unmanaged), findings: None });
            }
            Err(e) => {
                errors.push(e);
                results.push(Checked { target, verdict: None, findings: None });
            }
        }
    }
    let all_fresh = results.iter().all(|r| r.verdict.is_none_or(|v| !v.fails()));

    let mut text = Vec::new();
    match args.output {
        Format::Prometheus => prometheus(&mut text, &results, now)?,
        format => {
            let mut out = Writer::new(&mut text, format, CHECKS);
            for checked in &results {
                // One that could not be checked is its error line on stderr, not a row.
                if format != Format::Table || checked.verdict.is_some() {
                    out.write(&Line { checked, now, max_age: args.max_age })?;
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

fn report(r: &Checked, now: DateTime<Utc>, max_age: Duration) -> Report<'_> {
    let place = r.target.place.as_ref();
    let newest = r.findings.as_ref().and_then(|f| f.newest_success.as_ref());
    Report {
        database_id: r.target.id,
        organization: place.map(|p| p.organization.name.as_str()),
        project: place.map(|p| p.project.name.as_str()),
        environment: place.map(|p| p.environment.name.as_str()),
        database: place.map(|p| p.name()),
        verdict: r.verdict.map_or(ERROR_STATUS, Verdict::as_str),
        newest_success_id: newest.map(|b| b.id),
        newest_success_at: newest.map(|b| b.created_at),
        age_seconds: newest.map(|b| (now - b.created_at).num_seconds()),
        max_age_seconds: max_age.as_secs(),
    }
}

/// The status of a database that could not be checked.
const ERROR_STATUS: &str = "error";

/// Every value of `qovery_backup_check_status`'s `status` label: one sample each per database,
/// so an alert can match `== 1` on any of them and a dashboard sees the 0s too.
const STATUSES: [&str; 6] = ["ok", "stale", "missing", "suspect", "unmanaged", ERROR_STATUS];

/// A label value escaped as the text exposition format requires: backslash, double quote and
/// line feed.
fn escape_label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// The Prometheus text exposition format, for node_exporter's textfile collector: no
/// per-sample timestamps (the collector refuses them).
fn prometheus(out: &mut impl Write, results: &[Checked], now: DateTime<Utc>) -> io::Result<()> {
    let labels = |r: &Checked| {
        let place = r.target.place.as_ref();
        let name = |f: fn(&FleetDatabase) -> &str| place.map_or(String::new(), |p| escape_label(f(p)));
        format!(
            "organization=\"{}\",project=\"{}\",environment=\"{}\",database=\"{}\",database_id=\"{}\"",
            name(|p| &p.organization.name),
            name(|p| &p.project.name),
            name(|p| &p.environment.name),
            name(|p| p.name()),
            r.target.id
        )
    };
    writeln!(
        out,
        "# HELP qovery_backup_last_success_timestamp_seconds Creation time of the newest successful backup, in Unix seconds."
    )?;
    writeln!(out, "# TYPE qovery_backup_last_success_timestamp_seconds gauge")?;
    for r in results {
        if let Some(b) = r.findings.as_ref().and_then(|f| f.newest_success.as_ref()) {
            writeln!(
                out,
                "qovery_backup_last_success_timestamp_seconds{{{}}} {}",
                labels(r),
                b.created_at.timestamp()
            )?;
        }
    }
    writeln!(
        out,
        "# HELP qovery_backup_check_status Verdict of the last check: 1 for the current status, 0 for the others."
    )?;
    writeln!(out, "# TYPE qovery_backup_check_status gauge")?;
    for r in results {
        let current = r.verdict.map_or(ERROR_STATUS, Verdict::as_str);
        for status in STATUSES {
            writeln!(
                out,
                "qovery_backup_check_status{{{},status=\"{status}\"}} {}",
                labels(r),
                u8::from(status == current)
            )?;
        }
    }
    writeln!(out, "# HELP qovery_backup_check_timestamp_seconds When the check ran, in Unix seconds.")?;
    writeln!(out, "# TYPE qovery_backup_check_timestamp_seconds gauge")?;
    writeln!(out, "qovery_backup_check_timestamp_seconds {}", now.timestamp())
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
    checked: &'a Checked,
    now: DateTime<Utc>,
    max_age: Duration,
}

impl Record for Line<'_> {
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        serde_json::to_writer(out, &report(self.checked, self.now, self.max_age))
    }

    /// The verdict first, for scripts to match on; a database found by a scope is named
    /// `project/environment/database`, then its id; then what the verdict rests on.
    fn cells(&self, _now: DateTime<Utc>) -> Vec<String> {
        let Checked { target, verdict, findings } = self.checked;
        let (word, detail) = match verdict {
            Some(verdict) => explain(target, *verdict, findings.as_ref(), self.now, self.max_age),
            None => ("ERROR", "could not be checked".to_owned()),
        };
        let name =
            if target.place.is_some() { printable(&target.label()).into_owned() } else { String::new() };
        vec![word.to_owned(), name, target.id.to_string(), detail]
    }

    /// Not offered.
    fn csv_row(&self) -> Vec<String> {
        Vec::new()
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
fn explain(
    target: &Target,
    verdict: Verdict,
    findings: Option<&Findings>,
    now: DateTime<Utc>,
    max_age: Duration,
) -> (&'static str, String) {
    let limit = humantime::format_duration(max_age);
    let newest = findings.and_then(|f| f.newest_success.as_ref());
    let looked_at = findings.map_or(0, |f| f.looked_at);
    match (verdict, newest) {
        (Verdict::Fresh, Some(b)) => {
            ("OK", format!("backup {} succeeded {} ago", b.id, age(now, b.created_at)))
        }
        (Verdict::Stale, Some(b)) => (
            "STALE",
            format!("newest successful backup {} is {} old, more than {limit}", b.id, age(now, b.created_at)),
        ),
        (Verdict::Stale, None) => (
            "STALE",
            format!("none of the {looked_at} newest backups succeeded, and they reach back past {limit}"),
        ),
        (Verdict::Suspect, Some(b)) => (
            "SUSPECT",
            format!(
                "newest successful backup {} is dated {}, after now ({}): its date cannot be trusted",
                b.id,
                b.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
        ),
        (Verdict::Unmanaged, _) if target.is_managed_by_provider() => {
            ("UNMANAGED", "mode MANAGED: the cloud provider backs it up, not Qovery".to_owned())
        }
        (Verdict::Unmanaged, _) => {
            ("UNMANAGED", "no Qovery-managed backups, or no such database (the API answered 404)".to_owned())
        }
        _ => ("MISSING", format!("no successful backup among all {looked_at} backups")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backup_at(status: Option<&str>, created_at: &str) -> Backup {
        let status = status.map(|s| {
            serde_json::json!({
                "id": Uuid::nil(), "state": "DEPLOYED", "service_deployment_status": "UP_TO_DATE",
                "is_part_last_deployment": true, "deployment_requests_count": 1, "deployment_request_id": null,
                "status_details": {"action": "DEPLOY", "status": s, "sub_action": "NONE"}
            })
        });
        serde_json::from_value(serde_json::json!({
            "id": Uuid::nil(), "created_at": created_at, "name": "n", "message": "m", "status": status
        }))
        .unwrap()
    }

    #[test]
    fn judge_compares_the_newest_success_with_max_age_inclusive() {
        let now: DateTime<Utc> = "2026-11-28T00:00:00Z".parse().unwrap();
        let day = chrono::Duration::hours(24);
        let at = |t: &str| backup_at(Some("SUCCESS"), t);
        assert_eq!(judge(Some(&at("2026-11-27T12:00:00Z")), now, day), Verdict::Fresh);
        assert_eq!(judge(Some(&at("2026-11-27T00:00:00Z")), now, day), Verdict::Fresh, "exactly max_age");
        assert_eq!(judge(Some(&at("2026-11-26T23:59:59Z")), now, day), Verdict::Stale);
        assert_eq!(
            judge(Some(&at("2026-11-28T00:05:00Z")), now, day),
            Verdict::Fresh,
            "within the clock skew"
        );
        assert_eq!(
            judge(Some(&at("2026-11-28T00:05:01Z")), now, day),
            Verdict::Suspect,
            "past the clock skew"
        );
        assert_eq!(judge(Some(&at("9999-12-31T23:59:59Z")), now, day), Verdict::Suspect);
        assert_eq!(judge(None, now, day), Verdict::Missing);
    }

    #[test]
    fn label_values_escape_backslash_quote_and_newline_only() {
        assert_eq!(escape_label("a\\b\"c\nd\te"), "a\\\\b\\\"c\\nd\te");
        assert_eq!(escape_label("plain/name"), "plain/name");
    }

    #[test]
    fn only_stale_and_missing_fail_the_check() {
        let failing: Vec<Verdict> =
            [Verdict::Fresh, Verdict::Stale, Verdict::Missing, Verdict::Suspect, Verdict::Unmanaged]
                .into_iter()
                .filter(|v| v.fails())
                .collect();
        assert_eq!(failing, [Verdict::Stale, Verdict::Missing, Verdict::Suspect]);
    }
}
