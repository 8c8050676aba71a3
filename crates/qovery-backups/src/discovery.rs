//! Finding the databases: organizations, projects, environments, and the databases each lists.

use std::collections::HashSet;
use std::fmt;

use futures::stream::{self, StreamExt as _};
use qovery_backups_api::types::{Database, DatabaseModeEnum, DatabaseTypeEnum};
use uuid::Uuid;

use crate::fleet::DEFAULT_CONCURRENCY;
use crate::retry::{self, Resend};
use crate::{Client, Error, ListStream, Operation};

/// Where to look for databases. Scopes may overlap: a database reached twice is yielded once.
///
/// ```
/// use qovery_backups::Scope;
///
/// let scope = Scope::Project(uuid::Uuid::nil());
/// assert_eq!(scope.to_string(), format!("project {}", uuid::Uuid::nil()));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scope {
    /// Every organization the token can see.
    All,
    /// One organization's projects.
    Organization(Uuid),
    /// One project's environments.
    Project(Uuid),
    /// One environment's databases.
    Environment(Uuid),
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::All => f.write_str("every organization"),
            Scope::Organization(id) => write!(f, "organization {id}"),
            Scope::Project(id) => write!(f, "project {id}"),
            Scope::Environment(id) => write!(f, "environment {id}"),
        }
    }
}

/// An organization, project or environment: its id and its name.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
/// # let client = qovery_backups::Client::builder().token(server.token()).base_url(server.base_url()).build()?;
/// use futures::TryStreamExt as _;
/// use qovery_backups::Scope;
///
/// let databases: Vec<_> = client.databases([Scope::All]).items().try_collect().await?;
/// // The mock lists its databases in an organization, project and environment named `default`.
/// let first = &databases[0];
/// assert_eq!(first.environment.name, "default");
/// assert_eq!(first.project.id, server.project_ids(first.organization.id)[0]);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Parent {
    /// Its id.
    pub id: Uuid,
    /// Its name; its id, written out, when no listing the token can read showed it. (An
    /// environment asked for by id that no project listing showed keeps its own id, and its
    /// organization and project are then unknown: the nil id.)
    pub name: String,
}

impl Parent {
    fn unnamed(id: Uuid) -> Parent {
        Parent { id, name: id.to_string() }
    }
}

/// A database found by [`Client::databases`], with where it lives.
///
/// ```
/// # async fn run(client: qovery_backups::Client) -> Result<(), qovery_backups::Error> {
/// use futures::TryStreamExt as _;
/// use qovery_backups::Scope;
///
/// let databases: Vec<_> = client.databases([Scope::All]).items().try_collect().await?;
/// for db in databases.iter().filter(|db| !db.is_managed_by_provider()) {
///     println!("{}/{}/{} {} {} {}", db.project.name, db.environment.name, db.name(), db.id(), db.database_type(), db.version());
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct FleetDatabase {
    /// The organization.
    pub organization: Parent,
    /// The project.
    pub project: Parent,
    /// The environment.
    pub environment: Parent,
    /// The database, as the API lists it.
    pub database: Database,
}

