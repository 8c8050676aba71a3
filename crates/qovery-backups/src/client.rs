//! The client and its builder.

use std::borrow::Borrow;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use qovery_backups_api::ClientInfo as _;
use reqwest::header::{AUTHORIZATION, HeaderMap};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use crate::auth::{AuthScheme, authorization};
use crate::observe::{Observer, Observers};
use crate::redact::Redactor;
use crate::wire::Wire;
use crate::{Backups, ConfigProblem, Error, ListMany, RetryPolicy, retry};

/// Qovery's public API.
///
/// ```
/// use qovery_backups::{Client, DEFAULT_BASE_URL};
///
/// let client = Client::builder().token("qov_example_token").build()?;
/// assert_eq!(client.base_url(), DEFAULT_BASE_URL);
/// # Ok::<(), qovery_backups::Error>(())
/// ```
pub const DEFAULT_BASE_URL: &str = "https://api.qovery.com";

/// Environment variables read by [`Client::from_env`], in order of preference for the token.
///
/// ```
/// use qovery_backups::TOKEN_ENV_VARS;
///
/// assert_eq!(TOKEN_ENV_VARS, ["QOVERY_API_TOKEN", "QOVERY_CLI_ACCESS_TOKEN"]);
/// // What a program can tell a user who has set neither.
/// let advice = format!("set {}", TOKEN_ENV_VARS.join(" or "));
/// assert_eq!(advice, "set QOVERY_API_TOKEN or QOVERY_CLI_ACCESS_TOKEN");
/// ```
pub const TOKEN_ENV_VARS: [&str; 2] = ["QOVERY_API_TOKEN", "QOVERY_CLI_ACCESS_TOKEN"];
/// Environment variable that overrides the API's base URL.
///
/// ```
/// use qovery_backups::BASE_URL_ENV_VAR;
///
/// assert_eq!(BASE_URL_ENV_VAR, "QOVERY_API_URL");
/// // Unset or empty, the public API is used.
/// let base_url = std::env::var(BASE_URL_ENV_VAR).ok().filter(|url| !url.trim().is_empty());
/// println!("API: {}", base_url.as_deref().unwrap_or(qovery_backups::DEFAULT_BASE_URL));
/// ```
pub const BASE_URL_ENV_VAR: &str = "QOVERY_API_URL";

/// A client for Qovery's backup API. Cheap to clone: clones share one connection pool.
///
/// ```no_run
/// # async fn run() -> Result<(), qovery_backups::Error> {
/// use std::time::Duration;
/// use futures::TryStreamExt as _;
/// use qovery_backups::{Client, RetryPolicy};
///
/// let client = Client::builder()
///     .token(std::env::var("QOVERY_API_TOKEN").unwrap_or_default())
///     .retry(RetryPolicy::default().with_max_attempts(5))
///     .timeout(Duration::from_secs(30))
///     .build()?;
/// let database_id = "3c90c3cc-0d44-4b50-8888-8dd25736052a".parse().unwrap();
/// let all: Vec<_> = client.backups(database_id).list().items().try_collect().await?;
/// println!("{} backups", all.len());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<ClientRef>,
}

/// What every clone shares. Private: other modules ask the client through its methods.
struct ClientRef {
    api: qovery_backups_api::Client,
    retry: RetryPolicy,
    timeout: Duration,
    connect_timeout: Duration,
    base_url: String,
    redactor: Redactor,
    observers: Observers,
    /// The pace every call of this client (and its clones) keeps when the API throttles.
    limiter: retry::RateLimiter,
}

