//! Pruning over real HTTP against the mock: a dry run deletes nothing, a prune deletes exactly
//! the plan, lost answers do not change that, and a listing that fails deletes nothing at all.
//! Paused tokio time: retry backoffs take no real time.

use std::collections::BTreeSet;

use chrono::{DateTime, TimeDelta, Utc};
use qovery_backups::{Backup, Error, Operation, RetentionPolicy, decide};
use qovery_backups_mock::{Fault, FaultPlan, MockServer};
use uuid::Uuid;

use crate::common::{client, mock, policy, server_ids};
use crate::support::backup;

/// 45 nightly successful backups (ids 1 to 45, newest first), one running backup newer than
/// all of them, and a failed one in between: three pages of 20.
fn nightly_backups() -> Vec<Backup> {
    let newest: DateTime<Utc> = "2026-11-27T03:00:00Z".parse().unwrap();
    let mut backups: Vec<Backup> = (0..45u32)
        .map(|night| {
            let created = newest - TimeDelta::days(i64::from(night));
            backup(u128::from(night) + 1, &created.to_rfc3339(), Some("SUCCESS"))
        })
        .collect();
    backups.push(backup(100, "2026-11-27T09:00:00Z", Some("ONGOING")));
    backups.push(backup(101, "2026-11-20T04:00:00Z", Some("ERROR")));
    backups
}

fn retention() -> RetentionPolicy {
    RetentionPolicy::builder().keep_daily(7).keep_weekly(4).keep_monthly(2).build().unwrap()
}

/// A mock holding the nightly backups in one database, and that database's id.
async fn database() -> (MockServer, Uuid) {
    let server = mock(vec![], FaultPlan::none()).await;
    let database_id = server.add_database_with(nightly_backups()).unwrap();
    (server, database_id)
}

fn deletes_received(server: &MockServer) -> usize {
    server.requests().iter().filter(|r| r.method.as_str() == "DELETE").count()
}

fn id_set<'a>(backups: impl IntoIterator<Item = &'a Backup>) -> BTreeSet<Uuid> {
    backups.into_iter().map(|b| b.id).collect()
}

