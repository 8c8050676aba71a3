//! The reliability soak: many seeded runs of the SDK against the mock under random faults, each
//! checked against what the server holds and what it received.
//!
//! ```text
//! cargo xtask soak [--runs N] [--seed S] [--verbose]
//! cargo run --release -p qovery-backups-bench --bin soak -- [--runs N] [--seed S] [--verbose]
//! ```
//!
//! Run `i` uses seed `S + i × 0x9E3779B97F4A7C15` (run 0 uses `S` itself), and everything random
//! in it (the data, the fault plans, the jitter, the choice of what to create and delete) comes
//! from that seed, so `--runs 1 --seed <seed of a failed run>` replays it exactly.
//!
//! Each run, on tokio's paused clock (timeouts, slow answers and `Retry-After` cost no real
//! time):
//!
//! 1. A mock with databases of 0, 1, 19, 20, 21, 40 and a random number of backups, under a
//!    probabilistic fault plan: a seeded random subset of the mock's fault kinds that a listing
//!    gets through (including odd but valid answers: `escape`, `future`, `float-page`), a seeded
//!    probability, and `max_consecutive` below the client's `max_attempts` so that every call
//!    can succeed, except in one run in four where faults may outlast the retries. Half the
//!    runs add one or two hostile kinds that end a listing for good (`endless`, `huge`, `echo`,
//!    `redirect`, `big-header`, `repeat-old`). Slow and late answers (400 ms) outlast the
//!    client's per-attempt timeout (200 ms); a late one has already been applied. Every client
//!    reads at most 256 KiB of an answer, so `endless` and `huge` stop early.
//! 2. Every database listed through `Backups::list().items()`: never a backup twice, whatever
//!    the server repeats. A listing that fails with a resume point (`Error::resume_after`) is
//!    resumed from it, and the rounds together deliver each backup exactly once, in the
//!    server's order. One that fails without is accounted by kind, and must be explained by a
//!    hostile answer it received (an answer too large, headers too large, a redirect, which is
//!    never followed, an unhealable 400, a repeated backup), after a prefix of the server's
//!    backups. No page asked for more than `max_attempts` times a round.
//! 3. Creates and deletes under their own fault plan, half of them with the first POST or DELETE
//!    answer lost (`Fault::Lost`: applied, then the connection reset). No create leaves two
//!    backups, no deleted backup remains, no call sends its POST or DELETE more than
//!    `max_attempts` times.
//! 4. Every database listed again, without faults, against the server.
//! 5. Errors provoked on purpose (a fault with retries off, a wrong token, an unknown backup
//!    whose 404 carries terminal escapes, a 400 that echoes the request and its
//!    `Authorization`). Their `Display`, `Debug`, hint and sources, the client's `Debug`, and
//!    everything the SDK traced at TRACE level must not contain the token; no error's `Display`
//!    or hint, here or in any step, may hold a control character.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures::TryStreamExt as _;
use qovery_backups::{Client, Event, Observer, RetryPolicy};
use qovery_backups_bench::{SplitMix64, run_seed};
use qovery_backups_mock::{Fault, FaultPlan, MockConfig, MockServer, RequestRecord};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::layer::{Layer, SubscriberExt as _};
use uuid::Uuid;

const USAGE: &str = "usage: soak [--runs N] [--seed S] [--verbose]";
const DEFAULT_RUNS: u64 = 200;
const DEFAULT_SEED: u64 = 0x5EED_2026;

/// The client's per-attempt timeout, and a slow answer that outlasts it. Short even in paused
/// time, so that a replay with a real clock would still be quick.
const TIMEOUT: Duration = Duration::from_millis(200);
const SLOW: Duration = Duration::from_millis(400);
/// The client's response limit: far above a page of 20 backups (some 20 KiB, more with
/// `unknown-fields` or `escape`), far below what `endless` and `huge` send, so that reading one
/// stops early and the soak stays fast.
const RESPONSE_LIMIT: u64 = 256 << 10;
/// How many times one listing is resumed from the point its error offered before giving up.
const MAX_RESUMES: u32 = 8;
/// A run that takes longer than this in real time is stuck, not slow: report its seed and stop.
const RUN_WALL_LIMIT: Duration = Duration::from_secs(60);

/// Every kind of fault the mock has that a listing gets through, by retrying or because the
/// answer is odd but valid (`escape`, `future`, `float-page`). 4xx statuses other than 429 are
/// left out: they are answers, not faults, and are not retried.
fn listing_kinds() -> Vec<Fault> {
    vec![
        Fault::Status(500),
        Fault::Status(502),
        Fault::Status(503),
        Fault::Status(504),
        Fault::RetryAfterSeconds(1),
        Fault::RetryAfterDate(1),
        Fault::Reset,
        Fault::Close,
        Fault::Truncate,
        Fault::Slow(SLOW),
        Fault::Late(SLOW),
        Fault::BadJson,
        Fault::Lost,
        Fault::UnknownEnum,
        Fault::UnknownFields,
        Fault::Escape,
        Fault::Future,
        Fault::FloatPage,
    ]
}

/// Hostile answers that end a listing with an error that resuming cannot help (see
/// [`expected_failure`]): added to some runs' listing plans, at most two of them, so that most
/// listings still get through.
fn hostile_kinds() -> Vec<Fault> {
    vec![Fault::Endless, Fault::Huge, Fault::Echo, Fault::Redirect, Fault::BigHeader, Fault::RepeatOld]
}

