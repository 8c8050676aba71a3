//! The HTTP side: the operations of openapi.yaml (three on backups, four discovery listings), authentication, error bodies, and the
//! pipeline that applies latency and faults around them.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Path, RawQuery, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use chrono::Utc;
use http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use qovery_backups_api::types::{ApiError, BackupRequest};
use serde_json::Value;
use tokio::time::Instant;
use uuid::Uuid;

use crate::answers;
use crate::conn::{ConnControl, Kill};
use crate::data::{Store, StoreError};
use crate::fault::{Act, Edit, Fault, FaultState, Run};
use crate::fleet::{FleetError, Hierarchy};
use crate::lifecycle::{Lifecycle, OutcomeState};
use crate::log::{REQUEST_LOG_CAPACITY, RequestRecord};

/// Request bodies larger than this are refused; the API takes two short strings.
const MAX_BODY: usize = 1 << 20;

/// Everything the handlers and the `MockServer` handle share.
pub(crate) struct Shared {
    pub(crate) token: String,
    /// Where the server listens, for the `Location` of a redirect.
    pub(crate) addr: SocketAddr,
    /// Endless answers still being sent.
    pub(crate) open_streams: Arc<AtomicUsize>,
    pub(crate) page_size: usize,
    pub(crate) latency: Mutex<Duration>,
    pub(crate) store: Mutex<Store>,
    pub(crate) fleet: Mutex<Hierarchy>,
    pub(crate) faults: Mutex<FaultState>,
    pub(crate) log: Mutex<VecDeque<RequestRecord>>,
    pub(crate) received: Mutex<u64>,
    pub(crate) lifecycle: Mutex<Lifecycle>,
    pub(crate) outcomes: Mutex<OutcomeState>,
    /// [`MockConfig::rate_limit`](crate::MockConfig::rate_limit).
    pub(crate) rate_limit: Option<u32>,
    /// The current one-second window and the requests answered in it.
    pub(crate) rate_window: Mutex<(Instant, u32)>,
}

/// Locks a mutex even if a panicking thread poisoned it: every critical section leaves the data
/// consistent, and a mock that stops answering after one bug helps nobody.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/database/{database_id}", get(get_database))
        .route("/database/{database_id}/backup", get(list).post(create))
        .route("/database/{database_id}/backup/{backup_id}", delete(remove))
        .route("/organization", get(list_organizations))
        .route("/organization/{organization_id}/project", get(list_projects))
        .route("/project/{project_id}/environment", get(list_environments))
        .route("/environment/{environment_id}/database", get(list_databases))
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