/// What the planner decides for the database as it is now.
fn expected_plan(server: &MockServer, database_id: Uuid) -> qovery_backups::Plan {
    decide(&retention(), &server.backups(database_id), qovery_backups::Utc::now()).unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_plan_deletes_nothing_until_applied_and_then_exactly_itself() {
    let (server, database_id) = database().await;
    let before = server_ids(&server, database_id);
    let expected = expected_plan(&server, database_id);

    let planned =
        client(&server, policy(3)).backups(database_id).prune(&retention()).prepare().await.unwrap();
    assert_eq!(planned.plan(), &expected);
    assert_eq!(planned.database_id(), database_id);
    assert!(!planned.is_dry_run());
    assert_eq!(deletes_received(&server), 0, "planning deletes nothing");
    assert_eq!(server_ids(&server, database_id), before);

    let report = planned.apply().await;
    assert!(!report.is_dry_run() && report.is_complete());
    assert_eq!(id_set(report.deleted()), id_set(expected.to_delete()));
    assert_eq!(deletes_received(&server), expected.delete_count());
    assert_eq!(
        server_ids(&server, database_id).into_iter().collect::<BTreeSet<_>>(),
        id_set(expected.to_keep())
    );
}

#[tokio::test(start_paused = true)]
async fn a_planned_backup_someone_else_deleted_first_counts_as_deleted() {
    let (server, database_id) = database().await;
    let expected = expected_plan(&server, database_id);
    let planned =
        client(&server, policy(3)).backups(database_id).prune(&retention()).prepare().await.unwrap();
    // Another prune gets to the oldest planned backup between this one's listing and its delete.
    let taken = expected.to_delete().last().unwrap().id;
    assert!(server.remove_backup(database_id, taken));

    let report = planned.apply().await;
    assert!(report.is_complete(), "{:?}", report.failed());
    assert_eq!(id_set(report.deleted()), id_set(expected.to_delete()));
    assert_eq!(
        server_ids(&server, database_id).into_iter().collect::<BTreeSet<_>>(),
        id_set(expected.to_keep())
    );
}

#[tokio::test(start_paused = true)]
async fn dry_run_deletes_nothing_and_reports_the_plan() {
    let (server, database_id) = database().await;
    let before = server_ids(&server, database_id);
    let expected = expected_plan(&server, database_id);

    let report = client(&server, policy(3))
        .backups(database_id)
        .prune(&retention())
        .dry_run(true)
        .send()
        .await
        .unwrap();

    assert!(report.is_dry_run());
    assert_eq!(report.plan(), &expected);
    assert!(report.plan().delete_count() > 20, "the policy has something to delete");
    assert!(report.deleted().is_empty() && report.failed().is_empty() && report.is_complete());
    assert_eq!(deletes_received(&server), 0);
    assert_eq!(server_ids(&server, database_id), before);
    assert_eq!(
        report.to_string(),
        format!(
            "dry run on database {database_id}: would delete {}, keep {}",
            expected.delete_count(),
            expected.keep_count()
        )
    );
}

/// `dry_run` holds when the prune is taken in two steps too: applying a dry run's plan
/// deletes nothing (it once deleted the whole plan, `plan()` ignoring `dry_run`).
#[tokio::test(start_paused = true)]
async fn a_dry_run_taken_in_two_steps_deletes_nothing_when_applied() {
    let (server, database_id) = database().await;
    let before = server_ids(&server, database_id);
    let expected = expected_plan(&server, database_id);

    let planned = client(&server, policy(3))
        .backups(database_id)
        .prune(&retention())
        .dry_run(true)
        .prepare()
        .await
        .unwrap();
    assert!(planned.is_dry_run());
    assert_eq!(planned.plan(), &expected);
    let report = planned.apply().await;

    assert!(report.is_dry_run() && report.deleted().is_empty() && report.is_complete());
    assert_eq!(report.plan(), &expected);
    assert_eq!(deletes_received(&server), 0);
    assert_eq!(server_ids(&server, database_id), before);
}

#[tokio::test(start_paused = true)]
async fn prune_deletes_exactly_the_planned_backups_oldest_first() {
    let (server, database_id) = database().await;
    let expected = expected_plan(&server, database_id);

    let report = client(&server, policy(3)).backups(database_id).prune(&retention()).send().await.unwrap();

    let planned_keep: Vec<Uuid> = expected.to_keep().map(|b| b.id).collect();
    assert_eq!(server_ids(&server, database_id), planned_keep, "exactly the kept backups remain");
    let deleted: Vec<Uuid> = report.deleted().iter().map(|b| b.id).collect();
    let oldest_first: Vec<Uuid> = expected.to_delete().rev().map(|b| b.id).collect();
    assert_eq!(deleted, oldest_first);
    assert!(report.failed().is_empty() && report.is_complete());
    assert_eq!(id_set(report.kept()), id_set(expected.to_keep()));
    assert_eq!(deletes_received(&server), expected.delete_count(), "one DELETE per planned backup");
    // The running backup and the failed one are untouched.
    for id in [100, 101] {
        assert!(server_ids(&server, database_id).contains(&Uuid::from_u128(id)), "backup {id}");
    }
    assert_eq!(
        report.to_string(),
        format!(
            "pruned database {database_id}: deleted {}, failed 0, kept {}",
            deleted.len(),
            planned_keep.len()
        )
    );

    let again = client(&server, policy(3)).backups(database_id).prune(&retention()).send().await.unwrap();
    assert_eq!(again.plan().delete_count(), 0, "a second prune finds nothing more to delete");
}

#[tokio::test(start_paused = true)]
async fn deletes_whose_answers_are_lost_are_reported_as_deleted() {
    let (server, database_id) = database().await;
    let expected = expected_plan(&server, database_id);
    // Every other request, about, is applied and its answer lost; a retry of a lost DELETE
    // gets 404, which after a possibly applied attempt means done.
    server.set_faults(FaultPlan::none().with_probability(0.5).with_kinds([Fault::Lost]).with_seed(11));

    let report = client(&server, policy(6)).backups(database_id).prune(&retention()).send().await.unwrap();

    let lost_deletes = server
        .requests()
        .iter()
        .filter(|r| r.method.as_str() == "DELETE" && r.fault == Some(Fault::Lost))
        .count();
    assert!(lost_deletes >= 5, "the faults hit deletes: {lost_deletes}");
    assert!(report.failed().is_empty(), "{:?}", report.failed());
    assert_eq!(id_set(report.deleted()), id_set(expected.to_delete()));
    assert_eq!(server_ids(&server, database_id), expected.to_keep().map(|b| b.id).collect::<Vec<_>>());
}

#[tokio::test(start_paused = true)]
async fn a_failed_delete_does_not_stop_the_others_and_is_reported() {
    let (server, database_id) = database().await;
    let expected = expected_plan(&server, database_id);
    // Requests 1 to 3 list the three pages; 4 deletes the oldest, 5 the next: refused.
    server.set_faults(FaultPlan::none().at(5, Fault::Status(403)));

    let report = client(&server, policy(3)).backups(database_id).prune(&retention()).send().await.unwrap();

    let requests = server.requests();
    assert!(requests[..3].iter().all(|r| r.method.as_str() == "GET"), "the listing took three requests");
    let oldest_first: Vec<Uuid> = expected.to_delete().rev().map(|b| b.id).collect();
    assert_eq!(report.failed().len(), 1);
    let failure = &report.failed()[0];
    assert_eq!(failure.backup.id, oldest_first[1]);
    assert_eq!(failure.error.status().map(|s| s.as_u16()), Some(403));
    assert!(!report.is_complete());
    assert_eq!(report.deleted().len(), oldest_first.len() - 1, "every other planned delete happened");
    let mut remaining: Vec<Uuid> = expected.to_keep().map(|b| b.id).collect();
    remaining.push(failure.backup.id);
    assert_eq!(id_set(server.backups(database_id).iter()), remaining.into_iter().collect());
}

#[tokio::test(start_paused = true)]
async fn a_listing_that_fails_part_way_deletes_nothing() {
    let server_error_beyond_retries =
        FaultPlan::none().at(2, Fault::Status(500)).at(3, Fault::Status(500)).at(4, Fault::Status(500));
    let cases = [
        // Not a 400: a 400 on a page asked with a cursor is healed from an earlier backup.
        ("a 403 on page 2", FaultPlan::none().at(2, Fault::Status(403))),
        ("a 500 on page 2, three attempts in a row", server_error_beyond_retries),
    ];
    for (name, faults) in cases {
        let (server, database_id) = database().await;
        let before = server_ids(&server, database_id);
        server.set_faults(faults);

        let error: Error =
            client(&server, policy(3)).backups(database_id).prune(&retention()).send().await.unwrap_err();

        assert!(
            matches!(error.operation(), Some(Operation::List { after: Some(_), .. })),
            "{name}: the listing was interrupted after its first page: {error}"
        );
        assert_eq!(deletes_received(&server), 0, "{name}");
        assert_eq!(server_ids(&server, database_id), before, "{name}");
    }
}

/// The setup that fooled `prune --keep-within 7d` into deleting every real backup: 45 real
/// nightlies and one successful backup dated 2099. Nothing may be planned, nothing deleted.
#[tokio::test(start_paused = true)]
async fn a_backup_dated_in_the_future_makes_the_prune_refuse_and_delete_nothing() {
    let (server, database_id) = database().await;
    let future = backup(200, "2099-01-01T00:00:00Z", Some("SUCCESS"));
    server.insert_backup(database_id, future).unwrap();
    let before = server_ids(&server, database_id);
    let within_a_week =
        RetentionPolicy::builder().keep_within(std::time::Duration::from_secs(7 * 86_400)).build().unwrap();

    for policy_ in [within_a_week, retention()] {
        let error = client(&server, policy(3)).backups(database_id).prune(&policy_).send().await.unwrap_err();
        let Error::PruneRefused {
            refusal: qovery_backups::Refusal::FutureDated { backup_id, created_at, .. },
            ..
        } = &error
        else {
            panic!("{error:?}")
        };
        assert_eq!(*backup_id, Uuid::from_u128(200));
        assert_eq!(created_at.to_rfc3339(), "2099-01-01T00:00:00+00:00");
        assert!(error.to_string().contains("2099-01-01T00:00:00Z"), "{error}");
    }
    assert_eq!(deletes_received(&server), 0);
    assert_eq!(server_ids(&server, database_id), before);
}

#[tokio::test(start_paused = true)]
async fn a_plan_deleting_more_than_max_delete_is_refused_whole() {
    let (server, database_id) = database().await;
    let planned = expected_plan(&server, database_id).delete_count();
    let client = client(&server, policy(3));

    let error =
        client.backups(database_id).prune(&retention()).max_delete(planned - 1).send().await.unwrap_err();
    let Error::PruneRefused {
        refusal: qovery_backups::Refusal::TooManyDeletes { planned: counted, max },
        ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!((*counted, *max), (planned, planned - 1));
    assert_eq!(deletes_received(&server), 0);

    // At the limit, the prune goes ahead.
    let report = client.backups(database_id).prune(&retention()).max_delete(planned).send().await.unwrap();
    assert_eq!(report.deleted().len(), planned);
}
