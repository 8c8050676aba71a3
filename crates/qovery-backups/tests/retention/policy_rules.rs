//! What each rule keeps, at the boundaries where calendars get it wrong, and what no rule may
//! delete. Tables: one row per boundary, with every backup's expected reasons.

use std::time::Duration;

use chrono::{Datelike as _, NaiveDate};
use qovery_backups::{
    DeleteReason, KeepRule, Period, PolicyError, Reason, RetentionPolicy, RetentionPolicyBuilder, Verdict,
    decide,
};
use uuid::Uuid;

use crate::support::{backup, deleted, reasons, successful};

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

struct Case {
    name: &'static str,
    policy: RetentionPolicyBuilder,
    /// Successful backups' `created_at`, newest first; backup `i` gets id `i + 1`.
    created: &'static [&'static str],
    /// The reasons each backup is kept for, in the same order; empty means deleted.
    expected: &'static [&'static [&'static str]],
}

fn check(cases: Vec<Case>) {
    for case in cases {
        assert_eq!(case.created.len(), case.expected.len(), "{}: table row is malformed", case.name);
        let backups: Vec<_> = (1..).zip(case.created).map(|(id, time)| successful(id, time)).collect();
        let plan =
            decide(&case.policy.build().expect("a valid policy"), &backups, crate::support::NOW).unwrap();
        for ((id, time), expected) in (1..).zip(case.created).zip(case.expected) {
            assert_eq!(reasons(&plan, id), *expected, "{}: backup {id} created {time}", case.name);
        }
    }
}

fn keep() -> RetentionPolicyBuilder {
    RetentionPolicy::builder()
}

#[test]
fn hourly_periods_are_utc_clock_hours() {
    check(vec![
        Case {
            name: "an hour starts on the hour",
            policy: keep().keep_hourly(9),
            created: &[
                "2026-11-27T14:00:00Z",
                "2026-11-27T13:59:59Z",
                "2026-11-27T13:00:00Z",
                "2026-11-27T12:59:59Z",
            ],
            expected: &[
                &["newest successful", "hourly 2026-11-27T14"],
                &["hourly 2026-11-27T13"],
                &[],
                &["hourly 2026-11-27T12"],
            ],
        },
        Case {
            name: "hours across midnight belong to their own day",
            policy: keep().keep_hourly(9),
            created: &["2026-11-28T00:30:00Z", "2026-11-27T23:30:00Z"],
            expected: &[&["newest successful", "hourly 2026-11-28T00"], &["hourly 2026-11-27T23"]],
        },
    ]);
}

#[test]
fn daily_periods_are_utc_days() {
    check(vec![
        Case {
            name: "a UTC day starts at midnight",
            policy: keep().keep_daily(9),
            created: &["2026-11-27T00:00:00Z", "2026-11-26T23:59:59Z", "2026-11-26T00:00:00Z"],
            expected: &[&["newest successful", "daily 2026-11-27"], &["daily 2026-11-26"], &[]],
        },
        Case {
            name: "the day is the UTC day, whatever offset the time was written with",
            policy: keep().keep_daily(9),
            // 2026-11-27T01:00Z and 2026-11-26T23:30Z: their local dates say the opposite.
            created: &["2026-11-26T22:00:00-03:00", "2026-11-27T01:30:00+02:00"],
            expected: &[&["newest successful", "daily 2026-11-27"], &["daily 2026-11-26"]],
        },
        Case {
            name: "the leap day is a day of its own",
            policy: keep().keep_daily(9),
            created: &[
                "2024-03-01T00:00:00Z",
                "2024-02-29T12:00:00Z",
                "2024-02-29T00:00:00Z",
                "2024-02-28T23:59:59Z",
            ],
            expected: &[
                &["newest successful", "daily 2024-03-01"],
                &["daily 2024-02-29"],
                &[],
                &["daily 2024-02-28"],
            ],
        },
    ]);
}

