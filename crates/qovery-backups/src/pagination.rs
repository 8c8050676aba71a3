//! Listing as streams: lazy, one request in flight, nothing lost and nothing repeated.
//!
//! The API pages newest first; `startId` is the id of the last backup already seen. There is
//! no total and no next link, so the listing ends on an empty page or on one shorter than the
//! `page_size` the server reports. This module holds only the cursor logic; the HTTP call is
//! [`Wire::list_page`](crate::wire::Wire::list_page), retried by [`retry::run`].
//!
//! Two defences against a server that is wrong rather than down:
//! - **Repeats.** Every id delivered is remembered, exactly, up to [`EXACT_SEEN_LIMIT`] ids; a
//!   backup sent again ends the listing with [`Error::PaginationLoop`] rather than being
//!   delivered twice. Past the limit (a very long listing), memory stays flat: the cursors sent
//!   and the previous page's ids are still checked, which catches a server that loops.
//! - **A deleted cursor.** When the backup used as `startId` is deleted between two pages, the
//!   API refuses the next page (400). The listing then asks again from the newest backup of the
//!   previous page that still exists: the backups between it and the cursor are exactly the
//!   deleted ones, so nothing is skipped and nothing comes twice.

use std::collections::HashSet;
use std::ops::ControlFlow;

use futures::TryStreamExt as _;
use futures::future::Either;
use futures::stream::{self, StreamExt as _};
use qovery_backups_api::types::{Backup, BackupPaginatedResponseList};
use reqwest::StatusCode;
use uuid::Uuid;

use crate::RetryPolicy;
use crate::observe::Event;
use crate::retry::{self, Resend};
use crate::{Client, Error, ListStream, Operation};

/// How many delivered ids a listing remembers exactly: about 3 MiB of memory at the limit. A
/// listing of up to this many backups catches any backup sent twice, wherever it comes back.
pub(crate) const EXACT_SEEN_LIMIT: usize = 100_000;

/// One page of a listing.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
/// # let client = qovery_backups::Client::builder().token(server.token()).base_url(server.base_url()).build()?;
/// use futures::TryStreamExt as _;
///
/// let mut pages = client.backups(server.database_ids()[0]).list().pages();
/// let first = pages.try_next().await?.expect("a first page");
/// assert_eq!((first.number, first.page_size, first.backups.len()), (1, Some(20), 20));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct BackupPage {
    /// The database listed.
    pub database_id: Uuid,
    /// 1 for the first page of this listing, then 2, 3, …
    pub number: usize,
    /// The page size the server reported, when it is a positive whole number. Advisory:
    /// Qovery's spec declares it a plain `number`, and a server may send `-27521212.38`.
    pub page_size: Option<usize>,
    /// The backups, newest first.
    pub backups: Vec<Backup>,
}

/// The stream of [`BackupPage`]s from [`ListRequest::pages`]. After an error it ends.
///
/// ```
/// use qovery_backups::{Backups, Pages};
///
/// fn first_pages(backups: &Backups) -> Pages {
///     backups.list().max_pages(2).pages()
/// }
/// # let client = qovery_backups::Client::builder().token("qov_example_token").build()?;
/// let pages = first_pages(&client.backups(uuid::Uuid::nil())); // lazy: nothing requested yet
/// # drop(pages);
/// # Ok::<(), qovery_backups::Error>(())
/// ```
pub type Pages = ListStream<BackupPage>;
/// The stream of backups from [`ListRequest::items`]. After an error it ends.
///
/// ```
/// use qovery_backups::{Backups, Items};
///
/// fn newest(backups: &Backups, n: usize) -> Items {
///     backups.list().max_items(n).items()
/// }
/// # let client = qovery_backups::Client::builder().token("qov_example_token").build()?;
/// let items = newest(&client.backups(uuid::Uuid::nil()), 10); // lazy: nothing requested yet
/// # drop(items);
/// # Ok::<(), qovery_backups::Error>(())
/// ```
pub type Items = ListStream<Backup>;

/// A listing not yet started: set its bounds, then take [`pages`](ListRequest::pages) or
/// [`items`](ListRequest::items).
///
/// ```no_run
/// # async fn run(client: qovery_backups::Client, database_id: uuid::Uuid, last_seen: uuid::Uuid)
/// # -> Result<(), qovery_backups::Error> {
/// use futures::TryStreamExt as _;
///
/// // Everything older than `last_seen`, at most 100 backups.
/// let older: Vec<_> = client
///     .backups(database_id)
///     .list()
///     .start_after(last_seen)
///     .max_items(100)
///     .items()
///     .try_collect()
///     .await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a listing does nothing until its stream is polled"]
pub struct ListRequest {
    client: Client,
    database_id: Uuid,
    start_after: Option<Uuid>,
    max_items: Option<usize>,
    max_pages: Option<usize>,
    /// Whether each page gets the client's retries (a caller with a retry loop of its own,
    /// like a create's reconciliation, asks each page once).
    retried: bool,
}