/// The kinds creates and deletes meet. `BadJson` is left out: the mock answers it with 200 on
/// every method, which for a POST (201 expected) or a DELETE (204 expected) is an unexpected
/// status that the SDK rightly does not retry (see RESULTS.md). `Escape` is left out: it
/// rewrites the names and messages a create's reconciliation looks for, so a create whose
/// answer was lost cannot find its backup and makes another, which is the server lying rather
/// than failing.
fn mutation_kinds() -> Vec<Fault> {
    listing_kinds().into_iter().filter(|kind| !matches!(kind, Fault::BadJson | Fault::Escape)).collect()
}

fn main() -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("error: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let capture = Capture::default();
    if let Err(message) = install_tracing(&capture) {
        eprintln!("error: {message}");
        return ExitCode::FAILURE;
    }
    let watchdog = Watchdog::start();

    println!(
        "soak: {} run(s) from seed {} (timeout {:?}, slow and late answers {:?}, paused clock)",
        options.runs, options.seed, TIMEOUT, SLOW
    );
    let started = Instant::now();
    let (totals, failed) = run_all(&options, &capture, &watchdog);
    totals.print(options.runs, failed.len(), started.elapsed());
    report_failures(options.runs, &failed)
}

/// Sends every trace, down to TRACE, to `capture`, searched for the token after each run.
/// Counting is the [`Progress`] observer's job, not the traces'.
fn install_tracing(capture: &Capture) -> Result<(), String> {
    let subscriber = tracing_subscriber::registry().with(
        tracing_subscriber::fmt::layer()
            .with_writer(capture.clone())
            .with_ansi(false)
            .with_span_events(FmtSpan::NEW | FmtSpan::CLOSE)
            .with_filter(tracing_subscriber::filter::LevelFilter::TRACE),
    );
    tracing::subscriber::set_global_default(subscriber)
        .map_err(|_| "a tracing subscriber is already installed".to_owned())
}

/// Every run, one after the other under the watchdog: the totals, and the failures by seed.
fn run_all(options: &Options, capture: &Capture, watchdog: &Watchdog) -> (Totals, Vec<(u64, Vec<String>)>) {
    let mut totals = Totals::default();
    let mut failed: Vec<(u64, Vec<String>)> = Vec::new();
    for index in 0..options.runs {
        let seed = run_seed(options.seed, index);
        let report = run_watched(seed, capture, watchdog);
        if options.verbose {
            print_run(index, seed, &report);
        }
        totals.add(&report.stats);
        if !report.failures.is_empty() {
            failed.push((seed, report.failures));
        }
    }
    (totals, failed)
}

/// One run under the watchdog.
fn run_watched(seed: u64, capture: &Capture, watchdog: &Watchdog) -> RunReport {
    watchdog.arm(seed);
    let report = run(seed, capture);
    watchdog.disarm();
    report
}

fn print_run(index: u64, seed: u64, report: &RunReport) {
    println!(
        "  run {index:>4} seed {seed:>20}: {} backups listed, {} faults, {} retries{}",
        report.stats.backups_listed,
        report.stats.faults,
        report.stats.retries,
        if report.failures.is_empty() { String::new() } else { " FAILED".to_owned() }
    );
}

/// Prints the verdict, each failed run's seed and first failures, and how to replay one.
fn report_failures(runs: u64, failed: &[(u64, Vec<String>)]) -> ExitCode {
    if failed.is_empty() {
        println!("soak: {runs} run(s), 0 failed");
        return ExitCode::SUCCESS;
    }
    println!("\nsoak: {} of {runs} run(s) FAILED:", failed.len());
    for (seed, failures) in failed {
        println!("  seed {seed}:");
        for failure in failures.iter().take(10) {
            println!("    - {failure}");
        }
        if failures.len() > 10 {
            println!("    - … and {} more", failures.len() - 10);
        }
    }
    println!("replay one with: cargo xtask soak --runs 1 --seed {}", failed[0].0);
    ExitCode::FAILURE
}

struct Options {
    runs: u64,
    seed: u64,
    verbose: bool,
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
        let mut options = Options { runs: DEFAULT_RUNS, seed: DEFAULT_SEED, verbose: false };
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--runs" => {
                    let value = args.next().ok_or("--runs needs a number")?;
                    options.runs = value.parse().map_err(|_| format!("--runs: `{value}` is not a number"))?;
                }
                "--seed" => {
                    let value = args.next().ok_or("--seed needs a number")?;
                    options.seed = parse_u64(&value).ok_or(format!("--seed: `{value}` is not a u64"))?;
                }
                "--verbose" | "-v" => options.verbose = true,
                "--help" | "-h" => return Err("help".to_owned()),
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        Ok(options)
    }
}

fn parse_u64(text: &str) -> Option<u64> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// What one run checked.
#[derive(Default)]
struct Stats {
    databases: u64,
    backups_listed: u64,
    creates: u64,
    creates_lost: u64,
    deletes: u64,
    deletes_lost: u64,
    requests: u64,
    faults: u64,
    faults_by_kind: BTreeMap<String, u64>,
    retries: u64,
    pages: u64,
    /// Listings resumed from the point their error offered.
    resumed: u64,
    /// Listings that ended, as they should, in an error with no resume point, by kind.
    expected_failures: BTreeMap<String, u64>,
    errors_probed: u64,
    bytes_scanned: u64,
}

