//! `list_many` over 100 databases of 100 backups each, 20 ms of server latency a page,
//! concurrency 16, in real time, against the ideal schedule.
//!
//! ```text
//! cargo bench -p qovery-backups-bench --bench concurrency
//! ```
//!
//! A database of 100 backups takes 6 pages (5 full, then an empty one that ends the listing).
//! With 16 listings at a time, the ideal is ceil(100 / 16) = 7 rounds × 6 pages × 20 ms = 840 ms.
//! Target: ≤ 1.1 × ideal. Databases come out one after another in the order given
//! (`ListMany` runs the next ones ahead), which costs nothing here: each database's 100
//! backups fit in its lookahead.
#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput};
use futures::{StreamExt as _, TryStreamExt as _};
use qovery_backups::Client;
use qovery_backups_bench::{
    BENCH_USER_AGENT, MockThread, hand_written_listing, machine, measuring, median, named_thread_cpu_seconds,
    seconds, thread_cpu_seconds, verdict,
};
use qovery_backups_mock::{FaultPlan, MockConfig, testing};
use uuid::Uuid;

const DATABASES: usize = 100;
const BACKUPS: usize = 100;
const CONCURRENCY: usize = 16;
const LATENCY: Duration = Duration::from_millis(20);
const PAGES_EACH: u32 = 6;
const TARGET: f64 = 1.1;
const TIMED_ROUNDS: usize = 7;

/// The same work written by hand: 16 listings at a time with reqwest and serde_json, in
/// whatever order they finish (no ordering, no retries, no limits): the floor any client reaches
/// on this machine against this mock.
async fn list_all_by_hand(http: &reqwest::Client, base_url: &str, token: &str, database_ids: &[Uuid]) -> u64 {
    futures::stream::iter(database_ids.iter().copied())
        .map(|database_id| hand_written_listing(http, base_url, token, database_id))
        .buffer_unordered(CONCURRENCY)
        .try_fold(0u64, |n, count| async move { Ok(n + count) })
        .await
        .expect("the hand-written loop lists the mock")
}

async fn list_all(client: &Client, database_ids: &[Uuid]) -> u64 {
    client
        .list_many(database_ids)
        .concurrency(CONCURRENCY)
        .items()
        .try_fold(0u64, |n, _| async move { Ok(n + 1) })
        .await
        .expect("list_many lists the mock")
}

fn main() {
    let mock = MockThread::start(MockConfig {
        latency: LATENCY,
        ..testing::config(vec![BACKUPS; DATABASES], FaultPlan::none())
    })
    .expect("the mock starts");
    let server = mock.server();
    let database_ids = server.database_ids();
    let client = Client::builder()
        .token(server.token())
        .base_url(server.base_url())
        .build()
        .expect("the client builds");
    let http = reqwest::Client::builder().user_agent(BENCH_USER_AGENT).build().expect("an HTTP client");
    let (base_url, token) = (server.base_url().to_owned(), server.token().to_owned());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    assert_eq!(runtime.block_on(list_all(&client, &database_ids)), (DATABASES * BACKUPS) as u64);
    let by_hand = runtime.block_on(list_all_by_hand(&http, &base_url, &token, &database_ids));
    assert_eq!(by_hand, (DATABASES * BACKUPS) as u64);

    let rounds = DATABASES.div_ceil(CONCURRENCY) as u32;
    let ideal = LATENCY * PAGES_EACH * rounds;
    println!(
        "concurrency: {DATABASES} databases × {BACKUPS} backups, {LATENCY:?} a page, concurrency {CONCURRENCY}; \
         ideal {rounds} rounds × {PAGES_EACH} pages × {LATENCY:?} = {ideal:?}; machine: {}",
        machine()
    );

    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("list_many_100x100_20ms_c16");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements((DATABASES * BACKUPS) as u64));
    group.bench_function("list_many", |b| b.to_async(&runtime).iter(|| list_all(&client, &database_ids)));
    group.finish();

    if measuring() {
        // The hand-written floor first, in the same process against the same mock.
        let by_hand: Vec<f64> = (0..TIMED_ROUNDS)
            .map(|_| {
                let started = Instant::now();
                runtime.block_on(list_all_by_hand(&http, &base_url, &token, &database_ids));
                started.elapsed().as_secs_f64()
            })
            .collect();
        let (client_cpu, mock_cpu) = (thread_cpu_seconds(), named_thread_cpu_seconds("mock"));
        let times: Vec<f64> = (0..TIMED_ROUNDS)
            .map(|_| {
                let started = Instant::now();
                runtime.block_on(list_all(&client, &database_ids));
                started.elapsed().as_secs_f64()
            })
            .collect();
        // Where the time beyond the ideal goes: the pages' CPU work on 2 cores, which the ideal
        // (latency only) leaves out.
        let busy = |before: Option<f64>, after: Option<f64>| match (before, after) {
            (Some(before), Some(after)) => {
                format!("{:.0} ms", (after - before) * 1000.0 / TIMED_ROUNDS as f64)
            }
            _ => "unknown".to_owned(),
        };
        let client_busy = busy(client_cpu, thread_cpu_seconds());
        let mock_busy = busy(mock_cpu, named_thread_cpu_seconds("mock"));
        let ratio = median(&times) / ideal.as_secs_f64();
        let mut sorted = times.clone();
        sorted.sort_by(f64::total_cmp);
        println!("\n== list_many, {TIMED_ROUNDS} timed runs");
        println!(
            "  median {} (fastest {}, slowest {}); ideal {ideal:?}",
            seconds(median(&times)),
            seconds(sorted[0]),
            seconds(sorted[sorted.len() - 1])
        );
        println!("  ratio to ideal: {ratio:.3}; target <= {TARGET:.2}: {}", verdict(ratio <= TARGET));
        println!(
            "  hand-written reqwest + serde_json, 16 at a time, unordered: median {}; list_many / hand-written: {:.3}",
            seconds(median(&by_hand)),
            median(&times) / median(&by_hand)
        );
        println!(
            "  CPU a run: client thread {client_busy}, mock thread {mock_busy} ({} pages of 20 each way)",
            DATABASES as u32 * PAGES_EACH
        );
        // Not a target, for scale: the work alone, spread perfectly over 16 slots.
        let bound = LATENCY * PAGES_EACH * DATABASES as u32 / CONCURRENCY as u32;
        println!("  (lower bound if listings started the moment a slot frees: {bound:?})");
    }
    criterion.final_summary();
}
