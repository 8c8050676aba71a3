//! Several databases listed at once.

use futures::stream::StreamExt as _;
use qovery_backups_api::types::Backup;
use uuid::Uuid;

use crate::fleet::DEFAULT_CONCURRENCY;
use crate::in_order::concatenated;
use crate::{Client, ListRequest, ListStream};

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

/// Lists several databases with bounded concurrency. Get one from [`Client::list_many`], or
/// from listings set up one by one (each with its own start and limits) with
/// [`ListMany::from_requests`].
///
/// The backups come database after database, in the order the databases were given, each
/// database's newest first: the output is the same whatever order the API answers in. Up to
/// [`concurrency`](ListMany::concurrency) databases are listed at once; each one waiting for
/// its turn holds at most [`LOOKAHEAD`](ListMany::LOOKAHEAD) backups, so memory is bounded
/// whatever the databases' sizes.
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
/// // The first database's 45 backups, then the second's, then the third's.
/// let databases: Vec<_> = all.iter().map(|item| item.database_id).collect();
/// assert!(databases.chunks(45).zip(server.database_ids()).all(|(chunk, id)| chunk.iter().all(|d| *d == id)));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a listing does nothing until its stream is polled"]
pub struct ListMany {
    requests: Vec<ListRequest>,
    concurrency: usize,
    max_items_each: Option<usize>,
}

impl ListMany {
    /// How many backups a database waiting for its turn holds at most: a few pages of
    /// Qovery's, enough for most databases to be listed entirely ahead of their turn.
    ///
    /// ```
    /// assert!(qovery_backups::ListMany::LOOKAHEAD >= 100);
    /// ```
    pub const LOOKAHEAD: usize = 256;

    pub(crate) fn new(client: &Client, database_ids: impl IntoIterator<Item = Uuid>) -> Self {
        Self::from_requests(database_ids.into_iter().map(|id| client.backups(id).list()))
    }

    /// Lists these listings at once, each as it was set up (its start, its limits), one after
    /// another in the order given.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// # let client = qovery_backups::Client::builder().token(server.token()).base_url(server.base_url()).build()?;
    /// use futures::TryStreamExt as _;
    /// use qovery_backups::ListMany;
    ///
    /// let [first, second, _] = server.database_ids()[..] else { unreachable!() };
    /// let listings = [client.backups(first).list().max_items(2), client.backups(second).list().max_items(1)];
    /// let items: Vec<_> = ListMany::from_requests(listings).items().try_collect().await?;
    /// let databases: Vec<_> = items.iter().map(|item| item.database_id).collect();
    /// assert_eq!(databases, [first, first, second]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_requests(requests: impl IntoIterator<Item = ListRequest>) -> Self {
        ListMany {
            requests: requests.into_iter().collect(),
            concurrency: DEFAULT_CONCURRENCY,
            max_items_each: None,
        }
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
    /// them), in place of any limit a listing was set up with.
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

    /// Every backup of every database, each tagged with its database: database after
    /// database in the order given, each newest first. A database whose listing fails yields
    /// its error (which names the database and where to resume) in its place, and the others
    /// go on.
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
        let max_items_each = self.max_items_each;
        let listings = self.requests.into_iter().map(move |mut list| {
            if let Some(max) = max_items_each {
                list = list.max_items(max);
            }
            let database_id = list.database_id();
            list.items().map(move |item| item.map(|backup| DatabaseBackup { database_id, backup }))
        });
        ListStream::new(concatenated(listings, self.concurrency, Self::LOOKAHEAD))
    }
}
