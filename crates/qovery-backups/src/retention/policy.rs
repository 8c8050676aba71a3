//! The retention rules, and the checks that stop a policy from meaning something unintended.

use std::fmt;
use std::num::NonZeroUsize;
use std::time::Duration;

use chrono::{DateTime, Datelike as _, Timelike as _, Utc};

use super::Period;

/// Which backups to keep, as restic's `forget` says it.
///
/// Only successful backups count towards the rules, and a backup is kept when any rule keeps it:
///
/// - `keep_last(n)`: the `n` newest successful backups.
/// - `keep_hourly(n)`, `keep_daily`, `keep_weekly`, `keep_monthly`, `keep_yearly`: for each of
///   the last `n` periods that have at least one successful backup, the newest successful backup
///   of that period. Periods are UTC calendar hours, days, ISO 8601 weeks (Monday to Sunday,
///   numbered within their ISO year), months and years, of each backup's `created_at`.
/// - `keep_within(d)`: every successful backup created strictly after the newest successful
///   backup's `created_at` minus `d`. Relative to the newest backup, not to now, so a database
///   whose backups stopped does not lose them all as time passes.
///
/// Whatever the rules, the newest successful backup is kept, and so is every backup not in a
/// final status (queued, running, canceling, or a status this client does not know). Failed
/// and canceled backups are kept too, unless [`delete_failed`](RetentionPolicyBuilder::delete_failed)
/// is set.
///
/// Built with [`RetentionPolicy::builder`], which refuses a count of 0 and a policy without any
/// keep rule: neither can mean what its author wanted.
///
/// ```
/// use std::time::Duration;
/// use qovery_backups::RetentionPolicy;
///
/// let policy = RetentionPolicy::builder()
///     .keep_last(3)
///     .keep_daily(7)
///     .keep_weekly(4)
///     .keep_within(Duration::from_secs(2 * 24 * 3600))
///     .build()?;
/// assert_eq!(policy.to_string(), "keep-last 3, keep-daily 7, keep-weekly 4, keep-within 2d");
/// # Ok::<(), qovery_backups::PolicyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// The count of each rule of [`KeepRule::COUNTED`], at the same index.
    counts: Counts<NonZeroUsize>,
    within: Option<Duration>,
    delete_failed: bool,
}

/// One slot per counting rule, in the order of [`KeepRule::COUNTED`]: the only place the
/// rules are listed, so a new rule is a new entry there and nowhere in the policy.
type Counts<T> = [Option<T>; KeepRule::COUNTED.len()];

impl RetentionPolicy {
    /// A policy with no rule yet: add at least one, then [`build`](RetentionPolicyBuilder::build).
    ///
    /// ```
    /// let policy = qovery_backups::RetentionPolicy::builder().keep_monthly(12).build().unwrap();
    /// assert_eq!(policy.keep_count(qovery_backups::KeepRule::Monthly), Some(12));
    /// ```
    pub fn builder() -> RetentionPolicyBuilder {
        RetentionPolicyBuilder::default()
    }

    /// The count of a counting rule, `None` when the policy does not have it (or for
    /// [`KeepRule::Within`], which has a duration: see [`keep_within`](Self::keep_within)).
    ///
    /// ```
    /// use qovery_backups::{KeepRule, RetentionPolicy};
    ///
    /// let policy = RetentionPolicy::builder().keep_last(5).build().unwrap();
    /// assert_eq!(policy.keep_count(KeepRule::Last), Some(5));
    /// assert_eq!(policy.keep_count(KeepRule::Daily), None);
    /// ```
    pub fn keep_count(&self, rule: KeepRule) -> Option<usize> {
        rule.slot().and_then(|slot| self.counts[slot]).map(NonZeroUsize::get)
    }

    /// The `keep-within` duration, if the policy has that rule.
    ///
    /// ```
    /// use std::time::Duration;
    /// use qovery_backups::RetentionPolicy;
    ///
    /// let week = Duration::from_secs(7 * 24 * 3600);
    /// let policy = RetentionPolicy::builder().keep_within(week).build().unwrap();
    /// assert_eq!(policy.keep_within(), Some(week));
    /// ```
    pub fn keep_within(&self) -> Option<Duration> {
        self.within
    }

