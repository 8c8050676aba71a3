//! `qovery-backups check`: is there a successful backup newer than `--max-age`?
//!
//! Judging a database ([`judge`]) is a pure function of its newest successful backup and the
//! time, kept apart from the network and from printing so that the rule can be tested alone.

use std::io::{self, Write};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::TryStreamExt as _;
use qovery_backups::Backup;
use qovery_backups::types::ServiceActionStatusEnum;
use uuid::Uuid;

use crate::cli::{CheckArgs, Global};
use crate::cmd::client;
use crate::outcome::{Failure, Outcome};
use crate::output::age;

/// What `check` concludes about one database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The newest successful backup is at most `max_age` old.
    Fresh,
    /// The newest successful backup is older than `max_age`.
    Stale,
    /// The database has no successful backup at all.
    Missing,
    /// The API answered 404: a database whose backups the cloud provider manages, or none.
    Unmanaged,
}

impl Verdict {
    /// Whether this verdict makes `check` exit 3. An unmanaged database is not Qovery's to back
    /// up, so it is reported but does not fail the check.
    pub fn fails(self) -> bool {
        matches!(self, Verdict::Stale | Verdict::Missing)
    }
}

/// Judges a database by its newest successful backup. A backup exactly `max_age` old is still
/// fresh, and one from the future (clock skew) is fresh.
pub fn judge(newest_success: Option<&Backup>, now: DateTime<Utc>, max_age: chrono::Duration) -> Verdict {
    match newest_success {
        Some(backup) if now - backup.created_at <= max_age => Verdict::Fresh,
        Some(_) => Verdict::Stale,
        None => Verdict::Missing,
    }
}

/// Whether a backup finished well: its own action status is SUCCESS. Values this tool does not
/// know are not success.
pub fn is_successful(backup: &Backup) -> bool {
    backup.status.as_ref().is_some_and(|s| s.status_details.status == ServiceActionStatusEnum::Success)
}

/// Checks each database in turn and prints one line for each; exit 3 if any is stale or missing.
pub async fn run(global: &Global, args: CheckArgs) -> Result<Outcome, Failure> {
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
        let (verdict, newest_success) = match Box::pin(found).try_next().await {
            Ok(newest) => (judge(newest.as_ref(), now, max_age), newest),
            Err(e) if e.is_not_found() => (Verdict::Unmanaged, None),
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        all_fresh &= !verdict.fails();
        print(&mut out, *database_id, verdict, newest_success.as_ref(), now, args.max_age)?;
    }
    out.flush()?;
    match (errors.is_empty(), all_fresh) {
        (false, _) => Err(Failure::Api(errors)),
        (true, true) => Ok(Outcome::Success),
        (true, false) => Ok(Outcome::CheckFailed),
    }
}

/// One line per database; the first word is the verdict, for scripts to match on.
fn print(
    out: &mut impl Write,
    database_id: Uuid,
    verdict: Verdict,
    newest_success: Option<&Backup>,
    now: DateTime<Utc>,
    max_age: Duration,
) -> io::Result<()> {
    match (verdict, newest_success) {
        (Verdict::Fresh, Some(b)) => {
            writeln!(out, "OK        {database_id}  backup {} succeeded {} ago", b.id, age(now, b.created_at))
        }
        (Verdict::Stale, Some(b)) => writeln!(
            out,
            "STALE     {database_id}  newest successful backup {} is {} old, more than {}",
            b.id,
            age(now, b.created_at),
            humantime::format_duration(max_age)
        ),
        (Verdict::Unmanaged, _) => writeln!(
            out,
            "UNMANAGED {database_id}  no Qovery-managed backups, or no such database (the API answered 404)"
        ),
        // `judge` gives Fresh and Stale only with a backup; Missing is the only case left.
        _ => writeln!(out, "MISSING   {database_id}  no successful backup"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backup_with(status: Option<&str>) -> Backup {
        backup_at(status, "2026-11-27T00:00:00Z")
    }

    fn backup_at(status: Option<&str>, created_at: &str) -> Backup {
        let status = status.map(|s| {
            serde_json::json!({
                "id": Uuid::nil(), "state": "DEPLOYED", "service_deployment_status": "UP_TO_DATE",
                "is_part_last_deployment": true, "deployment_requests_count": 1, "deployment_request_id": null,
                "status_details": {"action": "DEPLOY", "status": s, "sub_action": "NONE"}
            })
        });
        serde_json::from_value(serde_json::json!({
            "id": Uuid::nil(), "created_at": created_at, "name": "n", "message": "m", "status": status
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

    #[test]
    fn judge_compares_the_newest_success_with_max_age_inclusive() {
        let now: DateTime<Utc> = "2026-11-28T00:00:00Z".parse().unwrap();
        let day = chrono::Duration::hours(24);
        let at = |t: &str| backup_at(Some("SUCCESS"), t);
        assert_eq!(judge(Some(&at("2026-11-27T12:00:00Z")), now, day), Verdict::Fresh);
        assert_eq!(judge(Some(&at("2026-11-27T00:00:00Z")), now, day), Verdict::Fresh, "exactly max_age");
        assert_eq!(judge(Some(&at("2026-11-26T23:59:59Z")), now, day), Verdict::Stale);
        assert_eq!(judge(Some(&at("2026-11-29T00:00:00Z")), now, day), Verdict::Fresh, "clock skew");
        assert_eq!(judge(None, now, day), Verdict::Missing);
    }

    #[test]
    fn only_stale_and_missing_fail_the_check() {
        let failing: Vec<Verdict> = [Verdict::Fresh, Verdict::Stale, Verdict::Missing, Verdict::Unmanaged]
            .into_iter()
            .filter(|v| v.fails())
            .collect();
        assert_eq!(failing, [Verdict::Stale, Verdict::Missing]);
    }
}
