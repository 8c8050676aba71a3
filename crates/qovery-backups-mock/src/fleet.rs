//! The hierarchy above the databases: organizations, projects, environments, and the databases
//! each environment lists, as the discovery operations serve them.
//!
//! A `CONTAINER` database's backups live in the [`Store`](crate::data::Store); a `MANAGED` one
//! is listed here only, so its backup endpoint answers 404, as Qovery's does.

use chrono::Duration as ChronoDuration;
use qovery_backups_api::types::{
    Database, DatabaseModeEnum, DatabaseTypeEnum, Environment, EnvironmentCloudProvider, EnvironmentModeEnum,
    Organization, PlanEnum, Project, ReferenceObject, ServiceTypeEnum,
};
use rand::rngs::ChaCha8Rng;
use uuid::Uuid;

use crate::data::{anchor, record_rng, uuid_from};

/// Ids of everything the fleet holds that was not given by the store.
const DOMAIN_FLEET: u32 = 5;

/// The seeded organizations, projects, environments and databases a [`MockServer`] serves
/// besides the default organization (which holds the [`MockConfig::databases`]).
///
/// Database `k` of the whole fleet (counting from 0 across environments, in listing order) is
/// `MANAGED` when `managed_every > 0` and `k % managed_every == managed_every - 1`; the others
/// are `CONTAINER` databases of [`backups`](Fleet::backups) seeded backups each.
///
/// ```
/// use qovery_backups_mock::{Fleet, MockConfig};
///
/// // 2 organizations × 2 projects × 2 environments × 3 databases, every third one MANAGED.
/// let config = MockConfig { fleet: Fleet::sample(), ..MockConfig::default() };
/// assert_eq!(config.fleet.organizations, 2);
/// ```
///
/// [`MockServer`]: crate::MockServer
/// [`MockConfig::databases`]: crate::MockConfig::databases
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fleet {
    /// Organizations besides the default one.
    pub organizations: usize,
    /// Projects in each of them.
    pub projects: usize,
    /// Environments in each project.
    pub environments: usize,
    /// Databases in each environment.
    pub databases: usize,
    /// Every how many databases one is `MANAGED` (0: none).
    pub managed_every: usize,
    /// Seeded backups of each `CONTAINER` database.
    pub backups: usize,
}

impl Fleet {
    /// 2 organizations × 2 projects × 2 environments × 3 databases, every third one `MANAGED`,
    /// 5 backups in each of the others: what `qovery-backups mock --fleet` serves.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use qovery_backups_mock::{Fleet, MockConfig, MockServer};
    ///
    /// let server = MockServer::start(MockConfig { fleet: Fleet::sample(), ..MockConfig::default() }).await?;
    /// // The first environment of the first organization the sample adds (after the default one).
    /// let project = server.project_ids(server.organization_ids()[1])[0];
    /// let databases = server.environment_database_ids(server.environment_ids(project)[0]);
    /// assert_eq!(databases.len(), 3);
    /// assert_eq!(server.backup_count(databases[0]), Some(5));
    /// assert_eq!(server.backup_count(databases[2]), None); // the third is MANAGED
    /// # Ok(())
    /// # }
    /// ```
    pub fn sample() -> Fleet {
        Fleet { organizations: 2, projects: 2, environments: 2, databases: 3, managed_every: 3, backups: 5 }
    }
}

/// Which parent was unknown, so a listing or a change to the hierarchy was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FleetError {
    Organization(Uuid),
    Project(Uuid),
    Environment(Uuid),
}

pub(crate) struct Hierarchy {
    rng: ChaCha8Rng,
    organizations: Vec<Organization>,
    projects: Vec<Project>,
    environments: Vec<Environment>,
    databases: Vec<Database>,
    default_environment: Uuid,
}

const ENVIRONMENT_MODES: [EnvironmentModeEnum; 4] = [
    EnvironmentModeEnum::Production,
    EnvironmentModeEnum::Staging,
    EnvironmentModeEnum::Development,
    EnvironmentModeEnum::Preview,
];

fn kind(index: usize) -> (DatabaseTypeEnum, &'static str) {
    match index % 4 {
        0 => (DatabaseTypeEnum::Postgresql, "16"),
        1 => (DatabaseTypeEnum::Redis, "7.2"),
        2 => (DatabaseTypeEnum::Mysql, "8.0"),
        _ => (DatabaseTypeEnum::Mongodb, "7.0"),
    }
}

