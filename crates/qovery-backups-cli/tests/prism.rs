//! Conformance: the `qovery-backups` binary against Stoplight Prism serving Qovery's full
//! published OpenAPI spec (`tests/prism/qovery-openapi-full.yaml`, unmodified) in dynamic mode,
//! where every answer is generated from the spec's schemas: any answer Prism gives to a valid
//! request is one the spec allows the real API to give.
//!
//! `list`, `latest`, `check`, `databases`, `create` and `delete` each run [`RUNS`] times. Every
//! run must end with one of its command's documented exit codes for a valid answer, with no
//! decode error, and every request must pass Prism's validation (its log shows no violation).
//! The figures per command are printed at the end (`--nocapture`) and in the failure message.
//!
//! Set-up: Prism is the one pinned by `tests/prism/package-lock.json`, found in `$PRISM` (a path
//! to the executable), in the target directory's `prism/` (where `.ci/prism-deps` installs it,
//! which this test runs when it is missing: npm, from the registry), or on `PATH` when that one
//! reports the pinned version. It listens on 127.0.0.1 and is stopped at the end, panic or not.
//!
//! Reproducible data: Prism's own `--seed` reseeds its generator with the same seed for every
//! answer, so each run of a command would get the same answer, and a listing's second page would
//! repeat its first (a server in a loop, which the SDK rightly refuses). Prism also reads a
//! seed per request from a `Prefer: seed=...` header, which the CLI cannot send: each run goes
//! through its own small forwarder on 127.0.0.1 that adds that header and changes nothing else.
//! A request's seed is made of the base seed (`$PRISM_SEED`, default [`BASE_SEED`]), the
//! command, the run, the request line and how often the run sent that line before, so the same
//! run gets the same answers whatever the order of its concurrent requests; a failure's report
//! names the seeds, and `curl -H 'Prefer: seed=SEED' -H 'Authorization: Token x'` against
//! `prism mock -d` shows the answer again.
//!
//! Status codes: for a request that passes validation, Prism answers with the operation's lowest
//! 2XX response (its negotiator picks a 4XX only for a request it refused, or when `Prefer:
//! code=` asks), so a 4XX here is always a violation in Prism's log as well.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{self, BufRead as _, BufReader, Read as _, Write as _};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use uuid::Uuid;

/// Runs of each command, unless `$PRISM_RUNS` asks for another number.
const RUNS: usize = 30;
/// Runs at once. Prism answers on one thread: more would only queue there.
const WORKERS: usize = 3;
/// The seed every request's seed starts with, unless `$PRISM_SEED` gives another.
const BASE_SEED: &str = "qovery-backups";
/// A fake token: Prism checks only that the `Authorization` header has a declared scheme.
const TOKEN: &str = "some-fake-token";
/// The longest one run may take before it is killed and reported.
const RUN_TIMEOUT: Duration = Duration::from_secs(120);
/// The longest Prism may take to read the 1 MB spec and listen (about 11 s on a quiet machine).
const STARTUP_TIMEOUT: Duration = Duration::from_secs(300);

/// A command under test and what its documentation allows for a valid answer.
struct Case {
    name: &'static str,
    /// Its arguments for a database id and a backup id.
    args: fn(&str, &str) -> Vec<String>,
    /// Exit codes for a valid answer.
    exits: &'static [i32],
}

const CASES: &[Case] = &[
    Case { name: "list", args: |db, _| strings(&["list", db, "--output", "json"]), exits: &[0] },
    Case { name: "latest", args: |db, _| strings(&["latest", db, "--output", "json"]), exits: &[0] },
    // 3 is a verdict (STALE, MISSING, SUSPECT), not a failure.
    Case {
        name: "check",
        args: |db, _| strings(&["check", db, "--max-age", "26h", "--output", "json"]),
        exits: &[0, 3],
    },
    // 2 only for an answer with no database at all (README: a scope holding no database is a
    // usage error, so a cron job pointed at nothing does not pass silently); see `problems`.
    Case { name: "databases", args: |_, _| strings(&["databases", "--output", "json"]), exits: &[0, 2] },
    Case {
        name: "create",
        args: |db, _| strings(&["create", db, "--name", "n", "--message", "m", "--output", "json"]),
        exits: &[0],
    },
    Case { name: "delete", args: |db, backup| strings(&["delete", db, backup]), exits: &[0] },
];

