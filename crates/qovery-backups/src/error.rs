//! The one error type users see.
//!
//! `Display` says what failed, in one short lowercase line, and nothing else: the cause of a
//! transport error is reached through [`std::error::Error::source`], so whoever prints the chain
//! (a CLI at `-v`, `anyhow`'s `{:#}`) prints each cause once. What to do about an error is not
//! part of its message, because only the caller knows its context (a builder, an environment
//! variable, a command-line flag): [`Error::hint`] offers a remedy phrased for any caller.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use qovery_backups_api::types::Backup;
use reqwest::StatusCode;
use uuid::Uuid;

use crate::Operation;

/// Everything that can go wrong.
///
/// Errors from the server are data: the status, the server's `detail`, a bounded excerpt of the
/// body and `Retry-After` are kept. The token is never part of an error. A listing's errors are
/// the same variants as any other call's; where the listing stood is in the failed
/// [`Operation`] and in [`Error::resume_after`].
///
/// ```
/// # async fn run(client: qovery_backups::Client, database_id: uuid::Uuid) {
/// use qovery_backups::Error;
///
/// match client.backups(database_id).latest().await {
///     Ok(Some(backup)) => println!("newest: {}", backup.name),
///     Ok(None) => println!("no backups yet"),
///     Err(e) if e.is_not_found() => println!("no Qovery-managed backups for {database_id}"),
///     Err(Error::Api { status, .. }) if status.as_u16() == 401 => eprintln!("fix the token"),
///     Err(e) => eprintln!("error: {e}{}", e.hint().map(|h| format!("\nhint: {h}")).unwrap_or_default()),
/// }
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The API answered with an error status (after any retries), or with a redirect, which is
    /// never followed because it would carry the token elsewhere.
    #[non_exhaustive]
    Api {
        /// Which operation failed, on which database.
        operation: Operation,
        /// The HTTP status.
        status: StatusCode,
        /// The server's explanation (`detail`, or an older field name), if it gave one, at most
        /// 1 KiB, on one line.
        detail: Option<Box<str>>,
        /// The start of the body, at most [`BODY_EXCERPT_LIMIT`] bytes, for diagnosis.
        body_excerpt: String,
        /// How long the server asked us to wait, from `Retry-After`.
        retry_after: Option<Duration>,
        /// Where a redirect pointed (`Location`), for a 3xx.
        location: Option<Box<str>>,
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
    /// A successful answer said it was something else than JSON (`text/html` from a captive
    /// portal, a proxy's login page, a wrong base URL): not Qovery's API answering. Not retried:
    /// whatever answered will answer the same way again.
    #[non_exhaustive]
    NotJson {
        /// Which operation failed.
        operation: Operation,
        /// The answer's `Content-Type`.
        content_type: String,
        /// The start of the body, at most [`BODY_EXCERPT_LIMIT`] bytes.
        body_excerpt: String,
        /// How many attempts were made.
        attempts: u32,
    },
    /// The answer was larger than the client's response limit
    /// ([`ClientBuilder::max_response_bytes`](crate::ClientBuilder::max_response_bytes)); reading
    /// stopped at the limit. Not retried: a server that sends this once will again.
    #[non_exhaustive]
    TooLarge {
        /// Which operation failed.
        operation: Operation,
        /// The limit, in bytes.
        limit: u64,
        /// How many attempts were made.
        attempts: u32,
    },
    /// The server sent a backup or cursor it had already sent in this listing; following it
    /// would loop forever or repeat backups.
    #[non_exhaustive]
    PaginationLoop {
        /// The page request that brought the repeat: its database and where the listing stood.
        operation: Operation,
        /// The id that came back a second time.
        repeated_id: Uuid,
        /// Pages received before the loop was detected.
        pages: usize,
    },
    /// The API answered 404 for a database's backups, and `getDatabase` answered 404 for the
    /// database too: no database with this id is visible to the token (a mistyped id, or
    /// another organization's). Asked only after the first 404, so the normal path costs no
    /// request more.
    #[non_exhaustive]
    UnknownDatabase {
        /// The call that answered 404 first.
        operation: Operation,
        /// The id asked for.
        database_id: Uuid,
        /// What the server said with the first 404 (`detail`), if anything.
        detail: Option<Box<str>>,
    },
    /// The API answered 404 for a database's backups because the cloud provider backs the
    /// database up (`mode: MANAGED`, as `getDatabase` says): Qovery's backup API has nothing
    /// for it.
    #[non_exhaustive]
    ManagedByProvider {
        /// The call that answered 404.
        operation: Operation,
        /// The database.
        database_id: Uuid,
    },
    /// A prune planned nothing and deleted nothing for this database
    /// ([`Prune::plan`](crate::Prune::plan)): a backup is dated in the future, or the plan
    /// deletes more than the prune allows.
    #[non_exhaustive]
    PruneRefused {
        /// The database.
        database_id: Uuid,
        /// Why.
        refusal: crate::Refusal,
    },
    /// The client was configured wrongly (no token, a bad URL, plain HTTP to a remote host).
    /// The message says what is wrong; [`Error::hint`] says what to change, for each
    /// [`ConfigProblem`].
    #[non_exhaustive]
    Config {
        /// Which setting is wrong, for code that reacts without reading the message.
        problem: ConfigProblem,
        /// What is wrong, in words: the problem only, never the remedy.
        message: String,
        /// What refused the setting (the URL parser, the HTTP client), when something did; also
        /// reached through [`std::error::Error::source`].
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },
    /// A request could not be built: a bug in this crate or in the generated client, never the
    /// caller's configuration or the server's answer (every setting that could make a request
    /// unbuildable is checked when the client is built). Never retried. Why is in
    /// [`std::error::Error::source`].
    #[non_exhaustive]
    RequestBuild {
        /// The operation whose request could not be built.
        operation: Operation,
        /// What refused it.
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    // The four outcomes of a wait below are not failed calls, yet they are kept in this enum
    // rather than in a wait error type of their own: `wait(..).await` and
    // `create_and_wait(..).await` fail with them and with the failures of the calls they make
    // (the create, each poll), and callers `?` a wait beside plain calls in one function. A
    // second type would make every such caller convert, and make a poll's `Error::Api` one
    // level deeper to match. What sets them apart is said once, in `Error::call_parts`.
    /// A backup waited on ([`Backups::wait`](crate::Backups::wait)) ended `ERROR` or `CANCELED`.
    #[non_exhaustive]
    BackupFailed {
        /// The database.
        database_id: Uuid,
        /// The backup as last listed: its status (`status.status_details.status`) and steps say
        /// how it ended. Boxed: a backup is large, and errors are returned by value.
        backup: Box<Backup>,
    },
    /// A backup waited on disappeared from the listing (deleted by someone else, or by Qovery).
    #[non_exhaustive]
    BackupVanished {
        /// The database.
        database_id: Uuid,
        /// The backup as last seen before it disappeared.
        last_seen: Box<Backup>,
    },
    /// A backup waited on was not final when the wait's timeout passed. Waiting never changes
    /// the backup: it goes on without the caller.
    #[non_exhaustive]
    WaitTimeout {
        /// The database.
        database_id: Uuid,
        /// How long the wait lasted (at least the timeout asked for).
        after: Duration,
        /// The backup as last seen; its status is the last status seen.
        last_seen: Box<Backup>,
    },
    /// A backup to wait on was not in the database's listing at the first look.
    #[non_exhaustive]
    BackupNotFound {
        /// The database.
        database_id: Uuid,
        /// The backup asked for.
        backup_id: Uuid,
    },
}

/// How a connection failed, for [`Error::Transport`].
///
/// ```
/// use qovery_backups::{Error, TransportKind};
///
/// fn advice(error: &Error) -> &'static str {
///     match error {
///         Error::Transport { kind: TransportKind::Connect, .. } => "never sent: safe to send again",
///         Error::Transport { kind: TransportKind::ConnectionLost, .. } => "may have been applied: check first",
///         Error::Transport { .. } => "the answer was lost or refused",
///         _ => "not a connection problem",
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
/// use qovery_backups::{Client, RetryPolicy};
///
/// let (base_url, database_id) = (server.base_url().to_owned(), server.database_ids()[0]);
/// server.shutdown().await; // nothing listens there any more
/// let client = Client::builder().token("qov_example_token").base_url(base_url).retry(RetryPolicy::never()).build()?;
/// let error = client.backups(database_id).latest().await.unwrap_err();
/// assert_eq!(advice(&error), "never sent: safe to send again");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// Could not connect: the request was never sent.
    Connect,
    /// The connection was reset or closed before an answer: the request may have been acted on.
    ConnectionLost,
    /// The answer's body was cut off while being read.
    BodyCutOff,
    /// The answer's headers were larger than the HTTP client accepts.
    HeadersTooLarge,
    /// Anything else reqwest reports.
    Other,
}

