//! Pruning one database: list it whole, plan, delete what the plan says.

use std::fmt;

use futures::TryStreamExt as _;
use qovery_backups_api::types::Backup;
use uuid::Uuid;

use super::{Plan, Refusal, RetentionPolicy, decide};
use crate::{Backups, Error};

impl Backups {
    /// Prunes this database with `policy`: lists every backup, decides what to keep (see
    /// [`decide`](crate::decide)), then deletes what the plan deletes. Nothing happens until
    /// [`Prune::send`] (or [`Prune::prepare`]); set [`dry_run`](Prune::dry_run) to only plan.
    ///
    /// ```no_run
    /// # async fn run(client: qovery_backups::Client, database_id: uuid::Uuid) -> Result<(), Box<dyn std::error::Error>> {
    /// use qovery_backups::RetentionPolicy;
    ///
    /// let policy = RetentionPolicy::builder().keep_daily(7).keep_weekly(4).build()?;
    /// let report = client.backups(database_id).prune(&policy).send().await?;
    /// println!("{report}");
    /// for failure in report.failed() {
    ///     eprintln!("could not delete {}: {}", failure.backup.id, failure.error);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn prune(&self, policy: &RetentionPolicy) -> Prune {
        Prune { backups: self.clone(), policy: policy.clone(), dry_run: false, max_delete: None }
    }
}

/// A prune of one database, not started yet. Get one from [`Backups::prune`].
///
/// ```no_run
/// # async fn run(backups: qovery_backups::Backups, policy: qovery_backups::RetentionPolicy) -> Result<(), qovery_backups::Error> {
/// let report = backups.prune(&policy).dry_run(true).send().await?;
/// for backup in report.plan().to_delete() {
///     println!("would delete {} ({})", backup.id, backup.created_at);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a prune does nothing until sent"]
pub struct Prune {
    backups: Backups,
    policy: RetentionPolicy,
    dry_run: bool,
    max_delete: Option<usize>,
}

impl Prune {
    /// Only list and plan; delete nothing (`false` by default). Holds both ways of running the
    /// prune: [`send`](Prune::send) reports the plan without deleting, and so does
    /// [`PlannedPrune::apply`] after [`prepare`](Prune::prepare).
    ///
    /// ```no_run
    /// # async fn run(backups: qovery_backups::Backups, policy: qovery_backups::RetentionPolicy) -> Result<(), qovery_backups::Error> {
    /// let report = backups.prune(&policy).dry_run(true).send().await?;
    /// assert!(report.deleted().is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// The most backups this prune may delete: a plan that deletes more is refused whole
    /// ([`Refusal::TooManyDeletes`]), nothing deleted. A guard for unattended jobs against
    /// what no rule foresaw (a policy typed wrong, a listing that lies). No limit by default.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// # let client = qovery_backups::Client::builder().token(server.token()).base_url(server.base_url()).build()?;
    /// use qovery_backups::{Error, Refusal, RetentionPolicy};
    ///
    /// let database_id = server.database_ids()[0]; // 45 backups
    /// let policy = RetentionPolicy::builder().keep_last(5).build()?;
    /// let refused = client.backups(database_id).prune(&policy).max_delete(10).send().await.unwrap_err();
    /// let Error::PruneRefused { refusal, .. } = &refused else { panic!("{refused}") };
    /// assert!(matches!(refusal, Refusal::TooManyDeletes { max: 10, .. }));
    /// assert_eq!(server.backup_count(database_id), Some(45), "nothing deleted");
    /// # Ok(())
    /// # }
    /// ```
    pub fn max_delete(mut self, max: usize) -> Self {
        self.max_delete = Some(max);
        self
    }

