//! An in-memory fake of Qovery's database-backup API, served over real HTTP on loopback, with
//! deterministic fault injection.
//!
//! It implements the operations of the workspace's `openapi.yaml`, with the models of the
//! generated `qovery-backups-api` crate:
//!
//! | operation | answer |
//! |---|---|
//! | `GET /database/{databaseId}/backup?startId=` | 200, newest first, [`MockConfig::page_size`] a page; `startId` is the id of the last backup already seen; after the last backup, an empty page |
//! | `POST /database/{databaseId}/backup` with `{"name", "message"}` | 201, the new backup: newest of all, `QUEUED`; then `ONGOING` and final as [`MockConfig::lifecycle`] and [`MockConfig::outcomes`] say |
//! | `DELETE /database/{databaseId}/backup/{backupId}` | 204 |
//! | `GET /organization` | 200, `{"results": [...]}`: the default organization (named `default`), then the [`Fleet`]'s and those added |
//! | `GET /organization/{organizationId}/project`, `/project/{projectId}/environment`, `/environment/{environmentId}/database` | 200, `{"results": [...]}`, unpaginated; 404 for an unknown parent |
//!
//! The [`MockConfig::databases`] are listed in the default organization's `default` project and
//! environment. A `MANAGED` database ([`MockServer::add_database_in`], [`Fleet::managed_every`])
//! is listed but holds no backups: its backup endpoint answers 404, as Qovery's does.
//!
//! Every page answers `page`, its 1-based index (1 for the first page; after a `startId`, 1 plus
//! the number of pages of [`MockConfig::page_size`] the newer backups fill, a partial one
//! counting as one), `page_size`, and `results` (present even when empty).
//!
//! Every request needs `Authorization: Token <token>` or `Authorization: Bearer <token>` with the
//! configured token, checked before anything else (401 otherwise). An unknown database or backup
//! is a 404; a `startId` or `databaseId` that is not a UUID, a `startId` that names no backup of
//! the database, or a create body that is not JSON with string `name` and `message` is a 400.
//! Every error carries `{"status": <int>, "detail": "<message>"}` as `application/json`.
//!
//! The data is seeded: database ids, backup ids, names, timestamps and statuses all come from a
//! `ChaCha8Rng` seeded with [`MockConfig::seed`], so the same seed gives byte-identical answers.
//! [`MockConfig::history`] chooses how they spread in time: about a day apart by default, or, with
//! [`History::Retention`], from an hour to six years old with failed, canceled and stuck ones among
//! them, for retention rules to decide on.
//! A seeded backup is kept as a few words and derived again from the seed when served, so a
//! database of a million backups starts in under a second in release mode, in under 200 MiB.
//!
//! # Example
//!
//! A test starts a server, points a client at [`MockServer::base_url`], and checks the answers
//! against what the server holds ([`MockServer::backups`]) and what it received
//! ([`MockServer::requests`]):
//!
//! ```
//! use qovery_backups_api::types::BackupPaginatedResponseList;
//! use qovery_backups_mock::{MockConfig, MockServer};
//!
//! // In a test crate this is `#[tokio::test] async fn lists_the_first_page() { … }`.
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = MockServer::start(MockConfig {
//!     backups_per_database: vec![25],
//!     ..MockConfig::default()
//! })
//! .await?;
//! let database = server.database_ids()[0];
//!
//! let page: BackupPaginatedResponseList = reqwest::Client::new()
//!     .get(format!("{}/database/{database}/backup", server.base_url()))
//!     .header("Authorization", format!("Token {}", server.token()))
//!     .send()
//!     .await?
//!     .error_for_status()?
//!     .json()
//!     .await?;
//!
//! assert_eq!((page.page, page.page_size, page.results.len()), (1.0, 20.0, 20));
//! assert_eq!(page.results[0], server.backups(database)[0]); // newest first
//! assert_eq!(server.requests()[0].status, Some(200));
//! # Ok(())
//! # }
//! ```
//!
//! [`MockServer::start`] spawns the server on the current tokio runtime, so a server started in a
//! `#[tokio::test]` lives as long as that test; it stops when the [`MockServer`] is dropped.
//!
//! [`testing`] has the set-ups the workspace's own tests share, for yours too: a mock of so many
//! backups per database with a fault plan in one line ([`testing::mock`]), one with a
//! [`Lifecycle`], and backups of a given id, date and outcome ([`testing::backup`],
//! [`testing::daily`]).
//!
//! # Backup lifecycle
//!
//! A backup created through the API answers `QUEUED` in its 201, then is `ONGOING` after
//! [`Lifecycle::queued`], then final after [`Lifecycle::ongoing`] more, on tokio's clock (instant
//! by default). Its final `status.status_details.status` is `SUCCESS` unless [`Outcomes`] says
//! `ERROR` or `CANCELED`: a queue of next outcomes ([`MockServer::push_outcome`]), rules on the
//! name, or a seeded probability, also written as a SPEC (`next=error|success,error=0.1,seed=3`).
//! [`MockServer::remove_backup`] makes a backup vanish while a client waits for it.
//!
//! ```
//! use std::time::Duration;
//! use qovery_backups_api::types::{Backup, ServiceActionStatusEnum};
//! use qovery_backups_mock::{Lifecycle, MockConfig, MockServer};
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = MockServer::start(MockConfig {
//!     lifecycle: Lifecycle { queued: Duration::from_secs(1), ongoing: Duration::from_secs(30) },
//!     ..MockConfig::default()
//! })
//! .await?;
//! let database = server.database_ids()[0];
//! server.push_outcome(ServiceActionStatusEnum::Error);
//! let created: Backup = reqwest::Client::new()
//!     .post(format!("{}/database/{database}/backup", server.base_url()))
//!     .header("Authorization", format!("Token {}", server.token()))
//!     .json(&serde_json::json!({"name": "nightly", "message": "before the migration"}))
//!     .send()
//!     .await?
//!     .json()
//!     .await?;
//! let status = |b: Backup| b.status.unwrap().status_details.status;
//! assert_eq!(status(created.clone()), ServiceActionStatusEnum::Queued);
//! tokio::time::advance(Duration::from_secs(31)).await;
//! assert_eq!(status(server.backup(database, created.id).unwrap()), ServiceActionStatusEnum::Error);
//! # Ok(())
//! # }
//! ```
//!
//! # Faults
//!
//! A [`FaultPlan`] decides which requests go wrong and how ([`Fault`]): a status with an error
//! body, 429 with `Retry-After` in seconds or as an HTTP-date, a reset or closed connection, a body
//! cut off half-way, a slow answer, a 200 that is not JSON, an operation applied whose answer is
//! lost, and success bodies with enum values or fields openapi.yaml does not know. Faults are
//! either scheduled ("the 3rd request gets a 503") or drawn from a seeded generator with a cap on
//! consecutive faults at the same request, so a client with enough retries always finishes. Faults
//! act before authentication and routing, like a proxy in front of the API would. Set
//! the plan in [`MockConfig::faults`] or at run time with [`MockServer::set_faults`]; each
//! [`RequestRecord`] says which fault it got.
//!
//! # Fault SPEC syntax
//!
//! `FaultPlan` implements `FromStr` (and `Display`, which prints the same syntax), so a plan can
//! come from a command line (`qovery-backups mock --faults SPEC`). A SPEC is a comma-separated list
//! of `KEY=VALUE` items; spaces around items are ignored, and `none` or an empty SPEC is no fault:
//!
//! | item | meaning |
//! |---|---|
//! | `N=KIND` | the `N`th request (from 1, counting every request since the plan was installed) gets `KIND` |
//! | `A-B=KIND` | requests `A` to `B` inclusive get `KIND` |
//! | `p=FLOAT` | each request is faulted with this probability, 0 to 1 (default 0) |
//! | `kinds=KIND\|KIND\|…` | what a random fault picks from, each equally likely (default `500\|502\|503\|504\|429s:1\|reset\|close`) |
//! | `max=N` | after `N` faulted attempts in a row at the same request (method, path and query), the next is served normally (default 3) |
//! | `seed=N` | seed of the generator behind `p` (default 0) |
//!
//! | KIND | fault |
//! |---|---|
//! | `500`, `502`, `503`, `504`, any 4xx/5xx | [`Fault::Status`] |
//! | `429s`, `429s:SECS` (also `429`) | [`Fault::RetryAfterSeconds`], default 1 |
//! | `429d`, `429d:SECS` | [`Fault::RetryAfterDate`], default 1 |
//! | `reset` | [`Fault::Reset`] |
//! | `close` | [`Fault::Close`] |
//! | `truncate` | [`Fault::Truncate`] |
//! | `slow`, `slow:DURATION` | [`Fault::Slow`], default 5s; DURATION is a number and a unit: `1500ms`, `1.5s`, `250us`, `2m` |
//! | `late`, `late:DURATION` | [`Fault::Late`]: applied at once, answered after DURATION (default 5s) |
//! | `badjson` | [`Fault::BadJson`] |
//! | `lost` | [`Fault::Lost`] |
//! | `unknown-enum` | [`Fault::UnknownEnum`] |
//! | `unknown-fields` | [`Fault::UnknownFields`] |
//! | `endless` | [`Fault::Endless`]: a 200 page that never ends (stops when the client leaves, or at 1 GiB) |
//! | `huge` | [`Fault::Huge`]: a valid answer padded to some 64 MiB |
//! | `echo` | [`Fault::Echo`]: a 400 whose detail echoes every request header, `Authorization` included |
//! | `escape` | [`Fault::Escape`]: names, messages and details with terminal escapes, BEL, CR, LF |
//! | `future` | [`Fault::Future`]: the newest backup `SUCCESS` and dated 9999-12-31 |
//! | `float-page` | [`Fault::FloatPage`]: `page` and `page_size` written as floats |
//! | `redirect` | [`Fault::Redirect`]: 302 to the same server under another host name |
//! | `big-header` | [`Fault::BigHeader`]: a 1 MiB response header (applied, then unreadable) |
//! | `repeat-old` | [`Fault::RepeatOld`]: a page repeats a backup of two pages before |
//!
//! ```
//! use qovery_backups_mock::{Fault, FaultPlan};
//!
//! let plan: FaultPlan = "1-2=503, 5=lost, p=0.25, kinds=reset|429s:2|slow:1500ms, max=2, seed=7"
//!     .parse()
//!     .unwrap();
//! assert_eq!(plan.schedule()[&2], Fault::Status(503));
//! assert_eq!(plan.max_consecutive(), 2);
//!
//! let error = "3=teapot".parse::<FaultPlan>().unwrap_err();
//! assert!(error.to_string().contains("unknown fault kind `teapot`"));
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod answers;
mod conn;
mod data;
mod fault;
mod fleet;
mod http;
mod lifecycle;
mod log;
mod sample;
mod spec;
pub mod testing;

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use qovery_backups_api::types::{Backup, DatabaseModeEnum, ServiceActionStatusEnum};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use uuid::Uuid;

pub use crate::data::History;
pub use crate::fault::{
    BIG_HEADER_BYTES, DEFAULT_MAX_CONSECUTIVE, DEFAULT_RANDOM_KINDS, DEFAULT_SLOW, ENDLESS_CAP, Fault,
    FaultPlan, FaultSpecError, HOSTILE_TEXT, HUGE_PADDING,
};
pub use crate::fleet::Fleet;
pub use crate::lifecycle::{Lifecycle, OutcomeSpecError, Outcomes};
pub use crate::log::{REQUEST_LOG_CAPACITY, RequestRecord};
pub use crate::sample::SampleBackup;

use crate::data::{Store, StoreError};
use crate::fault::FaultState;
use crate::fleet::{FleetError, Hierarchy};
use crate::http::{Shared, lock};
use crate::lifecycle::{OutcomeState, assert_final};

/// The token [`MockConfig::default`] accepts.
///
/// ```
/// use qovery_backups_mock::{DEFAULT_TOKEN, MockConfig};
///
/// assert_eq!(DEFAULT_TOKEN, "mock-token");
/// assert_eq!(MockConfig::default().token, DEFAULT_TOKEN);
/// ```
pub const DEFAULT_TOKEN: &str = "mock-token";

/// How a [`MockServer`] starts: its token, its seeded data, its page size, latency and faults,
/// and where it listens.
///
/// ```
/// use std::time::Duration;
/// use qovery_backups_mock::{MockConfig, MockServer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), qovery_backups_mock::MockError> {
/// // Six databases, with page boundaries around 20 a page.
/// let config = MockConfig {
///     databases: 6,
///     backups_per_database: vec![0, 1, 19, 20, 21, 40],
///     latency: Duration::from_millis(5),
///     ..MockConfig::default()
/// };
/// let server = MockServer::start(config).await?;
/// let counts: Vec<_> = server.database_ids().into_iter().filter_map(|id| server.backup_count(id)).collect();
/// assert_eq!(counts, [0, 1, 19, 20, 21, 40]);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct MockConfig {
    /// The token a request must carry, as `Token <token>` or `Bearer <token>`.
    pub token: String,
    /// Seed of everything random in the data: ids, names, times, statuses.
    pub seed: u64,
    /// How many databases to create at start.
    pub databases: usize,
    /// Backups in each database: database `i` gets `backups_per_database[i]`; when the list is
    /// shorter than [`databases`](MockConfig::databases), its last value repeats (an empty list
    /// means none).
    pub backups_per_database: Vec<usize>,
    /// How the seeded backups are spread in time and how many are unfinished. Default:
    /// [`History::Nightly`].
    pub history: History,
    /// Backups a page (at least 1). Every page answers it as `page_size`.
    pub page_size: usize,
    /// How long every request takes to be answered (with `tokio::time`), the mock's own work
    /// included: a page answers this long after its request arrived, unless rendering it took
    /// longer.
    pub latency: Duration,
    /// Which requests get which fault.
    pub faults: FaultPlan,
    /// How long a backup created through the API stays `QUEUED`, then `ONGOING`. Default:
    /// instant (the 201 answers `QUEUED`; the next request sees it final).
    pub lifecycle: Lifecycle,
    /// Which final status backups created through the API end with. Default: all `SUCCESS`.
    pub outcomes: Outcomes,
    /// Organizations, projects, environments and databases seeded besides the default
    /// organization, project and environment (all named `default`), which list the
    /// [`databases`](MockConfig::databases). Default: none.
    pub fleet: Fleet,
    /// At most this many requests answered in each second; past it, `429` with `Retry-After:
    /// 1`, as a rate-limited API answers. Default: no limit.
    pub rate_limit: Option<u32>,
    /// Where to listen; port 0 picks a free one.
    pub addr: SocketAddr,
}

/// Prints every field but the token.
impl fmt::Debug for MockConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockConfig")
            .field("token", &"<redacted>")
            .field("seed", &self.seed)
            .field("databases", &self.databases)
            .field("backups_per_database", &self.backups_per_database)
            .field("history", &self.history)
            .field("page_size", &self.page_size)
            .field("latency", &self.latency)
            .field("faults", &self.faults)
            .field("lifecycle", &self.lifecycle)
            .field("outcomes", &self.outcomes)
            .field("fleet", &self.fleet)
            .field("rate_limit", &self.rate_limit)
            .field("addr", &self.addr)
            .finish()
    }
}

impl Default for MockConfig {
    /// Token `mock-token`, seed 0, 3 databases of 45 backups, 20 a page, no latency, no fault,
    /// nightly history, instant lifecycle, every backup successful, no rate limit, `127.0.0.1:0`.
    fn default() -> Self {
        Self {
            token: DEFAULT_TOKEN.to_owned(),
            seed: 0,
            databases: 3,
            backups_per_database: vec![45],
            history: History::Nightly,
            page_size: 20,
            latency: Duration::ZERO,
            faults: FaultPlan::new(),
            lifecycle: Lifecycle::default(),
            outcomes: Outcomes::new(),
            fleet: Fleet::default(),
            rate_limit: None,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        }
    }
}

impl MockConfig {
    /// How many backups database `index` is seeded with.
    pub(crate) fn backups_for(&self, index: usize) -> usize {
        self.backups_per_database.get(index).or(self.backups_per_database.last()).copied().unwrap_or(0)
    }
}

/// What went wrong starting or driving a [`MockServer`].
///
/// ```
/// use qovery_backups_mock::{MockConfig, MockError, MockServer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let error = MockServer::start(MockConfig { page_size: 0, ..MockConfig::default() }).await.unwrap_err();
/// assert!(matches!(error, MockError::InvalidConfig(_)));
/// assert!(error.to_string().contains("page_size"), "the message names the field to change");
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum MockError {
    /// The listening socket could not be bound.
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why binding failed.
        source: io::Error,
    },
    /// The configuration cannot work; the message says which field to change.
    InvalidConfig(String),
    /// No database has this id.
    UnknownDatabase(Uuid),
    /// No organization has this id.
    UnknownOrganization(Uuid),
    /// No project has this id.
    UnknownProject(Uuid),
    /// No environment has this id.
    UnknownEnvironment(Uuid),
    /// A backup with this id is already in the database.
    DuplicateBackup(Uuid),
    /// Waiting for Ctrl-C failed.
    Signal(io::Error),
}

