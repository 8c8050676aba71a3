//! `qovery-backups prune`: delete the backups a retention policy does not keep, database by
//! database, printing the plan first.

use std::io::{self, Write};

use qovery_backups::{Decision, Error, Plan, PruneReport, RetentionPolicy, Verdict};
use serde::Serialize;
use uuid::Uuid;

use crate::cli::{Global, PruneArgs, PruneFormat};
use crate::cmd::scope::WhenNoneGiven;
use crate::cmd::{client, printable};
use crate::outcome::{Failure, Outcome};
use crate::output;

/// Prunes each database on its own: a failed listing leaves that database untouched and the
/// others go on. Exit 1 when any listing or delete failed.
pub async fn run(global: &Global, mut args: PruneArgs) -> Result<Outcome, Failure> {
    let policy = policy(&args)?;
    let client = client(global)?;
    let targets = crate::cmd::scope::targets(
        &client,
        &args.database_ids,
        &args.scope,
        WhenNoneGiven::Nothing,
        true,
        global.quiet,
    )
    .await?;
    args.database_ids = crate::cmd::scope::ids(&targets);
    let format = args.output.unwrap_or_else(|| match crate::cmd::default_format(None) {
        crate::cli::Format::Table => PruneFormat::Table,
        _ => PruneFormat::Ndjson,
    });
    let mut plan_out = PlanWriter::new(output::stdout(), format);
    let mut failed_databases = 0;

    for &database_id in &args.database_ids {
        let backups = client.backups(database_id);
        // Plan first and print the plan before anything is deleted, so that what is about to
        // go is on record even if the process is stopped part-way. A listing that fails, even
        // part-way, deletes nothing.
        let mut prune = backups.prune(&policy);
        if let Some(max) = args.max_delete {
            prune = prune.max_delete(max);
        }
        let planned = match prune.plan().await {
            Ok(planned) => planned,
            Err(error) => {
                plan_out.flush()?;
                failed_databases += 1;
                report_listing_failure(database_id, &error);
                continue;
            }
        };
        plan_out.write_plan(database_id, planned.plan())?;
        plan_out.flush()?;
        let report = if args.dry_run { planned.into_dry_run_report() } else { planned.apply().await };
        for failure in report.failed() {
            eprintln!("error: {}", failure.error);
        }
        if !report.is_complete() {
            failed_databases += 1;
        }
        summarize(&report);
    }
    plan_out.finish()?;
    match failed_databases {
        0 => Ok(Outcome::Success),
        n => Err(Failure::Other(format!(
            "{n} of {} databases were not pruned as planned",
            args.database_ids.len()
        ))),
    }
}

/// The policy the flags describe; no keep rule, or a count of 0, is a usage error.
fn policy(args: &PruneArgs) -> Result<RetentionPolicy, Failure> {
    let mut builder = RetentionPolicy::builder().delete_failed(args.delete_failed);
    if let Some(n) = args.keep_last {
        builder = builder.keep_last(n);
    }
    if let Some(n) = args.keep_hourly {
        builder = builder.keep_hourly(n);
    }
    if let Some(n) = args.keep_daily {
        builder = builder.keep_daily(n);
    }
    if let Some(n) = args.keep_weekly {
        builder = builder.keep_weekly(n);
    }
    if let Some(n) = args.keep_monthly {
        builder = builder.keep_monthly(n);
    }
    if let Some(n) = args.keep_yearly {
        builder = builder.keep_yearly(n);
    }
    if let Some(within) = args.keep_within {
        builder = builder.keep_within(within);
    }
    builder.build().map_err(|e| Failure::Usage(e.to_string()))
}

fn report_listing_failure(database_id: Uuid, error: &Error) {
    eprintln!("error: {error}");
    // The CLI's usual hint for a failed listing says how to resume it, which a prune cannot
    // use: a prune plans from a whole listing or not at all.
    let hint = if error.resume_after().is_some() {
        Some(format!("nothing was deleted from database {database_id}: run the prune again"))
    } else {
        crate::hint::for_error(error)
    };
    if let Some(hint) = hint {
        eprintln!("hint: {hint}");
    }
}

