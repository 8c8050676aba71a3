//! Backups as the API sends them, built from JSON so every field is what a listing carries.

use chrono::{DateTime, Utc};
use qovery_backups::{Backup, Plan};
use qovery_backups_mock::SampleBackup;
use uuid::Uuid;

/// The instant rule tests plan at: after every date they use, so that none is in the future.
pub const NOW: DateTime<Utc> = DateTime::<Utc>::MAX_UTC;

/// A backup with this id, creation time (RFC 3339) and outcome (`None`: no `status` at all).
pub fn backup(id: u128, created_at: &str, outcome: Option<&str>) -> Backup {
    let sample = SampleBackup::new(id).created_at(created_at.parse().unwrap()).message("retention test");
    match outcome {
        Some(outcome) => sample.outcome(outcome).build(),
        None => sample.build(),
    }
}

/// A successful backup.
pub fn successful(id: u128, created_at: &str) -> Backup {
    backup(id, created_at, Some("SUCCESS"))
}

/// The displayed reasons the plan gives for keeping backup `id`; empty when it deletes it.
pub fn reasons(plan: &Plan, id: u128) -> Vec<String> {
    let decision = plan.decision(Uuid::from_u128(id)).expect("the backup is in the plan");
    decision.reasons().iter().map(ToString::to_string).collect()
}

/// The ids the plan deletes, as the small numbers tests name them by, newest first.
pub fn deleted(plan: &Plan) -> Vec<u128> {
    plan.to_delete().map(|backup| backup.id.as_u128()).collect()
}
