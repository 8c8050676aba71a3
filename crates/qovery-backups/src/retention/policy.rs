//! The retention rules, and the checks that stop a policy from meaning something unintended.

use std::fmt;
use std::num::NonZeroUsize;
use std::time::Duration;

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
    pub(super) last: Option<NonZeroUsize>,
    pub(super) hourly: Option<NonZeroUsize>,
    pub(super) daily: Option<NonZeroUsize>,
    pub(super) weekly: Option<NonZeroUsize>,
    pub(super) monthly: Option<NonZeroUsize>,
    pub(super) yearly: Option<NonZeroUsize>,
    pub(super) within: Option<Duration>,
    pub(super) delete_failed: bool,
}

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
        let count = match rule {
            KeepRule::Last => self.last,
            KeepRule::Hourly => self.hourly,
            KeepRule::Daily => self.daily,
            KeepRule::Weekly => self.weekly,
            KeepRule::Monthly => self.monthly,
            KeepRule::Yearly => self.yearly,
            KeepRule::Within => None,
        };
        count.map(NonZeroUsize::get)
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

    /// Whether failed and canceled backups are deleted (they are kept otherwise).
    ///
    /// ```
    /// let policy = qovery_backups::RetentionPolicy::builder().keep_last(1).build().unwrap();
    /// assert!(!policy.deletes_failed());
    /// ```
    pub fn deletes_failed(&self) -> bool {
        self.delete_failed
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
/// Setting a rule twice keeps the last value.
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
    last: Option<usize>,
    hourly: Option<usize>,
    daily: Option<usize>,
    weekly: Option<usize>,
    monthly: Option<usize>,
    yearly: Option<usize>,
    within: Option<Duration>,
    delete_failed: bool,
}

impl RetentionPolicyBuilder {
    /// Keeps the `count` newest successful backups (at least 1).
    ///
    /// ```
    /// let policy = qovery_backups::RetentionPolicy::builder().keep_last(3).build().unwrap();
    /// # let _ = policy;
    /// ```
    pub fn keep_last(mut self, count: usize) -> Self {
        self.last = Some(count);
        self
    }

    /// Keeps the newest successful backup of each of the last `count` UTC hours that have one.
    ///
    /// ```
    /// let policy = qovery_backups::RetentionPolicy::builder().keep_hourly(24).build().unwrap();
    /// # let _ = policy;
    /// ```
    pub fn keep_hourly(mut self, count: usize) -> Self {
        self.hourly = Some(count);
        self
    }

    /// Keeps the newest successful backup of each of the last `count` UTC days that have one.
    ///
    /// ```
    /// let policy = qovery_backups::RetentionPolicy::builder().keep_daily(7).build().unwrap();
    /// # let _ = policy;
    /// ```
    pub fn keep_daily(mut self, count: usize) -> Self {
        self.daily = Some(count);
        self
    }

    /// Keeps the newest successful backup of each of the last `count` ISO weeks that have one.
    ///
    /// ```
    /// let policy = qovery_backups::RetentionPolicy::builder().keep_weekly(4).build().unwrap();
    /// # let _ = policy;
    /// ```
    pub fn keep_weekly(mut self, count: usize) -> Self {
        self.weekly = Some(count);
        self
    }

    /// Keeps the newest successful backup of each of the last `count` UTC months that have one.
    ///
    /// ```
    /// let policy = qovery_backups::RetentionPolicy::builder().keep_monthly(12).build().unwrap();
    /// # let _ = policy;
    /// ```
    pub fn keep_monthly(mut self, count: usize) -> Self {
        self.monthly = Some(count);
        self
    }

    /// Keeps the newest successful backup of each of the last `count` UTC years that have one.
    ///
    /// ```
    /// let policy = qovery_backups::RetentionPolicy::builder().keep_yearly(5).build().unwrap();
    /// # let _ = policy;
    /// ```
    pub fn keep_yearly(mut self, count: usize) -> Self {
        self.yearly = Some(count);
        self
    }

    /// Keeps every successful backup created strictly less than `duration` before the newest
    /// successful one (not before now). Must be above zero.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let day = Duration::from_secs(24 * 3600);
    /// let policy = qovery_backups::RetentionPolicy::builder().keep_within(day).build().unwrap();
    /// # let _ = policy;
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
    /// assert!(policy.deletes_failed());
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
        let counted = |rule: KeepRule, count: Option<usize>| match count {
            None => Ok(None),
            Some(count) => NonZeroUsize::new(count).map(Some).ok_or(PolicyError::ZeroCount { rule }),
        };
        let policy = RetentionPolicy {
            last: counted(KeepRule::Last, self.last)?,
            hourly: counted(KeepRule::Hourly, self.hourly)?,
            daily: counted(KeepRule::Daily, self.daily)?,
            weekly: counted(KeepRule::Weekly, self.weekly)?,
            monthly: counted(KeepRule::Monthly, self.monthly)?,
            yearly: counted(KeepRule::Yearly, self.yearly)?,
            within: match self.within {
                Some(within) if within.is_zero() => return Err(PolicyError::ZeroWithin),
                within => within,
            },
            delete_failed: self.delete_failed,
        };
        let has_keep_rule = policy.within.is_some()
            || KeepRule::COUNTED.iter().any(|&rule| policy.keep_count(rule).is_some());
        if has_keep_rule { Ok(policy) } else { Err(PolicyError::NoKeepRule) }
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
    /// The rules that take a count, in restic's order.
    const COUNTED: [KeepRule; 6] = [
        KeepRule::Last,
        KeepRule::Hourly,
        KeepRule::Daily,
        KeepRule::Weekly,
        KeepRule::Monthly,
        KeepRule::Yearly,
    ];
}

impl fmt::Display for KeepRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeepRule::Last => "keep-last",
            KeepRule::Hourly => "keep-hourly",
            KeepRule::Daily => "keep-daily",
            KeepRule::Weekly => "keep-weekly",
            KeepRule::Monthly => "keep-monthly",
            KeepRule::Yearly => "keep-yearly",
            KeepRule::Within => "keep-within",
        })
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
                "add at least one of keep-last, keep-hourly, keep-daily, keep-weekly, \
                 keep-monthly, keep-yearly or keep-within"
                    .into()
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
