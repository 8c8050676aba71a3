//! `qovery-backups demo`: the whole stack against an embedded mock, through faults, with proof.
//! Built with the `mock` feature only.

use std::collections::HashSet;
use std::io::{self, BufWriter, Write as _};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser as _;
use futures::StreamExt as _;
use qovery_backups::{Client, Event, Observer, RetryPolicy, WaitPolicy};
use qovery_backups_mock::{Fault, FaultPlan, Fleet, Lifecycle, MockConfig, MockServer, SampleBackup};
use uuid::Uuid;

use crate::cli::{Cli, Command, Format};
use crate::observe::Counters;
use crate::outcome::{Failure, Outcome};
use crate::output::BackupWriter;

/// Page boundaries worth seeing: empty, one, a page and one, several pages and a short one.
const BACKUPS_PER_DATABASE: [usize; 4] = [0, 1, 21, 47];

/// A few 503s, a 429 with `Retry-After`, a reset connection: each retried by the SDK.
fn faults() -> FaultPlan {
    FaultPlan::none()
        .at(2, Fault::Status(503))
        .at(3, Fault::Status(503))
        .at(5, Fault::RetryAfterSeconds(1))
        .at(7, Fault::Reset)
        .at(9, Fault::Status(502))
}

/// Lists every database of an embedded, faulty mock and checks that nothing was lost.
pub async fn run(counters: Arc<Counters>) -> Result<Outcome, Failure> {
    let started = Instant::now();
    let server = MockServer::start(MockConfig {
        seed: 2026,
        databases: BACKUPS_PER_DATABASE.len(),
        backups_per_database: BACKUPS_PER_DATABASE.to_vec(),
        faults: faults(),
        ..MockConfig::default()
    })
    .await
    .map_err(|e| Failure::Other(format!("the embedded mock did not start: {e}")))?;
    let client = Client::builder()
        .token(server.token())
        .base_url(server.base_url())
        .retry(RetryPolicy::default().with_max_attempts(4).with_initial_backoff(Duration::from_millis(100)))
        .observer(counters.clone())
        .build()?;

    let mut writer = BackupWriter::new(BufWriter::new(io::stdout().lock()), Format::Table);
    let mut listed: Vec<(Uuid, Uuid)> = Vec::new();
    for database_id in server.database_ids() {
        let mut items = client.backups(database_id).list().items();
        while let Some(item) = items.next().await {
            let backup = item.map_err(Failure::from)?;
            writer.write(database_id, &backup)?;
            counters.items.fetch_add(1, Relaxed);
            listed.push((database_id, backup.id));
        }
    }
    writer.finish()?;
    drop(writer);

    let verdict = verify(&server, &listed);
    let requests = server.requests();
    let faulted = requests.iter().filter(|r| r.fault.is_some()).count();
    let mut out = io::stdout().lock();
    writeln!(out)?;
    writeln!(out, "databases  {}", server.database_ids().len())?;
    writeln!(out, "backups    {}", listed.len())?;
    writeln!(out, "pages      {}", requests.len() - faulted)?;
    writeln!(out, "retries    {} (faults injected: {faulted})", counters.retries.load(Relaxed))?;
    writeln!(out, "elapsed    {:.2}s", started.elapsed().as_secs_f64())?;
    match verdict {
        Ok(()) => {
            writeln!(
                out,
                "check      nothing lost, nothing repeated: every backup the mock holds was listed once, in order"
            )?;
            drop(out);
            create_and_wait(&server).await?;
            check_an_organization().await?;
            Ok(Outcome::Success)
        }
        Err(problem) => Err(Failure::Other(format!("the demo's own check failed: {problem}"))),
    }
}

/// The statuses a wait reports, with when, for the demo to print once the wait is over.
#[derive(Default)]
struct Statuses(Mutex<Vec<(String, Duration)>>);

impl Observer for Statuses {
    fn on_event(&self, event: &Event<'_>) {
        if let Event::BackupStatus { backup, elapsed, .. } = event {
            let status = backup.action_status().map_or_else(|| "-".to_owned(), |s| s.to_string());
            self.0.lock().unwrap_or_else(|e| e.into_inner()).push((status, *elapsed));
        }
    }
}

