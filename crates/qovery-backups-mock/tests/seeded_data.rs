//! Seeded data: deterministic, realistic, and shaped as configured.

mod common;

use std::collections::HashSet;

use chrono::Datelike;

use common::{list, start};
use qovery_backups_api::types::{ServiceActionStatusEnum, StateEnum};
use qovery_backups_mock::{MockConfig, MockServer};

async fn first_page_bytes(server: &MockServer, database: usize) -> Vec<u8> {
    let id = server.database_ids()[database];
    list(server, id, None).await.unwrap().bytes().await.unwrap().to_vec()
}

fn seeded(seed: u64) -> MockConfig {
    MockConfig { seed, ..MockConfig::default() }
}

#[tokio::test]
async fn same_seed_gives_byte_identical_listings() {
    let a = start(seeded(17)).await;
    let b = start(seeded(17)).await;
    assert_eq!(a.database_ids(), b.database_ids());
    for database in 0..3 {
        assert_eq!(first_page_bytes(&a, database).await, first_page_bytes(&b, database).await);
        let id = a.database_ids()[database];
        assert_eq!(a.backups(id), b.backups(id));
    }
}

#[tokio::test]
async fn different_seeds_give_different_data() {
    let a = start(seeded(17)).await;
    let b = start(seeded(18)).await;
    assert_ne!(a.database_ids(), b.database_ids());
    assert_ne!(first_page_bytes(&a, 0).await, first_page_bytes(&b, 0).await);
}

#[tokio::test]
async fn databases_added_later_are_seeded_like_the_first_ones() {
    let three = start(seeded(5)).await;
    let two = start(MockConfig { databases: 2, ..seeded(5) }).await;
    let added = two.add_database(45);
    assert_eq!(added, three.database_ids()[2]);
    assert_eq!(two.backups(added), three.backups(added));
}

#[tokio::test]
async fn backups_per_database_sets_each_count_and_repeats_the_last() {
    let server =
        start(MockConfig { databases: 5, backups_per_database: vec![0, 1, 21], ..MockConfig::default() })
            .await;
    let counts: Vec<_> =
        server.database_ids().into_iter().map(|id| server.backup_count(id).unwrap()).collect();
    assert_eq!(counts, [0, 1, 21, 21, 21]);
}

#[tokio::test]
async fn seeded_data_looks_like_real_backups() {
    let server =
        start(MockConfig { databases: 8, backups_per_database: vec![60], seed: 3, ..MockConfig::default() })
            .await;
    let mut ids = HashSet::new();
    let mut states = Vec::new();
    for database in server.database_ids() {
        let backups = server.backups(database);
        assert!(backups.windows(2).all(|w| w[0].created_at > w[1].created_at));
        for (index, backup) in backups.iter().enumerate() {
            assert!(ids.insert(backup.id), "unique ids");
            assert!(!backup.name.is_empty() && !backup.message.is_empty());
            let status = backup.status.as_ref().expect("every seeded backup has a status");
            assert_eq!(status.is_part_last_deployment, index == 0);
            let steps = status.steps.as_ref().unwrap();
            let finished = steps.total_duration_sec.is_some();
            assert_eq!(finished, backup.updated_at.is_some());
            if index > 0 {
                assert!(finished, "only the newest can be in progress");
            }
            states.push((status.state.clone(), status.status_details.status.clone()));
        }
    }
    let count = |state: StateEnum| states.iter().filter(|(s, _)| *s == state).count();
    assert!(count(StateEnum::Deployed) > states.len() * 3 / 4, "mostly successful");
    assert!(count(StateEnum::DeploymentError) > 0, "some failed");
    assert!(
        states
            .iter()
            .filter(|(s, _)| *s == StateEnum::Deployed)
            .all(|(_, d)| *d == ServiceActionStatusEnum::Success)
    );
    assert!(
        states
            .iter()
            .filter(|(s, _)| *s == StateEnum::DeploymentError)
            .all(|(_, d)| *d == ServiceActionStatusEnum::Error)
    );
    let names: Vec<String> =
        server.database_ids().into_iter().flat_map(|id| server.backups(id)).map(|b| b.name).collect();
    assert!(names.iter().any(|n| n.starts_with("nightly-20")));
    assert!(names.iter().any(|n| n == "pre-migration"));
}

