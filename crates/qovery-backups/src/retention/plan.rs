//! The planner: a pure function from a policy and a listing to a decision for every backup.

use std::collections::HashSet;
use std::fmt;
use std::time::Duration;

use chrono::{DateTime, IsoWeek, NaiveDate, TimeDelta, Utc};
use qovery_backups_api::types::Backup;
use uuid::Uuid;

use super::policy::{CompactDuration, KeepRule, RetentionPolicy};

/// Decides, for every backup, whether `policy` keeps or deletes it, and why.
///
/// Pure: no I/O and no clock (`now` is an argument), so the same arguments always give the same
/// plan. Refuses, planning nothing, when any backup is dated more than
/// [`CLOCK_SKEW_ALLOWANCE`](crate::CLOCK_SKEW_ALLOWANCE) after `now`: such a date cannot be
/// true, and a rule anchored on it (`keep_within` counts back from the newest backup, each
/// period rule from the newest period) would delete the real backups. The
/// backups may come in any order; the plan lists them newest first (by `created_at`, then by
/// id for backups created at the same instant). A backup id that appears more than once is
/// planned once, from its first appearance in that order, so no id is both kept and deleted.
///
/// ```
/// use qovery_backups::{Reason, RetentionPolicy, decide};
/// # fn successful(day: u32) -> qovery_backups::Backup { serde_json::from_value(serde_json::json!({
/// #     "id": format!("00000000-0000-0000-0000-0000000000{day:02}"),
/// #     "created_at": format!("2026-11-{day:02}T03:00:00Z"), "name": "nightly", "message": "",
/// #     "status": { "id": "00000000-0000-0000-0000-000000000000", "state": "DEPLOYED",
/// #         "service_deployment_status": "UP_TO_DATE", "is_part_last_deployment": false,
/// #         "deployment_request_id": null, "deployment_requests_count": 1,
/// #         "status_details": { "action": "DEPLOY", "status": "SUCCESS", "sub_action": "NONE" } }
/// # })).unwrap() }
///
/// // One successful backup a night, 25 to 27 November.
/// let backups = vec![successful(25), successful(27), successful(26)];
/// let policy = RetentionPolicy::builder().keep_daily(2).build()?;
/// let now = "2026-11-28T00:00:00Z".parse()?;
/// let planned = decide(&policy, &backups, now)?;
///
/// assert_eq!(planned.keep_count(), 2);
/// assert_eq!(planned.to_delete().map(|b| b.created_at.to_rfc3339()).collect::<Vec<_>>(),
///            ["2026-11-25T03:00:00+00:00"]);
/// let reasons: Vec<String> = planned.decisions()[0].reasons().iter().map(Reason::to_string).collect();
/// assert_eq!(reasons, ["newest successful", "daily 2026-11-27"]);
///
/// // A backup dated in 2099 makes the whole listing untrustworthy: nothing is planned.
/// let mut from_the_future = successful(28);
/// from_the_future.created_at = "2099-01-01T00:00:00Z".parse()?;
/// let refused = decide(&policy, &[successful(27), from_the_future], now).unwrap_err();
/// assert!(refused.to_string().contains("2099-01-01T00:00:00Z"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn decide(policy: &RetentionPolicy, backups: &[Backup], now: DateTime<Utc>) -> Result<Plan, Refusal> {
    let latest_believable =
        now.checked_add_signed(crate::CLOCK_SKEW_ALLOWANCE).unwrap_or(DateTime::<Utc>::MAX_UTC);
    if let Some(future) =
        backups.iter().filter(|b| b.created_at > latest_believable).max_by_key(|b| b.created_at)
    {
        return Err(Refusal::FutureDated { backup_id: future.id, created_at: future.created_at, now });
    }
    let mut newest_first: Vec<&Backup> = backups.iter().collect();
    newest_first.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.id.cmp(&a.id)));
    let mut seen = HashSet::with_capacity(newest_first.len());
    newest_first.retain(|backup| seen.insert(backup.id));

    let mut reasons: Vec<Vec<Reason>> = vec![Vec::new(); newest_first.len()];
    // Positions (in `newest_first`) of the successful backups: the only ones rules count.
    let successful: Vec<usize> =
        (0..newest_first.len()).filter(|&i| newest_first[i].is_successful()).collect();

    if let Some(&newest) = successful.first() {
        reasons[newest].push(Reason::NewestSuccessful);

        for rule in KeepRule::COUNTED {
            let wanted = policy.keep_count(rule).unwrap_or(0);
            // Newest first, a period's first backup is its newest, and a period's backups are
            // contiguous: a new period starts whenever the period changes. keep-last has no
            // periods: every backup is a slot of its own.
            let mut current: Option<Period> = None;
            let mut kept = 0;
            for &i in &successful {
                if kept == wanted {
                    break;
                }
                let reason = match rule.period_of(newest_first[i].created_at) {
                    Some(period) if current == Some(period) => continue,
                    Some(period) => {
                        current = Some(period);
                        Reason::Period(period)
                    }
                    None => Reason::Last { rank: u32::try_from(kept + 1).unwrap_or(u32::MAX) },
                };
                kept += 1;
                reasons[i].push(reason);
            }
        }

        if let Some(within) = policy.keep_within() {
            // A duration beyond chrono's range, or reaching before its earliest date, covers
            // every backup there can be.
            let cutoff = TimeDelta::from_std(within)
                .ok()
                .and_then(|within| newest_first[newest].created_at.checked_sub_signed(within));
            for &i in &successful {
                if cutoff.is_some_and(|cutoff| newest_first[i].created_at <= cutoff) {
                    break;
                }
                reasons[i].push(Reason::Within(within));
            }
        }
    }

    let decisions = newest_first
        .into_iter()
        .zip(reasons)
        .map(|(backup, reasons)| {
            let verdict = if backup.is_successful() {
                if reasons.is_empty() {
                    Verdict::Delete(DeleteReason::NotKept)
                } else {
                    Verdict::Keep(reasons)
                }
            } else if backup.is_failed() {
                if policy.delete_failed() {
                    Verdict::Delete(DeleteReason::Failed)
                } else {
                    Verdict::Keep(vec![Reason::FailedKept])
                }
            } else {
                // Final means successful or failed, so this one is not final: it may still
                // become the newest good backup, and deleting it would cancel that.
                Verdict::Keep(vec![Reason::InProgress])
            };
            Decision { backup: backup.clone(), verdict }
        })
        .collect();
    Ok(Plan { decisions })
}

