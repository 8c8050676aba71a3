//! Waiting for a backup to finish: poll the listing until the backup's own status is final.
//!
//! The API has no "get one backup" operation, so each look is a listing from the newest backup,
//! which is where a backup being waited on sits. A look reads no further than the page that
//! holds the backup; once the backup's `created_at` is known, a page whose oldest backup is
//! older than that and does not hold it proves the backup is gone. Each page goes through the
//! client's retry loop, so a 503 or a `Retry-After` while polling is retried like any other
//! call and never mistaken for a failed backup.

use std::future::{Future, IntoFuture};
use std::ops::ControlFlow;
use std::pin::Pin;
use std::time::Duration;

use chrono::{DateTime, Utc};
use qovery_backups_api::types::{Backup, ServiceActionStatusEnum};
use tokio::time::Instant;
use uuid::Uuid;

use crate::observe::Event;
use crate::{Backups, Error, Operation, ScanEnd};

/// How long [`WaitPolicy::default`] waits in all: 30 minutes.
///
/// ```
/// use qovery_backups::{DEFAULT_WAIT_TIMEOUT, WaitPolicy};
///
/// assert_eq!(DEFAULT_WAIT_TIMEOUT.as_secs(), 30 * 60);
/// // A database known to take long: twice the default.
/// let policy = WaitPolicy::default().with_timeout(DEFAULT_WAIT_TIMEOUT * 2);
/// assert_eq!(policy.timeout().as_secs(), 3600);
/// ```
pub const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The shortest interval between polls, whatever the policy says: a mistaken zero must not
/// turn a wait into a flood of listings.
const MIN_INTERVAL: Duration = Duration::from_millis(10);

/// The longest interval between polls, whatever the policy says, so that the clock arithmetic
/// of a wait cannot overflow.
const MAX_INTERVAL: Duration = Duration::from_secs(24 * 3600);

/// How long to wait for a backup, and how often to look.
///
/// The first poll follows `initial_interval` after the start; each interval is then twice the
/// one before, up to `max_interval`: a backup that finishes quickly is seen quickly, and a long
/// one costs one listing request every `max_interval`. The timeout is measured on tokio's clock
/// from the start of the wait; it never fires earlier than asked.
///
/// ```
/// use std::time::Duration;
/// use qovery_backups::WaitPolicy;
///
/// let policy = WaitPolicy::default()
///     .with_timeout(Duration::from_secs(15 * 60))
///     .with_initial_interval(Duration::from_secs(2))
///     .with_max_interval(Duration::from_secs(20));
/// assert_eq!(policy.timeout(), Duration::from_secs(900));
/// assert_eq!(WaitPolicy::default().timeout(), qovery_backups::DEFAULT_WAIT_TIMEOUT);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitPolicy {
    timeout: Duration,
    initial_interval: Duration,
    max_interval: Duration,
}

impl Default for WaitPolicy {
    /// A timeout of 30 minutes; polls after 1 s, 2 s, 4 s, … then every 30 s.
    fn default() -> Self {
        WaitPolicy {
            timeout: DEFAULT_WAIT_TIMEOUT,
            initial_interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(30),
        }
    }
}

impl WaitPolicy {
    /// How long the wait may last in all. A create (with
    /// [`create_and_wait`](Backups::create_and_wait)) and the first look are made whatever the
    /// timeout, so that a missing backup is reported as missing, not as a timeout.
    ///
    /// ```
    /// let policy = qovery_backups::WaitPolicy::default().with_timeout(std::time::Duration::from_secs(60));
    /// assert_eq!(policy.timeout().as_secs(), 60);
    /// ```
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The interval before the first poll (at least 10 ms, at most a day).
    ///
    /// ```
    /// let policy = qovery_backups::WaitPolicy::default().with_initial_interval(std::time::Duration::ZERO);
    /// assert_eq!(policy.initial_interval().as_millis(), 10);
    /// ```
    pub fn with_initial_interval(mut self, interval: Duration) -> Self {
        self.initial_interval = interval.clamp(MIN_INTERVAL, MAX_INTERVAL);
        self
    }

