//! The life of a backup created through the API: `QUEUED`, then `ONGOING`, then a final status
//! (`SUCCESS`, `ERROR` or `CANCELED`), on tokio's clock; and which final status each new backup
//! gets ([`Outcomes`]).
//!
//! A created backup keeps the body its 201 answered (`QUEUED`) and the instant it was created;
//! each time it is served, [`progress`] derives the body it has at that instant. Nothing runs in
//! the background, so a test under paused time moves a backup along by advancing the clock.

use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::Duration as ChronoDuration;
use qovery_backups_api::types::{
    Backup, ServiceActionStatusEnum, ServiceDeploymentStatusEnum, ServiceStepMetric,
    ServiceStepMetricNameEnum, ServiceStepMetrics, StateEnum, StepMetricStatusEnum,
};
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};

use crate::spec;

/// How long a backup created through the API stays in each in-progress status.
///
/// The default is instant: the create's 201 answers `QUEUED`, as the API does, and the backup is
/// final (by default `SUCCESS`) from the next request on. Durations are measured on tokio's
/// clock, so a test started with `#[tokio::test(start_paused = true)]` moves backups along with
/// `tokio::time::advance` or a sleep.
///
/// ```
/// use std::time::Duration;
/// use qovery_backups_mock::{Lifecycle, MockConfig};
///
/// let config = MockConfig {
///     // QUEUED for 2 s, then ONGOING for 30 s, then final.
///     lifecycle: Lifecycle { queued: Duration::from_secs(2), ongoing: Duration::from_secs(30) },
///     ..MockConfig::default()
/// };
/// assert_ne!(config.lifecycle, Lifecycle::default(), "the default is instant");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Lifecycle {
    /// From creation until the backup is `ONGOING`.
    pub queued: Duration,
    /// From `ONGOING` until the final status.
    pub ongoing: Duration,
}

/// Which final status backups created through the API end with: a queue of next outcomes, rules
/// on the backup's name, and seeded probabilities, in that order of precedence; `SUCCESS` when
/// none decides.
///
/// - The queue ([`then`](Outcomes::then), [`MockServer::push_outcome`](crate::MockServer::push_outcome)):
///   the next creates take its outcomes, one each, in order.
/// - Name rules ([`when_name_contains`](Outcomes::when_name_contains)): the first rule whose text
///   the backup's name contains decides.
/// - Probabilities ([`with_error_probability`](Outcomes::with_error_probability),
///   [`with_canceled_probability`](Outcomes::with_canceled_probability)): one draw from a
///   `ChaCha8Rng` seeded with [`with_seed`](Outcomes::with_seed) on every create, used or not,
///   so the outcomes depend only on the sequence of creates.
///
/// # SPEC syntax
///
/// `Outcomes` implements `FromStr` and `Display` (which prints the same syntax), for a command
/// line such as `qovery-backups mock --outcomes SPEC`. A SPEC is a comma-separated list of items;
/// `none` or an empty SPEC means every backup succeeds:
///
/// | item | meaning |
/// |---|---|
/// | `next=OUTCOME\|OUTCOME\|…` | the next creates end with these, in order |
/// | `name:TEXT=OUTCOME` | a backup whose name contains `TEXT` ends with `OUTCOME` (TEXT without `,` or `=`) |
/// | `error=FLOAT` | probability, 0 to 1, that any other backup ends `ERROR` |
/// | `canceled=FLOAT` | probability, 0 to 1, that any other backup ends `CANCELED` |
/// | `seed=N` | seed of the generator behind the probabilities (default 0) |
///
/// `OUTCOME` is `success`, `error` or `canceled` (any case), the final values of
/// `ServiceActionStatusEnum`.
///
/// ```
/// use qovery_backups_api::types::ServiceActionStatusEnum;
/// use qovery_backups_mock::Outcomes;
///
/// let outcomes: Outcomes = "next=error|success, name:broken=canceled, error=0.1, seed=4".parse().unwrap();
/// assert_eq!(
///     outcomes,
///     Outcomes::new()
///         .then(ServiceActionStatusEnum::Error)
///         .then(ServiceActionStatusEnum::Success)
///         .when_name_contains("broken", ServiceActionStatusEnum::Canceled)
///         .with_error_probability(0.1)
///         .with_seed(4)
/// );
/// assert_eq!(outcomes.to_string(), "next=ERROR|SUCCESS,name:broken=CANCELED,error=0.1,seed=4");
/// assert!("next=ongoing".parse::<Outcomes>().is_err(), "not a final status");
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcomes {
    next: VecDeque<ServiceActionStatusEnum>,
    rules: Vec<(String, ServiceActionStatusEnum)>,
    error_probability: f64,
    canceled_probability: f64,
    seed: u64,
}