/// The former name of [`decide`].
///
/// ```
/// # #![allow(deprecated)]
/// use qovery_backups::{RetentionPolicy, Utc, decide, plan};
///
/// let policy = RetentionPolicy::builder().keep_last(3).build()?;
/// assert_eq!(plan(&policy, &[], Utc::now())?, decide(&policy, &[], Utc::now())?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[deprecated(note = "use `decide`: `plan` also named the methods that list and prune")]
pub fn plan(policy: &RetentionPolicy, backups: &[Backup], now: DateTime<Utc>) -> Result<Plan, Refusal> {
    decide(policy, backups, now)
}

/// Why a prune planned nothing and deleted nothing for a database.
///
/// ```
/// use qovery_backups::Refusal;
///
/// let refusal = Refusal::TooManyDeletes { planned: 31, max: 10 };
/// assert_eq!(refusal.to_string(), "the plan deletes 31 backups, more than the 10 allowed");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// A backup is dated more than [`CLOCK_SKEW_ALLOWANCE`](crate::CLOCK_SKEW_ALLOWANCE) after
    /// now (the newest such backup is named): the server's dates cannot be trusted.
    FutureDated {
        /// The backup.
        backup_id: Uuid,
        /// The date it claims.
        created_at: DateTime<Utc>,
        /// This machine's time when the plan was made.
        now: DateTime<Utc>,
    },
    /// The plan deletes more backups than the prune's
    /// [`max_delete`](crate::Prune::max_delete) allows.
    TooManyDeletes {
        /// How many the plan deletes.
        planned: usize,
        /// The most allowed.
        max: usize,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::FutureDated { backup_id, created_at, now } => write!(
                f,
                "backup {backup_id} is dated {}, after now ({}): the listing's dates cannot be trusted",
                created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            Refusal::TooManyDeletes { planned, max } => {
                write!(f, "the plan deletes {planned} backups, more than the {max} allowed")
            }
        }
    }
}

impl std::error::Error for Refusal {}

