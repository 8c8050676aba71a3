//! What holds for every policy and every listing, checked on seeded random ones. The planner is
//! compared with an oracle written differently (group by displayed period, take the newest of
//! the newest N groups), so a shared mistake would have to be made twice.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Duration;

use chrono::{DateTime, Datelike as _, TimeDelta, Utc};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use qovery_backups::{Backup, Plan, RetentionPolicy, RetentionPolicyBuilder, decide};
use uuid::Uuid;

use crate::support::backup;

/// A builder method that sets a counting rule.
type SetCount = fn(RetentionPolicyBuilder, usize) -> RetentionPolicyBuilder;

/// The displayed period (`daily 2026-11-27`) a time falls in.
type PeriodLabel = fn(DateTime<Utc>) -> String;

/// The rules a policy may have, as (count or duration) values; `None` leaves the rule out.
#[derive(Debug, Clone, Default)]
struct Rules {
    last: Option<usize>,
    hourly: Option<usize>,
    daily: Option<usize>,
    weekly: Option<usize>,
    monthly: Option<usize>,
    yearly: Option<usize>,
    within_secs: Option<u64>,
    delete_failed: bool,
}

impl Rules {
    fn builder(&self) -> RetentionPolicyBuilder {
        let mut builder = RetentionPolicy::builder().delete_failed(self.delete_failed);
        let setters: [(Option<usize>, SetCount); 6] = [
            (self.last, RetentionPolicyBuilder::keep_last),
            (self.hourly, RetentionPolicyBuilder::keep_hourly),
            (self.daily, RetentionPolicyBuilder::keep_daily),
            (self.weekly, RetentionPolicyBuilder::keep_weekly),
            (self.monthly, RetentionPolicyBuilder::keep_monthly),
            (self.yearly, RetentionPolicyBuilder::keep_yearly),
        ];
        for (count, set) in setters {
            if let Some(count) = count {
                builder = set(builder, count);
            }
        }
        if let Some(secs) = self.within_secs {
            builder = builder.keep_within(Duration::from_secs(secs));
        }
        builder
    }

    fn policy(&self) -> RetentionPolicy {
        self.builder().build().expect("generated rules are valid")
    }

    fn has_keep_rule(&self) -> bool {
        [self.last, self.hourly, self.daily, self.weekly, self.monthly, self.yearly]
            .iter()
            .any(Option::is_some)
            || self.within_secs.is_some()
    }
}

fn count() -> impl Strategy<Value = Option<usize>> {
    prop::option::weighted(0.4, 1usize..6)
}

fn rules() -> impl Strategy<Value = Rules> {
    let within = prop::option::weighted(0.3, prop_oneof![1u64..7200, 1u64..(90 * 86_400)]);
    (count(), count(), count(), count(), count(), count(), within, any::<bool>())
        .prop_map(|(last, hourly, daily, weekly, monthly, yearly, within_secs, delete_failed)| Rules {
            last,
            hourly,
            daily,
            weekly,
            monthly,
            yearly,
            within_secs,
            delete_failed,
        })
        .prop_filter("a policy needs a keep rule", Rules::has_keep_rule)
}