impl FleetDatabase {
    /// The database's id, the one [`Client::backups`] takes.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// # let client = qovery_backups::Client::builder().token(server.token()).base_url(server.base_url()).build()?;
    /// # use futures::TryStreamExt as _;
    /// # let db = client.databases([qovery_backups::Scope::All]).items().try_next().await?.unwrap();
    /// let backups = client.backups(db.id());
    /// assert_eq!(backups.database_id(), server.database_ids()[0]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn id(&self) -> Uuid {
        self.database.id
    }

    /// The database's name.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// # let client = qovery_backups::Client::builder().token(server.token()).base_url(server.base_url()).build()?;
    /// # use futures::TryStreamExt as _;
    /// # let db = client.databases([qovery_backups::Scope::All]).items().try_next().await?.unwrap();
    /// assert_eq!(format!("{}/{}", db.environment.name, db.name()), "default/database-0");
    /// # Ok(())
    /// # }
    /// ```
    pub fn name(&self) -> &str {
        &self.database.name
    }

    /// `POSTGRESQL`, `MYSQL`, …
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// # let client = qovery_backups::Client::builder().token(server.token()).base_url(server.base_url()).build()?;
    /// # use futures::TryStreamExt as _;
    /// # let db = client.databases([qovery_backups::Scope::All]).items().try_next().await?.unwrap();
    /// use qovery_backups::types::DatabaseTypeEnum;
    ///
    /// assert_eq!(db.database_type(), &DatabaseTypeEnum::Postgresql);
    /// assert_eq!(db.database_type().as_str(), "POSTGRESQL");
    /// # Ok(())
    /// # }
    /// ```
    pub fn database_type(&self) -> &DatabaseTypeEnum {
        &self.database.type_
    }

    /// The engine's version, as the API writes it (`16`, `8.0`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// # let client = qovery_backups::Client::builder().token(server.token()).base_url(server.base_url()).build()?;
    /// # use futures::TryStreamExt as _;
    /// # let db = client.databases([qovery_backups::Scope::All]).items().try_next().await?.unwrap();
    /// assert_eq!(format!("{} {}", db.database_type(), db.version()), "POSTGRESQL 16");
    /// # Ok(())
    /// # }
    /// ```
    pub fn version(&self) -> &str {
        &self.database.version
    }

    /// `CONTAINER` (run by Qovery, backed up through this API) or `MANAGED`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// # let client = qovery_backups::Client::builder().token(server.token()).base_url(server.base_url()).build()?;
    /// # use futures::TryStreamExt as _;
    /// # let db = client.databases([qovery_backups::Scope::All]).items().try_next().await?.unwrap();
    /// use qovery_backups::types::DatabaseModeEnum;
    ///
    /// assert_eq!(db.mode(), &DatabaseModeEnum::Container);
    /// # Ok(())
    /// # }
    /// ```
    pub fn mode(&self) -> &DatabaseModeEnum {
        &self.database.mode
    }

    /// Whether the cloud provider backs it up (`mode: MANAGED`): Qovery's backup endpoint
    /// answers 404 for it, so there is nothing to list, create or check here.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use qovery_backups_mock::{Fleet, MockConfig, MockServer};
    /// # let server = MockServer::start(MockConfig { fleet: Fleet::sample(), ..MockConfig::default() }).await?;
    /// # let client = qovery_backups::Client::builder().token(server.token()).base_url(server.base_url()).build()?;
    /// use futures::TryStreamExt as _;
    /// use qovery_backups::Scope;
    ///
    /// let databases: Vec<_> = client.databases([Scope::All]).items().try_collect().await?;
    /// let (managed, ours): (Vec<_>, Vec<_>) = databases.into_iter().partition(|db| db.is_managed_by_provider());
    /// assert_eq!(managed.len(), server.managed_database_ids().len());
    /// // Only the others have backups to list.
    /// for db in &ours {
    ///     client.backups(db.id()).latest().await?;
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn is_managed_by_provider(&self) -> bool {
        self.database.mode == DatabaseModeEnum::Managed
    }
}

/// The databases of [`Databases::items`], each once: a [`ListStream`] of [`FleetDatabase`],
/// named as [`Items`](crate::Items) and [`ManyItems`](crate::ManyItems) are.
///
/// ```no_run
/// # async fn run(client: qovery_backups::Client) -> Result<(), qovery_backups::Error> {
/// use futures::TryStreamExt as _;
/// use qovery_backups::{DatabaseItems, Scope};
///
/// let mut databases: DatabaseItems = client.databases([Scope::All]).items();
/// while let Some(database) = databases.try_next().await? {
///     println!("{} {}", database.id(), database.name());
/// }
/// # Ok(())
/// # }
/// ```
pub type DatabaseItems = ListStream<FleetDatabase>;

