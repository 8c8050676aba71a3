//! The generated client against real HTTP on 127.0.0.1 (wiremock): what goes on the wire, what
//! comes back, and what never leaks.

use futures::TryStreamExt;
use qovery_backups_api::types::{
    self, Backup, ServiceActionEnum, ServiceActionStatusEnum, ServiceDeploymentStatusEnum,
    ServiceStepMetricNameEnum, ServiceSubActionEnum, StateEnum, StepMetricStatusEnum,
};
use qovery_backups_api::{ByteStream, Client, Error, Limits, ResponseValue};
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use serde_json::{json, Value};
use uuid::Uuid;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const DATABASE_ID: &str = "3c90c3cc-0d44-4b50-8888-8dd25736052a";
const BACKUP_ID: &str = "0b6b2f7e-3f4e-4c1e-9d7a-1f2e3d4c5b6a";
const STATUS_ID: &str = "7f1d3a52-8c4b-4e2f-a1d0-5b6c7d8e9f00";
const DEPLOYMENT_REQUEST_ID: &str = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";

fn database_id() -> Uuid {
    DATABASE_ID.parse().unwrap()
}

fn backup_path() -> String {
    format!("/database/{DATABASE_ID}/backup")
}

/// A backup as the API sends it, every field present and every enum set.
fn full_backup() -> Value {
    json!({
        "id": BACKUP_ID,
        "created_at": "2026-03-01T10:00:00Z",
        "updated_at": "2026-03-01T10:05:00Z",
        "name": "nightly",
        "message": "before the migration",
        "status": {
            "id": STATUS_ID,
            "state": "DEPLOYED",
            "service_deployment_status": "UP_TO_DATE",
            "last_deployment_date": "2026-03-01T10:04:00Z",
            "is_part_last_deployment": true,
            "steps": {
                "total_duration_sec": 42,
                "total_computing_duration_sec": 40,
                "details": [
                    {"step_name": "DEPLOYMENT", "status": "SUCCESS", "duration_sec": 40}
                ]
            },
            "execution_id": "exec-1",
            "status_details": {
                "action": "DEPLOY",
                "status": "SUCCESS",
                "sub_action": "NONE"
            },
            "deployment_request_id": DEPLOYMENT_REQUEST_ID,
            "deployment_requests_count": 1
        }
    })
}

fn page_of(results: Vec<Value>) -> Value {
    json!({"page": 1, "page_size": 20, "results": results})
}

/// Serves `body` as the 200 answer to the list operation and returns what the client parsed.
async fn list_parses(body: Value) -> types::BackupPaginatedResponseList {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(backup_path()))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::new(&server.uri(), Limits::default());
    client
        .list_database_backup()
        .database_id(database_id())
        .send()
        .await
        .expect("the response parses")
        .into_inner()
}

/// Reads the raw body of an error response.
async fn body_bytes(response: ResponseValue<ByteStream>) -> Vec<u8> {
    let chunks: Vec<_> =
        response.into_inner_stream().try_collect().await.expect("the error body is readable");
    chunks.iter().flat_map(|chunk| chunk.iter().copied()).collect()
}

fn into_error_response(error: Error<ByteStream>) -> ResponseValue<ByteStream> {
    match error {
        Error::ErrorResponse(response) => response,
        other => panic!("expected an ErrorResponse, got {other}"),
    }
}

#[tokio::test]
async fn list_sends_start_id_only_when_given() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(backup_path()))
        .respond_with(ResponseTemplate::new(200).set_body_json(page_of(vec![])))
        .expect(2)
        .mount(&server)
        .await;
    let client = Client::new(&server.uri(), Limits::default());
    let start_id: Uuid = BACKUP_ID.parse().unwrap();

    client.list_database_backup().database_id(database_id()).send().await.unwrap();
    client.list_database_backup().database_id(database_id()).start_id(start_id).send().await.unwrap();

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    let start_ids = |i: usize| -> Vec<String> {
        requests[i].url.query_pairs().filter(|(k, _)| k == "startId").map(|(_, v)| v.into_owned()).collect()
    };
    assert_eq!(start_ids(0), Vec::<String>::new(), "no startId without start_id(): {}", requests[0].url);
    assert_eq!(start_ids(1), vec![BACKUP_ID.to_owned()], "{}", requests[1].url);
}

