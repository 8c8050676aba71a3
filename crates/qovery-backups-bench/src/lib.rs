//! Shared pieces of the benchmarks, the soak and the load test of the Qovery backups SDK.
//!
//! Nothing here is for users of the SDK: it is the measuring apparatus. The figures it produces,
//! the targets they are held to and the command behind each are in `RESULTS.md` beside this
//! crate's manifest.
//!
//! Every comparison runs both sides in one process against one mock and reports their ratio,
//! because absolute times on a shared 2-core machine say little.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::future::Future;
use std::process::Command;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use qovery_backups_api::ClientInfo;
use qovery_backups_api::types::BackupPaginatedResponseList;
use qovery_backups_mock::{MockConfig, MockError, MockServer};
use reqwest::header::{ACCEPT, AUTHORIZATION};
use uuid::Uuid;

/// The `qovery-backups` binary of the same build as the running one (`cargo run --release`
/// puts both in `$CARGO_TARGET_DIR/release/`), for benchmarks that run the CLI as a whole
/// process; an error that says how to build it when it is not there.
pub fn cli_beside_this_binary() -> Result<std::path::PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
    let cli = exe.parent().ok_or("this binary has no directory")?.join("qovery-backups");
    if cli.is_file() {
        Ok(cli)
    } else {
        Err("no release build of the CLI beside this binary: run `cargo build --release -p qovery-backups-cli` first"
            .to_owned())
    }
}

/// A mock server on a thread and a single-threaded runtime of its own.
///
/// Serving and listing on separate threads gives each side one of the two cores, and keeps the
/// client's runtime measuring only the client.
pub struct MockThread {
    server: Option<MockServer>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl MockThread {
    /// Starts a mock with `config` on a new thread, and returns once it listens.
    pub fn start(config: MockConfig) -> Result<MockThread, MockError> {
        let (ready_tx, ready_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("mock".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready_tx.send(Err(MockError::InvalidConfig(format!("no runtime: {e}"))));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let started = MockServer::start(config).await;
                    let ok = started.is_ok();
                    let _ = ready_tx.send(started);
                    if ok {
                        // The server task runs on this runtime until told to stop.
                        let _ = stop_rx.await;
                    }
                });
            })
            .map_err(|e| MockError::InvalidConfig(format!("cannot start the mock's thread: {e}")))?;
        let server = ready_rx
            .recv()
            .map_err(|_| MockError::InvalidConfig("the mock's thread ended before starting".into()))??;
        Ok(MockThread { server: Some(server), stop: Some(stop_tx), thread: Some(thread) })
    }

    /// The running server.
    pub fn server(&self) -> &MockServer {
        self.server.as_ref().expect("the server lives until drop")
    }
}

