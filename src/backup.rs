//! What every user of a listing computes from a [`Backup`]: its own outcome, whether that outcome
//! can still change, and when it was reached.
//!
//! Hand-written, next to the generated type it extends. The outcome lives three levels deep
//! (`status.status_details.status`) and is easy to confuse with `status.state`, which is the
//! database service's deployment state, not the backup's.

use chrono::{DateTime, TimeDelta, Utc};

use crate::types::{Backup, ServiceActionStatusEnum};

impl Backup {
    /// The backup's own outcome, `status.status_details.status`, or `None` when the backup
    /// carries no status (the API documents `status` as optional).
    ///
    /// Not `status.state`: that is the database service's deployment state.
    ///
    /// ```
    /// use qovery_backups_api::types::{Backup, ServiceActionStatusEnum};
    /// # let with_status = |status: &str| -> Backup { serde_json::from_value(serde_json::json!({
    /// #     "id": "00000000-0000-0000-0000-000000000001", "created_at": "2026-11-27T13:00:00Z",
    /// #     "name": "nightly", "message": "",
    /// #     "status": { "id": "00000000-0000-0000-0000-000000000002", "state": "DEPLOYED",
    /// #         "service_deployment_status": "UP_TO_DATE", "is_part_last_deployment": true,
    /// #         "deployment_request_id": null, "deployment_requests_count": 1,
    /// #         "status_details": { "action": "DEPLOY", "status": status, "sub_action": "NONE" } }
    /// # })).unwrap() };
    ///
    /// let backup = with_status("ONGOING");
    /// assert_eq!(backup.action_status(), Some(&ServiceActionStatusEnum::Ongoing));
    ///
    /// let without = Backup { status: None, ..backup };
    /// assert_eq!(without.action_status(), None);
    /// ```
    pub fn action_status(&self) -> Option<&ServiceActionStatusEnum> {
        self.status.as_ref().map(|status| &status.status_details.status)
    }

    /// Whether the backup finished successfully (`SUCCESS`): the only backups worth restoring.
    ///
    /// ```
    /// # use qovery_backups_api::types::Backup;
    /// # let with_status = |status: &str| -> Backup { serde_json::from_value(serde_json::json!({
    /// #     "id": "00000000-0000-0000-0000-000000000001", "created_at": "2026-11-27T13:00:00Z",
    /// #     "name": "nightly", "message": "",
    /// #     "status": { "id": "00000000-0000-0000-0000-000000000002", "state": "DEPLOYED",
    /// #         "service_deployment_status": "UP_TO_DATE", "is_part_last_deployment": true,
    /// #         "deployment_request_id": null, "deployment_requests_count": 1,
    /// #         "status_details": { "action": "DEPLOY", "status": status, "sub_action": "NONE" } }
    /// # })).unwrap() };
    /// assert!(with_status("SUCCESS").is_successful());
    /// assert!(!with_status("EXECUTING").is_successful());
    /// ```
    pub fn is_successful(&self) -> bool {
        matches!(self.action_status(), Some(ServiceActionStatusEnum::Success))
    }

    /// Whether the backup ended without producing a usable backup: `ERROR` or `CANCELED`.
    ///
    /// A backup still `CANCELING` is not failed yet: it may still end otherwise.
    ///
    /// ```
    /// # use qovery_backups_api::types::Backup;
    /// # let with_status = |status: &str| -> Backup { serde_json::from_value(serde_json::json!({
    /// #     "id": "00000000-0000-0000-0000-000000000001", "created_at": "2026-11-27T13:00:00Z",
    /// #     "name": "nightly", "message": "",
    /// #     "status": { "id": "00000000-0000-0000-0000-000000000002", "state": "DEPLOYED",
    /// #         "service_deployment_status": "UP_TO_DATE", "is_part_last_deployment": true,
    /// #         "deployment_request_id": null, "deployment_requests_count": 1,
    /// #         "status_details": { "action": "DEPLOY", "status": status, "sub_action": "NONE" } }
    /// # })).unwrap() };
    /// assert!(with_status("ERROR").is_failed());
    /// assert!(with_status("CANCELED").is_failed());
    /// assert!(!with_status("CANCELING").is_failed());
    /// ```
    pub fn is_failed(&self) -> bool {
        matches!(
            self.action_status(),
            Some(ServiceActionStatusEnum::Error | ServiceActionStatusEnum::Canceled)
        )
    }