#[tokio::test]
async fn create_sends_exactly_name_and_message_and_parses_201_backup() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(backup_path()))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({"name": "nightly", "message": "before the migration"})))
        .respond_with(ResponseTemplate::new(201).set_body_json(full_backup()))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::new(&server.uri(), Limits::default());

    let response = client
        .add_backup_database()
        .database_id(database_id())
        .body(types::BackupRequest { name: "nightly".into(), message: "before the migration".into() })
        .send()
        .await
        .expect("201 parses as a Backup");

    assert_eq!(response.status(), 201);
    let backup = response.into_inner();
    assert_eq!(backup.id.to_string(), BACKUP_ID);
    assert_eq!(backup.name, "nightly");
    assert_eq!(backup.message, "before the migration");
    let status = backup.status.expect("status was sent");
    assert_eq!(status.state, StateEnum::Deployed);
    assert_eq!(status.deployment_request_id.map(|id| id.to_string()).as_deref(), Some(DEPLOYMENT_REQUEST_ID));

    // Exactly the two fields, nothing more: compare the whole body, not a subset.
    let requests = server.received_requests().await.unwrap();
    let sent: Value = requests[0].body_json().unwrap();
    assert_eq!(sent, json!({"name": "nightly", "message": "before the migration"}));
}

#[tokio::test]
async fn delete_handles_204() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path(format!("/database/{DATABASE_ID}/backup/{BACKUP_ID}")))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::new(&server.uri(), Limits::default());

    let response = client
        .remove_database_backup()
        .database_id(database_id())
        .backup_id(BACKUP_ID.parse::<Uuid>().unwrap())
        .send()
        .await
        .expect("204 is success");
    assert_eq!(response.status(), 204);
}

/// For each open enum: an unknown value is kept and written back unchanged, and every value the
/// spec lists (read from `KNOWN_VALUES`, never copied here) parses to a named variant.
macro_rules! open_enum_tests {
    ($($module:ident: $enum:ident),* $(,)?) => {$(
        mod $module {
            use super::*;

            #[test]
            fn unknown_value_parses_to_unrecognized_and_serializes_back_byte_for_byte() {
                let wire = r#""FUTURE_VALUE""#;
                let parsed: $enum = serde_json::from_str(wire).expect("an unknown value parses");
                match &parsed {
                    $enum::Unrecognized(value) => assert_eq!(value, "FUTURE_VALUE"),
                    other => panic!("FUTURE_VALUE parsed to {other:?}"),
                }
                assert!(!parsed.is_known());
                assert_eq!(serde_json::to_string(&parsed).unwrap(), wire);
            }

            #[test]
            fn every_known_value_parses_to_a_named_variant_and_round_trips() {
                assert!(!$enum::KNOWN_VALUES.is_empty());
                for value in $enum::KNOWN_VALUES {
                    let wire = serde_json::to_string(value).unwrap();
                    let parsed: $enum = serde_json::from_str(&wire).unwrap();
                    assert!(parsed.is_known(), "{value} parsed to {parsed:?}");
                    assert!(!matches!(parsed, $enum::Unrecognized(_)), "{value} parsed to {parsed:?}");
                    assert_eq!(parsed.as_str(), *value);
                    assert_eq!(serde_json::to_string(&parsed).unwrap(), wire);
                }
            }
        }
    )*};
}

open_enum_tests!(
    state_enum: StateEnum,
    service_deployment_status_enum: ServiceDeploymentStatusEnum,
    service_action_enum: ServiceActionEnum,
    service_action_status_enum: ServiceActionStatusEnum,
    service_sub_action_enum: ServiceSubActionEnum,
    service_step_metric_name_enum: ServiceStepMetricNameEnum,
    step_metric_status_enum: StepMetricStatusEnum,
);

#[tokio::test]
async fn response_with_future_value_in_every_enum_parses_and_serializes_back_unchanged() {
    let mut backup = full_backup();
    let status = &mut backup["status"];
    status["state"] = json!("FUTURE_VALUE");
    status["service_deployment_status"] = json!("FUTURE_VALUE");
    status["status_details"]["action"] = json!("FUTURE_VALUE");
    status["status_details"]["status"] = json!("FUTURE_VALUE");
    status["status_details"]["sub_action"] = json!("FUTURE_VALUE");
    status["steps"]["details"][0]["step_name"] = json!("FUTURE_VALUE");
    status["steps"]["details"][0]["status"] = json!("FUTURE_VALUE");

    let page = list_parses(page_of(vec![backup.clone()])).await;

    let status = page.results[0].status.as_ref().unwrap();
    let future = "FUTURE_VALUE".to_owned();
    assert!(matches!(&status.state, StateEnum::Unrecognized(v) if *v == future));
    assert!(
        matches!(&status.service_deployment_status, ServiceDeploymentStatusEnum::Unrecognized(v) if *v == future)
    );
    assert!(matches!(&status.status_details.action, ServiceActionEnum::Unrecognized(v) if *v == future));
    assert!(
        matches!(&status.status_details.status, ServiceActionStatusEnum::Unrecognized(v) if *v == future)
    );
    assert!(
        matches!(&status.status_details.sub_action, ServiceSubActionEnum::Unrecognized(v) if *v == future)
    );
    let step = &status.steps.as_ref().unwrap().details[0];
    assert!(matches!(&step.step_name, Some(ServiceStepMetricNameEnum::Unrecognized(v)) if *v == future));
    assert!(matches!(&step.status, Some(StepMetricStatusEnum::Unrecognized(v)) if *v == future));

    assert_eq!(serde_json::to_value(&page.results[0]).unwrap(), backup);
}