    /// Whether failed and canceled backups are deleted (they are kept otherwise), as
    /// [`RetentionPolicyBuilder::delete_failed`] set it.
    ///
    /// ```
    /// use qovery_backups::RetentionPolicy;
    ///
    /// assert!(!RetentionPolicy::builder().keep_last(1).build()?.delete_failed());
    /// assert!(RetentionPolicy::builder().keep_last(1).delete_failed(true).build()?.delete_failed());
    /// # Ok::<(), qovery_backups::PolicyError>(())
    /// ```
    pub fn delete_failed(&self) -> bool {
        self.delete_failed
    }

    /// Whether failed and canceled backups are deleted.
    ///
    /// ```
    /// # #![allow(deprecated)]
    /// let policy = qovery_backups::RetentionPolicy::builder().keep_last(1).build().unwrap();
    /// assert_eq!(policy.deletes_failed(), policy.delete_failed());
    /// ```
    #[deprecated(note = "use `delete_failed`, the name the setter has")]
    pub fn deletes_failed(&self) -> bool {
        self.delete_failed()
    }
}

/// Rules in the order restic prints them, `keep-within` last, then `delete-failed`.
impl fmt::Display for RetentionPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = KeepRule::COUNTED
            .iter()
            .filter_map(|&rule| self.keep_count(rule).map(|count| format!("{rule} {count}")))
            .collect();
        if let Some(within) = self.within {
            parts.push(format!("{} {}", KeepRule::Within, CompactDuration(within)));
        }
        if self.delete_failed {
            parts.push("delete-failed".to_owned());
        }
        f.write_str(&parts.join(", "))
    }
}

/// Builds a [`RetentionPolicy`]; [`build`](Self::build) checks it.
///
/// Each counting rule is set by [`keep`](Self::keep) or by its named setter
/// ([`keep_daily`](Self::keep_daily), …), which are the same. Setting a rule twice keeps the
/// last value.
///
/// ```
/// use qovery_backups::{KeepRule, PolicyError, RetentionPolicy};
///
/// let refused = RetentionPolicy::builder().keep_daily(0).build();
/// assert_eq!(refused, Err(PolicyError::ZeroCount { rule: KeepRule::Daily }));
/// ```
#[derive(Debug, Clone, Default)]
#[must_use = "a builder does nothing until built"]
pub struct RetentionPolicyBuilder {
    counts: Counts<usize>,
    within: Option<Duration>,
    delete_failed: bool,
}

impl RetentionPolicyBuilder {
    /// Keeps `count` backups by a counting `rule` (at least 1): the `count` newest successful
    /// backups for [`KeepRule::Last`], the newest successful backup of each of the last `count`
    /// periods that have one for the period rules. For a policy read from configuration, one
    /// rule at a time.
    ///
    /// # Panics
    ///
    /// If `rule` is [`KeepRule::Within`], which takes a duration: use
    /// [`keep_within`](Self::keep_within).
    ///
    /// ```
    /// use qovery_backups::{KeepRule, RetentionPolicy};
    ///
    /// let configured = [(KeepRule::Daily, 7), (KeepRule::Weekly, 4)];
    /// let policy = configured
    ///     .into_iter()
    ///     .fold(RetentionPolicy::builder(), |builder, (rule, count)| builder.keep(rule, count))
    ///     .build()?;
    /// assert_eq!(policy, RetentionPolicy::builder().keep_daily(7).keep_weekly(4).build()?);
    /// # Ok::<(), qovery_backups::PolicyError>(())
    /// ```
    pub fn keep(mut self, rule: KeepRule, count: usize) -> Self {
        let Some(slot) = rule.slot() else {
            panic!("{rule} takes a duration, not a count: use RetentionPolicyBuilder::keep_within")
        };
        self.counts[slot] = Some(count);
        self
    }

