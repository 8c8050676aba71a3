//! Is every database protected? A successful backup newer than a maximum age, for each
//! database of a fleet, judged by one pure rule ([`judge`]) from what one bounded look at its
//! listing found.

use std::fmt;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use qovery_backups_api::types::Backup;

use crate::fleet::{DEFAULT_CONCURRENCY, in_order};
use crate::stream::Boxed;
use crate::{Client, Error, ScanEnd, Target};

/// How far in the future a backup may be dated before its date is not believed: a server's
/// clock and this machine's may disagree by this much. A backup dated later makes a check
/// [`Suspect`](FreshnessVerdict::Suspect) and a prune refuse.
///
/// ```
/// assert_eq!(qovery_backups::CLOCK_SKEW_ALLOWANCE.num_minutes(), 5);
/// ```
pub const CLOCK_SKEW_ALLOWANCE: TimeDelta = TimeDelta::minutes(5);

/// What a freshness check concludes about one database.
///
/// ```
/// use qovery_backups::FreshnessVerdict;
///
/// let failing: Vec<&str> = FreshnessVerdict::ALL.iter().filter(|v| v.fails()).map(|v| v.as_str()).collect();
/// assert_eq!(failing, ["stale", "missing", "suspect"]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FreshnessVerdict {
    /// The newest successful backup is at most the maximum age old.
    Ok,
    /// The listing reached backups older than the maximum age without a success newer than it.
    Stale,
    /// The database's whole history was read: no backup ever succeeded.
    Missing,
    /// The newest successful backup is dated after now, past any plausible clock skew: its
    /// date cannot say the database is protected.
    Suspect,
    /// The cloud provider backs the database up (`mode: MANAGED`): nothing here to judge.
    Unmanaged,
    /// No database has this id, as far as the token can see.
    NotFound,
    /// The database could not be checked: see [`DatabaseFreshness::error`].
    Error,
}

impl FreshnessVerdict {
    /// Every verdict, in a stable order (for metrics that export each one).
    pub const ALL: [FreshnessVerdict; 7] = [
        FreshnessVerdict::Ok,
        FreshnessVerdict::Stale,
        FreshnessVerdict::Missing,
        FreshnessVerdict::Suspect,
        FreshnessVerdict::Unmanaged,
        FreshnessVerdict::NotFound,
        FreshnessVerdict::Error,
    ];

    /// Whether the database is known to lack a trustworthy recent backup. [`NotFound`] and
    /// [`Error`] are not verdicts about backups: a caller fails on them as errors, never
    /// passes them.
    ///
    /// [`NotFound`]: FreshnessVerdict::NotFound
    /// [`Error`]: FreshnessVerdict::Error
    ///
    /// ```
    /// assert!(qovery_backups::FreshnessVerdict::Stale.fails());
    /// assert!(!qovery_backups::FreshnessVerdict::Unmanaged.fails());
    /// ```
    pub fn fails(self) -> bool {
        matches!(self, FreshnessVerdict::Stale | FreshnessVerdict::Missing | FreshnessVerdict::Suspect)
    }

    /// Whether the database could not be judged at all (unknown id, or an error).
    ///
    /// ```
    /// assert!(qovery_backups::FreshnessVerdict::NotFound.is_error());
    /// assert!(!qovery_backups::FreshnessVerdict::Missing.is_error());
    /// ```
    pub fn is_error(self) -> bool {
        matches!(self, FreshnessVerdict::NotFound | FreshnessVerdict::Error)
    }

    /// Its name in machine output: `ok`, `stale`, `missing`, `suspect`, `unmanaged`,
    /// `not_found`, `error`.
    ///
    /// ```
    /// assert_eq!(qovery_backups::FreshnessVerdict::NotFound.as_str(), "not_found");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            FreshnessVerdict::Ok => "ok",
            FreshnessVerdict::Stale => "stale",
            FreshnessVerdict::Missing => "missing",
            FreshnessVerdict::Suspect => "suspect",
            FreshnessVerdict::Unmanaged => "unmanaged",
            FreshnessVerdict::NotFound => "not_found",
            FreshnessVerdict::Error => "error",
        }
    }
}

