//! When and how long to wait before trying again.
//!
//! The schedule is backon's retry loop fed by a full-jitter exponential delay sequence; what is
//! retryable is decided by [`Error::is_retryable`] and, for a create, by reconciliation in
//! `backups.rs`. `Retry-After`, the per-operation deadline and the shared budget adjust each wait.

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use backon::Retryable as _;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use tokio::time::Instant;
use tracing::Instrument as _;

use crate::{Error, Operation};

/// How many times to try, how long to wait in between, and when to give up.
///
/// The wait before retry *n* is drawn uniformly from `[0, min(max_backoff, initial_backoff × 2ⁿ⁻¹)]`
/// ("full jitter"), unless the server sent `Retry-After`, which is honoured up to
/// `max_retry_after`.
///
/// ```
/// use std::time::Duration;
/// use qovery_backups::{RetryBudget, RetryPolicy};
///
/// let policy = RetryPolicy::default()
///     .max_attempts(5)
///     .initial_backoff(Duration::from_millis(200))
///     .max_backoff(Duration::from_secs(10))
///     .deadline(Duration::from_secs(60))
///     .budget(RetryBudget::default());
/// assert_eq!(policy.get_max_attempts(), 5);
/// ```
#[derive(Clone)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
    deadline: Option<Duration>,
    jitter_seed: Option<u64>,
    budget: Option<RetryBudget>,
}

impl Default for RetryPolicy {
    /// 3 attempts, backoff from 500 ms capped at 20 s, `Retry-After` honoured up to 60 s, no
    /// deadline, no shared budget.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(60),
            deadline: None,
            jitter_seed: None,
            budget: None,
        }
    }
}

impl fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("max_attempts", &self.max_attempts)
            .field("initial_backoff", &self.initial_backoff)
            .field("max_backoff", &self.max_backoff)
            .field("max_retry_after", &self.max_retry_after)
            .field("deadline", &self.deadline)
            .field("budget", &self.budget)
            .finish_non_exhaustive()
    }
}

impl RetryPolicy {
    /// A single attempt, never retried.
    pub fn never() -> Self {
        RetryPolicy::default().max_attempts(1)
    }

    /// Attempts in all, the first included (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The cap on the first retry's wait; it doubles for each later retry.
    pub fn initial_backoff(mut self, wait: Duration) -> Self {
        self.initial_backoff = wait;
        self
    }

    /// The cap on any backoff wait.
    pub fn max_backoff(mut self, wait: Duration) -> Self {
        self.max_backoff = wait;
        self
    }

    /// The longest `Retry-After` honoured; longer requests are shortened to this.
    pub fn max_retry_after(mut self, wait: Duration) -> Self {
        self.max_retry_after = wait;
        self
    }

    /// Time allowed for one operation, retries and waits included. No attempt starts after it,
    /// and a wait that would end past it fails the operation at once with the last error.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Seeds the jitter so that waits are reproducible (tests, simulations).
    pub fn jitter_seed(mut self, seed: u64) -> Self {
        self.jitter_seed = Some(seed);
        self
    }

    /// Draws every retry from a budget shared with other clients or streams, so that a failing
    /// API is not hammered: when the budget is empty, errors are returned instead of retried.
    pub fn budget(mut self, budget: RetryBudget) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Attempts in all.
    pub fn get_max_attempts(&self) -> u32 {
        self.max_attempts
    }

    pub(crate) fn backoff(&self, operation_seed: u64) -> FullJitter {
        FullJitter {
            rng: None,
            seed: self.jitter_seed.map(|seed| seed ^ operation_seed),
            ceiling: self.initial_backoff,
            max: self.max_backoff,
            retries_left: self.max_attempts - 1,
        }
    }
}

/// Full-jitter exponential delays: what backon sleeps between attempts.
pub(crate) struct FullJitter {
    /// Made at the first retry: most operations never retry, and seeding from the OS costs a
    /// system call.
    rng: Option<StdRng>,
    seed: Option<u64>,
    ceiling: Duration,
    max: Duration,
    retries_left: u32,
}

impl Iterator for FullJitter {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        self.retries_left = self.retries_left.checked_sub(1)?;
        let ceiling = self.ceiling.min(self.max);
        self.ceiling = self.ceiling.saturating_mul(2);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        let seed = self.seed;
        let rng = self.rng.get_or_insert_with(|| match seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_os_rng(),
        });
        Some(Duration::from_nanos(rng.random_range(0..=nanos)))
    }
}

/// A token bucket shared by everything that retries, after AWS's standard retry mode: each
/// retry costs 5 tokens (10 after a timeout), each success returns 1, and when the bucket is
/// empty failures are returned instead of retried. Clones share one bucket.
///
/// ```
/// use qovery_backups::RetryBudget;
///
/// let budget = RetryBudget::new(10);
/// let shared = budget.clone();
/// assert_eq!(shared.available(), 10);
/// ```
#[derive(Clone)]
pub struct RetryBudget {
    tokens: Arc<Mutex<BudgetState>>,
}

