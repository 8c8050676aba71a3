//! Retries, in one place: what is worth retrying ([`classify`]), how long to wait
//! ([`backoff`]), how much retrying a whole program may do ([`budget`]), how fast the whole
//! client may send when the API throttles ([`rate`]), and the plain attempt loop that asks them
//! ([`attempts`]).
//!
//! The loop hands every attempt what the earlier attempts may have done on the server, so that
//! a create can look for the backup an earlier attempt may have made before sending again, and
//! a delete can read a 404 after a lost answer as success.

mod attempts;
mod backoff;
mod budget;
mod classify;
mod rate;

use std::fmt;
use std::time::Duration;

pub(crate) use attempts::{Resend, Settings, run};
use backoff::FullJitter;
pub(crate) use backoff::parse_retry_after;
pub use budget::RetryBudget;
pub(crate) use classify::is_transient;
pub(crate) use rate::RateLimiter;

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
///     .with_max_attempts(5)
///     .with_initial_backoff(Duration::from_millis(200))
///     .with_max_backoff(Duration::from_secs(10))
///     .with_deadline(Duration::from_secs(60))
///     .with_budget(RetryBudget::default());
/// assert_eq!(policy.max_attempts(), 5);
/// assert_eq!(policy.deadline(), Some(Duration::from_secs(60)));
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
    ///
    /// ```
    /// use qovery_backups::RetryPolicy;
    ///
    /// // For a health check that reports the first failure as it is.
    /// assert_eq!(RetryPolicy::never().max_attempts(), 1);
    /// ```
    pub fn never() -> Self {
        RetryPolicy::default().with_max_attempts(1)
    }

    /// Attempts in all, the first included (at least 1).
    ///
    /// ```
    /// use qovery_backups::RetryPolicy;
    ///
    /// assert_eq!(RetryPolicy::default().with_max_attempts(5).max_attempts(), 5);
    /// assert_eq!(RetryPolicy::default().with_max_attempts(0).max_attempts(), 1);
    /// ```
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The cap on the first retry's wait; it doubles for each later retry. Zero means retries
    /// follow at once (a `Retry-After` from the server is still honoured).
    ///
    /// ```
    /// use std::time::Duration;
    /// use qovery_backups::RetryPolicy;
    ///
    /// // Tests against a local mock need not wait between attempts.
    /// let policy = RetryPolicy::default().with_initial_backoff(Duration::ZERO);
    /// assert_eq!(policy.initial_backoff(), Duration::ZERO);
    /// ```
    pub fn with_initial_backoff(mut self, wait: Duration) -> Self {
        self.initial_backoff = wait;
        self
    }

    /// The cap on any backoff wait.
    ///
    /// ```
    /// use std::time::Duration;
    /// use qovery_backups::RetryPolicy;
    ///
    /// let policy = RetryPolicy::default().with_max_attempts(8).with_max_backoff(Duration::from_secs(5));
    /// assert_eq!(policy.max_backoff(), Duration::from_secs(5));
    /// ```
    pub fn with_max_backoff(mut self, wait: Duration) -> Self {
        self.max_backoff = wait;
        self
    }

    /// The longest `Retry-After` honoured; longer requests are shortened to this.
    ///
    /// ```
    /// use std::time::Duration;
    /// use qovery_backups::RetryPolicy;
    ///
    /// // An interactive tool would rather fail than wait a minute on a `Retry-After`.
    /// let policy = RetryPolicy::default().with_max_retry_after(Duration::from_secs(5));
    /// assert_eq!(policy.max_retry_after(), Duration::from_secs(5));
    /// ```
    pub fn with_max_retry_after(mut self, wait: Duration) -> Self {
        self.max_retry_after = wait;
        self
    }

    /// Time allowed for one operation, retries and waits included. No attempt starts after it,
    /// and a wait that would end past it fails the operation at once with the last error.
    ///
    /// ```
    /// use std::time::Duration;
    /// use qovery_backups::RetryPolicy;
    ///
    /// let policy = RetryPolicy::default().with_max_attempts(10).with_deadline(Duration::from_secs(120));
    /// assert_eq!(policy.deadline(), Some(Duration::from_secs(120)));
    /// ```
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Seeds the jitter so that waits are reproducible (tests, simulations): the same seed gives
    /// the same waits on one platform with one version of this crate.
    ///
    /// ```
    /// use qovery_backups::RetryPolicy;
    ///
    /// let policy = RetryPolicy::default().with_jitter_seed(42);
    /// assert_eq!(policy.jitter_seed(), Some(42));
    /// ```
    pub fn with_jitter_seed(mut self, seed: u64) -> Self {
        self.jitter_seed = Some(seed);
        self
    }

    /// Draws every retry from a budget shared with other clients or streams, so that a failing
    /// API is not hammered: when the budget is empty, errors are returned instead of retried.
    ///
    /// ```
    /// use qovery_backups::{Client, RetryBudget, RetryPolicy};
    ///
    /// // Two clients, one budget: when the API fails, they stop retrying together.
    /// let policy = RetryPolicy::default().with_budget(RetryBudget::default());
    /// let a = Client::builder().token("qov_example_token").retry(policy.clone()).build()?;
    /// let b = Client::builder().token("qov_other_example").retry(policy).build()?;
    /// # let _ = (a, b);
    /// # Ok::<(), qovery_backups::Error>(())
    /// ```
    pub fn with_budget(mut self, budget: RetryBudget) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Attempts in all, the first included.
    ///
    /// ```
    /// assert_eq!(qovery_backups::RetryPolicy::default().max_attempts(), 3);
    /// ```
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The cap on the first retry's wait.
    ///
    /// ```
    /// assert_eq!(qovery_backups::RetryPolicy::default().initial_backoff().as_millis(), 500);
    /// ```
    pub fn initial_backoff(&self) -> Duration {
        self.initial_backoff
    }

    /// The cap on any backoff wait.
    ///
    /// ```
    /// assert_eq!(qovery_backups::RetryPolicy::default().max_backoff().as_secs(), 20);
    /// ```
    pub fn max_backoff(&self) -> Duration {
        self.max_backoff
    }

    /// The longest `Retry-After` honoured.
    ///
    /// ```
    /// assert_eq!(qovery_backups::RetryPolicy::default().max_retry_after().as_secs(), 60);
    /// ```
    pub fn max_retry_after(&self) -> Duration {
        self.max_retry_after
    }

    /// The time allowed for one operation, retries included, if any.
    ///
    /// ```
    /// assert_eq!(qovery_backups::RetryPolicy::default().deadline(), None);
    /// ```
    pub fn deadline(&self) -> Option<Duration> {
        self.deadline
    }

    /// The seed of the jitter, if one was set.
    ///
    /// ```
    /// assert_eq!(qovery_backups::RetryPolicy::default().jitter_seed(), None); // drawn afresh
    /// ```
    pub fn jitter_seed(&self) -> Option<u64> {
        self.jitter_seed
    }

    /// The shared retry budget, if any.
    ///
    /// ```
    /// use qovery_backups::{RetryBudget, RetryPolicy};
    ///
    /// assert!(RetryPolicy::default().budget().is_none());
    /// let policy = RetryPolicy::default().with_budget(RetryBudget::new(20));
    /// assert_eq!(policy.budget().map(RetryBudget::available), Some(20));
    /// ```
    pub fn budget(&self) -> Option<&RetryBudget> {
        self.budget.as_ref()
    }

    pub(crate) fn backoff(&self, operation_seed: u64) -> FullJitter {
        FullJitter::new(
            self.jitter_seed.map(|seed| seed ^ operation_seed),
            self.initial_backoff,
            self.max_backoff,
            self.max_attempts - 1,
        )
    }
}