impl Hierarchy {
    /// The default organization, project and environment, named `default`.
    pub(crate) fn new(seed: u64) -> Hierarchy {
        let mut hierarchy = Hierarchy {
            rng: record_rng(seed, DOMAIN_FLEET, 0, 0),
            organizations: Vec::new(),
            projects: Vec::new(),
            environments: Vec::new(),
            databases: Vec::new(),
            default_environment: Uuid::nil(),
        };
        let organization = hierarchy.add_organization("default");
        let project = hierarchy.add_project(organization, "default").unwrap_or_default();
        hierarchy.default_environment = hierarchy.add_environment(project, "default").unwrap_or_default();
        hierarchy
    }

    /// Seeds `fleet`; `add_container` puts a database of `backups` backups in the store and
    /// returns its id.
    pub(crate) fn seed(&mut self, fleet: Fleet, mut add_container: impl FnMut(usize) -> Uuid) {
        let mut k = 0;
        for o in 0..fleet.organizations {
            let organization = self.add_organization(&format!("org-{o}"));
            for p in 0..fleet.projects {
                let Ok(project) = self.add_project(organization, &format!("project-{p}")) else { continue };
                for e in 0..fleet.environments {
                    let name = ENVIRONMENT_MODES[e % ENVIRONMENT_MODES.len()].to_string().to_lowercase();
                    let Ok(environment) = self.add_environment(project, &name) else { continue };
                    for d in 0..fleet.databases {
                        let managed =
                            fleet.managed_every > 0 && k % fleet.managed_every == fleet.managed_every - 1;
                        let (type_, _) = kind(d);
                        let name = format!("{}-{d}", type_.to_string().to_lowercase());
                        let id = if managed { None } else { Some(add_container(fleet.backups)) };
                        let mode =
                            if managed { DatabaseModeEnum::Managed } else { DatabaseModeEnum::Container };
                        let _ = self.add_database(environment, id, &name, mode, d);
                        k += 1;
                    }
                }
            }
        }
    }

    fn next_id(&mut self) -> Uuid {
        uuid_from(&mut self.rng)
    }

    fn created_at(&self) -> chrono::DateTime<chrono::Utc> {
        // Fixed, so answers are byte-identical for a seed.
        anchor() - ChronoDuration::days(400)
    }

    pub(crate) fn add_organization(&mut self, name: &str) -> Uuid {
        let id = self.next_id();
        self.organizations.push(Organization {
            admin_emails: None,
            billing_deployment_restriction: None,
            created_at: self.created_at(),
            description: None,
            icon_url: None,
            id,
            logo_url: None,
            name: name.to_owned(),
            organization_plan: None,
            owner: None,
            plan: PlanEnum::Team2025,
            repository: None,
            updated_at: None,
            website_url: None,
        });
        id
    }

    pub(crate) fn add_project(&mut self, organization: Uuid, name: &str) -> Result<Uuid, FleetError> {
        if !self.organizations.iter().any(|o| o.id == organization) {
            return Err(FleetError::Organization(organization));
        }
        let id = self.next_id();
        self.projects.push(Project {
            associated_environments_count: 0,
            created_at: self.created_at(),
            description: None,
            id,
            name: name.to_owned(),
            organization: ReferenceObject { id: organization },
            updated_at: None,
        });
        Ok(id)
    }

    pub(crate) fn add_environment(&mut self, project: Uuid, name: &str) -> Result<Uuid, FleetError> {
        let Some(owner) = self.projects.iter_mut().find(|p| p.id == project) else {
            return Err(FleetError::Project(project));
        };
        owner.associated_environments_count += 1;
        let organization = owner.organization.id;
        let mode = ENVIRONMENT_MODES[self.environments.len() % ENVIRONMENT_MODES.len()].clone();
        let id = self.next_id();
        let cluster_id = self.next_id();
        self.environments.push(Environment {
            cloud_provider: EnvironmentCloudProvider {
                cluster: Some("eu-west-3".to_owned()),
                provider: Some("aws".to_owned()),
            },
            cluster_id,
            cluster_name: Some("production".to_owned()),
            created_at: self.created_at(),
            expires_at: None,
            id,
            last_updated_by: None,
            mode,
            name: name.to_owned(),
            organization: ReferenceObject { id: organization },
            project: ReferenceObject { id: project },
            updated_at: None,
        });
        Ok(id)
    }