/// What `databases` says when no organization the token sees holds a database.
const NO_DATABASE: &str = "error: no database found in every organization the token can see";

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn every_command_against_prism_serving_the_full_spec_in_dynamic_mode() {
    let runs = std::env::var("PRISM_RUNS").ok().map_or(RUNS, |n| n.parse().expect("PRISM_RUNS: a count"));
    let base_seed = std::env::var("PRISM_SEED").unwrap_or_else(|_| BASE_SEED.to_owned());
    let started = Instant::now();
    let (prism_bin, version) = find_prism();
    let spec = fixtures().join("qovery-openapi-full.yaml");
    let prism = Prism::start(&prism_bin, &spec);
    let startup = started.elapsed();

    let mut figures = Vec::new();
    let mut previous_mark = prism.mark();
    for case in CASES {
        let phase_started = Instant::now();
        let records = run_case(case, runs, prism.addr(), &base_seed);
        let mark = prism.mark();
        let log = prism.log_between(previous_mark, mark);
        previous_mark = mark;
        figures.push(Figures::new(case, records, &log, phase_started.elapsed()));
    }
    drop(prism);

    let report = report(&figures, &version, &base_seed, startup, started.elapsed());
    println!("{report}");
    let failed = figures.iter().any(Figures::failed);
    assert!(!failed, "the CLI against Prism (full spec, dynamic):\n{report}");
}

// ---------------------------------------------------------------------------------------------
// Running the commands

/// One run of a command.
struct Record {
    run: usize,
    args: Vec<String>,
    /// `None` when it was killed after [`RUN_TIMEOUT`].
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// The requests it sent, each with the seed Prism got for it.
    requests: Vec<(String, String)>,
    /// What went wrong in the forwarder, if anything.
    forwarder_errors: Vec<String>,
}

/// `runs` runs of `case`, [`WORKERS`] at a time, in the order of their numbers.
fn run_case(case: &Case, runs: usize, prism: SocketAddr, base_seed: &str) -> Vec<Record> {
    let next = AtomicUsize::new(0);
    let records = Mutex::new(Vec::with_capacity(runs));
    thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| {
                loop {
                    let run = next.fetch_add(1, Ordering::Relaxed);
                    if run >= runs {
                        break;
                    }
                    let record = run_once(case, run, prism, base_seed);
                    records.lock().unwrap().push(record);
                }
            });
        }
    });
    let mut records = records.into_inner().unwrap();
    records.sort_by_key(|r| r.run);
    records
}

fn run_once(case: &Case, run: usize, prism: SocketAddr, base_seed: &str) -> Record {
    let database_id = id_for(case.name, run, "database").to_string();
    let backup_id = id_for(case.name, run, "backup").to_string();
    let args = (case.args)(&database_id, &backup_id);
    let forwarder = Forwarder::start(prism, format!("{base_seed}.{}.{run}", case.name));
    let mut command = Command::new(env!("CARGO_BIN_EXE_qovery-backups"));
    command
        .args(&args)
        .args(["--api-url", &forwarder.url(), "--initial-backoff", "1ms"])
        .env_remove("QOVERY_CLI_ACCESS_TOKEN")
        .env_remove("QOVERY_API_URL")
        .env_remove("RUST_LOG")
        .env("QOVERY_API_TOKEN", TOKEN)
        .stdin(Stdio::null());
    let (code, stdout, stderr) = run_with_timeout(command, RUN_TIMEOUT);
    let (requests, forwarder_errors) = forwarder.finish();
    Record { run, args, code, stdout, stderr, requests, forwarder_errors }
}