    /// Keeps the `count` newest successful backups (at least 1): [`keep`](Self::keep) with
    /// [`KeepRule::Last`].
    ///
    /// ```
    /// let policy = qovery_backups::RetentionPolicy::builder().keep_last(3).build()?;
    /// assert_eq!(policy.to_string(), "keep-last 3");
    /// # Ok::<(), qovery_backups::PolicyError>(())
    /// ```
    pub fn keep_last(self, count: usize) -> Self {
        self.keep(KeepRule::Last, count)
    }

    /// Keeps the newest successful backup of each of the last `count` UTC hours that have one:
    /// [`keep`](Self::keep) with [`KeepRule::Hourly`].
    ///
    /// ```
    /// let policy = qovery_backups::RetentionPolicy::builder().keep_hourly(24).build()?;
    /// assert_eq!(policy.to_string(), "keep-hourly 24");
    /// # Ok::<(), qovery_backups::PolicyError>(())
    /// ```
    pub fn keep_hourly(self, count: usize) -> Self {
        self.keep(KeepRule::Hourly, count)
    }

    /// Keeps the newest successful backup of each of the last `count` UTC days that have one:
    /// [`keep`](Self::keep) with [`KeepRule::Daily`].
    ///
    /// ```
    /// let policy = qovery_backups::RetentionPolicy::builder().keep_daily(7).build()?;
    /// assert_eq!(policy.to_string(), "keep-daily 7");
    /// # Ok::<(), qovery_backups::PolicyError>(())
    /// ```
    pub fn keep_daily(self, count: usize) -> Self {
        self.keep(KeepRule::Daily, count)
    }

    /// Keeps the newest successful backup of each of the last `count` ISO weeks that have one:
    /// [`keep`](Self::keep) with [`KeepRule::Weekly`].
    ///
    /// ```
    /// let policy = qovery_backups::RetentionPolicy::builder().keep_weekly(4).build()?;
    /// assert_eq!(policy.to_string(), "keep-weekly 4");
    /// # Ok::<(), qovery_backups::PolicyError>(())
    /// ```
    pub fn keep_weekly(self, count: usize) -> Self {
        self.keep(KeepRule::Weekly, count)
    }

    /// Keeps the newest successful backup of each of the last `count` UTC months that have one:
    /// [`keep`](Self::keep) with [`KeepRule::Monthly`].
    ///
    /// ```
    /// let policy = qovery_backups::RetentionPolicy::builder().keep_monthly(12).build()?;
    /// assert_eq!(policy.to_string(), "keep-monthly 12");
    /// # Ok::<(), qovery_backups::PolicyError>(())
    /// ```
    pub fn keep_monthly(self, count: usize) -> Self {
        self.keep(KeepRule::Monthly, count)
    }

    /// Keeps the newest successful backup of each of the last `count` UTC years that have one:
    /// [`keep`](Self::keep) with [`KeepRule::Yearly`].
    ///
    /// ```
    /// let policy = qovery_backups::RetentionPolicy::builder().keep_yearly(5).build()?;
    /// assert_eq!(policy.to_string(), "keep-yearly 5");
    /// # Ok::<(), qovery_backups::PolicyError>(())
    /// ```
    pub fn keep_yearly(self, count: usize) -> Self {
        self.keep(KeepRule::Yearly, count)
    }

    /// Keeps every successful backup created strictly less than `duration` before the newest
    /// successful one (not before now). Must be above zero.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let day = Duration::from_secs(24 * 3600);
    /// let policy = qovery_backups::RetentionPolicy::builder().keep_within(day).build()?;
    /// assert_eq!(policy.to_string(), "keep-within 1d");
    /// # Ok::<(), qovery_backups::PolicyError>(())
    /// ```
    pub fn keep_within(mut self, duration: Duration) -> Self {
        self.within = Some(duration);
        self
    }

    /// Deletes failed and canceled backups too (`false` by default: they are kept, so their
    /// logs stay available until someone looks). Not a keep rule: a policy needs one besides.
    ///
    /// ```
    /// let policy = qovery_backups::RetentionPolicy::builder()
    ///     .keep_last(3)
    ///     .delete_failed(true)
    ///     .build()
    ///     .unwrap();
    /// assert!(policy.delete_failed());
    /// ```
    pub fn delete_failed(mut self, delete: bool) -> Self {
        self.delete_failed = delete;
        self
    }