impl Client {
    /// Starts configuring a client.
    ///
    /// ```
    /// let client = qovery_backups::Client::builder().token("qov_example_token").build()?;
    /// assert_eq!(client.retry().max_attempts(), 3); // every setting has a default but the token
    /// # Ok::<(), qovery_backups::Error>(())
    /// ```
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from the environment: the token from `QOVERY_API_TOKEN`, else
    /// `QOVERY_CLI_ACCESS_TOKEN`; the base URL from `QOVERY_API_URL`, else the public API.
    ///
    /// ```no_run
    /// let client = qovery_backups::Client::from_env()?;
    /// # Ok::<(), qovery_backups::Error>(())
    /// ```
    pub fn from_env() -> Result<Client, Error> {
        Client::builder().from_env().build()
    }

    /// The backups of one database.
    ///
    /// ```
    /// use qovery_backups::Client;
    ///
    /// let client = Client::builder().token("qov_example_token").build()?;
    /// let database_id = "3c90c3cc-0d44-4b50-8888-8dd25736052a".parse().unwrap();
    /// // No call is made yet: a `Backups` is a handle, as cheap to clone as the client.
    /// let backups = client.backups(database_id);
    /// assert_eq!(backups.database_id(), database_id);
    /// # Ok::<(), qovery_backups::Error>(())
    /// ```
    pub fn backups(&self, database_id: Uuid) -> Backups {
        Backups::new(self.clone(), database_id)
    }

