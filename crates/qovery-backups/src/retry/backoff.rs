//! How long to wait between attempts: full-jitter exponential backoff, and the server's own
//! `Retry-After`.

use std::time::{Duration, SystemTime};

// A small, fast generator: jitter only spreads clients apart, it guards no secret. SmallRng is
// rand's xoshiro generator: unlike StdRng it brings no ChaCha or zerocopy into every
// dependent's build.
use rand::rngs::SmallRng;
use rand::{Rng as _, SeedableRng as _};
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// Full-jitter exponential delays: the wait before retry *n* is drawn uniformly from
/// `[0, min(max, initial × 2ⁿ⁻¹)]`, so that clients failing together do not retry together.
pub(crate) struct FullJitter {
    /// Made at the first retry: most operations never retry, and seeding from the OS costs a
    /// system call.
    rng: Option<SmallRng>,
    seed: Option<u64>,
    ceiling: Duration,
    max: Duration,
    retries_left: u32,
}

impl FullJitter {
    pub(crate) fn new(seed: Option<u64>, initial: Duration, max: Duration, retries: u32) -> Self {
        FullJitter { rng: None, seed, ceiling: initial, max, retries_left: retries }
    }
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
            Some(seed) => SmallRng::seed_from_u64(seed),
            None => SmallRng::from_os_rng(),
        });
        Some(Duration::from_nanos(rng.random_range(0..=nanos)))
    }
}

/// Reads `Retry-After` as seconds or as an HTTP-date (relative to `now`).
pub(crate) fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    retry_after_at(headers, SystemTime::now())
}

fn retry_after_at(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    #[test]
    fn each_wait_stays_under_its_doubling_ceiling_and_the_cap() {
        let initial = Duration::from_millis(100);
        let max = Duration::from_millis(700);
        let waits: Vec<Duration> = FullJitter::new(Some(3), initial, max, 6).collect();
        assert_eq!(waits.len(), 6, "one wait per retry, none after");
        for (n, wait) in waits.iter().enumerate() {
            let ceiling = (initial * 2u32.pow(n as u32)).min(max);
            assert!(*wait <= ceiling, "retry {n}: {wait:?} > {ceiling:?}");
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_waits() {
        let draw = || {
            FullJitter::new(Some(42), Duration::from_secs(1), Duration::from_secs(20), 4).collect::<Vec<_>>()
        };
        assert_eq!(draw(), draw());
    }

    #[test]
    fn zero_backoff_means_retrying_at_once() {
        assert!(FullJitter::new(None, Duration::ZERO, Duration::ZERO, 3).all(|wait| wait.is_zero()));
    }

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = httpdate::parse_http_date("Sat, 28 Nov 2026 10:00:00 GMT").unwrap();
        assert_eq!(retry_after_at(&headers(" 7 "), now), Some(Duration::from_secs(7)));
        assert_eq!(
            retry_after_at(&headers("Sat, 28 Nov 2026 10:00:30 GMT"), now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            retry_after_at(&headers("Sat, 28 Nov 2026 09:00:00 GMT"), now),
            Some(Duration::ZERO),
            "a past date"
        );
        assert_eq!(retry_after_at(&headers("soon"), now), None);
        assert_eq!(retry_after_at(&headers("-3"), now), None);
        assert_eq!(retry_after_at(&HeaderMap::new(), now), None);
    }
}