#[test]
fn weekly_periods_are_iso_weeks() {
    check(vec![
        Case {
            name: "2026-12-31 and 2027-01-01 are both in 2026-W53; 2027-W01 starts Monday 4 January",
            policy: keep().keep_weekly(9),
            created: &[
                "2027-01-04T00:00:00Z",
                "2027-01-03T23:59:59Z",
                "2027-01-01T12:00:00Z",
                "2026-12-31T12:00:00Z",
                "2026-12-28T00:00:00Z",
                "2026-12-27T23:59:59Z",
            ],
            expected: &[
                &["newest successful", "weekly 2027-W01"],
                &["weekly 2026-W53"],
                &[],
                &[],
                &[],
                &["weekly 2026-W52"],
            ],
        },
        Case {
            name: "2020-12-31 is in 2020-W53, and 2019-12-30 already in 2020-W01",
            policy: keep().keep_weekly(9),
            created: &[
                "2021-01-04T00:00:00Z",
                "2021-01-01T00:00:00Z",
                "2020-12-31T00:00:00Z",
                "2019-12-30T00:00:00Z",
                "2019-12-29T23:59:59Z",
            ],
            expected: &[
                &["newest successful", "weekly 2021-W01"],
                &["weekly 2020-W53"],
                &[],
                &["weekly 2020-W01"],
                &["weekly 2019-W52"],
            ],
        },
    ]);
}

#[test]
fn monthly_and_yearly_periods_end_on_their_last_day() {
    check(vec![
        Case {
            name: "February ends on the 29th in a leap year",
            policy: keep().keep_monthly(9),
            created: &[
                "2024-03-01T00:00:00Z",
                "2024-02-29T23:59:59Z",
                "2024-02-01T00:00:00Z",
                "2024-01-31T23:59:59Z",
            ],
            expected: &[
                &["newest successful", "monthly 2024-03"],
                &["monthly 2024-02"],
                &[],
                &["monthly 2024-01"],
            ],
        },
        Case {
            name: "a month of 30 days",
            policy: keep().keep_monthly(9),
            created: &["2026-05-01T00:00:00Z", "2026-04-30T23:59:59Z", "2026-04-01T00:00:00Z"],
            expected: &[&["newest successful", "monthly 2026-05"], &["monthly 2026-04"], &[]],
        },
        Case {
            name: "a year ends at midnight UTC on 31 December",
            policy: keep().keep_yearly(9),
            created: &[
                "2027-01-01T00:00:00Z",
                "2026-12-31T23:59:59Z",
                "2026-01-01T00:00:00Z",
                "2025-12-31T23:59:59Z",
            ],
            expected: &[&["newest successful", "yearly 2027"], &["yearly 2026"], &[], &["yearly 2025"]],
        },
    ]);
}

#[test]
fn counts_limit_periods_and_leftover_counts_keep_nothing_more() {
    check(vec![
        Case {
            name: "keep-daily 2 keeps the two newest days",
            policy: keep().keep_daily(2),
            created: &["2026-11-27T10:00:00Z", "2026-11-26T10:00:00Z", "2026-11-25T10:00:00Z"],
            expected: &[&["newest successful", "daily 2026-11-27"], &["daily 2026-11-26"], &[]],
        },
        Case {
            name: "days without a backup are skipped, not counted",
            policy: keep().keep_daily(2),
            created: &["2026-11-27T10:00:00Z", "2026-11-20T10:00:00Z", "2026-11-10T10:00:00Z"],
            expected: &[&["newest successful", "daily 2026-11-27"], &["daily 2026-11-20"], &[]],
        },
        Case {
            // restic 0.14 and later would also keep the oldest backup here.
            name: "counts left over do not keep the oldest backup",
            policy: keep().keep_daily(10).keep_last(5),
            created: &["2026-11-27T10:00:00Z", "2026-11-27T09:00:00Z", "2026-11-27T08:00:00Z"],
            expected: &[&["newest successful", "last 1", "daily 2026-11-27"], &["last 2"], &["last 3"]],
        },
        Case {
            name: "keep-last counts the newest successful backups",
            policy: keep().keep_last(2),
            created: &["2026-11-27T10:00:00Z", "2026-11-27T09:00:00Z", "2026-11-27T08:00:00Z"],
            expected: &[&["newest successful", "last 1"], &["last 2"], &[]],
        },
    ]);
}

