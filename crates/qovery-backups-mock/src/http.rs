//! The HTTP side: the operations of openapi.yaml (three on backups, four discovery listings), authentication, error bodies, and the
//! pipeline that applies latency and faults around them.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;
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
use crate::fault::{BIG_HEADER_BYTES, Fault, FaultState};
use crate::fleet::{FleetError, Hierarchy};
use crate::hostile::{self, ChunkBody, backups_in};
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

/// Logging, latency, faults and authentication, around every request, in four steps: record the
/// request (and decide its fault), wait the configured latency, act on the fault before the
/// operation (break the connection, answer instead, or wait), then after it (change or cut the
/// answer). Each step is its own function below; this one only sequences them.
async fn pipeline(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let at = Instant::now();
    let (mut parts, body) = request.into_parts();
    let control = parts.extensions.remove::<Arc<ConnControl>>();
    let body = to_bytes(body, MAX_BODY).await;
    let (number, fault) = record(&shared, &parts, &body, at);
    if over_rate_limit(&shared, at) {
        let detail = "rate limit exceeded: too many requests this second".to_owned();
        return finish(&shared, number, Some(429), too_many_requests("1".to_owned(), detail));
    }
    wait_latency(&shared).await;

    let (status, response) = match plan(fault.as_ref()) {
        Plan::Kill(kill) => {
            arm(control.as_deref(), kill);
            (None, placeholder())
        }
        Plan::Replace(fault) => {
            let response = normalize_error(replacement(fault, &shared, &parts)).await;
            (Some(response.status().as_u16()), response)
        }
        Plan::Run { before, after, then } => {
            let database = database_in(parts.uri.path());
            sleep_unless_zero(before).await;
            let response = process(&shared, parts, body, next).await;
            sleep_unless_zero(after).await;
            let response = normalize_error(response).await;
            let context = AfterContext { shared: &shared, number, control: control.as_deref(), database };
            after_operation(then, response, context).await
        }
    };
    finish(&shared, number, status, response)
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

/// How a fault acts on a request, decided from the fault alone.
#[derive(Debug, PartialEq, Eq)]
enum Plan<'a> {
    /// Break the connection without running the operation.
    Kill(Kill),
    /// Answer with [`replacement`] for this fault, without running the operation.
    Replace(&'a Fault),
    /// Run the operation, waiting `before` it and `after` it, then change its answer as `then`
    /// says.
    Run { before: Duration, after: Duration, then: After },
}

/// What happens to the operation's answer once it is made.
#[derive(Debug, PartialEq, Eq)]
enum After {
    /// Sent as it is.
    Keep,
    /// [`unknown_enums`] applied to a success body.
    UnknownEnum,
    /// [`unknown_fields`] applied to a success body.
    UnknownFields,
    /// Sent with its full `Content-Length` but cut half-way.
    Truncate,
    /// Dropped: the connection is reset instead.
    Lost,
    /// [`hostile::huge`] applied to a success body.
    Huge,
    /// [`hostile::escapes`] applied to any JSON body.
    Escape,
    /// [`hostile::far_future`] applied to a success body.
    Future,
    /// [`hostile::float_page`] applied to a success body.
    FloatPage,
    /// A header of [`BIG_HEADER_BYTES`] added.
    BigHeader,
    /// A backup of two pages before inserted into a page.
    RepeatOld,
}

/// Where each fault acts. A pure function of the fault, so that which faults apply the operation
/// is decided in one place (and tested against [`Fault::applies_operation`]).
fn plan(fault: Option<&Fault>) -> Plan<'_> {
    let run = |then| Plan::Run { before: Duration::ZERO, after: Duration::ZERO, then };
    let Some(fault) = fault else { return run(After::Keep) };
    match fault {
        Fault::Reset => Plan::Kill(Kill::Reset),
        Fault::Close => Plan::Kill(Kill::Close),
        Fault::Status(_)
        | Fault::RetryAfterSeconds(_)
        | Fault::RetryAfterDate(_)
        | Fault::BadJson
        | Fault::Endless
        | Fault::Echo
        | Fault::Redirect => Plan::Replace(fault),
        Fault::Slow(delay) => Plan::Run { before: *delay, after: Duration::ZERO, then: After::Keep },
        Fault::Late(delay) => Plan::Run { before: Duration::ZERO, after: *delay, then: After::Keep },
        Fault::Truncate => run(After::Truncate),
        Fault::Lost => run(After::Lost),
        Fault::UnknownEnum => run(After::UnknownEnum),
        Fault::UnknownFields => run(After::UnknownFields),
        Fault::Huge => run(After::Huge),
        Fault::Escape => run(After::Escape),
        Fault::Future => run(After::Future),
        Fault::FloatPage => run(After::FloatPage),
        Fault::BigHeader => run(After::BigHeader),
        Fault::RepeatOld => run(After::RepeatOld),
    }
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

async fn wait_latency(shared: &Shared) {
    let latency = *lock(&shared.latency);
    sleep_unless_zero(latency).await;
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

/// The answer a [`Plan::Replace`] fault sends instead of running the operation.
fn replacement(fault: &Fault, shared: &Shared, parts: &http::request::Parts) -> Response {
    match fault {
        Fault::Endless => {
            // Any backup will do: the client is meant to give up long before the end.
            let backup = lock(&shared.store)
                .first_backup()
                .and_then(|b| serde_json::to_value(b).ok())
                .unwrap_or_else(|| json!({}));
            let chunks = hostile::endless_page(shared.page_size, &backup);
            let body = Body::new(ChunkBody::new(chunks, Some(Arc::clone(&shared.open_streams))));
            (StatusCode::OK, [(CONTENT_TYPE, HeaderValue::from_static("application/json"))], body)
                .into_response()
        }
        Fault::Echo => {
            error(StatusCode::BAD_REQUEST, hostile::echo(&parts.method, &parts.uri, &parts.headers))
        }
        Fault::Redirect => {
            let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
            let location = format!("http://localhost:{}/redirected{path}", shared.addr.port());
            let mut response = StatusCode::FOUND.into_response();
            if let Ok(value) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(http::header::LOCATION, value);
            }
            response
        }
        Fault::Status(code) => {
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
        Fault::RetryAfterSeconds(secs) => too_many_requests(
            secs.to_string(),
            format!("rate limit exceeded; retry after {secs} s (injected fault)"),
        ),
        Fault::RetryAfterDate(secs) => {
            let date = retry_after_date(SystemTime::now(), *secs);
            too_many_requests(
                date.clone(),
                format!("rate limit exceeded; retry after {date} (injected fault)"),
            )
        }
        Fault::BadJson => json_bytes(
            StatusCode::OK,
            b"{\"page\": 1, \"page_size\": 20, \"results\": [{\"id\": \"<html>".to_vec(),
        ),
        // `plan` sends no other fault here.
        _ => placeholder(),
    }
}

/// The HTTP-date `secs` seconds after `now`. An HTTP-date has whole seconds: it is rounded up so
/// that the client never waits less than asked. Capped at a year: a `SystemTime` past the
/// representable range would panic.
fn retry_after_date(now: SystemTime, secs: u64) -> String {
    let since_epoch = now.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let ahead = secs.min(365 * 24 * 3600) + 1;
    httpdate::fmt_http_date(SystemTime::UNIX_EPOCH + Duration::from_secs(since_epoch.as_secs() + ahead))
}

/// What [`after_operation`] needs besides the answer.
struct AfterContext<'a> {
    shared: &'a Shared,
    number: u64,
    control: Option<&'a ConnControl>,
    /// The database the request's path names, if any.
    database: Option<Uuid>,
}

/// Changes, cuts or drops the operation's answer; returns the status the client will see, if any.
async fn after_operation(
    then: After,
    response: Response,
    context: AfterContext<'_>,
) -> (Option<u16>, Response) {
    let AfterContext { shared, number, control, database } = context;
    let response = match then {
        After::Keep => response,
        After::UnknownEnum => rewrite_success(response, |v| unknown_enums(v, number)).await,
        After::UnknownFields => rewrite_success(response, |v| unknown_fields(v, number)).await,
        After::Truncate => {
            let (parts, body) = response.into_parts();
            let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
            arm(control, Kill::Truncate { body_len: bytes.len() });
            Response::from_parts(parts, Body::from(bytes))
        }
        After::Lost => {
            arm(control, Kill::Reset);
            return (None, placeholder());
        }
        After::Huge => huge(response).await,
        After::Escape => rewrite_json(response, hostile::escapes).await,
        After::Future => rewrite_success(response, hostile::far_future).await,
        After::FloatPage => rewrite_success(response, hostile::float_page).await,
        After::BigHeader => {
            let mut response = response;
            let padding = HeaderValue::from_bytes(&vec![b'a'; BIG_HEADER_BYTES]);
            if let Ok(padding) = padding {
                response.headers_mut().insert(HeaderName::from_static("x-mock-padding"), padding);
            }
            response
        }
        After::RepeatOld => {
            let old = |page: i64| -> Option<Value> {
                // The first backup of page `page - 2`, counting newest first.
                let index = usize::try_from(page.checked_sub(3)?).ok()?.checked_mul(shared.page_size)?;
                let backup = lock(&shared.store).nth_newest(database?, index)?;
                serde_json::to_value(backup).ok()
            };
            rewrite_success(response, |value| {
                if let Some(old) = value.get("page").and_then(Value::as_i64).and_then(old) {
                    hostile::insert_repeat(value, old);
                }
            })
            .await
        }
    };
    (Some(response.status().as_u16()), response)
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
    rewrite_json(response, edit).await
}

/// The answer with its body padded by [`hostile::huge`], when it is a success with a backup.
async fn huge(response: Response) -> Response {
    if !response.status().is_success() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let padded = serde_json::from_slice::<Value>(&bytes).ok().and_then(hostile::huge);
    match padded {
        Some(chunks) => {
            parts.headers.remove(CONTENT_LENGTH);
            Response::from_parts(parts, Body::new(ChunkBody::new(chunks, None)))
        }
        None => Response::from_parts(parts, Body::from(bytes)),
    }
}

/// Applies `edit` to a JSON body, whatever the status; a body that is not JSON passes unchanged.
async fn rewrite_json(response: Response, edit: impl FnOnce(&mut Value)) -> Response {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// One fault of every kind, so a new kind cannot be left out of these tests unnoticed: the
    /// match below fails to compile (in this crate, `Fault` is exhaustive) until it is listed.
    fn every_kind() -> Vec<Fault> {
        let all = vec![
            Fault::Status(503),
            Fault::RetryAfterSeconds(2),
            Fault::RetryAfterDate(2),
            Fault::Reset,
            Fault::Close,
            Fault::Truncate,
            Fault::Slow(Duration::from_millis(1500)),
            Fault::Late(Duration::from_secs(3)),
            Fault::BadJson,
            Fault::Lost,
            Fault::UnknownEnum,
            Fault::UnknownFields,
            Fault::Endless,
            Fault::Huge,
            Fault::Echo,
            Fault::Escape,
            Fault::Future,
            Fault::FloatPage,
            Fault::Redirect,
            Fault::BigHeader,
            Fault::RepeatOld,
        ];
        for fault in &all {
            match fault {
                Fault::Status(_)
                | Fault::RetryAfterSeconds(_)
                | Fault::RetryAfterDate(_)
                | Fault::Reset
                | Fault::Close
                | Fault::Truncate
                | Fault::Slow(_)
                | Fault::Late(_)
                | Fault::BadJson
                | Fault::Lost
                | Fault::UnknownEnum
                | Fault::UnknownFields
                | Fault::Endless
                | Fault::Huge
                | Fault::Echo
                | Fault::Escape
                | Fault::Future
                | Fault::FloatPage
                | Fault::Redirect
                | Fault::BigHeader
                | Fault::RepeatOld => {}
            }
        }
        all
    }

    #[test]
    fn no_fault_runs_the_operation_and_keeps_its_answer() {
        assert_eq!(
            plan(None),
            Plan::Run { before: Duration::ZERO, after: Duration::ZERO, then: After::Keep }
        );
    }

    #[test]
    fn a_fault_runs_the_operation_exactly_when_it_says_it_applies_it() {
        for fault in every_kind() {
            let runs = matches!(plan(Some(&fault)), Plan::Run { .. });
            assert_eq!(runs, fault.applies_operation(), "{fault}");
        }
    }

    #[test]
    fn a_fault_gives_a_complete_answer_exactly_when_it_says_so() {
        for fault in every_kind() {
            let cut = match plan(Some(&fault)) {
                Plan::Kill(_) => true,
                // The one made-up answer that never completes.
                Plan::Replace(replaced) => {
                    assert_eq!(*replaced, fault);
                    fault == Fault::Endless
                }
                Plan::Run { then, .. } => matches!(then, After::Truncate | After::Lost),
            };
            assert_eq!(!cut, fault.answers(), "{fault}");
        }
    }

    #[test]
    fn slow_waits_before_the_operation_and_late_after_it() {
        let d = Duration::from_millis(1500);
        assert_eq!(
            plan(Some(&Fault::Slow(d))),
            Plan::Run { before: d, after: Duration::ZERO, then: After::Keep }
        );
        assert_eq!(
            plan(Some(&Fault::Late(d))),
            Plan::Run { before: Duration::ZERO, after: d, then: After::Keep }
        );
    }

    #[test]
    fn connection_faults_kill_with_their_own_kind() {
        assert_eq!(plan(Some(&Fault::Reset)), Plan::Kill(Kill::Reset));
        assert_eq!(plan(Some(&Fault::Close)), Plan::Kill(Kill::Close));
    }

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

    #[test]
    fn a_retry_after_date_is_rounded_up_and_capped_at_a_year() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_millis(10_500);
        // 10.5 s + 2 s, rounded up: 13 s after the epoch.
        assert_eq!(retry_after_date(now, 2), "Thu, 01 Jan 1970 00:00:13 GMT");
        let capped = retry_after_date(SystemTime::UNIX_EPOCH, u64::MAX);
        assert_eq!(
            capped,
            httpdate::fmt_http_date(SystemTime::UNIX_EPOCH + Duration::from_secs(365 * 24 * 3600 + 1))
        );
    }
}
