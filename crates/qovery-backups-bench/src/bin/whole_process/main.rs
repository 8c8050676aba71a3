//! `qovery-backups list DB --output ndjson` against a hand-written reqwest + serde_json program,
//! each measured as a whole process: start-up, listing, writing, exit.
//!
//! ```text
//! cargo build --release -p qovery-backups-cli
//! cargo run --release -p qovery-backups-bench --bin whole_process [-- OPTIONS]
//! ```
//!
//! A loopback server in this process answers every page from bytes rendered before timing starts
//! (see `server.rs`). The two programs run alternately, N pairs, their stdout to a pipe that this
//! process drains; each pair's outputs must be byte-for-byte equal. The figures are the medians
//! of the per-pair ratios (CLI / hand-written) of wall, user and system time and of peak RSS, from
//! `wait4`: at 100 backups (start-up dominates), 100,000 (steady state), and the peak RSS at
//! 1,000,000.
//!
//! The hand-written program is this binary run as `whole_process hand URL DATABASE_ID`, so that
//! `cargo run` builds everything that is measured except the CLI itself. The server is this
//! binary too, run as `whole_process serve BACKUPS` in a process of its own: a child's peak RSS
//! as `wait4` reports it starts from its parent's at the fork, and the pages of a million
//! backups take 900 MB. The driver itself stays at a few MiB, the floor of every RSS figure.
//!
//! Options: `--startup-pairs N` (41), `--steady-pairs N` (9), `--million-pairs N` (1; 0 skips),
//! `--cli PATH` (default: `qovery-backups` beside this binary, i.e. `$CARGO_TARGET_DIR/release/`),
//! `--hand-no-tls-roots` (the hand-written program skips loading the platform's trust roots, as
//! the SDK does for `http://`: start-up without TLS set-up on either side).

mod hand;
mod measure;
mod pages;
mod server;

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use qovery_backups_bench::{machine, median, verdict};

use crate::measure::Run;
use crate::server::ServerProcess;

/// A token of the API's shape; it goes only to the two programs and the server.
const TOKEN: &str = "qov_whole_process_bench_token";
const SEED: u64 = 2026;

