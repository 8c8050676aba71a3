//! `qovery-backups serve`: a Prometheus exporter of backup freshness.
//!
//! A background task runs rounds (resolve the databases, check them as `check` does) every
//! `--interval`, and swaps the rendered result of each completed round in. A scrape of /metrics
//! copies that text and encodes the exporter's own few metrics: it never calls the API, so
//! Prometheus's scrape interval and the API's rate limits are independent.

use std::convert::Infallible;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::Utc;
use futures::StreamExt as _;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use qovery_backups::{DatabaseFreshness, Event, FreshnessVerdict, Observer};

use crate::cli::{Global, ServeArgs};
use crate::cmd::client_builder;

use crate::metrics::{self, escape_label};
use crate::outcome::{Failure, Outcome, Phrased};

/// The HELP of `qovery_backup_check_timestamp_seconds` for the exporter.
const ROUND_TIMESTAMP_HELP: &str = "When the check ran (the end of the exporter's round), in Unix seconds.";

/// OpenMetrics, which is what prometheus-client writes (counters end in `_total`, `# EOF` last),
/// for a scraper that asks for it (Prometheus does).
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Prometheus's classic text format, for everyone else (curl, promtool, older scrapers).
const CLASSIC_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The longest a client may take to send a request's headers: a client trickling one byte a
/// second is cut off then, instead of holding a connection and its task.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// How long in-flight scrapes are given to finish after SIGTERM or SIGINT, so that the process
/// exits within a second (Kubernetes waits, but a person at a terminal should not).
const SHUTDOWN_GRACE: Duration = Duration::from_millis(800);

/// Runs the exporter until SIGTERM or SIGINT.
pub async fn run(global: &Global, args: ServeArgs) -> Result<Outcome, Failure> {
    let own = Arc::new(OwnMetrics::new());
    let client = client_builder(global).observer(own.clone()).build()?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| Failure::Usage(format!("cannot listen on {}: {e}", args.listen)))?;
    let bound = listener.local_addr()?;
    // The first line of stdout, for whoever started us with port 0 (tests, scripts).
    println!("listening on http://{bound}");

    let state = Arc::new(State { own, snapshot: RwLock::new(None), interval: args.interval });
    let rounds = tokio::spawn(run_rounds(client, args, global.quiet, state.clone()));
    let served = serve(listener, state).await;
    rounds.abort();
    served.map(|()| Outcome::Success)
}

/// What the HTTP handlers read: the exporter's own metrics, always current, and the rendered
/// backup metrics of the last completed round.
struct State {
    own: Arc<OwnMetrics>,
    /// `None` until the first round completes. Held only to clone or replace the `Arc`.
    snapshot: RwLock<Option<Arc<Snapshot>>>,
    interval: Duration,
}

/// The backup metrics of one completed round.
struct Snapshot {
    /// The `qovery_backup_*` families (gauges, written alike in OpenMetrics and the classic
    /// text format), without OpenMetrics' final `# EOF`.
    text: String,
    /// When the round completed, for /readyz.
    completed: Instant,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VerdictLabels {
    verdict: Escaped,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    operation: Escaped,
    code: Escaped,
}

/// A label value escaped on output. prometheus-client 0.24 writes label values as they are, so
/// a database named with a quote or a line feed would otherwise break the whole exposition.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct Escaped(String);

impl EncodeLabelValue for Escaped {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.write_str(&escape_label(&self.0))
    }
}

fn escaped(value: impl Into<String>) -> Escaped {
    Escaped(value.into())
}

/// The exporter's own metrics; also the client's observer, counting API requests.
struct OwnMetrics {
    registry: Registry,
    round_success: Gauge,
    last_round_timestamp: Gauge<f64, AtomicU64>,
    round_duration: Gauge<f64, AtomicU64>,
    rounds_failed: Counter,
    databases: Family<VerdictLabels, Gauge>,
    api_requests: Family<RequestLabels, Counter>,
}

impl OwnMetrics {
    fn new() -> Self {
        let mut registry = Registry::default();
        let round_success = Gauge::default();
        let last_round_timestamp = Gauge::<f64, AtomicU64>::default();
        let round_duration = Gauge::<f64, AtomicU64>::default();
        let rounds_failed = Counter::default();
        let databases = Family::<VerdictLabels, Gauge>::default();
        let api_requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "qovery_backups_exporter_round_success",
            "1 when the last round of checks completed, 0 when it failed or none has completed yet",
            round_success.clone(),
        );
        registry.register(
            "qovery_backups_exporter_last_round_timestamp_seconds",
            "When the last completed round ended, in Unix seconds (0 before the first)",
            last_round_timestamp.clone(),
        );
        registry.register(
            "qovery_backups_exporter_round_duration_seconds",
            "How long the last round took, completed or failed",
            round_duration.clone(),
        );
        // prometheus-client appends `_total` to counters: these are exposed as
        // qovery_backups_exporter_rounds_failed_total and ..._api_requests_total, the names
        // deploy/prometheus/alerts.yml uses.
        registry.register(
            "qovery_backups_exporter_rounds_failed",
            "Rounds of checks that failed (the databases could not be resolved)",
            rounds_failed.clone(),
        );
        registry.register(
            "qovery_backups_exporter_databases",
            "Databases per verdict in the last completed round",
            databases.clone(),
        );
        registry.register(
            "qovery_backups_exporter_api_requests",
            "API requests (attempts) by operation and HTTP status; `2xx` when answered with success, `none` when no answer came",
            api_requests.clone(),
        );
        // Every verdict is present from the start, at 0, so a dashboard sees the series.
        for verdict in FreshnessVerdict::ALL {
            databases.get_or_create(&VerdictLabels { verdict: escaped(verdict.as_str()) }).set(0);
        }
        OwnMetrics {
            registry,
            round_success,
            last_round_timestamp,
            round_duration,
            rounds_failed,
            databases,
            api_requests,
        }
    }
}