impl Stats {
    fn record(&mut self, log: &[RequestRecord]) {
        self.requests += log.len() as u64;
        for fault in log.iter().filter_map(|r| r.fault.as_ref()) {
            self.faults += 1;
            *self.faults_by_kind.entry(fault.to_string()).or_default() += 1;
        }
    }
}

#[derive(Default)]
struct Totals {
    stats: Stats,
}

impl Totals {
    fn add(&mut self, run: &Stats) {
        let t = &mut self.stats;
        t.databases += run.databases;
        t.backups_listed += run.backups_listed;
        t.creates += run.creates;
        t.creates_lost += run.creates_lost;
        t.deletes += run.deletes;
        t.deletes_lost += run.deletes_lost;
        t.requests += run.requests;
        t.faults += run.faults;
        for (kind, n) in &run.faults_by_kind {
            *t.faults_by_kind.entry(kind.clone()).or_default() += n;
        }
        t.retries += run.retries;
        t.pages += run.pages;
        t.resumed += run.resumed;
        for (kind, n) in &run.expected_failures {
            *t.expected_failures.entry(kind.clone()).or_default() += n;
        }
        t.errors_probed += run.errors_probed;
        t.bytes_scanned += run.bytes_scanned;
    }

    fn print(&self, runs: u64, failed: usize, elapsed: Duration) {
        let t = &self.stats;
        let kinds: Vec<String> = t.faults_by_kind.iter().map(|(kind, n)| format!("{kind} {n}")).collect();
        println!("checked:");
        println!("  runs                {runs} ({failed} failed) in {elapsed:.1?} of real time");
        println!(
            "  database listings   {} (each database listed under faults, then again without)",
            t.databases
        );
        println!(
            "  backups listed      {} (never one twice; each exactly once, in order, unless a hostile answer ended the listing)",
            t.backups_listed
        );
        let ended: Vec<String> = t.expected_failures.iter().map(|(kind, n)| format!("{kind} {n}")).collect();
        println!("  listings resumed    {} (from the point the error offered, then complete)", t.resumed);
        println!(
            "  listings ended      {} as they should, with no resume point: {}",
            t.expected_failures.values().sum::<u64>(),
            if ended.is_empty() { "none".to_owned() } else { ended.join(", ") }
        );
        println!("  creates             {} ({} with the POST's answer lost)", t.creates, t.creates_lost);
        println!("  deletes             {} ({} with the DELETE's answer lost)", t.deletes, t.deletes_lost);
        println!("  requests received   {}", t.requests);
        println!("  faults injected     {}: {}", t.faults, kinds.join(", "));
        println!("  retries             {} (counted by the SDK's observer)", t.retries);
        println!("  pages received      {} (each page's backups matched against what was listed)", t.pages);
        println!(
            "  token leaks         0 expected; searched {} errors provoked and {} bytes of traces and messages",
            t.errors_probed, t.bytes_scanned
        );
    }
}

struct RunReport {
    stats: Stats,
    failures: Vec<String>,
}

/// One run on its own paused, single-threaded runtime: a fresh clock and a fresh mock each time.
fn run(seed: u64, capture: &Capture) -> RunReport {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            return RunReport { stats: Stats::default(), failures: vec![format!("no runtime: {e}")] };
        }
    };
    capture.take();
    let mut run = Run {
        seed,
        stats: Stats::default(),
        failures: Vec::new(),
        texts: String::new(),
        secrets: Vec::new(),
        progress: Arc::default(),
    };
    runtime.block_on(run.go());
    // Anything the SDK traced or reported, including from tasks that ended with the runtime.
    drop(runtime);
    run.stats.retries = run.progress.retries.load(Relaxed);
    run.stats.pages = run.progress.pages.load(Relaxed);
    let traces = capture.take();
    run.stats.bytes_scanned += (traces.len() + run.texts.len()) as u64;
    run.check_secrets(&traces);
    RunReport { stats: run.stats, failures: run.failures }
}

struct Run {
    seed: u64,
    stats: Stats,
    failures: Vec<String>,
    /// Every error message and `Debug` print made during the run, searched for the token.
    texts: String,
    /// The tokens of the run, which nothing may print.
    secrets: Vec<String>,
    /// What every client of the run reports through the SDK's typed events.
    progress: Arc<Progress>,
}

/// What the steps of a run share: the mock, the tokens, the listing client and its plan.
struct Setup {
    server: MockServer,
    token: String,
    wrong_token: String,
    /// Backups each database was seeded with.
    counts: Vec<usize>,
    /// The listing client's `max_attempts`.
    attempts: u32,
    listing_plan: FaultPlan,
    client: Client,
    database_ids: Vec<Uuid>,
}

/// What creates and deletes run with: their client, and the plan each one's faults come from.
struct Mutations {
    client: Client,
    /// Cap on consecutive faults at one request.
    cap: u32,
    /// The client's `max_attempts`.
    attempts: u32,
    kinds: Vec<Fault>,
    probability: f64,
}

/// A backup a create made: database, backup id, name, message.
type Created = (Uuid, Uuid, String, String);

impl Run {
    fn fail(&mut self, message: String) {
        self.failures.push(message);
    }