/// One line per database on stderr: kept, deleted, failed.
fn summarize(report: &PruneReport) {
    let database_id = report.database_id();
    let kept = report.plan().keep_count();
    let (deleted, failed) = (report.deleted().len(), report.failed().len());
    if report.is_dry_run() {
        let would = report.plan().delete_count();
        eprintln!(
            "database {database_id}: kept {kept}, deleted {deleted}, failed {failed} (dry run: would delete {would})"
        );
    } else {
        eprintln!("database {database_id}: kept {kept}, deleted {deleted}, failed {failed}");
    }
}

/// One decision as the JSON formats write it.
#[derive(Serialize)]
struct DecisionLine<'a> {
    database_id: Uuid,
    id: Uuid,
    name: &'a str,
    created_at: String,
    action: &'static str,
    reasons: Vec<String>,
}

impl<'a> DecisionLine<'a> {
    fn new(database_id: Uuid, decision: &'a Decision) -> Self {
        let (action, reasons) = action_and_reasons(decision);
        DecisionLine {
            database_id,
            id: decision.backup.id,
            name: &decision.backup.name,
            created_at: decision.backup.created_at.to_rfc3339(),
            action,
            reasons,
        }
    }
}

/// `keep` with every reason, or `delete` with why (`kept by no rule`, `failed`).
fn action_and_reasons(decision: &Decision) -> (&'static str, Vec<String>) {
    match &decision.verdict {
        Verdict::Keep(reasons) => ("keep", reasons.iter().map(ToString::to_string).collect()),
        Verdict::Delete(reason) => ("delete", vec![reason.to_string()]),
        // Verdict is non-exhaustive; a new kind of decision is shown, never guessed to be a delete.
        other => ("keep", vec![other.to_string()]),
    }
}

/// Writes plans as they are made, in one format.
struct PlanWriter<W: Write> {
    out: W,
    format: PruneFormat,
    written: u64,
}

impl<W: Write> PlanWriter<W> {
    fn new(out: W, format: PruneFormat) -> Self {
        PlanWriter { out, format, written: 0 }
    }

    fn write_plan(&mut self, database_id: Uuid, plan: &Plan) -> io::Result<()> {
        if self.format == PruneFormat::Table {
            if self.written > 0 {
                writeln!(self.out)?;
            }
            writeln!(self.out, "database {database_id}")?;
            writeln!(self.out, "{:<6} {:<16} {:<36} {:<20} REASONS", "ACTION", "CREATED", "ID", "NAME")?;
        }
        for decision in plan.decisions() {
            match self.format {
                PruneFormat::Table => {
                    let (action, reasons) = action_and_reasons(decision);
                    let backup = &decision.backup;
                    writeln!(
                        self.out,
                        "{:<6} {:<16} {:<36} {:<20} {}",
                        action.to_uppercase(),
                        backup.created_at.format("%Y-%m-%d %H:%M"),
                        backup.id,
                        output::clip(&printable(&backup.name), 20),
                        reasons.join(", ")
                    )?;
                }
                PruneFormat::Ndjson => {
                    serde_json::to_writer(&mut self.out, &DecisionLine::new(database_id, decision))?;
                    self.out.write_all(b"\n")?;
                }
                PruneFormat::Json => {
                    self.out.write_all(if self.written == 0 { b"[\n" } else { b",\n" })?;
                    serde_json::to_writer(&mut self.out, &DecisionLine::new(database_id, decision))?;
                }
            }
            self.written += 1;
        }
        if self.format == PruneFormat::Table && plan.is_empty() {
            writeln!(self.out, "no backups")?;
            self.written += 1;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Closes the JSON array, and flushes.
    fn finish(&mut self) -> io::Result<()> {
        match (self.format, self.written) {
            (PruneFormat::Json, 0) => self.out.write_all(b"[]\n")?,
            (PruneFormat::Json, _) => self.out.write_all(b"\n]\n")?,
            _ => {}
        }
        self.out.flush()
    }
}
