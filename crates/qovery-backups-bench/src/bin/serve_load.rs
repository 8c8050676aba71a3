//! `qovery-backups serve` as its users run it: the release binary as a whole process, against the
//! mock on a thread of this one.
//!
//! Two scenarios, each with its own `serve` process:
//! - **load**: `Fleet::sample()`, `--interval 10m`; once /readyz says the first
//!   round is done, 10,000 scrapes of /metrics over 100 keep-alive connections. Every scrape's
//!   latency is kept; the mock's request count before and after must be equal, since a scrape
//!   must never call the API.
//! - **memory**: the default mock (3 databases), `--interval 1ms` (the smallest the parser takes:
//!   any duration above zero), RSS read from /proc after about 100 and about 1,000 rounds, then
//!   SIGTERM, which must end the process with status 0.
//!
//! ```sh
//! cargo build --release -p qovery-backups-cli -p qovery-backups-bench
//! "$CARGO_TARGET_DIR/release/serve_load"
//! ```
//!
//! Exits non-zero when a scrape fails, a scrape caused an API request, a phase does not finish in
//! its time or the process does not stop cleanly.

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use qovery_backups_bench::{MockThread, machine, seconds};
use qovery_backups_mock::{Fleet, MockConfig, MockServer};

/// Scrapes in the load phase, and the connections (one task each) they are spread over.
const SCRAPES: usize = 10_000;
const CONNECTIONS: usize = 100;
// Every connection makes the same number of scrapes, and together exactly SCRAPES.
const _: () = assert!(SCRAPES.is_multiple_of(CONNECTIONS));

/// Rounds after which the memory phase reads RSS.
const EARLY_ROUNDS: u64 = 100;
const LATE_ROUNDS: u64 = 1_000;

/// Bounds, so that the benchmark ends by itself whatever `serve` does.
const START_TIMEOUT: Duration = Duration::from_secs(15);
const READY_TIMEOUT: Duration = Duration::from_secs(30);
const SCRAPE_TIMEOUT: Duration = Duration::from_secs(10);
const LOAD_TIMEOUT: Duration = Duration::from_secs(180);
const ROUNDS_TIMEOUT: Duration = Duration::from_secs(300);
const EXIT_TIMEOUT: Duration = Duration::from_secs(5);