impl Observer for OwnMetrics {
    fn on_event(&self, event: &Event<'_>) {
        if let Event::AttemptFinished { operation, outcome, .. } = event {
            // The SDK keeps no status for a successful answer, only that it was one.
            let code = match outcome {
                Ok(()) => "2xx".to_owned(),
                Err(error) => error.status().map_or_else(|| "none".to_owned(), |s| s.as_u16().to_string()),
            };
            self.api_requests
                .get_or_create(&RequestLabels { operation: escaped(operation.name()), code: Escaped(code) })
                .inc();
        }
    }
}

/// Runs a round, then waits about `--interval`, forever.
async fn run_rounds(client: qovery_backups::Client, args: ServeArgs, quiet: bool, state: Arc<State>) {
    let mut jitter = Jitter::seeded();
    loop {
        let started = Instant::now();
        let outcome = round(&client, &args, quiet).await;
        let own = &state.own;
        own.round_duration.set(started.elapsed().as_secs_f64());
        match outcome {
            Ok(results) => {
                let ended = Utc::now();
                let text = metrics::backup_metrics(&results, ended.timestamp(), &[], ROUND_TIMESTAMP_HELP);
                for verdict in FreshnessVerdict::ALL {
                    let count = results.iter().filter(|r| r.verdict == verdict).count();
                    own.databases
                        .get_or_create(&VerdictLabels { verdict: escaped(verdict.as_str()) })
                        .set(i64::try_from(count).unwrap_or(i64::MAX));
                }
                for result in &results {
                    if let Some(error) = &result.error {
                        tracing::warn!(database_id = %result.target.id, "cannot check the database: {error}");
                    }
                }
                let snapshot = Arc::new(Snapshot { text, completed: Instant::now() });
                *state.snapshot.write().unwrap_or_else(|e| e.into_inner()) = Some(snapshot);
                own.last_round_timestamp.set(ended.timestamp_millis() as f64 / 1000.0);
                own.round_success.set(1);
            }
            Err(failure) => {
                // The previous round's metrics stay served, with their own timestamp.
                tracing::error!("round failed: {}", describe(&failure));
                own.rounds_failed.inc();
                own.round_success.set(0);
            }
        }
        tokio::time::sleep(jitter.around(args.interval)).await;
    }
}

/// One round: the databases, then their freshness. Only resolving the databases can fail it; a
/// database that cannot be checked is its `error` verdict.
async fn round(
    client: &qovery_backups::Client,
    args: &ServeArgs,
    quiet: bool,
) -> Result<Vec<DatabaseFreshness>, Failure> {
    let targets = args.databases.targets(client, false, quiet).await?;
    Ok(client
        .freshness(targets, args.max_age)
        .concurrency(args.concurrency.get)
        .now(Utc::now())
        .items()
        .collect()
        .await)
}

/// A failure as one log line.
fn describe(failure: &Failure) -> String {
    match failure {
        Failure::Api(errors) => errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "),
        Failure::Reported(phrased) => phrased.iter().map(Phrased::line).collect::<Vec<_>>().join("; "),
        Failure::Usage(message) | Failure::Other(message) => message.clone(),
        Failure::Io(error) => error.to_string(),
    }
}

/// The body of /metrics: the last round's backup metrics (none before the first), then the
/// exporter's own, in OpenMetrics (then `# EOF`) or, when `!openmetrics`, the classic text format.
fn metrics(state: &State, openmetrics: bool) -> String {
    let snapshot = state.snapshot.read().unwrap_or_else(|e| e.into_inner()).clone();
    let mut text = String::with_capacity(snapshot.as_ref().map_or(0, |s| s.text.len()) + 2048);
    if let Some(snapshot) = &snapshot {
        text.push_str(&snapshot.text);
    }
    if openmetrics {
        prometheus_client::encoding::text::encode(&mut text, &state.own.registry)
            .expect("writing to a String cannot fail");
    } else {
        let mut own = String::new();
        prometheus_client::encoding::text::encode_registry(&mut own, &state.own.registry)
            .expect("writing to a String cannot fail");
        classic(&own, &mut text);
    }
    text
}