/// Which setting an [`Error::Config`] is about, so that a program can say what to change in its
/// own terms (a command line names its flag, a service its configuration key) without matching
/// the message's words.
///
/// ```
/// use qovery_backups::{Client, ConfigProblem};
///
/// let error = Client::builder().token("").build().unwrap_err();
/// assert_eq!(error.config_problem(), Some(ConfigProblem::MissingToken));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfigProblem {
    /// No token, or an empty one.
    MissingToken,
    /// The token holds characters that cannot go in an HTTP header.
    MalformedToken,
    /// The base URL is not a URL, holds credentials, a query or a fragment, or has a scheme
    /// other than https/http.
    BaseUrl,
    /// A plain `http://` base URL to another machine, which would carry the token in clear.
    InsecureHttp,
    /// A per-attempt timeout of zero.
    ZeroTimeout,
    /// An https base URL in a build without any TLS feature.
    NoTls,
    /// Anything else: the HTTP client could not be set up (a `User-Agent` that cannot go in a
    /// header, a TLS library that fails to load); the cause is in
    /// [`std::error::Error::source`].
    Other,
}

impl ConfigProblem {
    /// What to change, in this crate's terms (its builder methods, its features, the
    /// environment variables [`Client::from_env`](crate::Client::from_env) reads); what
    /// [`Error::hint`] says for an [`Error::Config`]. A program with its own settings (flags, a
    /// configuration file) names those instead.
    fn hint(self) -> &'static str {
        match self {
            ConfigProblem::MissingToken => {
                "pass an organization API token to `ClientBuilder::token`, or set QOVERY_API_TOKEN (or QOVERY_CLI_ACCESS_TOKEN) for `Client::from_env`"
            }
            ConfigProblem::MalformedToken => "copy the token again, without line breaks or spaces",
            ConfigProblem::BaseUrl => {
                "give the base URL as https://host[:port][/path], without a user name, password, query or fragment, e.g. https://api.qovery.com"
            }
            ConfigProblem::InsecureHttp => {
                "use an https:// base URL; if the network to that host is trusted, allow plain HTTP with `ClientBuilder::allow_insecure_http(true)`"
            }
            ConfigProblem::ZeroTimeout => {
                "give `ClientBuilder::timeout` a duration longer than zero (30 s by default)"
            }
            ConfigProblem::NoTls => {
                "enable the `rustls`, `rustls-ring` or `native-tls` feature of qovery-backups, or use a plain http:// base URL to this machine"
            }
            ConfigProblem::Other => {
                "the error's source says what refused the setting; a `ClientBuilder::user_agent` with line breaks is one cause"
            }
        }
    }
}

