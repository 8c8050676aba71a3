//! The operations on one database's backups.

use std::collections::HashSet;
use std::ops::ControlFlow;

use qovery_backups_api::types::{Backup, BackupRequest};
use uuid::Uuid;

use crate::pagination::fetch;
use crate::retry::{self, Resend};
use crate::{Client, Error, ListRequest, Operation, ScanEnd};

/// The backups of one database: list, create, delete. Get one from [`Client::backups`].
///
/// ```no_run
/// # async fn run(client: qovery_backups::Client, database_id: uuid::Uuid) -> Result<(), qovery_backups::Error> {
/// let backups = client.backups(database_id);
/// let created = backups.create("nightly", "before migration").await?;
/// assert_eq!(backups.latest().await?.map(|b| b.id), Some(created.id));
/// backups.delete(created.id).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Backups {
    client: Client,
    database_id: Uuid,
}

impl Backups {
    pub(crate) fn new(client: Client, database_id: Uuid) -> Self {
        Backups { client, database_id }
    }

    /// The client, for the modules that extend `Backups` (waiting).
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// The database these backups belong to.
    ///
    /// ```
    /// use qovery_backups::Backups;
    ///
    /// fn describe(backups: &Backups) -> String {
    ///     format!("the backups of database {}", backups.database_id())
    /// }
    /// # let client = qovery_backups::Client::builder().token("qov_example_token").build()?;
    /// let backups = client.backups(uuid::Uuid::nil());
    /// assert_eq!(describe(&backups), format!("the backups of database {}", uuid::Uuid::nil()));
    /// # Ok::<(), qovery_backups::Error>(())
    /// ```
    pub fn database_id(&self) -> Uuid {
        self.database_id
    }

    /// Every backup, newest first, as a lazy stream (see [`ListRequest`]).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// # let client = qovery_backups::Client::builder().token(server.token()).base_url(server.base_url()).build()?;
    /// use futures::TryStreamExt as _;
    ///
    /// let database_id = server.database_ids()[0];
    /// let all: Vec<_> = client.backups(database_id).list().items().try_collect().await?;
    /// let ids: Vec<_> = all.iter().map(|b| b.id).collect();
    /// assert_eq!(ids, server.backup_ids(database_id)); // all 45, newest first
    /// # Ok(())
    /// # }
    /// ```
    pub fn list(&self) -> ListRequest {
        ListRequest::new(self.client.clone(), self.database_id)
    }

