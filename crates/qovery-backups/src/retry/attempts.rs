//! The attempt loop: send, classify the failure, wait, send again. Plain code that asks
//! [`classify`](super::classify), the backoff and the budget, in that order, after each failure.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;
use tracing::Instrument as _;

use super::classify::{may_have_been_applied, retry_cost, should_retry};
use super::{RateLimiter, RetryPolicy};
use crate::observe::{Event, Observers};
use crate::{Error, Operation};

/// What one attempt is told about the attempts before it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attempt {
    /// 1 for the first attempt.
    pub(crate) number: u32,
    /// Whether an earlier attempt failed in a way the server may still have acted on (a lost
    /// answer, a timeout, a 5xx). It stays set: an applied request does not become unapplied.
    pub(crate) earlier_may_have_applied: bool,
}

/// Whether the caller, told that an earlier attempt may have been applied, checks what it did
/// before sending again. A non-idempotent call is re-sent after an ambiguous failure only then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resend {
    /// The call is sent again as it is.
    AsIs,
    /// The attempt first checks what an earlier attempt did ([`Attempt::earlier_may_have_applied`]).
    AfterChecking,
}

/// What the loop needs from the client.
pub(crate) struct Settings<'a> {
    pub(crate) policy: &'a RetryPolicy,
    /// The bound on each attempt, answer included.
    pub(crate) timeout: Duration,
    pub(crate) observers: &'a Observers,
    /// The client's pace, shared by all its calls.
    pub(crate) limiter: &'a RateLimiter,
}

/// Runs `attempt` until it succeeds, fails for good, or the policy says stop. Each attempt is
/// bounded by the per-attempt timeout and runs in its own tracing span.
pub(crate) async fn run<T, F, Fut>(
    settings: &Settings<'_>,
    operation: Operation,
    resend: Resend,
    mut attempt: F,
) -> Result<T, Error>
where
    F: FnMut(Attempt) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let policy = settings.policy;
    let deadline = policy.deadline.map(|d| Instant::now() + d);
    let mut backoff = policy.backoff(operation_seed(&operation));
    let mut earlier_may_have_applied = false;
    let span = tracing::info_span!(
        "operation",
        operation = operation.name(),
        database_id = operation.database_id().map(tracing::field::display),
        parent_id = operation.parent_id().map(tracing::field::display),
        backup_id = operation.backup_id().map(tracing::field::display),
    );

    async move {
        let mut number = 0;
        loop {
            number += 1;
            settings.observers.emit(&Event::AttemptStarted { operation: &operation, attempt: number });
            let this = Attempt { number, earlier_may_have_applied };
            let attempt_span =
                tracing::debug_span!("attempt", attempt = number, status = tracing::field::Empty);
            // Waiting for the client's pace is not part of the attempt's own timeout.
            settings.limiter.acquire().await;
            let outcome =
                tokio::time::timeout(settings.timeout, attempt(this).instrument(attempt_span.clone()))
                    .await
                    .unwrap_or(Err(Error::Timeout { operation, after: settings.timeout, attempts: number }));
            match &outcome {
                Err(error) if error.status() == Some(reqwest::StatusCode::TOO_MANY_REQUESTS) => {
                    // The same wait the retry below honours: `max_retry_after` bounds both.
                    settings
                        .limiter
                        .throttled(error.retry_after().map(|asked| asked.min(policy.max_retry_after)));
                }
                _ => settings.limiter.succeeded(),
            }
            let mut error = match outcome {
                Ok(value) => {
                    settings.observers.emit(&Event::AttemptFinished {
                        operation: &operation,
                        attempt: number,
                        outcome: Ok(()),
                    });
                    if let Some(budget) = &policy.budget {
                        budget.refund();
                    }
                    return Ok(value);
                }
                Err(error) => error,
            };
            if let Some(status) = error.status() {
                attempt_span.record("status", status.as_u16());
            }
            error.set_attempts(number);
            settings.observers.emit(&Event::AttemptFinished {
                operation: &operation,
                attempt: number,
                outcome: Err(&error),
            });
            earlier_may_have_applied |= may_have_been_applied(&error);

            if !should_retry(&operation, &error, resend == Resend::AfterChecking) {
                return Err(error);
            }
            let Some(backoff_wait) = backoff.next() else { return Err(error) };
            let wait = error.retry_after().map_or(backoff_wait, |asked| asked.min(policy.max_retry_after));
            if deadline.is_some_and(|deadline| Instant::now() + wait > deadline) {
                tracing::info!(attempts = number, "not retrying: the wait would pass the deadline");
                return Err(error);
            }
            if policy.budget.as_ref().is_some_and(|budget| !budget.try_withdraw(retry_cost(&error))) {
                tracing::info!(attempts = number, "not retrying: the retry budget is spent");
                return Err(error);
            }
            tracing::info!(
                attempt = number,
                status = error.status().map(|s| s.as_u16()),
                delay_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                reason = %error,
                "retrying"
            );
            settings.observers.emit(&Event::Retrying {
                operation: &operation,
                attempt: number,
                delay: wait,
                error: &error,
            });
            tokio::time::sleep(wait).await;
        }
    }
    .instrument(span)
    .await
}

/// Different operations draw different jitter from the same seed.
fn operation_seed(operation: &Operation) -> u64 {
    let id = operation.database_id().or(operation.parent_id()).unwrap_or_default().as_u64_pair();
    id.0 ^ id.1.rotate_left(17) ^ operation.name().len() as u64
}
