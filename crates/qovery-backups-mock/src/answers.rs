//! What the fault kinds answer instead of the operation (a status, a 429, a body that is not
//! JSON or never ends, an echo of the request, a redirect), and how they change the operation's
//! answer (enum values and fields openapi.yaml does not know, terminal escapes, a date in 9999,
//! floats for counts, a repeated backup, a huge body or header). `Fault::kind` says which kind
//! does what; the pipeline in `http.rs` calls these.

use std::convert::Infallible;
use std::fmt::Write as _;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use axum::body::{Body, Bytes};
use axum::response::{IntoResponse, Response};
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use http::{HeaderName, HeaderValue, StatusCode, request, response};
use hyper::body::{Body as HttpBody, Frame};
use serde_json::{Value, json};

use crate::fault::{BIG_HEADER_BYTES, ENDLESS_CAP, HOSTILE_TEXT, HUGE_PADDING};
use crate::http::{Ctx, Shared, error, json_bytes, lock};

/// A response body made by an iterator of chunks, each sent as soon as hyper can write it.
///
/// While it lives it counts itself in `open`, so that a test can see it stop when its client
/// goes away (hyper drops the body when a write to the connection fails).
pub(crate) struct ChunkBody {
    chunks: Box<dyn Iterator<Item = Bytes> + Send>,
    open: Option<Arc<AtomicUsize>>,
}

impl ChunkBody {
    pub(crate) fn new(
        chunks: impl Iterator<Item = Bytes> + Send + 'static,
        open: Option<Arc<AtomicUsize>>,
    ) -> Self {
        if let Some(open) = &open {
            open.fetch_add(1, Ordering::SeqCst);
        }
        Self { chunks: Box::new(chunks), open }
    }
}

impl Drop for ChunkBody {
    fn drop(&mut self) {
        if let Some(open) = &self.open {
            open.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl HttpBody for ChunkBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.get_mut().chunks.next().map(|chunk| Ok(Frame::data(chunk))))
    }
}

/// How many bytes of repeated items make one chunk of an endless body: big enough that hyper's
/// per-chunk cost does not matter, small enough to stop soon after the client leaves.
const CHUNK_TARGET: usize = 64 << 10;

/// `prefix`, then `item` followed by a comma, again and again, in chunks of about 64 KiB, until
/// `cap` bytes in all (the last chunk cut to fit).
fn endless_chunks(prefix: Bytes, item: &[u8], cap: u64) -> impl Iterator<Item = Bytes> + Send + use<> {
    let mut unit = item.to_vec();
    unit.push(b',');
    let repeat = CHUNK_TARGET.div_ceil(unit.len().max(1));
    let chunk = Bytes::from(unit.repeat(repeat));
    let mut left = cap;
    std::iter::once(prefix).chain(std::iter::repeat(chunk)).map_while(move |chunk| {
        if left == 0 {
            return None;
        }
        let take = usize::try_from(left).map_or(chunk.len(), |left| chunk.len().min(left));
        left -= take as u64;
        Some(chunk.slice(..take))
    })
}

// ---------------------------------------------------------------------------------------------
// Answers sent instead of running the operation.

/// `code` with an `{"status", "detail"}` body.
pub(crate) fn status(code: u16) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let reason = status.canonical_reason().unwrap_or("error");
    error(status, format!("{} {reason} (injected fault)", status.as_u16()))
}

/// 429 with `Retry-After` in seconds.
pub(crate) fn retry_after_seconds(secs: u64) -> Response {
    too_many_requests(secs.to_string(), format!("rate limit exceeded; retry after {secs} s (injected fault)"))
}

/// 429 with `Retry-After` as the HTTP-date `secs` seconds after `now`.
pub(crate) fn retry_after_date(now: SystemTime, secs: u64) -> Response {
    let date = http_date_after(now, secs);
    let detail = format!("rate limit exceeded; retry after {date} (injected fault)");
    too_many_requests(date, detail)
}

/// 429 with this `Retry-After`, as a rate-limited API answers.
pub(crate) fn too_many_requests(retry_after: String, detail: String) -> Response {
    let mut response = error(StatusCode::TOO_MANY_REQUESTS, detail);
    if let Ok(value) = HeaderValue::from_str(&retry_after) {
        response.headers_mut().insert(RETRY_AFTER, value);
    }
    response
}

/// The HTTP-date `secs` seconds after `now`. An HTTP-date has whole seconds: it is rounded up so
/// that the client never waits less than asked. Capped at a year: a `SystemTime` past the
/// representable range would panic.
fn http_date_after(now: SystemTime, secs: u64) -> String {
    let since_epoch = now.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let ahead = secs.min(365 * 24 * 3600) + 1;
    httpdate::fmt_http_date(SystemTime::UNIX_EPOCH + Duration::from_secs(since_epoch.as_secs() + ahead))
}

/// A 200 that says it is JSON and is not.
pub(crate) fn bad_json() -> Response {
    json_bytes(StatusCode::OK, b"{\"page\": 1, \"page_size\": 20, \"results\": [{\"id\": \"<html>".to_vec())
}

