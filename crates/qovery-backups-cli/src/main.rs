//! `qovery-backups`: Qovery database backups from a shell or cron.
//!
//! Exit codes: 0 success; 1 an API, network or decoding error (after retries); 2 a usage or
//! configuration error; 3 `check` found a database without a fresh successful backup; 70 a bug
//! in the tool or the SDK (sysexits' `EX_SOFTWARE`).
//!
//! This file only wires the parts together: `cli` (the command line), `cmd` (one module per
//! command), `output` (formats and buffering), `observe` (logs and progress on stderr) and
//! `outcome` (exit codes and error lines), `table` (columns sized for a terminal).
#![forbid(unsafe_code)]

mod cli;
mod cmd;
mod hint;
mod metrics;
mod observe;
mod outcome;
mod output;
mod table;

use std::process::ExitCode;

use std::sync::Arc;

use clap::Parser as _;

use crate::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let global = &cli.global;
    observe::init(global.verbose, global.quiet);
    let counters = Arc::new(observe::Counters::default());
    let runtime = match cmd::runtime() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(cmd::run(global, cli.command, counters));
    outcome::exit_code(result, global.verbose)
}