#[tokio::test]
async fn unknown_object_fields_are_ignored_at_every_level() {
    let mut backup = full_backup();
    backup["added_later"] = json!({"nested": [1, 2]});
    backup["status"]["added_later"] = json!(true);
    backup["status"]["status_details"]["added_later"] = json!("x");
    backup["status"]["steps"]["added_later"] = json!(null);
    backup["status"]["steps"]["details"][0]["added_later"] = json!(7);
    let mut page = page_of(vec![backup]);
    page["added_later"] = json!("next_cursor");

    let parsed = list_parses(page).await;

    let expected: Backup = serde_json::from_value(full_backup()).unwrap();
    assert_eq!(parsed.results, vec![expected]);
    assert_eq!((parsed.page, parsed.page_size), (1.0, 20.0));
}

#[tokio::test]
async fn missing_optional_fields_parse() {
    let bare = json!({
        "id": BACKUP_ID,
        "created_at": "2026-03-01T10:00:00Z",
        "name": "bare",
        "message": "no updated_at, no status"
    });
    let mut sparse_status = full_backup();
    let status = sparse_status["status"].as_object_mut().unwrap();
    status.remove("steps");
    status.remove("execution_id");
    status.remove("last_deployment_date");
    let mut empty_step = full_backup();
    empty_step["status"]["steps"]["details"] = json!([{}]);

    let page = list_parses(page_of(vec![bare, sparse_status, empty_step])).await;

    let [bare, sparse, empty_step] = &page.results[..] else { panic!("{:?}", page.results) };
    assert_eq!((bare.updated_at, bare.status.is_none()), (None, true));
    let status = sparse.status.as_ref().unwrap();
    assert!(status.steps.is_none());
    assert!(status.execution_id.is_none());
    assert!(status.last_deployment_date.is_none());
    let step = &empty_step.status.as_ref().unwrap().steps.as_ref().unwrap().details[0];
    assert_eq!(*step, types::ServiceStepMetric { duration_sec: None, status: None, step_name: None });

    let no_results = list_parses(json!({"page": 2, "page_size": 20})).await;
    assert!(no_results.results.is_empty());
    assert_eq!(no_results.page, 2.0);
}

#[tokio::test]
async fn null_in_nullable_fields_parses() {
    let mut backup = full_backup();
    backup["status"]["deployment_request_id"] = Value::Null;
    backup["status"]["steps"]["total_duration_sec"] = Value::Null;

    let page = list_parses(page_of(vec![backup])).await;

    let status = page.results[0].status.as_ref().unwrap();
    assert_eq!(status.deployment_request_id, None);
    assert_eq!(status.steps.as_ref().unwrap().total_duration_sec, None);
    assert_eq!(status.steps.as_ref().unwrap().total_computing_duration_sec, 40);
}

const SECRET: &str = "qov_s3cr3t_t0k3n_do_not_print";

fn client_with_token(base_url: &str, sensitive: bool) -> Client {
    let mut value = HeaderValue::from_str(&format!("Token {SECRET}")).unwrap();
    value.set_sensitive(sensitive);
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, value);
    let http = reqwest::Client::builder().default_headers(headers).build().unwrap();
    Client::new_with_client(base_url, http, Limits::default())
}

fn assert_no_secret(what: &str, rendered: &[String]) {
    for text in rendered {
        assert!(!text.contains(SECRET), "{what} leaks the token: {text}");
        assert!(!text.contains(&format!("Token {SECRET}")), "{what} leaks the header: {text}");
    }
}

fn renderings(error: &Error<ByteStream>) -> Vec<String> {
    vec![format!("{error}"), format!("{error:#}"), format!("{error:?}"), format!("{error:#?}")]
}