    /// The run's steps, in order. Every random choice comes from one generator seeded with the
    /// run's seed, drawn in this order, so that a seed replays the run exactly.
    async fn go(&mut self) {
        let mut rng = SplitMix64::new(self.seed);
        let Some(setup) = self.set_up(&mut rng).await else { return };
        self.list_every_database(&setup, Some(&setup.listing_plan)).await;
        let Some(mutations) = self.mutations(&setup, &mut rng) else { return };
        let created = self.create_some(&setup, &mutations, &mut rng).await;
        let targets = self.delete_some(&setup, &mutations, &created, &mut rng).await;
        self.check_nothing_came_back(&setup.server, &created, &targets).await;
        self.list_every_database(&setup, None).await;
        self.probe_errors(setup, &mut rng).await;
    }

    /// Step 1: the tokens, the mock with its databases and listing fault plan, and the client.
    async fn set_up(&mut self, rng: &mut SplitMix64) -> Option<Setup> {
        let token = format!("soak-secret-{:016x}{:016x}", rng.next_u64(), rng.next_u64());
        let wrong_token = format!("soak-wrong-{:016x}{:016x}", rng.next_u64(), rng.next_u64());
        self.secrets = vec![token.clone(), wrong_token.clone()];

        // Page boundaries at 20: empty, one, one short of a page, a page, one over, two pages.
        let counts = vec![0, 1, 19, 20, 21, 40, rng.between(0, 120) as usize];
        let attempts = rng.between(3, 5) as u32;
        // One run in four lets faults outlast the retries, so that listings end in errors that
        // offer a point to resume from.
        let cap = if rng.chance(0.25) { attempts } else { rng_cap(rng, attempts) };
        let mut kinds = random_kinds(rng, &listing_kinds());
        if rng.chance(0.5) {
            let hostile = hostile_kinds();
            for _ in 0..rng.between(1, 2) {
                let kind = rng.pick(&hostile).clone();
                if !kinds.contains(&kind) {
                    kinds.push(kind);
                }
            }
        }
        let probability = rng.float(0.1, 0.6);
        let listing_plan = fault_plan(&kinds, probability, cap, rng.next_u64());
        let server = match MockServer::start(MockConfig {
            token: token.clone(),
            seed: rng.next_u64(),
            databases: counts.len(),
            backups_per_database: counts.clone(),
            page_size: 20,
            faults: listing_plan.clone(),
            ..MockConfig::default()
        })
        .await
        {
            Ok(server) => server,
            Err(e) => {
                self.fail(format!("the mock did not start: {e}"));
                return None;
            }
        };
        let policy = RetryPolicy::default().with_max_attempts(attempts).with_jitter_seed(self.seed);
        let client = self.client(&server, &token, policy)?;
        let _ = writeln!(self.texts, "{client:?}");
        let database_ids = server.database_ids();
        Some(Setup { server, token, wrong_token, counts, attempts, listing_plan, client, database_ids })
    }

    /// Steps 2 and 4: every database listed and compared with the server, under the listing plan
    /// (installed at start) or, with `None`, after faults were switched off.
    async fn list_every_database(&mut self, setup: &Setup, under: Option<&FaultPlan>) {
        for (index, &database_id) in setup.database_ids.iter().enumerate() {
            let what = match under {
                Some(plan) => {
                    format!("listing database #{index} ({} backups) under `{plan}`", setup.counts[index])
                }
                None => format!("listing database #{index} again, without faults"),
            };
            self.list_and_compare(
                &setup.server,
                &setup.client,
                database_id,
                setup.attempts,
                &what,
                under.is_some(),
            )
            .await;
        }
    }

    /// The client and fault kinds creates and deletes run with.
    fn mutations(&mut self, setup: &Setup, rng: &mut SplitMix64) -> Option<Mutations> {
        let cap = rng.between(1, 2) as u32;
        // A create's attempt may be spent on its reconciliation GET instead of the POST: with at
        // most `cap` faults in a row per request, the worst case is cap POST faults, each
        // followed by cap GET faults, then one clean attempt: cap² + cap + 1 attempts, plus one
        // for a scheduled lost answer.
        let attempts = cap * cap + cap + 2;
        let policy = RetryPolicy::default().with_max_attempts(attempts).with_jitter_seed(self.seed ^ 1);
        let client = self.client(&setup.server, &setup.token, policy)?;
        let kinds = random_kinds(rng, &mutation_kinds());
        let probability = rng.float(0.1, 0.5);
        Some(Mutations { client, cap, attempts, kinds, probability })
    }

    /// Step 3a: a few creates, each under a fresh plan; what was created.
    async fn create_some(
        &mut self,
        setup: &Setup,
        mutations: &Mutations,
        rng: &mut SplitMix64,
    ) -> Vec<Created> {
        let mut created = Vec::new();
        for n in 0..rng.between(2, 4) {
            let database_id = *rng.pick(&setup.database_ids);
            let (name, message) =
                (format!("soak-{:x}-{n}", self.seed), format!("soak run {} create {n}", self.seed));
            let mut plan = fault_plan(&mutations.kinds, mutations.probability, mutations.cap, rng.next_u64());
            // Request 1 is the look at the database before the first attempt; request 2 is the
            // POST unless that look was faulted.
            if rng.chance(0.5) {
                plan = plan.at(2, Fault::Lost);
            }
            if let Some(backup_id) =
                self.create_and_check(&setup.server, mutations, database_id, (&name, &message), &plan).await
            {
                created.push((database_id, backup_id, name, message));
            }
        }
        created
    }

