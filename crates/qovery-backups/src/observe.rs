//! Typed events for progress displays and metrics.
//!
//! Tracing is for people reading logs; an [`Observer`] is for programs that count: a progress
//! line, a soak test, a metrics exporter. Events are plain values with documented fields, so
//! nothing downstream depends on a span's name or a log message's wording. With no observer
//! set, emitting an event costs one branch.

use std::sync::Arc;
use std::time::Duration;

use qovery_backups_api::types::Backup;
use uuid::Uuid;

use crate::{Error, Operation};

/// Something the client did. Passed by reference to [`Observer::on_event`]; new variants may be
/// added, so match with a catch-all arm.
///
/// ```
/// use qovery_backups::Event;
///
/// fn progress_line(event: &Event<'_>) -> Option<String> {
///     match event {
///         Event::Retrying { operation, attempt, delay, error } => {
///             Some(format!("{operation}: attempt {attempt} failed ({error}); again in {delay:?}"))
///         }
///         Event::PageReceived { number, backups, .. } => Some(format!("page {number}: {backups} backups")),
///         Event::BackupStatus { backup, elapsed, .. } => {
///             Some(format!("{}: {:?} after {}s", backup.id, backup.action_status(), elapsed.as_secs()))
///         }
///         _ => None,
///     }
/// }
///
/// let event = Event::PageReceived { database_id: uuid::Uuid::nil(), number: 2, backups: 20 };
/// assert_eq!(progress_line(&event).as_deref(), Some("page 2: 20 backups"));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// An attempt at a call is about to be sent.
    AttemptStarted {
        /// The call.
        operation: &'a Operation,
        /// 1 for the first attempt.
        attempt: u32,
    },
    /// An attempt ended: answered with success, or failed (whether or not it will be retried).
    /// Exactly one follows each [`AttemptStarted`](Event::AttemptStarted), so a metrics exporter
    /// can count requests by how they ended.
    AttemptFinished {
        /// The call.
        operation: &'a Operation,
        /// 1 for the first attempt.
        attempt: u32,
        /// `Ok` when the API answered with success; the error otherwise (its
        /// [`status`](Error::status) is the HTTP status when the API answered at all).
        outcome: Result<(), &'a Error>,
    },
    /// An attempt failed and will be tried again after `delay`.
    Retrying {
        /// The call.
        operation: &'a Operation,
        /// The attempt that failed, from 1.
        attempt: u32,
        /// How long the client waits before the next attempt.
        delay: Duration,
        /// Why the attempt failed.
        error: &'a Error,
    },
    /// A listing received a page and is about to deliver its backups.
    PageReceived {
        /// The database listed.
        database_id: Uuid,
        /// 1 for the first page of this listing.
        number: usize,
        /// How many backups the page delivers (after any repeats were dropped).
        backups: usize,
    },
    /// A backup waited on ([`Backups::wait`](crate::Backups::wait)) was seen with a status
    /// other than the one seen before: once when first seen (or created), then at each change,
    /// not at each poll.
    BackupStatus {
        /// The database.
        database_id: Uuid,
        /// The backup as just listed; its status is
        /// [`action_status`](qovery_backups_api::types::Backup::action_status).
        backup: &'a Backup,
        /// Time since the wait started.
        elapsed: Duration,
    },
}

/// Receives the client's [`Event`]s. Set one with
/// [`ClientBuilder::observer`](crate::ClientBuilder::observer). Called inline on the task making
/// the call: keep it quick and non-blocking (count, send on a channel).
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
/// use qovery_backups::{Client, Event, Observer};
///
/// #[derive(Default)]
/// struct Counts { pages: AtomicU64, retries: AtomicU64 }
///
/// impl Observer for Counts {
///     fn on_event(&self, event: &Event<'_>) {
///         match event {
///             Event::PageReceived { .. } => { self.pages.fetch_add(1, Relaxed); }
///             Event::Retrying { .. } => { self.retries.fetch_add(1, Relaxed); }
///             _ => {}
///         }
///     }
/// }
///
/// let counts = std::sync::Arc::new(Counts::default());
/// let client = Client::builder().token("qov_example").observer(counts.clone()).build()?;
/// # let _ = client;
/// # Ok::<(), qovery_backups::Error>(())
/// ```
pub trait Observer: Send + Sync + 'static {
    /// Called for each event.
    fn on_event(&self, event: &Event<'_>);
}

impl<T: Observer + ?Sized> Observer for Arc<T> {
    fn on_event(&self, event: &Event<'_>) {
        (**self).on_event(event);
    }
}

/// The client's observer, if any.
#[derive(Clone, Default)]
pub(crate) struct Observers(Option<Arc<dyn Observer>>);

impl Observers {
    pub(crate) fn new(observer: Option<Arc<dyn Observer>>) -> Self {
        Observers(observer)
    }

    /// Hands `event` to the observer. Events are a few references and integers, so building
    /// one for nobody costs nothing worth a closure.
    pub(crate) fn emit(&self, event: &Event<'_>) {
        if let Some(observer) = &self.0 {
            observer.on_event(event);
        }
    }
}

impl std::fmt::Debug for Observers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Some(Observer)" } else { "None" })
    }
}