/// What a policy decided for a listing: every backup, newest first, with its [`Decision`].
///
/// ```
/// use qovery_backups::{RetentionPolicy, decide};
///
/// let policy = RetentionPolicy::builder().keep_last(3).build()?;
/// let plan = decide(&policy, &[], qovery_backups::Utc::now())?;
/// assert!(plan.is_empty());
/// assert_eq!((plan.keep_count(), plan.delete_count()), (0, 0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    decisions: Vec<Decision>,
}

impl Plan {
    /// Every backup with its decision, newest first.
    ///
    /// ```
    /// # let plan = qovery_backups::decide(&qovery_backups::RetentionPolicy::builder().keep_last(1).build().unwrap(), &[], qovery_backups::Utc::now()).unwrap();
    /// for decision in plan.decisions() {
    ///     println!("{} {}: {}", decision.backup.created_at, decision.backup.name, decision.verdict);
    /// }
    /// ```
    pub fn decisions(&self) -> &[Decision] {
        &self.decisions
    }

    /// The decisions, owned, newest first.
    ///
    /// ```
    /// # let plan = qovery_backups::decide(&qovery_backups::RetentionPolicy::builder().keep_last(1).build().unwrap(), &[], qovery_backups::Utc::now()).unwrap();
    /// let count = plan.len();
    /// let decisions: Vec<qovery_backups::Decision> = plan.into_decisions();
    /// assert_eq!(decisions.len(), count);
    /// ```
    pub fn into_decisions(self) -> Vec<Decision> {
        self.decisions
    }

    /// The decision about one backup, if it was in the listing.
    ///
    /// ```
    /// # let plan = qovery_backups::decide(&qovery_backups::RetentionPolicy::builder().keep_last(1).build().unwrap(), &[], qovery_backups::Utc::now()).unwrap();
    /// assert!(plan.decision(uuid::Uuid::nil()).is_none());
    /// ```
    pub fn decision(&self, backup_id: Uuid) -> Option<&Decision> {
        self.decisions.iter().find(|decision| decision.backup.id == backup_id)
    }

    /// The backups to delete, newest first (`.rev()` for oldest first).
    ///
    /// ```
    /// # let plan = qovery_backups::decide(&qovery_backups::RetentionPolicy::builder().keep_last(1).build().unwrap(), &[], qovery_backups::Utc::now()).unwrap();
    /// let ids: Vec<uuid::Uuid> = plan.to_delete().map(|backup| backup.id).collect();
    /// println!("deleting {ids:?}");
    /// ```
    pub fn to_delete(&self) -> impl DoubleEndedIterator<Item = &Backup> + '_ {
        self.decisions.iter().filter(|decision| decision.is_delete()).map(|decision| &decision.backup)
    }

    /// The backups to keep, newest first (`.rev()` for oldest first).
    ///
    /// ```
    /// # let plan = qovery_backups::decide(&qovery_backups::RetentionPolicy::builder().keep_last(1).build().unwrap(), &[], qovery_backups::Utc::now()).unwrap();
    /// let names: Vec<&str> = plan.to_keep().map(|backup| backup.name.as_str()).collect();
    /// println!("keeping {}", names.join(", "));
    /// ```
    pub fn to_keep(&self) -> impl DoubleEndedIterator<Item = &Backup> + '_ {
        self.decisions.iter().filter(|decision| decision.is_keep()).map(|decision| &decision.backup)
    }

    /// How many backups the plan deletes.
    ///
    /// ```
    /// # let plan = qovery_backups::decide(&qovery_backups::RetentionPolicy::builder().keep_last(1).build().unwrap(), &[], qovery_backups::Utc::now()).unwrap();
    /// assert_eq!(plan.delete_count(), plan.to_delete().count());
    /// ```
    pub fn delete_count(&self) -> usize {
        self.to_delete().count()
    }

    /// How many backups the plan keeps.
    ///
    /// ```
    /// # let plan = qovery_backups::decide(&qovery_backups::RetentionPolicy::builder().keep_last(1).build().unwrap(), &[], qovery_backups::Utc::now()).unwrap();
    /// assert_eq!(plan.keep_count() + plan.delete_count(), plan.len());
    /// ```
    pub fn keep_count(&self) -> usize {
        self.to_keep().count()
    }

    /// How many backups the plan covers (each distinct id once).
    ///
    /// ```
    /// # let plan = qovery_backups::decide(&qovery_backups::RetentionPolicy::builder().keep_last(1).build().unwrap(), &[], qovery_backups::Utc::now()).unwrap();
    /// assert_eq!(plan.len(), plan.decisions().len());
    /// ```
    pub fn len(&self) -> usize {
        self.decisions.len()
    }

    /// Whether the listing was empty.
    ///
    /// ```
    /// # let plan = qovery_backups::decide(&qovery_backups::RetentionPolicy::builder().keep_last(1).build().unwrap(), &[], qovery_backups::Utc::now()).unwrap();
    /// assert!(plan.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.decisions.is_empty()
    }
}