#[tokio::test]
async fn client_and_error_debug_never_show_the_authorization_value() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(backup_path()))
        .and(header("authorization", format!("Token {SECRET}").as_str()))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"status": 401, "detail": "Token is invalid"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(400).set_body_string("undeclared for delete"))
        .expect(1)
        .mount(&server)
        .await;

    // The assertion can fail: without the sensitive flag the value is printed.
    let control = client_with_token(&server.uri(), false);
    assert!(format!("{control:?}").contains(SECRET), "control: {control:?}");

    let client = client_with_token(&server.uri(), true);
    assert_no_secret("Client", &[format!("{client:?}"), format!("{client:#?}")]);

    let unauthorized =
        client.list_database_backup().database_id(database_id()).send().await.expect_err("401 is an error");
    assert_eq!(unauthorized.status().map(|s| s.as_u16()), Some(401));
    assert_no_secret("ErrorResponse", &renderings(&unauthorized));

    let undeclared = client
        .remove_database_backup()
        .database_id(database_id())
        .backup_id(BACKUP_ID.parse::<Uuid>().unwrap())
        .send()
        .await
        .expect_err("400 is not declared for delete");
    assert!(matches!(undeclared, Error::UnexpectedResponse(_)), "{undeclared}");
    assert_no_secret("UnexpectedResponse", &renderings(&undeclared));

    // The header did go out, so the checks above are not vacuous.
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(request.headers.get("authorization").unwrap(), format!("Token {SECRET}").as_str());
    }

    // Connection refused: a port that was just free and is closed again.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let refused = client_with_token(&format!("http://{closed}"), true)
        .list_database_backup()
        .database_id(database_id())
        .send()
        .await
        .expect_err("nothing listens there");
    assert!(matches!(refused, Error::CommunicationError(_)), "{refused}");
    assert_no_secret("CommunicationError", &renderings(&refused));
}

#[tokio::test]
async fn error_body_is_available_raw_with_its_status() {
    let server = MockServer::start().await;
    let api_error = r#"{"status":404,"detail":"Database not found"}"#;
    Mock::given(method("GET"))
        .and(path(backup_path()))
        .respond_with(ResponseTemplate::new(404).set_body_raw(api_error, "application/json"))
        .mount(&server)
        .await;
    // A proxy's HTML page must not turn into a decode error that loses the status.
    let html = "<html><body>502 Bad Gateway</body></html>";
    Mock::given(method("POST"))
        .and(path(backup_path()))
        .respond_with(ResponseTemplate::new(502).set_body_raw(html, "text/html"))
        .mount(&server)
        .await;
    let client = Client::new(&server.uri(), Limits::default());

    let not_found = client.list_database_backup().database_id(database_id()).send().await.unwrap_err();
    let not_found = into_error_response(not_found);
    assert_eq!(not_found.status(), 404);
    let body = body_bytes(not_found).await;
    assert_eq!(body, api_error.as_bytes());
    let parsed: types::ApiError = serde_json::from_slice(&body).unwrap();
    assert_eq!((parsed.status, parsed.detail.as_str()), (404, "Database not found"));

    let bad_gateway = client
        .add_backup_database()
        .database_id(database_id())
        .body(types::BackupRequest { name: "n".into(), message: "m".into() })
        .send()
        .await
        .unwrap_err();
    let bad_gateway = into_error_response(bad_gateway);
    assert_eq!(bad_gateway.status(), 502);
    assert_eq!(body_bytes(bad_gateway).await, html.as_bytes());
}

#[tokio::test]
async fn too_many_requests_keeps_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "17")
                .set_body_raw(r#"{"status":429,"detail":"slow down"}"#, "application/json"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::new(&server.uri(), Limits::default());

    let error = client
        .remove_database_backup()
        .database_id(database_id())
        .backup_id(BACKUP_ID.parse::<Uuid>().unwrap())
        .send()
        .await
        .unwrap_err();

    assert!(error.is_retryable());
    let response = into_error_response(error);
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers().get("retry-after").unwrap(), "17");
    assert_eq!(body_bytes(response).await, br#"{"status":429,"detail":"slow down"}"#);
}

/// With the `schemars` feature the models describe themselves, and an open enum's schema
/// accepts any string while listing the values known today.
#[cfg(feature = "schemars")]
#[test]
fn with_the_schemars_feature_models_have_json_schemas() {
    let backup = serde_json::to_value(schemars::schema_for!(Backup)).unwrap();
    let required: Vec<&str> =
        backup["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(required.contains(&"created_at") && required.contains(&"id"), "{backup}");

    let status = serde_json::to_value(schemars::schema_for!(ServiceActionStatusEnum)).unwrap();
    assert_eq!(status["type"], "string", "{status}");
    assert!(status.get("enum").is_none(), "an open enum lists no closed set: {status}");
    assert!(status["examples"].as_array().unwrap().contains(&json!("SUCCESS")), "{status}");
}