impl fmt::Display for FreshnessVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a look at a listing ended: what [`judge`] needs besides the newest success.
///
/// ```
/// use std::time::Duration;
/// use qovery_backups::{FreshnessVerdict, LookEnd, judge};
///
/// // No success seen: the whole history read is MISSING, a look stopped at the window STALE.
/// let now = "2026-11-28T00:00:00Z".parse()?;
/// let week = Duration::from_secs(7 * 86_400);
/// assert_eq!(judge(None, LookEnd::WholeHistory, now, week), FreshnessVerdict::Missing);
/// assert_eq!(judge(None, LookEnd::WindowEdge, now, week), FreshnessVerdict::Stale);
/// # Ok::<(), chrono::ParseError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LookEnd {
    /// A successful backup was found (the newest one).
    FoundSuccess,
    /// The look stopped at backups older than the window, with more history unread.
    WindowEdge,
    /// The whole history was read.
    WholeHistory,
}

/// Judges a database from what a look at its listing found: its newest successful backup,
/// and how the look ended. A backup exactly `max_age` old is still fresh; one dated more than
/// [`CLOCK_SKEW_ALLOWANCE`] after `now` is suspect. No success seen is [`Missing`] only when the
/// whole history was read, [`Stale`] when the look stopped at the window's edge. Pure, and
/// total: no date or duration can make it panic.
///
/// [`Missing`]: FreshnessVerdict::Missing
/// [`Stale`]: FreshnessVerdict::Stale
///
/// ```
/// use std::time::Duration;
/// use qovery_backups::{FreshnessVerdict, LookEnd, judge};
///
/// let now = "2026-11-28T00:00:00Z".parse()?;
/// let day = Duration::from_secs(24 * 3600);
/// assert_eq!(judge(None, LookEnd::WholeHistory, now, day), FreshnessVerdict::Missing);
/// assert_eq!(judge(None, LookEnd::WindowEdge, now, day), FreshnessVerdict::Stale);
/// # Ok::<(), chrono::ParseError>(())
/// ```
pub fn judge(
    newest_success: Option<&Backup>,
    end: LookEnd,
    now: DateTime<Utc>,
    max_age: Duration,
) -> FreshnessVerdict {
    let Some(backup) = newest_success else {
        return match end {
            LookEnd::WholeHistory => FreshnessVerdict::Missing,
            LookEnd::WindowEdge | LookEnd::FoundSuccess => FreshnessVerdict::Stale,
        };
    };
    if now.checked_add_signed(CLOCK_SKEW_ALLOWANCE).is_some_and(|latest| backup.created_at > latest) {
        return FreshnessVerdict::Suspect;
    }
    match oldest_fresh(now, max_age) {
        Some(oldest) if backup.created_at < oldest => FreshnessVerdict::Stale,
        _ => FreshnessVerdict::Ok,
    }
}

/// The oldest date a backup may have and still be fresh; `None` when the window reaches back
/// past the earliest date there is (every backup is fresh).
fn oldest_fresh(now: DateTime<Utc>, max_age: Duration) -> Option<DateTime<Utc>> {
    TimeDelta::from_std(max_age).ok().and_then(|age| now.checked_sub_signed(age))
}

/// One database's result in a freshness check.
///
/// ```no_run
/// # async fn run(client: qovery_backups::Client, targets: Vec<qovery_backups::Target>) {
/// use futures::StreamExt as _;
///
/// let mut results = client.freshness(targets, std::time::Duration::from_secs(26 * 3600)).items();
/// while let Some(result) = results.next().await {
///     println!("{} {} looked at {}", result.verdict, result.target.label(), result.looked_at);
/// }
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct DatabaseFreshness {
    /// The database.
    pub target: Target,
    /// The verdict.
    pub verdict: FreshnessVerdict,
    /// Its newest successful backup, when the look found one.
    pub newest_success: Option<Backup>,
    /// How many backups the look read.
    pub looked_at: usize,
    /// Why it could not be checked, for [`FreshnessVerdict::Error`] and
    /// [`FreshnessVerdict::NotFound`].
    pub error: Option<Error>,
}

/// A freshness check of many databases, not started yet. Get one from [`Client::freshness`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use qovery_backups_mock::{Fleet, MockConfig, MockServer};
/// # let server = MockServer::start(MockConfig { fleet: Fleet::sample(), ..MockConfig::default() }).await?;
/// # let client = qovery_backups::Client::builder().token(server.token()).base_url(server.base_url()).build()?;
/// use std::time::Duration;
/// use futures::StreamExt as _;
/// use qovery_backups::{FreshnessVerdict, Target, Targets};
///
/// let mut targets = Targets::everything().resolve(&client).await.map_err(|e| e.into_iter().next().unwrap())?;
/// targets.push(Target::from_id(uuid::Uuid::nil())); // a mistyped id
/// let results: Vec<_> = client.freshness(targets, Duration::from_secs(3600)).concurrency(4).items().collect().await;
/// // The mock's seeded backups are older than an hour; its MANAGED databases have none here.
/// assert!(results.iter().any(|r| r.verdict == FreshnessVerdict::Unmanaged));
/// assert_eq!(results.last().map(|r| r.verdict), Some(FreshnessVerdict::NotFound));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a check does nothing until its stream is polled"]
pub struct FreshnessCheck {
    client: Client,
    targets: Vec<Target>,
    max_age: Duration,
    now: Option<DateTime<Utc>>,
    concurrency: usize,
}

