//! `--organization`, `--project`, `--environment`: the databases a command works on, found
//! through the discovery listings, next to (or instead of) database ids.

use qovery_backups::{Client, FleetDatabase, Scope};
use uuid::Uuid;

use crate::cli::{Changing, Reading, ScopeArgs};
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

pub use qovery_backups::Target;

/// Every database found in `scope` (every one the token can see when it is empty), each once,
/// with where it lives: [`targets`] without ids, and with MANAGED databases kept.
pub async fn discover(client: &Client, scope: &ScopeArgs) -> Result<Vec<FleetDatabase>, Failure> {
    // Nothing is skipped, so there is no note to keep quiet.
    let found = targets(client, &[], scope, WhenNoneGiven::Everything, false, true).await?;
    // Found by a scope, so each knows its place.
    Ok(found.into_iter().filter_map(|target| target.place).collect())
}

/// Which databases a command takes when given neither ids nor a scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WhenNoneGiven {
    /// Every database the token can see (`list`, `latest`, `check`: reading is harmless).
    Everything,
    /// None (`prune` deletes: it must be told what).
    Nothing,
}

/// The databases given by id, then those the scopes reach, each once (see
/// [`qovery_backups::Targets::resolve`]). With `skip_managed`, databases whose backups the
/// cloud provider manages are left out, with one note each on stderr (unless `quiet`): there is
/// nothing of theirs to list, delete or prune here. A scope that holds no database is a usage
/// error (exit 2): a cron job pointed at the wrong id should not pass silently.
async fn targets(
    client: &Client,
    ids: &[Uuid],
    scope: &ScopeArgs,
    when_none_given: WhenNoneGiven,
    skip_managed: bool,
    quiet: bool,
) -> Result<Vec<Target>, Failure> {
    let mut wanted = qovery_backups::Targets::new().ids(ids.iter().copied()).scopes(scope.scopes());
    if wanted.is_empty() && when_none_given == WhenNoneGiven::Everything {
        wanted = qovery_backups::Targets::everything();
    }
    let mut targets = wanted.resolve(client).await.map_err(Failure::Api)?;
    if targets.is_empty() {
        let what = if scope.is_empty() {
            "every organization the token can see".to_owned()
        } else {
            scope.describe()
        };
        return Err(Failure::Usage(format!("no database found in {what}")));
    }
    if skip_managed {
        targets.retain(|target| {
            let managed = target.is_managed_by_provider();
            if managed && !quiet {
                eprintln!(
                    "note: skipping {} ({}): its backups are managed by the cloud provider",
                    qovery_backups::printable(&target.label()),
                    target.id
                );
            }
            !managed
        });
    }
    Ok(targets)
}

impl Reading {
    /// Those given, those the scopes reach, or every one the token can see.
    pub async fn targets(
        &self,
        client: &Client,
        skip_managed: bool,
        quiet: bool,
    ) -> Result<Vec<Target>, Failure> {
        targets(client, &self.ids, &self.scope, WhenNoneGiven::Everything, skip_managed, quiet).await
    }

    /// The databases a listing command (`list`, `latest`) works on, by id: MANAGED ones left
    /// out with a note, since they have no backups here.
    pub async fn readable_ids(&self, client: &Client, quiet: bool) -> Result<Vec<Uuid>, Failure> {
        Ok(ids(&self.targets(client, true, quiet).await?))
    }
}

impl Changing {
    /// Those given and those the scopes reach, MANAGED ones left out with a note: backing up or
    /// pruning "everything the token can see" is never a default.
    pub async fn targets(&self, client: &Client, quiet: bool) -> Result<Vec<Target>, Failure> {
        targets(client, &self.ids, &self.scope, WhenNoneGiven::Nothing, true, quiet).await
    }
}

/// The ids of `targets`, in order.
pub fn ids(targets: &[Target]) -> Vec<Uuid> {
    targets.iter().map(|t| t.id).collect()
}