struct BudgetState {
    available: u32,
    capacity: u32,
}

const RETRY_COST: u32 = 5;
const TIMEOUT_RETRY_COST: u32 = 10;
const SUCCESS_REFUND: u32 = 1;

impl Default for RetryBudget {
    /// 500 tokens: 100 retries in a row before retries stop.
    fn default() -> Self {
        RetryBudget::new(500)
    }
}

impl RetryBudget {
    /// A full bucket of `capacity` tokens.
    pub fn new(capacity: u32) -> Self {
        RetryBudget { tokens: Arc::new(Mutex::new(BudgetState { available: capacity, capacity })) }
    }

    /// Tokens left now.
    pub fn available(&self) -> u32 {
        self.lock().available
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BudgetState> {
        // The state is two integers, consistent after any panic: a poisoned lock is still usable.
        self.tokens.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn try_withdraw(&self, cost: u32) -> bool {
        let mut state = self.lock();
        match state.available.checked_sub(cost) {
            Some(left) => {
                state.available = left;
                true
            }
            None => false,
        }
    }

    fn refund(&self) {
        let mut state = self.lock();
        state.available = (state.available + SUCCESS_REFUND).min(state.capacity);
    }
}

impl fmt::Debug for RetryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        write!(f, "RetryBudget({}/{})", state.available, state.capacity)
    }
}

/// Reads `Retry-After` as seconds or as an HTTP-date (relative to now).
pub(crate) fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

/// Why the retry loop stopped early, for the trace.
#[derive(Clone, Copy, Debug)]
enum Stop {
    Deadline,
    Budget,
}

/// Runs `attempt` (given the attempt number, from 1) until it succeeds, fails for good, or the
/// policy says stop. Each attempt is bounded by `timeout`; each gets its own tracing span.
pub(crate) async fn run<T, F, Fut>(
    policy: &RetryPolicy,
    timeout: Duration,
    operation: Operation,
    mut attempt: F,
) -> Result<T, Error>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let started = Instant::now();
    let deadline = policy.deadline.map(|d| started + d);
    // Shared by backon's callbacks; atomics keep the future `Send`.
    let attempts = AtomicU32::new(0);
    let stop: Mutex<Option<Stop>> = Mutex::new(None);
    let seed = operation_seed(&operation);
    let span = tracing::info_span!(
        "operation",
        operation = operation.name(),
        database_id = %operation.database_id(),
        backup_id = operation.backup_id().map(tracing::field::display),
    );

    let result = (|| {
        let n = attempts.fetch_add(1, Relaxed) + 1;
        let span = tracing::debug_span!("attempt", attempt = n, status = tracing::field::Empty);
        let future = attempt(n);
        async move {
            let outcome = match tokio::time::timeout(timeout, future).await {
                Ok(outcome) => outcome,
                Err(_) => Err(Error::Timeout { operation, after: timeout, attempts: n }),
            };
            if let Some(status) = outcome.as_ref().err().and_then(Error::status) {
                tracing::Span::current().record("status", status.as_u16());
            }
            outcome
        }
        .instrument(span)
    })
    .retry(policy.backoff(seed))
    .sleep(tokio::time::sleep)
    .when(Error::is_retryable)
    .adjust(|error, backoff| {
        let backoff = backoff?;
        let wait = match error.retry_after() {
            Some(asked) => asked.min(policy.max_retry_after),
            None => backoff,
        };
        if deadline.is_some_and(|deadline| Instant::now() + wait > deadline) {
            *stop.lock().unwrap_or_else(|p| p.into_inner()) = Some(Stop::Deadline);
            return None;
        }
        let cost = if error.is_timeout() { TIMEOUT_RETRY_COST } else { RETRY_COST };
        if policy.budget.as_ref().is_some_and(|budget| !budget.try_withdraw(cost)) {
            *stop.lock().unwrap_or_else(|p| p.into_inner()) = Some(Stop::Budget);
            return None;
        }
        Some(wait)
    })
    .notify(|error, wait| {
        tracing::info!(
            attempt = attempts.load(Relaxed),
            status = error.status().map(|s| s.as_u16()),
            delay_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            reason = %error.root(),
            "retrying"
        );
    })
    .instrument(span.clone())
    .await;

    let _entered = span.enter();
    match result {
        Ok(value) => {
            if let Some(budget) = &policy.budget {
                budget.refund();
            }
            Ok(value)
        }
        Err(mut error) => {
            error.set_attempts(attempts.load(Relaxed));
            if let Some(why) = *stop.lock().unwrap_or_else(|p| p.into_inner()) {
                tracing::info!(reason = ?why, attempts = attempts.load(Relaxed), "not retrying");
            }
            Err(error)
        }
    }
}

/// Different operations draw different jitter from the same seed.
fn operation_seed(operation: &Operation) -> u64 {
    let id = operation.database_id().as_u64_pair();
    id.0 ^ id.1.rotate_left(17) ^ operation.name().len() as u64
}
