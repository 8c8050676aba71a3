//! `--organization`, `--project`, `--environment`: the databases a command works on, found
//! through the discovery listings, next to (or instead of) database ids.

use futures::StreamExt as _;
use qovery_backups::{Client, FleetDatabase, Scope};
use uuid::Uuid;

use crate::cli::ScopeArgs;
use crate::outcome::Failure;

impl ScopeArgs {
    /// Whether no scope option was given.
    pub fn is_empty(&self) -> bool {
        self.organizations.is_empty() && self.projects.is_empty() && self.environments.is_empty()
    }

    /// The SDK's scopes, in the order organizations, projects, environments.
    pub fn scopes(&self) -> Vec<Scope> {
        let organizations = self.organizations.iter().map(|id| Scope::Organization(*id));
        let projects = self.projects.iter().map(|id| Scope::Project(*id));
        let environments = self.environments.iter().map(|id| Scope::Environment(*id));
        organizations.chain(projects).chain(environments).collect()
    }

    /// `organization X, project Y`, for messages.
    fn describe(&self) -> String {
        self.scopes().iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    }
}

/// One database a command works on; `place` is known when a scope reached it.
#[derive(Debug, Clone)]
pub struct Target {
    /// The database.
    pub id: Uuid,
    /// Where it lives, when a scope found it.
    pub place: Option<FleetDatabase>,
}

impl Target {
    /// `project/environment/database`, or the id when no scope found it.
    pub fn label(&self) -> String {
        match &self.place {
            Some(db) => format!("{}/{}/{}", db.project.name, db.environment.name, db.name()),
            None => self.id.to_string(),
        }
    }

    /// Whether the cloud provider backs it up (known only for a database a scope found).
    pub fn is_managed_by_provider(&self) -> bool {
        self.place.as_ref().is_some_and(FleetDatabase::is_managed_by_provider)
    }
}

/// Every database found in `scopes` (all of them when `scopes` is empty and `all_when_empty`),
/// each once. A scope that holds no database is a usage error (exit 2): a cron job pointed at
/// the wrong id should not pass silently.
pub async fn discover(
    client: &Client,
    scope: &ScopeArgs,
    all_when_empty: bool,
) -> Result<Vec<FleetDatabase>, Failure> {
    let scopes = if scope.is_empty() && all_when_empty { vec![Scope::All] } else { scope.scopes() };
    let mut found = client.databases(scopes).items();
    let mut databases = Vec::new();
    let mut errors = Vec::new();
    while let Some(item) = found.next().await {
        match item {
            Ok(database) => databases.push(database),
            Err(error) => errors.push(error),
        }
    }
    if !errors.is_empty() {
        return Err(Failure::Api(errors));
    }
    if databases.is_empty() {
        let what = if scope.is_empty() {
            "every organization the token can see".to_owned()
        } else {
            scope.describe()
        };
        return Err(Failure::Usage(format!("no database found in {what}")));
    }
    Ok(databases)
}

/// The databases given by id, then those the scopes reach, each once. With `skip_managed`,
/// databases whose backups the cloud provider manages are left out, with one note each on
/// stderr: there is nothing of theirs to list, delete or prune here.
pub async fn targets(
    client: &Client,
    ids: &[Uuid],
    scope: &ScopeArgs,
    skip_managed: bool,
) -> Result<Vec<Target>, Failure> {
    let mut targets: Vec<Target> = Vec::new();
    let mut push = |target: Target| {
        if !targets.iter().any(|t| t.id == target.id) {
            targets.push(target);
        }
    };
    for id in ids {
        push(Target { id: *id, place: None });
    }
    if !scope.is_empty() {
        for database in discover(client, scope, false).await? {
            if skip_managed && database.is_managed_by_provider() {
                eprintln!(
                    "note: skipping {}/{}/{} ({}): its backups are managed by the cloud provider",
                    qovery_backups::printable(&database.project.name),
                    qovery_backups::printable(&database.environment.name),
                    qovery_backups::printable(database.name()),
                    database.id()
                );
                continue;
            }
            push(Target { id: database.id(), place: Some(database) });
        }
    }
    Ok(targets)
}

/// The ids of `targets`, in order.
pub fn ids(targets: &[Target]) -> Vec<Uuid> {
    targets.iter().map(|t| t.id).collect()
}
