//! `qovery-backups delete`: delete one backup.

use std::io::{self, Write as _};

use crate::cli::{DeleteArgs, Global};
use crate::cmd::client;
use crate::outcome::{Failure, Outcome};

/// Deletes one backup and says so.
pub async fn run(global: &Global, args: DeleteArgs) -> Result<Outcome, Failure> {
    let client = client(global)?;
    client.backups(args.database_id).delete(args.backup_id).await?;
    writeln!(io::stdout().lock(), "deleted backup {} of database {}", args.backup_id, args.database_id)?;
    Ok(Outcome::Success)
}
