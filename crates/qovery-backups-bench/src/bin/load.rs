//! The mock and the SDK under load, on loopback only, bounded in count and time.
//!
//! ```text
//! cargo run --release -p qovery-backups-bench --bin load
//! ```
//!
//! 1. 1,000 connections held open at once: 1,000 tasks each open their own TCP connection to the
//!    mock, send one request and read the answer; when all 1,000 have their answer, each sends a
//!    second request on the same connection, which proves the server kept every one open.
//! 2. One SDK client (one connection pool) running 256 listings at once, one per database.
//!
//! Both must finish with no error and every backup accounted for. Exits non-zero otherwise.
#![forbid(unsafe_code)]

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::TryStreamExt as _;
use qovery_backups::{Client, RetryPolicy};
use qovery_backups_api::types::BackupPaginatedResponseList;
use qovery_backups_bench::MockThread;
use qovery_backups_mock::{FaultPlan, MockServer, testing};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;
use tokio::sync::Barrier;
use uuid::Uuid;

const CONNECTIONS: usize = 1_000;
const STREAMS: usize = 256;
/// Each phase must end within this, or the test fails instead of hanging.
const PHASE_LIMIT: Duration = Duration::from_secs(120);

fn main() -> ExitCode {
    // Two sockets a connection (client and server side) and a margin for the rest.
    let wanted = (2 * CONNECTIONS + 512) as u64;
    match rlimit::increase_nofile_limit(wanted) {
        Ok(limit) if limit >= wanted => println!("file descriptors: soft limit {limit}"),
        Ok(limit) => {
            println!(
                "error: need {wanted} file descriptors, the hard limit allows {limit}; raise it (ulimit -Hn)"
            );
            return ExitCode::FAILURE;
        }
        Err(e) => println!("warning: cannot read or raise the file-descriptor limit: {e}"),
    }

    // Databases of 0 to 200 backups, so that listings end on empty, short and full pages.
    let counts: Vec<usize> = (0..STREAMS).map(|i| (i * 37) % 201).collect();
    let mock = match MockThread::start(testing::config(counts.clone(), FaultPlan::none())) {
        Ok(mock) => mock,
        Err(e) => {
            println!("error: the mock did not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            println!("error: no runtime: {e}");
            return ExitCode::FAILURE;
        }
    };

    let server = mock.server();
    let mut ok = true;
    for (name, result) in [
        ("1,000 connections", runtime.block_on(bounded(connections(server)))),
        ("256 listings on one pool", runtime.block_on(bounded(streams(server, &counts)))),
    ] {
        match result {
            Ok(summary) => println!("{name}: ok: {summary}"),
            Err(e) => {
                println!("{name}: FAILED: {e}");
                ok = false;
            }
        }
    }
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

async fn bounded(phase: impl Future<Output = Result<String, String>>) -> Result<String, String> {
    tokio::time::timeout(PHASE_LIMIT, phase)
        .await
        .unwrap_or_else(|_| Err(format!("did not finish within {PHASE_LIMIT:?}")))
}

/// 1,000 raw keep-alive connections, all open at once, two requests each.
async fn connections(server: &MockServer) -> Result<String, String> {
    server.clear_requests();
    let database_ids = server.database_ids();
    let started = Instant::now();
    let barrier = Arc::new(Barrier::new(CONNECTIONS));
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..CONNECTIONS {
        let database_id = database_ids[n % database_ids.len()];
        let expected: Vec<Uuid> = server.backups(database_id).iter().take(20).map(|b| b.id).collect();
        let (addr, token, barrier) = (server.addr(), server.token().to_owned(), Arc::clone(&barrier));
        tasks.spawn(async move {
            let stream =
                TcpStream::connect(addr).await.map_err(|e| format!("connection {n}: connect: {e}"))?;
            let mut stream = BufReader::new(stream);
            let first = exchange(&mut stream, database_id, &token)
                .await
                .map_err(|e| format!("connection {n}: {e}"))?;
            // Everyone holds their connection until all 1,000 are open and answered.
            barrier.wait().await;
            let second = exchange(&mut stream, database_id, &token)
                .await
                .map_err(|e| format!("connection {n}: {e}"))?;
            for page in [first, second] {
                let ids: Vec<Uuid> = page.results.iter().map(|b| b.id).collect();
                if ids != expected {
                    return Err(format!(
                        "connection {n}: the first page of {database_id} is not the server's"
                    ));
                }
            }
            Ok::<(), String>(())
        });
    }
    let mut errors = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(())) => {}
            Ok(Err(e)) => errors.push(e),
            Err(e) => errors.push(format!("a task failed: {e}")),
        }
    }
    let elapsed = started.elapsed();
    let answered = server.requests().iter().filter(|r| r.status == Some(200)).count();
    if !errors.is_empty() {
        return Err(format!("{} connection(s) failed, first: {}", errors.len(), errors[0]));
    }
    if answered != 2 * CONNECTIONS {
        return Err(format!(
            "the server answered {answered} requests with 200, expected {}",
            2 * CONNECTIONS
        ));
    }
    Ok(format!(
        "{CONNECTIONS} connections open at once, {} requests answered 200 and checked, in {elapsed:.2?}",
        2 * CONNECTIONS
    ))
}