    /// The longest interval between polls (never below the initial interval, never above a
    /// day).
    ///
    /// ```
    /// let policy = qovery_backups::WaitPolicy::default().with_max_interval(std::time::Duration::from_secs(10));
    /// assert_eq!(policy.max_interval().as_secs(), 10);
    /// ```
    pub fn with_max_interval(mut self, interval: Duration) -> Self {
        self.max_interval = interval;
        self
    }

    /// The overall timeout.
    ///
    /// ```
    /// assert_eq!(qovery_backups::WaitPolicy::default().timeout().as_secs(), 1800);
    /// ```
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The interval before the first poll.
    ///
    /// ```
    /// assert_eq!(qovery_backups::WaitPolicy::default().initial_interval().as_secs(), 1);
    /// ```
    pub fn initial_interval(&self) -> Duration {
        self.initial_interval
    }

    /// The longest interval between polls.
    ///
    /// ```
    /// assert_eq!(qovery_backups::WaitPolicy::default().max_interval().as_secs(), 30);
    /// ```
    pub fn max_interval(&self) -> Duration {
        self.max_interval.max(self.initial_interval).min(MAX_INTERVAL)
    }
}

/// What to wait on.
#[derive(Debug, Clone)]
enum Target {
    /// A backup that exists (or is said to).
    Existing(Uuid),
    /// A backup to create first.
    Create { name: String, message: String },
}

/// A wait for a backup to finish, not started yet. Get one from [`Backups::wait`] or
/// [`Backups::create_and_wait`]; start it with [`send`](Wait::send) or `.await`.
///
/// Ends with:
/// - `Ok(backup)` when the backup's status (`status.status_details.status`) is `SUCCESS`;
/// - [`Error::BackupFailed`] when it is `ERROR` or `CANCELED`, with the backup (its status and
///   steps);
/// - [`Error::BackupVanished`] when it disappears from the listing while waited on;
/// - [`Error::WaitTimeout`] when it is not final within the timeout, with the backup as last
///   seen; the backup is left as it is;
/// - [`Error::BackupNotFound`] at once when the database does not have it at the first look;
/// - the error of a poll that failed after the client's retries.
///
/// Every other status (`QUEUED`, `ONGOING`, `EXECUTING`, `CANCELING`, `NEVER`, a value this
/// client does not know, or no status) is not final: the wait goes on. Waiting never changes the
/// backup. Each status change is reported to the client's [`Observer`](crate::Observer) as
/// [`Event::BackupStatus`].
///
/// ```no_run
/// # async fn run(client: qovery_backups::Client, database_id: uuid::Uuid, backup_id: uuid::Uuid) {
/// use std::time::Duration;
/// use qovery_backups::{Error, WaitPolicy};
///
/// let policy = WaitPolicy::default().with_timeout(Duration::from_secs(20 * 60));
/// match client.backups(database_id).wait(backup_id).policy(policy).await {
///     Ok(backup) => println!("{} succeeded", backup.id),
///     Err(Error::BackupFailed { backup, .. }) => eprintln!("failed: {:?}", backup.status),
///     Err(e) => eprintln!("error: {e}"),
/// }
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a wait does nothing until sent or awaited"]
pub struct Wait {
    backups: Backups,
    target: Target,
    policy: WaitPolicy,
    /// Set by [`Wait::timeout`]; kept apart from `policy` so that a later
    /// [`Wait::policy`] does not undo it.
    timeout: Option<Duration>,
}

impl Backups {
    /// Waits for a backup of this database to finish (see [`Wait`]).
    ///
    /// ```no_run
    /// # async fn run(backups: qovery_backups::Backups, backup_id: uuid::Uuid) -> Result<(), qovery_backups::Error> {
    /// let finished = backups.wait(backup_id).await?;
    /// assert!(finished.is_successful());
    /// # Ok(())
    /// # }
    /// ```
    pub fn wait(&self, backup_id: Uuid) -> Wait {
        Wait {
            backups: self.clone(),
            target: Target::Existing(backup_id),
            policy: WaitPolicy::default(),
            timeout: None,
        }
    }

