//! The HTTP side: the three operations of openapi.yaml, authentication, error bodies, and the
//! pipeline that applies latency and faults around them.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Path, RawQuery, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use chrono::Utc;
use http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use qovery_backups_api::types::{ApiError, BackupRequest};
use serde_json::{Value, json};
use tokio::time::Instant;
use uuid::Uuid;

use crate::conn::{ConnControl, Kill};
use crate::data::{Store, StoreError};
use crate::fault::{Fault, FaultState};
use crate::log::{REQUEST_LOG_CAPACITY, RequestRecord};

/// Request bodies larger than this are refused; the API takes two short strings.
const MAX_BODY: usize = 1 << 20;

/// Everything the handlers and the `MockServer` handle share.
pub(crate) struct Shared {
    pub(crate) token: String,
    pub(crate) page_size: usize,
    pub(crate) latency: Mutex<Duration>,
    pub(crate) store: Mutex<Store>,
    pub(crate) faults: Mutex<FaultState>,
    pub(crate) log: Mutex<VecDeque<RequestRecord>>,
    pub(crate) received: Mutex<u64>,
}

/// Locks a mutex even if a panicking thread poisoned it: every critical section leaves the data
/// consistent, and a mock that stops answering after one bug helps nobody.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/database/{database_id}/backup", get(list).post(create))
        .route("/database/{database_id}/backup/{backup_id}", delete(remove))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(Arc::clone(&shared), pipeline))
        .with_state(shared)
}

/// A page as the API writes it (see `list`).
#[derive(serde::Serialize)]
struct PageBody<'a> {
    page: i64,
    page_size: usize,
    results: &'a [qovery_backups_api::types::Backup],
}

/// An `{"status", "detail"}` answer, the body Qovery sends with every error.
pub(crate) fn error(status: StatusCode, detail: impl Into<String>) -> Response {
    let body = ApiError { status: i64::from(status.as_u16()), detail: detail.into() };
    json_response(status, &body)
}

fn json_response(status: StatusCode, body: &impl serde::Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => json_bytes(status, bytes),
        Err(e) => {
            error(StatusCode::INTERNAL_SERVER_ERROR, format!("the mock could not serialize its answer: {e}"))
        }
    }
}

fn json_bytes(status: StatusCode, bytes: Vec<u8>) -> Response {
    (status, [(CONTENT_TYPE, HeaderValue::from_static("application/json"))], bytes).into_response()
}

fn store_error(error_: StoreError) -> Response {
    match error_ {
        StoreError::UnknownDatabase(id) => error(StatusCode::NOT_FOUND, format!("database {id} not found")),
        StoreError::UnknownCursor { database, cursor } => {
            error(StatusCode::BAD_REQUEST, format!("startId {cursor} names no backup of database {database}"))
        }
        StoreError::UnknownBackup { database, backup } => {
            error(StatusCode::NOT_FOUND, format!("backup {backup} not found in database {database}"))
        }
        StoreError::DuplicateBackup(id) => error(StatusCode::CONFLICT, format!("backup {id} already exists")),
    }
}

/// An error answer not yet rendered: small enough to travel in a `Result`.
struct Failure {
    status: StatusCode,
    detail: String,
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        error(self.status, self.detail)
    }
}

fn parse_database_id(raw: &str, invalid: StatusCode) -> Result<Uuid, Failure> {
    Uuid::parse_str(raw)
        .map_err(|_| Failure { status: invalid, detail: format!("databaseId `{raw}` is not a UUID") })
}

async fn list(
    State(shared): State<Arc<Shared>>,
    Path(database_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let database_id = match parse_database_id(&database_id, StatusCode::BAD_REQUEST) {
        Ok(id) => id,
        Err(failure) => return failure.into_response(),
    };
    let start_id = form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes())
        .filter(|(key, _)| key == "startId")
        .last()
        .map(|(_, value)| value.into_owned());
    let cursor = match start_id.as_deref().map(Uuid::parse_str) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!(
                    "startId `{}` is not a UUID; pass the id of the last backup already seen",
                    start_id.unwrap_or_default()
                ),
            );
        }
    };
    let page = lock(&shared.store).page(database_id, cursor, shared.page_size);
    match page {
        // Not the generated `BackupPaginatedResponseList`: its `page` and `page_size` are
        // `number`s (f64), which serde writes as `20.0`, while the API writes whole counts as
        // `20`. `results` is always present, as the API sends it even when empty.
        Ok(page) => json_response(
            StatusCode::OK,
            &PageBody { page: page.page, page_size: shared.page_size, results: &page.results },
        ),
        Err(e) => store_error(e),
    }
}