    /// Lists a database in `environment`: `id` is the store's for a `CONTAINER` database, `None`
    /// for a `MANAGED` one (which gets a fresh id). `index` picks its type and version.
    pub(crate) fn add_database(
        &mut self,
        environment: Uuid,
        id: Option<Uuid>,
        name: &str,
        mode: DatabaseModeEnum,
        index: usize,
    ) -> Result<Uuid, FleetError> {
        if !self.environments.iter().any(|e| e.id == environment) {
            return Err(FleetError::Environment(environment));
        }
        let id = match id {
            Some(id) => id,
            None => self.next_id(),
        };
        let (type_, version) = kind(index);
        let managed = mode == DatabaseModeEnum::Managed;
        self.databases.push(Database {
            accessibility: None,
            annotations_groups: Vec::new(),
            cpu: 250,
            created_at: self.created_at(),
            description: None,
            disk_encrypted: Some(true),
            disk_type: managed.then(|| "gp3".to_owned()),
            environment: ReferenceObject { id: environment },
            host: None,
            icon_uri: "https://console.qovery.com/assets/database.svg".to_owned(),
            id,
            instance_type: managed.then(|| "db.t3.medium".to_owned()),
            labels_groups: Vec::new(),
            maximum_cpu: None,
            maximum_memory: None,
            memory: None,
            mode,
            name: name.to_owned(),
            port: None,
            service_type: ServiceTypeEnum::Database,
            storage: 10,
            type_,
            updated_at: None,
            version: version.to_owned(),
        });
        Ok(id)
    }

    /// Lists a store database in the default environment.
    pub(crate) fn add_default(&mut self, id: Uuid, index: usize) {
        let environment = self.default_environment;
        let _ = self.add_database(
            environment,
            Some(id),
            &format!("database-{index}"),
            DatabaseModeEnum::Container,
            0,
        );
    }

    /// How many databases the default environment lists.
    pub(crate) fn default_count(&self) -> usize {
        self.databases.iter().filter(|d| d.environment.id == self.default_environment).count()
    }

    pub(crate) fn has_environment(&self, id: Uuid) -> bool {
        self.environments.iter().any(|e| e.id == id)
    }

    pub(crate) fn remove_database(&mut self, id: Uuid) {
        self.databases.retain(|d| d.id != id);
    }

    pub(crate) fn organizations(&self) -> Vec<Organization> {
        self.organizations.clone()
    }

    pub(crate) fn projects(&self, organization: Uuid) -> Result<Vec<Project>, FleetError> {
        if !self.organizations.iter().any(|o| o.id == organization) {
            return Err(FleetError::Organization(organization));
        }
        Ok(self.projects.iter().filter(|p| p.organization.id == organization).cloned().collect())
    }

    pub(crate) fn environments(&self, project: Uuid) -> Result<Vec<Environment>, FleetError> {
        if !self.projects.iter().any(|p| p.id == project) {
            return Err(FleetError::Project(project));
        }
        Ok(self.environments.iter().filter(|e| e.project.id == project).cloned().collect())
    }

    pub(crate) fn databases(&self, environment: Uuid) -> Result<Vec<Database>, FleetError> {
        if !self.environments.iter().any(|e| e.id == environment) {
            return Err(FleetError::Environment(environment));
        }
        Ok(self.databases.iter().filter(|d| d.environment.id == environment).cloned().collect())
    }

    /// One database, as `GET /database/{databaseId}` answers it.
    pub(crate) fn database(&self, id: Uuid) -> Option<Database> {
        self.databases.iter().find(|d| d.id == id).cloned()
    }

    pub(crate) fn managed_database_ids(&self) -> Vec<Uuid> {
        self.databases.iter().filter(|d| d.mode == DatabaseModeEnum::Managed).map(|d| d.id).collect()
    }

    pub(crate) fn is_managed(&self, id: Uuid) -> bool {
        self.databases.iter().any(|d| d.id == id && d.mode == DatabaseModeEnum::Managed)
    }
}