    /// Lists the backups of several databases at once, each item tagged with its database, and
    /// yields them database after database in the order given (see [`ListMany`]).
    ///
    /// ```no_run
    /// # async fn run(client: qovery_backups::Client, ids: Vec<uuid::Uuid>) -> Result<(), qovery_backups::Error> {
    /// use futures::TryStreamExt as _;
    ///
    /// // Ids by reference or by value.
    /// let mut backups = client.list_many(&ids).concurrency(8).items();
    /// while let Some(item) = backups.try_next().await? {
    ///     println!("{} {}", item.database_id, item.backup.name);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn list_many(&self, database_ids: impl IntoIterator<Item = impl Borrow<Uuid>>) -> ListMany {
        ListMany::new(self, database_ids.into_iter().map(|id| *id.borrow()))
    }

    /// The databases in `scopes`, found through the discovery listings, each once.
    ///
    /// ```no_run
    /// # async fn run(client: qovery_backups::Client, project: uuid::Uuid) -> Result<(), qovery_backups::Error> {
    /// use futures::TryStreamExt as _;
    /// use qovery_backups::Scope;
    ///
    /// let mut databases = client.databases([Scope::Project(project)]).concurrency(8).items();
    /// while let Some(db) = databases.try_next().await? {
    ///     println!("{} {} managed by the provider: {}", db.environment.name, db.name(), db.is_managed_by_provider());
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn databases(&self, scopes: impl IntoIterator<Item = crate::Scope>) -> crate::Databases {
        crate::Databases::new(self.clone(), scopes.into_iter().collect())
    }

    /// The generated low-level client, for anything this crate does not wrap. It sends the same
    /// `Authorization` header, but has no retries.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// # let client = qovery_backups::Client::builder().token(server.token()).base_url(server.base_url()).build()?;
    /// use qovery_backups::api::ClientInfo as _;
    ///
    /// // An operation this crate does not wrap, sent as is: a single attempt, no retry.
    /// let organizations = client.api().list_organization().send().await?.into_inner();
    /// assert_eq!(organizations.results[0].name, "default");
    /// assert_eq!(client.api().baseurl(), client.base_url());
    /// # Ok(())
    /// # }
    /// ```
    pub fn api(&self) -> &qovery_backups_api::Client {
        &self.inner.api
    }

    /// The API's base URL.
    ///
    /// ```
    /// let client = qovery_backups::Client::builder()
    ///     .token("qov_example_token")
    ///     .base_url("http://127.0.0.1:8080/")
    ///     .build()?;
    /// assert_eq!(client.base_url(), "http://127.0.0.1:8080"); // without the trailing slash
    /// # Ok::<(), qovery_backups::Error>(())
    /// ```
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The retry policy in force, as set by [`ClientBuilder::retry`].
    ///
    /// ```
    /// use qovery_backups::{Client, RetryPolicy};
    ///
    /// let client = Client::builder().token("qov_example_token").retry(RetryPolicy::never()).build()?;
    /// assert_eq!(client.retry().max_attempts(), 1);
    /// # Ok::<(), qovery_backups::Error>(())
    /// ```
    pub fn retry(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// The retry policy in force.
    ///
    /// ```
    /// # let client = qovery_backups::Client::builder().token("qov_example_token").build()?;
    /// #[allow(deprecated)]
    /// let policy = client.retry_policy();
    /// assert_eq!(policy.max_attempts(), client.retry().max_attempts());
    /// # Ok::<(), qovery_backups::Error>(())
    /// ```
    #[deprecated(note = "use `Client::retry`, named as the builder's setter `ClientBuilder::retry`")]
    pub fn retry_policy(&self) -> &RetryPolicy {
        self.retry()
    }

    /// The per-attempt timeout.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let client = qovery_backups::Client::builder()
    ///     .token("qov_example_token")
    ///     .timeout(Duration::from_secs(10))
    ///     .build()?;
    /// assert_eq!(client.timeout(), Duration::from_secs(10));
    /// # Ok::<(), qovery_backups::Error>(())
    /// ```
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// The time allowed to open a connection: 10 s unless set with
    /// [`ClientBuilder::connect_timeout`], and never more than the per-attempt timeout.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let client = qovery_backups::Client::builder().token("qov_example_token").build()?;
    /// assert_eq!(client.connect_timeout(), Duration::from_secs(10));
    /// // Within a 2 s attempt, a connection cannot take 10 s.
    /// let client = qovery_backups::Client::builder().token("qov_example_token").timeout(Duration::from_secs(2)).build()?;
    /// assert_eq!(client.connect_timeout(), Duration::from_secs(2));
    /// # Ok::<(), qovery_backups::Error>(())
    /// ```
    pub fn connect_timeout(&self) -> Duration {
        self.inner.connect_timeout
    }

    /// What the retry loop needs: the policy, the per-attempt timeout, the observer.
    pub(crate) fn retry_settings(&self) -> retry::Settings<'_> {
        retry::Settings {
            policy: &self.inner.retry,
            timeout: self.inner.timeout,
            observers: &self.inner.observers,
            limiter: &self.inner.limiter,
        }
    }

    /// The HTTP calls, one attempt each.
    pub(crate) fn wire(&self) -> Wire<'_> {
        Wire::new(&self.inner.api, &self.inner.redactor)
    }

    pub(crate) fn observers(&self) -> &Observers {
        &self.inner.observers
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("token", &"[redacted]")
            .field("retry", &self.inner.retry)
            .field("timeout", &self.inner.timeout)
            .field("connect_timeout", &self.inner.connect_timeout)
            .field("max_response_bytes", &self.inner.api.inner().max_response_bytes())
            .field("observer", &self.inner.observers)
            .finish()
    }
}

/// Configures a [`Client`]. Every setting is checked at [`build`](ClientBuilder::build).
///
/// ```
/// use std::time::Duration;
/// use qovery_backups::{AuthScheme, Client, RetryPolicy};
///
/// let client = Client::builder()
///     .token("qov_example")
///     .auth_scheme(AuthScheme::Token)
///     .base_url("http://127.0.0.1:8080") // plain HTTP is allowed to loopback only
///     .retry(RetryPolicy::default().with_max_attempts(5))
///     .timeout(Duration::from_secs(10))
///     .build()?;
/// assert!(!format!("{client:?}").contains("qov_example"));
/// # Ok::<(), qovery_backups::Error>(())
/// ```
#[derive(Default)]
pub struct ClientBuilder {
    token: Option<SecretString>,
    auth_scheme: Option<AuthScheme>,
    base_url: Option<String>,
    retry: RetryPolicy,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    allow_insecure_http: bool,
    user_agent: Option<String>,
    max_response_bytes: Option<u64>,
    observer: Option<Arc<dyn Observer>>,
    token_from_env: bool,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .field("auth_scheme", &self.auth_scheme)
            .field("base_url", &self.base_url)
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .finish_non_exhaustive()
    }
}