impl ListRequest {
    pub(crate) fn new(client: Client, database_id: Uuid) -> Self {
        ListRequest {
            client,
            database_id,
            start_after: None,
            max_items: None,
            max_pages: None,
            retried: true,
        }
    }

    /// The database listed.
    pub(crate) fn database_id(&self) -> Uuid {
        self.database_id
    }

    /// Starts after this backup: the listing continues with the next older one. `None` starts
    /// at the newest backup. This is how an interrupted listing resumes: pass it what
    /// [`Error::resume_after`] returned.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// # let client = qovery_backups::Client::builder().token(server.token()).base_url(server.base_url()).build()?;
    /// use futures::TryStreamExt as _;
    ///
    /// let database_id = server.database_ids()[0];
    /// let first: Vec<_> = client.backups(database_id).list().max_items(2).items().try_collect().await?;
    /// // Go on where the first part stopped (as after an error, from `error.resume_after()`).
    /// let rest: Vec<_> = client.backups(database_id).list().start_after(first[1].id).items().try_collect().await?;
    /// assert_eq!(first.len() + rest.len(), server.backups(database_id).len());
    /// assert_eq!(rest[0].id, server.backups(database_id)[2].id);
    /// # Ok(())
    /// # }
    /// ```
    pub fn start_after(mut self, backup_id: impl Into<Option<Uuid>>) -> Self {
        self.start_after = backup_id.into();
        self
    }

    /// Stops after this many backups.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// # let client = qovery_backups::Client::builder().token(server.token()).base_url(server.base_url()).build()?;
    /// use futures::TryStreamExt as _;
    ///
    /// let database_id = server.database_ids()[0];
    /// let newest: Vec<_> = client.backups(database_id).list().max_items(25).items().try_collect().await?;
    /// assert_eq!(newest.len(), 25);
    /// assert_eq!(server.requests().len(), 2); // 20 a page: no third page is asked for
    /// # Ok(())
    /// # }
    /// ```
    pub fn max_items(mut self, max: usize) -> Self {
        self.max_items = Some(max);
        self
    }

    /// Stops after this many pages.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// # let client = qovery_backups::Client::builder().token(server.token()).base_url(server.base_url()).build()?;
    /// use futures::TryStreamExt as _;
    ///
    /// let pages: Vec<_> = client.backups(server.database_ids()[0]).list().max_pages(2).pages().try_collect().await?;
    /// assert_eq!(pages.iter().map(|p| p.backups.len()).sum::<usize>(), 40); // of 45
    /// # Ok(())
    /// # }
    /// ```
    pub fn max_pages(mut self, max: usize) -> Self {
        self.max_pages = Some(max);
        self
    }

    /// The listing page by page. The next page is requested only when this one has been taken.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// # let client = qovery_backups::Client::builder().token(server.token()).base_url(server.base_url()).build()?;
    /// use futures::TryStreamExt as _;
    ///
    /// let mut pages = client.backups(server.database_ids()[0]).list().pages();
    /// while let Some(page) = pages.try_next().await? {
    ///     // Each page is asked for only once the one before has been taken.
    ///     assert_eq!(server.requests().len(), page.number);
    /// }
    /// assert_eq!(server.requests().len(), 3); // 20 + 20 + 5
    /// # Ok(())
    /// # }
    /// ```
    pub fn pages(self) -> Pages {
        let cursor = Cursor {
            next_start: self.start_after,
            previous_start: None,
            delivered: 0,
            pages: 0,
            seen: Seen::default(),
            previous_page: Vec::new(),
            finished: false,
            list: self,
        };
        ListStream::new(stream::unfold(cursor, Cursor::next))
    }

    /// Each page asked once, without the client's retries: for a caller whose own retry loop
    /// retries the whole scan.
    pub(crate) fn once_per_page(mut self) -> Self {
        self.retried = false;
        self
    }

