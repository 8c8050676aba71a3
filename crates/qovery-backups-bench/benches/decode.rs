//! Decoding one page of 20 realistic backups: the path the SDK's answers take, against
//! `serde_json::from_slice` into the same generated types.
//!
//! ```text
//! cargo bench -p qovery-backups-bench --bench decode
//! ```
//!
//! The SDK has no decode step of its own: a listing's page is decoded by the generated client,
//! `ResponseValue::from_response` (clone the headers, collect the body, `serde_json::from_slice`),
//! and the wrapper takes it with `into_inner()`. So that is what is measured here, on a real
//! answer of the mock (its body and headers), against a plain `serde_json::from_slice` of the
//! same bytes. Target: ≤ 1.05 ×. A second figure compares it with reqwest's `json()` on the same
//! answer object, which is what the hand-written listing does: the SDK's own share.
#![forbid(unsafe_code)]

use std::time::Duration;

use bytes::Bytes;
use criterion::{Criterion, Throughput};
use futures::executor::block_on;
use qovery_backups_api::ResponseValue;
use qovery_backups_api::types::BackupPaginatedResponseList;
use qovery_backups_bench::{MockThread, machine, measuring, paired};
use qovery_backups_mock::MockConfig;

const TARGET: f64 = 1.05;
/// Decodes per timed round of the paired figure: rounds of a few milliseconds, short enough that
/// most run undisturbed, and many of them.
const DECODES_PER_ROUND: usize = 50;
const PAIRED_ROUNDS: usize = 1000;

/// The answer as reqwest hands it over. Building it is the harness's cost, not the decoder's: it
/// is paid alike by [`through_response_value`] and [`through_reqwest_json`].
fn answer(head: &http::response::Parts, body: &Bytes) -> reqwest::Response {
    let mut answer = http::Response::new(body.clone());
    *answer.status_mut() = head.status;
    *answer.headers_mut() = head.headers.clone();
    reqwest::Response::from(answer)
}

/// The wrapper's path: the generated client's decode, then `into_inner()`.
fn through_response_value(head: &http::response::Parts, body: &Bytes) -> BackupPaginatedResponseList {
    block_on(ResponseValue::<BackupPaginatedResponseList>::from_response::<()>(answer(head, body)))
        .expect("the page decodes")
        .into_inner()
}

/// What the hand-written listing does with the same answer: reqwest's `json()`.
fn through_reqwest_json(head: &http::response::Parts, body: &Bytes) -> BackupPaginatedResponseList {
    block_on(answer(head, body).json()).expect("the page decodes")
}

fn plain_serde_json(body: &Bytes) -> BackupPaginatedResponseList {
    serde_json::from_slice(body).expect("the page decodes")
}

fn main() {
    let mock = MockThread::start(MockConfig {
        databases: 1,
        backups_per_database: vec![45],
        ..MockConfig::default()
    })
    .expect("the mock starts");
    let server = mock.server();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    // A real first page, as the mock serves it: 20 seeded backups with statuses and steps.
    let (head, body) = runtime.block_on(async {
        let answer = reqwest::Client::new()
            .get(format!("{}/database/{}/backup", server.base_url(), server.database_ids()[0]))
            .header("Authorization", format!("Token {}", server.token()))
            .send()
            .await
            .expect("the mock answers");
        let mut head = http::Response::new(());
        *head.status_mut() = answer.status();
        *head.headers_mut() = answer.headers().clone();
        let body = answer.bytes().await.expect("a body");
        (head.into_parts().0, body)
    });
    drop(mock);
    let expected = plain_serde_json(&body);
    assert_eq!(expected.results.len(), 20);
    assert_eq!(through_response_value(&head, &body), expected);
    assert_eq!(through_reqwest_json(&head, &body), expected);
    println!(
        "decode: a page of {} backups, {} bytes, {} headers; machine: {}",
        expected.results.len(),
        body.len(),
        head.headers.len(),
        machine()
    );

    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("decode_page_of_20");
    group.throughput(Throughput::Bytes(body.len() as u64)).measurement_time(Duration::from_secs(5));
    group.bench_function("sdk_path_response_value", |b| b.iter(|| through_response_value(&head, &body)));
    group.bench_function("hand_written_reqwest_json", |b| b.iter(|| through_reqwest_json(&head, &body)));
    group.bench_function("serde_json_from_slice", |b| b.iter(|| plain_serde_json(&body)));
    group.finish();

    if measuring() {
        let many = |decode: &dyn Fn() -> BackupPaginatedResponseList| {
            for _ in 0..DECODES_PER_ROUND {
                std::hint::black_box(decode());
            }
        };
        paired(
            &runtime,
            PAIRED_ROUNDS,
            || async { many(&|| through_response_value(&head, &body)) },
            || async { many(&|| plain_serde_json(&body)) },
        )
        .report(
            "decoding a page of 20 backups",
            "A: ResponseValue::from_response (SDK)",
            "B: serde_json::from_slice",
            TARGET,
        );
        // The same answer object on both sides: what the SDK's path adds to reqwest's `json()`.
        paired(
            &runtime,
            PAIRED_ROUNDS,
            || async { many(&|| through_response_value(&head, &body)) },
            || async { many(&|| through_reqwest_json(&head, &body)) },
        )
        .report(
            "decoding a page of 20 backups, both from a reqwest::Response",
            "A: ResponseValue::from_response (SDK)",
            "B: reqwest::Response::json (hand-written)",
            TARGET,
        );
    }
    criterion.final_summary();
}
