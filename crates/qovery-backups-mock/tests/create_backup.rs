//! `POST /database/{databaseId}/backup`.

mod common;

use common::{client, create, expect_error, list_url, start};
use qovery_backups_api::types::{
    Backup, ServiceActionEnum, ServiceActionStatusEnum, ServiceSubActionEnum, StateEnum,
};
use qovery_backups_mock::MockConfig;
use serde_json::json;
use uuid::Uuid;

#[tokio::test]
async fn create_answers_201_with_a_queued_backup_that_becomes_the_newest() {
    let server = start(MockConfig::default()).await;
    let database = server.database_ids()[0];
    let before = server.backups(database);

    let response =
        create(&server, database, &json!({"name": "pre-migration", "message": "before 0042"})).await.unwrap();
    assert_eq!(response.status(), 201);
    let backup: Backup = response.json().await.unwrap();

    assert_eq!(backup.name, "pre-migration");
    assert_eq!(backup.message, "before 0042");
    assert!(before.iter().all(|b| b.id != backup.id), "fresh id");
    assert!(backup.created_at > before[0].created_at, "later than every existing backup");
    let status = backup.status.as_ref().expect("a status");
    assert_eq!(status.state, StateEnum::Queued);
    assert_eq!(status.status_details.action, ServiceActionEnum::Deploy);
    assert_eq!(status.status_details.status, ServiceActionStatusEnum::Queued);
    assert_eq!(status.status_details.sub_action, ServiceSubActionEnum::None);
    assert_eq!(status.steps.as_ref().unwrap().total_duration_sec, None);

    let after = server.backups(database);
    assert_eq!(after.len(), before.len() + 1);
    // Listed first; with the default (instant) lifecycle it is already final there, so only
    // what does not change is compared.
    let same = |listed: &Backup| (listed.id, listed.name.clone(), listed.message.clone(), listed.created_at);
    assert_eq!(same(&after[0]), same(&backup), "listed first");
    let page: qovery_backups_api::types::BackupPaginatedResponseList =
        common::list(&server, database, None).await.unwrap().json().await.unwrap();
    assert_eq!(same(&page.results[0]), same(&backup));
}

#[tokio::test]
async fn create_serializes_total_duration_as_null_not_absent() {
    let server = start(MockConfig::default()).await;
    let database = server.database_ids()[0];
    let body: serde_json::Value =
        create(&server, database, &json!({"name": "n", "message": "m"})).await.unwrap().json().await.unwrap();
    let steps = &body["status"]["steps"];
    assert!(steps.as_object().unwrap().contains_key("total_duration_sec"));
    assert!(steps["total_duration_sec"].is_null());
}

#[tokio::test]
async fn created_backups_are_newest_first_in_creation_order() {
    let server = start(MockConfig::default()).await;
    let database = server.database_ids()[2];
    let mut ids = Vec::new();
    for n in 0..3 {
        let backup: Backup = create(&server, database, &json!({"name": format!("b{n}"), "message": ""}))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(backup.id);
    }
    let listed: Vec<Uuid> = server.backups(database).iter().take(3).map(|b| b.id).collect();
    ids.reverse();
    assert_eq!(listed, ids);
}

#[tokio::test]
async fn create_without_name_or_message_is_400() {
    let server = start(MockConfig::default()).await;
    let database = server.database_ids()[0];
    for body in [
        json!({"message": "m"}),
        json!({"name": "n"}),
        json!({}),
        json!({"name": 1, "message": "m"}),
        json!([]),
    ] {
        let detail = expect_error(create(&server, database, &body).await.unwrap(), 400).await;
        assert!(detail.contains("`name` and `message`"), "{body}: {detail}");
    }
    assert_eq!(server.backups(database).len(), 45, "nothing created");
}

#[tokio::test]
async fn create_with_a_body_that_is_not_json_is_400() {
    let server = start(MockConfig::default()).await;
    let database = server.database_ids()[0];
    for body in ["name=n&message=m", "", "{\"name\": \"n\","] {
        let response = common::authed(&server, client().post(list_url(&server, database)))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        expect_error(response, 400).await;
    }
}

#[tokio::test]
async fn create_in_an_unknown_database_is_404() {
    let server = start(MockConfig::default()).await;
    let response = create(&server, Uuid::from_u128(1), &json!({"name": "n", "message": "m"})).await.unwrap();
    expect_error(response, 404).await;
}

#[tokio::test]
async fn create_with_a_database_id_that_is_not_a_uuid_is_400() {
    let server = start(MockConfig::default()).await;
    let response =
        common::authed(&server, client().post(format!("{}/database/nope/backup", server.base_url())))
            .json(&json!({"name": "n", "message": "m"}))
            .send()
            .await
            .unwrap();
    expect_error(response, 400).await;
}