/// A 200 page that never closes its `results`: one backup (any: the client is meant to give up
/// long before the end) again and again, cut at [`ENDLESS_CAP`].
pub(crate) fn endless(shared: &Shared, _: &request::Parts) -> Response {
    let backup = lock(&shared.store).first_backup().and_then(|b| serde_json::to_value(b).ok());
    let chunks = endless_page(shared.page_size, &backup.unwrap_or_else(|| json!({})));
    let body = Body::new(ChunkBody::new(chunks, Some(Arc::clone(&shared.open_streams))));
    (StatusCode::OK, [(CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
}

fn endless_page(page_size: usize, backup: &Value) -> impl Iterator<Item = Bytes> + Send + use<> {
    let prefix = Bytes::from(format!("{{\"page\":1,\"page_size\":{page_size},\"results\":["));
    let item = serde_json::to_vec(backup).unwrap_or_default();
    endless_chunks(prefix, &item, ENDLESS_CAP)
}

/// A 400 whose detail is the request as a proxy that echoes it would print it: request line,
/// then every header as received, the secret ones included.
pub(crate) fn echo(_: &Shared, request: &request::Parts) -> Response {
    let mut text = format!("bad request; the proxy received:\n{} {} HTTP/1.1\n", request.method, request.uri);
    for (name, value) in &request.headers {
        let _ = writeln!(text, "{name}: {}", String::from_utf8_lossy(value.as_bytes()));
    }
    error(StatusCode::BAD_REQUEST, text)
}

/// 302 to the same server under another host name (`localhost`), so that following it is a
/// cross-origin request.
pub(crate) fn redirect(shared: &Shared, request: &request::Parts) -> Response {
    let path = request.uri.path_and_query().map_or("/", |p| p.as_str());
    let location = format!("http://localhost:{}/redirected{path}", shared.addr.port());
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

// ---------------------------------------------------------------------------------------------
// Changes to the operation's answer.

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

/// Every other backup, from the first, gets a value openapi.yaml does not list in each enum,
/// numbered after the request.
pub(crate) fn unknown_enums(value: &mut Value, ctx: &Ctx<'_>) {
    let n = ctx.number;
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
pub(crate) fn unknown_fields(value: &mut Value, ctx: &Ctx<'_>) {
    let n = ctx.number;
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

fn append(object: &mut Value, key: &str, text: &str) {
    if let Some(Value::String(value)) = object.get_mut(key) {
        value.push_str(text);
    }
}

/// [`HOSTILE_TEXT`] after every backup's name and message, and after an error's detail.
pub(crate) fn escapes(value: &mut Value, _: &Ctx<'_>) {
    append(value, "detail", HOSTILE_TEXT);
    for backup in backups_in(value) {
        append(backup, "name", HOSTILE_TEXT);
        append(backup, "message", HOSTILE_TEXT);
    }
}

/// The first backup made `SUCCESS` and dated on the last day of year 9999.
pub(crate) fn far_future(value: &mut Value, _: &Ctx<'_>) {
    let Some(backup) = backups_in(value).into_iter().next() else { return };
    let date = Value::String("9999-12-31T23:59:59Z".to_owned());
    backup["created_at"] = date.clone();
    backup["updated_at"] = date;
    if let Some(status) = backup.get_mut("status").filter(|s| s.is_object()) {
        status["state"] = json!("DEPLOYED");
        if let Some(details) = status.get_mut("status_details").filter(|d| d.is_object()) {
            details["status"] = json!("SUCCESS");
        }
    }
}

/// `page` and `page_size` written as floats.
pub(crate) fn float_page(value: &mut Value, _: &Ctx<'_>) {
    for key in ["page", "page_size"] {
        if let Some(slot) = value.get_mut(key)
            && let Some(n) = slot.as_i64()
        {
            *slot = json!(n as f64);
        }
    }
}

/// From the third page on, the first backup of the page two before, in the middle of the
/// results: never last, so never the next cursor.
pub(crate) fn repeat_old(value: &mut Value, ctx: &Ctx<'_>) {
    let old = |page: i64| -> Option<Value> {
        // The first backup of page `page - 2`, counting newest first.
        let index = usize::try_from(page.checked_sub(3)?).ok()?.checked_mul(ctx.shared.page_size)?;
        let backup = lock(&ctx.shared.store).nth_newest(ctx.database?, index)?;
        serde_json::to_value(backup).ok()
    };
    if let Some(old) = value.get("page").and_then(Value::as_i64).and_then(old) {
        insert_repeat(value, old);
    }
}

/// Puts `old` in the middle of a non-empty page's results.
fn insert_repeat(value: &mut Value, old: Value) {
    if let Some(results) = value.get_mut("results").and_then(Value::as_array_mut)
        && !results.is_empty()
    {
        let middle = results.len() / 2;
        results.insert(middle, old);
    }
}

/// One more header, of [`BIG_HEADER_BYTES`].
pub(crate) fn big_header(mut head: response::Parts, body: Bytes) -> Response {
    if let Ok(padding) = HeaderValue::from_bytes(&vec![b'a'; BIG_HEADER_BYTES]) {
        head.headers.insert(HeaderName::from_static("x-mock-padding"), padding);
    }
    Response::from_parts(head, Body::from(body))
}

/// A marker no real message contains, replaced by the padding once the body is serialized.
const PADDING_MARKER: &str = "\u{0}qovery-mock-padding\u{0}";

/// A success with a backup gets the first backup's message padded by [`HUGE_PADDING`] bytes of
/// `x`, sent in chunks that never hold the padding in memory at once; other answers are sent as
/// they are.
pub(crate) fn huge(mut head: response::Parts, body: Bytes) -> Response {
    let padded = head.status.is_success().then(|| serde_json::from_slice(&body).ok().and_then(pad)).flatten();
    match padded {
        Some(chunks) => {
            head.headers.remove(CONTENT_LENGTH);
            Response::from_parts(head, Body::new(ChunkBody::new(chunks, None)))
        }
        None => Response::from_parts(head, Body::from(body)),
    }
}

fn pad(mut value: Value) -> Option<impl Iterator<Item = Bytes> + Send + 'static> {
    let backup = backups_in(&mut value).into_iter().next()?;
    append(backup, "message", PADDING_MARKER);
    let bytes = serde_json::to_vec(&value).ok()?;
    let marker = serde_json::to_string(PADDING_MARKER).ok()?;
    // The marker as it appears inside the serialized string: without its quotes.
    let marker = &marker.as_bytes()[1..marker.len() - 1];
    let at = bytes.windows(marker.len()).position(|w| w == marker)?;
    let bytes = Bytes::from(bytes);
    let (head, tail) = (bytes.slice(..at), bytes.slice(at + marker.len()..));
    let xs = Bytes::from(vec![b'x'; CHUNK_TARGET]);
    let full = HUGE_PADDING / CHUNK_TARGET;
    let rest = HUGE_PADDING % CHUNK_TARGET;
    let pad = std::iter::repeat_n(xs.clone(), full).chain((rest > 0).then(|| xs.slice(..rest)));
    Some(std::iter::once(head).chain(pad).chain(std::iter::once(tail)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endless_chunks_stop_at_the_cap_exactly() {
        for cap in [0u64, 1, 10, 70_000, 1 << 20] {
            let total: u64 =
                endless_chunks(Bytes::from_static(b"[["), b"{\"a\":1}", cap).map(|c| c.len() as u64).sum();
            assert_eq!(total, cap);
        }
    }

    #[test]
    fn an_endless_page_is_a_page_that_never_closes() {
        let mut chunks = endless_page(20, &json!({"id": "x"}));
        let first = chunks.next().unwrap();
        assert_eq!(&first[..], b"{\"page\":1,\"page_size\":20,\"results\":[");
        let second = chunks.next().unwrap();
        assert!(second.starts_with(b"{\"id\":\"x\"},{\"id\":\"x\"},"));
        assert!(!second.contains(&b']'));
    }

    #[test]
    fn a_huge_body_is_the_same_json_with_a_long_message() {
        let value = json!({"page": 1, "page_size": 20, "results": [{"id": "a", "message": "m\"q"}, {"id": "b", "message": "n"}]});
        let bytes: Vec<u8> = pad(value).unwrap().flat_map(|c| c.to_vec()).collect();
        let back: Value = serde_json::from_slice(&bytes).unwrap();
        let message = back["results"][0]["message"].as_str().unwrap();
        assert_eq!(message.len(), 3 + HUGE_PADDING);
        assert!(message.starts_with("m\"qxxx"));
        assert_eq!(back["results"][1]["message"], "n");
        assert!(pad(json!({"page": 1, "page_size": 20, "results": []})).is_none());
    }

    #[test]
    fn a_retry_after_date_is_rounded_up_and_capped_at_a_year() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_millis(10_500);
        // 10.5 s + 2 s, rounded up: 13 s after the epoch.
        assert_eq!(http_date_after(now, 2), "Thu, 01 Jan 1970 00:00:13 GMT");
        let capped = http_date_after(SystemTime::UNIX_EPOCH, u64::MAX);
        assert_eq!(
            capped,
            httpdate::fmt_http_date(SystemTime::UNIX_EPOCH + Duration::from_secs(365 * 24 * 3600 + 1))
        );
    }

    #[test]
    fn a_repeat_is_never_the_last_of_a_page() {
        for len in 1..5 {
            let mut value = json!({"results": (0..len).collect::<Vec<_>>()});
            insert_repeat(&mut value, json!("old"));
            let results = value["results"].as_array().unwrap();
            assert_eq!(results.len(), len + 1);
            assert_ne!(results[len], "old");
        }
        let mut empty = json!({"results": []});
        insert_repeat(&mut empty, json!("old"));
        assert_eq!(empty["results"], json!([]));
    }
}