    /// Lists the database, plans, and (unless a dry run) deletes, one backup at a time: the
    /// same as [`prepare`](Prune::prepare) then [`PlannedPrune::apply`].
    ///
    /// Fails, having deleted nothing, when the listing fails or stops part-way: a plan made
    /// from part of a database could delete a backup that the missing part would have made
    /// unnecessary to keep, or keep the wrong one per period. Fails the same way, with
    /// [`Error::PruneRefused`], when a backup is dated in the future or the plan deletes more
    /// than [`max_delete`](Prune::max_delete). Once deleting has started, a
    /// failed delete (after the client's retries) does not stop the others: the report says
    /// which were deleted and which failed, with why.
    ///
    /// ```no_run
    /// # async fn run(backups: qovery_backups::Backups, policy: qovery_backups::RetentionPolicy) {
    /// match backups.prune(&policy).send().await {
    ///     Ok(report) if report.is_complete() => println!("{report}"),
    ///     Ok(report) => eprintln!("{report}; run again to retry the failed deletes"),
    ///     Err(e) => eprintln!("nothing deleted: {e}"),
    /// }
    /// # }
    /// ```
    pub async fn send(self) -> Result<PruneReport, Error> {
        Ok(self.prepare().await?.apply().await)
    }

    /// Lists the whole database and decides what to keep, deleting nothing yet: for a program
    /// that shows or records the plan (or asks for confirmation) before it
    /// [`apply`](PlannedPrune::apply)s it. Fails as [`send`](Prune::send) does when the listing
    /// fails or the plan is refused. A [`dry_run`](Prune::dry_run) carries over: applying its
    /// plan deletes nothing.
    ///
    /// ```no_run
    /// # async fn run(backups: qovery_backups::Backups, policy: qovery_backups::RetentionPolicy) -> Result<(), qovery_backups::Error> {
    /// let planned = backups.prune(&policy).prepare().await?;
    /// for backup in planned.plan().to_delete() {
    ///     println!("will delete {} ({})", backup.id, backup.created_at);
    /// }
    /// let report = planned.apply().await;
    /// println!("{report}");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn prepare(self) -> Result<PlannedPrune, Error> {
        let Prune { backups, policy, dry_run, max_delete } = self;
        let listed: Vec<Backup> = backups.list().items().try_collect().await?;
        let database_id = backups.database_id();
        let refused = |refusal| Error::PruneRefused { database_id, refusal };
        let plan = decide(&policy, &listed, chrono::Utc::now()).map_err(refused)?;
        // Checked on a dry run too, so that it shows what the real run would do.
        if let Some(max) = max_delete.filter(|&max| plan.delete_count() > max) {
            return Err(refused(Refusal::TooManyDeletes { planned: plan.delete_count(), max }));
        }
        tracing::info!(
            %database_id,
            %policy,
            listed = listed.len(),
            to_delete = plan.delete_count(),
            dry_run,
            "planned prune"
        );
        Ok(PlannedPrune { backups, plan, dry_run })
    }

    /// The former name of [`prepare`](Prune::prepare), which now keeps the
    /// [`dry_run`](Prune::dry_run) setting (it was ignored).
    ///
    /// ```no_run
    /// # #![allow(deprecated)]
    /// # async fn run(backups: qovery_backups::Backups, policy: qovery_backups::RetentionPolicy) -> Result<(), qovery_backups::Error> {
    /// let planned = backups.prune(&policy).plan().await?;
    /// println!("{} to delete", planned.plan().delete_count());
    /// # Ok(())
    /// # }
    /// ```
    #[deprecated(note = "use `prepare`: `plan` is the name of what it returns")]
    pub async fn plan(self) -> Result<PlannedPrune, Error> {
        self.prepare().await
    }
}

/// A prune planned from a whole listing, nothing deleted yet. Get one from [`Prune::prepare`].
///
/// ```no_run
/// # async fn run(backups: qovery_backups::Backups, policy: qovery_backups::RetentionPolicy) -> Result<(), qovery_backups::Error> {
/// let planned = backups.prune(&policy).prepare().await?;
/// if planned.plan().delete_count() > 10 {
///     // Too many at once for this job: report and leave them.
///     println!("{}", planned.into_dry_run_report());
/// } else {
///     println!("{}", planned.apply().await);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
#[must_use = "a planned prune deletes nothing until applied"]
pub struct PlannedPrune {
    backups: Backups,
    plan: Plan,
    dry_run: bool,
}