async fn create(State(shared): State<Arc<Shared>>, Path(database_id): Path<String>, body: Bytes) -> Response {
    let database_id = match parse_database_id(&database_id, StatusCode::BAD_REQUEST) {
        Ok(id) => id,
        Err(failure) => return failure.into_response(),
    };
    if !lock(&shared.store).has_database(database_id) {
        return store_error(StoreError::UnknownDatabase(database_id));
    }
    let request: BackupRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("the body must be a JSON object with string fields `name` and `message`: {e}"),
            );
        }
    };
    let created = lock(&shared.store).create(database_id, request.name, request.message, Utc::now());
    match created {
        Ok(backup) => json_response(StatusCode::CREATED, &backup),
        Err(e) => store_error(e),
    }
}

async fn remove(
    State(shared): State<Arc<Shared>>,
    Path((database_id, backup_id)): Path<(String, String)>,
) -> Response {
    // openapi.yaml declares no 400 for this operation: an id that cannot exist is not found.
    let database_id = match parse_database_id(&database_id, StatusCode::NOT_FOUND) {
        Ok(id) => id,
        Err(failure) => return failure.into_response(),
    };
    let Ok(backup_id) = Uuid::parse_str(&backup_id) else {
        return error(StatusCode::NOT_FOUND, format!("backup `{backup_id}` not found: it is not a UUID"));
    };
    let deleted = lock(&shared.store).delete(database_id, backup_id);
    match deleted {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => store_error(e),
    }
}

async fn not_found(request: Request) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!(
            "no such route: {} {}; the API has GET and POST /database/{{databaseId}}/backup and DELETE /database/{{databaseId}}/backup/{{backupId}}",
            request.method(),
            request.uri().path()
        ),
    )
}

async fn method_not_allowed(request: Request) -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("method {} is not allowed on {}", request.method(), request.uri().path()),
    )
}

/// Checks `Authorization: Token <t>` or `Bearer <t>` against the configured token.
fn authorize(shared: &Shared, header: Option<&HeaderValue>) -> Result<(), Failure> {
    let unauthorized = |detail: String| Err(Failure { status: StatusCode::UNAUTHORIZED, detail });
    let Some(header) = header else {
        return unauthorized(
            "missing Authorization header; send `Authorization: Token <api token>` or `Authorization: Bearer <jwt>`"
                .to_owned(),
        );
    };
    let Ok(header) = header.to_str() else {
        return unauthorized("the Authorization header is not ASCII text".to_owned());
    };
    let (scheme, token) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
    if !scheme.eq_ignore_ascii_case("token") && !scheme.eq_ignore_ascii_case("bearer") {
        return unauthorized(format!(
            "unsupported authorization scheme `{scheme}`; use `Token <api token>` or `Bearer <jwt>`"
        ));
    }
    if token.trim() != shared.token {
        return unauthorized("access token is missing or invalid".to_owned());
    }
    Ok(())
}

