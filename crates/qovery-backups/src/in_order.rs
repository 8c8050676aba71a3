//! Streams of several databases run at once and read back one after another.
//!
//! A fleet job's output is the same whatever order the API answers in: results come in the
//! order the databases were given. For one result a database, [`futures`] has it
//! (`buffered`). For a listing a database (many results each), [`Concatenated`] does the same:
//! the first database's items, then the second's, and so on, while up to `concurrency`
//! listings run ahead, each holding at most `lookahead` items until its turn. Memory stays
//! bounded by `concurrency × lookahead` items whatever the databases' sizes; a database larger
//! than the lookahead waits for its turn to go on, so only the first `lookahead` items of each
//! database are fetched ahead.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::stream::{Stream, StreamExt as _};

/// Runs each stream of `streams`, `concurrency` at once, and yields their items one stream
/// after another, in the order given.
pub(crate) fn concatenated<I>(streams: I, concurrency: usize, lookahead: usize) -> Concatenated<I::IntoIter>
where
    I: IntoIterator,
    I::Item: Stream + Unpin,
{
    Concatenated {
        pending: streams.into_iter(),
        running: VecDeque::new(),
        concurrency: concurrency.max(1),
        lookahead: lookahead.max(1),
    }
}

/// The stream [`concatenated`] returns.
pub(crate) struct Concatenated<I: Iterator>
where
    I::Item: Stream,
{
    pending: I,
    /// The stream being read out (front) and those running ahead of it.
    running: VecDeque<Ahead<I::Item>>,
    concurrency: usize,
    lookahead: usize,
}

// Nothing is pinned structurally: the streams are `Unpin` and are polled through `&mut`.
impl<I: Iterator> Unpin for Concatenated<I> where I::Item: Stream {}

struct Ahead<S: Stream> {
    stream: S,
    /// What arrived before its turn.
    held: VecDeque<S::Item>,
    ended: bool,
}

impl<I> Concatenated<I>
where
    I: Iterator,
    I::Item: Stream + Unpin,
{
    /// Lets every stream behind the front one take what has arrived, up to the lookahead. Each
    /// stream polled here that is not ready registers the waker, so the task is woken when it
    /// can go on.
    fn run_ahead(&mut self, cx: &mut Context<'_>) {
        for ahead in self.running.iter_mut().skip(1) {
            while !ahead.ended && ahead.held.len() < self.lookahead {
                match ahead.stream.poll_next_unpin(cx) {
                    Poll::Ready(Some(item)) => ahead.held.push_back(item),
                    Poll::Ready(None) => ahead.ended = true,
                    Poll::Pending => break,
                }
            }
        }
    }
}

impl<I> Stream for Concatenated<I>
where
    I: Iterator + Unpin,
    I::Item: Stream + Unpin,
{
    type Item = <I::Item as Stream>::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            while this.running.len() < this.concurrency {
                let Some(stream) = this.pending.next() else { break };
                this.running.push_back(Ahead { stream, held: VecDeque::new(), ended: false });
            }
            let Some(front) = this.running.front_mut() else { return Poll::Ready(None) };
            if let Some(item) = front.held.pop_front() {
                return Poll::Ready(Some(item));
            }
            if !front.ended {
                match front.stream.poll_next_unpin(cx) {
                    // The streams behind are not polled while the front one has items ready:
                    // the consumer is busy, and polling them once a page (when the front one
                    // waits) rather than once an item keeps the cost of running ahead off
                    // every item.
                    Poll::Ready(Some(item)) => return Poll::Ready(Some(item)),
                    Poll::Ready(None) => front.ended = true,
                    Poll::Pending => {
                        this.run_ahead(cx);
                        return Poll::Pending;
                    }
                }
            }
            this.running.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures::StreamExt as _;
    use futures::stream::{self, BoxStream};

    use super::concatenated;

    /// A stream of `n` items tagged with `tag`, each after `delay`.
    fn slow(tag: u32, n: u32, delay: Duration) -> BoxStream<'static, (u32, u32)> {
        stream::iter(0..n)
            .then(move |i| async move {
                tokio::time::sleep(delay).await;
                (tag, i)
            })
            .boxed()
    }

    #[tokio::test(start_paused = true)]
    async fn items_come_stream_after_stream_whatever_order_they_arrive_in() {
        // The first stream is the slowest: the others finish first but wait for their turn.
        let streams = vec![
            slow(0, 3, Duration::from_millis(30)),
            slow(1, 2, Duration::from_millis(10)),
            slow(2, 4, Duration::from_millis(1)),
        ];
        let items: Vec<_> = concatenated(streams, 3, 100).collect().await;
        assert_eq!(items, [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (2, 0), (2, 1), (2, 2), (2, 3)]);
    }

    #[tokio::test(start_paused = true)]
    async fn streams_run_ahead_concurrently_up_to_the_limit() {
        // Ten streams of five items, 10 ms each: one at a time takes 500 ms, five at a time
        // 100 ms, since each runs ahead while the one before it is read.
        let streams = || (0..10).map(|tag| slow(tag, 5, Duration::from_millis(10)));
        let started = tokio::time::Instant::now();
        assert_eq!(concatenated(streams(), 1, 100).count().await, 50);
        assert_eq!(started.elapsed(), Duration::from_millis(500));

        let started = tokio::time::Instant::now();
        assert_eq!(concatenated(streams(), 5, 100).count().await, 50);
        assert_eq!(started.elapsed(), Duration::from_millis(100));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stream_ahead_holds_no_more_than_the_lookahead() {
        // The second stream can hold 2 items ahead: while the first takes 100 ms, it fetches
        // 2, then waits; its other 3 come 10 ms apart once it is read.
        let streams = vec![slow(0, 1, Duration::from_millis(100)), slow(1, 5, Duration::from_millis(10))];
        let started = tokio::time::Instant::now();
        assert_eq!(concatenated(streams, 2, 2).count().await, 6);
        assert_eq!(started.elapsed(), Duration::from_millis(130));
    }

    #[tokio::test]
    async fn no_streams_is_an_empty_stream() {
        let none: Vec<BoxStream<'static, u8>> = Vec::new();
        assert_eq!(concatenated(none, 4, 4).count().await, 0);
    }
}
