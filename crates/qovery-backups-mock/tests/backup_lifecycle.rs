//! A created backup goes `QUEUED` → `ONGOING` → final on tokio's clock, ends as the outcome rules
//! say, and can vanish while a client waits for it.

mod common;

use std::time::Duration;

use common::{create, list, start};
use qovery_backups_api::types::{
    Backup, BackupPaginatedResponseList, ServiceActionStatusEnum, ServiceDeploymentStatusEnum, StateEnum,
};
use qovery_backups_mock::{Lifecycle, MockConfig, MockServer, Outcomes};
use serde_json::json;
use uuid::Uuid;

const QUEUED: Duration = Duration::from_secs(5);
const ONGOING: Duration = Duration::from_secs(60);

fn slow_lifecycle() -> MockConfig {
    MockConfig { lifecycle: Lifecycle { queued: QUEUED, ongoing: ONGOING }, ..MockConfig::default() }
}

async fn create_named(server: &MockServer, database: Uuid, name: &str) -> Backup {
    let response = create(server, database, &json!({"name": name, "message": "m"})).await.unwrap();
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

/// The backup as the listing's first page shows it, over HTTP.
async fn listed(server: &MockServer, database: Uuid, id: Uuid) -> Option<Backup> {
    let page: BackupPaginatedResponseList = list(server, database, None).await.unwrap().json().await.unwrap();
    page.results.into_iter().find(|b| b.id == id)
}

fn action_status(backup: &Backup) -> ServiceActionStatusEnum {
    backup.status.as_ref().unwrap().status_details.status.clone()
}

#[tokio::test(start_paused = true)]
async fn a_created_backup_is_queued_then_ongoing_then_successful_as_the_clock_moves() {
    let server = start(slow_lifecycle()).await;
    let database = server.database_ids()[0];
    let created = create_named(&server, database, "nightly").await;
    assert_eq!(action_status(&created), ServiceActionStatusEnum::Queued);

    tokio::time::advance(QUEUED - Duration::from_millis(1)).await;
    let still_queued = listed(&server, database, created.id).await.unwrap();
    assert_eq!(still_queued, created, "unchanged while queued");

    tokio::time::advance(Duration::from_millis(1)).await;
    let ongoing = listed(&server, database, created.id).await.unwrap();
    assert_eq!(action_status(&ongoing), ServiceActionStatusEnum::Ongoing);
    let status = ongoing.status.as_ref().unwrap();
    assert_eq!(status.state, StateEnum::Deploying);
    assert_eq!(ongoing.updated_at, status.last_deployment_date);
    assert!(ongoing.updated_at.unwrap() > created.created_at);
    let steps = status.steps.as_ref().unwrap();
    assert_eq!((steps.total_duration_sec, steps.details.len()), (None, 1));

    tokio::time::advance(ONGOING).await;
    let done = listed(&server, database, created.id).await.unwrap();
    assert_eq!(action_status(&done), ServiceActionStatusEnum::Success);
    let status = done.status.as_ref().unwrap();
    assert_eq!(status.state, StateEnum::Deployed);
    assert_eq!(status.service_deployment_status, ServiceDeploymentStatusEnum::UpToDate);
    let steps = status.steps.as_ref().unwrap();
    assert_eq!(steps.total_duration_sec, Some(65));
    assert_eq!(steps.total_computing_duration_sec, 60);
    assert_eq!(done.updated_at.unwrap() - done.created_at, chrono::Duration::seconds(65));
    // What does not change in a backup's life.
    assert_eq!(
        (done.id, &done.name, &done.message, done.created_at),
        (created.id, &created.name, &created.message, created.created_at)
    );
    assert_eq!(server.backup(database, created.id), Some(done));
}

#[tokio::test(start_paused = true)]
async fn the_default_lifecycle_answers_queued_then_is_final_at_once() {
    let server = start(MockConfig::default()).await;
    let database = server.database_ids()[0];
    let created = create_named(&server, database, "n").await;
    assert_eq!(action_status(&created), ServiceActionStatusEnum::Queued);
    let listed = listed(&server, database, created.id).await.unwrap();
    assert_eq!(action_status(&listed), ServiceActionStatusEnum::Success);
}

#[tokio::test(start_paused = true)]
async fn queued_outcomes_end_the_next_backups_in_order() {
    let server = start(slow_lifecycle()).await;
    let database = server.database_ids()[0];
    server.push_outcome(ServiceActionStatusEnum::Error);
    server.push_outcome(ServiceActionStatusEnum::Canceled);
    let ids: Vec<Uuid> = [
        create_named(&server, database, "a").await.id,
        create_named(&server, database, "b").await.id,
        create_named(&server, database, "c").await.id,
    ]
    .into();

    tokio::time::advance(QUEUED + Duration::from_secs(1)).await;
    for id in &ids {
        let backup = server.backup(database, *id).unwrap();
        assert_eq!(action_status(&backup), ServiceActionStatusEnum::Ongoing, "in progress until the end");
    }
    tokio::time::advance(ONGOING).await;
    let ends: Vec<_> = ids.iter().map(|id| server.backup(database, *id).unwrap()).collect();
    let outcome = |b: &Backup| (action_status(b), b.status.as_ref().unwrap().state.clone());
    assert_eq!(outcome(&ends[0]), (ServiceActionStatusEnum::Error, StateEnum::DeploymentError));
    assert_eq!(outcome(&ends[1]), (ServiceActionStatusEnum::Canceled, StateEnum::Canceled));
    assert_eq!(outcome(&ends[2]), (ServiceActionStatusEnum::Success, StateEnum::Deployed));
}

#[tokio::test(start_paused = true)]
async fn outcomes_from_a_spec_follow_names_and_a_seeded_probability() {
    let outcomes: Outcomes = "name:broken=error, canceled=0.5, seed=11".parse().unwrap();
    let config = MockConfig { outcomes: outcomes.clone(), ..MockConfig::default() };
    let run = || async {
        let server = start(config.clone()).await;
        let database = server.database_ids()[0];
        let mut ends = Vec::new();
        for n in 0..20 {
            let name = if n % 5 == 0 { format!("broken-{n}") } else { format!("ok-{n}") };
            let id = create_named(&server, database, &name).await.id;
            ends.push((name, action_status(&server.backup(database, id).unwrap())));
        }
        ends
    };
    let ends = run().await;
    assert_eq!(ends, run().await, "same seed, same outcomes");
    for (name, end) in &ends {
        if name.starts_with("broken") {
            assert_eq!(*end, ServiceActionStatusEnum::Error, "{name}");
        } else {
            assert!(
                matches!(end, ServiceActionStatusEnum::Success | ServiceActionStatusEnum::Canceled),
                "{name}"
            );
        }
    }
    assert!(ends.iter().any(|(_, e)| *e == ServiceActionStatusEnum::Canceled));
    assert!(ends.iter().any(|(_, e)| *e == ServiceActionStatusEnum::Success));
}

#[tokio::test(start_paused = true)]
async fn a_backup_removed_while_in_progress_vanishes_from_the_listing() {
    let server = start(slow_lifecycle()).await;
    let database = server.database_ids()[0];
    let created = create_named(&server, database, "doomed").await;
    tokio::time::advance(QUEUED).await;
    assert_eq!(
        action_status(&listed(&server, database, created.id).await.unwrap()),
        ServiceActionStatusEnum::Ongoing
    );

    assert!(server.remove_backup(database, created.id));
    assert_eq!(listed(&server, database, created.id).await, None);
    tokio::time::advance(ONGOING).await;
    assert_eq!(
        listed(&server, database, created.id).await,
        None,
        "it does not come back when it would have ended"
    );
    assert_eq!(server.backup(database, created.id), None);
}

#[tokio::test(start_paused = true)]
async fn a_lifecycle_set_at_run_time_applies_to_backups_created_afterwards() {
    let server = start(MockConfig::default()).await;
    let database = server.database_ids()[0];
    let before = create_named(&server, database, "before").await;
    server.set_lifecycle(Lifecycle { queued: QUEUED, ongoing: ONGOING });
    let after = create_named(&server, database, "after").await;
    assert_eq!(action_status(&server.backup(database, before.id).unwrap()), ServiceActionStatusEnum::Success);
    assert_eq!(action_status(&server.backup(database, after.id).unwrap()), ServiceActionStatusEnum::Queued);
}

#[tokio::test]
#[should_panic(expected = "a backup cannot end ONGOING")]
async fn an_outcome_that_is_not_final_is_refused() {
    let server = start(MockConfig::default()).await;
    server.push_outcome(ServiceActionStatusEnum::Ongoing);
}

#[tokio::test(start_paused = true)]
async fn every_phase_of_every_outcome_matches_the_schema() {
    let server = start(slow_lifecycle()).await;
    let database = server.database_ids()[0];
    for outcome in
        [ServiceActionStatusEnum::Success, ServiceActionStatusEnum::Error, ServiceActionStatusEnum::Canceled]
    {
        server.push_outcome(outcome);
        create_named(&server, database, "checked").await;
    }
    for _ in 0..3 {
        let page: serde_json::Value = list(&server, database, None).await.unwrap().json().await.unwrap();
        common::assert_valid("BackupPaginatedResponseList", &page);
        for backup in page["results"].as_array().unwrap() {
            common::assert_valid("Backup", backup);
        }
        tokio::time::advance(QUEUED + ONGOING / 2).await;
    }
}