impl fmt::Display for MockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MockError::Bind { addr, source } => {
                write!(f, "cannot listen on {addr}: {source}; pick another address or port 0")
            }
            MockError::InvalidConfig(message) => write!(f, "invalid mock configuration: {message}"),
            MockError::UnknownDatabase(id) => write!(f, "no database {id} in the mock"),
            MockError::UnknownOrganization(id) => write!(f, "no organization {id} in the mock"),
            MockError::UnknownProject(id) => write!(f, "no project {id} in the mock"),
            MockError::UnknownEnvironment(id) => write!(f, "no environment {id} in the mock"),
            MockError::DuplicateBackup(id) => {
                write!(f, "backup {id} is already in the database; give it another id")
            }
            MockError::Signal(source) => write!(f, "cannot wait for Ctrl-C: {source}"),
        }
    }
}

impl std::error::Error for MockError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            MockError::Bind { source, .. } | MockError::Signal(source) => Some(source),
            _ => None,
        }
    }
}

impl From<StoreError> for MockError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::UnknownDatabase(id) => MockError::UnknownDatabase(id),
            StoreError::DuplicateBackup(id) => MockError::DuplicateBackup(id),
            StoreError::UnknownCursor { database, .. } | StoreError::UnknownBackup { database, .. } => {
                MockError::UnknownDatabase(database)
            }
        }
    }
}

