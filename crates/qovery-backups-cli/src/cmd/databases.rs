//! `qovery-backups databases`: the databases of organizations, projects or environments.

use std::io::Write;

use qovery_backups::{FleetDatabase, printable};
use serde::Serialize;
use uuid::Uuid;

use crate::cli::{DatabasesArgs, Format, Global};
use crate::cmd::scope::discover;
use crate::cmd::{client, default_format};
use crate::outcome::{Failure, Outcome};
use crate::output;

/// One database as the machine formats write it.
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

/// Lists the databases; an empty scope is exit 2, a failed discovery call exit 1.
pub async fn run(global: &Global, args: DatabasesArgs) -> Result<Outcome, Failure> {
    let client = client(global)?;
    let databases = discover(&client, &args.scope, true).await?;
    let mut out = output::stdout();
    match default_format(args.output) {
        Format::Table => {
            writeln!(
                out,
                "{:<36}  {:<10}  {:<7}  {:<9}  PROJECT/ENVIRONMENT/DATABASE",
                "ID", "TYPE", "VERSION", "MODE"
            )?;
            for db in &databases {
                writeln!(
                    out,
                    "{:<36}  {:<10}  {:<7}  {:<9}  {}/{}/{}",
                    db.id(),
                    printable(db.database_type().as_ref()),
                    printable(db.version()),
                    printable(db.mode().as_ref()),
                    printable(&db.project.name),
                    printable(&db.environment.name),
                    printable(db.name())
                )?;
            }
        }
        Format::Ndjson => {
            for db in &databases {
                serde_json::to_writer(&mut out, &Row::from(db)).map_err(std::io::Error::from)?;
                out.write_all(b"\n")?;
            }
        }
        Format::Json => {
            let rows: Vec<Row<'_>> = databases.iter().map(Row::from).collect();
            serde_json::to_writer_pretty(&mut out, &rows).map_err(std::io::Error::from)?;
            out.write_all(b"\n")?;
        }
        Format::Csv => {
            let mut csv = csv::Writer::from_writer(&mut out);
            for db in &databases {
                csv.serialize(Row::from(db)).map_err(std::io::Error::other)?;
            }
            csv.flush()?;
        }
    }
    out.flush()?;
    Ok(Outcome::Success)
}
