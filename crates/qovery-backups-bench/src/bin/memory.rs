//! Peak memory of `qovery-backups list --output ndjson` by the size of the listing.
//!
//! ```text
//! cargo run --release -p qovery-backups-bench --bin memory [-- --repeat N]
//! ```
//!
//! Builds the CLI in release mode into the same target directory as this program, starts a mock
//! in this process with databases of 10,000, 100,000 and 1,000,000 backups, and runs the CLI
//! binary on each, output to /dev/null. The CLI's peak RSS is its kernel high-water mark
//! (`VmHWM` in /proc/PID/status), read every millisecond while it runs: the mark only grows, so
//! the last reading is the peak. Targets: < 32 MiB at 1,000,000, and the peak at 1,000,000
//! ≤ 1.25 × the peak at 10,000.
#![forbid(unsafe_code)]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use qovery_backups_bench::{MockThread, machine, verdict};
use qovery_backups_mock::{FaultPlan, testing};

const SIZES: [usize; 3] = [10_000, 100_000, 1_000_000];
const PEAK_LIMIT_KIB: u64 = 32 * 1024;
const GROWTH_LIMIT: f64 = 1.25;

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<bool, String> {
    let mut repeat = 3;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--repeat" => {
                repeat = args.next().and_then(|n| n.parse().ok()).ok_or("--repeat needs a number")?;
            }
            other => return Err(format!("unknown argument `{other}`; usage: memory [--repeat N]")),
        }
    }
    let cli = build_cli()?;
    println!("memory: {}; machine: {}", cli.display(), machine());

    let started = Instant::now();
    let mock = MockThread::start(testing::config(SIZES.to_vec(), FaultPlan::none()))
        .map_err(|e| format!("the mock did not start: {e}"))?;
    let server = mock.server();
    println!("mock: {} backups in {:.1?}", SIZES.iter().sum::<usize>(), started.elapsed());

    let mut peaks = Vec::new();
    for (size, database_id) in SIZES.iter().zip(server.database_ids()) {
        let mut readings = Vec::new();
        for _ in 0..repeat {
            let started = Instant::now();
            let mut child = Command::new(&cli)
                .args(["list", &database_id.to_string(), "--output", "ndjson"])
                .env("QOVERY_API_TOKEN", server.token())
                .env("QOVERY_API_URL", server.base_url())
                .env_remove("QOVERY_CLI_ACCESS_TOKEN")
                .env_remove("RUST_LOG")
                .stdin(Stdio::null())
                .stdout(File::create("/dev/null").map_err(|e| format!("/dev/null: {e}"))?)
                .spawn()
                .map_err(|e| format!("cannot run {}: {e}", cli.display()))?;
            let status_file = PathBuf::from(format!("/proc/{}/status", child.id()));
            let mut peak_kib = 0;
            let status = loop {
                if let Some(kib) = high_water_mark_kib(&status_file) {
                    peak_kib = peak_kib.max(kib);
                }
                match child.try_wait() {
                    Ok(Some(status)) => break status,
                    Ok(None) => std::thread::sleep(Duration::from_millis(1)),
                    Err(e) => return Err(format!("waiting for the CLI: {e}")),
                }
            };
            if !status.success() {
                return Err(format!("the CLI listing {size} backups exited with {status}"));
            }
            readings.push((peak_kib, started.elapsed()));
        }
        let peak = readings.iter().map(|(kib, _)| *kib).max().unwrap_or(0);
        let all: Vec<String> = readings.iter().map(|(kib, _)| format!("{:.1}", mib(*kib))).collect();
        let fastest = readings.iter().map(|(_, t)| *t).min().unwrap_or_default();
        println!(
            "  {size:>9} backups: peak RSS {:>5.1} MiB (runs: {} MiB), listed in {fastest:.2?} ({:.0} backups/s)",
            mib(peak),
            all.join(", "),
            *size as f64 / fastest.as_secs_f64()
        );
        peaks.push(peak);
    }

    let (small, large) = (peaks[0], peaks[peaks.len() - 1]);
    let growth = large as f64 / small as f64;
    let under_limit = large < PEAK_LIMIT_KIB;
    let flat = growth <= GROWTH_LIMIT;
    println!(
        "peak at 1,000,000: {:.1} MiB; target < {} MiB: {}",
        mib(large),
        PEAK_LIMIT_KIB / 1024,
        verdict(under_limit)
    );
    println!("peak at 1,000,000 / peak at 10,000: {growth:.3}; target <= {GROWTH_LIMIT}: {}", verdict(flat));
    Ok(under_limit && flat)
}

/// Builds the CLI where this program was built, so that both come from the same sources and
/// profile, and returns the path of its binary.
fn build_cli() -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let profile_dir = me.parent().ok_or("this program has no directory")?;
    let target_dir = profile_dir.parent().ok_or("this program is not in a target directory")?;
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "--quiet", "-p", "qovery-backups-cli"])
        .env("CARGO_TARGET_DIR", target_dir)
        .current_dir(&workspace)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("cargo build --release -p qovery-backups-cli failed".to_owned());
    }
    let cli = profile_dir.join("qovery-backups");
    if !cli.exists() {
        return Err(format!("no CLI binary at {}", cli.display()));
    }
    Ok(cli)
}

/// `VmHWM` of a running process, in KiB; `None` once it has exited.
fn high_water_mark_kib(status_file: &Path) -> Option<u64> {
    let status = std::fs::read_to_string(status_file).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.trim_start_matches("VmHWM:").trim().trim_end_matches("kB").trim().parse().ok()
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}