/// Logging, latency, faults and authentication, around every request.
async fn pipeline(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let at = Instant::now();
    let (mut parts, body) = request.into_parts();
    let control = parts.extensions.remove::<Arc<ConnControl>>();
    let body = to_bytes(body, MAX_BODY).await;

    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().map(str::to_owned);
    let key = format!("{} {}?{}", parts.method, path, query.as_deref().unwrap_or(""));
    let headers = detached_headers(&parts.headers);
    let auth_scheme = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_whitespace().next())
        .map(str::to_owned);
    // Numbering, the fault decision and the log entry happen under one lock (always taken in
    // this order), so concurrent requests agree on which is the Nth.
    let (number, fault) = {
        let mut faults = lock(&shared.faults);
        let mut received = lock(&shared.received);
        *received += 1;
        let number = *received;
        let fault = faults.decide(&key);
        let mut log = lock(&shared.log);
        if log.len() >= REQUEST_LOG_CAPACITY {
            log.pop_front();
        }
        log.push_back(RequestRecord {
            number,
            method: parts.method.clone(),
            path,
            query,
            headers,
            auth_scheme,
            // A copy, for the same reason as the headers.
            body: body.as_ref().map(|b| Bytes::copy_from_slice(b)).unwrap_or_default(),
            at,
            fault: fault.clone(),
            status: None,
        });
        (number, fault)
    };

    let latency = *lock(&shared.latency);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    let kill = |kill: Kill| {
        if let Some(control) = &control {
            control.arm(kill);
        }
    };

    let response = match &fault {
        Some(Fault::Reset) => {
            kill(Kill::Reset);
            return finish(&shared, number, None, placeholder());
        }
        Some(Fault::Close) => {
            kill(Kill::Close);
            return finish(&shared, number, None, placeholder());
        }
        Some(Fault::Status(code)) => {
            let status = StatusCode::from_u16(*code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            error(
                status,
                format!(
                    "{} {} (injected fault)",
                    status.as_u16(),
                    status.canonical_reason().unwrap_or("error")
                ),
            )
        }
        Some(Fault::RetryAfterSeconds(secs)) => too_many_requests(
            secs.to_string(),
            format!("rate limit exceeded; retry after {secs} s (injected fault)"),
        ),
        Some(Fault::RetryAfterDate(secs)) => {
            let now = SystemTime::now();
            let since_epoch = now.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
            // An HTTP-date has whole seconds: round up so the client never waits less than asked.
            // Capped at a year: a SystemTime past the representable range would panic.
            let ahead = (*secs).min(365 * 24 * 3600) + 1;
            let until = SystemTime::UNIX_EPOCH + Duration::from_secs(since_epoch.as_secs() + ahead);
            let date = httpdate::fmt_http_date(until);
            too_many_requests(
                date.clone(),
                format!("rate limit exceeded; retry after {date} (injected fault)"),
            )
        }
        Some(Fault::BadJson) => json_bytes(
            StatusCode::OK,
            b"{\"page\": 1, \"page_size\": 20, \"results\": [{\"id\": \"<html>".to_vec(),
        ),
        Some(Fault::Slow(delay)) => {
            tokio::time::sleep(*delay).await;
            process(&shared, parts, body, next).await
        }
        Some(Fault::Late(delay)) => {
            let response = process(&shared, parts, body, next).await;
            tokio::time::sleep(*delay).await;
            response
        }
        Some(Fault::Truncate | Fault::Lost | Fault::UnknownEnum | Fault::UnknownFields) | None => {
            process(&shared, parts, body, next).await
        }
    };

    let response = normalize_error(response).await;
    let response = match &fault {
        Some(Fault::UnknownEnum) => rewrite_success(response, |v| unknown_enums(v, number)).await,
        Some(Fault::UnknownFields) => rewrite_success(response, |v| unknown_fields(v, number)).await,
        Some(Fault::Truncate) => {
            let (parts, body) = response.into_parts();
            let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
            kill(Kill::Truncate { body_len: bytes.len() });
            let status = parts.status.as_u16();
            return finish(&shared, number, Some(status), Response::from_parts(parts, Body::from(bytes)));
        }
        Some(Fault::Lost) => {
            kill(Kill::Reset);
            return finish(&shared, number, None, placeholder());
        }
        _ => response,
    };
    let status = response.status().as_u16();
    finish(&shared, number, Some(status), response)
}

/// A copy of the headers, less `Authorization`, that owns its bytes: hyper's values are slices of
/// its read buffer, and keeping them would keep the whole buffer (kilobytes a request) alive.
fn detached_headers(headers: &HeaderMap) -> HeaderMap {
    let mut copy = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        if name == AUTHORIZATION {
            continue;
        }
        let (Ok(name), Ok(mut owned)) =
            (HeaderName::from_bytes(name.as_str().as_bytes()), HeaderValue::from_bytes(value.as_bytes()))
        else {
            continue;
        };
        owned.set_sensitive(value.is_sensitive());
        copy.append(name, owned);
    }
    copy
}

/// Authentication first, then the route.
async fn process(
    shared: &Shared,
    parts: http::request::Parts,
    body: Result<Bytes, axum::Error>,
    next: Next,
) -> Response {
    if let Err(failure) = authorize(shared, parts.headers.get(AUTHORIZATION)) {
        return failure.into_response();
    }
    let Ok(body) = body else {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than {MAX_BODY} bytes or could not be read"),
        );
    };
    next.run(Request::from_parts(parts, Body::from(body))).await
}

