//! Backups as the API sends them, built from JSON so every field is what a listing carries.

use qovery_backups::{Backup, Plan};
use serde_json::json;
use uuid::Uuid;

/// A backup with this id, creation time (RFC 3339) and outcome (`None`: no `status` at all).
pub fn backup(id: u128, created_at: &str, outcome: Option<&str>) -> Backup {
    let mut value = json!({
        "id": Uuid::from_u128(id),
        "created_at": created_at,
        "name": format!("backup-{id}"),
        "message": "retention test",
    });
    if let Some(outcome) = outcome {
        value["status"] = json!({
            "id": Uuid::from_u128(id + 1_000_000),
            "state": "DEPLOYED",
            "service_deployment_status": "UP_TO_DATE",
            "is_part_last_deployment": false,
            "deployment_request_id": null,
            "deployment_requests_count": 1,
            "status_details": { "action": "DEPLOY", "status": outcome, "sub_action": "NONE" },
        });
    }
    serde_json::from_value(value).expect("a backup the API could send")
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
