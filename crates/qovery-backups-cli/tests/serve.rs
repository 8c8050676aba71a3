//! `serve`: the real binary, exporting the mock fleet's freshness over HTTP on 127.0.0.1.

mod common;

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{ndjson, run, stderr};
use qovery_backups_mock::{FaultPlan, Fleet, MockConfig, MockServer, testing};

/// How long anything the tests wait for may take on a slow, shared machine.
const DEADLINE: Duration = Duration::from_secs(60);

async fn fleet(latency: Duration) -> MockServer {
    testing::start(MockConfig { databases: 1, fleet: Fleet::sample(), latency, ..MockConfig::default() })
        .await
}

/// A running `serve`, killed if the test ends before it exits.
struct Exporter {
    child: Child,
    url: String,
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `serve` on a free port against `server`, and reads the address it prints first.
async fn serve(server: &MockServer, args: &[&str]) -> Exporter {
    let mut command = Command::new(env!("CARGO_BIN_EXE_qovery-backups"));
    command
        .arg("serve")
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .args(["--api-url", server.base_url(), "--initial-backoff", "1ms"])
        .env("QOVERY_API_TOKEN", server.token())
        .env_remove("QOVERY_API_URL")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let first = tokio::task::spawn_blocking(move || BufReader::new(stdout).lines().next().unwrap().unwrap())
        .await
        .unwrap();
    let url = first.strip_prefix("listening on ").unwrap_or_else(|| panic!("first line: {first}")).to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    Exporter { child, url }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(10)).build().unwrap()
}