    /// Creates a backup as [`create`](Backups::create) does (a create whose answer was lost is
    /// reconciled, never sent twice), then waits for the backup created (see [`Wait`]). The
    /// timeout counts from the start of the create.
    ///
    /// ```no_run
    /// # async fn run(backups: qovery_backups::Backups) -> Result<(), qovery_backups::Error> {
    /// use std::time::Duration;
    ///
    /// let backup = backups
    ///     .create_and_wait("before-migration", "schema v42")
    ///     .timeout(Duration::from_secs(3600))
    ///     .await?;
    /// println!("backup {} is ready", backup.id);
    /// # Ok(())
    /// # }
    /// ```
    pub fn create_and_wait(&self, name: impl Into<String>, message: impl Into<String>) -> Wait {
        Wait {
            backups: self.clone(),
            target: Target::Create { name: name.into(), message: message.into() },
            policy: WaitPolicy::default(),
            timeout: None,
        }
    }
}

impl Wait {
    /// Waits as `policy` says (default: [`WaitPolicy::default`]), except for a timeout set
    /// with [`Wait::timeout`].
    ///
    /// ```no_run
    /// # async fn run(backups: qovery_backups::Backups, id: uuid::Uuid) -> Result<(), qovery_backups::Error> {
    /// let policy = qovery_backups::WaitPolicy::default().with_max_interval(std::time::Duration::from_secs(10));
    /// let backup = backups.wait(id).policy(policy).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn policy(mut self, policy: WaitPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The overall timeout, in place of the policy's
    /// ([`WaitPolicy::with_timeout`](WaitPolicy::with_timeout) is the same setting on the
    /// value type): the bare name of a builder's setter, for the one setting most waits change.
    /// It wins over [`Wait::policy`]'s timeout whichever is called first.
    ///
    /// ```no_run
    /// # async fn run(backups: qovery_backups::Backups, id: uuid::Uuid) -> Result<(), qovery_backups::Error> {
    /// use std::time::Duration;
    /// use qovery_backups::WaitPolicy;
    ///
    /// // Polls every 10 s at most, for up to 10 minutes.
    /// let policy = WaitPolicy::default().with_max_interval(Duration::from_secs(10));
    /// let backup = backups.wait(id).timeout(Duration::from_secs(600)).policy(policy).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Creates the backup if asked, then polls until it is final, gone, or the timeout passes.
    ///
    /// ```no_run
    /// # async fn run(backups: qovery_backups::Backups, id: uuid::Uuid) -> Result<(), qovery_backups::Error> {
    /// let backup = backups.wait(id).send().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn send(self) -> Result<Backup, Error> {
        let Wait { backups, target, policy, timeout } = self;
        let policy = match timeout {
            Some(timeout) => policy.with_timeout(timeout),
            None => policy,
        };
        let started = Instant::now();
        // A timeout too large for the clock is no timeout.
        let deadline = started.checked_add(policy.timeout);
        let database_id = backups.database_id();
        let mut watch = Watch { backups: &backups, started, last: None };

        let backup_id = match target {
            Target::Create { name, message } => {
                let created = backups.create(name, message).await?;
                let id = created.id;
                watch.saw(created);
                id
            }
            Target::Existing(backup_id) => {
                // The first look is not bounded by the timeout: a backup the database does not
                // have is reported as such, at once, whatever the timeout.
                match watch.look(backup_id).await? {
                    Some(backup) => {
                        if let Some(done) = watch.finished(&backup) {
                            return done;
                        }
                        watch.saw(backup);
                    }
                    None => return Err(Error::BackupNotFound { database_id, backup_id }),
                }
                backup_id
            }
        };

