//! What the user sees on stderr: log lines by verbosity, and a progress line for long listings.
//!
//! Pages and retries are counted from the SDK's own tracing (an `operation` span per page
//! fetched, a `retrying` event per retry), so the SDK needs no progress API of its own. The
//! counting is installed only when something will read the counts: otherwise every page would
//! pay for two spans that nobody looks at.

use std::io::IsTerminal as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber, span};
use tracing_subscriber::filter::{EnvFilter, Targets};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};
use tracing_subscriber::util::SubscriberInitExt as _;

/// Running totals of the current command. `pages` and `retries` move only when [`init`] was
/// asked to count.
#[derive(Debug, Default)]
pub struct Counters {
    /// Backups written.
    pub items: AtomicU64,
    /// Pages fetched (calls made).
    pub pages: AtomicU64,
    /// Retries made.
    pub retries: AtomicU64,
}

/// Whether a [`Progress`] line would be shown: a person is watching stderr.
pub fn progress_shown(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

/// Installs the stderr logger for `verbosity` (0 = warnings, 1 = info, 2 = debug, 3+ = trace;
/// `quiet` = errors only; `RUST_LOG` overrides) and, when `count`, the counting of pages and
/// retries into the returned counters.
pub fn init(verbosity: u8, quiet: bool, count: bool) -> Arc<Counters> {
    let counters = Arc::new(Counters::default());
    let default_filter = match (quiet, verbosity) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "warn,qovery_backups=info",
        (false, 2) => "info,qovery_backups=debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let logger =
        tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_target(false).with_filter(filter);
    // Without the counting layer, the SDK's info-level spans are disabled at their call sites
    // (at the default verbosity), and a page costs the tracing machinery one cached check.
    let counting = count.then(|| {
        CountingLayer(counters.clone())
            .with_filter(Targets::new().with_target("qovery_backups", tracing::Level::INFO))
    });
    tracing_subscriber::registry().with(logger).with(counting).init();
    counters
}

struct CountingLayer(Arc<Counters>);

impl<S: Subscriber> Layer<S> for CountingLayer {
    fn on_new_span(&self, attrs: &span::Attributes<'_>, _: &span::Id, _: Context<'_, S>) {
        // One `operation` span per call; during a listing every call is a page.
        if attrs.metadata().name() == "operation" {
            self.0.pages.fetch_add(1, Relaxed);
        }
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut message = MessageIs { wanted: "retrying", found: false };
        event.record(&mut message);
        if message.found {
            self.0.retries.fetch_add(1, Relaxed);
        }
    }
}

struct MessageIs {
    wanted: &'static str,
    found: bool,
}

impl Visit for MessageIs {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" && format!("{value:?}") == self.wanted {
            self.found = true;
        }
    }
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