    /// Reads the listing newest first, a page at a time, handing each page to `step`, until
    /// `step` breaks or the listing ends: the one loop behind every "newest first until"
    /// question (a wait looking for its backup, a freshness check looking for a success, a
    /// create looking for what a lost answer made). `step` breaks with `Some(value)` when it
    /// found what it looked for, with `None` when nothing further can matter.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// # let client = qovery_backups::Client::builder().token(server.token()).base_url(server.base_url()).build()?;
    /// use std::ops::ControlFlow;
    /// use qovery_backups::ScanEnd;
    ///
    /// // The oldest backup of the database's first two pages, reading no further.
    /// let database_id = server.database_ids()[0];
    /// let mut pages_read = 0;
    /// let end = client.backups(database_id).list().scan(|page| {
    ///     pages_read += 1;
    ///     if pages_read == 2 { ControlFlow::Break(page.backups.last().map(|b| b.id)) } else { ControlFlow::Continue(()) }
    /// }).await?;
    /// assert!(matches!(end, ScanEnd::Found(_)));
    /// assert_eq!(server.requests().len(), 2);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn scan<T>(
        self,
        mut step: impl FnMut(BackupPage) -> ControlFlow<Option<T>>,
    ) -> Result<ScanEnd<T>, Error> {
        let mut pages = self.pages();
        while let Some(page) = pages.try_next().await? {
            if let ControlFlow::Break(found) = step(page) {
                return Ok(found.map_or(ScanEnd::Stopped, ScanEnd::Found));
            }
        }
        Ok(ScanEnd::Exhausted)
    }

    /// The listing backup by backup, newest first.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// # let client = qovery_backups::Client::builder().token(server.token()).base_url(server.base_url()).build()?;
    /// use futures::TryStreamExt as _;
    ///
    /// // The newest successful backup: reading stops as soon as it is found.
    /// let database_id = server.database_ids()[0];
    /// let mut items = client.backups(database_id).list().items();
    /// let mut newest_good = None;
    /// while let Some(backup) = items.try_next().await? {
    ///     if backup.is_successful() {
    ///         newest_good = Some(backup);
    ///         break;
    ///     }
    /// }
    /// assert!(newest_good.is_some());
    /// assert_eq!(server.requests().len(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn items(self) -> Items {
        // Streams each page's backups where they lie: collecting them into a new
        // `Vec<Result<Backup, _>>` first would move every backup once more, on every page.
        ListStream::new(self.pages().flat_map(|page| match page {
            Ok(page) => Either::Left(stream::iter(page.backups.into_iter().map(Ok))),
            Err(e) => Either::Right(stream::once(futures::future::ready(Err(e)))),
        }))
    }
}

/// How a [`ListRequest::scan`] ended.
///
/// ```
/// use qovery_backups::ScanEnd;
///
/// let end: ScanEnd<u32> = ScanEnd::Exhausted;
/// assert!(matches!(end, ScanEnd::Exhausted)); // the whole history was read
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ScanEnd<T> {
    /// The step found what it looked for.
    Found(T),
    /// The step stopped: nothing older could matter.
    Stopped,
    /// The listing ended: every backup was read.
    Exhausted,
}

/// The ids a listing has delivered: exactly up to [`EXACT_SEEN_LIMIT`], then the cursors only.
#[derive(Default, Clone)]
struct Seen {
    exact: HashSet<Uuid>,
    /// Every cursor sent: one id a page, so this grows slowly past the exact limit.
    cursors: HashSet<Uuid>,
}

impl Seen {
    fn is_exact(&self) -> bool {
        self.exact.len() < EXACT_SEEN_LIMIT
    }

    /// Records `page` as delivered and returns the first id of it that was already delivered,
    /// earlier or on this page. While the exact set has room, that is one hash per id: the
    /// insertion itself says whether the id was there. Past the limit, the cursors, the previous
    /// page and the page itself are what is left to compare with.
    fn first_repeat_remembering(&mut self, previous_page: &[Uuid], page: &[Uuid]) -> Option<Uuid> {
        let mut past_the_limit: Option<(HashSet<Uuid>, HashSet<Uuid>)> = None;
        for &id in page {
            if self.is_exact() {
                if !self.exact.insert(id) {
                    return Some(id);
                }
                continue;
            }
            let (previous, on_this_page) = past_the_limit
                .get_or_insert_with(|| (previous_page.iter().copied().collect(), HashSet::new()));
            if self.exact.contains(&id)
                || self.cursors.contains(&id)
                || previous.contains(&id)
                || !on_this_page.insert(id)
            {
                return Some(id);
            }
        }
        None
    }

