//! Which databases a fleet job is about, resolved once.
//!
//! Every job that walks many databases (a listing, a freshness check, a prune, a backup of each)
//! starts from [`Targets`]: ids the user gave, scopes to discover, or everything the token can
//! see. [`Targets::resolve`] turns them into one [`Target`] per database, each once, in a stable
//! order: the ids as given, then what the scopes found, in the order the API lists it.

use std::collections::HashSet;
use std::future::Future;

use futures::StreamExt as _;
use futures::stream::{self, Stream};
use uuid::Uuid;

use crate::{Client, Error, FleetDatabase, Scope};

/// Fleet jobs run this many databases at once unless told otherwise: enough to hide a real
/// API's 100–200 ms latency, few enough to stay polite to a rate-limited API (and the client's
/// own limiter slows everything down when the API answers 429).
pub const DEFAULT_CONCURRENCY: usize = 8;

/// The databases a fleet job is about: explicit ids, scopes, or everything the token can see.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use qovery_backups_mock::{Fleet, MockConfig, MockServer};
/// # let server = MockServer::start(MockConfig { fleet: Fleet::sample(), ..MockConfig::default() }).await?;
/// # let client = qovery_backups::Client::builder().token(server.token()).base_url(server.base_url()).build()?;
/// use qovery_backups::{Scope, Targets};
///
/// let organization = server.organization_ids()[1];
/// let first = server.database_ids()[0];
/// // One database by id, and an organization that holds it: each database once.
/// let targets = Targets::new().id(first).scope(Scope::Organization(organization));
/// let resolved = targets.resolve(&client).await.map_err(|errors| errors.into_iter().next().unwrap())?;
/// assert_eq!(resolved[0].id, first);
/// assert_eq!(resolved.iter().filter(|t| t.id == first).count(), 1);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Targets {
    ids: Vec<Uuid>,
    scopes: Vec<Scope>,
}

impl Targets {
    /// No database yet: add ids and scopes.
    ///
    /// ```
    /// assert!(qovery_backups::Targets::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Targets::default()
    }

    /// Every database of every organization the token can see.
    ///
    /// ```
    /// use qovery_backups::{Scope, Targets};
    ///
    /// assert_eq!(Targets::everything(), Targets::new().scope(Scope::All));
    /// ```
    pub fn everything() -> Self {
        Targets::new().scope(Scope::All)
    }

    /// Adds a database by id. Its place (organization, project, environment) stays unknown
    /// unless a scope also reaches it.
    ///
    /// ```
    /// let targets = qovery_backups::Targets::new().id(uuid::Uuid::nil());
    /// assert!(!targets.is_empty());
    /// ```
    pub fn id(mut self, database_id: Uuid) -> Self {
        self.ids.push(database_id);
        self
    }

    /// Adds databases by id.
    ///
    /// ```
    /// let targets = qovery_backups::Targets::new().ids([uuid::Uuid::nil(), uuid::Uuid::max()]);
    /// assert!(!targets.is_empty());
    /// ```
    pub fn ids(mut self, database_ids: impl IntoIterator<Item = Uuid>) -> Self {
        self.ids.extend(database_ids);
        self
    }

    /// Adds every database of a scope.
    ///
    /// ```
    /// use qovery_backups::{Scope, Targets};
    ///
    /// let targets = Targets::new().scope(Scope::Project(uuid::Uuid::nil()));
    /// assert!(!targets.is_empty());
    /// ```
    pub fn scope(mut self, scope: Scope) -> Self {
        self.scopes.push(scope);
        self
    }

    /// Adds every database of each scope.
    ///
    /// ```
    /// use qovery_backups::{Scope, Targets};
    ///
    /// let targets = Targets::new().scopes([Scope::Environment(uuid::Uuid::nil())]);
    /// assert!(!targets.is_empty());
    /// ```
    pub fn scopes(mut self, scopes: impl IntoIterator<Item = Scope>) -> Self {
        self.scopes.extend(scopes);
        self
    }

    /// Whether neither an id nor a scope was given.
    ///
    /// ```
    /// assert!(qovery_backups::Targets::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty() && self.scopes.is_empty()
    }

    /// One [`Target`] per database: the ids as given, then the databases the scopes reach, in
    /// the order the API lists them; a database reached twice counts once. Ids are not looked
    /// up here (that would cost a request each): an unknown id is found out by the job that
    /// uses it, through [`Error::UnknownDatabase`].
    ///
    /// Fails with every discovery error met, so that a person sees them all: a fleet job over
    /// part of a fleet would report the missing part as nothing to worry about.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use qovery_backups_mock::{Fleet, MockConfig, MockServer};
    /// # let server = MockServer::start(MockConfig { fleet: Fleet::sample(), ..MockConfig::default() }).await?;
    /// # let client = qovery_backups::Client::builder().token(server.token()).base_url(server.base_url()).build()?;
    /// use qovery_backups::{Scope, Targets};
    ///
    /// let unknown = Targets::new().scope(Scope::Project(uuid::Uuid::nil()));
    /// let errors = unknown.resolve(&client).await.unwrap_err();
    /// assert!(errors[0].is_not_found());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn resolve(&self, client: &Client) -> Result<Vec<Target>, Vec<Error>> {
        let mut seen = HashSet::new();
        let mut targets: Vec<Target> = Vec::new();
        for &id in &self.ids {
            if seen.insert(id) {
                targets.push(Target { id, place: None });
            }
        }
        let given = targets.len();
        if self.scopes.is_empty() {
            return Ok(targets);
        }
        let mut errors = Vec::new();
        let mut found = client.databases(self.scopes.iter().copied()).items();
        while let Some(item) = found.next().await {
            match item {
                Ok(database) if seen.insert(database.id()) => {
                    targets.push(Target { id: database.id(), place: Some(database) });
                }
                // Given by id and found by a scope: keep the id's position, learn its place.
                // Only the ids given come before the discovered ones, so only they are searched.
                Ok(database) => {
                    if let Some(given) = targets[..given].iter_mut().find(|t| t.id == database.id()) {
                        given.place = Some(database);
                    }
                }
                Err(error) => errors.push(error),
            }
        }
        if errors.is_empty() { Ok(targets) } else { Err(errors) }
    }
}

