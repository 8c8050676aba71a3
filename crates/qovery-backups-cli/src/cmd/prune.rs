//! `qovery-backups prune`: delete the backups a retention policy does not keep, database by
//! database, printing the plan first.

use std::io::{self, Write};

use chrono::{DateTime, Utc};
use futures::StreamExt as _;
use qovery_backups::{Decision, Error, KeepRule, Plan, PruneReport, RetentionPolicy, Verdict};
use serde::Serialize;
use uuid::Uuid;

use crate::cli::{Format, Global, PruneArgs};
use crate::cmd::scope;
use crate::cmd::{client, printable};
use crate::outcome::{Failure, Outcome, Phrased};
use crate::output::{self, Kind, Record, Writer};
use crate::table::{self, Column};

/// Prunes each database on its own: a failed listing leaves that database untouched and the
/// others go on. Exit 1 when any listing or delete failed.
///
/// Databases are listed and planned `--concurrency` at a time, and taken in the order given:
/// each one's plan is printed, then its deletes run, before the next one's plan is printed, so
/// the output (and what is on record when the process is stopped) is the same whatever the
/// concurrency and whichever listing the API answers first.
pub async fn run(global: &Global, args: PruneArgs) -> Result<Outcome, Failure> {
    let policy = policy(&args)?;
    let client = client(global)?;
    let targets = args.databases.targets(&client, global.quiet).await?;
    let format = crate::cmd::default_format(args.output);
    let mut plan_out = PlanWriter::new(output::stdout(), format);
    let mut failed_databases = 0;
    // Every failure once, as an `error:` line when the command ends (with its hint, and its
    // causes under -v), like every other command's.
    let mut errors = Vec::new();

    let mut prepared = qovery_backups::in_order(scope::ids(&targets), args.concurrency.get, |database_id| {
        let mut prune = client.backups(database_id).prune(&policy).dry_run(args.dry_run);
        if let Some(max) = args.max_delete {
            prune = prune.max_delete(max);
        }
        // A task of its own, so that the listings ahead go on while this loop awaits an
        // earlier database's deletes (a buffered future advances only when polled). It
        // lists and plans, never deletes: one left behind by an early return is harmless.
        let task = tokio::spawn(prune.prepare());
        async move {
            match task.await {
                Ok(prepared) => (database_id, prepared),
                Err(join) => std::panic::resume_unwind(join.into_panic()),
            }
        }
    });

    while let Some((database_id, prepared)) = prepared.next().await {
        // A listing that fails, even part-way, deletes nothing; a refused plan neither.
        let planned = match prepared {
            Ok(planned) => planned,
            Err(error) => {
                plan_out.flush()?;
                failed_databases += 1;
                errors.push(listing_failure(database_id, error));
                continue;
            }
        };
        // The plan on record before anything of it is deleted, even if the process is stopped
        // part-way.
        plan_out.write_plan(database_id, planned.plan())?;
        plan_out.flush()?;
        let report = planned.apply().await;
        if !report.is_complete() {
            failed_databases += 1;
        }
        if !global.quiet {
            summarize(&report);
        }
        // A failed delete is an `error:` line and nothing more: the summary above counts it.
        errors.extend(report.failed().iter().map(|failure| Phrased::new(&failure.error, None)));
    }
    plan_out.finish()?;
    match failed_databases {
        0 => Ok(Outcome::Success),
        _ => Err(Failure::Reported(errors)),
    }
}

/// The policy the flags describe; no keep rule, or a count of 0, is a usage error.
fn policy(args: &PruneArgs) -> Result<RetentionPolicy, Failure> {
    let mut builder = RetentionPolicy::builder().delete_failed(args.delete_failed);
    for &(rule, count) in &args.keep.0 {
        builder = builder.keep(rule, count);
    }
    if let Some(within) = args.keep_within {
        builder = builder.keep_within(within);
    }
    builder.build().map_err(|e| {
        // The SDK's remedy names the rules as the flags are named, without their dashes.
        let mut hint = e.hint().into_owned();
        for rule in KeepRule::COUNTED.into_iter().chain([KeepRule::Within]) {
            hint = hint.replace(rule.as_str(), &format!("--{}", rule.as_str()));
        }
        Failure::Usage(format!("{e}\nhint: {hint}"))
    })
}

/// A failed listing with its hint. The CLI's usual hint for a failed listing says how to resume
/// it, which a prune cannot use: a prune plans from a whole listing or not at all.
fn listing_failure(database_id: Uuid, error: Error) -> Phrased {
    let hint = if error.resume_after().is_some() {
        Some(format!("nothing was deleted from database {database_id}: run the prune again"))
    } else {
        crate::hint::for_error(&error)
    };
    Phrased::new(&error, hint)
}

/// One line per database on stderr (not with -q): kept, deleted, failed.
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

/// One decision, in every format.
#[derive(Serialize)]
struct DecisionLine<'a> {
    database_id: Uuid,
    id: Uuid,
    name: &'a str,
    created_at: DateTime<Utc>,
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
            created_at: decision.backup.created_at,
            action,
            reasons,
        }
    }
}

impl Record for DecisionLine<'_> {
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        serde_json::to_writer(out, self)
    }

    fn cells(&self, _now: DateTime<Utc>) -> Vec<String> {
        vec![
            self.action.to_uppercase(),
            self.created_at.format("%Y-%m-%d %H:%M").to_string(),
            self.id.to_string(),
            printable(self.name).into_owned(),
            printable(&self.reasons.join(", ")).into_owned(),
        ]
    }
}

/// The plan: what is done to which backup stays on any terminal; the date goes first, then
/// the reasons, and the name and reasons are clipped before either goes.
const PLAN: Kind = Kind {
    table: table::Spec {
        columns: &[
            Column::fixed("ACTION"),
            Column::fixed("CREATED").dropped_at(2),
            Column::fixed("ID"),
            Column::clipped("NAME", 12),
            Column::clipped("REASONS", 16).dropped_at(1),
        ],
        gap: 1,
        header: true,
    },
    csv_header: &[],
    empty: None,
};

/// `keep` with every reason, or `delete` with why (`kept by no rule`, `failed`).
fn action_and_reasons(decision: &Decision) -> (&'static str, Vec<String>) {
    match &decision.verdict {
        Verdict::Keep(reasons) => ("keep", reasons.iter().map(ToString::to_string).collect()),
        Verdict::Delete(reason) => ("delete", vec![reason.to_string()]),
        // Verdict is non-exhaustive; a new kind of decision is shown, never guessed to be a delete.
        other => ("keep", vec![other.to_string()]),
    }
}

/// Writes plans as they are made, a table section per database.
struct PlanWriter<W: Write> {
    writer: Writer<W>,
}

impl<W: Write> PlanWriter<W> {
    fn new(out: W, format: Format) -> Self {
        PlanWriter { writer: Writer::new(out, format, PLAN) }
    }

    fn write_plan(&mut self, database_id: Uuid, plan: &Plan) -> io::Result<()> {
        self.writer.section(&format!("database {database_id}"))?;
        for decision in plan.decisions() {
            self.writer.write(&DecisionLine::new(database_id, decision))?;
        }
        if plan.is_empty() {
            self.writer.note("no backups")?;
        }
        Ok(())
    }

    /// Writes the plan so far, before anything of it is deleted.
    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }

    /// Closes the JSON array, and flushes.
    fn finish(&mut self) -> io::Result<()> {
        self.writer.finish()
    }
}
