//! Every kind of answer validates against the JSON Schemas generated from openapi.yaml
//! (`schema/*.json`, draft-07, formats checked): the mock is held to the spec.

mod common;

use common::{assert_valid, authed, client, create, json_of, list, list_url, remove, start, violations};
use qovery_backups_mock::{Fault, FaultPlan, History, MockConfig, MockServer};
use serde_json::{Value, json};
use uuid::Uuid;

async fn body_of(response: reqwest::Response, status: u16) -> Value {
    let (got, content_type, body) = json_of(response).await;
    assert_eq!(got, status, "{body}");
    assert_eq!(content_type, "application/json");
    body
}

#[tokio::test]
async fn every_page_of_many_seeded_databases_matches_the_list_schema() {
    for history in [History::Nightly, History::Retention] {
        every_page_matches_the_list_schema(history).await;
    }
}

async fn every_page_matches_the_list_schema(history: History) {
    let server = start(MockConfig {
        databases: 12,
        backups_per_database: vec![0, 1, 20, 41],
        seed: 8,
        history,
        ..MockConfig::default()
    })
    .await;
    for database in server.database_ids() {
        let mut cursor: Option<String> = None;
        loop {
            let body = body_of(list(&server, database, cursor.as_deref()).await.unwrap(), 200).await;
            assert_valid("BackupPaginatedResponseList", &body);
            for backup in body["results"].as_array().unwrap() {
                assert_valid("Backup", backup);
            }
            match body["results"].as_array().unwrap().last() {
                Some(last) => cursor = Some(last["id"].as_str().unwrap().to_owned()),
                None => break,
            }
        }
    }
}

#[tokio::test]
async fn a_created_backup_matches_the_backup_schema() {
    let server = start(MockConfig::default()).await;
    let database = server.database_ids()[0];
    let body =
        body_of(create(&server, database, &json!({"name": "n", "message": "m"})).await.unwrap(), 201).await;
    assert_valid("Backup", &body);
    // And the page that now lists it.
    let page = body_of(list(&server, database, None).await.unwrap(), 200).await;
    assert_valid("BackupPaginatedResponseList", &page);
}

async fn error_bodies(server: &MockServer) -> Vec<(&'static str, u16, reqwest::Response)> {
    let database = server.database_ids()[0];
    let base = server.base_url();
    let c = client();
    vec![
        ("bad startId", 400, list(server, database, Some("x")).await.unwrap()),
        (
            "unknown startId",
            400,
            list(server, database, Some(&Uuid::from_u128(1).to_string())).await.unwrap(),
        ),
        (
            "bad databaseId",
            400,
            authed(server, c.get(format!("{base}/database/x/backup"))).send().await.unwrap(),
        ),
        ("bad body", 400, authed(server, c.post(list_url(server, database))).body("{").send().await.unwrap()),
        ("missing field", 400, create(server, database, &json!({"name": "n"})).await.unwrap()),
        ("no auth", 401, c.get(list_url(server, database)).send().await.unwrap()),
        (
            "wrong scheme",
            401,
            c.get(list_url(server, database)).header("Authorization", "Basic x").send().await.unwrap(),
        ),
        (
            "wrong token",
            401,
            c.get(list_url(server, database)).header("Authorization", "Token x").send().await.unwrap(),
        ),
        ("unknown database", 404, list(server, Uuid::from_u128(2), None).await.unwrap()),
        ("unknown backup", 404, remove(server, database, Uuid::from_u128(3)).await.unwrap()),
        ("unknown route", 404, authed(server, c.get(format!("{base}/nope"))).send().await.unwrap()),
        ("wrong method", 405, authed(server, c.patch(list_url(server, database))).send().await.unwrap()),
        (
            "too large",
            413,
            authed(server, c.post(list_url(server, database)))
                .body(vec![b' '; 2 << 20])
                .send()
                .await
                .unwrap(),
        ),
    ]
}

#[tokio::test]
async fn every_error_body_matches_the_api_error_schema() {
    let server = start(MockConfig::default()).await;
    for (what, status, response) in error_bodies(&server).await {
        let body = body_of(response, status).await;
        let errors = violations("ApiError", &body);
        assert!(errors.is_empty(), "{what}: {errors:?} in {body}");
        assert_eq!(body["status"], status, "{what}");
    }
}

#[tokio::test]
async fn injected_status_and_rate_limit_bodies_match_the_api_error_schema() {
    let kinds = [
        Fault::Status(500),
        Fault::Status(502),
        Fault::Status(503),
        Fault::Status(504),
        Fault::RetryAfterSeconds(1),
        Fault::RetryAfterDate(1),
    ];
    let mut plan = FaultPlan::new();
    for (n, kind) in kinds.iter().enumerate() {
        plan = plan.at(n as u64 + 1, kind.clone());
    }
    let server = start(MockConfig { faults: plan, ..MockConfig::default() }).await;
    let database = server.database_ids()[0];
    for kind in kinds {
        let response = list(&server, database, None).await.unwrap();
        let status = response.status().as_u16();
        let body = body_of(response, status).await;
        assert_valid("ApiError", &body);
        assert!(status >= 429, "{kind}");
    }
}

#[tokio::test]
async fn unknown_enum_payloads_break_the_schema_on_purpose_and_unknown_fields_do_not() {
    let server = start(MockConfig {
        faults: "1=unknown-enum,2=unknown-fields".parse().unwrap(),
        ..MockConfig::default()
    })
    .await;
    let database = server.database_ids()[0];
    let with_enums = body_of(list(&server, database, None).await.unwrap(), 200).await;
    assert!(!violations("BackupPaginatedResponseList", &with_enums).is_empty());
    // The schemas do not close objects (`additionalProperties` is open in openapi.yaml), so
    // extra fields are legal JSON for them; the typed parse in tests/faults.rs covers them.
    let with_fields = body_of(list(&server, database, None).await.unwrap(), 200).await;
    assert_valid("BackupPaginatedResponseList", &with_fields);
}

#[tokio::test]
async fn every_discovery_listing_matches_its_schema() {
    let server =
        start(MockConfig { fleet: qovery_backups_mock::Fleet::sample(), ..MockConfig::default() }).await;
    let get = |path: String| {
        let server = &server;
        async move {
            body_of(
                authed(server, client().get(format!("{}{path}", server.base_url()))).send().await.unwrap(),
                200,
            )
            .await
        }
    };
    let organizations = get("/organization".to_owned()).await;
    assert_valid("OrganizationResponseList", &organizations);
    for organization in server.organization_ids() {
        assert_valid("ProjectResponseList", &get(format!("/organization/{organization}/project")).await);
        for project in server.project_ids(organization) {
            assert_valid("EnvironmentResponseList", &get(format!("/project/{project}/environment")).await);
            for environment in server.environment_ids(project) {
                let databases = get(format!("/environment/{environment}/database")).await;
                assert_valid("DatabaseResponseList", &databases);
                assert!(!databases["results"].as_array().unwrap().is_empty());
            }
        }
    }
}