/// Up to 40 backups, mostly successful, spread over two days, two months or three years (so
/// hours, days, weeks, months and years all get shared and distinct periods), some created at
/// the same second, some across the 2026/2027 ISO year boundary.
fn listing() -> impl Strategy<Value = Vec<Backup>> {
    let spread = prop_oneof![Just(2 * 86_400i64), Just(60 * 86_400), Just(3 * 365 * 86_400)];
    let outcome = prop_oneof![
        8 => Just(Some("SUCCESS")),
        1 => Just(Some("ERROR")),
        1 => Just(Some("CANCELED")),
        1 => Just(Some("QUEUED")),
        1 => Just(Some("ONGOING")),
        1 => Just(Some("EXECUTING")),
        1 => Just(Some("CANCELING")),
        1 => Just(Some("NEVER")),
        1 => Just(Some("SOMETHING_QOVERY_ADDS_LATER")),
        1 => Just(None),
    ];
    (spread, prop::collection::vec((0.0f64..1.0, outcome), 0..40)).prop_map(|(spread, rows)| {
        // Anchored on the first days of 2027: ISO week 2026-W53 lies just before it.
        let anchor: DateTime<Utc> = "2027-01-03T12:00:00Z".parse().unwrap();
        (1..)
            .zip(rows)
            .map(|(id, (fraction, outcome))| {
                // Whole seconds, rounded to tens so that some backups share a second.
                let back = (fraction * spread as f64) as i64 / 10 * 10;
                let created = anchor - TimeDelta::seconds(back);
                backup(id, &created.to_rfc3339(), outcome)
            })
            .collect()
    })
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        // Seeded: the same cases on every run and every machine.
        rng_seed: RngSeed::Fixed(0x7e7e_4710),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn ids(backups: impl IntoIterator<Item = impl std::borrow::Borrow<Backup>>) -> BTreeSet<Uuid> {
    backups.into_iter().map(|b| b.borrow().id).collect()
}

/// The reasons each successful backup should be kept for, as displayed, computed without the
/// planner: every rule on its own, over the successful backups.
fn oracle(rules: &Rules, backups: &[Backup]) -> BTreeMap<Uuid, BTreeSet<String>> {
    let mut successful: Vec<&Backup> = backups.iter().filter(|b| b.is_successful()).collect();
    successful.sort_by_key(|b| std::cmp::Reverse((b.created_at, b.id)));
    let mut expected: BTreeMap<Uuid, BTreeSet<String>> =
        successful.iter().map(|b| (b.id, BTreeSet::new())).collect();
    let Some(newest) = successful.first() else { return expected };
    let mut name = |id: Uuid, reason: String| {
        expected.get_mut(&id).unwrap().insert(reason);
    };
    name(newest.id, "newest successful".to_owned());
    for (rank, b) in (1..).zip(successful.iter().take(rules.last.unwrap_or(0))) {
        name(b.id, format!("last {rank}"));
    }
    let periods: [(Option<usize>, PeriodLabel); 5] = [
        (rules.hourly, |t| format!("hourly {}", t.format("%Y-%m-%dT%H"))),
        (rules.daily, |t| format!("daily {}", t.format("%Y-%m-%d"))),
        (rules.weekly, |t| format!("weekly {}-W{:02}", t.iso_week().year(), t.iso_week().week())),
        (rules.monthly, |t| format!("monthly {}", t.format("%Y-%m"))),
        (rules.yearly, |t| format!("yearly {}", t.year())),
    ];
    for (count, label) in periods {
        let Some(count) = count else { continue };
        // Group by the displayed period (fixed-width labels sort like time); keep each group's
        // newest, then the newest `count` groups.
        let mut newest_of: BTreeMap<String, &Backup> = BTreeMap::new();
        for b in &successful {
            let entry = newest_of.entry(label(b.created_at)).or_insert(b);
            if (b.created_at, b.id) > (entry.created_at, entry.id) {
                *entry = b;
            }
        }
        for (period, b) in newest_of.into_iter().rev().take(count) {
            name(b.id, period);
        }
    }
    if let Some(secs) = rules.within_secs {
        let cutoff = newest.created_at - TimeDelta::seconds(secs as i64);
        let within = format!("within {} of newest", compact(secs));
        for b in successful.iter().filter(|b| b.created_at > cutoff) {
            name(b.id, within.clone());
        }
    }
    expected
}

/// `7d`, `1h30m`, … as the planner displays a whole number of seconds.
fn compact(secs: u64) -> String {
    let parts =
        [(secs / 86_400, "d"), (secs % 86_400 / 3600, "h"), (secs % 3600 / 60, "m"), (secs % 60, "s")];
    parts.iter().filter(|(value, _)| *value > 0).map(|(value, unit)| format!("{value}{unit}")).collect()
}

fn reasons_by_id(plan: &Plan) -> BTreeMap<Uuid, BTreeSet<String>> {
    plan.decisions()
        .iter()
        .map(|d| (d.backup.id, d.reasons().iter().map(ToString::to_string).collect()))
        .collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_backup_a_rule_names_is_kept_and_no_other_successful_one(
        rules in rules(),
        backups in listing(),
    ) {
        let plan = decide(&rules.policy(), &backups, crate::support::NOW).unwrap();
        let actual = reasons_by_id(&plan);
        for (id, expected) in oracle(&rules, &backups) {
            prop_assert_eq!(&actual[&id], &expected, "backup {}", id);
            let kept = plan.decision(id).unwrap().is_keep();
            prop_assert_eq!(kept, !expected.is_empty(), "backup {} kept iff a rule names it", id);
        }
    }

    #[test]
    fn the_newest_successful_and_every_unfinished_backup_are_always_kept(
        rules in rules(),
        backups in listing(),
    ) {
        let plan = decide(&rules.policy(), &backups, crate::support::NOW).unwrap();
        prop_assert_eq!(plan.len(), backups.len());
        let newest_successful =
            backups.iter().filter(|b| b.is_successful()).max_by_key(|b| (b.created_at, b.id));
        if let Some(newest) = newest_successful {
            prop_assert!(plan.decision(newest.id).unwrap().is_keep());
        }
        for b in backups.iter().filter(|b| !b.is_final()) {
            prop_assert!(plan.decision(b.id).unwrap().is_keep(), "unfinished {} deleted", b.id);
        }
        for b in backups.iter().filter(|b| b.is_failed()) {
            prop_assert_eq!(plan.decision(b.id).unwrap().is_delete(), rules.delete_failed);
        }
    }

    #[test]
    fn planning_again_after_applying_a_plan_deletes_nothing_more(
        rules in rules(),
        backups in listing(),
    ) {
        let policy = rules.policy();
        let first = decide(&policy, &backups, crate::support::NOW).unwrap();
        let remaining: Vec<Backup> = first.to_keep().cloned().collect();
        let second = decide(&policy, &remaining, crate::support::NOW).unwrap();
        prop_assert_eq!(second.delete_count(), 0);
        prop_assert_eq!(ids(second.to_keep()), ids(first.to_keep()));
    }

    #[test]
    fn adding_a_rule_never_deletes_more(
        rules in rules(),
        extra in rules(),
        pick in 0usize..7,
        backups in listing(),
    ) {
        let mut more = rules.clone();
        // Add (or widen) one rule taken from `extra`, only where `extra` has that rule.
        match pick {
            0 => more.last = more.last.max(extra.last),
            1 => more.hourly = more.hourly.max(extra.hourly),
            2 => more.daily = more.daily.max(extra.daily),
            3 => more.weekly = more.weekly.max(extra.weekly),
            4 => more.monthly = more.monthly.max(extra.monthly),
            5 => more.yearly = more.yearly.max(extra.yearly),
            _ => more.within_secs = more.within_secs.max(extra.within_secs),
        }
        let fewer_rules = ids(decide(&rules.policy(), &backups, crate::support::NOW).unwrap().to_delete());
        let more_rules = ids(decide(&more.policy(), &backups, crate::support::NOW).unwrap().to_delete());
        prop_assert!(more_rules.is_subset(&fewer_rules), "{:?} deletes more than {:?}", more, rules);
    }

    #[test]
    fn the_plan_does_not_depend_on_the_listing_order(
        rules in rules(),
        (backups, shuffled) in listing().prop_flat_map(|b| (Just(b.clone()), Just(b).prop_shuffle())),
    ) {
        let policy = rules.policy();
        prop_assert_eq!(decide(&policy, &backups, crate::support::NOW).unwrap(), decide(&policy, &shuffled, crate::support::NOW).unwrap());
        let planned = decide(&policy, &backups, crate::support::NOW).unwrap();
        let order: Vec<_> = planned.decisions().iter().map(|d| (d.backup.created_at, d.backup.id)).collect();
        prop_assert!(order.windows(2).all(|w| w[0] > w[1]), "newest first");
        let unique: HashSet<Uuid> = planned.decisions().iter().map(|d| d.backup.id).collect();
        prop_assert_eq!(unique.len(), planned.len());
    }
}