/// One backup and what the plan does with it.
///
/// ```
/// # let plan = qovery_backups::decide(&qovery_backups::RetentionPolicy::builder().keep_last(1).build().unwrap(), &[], qovery_backups::Utc::now()).unwrap();
/// for decision in plan.decisions() {
///     if decision.is_keep() {
///         println!("keep {} ({:?})", decision.backup.id, decision.reasons());
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Decision {
    /// The backup, as listed.
    pub backup: Backup,
    /// Keep or delete, and why.
    pub verdict: Verdict,
}

impl Decision {
    /// Whether the backup is kept.
    ///
    /// ```
    /// # let plan = qovery_backups::decide(&qovery_backups::RetentionPolicy::builder().keep_last(1).build().unwrap(), &[], qovery_backups::Utc::now()).unwrap();
    /// let kept = plan.decisions().iter().filter(|d| d.is_keep()).count();
    /// assert_eq!(kept, plan.keep_count());
    /// ```
    pub fn is_keep(&self) -> bool {
        matches!(self.verdict, Verdict::Keep(_))
    }

    /// Whether the backup is deleted.
    ///
    /// ```
    /// # let plan = qovery_backups::decide(&qovery_backups::RetentionPolicy::builder().keep_last(1).build().unwrap(), &[], qovery_backups::Utc::now()).unwrap();
    /// let deleted = plan.decisions().iter().filter(|d| d.is_delete()).count();
    /// assert_eq!(deleted, plan.delete_count());
    /// ```
    pub fn is_delete(&self) -> bool {
        matches!(self.verdict, Verdict::Delete(_))
    }

    /// Why the backup is kept; empty when it is deleted.
    ///
    /// ```
    /// # let plan = qovery_backups::decide(&qovery_backups::RetentionPolicy::builder().keep_last(1).build().unwrap(), &[], qovery_backups::Utc::now()).unwrap();
    /// assert!(plan.decisions().iter().filter(|d| d.is_keep()).all(|d| !d.reasons().is_empty()));
    /// ```
    pub fn reasons(&self) -> &[Reason] {
        match &self.verdict {
            Verdict::Keep(reasons) => reasons,
            Verdict::Delete(_) => &[],
        }
    }
}

/// Keep (with every reason that applies, never none) or delete (with why).
///
/// Displays as `keep (newest successful, daily 2026-11-27)` or `delete (kept by no rule)`.
///
/// ```
/// use qovery_backups::{DeleteReason, Reason, Verdict};
///
/// let keep = Verdict::Keep(vec![Reason::NewestSuccessful, Reason::Last { rank: 1 }]);
/// assert_eq!(keep.to_string(), "keep (newest successful, last 1)");
/// assert_eq!(Verdict::Delete(DeleteReason::Failed).to_string(), "delete (failed)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// Kept, for these reasons: the policy's rules in restic's order, then `keep-within`.
    Keep(Vec<Reason>),
    /// Deleted.
    Delete(DeleteReason),
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Keep(reasons) => {
                f.write_str("keep (")?;
                for (n, reason) in reasons.iter().enumerate() {
                    if n > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{reason}")?;
                }
                f.write_str(")")
            }
            Verdict::Delete(reason) => write!(f, "delete ({reason})"),
        }
    }
}

