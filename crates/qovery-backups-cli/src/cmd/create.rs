//! `qovery-backups create`: ask Qovery to back a database up now.

use std::io::{self, Write as _};

use crate::cli::{CreateArgs, Format, Global, SingleFormat};
use crate::cmd::client;
use crate::outcome::{Failure, Outcome};
use crate::output::BackupWriter;

/// Creates one backup and prints it (one line, or its JSON).
pub async fn run(global: &Global, args: CreateArgs) -> Result<Outcome, Failure> {
    let client = client(global)?;
    let backup = client.backups(args.database_id).create(args.name, args.message).await?;
    let mut out = io::stdout().lock();
    match args.output {
        SingleFormat::Json => {
            let mut writer = BackupWriter::new(out, Format::Ndjson);
            writer.write(args.database_id, &backup)?;
            writer.finish()?;
        }
        SingleFormat::Table => {
            let state = backup.status.as_ref().map(|s| s.state.to_string()).unwrap_or_else(|| "-".into());
            writeln!(
                out,
                "created backup {} ({}) in database {}, state {state}",
                backup.id, backup.name, args.database_id
            )?;
        }
    }
    Ok(Outcome::Success)
}