/// What hyper is handed when the connection is about to be killed: never seen by the client.
fn placeholder() -> Response {
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

fn finish(shared: &Shared, number: u64, status: Option<u16>, response: Response) -> Response {
    let mut log = lock(&shared.log);
    // Records are appended in arrival order; this one is near the end unless many overlap.
    if let Some(record) = log.iter_mut().rev().find(|r| r.number == number) {
        record.status = status;
    }
    response
}

fn too_many_requests(retry_after: String, detail: String) -> Response {
    let mut response = error(StatusCode::TOO_MANY_REQUESTS, detail);
    if let Ok(value) = HeaderValue::from_str(&retry_after) {
        response.headers_mut().insert(RETRY_AFTER, value);
    }
    response
}

/// Gives every error answer the API's JSON body, including axum's own rejections.
async fn normalize_error(response: Response) -> Response {
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if response.status().as_u16() < 400 || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = to_bytes(body, MAX_BODY).await.unwrap_or_default();
    let detail = String::from_utf8_lossy(&text).trim().to_owned();
    let detail = if detail.is_empty() {
        parts.status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        detail
    };
    let mut rebuilt = error(parts.status, detail);
    for (name, value) in &parts.headers {
        if name != CONTENT_TYPE && name != CONTENT_LENGTH {
            rebuilt.headers_mut().insert(name, value.clone());
        }
    }
    rebuilt
}

/// Applies `edit` to the JSON body of a 2xx answer; other answers pass unchanged.
async fn rewrite_success(response: Response, edit: impl FnOnce(&mut Value)) -> Response {
    if !response.status().is_success() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    edit(&mut value);
    parts.headers.remove(CONTENT_LENGTH);
    let bytes = serde_json::to_vec(&value).unwrap_or_else(|_| bytes.to_vec());
    Response::from_parts(parts, Body::from(bytes))
}

/// The backups in a page body, or the backup a create answered.
fn backups_in(value: &mut Value) -> Vec<&mut Value> {
    if value.get("results").is_some_and(Value::is_array) {
        match value.get_mut("results").and_then(Value::as_array_mut) {
            Some(results) => results.iter_mut().collect(),
            None => Vec::new(),
        }
    } else if value.get("id").is_some() {
        vec![value]
    } else {
        Vec::new()
    }
}

fn set_if_present(object: &mut Value, key: &str, new: String) {
    if let Some(slot) = object.get_mut(key) {
        *slot = Value::String(new);
    }
}

/// Every other backup, from the first, gets a value openapi.yaml does not list in each enum.
fn unknown_enums(value: &mut Value, n: u64) {
    for backup in backups_in(value).into_iter().step_by(2) {
        let Some(status) = backup.get_mut("status") else {
            continue;
        };
        set_if_present(status, "state", format!("FUTURE_STATE_{n}"));
        set_if_present(status, "service_deployment_status", format!("FUTURE_DEPLOYMENT_STATUS_{n}"));
        if let Some(details) = status.get_mut("status_details") {
            set_if_present(details, "action", format!("FUTURE_ACTION_{n}"));
            set_if_present(details, "status", format!("FUTURE_ACTION_STATUS_{n}"));
            set_if_present(details, "sub_action", format!("FUTURE_SUB_ACTION_{n}"));
        }
        if let Some(steps) =
            status.get_mut("steps").and_then(|s| s.get_mut("details")).and_then(Value::as_array_mut)
        {
            // A queued backup has no step yet; give it one so the step enums are covered too.
            if steps.is_empty() {
                steps.push(json!({"duration_sec": 0}));
            }
            for step in steps {
                if let Some(step) = step.as_object_mut() {
                    step.insert("step_name".into(), Value::String(format!("FUTURE_STEP_{n}")));
                    step.insert("status".into(), Value::String(format!("FUTURE_STEP_STATUS_{n}")));
                }
            }
        }
    }
}

fn insert_field(object: &mut Value, key: &str, new: Value) {
    if let Some(object) = object.as_object_mut() {
        object.insert(key.to_owned(), new);
    }
}

/// Fields openapi.yaml does not declare, of every JSON type, at every level of the body.
fn unknown_fields(value: &mut Value, n: u64) {
    if value.get("results").is_some() {
        insert_field(value, "future_page_metadata", json!({"request": n, "hint": "added by a newer API"}));
    }
    for backup in backups_in(value) {
        insert_field(backup, "future_backup_field", json!(["a", 1, null, {"n": n}]));
        let Some(status) = backup.get_mut("status") else {
            continue;
        };
        insert_field(status, "future_status_field", json!({"deep": {"flag": true}}));
        if let Some(details) = status.get_mut("status_details") {
            insert_field(details, "future_detail", json!(n));
        }
        if let Some(steps) = status.get_mut("steps") {
            insert_field(steps, "future_steps_field", Value::Null);
            if let Some(details) = steps.get_mut("details").and_then(Value::as_array_mut) {
                for step in details {
                    insert_field(step, "future_step_field", json!(1.5));
                }
            }
        }
    }
}