/// Per-attempt timeout unless configured.
///
/// ```
/// use qovery_backups::{Client, DEFAULT_TIMEOUT};
///
/// assert_eq!(DEFAULT_TIMEOUT.as_secs(), 30);
/// let client = Client::builder().token("qov_example_token").build()?;
/// assert_eq!(client.timeout(), DEFAULT_TIMEOUT);
/// # Ok::<(), qovery_backups::Error>(())
/// ```
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl ClientBuilder {
    /// The API token (organization API token, or a JWT). Kept secret: never printed.
    ///
    /// ```
    /// use qovery_backups::Client;
    ///
    /// let builder = Client::builder().token("qov_example_token");
    /// assert!(!format!("{builder:?}").contains("qov_example_token"));
    /// assert!(builder.build().is_ok());
    /// ```
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(SecretString::from(token.into()));
        self
    }

    /// Forces `Token` or `Bearer` instead of detecting it from the token's shape.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// use qovery_backups::{AuthScheme, Client};
    ///
    /// // A token that detection would send as `Token`, for a server that wants `Bearer`.
    /// let client = Client::builder()
    ///     .token(server.token())
    ///     .auth_scheme(AuthScheme::Bearer)
    ///     .base_url(server.base_url())
    ///     .build()?;
    /// client.backups(server.database_ids()[0]).latest().await?;
    /// assert_eq!(server.requests()[0].auth_scheme.as_deref(), Some("Bearer"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn auth_scheme(mut self, scheme: AuthScheme) -> Self {
        self.auth_scheme = Some(scheme);
        self
    }

    /// The API's base URL, `https://api.qovery.com` by default.
    ///
    /// ```
    /// use qovery_backups::{Client, ConfigProblem};
    ///
    /// // Plain HTTP is accepted to loopback only, such as a local mock of the API.
    /// let client = Client::builder().token("qov_example_token").base_url("http://localhost:8080").build()?;
    /// assert_eq!(client.base_url(), "http://localhost:8080");
    ///
    /// let refused = Client::builder().token("qov_example_token").base_url("api.qovery.com").build().unwrap_err();
    /// assert_eq!(refused.config_problem(), Some(ConfigProblem::BaseUrl));
    /// # Ok::<(), qovery_backups::Error>(())
    /// ```
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// How to retry failed calls.
    ///
    /// ```
    /// use qovery_backups::{Client, RetryPolicy};
    ///
    /// let client = Client::builder()
    ///     .token("qov_example_token")
    ///     .retry(RetryPolicy::default().with_max_attempts(5))
    ///     .build()?;
    /// assert_eq!(client.retry().max_attempts(), 5);
    /// # Ok::<(), qovery_backups::Error>(())
    /// ```
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The time allowed for one attempt, from sending the request to the end of the answer.
    ///
    /// ```
    /// use std::time::Duration;
    /// use qovery_backups::{Client, ConfigProblem};
    ///
    /// let client = Client::builder().token("qov_example_token").timeout(Duration::from_secs(5)).build()?;
    /// assert_eq!(client.timeout(), Duration::from_secs(5));
    ///
    /// let refused = Client::builder().token("qov_example_token").timeout(Duration::ZERO).build().unwrap_err();
    /// assert_eq!(refused.config_problem(), Some(ConfigProblem::ZeroTimeout));
    /// # Ok::<(), qovery_backups::Error>(())
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The time allowed to open a connection.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let client = qovery_backups::Client::builder()
    ///     .token("qov_example_token")
    ///     .connect_timeout(Duration::from_secs(3))
    ///     .build()?;
    /// assert_eq!(client.connect_timeout(), Duration::from_secs(3));
    /// # Ok::<(), qovery_backups::Error>(())
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Allows `http://` to a host that is not loopback. Off by default: the token would cross
    /// the network in clear.
    ///
    /// ```
    /// use qovery_backups::{Client, ConfigProblem};
    ///
    /// let builder = || Client::builder().token("qov_example_token").base_url("http://backups-proxy.internal:8080");
    /// assert_eq!(builder().build().unwrap_err().config_problem(), Some(ConfigProblem::InsecureHttp));
    /// assert!(builder().allow_insecure_http(true).build().is_ok());
    /// ```
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// The most bytes of one answer that are read, 8 MiB by default
    /// ([`DEFAULT_MAX_RESPONSE_BYTES`](qovery_backups_api::DEFAULT_MAX_RESPONSE_BYTES)). A page
    /// of 20 backups is tens of kilobytes; a larger answer comes from a misbehaving proxy or
    /// server and fails with [`Error::TooLarge`] without being buffered past the limit.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// use qovery_backups::{Client, Error};
    ///
    /// // A page of 20 backups is larger than 1 KiB.
    /// let client = Client::builder()
    ///     .token(server.token())
    ///     .base_url(server.base_url())
    ///     .max_response_bytes(1024)
    ///     .build()?;
    /// let error = client.backups(server.database_ids()[0]).latest().await.unwrap_err();
    /// assert!(matches!(error, Error::TooLarge { limit: 1024, attempts: 1, .. }));
    /// # Ok(())
    /// # }
    /// ```
    pub fn max_response_bytes(mut self, max: u64) -> Self {
        self.max_response_bytes = Some(max);
        self
    }

    /// Receives typed events (attempts, retries, pages) for progress displays and metrics.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use futures::TryStreamExt as _;
    /// use qovery_backups::{Client, Event, Observer};
    ///
    /// #[derive(Default)]
    /// struct Pages(AtomicUsize);
    ///
    /// impl Observer for Pages {
    ///     fn on_event(&self, event: &Event<'_>) {
    ///         if let Event::PageReceived { .. } = event {
    ///             self.0.fetch_add(1, Ordering::Relaxed);
    ///         }
    ///     }
    /// }
    ///
    /// let pages = Arc::new(Pages::default());
    /// let client = Client::builder()
    ///     .token(server.token())
    ///     .base_url(server.base_url())
    ///     .observer(Arc::clone(&pages))
    ///     .build()?;
    /// let all: Vec<_> = client.backups(server.database_ids()[0]).list().items().try_collect().await?;
    /// assert_eq!((all.len(), pages.0.load(Ordering::Relaxed)), (45, 3)); // 20 a page
    /// # Ok(())
    /// # }
    /// ```
    pub fn observer(mut self, observer: impl Observer) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    /// Replaces the `User-Agent` (`qovery-backups/<version>` by default).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// use qovery_backups::Client;
    ///
    /// let client = Client::builder()
    ///     .token(server.token())
    ///     .base_url(server.base_url())
    ///     .user_agent("nightly-backup-job/1.4")
    ///     .build()?;
    /// client.backups(server.database_ids()[0]).latest().await?;
    /// assert_eq!(server.requests()[0].headers["user-agent"], "nightly-backup-job/1.4");
    /// # Ok(())
    /// # }
    /// ```
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Takes the token and base URL from the environment where they are not set already (see
    /// [`Client::from_env`]).
    ///
    /// ```
    /// use qovery_backups::Client;
    ///
    /// // What is set explicitly wins over the environment.
    /// let client = Client::builder()
    ///     .token("qov_example_token")
    ///     .base_url("http://127.0.0.1:8080")
    ///     .from_env()
    ///     .build()?;
    /// assert_eq!(client.base_url(), "http://127.0.0.1:8080");
    /// # Ok::<(), qovery_backups::Error>(())
    /// ```
    pub fn from_env(mut self) -> Self {
        if self.token.is_none() {
            self.token_from_env = true;
            self.token = TOKEN_ENV_VARS
                .iter()
                .filter_map(|name| std::env::var(name).ok())
                .find(|value| !value.trim().is_empty())
                .map(SecretString::from);
        }
        if self.base_url.is_none() {
            self.base_url = std::env::var(BASE_URL_ENV_VAR).ok().filter(|url| !url.trim().is_empty());
        }
        self
    }

    /// Checks the configuration and builds the client.
    ///
    /// ```
    /// use qovery_backups::{Client, ConfigProblem};
    ///
    /// let error = Client::builder().build().unwrap_err();
    /// assert_eq!(error.config_problem(), Some(ConfigProblem::MissingToken));
    /// // The message says what is wrong; the hint, what to change.
    /// assert_eq!(error.to_string(), "invalid client configuration: no API token was given");
    /// assert!(error.hint().unwrap().contains("ClientBuilder::token"));
    ///
    /// let client = Client::builder().token("qov_example_token").build()?;
    /// # let _ = client;
    /// # Ok::<(), qovery_backups::Error>(())
    /// ```
    pub fn build(self) -> Result<Client, Error> {
        let token = self.token.filter(|t| !t.expose_secret().trim().is_empty()).ok_or_else(|| {
            // Said in the terms the caller used: the builder, or the environment. What to do
            // about it is the hint's (`ConfigProblem::hint`).
            if self.token_from_env {
                Error::config(
                    ConfigProblem::MissingToken,
                    format!(
                        "no API token: {} and {} are unset or empty",
                        TOKEN_ENV_VARS[0], TOKEN_ENV_VARS[1]
                    ),
                )
            } else {
                Error::config(ConfigProblem::MissingToken, "no API token was given")
            }
        })?;
        let base_url = self.base_url.unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        let base_url = check_base_url(base_url.trim().trim_end_matches('/'), self.allow_insecure_http)?;
        let timeout = self.timeout.unwrap_or(DEFAULT_TIMEOUT);
        if timeout.is_zero() {
            return Err(Error::config(
                ConfigProblem::ZeroTimeout,
                "the per-attempt timeout is zero, so every attempt would time out at once",
            ));
        }

        let scheme = self.auth_scheme.unwrap_or_else(|| AuthScheme::detect(token.expose_secret()));
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, authorization(&token, scheme)?);
        let user_agent =
            self.user_agent.unwrap_or_else(|| format!("qovery-backups/{}", env!("CARGO_PKG_VERSION")));
        let connect_timeout = self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT).min(timeout);
        let mut http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(user_agent)
            .connect_timeout(connect_timeout)
            // Redirects would carry the token to wherever they point.
            .redirect(reqwest::redirect::Policy::none());
        if base_url.scheme() == "http" {
            // Plain HTTP through a proxy would hand the proxy the token in clear; the URL was
            // allowed only because it stays on this machine (or the caller said so), so go
            // there directly. Over https a proxy sees only a CONNECT tunnel.
            // And with no TLS and no redirects, the platform's trust roots (about 150 files
            // read at start-up) are never needed.
            http = http.no_proxy();
            #[cfg(any(feature = "rustls", feature = "rustls-ring", feature = "native-tls"))]
            {
                http = http.tls_certs_only([]);
            }
        } else if cfg!(not(any(feature = "rustls", feature = "rustls-ring", feature = "native-tls"))) {
            // Said now rather than as a connection error on the first call.
            return Err(Error::config(
                ConfigProblem::NoTls,
                "the base URL is https, but this build has no TLS to reach it",
            ));
        }
        // With `rustls-ring` alone, reqwest's rustls has no provider compiled in and uses the
        // process default. A provider the program installed already is its choice, and is kept.
        #[cfg(all(feature = "rustls-ring", not(feature = "rustls")))]
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = http.build().map_err(|e| {
            Error::config_caused_by(ConfigProblem::Other, "the HTTP client could not be set up", e)
        })?;
        let mut limits = qovery_backups_api::Limits::default();
        if let Some(max) = self.max_response_bytes {
            limits = limits.with_max_response_bytes(max);
        }
        let base_url = base_url.as_str().trim_end_matches('/').to_owned();

        Ok(Client {
            inner: Arc::new(ClientRef {
                api: qovery_backups_api::Client::new_with_client(&base_url, http, limits),
                retry: self.retry,
                timeout,
                connect_timeout,
                base_url,
                redactor: Redactor::new(token),
                observers: Observers::new(self.observer),
                limiter: retry::RateLimiter::default(),
            }),
        })
    }
}

