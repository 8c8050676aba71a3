//! Serves a mock until Ctrl-C, for trying it with curl or loading it with wrk.
//!
//! ```text
//! cargo run --release -p qovery-backups-mock --example serve -- [BACKUPS] [FAULT-SPEC]
//! curl -H 'Authorization: Token mock-token' http://127.0.0.1:PORT/database/DB/backup
//! ```

use qovery_backups_mock::{FaultPlan, MockConfig, run_until_ctrl_c};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let backups: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(45);
    let faults: FaultPlan = args.next().map(|a| a.parse()).transpose()?.unwrap_or_default();
    let config =
        MockConfig { databases: 1, backups_per_database: vec![backups], faults, ..MockConfig::default() };
    run_until_ctrl_c(config, |server| {
        let database = server.database_ids()[0];
        println!("listening on {}", server.base_url());
        println!("token:    {}", server.token());
        println!("list:     {}/database/{database}/backup", server.base_url());
        // A cursor half-way down: the page after it is as costly to find as any.
        let ids = server.backup_ids(database);
        if let Some(middle) = ids.get(ids.len() / 2) {
            println!("deep:     {}/database/{database}/backup?startId={middle}", server.base_url());
        }
    })
    .await?;
    Ok(())
}