pub(crate) fn json_bytes(status: StatusCode, bytes: Vec<u8>) -> Response {
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
    // Decided before the store is locked: the two locks are never held together.
    let outcome = lock(&shared.outcomes).decide(&request.name);
    let lifecycle = *lock(&shared.lifecycle);
    let created = lock(&shared.store).create(
        database_id,
        (request.name, request.message),
        Utc::now(),
        Instant::now(),
        (lifecycle, outcome),
    );
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

/// `{"results": [...]}`, unpaginated, as every discovery listing answers.
#[derive(serde::Serialize)]
struct Results<T> {
    results: Vec<T>,
}

fn fleet_answer<T: serde::Serialize>(listed: Result<Vec<T>, FleetError>) -> Response {
    match listed {
        Ok(results) => json_response(StatusCode::OK, &Results { results }),
        Err(FleetError::Organization(id)) => {
            error(StatusCode::NOT_FOUND, format!("organization {id} not found"))
        }
        Err(FleetError::Project(id)) => error(StatusCode::NOT_FOUND, format!("project {id} not found")),
        Err(FleetError::Environment(id)) => {
            error(StatusCode::NOT_FOUND, format!("environment {id} not found"))
        }
    }
}

/// openapi.yaml declares no 400 for the discovery listings: an id that cannot exist is not found.
fn parse_parent(kind: &str, raw: &str) -> Result<Uuid, Failure> {
    Uuid::parse_str(raw).map_err(|_| Failure {
        status: StatusCode::NOT_FOUND,
        detail: format!("{kind} `{raw}` not found: it is not a UUID"),
    })
}

async fn list_organizations(State(shared): State<Arc<Shared>>) -> Response {
    let organizations = lock(&shared.fleet).organizations();
    fleet_answer(Ok(organizations))
}

async fn list_projects(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    match parse_parent("organization", &id) {
        Ok(id) => fleet_answer(lock(&shared.fleet).projects(id)),
        Err(failure) => failure.into_response(),
    }
}

async fn list_environments(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    match parse_parent("project", &id) {
        Ok(id) => fleet_answer(lock(&shared.fleet).environments(id)),
        Err(failure) => failure.into_response(),
    }
}

async fn list_databases(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    match parse_parent("environment", &id) {
        Ok(id) => fleet_answer(lock(&shared.fleet).databases(id)),
        Err(failure) => failure.into_response(),
    }
}

async fn get_database(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let found = parse_parent("database", &id).map(|id| (id, lock(&shared.fleet).database(id)));
    match found {
        Ok((_, Some(database))) => json_response(StatusCode::OK, &database),
        Ok((id, None)) => error(StatusCode::NOT_FOUND, format!("database {id} not found")),
        Err(failure) => failure.into_response(),
    }
}

async fn not_found(request: Request) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!(
            "no such route: {} {}; the API has GET /database/{{databaseId}}, GET and POST /database/{{databaseId}}/backup, DELETE /database/{{databaseId}}/backup/{{backupId}}, and GET /organization, /organization/{{organizationId}}/project, /project/{{projectId}}/environment, /environment/{{environmentId}}/database",
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

/// Logging, latency, faults and authentication, around every request: record the request (and
/// decide its fault), take the configured latency, then do what the fault's [`Act`] says: break
/// the connection, answer instead of the operation, or run it and change its answer.
async fn pipeline(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let at = Instant::now();
    let (mut parts, body) = request.into_parts();
    let control = parts.extensions.remove::<Arc<ConnControl>>();
    let body = to_bytes(body, MAX_BODY).await;
    let (number, fault) = record(&shared, &parts, &body, at);
    if over_rate_limit(&shared, at) {
        let detail = "rate limit exceeded: too many requests this second".to_owned();
        return finish(&shared, number, Some(429), answers::too_many_requests("1".to_owned(), detail));
    }
    let latency = *lock(&shared.latency);

    let (status, response) = match fault.map_or(Act::Run(Run::PLAIN), |fault| fault.kind().act) {
        Act::Kill(kill) => {
            sleep_unless_zero(latency).await;
            arm(control.as_deref(), kill);
            (None, placeholder())
        }
        Act::Answer { make, .. } => {
            sleep_unless_zero(latency).await;
            let response = normalize_error(make(&shared, &parts)).await;
            (Some(response.status().as_u16()), response)
        }
        Act::Run(Run { before, after, edit, kill }) => {
            let database = database_in(parts.uri.path());
            sleep_unless_zero(before).await;
            // The latency is how long the server takes to answer, its own work included: a
            // server answering in 20 ms does not add 20 ms to the time it spends rendering a
            // page (which, for a full page, is about a tenth of a millisecond).
            let answered_at = Instant::now() + latency;
            let response = process(&shared, parts, body, next).await;
            if !latency.is_zero() {
                tokio::time::sleep_until(answered_at).await;
            }
            sleep_unless_zero(after).await;
            let mut response = normalize_error(response).await;
            if let Some(edit) = edit {
                response = apply(edit, response, &Ctx { shared: &shared, number, database }).await;
            }
            if let Some(kill) = kill {
                arm(control.as_deref(), kill);
            }
            match kill {
                // A cut-off answer keeps its status; a reset one has none.
                Some(Kill::Reset | Kill::Close) => (None, placeholder()),
                _ => (Some(response.status().as_u16()), response),
            }
        }
    };
    finish(&shared, number, status, response)
}

/// What a fault's [`Edit`] may read besides the answer.
pub(crate) struct Ctx<'a> {
    pub(crate) shared: &'a Shared,
    /// The request's number, from 1.
    pub(crate) number: u64,
    /// The database the request's path names, if any.
    pub(crate) database: Option<Uuid>,
}

/// The answer changed as `edit` says.
async fn apply(edit: Edit, response: Response, ctx: &Ctx<'_>) -> Response {
    let (mut head, body) = response.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let edit_json = match edit {
        Edit::Answer(edit) => return edit(head, bytes),
        Edit::Success(_) if !head.status.is_success() => None,
        Edit::Success(edit) | Edit::Json(edit) => Some(edit),
    };
    let edited = edit_json.and_then(|edit| {
        let mut value = serde_json::from_slice::<Value>(&bytes).ok()?;
        edit(&mut value, ctx);
        serde_json::to_vec(&value).ok()
    });
    match edited {
        Some(edited) => {
            head.headers.remove(CONTENT_LENGTH);
            Response::from_parts(head, Body::from(edited))
        }
        None => Response::from_parts(head, Body::from(bytes)),
    }
}

/// Whether this request is past [`MockConfig::rate_limit`](crate::MockConfig::rate_limit) in
/// its one-second window (fixed windows, as many APIs count).
fn over_rate_limit(shared: &Shared, at: Instant) -> bool {
    let Some(limit) = shared.rate_limit else { return false };
    let mut window = lock(&shared.rate_window);
    if at.saturating_duration_since(window.0) >= Duration::from_secs(1) {
        *window = (at, 0);
    }
    window.1 += 1;
    window.1 > limit
}

/// The database a path names, if it names one (`/database/{id}/backup…`).
fn database_in(path: &str) -> Option<Uuid> {
    let rest = path.strip_prefix("/database/")?;
    Uuid::parse_str(rest.split('/').next()?).ok()
}

/// Numbers the request, decides its fault and appends it to the log, under one lock (always
/// taken in this order) so that concurrent requests agree on which is the Nth.
fn record(
    shared: &Shared,
    parts: &http::request::Parts,
    body: &Result<Bytes, axum::Error>,
    at: Instant,
) -> (u64, Option<Fault>) {
    let key = request_key(parts);
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
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: detached_headers(&parts.headers),
        auth_scheme: auth_scheme(&parts.headers),
        // A copy, for the same reason as the headers.
        body: body.as_ref().map(|b| Bytes::copy_from_slice(b)).unwrap_or_default(),
        at,
        fault: fault.clone(),
        status: None,
    });
    (number, fault)
}