    /// The policy, or what to fix: a count of 0, a `keep-within` of zero, or no keep rule at all.
    ///
    /// ```
    /// use qovery_backups::{PolicyError, RetentionPolicy};
    ///
    /// let refused = RetentionPolicy::builder().delete_failed(true).build();
    /// assert_eq!(refused, Err(PolicyError::NoKeepRule));
    /// ```
    pub fn build(self) -> Result<RetentionPolicy, PolicyError> {
        let mut counts: Counts<NonZeroUsize> = Default::default();
        // In the order of COUNTED, so the first rule given 0 is the one named.
        for ((slot, count), rule) in counts.iter_mut().zip(self.counts).zip(KeepRule::COUNTED) {
            *slot = count
                .map(|count| NonZeroUsize::new(count).ok_or(PolicyError::ZeroCount { rule }))
                .transpose()?;
        }
        let within = match self.within {
            Some(within) if within.is_zero() => return Err(PolicyError::ZeroWithin),
            within => within,
        };
        if within.is_none() && counts.iter().all(Option::is_none) {
            return Err(PolicyError::NoKeepRule);
        }
        Ok(RetentionPolicy { counts, within, delete_failed: self.delete_failed })
    }
}

/// One keep rule of a [`RetentionPolicy`]; displays as its restic flag name, `keep-daily`.
///
/// ```
/// assert_eq!(qovery_backups::KeepRule::Weekly.to_string(), "keep-weekly");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeepRule {
    /// `keep-last`: the newest successful backups.
    Last,
    /// `keep-hourly`: one a UTC hour.
    Hourly,
    /// `keep-daily`: one a UTC day.
    Daily,
    /// `keep-weekly`: one an ISO week.
    Weekly,
    /// `keep-monthly`: one a UTC month.
    Monthly,
    /// `keep-yearly`: one a UTC year.
    Yearly,
    /// `keep-within`: all those close enough to the newest.
    Within,
}

impl KeepRule {
    /// The rules that take a count, in restic's order: the order a policy displays them and a
    /// plan gives its reasons in. Everything that walks the counting rules (the policy, the
    /// planner, the command line's `--keep-*` flags) walks this array.
    ///
    /// ```
    /// use qovery_backups::KeepRule;
    ///
    /// let flags: Vec<&str> = KeepRule::COUNTED.iter().map(|rule| rule.as_str()).collect();
    /// assert_eq!(flags[..3], ["keep-last", "keep-hourly", "keep-daily"]);
    /// assert!(!KeepRule::COUNTED.contains(&KeepRule::Within));
    /// ```
    pub const COUNTED: [KeepRule; 6] = [
        KeepRule::Last,
        KeepRule::Hourly,
        KeepRule::Daily,
        KeepRule::Weekly,
        KeepRule::Monthly,
        KeepRule::Yearly,
    ];

    /// Its restic flag name, as it displays: `keep-last`, `keep-daily`, …, `keep-within`.
    ///
    /// ```
    /// assert_eq!(qovery_backups::KeepRule::Monthly.as_str(), "keep-monthly");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            KeepRule::Last => "keep-last",
            KeepRule::Hourly => "keep-hourly",
            KeepRule::Daily => "keep-daily",
            KeepRule::Weekly => "keep-weekly",
            KeepRule::Monthly => "keep-monthly",
            KeepRule::Yearly => "keep-yearly",
            KeepRule::Within => "keep-within",
        }
    }

    /// The calendar period of `at` that this rule keeps one backup of: its UTC hour, day,
    /// month or year, or its ISO week. `None` for [`Last`](KeepRule::Last) and
    /// [`Within`](KeepRule::Within), which count backups, not periods.
    ///
    /// ```
    /// use qovery_backups::{KeepRule, Period};
    ///
    /// let at = "2027-01-01T07:30:00Z".parse()?;
    /// assert_eq!(KeepRule::Yearly.period_of(at), Some(Period::Year(2027)));
    /// assert_eq!(KeepRule::Weekly.period_of(at).unwrap().to_string(), "2026-W53");
    /// assert_eq!(KeepRule::Last.period_of(at), None);
    /// # Ok::<(), chrono::ParseError>(())
    /// ```
    pub fn period_of(self, at: DateTime<Utc>) -> Option<Period> {
        Some(match self {
            KeepRule::Hourly => Period::Hour { date: at.date_naive(), hour: at.hour() },
            KeepRule::Daily => Period::Day(at.date_naive()),
            KeepRule::Weekly => Period::Week(at.iso_week()),
            KeepRule::Monthly => Period::Month { year: at.year(), month: at.month() },
            KeepRule::Yearly => Period::Year(at.year()),
            KeepRule::Last | KeepRule::Within => return None,
        })
    }

    /// Its flag name without `keep-`, as a plan's reasons say it: `last`, `daily`, …
    pub(super) fn word(self) -> &'static str {
        let name = self.as_str();
        name.strip_prefix("keep-").unwrap_or(name)
    }

    /// Its index in [`COUNTED`](Self::COUNTED), where a policy keeps its count; `None` for
    /// `Within`.
    fn slot(self) -> Option<usize> {
        KeepRule::COUNTED.iter().position(|&rule| rule == self)
    }
}