    /// Whether the backup's outcome can no longer change: `SUCCESS`, `ERROR` or `CANCELED`.
    ///
    /// Not final: `QUEUED`, `ONGOING`, `EXECUTING` and `CANCELING` (still running), a backup
    /// without a status, a value this client does not know (`Unrecognized`: it may be a new
    /// in-progress state, and treating it as finished could let a caller delete a running
    /// backup), and `NEVER`.
    ///
    /// Why `NEVER` is not final: Qovery documents it only as a member of
    /// `ServiceActionStatusEnum`, with no description, and lists nothing saying the action ended.
    /// In the same vocabulary elsewhere (`DeploymentHistoryActionStatus`, `NEVER_DEPLOYED`) it
    /// means the action has not run. A backup whose action has not run has no outcome yet, so
    /// this client does not call it finished: it is neither successful nor failed, and a caller
    /// deciding what to delete keeps it, as it keeps anything not proven finished.
    ///
    /// ```
    /// # use qovery_backups_api::types::Backup;
    /// # let with_status = |status: &str| -> Backup { serde_json::from_value(serde_json::json!({
    /// #     "id": "00000000-0000-0000-0000-000000000001", "created_at": "2026-11-27T13:00:00Z",
    /// #     "name": "nightly", "message": "",
    /// #     "status": { "id": "00000000-0000-0000-0000-000000000002", "state": "DEPLOYED",
    /// #         "service_deployment_status": "UP_TO_DATE", "is_part_last_deployment": true,
    /// #         "deployment_request_id": null, "deployment_requests_count": 1,
    /// #         "status_details": { "action": "DEPLOY", "status": status, "sub_action": "NONE" } }
    /// # })).unwrap() };
    /// assert!(with_status("SUCCESS").is_final());
    /// assert!(with_status("CANCELED").is_final());
    /// assert!(!with_status("QUEUED").is_final());
    /// assert!(!with_status("NEVER").is_final());
    /// assert!(!with_status("SOMETHING_NEW").is_final());
    /// ```
    pub fn is_final(&self) -> bool {
        self.action_status().is_some_and(is_final_status)
    }

    /// When a final backup finished, or `None` while it is not final (see
    /// [`is_final`](Backup::is_final)) or when the API gives no way to tell.
    ///
    /// The time is `updated_at` when present: nothing in the API changes a backup after its
    /// outcome is reached (there is no rename or edit operation), so the last update of a final
    /// backup is the move to its final status, stamped by the server. Without `updated_at`, it is
    /// `created_at + status.steps.total_duration_sec`, the total duration Qovery reports once the
    /// work is complete (queueing included, which is what makes the sum an end time). Never
    /// earlier than `created_at`: a server clock skew does not make a backup finish before it
    /// began.
    ///
    /// ```
    /// # use qovery_backups_api::types::Backup;
    /// # let with_status = |status: &str| -> Backup { serde_json::from_value(serde_json::json!({
    /// #     "id": "00000000-0000-0000-0000-000000000001", "created_at": "2026-11-27T13:00:00Z",
    /// #     "name": "nightly", "message": "",
    /// #     "status": { "id": "00000000-0000-0000-0000-000000000002", "state": "DEPLOYED",
    /// #         "service_deployment_status": "UP_TO_DATE", "is_part_last_deployment": true,
    /// #         "deployment_request_id": null, "deployment_requests_count": 1,
    /// #         "status_details": { "action": "DEPLOY", "status": status, "sub_action": "NONE" } }
    /// # })).unwrap() };
    /// let mut backup = with_status("SUCCESS");
    /// backup.updated_at = Some("2026-11-27T13:04:10Z".parse().unwrap());
    /// assert_eq!(backup.finished_at(), backup.updated_at);
    ///
    /// let mut running = with_status("ONGOING");
    /// running.updated_at = Some("2026-11-27T13:01:00Z".parse().unwrap());
    /// assert_eq!(running.finished_at(), None, "not final yet");
    /// ```
    pub fn finished_at(&self) -> Option<DateTime<Utc>> {
        if !self.is_final() {
            return None;
        }
        let finished = self.updated_at.or_else(|| self.created_plus_total_duration())?;
        Some(finished.max(self.created_at))
    }

    /// `created_at + steps.total_duration_sec`, when the server reported a duration that fits.
    fn created_plus_total_duration(&self) -> Option<DateTime<Utc>> {
        let seconds = self.status.as_ref()?.steps.as_ref()?.total_duration_sec?;
        self.created_at.checked_add_signed(TimeDelta::try_seconds(seconds)?)
    }
}

