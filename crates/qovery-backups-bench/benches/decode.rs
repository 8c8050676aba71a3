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
//!
//! Then one page of 100,000 backups (`decode_page_of_100k`), a server that ignores the usual 20:
//! decoded in-process as above, and listed whole through the SDK's `items()` (receive, decode,
//! check every id for a repeat, deliver) from pre-rendered bytes served on loopback by a thread
//! that does nothing else. Target: well under a second. The page is 84 MB (80 MiB) of JSON, past
//! the client's default response limit of 8 MiB (`DEFAULT_MAX_RESPONSE_BYTES`), so that client
//! sets `max_response_bytes` to 256 MiB.
#![forbid(unsafe_code)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, Throughput};
use futures::executor::block_on;
use qovery_backups::Client;
use qovery_backups_api::ResponseValue;
use qovery_backups_api::types::BackupPaginatedResponseList;
use qovery_backups_bench::{
    BENCH_USER_AGENT, MockThread, machine, measuring, median, paired, sdk_listing, seconds,
};
use qovery_backups_mock::{FaultPlan, MockConfig, testing};
use uuid::Uuid;

const TARGET: f64 = 1.05;
/// Decodes per timed round of the paired figure: rounds of a few milliseconds, short enough that
/// most run undisturbed, and many of them.
const DECODES_PER_ROUND: usize = 50;
const PAIRED_ROUNDS: usize = 1000;
/// The backups on the one huge page.
const HUGE: usize = 100_000;
/// The client's response limit for the huge page: its default (8 MiB) is far too small.
const HUGE_LIMIT: u64 = 256 << 20;
/// Whole listings of the huge page timed for the figure.
const HUGE_ROUNDS: usize = 15;

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
    let mock = MockThread::start(testing::config(vec![45], FaultPlan::none())).expect("the mock starts");
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
    huge_page(&mut criterion, &runtime);
    criterion.final_summary();
}

/// The status line and headers of a JSON answer of `len` bytes.
fn head_of(len: usize) -> Vec<u8> {
    format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len}\r\n\r\n").into_bytes()
}

/// The mock's first two answers for one database of [`HUGE`] backups with a page size of as
/// many: the huge page, then the empty page after it. Rendered once, before timing.
fn render_huge(runtime: &tokio::runtime::Runtime) -> (Uuid, String, Vec<u8>, Vec<u8>) {
    let mock =
        MockThread::start(MockConfig { page_size: HUGE, ..testing::config(vec![HUGE], FaultPlan::none()) })
            .expect("the mock starts");
    let server = mock.server();
    let database_id = server.database_ids()[0];
    let get = |start_id: Option<Uuid>| {
        let mut url = format!("{}/database/{database_id}/backup", server.base_url());
        if let Some(id) = start_id {
            url.push_str(&format!("?startId={id}"));
        }
        let request =
            reqwest::Client::new().get(url).header("Authorization", format!("Token {}", server.token()));
        runtime.block_on(async {
            request.send().await.expect("the mock answers").bytes().await.expect("a body")
        })
    };
    let first = get(None);
    let page: BackupPaginatedResponseList = serde_json::from_slice(&first).expect("the huge page decodes");
    assert_eq!(page.results.len(), HUGE);
    let last = page.results.last().map(|b| b.id);
    let empty = get(last);
    (database_id, server.token().to_owned(), first.to_vec(), empty.to_vec())
}

/// Serves the two pre-rendered answers on loopback: the huge page without `startId`, the empty
/// page with one. A thread per connection, a header scan and one `write` a request.
fn serve_huge(first: Vec<u8>, empty: Vec<u8>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let addr = listener.local_addr().expect("an address");
    let answers = Arc::new(([head_of(first.len()), first].concat(), [head_of(empty.len()), empty].concat()));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let answers = Arc::clone(&answers);
            std::thread::spawn(move || serve(stream, &answers));
        }
    });
    addr
}

fn serve(stream: TcpStream, (first, empty): &(Vec<u8>, Vec<u8>)) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let answer = if line.contains("startId=") { empty } else { first };
        // Headers until the blank line; a GET has no body.
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            if line.trim_end().is_empty() {
                break;
            }
        }
        writer.write_all(answer)?;
    }
}

/// One page of [`HUGE`] backups: decoded in-process, and listed through the SDK from loopback.
fn huge_page(criterion: &mut Criterion, runtime: &tokio::runtime::Runtime) {
    let (database_id, token, first, empty) = render_huge(runtime);
    let page_bytes = Bytes::from(first.clone());
    let mut head = http::Response::new(());
    head.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    let (head, ()) = head.into_parts();
    let addr = serve_huge(first, empty);
    let client = Client::builder()
        .token(&token)
        .base_url(format!("http://{addr}"))
        .user_agent(BENCH_USER_AGENT)
        .max_response_bytes(HUGE_LIMIT)
        .build()
        .expect("the client builds");
    assert_eq!(
        runtime.block_on(sdk_listing(&client, database_id)).expect("the SDK lists the huge page"),
        HUGE as u64
    );
    assert_eq!(through_response_value(&head, &page_bytes).results.len(), HUGE);
    println!(
        "decode: one page of {HUGE} backups, {} bytes ({:.1} MiB); the client's response limit set to {} MiB",
        page_bytes.len(),
        page_bytes.len() as f64 / (1 << 20) as f64,
        HUGE_LIMIT >> 20
    );

    let mut group = criterion.benchmark_group("decode_page_of_100k");
    group
        .sampling_mode(criterion::SamplingMode::Flat)
        .sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements(HUGE as u64));
    group
        .bench_function("sdk_path_response_value", |b| b.iter(|| through_response_value(&head, &page_bytes)));
    group.bench_function("sdk_items_over_loopback", |b| {
        b.to_async(runtime).iter(|| sdk_listing(&client, database_id))
    });
    group.finish();

    if measuring() {
        let mut walls = Vec::with_capacity(HUGE_ROUNDS);
        for _ in 0..HUGE_ROUNDS {
            let started = Instant::now();
            assert_eq!(
                runtime.block_on(sdk_listing(&client, database_id)).expect("the SDK lists the huge page"),
                HUGE as u64
            );
            walls.push(started.elapsed().as_secs_f64());
        }
        let worst = walls.iter().copied().fold(0.0, f64::max);
        println!(
            "listing one page of {HUGE} backups through items() from loopback: median {}, worst {} of {HUGE_ROUNDS} (target: well under 1 s)",
            seconds(median(&walls)),
            seconds(worst)
        );
    }
}