async fn get(client: &reqwest::Client, url: &str) -> (u16, String) {
    let response = client.get(url).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Polls `url` until it answers 200, every 50ms, for at most [`DEADLINE`].
async fn wait_ready(client: &reqwest::Client, url: &str) {
    let start = Instant::now();
    while start.elapsed() < DEADLINE {
        if get(client, url).await.0 == 200 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{url} not 200 within {DEADLINE:?}");
}

/// The value of the sample `name{labels}` (labels exactly as written), if any.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// database_id → the status whose `qovery_backup_check_status` is 1, with the count of statuses
/// seen per database.
fn statuses(text: &str) -> HashMap<String, (String, usize)> {
    let mut found: HashMap<String, (String, usize)> = HashMap::new();
    for line in text.lines().filter(|l| l.starts_with("qovery_backup_check_status{")) {
        let label = |name: &str| {
            let start = line.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
            line[start..].split('"').next().unwrap().to_owned()
        };
        let entry = found.entry(label("database_id")).or_default();
        entry.1 += 1;
        if line.ends_with(" 1") {
            entry.0 = label("status");
        }
    }
    found
}

/// Waits for `child` to exit, for at most `within`.
async fn exit_within(child: &mut Child, within: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < within {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

fn sigterm(child: &Child) {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
}

/// Asserts `promtool check metrics` accepts `text` when promtool is installed; on CI it must be.
fn promtool_accepts(text: &str) {
    let spawned = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "promtool is required on CI");
            eprintln!("promtool not found: not checking the exposition with it");
            return;
        }
        Err(e) => panic!("promtool: {e}"),
    };
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_database_has_the_verdict_check_gives_and_scrapes_never_call_the_api() {
    let server = fleet(Duration::ZERO).await;
    let checked = run(&server, &["check", "--max-age", "26h", "--output", "ndjson"]).await;
    assert!(checked.status.code().is_some_and(|c| c <= 3), "{}", stderr(&checked));
    let expected: HashMap<String, String> = ndjson(&checked)
        .iter()
        .map(|r| (r["database_id"].as_str().unwrap().to_owned(), r["verdict"].as_str().unwrap().to_owned()))
        .collect();
    assert!(expected.len() > 20, "the sample fleet: {}", expected.len());

    let exporter = serve(&server, &["--max-age", "26h"]).await;
    let client = http();
    wait_ready(&client, &format!("{}/readyz", exporter.url)).await;
    let metrics = format!("{}/metrics", exporter.url);
    let (status, text) = get(&client, &metrics).await;
    assert_eq!(status, 200);

    let served = statuses(&text);
    assert_eq!(served.len(), expected.len(), "{text}");
    for (id, verdict) in &expected {
        let (status, count) = &served[id];
        assert_eq!(status, verdict, "{id}");
        assert_eq!(*count, 7, "one sample per verdict for {id}");
    }
    assert_eq!(sample(&text, "qovery_backups_exporter_round_success"), Some(1.0));
    assert!(sample(&text, "qovery_backups_exporter_last_round_timestamp_seconds").unwrap() > 1e9);
    assert!(sample(&text, "qovery_backup_check_timestamp_seconds").unwrap() > 1e9);
    assert_eq!(sample(&text, "qovery_backups_exporter_rounds_failed_total"), Some(0.0));
    let stale = expected.values().filter(|v| *v == "stale").count() as f64;
    assert_eq!(sample(&text, "qovery_backups_exporter_databases{verdict=\"stale\"}"), Some(stale));
    assert!(
        sample(
            &text,
            "qovery_backups_exporter_api_requests_total{operation=\"list_organizations\",code=\"2xx\"}"
        )
        .is_some(),
        "{text}"
    );
    promtool_accepts(&text);

    // Scrapes read the last round: the mock sees no request for them.
    let before = server.requests().len();
    for _ in 0..50 {
        assert_eq!(get(&client, &metrics).await.0, 200);
    }
    assert_eq!(server.requests().len(), before);

    // What a scrape costs (printed; run with --nocapture to see it).
    let start = Instant::now();
    for _ in 0..1000 {
        client.get(&metrics).send().await.unwrap().bytes().await.unwrap();
    }
    eprintln!("1000 sequential scrapes of {} bytes: {:?}", text.len(), start.elapsed());

    // A scraper asking for OpenMetrics gets it.
    let response = client
        .get(&metrics)
        .header("accept", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5")
        .send()
        .await
        .unwrap();
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    assert!(response.text().await.unwrap().ends_with("# EOF\n"));
    assert_eq!(get(&client, &format!("{}/healthz", exporter.url)).await.0, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn before_the_first_round_only_the_exporters_own_metrics_then_sigterm_exits_0() {
    // Every request waits: the first round takes several seconds.
    let server = fleet(Duration::from_millis(500)).await;
    let mut exporter = serve(&server, &["--max-age", "26h"]).await;
    let client = http();
    let (status, text) = get(&client, &format!("{}/metrics", exporter.url)).await;
    assert_eq!(status, 200);
    assert_eq!(sample(&text, "qovery_backups_exporter_round_success"), Some(0.0), "{text}");
    assert_eq!(sample(&text, "qovery_backups_exporter_last_round_timestamp_seconds"), Some(0.0), "{text}");
    assert!(!text.lines().any(|l| l.starts_with("qovery_backup_")), "{text}");
    promtool_accepts(&text);
    assert_eq!(get(&client, &format!("{}/readyz", exporter.url)).await.0, 503);
    assert_eq!(get(&client, &format!("{}/healthz", exporter.url)).await.0, 200);

    sigterm(&exporter.child);
    let start = Instant::now();
    let status = exit_within(&mut exporter.child, Duration::from_secs(10)).await.expect("exited");
    assert_eq!(status.code(), Some(0));
    // Within a second, and a slow machine's margin.
    assert!(start.elapsed() < Duration::from_secs(3), "{:?}", start.elapsed());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_round_keeps_the_previous_metrics_and_counts() {
    let server = fleet(Duration::ZERO).await;
    let exporter = serve(&server, &["--max-age", "26h", "--interval", "1s", "--max-attempts", "1"]).await;
    let client = http();
    wait_ready(&client, &format!("{}/readyz", exporter.url)).await;
    let metrics = format!("{}/metrics", exporter.url);
    let (_, first) = get(&client, &metrics).await;
    let databases = statuses(&first).len();
    assert!(databases > 20);

    server.set_faults("p=1,kinds=503".parse::<FaultPlan>().unwrap());
    let start = Instant::now();
    let text = loop {
        let (_, text) = get(&client, &metrics).await;
        if sample(&text, "qovery_backups_exporter_rounds_failed_total").unwrap() >= 1.0 {
            break text;
        }
        assert!(start.elapsed() < DEADLINE, "no round failed: {text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(sample(&text, "qovery_backups_exporter_round_success"), Some(0.0), "{text}");
    assert_eq!(statuses(&text).len(), databases, "the previous round's metrics stay");
    // The backup metrics are the last completed round's, with its timestamp: the end of the
    // round the exporter reports as its last completed one, not the failed round's.
    let checked = sample(&text, "qovery_backup_check_timestamp_seconds").unwrap();
    let last_round = sample(&text, "qovery_backups_exporter_last_round_timestamp_seconds").unwrap();
    assert_eq!(checked, last_round.floor(), "{text}");
    assert!(checked >= sample(&first, "qovery_backup_check_timestamp_seconds").unwrap());
    assert!(
        sample(
            &text,
            "qovery_backups_exporter_api_requests_total{operation=\"list_organizations\",code=\"503\"}"
        )
        .is_some(),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_trickling_its_headers_is_cut_off_and_holds_nothing() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let server = fleet(Duration::ZERO).await;
    let mut exporter = serve(&server, &["--max-age", "26h"]).await;
    let client = http();
    wait_ready(&client, &format!("{}/readyz", exporter.url)).await;
    let address = exporter.url.strip_prefix("http://").unwrap().to_owned();

    // Half a request line, then nothing more: the header read timeout (5s) closes it.
    let mut slow = tokio::net::TcpStream::connect(&address).await.unwrap();
    slow.write_all(b"GET /metrics HTTP/1.1\r\nHost: x").await.unwrap();
    // Meanwhile scrapes are answered.
    assert_eq!(get(&client, &format!("{}/metrics", exporter.url)).await.0, 200);
    let start = Instant::now();
    let mut buffer = [0u8; 1024];
    let closed = tokio::time::timeout(DEADLINE, async {
        loop {
            match slow.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                // hyper may answer 408 before closing.
                Ok(_) => continue,
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the trickling connection stayed open for {DEADLINE:?}");
    eprintln!("a trickling client was cut off after {:?}", start.elapsed());

    // Another one open at shutdown does not hold the exit.
    let mut slow = tokio::net::TcpStream::connect(&address).await.unwrap();
    slow.write_all(b"GET /met").await.unwrap();
    sigterm(&exporter.child);
    let status = exit_within(&mut exporter.child, Duration::from_secs(10)).await.expect("exited");
    assert_eq!(status.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_listener_that_cannot_bind_exits_2_with_one_line() {
    let server = fleet(Duration::ZERO).await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let output = run(&server, &["serve", "--listen", &address, "--max-age", "1d"]).await;
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with(&format!("error: cannot listen on {address}: ")), "{err}");
}
