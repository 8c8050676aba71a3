//! One side of the listing benchmark as a program of its own, to count its instructions under
//! `valgrind --tool=callgrind` against a mock in another process: instruction counts do not move
//! with the machine's load, as times do on a shared 2-core machine.
//!
//! ```text
//! qovery-backups mock --databases 1 --backups 2000          # prints its URL and database
//! valgrind --tool=callgrind listing_client sdk  URL TOKEN DATABASE ROUNDS
//! valgrind --tool=callgrind listing_client hand URL TOKEN DATABASE ROUNDS
//! ```
//!
//! Run each side with ROUNDS 1 and 6: the difference over 5 is the cost of one listing, without
//! the start-up. RESULTS.md has the figures.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use qovery_backups::Client;
use qovery_backups_bench::{BENCH_USER_AGENT, hand_written_listing, sdk_listing};
use uuid::Uuid;

const USAGE: &str = "usage: listing_client sdk|hand URL TOKEN DATABASE ROUNDS";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [side, url, token, database, rounds] = args.as_slice() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let (Ok(database_id), Ok(rounds)) = (database.parse::<Uuid>(), rounds.parse::<u32>()) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
        eprintln!("error: no runtime");
        return ExitCode::FAILURE;
    };
    let result: Result<u64, String> = runtime.block_on(async {
        let mut total = 0;
        match side.as_str() {
            "sdk" => {
                let client = Client::builder()
                    .token(token)
                    .base_url(url)
                    .user_agent(BENCH_USER_AGENT)
                    .build()
                    .map_err(|e| e.to_string())?;
                for _ in 0..rounds {
                    total += sdk_listing(&client, database_id).await.map_err(|e| e.to_string())?;
                }
            }
            "hand" => {
                let http = reqwest::Client::builder()
                    .user_agent(BENCH_USER_AGENT)
                    .build()
                    .map_err(|e| e.to_string())?;
                for _ in 0..rounds {
                    total += hand_written_listing(&http, url, token, database_id)
                        .await
                        .map_err(|e| e.to_string())?;
                }
            }
            _ => return Err(USAGE.to_owned()),
        }
        Ok(total)
    });
    match result {
        Ok(total) => {
            println!("{side}: {total} backups in {rounds} listing(s)");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