/// The longest body excerpt an error keeps.
///
/// ```
/// use qovery_backups::{BODY_EXCERPT_LIMIT, Error};
///
/// assert_eq!(BODY_EXCERPT_LIMIT, 512);
/// // Whatever the server sent, what an error keeps of it is bounded.
/// fn log(error: &Error) {
///     if let Error::Api { body_excerpt, .. } | Error::Decode { body_excerpt, .. } = error {
///         assert!(body_excerpt.len() <= BODY_EXCERPT_LIMIT);
///         eprintln!("the server said: {body_excerpt}");
///     }
/// }
/// # log(&Error::api(qovery_backups::Operation::ListOrganizations, qovery_backups::StatusCode::BAD_GATEWAY));
/// ```
pub const BODY_EXCERPT_LIMIT: usize = 512;

impl Error {
    /// Makes an [`Error::Api`], for tests of code that handles this crate's errors: a user's
    /// retry wrapper, alerting, a fake of [`Client`](crate::Client).
    ///
    /// ```
    /// use qovery_backups::{Error, Operation, StatusCode};
    ///
    /// let error = Error::api(Operation::Create { database_id: uuid::Uuid::nil() }, StatusCode::SERVICE_UNAVAILABLE);
    /// assert!(error.is_retryable());
    /// assert_eq!(error.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    /// ```
    pub fn api(operation: Operation, status: StatusCode) -> Error {
        Error::Api {
            operation,
            status,
            detail: None,
            body_excerpt: String::new(),
            retry_after: None,
            location: None,
            attempts: 1,
        }
    }

    /// Makes an [`Error::Config`], for tests of code that handles this crate's errors.
    ///
    /// ```
    /// use qovery_backups::{ConfigProblem, Error};
    ///
    /// let error = Error::config(ConfigProblem::MissingToken, "no API token");
    /// assert!(error.is_config());
    /// assert_eq!(error.config_problem(), Some(ConfigProblem::MissingToken));
    /// assert_eq!(error.to_string(), "invalid client configuration: no API token");
    /// assert!(error.hint().is_some(), "the remedy is the hint's, for every problem");
    /// ```
    pub fn config(problem: ConfigProblem, message: impl Into<String>) -> Error {
        Error::Config { problem, message: message.into(), source: None }
    }