    /// One create under `plan`, checked against the requests it sent and what the server holds;
    /// the id of the created backup, if the create succeeded.
    async fn create_and_check(
        &mut self,
        server: &MockServer,
        mutations: &Mutations,
        database_id: Uuid,
        (name, message): (&str, &str),
        plan: &FaultPlan,
    ) -> Option<Uuid> {
        let attempts = mutations.attempts as usize;
        server.set_faults(plan.clone());
        server.clear_requests();
        let result = mutations.client.backups(database_id).create(name, message).await;
        let log = drain(server);
        self.stats.record(&log);
        self.stats.creates += 1;
        let posts = count(&log, "POST");
        let gets = count(&log, "GET");
        if log.iter().any(|r| r.method == "POST" && r.fault == Some(Fault::Lost)) {
            self.stats.creates_lost += 1;
        }
        if posts > attempts || gets > 2 * attempts - 1 {
            self.fail(format!(
                "create `{name}` under `{plan}` sent {posts} POST and {gets} GET for {attempts} attempts"
            ));
        }
        if let Some(blind) = blind_resend(&log) {
            self.fail(format!("create `{name}` under `{plan}` {blind}"));
        }
        match result {
            Ok(backup) => {
                let matching = same_name(server, database_id, name, message);
                if matching != vec![backup.id] {
                    self.fail(format!(
                        "create `{name}` under `{plan}` returned {} but the server holds {matching:?} with that name and message",
                        backup.id
                    ));
                }
                Some(backup.id)
            }
            Err(e) => {
                self.note_error(&e);
                self.fail(format!("create `{name}` under `{plan}` failed: {e}"));
                None
            }
        }
    }

    /// Step 3b: deletes what was created and as many older backups, picked at random, each under
    /// a fresh plan; what was deleted.
    async fn delete_some(
        &mut self,
        setup: &Setup,
        mutations: &Mutations,
        created: &[Created],
        rng: &mut SplitMix64,
    ) -> Vec<(Uuid, Uuid)> {
        let mut targets: Vec<(Uuid, Uuid)> = created.iter().map(|(db, id, ..)| (*db, *id)).collect();
        for _ in 0..rng.between(1, 3) {
            let database_id = *rng.pick(&setup.database_ids);
            let backups = setup.server.backups(database_id);
            if !backups.is_empty() {
                let id = rng.pick(&backups).id;
                if !targets.contains(&(database_id, id)) {
                    targets.push((database_id, id));
                }
            }
        }
        for (database_id, backup_id) in targets.iter().copied() {
            let mut plan = fault_plan(&mutations.kinds, mutations.probability, mutations.cap, rng.next_u64());
            if rng.chance(0.5) {
                plan = plan.at(1, Fault::Lost);
            }
            self.delete_and_check(&setup.server, mutations, (database_id, backup_id), &plan).await;
        }
        targets
    }

    /// One delete under `plan`, checked against the requests it sent and what the server holds.
    async fn delete_and_check(
        &mut self,
        server: &MockServer,
        mutations: &Mutations,
        (database_id, backup_id): (Uuid, Uuid),
        plan: &FaultPlan,
    ) {
        let attempts = mutations.attempts as usize;
        server.set_faults(plan.clone());
        server.clear_requests();
        let result = mutations.client.backups(database_id).delete(backup_id).await;
        let log = drain(server);
        self.stats.record(&log);
        self.stats.deletes += 1;
        let deletes = count(&log, "DELETE");
        if log.iter().any(|r| r.method == "DELETE" && r.fault == Some(Fault::Lost)) {
            self.stats.deletes_lost += 1;
        }
        if deletes > attempts || deletes != log.len() {
            self.fail(format!(
                "delete of {backup_id} under `{plan}` sent {deletes} DELETE and {} other requests for {attempts} attempts",
                log.len() - deletes
            ));
        }
        if let Err(e) = result {
            self.note_error(&e);
            self.fail(format!("delete of {backup_id} under `{plan}` failed: {e}"));
        }
        if server.backups(database_id).iter().any(|b| b.id == backup_id) {
            self.fail(format!("backup {backup_id} is still there after its delete under `{plan}`"));
        }
    }

    /// Step 3c: once every slow answer has landed, no create left a second backup and no deleted
    /// backup came back.
    async fn check_nothing_came_back(
        &mut self,
        server: &MockServer,
        created: &[Created],
        targets: &[(Uuid, Uuid)],
    ) {
        // A slow answer applies its create or delete when its wait is over, after the client
        // gave up on it: let every such answer land before the final checks.
        server.set_faults(FaultPlan::none());
        tokio::time::sleep(SLOW * 2).await;
        for (database_id, _, name, message) in created {
            let left = same_name(server, *database_id, name, message);
            if !left.is_empty() {
                self.fail(format!(
                    "create `{name}` left {} backup(s) {left:?} after its backup was deleted: created twice",
                    left.len()
                ));
            }
        }
        for (database_id, backup_id) in targets {
            if server.backups(*database_id).iter().any(|b| b.id == *backup_id) {
                self.fail(format!("deleted backup {backup_id} came back"));
            }
        }
    }