    /// Records the cursor of the next page. While the exact set has room it holds the cursor
    /// already (a cursor is a delivered backup).
    fn remember_cursor(&mut self, cursor: Uuid) {
        if !self.is_exact() {
            self.cursors.insert(cursor);
        }
    }
}

/// Where a listing stands.
struct Cursor {
    list: ListRequest,
    /// The `startId` of the next page: the last backup delivered.
    next_start: Option<Uuid>,
    /// The `startId` the previous page was asked with, the last anchor to heal from.
    previous_start: Option<Uuid>,
    delivered: usize,
    pages: usize,
    seen: Seen,
    /// The previous page's ids, oldest last: the anchors to heal from, and what a server
    /// repeating itself past the exact limit would send again.
    previous_page: Vec<Uuid>,
    finished: bool,
}

impl Cursor {
    async fn next(mut self) -> Option<(Result<BackupPage, Error>, Cursor)> {
        if self.finished || self.limit_reached() {
            return None;
        }
        match self.advance().await {
            Ok(Some(page)) => Some((Ok(page), self)),
            Ok(None) => None,
            Err(error) => {
                self.finished = true;
                Some((Err(error), self))
            }
        }
    }

    /// Fetches, checks and records the next page; `None` at the end of the listing.
    async fn advance(&mut self) -> Result<Option<BackupPage>, Error> {
        let (response, healed) = self.fetch_next().await?;
        self.pages += 1;
        let page_size = page_size(&response);
        let mut backups = response.results;
        let Some(last_on_page) = backups.last().map(|b| b.id) else { return Ok(None) };
        // A short page is the last one. A server reporting no usable page size leaves only
        // the empty page as the end: one request more, and nothing refused over a field the
        // listing can do without.
        if page_size.is_some_and(|size| backups.len() < size) {
            self.finished = true;
        }
        if healed {
            // The backups between the anchor and the refused cursor were delivered (and are
            // deleted, or the cursor would not have been refused); a server that still sends
            // them must not make them appear twice.
            let delivered: HashSet<Uuid> = self.previous_page.iter().copied().collect();
            backups.retain(|b| !delivered.contains(&b.id));
        }
        let ids: Vec<Uuid> = backups.iter().map(|b| b.id).collect();
        if let Some(repeated_id) = self.seen.first_repeat_remembering(&self.previous_page, &ids) {
            return Err(Error::PaginationLoop {
                operation: self.operation(),
                repeated_id,
                pages: self.pages,
            });
        }
        if let Some(max) = self.list.max_items {
            backups.truncate(max - self.delivered);
        }

        // Ids beyond `max_items` were recorded as seen although not delivered; harmless, since
        // the listing ends with this page.
        let next_start = backups.last().map_or(last_on_page, |b| b.id);
        self.seen.remember_cursor(next_start);
        self.previous_page = ids;
        self.previous_page.truncate(backups.len());
        self.previous_start = self.next_start;
        self.next_start = Some(next_start);
        self.delivered += backups.len();
        let database_id = self.list.database_id;
        self.list.client.observers().emit(&Event::PageReceived {
            database_id,
            number: self.pages,
            backups: backups.len(),
        });
        Ok(Some(BackupPage { database_id, number: self.pages, page_size, backups }))
    }

    /// Where the listing stands, for errors.
    fn operation(&self) -> Operation {
        Operation::List { database_id: self.list.database_id, after: self.next_start }
    }

    /// The next page, and whether it was asked from an earlier anchor because the cursor was
    /// refused. On a 400 for a page asked with a cursor, asks again from each earlier backup of
    /// the previous page (newest first), then from the previous page's own cursor, and takes
    /// the first answer that is not a 400.
    async fn fetch_next(&self) -> Result<(BackupPaginatedResponseList, bool), Error> {
        let retried = self.list.retried;
        let refused = match fetch(&self.list.client, self.operation(), self.next_start, retried).await {
            Err(error) if self.next_start.is_some() && error.status() == Some(StatusCode::BAD_REQUEST) => {
                error
            }
            answered => return answered.map(|page| (page, false)),
        };
        let earlier_on_previous_page = self.previous_page.iter().rev().skip(1).copied();
        for anchor in earlier_on_previous_page.chain(self.previous_start) {
            tracing::info!(cursor = ?self.next_start, %anchor, "the cursor was refused; asking from an earlier backup");
            // An error while healing reports the anchor as where to resume: it exists, and the
            // backups between it and the refused cursor are gone, so resuming there repeats
            // nothing.
            let operation = Operation::List { database_id: self.list.database_id, after: Some(anchor) };
            match fetch(&self.list.client, operation, Some(anchor), retried).await {
                Err(error) if error.status() == Some(StatusCode::BAD_REQUEST) => continue,
                answered => return answered.map(|page| (page, true)),
            }
        }
        Err(refused)
    }

