//! What a failure says about trying again. One named rule per question, kept apart from the
//! loop that acts on them, so each can be read and tested on its own.

use reqwest::StatusCode;

use super::budget::{RETRY_COST, TIMEOUT_RETRY_COST};
use crate::error::TransportKind;
use crate::{Error, Operation};

/// Whether the same request can succeed later: a transient transport failure, a timeout, an
/// unreadable answer (a proxy cutting it, say), or a status that means "not now".
pub(crate) fn is_transient(error: &Error) -> bool {
    match error {
        Error::Api { status, .. } => is_retryable_status(*status),
        // hyper refuses oversized headers before any body: the server will send them again.
        Error::Transport { kind: TransportKind::HeadersTooLarge, .. } => false,
        // An answer that is not JSON at all comes from something other than the API (a portal,
        // a wrong URL), which will answer the same way again.
        Error::NotJson { .. } => false,
        Error::Transport { .. } | Error::Timeout { .. } | Error::Decode { .. } => true,
        // Everything else would come back the same: an answer over the limit, a server that
        // repeats itself, an unknown or MANAGED database, a request that cannot be built, a
        // refused configuration or prune; and the outcomes of a wait are no one request's.
        // Not retrying is also the safe answer for a variant added later.
        _ => false,
    }
}

/// Statuses that mean "not now": request timeout, throttling, and the server errors that
/// proxies and overloaded servers send. 501 (not implemented) is permanent.
pub(crate) fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 500 | 502 | 503 | 504)
}

/// Whether the server may have acted on a request that failed this way. Only a request that
/// certainly was not acted on (never connected, throttled, refused with a 4xx) is known not to
/// have been.
pub(crate) fn may_have_been_applied(error: &Error) -> bool {
    match error {
        Error::Transport { kind, .. } => *kind != TransportKind::Connect,
        Error::Timeout { .. } | Error::Decode { .. } | Error::NotJson { .. } | Error::TooLarge { .. } => true,
        Error::Api { status, .. } => status.is_server_error(),
        // Not the answer to a request that went out (a request never built, a configuration,
        // the outcome of a wait), or found out from several (a repeat, a lookup after a 404).
        // None of them is transient, so `should_retry` never resends after them anyway.
        _ => false,
    }
}

/// Whether the loop may send `operation` again after `error`. A call that may already have
/// been applied is sent again only if it is idempotent, or if the caller checks what the
/// earlier attempt did before sending (`checks_before_resending`).
pub(crate) fn should_retry(operation: &Operation, error: &Error, checks_before_resending: bool) -> bool {
    is_transient(error)
        && (operation.is_idempotent() || checks_before_resending || !may_have_been_applied(error))
}

/// What a retry after `error` draws from a shared budget.
pub(crate) fn retry_cost(error: &Error) -> u32 {
    if error.is_timeout() { TIMEOUT_RETRY_COST } else { RETRY_COST }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use uuid::Uuid;

    use super::*;

    const CREATE: Operation = Operation::Create { database_id: Uuid::nil() };
    const LIST: Operation = Operation::List { database_id: Uuid::nil(), after: None };

    fn status(code: u16) -> Error {
        Error::api(CREATE, StatusCode::from_u16(code).unwrap())
    }

    fn timeout() -> Error {
        Error::Timeout { operation: CREATE, after: Duration::from_secs(1), attempts: 1 }
    }

    #[test]
    fn transient_statuses_are_exactly_the_not_now_ones() {
        let transient: Vec<u16> = (300..600).filter(|&code| is_transient(&status(code))).collect();
        assert_eq!(transient, [408, 429, 500, 502, 503, 504]);
    }

    #[test]
    fn permanent_failures_are_never_retried() {
        let too_large = Error::TooLarge { operation: LIST, limit: 8, attempts: 1 };
        assert!(!is_transient(&too_large));
        assert!(!is_transient(&Error::config(crate::ConfigProblem::MissingToken, "no token")));
        assert!(is_transient(&timeout()));
    }

    #[test]
    fn only_failures_the_server_certainly_ignored_count_as_not_applied() {
        assert!(may_have_been_applied(&status(502)));
        assert!(may_have_been_applied(&timeout()));
        assert!(!may_have_been_applied(&status(429)));
        assert!(!may_have_been_applied(&status(400)));
    }

    #[test]
    fn a_create_that_may_have_been_applied_is_resent_only_after_checking() {
        assert!(!should_retry(&CREATE, &status(503), false));
        assert!(should_retry(&CREATE, &status(503), true));
        assert!(should_retry(&CREATE, &status(429), false), "throttled: certainly not applied");
        assert!(should_retry(&LIST, &status(503), false), "a listing is idempotent");
        assert!(!should_retry(&LIST, &status(404), true));
    }

    #[test]
    fn a_timeout_costs_more_of_the_budget() {
        assert!(retry_cost(&timeout()) > retry_cost(&status(503)));
    }
}