impl PlannedPrune {
    /// The plan: every backup listed, newest first, with its decision.
    ///
    /// ```no_run
    /// # fn show(planned: &qovery_backups::PlannedPrune) {
    /// println!("{} to delete, {} to keep", planned.plan().delete_count(), planned.plan().keep_count());
    /// # }
    /// ```
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The database planned for.
    ///
    /// ```no_run
    /// # fn show(planned: &qovery_backups::PlannedPrune) {
    /// println!("database {}", planned.database_id());
    /// # }
    /// ```
    pub fn database_id(&self) -> Uuid {
        self.backups.database_id()
    }

    /// Whether the prune was a [`dry_run`](Prune::dry_run): [`apply`](Self::apply) will delete
    /// nothing.
    ///
    /// ```no_run
    /// # async fn run(backups: qovery_backups::Backups, policy: qovery_backups::RetentionPolicy) -> Result<(), qovery_backups::Error> {
    /// let planned = backups.prune(&policy).dry_run(true).prepare().await?;
    /// assert!(planned.is_dry_run());
    /// assert!(planned.apply().await.deleted().is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn is_dry_run(&self) -> bool {
        self.dry_run
    }

    /// Deletes what the plan deletes, oldest first, one at a time; for a
    /// [dry run](Self::is_dry_run), deletes nothing and returns
    /// [`into_dry_run_report`](Self::into_dry_run_report). A failed delete (after the client's
    /// retries) does not stop the others; the report says which failed and why. A backup found
    /// already gone (a 404: deleted by someone else since the listing, or by an attempt whose
    /// answer was lost) counts as deleted.
    ///
    /// ```no_run
    /// # async fn run(planned: qovery_backups::PlannedPrune) {
    /// let report = planned.apply().await;
    /// for failure in report.failed() {
    ///     eprintln!("could not delete {}: {}", failure.backup.id, failure.error);
    /// }
    /// # }
    /// ```
    pub async fn apply(self) -> PruneReport {
        if self.dry_run {
            return self.into_dry_run_report();
        }
        let PlannedPrune { backups, plan, dry_run: _ } = self;
        let database_id = backups.database_id();
        let mut deleted = Vec::new();
        let mut failed = Vec::new();
        // Oldest first: a prune cut short (process stopped, credentials revoked) leaves the
        // newer of the unneeded backups, the more useful ones for a restore.
        let oldest_first: Vec<Backup> = plan.to_delete().rev().cloned().collect();
        for backup in oldest_first {
            match backups.delete(backup.id).await {
                Ok(()) => {
                    tracing::info!(%database_id, backup_id = %backup.id, "pruned backup");
                    deleted.push(backup);
                }
                // Listed moments ago and gone now: another prune, or a person, deleted it
                // first. What the plan wanted has happened; reporting a failure would raise a
                // false alarm whenever two prunes overlap.
                Err(error) if error.is_not_found() => {
                    tracing::info!(%database_id, backup_id = %backup.id, "backup already gone");
                    deleted.push(backup);
                }
                Err(error) => {
                    tracing::warn!(%database_id, backup_id = %backup.id, %error, "could not prune backup");
                    failed.push(FailedDelete { backup, error });
                }
            }
        }
        PruneReport { database_id, plan, dry_run: false, deleted, failed }
    }

    /// The report of a dry run: the plan, nothing deleted, whether or not the prune was set as
    /// one (for a program that decides, after seeing the plan, not to apply it).
    ///
    /// ```no_run
    /// # fn show(planned: qovery_backups::PlannedPrune) {
    /// let report = planned.into_dry_run_report();
    /// assert!(report.is_dry_run() && report.deleted().is_empty());
    /// # }
    /// ```
    pub fn into_dry_run_report(self) -> PruneReport {
        PruneReport {
            database_id: self.backups.database_id(),
            plan: self.plan,
            dry_run: true,
            deleted: Vec::new(),
            failed: Vec::new(),
        }
    }
}