    /// Makes an [`Error::RequestBuild`], for tests of code that handles this crate's errors (a
    /// command line's exit code for a bug, say).
    ///
    /// ```
    /// use qovery_backups::{Error, Operation};
    ///
    /// let error = Error::request_build(Operation::ListOrganizations, "a header value with a line break");
    /// assert!(error.is_bug() && !error.is_config() && !error.is_retryable());
    /// assert_eq!(error.to_string(), "listing the organizations: the request could not be built (a bug in qovery-backups)");
    /// ```
    pub fn request_build(
        operation: Operation,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Error {
        Error::RequestBuild { operation, source: source.into() }
    }

    /// A configuration error with the error that refused the setting, kept as its source.
    pub(crate) fn config_caused_by(
        problem: ConfigProblem,
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Error {
        Error::Config { problem, message: message.into(), source: Some(Box::new(source)) }
    }

    /// Which setting a configuration error is about; `None` for every other error.
    ///
    /// ```
    /// use qovery_backups::{Client, ConfigProblem};
    ///
    /// let error = Client::builder().token("t0k3n-long-enough").base_url("http://api.example.com").build().unwrap_err();
    /// assert_eq!(error.config_problem(), Some(ConfigProblem::InsecureHttp));
    /// ```
    pub fn config_problem(&self) -> Option<ConfigProblem> {
        match self {
            Error::Config { problem, .. } => Some(*problem),
            _ => None,
        }
    }

    /// Whether trying again can succeed: connection failures, timeouts, truncated or
    /// undecodable answers, and 408, 429, 500, 502, 503, 504. Never another 4xx, never 501,
    /// never an answer over the size limit.
    ///
    /// ```
    /// use qovery_backups::{Error, Operation, StatusCode};
    ///
    /// let op = Operation::Create { database_id: uuid::Uuid::nil() };
    /// assert!(Error::api(op, StatusCode::TOO_MANY_REQUESTS).is_retryable());
    /// assert!(!Error::api(op, StatusCode::FORBIDDEN).is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        crate::retry::is_transient(self)
    }

    /// The HTTP status, when the API answered with an error.
    ///
    /// ```
    /// use qovery_backups::{Error, Operation, StatusCode};
    ///
    /// let error = Error::api(Operation::Create { database_id: uuid::Uuid::nil() }, StatusCode::NOT_FOUND);
    /// assert_eq!(error.status().map(|s| s.as_u16()), Some(404));
    /// assert_eq!(Error::config(qovery_backups::ConfigProblem::Other, "x").status(), None);
    /// ```
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// How long the server asked to wait before trying again (`Retry-After`).
    ///
    /// ```
    /// use qovery_backups::{ConfigProblem, Error};
    /// assert_eq!(Error::config(ConfigProblem::Other, "x").retry_after(), None);
    /// ```
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether the API refused the token (401).
    ///
    /// ```
    /// use qovery_backups::{Error, Operation, StatusCode};
    ///
    /// let op = Operation::Create { database_id: uuid::Uuid::nil() };
    /// assert!(Error::api(op, StatusCode::UNAUTHORIZED).is_unauthorized());
    /// ```
    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(StatusCode::UNAUTHORIZED)
    }