/// What makes two requests "the same request" for the cap on consecutive faults: method, path
/// and query.
fn request_key(parts: &http::request::Parts) -> String {
    format!("{} {}?{}", parts.method, parts.uri.path(), parts.uri.query().unwrap_or(""))
}

/// The first word of the `Authorization` header, the only part of it the log keeps.
fn auth_scheme(headers: &HeaderMap) -> Option<String> {
    headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_whitespace().next())
        .map(str::to_owned)
}

async fn sleep_unless_zero(duration: Duration) {
    if !duration.is_zero() {
        tokio::time::sleep(duration).await;
    }
}

/// Orders the connection killed when hyper next writes to it. Requests served without the
/// accept loop (none today) have no control, and are answered normally.
fn arm(control: Option<&ConnControl>, kill: Kill) {
    if let Some(control) = control {
        control.arm(kill);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_is_read_from_the_path_when_there_is_one() {
        let id = Uuid::from_u128(7);
        assert_eq!(database_in(&format!("/database/{id}/backup")), Some(id));
        assert_eq!(database_in(&format!("/database/{id}/backup/{id}")), Some(id));
        assert_eq!(database_in("/database/nope/backup"), None);
        assert_eq!(database_in("/organization"), None);
    }

    #[test]
    fn the_request_key_is_method_path_and_query() {
        let (parts, ()) = http::Request::get("/database/x/backup?startId=abc").body(()).unwrap().into_parts();
        assert_eq!(request_key(&parts), "GET /database/x/backup?startId=abc");
        let (parts, ()) = http::Request::delete("/database/x/backup/y").body(()).unwrap().into_parts();
        assert_eq!(request_key(&parts), "DELETE /database/x/backup/y?");
    }

    #[test]
    fn only_the_scheme_of_the_authorization_header_is_kept() {
        let mut headers = HeaderMap::new();
        assert_eq!(auth_scheme(&headers), None);
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer secret.jwt.value"));
        assert_eq!(auth_scheme(&headers).as_deref(), Some("Bearer"));
    }
}