#[test]
fn keep_within_is_strictly_after_the_newest_minus_the_duration() {
    check(vec![
        Case {
            name: "exactly the duration before the newest is out",
            policy: keep().keep_within(HOUR),
            created: &["2026-11-27T10:00:00Z", "2026-11-27T09:00:01Z", "2026-11-27T09:00:00Z"],
            expected: &[&["newest successful", "within 1h of newest"], &["within 1h of newest"], &[]],
        },
        Case {
            name: "relative to the newest backup, not to now: old backups are not all lost",
            policy: keep().keep_within(2 * DAY),
            created: &["2020-03-05T00:00:00Z", "2020-03-03T12:00:00Z", "2020-03-03T00:00:00Z"],
            expected: &[&["newest successful", "within 2d of newest"], &["within 2d of newest"], &[]],
        },
        Case {
            name: "a duration beyond any date keeps everything",
            policy: keep().keep_within(Duration::MAX),
            created: &["2026-11-27T10:00:00Z", "1970-01-01T00:00:00Z"],
            expected: &[
                &["newest successful", "within 213503982334601d7h15s999ms of newest"],
                &["within 213503982334601d7h15s999ms of newest"],
            ],
        },
    ]);
}

#[test]
fn rules_combine_and_every_reason_is_given() {
    check(vec![Case {
        name: "a backup is kept when any rule keeps it",
        policy: keep().keep_last(1).keep_daily(2).keep_weekly(2).keep_monthly(2),
        created: &[
            "2026-11-27T10:00:00Z",
            "2026-11-27T08:00:00Z",
            "2026-11-26T10:00:00Z",
            "2026-11-20T10:00:00Z",
            "2026-10-15T10:00:00Z",
        ],
        expected: &[
            &["newest successful", "last 1", "daily 2026-11-27", "weekly 2026-W48", "monthly 2026-11"],
            &[],
            &["daily 2026-11-26"],
            &["weekly 2026-W47"],
            &["monthly 2026-10"],
        ],
    }]);
}

/// Newest first: one of each outcome, the successful ones at 10:00 and 05:00.
fn every_outcome() -> Vec<qovery_backups::Backup> {
    vec![
        backup(2, "2026-11-27T12:00:00Z", Some("QUEUED")),
        backup(3, "2026-11-27T11:50:00Z", Some("ONGOING")),
        backup(4, "2026-11-27T11:40:00Z", Some("EXECUTING")),
        backup(5, "2026-11-27T11:30:00Z", Some("CANCELING")),
        backup(6, "2026-11-27T11:20:00Z", Some("NEVER")),
        backup(7, "2026-11-27T11:10:00Z", Some("SOMETHING_QOVERY_ADDS_LATER")),
        backup(8, "2026-11-27T11:00:00Z", None),
        successful(1, "2026-11-27T10:00:00Z"),
        backup(9, "2026-11-27T09:00:00Z", Some("ERROR")),
        backup(10, "2026-11-27T08:00:00Z", Some("CANCELED")),
        successful(11, "2026-11-27T05:00:00Z"),
    ]
}