/// `create --wait` against the embedded mock, its backups queued for 300 ms then running for
/// 300 ms: real time, since paused time is for tests only, so kept short.
async fn create_and_wait(server: &MockServer) -> Result<(), Failure> {
    server
        .set_lifecycle(Lifecycle { queued: Duration::from_millis(300), ongoing: Duration::from_millis(300) });
    let statuses = Arc::new(Statuses::default());
    let client = Client::builder()
        .token(server.token())
        .base_url(server.base_url())
        .observer(statuses.clone())
        .build()?;
    let database_id = server.database_ids()[0];
    let policy = WaitPolicy::default()
        .with_timeout(Duration::from_secs(10))
        .with_initial_interval(Duration::from_millis(100))
        .with_max_interval(Duration::from_millis(200));
    let backup = client.backups(database_id).create_and_wait("demo", "create --wait").policy(policy).await?;

    let mut out = io::stdout().lock();
    writeln!(out)?;
    writeln!(out, "create --wait  backup {} of database {database_id}", backup.id)?;
    for (status, elapsed) in statuses.0.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        writeln!(out, "  {status:<9} at {:.1}s", elapsed.as_secs_f64())?;
    }
    Ok(())
}

/// `check --organization ORG --max-age 26h` over a mock fleet, through the command's own code:
/// the command line is parsed as a user's would be, so the demo shows exactly what it prints.
/// Its verdicts are the point, so a stale database does not fail the demo.
async fn check_an_organization() -> Result<(), Failure> {
    let server = MockServer::start(MockConfig {
        seed: 2026,
        databases: 0,
        fleet: Fleet::sample(),
        ..MockConfig::default()
    })
    .await
    .map_err(|e| Failure::Other(format!("the embedded mock did not start: {e}")))?;
    let organization =
        server.organization_ids().into_iter().find(|org| !server.organization_database_ids(*org).is_empty());
    let Some(organization) = organization else {
        return Err(Failure::Other("the demo's fleet has no organization with databases".into()));
    };
    // The mock's seeded histories end on a fixed date, so by now they are all stale. Every other
    // database Qovery backs up gets a success from three hours ago, so that the verdicts show
    // both sides of the line.
    let managed = server.managed_database_ids();
    let databases =
        server.organization_database_ids(organization).into_iter().filter(|d| !managed.contains(d));
    let three_hours_ago = chrono::Utc::now() - chrono::Duration::hours(3);
    for database_id in databases.step_by(2) {
        let recent = SampleBackup::new(0)
            .id(Uuid::new_v4())
            .created_at(three_hours_ago)
            .name("nightly")
            .outcome("SUCCESS");
        server
            .insert_backup(database_id, recent.build())
            .map_err(|e| Failure::Other(format!("the demo's fleet refused a backup: {e}")))?;
    }
    let organization = organization.to_string();
    let words = [
        "qovery-backups",
        "--api-url",
        server.base_url(),
        "--token",
        server.token(),
        "check",
        "--organization",
        &organization,
        "--max-age",
        "26h",
    ];
    let cli = Cli::try_parse_from(words)
        .map_err(|e| Failure::Other(format!("the demo's check did not parse: {e}")))?;
    let Command::Check(args) = cli.command else { unreachable!("the words above name `check`") };
    writeln!(
        io::stdout().lock(),
        "\ncheck --organization {organization} --max-age 26h   (every other database backed up 3 hours ago)"
    )?;
    super::check::run(&cli.global, args).await.map(|_verdicts_shown| ())
}

/// Compares what was listed with what the mock holds, database by database.
fn verify(server: &MockServer, listed: &[(Uuid, Uuid)]) -> Result<(), String> {
    let unique: HashSet<&(Uuid, Uuid)> = listed.iter().collect();
    if unique.len() != listed.len() {
        return Err(format!("{} backups were listed twice", listed.len() - unique.len()));
    }
    for database_id in server.database_ids() {
        let held: Vec<Uuid> = server.backups(database_id).iter().map(|b| b.id).collect();
        let got: Vec<Uuid> = listed.iter().filter(|(db, _)| *db == database_id).map(|(_, id)| *id).collect();
        if got != held {
            return Err(format!(
                "database {database_id}: listed {} backups, the mock holds {} (or the order differs)",
                got.len(),
                held.len()
            ));
        }
    }
    Ok(())
}