    fn client(&mut self, server: &MockServer, token: &str, policy: RetryPolicy) -> Option<Client> {
        match Client::builder()
            .token(token)
            .base_url(server.base_url())
            .retry(policy)
            .timeout(TIMEOUT)
            .observer(Arc::clone(&self.progress))
            .max_response_bytes(RESPONSE_LIMIT)
            .build()
        {
            Ok(client) => Some(client),
            Err(e) => {
                self.note_error(&e);
                self.fail(format!("the client did not build: {e}"));
                None
            }
        }
    }

    /// Lists a database and compares it with the server. Under faults (`tolerant`), a listing
    /// may end in an error: one that [`qovery_backups::Error::resume_after`] offers a point for is
    /// resumed from there (at most [`MAX_RESUMES`] times), and the rounds together must deliver
    /// every backup exactly once; one with no resume point must be what a hostile answer in the
    /// log explains (see [`expected_failure`]), and what came before it a prefix of the server's
    /// backups. Whatever happens, no backup is delivered twice.
    async fn list_and_compare(
        &mut self,
        server: &MockServer,
        client: &Client,
        database_id: Uuid,
        attempts: u32,
        what: &str,
        tolerant: bool,
    ) {
        server.clear_requests();
        let delivered_before = self.progress.backups.load(Relaxed);
        let mut listed: Vec<Uuid> = Vec::new();
        let mut resume: Option<Uuid> = None;
        let mut rounds = 0u32;
        let ended = loop {
            rounds += 1;
            let mut items = client.backups(database_id).list().start_after(resume).items();
            let error = loop {
                match items.try_next().await {
                    Ok(Some(backup)) => listed.push(backup.id),
                    Ok(None) => break None,
                    Err(e) => break Some(e),
                }
            };
            let Some(error) = error else { break None };
            self.note_error(&error);
            match error.resume_after() {
                Some(after) if tolerant && rounds <= MAX_RESUMES => {
                    if after != listed.last().copied() {
                        self.fail(format!(
                            "{what}: `{error}` offers to resume after {after:?}, but the last backup delivered is {:?}",
                            listed.last()
                        ));
                        break Some(error);
                    }
                    self.stats.resumed += 1;
                    resume = after;
                }
                _ => break Some(error),
            }
        };
        let log = drain(server);
        self.stats.record(&log);
        self.stats.databases += 1;
        let expected: Vec<Uuid> = server.backups(database_id).into_iter().map(|b| b.id).collect();
        self.stats.backups_listed += listed.len() as u64;
        let mut once = std::collections::HashSet::with_capacity(listed.len());
        if let Some(twice) = listed.iter().find(|id| !once.insert(**id)) {
            self.fail(format!("{what}: backup {twice} was delivered twice"));
        }
        let announced = self.progress.backups.load(Relaxed) - delivered_before;
        if announced != listed.len() as u64 {
            self.fail(format!(
                "{what}: the pages received announced {announced} backups, the listing delivered {}",
                listed.len()
            ));
        }
        match ended {
            None if listed != expected => {
                let first_difference = listed.iter().zip(&expected).position(|(a, b)| a != b);
                self.fail(format!(
                    "{what}: listed {} backups in {rounds} round(s), the server holds {}; first difference at {:?}",
                    listed.len(),
                    expected.len(),
                    first_difference
                ));
            }
            None => {}
            Some(error) => match expected_failure(&error, &log, &listed) {
                Some(kind) if tolerant => {
                    *self.stats.expected_failures.entry(kind).or_default() += 1;
                    if !expected.starts_with(&listed) {
                        self.fail(format!(
                            "{what}: ended with `{error}` after {} backups that are not the server's first {}",
                            listed.len(),
                            listed.len()
                        ));
                    }
                }
                _ => self.fail(format!("{what}: failed after {} backups: {error}", listed.len())),
            },
        }
        // The SDK never follows a redirect: it would carry the token to another origin.
        if let Some(followed) = log.iter().find(|r| r.path.starts_with("/redirected")) {
            self.fail(format!("{what}: a redirect was followed to {}", followed.path));
        }
        // Each page is one operation: no page may be asked for more than `attempts` times per
        // round, or twice that when a refused cursor (`echo` answers 400) made the listing ask
        // again from an earlier backup, which may be the previous page's own cursor.
        let healed = log.iter().any(|r| r.fault == Some(Fault::Echo));
        let allowed = attempts * rounds * if healed { 2 } else { 1 };
        let mut per_page: BTreeMap<(&str, Option<&str>), u32> = BTreeMap::new();
        for record in &log {
            *per_page.entry((record.method.as_str(), record.query.as_deref())).or_default() += 1;
        }
        for ((method, query), n) in per_page {
            if method != "GET" || n > allowed {
                self.fail(format!(
                    "{what}: {n} × {method} ?{} for {attempts} attempts in {rounds} round(s)",
                    query.unwrap_or("")
                ));
            }
        }
    }

