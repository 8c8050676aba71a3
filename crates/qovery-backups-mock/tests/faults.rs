//! Each fault kind, as a reqwest client sees it.

mod common;

use std::error::Error as _;
use std::io;
use std::time::{Duration, SystemTime};

use common::{authed, backup_url, client, create, expect_error, list, list_url, remove, start};
use qovery_backups_api::types::{
    Backup, BackupPaginatedResponseList, ServiceActionEnum, ServiceActionStatusEnum,
    ServiceDeploymentStatusEnum, ServiceStepMetricNameEnum, ServiceSubActionEnum, StateEnum,
    StepMetricStatusEnum,
};
use qovery_backups_mock::{Fault, FaultPlan, MockConfig, MockServer};
use serde_json::{Value, json};
use tokio::time::Instant;

/// A server whose first request gets `fault`.
async fn first_request_gets(fault: Fault) -> MockServer {
    start(MockConfig { faults: FaultPlan::new().at(1, fault), ..MockConfig::default() }).await
}

fn io_kinds(error: &reqwest::Error) -> Vec<io::ErrorKind> {
    let mut kinds = Vec::new();
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<io::Error>() {
            kinds.push(io.kind());
        }
        source = cause.source();
    }
    kinds
}

/// The server answers normally once the faulted request is over.
async fn assert_still_serving(server: &MockServer) {
    let response = list(server, server.database_ids()[0], None).await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn status_fault_answers_that_status_with_an_error_body_and_applies_nothing() {
    for code in [500u16, 502, 503, 504] {
        let server = first_request_gets(Fault::Status(code)).await;
        let database = server.database_ids()[0];
        let response = create(&server, database, &json!({"name": "n", "message": "m"})).await.unwrap();
        let detail = expect_error(response, code).await;
        assert!(detail.contains("injected fault"), "{detail}");
        assert_eq!(server.backups(database).len(), 45, "not created");
        assert_still_serving(&server).await;
    }
}

#[tokio::test]
async fn too_many_requests_with_retry_after_in_seconds() {
    let server = first_request_gets(Fault::RetryAfterSeconds(2)).await;
    let response = list(&server, server.database_ids()[0], None).await.unwrap();
    assert_eq!(response.headers()["retry-after"], "2");
    expect_error(response, 429).await;
}

#[tokio::test]
async fn too_many_requests_with_retry_after_as_an_http_date() {
    let server = first_request_gets(Fault::RetryAfterDate(3)).await;
    let before = SystemTime::now();
    let response = list(&server, server.database_ids()[0], None).await.unwrap();
    let header = response.headers()["retry-after"].to_str().unwrap().to_owned();
    let date = httpdate::parse_http_date(&header).expect("an HTTP-date");
    assert!(date >= before + Duration::from_secs(3), "{header} is at least 3 s ahead");
    assert!(date <= SystemTime::now() + Duration::from_secs(5), "{header} is not far ahead");
    expect_error(response, 429).await;
}

#[tokio::test]
async fn reset_fails_the_request_with_connection_reset() {
    let server = first_request_gets(Fault::Reset).await;
    let error = list(&server, server.database_ids()[0], None).await.unwrap_err();
    assert!(error.is_request(), "{error:?}");
    assert!(io_kinds(&error).contains(&io::ErrorKind::ConnectionReset), "{error:?}");
    assert_eq!(server.requests().len(), 1, "the client did not retry by itself");
    assert_still_serving(&server).await;
}

#[tokio::test]
async fn close_fails_the_request_without_a_byte_of_answer() {
    let server = first_request_gets(Fault::Close).await;
    let error = list(&server, server.database_ids()[0], None).await.unwrap_err();
    assert!(error.is_request(), "{error:?}");
    assert!(!error.is_connect() && !error.is_timeout(), "{error:?}");
    assert!(!io_kinds(&error).contains(&io::ErrorKind::ConnectionReset), "FIN, not RST: {error:?}");
    assert_still_serving(&server).await;
}

#[tokio::test]
async fn truncate_sends_the_head_then_half_the_body() {
    let server = first_request_gets(Fault::Truncate).await;
    let database = server.database_ids()[0];
    let response = list(&server, database, None).await.expect("the head arrives");
    assert_eq!(response.status(), 200);
    let full_length: usize = response.headers()["content-length"].to_str().unwrap().parse().unwrap();
    assert!(full_length > 1000);
    let error = response.bytes().await.unwrap_err();
    assert!(error.is_decode() || error.is_body(), "{error:?}");
    assert_eq!(server.requests()[0].status, Some(200));
    assert_still_serving(&server).await;
}

#[tokio::test]
async fn truncate_on_a_delete_cuts_the_head_after_applying_it() {
    let server =
        start(MockConfig { faults: FaultPlan::new().at(1, Fault::Truncate), ..MockConfig::default() }).await;
    let database = server.database_ids()[0];
    let victim = server.backups(database)[0].id;
    let error = remove(&server, database, victim).await.unwrap_err();
    assert!(error.is_request(), "{error:?}");
    assert!(server.backups(database).iter().all(|b| b.id != victim), "applied");
}

#[tokio::test(start_paused = true)]
async fn slow_answer_trips_a_shorter_client_timeout() {
    let server = first_request_gets(Fault::Slow(Duration::from_secs(5))).await;
    let url = list_url(&server, server.database_ids()[0]);
    let started = Instant::now();
    let error = authed(&server, client().get(url)).timeout(Duration::from_secs(1)).send().await.unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test(start_paused = true)]
async fn slow_answer_arrives_after_the_delay() {
    let server = first_request_gets(Fault::Slow(Duration::from_millis(1500))).await;
    let started = Instant::now();
    let response = list(&server, server.database_ids()[0], None).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(1500));
    let page: BackupPaginatedResponseList = response.json().await.unwrap();
    assert_eq!(page.results.len(), 20);
}