/// Whether a status can end a backup's life.
fn is_final(status: &ServiceActionStatusEnum) -> bool {
    matches!(
        status,
        ServiceActionStatusEnum::Success | ServiceActionStatusEnum::Error | ServiceActionStatusEnum::Canceled
    )
}

/// Panics unless `outcome` can end a backup's life: the documented contract of the builders.
pub(crate) fn assert_final(outcome: &ServiceActionStatusEnum) {
    assert!(is_final(outcome), "a backup cannot end {outcome}; use SUCCESS, ERROR or CANCELED");
}

fn clamp_probability(p: f64) -> f64 {
    if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) }
}

impl Outcomes {
    /// Every backup succeeds.
    ///
    /// ```
    /// use qovery_backups_mock::{MockConfig, Outcomes};
    ///
    /// assert_eq!(Outcomes::new(), MockConfig::default().outcomes);
    /// assert_eq!(Outcomes::new().to_string(), "none");
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The next create (after those already queued) ends with `outcome`.
    ///
    /// ```
    /// use qovery_backups_api::types::ServiceActionStatusEnum::{Canceled, Error};
    /// use qovery_backups_mock::Outcomes;
    ///
    /// // The next create fails, the one after is canceled, the rest succeed.
    /// let outcomes = Outcomes::new().then(Error).then(Canceled);
    /// assert_eq!(outcomes.to_string(), "next=ERROR|CANCELED");
    /// ```
    ///
    /// # Panics
    ///
    /// If `outcome` is not `SUCCESS`, `ERROR` or `CANCELED`: a backup cannot end in progress.
    #[must_use]
    pub fn then(mut self, outcome: ServiceActionStatusEnum) -> Self {
        assert_final(&outcome);
        self.next.push_back(outcome);
        self
    }

    /// A backup whose name contains `text` ends with `outcome`, unless the queue decided first.
    ///
    /// ```
    /// use qovery_backups_api::types::ServiceActionStatusEnum;
    /// use qovery_backups_mock::Outcomes;
    ///
    /// let outcomes = Outcomes::new().when_name_contains("pre-migration", ServiceActionStatusEnum::Error);
    /// assert_eq!(outcomes.to_string(), "name:pre-migration=ERROR");
    /// ```
    ///
    /// # Panics
    ///
    /// If `outcome` is not `SUCCESS`, `ERROR` or `CANCELED`.
    #[must_use]
    pub fn when_name_contains(mut self, text: impl Into<String>, outcome: ServiceActionStatusEnum) -> Self {
        assert_final(&outcome);
        self.rules.push((text.into(), outcome));
        self
    }

    /// The probability that a backup neither the queue nor a rule decided ends `ERROR`
    /// (clamped to 0..=1).
    ///
    /// ```
    /// use qovery_backups_mock::Outcomes;
    ///
    /// assert_eq!(Outcomes::new().with_error_probability(0.1).to_string(), "error=0.1");
    /// assert_eq!(Outcomes::new().with_error_probability(1.5).to_string(), "error=1");
    /// ```
    #[must_use]
    pub fn with_error_probability(mut self, p: f64) -> Self {
        self.error_probability = clamp_probability(p);
        self
    }

    /// The probability that a backup neither the queue nor a rule decided ends `CANCELED`
    /// (clamped to 0..=1; with the error probability, at most 1 in all).
    ///
    /// ```
    /// use qovery_backups_mock::Outcomes;
    ///
    /// let outcomes = Outcomes::new().with_error_probability(0.1).with_canceled_probability(0.05);
    /// assert_eq!(outcomes.to_string(), "error=0.1,canceled=0.05");
    /// ```
    #[must_use]
    pub fn with_canceled_probability(mut self, p: f64) -> Self {
        self.canceled_probability = clamp_probability(p);
        self
    }

    /// The seed of the generator behind the probabilities.
    ///
    /// ```
    /// use qovery_backups_mock::Outcomes;
    ///
    /// // Another sequence of outcomes, as reproducible as the first.
    /// let outcomes = Outcomes::new().with_error_probability(0.3).with_seed(7);
    /// assert_eq!(outcomes, "error=0.3, seed=7".parse().unwrap());
    /// ```
    #[must_use]
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The outcomes queued for the next creates.
    ///
    /// ```
    /// use qovery_backups_api::types::ServiceActionStatusEnum::{Error, Success};
    /// use qovery_backups_mock::Outcomes;
    ///
    /// let outcomes: Outcomes = "next=error|success".parse().unwrap();
    /// assert!(outcomes.queued().eq([&Error, &Success]));
    /// ```
    pub fn queued(&self) -> impl Iterator<Item = &ServiceActionStatusEnum> {
        self.next.iter()
    }
}