/// A fixed id for a run: the same run asks about the same database every time.
fn id_for(command: &str, run: usize, what: &str) -> Uuid {
    let high = fnv1a(format!("{command}/{run}/{what}/high").as_bytes());
    let low = fnv1a(format!("{command}/{run}/{what}/low").as_bytes());
    let bytes = ((u128::from(high) << 64) | u128::from(low)).to_be_bytes();
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// Runs `command` to its end, or kills it after `timeout`: exit code, stdout, stderr.
fn run_with_timeout(mut command: Command, timeout: Duration) -> (Option<i32>, String, String) {
    let mut child =
        command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run qovery-backups");
    let read_all = |mut pipe: Box<dyn io::Read + Send>| {
        thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = read_all(Box::new(child.stdout.take().unwrap()));
    let stderr = read_all(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + timeout;
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(5));
    };
    (code, stdout.join().unwrap(), stderr.join().unwrap())
}

// ---------------------------------------------------------------------------------------------
// Judging the runs

/// What is wrong with one run, if anything: one line each.
fn problems(case: &Case, record: &Record) -> Vec<String> {
    let mut problems = Vec::new();
    let error_lines = || {
        let lines: Vec<&str> =
            record.stderr.lines().filter(|l| l.starts_with("error:") || l.starts_with("hint:")).collect();
        if lines.is_empty() { record.stderr.trim().to_owned() } else { lines.join(" / ") }
    };
    let decode = is_decode_error(record);
    let wrong_exit = match record.code {
        None => Some(format!("killed after {} s", RUN_TIMEOUT.as_secs())),
        Some(2) if case.name == "databases" => {
            (!record.stderr.contains(NO_DATABASE)).then(|| "exit 2".to_owned())
        }
        Some(code) => (!case.exits.contains(&code)).then(|| format!("exit {code}")),
    };
    match wrong_exit {
        Some(exit) if decode => problems.push(format!("{exit}, decode error: {}", error_lines())),
        Some(exit) => problems.push(format!("{exit}: {}", error_lines())),
        None if decode => problems.push(format!("decode error: {}", record.stderr.trim())),
        None => {}
    }
    if record.stdout.contains(TOKEN) || record.stderr.contains(TOKEN) {
        problems.push("the token appears in the output".to_owned());
    }
    for error in &record.forwarder_errors {
        problems.push(format!("forwarder: {error}"));
    }
    if problems.is_empty()
        && let Some(code) = record.code
        && let Err(why) = check_output(case, record, code)
    {
        problems.push(format!("output: {why}"));
    }
    problems
}

/// Whether stderr tells of an answer that could not be decoded.
fn is_decode_error(record: &Record) -> bool {
    let stderr = record.stderr.to_lowercase();
    stderr.contains("could not be decoded") || stderr.contains("decode")
}

/// Whether stdout is what the command documents for the exit code it gave.
fn check_output(case: &Case, record: &Record, code: i32) -> Result<(), String> {
    let json = || -> Result<serde_json::Value, String> {
        serde_json::from_str(&record.stdout)
            .map_err(|e| format!("not JSON ({e}): {}", excerpt(&record.stdout)))
    };
    let array = || -> Result<Vec<serde_json::Value>, String> {
        match json()? {
            serde_json::Value::Array(items) => Ok(items),
            other => Err(format!("not a JSON array: {}", excerpt(&other.to_string()))),
        }
    };
    match (case.name, code) {
        ("list", _) => array().map(drop),
        ("latest", _) => match array()?.len() {
            0 | 1 => Ok(()),
            n => Err(format!("{n} backups for one database")),
        },
        ("check", _) => {
            let reports = array()?;
            let [report] = reports.as_slice() else { return Err(format!("{} reports", reports.len())) };
            let verdict = report["verdict"].as_str().unwrap_or_default();
            let expected: &[&str] =
                if code == 0 { &["ok", "unmanaged"] } else { &["stale", "missing", "suspect"] };
            if expected.contains(&verdict) {
                Ok(())
            } else {
                Err(format!("verdict {verdict:?} with exit {code}"))
            }
        }
        ("databases", 2) => Ok(()),
        ("databases", _) => match array()?.len() {
            0 => Err("exit 0 with no database".to_owned()),
            _ => Ok(()),
        },
        ("create", _) => match json()?.get("id") {
            Some(serde_json::Value::String(_)) => Ok(()),
            _ => Err(format!("no backup id: {}", excerpt(&record.stdout))),
        },
        ("delete", _) => {
            let expected = format!("deleted backup {} of database {}", record.args[2], record.args[1]);
            if record.stdout.trim() == expected { Ok(()) } else { Err(excerpt(&record.stdout)) }
        }
        _ => unreachable!(),
    }
}

fn excerpt(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// One command's figures.
struct Figures {
    name: &'static str,
    runs: usize,
    exits: BTreeMap<String, usize>,
    decode_errors: usize,
    /// What the runs concluded, where a command concludes something: `check`'s verdicts.
    verdicts: BTreeMap<String, usize>,
    /// Requests Prism refused or could not route (its log says so).
    request_violations: usize,
    /// Prism's own answers that its validator found at odds with the spec.
    response_violations: usize,
    /// Requests Prism logged, and requests the forwarders sent.
    prism_requests: usize,
    sent_requests: usize,
    /// Error lines of Prism's log (violations and failures), at most a few.
    prism_errors: Vec<String>,
    /// The runs with a problem.
    failed_runs: BTreeSet<usize>,
    /// The runs' problems, grouped by what went wrong (numbers and ids left out), each with the
    /// problem as it was and the run it came from, for each run.
    failures: BTreeMap<String, Vec<(String, String)>>,
    elapsed: Duration,
}

impl Figures {
    fn new(case: &Case, records: Vec<Record>, log: &[String], elapsed: Duration) -> Figures {
        let mut exits = BTreeMap::new();
        let mut failures: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        let mut decode_errors = 0;
        let mut verdicts = BTreeMap::new();
        let mut failed_runs = BTreeSet::new();
        for record in &records {
            if case.name == "check"
                && let Ok(serde_json::Value::Array(reports)) = serde_json::from_str(&record.stdout)
            {
                for report in reports {
                    let verdict = report["verdict"].as_str().unwrap_or("?").to_owned();
                    *verdicts.entry(verdict).or_insert(0) += 1;
                }
            }
            let code = record.code.map_or("killed".to_owned(), |c| c.to_string());
            *exits.entry(code).or_insert(0) += 1;
            let problems = problems(case, record);
            if is_decode_error(record) {
                decode_errors += 1;
            }
            if !problems.is_empty() {
                failed_runs.insert(record.run);
            }
            for problem in problems {
                let mut requests: Vec<String> = record
                    .requests
                    .iter()
                    .take(4)
                    .map(|(line, seed)| format!("{line} [seed {seed}]"))
                    .collect();
                if record.requests.len() > 4 {
                    requests.push(format!("and {} more", record.requests.len() - 4));
                }
                let example = format!(
                    "run {}: qovery-backups {}\n      requests: {}",
                    record.run,
                    record.args.join(" "),
                    requests.join("; ")
                );
                failures.entry(generalize(&problem)).or_default().push((problem, example));
            }
        }
        let count = |needle: &str| log.iter().filter(|l| l.contains(needle)).count();
        let request_violations = count("Request did not pass the validation rules")
            + count("NO_PATH_MATCHED_ERROR")
            + count("NO_METHOD_MATCHED_ERROR");
        let mut prism_errors: Vec<String> = Vec::new();
        for line in log.iter().filter(|l| l.contains('✖') || l.contains("did not pass")) {
            let line = line.split_once("] › ").map_or(line.as_str(), |(_, rest)| rest).trim().to_owned();
            if !prism_errors.contains(&line) && prism_errors.len() < 12 {
                prism_errors.push(line);
            }
        }
        Figures {
            name: case.name,
            runs: records.len(),
            exits,
            decode_errors,
            verdicts,
            request_violations,
            response_violations: count("Violation: response"),
            prism_requests: count("Request received"),
            sent_requests: records.iter().map(|r| r.requests.len()).sum(),
            prism_errors,
            failed_runs,
            failures,
            elapsed,
        }
    }

    fn failed(&self) -> bool {
        !self.failures.is_empty()
            || self.request_violations > 0
            || self.response_violations > 0
            || self.prism_requests != self.sent_requests
    }
}

/// The figures as a table, then what failed, each kind of failure once with its first example.
fn report(figures: &[Figures], version: &str, seed: &str, startup: Duration, total: Duration) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Prism {version}, full spec, dynamic; request seeds {seed}.<command>.<run>.<request hash>.<n>; \
         set-up (Prism found or installed, then started) {:.1} s, {:.1} s in all",
        startup.as_secs_f64(),
        total.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "{:<10} {:>4} {:>5} {:<24} {:>7} {:>9} {:>9} {:>8} {:>7}",
        "command", "runs", "ok", "exits", "decode", "req viol", "resp viol", "requests", "time"
    );
    for f in figures {
        let exits: Vec<String> = f.exits.iter().map(|(code, n)| format!("{code}×{n}")).collect();
        let requests = if f.prism_requests == f.sent_requests {
            f.sent_requests.to_string()
        } else {
            format!("{}≠{}", f.sent_requests, f.prism_requests)
        };
        let _ = writeln!(
            out,
            "{:<10} {:>4} {:>5} {:<24} {:>7} {:>9} {:>9} {:>8} {:>6.1}s",
            f.name,
            f.runs,
            f.runs - f.failed_runs.len(),
            exits.join(" "),
            f.decode_errors,
            f.request_violations,
            f.response_violations,
            requests,
            f.elapsed.as_secs_f64()
        );
    }
    for f in figures.iter().filter(|f| !f.verdicts.is_empty()) {
        let verdicts: Vec<String> = f.verdicts.iter().map(|(v, n)| format!("{v}×{n}")).collect();
        let _ = writeln!(out, "{} verdicts: {}", f.name, verdicts.join(" "));
    }
    let _ = writeln!(
        out,
        "ok: runs that ended with a documented exit code, no decode error and the output that code \
         promises ({NO_DATABASE:?} is the documented exit 2 of an answer without databases)"
    );
    for f in figures.iter().filter(|f| f.failed()) {
        let _ = writeln!(out, "\n{}:", f.name);
        for examples in f.failures.values() {
            let (problem, example) = &examples[0];
            let _ = writeln!(out, "  {} run(s): {problem}\n    e.g. {example}", examples.len());
        }
        if f.prism_requests != f.sent_requests {
            let _ = writeln!(
                out,
                "  Prism logged {} requests, the runs sent {}",
                f.prism_requests, f.sent_requests
            );
        }
        for line in &f.prism_errors {
            let _ = writeln!(out, "  Prism: {line}");
        }
    }
    out
}

