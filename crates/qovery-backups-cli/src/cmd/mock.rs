//! `qovery-backups mock`: the in-memory mock of the API in the foreground, for trying the tool
//! and for other programs' tests. Built with the `mock` feature only.

use std::io::{self, Write as _};

use crate::cli::MockArgs;
use crate::outcome::{Failure, Outcome};

/// Serves until Ctrl-C. The first line on stdout is `listening on <URL>`.
pub async fn run(args: MockArgs) -> Result<Outcome, Failure> {
    let config = qovery_backups_mock::MockConfig {
        addr: args.addr,
        token: args.token,
        seed: args.seed,
        databases: args.databases,
        backups_per_database: vec![args.backups],
        faults: args.faults.unwrap_or_default(),
        lifecycle: qovery_backups_mock::Lifecycle { queued: args.queued, ongoing: args.ongoing },
        outcomes: args.outcomes.unwrap_or_default(),
        fleet: if args.fleet {
            qovery_backups_mock::Fleet::sample()
        } else {
            qovery_backups_mock::Fleet::default()
        },
        rate_limit: args.rate_limit,
        ..Default::default()
    };
    qovery_backups_mock::run_until_ctrl_c(config, |server| {
        // The first line is a contract: scripts read the address from it.
        println!("listening on {}", server.base_url());
        let _ = io::stdout().flush();
        for organization_id in server.organization_ids() {
            eprintln!("organization {organization_id}");
        }
        for database_id in server.database_ids() {
            eprintln!("database {database_id}");
        }
        for database_id in server.managed_database_ids() {
            eprintln!("managed database {database_id}");
        }
    })
    .await
    .map_err(|e| Failure::Other(format!("the mock server stopped: {e}")))?;
    Ok(Outcome::Success)
}