/// Why a backup is kept.
///
/// Displays as operators read it: `newest successful`, `last 3`, `hourly 2026-11-27T13`,
/// `daily 2026-11-27`, `weekly 2026-W48`, `monthly 2026-11`, `yearly 2026`,
/// `within 7d of newest`, `in progress`, `failed (kept)`.
///
/// ```
/// use std::time::Duration;
/// use qovery_backups::{Period, Reason};
///
/// assert_eq!(Reason::Last { rank: 3 }.to_string(), "last 3");
/// assert_eq!(Reason::Within(Duration::from_secs(7 * 86_400)).to_string(), "within 7d of newest");
/// assert_eq!(Reason::Period(Period::Year(2026)).to_string(), "yearly 2026");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// The newest successful backup: kept whatever the policy, so a database never loses its
    /// last good backup to a policy mistake.
    NewestSuccessful,
    /// Kept by `keep-last`: the `rank`th newest successful backup (1 is the newest).
    Last {
        /// 1 for the newest successful backup, 2 for the next, …
        rank: u32,
    },
    /// Kept by `keep-hourly` … `keep-yearly`: the newest successful backup of this period.
    Period(Period),
    /// Kept by `keep-within`: created less than this long before the newest successful backup.
    Within(Duration),
    /// Not in a final status (queued, running, canceling, `NEVER`, no status, or a status this
    /// client does not know): it may still become a good backup.
    InProgress,
    /// Failed or canceled, and the policy does not delete failed backups.
    FailedKept,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NewestSuccessful => f.write_str("newest successful"),
            Reason::Last { rank } => write!(f, "last {rank}"),
            Reason::Period(period) => write!(f, "{} {period}", period.rule().word()),
            Reason::Within(within) => write!(f, "within {} of newest", CompactDuration(*within)),
            Reason::InProgress => f.write_str("in progress"),
            Reason::FailedKept => f.write_str("failed (kept)"),
        }
    }
}

/// Why a backup is deleted.
///
/// ```
/// assert_eq!(qovery_backups::DeleteReason::NotKept.to_string(), "kept by no rule");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeleteReason {
    /// Successful, but no rule of the policy keeps it.
    NotKept,
    /// Failed or canceled, and the policy deletes failed backups.
    Failed,
}

impl fmt::Display for DeleteReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DeleteReason::NotKept => "kept by no rule",
            DeleteReason::Failed => "failed",
        })
    }
}

/// A UTC calendar period that a period rule keeps one backup of.
///
/// Displays as the period alone, in ISO 8601: `2026-11-27T13`, `2026-11-27`, `2026-W48`,
/// `2026-11`, `2026`. Weeks are ISO weeks, so 2027-01-01 (a Friday) is in `2026-W53` and
/// 2026-12-28 is in `2026-W53` too, while 2024-12-30 is in `2025-W01`.
///
/// ```
/// use chrono::{Datelike as _, NaiveDate};
/// use qovery_backups::Period;
///
/// let new_years_day = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
/// assert_eq!(Period::Week(new_years_day.iso_week()).to_string(), "2026-W53");
/// assert_eq!(Period::Hour { date: new_years_day, hour: 7 }.to_string(), "2027-01-01T07");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Period {
    /// A UTC hour: the day and the hour of day (0 to 23).
    Hour {
        /// The UTC day.
        date: NaiveDate,
        /// The hour of that day, 0 to 23.
        hour: u32,
    },
    /// A UTC day.
    Day(NaiveDate),
    /// An ISO 8601 week (Monday to Sunday) of its ISO year.
    Week(IsoWeek),
    /// A UTC month.
    Month {
        /// The year.
        year: i32,
        /// The month, 1 to 12.
        month: u32,
    },
    /// A UTC year.
    Year(i32),
}

impl Period {
    /// The rule that keeps one backup of each such period, whose
    /// [`period_of`](KeepRule::period_of) gives this kind of period.
    ///
    /// ```
    /// use qovery_backups::{KeepRule, Period};
    ///
    /// assert_eq!(Period::Year(2026).rule(), KeepRule::Yearly);
    /// ```
    pub fn rule(&self) -> KeepRule {
        match self {
            Period::Hour { .. } => KeepRule::Hourly,
            Period::Day(_) => KeepRule::Daily,
            Period::Week(_) => KeepRule::Weekly,
            Period::Month { .. } => KeepRule::Monthly,
            Period::Year(_) => KeepRule::Yearly,
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Hour { date, hour } => write!(f, "{}T{hour:02}", date.format("%Y-%m-%d")),
            Period::Day(date) => write!(f, "{}", date.format("%Y-%m-%d")),
            Period::Week(week) => write!(f, "{:04}-W{:02}", week.year(), week.week()),
            Period::Month { year, month } => write!(f, "{year:04}-{month:02}"),
            Period::Year(year) => write!(f, "{year:04}"),
        }
    }
}
