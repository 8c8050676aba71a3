//! The one error type users see.

use std::fmt;
use std::time::Duration;

use reqwest::StatusCode;
use uuid::Uuid;

use crate::Operation;

/// Everything that can go wrong, with what to do about it in its message.
///
/// Errors from the server are data: the status, the server's `detail`, a bounded excerpt of the
/// body and `Retry-After` are kept. The token is never part of an error.
///
/// ```
/// # async fn run(client: qovery_backups::Client, database_id: uuid::Uuid) {
/// match client.backups(database_id).latest().await {
///     Ok(Some(backup)) => println!("newest: {}", backup.name),
///     Ok(None) => println!("no backups yet"),
///     Err(e) if e.is_not_found() => println!("no Qovery-managed backups for {database_id}"),
///     Err(e) if e.is_unauthorized() => eprintln!("fix the token: {e}"),
///     Err(e) => eprintln!("error: {e}"),
/// }
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The API answered with an error status (after any retries).
    #[non_exhaustive]
    Api {
        /// Which operation failed, on which database.
        operation: Operation,
        /// The HTTP status.
        status: StatusCode,
        /// The server's explanation (`detail`, or an older field name), if it gave one.
        detail: Option<String>,
        /// The start of the body, at most [`BODY_EXCERPT_LIMIT`] bytes, for diagnosis.
        body_excerpt: String,
        /// How long the server asked us to wait, from `Retry-After`.
        retry_after: Option<Duration>,
        /// How many attempts were made.
        attempts: u32,
    },
    /// No usable answer: the connection failed, was reset or closed, or the body was cut off.
    #[non_exhaustive]
    Transport {
        /// Which operation failed.
        operation: Operation,
        /// What happened to the connection.
        kind: TransportKind,
        /// How many attempts were made.
        attempts: u32,
        /// The underlying error.
        source: reqwest::Error,
    },
    /// An attempt got no complete answer within the per-attempt timeout.
    #[non_exhaustive]
    Timeout {
        /// Which operation failed.
        operation: Operation,
        /// The per-attempt timeout.
        after: Duration,
        /// How many attempts were made.
        attempts: u32,
    },
    /// The answer arrived but is not what openapi.yaml describes.
    #[non_exhaustive]
    Decode {
        /// Which operation failed.
        operation: Operation,
        /// Where in the JSON document decoding failed (`results[3].created_at`), `.` for the root.
        path: String,
        /// What the decoder said.
        message: String,
        /// The start of the body, at most [`BODY_EXCERPT_LIMIT`] bytes.
        body_excerpt: String,
        /// How many attempts were made.
        attempts: u32,
    },
    /// The server sent a backup or cursor it had already sent in this listing; following it
    /// would loop forever or repeat backups.
    #[non_exhaustive]
    PaginationLoop {
        /// The database being listed.
        database_id: Uuid,
        /// The id that came back a second time.
        repeated_id: Uuid,
        /// Pages received before the loop was detected.
        pages: u64,
    },
    /// A listing stopped part-way. Everything up to `resume_after` was delivered exactly once;
    /// list again with `.start_after(resume_after)` to continue without gaps or repeats.
    #[non_exhaustive]
    ListInterrupted {
        /// The database being listed.
        database_id: Uuid,
        /// The id of the last backup delivered, or the listing's own starting point if none was.
        resume_after: Option<Uuid>,
        /// Backups delivered before the failure.
        delivered: u64,
        /// Why it stopped.
        source: Box<Error>,
    },
    /// The client was configured wrongly (no token, a bad URL, plain HTTP to a remote host).
    #[non_exhaustive]
    Config {
        /// What is wrong and how to fix it.
        message: String,
    },
}

/// How a connection failed, for [`Error::Transport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// Could not connect: the request was never sent.
    Connect,
    /// The connection was reset or closed before an answer: the request may have been acted on.
    ConnectionLost,
    /// The answer's body was cut off while being read.
    BodyCutOff,
    /// Anything else reqwest reports.
    Other,
}

/// The longest body excerpt an error keeps.
pub const BODY_EXCERPT_LIMIT: usize = 512;

impl Error {
    /// Whether trying again can succeed: connection failures, timeouts, truncated or
    /// undecodable answers, and 408, 429, 500, 502, 503, 504. Never another 4xx, never 501.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api { status, .. } => is_retryable_status(*status),
            Error::Transport { .. } | Error::Timeout { .. } | Error::Decode { .. } => true,
            Error::ListInterrupted { source, .. } => source.is_retryable(),
            Error::PaginationLoop { .. } | Error::Config { .. } => false,
        }
    }

    /// The HTTP status, when the API answered with an error.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api { status, .. } => Some(*status),
            Error::ListInterrupted { source, .. } => source.status(),
            _ => None,
        }
    }

    /// How long the server asked to wait before trying again (`Retry-After`).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api { retry_after, .. } => *retry_after,
            Error::ListInterrupted { source, .. } => source.retry_after(),
            _ => None,
        }
    }

    /// Whether the API refused the token (401).
    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(StatusCode::UNAUTHORIZED)
    }

    /// Whether the API answered 404: no such database (or backup), or a database whose backups
    /// the cloud provider manages.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }

    /// Whether an attempt timed out.
    pub fn is_timeout(&self) -> bool {
        match self {
            Error::Timeout { .. } => true,
            Error::ListInterrupted { source, .. } => source.is_timeout(),
            _ => false,
        }
    }

    /// Whether the answer could not be decoded.
    pub fn is_decode(&self) -> bool {
        match self {
            Error::Decode { .. } => true,
            Error::ListInterrupted { source, .. } => source.is_decode(),
            _ => false,
        }
    }

    /// For an interrupted listing: the id to pass to `start_after` to continue it.
    /// `Some(None)` means nothing was delivered and the listing started at the newest backup.
    pub fn resume_after(&self) -> Option<Option<Uuid>> {
        match self {
            Error::ListInterrupted { resume_after, .. } => Some(*resume_after),
            _ => None,
        }
    }

    /// How many attempts the failed operation made (0 when none was possible).
    pub fn attempts(&self) -> u32 {
        match self {
            Error::Api { attempts, .. }
            | Error::Transport { attempts, .. }
            | Error::Timeout { attempts, .. }
            | Error::Decode { attempts, .. } => *attempts,
            Error::ListInterrupted { source, .. } => source.attempts(),
            Error::PaginationLoop { .. } | Error::Config { .. } => 0,
        }
    }

    /// The innermost error: the cause of a [`Error::ListInterrupted`], or `self`.
    pub fn root(&self) -> &Error {
        match self {
            Error::ListInterrupted { source, .. } => source.root(),
            other => other,
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Error {
        Error::Config { message: message.into() }
    }

    pub(crate) fn set_attempts(&mut self, n: u32) {
        match self {
            Error::Api { attempts, .. }
            | Error::Transport { attempts, .. }
            | Error::Timeout { attempts, .. }
            | Error::Decode { attempts, .. } => *attempts = n,
            _ => {}
        }
    }
}

pub(crate) fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 500 | 502 | 503 | 504)
}

