//! The commands that talk to the API.

use std::io::{self, BufWriter, IsTerminal as _, Write};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use chrono::Utc;
use futures::stream::BoxStream;
use futures::{StreamExt as _, TryStreamExt as _};
use qovery_backups::types::ServiceActionStatusEnum;
use qovery_backups::{AuthScheme, Backup, Client, RetryPolicy};
use uuid::Uuid;

use crate::cli::{
    AuthSchemeArg, CheckArgs, CreateArgs, DeleteArgs, Format, Global, LatestArgs, ListArgs, SingleFormat,
};
use crate::observe::{Counters, Progress};
use crate::output::{BackupWriter, age};
use crate::{Failure, Outcome};

pub fn client(global: &Global) -> Result<Client, Failure> {
    let mut builder = Client::builder()
        .retry(
            RetryPolicy::default().max_attempts(global.max_attempts).initial_backoff(global.initial_backoff),
        )
        .timeout(global.timeout);
    if let Some(token) = &global.token {
        builder = builder.token(token.clone());
    }
    if let Some(url) = &global.api_url {
        builder = builder.base_url(url.clone());
    }
    builder = match global.auth_scheme {
        AuthSchemeArg::Auto => builder,
        AuthSchemeArg::Token => builder.auth_scheme(AuthScheme::Token),
        AuthSchemeArg::Bearer => builder.auth_scheme(AuthScheme::Bearer),
    };
    Ok(builder.from_env().build()?)
}

fn default_format(explicit: Option<Format>) -> Format {
    explicit.unwrap_or(if io::stdout().is_terminal() { Format::Table } else { Format::Ndjson })
}

/// Writes every backup as it arrives. Errors of one database do not stop the others; what was
/// received is written (and the JSON array closed) before any error is reported.
pub async fn list(global: &Global, args: ListArgs, counters: Arc<Counters>) -> Result<Outcome, Failure> {
    if args.start_after.is_some() && args.database_ids.len() > 1 {
        return Err(Failure::Usage(
            "--start-after continues one database's listing: give exactly one DATABASE_ID".into(),
        ));
    }
    let client = client(global)?;
    let format = default_format(args.output);
    let progress = Progress::start(counters.clone(), global.quiet);
    let mut writer = BackupWriter::new(BufWriter::new(io::stdout().lock()), format);
    let mut errors = Vec::new();

    // A table is read by a person: one database after another. Machine formats interleave.
    let mut items: BoxStream<'static, Result<(Uuid, Backup), qovery_backups::Error>> =
        if format == Format::Table || args.database_ids.len() == 1 {
            let (start_after, limit) = (args.start_after, args.limit);
            futures::stream::iter(args.database_ids)
                .flat_map(move |database_id| {
                    let mut list = client.backups(database_id).list();
                    if let Some(start) = start_after {
                        list = list.start_after(start);
                    }
                    if let Some(limit) = limit {
                        list = list.max_items(limit);
                    }
                    list.items().map(move |item| item.map(|backup| (database_id, backup)))
                })
                .boxed()
        } else {
            let mut many = client.list_many(args.database_ids).concurrency(usize::from(args.concurrency));
            if let Some(limit) = args.limit {
                many = many.max_items_each(limit);
            }
            many.items().boxed()
        };
    while let Some(item) = items.next().await {
        match item {
            Ok((database_id, backup)) => {
                writer.write(database_id, &backup)?;
                counters.items.fetch_add(1, Relaxed);
            }
            Err(e) => errors.push(e),
        }
    }
    writer.finish()?;
    progress.finish();
    if errors.is_empty() { Ok(Outcome::Success) } else { Err(Failure::Api(errors)) }
}

pub async fn latest(global: &Global, args: LatestArgs) -> Result<Outcome, Failure> {
    let client = client(global)?;
    let format = default_format(args.output);
    let mut writer = BackupWriter::new(BufWriter::new(io::stdout().lock()), format);
    let mut errors = Vec::new();
    // In order of the arguments, a few at a time.
    let mut newest = futures::stream::iter(args.database_ids.iter().copied())
        .map(|database_id| {
            let backups = client.backups(database_id);
            async move { (database_id, backups.latest().await) }
        })
        .buffered(4);
    while let Some((database_id, result)) = newest.next().await {
        match result {
            Ok(Some(backup)) => writer.write(database_id, &backup)?,
            Ok(None) => tracing::warn!("database {database_id} has no backups"),
            Err(e) => errors.push(e),
        }
    }
    writer.finish()?;
    if errors.is_empty() { Ok(Outcome::Success) } else { Err(Failure::Api(errors)) }
}

