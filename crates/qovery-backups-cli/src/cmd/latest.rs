//! `qovery-backups latest`: the newest backup of each database.

use futures::StreamExt as _;

use crate::cli::{Global, LatestArgs};
use crate::cmd::{client, default_format};
use crate::outcome::{Failure, Outcome};
use crate::output::{self, BackupWriter};

/// Writes the newest backup of each database, in the order of the arguments; a database without
/// backups is a warning, not an error.
pub async fn run(global: &Global, args: LatestArgs) -> Result<Outcome, Failure> {
    let client = client(global)?;
    let database_ids = args.databases.readable_ids(&client, global.quiet).await?;
    let format = default_format(args.output);
    let mut writer = BackupWriter::new(output::stdout(), format);
    let mut errors = Vec::new();
    let mut newest = qovery_backups::in_order(database_ids, args.concurrency.get, |database_id| {
        let backups = client.backups(database_id);
        async move { (database_id, backups.latest().await) }
    });
    while let Some((database_id, result)) = newest.next().await {
        match result {
            Ok(Some(backup)) => writer.write(database_id, &backup)?,
            Ok(None) => tracing::warn!("database {database_id} has no backups"),
            Err(e) => errors.push(e),
        }
    }
    writer.finish()?;
    if errors.is_empty() { Ok(Outcome::Success) } else { Err(Failure::Api(errors)) }
}