    /// The newest backup, or `None` when the database has none.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// # let client = qovery_backups::Client::builder().token(server.token()).base_url(server.base_url()).build()?;
    /// let database_id = server.database_ids()[0];
    /// let newest = client.backups(database_id).latest().await?;
    /// assert_eq!(newest.map(|b| b.id), Some(server.backup_ids(database_id)[0]));
    ///
    /// let empty = server.add_database(0);
    /// assert_eq!(client.backups(empty).latest().await?, None);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn latest(&self) -> Result<Option<Backup>, Error> {
        let page = fetch(&self.client, self.first_page(), None, true).await?;
        Ok(page.results.into_iter().next())
    }

    fn first_page(&self) -> Operation {
        Operation::List { database_id: self.database_id, after: None }
    }

    /// Asks Qovery to back the database up now, and returns the new backup (state `QUEUED`).
    ///
    /// Never creates two backups. A create is not blindly re-sent: when an attempt fails
    /// without a definite answer (connection lost, timeout, a 5xx, an unreadable 201), the
    /// next attempt first looks for a backup with this name and message that was not there
    /// before the first attempt, and returns it if found. Only a create known not to have
    /// happened is sent again. To know what was there before, it reads the newest page first:
    /// one extra `GET` per create.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// use std::time::Duration;
    /// use qovery_backups::{Client, RetryPolicy};
    /// use qovery_backups_mock::{Fault, FaultPlan};
    ///
    /// let client = Client::builder()
    ///     .token(server.token())
    ///     .base_url(server.base_url())
    ///     .retry(RetryPolicy::default().with_initial_backoff(Duration::ZERO))
    ///     .build()?;
    /// let database_id = server.database_ids()[0];
    /// // Request 1 reads the newest page; request 2, the create, is applied but its answer is lost.
    /// server.set_faults(FaultPlan::new().at(2, Fault::Lost));
    ///
    /// let created = client.backups(database_id).create("nightly", "before migration").await?;
    /// assert_eq!(created.name, "nightly");
    /// assert_eq!(server.backup_ids(database_id)[0], created.id);
    /// assert_eq!(server.backup_count(database_id), Some(46)); // one backup, not two
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create(&self, name: impl Into<String>, message: impl Into<String>) -> Result<Backup, Error> {
        let request = BackupRequest { name: name.into(), message: message.into() };
        let operation = Operation::Create { database_id: self.database_id };
        // What exists before the first attempt, so reconciliation can tell a backup made by
        // that attempt from an older one with the same name. Ids, not clocks: the server's
        // clock and ours need not agree.
        let before: HashSet<Uuid> = fetch(&self.client, self.first_page(), None, true)
            .await
            .map_err(|e| e.during(operation))?
            .results
            .into_iter()
            .map(|b| b.id)
            .collect();
        let wire = self.client.wire();

        retry::run(&self.client.retry_settings(), operation, Resend::AfterChecking, |attempt| {
            let (request, before) = (&request, &before);
            async move {
                if attempt.earlier_may_have_applied
                    && let Some(found) = self.find_created(request, before).await.map_err(|e| e.during(operation))?
                {
                    tracing::info!(attempt = attempt.number, backup_id = %found.id, "found the backup an earlier attempt created");
                    return Ok(found);
                }
                wire.create(self.database_id, request).await
            }
        })
        .await
    }

    /// A backup that matches `request` and was not in `before`, looking newest first until the
    /// listing reaches the backups that existed before. Each page is asked once: the create's
    /// own retry loop retries the whole check.
    async fn find_created(
        &self,
        request: &BackupRequest,
        before: &HashSet<Uuid>,
    ) -> Result<Option<Backup>, Error> {
        let end = self
            .list()
            .once_per_page()
            .scan(|page| {
                for backup in page.backups {
                    if before.contains(&backup.id) {
                        return ControlFlow::Break(None);
                    }
                    if backup.name == request.name && backup.message == request.message {
                        return ControlFlow::Break(Some(backup));
                    }
                }
                ControlFlow::Continue(())
            })
            .await?;
        Ok(match end {
            ScanEnd::Found(backup) => Some(backup),
            _ => None,
        })
    }

    /// Deletes a backup. Retried safely: when an earlier attempt may have deleted it and a
    /// retry answers 404, the delete has succeeded.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// # let client = qovery_backups::Client::builder().token(server.token()).base_url(server.base_url()).build()?;
    /// let database_id = server.database_ids()[0];
    /// let oldest = *server.backup_ids(database_id).last().unwrap();
    /// client.backups(database_id).delete(oldest).await?;
    /// assert!(!server.backup_ids(database_id).contains(&oldest));
    ///
    /// // A backup that is not there (and was not deleted by an earlier attempt) is an error.
    /// let again = client.backups(database_id).delete(oldest).await.unwrap_err();
    /// assert!(again.is_not_found());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn delete(&self, backup_id: Uuid) -> Result<(), Error> {
        let operation = Operation::Delete { database_id: self.database_id, backup_id };
        let wire = self.client.wire();
        retry::run(&self.client.retry_settings(), operation, Resend::AsIs, |attempt| async move {
            match wire.delete(self.database_id, backup_id).await {
                Err(error) if error.is_not_found() && attempt.earlier_may_have_applied => {
                    tracing::info!(attempt = attempt.number, "an earlier attempt deleted the backup");
                    Ok(())
                }
                outcome => outcome,
            }
        })
        .await
    }
}