/// What a prune did: the plan, and for each backup it deletes whether the delete happened.
///
/// Displays as a one-line summary: `pruned database <id>: deleted 5, failed 0, kept 7`, or
/// `dry run on database <id>: would delete 5, keep 7`.
///
/// ```no_run
/// # async fn run(backups: qovery_backups::Backups, policy: qovery_backups::RetentionPolicy) -> Result<(), qovery_backups::Error> {
/// let report = backups.prune(&policy).send().await?;
/// println!("{report}");
/// for decision in report.plan().decisions() {
///     println!("{} {}: {}", decision.backup.created_at, decision.backup.name, decision.verdict);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct PruneReport {
    database_id: Uuid,
    plan: Plan,
    dry_run: bool,
    deleted: Vec<Backup>,
    failed: Vec<FailedDelete>,
}

impl PruneReport {
    /// The database pruned.
    ///
    /// ```no_run
    /// # fn show(report: qovery_backups::PruneReport) {
    /// println!("database {}", report.database_id());
    /// # }
    /// ```
    pub fn database_id(&self) -> Uuid {
        self.database_id
    }

    /// The plan, made from the whole listing: every backup with its decision, newest first.
    ///
    /// ```no_run
    /// # fn show(report: qovery_backups::PruneReport) {
    /// println!("planned to delete {}", report.plan().delete_count());
    /// # }
    /// ```
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Whether this was a dry run (nothing deleted).
    ///
    /// ```no_run
    /// # fn show(report: qovery_backups::PruneReport) {
    /// if report.is_dry_run() {
    ///     println!("would delete {}", report.plan().delete_count());
    /// }
    /// # }
    /// ```
    pub fn is_dry_run(&self) -> bool {
        self.dry_run
    }

    /// The backups deleted, oldest first, including those found already gone (deleted by
    /// someone else since the listing, or by an attempt whose answer was lost).
    ///
    /// ```no_run
    /// # fn show(report: qovery_backups::PruneReport) {
    /// for backup in report.deleted() {
    ///     println!("deleted {}", backup.id);
    /// }
    /// # }
    /// ```
    pub fn deleted(&self) -> &[Backup] {
        &self.deleted
    }

    /// The planned deletes that failed, with why, oldest first. Those backups still exist, as
    /// far as this client can tell: run the prune again to retry them.
    ///
    /// ```no_run
    /// # fn show(report: qovery_backups::PruneReport) {
    /// for failure in report.failed() {
    ///     eprintln!("{}: {}", failure.backup.id, failure.error);
    /// }
    /// # }
    /// ```
    pub fn failed(&self) -> &[FailedDelete] {
        &self.failed
    }

    /// The backups the plan keeps, newest first.
    ///
    /// ```no_run
    /// # fn show(report: qovery_backups::PruneReport) {
    /// println!("kept {}", report.kept().count());
    /// # }
    /// ```
    pub fn kept(&self) -> impl Iterator<Item = &Backup> + '_ {
        self.plan.to_keep()
    }

    /// Whether every planned delete happened (always true of a dry run, which plans no
    /// delete to happen).
    ///
    /// ```no_run
    /// # fn show(report: qovery_backups::PruneReport) {
    /// if !report.is_complete() {
    ///     eprintln!("{} deletes failed", report.failed().len());
    /// }
    /// # }
    /// ```
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty()
    }
}

impl fmt::Display for PruneReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kept = self.plan.keep_count();
        if self.dry_run {
            let would_delete = self.plan.delete_count();
            write!(f, "dry run on database {}: would delete {would_delete}, keep {kept}", self.database_id)
        } else {
            let (deleted, failed) = (self.deleted.len(), self.failed.len());
            write!(f, "pruned database {}: deleted {deleted}, failed {failed}, kept {kept}", self.database_id)
        }
    }
}

/// A planned delete that failed, after the client's retries.
///
/// ```no_run
/// # fn show(failure: &qovery_backups::FailedDelete) {
/// eprintln!("could not delete {} ({}): {}", failure.backup.id, failure.backup.name, failure.error);
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct FailedDelete {
    /// The backup the plan deletes.
    pub backup: Backup,
    /// Why the delete failed.
    pub error: Error,
}
