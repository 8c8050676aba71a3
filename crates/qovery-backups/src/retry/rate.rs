//! The client's own pace: one limiter per client, shared by every task that uses it, so that
//! when the API answers 429 the whole client slows down, not only the request that got it.
//!
//! The scheme is AIMD on a token bucket, as aws-sdk's adaptive retry mode and TCP do it:
//! - until the first 429 nothing is limited (the API's limits are undocumented);
//! - a 429 cuts the rate to [`DECREASE`] of what the client was sending, at most once per
//!   [`COOL_DOWN`] (a burst of 429s from requests already in flight is one signal, not eight),
//!   and holds every request until the `Retry-After` it names;
//! - each success adds [`INCREASE`] requests a second, so the rate climbs back in a few seconds
//!   and finds the limit again; past [`UNLIMITED_ABOVE`] it stops limiting.
//!
//! Every decision is made under one lock from the time given to it, so the tests drive it on
//! tokio's paused clock.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// The share of the measured rate kept after a 429.
const DECREASE: f64 = 0.7;
/// Requests a second added by each success while limited.
const INCREASE: f64 = 0.25;
/// The slowest the limiter goes, in requests a second: it never stops a client outright.
const MIN_RATE: f64 = 0.5;
/// Back to unlimited above this many requests a second.
const UNLIMITED_ABOVE: f64 = 2_000.0;
/// 429s closer together than this are one congestion event.
const COOL_DOWN: Duration = Duration::from_millis(500);
/// A share of a token below which a bucket counts as full: the bucket's sums are floats.
const TOKEN_EPSILON: f64 = 1e-9;
/// The shortest wait the limiter asks for: tokio's timer has a resolution of a millisecond.
const MIN_WAIT: Duration = Duration::from_millis(1);
/// How long sends are counted to measure the rate the client reached.
const WINDOW: Duration = Duration::from_secs(1);

/// The limiter of one client. Cloning a `Client` shares it.
#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Requests a second; `None` while unlimited.
    rate: Option<f64>,
    /// Tokens in the bucket (at most one second's worth, and at least one).
    tokens: f64,
    refilled: Option<Instant>,
    /// No request leaves before this (the latest `Retry-After`).
    held_until: Option<Instant>,
    last_cut: Option<Instant>,
    /// Sends counted since `window_start`, and the rate measured over the last full window.
    window_start: Option<Instant>,
    sent_in_window: u32,
    measured: f64,
}

impl State {
    fn record_send(&mut self, now: Instant) {
        let start = *self.window_start.get_or_insert(now);
        let elapsed = now.saturating_duration_since(start);
        if elapsed >= WINDOW {
            self.measured = f64::from(self.sent_in_window) / elapsed.as_secs_f64();
            self.window_start = Some(now);
            self.sent_in_window = 0;
        }
        self.sent_in_window += 1;
    }

    /// What the client has been sending, in requests a second: the last full window's
    /// measure, or the current window's when it has none yet.
    fn sending_rate(&self, now: Instant) -> f64 {
        let current = self.window_start.map_or(0.0, |start| {
            let elapsed = now.saturating_duration_since(start).as_secs_f64().max(0.1);
            f64::from(self.sent_in_window) / elapsed
        });
        self.measured.max(current)
    }

    /// How long the next request must wait; `None` when it may leave now (and then it has
    /// taken its token and been counted).
    fn try_take(&mut self, now: Instant) -> Option<Duration> {
        if let Some(until) = self.held_until.filter(|until| *until > now) {
            return Some(until - now);
        }
        let Some(rate) = self.rate else {
            self.record_send(now);
            return None;
        };
        let capacity = rate.max(1.0);
        // Tokens accrue from the last refill or the end of the last hold, whichever is later.
        let from = match (self.refilled, self.held_until) {
            (Some(refilled), Some(held)) => Some(refilled.max(held)),
            (refilled, held) => refilled.or(held),
        };
        let since = from.map_or(Duration::ZERO, |at| now.saturating_duration_since(at));
        self.tokens = (self.tokens + rate * since.as_secs_f64()).min(capacity);
        self.refilled = Some(now);
        // A token short by a rounding error is a token: waiting for it would ask for a sleep
        // under a nanosecond, which ends at once without the clock moving, and the caller
        // would spin.
        if self.tokens >= 1.0 - TOKEN_EPSILON {
            self.tokens = (self.tokens - 1.0).max(0.0);
            self.record_send(now);
            None
        } else {
            // Never less than the timer's resolution, for the same reason.
            Some(Duration::from_secs_f64((1.0 - self.tokens) / rate).max(MIN_WAIT))
        }
    }

    fn throttled(&mut self, now: Instant, retry_after: Option<Duration>) {
        if let Some(wait) = retry_after {
            let until = now + wait;
            self.held_until = Some(self.held_until.map_or(until, |held| held.max(until)));
        }
        if self.last_cut.is_some_and(|at| now.saturating_duration_since(at) < COOL_DOWN) {
            return;
        }
        // What the client reached: its limit, or less when it was not sending that fast.
        let sending = self.sending_rate(now).max(MIN_RATE);
        let reached = self.rate.map_or(sending, |rate| rate.min(sending));
        let cut = (reached * DECREASE).max(MIN_RATE);
        tracing::info!(rate = cut, "the API is throttling: the client slows down");
        self.rate = Some(cut);
        // One request may leave when the hold ends (the one retried after `Retry-After`, which
        // already waited for it); the rest follow at the new pace: a hold saves up no burst.
        self.tokens = 1.0;
        self.refilled = Some(self.held_until.map_or(now, |held| held.max(now)));
        self.last_cut = Some(now);
    }