    /// Provokes errors the SDK must report without the token, and checks they are the right ones.
    async fn probe_errors(&mut self, setup: Setup, rng: &mut SplitMix64) {
        let Setup { server, token, wrong_token, listing_plan, .. } = setup;
        let database_id = server.database_ids()[5]; // 40 backups: two full pages

        // A fault with retries off: the run's own kinds, less those that are not errors.
        let failing: Vec<Fault> = listing_plan
            .kinds()
            .iter()
            .filter(|k| {
                !matches!(
                    k,
                    Fault::UnknownEnum
                        | Fault::UnknownFields
                        | Fault::Escape
                        | Fault::Future
                        | Fault::FloatPage
                )
            })
            // A repeat needs three pages; the database probed has two and an empty third.
            .filter(|k| **k != Fault::RepeatOld)
            .cloned()
            .collect();
        let failing = if failing.is_empty() { vec![Fault::Status(503)] } else { failing };
        server.set_faults(
            FaultPlan::new()
                .with_probability(1.0)
                .with_kinds(failing)
                .with_max_consecutive(u32::MAX)
                .with_seed(rng.next_u64()),
        );
        if let Some(never) = self.client(&server, &token, RetryPolicy::never()) {
            match never.backups(database_id).list().items().try_collect::<Vec<_>>().await {
                Ok(_) => self.fail("a listing with every request faulted and retries off succeeded".into()),
                Err(e) => self.note_error(&e),
            }
            match never.backups(database_id).create("probe", "probe").await {
                Ok(_) => self.fail("a create with every request faulted and retries off succeeded".into()),
                Err(e) => self.note_error(&e),
            }
        }
        server.set_faults(FaultPlan::none());

        // A token the server refuses.
        if let Some(refused) = self.client(&server, &wrong_token, RetryPolicy::never()) {
            let _ = writeln!(self.texts, "{refused:?}");
            match refused.backups(database_id).list().items().try_collect::<Vec<_>>().await {
                Ok(_) => self.fail("a listing with a wrong token succeeded".into()),
                Err(e) if e.is_unauthorized() => self.note_error(&e),
                Err(e) => {
                    self.note_error(&e);
                    self.fail(format!("a wrong token gave `{e}`, not a 401"));
                }
            }
        }

        // A backup that does not exist, with terminal escapes in the 404's detail (`escape`):
        // `note_error` checks they do not reach the message.
        let policy = RetryPolicy::default().with_max_attempts(2).with_jitter_seed(self.seed);
        if let Some(client) = self.client(&server, &token, policy) {
            server.set_faults(FaultPlan::new().with_probability(1.0).with_kinds([Fault::Escape]));
            let unknown = Uuid::from_u64_pair(rng.next_u64(), rng.next_u64());
            match client.backups(database_id).delete(unknown).await {
                Ok(()) => self.fail(format!("deleting unknown backup {unknown} succeeded")),
                Err(e) if e.is_not_found() => self.note_error(&e),
                Err(e) => {
                    self.note_error(&e);
                    self.fail(format!("deleting unknown backup {unknown} gave `{e}`, not a 404"));
                }
            }
            server.set_faults(FaultPlan::none());
        }

        // A proxy that echoes the request, `Authorization` included, in a 400's detail.
        server.set_faults(FaultPlan::new().with_probability(1.0).with_kinds([Fault::Echo]));
        if let Some(client) = self.client(&server, &token, RetryPolicy::default().with_max_attempts(2)) {
            match client.backups(database_id).list().items().try_collect::<Vec<_>>().await {
                Ok(_) => self.fail("a listing answered 400 with an echo of the request succeeded".into()),
                Err(e) if e.status().is_some_and(|s| s.as_u16() == 400) => self.note_error(&e),
                Err(e) => {
                    self.note_error(&e);
                    self.fail(format!("a listing answered with an echo gave `{e}`, not a 400"));
                }
            }
        }
        server.set_faults(FaultPlan::none());
    }

    /// Keeps every way an error prints, for the search for the token.
    /// Also checks that the message and the hint are one line with no control character (from
    /// `escape`, or anything else the server sent).
    fn note_error(&mut self, error: &qovery_backups::Error) {
        self.stats.errors_probed += 1;
        let (display, hint) = (error.to_string(), error.hint().unwrap_or_default());
        if display.chars().chain(hint.chars()).any(char::is_control) {
            self.fail(format!("an error's message or hint has a control character: {display:?} {hint:?}"));
        }
        let _ = write!(self.texts, "{display}\n{hint}\n{error:?}\n{error:#?}\n");
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            let _ = write!(self.texts, "{cause}\n{cause:?}\n");
            source = cause.source();
        }
    }

    fn check_secrets(&mut self, traces: &[u8]) {
        let traces = String::from_utf8_lossy(traces);
        let texts = std::mem::take(&mut self.texts);
        let failures = self.failures.join("\n");
        for secret in std::mem::take(&mut self.secrets) {
            for (place, text) in
                [("the traces", &*traces), ("an error's output", &texts), ("a failure", &failures)]
            {
                if text.contains(&secret) {
                    self.fail(format!("a token appears in {place}"));
                }
            }
        }
    }
}