/// `problem` with ids and numbers left out after its first `: ` (`exit 1: ` stays), so that
/// runs failing the same way group together.
fn generalize(problem: &str) -> String {
    let (kind, mut rest) = problem.split_once(": ").unwrap_or(("", problem));
    let mut out = format!("{kind}: ");
    while let Some(c) = rest.chars().next() {
        if rest.len() >= 36 && rest.is_char_boundary(36) && Uuid::parse_str(&rest[..36]).is_ok() {
            out.push_str("<id>");
            rest = &rest[36..];
        } else if c.is_ascii_digit() || (c == '-' && rest[1..].starts_with(|d: char| d.is_ascii_digit())) {
            let end = rest[1..]
                .find(|d: char| !(d.is_ascii_alphanumeric() || d == '.' || d == '+' || d == '-'))
                .map_or(rest.len(), |i| i + 1);
            out.push_str("<n>");
            rest = &rest[end..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Prism

/// The test's fixtures: the spec, and the npm files that pin Prism.
fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("prism")
}

/// The Prism to run and its version: `$PRISM`, the pinned install in the target directory (made
/// by `.ci/prism-deps` when missing), or `prism` on `PATH` when it is the pinned version.
fn find_prism() -> (PathBuf, String) {
    let lock = fixtures().join("package-lock.json");
    let pinned = pinned_version(&lock);
    if let Some(path) = std::env::var_os("PRISM") {
        let path = PathBuf::from(path);
        let version = version_of(&path).unwrap_or_else(|| panic!("$PRISM={} does not run", path.display()));
        return (path, version);
    }
    // The binary is <target>/<profile>/qovery-backups (or <target>/<triple>/<profile>/...).
    let target = Path::new(env!("CARGO_BIN_EXE_qovery-backups")).parent().and_then(Path::parent).unwrap();
    let dir = std::env::var_os("PRISM_DIR").map_or_else(|| target.join("prism"), PathBuf::from);
    let local = dir.join("node_modules").join(".bin").join("prism");
    let installed = |lock: &Path| {
        local.exists()
            && std::fs::read(dir.join("installed-package-lock.json")).ok() == std::fs::read(lock).ok()
    };
    if installed(&lock) {
        return (local, pinned);
    }
    if version_of(Path::new("prism")).as_deref() == Some(pinned.as_str()) {
        return (PathBuf::from("prism"), pinned);
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.ci/prism-deps");
    eprintln!("installing Prism {pinned} into {} ({})", dir.display(), script.display());
    let status =
        Command::new("bash").arg(&script).env("PRISM_DIR", &dir).status().expect("run .ci/prism-deps");
    assert!(status.success() && installed(&lock), ".ci/prism-deps failed to install Prism ({status})");
    (local, pinned)
}

/// The version of `@stoplight/prism-cli` that the lock file pins.
fn pinned_version(lock: &Path) -> String {
    let text = std::fs::read_to_string(lock).expect("the Prism lock file");
    let lock: serde_json::Value = serde_json::from_str(&text).unwrap();
    lock["packages"]["node_modules/@stoplight/prism-cli"]["version"].as_str().unwrap().to_owned()
}

fn version_of(prism: &Path) -> Option<String> {
    let output = Command::new(prism).arg("--version").stderr(Stdio::null()).output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// `prism mock --dynamic` on 127.0.0.1, stopped when dropped (a panic included), with its log.
struct Prism {
    child: Child,
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
    marks: AtomicUsize,
}

impl Prism {
    fn start(bin: &Path, spec: &Path) -> Prism {
        // A port found free may be taken before Prism binds it: then try another.
        let mut last_log = Vec::new();
        for _ in 0..3 {
            match Prism::try_start(bin, spec) {
                Ok(prism) => return prism,
                Err(log) => last_log = log,
            }
        }
        panic!("Prism did not start:\n{}", last_log.join("\n"));
    }

    fn try_start(bin: &Path, spec: &Path) -> Result<Prism, Vec<String>> {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = Command::new(bin)
            .args(["mock", "--dynamic", "--host", "127.0.0.1", "--port", &port.to_string()])
            .arg(spec)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
        let log = Arc::new(Mutex::new(Vec::new()));
        let (ready_tx, ready_rx) = mpsc::channel();
        let listening = format!("Prism is listening on http://127.0.0.1:{port}");
        let stdout: Box<dyn io::Read + Send> = Box::new(child.stdout.take().unwrap());
        let stderr: Box<dyn io::Read + Send> = Box::new(child.stderr.take().unwrap());
        for pipe in [stdout, stderr] {
            let (log, ready_tx, listening) = (log.clone(), ready_tx.clone(), listening.clone());
            thread::spawn(move || {
                for line in BufReader::new(pipe).lines() {
                    let Ok(line) = line else { break };
                    if line.contains(&listening) {
                        let _ = ready_tx.send(true);
                    }
                    log.lock().unwrap().push(line);
                }
                let _ = ready_tx.send(false);
            });
        }
        let prism = Prism { child, port, log, marks: AtomicUsize::new(0) };
        match ready_rx.recv_timeout(STARTUP_TIMEOUT) {
            Ok(true) => Ok(prism),
            Ok(false) | Err(_) => {
                let log = prism.log.lock().unwrap().clone();
                Err(log.into_iter().rev().take(30).rev().collect())
            }
        }
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Sends a request of its own and waits until Prism has logged it: every line of the
    /// requests answered before is then in the log. Returns that line's index.
    fn mark(&self) -> usize {
        let n = self.marks.fetch_add(1, Ordering::Relaxed);
        let marker = id_for("mark", n, "organization");
        let mut stream = TcpStream::connect(self.addr()).expect("connect to Prism");
        write!(
            stream,
            "GET /organization/{marker} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token marker\r\n\
             Connection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).expect("Prism's answer to the marker");
        let deadline = Instant::now() + Duration::from_secs(60);
        let needle = format!("/organization/{marker} ");
        loop {
            if let Some(at) = self.log.lock().unwrap().iter().rposition(|l| l.contains(&needle)) {
                return at;
            }
            assert!(Instant::now() < deadline, "Prism never logged the marker request");
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// The log lines after mark `from` and before mark `to`.
    fn log_between(&self, from: usize, to: usize) -> Vec<String> {
        self.log.lock().unwrap()[from + 1..to].to_vec()
    }
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// The forwarder: one run's connections to Prism, each request given a `Prefer: seed=` header

struct Forwarder {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
    /// Each request line and the seed it was sent with, in the order received.
    requests: Arc<Mutex<Vec<(String, String)>>>,
    errors: Arc<Mutex<Vec<String>>>,
}

impl Forwarder {
    fn start(upstream: SocketAddr, seed_prefix: String) -> Forwarder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let errors = Arc::new(Mutex::new(Vec::new()));
        let accept = {
            let (stop, connections, requests, errors) =
                (stop.clone(), connections.clone(), requests.clone(), errors.clone());
            thread::spawn(move || {
                for client in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(client) = client else { continue };
                    let (requests, errors, seed_prefix) =
                        (requests.clone(), errors.clone(), seed_prefix.clone());
                    let handle = thread::spawn(move || {
                        if let Err(e) = forward(client, upstream, &seed_prefix, &requests) {
                            errors.lock().unwrap().push(e.to_string());
                        }
                    });
                    connections.lock().unwrap().push(handle);
                }
            })
        };
        Forwarder { addr, stop, accept: Some(accept), connections, requests, errors }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, waits for the connections to close (the run has ended), and returns
    /// the requests with their seeds, and the forwarder's errors.
    fn finish(mut self) -> (Vec<(String, String)>, Vec<String>) {
        self.stop();
        let connections = std::mem::take(&mut *self.connections.lock().unwrap());
        for connection in connections {
            let _ = connection.join();
        }
        (self.requests.lock().unwrap().clone(), self.errors.lock().unwrap().clone())
    }

    fn stop(&mut self) {
        if let Some(accept) = self.accept.take() {
            self.stop.store(true, Ordering::SeqCst);
            let _ = TcpStream::connect(self.addr);
            let _ = accept.join();
        }
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Relays one connection: requests from the client with a `Prefer: seed=` header added, the
/// answers back unchanged. HTTP/1.1 requests with a `Content-Length` body or none (what the CLI
/// sends); anything else is an error.
fn forward(
    client: TcpStream,
    upstream: SocketAddr,
    seed_prefix: &str,
    requests: &Mutex<Vec<(String, String)>>,
) -> io::Result<()> {
    let mut server = TcpStream::connect(upstream)?;
    let answers = {
        let (mut from, mut to) = (server.try_clone()?, client.try_clone()?);
        thread::spawn(move || {
            let _ = io::copy(&mut from, &mut to);
            let _ = to.shutdown(Shutdown::Write);
        })
    };
    let mut reader = BufReader::new(client);
    let result = loop {
        let mut head = Vec::new();
        let mut content_length = 0u64;
        let mut supported = true;
        loop {
            let mut line = Vec::new();
            if reader.read_until(b'\n', &mut line)? == 0 {
                break;
            }
            let text = String::from_utf8_lossy(&line).to_ascii_lowercase();
            if let Some(value) = text.strip_prefix("content-length:") {
                content_length = value.trim().parse().map_err(|_| invalid(format!("bad header {text:?}")))?;
            }
            supported &= !text.starts_with("transfer-encoding:") && !text.starts_with("expect:");
            let end = line == b"\r\n";
            head.push(line);
            if end {
                break;
            }
        }
        let Some(request_line) = head.first() else { break Ok(()) };
        if !supported || head.last().is_none_or(|l| l != b"\r\n") {
            break Err(invalid(format!("unsupported or cut request: {:?}", head_text(&head))));
        }
        let request_line = String::from_utf8_lossy(request_line).trim_end().to_owned();
        let seed = {
            let mut requests = requests.lock().unwrap();
            let before = requests.iter().filter(|(line, _)| *line == request_line).count();
            let seed = format!("{seed_prefix}.{:016x}.{before}", fnv1a(request_line.as_bytes()));
            requests.push((request_line, seed.clone()));
            seed
        };
        let (first, rest) = head.split_first().unwrap();
        server.write_all(first)?;
        server.write_all(format!("Prefer: seed={seed}\r\n").as_bytes())?;
        for line in rest {
            server.write_all(line)?;
        }
        io::copy(&mut (&mut reader).take(content_length), &mut server)?;
    };
    let _ = server.shutdown(Shutdown::Write);
    let _ = answers.join();
    result
}

fn head_text(head: &[Vec<u8>]) -> String {
    head.iter().map(|l| String::from_utf8_lossy(l)).collect()
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// FNV-1a, 64 bits: a stable hash for seeds and ids.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}