/// Rewrites OpenMetrics text without `# EOF` into the classic text format: the only difference
/// for gauges and counters is that a counter's HELP and TYPE lines name the family with its
/// `_total`, as its samples do (promtool's parser reads `# TYPE x counter` then `x_total 1` as
/// two families, one of them without help). The backup metrics are all gauges, so only the
/// exporter's own few lines pass through here.
fn classic(openmetrics: &str, out: &mut String) {
    let counters: Vec<&str> = openmetrics
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE ")?.strip_suffix(" counter"))
        .collect();
    for line in openmetrics.lines() {
        let descriptor = ["# HELP ", "# TYPE "].into_iter().find_map(|prefix| {
            let rest = line.strip_prefix(prefix)?;
            let (name, tail) = rest.split_once(' ')?;
            counters.contains(&name).then(|| format!("{prefix}{name}_total {tail}"))
        });
        match descriptor {
            Some(rewritten) => out.push_str(&rewritten),
            None => out.push_str(line),
        }
        out.push('\n');
    }
}

/// Whether the scraper accepts OpenMetrics. Prometheus asks for it first in its Accept header;
/// a plain `curl` or promtool gets the classic text format.
fn wants_openmetrics(request: &Request<Incoming>) -> bool {
    request
        .headers()
        .get_all(hyper::header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.contains("application/openmetrics-text"))
}

/// Ready once a round has completed, and the last completed one is less than two intervals old.
fn ready(state: &State) -> bool {
    let snapshot = state.snapshot.read().unwrap_or_else(|e| e.into_inner()).clone();
    snapshot.is_some_and(|s| s.completed.elapsed() < state.interval * 2)
}

async fn handle(state: Arc<State>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let text = |status: StatusCode, body: &'static str| {
        let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
        *response.status_mut() = status;
        response
    };
    Ok(match request.uri().path() {
        "/metrics" => {
            let openmetrics = wants_openmetrics(&request);
            let mut response = Response::new(Full::new(Bytes::from(metrics(&state, openmetrics))));
            let content_type = if openmetrics { OPENMETRICS } else { CLASSIC_TEXT };
            response
                .headers_mut()
                .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static(content_type));
            response
        }
        "/healthz" => text(StatusCode::OK, "ok\n"),
        "/readyz" if ready(&state) => text(StatusCode::OK, "ready\n"),
        "/readyz" => text(StatusCode::SERVICE_UNAVAILABLE, "no recent round\n"),
        _ => text(StatusCode::NOT_FOUND, "not found: try /metrics, /healthz or /readyz\n"),
    })
}

/// Accepts connections until SIGTERM or SIGINT, then lets in-flight requests finish (for up to
/// [`SHUTDOWN_GRACE`]).
async fn serve(listener: tokio::net::TcpListener, state: Arc<State>) -> Result<(), Failure> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT).max_buf_size(16 * 1024);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        let (stream, _peer): (tokio::net::TcpStream, SocketAddr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors, or a connection reset before it was accepted: the
                // listener itself is fine; wait a moment rather than spin.
                Err(error) => {
                    tracing::warn!("accept failed: {error}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let state = state.clone();
        let service = hyper::service::service_fn(move |request| handle(state.clone(), request));
        let connection = http.serve_connection(TokioIo::new(stream), service);
        let watched = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that goes away or times out is its own problem, not the exporter's.
            let _ = watched.await;
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
    Ok(())
}

/// Resolves at the first SIGTERM (Kubernetes, systemd) or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Waits of ±10% around the interval, from xorshift64* seeded by the time and process id:
/// several exporters started together (a rollout) drift apart instead of calling the API in
/// step. Nothing here needs better randomness.
struct Jitter(u64);

impl Jitter {
    fn seeded() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Jitter((nanos ^ u64::from(std::process::id()).rotate_left(32)) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A duration uniformly within ±10% of `interval`.
    fn around(&mut self, interval: Duration) -> Duration {
        let unit = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        interval.mul_f64(0.9 + 0.2 * unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_text_names_counters_with_their_total() {
        let openmetrics = "# HELP a_seconds A gauge.\n# TYPE a_seconds gauge\na_seconds 1\n\
                           # HELP b B counted.\n# TYPE b counter\nb_total{x=\"y\"} 2\n";
        let mut out = String::new();
        classic(openmetrics, &mut out);
        assert_eq!(
            out,
            "# HELP a_seconds A gauge.\n# TYPE a_seconds gauge\na_seconds 1\n\
             # HELP b_total B counted.\n# TYPE b_total counter\nb_total{x=\"y\"} 2\n"
        );
    }

    #[test]
    fn label_values_are_escaped() {
        let own = OwnMetrics::new();
        own.api_requests
            .get_or_create(&RequestLabels { operation: escaped("a\"b\nc\\"), code: escaped("2xx") })
            .inc();
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &own.registry).unwrap();
        assert!(text.contains(r#"{operation="a\"b\nc\\",code="2xx"} 1"#), "{text}");
    }

    #[test]
    fn jitter_stays_within_ten_percent() {
        let mut jitter = Jitter(42);
        let interval = Duration::from_secs(600);
        for _ in 0..1000 {
            let wait = jitter.around(interval);
            assert!(wait >= Duration::from_secs(540) && wait <= Duration::from_secs(660), "{wait:?}");
        }
    }
}
