//! Hostile answers: the bodies and edits behind the fault kinds that answer in ways a careful
//! client must survive (endless or huge bodies, echoed secrets, terminal escapes, dates far in the
//! future, floats for integers, repeated backups). The pipeline in `http.rs` decides when each
//! applies; this module only makes or changes the answer.

use std::convert::Infallible;
use std::fmt::Write as _;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use axum::body::Bytes;
use http::HeaderMap;
use hyper::body::{Body as HttpBody, Frame};
use serde_json::{Value, json};

use crate::fault::{ENDLESS_CAP, HOSTILE_TEXT, HUGE_PADDING};

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
pub(crate) fn endless_chunks(
    prefix: Bytes,
    item: &[u8],
    cap: u64,
) -> impl Iterator<Item = Bytes> + Send + use<> {
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

/// The chunks of [`Fault::Endless`](crate::Fault::Endless): a page that never closes its
/// `results`, made of `backup` repeated, cut at [`ENDLESS_CAP`].
pub(crate) fn endless_page(page_size: usize, backup: &Value) -> impl Iterator<Item = Bytes> + Send + use<> {
    let prefix = Bytes::from(format!("{{\"page\":1,\"page_size\":{page_size},\"results\":["));
    let item = serde_json::to_vec(backup).unwrap_or_default();
    endless_chunks(prefix, &item, ENDLESS_CAP)
}

/// The request as a proxy that echoes it would print it: request line, then every header as
/// received, the secret ones included.
pub(crate) fn echo(method: &http::Method, uri: &http::Uri, headers: &HeaderMap) -> String {
    let mut text = format!("bad request; the proxy received:\n{method} {uri} HTTP/1.1\n");
    for (name, value) in headers {
        let _ = writeln!(text, "{name}: {}", String::from_utf8_lossy(value.as_bytes()));
    }
    text
}

/// The backups in a page body, or the backup a create answered.
pub(crate) fn backups_in(value: &mut Value) -> Vec<&mut Value> {
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

fn append(object: &mut Value, key: &str, text: &str) {
    if let Some(Value::String(value)) = object.get_mut(key) {
        value.push_str(text);
    }
}

/// [`HOSTILE_TEXT`] after every backup's name and message, and after an error's detail.
pub(crate) fn escapes(value: &mut Value) {
    append(value, "detail", HOSTILE_TEXT);
    for backup in backups_in(value) {
        append(backup, "name", HOSTILE_TEXT);
        append(backup, "message", HOSTILE_TEXT);
    }
}

/// The first backup made `SUCCESS` and dated on the last day of year 9999.
pub(crate) fn far_future(value: &mut Value) {
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
pub(crate) fn float_page(value: &mut Value) {
    for key in ["page", "page_size"] {
        if let Some(slot) = value.get_mut(key)
            && let Some(n) = slot.as_i64()
        {
            *slot = json!(n as f64);
        }
    }
}

/// Puts `old` in the middle of a non-empty page's results: never last, so never the next cursor.
pub(crate) fn insert_repeat(value: &mut Value, old: Value) {
    if let Some(results) = value.get_mut("results").and_then(Value::as_array_mut)
        && !results.is_empty()
    {
        let middle = results.len() / 2;
        results.insert(middle, old);
    }
}

/// A marker no real message contains, replaced by the padding once the body is serialized.
const PADDING_MARKER: &str = "\u{0}qovery-mock-padding\u{0}";

/// A success body with the first backup's message padded by [`HUGE_PADDING`] bytes of `x`, as
/// chunks that never hold the padding in memory at once; `None` when the body has no backup.
pub(crate) fn huge(mut value: Value) -> Option<impl Iterator<Item = Bytes> + Send + 'static> {
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
        let bytes: Vec<u8> = huge(value).unwrap().flat_map(|c| c.to_vec()).collect();
        let back: Value = serde_json::from_slice(&bytes).unwrap();
        let message = back["results"][0]["message"].as_str().unwrap();
        assert_eq!(message.len(), 3 + HUGE_PADDING);
        assert!(message.starts_with("m\"qxxx"));
        assert_eq!(back["results"][1]["message"], "n");
        assert!(huge(json!({"page": 1, "page_size": 20, "results": []})).is_none());
    }

    #[test]
    fn float_page_writes_floats() {
        let mut value = json!({"page": 2, "page_size": 20, "results": []});
        float_page(&mut value);
        assert_eq!(serde_json::to_string(&value).unwrap(), r#"{"page":2.0,"page_size":20.0,"results":[]}"#);
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