/// Whether an outcome can no longer change.
///
/// The match names every variant on purpose: when openapi.yaml gains a value, this stops
/// compiling until someone decides whether the new value is final, instead of silently
/// treating it one way.
fn is_final_status(status: &ServiceActionStatusEnum) -> bool {
    match status {
        ServiceActionStatusEnum::Success
        | ServiceActionStatusEnum::Error
        | ServiceActionStatusEnum::Canceled => true,
        ServiceActionStatusEnum::Queued
        | ServiceActionStatusEnum::Ongoing
        | ServiceActionStatusEnum::Executing
        | ServiceActionStatusEnum::Canceling
        | ServiceActionStatusEnum::Never
        | ServiceActionStatusEnum::Unrecognized(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A backup created at 13:00:00 UTC with this outcome, as the API would send it.
    fn backup(status: &str) -> Backup {
        serde_json::from_value(json!({
            "id": "00000000-0000-0000-0000-000000000001",
            "created_at": "2026-11-27T13:00:00Z",
            "name": "nightly",
            "message": "",
            "status": {
                "id": "00000000-0000-0000-0000-000000000002",
                "state": "DEPLOYED",
                "service_deployment_status": "UP_TO_DATE",
                "is_part_last_deployment": true,
                "deployment_request_id": null,
                "deployment_requests_count": 1,
                "status_details": { "action": "DEPLOY", "status": status, "sub_action": "NONE" },
                "steps": { "total_duration_sec": 250, "total_computing_duration_sec": 200, "details": [] }
            }
        }))
        .expect("a valid backup")
    }

    fn at(rfc3339: &str) -> DateTime<Utc> {
        rfc3339.parse().expect("an RFC 3339 time")
    }

    /// Every value openapi.yaml lists, each classified once, plus one it does not.
    #[test]
    fn each_status_is_classified_as_documented() {
        // (status, successful, failed, final)
        let expected = [
            ("QUEUED", false, false, false),
            ("ONGOING", false, false, false),
            ("EXECUTING", false, false, false),
            ("CANCELING", false, false, false),
            ("SUCCESS", true, false, true),
            ("ERROR", false, true, true),
            ("CANCELED", false, true, true),
            ("NEVER", false, false, false),
            ("SOMETHING_QOVERY_ADDS_LATER", false, false, false),
        ];
        let covered: Vec<&str> = expected.iter().map(|row| row.0).collect();
        for known in ServiceActionStatusEnum::KNOWN_VALUES {
            assert!(covered.contains(known), "{known} is in openapi.yaml but not in this table");
        }
        for (status, successful, failed, is_final) in expected {
            let backup = backup(status);
            assert_eq!(backup.action_status().map(|s| s.as_str()), Some(status));
            assert_eq!(backup.is_successful(), successful, "{status} successful");
            assert_eq!(backup.is_failed(), failed, "{status} failed");
            assert_eq!(backup.is_final(), is_final, "{status} final");
        }
    }

    #[test]
    fn a_backup_without_status_has_no_outcome_and_is_not_final() {
        let backup =
            Backup { status: None, updated_at: Some(at("2026-11-27T14:00:00Z")), ..backup("SUCCESS") };
        assert_eq!(backup.action_status(), None);
        assert!(!backup.is_successful());
        assert!(!backup.is_failed());
        assert!(!backup.is_final());
        assert_eq!(backup.finished_at(), None);
    }

    #[test]
    fn finished_at_prefers_updated_at() {
        let backup = Backup { updated_at: Some(at("2026-11-27T13:10:00Z")), ..backup("ERROR") };
        assert_eq!(backup.finished_at(), Some(at("2026-11-27T13:10:00Z")));
    }

    #[test]
    fn finished_at_falls_back_to_created_at_plus_total_duration() {
        let backup = Backup { updated_at: None, ..backup("SUCCESS") };
        assert_eq!(backup.finished_at(), Some(at("2026-11-27T13:04:10Z")));
    }

    #[test]
    fn finished_at_is_none_without_updated_at_or_duration() {
        let mut backup = Backup { updated_at: None, ..backup("CANCELED") };
        backup.status.as_mut().unwrap().steps.as_mut().unwrap().total_duration_sec = None;
        assert_eq!(backup.finished_at(), None);
        backup.status.as_mut().unwrap().steps = None;
        assert_eq!(backup.finished_at(), None);
    }

    #[test]
    fn finished_at_is_none_while_not_final() {
        for status in ["QUEUED", "ONGOING", "EXECUTING", "CANCELING", "NEVER", "LATER"] {
            let backup = Backup { updated_at: Some(at("2026-11-27T13:10:00Z")), ..backup(status) };
            assert_eq!(backup.finished_at(), None, "{status}");
        }
    }

    #[test]
    fn finished_at_is_never_before_created_at() {
        let skewed = Backup { updated_at: Some(at("2026-11-27T12:59:00Z")), ..backup("SUCCESS") };
        assert_eq!(skewed.finished_at(), Some(skewed.created_at));

        let mut negative = Backup { updated_at: None, ..backup("SUCCESS") };
        negative.status.as_mut().unwrap().steps.as_mut().unwrap().total_duration_sec = Some(-5);
        assert_eq!(negative.finished_at(), Some(negative.created_at));
    }

    #[test]
    fn finished_at_ignores_a_duration_that_overflows() {
        let mut backup = Backup { updated_at: None, ..backup("SUCCESS") };
        backup.status.as_mut().unwrap().steps.as_mut().unwrap().total_duration_sec = Some(i64::MAX);
        assert_eq!(backup.finished_at(), None);
    }
}