/// The databases of some [`Scope`]s. Get one from [`Client::databases`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use qovery_backups_mock::{Fleet, MockConfig, MockServer};
/// # let server = MockServer::start(MockConfig { fleet: Fleet::sample(), ..MockConfig::default() }).await?;
/// # let client = qovery_backups::Client::builder().token(server.token()).base_url(server.base_url()).build()?;
/// use futures::TryStreamExt as _;
/// use qovery_backups::Scope;
///
/// // One project: its environments, then each environment's databases.
/// let project = server.project_ids(server.organization_ids()[1])[0];
/// let databases: Vec<_> = client.databases([Scope::Project(project)]).items().try_collect().await?;
/// assert_eq!(databases.len(), 6); // 2 environments of 3 databases
/// assert!(databases.iter().all(|db| db.project.id == project));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a listing does nothing until its stream is polled"]
pub struct Databases {
    client: Client,
    scopes: Vec<Scope>,
    concurrency: usize,
}

/// Where one environment sits.
#[derive(Clone)]
struct Place {
    organization: Parent,
    project: Parent,
    environment: Parent,
}

impl Databases {
    pub(crate) fn new(client: Client, scopes: Vec<Scope>) -> Self {
        Databases { client, scopes, concurrency: DEFAULT_CONCURRENCY }
    }

    /// How many listing calls are in flight at once. At least 1.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// # let client = qovery_backups::Client::builder().token(server.token()).base_url(server.base_url()).build()?;
    /// use futures::TryStreamExt as _;
    /// use qovery_backups::Scope;
    ///
    /// // One call at a time, for an API that rate-limits hard.
    /// let databases: Vec<_> = client.databases([Scope::All]).concurrency(1).items().try_collect().await?;
    /// assert_eq!(databases.len(), 3);
    /// # Ok(())
    /// # }
    /// ```
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Every database in the scopes, each once, in the order the API lists organizations,
    /// projects, environments and databases. Each call goes through the client's retry policy;
    /// a call that still fails yields its error (naming what was being listed) and the rest go
    /// on. No scopes, no databases.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// # let client = qovery_backups::Client::builder().token(server.token()).base_url(server.base_url()).build()?;
    /// use futures::StreamExt as _;
    /// use qovery_backups::Scope;
    ///
    /// let unknown = uuid::Uuid::nil();
    /// let mut items = client.databases([Scope::All, Scope::Environment(unknown)]).items();
    /// let (mut found, mut failed) = (0, Vec::new());
    /// while let Some(item) = items.next().await {
    ///     match item {
    ///         Ok(_database) => found += 1,
    ///         Err(error) => failed.push(error),
    ///     }
    /// }
    /// assert_eq!(found, 3);
    /// assert!(failed[0].is_not_found());
    /// assert_eq!(failed[0].operation().and_then(|op| op.parent_id()), Some(unknown));
    /// # Ok(())
    /// # }
    /// ```
    pub fn items(self) -> DatabaseItems {
        let concurrency = self.concurrency;
        let client = self.client.clone();
        let found = stream::once(async move { self.places().await }).flat_map(move |(places, errors)| {
            let client = client.clone();
            let listings = stream::iter(places).map(move |place| {
                let client = client.clone();
                async move {
                    let environment_id = place.environment.id;
                    let listed =
                        call(&client, Operation::ListDatabases { environment_id }, move |c| async move {
                            c.wire().list_databases(environment_id).await
                        })
                        .await;
                    let items: Vec<Result<FleetDatabase, Error>> = match listed {
                        Ok(databases) => databases
                            .into_iter()
                            .map(|database| {
                                Ok(FleetDatabase {
                                    organization: place.organization.clone(),
                                    project: place.project.clone(),
                                    environment: place.environment.clone(),
                                    database,
                                })
                            })
                            .collect(),
                        Err(error) => vec![Err(error)],
                    };
                    stream::iter(items)
                }
            });
            stream::iter(errors.into_iter().map(Err)).chain(listings.buffered(concurrency).flatten())
        });
        let mut seen = HashSet::new();
        ListStream::new(found.filter(move |item| {
            let first = match item {
                Ok(database) => seen.insert(database.id()),
                Err(_) => true,
            };
            std::future::ready(first)
        }))
    }

