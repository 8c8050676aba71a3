//! Backups built in one line, for tests that need exactly this history and no other.

use chrono::{DateTime, Utc};
use qovery_backups_api::types::Backup;
use serde_json::json;
use uuid::Uuid;

/// A [`Backup`] as a listing carries it, built in one line: for tests of code that reads
/// backups (a retention policy, an alert, a report), and to seed a
/// [`MockServer`](crate::MockServer) with exactly the history a test needs
/// ([`add_database_with`](crate::MockServer::add_database_with),
/// [`insert_backup`](crate::MockServer::insert_backup)).
///
/// The generated `Backup` has a dozen nested fields, most of them enums; this fills them as a
/// finished deployment of a backup has them, so a test states only what it is about: the id,
/// when it was made, and its outcome (`status.status_details.status`).
///
/// ```
/// use qovery_backups_mock::SampleBackup;
///
/// let backup = SampleBackup::new(7).created_at("2026-11-27T03:00:00Z".parse().unwrap()).outcome("SUCCESS").build();
/// assert_eq!(backup.id, uuid::Uuid::from_u128(7));
/// assert_eq!(backup.name, "backup-7");
/// assert!(backup.is_successful());
///
/// // A value Qovery may add one day reads as unknown, not as an error.
/// let future = SampleBackup::new(8).outcome("VERIFYING").build();
/// assert!(!future.is_final());
/// ```
#[derive(Debug, Clone)]
#[must_use = "a sample is only a description until built"]
pub struct SampleBackup {
    id: Uuid,
    created_at: DateTime<Utc>,
    name: String,
    message: String,
    outcome: Option<String>,
}

impl SampleBackup {
    /// A backup with the id `Uuid::from_u128(id)` (tests name backups by small numbers), named
    /// `backup-<id>`, made on 2026-01-01 at midnight UTC, and without a status (as a backup
    /// that has not run yet is listed) until [`outcome`](SampleBackup::outcome) gives one.
    ///
    /// ```
    /// let backup = qovery_backups_mock::SampleBackup::new(3).build();
    /// assert_eq!(backup.created_at.to_rfc3339(), "2026-01-01T00:00:00+00:00");
    /// assert!(backup.status.is_none());
    /// ```
    pub fn new(id: u128) -> Self {
        SampleBackup {
            id: Uuid::from_u128(id),
            created_at: DateTime::from_timestamp(1_767_225_600, 0).expect("2026-01-01 is a valid time"),
            name: format!("backup-{id}"),
            message: String::new(),
            outcome: None,
        }
    }

    /// Any id, for a test that needs real-looking ones.
    ///
    /// ```
    /// let id = uuid::Uuid::new_v4();
    /// assert_eq!(qovery_backups_mock::SampleBackup::new(0).id(id).build().id, id);
    /// ```
    pub fn id(mut self, id: Uuid) -> Self {
        self.id = id;
        self
    }

    /// When the backup was made: listings are ordered by it, newest first.
    ///
    /// ```
    /// let at = chrono::Utc::now() - chrono::Duration::hours(30);
    /// assert_eq!(qovery_backups_mock::SampleBackup::new(1).created_at(at).build().created_at, at);
    /// ```
    pub fn created_at(mut self, created_at: DateTime<Utc>) -> Self {
        self.created_at = created_at;
        self
    }

    /// The backup's name (`backup-<id>` unless set).
    ///
    /// ```
    /// let backup = qovery_backups_mock::SampleBackup::new(1).name("nightly").build();
    /// assert_eq!(backup.name, "nightly");
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The backup's message (empty unless set).
    ///
    /// ```
    /// let backup = qovery_backups_mock::SampleBackup::new(1).message("before migration").build();
    /// assert_eq!(backup.message, "before migration");
    /// ```
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    /// The outcome, `status.status_details.status`: `SUCCESS`, `ERROR`, `CANCELED`, `QUEUED`,
    /// `ONGOING`, `NEVER`, … or any other text, which the client reads as a value it does not
    /// know yet.
    ///
    /// ```
    /// let failed = qovery_backups_mock::SampleBackup::new(1).outcome("ERROR").build();
    /// assert!(failed.is_failed());
    /// ```
    pub fn outcome(mut self, outcome: &str) -> Self {
        self.outcome = Some(outcome.to_owned());
        self
    }

    /// The backup.
    ///
    /// ```
    /// use qovery_backups_mock::{MockServer, SampleBackup};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let server = MockServer::start(Default::default()).await.unwrap();
    /// let history = vec![SampleBackup::new(1).outcome("SUCCESS").build(), SampleBackup::new(2).outcome("ERROR").build()];
    /// let database_id = server.add_database_with(history).unwrap();
    /// assert_eq!(server.backups(database_id).len(), 2);
    /// # }
    /// ```
    pub fn build(self) -> Backup {
        let mut value = json!({
            "id": self.id,
            "created_at": self.created_at,
            "updated_at": self.created_at,
            "name": self.name,
            "message": self.message,
        });
        if let Some(outcome) = self.outcome {
            // Built through serde, as a listing is read, so that an outcome the generated enum
            // does not know lands where an unknown value from the API would.
            value["status"] = json!({
                "id": Uuid::from_u128(self.id.as_u128().wrapping_add(1_000_000)),
                "state": "DEPLOYED",
                "service_deployment_status": "UP_TO_DATE",
                "is_part_last_deployment": true,
                "deployment_request_id": null,
                "deployment_requests_count": 1,
                "status_details": { "action": "DEPLOY", "status": outcome, "sub_action": "NONE" },
            });
        }
        serde_json::from_value(value).expect("the sample has every field a listing carries")
    }
}