/// The base URL, if it is one the token may be sent to. Errors never repeat the URL whole: it
/// could hold a password.
fn check_base_url(base_url: &str, allow_insecure_http: bool) -> Result<reqwest::Url, Error> {
    let url = reqwest::Url::parse(base_url)
        .map_err(|e| Error::config_caused_by(ConfigProblem::BaseUrl, "the base URL is not a URL", e))?;
    if !url.username().is_empty() || url.password().is_some() {
        // reqwest would send these as `Authorization: Basic`, replacing the token.
        return Err(Error::config(
            ConfigProblem::BaseUrl,
            "the base URL holds a user name or password, which would replace the token",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::config(
            ConfigProblem::BaseUrl,
            "the base URL has a query or fragment (`?…`, `#…`), which cannot be combined with the API's paths",
        ));
    }
    let host = url.host_str().unwrap_or("");
    match url.scheme() {
        "https" => Ok(url),
        "http" if allow_insecure_http || is_loopback(&url) => Ok(url),
        "http" => Err(Error::config(
            ConfigProblem::InsecureHttp,
            format!("refusing to send the token in clear over http:// to {host}, which is not this machine"),
        )),
        other => Err(Error::config(
            ConfigProblem::BaseUrl,
            format!("the base URL's scheme is `{other}`, not https"),
        )),
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(url: &str) -> String {
        check_base_url(url, false).unwrap_err().to_string()
    }

    #[test]
    fn https_anywhere_and_http_on_loopback_only() {
        assert!(check_base_url("https://api.qovery.com", false).is_ok());
        for loopback in ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9"] {
            assert!(check_base_url(loopback, false).is_ok(), "{loopback}");
        }
        assert!(refused("http://10.0.0.8").contains("in clear over http:// to 10.0.0.8"));
        assert!(check_base_url("http://10.0.0.8", true).is_ok());
        assert!(refused("ftp://api.qovery.com").contains("scheme is `ftp`"));
    }

    #[test]
    fn credentials_in_the_url_are_refused_without_repeating_them() {
        let message = refused("http://user:s3cret-pass@127.0.0.1:8080");
        assert!(message.contains("user name or password"), "{message}");
        assert!(!message.contains("s3cret-pass") && !message.contains("user:"), "{message}");
    }

    #[test]
    fn a_query_or_fragment_is_refused() {
        assert!(refused("https://api.qovery.com/?token=x").contains("query or fragment"));
        assert!(refused("https://api.qovery.com/#x").contains("query or fragment"));
    }

    #[test]
    fn a_zero_timeout_is_a_configuration_error() {
        let error = Client::builder().token("qov_0123456789").timeout(Duration::ZERO).build().unwrap_err();
        assert!(error.is_config() && error.to_string().contains("timeout is zero"), "{error}");
    }

    #[test]
    fn the_missing_token_is_the_message_and_the_builder_method_is_the_hint() {
        let error = Client::builder().build().unwrap_err();
        assert_eq!(error.to_string(), "invalid client configuration: no API token was given");
        assert!(error.hint().unwrap().contains("ClientBuilder::token"), "{error}");
    }

    #[test]
    fn a_client_that_cannot_be_set_up_keeps_the_cause_as_its_source() {
        use std::error::Error as _;

        let error = Client::builder().token("qov_0123456789").user_agent("two\nlines").build().unwrap_err();
        assert_eq!(error.config_problem(), Some(ConfigProblem::Other));
        assert_eq!(error.to_string(), "invalid client configuration: the HTTP client could not be set up");
        assert!(error.source().is_some_and(|cause| cause.is::<reqwest::Error>()), "{error:?}");

        let error = Client::builder().token("qov_0123456789").base_url("api.qovery.com").build().unwrap_err();
        assert_eq!(error.to_string(), "invalid client configuration: the base URL is not a URL");
        assert!(error.source().is_some_and(|cause| cause.is::<url::ParseError>()), "{error:?}");
    }

    #[test]
    fn every_refusal_names_the_setting_it_is_about() {
        let token = "qov_0123456789";
        let problem = |builder: ClientBuilder| builder.build().unwrap_err().config_problem();
        let cases = [
            (Client::builder(), ConfigProblem::MissingToken),
            (Client::builder().token("   "), ConfigProblem::MissingToken),
            (Client::builder().token("qov_0123\n456789"), ConfigProblem::MalformedToken),
            (Client::builder().token(token).base_url("not a url"), ConfigProblem::BaseUrl),
            (Client::builder().token(token).base_url("https://u:p@api.qovery.com"), ConfigProblem::BaseUrl),
            (Client::builder().token(token).base_url("ftp://api.qovery.com"), ConfigProblem::BaseUrl),
            (Client::builder().token(token).base_url("http://10.0.0.8"), ConfigProblem::InsecureHttp),
            (Client::builder().token(token).timeout(Duration::ZERO), ConfigProblem::ZeroTimeout),
        ];
        for (builder, expected) in cases {
            assert_eq!(problem(builder), Some(expected));
        }
    }

    /// The message is the problem; the remedy, which may name a builder method or a feature,
    /// is the hint's, so that a program with its own settings (a CLI's flags) can replace it.
    #[test]
    fn a_refusal_names_no_remedy_and_every_problem_has_a_hint() {
        let token = "qov_0123456789";
        let refusals = [
            Client::builder(),
            Client::builder().token("qov_0123\n456789"),
            Client::builder().token(token).base_url("not a url"),
            Client::builder().token(token).base_url("https://u:p@api.qovery.com"),
            Client::builder().token(token).base_url("https://api.qovery.com/?q"),
            Client::builder().token(token).base_url("ftp://api.qovery.com"),
            Client::builder().token(token).base_url("http://10.0.0.8"),
            Client::builder().token(token).timeout(Duration::ZERO),
            Client::builder().token(token).user_agent("two\nlines"),
        ];
        for builder in refusals {
            let error = builder.build().unwrap_err();
            let message = error.to_string();
            for remedy in ["ClientBuilder", "allow_insecure_http", "feature", "remove", "use https", "copy"] {
                assert!(!message.contains(remedy), "{remedy:?} in {message:?}");
            }
            assert!(error.hint().is_some_and(|hint| !hint.is_empty()), "{message}");
        }

        let every = [
            ConfigProblem::MissingToken,
            ConfigProblem::MalformedToken,
            ConfigProblem::BaseUrl,
            ConfigProblem::InsecureHttp,
            ConfigProblem::ZeroTimeout,
            ConfigProblem::NoTls,
            ConfigProblem::Other,
        ];
        for problem in every {
            // Exhaustive: a new problem does not compile here until it is in `every`.
            match problem {
                ConfigProblem::MissingToken
                | ConfigProblem::MalformedToken
                | ConfigProblem::BaseUrl
                | ConfigProblem::InsecureHttp
                | ConfigProblem::ZeroTimeout
                | ConfigProblem::NoTls
                | ConfigProblem::Other => {}
            }
            let hint = Error::config(problem, "x").hint();
            assert!(hint.is_some_and(|hint| hint.len() > 20), "{problem:?}");
        }
    }
}