struct Options {
    startup_pairs: usize,
    steady_pairs: usize,
    million_pairs: usize,
    cli: Option<PathBuf>,
    hand_tls_roots: bool,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("hand") => return hand::main(&args[2..]),
        Some("serve") => return server::main(&args[2..], TOKEN, SEED),
        _ => {}
    }
    let options = match parse(&args[1..]) {
        Ok(options) => options,
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!(
                "usage: whole_process [--startup-pairs N] [--steady-pairs N] [--million-pairs N] [--cli PATH]"
            );
            return ExitCode::from(2);
        }
    };
    let Some(cli) = find_cli(options.cli.clone()) else {
        eprintln!(
            "error: no release build of the CLI beside this binary: run `cargo build --release -p qovery-backups-cli` first"
        );
        return ExitCode::from(2);
    };
    let hand = match std::env::current_exe() {
        Ok(path) => path,
        Err(e) => {
            eprintln!("error: cannot find this binary, which is also the hand-written program: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "whole-process listing: {} vs the hand-written program ({}); {}",
        cli.display(),
        if options.hand_tls_roots { "loads TLS roots" } else { "no TLS roots" },
        machine()
    );
    let scenarios = [
        (100, options.startup_pairs, Some(1.5)),
        (100_000, options.steady_pairs, Some(1.05)),
        (1_000_000, options.million_pairs, None),
    ];
    for (backups, pairs, target) in scenarios {
        if pairs == 0 {
            continue;
        }
        if let Err(e) = scenario(&cli, &hand, options.hand_tls_roots, backups, pairs, target) {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options =
        Options { startup_pairs: 41, steady_pairs: 9, million_pairs: 1, cli: None, hand_tls_roots: true };
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        if flag == "--hand-no-tls-roots" {
            options.hand_tls_roots = false;
            continue;
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let count = || value.parse::<usize>().map_err(|e| format!("{flag} {value}: {e}"));
        match flag.as_str() {
            "--startup-pairs" => options.startup_pairs = count()?,
            "--steady-pairs" => options.steady_pairs = count()?,
            "--million-pairs" => options.million_pairs = count()?,
            "--cli" => options.cli = Some(PathBuf::from(value)),
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(options)
}

/// The CLI of the same build profile: `cargo run --release` puts this binary in
/// `$CARGO_TARGET_DIR/release/` (or `target/release/`), where `cargo build --release -p
/// qovery-backups-cli` puts `qovery-backups`.
fn find_cli(explicit: Option<PathBuf>) -> Option<PathBuf> {
    let candidate = match explicit {
        Some(path) => path,
        None => std::env::current_exe().ok()?.parent()?.join("qovery-backups"),
    };
    candidate.is_file().then_some(candidate)
}

fn scenario(
    cli: &PathBuf,
    hand: &PathBuf,
    hand_tls_roots: bool,
    backups: usize,
    pairs: usize,
    target: Option<f64>,
) -> Result<(), String> {
    let server = ServerProcess::start(hand, backups).map_err(|e| format!("server: {e}"))?;
    let (url, database) = (server.url.clone(), server.database_id.clone());
    let with_env = |command: &mut Command| {
        // Nothing from the caller's environment (RUST_LOG, QOVERY_*) reaches either program.
        command.env_clear().env("QOVERY_API_TOKEN", TOKEN);
    };
    let run_cli = || {
        let mut command = Command::new(cli);
        with_env(&mut command);
        command.env("QOVERY_API_URL", &url).args(["list", &database, "--output", "ndjson"]);
        measure::run(&mut command).map_err(|e| format!("qovery-backups: {e}"))
    };
    let run_hand = || {
        let mut command = Command::new(hand);
        with_env(&mut command);
        command.args(["hand", &url, &database]);
        if !hand_tls_roots {
            command.arg("no-tls-roots");
        }
        measure::run(&mut command).map_err(|e| format!("hand-written: {e}"))
    };

    // One pair unmeasured: page cache, the server's threads, the CPU's frequency.
    let (warm_cli, warm_hand) = (run_cli()?, run_hand()?);
    check_same(&warm_cli, &warm_hand, backups)?;
    let (mut a, mut b) = (Vec::with_capacity(pairs), Vec::with_capacity(pairs));
    for pair in 0..pairs {
        // Alternate which goes first, so a machine getting busier weighs on both alike.
        let (x, y) = if pair % 2 == 0 {
            let x = run_cli()?;
            (x, run_hand()?)
        } else {
            let y = run_hand()?;
            (run_cli()?, y)
        };
        check_same(&x, &y, backups)?;
        a.push(x);
        b.push(y);
    }
    report(backups, &server.summary, &a, &b, target);
    Ok(())
}

fn check_same(cli: &Run, hand: &Run, backups: usize) -> Result<(), String> {
    if (cli.output_len, cli.output_digest) != (hand.output_len, hand.output_digest) {
        return Err(format!(
            "at {backups} backups the outputs differ: qovery-backups wrote {} bytes, the hand-written program {}",
            cli.output_len, hand.output_len
        ));
    }
    Ok(())
}

fn report(backups: usize, summary: &str, a: &[Run], b: &[Run], target: Option<f64>) {
    println!(
        "\n== {backups} backups: {summary}, {:.1} MB of NDJSON out; {} pairs",
        a[0].output_len as f64 / 1e6,
        a.len()
    );
    println!("  {:<10} {:>16} {:>16} {:>10}", "", "qovery-backups", "hand-written", "ratio");
    let row = |name: &str, of: fn(&Run) -> f64, unit: fn(f64) -> String| -> f64 {
        // The median of per-pair ratios: a pair disturbed by the machine is one outlier. Pairs
        // where the hand-written side measured 0 (CPU time is counted in ticks) carry no ratio.
        let ratios: Vec<f64> =
            a.iter().zip(b).filter(|(_, y)| of(y) > 0.0).map(|(x, y)| of(x) / of(y)).collect();
        let ratio = median(&ratios);
        let (ma, mb) =
            (median(&a.iter().map(of).collect::<Vec<_>>()), median(&b.iter().map(of).collect::<Vec<_>>()));
        println!("  {name:<10} {:>16} {:>16} {:>10.3}", unit(ma), unit(mb), ratio);
        ratio
    };
    let ms = |s: f64| format!("{:.2} ms", s * 1e3);
    let wall = row("wall", |r| r.wall, ms);
    row("user", |r| r.user, ms);
    row("sys", |r| r.sys, ms);
    row("user+sys", |r| r.user + r.sys, ms);
    row("peak RSS", |r| r.max_rss_kib as f64, |kib| format!("{:.1} MiB", kib / 1024.0));
    if let Some(target) = target {
        println!("  wall ratio target <= {target:.2}: {}", verdict(wall <= target));
    } else {
        let peak = a.iter().map(|r| r.max_rss_kib).max().unwrap_or(0) as f64 / 1024.0;
        println!("  qovery-backups peak RSS {peak:.1} MiB; target < 32 MiB: {}", verdict(peak < 32.0));
    }
}