#[test]
fn backups_not_in_a_final_status_are_always_kept() {
    let policy = keep().keep_last(1).delete_failed(true).build().unwrap();
    let plan = decide(&policy, &every_outcome(), crate::support::NOW).unwrap();
    for id in 2..=8 {
        assert_eq!(reasons(&plan, id), ["in progress"], "backup {id}");
    }
    assert_eq!(reasons(&plan, 1), ["newest successful", "last 1"], "newer in-progress backups do not count");
    assert_eq!(deleted(&plan), [9, 10, 11]);
    let verdict = |id| &plan.decision(Uuid::from_u128(id)).unwrap().verdict;
    assert_eq!(verdict(9), &Verdict::Delete(DeleteReason::Failed));
    assert_eq!(verdict(10), &Verdict::Delete(DeleteReason::Failed));
    assert_eq!(verdict(11), &Verdict::Delete(DeleteReason::NotKept));
}

#[test]
fn failed_backups_are_kept_unless_delete_failed() {
    let policy = keep().keep_last(1).build().unwrap();
    let plan = decide(&policy, &every_outcome(), crate::support::NOW).unwrap();
    assert_eq!(reasons(&plan, 9), ["failed (kept)"]);
    assert_eq!(reasons(&plan, 10), ["failed (kept)"]);
    assert_eq!(deleted(&plan), [11]);
}

#[test]
fn keep_within_counts_from_the_newest_successful_backup() {
    let backups = vec![
        backup(1, "2026-11-27T20:00:00Z", Some("QUEUED")),
        backup(2, "2026-11-27T18:00:00Z", Some("ERROR")),
        successful(3, "2026-11-27T10:00:00Z"),
        successful(4, "2026-11-27T09:30:00Z"),
        successful(5, "2026-11-27T08:30:00Z"),
    ];
    let plan = decide(&keep().keep_within(HOUR).build().unwrap(), &backups, crate::support::NOW).unwrap();
    assert_eq!(reasons(&plan, 3), ["newest successful", "within 1h of newest"]);
    assert_eq!(reasons(&plan, 4), ["within 1h of newest"]);
    assert_eq!(deleted(&plan), [5]);
}

#[test]
fn without_a_successful_backup_only_failed_ones_can_go() {
    let backups = vec![
        backup(1, "2026-11-27T12:00:00Z", Some("ONGOING")),
        backup(2, "2026-11-27T11:00:00Z", Some("ERROR")),
        backup(3, "2026-11-27T10:00:00Z", None),
    ];
    let kept_failed = decide(&keep().keep_last(3).build().unwrap(), &backups, crate::support::NOW).unwrap();
    assert_eq!(kept_failed.delete_count(), 0);
    let deleting_failed =
        decide(&keep().keep_last(3).delete_failed(true).build().unwrap(), &backups, crate::support::NOW)
            .unwrap();
    assert_eq!(deleted(&deleting_failed), [2]);
}

#[test]
fn plan_is_newest_first_whatever_the_input_order() {
    let backups = vec![
        successful(2, "2026-11-25T10:00:00Z"),
        successful(4, "2026-11-27T10:00:00Z"),
        successful(1, "2026-11-26T10:00:00Z"),
        // Created at the same instant as 4: the higher id comes first.
        successful(5, "2026-11-27T10:00:00Z"),
    ];
    let plan = decide(&keep().keep_last(2).build().unwrap(), &backups, crate::support::NOW).unwrap();
    let order: Vec<u128> = plan.decisions().iter().map(|d| d.backup.id.as_u128()).collect();
    assert_eq!(order, [5, 4, 1, 2]);
    assert_eq!((plan.len(), plan.keep_count(), plan.delete_count()), (4, 2, 2));
    assert_eq!(plan.to_keep().map(|b| b.id.as_u128()).collect::<Vec<_>>(), [5, 4]);
    assert_eq!(deleted(&plan), [1, 2]);
}

#[test]
fn a_repeated_id_is_planned_once_so_it_is_never_both_kept_and_deleted() {
    let twice = successful(1, "2026-11-27T10:00:00Z");
    let backups = vec![twice.clone(), successful(2, "2026-11-26T10:00:00Z"), twice];
    let plan = decide(&keep().keep_last(1).build().unwrap(), &backups, crate::support::NOW).unwrap();
    assert_eq!(plan.len(), 2);
    assert_eq!(deleted(&plan), [2]);
}

