//! `Authorization: Token <t>` or `Bearer <t>`, checked before anything else.

mod common;

use common::{client, expect_error, list_url, start};
use qovery_backups_mock::MockConfig;

async fn get_with(url: String, authorization: Option<&str>) -> reqwest::Response {
    let mut request = client().get(url);
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    request.send().await.unwrap()
}

fn config() -> MockConfig {
    MockConfig { token: "s3cret".to_owned(), ..MockConfig::default() }
}

#[tokio::test]
async fn token_and_bearer_schemes_with_the_configured_token_are_accepted() {
    let server = start(config()).await;
    let url = list_url(&server, server.database_ids()[0]);
    for value in ["Token s3cret", "Bearer s3cret", "token s3cret", "BEARER s3cret"] {
        assert_eq!(get_with(url.clone(), Some(value)).await.status(), 200, "{value}");
    }
    assert_eq!(server.token(), "s3cret");
}

#[tokio::test]
async fn missing_authorization_is_401() {
    let server = start(config()).await;
    let url = list_url(&server, server.database_ids()[0]);
    let detail = expect_error(get_with(url, None).await, 401).await;
    assert!(detail.contains("missing Authorization"), "{detail}");
}

#[tokio::test]
async fn wrong_scheme_is_401() {
    let server = start(config()).await;
    let url = list_url(&server, server.database_ids()[0]);
    for value in ["Basic s3cret", "s3cret", "Tokens3cret", "Api-Key s3cret"] {
        let detail = expect_error(get_with(url.clone(), Some(value)).await, 401).await;
        assert!(detail.contains("scheme"), "{value}: {detail}");
    }
}

#[tokio::test]
async fn wrong_or_empty_token_is_401() {
    let server = start(config()).await;
    let url = list_url(&server, server.database_ids()[0]);
    for value in ["Token wrong", "Bearer s3cret2", "Token ", "Bearer"] {
        let detail = expect_error(get_with(url.clone(), Some(value)).await, 401).await;
        assert!(detail.contains("invalid"), "{value}: {detail}");
    }
}

#[tokio::test]
async fn auth_is_checked_before_routing_and_validation() {
    let server = start(config()).await;
    let base = server.base_url();
    for url in [
        format!("{base}/database/not-a-uuid/backup"),
        format!("{base}/database/{}/backup", uuid::Uuid::from_u128(1)),
        format!("{base}/no/such/route"),
        format!("{}?startId=garbage", list_url(&server, server.database_ids()[0])),
    ] {
        expect_error(get_with(url, Some("Token wrong")).await, 401).await;
    }
    let response =
        client().post(list_url(&server, server.database_ids()[0])).body("not json").send().await.unwrap();
    expect_error(response, 401).await;
    assert_eq!(server.backups(server.database_ids()[0]).len(), 45);
}

#[tokio::test]
async fn a_rejected_delete_changes_nothing() {
    let server = start(config()).await;
    let database = server.database_ids()[0];
    let victim = server.backups(database)[0].id;
    let response = client()
        .delete(common::backup_url(&server, database, victim))
        .header("Authorization", "Bearer nope")
        .send()
        .await
        .unwrap();
    expect_error(response, 401).await;
    assert_eq!(server.backups(database)[0].id, victim);
}