fn attempts_suffix(attempts: u32) -> String {
    match attempts {
        0 | 1 => String::new(),
        n => format!(" after {n} attempts"),
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Api { operation, status, detail, body_excerpt, retry_after, attempts } => {
                let database_id = operation.database_id();
                let reason = status.canonical_reason().unwrap_or("");
                write!(f, "{operation} failed: {} {reason}{}", status.as_u16(), attempts_suffix(*attempts))?;
                match (detail, body_excerpt.is_empty()) {
                    (Some(detail), _) => write!(f, " ({detail})")?,
                    (None, false) => write!(f, " (body: {body_excerpt})")?,
                    (None, true) => {}
                }
                match status.as_u16() {
                    401 => write!(
                        f,
                        ": the API refused the token. Set QOVERY_API_TOKEN (or QOVERY_CLI_ACCESS_TOKEN) \
                         to a valid token; organization API tokens are sent as `Authorization: Token <token>`, \
                         JWTs as `Authorization: Bearer <jwt>`, so pick the scheme explicitly if detection chose wrong"
                    ),
                    403 => write!(
                        f,
                        ": the token may not access database {database_id}; use a token of the organization \
                         that owns it, with a role allowed to manage backups"
                    ),
                    404 => match operation.backup_id() {
                        Some(backup_id) => write!(
                            f,
                            ": no backup {backup_id} in database {database_id}; list the database's backups \
                             to find its id"
                        ),
                        None => write!(
                            f,
                            ": no database {database_id}, or its backups are managed by the cloud provider \
                             rather than Qovery; check the database id"
                        ),
                    },
                    429 => match retry_after {
                        Some(wait) => write!(f, ": rate limited; try again in {}s", wait.as_secs().max(1)),
                        None => write!(f, ": rate limited; try again later or lower the concurrency"),
                    },
                    400 => write!(f, ": the API rejected the request as invalid"),
                    _ if status.is_server_error() => write!(f, ": the API is failing; try again later"),
                    _ => Ok(()),
                }
            }
            Error::Transport { operation, kind, attempts, source } => {
                let what = match kind {
                    TransportKind::Connect => "could not connect to the API",
                    TransportKind::ConnectionLost => "the connection was lost before an answer",
                    TransportKind::BodyCutOff => "the answer was cut off while being read",
                    TransportKind::Other => "the request failed",
                };
                write!(
                    f,
                    "{operation} failed: {what}{} ({}); check the network and the API URL (QOVERY_API_URL)",
                    attempts_suffix(*attempts),
                    error_chain(source)
                )
            }
            Error::Timeout { operation, after, attempts } => write!(
                f,
                "{operation} failed: no complete answer within {}{}; raise the timeout or check the network",
                humanize(*after),
                attempts_suffix(*attempts)
            ),
            Error::Decode { operation, path, message, body_excerpt, attempts } => write!(
                f,
                "{operation} failed: the response could not be decoded at `{path}`: {message}{}; \
                 the API may have changed, update this client or report it (body starts: {body_excerpt})",
                attempts_suffix(*attempts)
            ),
            Error::PaginationLoop { database_id, repeated_id, pages } => write!(
                f,
                "listing backups of database {database_id} stopped: the API sent backup {repeated_id} again \
                 after {pages} pages, so following it would loop or repeat backups; report this to Qovery"
            ),
            Error::ListInterrupted { database_id, resume_after, delivered, source } => {
                write!(f, "{source}; listing of database {database_id} stopped after {delivered} backups")?;
                match resume_after {
                    Some(id) => write!(f, ", resume with start_after({id})"),
                    None => write!(f, ", nothing to resume from"),
                }
            }
            Error::Config { message } => write!(f, "invalid client configuration: {message}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Transport { source, .. } => Some(source),
            Error::ListInterrupted { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

/// reqwest's own message plus its causes, which name the actual failure (reset, refused, EOF).
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        let next = c.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        cause = c.source();
    }
    text
}

pub(crate) fn humanize(d: Duration) -> String {
    if d.as_millis() < 1000 { format!("{}ms", d.as_millis()) } else { format!("{:.1}s", d.as_secs_f64()) }
}