    fn succeeded(&mut self) {
        if let Some(rate) = self.rate {
            let raised = rate + INCREASE;
            self.rate = (raised <= UNLIMITED_ABOVE).then_some(raised);
        }
    }
}

impl RateLimiter {
    /// Waits until the client may send one more request, then counts it.
    pub(crate) async fn acquire(&self) {
        loop {
            let wait = self.lock().try_take(Instant::now());
            match wait {
                None => return,
                Some(wait) => tokio::time::sleep(wait).await,
            }
        }
    }

    /// A request was answered 429, with the server's `Retry-After` if it sent one.
    pub(crate) fn throttled(&self, retry_after: Option<Duration>) {
        self.lock().throttled(Instant::now(), retry_after);
    }

    /// A request got an answer that was not a throttle.
    pub(crate) fn succeeded(&self) {
        self.lock().succeeded();
    }

    /// The rate in force, in requests a second; `None` while unlimited.
    #[cfg(test)]
    fn rate(&self) -> Option<f64> {
        self.lock().rate
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Every critical section leaves the state consistent: a panic elsewhere cannot poison
        // the pace of the whole client.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How long `n` acquires take on the paused clock.
    async fn time_to_send(limiter: &RateLimiter, n: u32) -> Duration {
        let started = Instant::now();
        for _ in 0..n {
            limiter.acquire().await;
        }
        started.elapsed()
    }

    #[tokio::test(start_paused = true)]
    async fn nothing_is_limited_before_the_first_429() {
        let limiter = RateLimiter::default();
        assert_eq!(time_to_send(&limiter, 10_000).await, Duration::ZERO);
        assert_eq!(limiter.rate(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_cuts_the_rate_to_a_share_of_what_was_sent_and_holds_until_retry_after() {
        let limiter = RateLimiter::default();
        // 100 requests a second for two seconds, then a 429 asking for one second.
        for _ in 0..200 {
            limiter.acquire().await;
            tokio::time::advance(Duration::from_millis(10)).await;
        }
        limiter.throttled(Some(Duration::from_secs(1)));
        let rate = limiter.rate().expect("limited after a 429");
        assert!((rate - 70.0).abs() < 2.0, "{rate}");

        let started = Instant::now();
        limiter.acquire().await;
        assert!(started.elapsed() >= Duration::from_secs(1), "held until Retry-After");
        // Then about 70 a second: 140 more take about two seconds.
        let took = time_to_send(&limiter, 140).await;
        assert!(took >= Duration::from_millis(1_800) && took <= Duration::from_millis(2_200), "{took:?}");
    }

    /// A bucket a rounding error short of a token once made `acquire` sleep for zero
    /// nanoseconds in a loop: on the paused clock time never moved, and the task spun (the
    /// soak's seed 9150963170683223016 hung there).
    #[test]
    fn a_bucket_short_by_a_rounding_error_never_asks_for_a_wait_below_a_millisecond() {
        let now = Instant::now();
        for tokens in [1.0 - f64::EPSILON, 1.0 - 1e-12, 0.999_999_9, 0.5, 0.0] {
            for rate in [MIN_RATE, 0.7, 3.3, 70.0, 1_999.0] {
                let mut state = State { rate: Some(rate), tokens, refilled: Some(now), ..State::default() };
                match state.try_take(now) {
                    None => assert!(tokens > 0.999_999, "took a token from {tokens}"),
                    Some(wait) => assert!(wait >= MIN_WAIT, "{wait:?} for {tokens} at {rate}/s"),
                }
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_of_429s_is_one_cut_and_the_rate_never_reaches_zero() {
        let limiter = RateLimiter::default();
        for _ in 0..100 {
            limiter.acquire().await;
            tokio::time::advance(Duration::from_millis(10)).await;
        }
        for _ in 0..8 {
            limiter.throttled(None);
        }
        let after_burst = limiter.rate().unwrap();
        assert!(after_burst > 60.0, "eight 429s in flight together cut once: {after_burst}");
        for _ in 0..100 {
            tokio::time::advance(COOL_DOWN).await;
            limiter.throttled(None);
        }
        assert_eq!(limiter.rate(), Some(MIN_RATE));
    }

    #[tokio::test(start_paused = true)]
    async fn successes_raise_the_rate_gradually_back_to_unlimited() {
        let limiter = RateLimiter::default();
        for _ in 0..100 {
            limiter.acquire().await;
            tokio::time::advance(Duration::from_millis(10)).await;
        }
        limiter.throttled(None);
        let cut = limiter.rate().unwrap();
        for _ in 0..40 {
            limiter.succeeded();
        }
        let raised = limiter.rate().unwrap();
        assert!((raised - (cut + 40.0 * INCREASE)).abs() < 1e-9, "{cut} -> {raised}");
        for _ in 0..10_000 {
            limiter.succeeded();
        }
        assert_eq!(limiter.rate(), None, "unlimited again once far past any limit met");
    }
}