impl Drop for MockThread {
    fn drop(&mut self) {
        // Dropping the server aborts its task; then the runtime's thread may end.
        drop(self.server.take());
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The SDK's side of every listing comparison: each backup of a database through the stream
/// of items, counted (so that nothing but the listing is measured).
pub async fn sdk_listing(
    client: &qovery_backups::Client,
    database_id: Uuid,
) -> Result<u64, qovery_backups::Error> {
    use futures::TryStreamExt as _;
    client.backups(database_id).list().items().try_fold(0u64, |n, _| async move { Ok(n + 1) }).await
}

/// The reference the SDK's listing is measured against: the least code that lists a database
/// correctly with reqwest and serde_json, into the same generated types, with the same cursor,
/// header and stop rule as the API documents. Returns how many backups it saw.
///
/// It sends the headers the generated client sends (`Accept: application/json`, `api-version`),
/// so that the mock, which parses and logs every header, does the same work for both sides. Give
/// `http` the same `User-Agent` as the SDK's client for the same reason ([`BENCH_USER_AGENT`]).
pub async fn hand_written_listing(
    http: &reqwest::Client,
    base_url: &str,
    token: &str,
    database_id: Uuid,
) -> Result<u64, reqwest::Error> {
    let url = format!("{base_url}/database/{database_id}/backup");
    let authorization = format!("Token {token}");
    let mut start_id: Option<Uuid> = None;
    let mut count = 0u64;
    loop {
        let mut request =
            http.get(&url).header(AUTHORIZATION, &authorization).header(ACCEPT, "application/json").header(
                "api-version",
                <qovery_backups_api::Client as ClientInfo<qovery_backups_api::Limits>>::api_version(),
            );
        if let Some(start_id) = start_id {
            request = request.query(&[("startId", start_id)]);
        }
        let page: BackupPaginatedResponseList = request.send().await?.error_for_status()?.json().await?;
        count += page.results.len() as u64;
        let short = (page.results.len() as f64) < page.page_size;
        match page.results.last() {
            Some(last) if !short => start_id = Some(last.id),
            _ => return Ok(count),
        }
    }
}

/// The `User-Agent` both sides of a listing comparison send.
pub const BENCH_USER_AGENT: &str = "qovery-backups-bench";

/// Times of two sides measured in alternation, and their ratio.
#[derive(Debug, Clone, Default)]
pub struct Paired {
    /// Seconds per round of side A, by the wall clock.
    pub a: Vec<f64>,
    /// Seconds per round of side B, by the wall clock.
    pub b: Vec<f64>,
    /// CPU seconds per round of side A on the measuring thread (user and system).
    pub a_cpu: Vec<f64>,
    /// CPU seconds per round of side B on the measuring thread.
    pub b_cpu: Vec<f64>,
}

impl Paired {
    /// The figure: the median of the per-round ratios A/B. Each round's pair ran back to back,
    /// so a round disturbed by something else on the machine is one outlier, which the median
    /// ignores.
    pub fn ratio(&self) -> f64 {
        median(&self.round_ratios())
    }

    /// The median of A's times divided by the median of B's.
    pub fn ratio_of_medians(&self) -> f64 {
        median(&self.a) / median(&self.b)
    }

    /// The same for the CPU time of the measuring thread: what each side's client code costs,
    /// whatever the server and other processes do to the wall clock. `NaN` where the kernel does
    /// not say.
    pub fn cpu_ratio(&self) -> f64 {
        median(&self.a_cpu) / median(&self.b_cpu)
    }

    /// The ratio of each round's pair, sorted.
    pub fn round_ratios(&self) -> Vec<f64> {
        let mut ratios: Vec<f64> = self.a.iter().zip(&self.b).map(|(a, b)| a / b).collect();
        ratios.sort_by(f64::total_cmp);
        ratios
    }

    /// Prints both sides, the ratio and whether it meets `target`.
    pub fn report(&self, what: &str, a_name: &str, b_name: &str, target: f64) {
        let ratios = self.round_ratios();
        let quartile = |q: usize| ratios.get(ratios.len() * q / 4).copied().unwrap_or(f64::NAN);
        println!("\n== {what}: {} paired rounds, alternating which side goes first", self.a.len());
        println!("  {a_name:<44} median {}", seconds(median(&self.a)));
        println!("  {b_name:<44} median {}", seconds(median(&self.b)));
        println!(
            "  ratio A/B (median of per-round ratios): {:.3}; target <= {target:.2}: {}",
            self.ratio(),
            verdict(self.ratio() <= target)
        );
        println!(
            "  spread: per-round ratios {:.3} / {:.3} / {:.3} (first quartile / median / third); ratio of medians {:.3}",
            quartile(1),
            self.ratio(),
            quartile(3),
            self.ratio_of_medians()
        );
        // The kernel counts CPU time in 10 ms ticks: only long rounds give a usable figure.
        if self.cpu_ratio().is_finite() && median(&self.b_cpu) >= 0.5 {
            println!(
                "  CPU time of the client's thread, A/B: {:.3} (A {}, B {} a round, user and system)",
                self.cpu_ratio(),
                seconds(median(&self.a_cpu)),
                seconds(median(&self.b_cpu))
            );
        }
    }
}

/// Measures `a` and `b` in `rounds` alternating rounds (A then B, then B then A, …), so that a
/// machine getting slower or faster during the measurement weighs on both sides alike. Each side
/// runs on `runtime` on the calling thread, whose CPU time is taken as well.
pub fn paired<A, B, FA, FB>(runtime: &tokio::runtime::Runtime, rounds: usize, mut a: A, mut b: B) -> Paired
where
    A: FnMut() -> FA,
    B: FnMut() -> FB,
    FA: Future,
    FB: Future,
{
    fn time<F: Future>(runtime: &tokio::runtime::Runtime, future: F) -> (f64, f64) {
        let (cpu, started) = (thread_cpu_seconds(), Instant::now());
        std::hint::black_box(runtime.block_on(future));
        let wall = started.elapsed().as_secs_f64();
        let cpu = match (cpu, thread_cpu_seconds()) {
            (Some(before), Some(after)) => after - before,
            _ => f64::NAN,
        };
        (wall, cpu)
    }
    let mut result = Paired::default();
    for round in 0..rounds {
        let (ta, tb) = if round % 2 == 0 {
            let ta = time(runtime, a());
            (ta, time(runtime, b()))
        } else {
            let tb = time(runtime, b());
            (time(runtime, a()), tb)
        };
        result.a.push(ta.0);
        result.a_cpu.push(ta.1);
        result.b.push(tb.0);
        result.b_cpu.push(tb.1);
    }
    result
}

/// User and system CPU time of the calling thread so far, from /proc (Linux), in seconds. The
/// kernel counts it in ticks of 10 ms: good enough for rounds of a second or more.
pub fn thread_cpu_seconds() -> Option<f64> {
    cpu_seconds_in(&std::fs::read_to_string("/proc/thread-self/stat").ok()?)
}

/// The same for the thread of this process with this name, such as `mock` for [`MockThread`].
pub fn named_thread_cpu_seconds(name: &str) -> Option<f64> {
    std::fs::read_dir("/proc/self/task").ok()?.filter_map(Result::ok).find_map(|task| {
        let comm = std::fs::read_to_string(task.path().join("comm")).ok()?;
        if comm.trim() != name {
            return None;
        }
        cpu_seconds_in(&std::fs::read_to_string(task.path().join("stat")).ok()?)
    })
}

fn cpu_seconds_in(stat: &str) -> Option<f64> {
    // The command name is in parentheses and may hold spaces: count fields after it.
    let fields: Vec<&str> = stat.get(stat.rfind(')')? + 1..)?.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// The median of some values (the mean of the middle two for an even count).
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// A duration in seconds, printed in a unit that suits it.
pub fn seconds(secs: f64) -> String {
    format!("{:.3?}", Duration::from_secs_f64(secs.max(0.0)))
}

/// `met` or `MISSED`, for report lines.
pub fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

/// The machine the figures come from: logical cores and the compiler, since both move them.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let rustc = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
        .arg("--version")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|| "rustc (unknown version)".to_owned());
    format!("{cores} logical cores (nproc), {rustc}")
}

/// A small seeded generator (SplitMix64): the same seed gives the same choices on every machine
/// and with every version of every dependency, so a failing soak seed replays exactly.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `low..=high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        debug_assert!(low <= high);
        let span = high - low;
        if span == u64::MAX { self.next_u64() } else { low + self.next_u64() % (span + 1) }
    }

    /// A float in `[low, high)`.
    pub fn float(&mut self, low: f64, high: f64) -> f64 {
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        low + unit * (high - low)
    }

    /// `true` with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.float(0.0, 1.0) < p
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.between(0, items.len() as u64 - 1) as usize]
    }
}

/// The seed of run `index` of a soak started from `base`. Run 0 uses `base` itself, so that
/// `--runs 1 --seed S` replays exactly the run that was reported with seed `S`.
pub fn run_seed(base: u64, index: u64) -> u64 {
    base.wrapping_add(index.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Whether a benchmark binary was started to measure. `cargo test --benches` (`--test`),
/// `--list` and criterion's `--profile-time` (for a profiler) want each benchmark run without the
/// paired figures that follow criterion's.
pub fn measuring() -> bool {
    !std::env::args().any(|arg| matches!(arg.as_str(), "--test" | "--list" | "--profile-time"))
}
