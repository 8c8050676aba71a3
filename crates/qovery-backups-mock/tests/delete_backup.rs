//! `DELETE /database/{databaseId}/backup/{backupId}`.

mod common;

use common::{client, expect_error, list, remove, start};
use qovery_backups_mock::MockConfig;
use uuid::Uuid;

#[tokio::test]
async fn delete_answers_204_with_no_body_and_removes_the_backup() {
    let server = start(MockConfig::default()).await;
    let database = server.database_ids()[0];
    let victim = server.backups(database)[3].id;

    let response = remove(&server, database, victim).await.unwrap();
    assert_eq!(response.status(), 204);
    assert!(response.bytes().await.unwrap().is_empty());

    let left = server.backups(database);
    assert_eq!(left.len(), 44);
    assert!(left.iter().all(|b| b.id != victim));
}

#[tokio::test]
async fn deleting_an_unknown_backup_is_404() {
    let server = start(MockConfig::default()).await;
    let database = server.database_ids()[0];
    let detail = expect_error(remove(&server, database, Uuid::from_u128(5)).await.unwrap(), 404).await;
    assert!(detail.contains(&Uuid::from_u128(5).to_string()), "{detail}");
}

#[tokio::test]
async fn deleting_twice_is_404_the_second_time() {
    let server = start(MockConfig::default()).await;
    let database = server.database_ids()[0];
    let victim = server.backups(database)[0].id;
    assert_eq!(remove(&server, database, victim).await.unwrap().status(), 204);
    expect_error(remove(&server, database, victim).await.unwrap(), 404).await;
}

#[tokio::test]
async fn deleting_another_databases_backup_is_404_and_keeps_it() {
    let server = start(MockConfig::default()).await;
    let [first, second, ..] = server.database_ids()[..] else { panic!("two databases") };
    let foreign = server.backups(second)[0].id;
    expect_error(remove(&server, first, foreign).await.unwrap(), 404).await;
    assert_eq!(server.backups(second)[0].id, foreign);
}

#[tokio::test]
async fn deleting_in_an_unknown_database_is_404() {
    let server = start(MockConfig::default()).await;
    expect_error(remove(&server, Uuid::from_u128(9), Uuid::from_u128(5)).await.unwrap(), 404).await;
}

#[tokio::test]
async fn delete_with_ids_that_are_not_uuids_is_404_as_openapi_declares_no_400() {
    let server = start(MockConfig::default()).await;
    let database = server.database_ids()[0];
    for url in [
        format!("{}/database/{database}/backup/nope", server.base_url()),
        format!("{}/database/nope/backup/{}", server.base_url(), Uuid::from_u128(1)),
    ] {
        let response = common::authed(&server, client().delete(url)).send().await.unwrap();
        expect_error(response, 404).await;
    }
}

#[tokio::test]
async fn a_deleted_backup_is_no_longer_a_valid_start_id() {
    let server = start(MockConfig::default()).await;
    let database = server.database_ids()[0];
    let cursor = server.backups(database)[19].id;
    remove(&server, database, cursor).await.unwrap();
    expect_error(list(&server, database, Some(&cursor.to_string())).await.unwrap(), 400).await;
}