impl From<FleetError> for MockError {
    fn from(error: FleetError) -> Self {
        match error {
            FleetError::Organization(id) => MockError::UnknownOrganization(id),
            FleetError::Project(id) => MockError::UnknownProject(id),
            FleetError::Environment(id) => MockError::UnknownEnvironment(id),
        }
    }
}

/// A running fake of the API, listening on loopback until it is dropped or shut down.
///
/// Everything it holds can be read and changed while it runs, from the test that started it.
///
/// ```
/// use qovery_backups_mock::{MockConfig, MockServer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = MockServer::start(MockConfig::default()).await?;
/// let database = server.database_ids()[0];
/// let url = format!("{}/database/{database}/backup", server.base_url());
///
/// // Deleted behind the client's back, while the server runs.
/// assert!(server.remove_database(database));
/// let answer = reqwest::Client::new().get(url).bearer_auth(server.token()).send().await?;
/// assert_eq!(answer.status(), 404);
/// # Ok(())
/// # }
/// ```
pub struct MockServer {
    addr: SocketAddr,
    base_url: String,
    shared: Arc<Shared>,
    task: Option<JoinHandle<()>>,
}

impl fmt::Debug for MockServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockServer").field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

impl MockServer {
    /// Seeds the data, binds [`MockConfig::addr`] and starts serving on the current tokio
    /// runtime.
    ///
    /// ```
    /// use qovery_backups_mock::{MockConfig, MockServer};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), qovery_backups_mock::MockError> {
    /// let config = MockConfig { seed: 7, ..MockConfig::default() };
    /// let server = MockServer::start(config.clone()).await?;
    /// let again = MockServer::start(config).await?;
    /// // The same seed gives the same data, so a test may write ids and names into its expectations.
    /// assert_eq!(server.database_ids(), again.database_ids());
    /// assert_eq!(server.backups(server.database_ids()[0]), again.backups(again.database_ids()[0]));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn start(config: MockConfig) -> Result<MockServer, MockError> {
        if config.page_size == 0 {
            return Err(MockError::InvalidConfig(
                "page_size is 0; a page must hold at least one backup".to_owned(),
            ));
        }
        let mut store = Store::new(config.seed, config.history);
        let mut fleet = Hierarchy::new(config.seed);
        for index in 0..config.databases {
            let id = store.add_seeded_database(config.backups_for(index));
            fleet.add_default(id, index);
        }
        fleet.seed(config.fleet, |backups| store.add_seeded_database(backups));
        let listener = TcpListener::bind(config.addr)
            .await
            .map_err(|source| MockError::Bind { addr: config.addr, source })?;
        let addr = listener.local_addr().map_err(|source| MockError::Bind { addr: config.addr, source })?;
        let shared = Arc::new(Shared {
            token: config.token,
            addr,
            open_streams: Arc::default(),
            page_size: config.page_size,
            latency: Mutex::new(config.latency),
            store: Mutex::new(store),
            fleet: Mutex::new(fleet),
            faults: Mutex::new(FaultState::new(config.faults)),
            log: Mutex::new(VecDeque::new()),
            received: Mutex::new(0),
            lifecycle: Mutex::new(config.lifecycle),
            outcomes: Mutex::new(OutcomeState::new(config.outcomes)),
            rate_limit: config.rate_limit,
            rate_window: Mutex::new((tokio::time::Instant::now(), 0)),
        });
        let router = http::router(Arc::clone(&shared));
        let task = tokio::spawn(conn::accept_loop(listener, router));
        Ok(MockServer { addr, base_url: format!("http://{addr}"), shared, task: Some(task) })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// // Where the client under test is pointed instead of Qovery's API.
    /// let url = format!("{}/organization", server.base_url());
    /// let answer = reqwest::Client::new().get(url).bearer_auth(server.token()).send().await?;
    /// assert_eq!(answer.status(), 200);
    /// # Ok(())
    /// # }
    /// ```
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The address the server listens on.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), qovery_backups_mock::MockError> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// // Port 0 in the config picks a free port, so tests can run side by side.
    /// assert!(server.addr().ip().is_loopback());
    /// assert_ne!(server.addr().port(), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The token requests must carry.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// let url = format!("{}/organization", server.base_url());
    /// let client = reqwest::Client::new();
    /// assert_eq!(client.get(&url).send().await?.status(), 401);
    /// let authorized = client.get(&url).header("Authorization", format!("Token {}", server.token()));
    /// assert_eq!(authorized.send().await?.status(), 200);
    /// # Ok(())
    /// # }
    /// ```
    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// Backups a page.
    ///
    /// ```
    /// use qovery_backups_mock::{MockConfig, MockServer};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), qovery_backups_mock::MockError> {
    /// let server = MockServer::start(MockConfig { page_size: 10, ..MockConfig::default() }).await?;
    /// let database = server.database_ids()[0];
    /// // The pages a client must read to see all 45 backups.
    /// assert_eq!(server.backup_count(database).unwrap().div_ceil(server.page_size()), 5);
    /// # Ok(())
    /// # }
    /// ```
    pub fn page_size(&self) -> usize {
        self.shared.page_size
    }

    /// The ids of the databases, in creation order.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), qovery_backups_mock::MockError> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// let seeded = server.database_ids();
    /// assert_eq!(seeded.len(), 3); // MockConfig::default()'s
    /// let added = server.add_database(0);
    /// // Creation order, so a test can keep referring to a database by its index.
    /// assert_eq!(server.database_ids(), [seeded[0], seeded[1], seeded[2], added]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn database_ids(&self) -> Vec<Uuid> {
        lock(&self.shared.store).database_ids()
    }

    /// Every backup the database holds now, newest first (the listing order); empty for an
    /// unknown database.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), qovery_backups_mock::MockError> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// let backups = server.backups(server.database_ids()[0]);
    /// assert_eq!(backups.len(), 45);
    /// assert!(backups.windows(2).all(|pair| pair[0].created_at > pair[1].created_at));
    /// # Ok(())
    /// # }
    /// ```
    pub fn backups(&self, database_id: Uuid) -> Vec<Backup> {
        lock(&self.shared.store).backups(database_id).unwrap_or_default()
    }

    /// One backup as a listing would show it now (a created backup's status moves along its
    /// [`Lifecycle`]), or `None` if the database does not hold it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), qovery_backups_mock::MockError> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// let database = server.database_ids()[0];
    /// let newest = server.backup_ids(database)[0];
    /// assert_eq!(server.backup(database, newest).map(|b| b.id), Some(newest));
    /// assert!(server.remove_backup(database, newest));
    /// assert_eq!(server.backup(database, newest), None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn backup(&self, database_id: Uuid, backup_id: Uuid) -> Option<Backup> {
        lock(&self.shared.store).backup(database_id, backup_id)
    }

    /// The ids of the database's backups, newest first; empty for an unknown database. Cheap
    /// next to [`backups`](Self::backups) on a large database.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), qovery_backups_mock::MockError> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// let database = server.database_ids()[0];
    /// let ids = server.backup_ids(database);
    /// // The `startId` a client sends for the second page.
    /// let start_id = ids[server.page_size() - 1];
    /// assert_eq!(server.backup(database, start_id).unwrap().id, start_id);
    /// # Ok(())
    /// # }
    /// ```
    pub fn backup_ids(&self, database_id: Uuid) -> Vec<Uuid> {
        lock(&self.shared.store).backup_ids(database_id).unwrap_or_default()
    }

    /// How many backups the database holds, or `None` for an unknown database. Cheap, unlike
    /// `backups(id).len()` on a large database.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), qovery_backups_mock::MockError> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// assert_eq!(server.backup_count(server.database_ids()[0]), Some(45));
    /// assert_eq!(server.backup_count(uuid::Uuid::nil()), None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn backup_count(&self, database_id: Uuid) -> Option<usize> {
        lock(&self.shared.store).count(database_id)
    }

    /// Adds a database of `backups` seeded backups and returns its id. The id and the data depend
    /// only on the seed and the number of databases added before (removed ones included), like
    /// those made at start.
    /// The database is listed in the default environment.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), qovery_backups_mock::MockError> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// let database = server.add_database(3);
    /// assert_eq!(server.backup_count(database), Some(3));
    /// # Ok(())
    /// # }
    /// ```
    pub fn add_database(&self, backups: usize) -> Uuid {
        let id = lock(&self.shared.store).add_seeded_database(backups);
        let mut fleet = lock(&self.shared.fleet);
        let index = fleet.default_count();
        fleet.add_default(id, index);
        id
    }

    /// Adds a database holding exactly these backups (listed by `created_at`, newest first) and
    /// returns its id.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), qovery_backups_mock::MockError> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// use chrono::{TimeZone, Utc};
    /// use qovery_backups_api::types::Backup;
    ///
    /// let backup = |day: u32, name: &str| Backup {
    ///     id: uuid::Uuid::from_u128(day.into()),
    ///     created_at: Utc.with_ymd_and_hms(2026, 1, day, 3, 0, 0).unwrap(),
    ///     updated_at: None,
    ///     name: name.to_owned(),
    ///     message: String::new(),
    ///     status: None,
    /// };
    /// let database = server.add_database_with(vec![backup(1, "monday"), backup(2, "tuesday")])?;
    /// assert_eq!(server.backups(database)[0].name, "tuesday");
    /// # Ok(())
    /// # }
    /// ```
    pub fn add_database_with(&self, backups: Vec<Backup>) -> Result<Uuid, MockError> {
        let id = lock(&self.shared.store).add_database_with(backups)?;
        let mut fleet = lock(&self.shared.fleet);
        let index = fleet.default_count();
        fleet.add_default(id, index);
        Ok(id)
    }

    /// Removes a database and its backups, as if deleted behind the client's back; `false` if
    /// there was none.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), qovery_backups_mock::MockError> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// let database = server.database_ids()[0];
    /// assert!(server.remove_database(database));
    /// assert_eq!(server.backup_count(database), None);
    /// assert!(!server.remove_database(database));
    /// # Ok(())
    /// # }
    /// ```
    pub fn remove_database(&self, database_id: Uuid) -> bool {
        let managed = lock(&self.shared.fleet).is_managed(database_id);
        lock(&self.shared.fleet).remove_database(database_id);
        lock(&self.shared.store).remove_database(database_id) || managed
    }

    /// The ids of the organizations, the default one (named `default`, holding the
    /// [`MockConfig::databases`]) first, then the [`Fleet`]'s and those added, in creation order.
    ///
    /// ```
    /// use qovery_backups_mock::{Fleet, MockConfig, MockServer};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), qovery_backups_mock::MockError> {
    /// let server = MockServer::start(MockConfig { fleet: Fleet::sample(), ..MockConfig::default() }).await?;
    /// assert_eq!(server.organization_ids().len(), 1 + Fleet::sample().organizations);
    /// # Ok(())
    /// # }
    /// ```
    pub fn organization_ids(&self) -> Vec<Uuid> {
        lock(&self.shared.fleet).organizations().into_iter().map(|o| o.id).collect()
    }

    /// The ids of an organization's projects, in creation order; empty for an unknown one.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), qovery_backups_mock::MockError> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// let organization = server.organization_ids()[0];
    /// assert_eq!(server.project_ids(organization).len(), 1); // the default project
    /// assert!(server.project_ids(uuid::Uuid::nil()).is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn project_ids(&self, organization_id: Uuid) -> Vec<Uuid> {
        let projects = lock(&self.shared.fleet).projects(organization_id).unwrap_or_default();
        projects.into_iter().map(|p| p.id).collect()
    }

    /// The ids of a project's environments, in creation order; empty for an unknown one.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), qovery_backups_mock::MockError> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// let project = server.project_ids(server.organization_ids()[0])[0];
    /// assert_eq!(server.environment_ids(project).len(), 1); // the default environment
    /// # Ok(())
    /// # }
    /// ```
    pub fn environment_ids(&self, project_id: Uuid) -> Vec<Uuid> {
        let environments = lock(&self.shared.fleet).environments(project_id).unwrap_or_default();
        environments.into_iter().map(|e| e.id).collect()
    }

    /// The ids of the databases an environment lists (`MANAGED` ones included), in creation
    /// order; empty for an unknown one.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), qovery_backups_mock::MockError> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// // Discovery as a client does it, from the organization down.
    /// let organization = server.organization_ids()[0];
    /// let project = server.project_ids(organization)[0];
    /// let environment = server.environment_ids(project)[0];
    /// assert_eq!(server.environment_database_ids(environment), server.database_ids());
    /// # Ok(())
    /// # }
    /// ```
    pub fn environment_database_ids(&self, environment_id: Uuid) -> Vec<Uuid> {
        let databases = lock(&self.shared.fleet).databases(environment_id).unwrap_or_default();
        databases.into_iter().map(|d| d.id).collect()
    }

    /// The ids of every database under an organization (`MANAGED` ones included), in the order
    /// a client walking projects, then environments, then databases finds them; empty for an
    /// unknown one.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), qovery_backups_mock::MockError> {
    /// use qovery_backups_mock::{Fleet, MockConfig, MockServer};
    ///
    /// let server = MockServer::start(MockConfig { databases: 0, fleet: Fleet::sample(), ..MockConfig::default() }).await?;
    /// let [default, sampled, ..] = server.organization_ids()[..] else { unreachable!() };
    /// assert!(server.organization_database_ids(default).is_empty()); // `databases: 0`
    /// // Fleet::sample(): 2 projects × 2 environments × 3 databases in each organization it adds.
    /// assert_eq!(server.organization_database_ids(sampled).len(), 12);
    /// # Ok(())
    /// # }
    /// ```
    pub fn organization_database_ids(&self, organization_id: Uuid) -> Vec<Uuid> {
        let projects = self.project_ids(organization_id).into_iter();
        let environments = projects.flat_map(|project| self.environment_ids(project));
        environments.flat_map(|environment| self.environment_database_ids(environment)).collect()
    }

    /// The ids of the `MANAGED` databases: listed, but their backup endpoint answers 404.
    ///
    /// ```
    /// use qovery_backups_mock::{Fleet, MockConfig, MockServer};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), qovery_backups_mock::MockError> {
    /// let server = MockServer::start(MockConfig { fleet: Fleet::sample(), ..MockConfig::default() }).await?;
    /// // Every third of the sample's 24 databases.
    /// let managed = server.managed_database_ids();
    /// assert_eq!(managed.len(), 8);
    /// assert_eq!(server.backup_count(managed[0]), None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn managed_database_ids(&self) -> Vec<Uuid> {
        lock(&self.shared.fleet).managed_database_ids()
    }

    /// Adds an organization (no projects) and returns its id.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), qovery_backups_mock::MockError> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// let organization = server.add_organization("acme");
    /// assert_eq!(server.organization_ids().last(), Some(&organization));
    /// assert!(server.project_ids(organization).is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn add_organization(&self, name: &str) -> Uuid {
        lock(&self.shared.fleet).add_organization(name)
    }

    /// Adds a project to an organization and returns its id.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), qovery_backups_mock::MockError> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// use qovery_backups_mock::MockError;
    ///
    /// let organization = server.add_organization("acme");
    /// let project = server.add_project(organization, "shop")?;
    /// assert_eq!(server.project_ids(organization), [project]);
    /// let unknown = server.add_project(uuid::Uuid::nil(), "shop");
    /// assert!(matches!(unknown, Err(MockError::UnknownOrganization(_))));
    /// # Ok(())
    /// # }
    /// ```
    pub fn add_project(&self, organization_id: Uuid, name: &str) -> Result<Uuid, MockError> {
        Ok(lock(&self.shared.fleet).add_project(organization_id, name)?)
    }

    /// Adds an environment to a project and returns its id.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), qovery_backups_mock::MockError> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// let project = server.add_project(server.add_organization("acme"), "shop")?;
    /// let environment = server.add_environment(project, "staging")?;
    /// assert_eq!(server.environment_ids(project), [environment]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn add_environment(&self, project_id: Uuid, name: &str) -> Result<Uuid, MockError> {
        Ok(lock(&self.shared.fleet).add_environment(project_id, name)?)
    }

    /// Lists a new database named `name` in an environment and returns its id: a `MANAGED` one
    /// has no backups (its backup endpoint answers 404); any other mode gets `backups` seeded
    /// backups. `index` picks its type and version (`POSTGRESQL 16`, `REDIS 7.2`, `MYSQL 8.0`,
    /// `MONGODB 7.0`, in turn).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), qovery_backups_mock::MockError> {
    /// use qovery_backups_api::types::DatabaseModeEnum;
    /// use qovery_backups_mock::{MockConfig, MockServer};
    ///
    /// let server = MockServer::start(MockConfig::default()).await?;
    /// let organization = server.add_organization("acme");
    /// let project = server.add_project(organization, "shop")?;
    /// let environment = server.add_environment(project, "production")?;
    /// let rds = server.add_database_in(environment, "orders", DatabaseModeEnum::Managed, 0, 0)?;
    /// assert_eq!(server.managed_database_ids(), [rds]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn add_database_in(
        &self,
        environment_id: Uuid,
        name: &str,
        mode: DatabaseModeEnum,
        index: usize,
        backups: usize,
    ) -> Result<Uuid, MockError> {
        let mut fleet = lock(&self.shared.fleet);
        if !fleet.has_environment(environment_id) {
            return Err(MockError::UnknownEnvironment(environment_id));
        }
        let id = match mode {
            DatabaseModeEnum::Managed => None,
            _ => Some(lock(&self.shared.store).add_seeded_database(backups)),
        };
        Ok(fleet.add_database(environment_id, id, name, mode, index)?)
    }

    /// Puts a backup into a database, where its `created_at` places it in the listing.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), qovery_backups_mock::MockError> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// let database = server.database_ids()[0];
    /// // A backup made by someone else, newer than all the seeded ones.
    /// let mut backup = server.backups(database)[0].clone();
    /// backup.id = uuid::Uuid::from_u128(1);
    /// backup.created_at += chrono::Duration::hours(1);
    /// server.insert_backup(database, backup)?;
    /// assert_eq!(server.backup_ids(database)[0], uuid::Uuid::from_u128(1));
    /// # Ok(())
    /// # }
    /// ```
    pub fn insert_backup(&self, database_id: Uuid, backup: Backup) -> Result<(), MockError> {
        Ok(lock(&self.shared.store).insert(database_id, backup)?)
    }

    /// Removes a backup, as if deleted by someone else; `false` if there was none.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), qovery_backups_mock::MockError> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// let database = server.database_ids()[0];
    /// let newest = server.backup_ids(database)[0];
    /// assert!(server.remove_backup(database, newest));
    /// assert!(!server.remove_backup(database, newest));
    /// assert_eq!(server.backup_count(database), Some(44));
    /// # Ok(())
    /// # }
    /// ```
    pub fn remove_backup(&self, database_id: Uuid, backup_id: Uuid) -> bool {
        lock(&self.shared.store).delete(database_id, backup_id).is_ok()
    }

    /// Every request received since start (or since [`clear_requests`](Self::clear_requests)),
    /// in arrival order; at most the last [`REQUEST_LOG_CAPACITY`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// let database = server.database_ids()[0];
    /// let url = format!("{}/database/{database}/backup?startId=nope", server.base_url());
    /// reqwest::Client::new().get(url).bearer_auth(server.token()).send().await?;
    ///
    /// let log = server.requests();
    /// assert_eq!(log[0].query.as_deref(), Some("startId=nope"));
    /// assert_eq!(log[0].status, Some(400));
    /// # Ok(())
    /// # }
    /// ```
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.shared.log).iter().cloned().collect()
    }

    /// Empties the request log. Request numbers keep counting.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// let (client, url) = (reqwest::Client::new(), format!("{}/organization", server.base_url()));
    /// client.get(&url).bearer_auth(server.token()).send().await?; // the test's setup
    /// server.clear_requests();
    /// client.get(&url).bearer_auth(server.token()).send().await?; // what the test checks
    /// assert_eq!(server.requests().len(), 1);
    /// assert_eq!(server.requests()[0].number, 2);
    /// # Ok(())
    /// # }
    /// ```
    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    /// Replaces the fault plan. Its schedule counts requests from the next one, as 1, and its
    /// generator and per-request streaks start afresh.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// use qovery_backups_mock::{Fault, FaultPlan};
    ///
    /// let (client, url) = (reqwest::Client::new(), format!("{}/organization", server.base_url()));
    /// // A flaky proxy: the next request fails, its retry succeeds.
    /// server.set_faults(FaultPlan::new().at(1, Fault::Status(503)));
    /// assert_eq!(client.get(&url).bearer_auth(server.token()).send().await?.status(), 503);
    /// assert_eq!(client.get(&url).bearer_auth(server.token()).send().await?.status(), 200);
    /// assert_eq!(server.requests()[0].fault, Some(Fault::Status(503)));
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_faults(&self, plan: FaultPlan) {
        *lock(&self.shared.faults) = FaultState::new(plan);
    }

    /// Replaces the lifecycle of backups created from now on; those already created keep theirs.
    ///
    /// ```
    /// use std::time::Duration;
    /// use qovery_backups_api::types::{Backup, ServiceActionStatusEnum};
    /// use qovery_backups_mock::Lifecycle;
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// let database = server.database_ids()[0];
    /// server.set_lifecycle(Lifecycle { queued: Duration::from_secs(5), ongoing: Duration::from_secs(60) });
    /// let created: Backup = reqwest::Client::new()
    ///     .post(format!("{}/database/{database}/backup", server.base_url()))
    ///     .bearer_auth(server.token())
    ///     .json(&serde_json::json!({"name": "nightly", "message": ""}))
    ///     .send()
    ///     .await?
    ///     .json()
    ///     .await?;
    /// // On tokio's clock: paused here, so the test does not wait for real.
    /// tokio::time::advance(Duration::from_secs(10)).await;
    /// let backup = server.backup(database, created.id).unwrap();
    /// assert_eq!(backup.status.unwrap().status_details.status, ServiceActionStatusEnum::Ongoing);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_lifecycle(&self, lifecycle: Lifecycle) {
        *lock(&self.shared.lifecycle) = lifecycle;
    }

    /// Replaces the outcome rules of backups created from now on; its queue and generator start
    /// afresh.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// use qovery_backups_api::types::{Backup, ServiceActionStatusEnum};
    /// use qovery_backups_mock::Outcomes;
    ///
    /// server.set_outcomes(Outcomes::new().when_name_contains("broken", ServiceActionStatusEnum::Error));
    /// let database = server.database_ids()[0];
    /// let created: Backup = reqwest::Client::new()
    ///     .post(format!("{}/database/{database}/backup", server.base_url()))
    ///     .bearer_auth(server.token())
    ///     .json(&serde_json::json!({"name": "broken on purpose", "message": ""}))
    ///     .send()
    ///     .await?
    ///     .json()
    ///     .await?;
    /// let backup = server.backup(database, created.id).unwrap();
    /// assert_eq!(backup.status.unwrap().status_details.status, ServiceActionStatusEnum::Error);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_outcomes(&self, outcomes: Outcomes) {
        *lock(&self.shared.outcomes) = OutcomeState::new(outcomes);
    }

    /// Queues the final status of the next backup created (after those already queued).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), qovery_backups_mock::MockError> {
    /// use qovery_backups_api::types::ServiceActionStatusEnum;
    /// use qovery_backups_mock::{MockConfig, MockServer};
    ///
    /// let server = MockServer::start(MockConfig::default()).await?;
    /// server.push_outcome(ServiceActionStatusEnum::Error); // the next create fails
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// If `outcome` is not `SUCCESS`, `ERROR` or `CANCELED`.
    pub fn push_outcome(&self, outcome: ServiceActionStatusEnum) {
        assert_final(&outcome);
        lock(&self.shared.outcomes).push(outcome);
    }

    /// How many [`Fault::Endless`] answers the server is still sending. Each stops when its
    /// client goes away (the server notices at its next write) or at [`ENDLESS_CAP`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use qovery_backups_mock::{Fault, FaultPlan, MockConfig, MockServer};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let faults = FaultPlan::new().at(1, Fault::Endless);
    /// let server = MockServer::start(MockConfig { faults, ..MockConfig::default() }).await?;
    /// let url = format!("{}/database/{}/backup", server.base_url(), server.database_ids()[0]);
    /// let answer = reqwest::Client::new().get(url).bearer_auth(server.token()).send().await?;
    /// assert_eq!(server.open_streams(), 1);
    ///
    /// // A client that gives up on the answer must close the connection for the stream to stop.
    /// drop(answer);
    /// # tokio::time::timeout(Duration::from_secs(60), async {
    /// while server.open_streams() > 0 {
    ///     tokio::time::sleep(Duration::from_millis(10)).await;
    /// }
    /// # }).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn open_streams(&self) -> usize {
        self.shared.open_streams.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Replaces the time every request takes to be answered ([`MockConfig::latency`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio::time::Instant;
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// // A slow API, for a client's timeouts; on tokio's clock, which a test can pause.
    /// server.set_latency(Duration::from_secs(5));
    /// let started = Instant::now();
    /// let url = format!("{}/organization", server.base_url());
    /// reqwest::Client::new().get(url).bearer_auth(server.token()).send().await?;
    /// assert!(started.elapsed() >= Duration::from_secs(5));
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_latency(&self, latency: Duration) {
        *lock(&self.shared.latency) = latency;
    }

    /// Stops accepting connections and drops the open ones, then returns once the server task is
    /// gone.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// let url = server.base_url().to_owned();
    /// server.shutdown().await;
    /// // What a client sees when the API is down.
    /// assert!(reqwest::get(url).await.unwrap_err().is_connect());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn shutdown(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    /// Serves until Ctrl-C (SIGINT), then shuts down. Prints nothing.
    pub(crate) async fn serve_until_ctrl_c(self) -> Result<(), MockError> {
        let signal = tokio::signal::ctrl_c().await;
        self.shutdown().await;
        signal.map_err(MockError::Signal)
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Starts a server, calls `on_ready` with it (to print its address, say), and serves until
/// Ctrl-C. Prints nothing itself.
///
/// ```no_run
/// # async fn run() -> Result<(), qovery_backups_mock::MockError> {
/// use qovery_backups_mock::{MockConfig, run_until_ctrl_c};
///
/// run_until_ctrl_c(MockConfig::default(), |server| {
///     println!("listening on {}", server.base_url());
/// })
/// .await
/// # }
/// ```
pub async fn run_until_ctrl_c(
    config: MockConfig,
    on_ready: impl FnOnce(&MockServer),
) -> Result<(), MockError> {
    let server = MockServer::start(config).await?;
    on_ready(&server);
    server.serve_until_ctrl_c().await
}
