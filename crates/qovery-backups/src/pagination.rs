//! Listing as streams: lazy, one request in flight, nothing lost and nothing repeated.
//!
//! The API pages newest first; `startId` is the id of the last backup already seen. There is
//! no total and no next link, so the listing ends on an empty page or on one shorter than the
//! `page_size` the server reports.

use std::collections::HashSet;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::future::Either;
use futures::stream::{BoxStream, Stream, StreamExt as _};
use qovery_backups_api::types::{Backup, BackupPaginatedResponseList};
use uuid::Uuid;

use crate::response::translate;
use crate::{Client, Error, Operation, retry};

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct BackupPage {
    /// The database listed.
    pub database_id: Uuid,
    /// 1 for the first page of this listing, then 2, 3, …
    pub number: u64,
    /// The page size the server reported.
    pub page_size: i64,
    /// The backups, newest first.
    pub backups: Vec<Backup>,
}

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
    max_items: Option<u64>,
    max_pages: Option<u64>,
}

impl ListRequest {
    pub(crate) fn new(client: Client, database_id: Uuid) -> Self {
        ListRequest { client, database_id, start_after: None, max_items: None, max_pages: None }
    }

    /// Starts after this backup: the listing continues with the next older one. This is how
    /// an interrupted listing resumes (see [`Error::resume_after`]).
    pub fn start_after(mut self, backup_id: Uuid) -> Self {
        self.start_after = Some(backup_id);
        self
    }

    /// Stops after this many backups.
    pub fn max_items(mut self, max: u64) -> Self {
        self.max_items = Some(max);
        self
    }

    /// Stops after this many pages.
    pub fn max_pages(mut self, max: u64) -> Self {
        self.max_pages = Some(max);
        self
    }

    /// The listing page by page. The next page is requested only when this one has been taken.
    pub fn pages(self) -> Pages {
        let state = Cursor {
            list: self.clone(),
            next_start: self.start_after,
            delivered: 0,
            pages: 0,
            seen_cursors: HashSet::new(),
            previous_page: Vec::new(),
            finished: false,
        };
        Pages { inner: futures::stream::unfold(state, Cursor::next).boxed() }
    }

    /// The listing backup by backup, newest first.
    pub fn items(self) -> Items {
        let backups = self.pages().flat_map(|page| match page {
            Ok(page) => Either::Left(futures::stream::iter(page.backups.into_iter().map(Ok))),
            Err(e) => Either::Right(futures::stream::once(futures::future::ready(Err(e)))),
        });
        Items { inner: backups.boxed() }
    }
}

/// The stream of [`BackupPage`]s from [`ListRequest::pages`]. After an error it ends.
pub struct Pages {
    inner: BoxStream<'static, Result<BackupPage, Error>>,
}

/// The stream of backups from [`ListRequest::items`]. After an error it ends.
pub struct Items {
    inner: BoxStream<'static, Result<Backup, Error>>,
}

impl Stream for Pages {
    type Item = Result<BackupPage, Error>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl Stream for Items {
    type Item = Result<Backup, Error>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl std::fmt::Debug for Pages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pages { .. }")
    }
}

impl std::fmt::Debug for Items {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Items { .. }")
    }
}

/// Where a listing stands.
struct Cursor {
    list: ListRequest,
    next_start: Option<Uuid>,
    delivered: u64,
    pages: u64,
    /// Every cursor sent so far: a server that sends one back would make us loop.
    seen_cursors: HashSet<Uuid>,
    /// The ids of the previous page, to catch pages that overlap. Older pages are covered by
    /// their cursors; keeping every id would make memory grow with the listing.
    previous_page: Vec<Uuid>,
    finished: bool,
}

impl Cursor {
    async fn next(mut self) -> Option<(Result<BackupPage, Error>, Cursor)> {
        if self.finished || self.limit_reached() {
            return None;
        }
        let database_id = self.list.database_id;
        let response = match fetch(&self.list.client, database_id, self.next_start).await {
            Ok(response) => response,
            Err(source) => {
                self.finished = true;
                let error = Error::ListInterrupted {
                    database_id,
                    resume_after: self.next_start,
                    delivered: self.delivered,
                    source: Box::new(source),
                };
                return Some((Err(error), self));
            }
        };
        self.pages += 1;
        let mut backups = response.results;
        if backups.is_empty() {
            return None;
        }
        if let Some(repeated_id) = self.first_repeat(&backups) {
            self.finished = true;
            return Some((Err(Error::PaginationLoop { database_id, repeated_id, pages: self.pages }), self));
        }

        // A short page is the last one. A server reporting no usable page size leaves only
        // the empty page as the end.
        let page_size = response.page_size;
        if page_size > 0 && (backups.len() as i64) < page_size {
            self.finished = true;
        }
        if let Some(max) = self.list.max_items {
            let room = usize::try_from(max - self.delivered).unwrap_or(usize::MAX);
            backups.truncate(room);
        }
        let last = backups.last().map(|b| b.id);
        self.seen_cursors.extend(last);
        self.previous_page.clear();
        self.previous_page.extend(backups.iter().map(|b| b.id));
        self.next_start = last;
        self.delivered += backups.len() as u64;
        let page = BackupPage { database_id, number: self.pages, page_size, backups };
        Some((Ok(page), self))
    }

    fn limit_reached(&self) -> bool {
        self.list.max_items.is_some_and(|max| self.delivered >= max)
            || self.list.max_pages.is_some_and(|max| self.pages >= max)
    }

    /// An id this listing already delivered (as a cursor or on the previous page), or one that
    /// appears twice on this page.
    ///
    /// A page is a few dozen ids: scanning them is cheaper than hashing each id into a set, and
    /// this runs for every page of every listing.
    fn first_repeat(&self, backups: &[Backup]) -> Option<Uuid> {
        backups
            .iter()
            .enumerate()
            .find(|(i, backup)| {
                self.seen_cursors.contains(&backup.id)
                    || self.previous_page.contains(&backup.id)
                    || backups[..*i].iter().any(|earlier| earlier.id == backup.id)
            })
            .map(|(_, backup)| backup.id)
    }
}

/// One page, with retries.
pub(crate) async fn fetch(
    client: &Client,
    database_id: Uuid,
    start_after: Option<Uuid>,
) -> Result<BackupPaginatedResponseList, Error> {
    let operation = Operation::List { database_id };
    retry::run(&client.inner.retry, client.inner.timeout, operation, |_| {
        fetch_once(client, database_id, start_after)
    })
    .await
}

/// One page, one attempt.
pub(crate) async fn fetch_once(
    client: &Client,
    database_id: Uuid,
    start_after: Option<Uuid>,
) -> Result<BackupPaginatedResponseList, Error> {
    let mut request = client.api().list_database_backup().database_id(database_id);
    if let Some(start) = start_after {
        request = request.start_id(start);
    }
    match request.send().await {
        Ok(page) => Ok(page.into_inner()),
        Err(e) => {
            Err(translate::<BackupPaginatedResponseList>(client, Operation::List { database_id }, e).await)
        }
    }
}