#[tokio::test(start_paused = true)]
async fn late_answer_applies_the_create_before_the_client_gives_up() {
    let server = first_request_gets(Fault::Late(Duration::from_secs(5))).await;
    let database = server.database_ids()[0];
    let url = format!("{}/database/{database}/backup", server.base_url());
    let request = client().post(url).json(&json!({"name": "late-one", "message": "m"}));
    let error = authed(&server, request).timeout(Duration::from_secs(1)).send().await.unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    assert_eq!(server.backups(database)[0].name, "late-one", "applied although never answered");
}

#[tokio::test(start_paused = true)]
async fn late_answer_arrives_after_the_delay() {
    let server = first_request_gets(Fault::Late(Duration::from_millis(1500))).await;
    let started = Instant::now();
    let response = list(&server, server.database_ids()[0], None).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(1500));
}

#[tokio::test]
async fn bad_json_is_a_200_whose_body_does_not_parse() {
    let server = first_request_gets(Fault::BadJson).await;
    let response = list(&server, server.database_ids()[0], None).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let bytes = response.bytes().await.unwrap();
    assert!(serde_json::from_slice::<Value>(&bytes).is_err());
    assert!(serde_json::from_slice::<BackupPaginatedResponseList>(&bytes).is_err());
}

#[tokio::test]
async fn lost_create_fails_the_request_but_the_backup_exists() {
    let server = first_request_gets(Fault::Lost).await;
    let database = server.database_ids()[0];
    let error = create(&server, database, &json!({"name": "lost-one", "message": "m"})).await.unwrap_err();
    assert!(error.is_request(), "{error:?}");
    let backups = server.backups(database);
    assert_eq!(backups.len(), 46);
    assert_eq!(backups[0].name, "lost-one");
    let record = &server.requests()[0];
    assert_eq!(record.fault, Some(Fault::Lost));
    assert_eq!(record.status, None, "nothing was answered");
}

