//! `qovery-backups create`: ask Qovery to back one database, or each of a fleet, up now.

use std::io::{self, Write as _};

use futures::StreamExt as _;
use qovery_backups::{Backup, Client, Error};
use uuid::Uuid;

use crate::cli::{CreateArgs, Format, Global};

use crate::cmd::wait::{self, Reporter};
use crate::cmd::{client, client_builder, printable};
use crate::outcome::{Failure, Outcome};
use crate::output::BackupWriter;

/// Creates one backup per database and prints each (one line, or its JSON). With `--wait`,
/// waits for each to finish as `wait` does and prints it as last seen instead. Never creates
/// two backups of a database: the SDK reconciles a create whose answer was lost.
pub async fn run(global: &Global, args: CreateArgs) -> Result<Outcome, Failure> {
    if let ([database_id], true) = (args.databases.ids.as_slice(), args.databases.scope.is_empty()) {
        return one(global, *database_id, args).await;
    }
    let client = client(global)?;
    let targets = args.databases.targets(&client, global.quiet).await?;
    let total = targets.len();
    let (name, message, wait_for_it) = (args.name.clone(), args.message.clone(), args.wait);
    let policy = wait::policy(&args.waiting);
    let mut results = qovery_backups::in_order(targets, args.concurrency.get, |target| {
        let (client, name, message, policy) = (client.clone(), name.clone(), message.clone(), policy);
        async move { (target.id, create(&client, target.id, name, message, wait_for_it.then_some(policy)).await) }
    });

    let mut errors = Vec::new();
    let mut out = io::stdout().lock();
    while let Some((database_id, result)) = results.next().await {
        let seen = match &result {
            Ok(backup) => Some(backup),
            Err(error) => error.backup(),
        };
        if let Some(backup) = seen {
            print(&mut out, database_id, backup, args.output)?;
        }
        if let Err(error) = result {
            errors.push(error);
        }
    }
    out.flush()?;
    let verb = if args.wait { "succeeded" } else { "created" };
    if !global.quiet {
        eprintln!("{} of {total} backups {verb}, {} failed", total - errors.len(), errors.len());
    }
    if errors.is_empty() { Ok(Outcome::Success) } else { Err(Failure::Api(errors)) }
}

/// One database's create, and with `wait` its wait.
async fn create(
    client: &Client,
    database_id: Uuid,
    name: String,
    message: String,
    wait: Option<qovery_backups::WaitPolicy>,
) -> Result<Backup, Error> {
    let backups = client.backups(database_id);
    match wait {
        Some(policy) => backups.create_and_wait(name, message).policy(policy).await,
        None => backups.create(name, message).await,
    }
}

/// One database: as `create` always did, with a progress line while waiting.
async fn one(global: &Global, database_id: Uuid, args: CreateArgs) -> Result<Outcome, Failure> {
    if args.wait {
        let reporter = Reporter::start(format!("creating a backup of database {database_id}"), global.quiet);
        let client = client_builder(global).observer(reporter.clone()).build()?;
        let wait = client
            .backups(database_id)
            .create_and_wait(args.name, args.message)
            .policy(wait::policy(&args.waiting));
        return wait::finish(wait, database_id, args.output, &reporter).await;
    }
    let client = client(global)?;
    let backup = client.backups(database_id).create(args.name, args.message).await?;
    let mut out = io::stdout().lock();
    print(&mut out, database_id, &backup, args.output)?;
    Ok(Outcome::Success)
}

/// A backup created: its JSON object as one ndjson line, or a line naming it and its own
/// status (`status.status_details.status`; `status.state` is the database's deployment).
fn print(out: &mut impl io::Write, database_id: Uuid, backup: &Backup, output: Format) -> io::Result<()> {
    match output {
        Format::Json => {
            let mut writer = BackupWriter::new(out, Format::Ndjson);
            writer.write(database_id, backup)?;
            writer.finish()
        }
        _ => {
            let status = backup.action_status().map_or("-", |s| s.as_str());
            writeln!(
                out,
                "backup {} ({}) of database {database_id}: {}",
                backup.id,
                printable(&backup.name),
                printable(status)
            )
        }
    }
}
