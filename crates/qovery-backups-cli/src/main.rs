//! `qovery-backups`: Qovery database backups from a shell or cron.
//!
//! Exit codes: 0 success; 1 an API, network or decoding error (after retries); 2 a usage or
//! configuration error; 3 `check` found a database without a fresh successful backup.
#![forbid(unsafe_code)]

mod cli;
mod commands;
mod demo;
mod hint;
mod observe;
mod output;

use std::io::{self, Write as _};
use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::{Cli, Command};

/// How a command ended well.
pub enum Outcome {
    Success,
    CheckFailed,
}

/// How a command ended badly; each maps to an exit code and one `error:` line per problem.
pub enum Failure {
    /// Errors from the SDK (a listing of several databases may report several).
    Api(Vec<qovery_backups::Error>),
    /// The command line does not make sense.
    Usage(String),
    /// Writing the output failed.
    Io(io::Error),
    /// Anything else, already phrased for the user.
    Other(String),
}

impl From<qovery_backups::Error> for Failure {
    fn from(error: qovery_backups::Error) -> Self {
        Failure::Api(vec![error])
    }
}

impl From<io::Error> for Failure {
    fn from(error: io::Error) -> Self {
        Failure::Io(error)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let counters = observe::init(cli.global.verbose, cli.global.quiet);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let global = &cli.global;
    let result = runtime.block_on(async {
        match cli.command {
            Command::List(args) => commands::list(global, args, counters).await,
            Command::Latest(args) => commands::latest(global, args).await,
            Command::Create(args) => commands::create(global, args).await,
            Command::Delete(args) => commands::delete(global, args).await,
            Command::Check(args) => commands::check(global, args).await,
            Command::Mock(args) => run_mock(args).await,
            Command::Demo => demo::run(counters).await,
        }
    });
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::CheckFailed) => ExitCode::from(3),
        Err(failure) => report(failure, global.verbose),
    }
}

fn report(failure: Failure, verbose: u8) -> ExitCode {
    let mut stderr = io::stderr().lock();
    let code = match failure {
        // A reader that went away (`| head`) is not an error.
        Failure::Io(e) if e.kind() == io::ErrorKind::BrokenPipe => return ExitCode::SUCCESS,
        Failure::Io(e) => {
            let _ = writeln!(stderr, "error: cannot write the output: {e}");
            1
        }
        Failure::Usage(message) => {
            let _ = writeln!(stderr, "error: {message}");
            2
        }
        Failure::Other(message) => {
            let _ = writeln!(stderr, "error: {message}");
            1
        }
        Failure::Api(errors) => {
            let mut code = 1;
            for error in &errors {
                // Display is one line of what failed; each cause is reached through source(),
                // so printing the chain repeats nothing.
                let _ = writeln!(stderr, "error: {error}");
                if verbose > 0 {
                    let mut cause = std::error::Error::source(error);
                    while let Some(c) = cause {
                        let _ = writeln!(stderr, "  caused by: {c}");
                        cause = c.source();
                    }
                }
                if let Some(hint) = hint::for_error(error) {
                    let _ = writeln!(stderr, "hint: {hint}");
                }
                if matches!(error, qovery_backups::Error::Config { .. }) {
                    code = 2;
                }
            }
            code
        }
    };
    ExitCode::from(code)
}

async fn run_mock(args: cli::MockArgs) -> Result<Outcome, Failure> {
    let config = qovery_backups_mock::MockConfig {
        addr: args.addr,
        token: args.token,
        seed: args.seed,
        databases: args.databases,
        backups_per_database: vec![args.backups],
        faults: args.faults.unwrap_or_default(),
        ..Default::default()
    };
    qovery_backups_mock::run_until_ctrl_c(config, |server| {
        // The first line is a contract: scripts read the address from it.
        println!("listening on {}", server.base_url());
        let _ = io::stdout().flush();
        for database_id in server.database_ids() {
            eprintln!("database {database_id}");
        }
    })
    .await
    .map_err(|e| Failure::Other(format!("the mock server stopped: {e}")))?;
    Ok(Outcome::Success)
}
