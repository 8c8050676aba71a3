//! `GET /database/{databaseId}/backup?startId=`: paging, ordering and its errors.

mod common;

use common::{expect_error, json_of, list, start};
use qovery_backups_api::types::BackupPaginatedResponseList;
use qovery_backups_mock::{MockConfig, MockServer};
use uuid::Uuid;

async fn page(server: &MockServer, database: Uuid, start_id: Option<Uuid>) -> BackupPaginatedResponseList {
    let start_id = start_id.map(|id| id.to_string());
    let response = list(server, database, start_id.as_deref()).await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// Follows `startId` until an empty page; returns every page.
async fn all_pages(server: &MockServer, database: Uuid) -> Vec<BackupPaginatedResponseList> {
    let mut pages = Vec::new();
    let mut cursor = None;
    loop {
        let page = page(server, database, cursor).await;
        let last = page.results.last().map(|b| b.id);
        pages.push(page);
        match last {
            Some(id) => cursor = Some(id),
            None => return pages,
        }
        assert!(pages.len() < 100, "paging does not end");
    }
}

#[tokio::test]
async fn first_page_is_the_newest_backups_with_page_metadata() {
    let server = start(MockConfig::default()).await;
    let database = server.database_ids()[0];
    let first = page(&server, database, None).await;
    assert_eq!(first.page, 1.0);
    assert_eq!(first.page_size, 20.0);
    assert_eq!(first.results.len(), 20);
    assert_eq!(first.results[..], server.backups(database)[..20]);
}

#[tokio::test]
async fn paging_visits_every_backup_once_newest_first_at_every_page_boundary() {
    let counts = vec![0, 1, 19, 20, 21, 40, 45];
    let server = start(MockConfig {
        databases: counts.len(),
        backups_per_database: counts.clone(),
        ..MockConfig::default()
    })
    .await;
    for (database, count) in server.database_ids().into_iter().zip(counts) {
        let pages = all_pages(&server, database).await;
        // Full pages, then a short or empty one; after the last backup, an empty page.
        let expected_pages = count / 20 + 1 + usize::from(count % 20 != 0);
        assert_eq!(pages.len(), expected_pages, "{count} backups");
        for (index, page) in pages.iter().enumerate() {
            assert_eq!(page.page, index as f64 + 1.0, "{count} backups, page {index}");
            assert_eq!(page.page_size, 20.0);
        }
        assert!(pages.last().unwrap().results.is_empty());
        let listed: Vec<_> = pages.into_iter().flat_map(|p| p.results).collect();
        assert_eq!(listed, server.backups(database), "{count} backups");
        assert!(
            listed.windows(2).all(|w| w[0].created_at > w[1].created_at),
            "timestamps strictly descending"
        );
    }
}

#[tokio::test]
async fn empty_page_still_carries_results_page_and_page_size() {
    let server = start(MockConfig { backups_per_database: vec![0], ..MockConfig::default() }).await;
    let database = server.database_ids()[0];
    let (status, _, body) = json_of(list(&server, database, None).await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(body, serde_json::json!({"page": 1, "page_size": 20, "results": []}));
}

#[tokio::test]
async fn page_after_the_last_backup_is_empty() {
    let server = start(MockConfig::default()).await;
    let database = server.database_ids()[1];
    let oldest = server.backups(database).last().unwrap().id;
    let after = page(&server, database, Some(oldest)).await;
    assert!(after.results.is_empty());
    assert_eq!(after.page, 4.0, "after pages of 20, 20 and 5");
}

#[tokio::test]
async fn start_id_in_the_middle_of_a_page_starts_right_after_it() {
    let server = start(MockConfig::default()).await;
    let database = server.database_ids()[0];
    let all = server.backups(database);
    let after = page(&server, database, Some(all[4].id)).await;
    assert_eq!(after.results[..], all[5..25]);
    assert_eq!(after.page, 2.0, "5 backups came before: a partial first page");
}

#[tokio::test]
async fn page_size_is_configurable() {
    let server =
        start(MockConfig { page_size: 7, backups_per_database: vec![15], ..MockConfig::default() }).await;
    let database = server.database_ids()[0];
    let pages = all_pages(&server, database).await;
    let sizes: Vec<_> = pages.iter().map(|p| p.results.len()).collect();
    assert_eq!(sizes, [7, 7, 1, 0]);
    assert!(pages.iter().all(|p| p.page_size == 7.0));
}

#[tokio::test]
async fn start_id_that_is_not_a_uuid_is_400() {
    let server = start(MockConfig::default()).await;
    let database = server.database_ids()[0];
    let response = list(&server, database, Some("not-a-uuid")).await.unwrap();
    let detail = expect_error(response, 400).await;
    assert!(detail.contains("not-a-uuid"), "{detail}");
    assert!(detail.contains("not a UUID"), "{detail}");
}

#[tokio::test]
async fn start_id_naming_no_backup_is_400_with_a_detail_saying_so() {
    let server = start(MockConfig::default()).await;
    let database = server.database_ids()[0];
    let unknown = Uuid::from_u128(42);
    let response = list(&server, database, Some(&unknown.to_string())).await.unwrap();
    let detail = expect_error(response, 400).await;
    assert!(detail.contains(&unknown.to_string()), "{detail}");
    assert!(detail.contains("names no backup"), "{detail}");
}

#[tokio::test]
async fn start_id_of_another_databases_backup_is_400() {
    let server = start(MockConfig::default()).await;
    let [first, second, ..] = server.database_ids()[..] else { panic!("two databases") };
    let foreign = server.backups(second)[0].id.to_string();
    let response = list(&server, first, Some(&foreign)).await.unwrap();
    expect_error(response, 400).await;
}

#[tokio::test]
async fn database_id_that_is_not_a_uuid_is_400() {
    let server = start(MockConfig::default()).await;
    let response =
        common::authed(&server, common::client().get(format!("{}/database/12345/backup", server.base_url())))
            .send()
            .await
            .unwrap();
    let detail = expect_error(response, 400).await;
    assert!(detail.contains("databaseId `12345`"), "{detail}");
}

#[tokio::test]
async fn unknown_database_is_404() {
    let server = start(MockConfig::default()).await;
    let unknown = Uuid::from_u128(7);
    let detail = expect_error(list(&server, unknown, None).await.unwrap(), 404).await;
    assert!(detail.contains(&unknown.to_string()), "{detail}");
}

#[tokio::test]
async fn unknown_route_and_wrong_method_answer_json_errors() {
    let server = start(MockConfig::default()).await;
    let database = server.database_ids()[0];
    let client = common::client();
    let response =
        common::authed(&server, client.get(format!("{}/databases", server.base_url()))).send().await.unwrap();
    expect_error(response, 404).await;
    let response =
        common::authed(&server, client.put(common::list_url(&server, database))).send().await.unwrap();
    expect_error(response, 405).await;
}
