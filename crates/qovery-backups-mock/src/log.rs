//! The request log.

use bytes::Bytes;
use http::{HeaderMap, Method};
use tokio::time::Instant;

use crate::Fault;

/// How many records the log keeps: past this, the oldest are dropped, so a server left running
/// (a benchmark, `qovery-backups mock`) does not grow without end.
///
/// ```
/// // A soak test that sends more requests than this reads the log as it goes.
/// assert_eq!(qovery_backups_mock::REQUEST_LOG_CAPACITY, 100_000);
/// ```
pub const REQUEST_LOG_CAPACITY: usize = 100_000;

/// One request as the server received it, and what it did with it.
///
/// The `Authorization` header is not kept: [`auth_scheme`](RequestRecord::auth_scheme) says which
/// scheme was used, and the token never lands in a log or a `Debug` print.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
/// let url = format!("{}/organization", server.base_url());
/// reqwest::Client::new().get(url).bearer_auth(server.token()).send().await?;
///
/// let record = &server.requests()[0];
/// assert_eq!((record.number, record.method.as_str(), record.path.as_str()), (1, "GET", "/organization"));
/// assert_eq!((record.status, record.fault.as_ref()), (Some(200), None));
/// assert_eq!(record.auth_scheme.as_deref(), Some("Bearer"));
/// assert!(record.headers.get("authorization").is_none());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RequestRecord {
    /// Position of the request among all the server received since it started, from 1.
    pub number: u64,
    /// The HTTP method.
    pub method: Method,
    /// The path, without the query, as sent (percent-encoded).
    pub path: String,
    /// The raw query string, without `?`, if the URL had one.
    pub query: Option<String>,
    /// The request headers, less `Authorization`.
    pub headers: HeaderMap,
    /// The first word of the `Authorization` header (`Token`, `Bearer`, …), if there was one.
    pub auth_scheme: Option<String>,
    /// The request body.
    pub body: Bytes,
    /// When the request arrived, on tokio's clock, so tests under paused time can measure waits.
    pub at: Instant,
    /// The fault injected into this request, if any.
    pub fault: Option<Fault>,
    /// The status the client was sent, if any: `None` while the request is in flight and when
    /// the connection was reset or closed instead (a cut-off answer keeps its status).
    pub status: Option<u16>,
}
