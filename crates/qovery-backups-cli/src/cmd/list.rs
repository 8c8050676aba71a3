//! `qovery-backups list`: every backup of one or more databases, written as it arrives,
//! database after database in the order given.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use futures::StreamExt as _;
use futures::stream::BoxStream;
use qovery_backups::{DatabaseBackup, ListMany};

use crate::cli::{Global, ListArgs};
use crate::cmd::{client_builder, default_format};
use crate::observe::{Counters, Progress};
use crate::outcome::{Failure, Outcome};
use crate::output::{self, BackupWriter};

/// Items fetched by a task of their own, up to about two pages ahead of the consumer.
///
/// A listing is a chain of requests, each waiting for the page before it. Driven from the
/// writing loop, the next request would leave only once the current page is written, and the
/// server's and network's share of every page would add to the wall time. Fetched by a task
/// that hands over whole pages, the next request is on its way while the current page is
/// written. Order, errors and `--limit` are the stream's own; only the timing changes.
fn ahead<T: Send + 'static>(items: BoxStream<'static, T>) -> BoxStream<'static, T> {
    // One page in the channel, one being written: memory stays a few pages whatever the length.
    let (pages_tx, pages_rx) = tokio::sync::mpsc::channel::<Vec<T>>(1);
    tokio::spawn(async move {
        // The items of one page are ready together, and the next page is not: `ready_chunks`
        // cuts the stream at page boundaries without knowing the page size.
        let mut pages = items.ready_chunks(64);
        while let Some(page) = pages.next().await {
            if pages_tx.send(page).await.is_err() {
                // The writer stopped (an error writing the output): stop fetching.
                return;
            }
        }
    });
    futures::stream::unfold(pages_rx, |mut pages_rx| async move {
        pages_rx.recv().await.map(|page| (futures::stream::iter(page), pages_rx))
    })
    .flatten()
    .boxed()
}

/// Writes every backup as it arrives. Errors of one database do not stop the others; what was
/// received is written (and the JSON array closed) before any error is reported.
pub async fn run(global: &Global, args: ListArgs, counters: Arc<Counters>) -> Result<Outcome, Failure> {
    let client = client_builder(global).observer(counters.clone()).build()?;
    let database_ids = args.databases.readable_ids(&client, global.quiet).await?;
    if args.start_after.is_some() && database_ids.len() > 1 {
        return Err(Failure::Usage(
            "--start-after continues one database's listing: give exactly one DATABASE_ID".into(),
        ));
    }
    let format = default_format(args.output);
    let progress = Progress::start(counters.clone(), global.quiet);
    let mut writer = BackupWriter::new(output::stdout(), format);
    let mut errors = Vec::new();

    let (start_after, limit) = (args.start_after, args.limit);
    let listings = database_ids.into_iter().map(|database_id| {
        let list = client.backups(database_id).list().start_after(start_after);
        match limit {
            Some(limit) => list.max_items(limit),
            None => list,
        }
    });
    let many = ListMany::from_requests(listings).concurrency(args.concurrency.get);
    let mut items = ahead(many.items().boxed());
    while let Some(item) = items.next().await {
        match item {
            Ok(DatabaseBackup { database_id, backup, .. }) => {
                writer.write(database_id, &backup)?;
                counters.items.fetch_add(1, Relaxed);
            }
            Err(e) => errors.push(e),
        }
    }
    writer.finish()?;
    progress.finish();
    if errors.is_empty() { Ok(Outcome::Success) } else { Err(Failure::Api(errors)) }
}
