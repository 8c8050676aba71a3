//! Starts a mock with one large database and lists every backup, page by page, over HTTP.
//!
//! ```text
//! cargo run --release -p qovery-backups-mock --example list_million [BACKUPS [HISTORY]]
//! ```
//!
//! Prints start-up time, pages a second, and the process's peak RSS (Linux).

use std::time::Instant;

use qovery_backups_mock::{History, MockConfig, MockServer};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let backups: usize = match std::env::args().nth(1) {
        Some(arg) => arg.parse()?,
        None => 1_000_000,
    };
    // `nightly` (the default) or `retention`: the start-up cost of each seeded timeline.
    let history = match std::env::args().nth(2).as_deref() {
        None | Some("nightly") => History::Nightly,
        Some("retention") => History::Retention,
        Some(other) => return Err(format!("unknown history `{other}`; use `nightly` or `retention`").into()),
    };
    let started = Instant::now();
    let server = MockServer::start(MockConfig {
        databases: 1,
        backups_per_database: vec![backups],
        history,
        ..MockConfig::default()
    })
    .await?;
    let startup = started.elapsed();
    let database = server.database_ids()[0];
    let url = format!("{}/database/{database}/backup", server.base_url());
    let client = reqwest::Client::new();
    let auth = format!("Token {}", server.token());

    let started = Instant::now();
    let (mut pages, mut seen) = (0u64, 0usize);
    let mut cursor: Option<String> = None;
    loop {
        let mut request = client.get(&url).header("Authorization", &auth);
        if let Some(cursor) = &cursor {
            request = request.query(&[("startId", cursor)]);
        }
        let body: serde_json::Value = request.send().await?.error_for_status()?.json().await?;
        pages += 1;
        let results = body["results"].as_array().ok_or("no results")?;
        seen += results.len();
        match results.last() {
            Some(last) => cursor = last["id"].as_str().map(str::to_owned),
            None => break,
        }
    }
    let listing = started.elapsed();
    assert_eq!(seen, backups);
    println!("backups:        {backups}");
    println!("start-up:       {:.2?}", startup);
    println!(
        "listing:        {pages} pages in {:.2?} = {:.0} pages/s, {:.0} µs a page (client included)",
        listing,
        pages as f64 / listing.as_secs_f64(),
        listing.as_secs_f64() * 1e6 / pages as f64
    );
    if let Ok(status) = std::fs::read_to_string("/proc/self/status")
        && let Some(line) = status.lines().find(|l| l.starts_with("VmHWM"))
    {
        println!("peak RSS:       {}", line.trim_start_matches("VmHWM:").trim());
    }
    Ok(())
}
