//! The client and its builder.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderMap};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use crate::auth::{AuthScheme, authorization};
use crate::{Backups, Error, ListMany, RetryPolicy};

/// Qovery's public API.
pub const DEFAULT_BASE_URL: &str = "https://api.qovery.com";

/// Environment variables read by [`Client::from_env`], in order of preference for the token.
pub const TOKEN_ENV_VARS: [&str; 2] = ["QOVERY_API_TOKEN", "QOVERY_CLI_ACCESS_TOKEN"];
/// Environment variable that overrides the API's base URL.
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
///     .retry(RetryPolicy::default().max_attempts(5))
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
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) api: qovery_backups_api::Client,
    pub(crate) retry: RetryPolicy,
    pub(crate) timeout: Duration,
    pub(crate) base_url: String,
    token: SecretString,
}

impl Client {
    /// Starts configuring a client.
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
    pub fn backups(&self, database_id: Uuid) -> Backups {
        Backups::new(self.clone(), database_id)
    }

    /// Lists the backups of several databases at once, each item tagged with its database.
    ///
    /// ```no_run
    /// # async fn run(client: qovery_backups::Client, ids: Vec<uuid::Uuid>) -> Result<(), qovery_backups::Error> {
    /// use futures::TryStreamExt as _;
    ///
    /// let mut merged = client.list_many(ids).concurrency(8).items();
    /// while let Some((database_id, backup)) = merged.try_next().await? {
    ///     println!("{database_id} {}", backup.name);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn list_many(&self, database_ids: impl IntoIterator<Item = Uuid>) -> ListMany {
        ListMany::new(self.clone(), database_ids.into_iter().collect())
    }

    /// The generated low-level client, for anything this crate does not wrap. It sends the same
    /// `Authorization` header, but has no retries.
    pub fn api(&self) -> &qovery_backups_api::Client {
        &self.inner.api
    }

    /// The API's base URL.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The retry policy in force.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// The per-attempt timeout.
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// Removes the token from text that came from the server (it could echo a header back).
    /// A token too short to be told apart from ordinary words is left alone: no real Qovery
    /// token is that short, and redacting every `t` in a message would destroy it.
    pub(crate) fn redact(&self, text: &str) -> String {
        const SHORTEST_REDACTED: usize = 8;
        let token = self.inner.token.expose_secret().trim();
        if token.len() < SHORTEST_REDACTED { text.to_owned() } else { text.replace(token, "[redacted]") }
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("token", &"[redacted]")
            .field("retry", &self.inner.retry)
            .field("timeout", &self.inner.timeout)
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
///     .retry(RetryPolicy::default().max_attempts(5))
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
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .field("auth_scheme", &self.auth_scheme)
            .field("base_url", &self.base_url)
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Per-attempt timeout unless configured.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl ClientBuilder {
    /// The API token (organization API token, or a JWT). Kept secret: never printed.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(SecretString::from(token.into()));
        self
    }

    /// Forces `Token` or `Bearer` instead of detecting it from the token's shape.
    pub fn auth_scheme(mut self, scheme: AuthScheme) -> Self {
        self.auth_scheme = Some(scheme);
        self
    }

    /// The API's base URL, `https://api.qovery.com` by default.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// How to retry failed calls.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The time allowed for one attempt, from sending the request to the end of the answer.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The time allowed to open a connection.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Allows `http://` to a host that is not loopback. Off by default: the token would cross
    /// the network in clear.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Replaces the `User-Agent` (`qovery-backups/<version>` by default).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Takes the token and base URL from the environment where they are not set already (see
    /// [`Client::from_env`]).
    pub fn from_env(mut self) -> Self {
        if self.token.is_none() {
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
    pub fn build(self) -> Result<Client, Error> {
        let token = self.token.filter(|t| !t.expose_secret().trim().is_empty()).ok_or_else(|| {
            Error::config(format!(
                "no API token: set {} (or {}) to an organization API token from the Qovery console",
                TOKEN_ENV_VARS[0], TOKEN_ENV_VARS[1]
            ))
        })?;
        let base_url = self.base_url.unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        let base_url = base_url.trim().trim_end_matches('/').to_owned();
        check_base_url(&base_url, self.allow_insecure_http)?;

        let scheme = self.auth_scheme.unwrap_or_else(|| AuthScheme::detect(token.expose_secret()));
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, authorization(&token, scheme)?);
        let user_agent =
            self.user_agent.unwrap_or_else(|| format!("qovery-backups/{}", env!("CARGO_PKG_VERSION")));
        let timeout = self.timeout.unwrap_or(DEFAULT_TIMEOUT);
        let mut http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(user_agent)
            .connect_timeout(self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT).min(timeout))
            // Redirects would carry the token to wherever they point.
            .redirect(reqwest::redirect::Policy::none());
        if base_url.get(..5).is_some_and(|scheme| scheme.eq_ignore_ascii_case("http:")) {
            // Plain HTTP, and no redirects: this client never does TLS, so it need not load the
            // platform's trust roots (about 150 files read at start-up).
            http = http.tls_certs_only([]);
        }
        let http = http.build().map_err(|e| Error::config(format!("cannot set up HTTP: {e}")))?;

        Ok(Client {
            inner: Arc::new(Inner {
                api: qovery_backups_api::Client::new_with_client(&base_url, http),
                retry: self.retry,
                timeout,
                base_url,
                token,
            }),
        })
    }
}

fn check_base_url(base_url: &str, allow_insecure_http: bool) -> Result<(), Error> {
    let url = reqwest::Url::parse(base_url).map_err(|e| {
        Error::config(format!("base URL `{base_url}` is not a URL ({e}); use e.g. {DEFAULT_BASE_URL}"))
    })?;
    match url.scheme() {
        "https" => Ok(()),
        "http" if allow_insecure_http || is_loopback(&url) => Ok(()),
        "http" => Err(Error::config(format!(
            "refusing to send the token in clear to `{base_url}`: use https, or allow plain HTTP explicitly"
        ))),
        other => Err(Error::config(format!("base URL `{base_url}` has scheme `{other}`; use https"))),
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
