//! Several databases listed at once.

use futures::stream::StreamExt as _;
use qovery_backups_api::types::Backup;
use uuid::Uuid;

use crate::{Client, ListStream};

/// The stream from [`ListMany::items`]: each backup with its database.
pub type ManyItems = ListStream<DatabaseBackup>;

/// A backup and the database it belongs to, as [`ListMany::items`] yields them.
///
/// ```
/// # fn show(item: qovery_backups::DatabaseBackup) {
/// println!("{}: {}", item.database_id, item.backup.name);
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DatabaseBackup {
    /// The database the backup belongs to.
    pub database_id: Uuid,
    /// The backup.
    pub backup: Backup,
}

/// Lists several databases with bounded concurrency. Get one from [`Client::list_many`].
#[derive(Debug, Clone)]
#[must_use = "a listing does nothing until its stream is polled"]
pub struct ListMany {
    client: Client,
    database_ids: Vec<Uuid>,
    concurrency: usize,
    max_items_each: Option<usize>,
}

/// Databases listed at once unless set.
pub const DEFAULT_CONCURRENCY: usize = 4;

impl ListMany {
    pub(crate) fn new(client: Client, database_ids: Vec<Uuid>) -> Self {
        ListMany { client, database_ids, concurrency: DEFAULT_CONCURRENCY, max_items_each: None }
    }

    /// How many databases are listed at once (each with one request in flight). At least 1.
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Stops each database's listing after this many backups.
    pub fn max_items_each(mut self, max: usize) -> Self {
        self.max_items_each = Some(max);
        self
    }

    /// Every backup of every database, each tagged with its database. Each database's backups
    /// come newest first; databases interleave. A database whose listing fails yields its
    /// error (which names the database and where to resume) and the others go on.
    pub fn items(self) -> ManyItems {
        let client = self.client;
        let listings = futures::stream::iter(self.database_ids).map(move |database_id| {
            client
                .backups(database_id)
                .list()
                .items()
                .map(move |item| item.map(|backup| DatabaseBackup { database_id, backup }))
        });
        ListStream::new(listings.flatten_unordered(self.concurrency))
    }
}