    /// Whether the API answered 404 (no such database or backup, or a database whose backups
    /// the cloud provider manages), or a backup to wait on was not in the listing
    /// ([`Error::BackupNotFound`]).
    ///
    /// ```
    /// use qovery_backups::{Error, Operation, StatusCode};
    ///
    /// let op = Operation::Create { database_id: uuid::Uuid::nil() };
    /// assert!(Error::api(op, StatusCode::NOT_FOUND).is_not_found());
    /// ```
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
            || matches!(
                self,
                Error::BackupNotFound { .. }
                    | Error::UnknownDatabase { .. }
                    | Error::ManagedByProvider { .. }
            )
    }

    /// Whether the database itself is unknown to the API ([`Error::UnknownDatabase`]): a
    /// mistyped id, or one the token cannot see. Never a reason to report success.
    ///
    /// ```
    /// use qovery_backups::{Error, Operation, StatusCode};
    ///
    /// // A bare 404 is not enough to say: the database may be MANAGED.
    /// let op = Operation::List { database_id: uuid::Uuid::nil(), after: None };
    /// assert!(!Error::api(op, StatusCode::NOT_FOUND).is_unknown_database());
    /// ```
    pub fn is_unknown_database(&self) -> bool {
        matches!(self, Error::UnknownDatabase { .. })
    }

    /// Whether the database's backups are the cloud provider's ([`Error::ManagedByProvider`]).
    ///
    /// ```
    /// use qovery_backups::{ConfigProblem, Error};
    ///
    /// assert!(!Error::config(ConfigProblem::Other, "x").is_managed_by_provider());
    /// ```
    pub fn is_managed_by_provider(&self) -> bool {
        matches!(self, Error::ManagedByProvider { .. })
    }

    /// The backup an error of waiting carries, as last seen: the failed or canceled backup
    /// ([`Error::BackupFailed`]), the one that vanished, or the one still running at the
    /// timeout. `None` for every other error.
    ///
    /// ```no_run
    /// # async fn run(backups: qovery_backups::Backups, id: uuid::Uuid) {
    /// if let Err(error) = backups.wait(id).await {
    ///     if let Some(backup) = error.backup() {
    ///         eprintln!("{}: last seen {:?}", backup.id, backup.action_status());
    ///     }
    /// }
    /// # }
    /// ```
    pub fn backup(&self) -> Option<&Backup> {
        match self {
            Error::BackupFailed { backup, .. } => Some(backup),
            Error::BackupVanished { last_seen, .. } | Error::WaitTimeout { last_seen, .. } => Some(last_seen),
            _ => None,
        }
    }

    /// Whether an attempt timed out.
    ///
    /// ```
    /// use qovery_backups::{ConfigProblem, Error};
    /// assert!(!Error::config(ConfigProblem::Other, "x").is_timeout());
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. })
    }

    /// Whether the answer could not be decoded: JSON unlike openapi.yaml ([`Error::Decode`]),
    /// or no JSON at all ([`Error::NotJson`]).
    ///
    /// ```
    /// use qovery_backups::{ConfigProblem, Error};
    /// assert!(!Error::config(ConfigProblem::Other, "x").is_decode());
    /// ```
    pub fn is_decode(&self) -> bool {
        matches!(self, Error::Decode { .. } | Error::NotJson { .. })
    }

    /// Whether the client's configuration is at fault (no token, a bad base URL).
    ///
    /// ```
    /// use qovery_backups::{ConfigProblem, Error};
    /// assert!(Error::config(ConfigProblem::MissingToken, "no API token").is_config());
    /// ```
    pub fn is_config(&self) -> bool {
        matches!(self, Error::Config { .. })
    }

    /// Whether the error is a bug in this crate rather than anything the caller or the server
    /// did ([`Error::RequestBuild`]): worth reporting, pointless to retry or to reconfigure. A
    /// command line exits with its internal-error code for it, not its usage code.
    ///
    /// ```
    /// use qovery_backups::{ConfigProblem, Error};
    ///
    /// // A refused setting is the caller's to fix, not a bug.
    /// let error = Error::config(ConfigProblem::ZeroTimeout, "the per-attempt timeout is zero");
    /// assert!(!error.is_bug());
    /// ```
    pub fn is_bug(&self) -> bool {
        matches!(self, Error::RequestBuild { .. })
    }

    /// The operation that failed, if the error came from a call.
    ///
    /// ```
    /// use qovery_backups::{Error, Operation, StatusCode};
    ///
    /// let op = Operation::Create { database_id: uuid::Uuid::nil() };
    /// assert_eq!(Error::api(op, StatusCode::BAD_GATEWAY).operation(), Some(&op));
    /// ```
    pub fn operation(&self) -> Option<&Operation> {
        self.call_parts().map(|(operation, _)| operation)
    }

    /// For an error that stopped a listing, where to resume it so that nothing is lost or
    /// repeated: pass it to [`ListRequest::start_after`](crate::ListRequest::start_after).
    /// `Some(None)` means nothing was delivered and the listing starts again at the newest
    /// backup. `None` when resuming cannot help: the error was not a listing's, or it will
    /// happen again (a refused token, a server that repeats itself).
    ///
    /// ```no_run
    /// # async fn run(client: qovery_backups::Client, database_id: uuid::Uuid) -> Result<(), qovery_backups::Error> {
    /// use futures::TryStreamExt as _;
    ///
    /// let mut seen = Vec::new();
    /// let mut resume = None;
    /// for _round in 0..3 {
    ///     let mut items = client.backups(database_id).list().start_after(resume).items();
    ///     match items.try_for_each(|b| { seen.push(b.id); async { Ok(()) } }).await {
    ///         Ok(()) => break,
    ///         Err(e) => resume = e.resume_after().ok_or(e)?,
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn resume_after(&self) -> Option<Option<Uuid>> {
        match self.operation()? {
            Operation::List { after, .. } if self.is_retryable() => Some(*after),
            _ => None,
        }
    }

    /// How many attempts the failed operation made (0 when none was possible).
    ///
    /// ```
    /// use qovery_backups::{ConfigProblem, Error};
    /// assert_eq!(Error::config(ConfigProblem::Other, "x").attempts(), 0);
    /// ```
    pub fn attempts(&self) -> u32 {
        self.call_parts().and_then(|(_, attempts)| attempts).unwrap_or(0)
    }

    /// The failed call's operation, and its attempts where it counts them; `None` for an
    /// error that is no one call's: a refused configuration, a prune's refusal, and the
    /// outcomes of a wait (whose polls' attempts are their own business). The one exhaustive
    /// match that sorts the variants so: the accessors and setters go through it, or check
    /// their `_` arm against it.
    fn call_parts(&self) -> Option<(&Operation, Option<u32>)> {
        match self {
            Error::Api { operation, attempts, .. }
            | Error::Transport { operation, attempts, .. }
            | Error::Timeout { operation, attempts, .. }
            | Error::Decode { operation, attempts, .. }
            | Error::NotJson { operation, attempts, .. }
            | Error::TooLarge { operation, attempts, .. } => Some((operation, Some(*attempts))),
            // Found out across calls (a repeat, a lookup after a 404), or before any was sent.
            Error::PaginationLoop { operation, .. }
            | Error::UnknownDatabase { operation, .. }
            | Error::ManagedByProvider { operation, .. }
            | Error::RequestBuild { operation, .. } => Some((operation, None)),
            Error::Config { .. } | Error::PruneRefused { .. } => None,
            Error::BackupFailed { .. }
            | Error::BackupVanished { .. }
            | Error::WaitTimeout { .. }
            | Error::BackupNotFound { .. } => None,
        }
    }

    /// What the caller can do about the error, phrased for any caller (a program or a person),
    /// or `None` where there is nothing to add. A command-line tool prints it on its own line
    /// and may prefer its own wording where it knows more (its flags, its environment).
    ///
    /// ```
    /// use qovery_backups::{Error, Operation, StatusCode};
    ///
    /// let op = Operation::Create { database_id: uuid::Uuid::nil() };
    /// let hint = Error::api(op, StatusCode::UNAUTHORIZED).hint().unwrap();
    /// assert!(hint.contains("Token <token>"));
    /// ```
    pub fn hint(&self) -> Option<Cow<'static, str>> {
        let text: Cow<'static, str> = match self {
            Error::Api { status, operation, retry_after, .. } => match status.as_u16() {
                300..=399 => "point the base URL at the API itself: redirects are not followed, since they would carry the token elsewhere".into(),
                401 => "check the token: organization API tokens are sent as `Token <token>`, JWTs as `Bearer <jwt>`; choose the scheme explicitly if detection chose wrong".into(),
                403 => "use a token of the organization that owns the database, with a role allowed to manage backups".into(),
                404 if operation.backup_id().is_some() => "list the database's backups to find the backup's id".into(),
                404 => "check the database id; a database whose backups the cloud provider manages has no backups here".into(),
                429 => match retry_after {
                    Some(wait) => format!("the API is rate limiting: try again in {}s, or lower the concurrency", wait.as_secs().max(1)).into(),
                    None => "the API is rate limiting: try again later, or lower the concurrency".into(),
                },
                500..=599 => "the API is failing: try again later".into(),
                _ => return None,
            },
            Error::Transport { kind: TransportKind::Connect, .. } => "check the network and the API's base URL".into(),
            Error::Transport { kind: TransportKind::HeadersTooLarge, .. } => {
                "a proxy or the API is misbehaving: check what answers at the base URL".into()
            }
            Error::Transport { .. } => "check the network, then try again".into(),
            Error::Timeout { .. } => "raise the timeout, or check the network".into(),
            Error::NotJson { .. } => {
                "something other than Qovery's API answered: check the base URL, and any proxy or captive portal in between".into()
            }
            Error::Decode { .. } => "the API may have changed: update this client, or report it".into(),
            Error::TooLarge { .. } => {
                "a proxy or the API is misbehaving; raise the response limit only if the API really sends answers this large".into()
            }
            Error::PaginationLoop { .. } => "the API is repeating itself: report it to Qovery".into(),
            Error::UnknownDatabase { .. } => {
                "check the database id: list the databases the token can see to find it".into()
            }
            Error::ManagedByProvider { .. } => {
                "back it up through the cloud provider's own tools; Qovery's backup API cannot".into()
            }
            Error::PruneRefused { refusal: crate::Refusal::FutureDated { .. }, .. } => {
                "check this machine's clock, then the backup's date in the Qovery console; prune again once the dates are right".into()
            }
            Error::PruneRefused { .. } => {
                "review the plan with a dry run; raise the limit only if those deletes are meant".into()
            }
            Error::Config { problem, .. } => problem.hint().into(),
            Error::RequestBuild { .. } => {
                "this is a bug in qovery-backups, not in the configuration or the call: report it, with the error's causes".into()
            }
            Error::BackupFailed { .. } => {
                "read the backup's steps and the database's logs in the Qovery console, then create a new backup".into()
            }
            Error::BackupVanished { .. } => {
                "someone or something deleted the backup: list the database's backups to see what is left".into()
            }
            Error::WaitTimeout { .. } => {
                "the backup goes on without this client: wait for it again, with a longer timeout".into()
            }
            Error::BackupNotFound { .. } => "list the database's backups to find the backup's id".into(),
        };
        Some(text)
    }

    pub(crate) fn set_attempts(&mut self, n: u32) {
        match self {
            Error::Api { attempts, .. }
            | Error::Transport { attempts, .. }
            | Error::Timeout { attempts, .. }
            | Error::Decode { attempts, .. }
            | Error::NotJson { attempts, .. }
            | Error::TooLarge { attempts, .. } => *attempts = n,
            // Counts no attempts; `call_parts` is the list, and this arm is checked against it.
            _ => debug_assert!(self.call_parts().is_none_or(|(_, attempts)| attempts.is_none()), "{self:?}"),
        }
    }

    /// The same error, told that it happened while `operation` was under way (e.g. a listing
    /// made to reconcile a create is reported as part of the create).
    pub(crate) fn during(mut self, during: Operation) -> Error {
        match &mut self {
            Error::Api { operation, .. }
            | Error::Transport { operation, .. }
            | Error::Timeout { operation, .. }
            | Error::Decode { operation, .. }
            | Error::NotJson { operation, .. }
            | Error::TooLarge { operation, .. }
            | Error::PaginationLoop { operation, .. }
            | Error::UnknownDatabase { operation, .. }
            | Error::ManagedByProvider { operation, .. }
            | Error::RequestBuild { operation, .. } => *operation = during,
            // No call's failure; `call_parts` is the list, and this arm is checked against it.
            _ => debug_assert!(self.operation().is_none(), "{self:?}"),
        }
        self
    }
}

