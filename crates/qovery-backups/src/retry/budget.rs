//! A retry budget shared by everything that retries, so a failing API is not hammered.

use std::fmt;
use std::sync::{Arc, Mutex};

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

/// What a retry costs, after AWS's standard mode.
pub(crate) const RETRY_COST: u32 = 5;
/// A retry after a timeout costs more: a timed-out server is the likeliest to be overloaded.
pub(crate) const TIMEOUT_RETRY_COST: u32 = 10;
const SUCCESS_REFUND: u32 = 1;

impl Default for RetryBudget {
    /// 500 tokens: 100 retries in a row before retries stop.
    fn default() -> Self {
        RetryBudget::new(500)
    }
}

impl RetryBudget {
    /// A full bucket of `capacity` tokens.
    ///
    /// ```
    /// use qovery_backups::{RetryBudget, RetryPolicy};
    ///
    /// // A small budget for a batch job: 10 retries in a row at most, across all its clients.
    /// let budget = RetryBudget::new(50);
    /// let policy = RetryPolicy::default().with_budget(budget.clone());
    /// assert_eq!(policy.budget().map(RetryBudget::available), Some(50));
    /// assert_eq!(RetryBudget::default().available(), 500);
    /// ```
    pub fn new(capacity: u32) -> Self {
        RetryBudget { tokens: Arc::new(Mutex::new(BudgetState { available: capacity, capacity })) }
    }

    /// Tokens left now.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// use std::time::Duration;
    /// use qovery_backups::{Client, RetryBudget, RetryPolicy};
    /// use qovery_backups_mock::{Fault, FaultPlan};
    ///
    /// let budget = RetryBudget::new(10);
    /// let policy = RetryPolicy::default().with_initial_backoff(Duration::ZERO).with_budget(budget.clone());
    /// let client = Client::builder().token(server.token()).base_url(server.base_url()).retry(policy).build()?;
    /// server.set_faults(FaultPlan::new().at(1, Fault::Status(503)));
    ///
    /// client.backups(server.database_ids()[0]).latest().await?;
    /// assert_eq!(budget.available(), 10 - 5 + 1); // one retry spent, one success refunded
    /// # Ok(())
    /// # }
    /// ```
    pub fn available(&self) -> u32 {
        self.lock().available
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BudgetState> {
        // The state is two integers, consistent after any panic: a poisoned lock is still usable.
        self.tokens.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn try_withdraw(&self, cost: u32) -> bool {
        let mut state = self.lock();
        match state.available.checked_sub(cost) {
            Some(left) => {
                state.available = left;
                true
            }
            None => false,
        }
    }

    pub(crate) fn refund(&self) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_stop_when_the_bucket_is_empty_and_successes_refill_it() {
        let budget = RetryBudget::new(12);
        assert!(budget.try_withdraw(RETRY_COST));
        assert!(budget.try_withdraw(RETRY_COST));
        assert!(!budget.try_withdraw(RETRY_COST), "2 tokens left");
        assert_eq!(budget.available(), 2);
        for _ in 0..3 {
            budget.refund();
        }
        assert!(budget.try_withdraw(RETRY_COST));
        for _ in 0..100 {
            budget.refund();
        }
        assert_eq!(budget.available(), 12, "never above capacity");
    }

    #[test]
    fn clones_share_one_bucket() {
        let budget = RetryBudget::new(10);
        assert!(budget.clone().try_withdraw(TIMEOUT_RETRY_COST));
        assert_eq!(budget.available(), 0);
    }
}