impl fmt::Display for KeepRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a [`RetentionPolicy`] was refused. The message says what is wrong;
/// [`hint`](PolicyError::hint) says what to change.
///
/// ```
/// use qovery_backups::RetentionPolicy;
///
/// let error = RetentionPolicy::builder().keep_last(0).build().unwrap_err();
/// assert_eq!(error.to_string(), "keep-last 0 would keep nothing");
/// assert!(error.hint().contains("at least 1"), "{}", error.hint());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyError {
    /// A counting rule was given 0, which would keep nothing by that rule.
    ZeroCount {
        /// The rule given 0.
        rule: KeepRule,
    },
    /// `keep-within` was given a zero duration, which would keep nothing by that rule.
    ZeroWithin,
    /// No keep rule at all: refused rather than read as "delete every backup".
    NoKeepRule,
}

impl PolicyError {
    /// What to change in the policy; every refusal has a remedy.
    ///
    /// ```
    /// use qovery_backups::RetentionPolicy;
    ///
    /// let error = RetentionPolicy::builder().build().unwrap_err();
    /// assert!(error.hint().contains("keep-daily"), "{}", error.hint());
    /// ```
    pub fn hint(&self) -> std::borrow::Cow<'static, str> {
        match self {
            PolicyError::ZeroCount { rule } => {
                format!("give {rule} a count of at least 1, or leave it out of the policy").into()
            }
            PolicyError::ZeroWithin => {
                "give keep-within a duration above zero, or leave it out of the policy".into()
            }
            PolicyError::NoKeepRule => {
                let counted: Vec<&str> = KeepRule::COUNTED.iter().map(|rule| rule.as_str()).collect();
                format!("add at least one of {} or {}", counted.join(", "), KeepRule::Within.as_str()).into()
            }
        }
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::ZeroCount { rule } => write!(f, "{rule} 0 would keep nothing"),
            PolicyError::ZeroWithin => f.write_str("keep-within 0s would keep nothing"),
            PolicyError::NoKeepRule => f.write_str(
                "the retention policy has no keep rule, and would delete every backup but the newest",
            ),
        }
    }
}

impl std::error::Error for PolicyError {}

/// A duration as people write retention periods: `7d`, `36h`, `1d12h`, `90s`, `250ms`.
pub(super) struct CompactDuration(pub(super) Duration);

impl fmt::Display for CompactDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.0.as_secs();
        let parts = [
            (seconds / 86_400, "d"),
            (seconds % 86_400 / 3600, "h"),
            (seconds % 3600 / 60, "m"),
            (seconds % 60, "s"),
            (u64::from(self.0.subsec_millis()), "ms"),
        ];
        let mut wrote_any = false;
        for (value, unit) in parts {
            if value > 0 {
                write!(f, "{value}{unit}")?;
                wrote_any = true;
            }
        }
        if !wrote_any {
            // Below a millisecond: not a retention period anyone means, but say something true.
            write!(f, "{}ns", self.0.as_nanos())?;
        }
        Ok(())
    }
}
