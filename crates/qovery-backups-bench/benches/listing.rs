//! Listing throughput: the SDK's `items()` over 100,000 backups (5,000 pages of 20) against the
//! least hand-written reqwest + serde_json loop that lists the same database correctly.
//!
//! ```text
//! cargo bench -p qovery-backups-bench --bench listing
//! ```
//!
//! Both sides list the same in-process mock (on its own thread and runtime), decode into the same
//! generated `BackupPaginatedResponseList`, follow the same `startId` cursor and send the same
//! headers (`Authorization: Token`, and the generated client's `Accept`, `api-version` and one
//! `User-Agent`), each with one `reqwest::Client` reused across iterations. The mock's work,
//! serializing pages and logging requests, is then the same for both sides. Target: SDK ≤ 1.05 ×
//! hand-written.
#![forbid(unsafe_code)]

use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput};
use qovery_backups::Client;
use qovery_backups_bench::{
    BENCH_USER_AGENT, MockThread, hand_written_listing, machine, measuring, paired, sdk_listing,
};
use qovery_backups_mock::{FaultPlan, testing};

const BACKUPS: usize = 100_000;
const TARGET: f64 = 1.05;
const PAIRED_ROUNDS: usize = 20;

fn main() {
    let mock = MockThread::start(testing::config(vec![BACKUPS], FaultPlan::none())).expect("the mock starts");
    let server = mock.server();
    let database_id = server.database_ids()[0];
    let (base_url, token) = (server.base_url().to_owned(), server.token().to_owned());
    let sdk = Client::builder()
        .token(&token)
        .base_url(&base_url)
        .user_agent(BENCH_USER_AGENT)
        .build()
        .expect("the client builds");
    let http = reqwest::Client::builder().user_agent(BENCH_USER_AGENT).build().expect("an HTTP client");
    // One thread for the client, as the mock has one of its own.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");

    // Both sides must see everything, or the comparison means nothing.
    let by_hand = runtime.block_on(hand_written_listing(&http, &base_url, &token, database_id));
    assert_eq!(by_hand.expect("the hand-written loop lists the mock"), BACKUPS as u64);
    assert_eq!(
        runtime.block_on(sdk_listing(&sdk, database_id)).expect("the SDK lists the mock"),
        BACKUPS as u64
    );
    println!("listing: {BACKUPS} backups in pages of 20; machine: {}", machine());

    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("listing_100k");
    // Each iteration is 5,000 requests: few, flat samples are enough and keep the run short.
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(15))
        .throughput(Throughput::Elements(BACKUPS as u64));
    group.bench_function("sdk_items", |b| b.to_async(&runtime).iter(|| sdk_listing(&sdk, database_id)));
    group.bench_function("hand_written_reqwest", |b| {
        b.to_async(&runtime).iter(|| async {
            hand_written_listing(&http, &base_url, &token, database_id).await.expect("lists")
        })
    });
    group.finish();

    // The figure: both sides in alternation, so that the machine's drift weighs on both.
    if measuring() {
        paired(
            &runtime,
            PAIRED_ROUNDS,
            || sdk_listing(&sdk, database_id),
            || async { hand_written_listing(&http, &base_url, &token, database_id).await.expect("lists") },
        )
        .report(
            "listing 100,000 backups",
            "A: SDK backups(db).list().items()",
            "B: hand-written reqwest + serde_json",
            TARGET,
        );
    }
    criterion.final_summary();
}
