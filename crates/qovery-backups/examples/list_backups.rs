//! Lists every backup of a database, newest first.
//!
//! ```text
//! cargo run -p qovery-backups --example list_backups                 # against an in-process mock
//! QOVERY_API_TOKEN=... cargo run -p qovery-backups --example list_backups -- <DATABASE_ID>
//! ```

use futures::TryStreamExt as _;
use qovery_backups::{Client, Error};
use qovery_backups_mock::{MockConfig, MockServer};
use uuid::Uuid;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let database_arg = std::env::args().nth(1);
    // Without a database id, start the mock and list one of its databases instead.
    let (_mock, client, database_id) = match database_arg {
        Some(id) => {
            let database_id: Uuid = id.parse().expect("the argument is a database id (a UUID)");
            (None, Client::from_env()?, database_id)
        }
        None => {
            let mock = MockServer::start(MockConfig::default()).await.expect("the mock starts on 127.0.0.1");
            let client = Client::builder().token(mock.token()).base_url(mock.base_url()).build()?;
            let database_id = mock.database_ids()[0];
            (Some(mock), client, database_id)
        }
    };

    let mut backups = client.backups(database_id).list().items();
    let mut count = 0;
    while let Some(backup) = backups.try_next().await? {
        let state = backup.status.as_ref().map(|s| s.state.to_string()).unwrap_or_default();
        println!(
            "{}  {}  {:<24} {state}",
            backup.id,
            backup.created_at.format("%Y-%m-%d %H:%M"),
            backup.name
        );
        count += 1;
    }
    println!("{count} backups in database {database_id}");
    Ok(())
}