pub async fn create(global: &Global, args: CreateArgs) -> Result<Outcome, Failure> {
    let client = client(global)?;
    let backup = client.backups(args.database_id).create(args.name, args.message).await?;
    let mut out = io::stdout().lock();
    match args.output {
        SingleFormat::Json => {
            let mut writer = BackupWriter::new(out, Format::Ndjson);
            writer.write(args.database_id, &backup)?;
            writer.finish()?;
        }
        SingleFormat::Table => {
            let state = backup.status.as_ref().map(|s| s.state.to_string()).unwrap_or_else(|| "-".into());
            writeln!(
                out,
                "created backup {} ({}) in database {}, state {state}",
                backup.id, backup.name, args.database_id
            )?;
        }
    }
    Ok(Outcome::Success)
}

pub async fn delete(global: &Global, args: DeleteArgs) -> Result<Outcome, Failure> {
    let client = client(global)?;
    client.backups(args.database_id).delete(args.backup_id).await?;
    writeln!(io::stdout().lock(), "deleted backup {} of database {}", args.backup_id, args.database_id)?;
    Ok(Outcome::Success)
}

/// What `check` found for one database.
enum Freshness {
    Fresh(Backup),
    Stale(Backup),
    Missing,
    Unmanaged,
}

fn is_successful(backup: &Backup) -> bool {
    backup.status.as_ref().is_some_and(|s| s.status_details.status == ServiceActionStatusEnum::Success)
}

pub async fn check(global: &Global, args: CheckArgs) -> Result<Outcome, Failure> {
    let client = client(global)?;
    let max_age = chrono::Duration::from_std(args.max_age)
        .map_err(|_| Failure::Usage("--max-age is too large".into()))?;
    let now = Utc::now();
    let mut out = io::stdout().lock();
    let mut errors = Vec::new();
    let mut all_fresh = true;

    for database_id in &args.database_ids {
        // Newest first: the first successful backup is the one that matters.
        let found = client
            .backups(*database_id)
            .list()
            .items()
            .try_filter(|b| futures::future::ready(is_successful(b)));
        let freshness = match Box::pin(found).try_next().await {
            Ok(Some(backup)) if now - backup.created_at <= max_age => Freshness::Fresh(backup),
            Ok(Some(backup)) => Freshness::Stale(backup),
            Ok(None) => Freshness::Missing,
            Err(e) if e.is_not_found() => Freshness::Unmanaged,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let limit = humantime::format_duration(args.max_age);
        match freshness {
            Freshness::Fresh(b) => writeln!(
                out,
                "OK        {database_id}  backup {} succeeded {} ago",
                b.id,
                age(now, b.created_at)
            )?,
            Freshness::Stale(b) => {
                all_fresh = false;
                writeln!(
                    out,
                    "STALE     {database_id}  newest successful backup {} is {} old, more than {limit}",
                    b.id,
                    age(now, b.created_at)
                )?
            }
            Freshness::Missing => {
                all_fresh = false;
                writeln!(out, "MISSING   {database_id}  no successful backup")?
            }
            Freshness::Unmanaged => writeln!(
                out,
                "UNMANAGED {database_id}  no Qovery-managed backups, or no such database (the API answered 404)"
            )?,
        }
    }
    out.flush()?;
    match (errors.is_empty(), all_fresh) {
        (false, _) => Err(Failure::Api(errors)),
        (true, true) => Ok(Outcome::Success),
        (true, false) => Ok(Outcome::CheckFailed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backup_with(status: Option<&str>) -> Backup {
        let status = status.map(|s| {
            serde_json::json!({
                "id": Uuid::nil(), "state": "DEPLOYED", "service_deployment_status": "UP_TO_DATE",
                "is_part_last_deployment": true, "deployment_requests_count": 1, "deployment_request_id": null,
                "status_details": {"action": "DEPLOY", "status": s, "sub_action": "NONE"}
            })
        });
        serde_json::from_value(serde_json::json!({
            "id": Uuid::nil(), "created_at": "2026-11-27T00:00:00Z", "name": "n", "message": "m", "status": status
        }))
        .unwrap()
    }

    #[test]
    fn successful_means_the_action_status_is_success() {
        assert!(is_successful(&backup_with(Some("SUCCESS"))));
        for other in ["QUEUED", "ONGOING", "ERROR", "CANCELED", "NEVER", "SOMETHING_NEW"] {
            assert!(!is_successful(&backup_with(Some(other))), "{other}");
        }
        assert!(!is_successful(&backup_with(None)));
    }
}
