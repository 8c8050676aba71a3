//! The one hand-written hook every generated call goes through: it bounds how much of an answer
//! is read.
//!
//! progenitor reads a successful body whole (`Response::bytes`) before decoding it, so a proxy
//! or a compromised endpoint that sends an endless body would grow the process without limit.
//! [`Limits`] rides on every generated [`Client`](crate::Client) and the `exec` hook below
//! wraps each answer's body in a counter that fails the read as soon as it passes
//! [`Limits::max_response_bytes`], before the excess is buffered.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};

/// Limits applied to every answer read by the generated [`Client`](crate::Client).
///
/// ```
/// use qovery_backups_api::{Client, ClientInfo as _, Limits};
///
/// let client = Client::new("https://api.qovery.com", Limits::default().with_max_response_bytes(1 << 20));
/// assert_eq!(client.inner().max_response_bytes(), 1 << 20);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    max_response_bytes: u64,
}

/// The default bound on one answer: a page of 20 backups is tens of kilobytes, so 8 MiB leaves
/// room for far larger pages while stopping an endless body within milliseconds.
///
/// ```
/// use qovery_backups_api::{Client, ClientInfo as _, Limits, DEFAULT_MAX_RESPONSE_BYTES};
///
/// assert_eq!(DEFAULT_MAX_RESPONSE_BYTES, 8 << 20);
/// let client = Client::new("https://api.qovery.com", Limits::default());
/// assert_eq!(client.inner().max_response_bytes(), DEFAULT_MAX_RESPONSE_BYTES);
/// ```
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 8 * 1024 * 1024;

impl Default for Limits {
    fn default() -> Self {
        Limits { max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES }
    }
}

impl Limits {
    /// The most bytes of one answer's body that are read; past it the read fails with
    /// [`ResponseTooLarge`]. At least 1.
    ///
    /// ```
    /// use qovery_backups_api::Limits;
    ///
    /// assert_eq!(Limits::default().with_max_response_bytes(64 << 10).max_response_bytes(), 64 << 10);
    /// assert_eq!(Limits::default().with_max_response_bytes(0).max_response_bytes(), 1);
    /// ```
    pub fn with_max_response_bytes(mut self, max: u64) -> Self {
        self.max_response_bytes = max.max(1);
        self
    }

    /// The bound in force.
    ///
    /// ```
    /// assert_eq!(qovery_backups_api::Limits::default().max_response_bytes(), 8 << 20);
    /// ```
    pub fn max_response_bytes(&self) -> u64 {
        self.max_response_bytes
    }
}

/// The error a body read fails with when the answer is larger than [`Limits`] allow. It reaches
/// callers as the source of a `reqwest::Error`; find it with
/// `error.source().and_then(|e| e.downcast_ref::<ResponseTooLarge>())` or walk the chain.
///
/// ```
/// let error = qovery_backups_api::ResponseTooLarge { limit: 1024 };
/// assert_eq!(error.to_string(), "the answer was larger than 1024 bytes");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseTooLarge {
    /// The bound that was passed.
    pub limit: u64,
}

impl std::fmt::Display for ResponseTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the answer was larger than {} bytes", self.limit)
    }
}

impl std::error::Error for ResponseTooLarge {}

/// The error a body read fails with when a successful answer says it is not JSON (a captive
/// portal's or a proxy's login page, a wrong base URL): decoding it would only report "expected
/// value at line 1". Found like [`ResponseTooLarge`], in the source chain of a `reqwest::Error`.
///
/// ```
/// let error = qovery_backups_api::NotJson { content_type: "text/html".into(), start: "<html>".into() };
/// assert_eq!(error.to_string(), "the answer is `text/html`, not JSON");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotJson {
    /// The answer's `Content-Type`, as sent (at most 128 bytes).
    pub content_type: String,
    /// The start of the body (at most 512 bytes), for diagnosis.
    pub start: String,
}

/// How much of a body that is not JSON [`NotJson`] keeps: a page's title and first lines.
const NOT_JSON_START: usize = 512;

impl std::fmt::Display for NotJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the answer is `{}`, not JSON", self.content_type)
    }
}

impl std::error::Error for NotJson {}

impl ClientHooks<Limits> for crate::Client {
    async fn exec(
        &self,
        request: reqwest::Request,
        _info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let response = self.client().execute(request).await?;
        Ok(bounded(response, self.inner().max_response_bytes))
    }
}

/// The same answer, whose body fails to read past `limit` bytes. The parts (status, headers)
/// are moved, not copied: this runs for every page.
fn bounded(response: reqwest::Response, limit: u64) -> reqwest::Response {
    // A declared length over the limit fails at the first read, before any byte is buffered.
    let declared_too_long = response.content_length().is_some_and(|length| length > limit);
    let not_json = if response.status().is_success() { not_json_type(response.headers()) } else { None };
    let (parts, body) = http::Response::<reqwest::Body>::from(response).into_parts();
    let body =
        BoundedBody { inner: body, read: 0, limit, failed: declared_too_long, not_json, rejected: None };
    reqwest::Response::from(http::Response::from_parts(parts, reqwest::Body::wrap(body)))
}

/// A body that fails with [`ResponseTooLarge`] once more than `limit` bytes came through.
/// The declared type of a successful answer that says it is not JSON. Every success of this
/// API is JSON or empty (a 204); an answer without a `Content-Type` is given the benefit of the
/// doubt, and decoding judges it.
fn not_json_type(headers: &http::HeaderMap) -> Option<String> {
    let declared = headers.get(http::header::CONTENT_TYPE)?;
    let text = String::from_utf8_lossy(declared.as_bytes());
    let essence = text.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let json = essence == "application/json" || essence.ends_with("+json");
    (!json).then(|| text.chars().filter(|c| !c.is_control()).take(128).collect())
}

struct BoundedBody {
    inner: reqwest::Body,
    read: u64,
    limit: u64,
    failed: bool,
    /// Set when the answer declared a type other than JSON: its first bytes fail the read.
    not_json: Option<String>,
    /// The failure of such an answer, repeated to any later read.
    rejected: Option<NotJson>,
}

impl http_body::Body for BoundedBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        if self.failed {
            return Poll::Ready(Some(Err(Box::new(ResponseTooLarge { limit: self.limit }))));
        }
        if let Some(rejected) = &self.rejected {
            return Poll::Ready(Some(Err(Box::new(rejected.clone()))));
        }
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let (Some(content_type), Some(data)) = (self.not_json.take(), frame.data_ref()) {
                    if !data.is_empty() {
                        let start =
                            String::from_utf8_lossy(&data[..data.len().min(NOT_JSON_START)]).into_owned();
                        let rejected = NotJson { content_type, start };
                        self.rejected = Some(rejected.clone());
                        return Poll::Ready(Some(Err(Box::new(rejected))));
                    }
                    self.not_json = Some(content_type);
                }
                let length = frame.data_ref().map_or(0, |data| data.len() as u64);
                self.read = self.read.saturating_add(length);
                if self.read > self.limit {
                    // Ends the read here: whoever collects the body drops what it has so far.
                    self.failed = true;
                    return Poll::Ready(Some(Err(Box::new(ResponseTooLarge { limit: self.limit }))));
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(Box::new(e)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        !self.failed && self.rejected.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