#[test]
fn a_count_of_zero_is_refused_with_the_rule_it_concerns() {
    type SetZero = fn(RetentionPolicyBuilder) -> RetentionPolicyBuilder;
    let zero: [(KeepRule, SetZero); 6] = [
        (KeepRule::Last, |b| b.keep_last(0)),
        (KeepRule::Hourly, |b| b.keep_hourly(0)),
        (KeepRule::Daily, |b| b.keep_daily(0)),
        (KeepRule::Weekly, |b| b.keep_weekly(0)),
        (KeepRule::Monthly, |b| b.keep_monthly(0)),
        (KeepRule::Yearly, |b| b.keep_yearly(0)),
    ];
    for (rule, set_zero) in zero {
        // Even next to a valid rule: a 0 is a mistake, not "this rule off".
        let error = set_zero(keep().keep_within(DAY)).build().unwrap_err();
        assert_eq!(error, PolicyError::ZeroCount { rule });
        let message = error.to_string();
        assert_eq!(message, format!("{rule} 0 would keep nothing"), "the problem only");
        assert!(error.hint().contains("at least 1"), "the remedy is the hint's: {}", error.hint());
    }
    let error = keep().keep_last(2).keep_within(Duration::ZERO).build().unwrap_err();
    assert_eq!(error, PolicyError::ZeroWithin);
    assert!(!error.to_string().contains("above zero"), "{error}");
    assert!(error.hint().contains("above zero"), "{}", error.hint());
}

#[test]
fn keep_by_rule_is_the_named_setter_of_that_rule_and_no_other() {
    type Named = fn(RetentionPolicyBuilder, usize) -> RetentionPolicyBuilder;
    let named: [(KeepRule, Named); 6] = [
        (KeepRule::Last, RetentionPolicyBuilder::keep_last),
        (KeepRule::Hourly, RetentionPolicyBuilder::keep_hourly),
        (KeepRule::Daily, RetentionPolicyBuilder::keep_daily),
        (KeepRule::Weekly, RetentionPolicyBuilder::keep_weekly),
        (KeepRule::Monthly, RetentionPolicyBuilder::keep_monthly),
        (KeepRule::Yearly, RetentionPolicyBuilder::keep_yearly),
    ];
    assert_eq!(named.map(|(rule, _)| rule), KeepRule::COUNTED, "every counting rule, in restic's order");
    for (rule, set) in named {
        let by_rule = keep().keep(rule, 3).build().unwrap();
        assert_eq!(by_rule, set(keep(), 3).build().unwrap(), "{rule}");
        assert_eq!(by_rule.to_string(), format!("{rule} 3"));
        for other in KeepRule::COUNTED {
            assert_eq!(by_rule.keep_count(other), (other == rule).then_some(3), "{rule} sets {other}");
        }
        // The last value set wins, whichever way it was set.
        assert_eq!(set(keep().keep(rule, 9), 2).build().unwrap().keep_count(rule), Some(2));
    }
}

#[test]
#[should_panic(expected = "keep-within takes a duration")]
fn keep_within_given_a_count_is_a_programming_error() {
    let _ = keep().keep(KeepRule::Within, 3);
}

#[test]
fn each_period_rule_buckets_by_periods_that_name_it() {
    let at: chrono::DateTime<chrono::Utc> = "2026-12-31T23:59:59Z".parse().unwrap();
    for rule in KeepRule::COUNTED {
        match rule.period_of(at) {
            Some(period) => assert_eq!(period.rule(), rule, "{period}"),
            None => assert_eq!(rule, KeepRule::Last, "only keep-last counts backups, not periods"),
        }
    }
    assert_eq!(KeepRule::Within.period_of(at), None);
    assert_eq!(KeepRule::Monthly.period_of(at).unwrap().to_string(), "2026-12");
    assert_eq!(KeepRule::Weekly.period_of(at).unwrap().to_string(), "2026-W53");
}

