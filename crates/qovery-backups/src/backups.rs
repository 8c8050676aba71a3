//! The operations on one database's backups.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

use qovery_backups_api::types::{Backup, BackupRequest};
use uuid::Uuid;

use crate::error::TransportKind;
use crate::pagination::{fetch, fetch_once};
use crate::response::translate;
use crate::{Client, Error, ListRequest, Operation, retry};

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

    /// The database these backups belong to.
    pub fn database_id(&self) -> Uuid {
        self.database_id
    }

    /// Every backup, newest first, as a lazy stream (see [`ListRequest`]).
    pub fn list(&self) -> ListRequest {
        ListRequest::new(self.client.clone(), self.database_id)
    }

    /// The newest backup, or `None` when the database has none.
    pub async fn latest(&self) -> Result<Option<Backup>, Error> {
        let page = fetch(&self.client, self.database_id, None).await?;
        Ok(page.results.into_iter().next())
    }

    /// Asks Qovery to back the database up now, and returns the new backup (state `QUEUED`).
    ///
    /// Never creates two backups. A create is not blindly re-sent: when an attempt fails
    /// without a definite answer (connection lost, timeout, a 5xx, an unreadable 201), the
    /// next attempt first looks for a backup with this name and message that was not there
    /// before the first attempt, and returns it if found. Only a create known not to have
    /// happened is sent again. To know what was there before, it reads the newest page first:
    /// one extra `GET` per create.
    pub async fn create(&self, name: impl Into<String>, message: impl Into<String>) -> Result<Backup, Error> {
        let request = BackupRequest { name: name.into(), message: message.into() };
        let operation = Operation::Create { database_id: self.database_id };
        // What exists before the first attempt, so reconciliation can tell a backup made by
        // that attempt from an older one with the same name. Ids, not clocks: the server's
        // clock and ours need not agree.
        let before: HashSet<Uuid> =
            fetch(&self.client, self.database_id, None).await?.results.into_iter().map(|b| b.id).collect();
        let maybe_created = AtomicBool::new(false);

        retry::run(&self.client.inner.retry, self.client.inner.timeout, operation, |attempt| {
            let request = &request;
            let before = &before;
            let maybe_created = &maybe_created;
            async move {
                if maybe_created.load(Relaxed) {
                    if let Some(found) = self.find_created(request, before).await? {
                        tracing::info!(attempt, backup_id = %found.id, "found the backup an earlier attempt created");
                        return Ok(found);
                    }
                    maybe_created.store(false, Relaxed);
                }
                let sent = self.client.api().add_backup_database().database_id(self.database_id).body(request.clone());
                // Set before sending: an attempt cut by the timeout is dropped mid-flight and never
                // reaches the bookkeeping below, yet the server may have acted on it.
                maybe_created.store(true, Relaxed);
                match sent.send().await {
                    Ok(created) => Ok(created.into_inner()),
                    Err(e) => {
                        let error = translate::<Backup>(&self.client, operation, e).await;
                        maybe_created.store(may_have_been_applied(&error), Relaxed);
                        Err(error)
                    }
                }
            }
        })
        .await
    }

    /// A backup that matches `request` and was not in `before`, looking newest first until the
    /// listing reaches the backups that existed before.
    async fn find_created(
        &self,
        request: &BackupRequest,
        before: &HashSet<Uuid>,
    ) -> Result<Option<Backup>, Error> {
        let mut start = None;
        loop {
            let page = fetch_once(&self.client, self.database_id, start).await?;
            let Some(last) = page.results.last().map(|b| b.id) else { return Ok(None) };
            let mut reached_old = false;
            for backup in page.results {
                if before.contains(&backup.id) {
                    reached_old = true;
                    break;
                }
                if backup.name == request.name && backup.message == request.message {
                    return Ok(Some(backup));
                }
            }
            if reached_old || start == Some(last) {
                return Ok(None);
            }
            start = Some(last);
        }
    }

    /// Deletes a backup. Retried safely: when an earlier attempt may have deleted it and a
    /// retry answers 404, the delete has succeeded.
    pub async fn delete(&self, backup_id: Uuid) -> Result<(), Error> {
        let operation = Operation::Delete { database_id: self.database_id, backup_id };
        let maybe_deleted = AtomicBool::new(false);
        retry::run(&self.client.inner.retry, self.client.inner.timeout, operation, |attempt| {
            let maybe_deleted = &maybe_deleted;
            async move {
                let earlier_may_have_deleted = maybe_deleted.load(Relaxed);
                // Set before sending: an attempt cut by the timeout is dropped mid-flight and
                // never reaches the bookkeeping below, yet the server may have acted on it.
                maybe_deleted.store(true, Relaxed);
                let sent = self
                    .client
                    .api()
                    .remove_database_backup()
                    .database_id(self.database_id)
                    .backup_id(backup_id);
                match sent.send().await {
                    Ok(_) => Ok(()),
                    Err(e) => {
                        let error = translate::<()>(&self.client, operation, e).await;
                        if error.is_not_found() && earlier_may_have_deleted {
                            tracing::info!(attempt, "an earlier attempt deleted the backup");
                            return Ok(());
                        }
                        maybe_deleted
                            .store(earlier_may_have_deleted || may_have_been_applied(&error), Relaxed);
                        Err(error)
                    }
                }
            }
        })
        .await
    }
}

/// Whether the server may have acted on a request that failed this way. Only a request that
/// certainly was not acted on (never connected, throttled, a 4xx) is safe to send again blindly.
fn may_have_been_applied(error: &Error) -> bool {
    match error {
        Error::Transport { kind, .. } => *kind != TransportKind::Connect,
        Error::Timeout { .. } | Error::Decode { .. } => true,
        Error::Api { status, .. } => status.is_server_error(),
        _ => false,
    }
}