    fn limit_reached(&self) -> bool {
        self.list.max_items.is_some_and(|max| self.delivered >= max)
            || self.list.max_pages.is_some_and(|max| self.pages >= max)
    }
}

/// The page size as a count, when the server reported one. Qovery's spec declares `page_size`
/// a plain `number` with no bounds, so a spec-conforming server may send `-27521212.38` or
/// `1e300`: only a positive whole number is believed (`20.0` counts as `20`); anything else is
/// ignored rather than refused. (`page` is not needed and not read.)
fn page_size(response: &BackupPaginatedResponseList) -> Option<usize> {
    let size = response.page_size;
    let whole_and_positive = size.is_finite() && size >= 1.0 && size.fract() == 0.0;
    (whole_and_positive && size <= u32::MAX as f64).then_some(size as usize)
}

/// One page, with the client's retries unless `retried` is false. A 404 is explained by asking
/// for the database itself (see [`explain_not_found`](crate::discovery::explain_not_found)).
pub(crate) async fn fetch(
    client: &Client,
    operation: Operation,
    start_id: Option<Uuid>,
    retried: bool,
) -> Result<BackupPaginatedResponseList, Error> {
    let wire = client.wire();
    let once = RetryPolicy::never();
    let mut settings = client.retry_settings();
    if !retried {
        settings.policy = &once;
    }
    match retry::run(&settings, operation, Resend::AsIs, |_| wire.list_page(operation, start_id)).await {
        Err(error) if error.status() == Some(StatusCode::NOT_FOUND) => {
            Err(crate::discovery::explain_not_found(client, error).await)
        }
        fetched => fetched,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<Uuid> {
        (0..n).map(|i| Uuid::from_u128(i as u128 + 1)).collect()
    }

    #[test]
    fn a_repeat_within_a_page_or_from_any_earlier_page_is_found() {
        let all = ids(60);
        let mut seen = Seen::default();
        assert_eq!(seen.first_repeat_remembering(&[], &all[..20]), None);
        assert_eq!(seen.first_repeat_remembering(&all[..20], &all[20..40]), None);
        let from_two_pages_back = [all[40], all[3], all[41]];
        assert_eq!(seen.clone().first_repeat_remembering(&all[20..40], &from_two_pages_back), Some(all[3]));
        let twice_on_the_page = [all[40], all[41], all[40]];
        assert_eq!(seen.first_repeat_remembering(&all[20..40], &twice_on_the_page), Some(all[40]));
    }

    #[test]
    fn past_the_exact_limit_cursors_and_the_previous_page_still_count() {
        let mut seen = Seen::default();
        let many: Vec<Uuid> =
            (0..EXACT_SEEN_LIMIT as u128 + 10).map(|i| Uuid::from_u128(u128::MAX - i)).collect();
        assert_eq!(seen.first_repeat_remembering(&[], &many), None);
        assert!(!seen.is_exact());
        assert_eq!(seen.exact.len(), EXACT_SEEN_LIMIT, "memory stops growing at the limit");
        let cursor = Uuid::from_u128(7);
        seen.remember_cursor(cursor);
        let previous = [Uuid::from_u128(8), Uuid::from_u128(9)];
        assert_eq!(seen.first_repeat_remembering(&previous, &[Uuid::from_u128(1), cursor]), Some(cursor));
        assert_eq!(seen.first_repeat_remembering(&previous, &[Uuid::from_u128(9)]), Some(previous[1]));
        assert_eq!(
            seen.first_repeat_remembering(&previous, &[Uuid::from_u128(2), Uuid::from_u128(2)]),
            Some(Uuid::from_u128(2))
        );
        assert_eq!(seen.first_repeat_remembering(&previous, &[Uuid::from_u128(3)]), None);
    }

    #[test]
    fn a_hundred_thousand_distinct_ids_on_one_page_hold_no_repeat() {
        // Speed is the decode benchmark's to prove; this checks that a huge page raises no
        // false alarm, and that its last id, sent again, is caught.
        let mut page = ids(100_000);
        assert_eq!(Seen::default().first_repeat_remembering(&[], &page), None);
        page.push(page[99_999]);
        assert_eq!(Seen::default().first_repeat_remembering(&[], &page), Some(page[99_999]));
    }
}