#[test]
fn a_policy_without_keep_rules_is_refused_not_read_as_delete_everything() {
    for builder in [keep(), keep().delete_failed(true)] {
        let error = builder.build().unwrap_err();
        assert_eq!(error, PolicyError::NoKeepRule);
        let message = error.to_string();
        assert!(message.contains("no keep rule") && !message.contains("keep-last"), "{message}");
        assert!(error.hint().contains("keep-last"), "{}", error.hint());
    }
}

#[test]
fn policies_and_reasons_display_as_operators_read_them() {
    let policy = keep()
        .keep_last(3)
        .keep_hourly(24)
        .keep_daily(7)
        .keep_weekly(4)
        .keep_monthly(12)
        .keep_yearly(2)
        .keep_within(DAY + 12 * HOUR)
        .delete_failed(true)
        .build()
        .unwrap();
    assert_eq!(
        policy.to_string(),
        "keep-last 3, keep-hourly 24, keep-daily 7, keep-weekly 4, keep-monthly 12, keep-yearly 2, \
         keep-within 1d12h, delete-failed"
    );

    let day = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    let displayed = [
        (Reason::Period(Period::Day(day)), "daily 2026-11-27"),
        (Reason::Period(Period::Hour { date: day, hour: 13 }), "hourly 2026-11-27T13"),
        (Reason::Period(Period::Week(day.iso_week())), "weekly 2026-W48"),
        (Reason::Period(Period::Month { year: 2026, month: 11 }), "monthly 2026-11"),
        (Reason::Period(Period::Year(2026)), "yearly 2026"),
        (Reason::Last { rank: 3 }, "last 3"),
        (Reason::Within(7 * DAY), "within 7d of newest"),
        (Reason::Within(90 * 60 * Duration::from_secs(1)), "within 1h30m of newest"),
        (Reason::NewestSuccessful, "newest successful"),
        (Reason::InProgress, "in progress"),
        (Reason::FailedKept, "failed (kept)"),
    ];
    for (reason, text) in displayed {
        assert_eq!(reason.to_string(), text);
    }
    let first_week = NaiveDate::from_ymd_opt(2027, 1, 5).unwrap().iso_week();
    assert_eq!(Period::Week(first_week).to_string(), "2027-W01", "weeks are zero-padded");
}

#[test]
fn a_backup_dated_past_the_clock_skew_allowance_refuses_the_whole_plan() {
    let now: chrono::DateTime<chrono::Utc> = "2026-11-28T00:00:00Z".parse().unwrap();
    let policy = keep().keep_daily(7).build().unwrap();
    let nights: Vec<_> =
        (1..=27).map(|day| successful(day, &format!("2026-11-{day:02}T03:00:00Z"))).collect();

    let within_skew = [nights.clone(), vec![successful(100, "2026-11-28T00:05:00Z")]].concat();
    assert!(decide(&policy, &within_skew, now).is_ok(), "five minutes ahead is clock skew");

    for (claimed, failed) in [("2026-11-28T00:05:01Z", false), ("9999-12-31T23:59:59Z", true)] {
        let outcome = if failed { "ERROR" } else { "SUCCESS" };
        let future = [nights.clone(), vec![backup(100, claimed, Some(outcome))]].concat();
        let refusal = decide(&policy, &future, now).unwrap_err();
        let qovery_backups::Refusal::FutureDated { backup_id, created_at, now: at } = refusal else {
            panic!("{refusal:?}")
        };
        assert_eq!(
            (backup_id, created_at.to_rfc3339(), at),
            (
                Uuid::from_u128(100),
                claimed.parse::<chrono::DateTime<chrono::Utc>>().unwrap().to_rfc3339(),
                now
            )
        );
    }
}