    /// The environments the scopes reach, each once, and the errors met finding them.
    async fn places(&self) -> (Vec<Place>, Vec<Error>) {
        let client = &self.client;
        let mut errors = Vec::new();
        if self.scopes.is_empty() {
            return (Vec::new(), errors);
        }
        let organizations = match call(client, Operation::ListOrganizations, |c| async move {
            c.wire().list_organizations().await
        })
        .await
        {
            Ok(organizations) => organizations,
            Err(error) => return (Vec::new(), vec![error]),
        };
        let all = self.scopes.contains(&Scope::All);
        let wanted =
            |f: fn(&Scope) -> Option<Uuid>| -> Vec<Uuid> { self.scopes.iter().filter_map(f).collect() };
        let wanted_organizations = wanted(|s| if let Scope::Organization(id) = s { Some(*id) } else { None });
        let wanted_projects = wanted(|s| if let Scope::Project(id) = s { Some(*id) } else { None });
        let wanted_environments = wanted(|s| if let Scope::Environment(id) = s { Some(*id) } else { None });

        // Organizations whose projects to list: the selected ones, and every visible one when a
        // project or environment must be found (no operation answers "which organization holds
        // this project").
        let mut organization_list: Vec<Parent> =
            organizations.iter().map(|o| Parent { id: o.id, name: o.name.clone() }).collect();
        for id in &wanted_organizations {
            if !organization_list.iter().any(|o| o.id == *id) {
                organization_list.push(Parent::unnamed(*id));
            }
        }
        let searching = !wanted_projects.is_empty() || !wanted_environments.is_empty();
        let to_walk: Vec<Parent> = organization_list
            .into_iter()
            .filter(|o| all || searching || wanted_organizations.contains(&o.id))
            .collect();
        let selected_organization = |id: Uuid| all || wanted_organizations.contains(&id);

        let listed = self
            .each(to_walk, |c, o: Parent| async move {
                let organization_id = o.id;
                let projects = call(&c, Operation::ListProjects { organization_id }, move |c| async move {
                    c.wire().list_projects(organization_id).await
                })
                .await;
                (o, projects)
            })
            .await;
        let mut search_errors = Vec::new();
        let mut projects: Vec<(Parent, Parent, bool)> = Vec::new(); // (organization, project, selected)
        for (organization, result) in listed {
            match result {
                Ok(list) => {
                    for p in list {
                        let selected =
                            selected_organization(organization.id) || wanted_projects.contains(&p.id);
                        projects.push((organization.clone(), Parent { id: p.id, name: p.name }, selected));
                    }
                }
                Err(error) if selected_organization(organization.id) => errors.push(error),
                Err(error) => search_errors.push(error),
            }
        }
        for id in &wanted_projects {
            if !projects.iter().any(|(_, p, _)| p.id == *id) {
                // Not seen: ask anyway, so an unknown project is the API's own 404.
                projects.push((Parent::unnamed(Uuid::nil()), Parent::unnamed(*id), true));
            }
        }

        let to_walk: Vec<(Parent, Parent, bool)> = projects
            .into_iter()
            .filter(|(_, _, selected)| *selected || !wanted_environments.is_empty())
            .collect();
        let listed = self
            .each(to_walk, |c, (o, p, selected): (Parent, Parent, bool)| async move {
                let project_id = p.id;
                let environments =
                    call(&c, Operation::ListEnvironments { project_id }, move |c| async move {
                        c.wire().list_environments(project_id).await
                    })
                    .await;
                (o, p, selected, environments)
            })
            .await;
        let mut places: Vec<Place> = Vec::new();
        for (organization, project, selected, result) in listed {
            match result {
                Ok(list) => {
                    for e in list {
                        if selected || wanted_environments.contains(&e.id) {
                            let organization = if organization.id.is_nil() {
                                Parent::unnamed(e.organization.id)
                            } else {
                                organization.clone()
                            };
                            places.push(Place {
                                organization,
                                project: project.clone(),
                                environment: Parent { id: e.id, name: e.name },
                            });
                        }
                    }
                }
                Err(error) if selected => errors.push(error),
                Err(error) => search_errors.push(error),
            }
        }
        for id in &wanted_environments {
            if !places.iter().any(|p| p.environment.id == *id) {
                // Not seen: its listing answers for it (a 404 when it does not exist), and what
                // kept it from being found is reported too.
                places.push(Place {
                    organization: Parent::unnamed(Uuid::nil()),
                    project: Parent::unnamed(Uuid::nil()),
                    environment: Parent::unnamed(*id),
                });
                errors.append(&mut search_errors);
            }
        }
        let mut seen = HashSet::new();
        places.retain(|p| seen.insert(p.environment.id));
        (places, errors)
    }