/// The hostile answer that explains a listing's error with no resume point, by name, or `None`
/// if nothing in `log` does: an answer over the client's limit (`endless`, `huge`), headers too
/// large to accept (`big-header`), a redirect not followed (`redirect`), a 400 that no earlier
/// backup could heal (`echo`), a backup sent again (`repeat-old`, and it must be one already
/// delivered).
fn expected_failure(error: &qovery_backups::Error, log: &[RequestRecord], listed: &[Uuid]) -> Option<String> {
    use qovery_backups::{Error, TransportKind};
    let faulted = |kinds: &[Fault]| log.iter().any(|r| r.fault.as_ref().is_some_and(|f| kinds.contains(f)));
    let kind = match error {
        Error::TooLarge { .. } if faulted(&[Fault::Endless, Fault::Huge]) => "too large (endless, huge)",
        Error::Transport { kind: TransportKind::HeadersTooLarge, .. } if faulted(&[Fault::BigHeader]) => {
            "headers too large (big-header)"
        }
        Error::Api { status, location, .. }
            if status.is_redirection()
                && faulted(&[Fault::Redirect])
                && location.as_deref().is_some_and(|l| l.contains("/redirected/")) =>
        {
            "redirect not followed (redirect)"
        }
        Error::Api { status, .. } if status.as_u16() == 400 && faulted(&[Fault::Echo]) => "400 (echo)",
        Error::PaginationLoop { repeated_id, .. }
            if faulted(&[Fault::RepeatOld]) && listed.contains(repeated_id) =>
        {
            "pagination loop (repeat-old)"
        }
        _ => return None,
    };
    Some(kind.to_owned())
}

/// A cap on consecutive faults below the client's attempts, so that every call can succeed.
fn rng_cap(rng: &mut SplitMix64, attempts: u32) -> u32 {
    rng.between(1, u64::from(attempts) - 1) as u32
}

/// A non-empty random subset of `all`.
fn random_kinds(rng: &mut SplitMix64, all: &[Fault]) -> Vec<Fault> {
    let mut kinds: Vec<Fault> = all.iter().filter(|_| rng.chance(0.5)).cloned().collect();
    if kinds.is_empty() {
        kinds.push(rng.pick(all).clone());
    }
    kinds
}

fn fault_plan(kinds: &[Fault], probability: f64, cap: u32, seed: u64) -> FaultPlan {
    FaultPlan::new()
        .with_probability((probability * 100.0).round() / 100.0)
        .with_kinds(kinds.to_vec())
        .with_max_consecutive(cap)
        .with_seed(seed)
}

/// The request log since the last drain.
fn drain(server: &MockServer) -> Vec<RequestRecord> {
    let log = server.requests();
    server.clear_requests();
    log
}

fn count(log: &[RequestRecord], method: &str) -> usize {
    log.iter().filter(|r| r.method == method).count()
}

/// A POST sent again after one whose outcome the client could not know, with no look at the
/// database in between.
///
/// "No backup created twice" only catches a blind re-send when the first POST was applied
/// (`Fault::Late`, `Fault::Lost`, `Fault::Truncate`); under `Fault::Slow` the mock drops the
/// request once its client has gone, where a real server might still finish it. The SDK promises
/// to look before sending again (`Backups::create`), and this holds it to that whatever the
/// fault. Only a 4xx answer (such as 429) says the create did not happen.
fn blind_resend(log: &[RequestRecord]) -> Option<String> {
    let posts: Vec<&RequestRecord> = log.iter().filter(|r| r.method == "POST").collect();
    posts.windows(2).find_map(|pair| {
        let (first, next) = (pair[0], pair[1]);
        let refused = first.status.is_some_and(|s| (400..500).contains(&s));
        let looked = log.iter().any(|r| r.method == "GET" && r.number > first.number && r.number < next.number);
        (!refused && !looked).then(|| {
            let fault = first.fault.as_ref().map_or("no fault".to_owned(), Fault::to_string);
            format!(
                "sent its POST again (request {}) after request {} ({fault}, status {:?}) without looking for the backup first",
                next.number, first.number, first.status
            )
        })
    })
}

/// The ids of the backups of a database with this name and message.
fn same_name(server: &MockServer, database_id: Uuid, name: &str, message: &str) -> Vec<Uuid> {
    server
        .backups(database_id)
        .into_iter()
        .filter(|b| b.name == name && b.message == message)
        .map(|b| b.id)
        .collect()
}

/// Everything traced, in one buffer that each run empties.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl io::Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

/// Counts the SDK's typed events: retries, pages, and the backups the pages announced.
#[derive(Default)]
struct Progress {
    retries: AtomicU64,
    pages: AtomicU64,
    backups: AtomicU64,
}

impl Observer for Progress {
    fn on_event(&self, event: &Event<'_>) {
        match event {
            Event::Retrying { .. } => {
                self.retries.fetch_add(1, Relaxed);
            }
            Event::PageReceived { backups, .. } => {
                self.pages.fetch_add(1, Relaxed);
                self.backups.fetch_add(*backups as u64, Relaxed);
            }
            _ => {}
        }
    }
}

/// Stops the soak if one run takes too long in real time, naming its seed.
struct Watchdog {
    current: Arc<Mutex<Option<(u64, Instant)>>>,
}

impl Watchdog {
    fn start() -> Watchdog {
        let current: Arc<Mutex<Option<(u64, Instant)>>> = Arc::default();
        let watched = Arc::clone(&current);
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(Duration::from_millis(500));
                let stuck = *watched.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some((seed, since)) = stuck
                    && since.elapsed() > RUN_WALL_LIMIT
                {
                    println!(
                        "soak: the run with seed {seed} has not finished after {RUN_WALL_LIMIT:?} of real time: stuck"
                    );
                    println!("replay it with: cargo xtask soak --runs 1 --seed {seed}");
                    let _ = io::stdout().flush();
                    std::process::exit(1);
                }
            }
        });
        Watchdog { current }
    }

    fn arm(&self, seed: u64) {
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = Some((seed, Instant::now()));
    }

    fn disarm(&self) {
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}
