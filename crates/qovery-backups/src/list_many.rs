//! Several databases listed at once.

use futures::stream::StreamExt as _;
use qovery_backups_api::types::Backup;
use uuid::Uuid;

use crate::fleet::DEFAULT_CONCURRENCY;
use crate::{Client, ListStream};

/// The stream from [`ListMany::items`]: each backup with its database.
///
/// ```
/// use qovery_backups::{Client, ManyItems, Uuid};
///
/// fn everything(client: &Client, databases: &[Uuid]) -> ManyItems {
///     client.list_many(databases).concurrency(2).items()
/// }
/// # let client = qovery_backups::Client::builder().token("qov_example_token").build()?;
/// let items = everything(&client, &[Uuid::nil()]); // lazy: nothing requested yet
/// # drop(items);
/// # Ok::<(), qovery_backups::Error>(())
/// ```
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
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
/// # let client = qovery_backups::Client::builder().token(server.token()).base_url(server.base_url()).build()?;
/// use futures::TryStreamExt as _;
///
/// let all: Vec<_> = client.list_many(server.database_ids()).items().try_collect().await?;
/// assert_eq!(all.len(), 3 * 45);
/// let first_database = all.iter().filter(|item| item.database_id == server.database_ids()[0]).count();
/// assert_eq!(first_database, 45);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a listing does nothing until its stream is polled"]
pub struct ListMany {
    client: Client,
    database_ids: Vec<Uuid>,
    concurrency: usize,
    max_items_each: Option<usize>,
}

impl ListMany {
    pub(crate) fn new(client: Client, database_ids: Vec<Uuid>) -> Self {
        ListMany { client, database_ids, concurrency: DEFAULT_CONCURRENCY, max_items_each: None }
    }

    /// How many databases are listed at once (each with one request in flight). At least 1.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// # let client = qovery_backups::Client::builder().token(server.token()).base_url(server.base_url()).build()?;
    /// use futures::TryStreamExt as _;
    ///
    /// // One database at a time.
    /// let all: Vec<_> = client.list_many(server.database_ids()).concurrency(1).items().try_collect().await?;
    /// assert_eq!(all.len(), 3 * 45);
    /// # Ok(())
    /// # }
    /// ```
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Stops each database's listing after this many backups (and asks for no page past
    /// them).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// # let client = qovery_backups::Client::builder().token(server.token()).base_url(server.base_url()).build()?;
    /// use futures::TryStreamExt as _;
    ///
    /// // The newest backup of each database.
    /// let newest: Vec<_> = client.list_many(server.database_ids()).max_items_each(1).items().try_collect().await?;
    /// assert_eq!(newest.len(), 3);
    /// # Ok(())
    /// # }
    /// ```
    pub fn max_items_each(mut self, max: usize) -> Self {
        self.max_items_each = Some(max);
        self
    }

    /// Every backup of every database, each tagged with its database. Each database's backups
    /// come newest first; databases interleave. A database whose listing fails yields its
    /// error (which names the database and where to resume) and the others go on.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// # let client = qovery_backups::Client::builder().token(server.token()).base_url(server.base_url()).build()?;
    /// use futures::StreamExt as _;
    ///
    /// let unknown = uuid::Uuid::nil();
    /// let databases = [server.database_ids()[0], unknown];
    /// let results: Vec<_> = client.list_many(databases).items().collect().await;
    /// let (found, failed): (Vec<_>, Vec<_>) = results.into_iter().partition(|r| r.is_ok());
    /// assert_eq!(found.len(), 45);
    /// let error = failed[0].as_ref().unwrap_err();
    /// assert!(error.is_not_found());
    /// assert_eq!(error.operation().and_then(|op| op.database_id()), Some(unknown));
    /// # Ok(())
    /// # }
    /// ```
    pub fn items(self) -> ManyItems {
        let (client, max_items_each) = (self.client, self.max_items_each);
        let listings = futures::stream::iter(self.database_ids).map(move |database_id| {
            let mut list = client.backups(database_id).list();
            if let Some(max) = max_items_each {
                list = list.max_items(max);
            }
            list.items().map(move |item| item.map(|backup| DatabaseBackup { database_id, backup }))
        });
        ListStream::new(listings.flatten_unordered(self.concurrency))
    }
}