impl fmt::Display for Outcomes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut items = Vec::new();
        if !self.next.is_empty() {
            let next: Vec<&str> = self.next.iter().map(ServiceActionStatusEnum::as_str).collect();
            items.push(format!("next={}", next.join("|")));
        }
        for (text, outcome) in &self.rules {
            items.push(format!("name:{text}={outcome}"));
        }
        if self.error_probability != 0.0 {
            items.push(format!("error={}", self.error_probability));
        }
        if self.canceled_probability != 0.0 {
            items.push(format!("canceled={}", self.canceled_probability));
        }
        if self.seed != 0 {
            items.push(format!("seed={}", self.seed));
        }
        if items.is_empty() { f.write_str("none") } else { f.write_str(&items.join(",")) }
    }
}

/// Why an outcome SPEC could not be read: the item and what is wrong with it.
///
/// ```
/// use qovery_backups_mock::Outcomes;
///
/// let error = "next=ongoing".parse::<Outcomes>().unwrap_err();
/// assert_eq!(
///     error.to_string(),
///     "invalid outcome spec item `next=ongoing`: `ongoing` is not a final status; use success, error or canceled"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutcomeSpecError {
    item: String,
    message: String,
}

impl fmt::Display for OutcomeSpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid outcome spec item `{}`: {}", self.item, self.message)
    }
}

impl std::error::Error for OutcomeSpecError {}

fn parse_outcome(text: &str) -> Result<ServiceActionStatusEnum, String> {
    let outcome = ServiceActionStatusEnum::from(text.trim().to_ascii_uppercase().as_str());
    if is_final(&outcome) {
        Ok(outcome)
    } else {
        Err(format!("`{}` is not a final status; use success, error or canceled", text.trim()))
    }
}

impl FromStr for Outcomes {
    type Err = OutcomeSpecError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let mut outcomes = Outcomes::new();
        spec::read(spec, &mut outcomes, &OUTCOME_SYNTAX)
            .map_err(|(item, message)| OutcomeSpecError { item, message })?;
        if outcomes.error_probability + outcomes.canceled_probability > 1.0 {
            return Err(OutcomeSpecError {
                item: spec.trim().to_owned(),
                message: "the error and canceled probabilities add up to more than 1".to_owned(),
            });
        }
        Ok(outcomes)
    }
}

/// The keys of an outcome SPEC; any other key is `name:TEXT`.
const OUTCOME_SYNTAX: spec::Syntax<Outcomes> = spec::Syntax {
    keys: &[
        (&["next"], |outcomes, value| {
            value
                .split('|')
                .try_for_each(|next| parse_outcome(next).map(|next| outcomes.next.push_back(next)))
        }),
        (&["error"], |outcomes, value| spec::probability(value).map(|p| outcomes.error_probability = p)),
        (&["canceled"], |outcomes, value| {
            spec::probability(value).map(|p| outcomes.canceled_probability = p)
        }),
        (&["seed"], |outcomes, value| spec::seed(value).map(|seed| outcomes.seed = seed)),
    ],
    other: |outcomes, key, value| match key.split_once(':') {
        Some((name, text)) if name.trim().eq_ignore_ascii_case("name") && !text.is_empty() => {
            parse_outcome(value).map(|outcome| outcomes.rules.push((text.to_owned(), outcome)))
        }
        _ => Err(format!("unknown key `{key}`; expected `next`, `name:TEXT`, `error`, `canceled` or `seed`")),
    },
    once: false,
    without_equals: "expected `KEY=VALUE`, e.g. `next=error|success` or `error=0.1`",
};

/// The live side of [`Outcomes`]: what is left of the queue, and the generator.
pub(crate) struct OutcomeState {
    outcomes: Outcomes,
    rng: ChaCha8Rng,
}

impl OutcomeState {
    pub(crate) fn new(outcomes: Outcomes) -> Self {
        Self { rng: ChaCha8Rng::seed_from_u64(outcomes.seed), outcomes }
    }

    pub(crate) fn push(&mut self, outcome: ServiceActionStatusEnum) {
        self.outcomes.next.push_back(outcome);
    }

    /// The final status of a backup about to be created with this name.
    pub(crate) fn decide(&mut self, name: &str) -> ServiceActionStatusEnum {
        let draw: f64 = self.rng.random();
        if let Some(next) = self.outcomes.next.pop_front() {
            return next;
        }
        if let Some((_, outcome)) = self.outcomes.rules.iter().find(|(text, _)| name.contains(text.as_str()))
        {
            return outcome.clone();
        }
        if draw < self.outcomes.error_probability {
            ServiceActionStatusEnum::Error
        } else if draw < self.outcomes.error_probability + self.outcomes.canceled_probability {
            ServiceActionStatusEnum::Canceled
        } else {
            ServiceActionStatusEnum::Success
        }
    }
}