impl Client {
    /// Checks each of `targets` for a successful backup at most `max_age` old. Nothing is
    /// asked until [`FreshnessCheck::items`] is polled.
    ///
    /// ```no_run
    /// # async fn run(client: qovery_backups::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use futures::StreamExt as _;
    /// use qovery_backups::Targets;
    ///
    /// let targets = Targets::everything().resolve(&client).await.map_err(|e| e.into_iter().next().unwrap())?;
    /// let failing = client
    ///     .freshness(targets, std::time::Duration::from_secs(26 * 3600))
    ///     .items()
    ///     .filter(|r| std::future::ready(r.verdict.fails() || r.verdict.is_error()))
    ///     .count()
    ///     .await;
    /// println!("{failing} databases need attention");
    /// # Ok(())
    /// # }
    /// ```
    pub fn freshness(&self, targets: Vec<Target>, max_age: Duration) -> FreshnessCheck {
        FreshnessCheck { client: self.clone(), targets, max_age, now: None, concurrency: DEFAULT_CONCURRENCY }
    }
}

impl FreshnessCheck {
    /// How many databases are looked at once ([`DEFAULT_CONCURRENCY`] unless set). At least 1.
    ///
    /// ```
    /// # let client = qovery_backups::Client::builder().token("qov_example_token").build()?;
    /// let check = client.freshness(Vec::new(), std::time::Duration::from_secs(60)).concurrency(32);
    /// assert_eq!(check.concurrency_limit(), 32);
    /// # Ok::<(), qovery_backups::Error>(())
    /// ```
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// The concurrency in force.
    ///
    /// ```
    /// # let client = qovery_backups::Client::builder().token("qov_example_token").build()?;
    /// let check = client.freshness(Vec::new(), std::time::Duration::from_secs(60));
    /// assert_eq!(check.concurrency_limit(), qovery_backups::DEFAULT_CONCURRENCY);
    /// # Ok::<(), qovery_backups::Error>(())
    /// ```
    pub fn concurrency_limit(&self) -> usize {
        self.concurrency
    }

    /// The instant to judge against (this machine's clock when the stream starts, unless set):
    /// one instant for every database, so that a long run judges them alike.
    ///
    /// ```
    /// # let client = qovery_backups::Client::builder().token("qov_example_token").build()?;
    /// let now = "2026-11-28T00:00:00Z".parse().unwrap();
    /// let check = client.freshness(Vec::new(), std::time::Duration::from_secs(60)).now(now);
    /// # let _ = check;
    /// # Ok::<(), qovery_backups::Error>(())
    /// ```
    pub fn now(mut self, now: DateTime<Utc>) -> Self {
        self.now = Some(now);
        self
    }

    /// One result per target, in the order of the targets, each yielded as soon as it and
    /// those before it are done. A database's error is its [`FreshnessVerdict::Error`]: the
    /// others go on.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// # let client = qovery_backups::Client::builder().token(server.token()).base_url(server.base_url()).build()?;
    /// use futures::StreamExt as _;
    /// use qovery_backups::{FreshnessVerdict, Target};
    ///
    /// let targets: Vec<Target> = server.database_ids().into_iter().map(Target::from_id).collect();
    /// let century = std::time::Duration::from_secs(100 * 365 * 86_400);
    /// let mut results = client.freshness(targets, century).items();
    /// while let Some(result) = results.next().await {
    ///     assert_eq!(result.verdict, FreshnessVerdict::Ok, "{:?}", result.error);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn items(self) -> FreshnessItems {
        let FreshnessCheck { client, targets, max_age, now, concurrency } = self;
        let now = now.unwrap_or_else(Utc::now);
        let verdicts = in_order(targets, concurrency, move |target| {
            let client = client.clone();
            async move { check_one(&client, target, now, max_age).await }
        });
        FreshnessItems { inner: Boxed::new(verdicts) }
    }

    /// The same stream as [`items`](FreshnessCheck::items).
    ///
    /// ```no_run
    /// # async fn run(check: qovery_backups::FreshnessCheck) {
    /// use futures::StreamExt as _;
    ///
    /// #[allow(deprecated)]
    /// let verdicts: Vec<_> = check.stream().collect().await;
    /// println!("{} databases judged", verdicts.len());
    /// # }
    /// ```
    #[deprecated(note = "use `FreshnessCheck::items`, named as every other request's stream")]
    pub fn stream(self) -> FreshnessItems {
        self.items()
    }
}

