//! Helpers shared by the integration tests: a client, authenticated requests, and the JSON
//! Schemas generated from openapi.yaml.
#![allow(dead_code, unused_imports)] // each test crate uses its own subset

use std::cell::RefCell;
use std::path::PathBuf;

use qovery_backups_mock::MockServer;
pub use qovery_backups_mock::testing::start;
use reqwest::{Client, RequestBuilder, Response};
use serde_json::Value;
use uuid::Uuid;

thread_local! {
    static CLIENT: RefCell<Option<(tokio::runtime::Id, Client)>> = const { RefCell::new(None) };
}

/// One client per test runtime: building a client loads TLS roots, which is slow in debug
/// builds, and a client must not outlive the runtime its pooled connections live on.
pub fn client() -> Client {
    let runtime = tokio::runtime::Handle::current().id();
    CLIENT.with(|cell| {
        let mut cell = cell.borrow_mut();
        match &*cell {
            Some((id, client)) if *id == runtime => client.clone(),
            _ => {
                let client = Client::new();
                *cell = Some((runtime, client.clone()));
                client
            }
        }
    })
}

pub fn authed(server: &MockServer, request: RequestBuilder) -> RequestBuilder {
    request.header("Authorization", format!("Token {}", server.token()))
}

pub fn list_url(server: &MockServer, database: Uuid) -> String {
    format!("{}/database/{database}/backup", server.base_url())
}

pub fn backup_url(server: &MockServer, database: Uuid, backup: Uuid) -> String {
    format!("{}/database/{database}/backup/{backup}", server.base_url())
}

pub async fn list(server: &MockServer, database: Uuid, start_id: Option<&str>) -> reqwest::Result<Response> {
    let mut request = client().get(list_url(server, database));
    if let Some(start_id) = start_id {
        request = request.query(&[("startId", start_id)]);
    }
    authed(server, request).send().await
}

pub async fn create(server: &MockServer, database: Uuid, body: &Value) -> reqwest::Result<Response> {
    authed(server, client().post(list_url(server, database))).json(body).send().await
}

pub async fn remove(server: &MockServer, database: Uuid, backup: Uuid) -> reqwest::Result<Response> {
    authed(server, client().delete(backup_url(server, database, backup))).send().await
}

/// Status, content type and JSON body of an answer.
pub async fn json_of(response: Response) -> (u16, String, Value) {
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let body = response.json().await.expect("a JSON body");
    (status, content_type, body)
}

/// Asserts an `{"status", "detail"}` error answer and returns its detail.
pub async fn expect_error(response: Response, status: u16) -> String {
    let (got, content_type, body) = json_of(response).await;
    assert_eq!(got, status, "status; body: {body}");
    assert_eq!(content_type, "application/json");
    assert_eq!(body["status"], status, "body: {body}");
    body["detail"].as_str().expect("a string detail").to_owned()
}

pub fn schema_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schema").join(format!("{name}.json"))
}

/// A draft-07 validator, formats checked, for one schema of the workspace's `schema/` folder.
pub fn validator(name: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(schema_path(name)).expect("schema file readable");
    let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema compiles")
}

/// Every violation of the schema, as readable lines; empty when valid.
pub fn violations(name: &str, instance: &Value) -> Vec<String> {
    validator(name).iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path())).collect()
}

pub fn assert_valid(name: &str, instance: &Value) {
    let errors = violations(name, instance);
    assert!(errors.is_empty(), "{name} violations: {errors:#?}\ninstance: {instance}");
}
