//! The reference: what a person writes by hand to list a database as NDJSON with reqwest and
//! serde_json. One current-thread runtime, one connection, the generated model types, std's
//! buffered stdout.
//!
//! It sends what the SDK sends (`User-Agent: qovery-backups/<version>`, `api-version`,
//! `Accept: application/json`, `Authorization: Token …`) and writes the bytes that
//! `qovery-backups list DB --output ndjson` writes: the driver checks that they are equal.

use std::io::{self, BufWriter, Write as _};
use std::process::ExitCode;

use qovery_backups_api::types::{Backup, BackupPaginatedResponseList};
use reqwest::header::{ACCEPT, AUTHORIZATION};
use serde::Serialize;
use uuid::Uuid;

/// The SDK's default `User-Agent`: the SDK and this crate share the workspace's version.
const USER_AGENT: &str = concat!("qovery-backups/", env!("CARGO_PKG_VERSION"));

/// What the CLI writes per line: the backup's fields with `database_id` first.
#[derive(Serialize)]
struct Tagged<'a> {
    database_id: Uuid,
    #[serde(flatten)]
    backup: &'a Backup,
}

/// `whole_process hand URL DATABASE_ID [no-tls-roots]`, the token in `QOVERY_API_TOKEN`.
///
/// As written first, it builds reqwest's client as most programs do, which loads the platform's
/// trust roots even for `http://`; `no-tls-roots` makes it skip them, as the SDK does for a
/// plain-HTTP base URL, for a start-up comparison that leaves TLS set-up out of both sides.
pub fn main(args: &[String]) -> ExitCode {
    let (url, database, tls_roots) = match args {
        [url, database] => (url, database, true),
        [url, database, flag] if flag == "no-tls-roots" => (url, database, false),
        _ => {
            eprintln!(
                "usage: whole_process hand URL DATABASE_ID [no-tls-roots]  (token in QOVERY_API_TOKEN)"
            );
            return ExitCode::from(2);
        }
    };
    let (Ok(database_id), Ok(token)) = (database.parse::<Uuid>(), std::env::var("QOVERY_API_TOKEN")) else {
        eprintln!("error: a database id and QOVERY_API_TOKEN are needed");
        return ExitCode::from(2);
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(list(url, database_id, &token, tls_roots)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn list(
    base_url: &str,
    database_id: Uuid,
    token: &str,
    tls_roots: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut http = reqwest::Client::builder().user_agent(USER_AGENT);
    if !tls_roots {
        http = http.tls_certs_only([]);
    }
    let http = http.build()?;
    let url = format!("{base_url}/database/{database_id}/backup");
    let authorization = format!("Token {token}");
    let api_version = <qovery_backups_api::Client as qovery_backups_api::ClientInfo<
        qovery_backups_api::Limits,
    >>::api_version();
    let mut out = BufWriter::new(io::stdout().lock());
    let mut start_id: Option<Uuid> = None;
    loop {
        let mut request = http
            .get(&url)
            .header(AUTHORIZATION, &authorization)
            .header(ACCEPT, "application/json")
            .header("api-version", api_version);
        if let Some(start_id) = start_id {
            request = request.query(&[("startId", start_id)]);
        }
        let bytes = request.send().await?.error_for_status()?.bytes().await?;
        let page: BackupPaginatedResponseList = serde_json::from_slice(&bytes)?;
        for backup in &page.results {
            serde_json::to_writer(&mut out, &Tagged { database_id, backup })?;
            out.write_all(b"\n")?;
        }
        // The API's stop rule: an empty or short page is the last.
        match page.results.last() {
            Some(last) if (page.results.len() as f64) >= page.page_size => start_id = Some(last.id),
            _ => break,
        }
    }
    out.flush()?;
    Ok(())
}