/// One HTTP/1.1 request on a kept-alive connection, and its answer's body as a page.
async fn exchange(
    stream: &mut BufReader<TcpStream>,
    database_id: Uuid,
    token: &str,
) -> Result<BackupPaginatedResponseList, String> {
    let request = format!(
        "GET /database/{database_id}/backup HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token {token}\r\nAccept: application/json\r\n\r\n"
    );
    stream.get_mut().write_all(request.as_bytes()).await.map_err(|e| format!("send: {e}"))?;
    let mut status_line = String::new();
    stream.read_line(&mut status_line).await.map_err(|e| format!("read status: {e}"))?;
    if !status_line.starts_with("HTTP/1.1 200") {
        return Err(format!("answer `{}`", status_line.trim()));
    }
    let mut length = None;
    loop {
        let mut line = String::new();
        stream.read_line(&mut line).await.map_err(|e| format!("read headers: {e}"))?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let length = length.ok_or("an answer without Content-Length")?;
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await.map_err(|e| format!("read body: {e}"))?;
    serde_json::from_slice(&body).map_err(|e| format!("decode: {e}"))
}

/// 256 listings at once through one SDK client, each compared with the server.
async fn streams(server: &MockServer, counts: &[usize]) -> Result<String, String> {
    server.clear_requests();
    // No retries: under no fault, any error must show.
    let client = Client::builder()
        .token(server.token())
        .base_url(server.base_url())
        .retry(RetryPolicy::never())
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for database_id in server.database_ids() {
        let backups = client.backups(database_id);
        tasks.spawn(async move {
            let ids: Vec<Uuid> =
                backups.list().items().map_ok(|b| b.id).try_collect().await.map_err(|e| e.to_string())?;
            Ok::<_, String>((database_id, ids))
        });
    }
    let (mut listed, mut errors) = (0usize, Vec::new());
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok((database_id, ids))) => {
                let expected: Vec<Uuid> = server.backups(database_id).into_iter().map(|b| b.id).collect();
                if ids != expected {
                    errors.push(format!(
                        "{database_id}: listed {} backups, the server holds {}",
                        ids.len(),
                        expected.len()
                    ));
                }
                listed += ids.len();
            }
            Ok(Err(e)) => errors.push(e),
            Err(e) => errors.push(format!("a task failed: {e}")),
        }
    }
    let elapsed = started.elapsed();
    let requests = server.requests().len();
    if !errors.is_empty() {
        return Err(format!("{} listing(s) failed, first: {}", errors.len(), errors[0]));
    }
    let total: usize = counts.iter().sum();
    if listed != total {
        return Err(format!("listed {listed} backups, the databases hold {total}"));
    }
    Ok(format!(
        "{STREAMS} listings at once, {listed} backups each exactly once and in order, {requests} requests, in {elapsed:.2?}"
    ))
}
