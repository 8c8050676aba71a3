//! `qovery-backups check`: is there a successful backup newer than `--max-age`?
//!
//! Judging a database ([`judge`]) is a pure function of its newest successful backup and the
//! time, kept apart from the network and from printing so that the rule can be tested alone.

use std::io::{self, Write};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::TryStreamExt as _;
use qovery_backups::Backup;
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
    /// No backup within `max_age` succeeded (the newest successful one, if seen, is older).
    Stale,
    /// The database has no successful backup at all.
    Missing,
    /// The newest successful backup is dated in the future, past any plausible clock skew: its
    /// date cannot be trusted to say the database is protected.
    Suspect,
    /// The API answered 404: a database whose backups the cloud provider manages, or none.
    Unmanaged,
}

impl Verdict {
    /// Whether this verdict makes `check` exit 3. An unmanaged database is not Qovery's to back
    /// up, so it is reported but does not fail the check.
    pub fn fails(self) -> bool {
        matches!(self, Verdict::Stale | Verdict::Missing | Verdict::Suspect)
    }
}

/// How far in the future a backup may be dated before its date is not believed: servers' and
/// this machine's clocks may disagree by this much.
pub const CLOCK_SKEW_ALLOWANCE: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// Judges a database by its newest successful backup. A backup exactly `max_age` old is still
/// fresh; one dated more than [`CLOCK_SKEW_ALLOWANCE`] ahead of `now` is suspect.
pub fn judge(newest_success: Option<&Backup>, now: DateTime<Utc>, max_age: chrono::Duration) -> Verdict {
    match newest_success {
        Some(backup) if backup.created_at > now + CLOCK_SKEW_ALLOWANCE => Verdict::Suspect,
        Some(backup) if now - backup.created_at <= max_age => Verdict::Fresh,
        Some(_) => Verdict::Stale,
        None => Verdict::Missing,
    }
}

/// What the listing of one database showed.
struct Findings {
    /// The newest successful backup seen, if any.
    newest_success: Option<Backup>,
    /// Whether the listing stopped at the window's edge rather than at the end of the history:
    /// then "no success seen" means stale, not missing.
    stopped_at_window: bool,
    /// Backups looked at.
    looked_at: u64,
}

/// Reads newest first until the first successful backup, or until a page reaches backups older
/// than the window: nothing older can make the database fresh, so the request count is bounded
/// by the backups inside the window plus one page.
async fn look(
    client: &qovery_backups::Client,
    database_id: Uuid,
    oldest_fresh: DateTime<Utc>,
) -> Result<Findings, qovery_backups::Error> {
    let mut pages = client.backups(database_id).list().pages();
    let mut findings = Findings { newest_success: None, stopped_at_window: false, looked_at: 0 };
    while let Some(page) = pages.try_next().await? {
        findings.looked_at += page.backups.len() as u64;
        let reached_the_edge = page.backups.iter().any(|b| b.created_at < oldest_fresh);
        // The page is already here: its first success, even an old one, says how stale.
        if let Some(success) = page.backups.into_iter().find(Backup::is_successful) {
            findings.newest_success = Some(success);
            return Ok(findings);
        }
        if reached_the_edge {
            findings.stopped_at_window = true;
            return Ok(findings);
        }
    }
    Ok(findings)
}

/// Checks each database in turn and prints one line for each; exit 3 if any is stale, missing
/// or suspect.
pub async fn run(global: &Global, args: CheckArgs) -> Result<Outcome, Failure> {
    if args.max_age.is_zero() {
        return Err(Failure::Usage("--max-age must be longer than zero, e.g. 26h".into()));
    }
    let client = client(global)?;
    let max_age = chrono::Duration::from_std(args.max_age)
        .map_err(|_| Failure::Usage("--max-age is too large".into()))?;
    let now = Utc::now();
    let mut out = io::stdout().lock();
    let mut errors = Vec::new();
    let mut all_fresh = true;

    for database_id in &args.database_ids {
        let (verdict, findings) = match look(&client, *database_id, now - max_age).await {
            Ok(findings) => {
                let mut verdict = judge(findings.newest_success.as_ref(), now, max_age);
                if verdict == Verdict::Missing && findings.stopped_at_window {
                    verdict = Verdict::Stale;
                }
                (verdict, Some(findings))
            }
            Err(e) if e.is_not_found() => (Verdict::Unmanaged, None),
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        all_fresh &= !verdict.fails();
        print(&mut out, *database_id, verdict, findings.as_ref(), now, args.max_age)?;
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
    findings: Option<&Findings>,
    now: DateTime<Utc>,
    max_age: Duration,
) -> io::Result<()> {
    let limit = humantime::format_duration(max_age);
    let newest = findings.and_then(|f| f.newest_success.as_ref());
    let looked_at = findings.map_or(0, |f| f.looked_at);
    match (verdict, newest) {
        (Verdict::Fresh, Some(b)) => {
            writeln!(out, "OK        {database_id}  backup {} succeeded {} ago", b.id, age(now, b.created_at))
        }
        (Verdict::Stale, Some(b)) => writeln!(
            out,
            "STALE     {database_id}  newest successful backup {} is {} old, more than {limit}",
            b.id,
            age(now, b.created_at)
        ),
        (Verdict::Stale, None) => writeln!(
            out,
            "STALE     {database_id}  none of the {looked_at} newest backups succeeded, and they reach back past {limit}"
        ),
        (Verdict::Suspect, Some(b)) => writeln!(
            out,
            "SUSPECT   {database_id}  newest successful backup {} is dated {}, after now ({}): its date cannot be trusted",
            b.id,
            b.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ),
        (Verdict::Unmanaged, _) => writeln!(
            out,
            "UNMANAGED {database_id}  no Qovery-managed backups, or no such database (the API answered 404)"
        ),
        _ => writeln!(out, "MISSING   {database_id}  no successful backup among all {looked_at} backups"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn judge_compares_the_newest_success_with_max_age_inclusive() {
        let now: DateTime<Utc> = "2026-11-28T00:00:00Z".parse().unwrap();
        let day = chrono::Duration::hours(24);
        let at = |t: &str| backup_at(Some("SUCCESS"), t);
        assert_eq!(judge(Some(&at("2026-11-27T12:00:00Z")), now, day), Verdict::Fresh);
        assert_eq!(judge(Some(&at("2026-11-27T00:00:00Z")), now, day), Verdict::Fresh, "exactly max_age");
        assert_eq!(judge(Some(&at("2026-11-26T23:59:59Z")), now, day), Verdict::Stale);
        assert_eq!(
            judge(Some(&at("2026-11-28T00:05:00Z")), now, day),
            Verdict::Fresh,
            "within the clock skew"
        );
        assert_eq!(
            judge(Some(&at("2026-11-28T00:05:01Z")), now, day),
            Verdict::Suspect,
            "past the clock skew"
        );
        assert_eq!(judge(Some(&at("9999-12-31T23:59:59Z")), now, day), Verdict::Suspect);
        assert_eq!(judge(None, now, day), Verdict::Missing);
    }

    #[test]
    fn only_stale_and_missing_fail_the_check() {
        let failing: Vec<Verdict> =
            [Verdict::Fresh, Verdict::Stale, Verdict::Missing, Verdict::Suspect, Verdict::Unmanaged]
                .into_iter()
                .filter(|v| v.fails())
                .collect();
        assert_eq!(failing, [Verdict::Stale, Verdict::Missing, Verdict::Suspect]);
    }
}
