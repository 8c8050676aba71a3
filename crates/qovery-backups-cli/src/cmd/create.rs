//! `qovery-backups create`: ask Qovery to back a database up now.

use std::io::{self, Write as _};

use crate::cli::{CreateArgs, Format, Global};
use crate::cmd::wait::{self, Reporter};
use crate::cmd::{client, client_builder, printable};
use crate::outcome::{Failure, Outcome};
use crate::output::BackupWriter;

/// Creates one backup and prints it (one line, or its JSON). With `--wait`, waits for it to
/// finish as `wait` does and prints it as last seen instead.
pub async fn run(global: &Global, args: CreateArgs) -> Result<Outcome, Failure> {
    if args.wait {
        let reporter =
            Reporter::start(format!("creating a backup of database {}", args.database_id), global.quiet);
        let client = client_builder(global).observer(reporter.clone()).build()?;
        let wait = client
            .backups(args.database_id)
            .create_and_wait(args.name, args.message)
            .policy(wait::policy(&args.waiting));
        return wait::finish(wait, args.database_id, args.output, &reporter).await;
    }
    let client = client(global)?;
    let backup = client.backups(args.database_id).create(args.name, args.message).await?;
    let mut out = io::stdout().lock();
    match args.output {
        // One backup: its JSON object alone, as one ndjson line.
        Format::Json => {
            let mut writer = BackupWriter::new(out, Format::Ndjson);
            writer.write(args.database_id, &backup)?;
            writer.finish()?;
        }
        _ => {
            let state = backup
                .status
                .as_ref()
                .map_or_else(|| "-".into(), |s| printable(s.state.as_ref()).into_owned());
            writeln!(
                out,
                "created backup {} ({}) in database {}, state {state}",
                backup.id,
                printable(&backup.name),
                args.database_id
            )?;
        }
    }
    Ok(Outcome::Success)
}
