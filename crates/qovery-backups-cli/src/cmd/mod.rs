//! The commands, one file each, and what they share: the client built from the global flags, the
//! default output format, and the runtime each command runs on.

use std::io::{self, IsTerminal as _};
use std::sync::Arc;

use qovery_backups::{AuthScheme, Client, ClientBuilder, RetryPolicy};

use crate::cli::{AuthSchemeArg, Command, Format, Global};
use crate::observe::Counters;
use crate::outcome::{Failure, Outcome};

mod check;
mod create;
mod databases;
mod delete;
#[cfg(feature = "mock")]
mod demo;
pub mod describe;
mod latest;
mod list;
mod manual;
#[cfg(feature = "mock")]
mod mock;
mod prune;
pub mod scope;
mod serve;
mod wait;

/// Runs `command` to its end.
pub async fn run(global: &Global, command: Command, counters: Arc<Counters>) -> Result<Outcome, Failure> {
    match command {
        Command::List(args) => list::run(global, args, counters).await,
        Command::Latest(args) => latest::run(global, args).await,
        Command::Create(args) => create::run(global, args).await,
        Command::Delete(args) => delete::run(global, args).await,
        Command::Wait(args) => wait::run(global, args).await,
        Command::Prune(args) => prune::run(global, args).await,
        Command::Check(args) => check::run(global, args).await,
        Command::Serve(args) => serve::run(global, args).await,
        Command::Databases(args) => databases::run(global, args).await,
        Command::Completions(args) => describe::completions(args),
        Command::Man(args) => describe::man(args),
        #[cfg(feature = "mock")]
        Command::Mock(args) => mock::run(args).await,
        #[cfg(feature = "mock")]
        Command::Demo => demo::run(counters).await,
    }
}

/// The runtime every command runs on: one thread.
///
/// A command waits on the network almost all of its time, and even `list` of many databases at
/// once decodes pages faster than they arrive. A pool of worker threads only added thread
/// start-up and the futex wake-ups of handing each readiness event between threads: measured
/// against the mock on loopback (100 databases of 2,000 backups, concurrency 16), the
/// multi-thread runtime took more wall time than this one in 4 runs of 5, and 1.2–1.5× the user
/// time and 3–4× the system time.
pub fn runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build()
}

/// The SDK client the global flags describe, with the environment filling in what they leave out.
pub fn client(global: &Global) -> Result<Client, Failure> {
    Ok(client_builder(global).build()?)
}

/// The builder of [`client`], for a command that adds to it (an observer).
pub fn client_builder(global: &Global) -> ClientBuilder {
    let mut builder = Client::builder()
        .retry(
            RetryPolicy::default()
                .with_max_attempts(global.max_attempts)
                .with_initial_backoff(global.initial_backoff),
        )
        .timeout(global.timeout);
    if let Some(token) = &global.token {
        builder = builder.token(token.clone());
    }
    if let Some(url) = &global.api_url {
        builder = builder.base_url(url.clone());
    }
    builder = match global.auth_scheme {
        AuthSchemeArg::Auto => builder,
        AuthSchemeArg::Token => builder.auth_scheme(AuthScheme::Token),
        AuthSchemeArg::Bearer => builder.auth_scheme(AuthScheme::Bearer),
    };
    builder.from_env()
}

pub use qovery_backups::printable;

/// A table for a person at a terminal, NDJSON for a program reading a pipe or file.
pub fn default_format(explicit: Option<Format>) -> Format {
    explicit.unwrap_or_else(|| if io::stdout().is_terminal() { Format::Table } else { Format::Ndjson })
}