/// ` after 3 attempts`, or nothing for a single attempt.
struct Attempts(u32);

impl fmt::Display for Attempts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            0 | 1 => Ok(()),
            n => write!(f, " after {n} attempts"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Api { operation, status, detail, body_excerpt, location, attempts, .. } => {
                let reason = status.canonical_reason().unwrap_or("");
                write!(f, "{operation}: the API answered {} {reason}", status.as_u16())?;
                if status.is_redirection() {
                    match location {
                        Some(location) => write!(f, " pointing to {location}, which is not followed")?,
                        None => write!(f, ", a redirect, which is not followed")?,
                    }
                }
                match (detail, body_excerpt.is_empty()) {
                    (Some(detail), _) => write!(f, " ({detail})")?,
                    (None, false) if !status.is_redirection() => write!(f, " (body: {body_excerpt})")?,
                    _ => {}
                }
                write!(f, "{}", Attempts(*attempts))
            }
            Error::Transport { operation, kind, attempts, .. } => {
                let what = match kind {
                    TransportKind::Connect => "could not connect to the API",
                    TransportKind::ConnectionLost => "the connection was lost before an answer",
                    TransportKind::BodyCutOff => "the answer was cut off while being read",
                    TransportKind::HeadersTooLarge => "the answer's headers were too large to accept",
                    TransportKind::Other => "the request failed",
                };
                write!(f, "{operation}: {what}{}", Attempts(*attempts))
            }
            Error::Timeout { operation, after, attempts } => {
                write!(
                    f,
                    "{operation}: no complete answer within {}{}",
                    humanize(*after),
                    Attempts(*attempts)
                )
            }
            Error::NotJson { operation, content_type, attempts, .. } => write!(
                f,
                "{operation}: the answer is `{content_type}`, not the API's JSON{}",
                Attempts(*attempts)
            ),
            Error::Decode { operation, path, message, attempts, .. } => write!(
                f,
                "{operation}: the answer could not be decoded at `{path}`: {message}{}",
                Attempts(*attempts)
            ),
            Error::TooLarge { operation, limit, attempts } => {
                write!(f, "{operation}: the answer was larger than {limit} bytes{}", Attempts(*attempts))
            }
            Error::PaginationLoop { operation, repeated_id, pages } => write!(
                f,
                "{operation}: the API sent backup {repeated_id} again after {pages} pages, so the listing stopped"
            ),
            // The operation names the database; `detail` (a 404's "database … not found") would
            // only name it again, and stays in its field.
            Error::UnknownDatabase { operation, .. } => write!(
                f,
                "{operation}: no such database, or none the token can see (looking it up answered 404 too)"
            ),
            Error::ManagedByProvider { operation, .. } => {
                write!(f, "{operation}: its mode is MANAGED, so the cloud provider backs it up, not Qovery")
            }
            Error::PruneRefused { database_id, refusal } => {
                write!(f, "prune of database {database_id} refused, nothing deleted: {refusal}")
            }
            Error::Config { message, .. } => write!(f, "invalid client configuration: {message}"),
            Error::RequestBuild { operation, .. } => {
                write!(f, "{operation}: the request could not be built (a bug in qovery-backups)")
            }
            Error::BackupFailed { database_id, backup } => {
                write!(f, "backup {} of database {database_id} ended {}", backup.id, Status(backup))
            }
            Error::BackupVanished { database_id, last_seen } => write!(
                f,
                "backup {} of database {database_id} disappeared while being waited on (last seen {})",
                last_seen.id,
                Status(last_seen)
            ),
            Error::WaitTimeout { database_id, after, last_seen } => write!(
                f,
                "backup {} of database {database_id} was still {} after waiting {}",
                last_seen.id,
                Status(last_seen),
                humanize(*after)
            ),
            Error::BackupNotFound { database_id, backup_id } => {
                write!(f, "database {database_id} has no backup {backup_id}")
            }
        }
    }
}