        let mut interval = policy.initial_interval();
        loop {
            let next = Instant::now() + interval;
            interval = interval.saturating_mul(2).min(policy.max_interval());
            let look = match deadline {
                Some(deadline) if next >= deadline => {
                    tokio::time::sleep_until(deadline).await;
                    return Err(watch.timed_out());
                }
                Some(deadline) => {
                    tokio::time::sleep_until(next).await;
                    // A poll stuck in retries (a long `Retry-After`, say) does not hold the wait
                    // past its deadline.
                    match tokio::time::timeout_at(deadline, watch.look(backup_id)).await {
                        Ok(look) => look?,
                        Err(_) => return Err(watch.timed_out()),
                    }
                }
                None => {
                    tokio::time::sleep_until(next).await;
                    watch.look(backup_id).await?
                }
            };
            match look {
                Some(backup) => {
                    if let Some(done) = watch.finished(&backup) {
                        return done;
                    }
                    watch.saw(backup);
                }
                None => return Err(watch.vanished()),
            }
        }
    }
}

impl IntoFuture for Wait {
    type Output = Result<Backup, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<Backup, Error>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// What a wait has seen so far.
struct Watch<'a> {
    backups: &'a Backups,
    started: Instant,
    /// The backup as last seen, once seen.
    last: Option<Backup>,
}

impl Watch<'_> {
    fn database_id(&self) -> Uuid {
        self.backups.database_id()
    }

    /// Records the backup as seen now, and tells the observer if its status changed.
    fn saw(&mut self, backup: Backup) {
        let status = |b: &Backup| b.action_status().cloned();
        let changed = self.last.as_ref().is_none_or(|last| status(last) != status(&backup));
        if changed {
            self.report(&backup);
        }
        self.last = Some(backup);
    }

    fn report(&self, backup: &Backup) {
        let status = backup.action_status().map(ServiceActionStatusEnum::as_str);
        tracing::info!(database_id = %self.database_id(), backup_id = %backup.id, status, "backup status");
        self.backups.client().observers().emit(&Event::BackupStatus {
            database_id: self.database_id(),
            backup,
            elapsed: self.started.elapsed(),
        });
    }

    /// The end of the wait, if `backup` is final.
    fn finished(&mut self, backup: &Backup) -> Option<Result<Backup, Error>> {
        if !backup.is_final() {
            return None;
        }
        self.saw(backup.clone());
        let backup = self.last.take().expect("just seen");
        Some(if backup.is_successful() {
            Ok(backup)
        } else {
            // `is_final` and not successful: ERROR or CANCELED (see `Backup::is_failed`).
            Err(Error::BackupFailed { database_id: self.database_id(), backup: Box::new(backup) })
        })
    }

    fn timed_out(&mut self) -> Error {
        Error::WaitTimeout {
            database_id: self.database_id(),
            after: self.started.elapsed(),
            last_seen: Box::new(self.last.take().expect("the backup was seen before any poll")),
        }
    }

    fn vanished(&mut self) -> Error {
        Error::BackupVanished {
            database_id: self.database_id(),
            last_seen: Box::new(self.last.take().expect("the backup was seen before any poll")),
        }
    }

    /// Looks for the backup in the listing, newest first, reading no further than needed: up to
    /// the page that holds it, or, once its `created_at` is known, up to the first page that
    /// reaches older backups without it. `None` when the listing does not have it.
    async fn look(&self, backup_id: Uuid) -> Result<Option<Backup>, Error> {
        let created_at: Option<DateTime<Utc>> = self.last.as_ref().map(|b| b.created_at);
        // An error while looking is reported as a listing from the newest backup: resuming the
        // interrupted listing would not help a wait, looking again would.
        let restart = Operation::List { database_id: self.database_id(), after: None };
        let end = self
            .backups
            .list()
            .scan(|page| {
                let past_it = match (created_at, page.backups.last()) {
                    (Some(created_at), Some(oldest)) => oldest.created_at < created_at,
                    _ => false,
                };
                match page.backups.into_iter().find(|b| b.id == backup_id) {
                    Some(found) => ControlFlow::Break(Some(found)),
                    None if past_it => ControlFlow::Break(None),
                    None => ControlFlow::Continue(()),
                }
            })
            .await
            .map_err(|e| e.during(restart))?;
        Ok(match end {
            ScanEnd::Found(backup) => Some(backup),
            _ => None,
        })
    }
}