    /// Runs `f` on each item, `concurrency` at once, keeping the input order.
    async fn each<I, F, Fut, O>(&self, items: Vec<I>, f: F) -> Vec<O>
    where
        F: Fn(Client, I) -> Fut,
        Fut: Future<Output = O>,
    {
        stream::iter(items)
            .map(|item| f(self.client.clone(), item))
            .buffered(self.concurrency)
            .collect()
            .await
    }
}

impl Client {
    /// One database by id (`GET /database/{databaseId}`), with its name, type and mode.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = qovery_backups_mock::MockServer::start(Default::default()).await?;
    /// # let client = qovery_backups::Client::builder().token(server.token()).base_url(server.base_url()).build()?;
    /// let database = client.database(server.database_ids()[0]).await?;
    /// assert_eq!(database.name, "database-0");
    ///
    /// let unknown = client.database(uuid::Uuid::nil()).await.unwrap_err();
    /// assert!(unknown.is_not_found());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn database(&self, database_id: Uuid) -> Result<Database, Error> {
        call(self, Operation::GetDatabase { database_id }, move |c| async move {
            c.wire().get_database(database_id).await
        })
        .await
    }
}

/// After a 404 on a database's backups, asks for the database itself to say which 404 it was:
/// [`Error::UnknownDatabase`] when it does not exist either (a mistyped id must never pass for
/// a database with nothing to back up), [`Error::ManagedByProvider`] when its mode is
/// `MANAGED`. Anything else (the lookup fails, or the database is Qovery's own) leaves the
/// first 404 as it was: nothing is claimed that the API did not say.
pub(crate) async fn explain_not_found(client: &Client, error: Error) -> Error {
    let Some(&operation) = error.operation() else { return error };
    let about_a_backup = operation.backup_id().is_some();
    let Some(database_id) = operation.database_id().filter(|_| !about_a_backup) else { return error };
    match client.database(database_id).await {
        Err(lookup) if lookup.status() == Some(reqwest::StatusCode::NOT_FOUND) => {
            let detail = if let Error::Api { detail, .. } = error { detail } else { None };
            Error::UnknownDatabase { operation, database_id, detail }
        }
        Ok(database) if database.mode == DatabaseModeEnum::Managed => {
            Error::ManagedByProvider { operation, database_id }
        }
        Ok(_) => error,
        Err(lookup) => {
            tracing::warn!(%database_id, error = %lookup, "could not look the database up after a 404");
            error
        }
    }
}

/// One discovery call through the client's retry loop. Listing is idempotent: re-sent as is.
async fn call<T, F, Fut>(client: &Client, operation: Operation, f: F) -> Result<T, Error>
where
    F: Fn(Client) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    retry::run(&client.retry_settings(), operation, Resend::AsIs, |_| f(client.clone())).await
}