#[tokio::test]
async fn lost_delete_fails_the_request_but_the_backup_is_gone() {
    let server = first_request_gets(Fault::Lost).await;
    let database = server.database_ids()[0];
    let victim = server.backups(database)[0].id;
    let error =
        authed(&server, client().delete(backup_url(&server, database, victim))).send().await.unwrap_err();
    assert!(error.is_request(), "{error:?}");
    assert!(server.backups(database).iter().all(|b| b.id != victim));
    // A retry of the lost delete finds nothing to delete.
    expect_error(remove(&server, database, victim).await.unwrap(), 404).await;
}

#[tokio::test]
async fn unknown_enum_values_parse_as_unrecognized_with_the_generated_types() {
    let server = first_request_gets(Fault::UnknownEnum).await;
    let page: BackupPaginatedResponseList = list(&server, server.database_ids()[0], None)
        .await
        .unwrap()
        .json()
        .await
        .expect("forward-compatible enums accept unknown values");
    let status = page.results[0].status.as_ref().unwrap();
    assert_eq!(status.state, StateEnum::Unrecognized("FUTURE_STATE_1".to_owned()));
    assert!(!status.state.is_known());
    assert!(matches!(status.service_deployment_status, ServiceDeploymentStatusEnum::Unrecognized(_)));
    assert!(matches!(status.status_details.action, ServiceActionEnum::Unrecognized(_)));
    assert!(matches!(status.status_details.status, ServiceActionStatusEnum::Unrecognized(_)));
    assert!(matches!(status.status_details.sub_action, ServiceSubActionEnum::Unrecognized(_)));
    for step in &status.steps.as_ref().unwrap().details {
        assert!(matches!(step.step_name, Some(ServiceStepMetricNameEnum::Unrecognized(_))));
        assert!(matches!(step.status, Some(StepMetricStatusEnum::Unrecognized(_))));
    }
    // Every other backup keeps known values.
    assert!(page.results[1].status.as_ref().unwrap().state.is_known());
    assert!(!page.results[2].status.as_ref().unwrap().state.is_known());
}

#[tokio::test]
async fn unknown_enum_values_reach_a_created_backup_too() {
    let server = first_request_gets(Fault::UnknownEnum).await;
    let database = server.database_ids()[0];
    let response = create(&server, database, &json!({"name": "n", "message": "m"})).await.unwrap();
    assert_eq!(response.status(), 201);
    let backup: Backup = response.json().await.unwrap();
    let status = backup.status.unwrap();
    assert!(!status.state.is_known());
    let steps = status.steps.unwrap();
    assert!(matches!(steps.details[0].step_name, Some(ServiceStepMetricNameEnum::Unrecognized(_))));
    // The server's own data is untouched: the fault is on the wire only.
    assert!(server.backups(database)[0].status.as_ref().unwrap().state.is_known());
}

#[tokio::test]
async fn unknown_fields_are_added_at_every_level_and_ignored_by_the_generated_types() {
    let server = first_request_gets(Fault::UnknownFields).await;
    let database = server.database_ids()[0];
    let body: Value = list(&server, database, None).await.unwrap().json().await.unwrap();
    assert!(body.get("future_page_metadata").is_some());
    let backup = &body["results"][0];
    assert!(backup.get("future_backup_field").is_some());
    assert!(backup["status"].get("future_status_field").is_some());
    assert!(backup["status"]["status_details"].get("future_detail").is_some());
    assert!(backup["status"]["steps"].get("future_steps_field").is_some());
    assert!(backup["status"]["steps"]["details"][0].get("future_step_field").is_some());

    let page: BackupPaginatedResponseList = serde_json::from_value(body).unwrap();
    assert_eq!(page.results[..], server.backups(database)[..20]);
}

#[tokio::test]
async fn payload_faults_leave_error_answers_alone() {
    let server = start(MockConfig {
        faults: FaultPlan::new().at(1, Fault::UnknownFields).at(2, Fault::UnknownEnum),
        ..MockConfig::default()
    })
    .await;
    let database = server.database_ids()[0];
    for _ in 0..2 {
        let response = list(&server, database, Some("bad")).await.unwrap();
        let (_, _, body) = common::json_of(response).await;
        assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
    }
}
