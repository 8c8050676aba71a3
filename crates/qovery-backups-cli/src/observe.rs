//! What the user sees on stderr: log lines by verbosity, and a progress line for long listings.
//!
//! Pages and retries are counted from the SDK's typed events ([`qovery_backups::Observer`]),
//! not from its log lines, so rewording a log message cannot break the count. Log lines are
//! coloured only when stderr is a terminal and `NO_COLOR` is not set.

use std::io::IsTerminal as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use qovery_backups::{Event, Observer};
use tracing_subscriber::filter::EnvFilter;
use tracing_subscriber::layer::{Layer, SubscriberExt as _};
use tracing_subscriber::util::SubscriberInitExt as _;

/// Running totals of the current command, fed by the SDK's events.
#[derive(Debug, Default)]
pub struct Counters {
    /// Backups written.
    pub items: AtomicU64,
    /// Pages received.
    pub pages: AtomicU64,
    /// Retries made.
    pub retries: AtomicU64,
}

impl Observer for Counters {
    fn on_event(&self, event: &Event<'_>) {
        match event {
            Event::PageReceived { .. } => {
                self.pages.fetch_add(1, Relaxed);
            }
            Event::Retrying { .. } => {
                self.retries.fetch_add(1, Relaxed);
            }
            _ => {}
        }
    }
}

/// Whether a [`Progress`] line would be shown: a person is watching stderr.
pub fn progress_shown(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

/// Whether stderr may carry colour: a terminal, and no `NO_COLOR` (no-color.org: any non-empty
/// value turns colour off).
pub fn colour_on_stderr() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
}

/// Installs the stderr logger for `verbosity` (0 = warnings, 1 = info, 2 = debug, 3+ = trace;
/// `quiet` = errors only; `RUST_LOG` overrides).
pub fn init(verbosity: u8, quiet: bool) {
    let default_filter = match (quiet, verbosity) {
        (true, _) => "error",
        // The SDK's warning for each backup a prune could not delete is left out: `prune`
        // reports each as an `error:` line, and once is enough.
        (false, 0) => "warn,qovery_backups::retention::prune=error",
        (false, 1) => "warn,qovery_backups=info",
        (false, 2) => "info,qovery_backups=debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let logger = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(colour_on_stderr())
        .with_target(false)
        .with_filter(filter);
    tracing_subscriber::registry().with(logger).init();
}

/// A progress line on stderr, shown only when stderr is a terminal, not in quiet mode, and once
/// the command has run for a second (short listings print nothing extra).
pub struct Progress {
    bar: ProgressBar,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

impl Progress {
    /// Starts the progress line (a no-op unless [`progress_shown`]).
    pub fn start(counters: Arc<Counters>, quiet: bool) -> Progress {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        if !progress_shown(quiet) {
            return Progress { bar, ticker: None };
        }
        bar.set_style(ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("valid template"));
        let shown = bar.clone();
        let ticker = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            shown.set_draw_target(ProgressDrawTarget::stderr());
            loop {
                shown.set_message(format!(
                    "{} backups, {} pages, {} retries",
                    counters.items.load(Relaxed),
                    counters.pages.load(Relaxed),
                    counters.retries.load(Relaxed)
                ));
                shown.tick();
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        Progress { bar, ticker: Some(ticker) }
    }

    /// Stops and clears the progress line.
    pub fn finish(self) {
        if let Some(ticker) = self.ticker {
            ticker.abort();
        }
        self.bar.finish_and_clear();
    }
}
