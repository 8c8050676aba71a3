//! The one stream type every listing returns.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::stream::{BoxStream, Stream};
use sync_wrapper::SyncWrapper;

use crate::Error;

/// A stream of `Result<T, Error>` from a listing: [`Pages`](crate::Pages),
/// [`Items`](crate::Items) and [`ManyItems`](crate::ManyItems) are this type with their item.
/// It is lazy (nothing is requested until it is polled), `Send`, `Sync` and `Unpin`, so it can
/// be moved into a spawned task or kept in a shared struct. A single database's listing ends
/// after its first error.
///
/// ```no_run
/// # async fn run(client: qovery_backups::Client, database_id: uuid::Uuid) -> Result<(), qovery_backups::Error> {
/// use futures::TryStreamExt as _;
/// use qovery_backups::{Backup, ListStream};
///
/// let items: ListStream<Backup> = client.backups(database_id).list().items();
/// let names: Vec<String> = items.map_ok(|backup| backup.name).try_collect().await?;
/// # Ok(())
/// # }
/// ```
#[must_use = "a listing does nothing until its stream is polled"]
pub struct ListStream<T> {
    inner: Boxed<Result<T, Error>>,
}

impl<T> ListStream<T> {
    pub(crate) fn new(inner: impl Stream<Item = Result<T, Error>> + Send + 'static) -> Self {
        ListStream { inner: Boxed::new(inner) }
    }
}

impl<T> Stream for ListStream<T> {
    type Item = Result<T, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.poll_next(cx)
    }
}

/// A boxed stream that is `Sync` whatever it holds. The futures inside a listing (reqwest's,
/// among others) are `Send` but not `Sync`; a stream is only ever polled through `&mut`, so
/// [`SyncWrapper`], which gives no access through `&`, makes it `Sync` soundly. Without it a
/// caller could not keep a stream in a struct shared behind an `Arc`.
pub(crate) struct Boxed<T> {
    inner: SyncWrapper<BoxStream<'static, T>>,
}

impl<T> Boxed<T> {
    pub(crate) fn new(inner: impl Stream<Item = T> + Send + 'static) -> Self {
        Boxed { inner: SyncWrapper::new(Box::pin(inner)) }
    }

    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.inner.get_mut().as_mut().poll_next(cx)
    }
}

impl<T> std::fmt::Debug for ListStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ListStream<{}> {{ .. }}", std::any::type_name::<T>())
    }
}