/// The verdicts of a [`FreshnessCheck`], one per target, in the order of the targets. Each
/// carries its own error ([`DatabaseFreshness::error`]), so the stream's items are not
/// `Result`s and one database's failure never ends it. Lazy, `Send`, `Sync` and `Unpin`, as a
/// [`ListStream`](crate::ListStream) is.
///
/// ```no_run
/// # async fn run(client: qovery_backups::Client, targets: Vec<qovery_backups::Target>) {
/// use futures::StreamExt as _;
/// use qovery_backups::FreshnessItems;
///
/// let mut verdicts: FreshnessItems = client.freshness(targets, std::time::Duration::from_secs(3600)).items();
/// while let Some(result) = verdicts.next().await {
///     println!("{} {}", result.verdict, result.target.label());
/// }
/// # }
/// ```
#[must_use = "a check does nothing until its stream is polled"]
pub struct FreshnessItems {
    inner: Boxed<DatabaseFreshness>,
}

impl futures::Stream for FreshnessItems {
    type Item = DatabaseFreshness;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.poll_next(cx)
    }
}

impl fmt::Debug for FreshnessItems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FreshnessItems { .. }")
    }
}

async fn check_one(
    client: &Client,
    target: Target,
    now: DateTime<Utc>,
    max_age: Duration,
) -> DatabaseFreshness {
    let result = |verdict, error| DatabaseFreshness {
        target: target.clone(),
        verdict,
        newest_success: None,
        looked_at: 0,
        error,
    };
    if target.is_managed_by_provider() {
        return result(FreshnessVerdict::Unmanaged, None);
    }
    match look(client, &target, oldest_fresh(now, max_age)).await {
        Ok(found) => DatabaseFreshness {
            verdict: judge(found.newest_success.as_ref(), found.end, now, max_age),
            newest_success: found.newest_success,
            looked_at: found.looked_at,
            ..result(FreshnessVerdict::Ok, None)
        },
        Err(error) if error.is_managed_by_provider() => result(FreshnessVerdict::Unmanaged, None),
        Err(error) if error.is_unknown_database() => result(FreshnessVerdict::NotFound, Some(error)),
        Err(error) => result(FreshnessVerdict::Error, Some(error)),
    }
}

/// What a look at one listing found.
struct Found {
    newest_success: Option<Backup>,
    end: LookEnd,
    looked_at: usize,
}

/// Reads newest first until the first successful backup, or until the listing reaches
/// backups older than the window (nothing older can make the database fresh), so the request
/// count is bounded by the backups inside the window plus a page. A page that reaches the edge
/// and is known to be the last (shorter than the page size) means the whole history was read;
/// when the server's page size is not usable, one more page tells.
async fn look(client: &Client, target: &Target, oldest_fresh: Option<DateTime<Utc>>) -> Result<Found, Error> {
    let mut looked_at = 0;
    let mut edge_reached = false;
    let end = client
        .backups(target.id)
        .list()
        .scan(|page| {
            looked_at += page.backups.len();
            let reaches_edge =
                oldest_fresh.is_some_and(|oldest| page.backups.iter().any(|b| b.created_at < oldest));
            let known_last = page.page_size.map(|size| page.backups.len() < size);
            // The page is here already: its first success, even an old one, says how stale.
            if let Some(success) = page.backups.into_iter().find(Backup::is_successful) {
                return ControlFlow::Break(Some(Some(success)));
            }
            match (edge_reached, reaches_edge, known_last) {
                // A page past the edge without a success: history is left unread.
                (true, _, _) | (false, true, Some(false)) => ControlFlow::Break(Some(None)),
                // The edge, on the last page: the whole history was read.
                (false, true, Some(true)) => ControlFlow::Break(None),
                (false, true, None) => {
                    edge_reached = true;
                    ControlFlow::Continue(())
                }
                (false, false, _) => ControlFlow::Continue(()),
            }
        })
        .await?;
    let (newest_success, end) = match end {
        ScanEnd::Found(Some(success)) => (Some(success), LookEnd::FoundSuccess),
        ScanEnd::Found(None) => (None, LookEnd::WindowEdge),
        _ => (None, LookEnd::WholeHistory),
    };
    Ok(Found { newest_success, end, looked_at })
}