/// One database of a fleet job: its id, and where it lives when a scope found it.
///
/// ```
/// use qovery_backups::Target;
///
/// let target = Target::from_id(uuid::Uuid::nil());
/// assert_eq!(target.label(), uuid::Uuid::nil().to_string());
/// assert!(!target.is_managed_by_provider());
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Target {
    /// The database.
    pub id: Uuid,
    /// Its organization, project, environment, name and mode, when a scope found it.
    pub place: Option<FleetDatabase>,
}

impl Target {
    /// A database known only by its id.
    ///
    /// ```
    /// let target = qovery_backups::Target::from_id(uuid::Uuid::max());
    /// assert_eq!(target.id, uuid::Uuid::max());
    /// ```
    pub fn from_id(id: Uuid) -> Self {
        Target { id, place: None }
    }

    /// `project/environment/database` when its place is known, its id otherwise. Names are the
    /// server's text: escape their control and bidirectional characters before a terminal shows
    /// them.
    ///
    /// ```
    /// let id = uuid::Uuid::nil();
    /// assert_eq!(qovery_backups::Target::from_id(id).label(), id.to_string());
    /// ```
    pub fn label(&self) -> String {
        match &self.place {
            Some(db) => format!("{}/{}/{}", db.project.name, db.environment.name, db.name()),
            None => self.id.to_string(),
        }
    }

    /// Whether its backups are the cloud provider's (`mode: MANAGED`), as far as its place
    /// says; a database known only by id is found out when its backups answer 404.
    ///
    /// ```
    /// assert!(!qovery_backups::Target::from_id(uuid::Uuid::nil()).is_managed_by_provider());
    /// ```
    pub fn is_managed_by_provider(&self) -> bool {
        self.place.as_ref().is_some_and(FleetDatabase::is_managed_by_provider)
    }
}

/// The fleet engine: runs `job` on each item (a database, a [`Target`]), at most
/// `concurrency` at once, and yields the results in the order of the items, each as soon as it
/// and those before it are done. Output is the same whatever order the API answers in, and
/// memory holds at most `concurrency` results. Every job of one [`Client`] shares its rate
/// limiter and retry budget, so a fleet slows down as a whole when the API answers 429.
///
/// [`Client::freshness`] runs on it; a job of your own over a fleet can too:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
/// # let client = qovery_backups::Client::builder().token(server.token()).base_url(server.base_url()).build()?;
/// use futures::StreamExt as _;
///
/// let databases = server.database_ids();
/// let newest: Vec<_> = qovery_backups::in_order(databases.clone(), 8, |database_id| {
///     let backups = client.backups(database_id);
///     async move { (database_id, backups.latest().await) }
/// })
/// .collect()
/// .await;
/// let order: Vec<_> = newest.iter().map(|(database_id, _)| *database_id).collect();
/// assert_eq!(order, databases);
/// assert!(newest.iter().all(|(_, latest)| matches!(latest, Ok(Some(_)))));
/// # Ok(())
/// # }
/// ```
pub fn in_order<I, F, Fut>(
    items: impl IntoIterator<Item = I>,
    concurrency: usize,
    job: F,
) -> impl Stream<Item = Fut::Output>
where
    F: FnMut(I) -> Fut,
    Fut: Future,
{
    stream::iter(items).map(job).buffered(concurrency.max(1))
}
