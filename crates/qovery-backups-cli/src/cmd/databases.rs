//! `qovery-backups databases`: the databases of organizations, projects or environments.

use chrono::{DateTime, Utc};
use qovery_backups::{FleetDatabase, printable};
use serde::Serialize;
use uuid::Uuid;

use crate::cli::{DatabasesArgs, Global};
use crate::cmd::scope::discover;
use crate::cmd::{client, default_format};
use crate::outcome::{Failure, Outcome};
use crate::output::{self, Kind, Record, Writer};
use crate::table::{self, Column};

/// One database, in every format (the JSON's and CSV's fields are these, in this order).
#[derive(Serialize)]
struct Row<'a> {
    database_id: Uuid,
    database: &'a str,
    #[serde(rename = "type")]
    type_: String,
    version: &'a str,
    mode: String,
    managed_by_provider: bool,
    organization_id: Uuid,
    organization: &'a str,
    project_id: Uuid,
    project: &'a str,
    environment_id: Uuid,
    environment: &'a str,
}

impl<'a> From<&'a FleetDatabase> for Row<'a> {
    fn from(db: &'a FleetDatabase) -> Self {
        Row {
            database_id: db.id(),
            database: db.name(),
            type_: db.database_type().to_string(),
            version: db.version(),
            mode: db.mode().to_string(),
            managed_by_provider: db.is_managed_by_provider(),
            organization_id: db.organization.id,
            organization: &db.organization.name,
            project_id: db.project.id,
            project: &db.project.name,
            environment_id: db.environment.id,
            environment: &db.environment.name,
        }
    }
}

impl Record for Row<'_> {
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        serde_json::to_writer(out, self)
    }

    fn cells(&self, _now: DateTime<Utc>) -> Vec<String> {
        vec![
            self.database_id.to_string(),
            printable(&self.type_).into_owned(),
            printable(self.version).into_owned(),
            printable(&self.mode).into_owned(),
            printable(&format!("{}/{}/{}", self.project, self.environment, self.database)).into_owned(),
        ]
    }

    fn csv_row(&self) -> Vec<String> {
        [
            &self.database_id.to_string(),
            self.database,
            &self.type_,
            self.version,
            &self.mode,
            &self.managed_by_provider.to_string(),
            &self.organization_id.to_string(),
            self.organization,
            &self.project_id.to_string(),
            self.project,
            &self.environment_id.to_string(),
            self.environment,
        ]
        .map(ToOwned::to_owned)
        .to_vec()
    }
}

/// The databases: the id and the name are what a person needs; VERSION goes first on a narrow
/// terminal, then MODE, then TYPE, and the path is clipped before any, at its start, so that
/// the database's own name shows.
const DATABASES: Kind = Kind {
    table: table::Spec {
        columns: &[
            Column::fixed("ID"),
            Column::clipped("TYPE", 10).dropped_at(1),
            Column::clipped("VERSION", 7).dropped_at(3),
            Column::clipped("MODE", 9).dropped_at(2),
            Column::clipped("PROJECT/ENVIRONMENT/DATABASE", 24).keep_end(),
        ],
        gap: 2,
        header: true,
    },
    csv_header: &[
        "database_id",
        "database",
        "type",
        "version",
        "mode",
        "managed_by_provider",
        "organization_id",
        "organization",
        "project_id",
        "project",
        "environment_id",
        "environment",
    ],
    empty: None,
};

/// Lists the databases; an empty scope is exit 2, a failed discovery call exit 1.
pub async fn run(global: &Global, args: DatabasesArgs) -> Result<Outcome, Failure> {
    let client = client(global)?;
    let databases = discover(&client, &args.scope).await?;
    let mut out = Writer::new(output::stdout(), default_format(args.output), DATABASES);
    for db in &databases {
        out.write(&Row::from(db))?;
    }
    out.finish()?;
    Ok(Outcome::Success)
}