/// A backup's own status (`status.status_details.status`) as the API spells it, or `without
/// status`.
struct Status<'a>(&'a Backup);

impl fmt::Display for Status<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.action_status() {
            Some(status) => f.write_str(status.as_str()),
            None => f.write_str("without status"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Transport { source, .. } => Some(source),
            Error::Config { source, .. } => source.as_deref().map(|e| e as _),
            Error::RequestBuild { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

pub(crate) fn humanize(d: Duration) -> String {
    if d.as_millis() < 1000 { format!("{}ms", d.as_millis()) } else { format!("{:.1}s", d.as_secs_f64()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Clippy's `result_large_err` fires at 128 bytes in every caller's code that returns
    /// `Result<_, Error>`; a user of this crate should not have to box it.
    #[test]
    fn the_error_stays_small_enough_to_return_by_value() {
        assert!(std::mem::size_of::<Error>() < 128, "{} bytes", std::mem::size_of::<Error>());
    }

    #[test]
    fn display_is_one_line_of_what_failed_and_the_hint_is_apart() {
        let op = Operation::Delete { database_id: Uuid::nil(), backup_id: Uuid::max() };
        let mut error = Error::api(op, StatusCode::NOT_FOUND);
        error.set_attempts(3);
        let text = error.to_string();
        assert_eq!(
            text,
            format!(
                "deleting backup {} of database {}: the API answered 404 Not Found after 3 attempts",
                Uuid::max(),
                Uuid::nil()
            )
        );
        assert!(error.hint().unwrap().contains("find the backup's id"));
    }

    #[test]
    fn a_redirect_says_where_it_pointed_and_that_it_was_not_followed() {
        let op = Operation::List { database_id: Uuid::nil(), after: None };
        let error = Error::Api {
            operation: op,
            status: StatusCode::FOUND,
            detail: None,
            body_excerpt: "<html>moved</html>".into(),
            retry_after: None,
            location: Some("https://login.example.com/".into()),
            attempts: 1,
        };
        let text = error.to_string();
        assert!(
            text.contains("302 Found pointing to https://login.example.com/, which is not followed"),
            "{text}"
        );
        assert!(!text.contains("<html>"), "{text}");
    }

    #[test]
    fn only_errors_that_resuming_can_help_offer_a_resume_point() {
        let after = Some(Uuid::max());
        let list = Operation::List { database_id: Uuid::nil(), after };
        assert_eq!(Error::api(list, StatusCode::SERVICE_UNAVAILABLE).resume_after(), Some(after));
        assert_eq!(Error::api(list, StatusCode::UNAUTHORIZED).resume_after(), None);
        let create = Operation::Create { database_id: Uuid::nil() };
        assert_eq!(Error::api(create, StatusCode::SERVICE_UNAVAILABLE).resume_after(), None);
    }
}