#[tokio::test]
async fn a_large_database_stays_strictly_ordered() {
    let server =
        start(MockConfig { databases: 1, backups_per_database: vec![20_000], ..MockConfig::default() }).await;
    let id = server.database_ids()[0];
    let backups = server.backups(id);
    assert_eq!(backups.len(), 20_000);
    assert!(backups.windows(2).all(|w| w[0].created_at > w[1].created_at));
    assert!(backups.last().unwrap().created_at.year() >= 2024, "within the last two years");
}

fn retention(seed: u64) -> MockConfig {
    MockConfig {
        databases: 8,
        backups_per_database: vec![60],
        history: qovery_backups_mock::History::Retention,
        seed,
        ..MockConfig::default()
    }
}

#[tokio::test]
async fn a_retention_history_spans_hours_to_years_with_failed_canceled_and_unfinished_backups() {
    let server = start(retention(4)).await;
    let mut outcomes = Vec::new();
    for database in server.database_ids() {
        let backups = server.backups(database);
        assert!(backups.windows(2).all(|w| w[0].created_at > w[1].created_at));
        let newest = backups[0].created_at;
        let age = |i: usize| newest - backups[i].created_at;
        assert!(age(1) < chrono::Duration::hours(2), "the second newest is hours old");
        assert!(age(backups.len() - 1) > chrono::Duration::days(5 * 365), "the oldest is years old");
        // Several backups in some day, week, month and year, to be told apart by retention rules.
        let years: HashSet<i32> = backups.iter().map(|b| b.created_at.year()).collect();
        assert!(years.len() >= 5, "{years:?}");
        for backup in &backups {
            let status = backup.status.as_ref().unwrap();
            let finished = status.steps.as_ref().unwrap().total_duration_sec.is_some();
            assert_eq!(finished, backup.updated_at.is_some());
            outcomes.push((status.status_details.status.clone(), finished));
        }
    }
    let count = |s: ServiceActionStatusEnum| outcomes.iter().filter(|(o, _)| *o == s).count();
    assert!(count(ServiceActionStatusEnum::Success) > outcomes.len() * 3 / 4, "mostly successful");
    assert!(count(ServiceActionStatusEnum::Error) > 0);
    assert!(count(ServiceActionStatusEnum::Canceled) > 0);
    let unfinished = outcomes.iter().filter(|(_, finished)| !finished).count();
    assert!(unfinished > 3, "unfinished backups, not only the newest ones: {unfinished}");
    assert!(
        outcomes
            .iter()
            .filter(|(_, finished)| !finished)
            .all(|(o, _)| matches!(o, ServiceActionStatusEnum::Queued | ServiceActionStatusEnum::Ongoing))
    );
}

#[tokio::test]
async fn a_retention_history_is_the_same_for_the_same_seed() {
    let a = start(retention(9)).await;
    let b = start(retention(9)).await;
    for database in 0..8 {
        assert_eq!(first_page_bytes(&a, database).await, first_page_bytes(&b, database).await);
    }
    let c = start(retention(10)).await;
    assert_ne!(first_page_bytes(&a, 0).await, first_page_bytes(&c, 0).await);
}

#[tokio::test]
async fn the_default_history_is_unchanged_by_the_retention_option() {
    // The nightly history must stay what it was for every seed: only the retention one draws more.
    let nightly = start(seeded(4)).await;
    let id = nightly.database_ids()[0];
    let backups = nightly.backups(id);
    let gaps: Vec<i64> =
        backups.windows(2).map(|w| (w[0].created_at - w[1].created_at).num_hours()).collect();
    assert!(gaps.iter().all(|h| (17..=31).contains(h)), "about a day apart: {gaps:?}");
}