fn chrono(duration: Duration) -> ChronoDuration {
    ChronoDuration::from_std(duration).unwrap_or(ChronoDuration::MAX)
}

fn whole_secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

/// The body a backup created as `queued` (the 201's body) has `elapsed` after its creation.
pub(crate) fn progress(
    queued: &Backup,
    elapsed: Duration,
    lifecycle: Lifecycle,
    outcome: &ServiceActionStatusEnum,
) -> Backup {
    let mut backup = queued.clone();
    if elapsed < lifecycle.queued {
        return backup;
    }
    let Some(status) = backup.status.as_mut() else { return backup };
    let started = queued.created_at + chrono(lifecycle.queued);
    let queue_step = ServiceStepMetric {
        step_name: Some(ServiceStepMetricNameEnum::DeploymentQueueing),
        status: Some(StepMetricStatusEnum::Success),
        duration_sec: Some(whole_secs(lifecycle.queued)),
    };
    status.last_deployment_date = Some(started);
    if elapsed < lifecycle.queued.saturating_add(lifecycle.ongoing) {
        status.state = StateEnum::Deploying;
        status.status_details.status = ServiceActionStatusEnum::Ongoing;
        status.steps = Some(ServiceStepMetrics {
            total_duration_sec: None,
            total_computing_duration_sec: 0,
            details: vec![queue_step],
        });
        backup.updated_at = Some(started);
        return backup;
    }
    let (state, step_status) = match outcome {
        ServiceActionStatusEnum::Error => (StateEnum::DeploymentError, StepMetricStatusEnum::Error),
        ServiceActionStatusEnum::Canceled => (StateEnum::Canceled, StepMetricStatusEnum::Cancel),
        _ => (StateEnum::Deployed, StepMetricStatusEnum::Success),
    };
    status.state = state;
    status.status_details.status = outcome.clone();
    if *outcome == ServiceActionStatusEnum::Success {
        status.service_deployment_status = ServiceDeploymentStatusEnum::UpToDate;
    }
    let work = whole_secs(lifecycle.ongoing);
    status.steps = Some(ServiceStepMetrics {
        total_duration_sec: Some(whole_secs(lifecycle.queued).saturating_add(work)),
        total_computing_duration_sec: work,
        details: vec![
            queue_step,
            ServiceStepMetric {
                step_name: Some(ServiceStepMetricNameEnum::Deployment),
                status: Some(step_status),
                duration_sec: Some(work),
            },
        ],
    });
    backup.updated_at = Some(started + chrono(lifecycle.ongoing));
    backup
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_comes_first_then_rules_then_probabilities() {
        let outcomes = Outcomes::new()
            .then(ServiceActionStatusEnum::Canceled)
            .when_name_contains("bad", ServiceActionStatusEnum::Error)
            .with_error_probability(0.0);
        let mut state = OutcomeState::new(outcomes);
        assert_eq!(state.decide("bad-1"), ServiceActionStatusEnum::Canceled);
        assert_eq!(state.decide("bad-2"), ServiceActionStatusEnum::Error);
        assert_eq!(state.decide("good"), ServiceActionStatusEnum::Success);
    }

    #[test]
    fn probabilities_are_seeded_and_roughly_honoured() {
        let outcomes =
            Outcomes::new().with_error_probability(0.2).with_canceled_probability(0.1).with_seed(3);
        let run = || {
            let mut state = OutcomeState::new(outcomes.clone());
            (0..1000).map(|_| state.decide("n")).collect::<Vec<_>>()
        };
        let first = run();
        assert_eq!(first, run());
        let errors = first.iter().filter(|o| **o == ServiceActionStatusEnum::Error).count();
        let canceled = first.iter().filter(|o| **o == ServiceActionStatusEnum::Canceled).count();
        assert!((150..250).contains(&errors), "{errors}");
        assert!((60..140).contains(&canceled), "{canceled}");
    }

    #[test]
    fn spec_round_trips_and_rejects_what_cannot_be() {
        for spec in ["none", "next=ERROR|CANCELED|SUCCESS", "name:pre-=ERROR,error=0.25,canceled=0.5,seed=9"]
        {
            let outcomes: Outcomes = spec.parse().unwrap();
            assert_eq!(outcomes.to_string(), spec);
        }
        for bad in ["next=queued", "error=2", "error=0.6,canceled=0.6", "colour=red", "next"] {
            assert!(bad.parse::<Outcomes>().is_err(), "{bad}");
        }
    }
}