fn main() -> ExitCode {
    let cli = match qovery_backups_bench::cli_beside_this_binary() {
        Ok(cli) => cli,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    println!("serve, whole process: {}; {}", cli.display(), machine());
    let mut failed = false;
    for (what, phase) in [("load", load as fn(&Path) -> Result<(), String>), ("memory", memory)] {
        if let Err(e) = phase(&cli) {
            eprintln!("error: {what}: {e}");
            failed = true;
        }
    }
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

/// A running `serve`, killed on drop: an early return or a panic never leaves it behind.
struct Serve {
    child: Child,
    addr: SocketAddr,
}

impl Serve {
    fn start(cli: &Path, server: &MockServer, interval: &str) -> Result<Serve, String> {
        let mut child = Command::new(cli)
            .args(["serve", "--listen", "127.0.0.1:0", "--max-age", "26h", "--interval", interval, "-q"])
            .env("QOVERY_API_TOKEN", server.token())
            .env("QOVERY_API_URL", server.base_url())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", cli.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        // Build the guard before anything can fail, so the child is killed on every path.
        let mut serve = Serve { child, addr: SocketAddr::from(([127, 0, 0, 1], 0)) };
        // The first line is read on a thread so that waiting for it has a bound; the thread then
        // drains stdout, so that a later line could never block serve on a full pipe.
        let (line_tx, line_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = line_tx.send(reader.read_line(&mut line).map(|_| line));
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let line = line_rx
            .recv_timeout(START_TIMEOUT)
            .map_err(|_| "serve printed no first line in time".to_owned())?
            .map_err(|e| format!("cannot read serve's stdout: {e}"))?;
        serve.addr = line
            .trim()
            .strip_prefix("listening on http://")
            .and_then(|addr| addr.parse().ok())
            .ok_or_else(|| format!("unexpected first line from serve: {line:?}"))?;
        Ok(serve)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits (bounded) for the exit status.
    fn terminate(&mut self) -> Result<std::process::ExitStatus, String> {
        let pid = libc::pid_t::try_from(self.pid()).map_err(|_| "pid out of range")?;
        // SAFETY: kill(2) with a pid this process spawned and has not yet reaped (the child is
        // only waited for below), so the pid cannot have been reused.
        if unsafe { libc::kill(pid, libc::SIGTERM) } != 0 {
            return Err(format!("cannot send SIGTERM: {}", std::io::Error::last_os_error()));
        }
        let deadline = Instant::now() + EXIT_TIMEOUT;
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(status)) => return Ok(status),
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(e) => return Err(format!("cannot wait for serve: {e}")),
            }
        }
        Err(format!("serve still running {EXIT_TIMEOUT:?} after SIGTERM"))
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// How many requests the mock has received since it started. The last record's number, not the
/// log's length, since the log keeps only the newest records.
fn api_requests(server: &MockServer) -> u64 {
    server.requests().last().map_or(0, |r| r.number)
}

/// Polls /readyz until 200, within [`READY_TIMEOUT`].
async fn wait_ready(http: &reqwest::Client, addr: SocketAddr) -> Result<Duration, String> {
    let started = Instant::now();
    while started.elapsed() < READY_TIMEOUT {
        if let Ok(response) = http.get(format!("http://{addr}/readyz")).send().await
            && response.status() == reqwest::StatusCode::OK
        {
            return Ok(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err(format!("/readyz not 200 within {READY_TIMEOUT:?}"))
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    // Two workers, one a core: the client side should not be what limits the rate, but there are
    // only two cores for it, serve and the mock.
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("no runtime: {e}"))
}

fn client() -> Result<reqwest::Client, String> {
    // One idle connection kept: each task reuses its own connection for every scrape, as a
    // Prometheus server does for a target. No proxy, whatever the environment says.
    reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .timeout(SCRAPE_TIMEOUT)
        .no_proxy()
        .build()
        .map_err(|e| format!("no HTTP client: {e}"))
}

fn load(cli: &Path) -> Result<(), String> {
    let config = MockConfig { databases: 0, fleet: Fleet::sample(), ..MockConfig::default() };
    let mock = MockThread::start(config).map_err(|e| e.to_string())?;
    let server = mock.server();
    let mut serve = Serve::start(cli, server, "10m")?;
    let runtime = runtime()?;
    let addr = serve.addr;
    let (ready_after, outcome) = runtime.block_on(async {
        let ready_after = wait_ready(&client()?, addr).await?;
        // The first round is done and the next is 9 to 11 minutes away: from here on, any API
        // request would be a scrape's doing.
        let before = api_requests(server);
        let started = Instant::now();
        let mut tasks = Vec::with_capacity(CONNECTIONS);
        for _ in 0..CONNECTIONS {
            let http = client()?;
            let scrapes = SCRAPES / CONNECTIONS;
            tasks.push(tokio::spawn(async move {
                let url = format!("http://{addr}/metrics");
                let mut latencies = Vec::with_capacity(scrapes);
                let mut errors = Vec::new();
                for _ in 0..scrapes {
                    let sent = Instant::now();
                    // The body is read in full: a scrape is over when Prometheus has the text.
                    let result = match http.get(&url).send().await {
                        Ok(response) if response.status() == reqwest::StatusCode::OK => {
                            response.bytes().await.map(|_| ()).map_err(|e| e.to_string())
                        }
                        Ok(response) => Err(format!("status {}", response.status())),
                        Err(e) => Err(e.to_string()),
                    };
                    latencies.push(sent.elapsed().as_secs_f64());
                    if let Err(e) = result {
                        errors.push(e);
                    }
                }
                (latencies, errors)
            }));
        }
        let joined = tokio::time::timeout(LOAD_TIMEOUT, futures::future::join_all(tasks))
            .await
            .map_err(|_| format!("the scrapes did not finish within {LOAD_TIMEOUT:?}"))?;
        let wall = started.elapsed().as_secs_f64();
        let after = api_requests(server);
        let mut latencies = Vec::with_capacity(SCRAPES);
        let mut errors = Vec::new();
        for task in joined {
            let (l, e) = task.map_err(|e| format!("a scraping task failed: {e}"))?;
            latencies.extend(l);
            errors.extend(e);
        }
        Ok::<_, String>((ready_after, (latencies, errors, wall, before, after)))
    })?;
    let (mut latencies, errors, wall, before, after) = outcome;
    // Its exit status is the memory phase's to check; here it only has to go.
    let _ = serve.terminate();
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| {
        latencies.get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
    };
    let show = |v: Option<&f64>| v.map_or_else(|| "-".to_owned(), |v| seconds(*v));
    println!("  load: {} databases (Fleet::sample), --interval 10m", server.database_ids().len());
    println!(
        "    ready after {}; {before} API requests for the first round",
        seconds(ready_after.as_secs_f64())
    );
    println!(
        "    {} scrapes of /metrics over {CONNECTIONS} keep-alive connections in {:.2} s wall: {:.0} scrapes/s",
        latencies.len(),
        wall,
        latencies.len() as f64 / wall
    );
    println!(
        "    latency p50 {}, p99 {}, max {}; errors {}",
        show(at(0.50)),
        show(at(0.99)),
        show(latencies.last()),
        errors.len()
    );
    println!("    API requests: {before} before the scrapes, {after} after");
    for error in errors.iter().take(5) {
        eprintln!("    scrape error: {error}");
    }
    if !errors.is_empty() {
        return Err(format!("{} scrapes failed", errors.len()));
    }
    if after != before {
        return Err(format!("the scrapes caused {} API requests", after - before));
    }
    if latencies.len() != SCRAPES {
        return Err(format!("{} scrapes made of {SCRAPES}", latencies.len()));
    }
    Ok(())
}

fn memory(cli: &Path) -> Result<(), String> {
    let mock = MockThread::start(MockConfig::default()).map_err(|e| e.to_string())?;
    let server = mock.server();
    let mut serve = Serve::start(cli, server, "1ms")?;
    let status_file = PathBuf::from(format!("/proc/{}/status", serve.pid()));
    // Rounds are counted in the mock's log, not sampled from /metrics: every round starts with
    // exactly one `GET /organization` (the databases are resolved first, and one page holds the
    // organizations), and rounds run one after another, so a round has completed for each such
    // request but the latest. Nothing is missed between two polls, however fast rounds go.
    let mut organization_requests = 0u64;
    let mut seen = 0u64;
    let mut early: Option<(u64, u64, f64)> = None;
    let started = Instant::now();
    let late = loop {
        if started.elapsed() > ROUNDS_TIMEOUT {
            return Err(format!(
                "{} rounds completed in {ROUNDS_TIMEOUT:?}, fewer than {LATE_ROUNDS}",
                organization_requests.saturating_sub(1)
            ));
        }
        if let Ok(Some(status)) = serve.child.try_wait() {
            return Err(format!("serve exited early: {status}"));
        }
        let newest_before = seen;
        for record in server.requests().iter().filter(|r| r.number > newest_before) {
            seen = record.number;
            if record.path == "/organization" {
                organization_requests += 1;
            }
        }
        let rounds = organization_requests.saturating_sub(1);
        let rss = status_kib(&status_file, "VmRSS:").ok_or("cannot read serve's VmRSS")?;
        if early.is_none() && rounds >= EARLY_ROUNDS {
            early = Some((rounds, rss, started.elapsed().as_secs_f64()));
        }
        if rounds >= LATE_ROUNDS {
            break (rounds, rss, started.elapsed().as_secs_f64());
        }
        // Each poll copies the mock's log (a few thousand records by the end; never cleared,
        // since a record cleared between the copy and the clear would be a round not counted):
        // every 50 ms keeps that copying from taking a core away from serve.
        std::thread::sleep(Duration::from_millis(50));
    };
    let hwm = status_kib(&status_file, "VmHWM:");
    let status = serve.terminate()?;
    let (early_rounds, early_rss, early_at) = early.ok_or("no early sample")?;
    let (late_rounds, late_rss, late_at) = late;
    println!("  memory: {} databases (MockConfig::default), --interval 1ms", server.database_ids().len());
    println!("    VmRSS after {early_rounds} rounds ({early_at:.2} s): {:.1} MiB", mib(early_rss));
    println!(
        "    VmRSS after {late_rounds} rounds ({late_at:.2} s): {:.1} MiB; growth {:+.1} MiB ({:+} KiB); VmHWM {}",
        mib(late_rss),
        mib(late_rss) - mib(early_rss),
        i128::from(late_rss) - i128::from(early_rss),
        hwm.map_or_else(|| "-".to_owned(), |k| format!("{:.1} MiB", mib(k)))
    );
    println!("    SIGTERM: {status}");
    if status.code() != Some(0) {
        return Err(format!("serve ended with {status} after SIGTERM, not 0"));
    }
    Ok(())
}

/// A `kB` field of /proc/PID/status (`VmRSS:`, `VmHWM:`), in KiB; `None` once the process is gone.
fn status_kib(status_file: &Path, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(status_file).ok()?;
    let line = status.lines().find(|line| line.starts_with(field))?;
    line.trim_start_matches(field).trim().trim_end_matches("kB").trim().parse().ok()
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}
