//! `qovery-backups check` over a whole organization, as its users run it: the release binary as
//! a whole process, against the mock on a thread of this one.
//!
//! Two scenarios, each a separate process run:
//! - **latency**: 3,000 databases, every answer after 20 ms, the default concurrency (and, with
//!   `--baseline`, `--concurrency 1`, which is how `check` went through a fleet before);
//! - **rate limit**: 600 databases behind a server that answers 100 requests a second and 429
//!   (`Retry-After: 1`) past it.
//!
//! ```sh
//! cargo build --release -p qovery-backups-cli -p qovery-backups-bench
//! "$CARGO_TARGET_DIR/release/fleet_check" [--baseline]
//! ```

// The output digest, which whole_process compares between two programs, is not read here.
#[allow(dead_code)]
#[path = "whole_process/measure.rs"]
mod measure;

use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::Duration;

use qovery_backups_bench::{MockThread, machine};
use qovery_backups_mock::{Fleet, MockConfig};

fn main() -> ExitCode {
    let baseline = std::env::args().any(|a| a == "--baseline");
    let cli = match qovery_backups_bench::cli_beside_this_binary() {
        Ok(cli) => cli,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    println!("fleet check, whole process: {}; {}", cli.display(), machine());
    let latency = Fleet {
        organizations: 1,
        projects: 10,
        environments: 10,
        databases: 30,
        managed_every: 0,
        backups: 3,
    };
    let limited = Fleet {
        organizations: 1,
        projects: 2,
        environments: 10,
        databases: 30,
        managed_every: 0,
        backups: 3,
    };
    let mut runs = vec![
        (
            "3,000 databases, 20 ms a request, default concurrency",
            latency,
            Duration::from_millis(20),
            None,
            None,
        ),
        ("600 databases, server limit 100 requests/s", limited, Duration::ZERO, Some(100), None),
    ];
    if baseline {
        runs.push((
            "3,000 databases, 20 ms a request, --concurrency 1",
            latency,
            Duration::from_millis(20),
            None,
            Some(1),
        ));
    }
    for (what, fleet, latency, rate_limit, concurrency) in runs {
        if let Err(e) = scenario(&cli, what, fleet, latency, rate_limit, concurrency) {
            eprintln!("error: {what}: {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

fn scenario(
    cli: &PathBuf,
    what: &str,
    fleet: Fleet,
    latency: Duration,
    rate_limit: Option<u32>,
    concurrency: Option<usize>,
) -> Result<(), String> {
    let config = MockConfig { databases: 0, fleet, latency, rate_limit, ..MockConfig::default() };
    let mock = MockThread::start(config).map_err(|e| e.to_string())?;
    let server = mock.server();
    let organization = *server.organization_ids().last().ok_or("no organization")?;
    let databases = server.organization_database_ids(organization).len();
    let mut command = Command::new(cli);
    // A century of age: every seeded success passes, so only the run's cost shows.
    command
        .args([
            "check",
            "--organization",
            &organization.to_string(),
            "--max-age",
            "36500d",
            "--output",
            "ndjson",
        ])
        .args(["--max-attempts", "5", "-q"])
        .env("QOVERY_API_TOKEN", server.token())
        .env("QOVERY_API_URL", server.base_url());
    if let Some(n) = concurrency {
        command.args(["--concurrency", &n.to_string()]);
    }
    // Exit 3 is a verdict (some seeded databases never succeeded), not a failed run.
    let run = measure::run_accepting(&mut command, &[0, 3]).map_err(|e| e.to_string())?;
    let statuses: Vec<Option<u16>> = server.requests().iter().map(|r| r.status).collect();
    let answered = statuses.iter().filter(|s| **s == Some(200)).count();
    let refused = statuses.iter().filter(|s| **s == Some(429)).count();
    let lines = run.output_len;
    println!("  {what}");
    println!(
        "    {databases} databases checked in {:.2} s wall ({:.2} s user, {:.2} s sys), peak RSS {:.1} MiB, {lines} bytes out",
        run.wall,
        run.user,
        run.sys,
        run.max_rss_kib as f64 / 1024.0
    );
    println!(
        "    requests: {answered} answered, {refused} refused with 429 ({:.1} % of answered)",
        refused as f64 * 100.0 / answered.max(1) as f64
    );
    if let Some(limit) = rate_limit {
        let pace = answered as f64 / f64::from(limit);
        println!(
            "    the limit's own pace for {answered} requests: {pace:.2} s; this run took {:.2}× it",
            run.wall / pace
        );
    }
    Ok(())
}
