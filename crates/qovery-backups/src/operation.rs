//! Which call an error or a trace is about.

use std::fmt;

use uuid::Uuid;

/// One call to the API, with the ids it was about. Errors and tracing spans name it.
///
/// ```
/// use qovery_backups::Operation;
///
/// let database_id = uuid::Uuid::nil();
/// let op = Operation::List { database_id, after: None };
/// assert_eq!(op.to_string(), format!("listing the backups of database {database_id}"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// `GET /database/{databaseId}/backup`: one page of the listing.
    List {
        /// The database.
        database_id: Uuid,
        /// Where the listing stood: the last backup it had delivered, `None` at the start. This
        /// is the page's `startId`, except while a listing recovers from a deleted cursor.
        after: Option<Uuid>,
    },
    /// `POST /database/{databaseId}/backup`.
    Create {
        /// The database.
        database_id: Uuid,
    },
    /// `DELETE /database/{databaseId}/backup/{backupId}`.
    Delete {
        /// The database.
        database_id: Uuid,
        /// The backup.
        backup_id: Uuid,
    },
    /// `GET /database/{databaseId}`: one database, asked after its backups answered 404.
    GetDatabase {
        /// The database.
        database_id: Uuid,
    },
    /// `GET /organization`: the organizations the token can see.
    ListOrganizations,
    /// `GET /organization/{organizationId}/project`.
    ListProjects {
        /// The organization.
        organization_id: Uuid,
    },
    /// `GET /project/{projectId}/environment`.
    ListEnvironments {
        /// The project.
        project_id: Uuid,
    },
    /// `GET /environment/{environmentId}/database`.
    ListDatabases {
        /// The environment.
        environment_id: Uuid,
    },
}

impl Operation {
    /// The database the call was about; `None` for the discovery listings, which are about an
    /// organization, project or environment ([`parent_id`](Self::parent_id)).
    ///
    /// ```
    /// use qovery_backups::Operation;
    ///
    /// let database_id = uuid::Uuid::nil();
    /// assert_eq!(Operation::Create { database_id }.database_id(), Some(database_id));
    /// assert_eq!(Operation::ListOrganizations.database_id(), None);
    /// ```
    pub fn database_id(&self) -> Option<Uuid> {
        match *self {
            Operation::List { database_id, .. }
            | Operation::Create { database_id }
            | Operation::Delete { database_id, .. }
            | Operation::GetDatabase { database_id } => Some(database_id),
            _ => None,
        }
    }

    /// The organization, project or environment a discovery listing was about.
    ///
    /// ```
    /// use qovery_backups::Operation;
    ///
    /// let project_id = uuid::Uuid::nil();
    /// assert_eq!(Operation::ListEnvironments { project_id }.parent_id(), Some(project_id));
    /// assert_eq!(Operation::ListOrganizations.parent_id(), None);
    /// ```
    pub fn parent_id(&self) -> Option<Uuid> {
        match *self {
            Operation::ListProjects { organization_id: id }
            | Operation::ListEnvironments { project_id: id }
            | Operation::ListDatabases { environment_id: id } => Some(id),
            _ => None,
        }
    }

    /// The backup the call was about, for a delete.
    ///
    /// ```
    /// use qovery_backups::Operation;
    ///
    /// let (database_id, backup_id) = (uuid::Uuid::nil(), uuid::Uuid::max());
    /// assert_eq!(Operation::Delete { database_id, backup_id }.backup_id(), Some(backup_id));
    /// assert_eq!(Operation::Create { database_id }.backup_id(), None);
    /// ```
    pub fn backup_id(&self) -> Option<Uuid> {
        match *self {
            Operation::Delete { backup_id, .. } => Some(backup_id),
            _ => None,
        }
    }

    /// A short stable name for logs and metrics: `list`, `create`, `delete`, `get_database`,
    /// `list_organizations`, `list_projects`, `list_environments`, `list_databases`.
    ///
    /// ```
    /// use qovery_backups::{Error, Operation, StatusCode};
    ///
    /// // A metrics label for failed calls.
    /// let error = Error::api(Operation::Create { database_id: uuid::Uuid::nil() }, StatusCode::BAD_GATEWAY);
    /// assert_eq!(error.operation().map(Operation::name), Some("create"));
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            Operation::List { .. } => "list",
            Operation::Create { .. } => "create",
            Operation::Delete { .. } => "delete",
            Operation::GetDatabase { .. } => "get_database",
            Operation::ListOrganizations => "list_organizations",
            Operation::ListProjects { .. } => "list_projects",
            Operation::ListEnvironments { .. } => "list_environments",
            Operation::ListDatabases { .. } => "list_databases",
        }
    }

    /// Whether sending the call twice has the same effect as sending it once. The retry loop
    /// re-sends a call that may have been applied only when it is idempotent, or when the
    /// caller first checks what the earlier attempt did (as [`Backups::create`] does).
    ///
    /// ```
    /// use qovery_backups::Operation;
    ///
    /// let database_id = uuid::Uuid::nil();
    /// assert!(Operation::List { database_id, after: None }.is_idempotent());
    /// assert!(Operation::Delete { database_id, backup_id: uuid::Uuid::max() }.is_idempotent());
    /// assert!(!Operation::Create { database_id }.is_idempotent());
    /// ```
    ///
    /// [`Backups::create`]: crate::Backups::create
    pub fn is_idempotent(&self) -> bool {
        !matches!(self, Operation::Create { .. })
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operation::List { database_id, .. } => write!(f, "listing the backups of database {database_id}"),
            Operation::Create { database_id } => write!(f, "creating a backup of database {database_id}"),
            Operation::Delete { database_id, backup_id } => {
                write!(f, "deleting backup {backup_id} of database {database_id}")
            }
            Operation::GetDatabase { database_id } => write!(f, "looking up database {database_id}"),
            Operation::ListOrganizations => f.write_str("listing the organizations"),
            Operation::ListProjects { organization_id } => {
                write!(f, "listing the projects of organization {organization_id}")
            }
            Operation::ListEnvironments { project_id } => {
                write!(f, "listing the environments of project {project_id}")
            }
            Operation::ListDatabases { environment_id } => {
                write!(f, "listing the databases of environment {environment_id}")
            }
        }
    }
}
